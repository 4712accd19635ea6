//! `lifeguard check`: one post, or one post per JSON line, in parallel and in order.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal as _, Read, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use anyhow::{Context as _, bail};
use lifeguard_core::{AuthorType, ContentKind, Engine, Post};
use serde_json::value::RawValue;

use crate::cli::{CheckArgs, Format};
use crate::exit::Exit;
use crate::lines::{self, MAX_LINE_BYTES};
use crate::policy_source::PolicySource;
use crate::render;
use crate::wire::{self, ErrorOut, InputLine};

/// Largest single post read by `check` without `--jsonl`.
pub(crate) const MAX_POST_BYTES: usize = 8 << 20;
/// The UTF-8 byte-order mark.
const BOM: &[u8] = "\u{feff}".as_bytes();
/// Lines are handed to workers in chunks of about this many bytes.
const CHUNK_BYTES: usize = 256 << 10;
const CHUNK_LINES: usize = 2048;

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    let exit = check(args)?;
    Ok(if args.exit_zero && exit == Exit::NeedsAction { Exit::Ok } else { exit })
}

fn check(args: &CheckArgs) -> anyhow::Result<Exit> {
    let kind: ContentKind = args.kind.parse().map_err(anyhow::Error::new)?;
    let author: AuthorType = args.author_type.parse().map_err(anyhow::Error::new)?;
    let source = PolicySource::open_or_builtin(args.policy.as_deref())?;
    let loaded = source.load();
    let Some(engine) = loaded.engine else {
        let mut stderr = io::stderr().lock();
        for diagnostic in loaded.diagnostics.iter().filter(|d| d.is_error()) {
            let _ = writeln!(stderr, "{diagnostic}");
        }
        bail!("the policy has errors; run `lifeguard policy lint` for details");
    };
    let input = args.input.as_deref().filter(|p| *p != Path::new("-"));
    if args.jsonl {
        let threads = match args.threads {
            Some(0) => bail!("--threads must be at least 1"),
            Some(n) => n,
            None => thread::available_parallelism().map_or(1, usize::from),
        };
        let reader: Box<dyn Read + Send> = match input {
            Some(path) => Box::new(
                File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
            ),
            None => Box::new(io::stdin()),
        };
        let started = Instant::now();
        let totals = check_lines(&engine, reader, io::stdout().lock(), threads)?;
        if args.stats {
            totals.print_stats(started.elapsed().as_secs_f64(), threads);
        }
        return Ok(if totals.errors > 0 {
            Exit::Input
        } else if totals.needing_action > 0 {
            Exit::NeedsAction
        } else {
            Exit::Ok
        });
    }
    let text = read_post(input)?;
    let post = Post { text: &text, kind, author, platform: args.platform.as_deref() };
    let verdict = engine.check(&post);
    let mut stdout = io::stdout().lock();
    match args.format {
        Format::Json => {
            let policy = wire::policy_json(engine.stamp());
            serde_json::to_writer(&mut stdout, &wire::verdict_out(None, &verdict, &policy))?;
            writeln!(stdout)?;
        }
        Format::Text => {
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            stdout.write_all(render::verdict_text(&text, &verdict, color).as_bytes())?;
        }
    }
    stdout.flush()?;
    Ok(if verdict.needs_action() { Exit::NeedsAction } else { Exit::Ok })
}

/// The whole input is the post, less one trailing newline (what `echo` adds).
fn read_post(input: Option<&Path>) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    let shown = input.map_or_else(|| "standard input".to_owned(), |p| p.display().to_string());
    let reader: Box<dyn Read> = match input {
        Some(path) => Box::new(File::open(path).with_context(|| format!("cannot open {shown}"))?),
        None => Box::new(io::stdin()),
    };
    reader
        .take(MAX_POST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {shown}"))?;
    if bytes.len() > MAX_POST_BYTES {
        bail!("{shown}: the post is larger than the limit of {MAX_POST_BYTES} bytes");
    }
    let mut text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            bail!("{shown}: not UTF-8 (invalid byte at offset {})", err.utf8_error().valid_up_to())
        }
    };
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

/// Counts for the exit status and `--stats`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Totals {
    pub(crate) posts: u64,
    pub(crate) bytes: u64,
    pub(crate) needing_action: u64,
    pub(crate) errors: u64,
}

impl Totals {
    fn add(&mut self, other: Totals) {
        self.posts += other.posts;
        self.bytes += other.bytes;
        self.needing_action += other.needing_action;
        self.errors += other.errors;
    }

    fn print_stats(&self, seconds: f64, threads: usize) {
        let seconds = seconds.max(1e-9);
        let megabytes = self.bytes as f64 / 1e6;
        eprintln!(
            "checked {} posts ({megabytes:.1} MB) in {seconds:.3} s: {:.0} posts/s, {:.1} MB/s, {threads} thread(s); {} need action, {} bad lines",
            self.posts,
            self.posts as f64 / seconds,
            megabytes / seconds,
            self.needing_action,
            self.errors
        );
    }
}

