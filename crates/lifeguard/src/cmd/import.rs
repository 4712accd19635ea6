//! `lifeguard import FORMAT FILE`: stream an export into the archive, checking every item with
//! the policy on the way in. One thread reads and checks; the async side writes batches, each
//! one transaction, so a killed import leaves whole batches or nothing of them, and running it
//! again picks up where it stopped (what is archived is skipped).

use std::fs::{self, File};
use std::io::{self, Read, Write as _};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use anyhow::{Context as _, bail};
use jiff::Timestamp;
use lifeguard_core::Engine;
use lifeguard_store::{AppendReport, Checked, MAX_BATCH, Prepared};
use serde_json::json;

use crate::cli::{Format, ImportArgs, ImportFormat};
use crate::cmd::archive::{self, checkpoint, key, open, output};
use crate::exit::Exit;
use crate::import;
use crate::policy_source::PolicySource;

/// Entries between signed checkpoints during a long import.
const CHECKPOINT_EVERY: u64 = 100_000;

struct CountingReader<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What the reading side saw.
#[derive(Default)]
struct ReadOutcome {
    records: u64,
    bad_records: u64,
    stopped: Option<String>,
}

pub(crate) fn run(args: &ImportArgs) -> anyhow::Result<Exit> {
    if args.batch == 0 || args.batch > MAX_BATCH {
        bail!("--batch must be between 1 and {MAX_BATCH}");
    }
    let engine = load_engine(args.policy.as_deref())?;
    let input = Input::open(args)?;
    let size = input.size;
    let runtime = archive::runtime()?;
    let store = runtime.block_on(open(&args.store))?;
    let key = runtime.block_on(key(&args.store, store.as_ref()))?;

    let read = Arc::new(AtomicU64::new(0));
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Prepared>>(4);
    let format = match args.format {
        ImportFormat::Jsonl => import::Format::Jsonl,
        ImportFormat::Mastodon => import::Format::Mastodon,
        ImportFormat::X => import::Format::X,
    };
    let batch_size = args.batch;
    let captured_at = Timestamp::now();
    let account = args.account.clone().or_else(|| input.account.clone());
    let counter = Arc::clone(&read);
    let reading = thread::spawn(move || {
        let source = Source { format, captured_at, account: account.as_deref() };
        read_and_check(&source, input, &counter, &engine, batch_size, &sender)
    });

    let bar = if args.no_progress { None } else { output::progress_bar("importing", size) };
    let written = runtime.block_on(async {
        let mut total = AppendReport::default();
        let mut signed_at = 0u64;
        while let Some(batch) = receiver.recv().await {
            // Until the import has signed something, each batch is signed in its own
            // transaction: an import cut short never leaves its first batch without a
            // checkpoint over it. Then one checkpoint every CHECKPOINT_EVERY entries.
            let sign = (signed_at == 0).then_some(&key);
            let report = store.append_prepared(batch, Timestamp::now(), sign).await;
            let report = match report {
                Ok(report) => report,
                Err(err) => {
                    // Dropping the receiver stops the reader at its next batch.
                    drop(receiver);
                    return Err((total, anyhow::Error::new(err)));
                }
            };
            let added = report.added > 0;
            total.absorb(report);
            if let Some(bar) = &bar {
                bar.set_position(read.load(Ordering::Relaxed));
            }
            if signed_at == 0 {
                if !added {
                    // What an earlier command left unsigned, if anything.
                    checkpoint(store.as_ref(), &key).await.map_err(|err| (total, err))?;
                }
                signed_at = total.head.unwrap_or(0);
            } else if total.head.unwrap_or(0) >= signed_at + CHECKPOINT_EVERY {
                checkpoint(store.as_ref(), &key).await.map_err(|err| (total, err))?;
                signed_at = total.head.unwrap_or(0);
            }
        }
        checkpoint(store.as_ref(), &key).await.map_err(|err| (total, err))?;
        if total.added > 0
            && let Err(err) = store.refresh_statistics().await
        {
            // Searches still answer, only perhaps slower until the database samples itself.
            eprintln!("note: {err}");
        }
        Ok(total)
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let outcome = reading.join().map_err(|_| anyhow::anyhow!("the reading thread failed"))?;
    let (total, failure) = match written {
        Ok(total) => (total, None),
        Err((total, err)) => (total, Some(err)),
    };
    print_summary(&args.file, args.output, &total, &outcome, failure.is_none())?;
    if let Some(err) = failure {
        return Err(err.context(format!(
            "import stopped; {} items before the failing batch were committed (run it again to continue)",
            total.added + total.unchanged
        )));
    }
    Ok(if outcome.bad_records > 0 || outcome.stopped.is_some() { Exit::Input } else { Exit::Ok })
}

fn load_engine(policy: Option<&Path>) -> anyhow::Result<Engine> {
    let source = PolicySource::open_or_builtin(policy)?;
    let loaded = source.load();
    match loaded.engine {
        Some(engine) => Ok(engine),
        None => {
            let mut stderr = io::stderr().lock();
            for diagnostic in loaded.diagnostics.iter().filter(|d| d.is_error()) {
                let _ = writeln!(stderr, "{diagnostic}");
            }
            bail!("the policy has errors; run `lifeguard policy lint` for details")
        }
    }
}

/// What is being read, and what fills in for what it leaves out.
struct Source<'a> {
    format: import::Format,
    captured_at: Timestamp,
    account: Option<&'a str>,
}

/// The files an import reads: the one named (a Mastodon export's folder names its
/// outbox.json), or the data files of an X archive's folder.
struct Input {
    /// Each file, named as in messages, open; in the order they are read.
    files: Vec<(String, File)>,
    /// Bytes in all, for the progress bar.
    size: u64,
    /// The account an X archive's `account.js` names.
    account: Option<String>,
}

impl Input {
    fn open(args: &ImportArgs) -> anyhow::Result<Input> {
        if args.format == ImportFormat::X && args.file.is_dir() {
            return Input::x_archive(&args.file, args.account.is_none());
        }
        let path = if args.format == ImportFormat::Mastodon && args.file.is_dir() {
            // A Mastodon export unpacked: its activities are in outbox.json.
            let outbox = args.file.join("outbox.json");
            if !outbox.is_file() {
                bail!(
                    "{} holds no outbox.json: give a Mastodon export's outbox.json or the folder \
                     it is in",
                    args.file.display()
                );
            }
            outbox
        } else {
            args.file.clone()
        };
        let file = open_file(&path)?;
        if args.format == ImportFormat::X {
            note_other_parts(&path);
        }
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let name = path.display().to_string();
        Ok(Input { files: vec![(name, file)], size, account: None })
    }

    /// An X archive's folder (or its `data` folder): its tweets, in parts when there are many
    /// (`tweets.js`, `tweets-part1.js`, …), then its deleted tweets, read as one; and the
    /// account from `account.js` when `want_account`.
    fn x_archive(dir: &Path, want_account: bool) -> anyhow::Result<Input> {
        let nested = dir.join("data");
        let data = if nested.is_dir() { nested } else { dir.to_path_buf() };
        let mut tweets = Vec::new();
        let mut deleted = Vec::new();
        let listing =
            fs::read_dir(&data).with_context(|| format!("cannot read {}", data.display()))?;
        for entry in listing {
            let entry = entry.with_context(|| format!("cannot read {}", data.display()))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            match x_data_file(name) {
                Some((XData::Tweets, part)) => tweets.push((part, entry.path())),
                Some((XData::DeletedTweets, part)) => deleted.push((part, entry.path())),
                None => {}
            }
        }
        if tweets.is_empty() && deleted.is_empty() {
            bail!(
                "{} holds no tweets.js: give an X archive's folder, its data folder or a data \
                 file such as data/tweets.js",
                data.display()
            );
        }
        tweets.sort();
        deleted.sort();
        let mut files = Vec::new();
        let mut size = 0;
        for (_, path) in tweets.into_iter().chain(deleted) {
            let file = open_file(&path)?;
            size += file.metadata().map(|m| m.len()).unwrap_or(0);
            files.push((path.display().to_string(), file));
        }
        let account_file = data.join("account.js");
        let account = if want_account && account_file.is_file() {
            let name = account_file.display().to_string();
            let reader = io::BufReader::new(open_file(&account_file)?);
            match import::x_account(&name, reader) {
                Ok(account) => account,
                Err(err) => {
                    eprintln!("{err}; the items' account is left empty (name it with --account)");
                    None
                }
            }
        } else {
            None
        };
        Ok(Input { files, size, account })
    }
}

fn open_file(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

/// The data sets of an X archive that hold tweets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XData {
    Tweets,
    DeletedTweets,
}

/// Which data set an X archive's file holds and which part of it it is: `tweets.js` is part 0
/// of the tweets, `tweets-part1.js` part 1, `deleted-tweets.js` part 0 of the deleted tweets.
/// Older archives name the files in the singular (`tweet.js`).
fn x_data_file(name: &str) -> Option<(XData, u32)> {
    let stems = [
        ("deleted-tweets", XData::DeletedTweets),
        ("deleted-tweet", XData::DeletedTweets),
        ("tweets", XData::Tweets),
        ("tweet", XData::Tweets),
    ];
    stems.into_iter().find_map(|(stem, data)| Some((data, part_number(name, stem)?)))
}

/// The part number of an X archive data file of the `stem` data set: 0 for `tweets.js`, N for
/// `tweets-partN.js`.
fn part_number(name: &str, stem: &str) -> Option<u32> {
    let rest = name.strip_prefix(stem)?.strip_suffix(".js")?;
    if rest.is_empty() {
        return Some(0);
    }
    let digits = rest.strip_prefix("-part")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Says so when the X data file being imported is one part of several: an archive with many
/// tweets splits them over `tweets.js`, `tweets-part1.js`, …, and the others would be missed.
fn note_other_parts(file: &Path) {
    let Some(name) = file.file_name().and_then(|name| name.to_str()) else { return };
    let Some((data, _)) = x_data_file(name) else { return };
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Ok(listing) = fs::read_dir(folder) else { return };
    let mut others: Vec<String> = listing
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|other| other != name && x_data_file(other).is_some_and(|(d, _)| d == data))
        .collect();
    if others.is_empty() {
        return;
    }
    others.sort();
    eprintln!(
        "note: {} also holds {}: the archive splits these tweets over several files; give \
         the archive's folder to import them all",
        folder.display(),
        others.join(", ")
    );
}

fn read_and_check(
    source: &Source<'_>,
    input: Input,
    read: &Arc<AtomicU64>,
    engine: &Engine,
    batch_size: usize,
    sender: &tokio::sync::mpsc::Sender<Vec<Prepared>>,
) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    let mut batch = Vec::with_capacity(batch_size);
    let mut stderr = io::stderr();
    let mut file_errors = Vec::new();
    let readers = input.files.into_iter().map(|(name, file)| {
        let reader = io::BufReader::with_capacity(1 << 20, file);
        (name, CountingReader { inner: reader, read: Arc::clone(read) })
    });
    let mut on_record =
        |record: Result<(import::Position, lifeguard_core::archive::Item), import::ImportError>| {
            outcome.records += 1;
            match record {
                Ok((_, mut item)) => {
                    if let Some(account) = source.account {
                        if item.account.is_empty() {
                            item.account = account.to_owned();
                        }
                        if item.author.is_empty() {
                            item.author = account.to_owned();
                        }
                    }
                    batch.push(Prepared::new(Checked::new(engine, item)));
                    if batch.len() >= batch_size {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                        if sender.blocking_send(full).is_err() {
                            return ControlFlow::Break(());
                        }
                    }
                }
                Err(err) => {
                    outcome.bad_records += 1;
                    let _ = writeln!(stderr, "{err}");
                }
            }
            ControlFlow::Continue(())
        };
    // An X archive's files are read as one stream, so that edits spanning them fall in order.
    if source.format == import::Format::X {
        import::read_x_parts(readers, source.captured_at, &mut on_record, |err| {
            file_errors.push(err);
        });
    } else {
        for (name, reader) in readers {
            if let Err(err) =
                import::read(source.format, &name, reader, source.captured_at, &mut on_record)
            {
                file_errors.push(err);
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    for err in &file_errors {
        let _ = writeln!(stderr, "{err}");
    }
    if !file_errors.is_empty() {
        let messages: Vec<String> = file_errors.iter().map(ToString::to_string).collect();
        outcome.stopped = Some(messages.join("; "));
    }
    outcome
}

fn print_summary(
    file: &Path,
    format: Format,
    total: &AppendReport,
    outcome: &ReadOutcome,
    signed: bool,
) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match format {
        Format::Json => writeln!(
            out,
            "{}",
            json!({
                "file": file.display().to_string(),
                "records": outcome.records,
                "added": total.added,
                "revisions": total.revisions,
                "unchanged": total.unchanged,
                "malformed": outcome.bad_records,
                "stopped": outcome.stopped,
                "entries": total.entries,
                "head": total.head,
                "signed": signed,
            })
        )?,
        Format::Text => {
            writeln!(
                out,
                "{}: {} new versions archived ({} edits or deletions), {} already archived, {} malformed records skipped",
                file.display(),
                total.added,
                total.revisions,
                total.unchanged,
                outcome.bad_records
            )?;
            match (total.head, signed) {
                (Some(head), true) => writeln!(out, "chain head: entry {head}, signed")?,
                (Some(head), false) => writeln!(out, "chain head: entry {head}, not yet signed")?,
                (None, _) => {}
            }
            if outcome.stopped.is_some() {
                writeln!(
                    out,
                    "a file could not be read to its end (the error is above); everything before the error is archived"
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::part_number;

    #[test]
    fn x_data_files_are_known_by_name_and_part() {
        assert_eq!(part_number("tweets.js", "tweets"), Some(0));
        assert_eq!(part_number("tweets-part1.js", "tweets"), Some(1));
        assert_eq!(part_number("tweets-part12.js", "tweets"), Some(12));
        assert_eq!(part_number("deleted-tweets-part2.js", "deleted-tweets"), Some(2));
        for other in ["tweets-part.js", "tweets-partx.js", "tweets.json", "tweetsx.js", "tweet.js"]
        {
            assert_eq!(part_number(other, "tweets"), None, "{other}");
        }
        assert_eq!(part_number("deleted-tweets.js", "tweets"), None);
        assert_eq!(part_number("tweets-media.js", "tweets"), None);
        assert_eq!(part_number("tweet-part2.js", "tweet"), Some(2));
        assert_eq!(part_number("tweets.js", "tweet"), None);
    }
}