/// A run of whole lines and where they start in the input.
struct Chunk {
    seq: u64,
    first_line: u64,
    data: Vec<u8>,
    /// Each line's byte offset in the input, and its (start, end) in `data`; `None` for a
    /// line longer than the limit, whose bytes are dropped.
    lines: Vec<(u64, Option<(usize, usize)>)>,
}

/// Checks JSON lines from `input`, writing one output line per input line, in input order.
pub(crate) fn check_lines(
    engine: &Engine,
    input: Box<dyn Read + Send>,
    output: impl Write,
    threads: usize,
) -> anyhow::Result<Totals> {
    let policy = wire::policy_json(engine.stamp());
    let mut reader = ChunkReader::new(input);
    let mut output = BufWriter::with_capacity(1 << 20, output);
    let mut totals = Totals::default();
    if threads <= 1 {
        let mut out = Vec::with_capacity(CHUNK_BYTES * 2);
        while let Some(chunk) = reader.next_chunk()? {
            out.clear();
            totals.add(check_chunk(engine, &policy, &chunk, &mut out));
            output.write_all(&out)?;
        }
        output.flush()?;
        return Ok(totals);
    }
    let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(threads * 2);
    let (done_tx, done_rx) = sync_channel::<(u64, Vec<u8>, Totals)>(threads * 2);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    thread::scope(|scope| -> anyhow::Result<Totals> {
        for _ in 0..threads {
            let chunk_rx = Arc::clone(&chunk_rx);
            let done_tx = done_tx.clone();
            let policy = &policy;
            scope.spawn(move || worker(engine, policy, &chunk_rx, &done_tx));
        }
        // Only the workers hold the receiving ends now, so if they all stop (the output went
        // away) the reader's next send fails instead of blocking forever.
        drop(chunk_rx);
        drop(done_tx);
        let reading = scope.spawn(move || -> io::Result<()> {
            while let Some(chunk) = reader.next_chunk()? {
                if chunk_tx.send(chunk).is_err() {
                    break;
                }
            }
            Ok(())
        });
        // Chunks finish out of order; hold the early ones until their turn so output keeps
        // input order. At most 2 × threads chunks are in flight, so this stays bounded.
        let mut pending: BTreeMap<u64, (Vec<u8>, Totals)> = BTreeMap::new();
        let mut next = 0;
        let mut written = Ok(());
        for (seq, out, counts) in done_rx {
            pending.insert(seq, (out, counts));
            while let Some((out, counts)) = pending.remove(&next) {
                if written.is_ok() {
                    written = output.write_all(&out);
                }
                totals.add(counts);
                next += 1;
            }
            if written.is_err() {
                break;
            }
        }
        written?;
        output.flush()?;
        reading.join().map_err(|_| anyhow::anyhow!("the input thread panicked"))??;
        Ok(totals)
    })
}

fn worker(
    engine: &Engine,
    policy: &RawValue,
    chunks: &Mutex<Receiver<Chunk>>,
    done: &std::sync::mpsc::SyncSender<(u64, Vec<u8>, Totals)>,
) {
    loop {
        let chunk = {
            let Ok(receiver) = chunks.lock() else { return };
            receiver.recv()
        };
        let Ok(chunk) = chunk else { return };
        let mut out = Vec::with_capacity(chunk.data.len() * 2);
        let totals = check_chunk(engine, policy, &chunk, &mut out);
        if done.send((chunk.seq, out, totals)).is_err() {
            return;
        }
    }
}

fn check_chunk(engine: &Engine, policy: &RawValue, chunk: &Chunk, out: &mut Vec<u8>) -> Totals {
    let mut totals = Totals { bytes: chunk.data.len() as u64, ..Totals::default() };
    for (index, &(line_offset, range)) in chunk.lines.iter().enumerate() {
        let number = chunk.first_line + index as u64;
        let Some((start, end)) = range else {
            totals.posts += 1;
            totals.errors += 1;
            let message =
                format!("line is longer than the limit of {MAX_LINE_BYTES} bytes; skipped");
            write_error(out, number, None, &message);
            continue;
        };
        let bytes = &chunk.data[start..end];
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        // A byte-order mark, as some editors write at a file's start, is not part of the JSON.
        let bytes = if number == 1 { bytes.strip_prefix(BOM).unwrap_or(bytes) } else { bytes };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        totals.posts += 1;
        match check_line(engine, policy, bytes, line_offset, out) {
            Ok(needs_action) => totals.needing_action += u64::from(needs_action),
            Err((id, message)) => {
                totals.errors += 1;
                write_error(out, number, id, &message);
            }
        }
    }
    totals
}

/// Checks one line; on bad input returns the id (when it could be read) and the message.
fn check_line<'a>(
    engine: &Engine,
    policy: &RawValue,
    bytes: &'a [u8],
    line_offset: u64,
    out: &mut Vec<u8>,
) -> Result<bool, (Option<&'a RawValue>, String)> {
    // serde_json checks UTF-8 as it parses; only a line it rejects is checked again, to name
    // the byte when UTF-8 is what is wrong.
    // serde would also read a struct from an array (`["1", "text"]`); a line is an object.
    if let Some(at) = bytes.iter().position(|b| !b.is_ascii_whitespace())
        && bytes[at] == b'['
    {
        return Err((
            None,
            format!("invalid JSON at column {}: expected an object, not an array", at + 1),
        ));
    }
    let line: InputLine<'a> =
        serde_json::from_slice(bytes).map_err(|err| match std::str::from_utf8(bytes) {
            Err(utf8) => {
                let at = utf8.valid_up_to();
                (
                    None,
                    format!(
                        "invalid UTF-8 at byte {} of the input (byte {at} of the line)",
                        line_offset + at as u64
                    ),
                )
            }
            // A line that is JSON but not a post (`"text": 5`) still has its id echoed.
            Ok(_) => (id_of(bytes), json_error(&err)),
        })?;
    let kind = match line.kind.as_deref() {
        Some(kind) => {
            kind.parse::<ContentKind>().map_err(|err| (line.id, format!("field `kind`: {err}")))?
        }
        None => ContentKind::default(),
    };
    let author = match line.author_type.as_deref() {
        Some(author) => author
            .parse::<AuthorType>()
            .map_err(|err| (line.id, format!("field `author_type`: {err}")))?,
        None => AuthorType::default(),
    };
    let post = Post { text: &line.text, kind, author, platform: line.platform.as_deref() };
    let verdict = engine.check(&post);
    if verdict.findings.is_empty() {
        // Most posts have no finding; their line is a constant around the id.
        out.extend_from_slice(b"{");
        if let Some(id) = line.id {
            out.extend_from_slice(b"\"id\":");
            out.extend_from_slice(id.get().as_bytes());
            out.push(b',');
        }
        out.extend_from_slice(b"\"action\":\"allow\",\"findings\":[],\"policy\":");
        out.extend_from_slice(policy.get().as_bytes());
        out.extend_from_slice(b"}\n");
        return Ok(false);
    }
    serde_json::to_writer(&mut *out, &wire::verdict_out(line.id, &verdict, policy))
        .expect("writing JSON to a Vec cannot fail");
    out.push(b'\n');
    Ok(verdict.needs_action())
}

/// The `id` of a line that is a JSON object but not a valid post, if it has one.
fn id_of(bytes: &[u8]) -> Option<&RawValue> {
    #[derive(serde::Deserialize)]
    struct IdOnly<'a> {
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
    }
    serde_json::from_slice::<IdOnly<'_>>(bytes).ok()?.id
}

fn json_error(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
    if err.classify() == serde_json::error::Category::Data {
        // Well-formed JSON that is not a post: a field missing or of the wrong type.
        return format!("{message} (at column {})", err.column());
    }
    format!("invalid JSON at column {}: {message}", err.column())
}

fn write_error(out: &mut Vec<u8>, line: u64, id: Option<&RawValue>, message: &str) {
    serde_json::to_writer(&mut *out, &ErrorOut { line, id, error: message })
        .expect("writing JSON to a Vec cannot fail");
    out.push(b'\n');
}

/// Splits the input into chunks of whole lines, holding at most one chunk plus one line limit.
struct ChunkReader {
    input: BufReader<Box<dyn Read + Send>>,
    seq: u64,
    line: u64,
    offset: u64,
    done: bool,
}

impl ChunkReader {
    fn new(input: Box<dyn Read + Send>) -> ChunkReader {
        ChunkReader {
            input: BufReader::with_capacity(1 << 20, input),
            seq: 0,
            line: 1,
            offset: 0,
            done: false,
        }
    }

    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        if self.done {
            return Ok(None);
        }
        let mut chunk = Chunk {
            seq: self.seq,
            first_line: self.line,
            data: Vec::with_capacity(CHUNK_BYTES + 4096),
            lines: Vec::with_capacity(CHUNK_LINES),
        };
        while chunk.data.len() < CHUNK_BYTES && chunk.lines.len() < CHUNK_LINES {
            match self.read_line(&mut chunk)? {
                LineRead::Line => {}
                LineRead::Eof => {
                    self.done = true;
                    break;
                }
            }
        }
        if chunk.lines.is_empty() {
            return Ok(None);
        }
        self.seq += 1;
        Ok(Some(chunk))
    }

    /// Appends one line (without its newline) to the chunk.
    fn read_line(&mut self, chunk: &mut Chunk) -> io::Result<LineRead> {
        let start = chunk.data.len();
        let Some(end) = lines::read_line(&mut self.input, &mut chunk.data)? else {
            return Ok(LineRead::Eof);
        };
        self.finish_line(chunk, start, end.length, end.too_long);
        Ok(if end.newline { LineRead::Line } else { LineRead::Eof })
    }

    fn finish_line(&mut self, chunk: &mut Chunk, start: usize, length: usize, too_long: bool) {
        let range = (!too_long).then_some((start, chunk.data.len()));
        chunk.lines.push((self.offset, range));
        self.offset += length as u64 + 1;
        self.line += 1;
    }
}

enum LineRead {
    Line,
    Eof,
}
