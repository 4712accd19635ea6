//! `lifeguard import FORMAT FILE`: stream an export into the archive, checking every item with
//! the policy on the way in. One thread reads and checks; the async side writes batches, each
//! one transaction, so a killed import leaves whole batches or nothing of them, and running it
//! again picks up where it stopped (what is archived is skipped).

use std::fs::File;
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
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let runtime = archive::runtime()?;
    let store = runtime.block_on(open(&args.store))?;
    let key = runtime.block_on(key(&args.store, store.as_ref()))?;

    let read = Arc::new(AtomicU64::new(0));
    let reader = CountingReader {
        inner: io::BufReader::with_capacity(1 << 20, file),
        read: Arc::clone(&read),
    };
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Prepared>>(4);
    let format = match args.format {
        ImportFormat::Jsonl => import::Format::Jsonl,
        ImportFormat::Mastodon => import::Format::Mastodon,
        ImportFormat::X => import::Format::X,
    };
    let name = args.file.display().to_string();
    let batch_size = args.batch;
    let captured_at = Timestamp::now();
    let account = args.account.clone();
    let reading = thread::spawn(move || {
        let source = Source { format, name: &name, captured_at, account: account.as_deref() };
        read_and_check(&source, reader, &engine, batch_size, &sender)
    });

    let bar = if args.no_progress { None } else { output::progress_bar("importing", size) };
    let written = runtime.block_on(async {
        let mut total = AppendReport::default();
        let mut signed_at = 0u64;
        while let Some(batch) = receiver.recv().await {
            let report = store.append_prepared(&batch, Timestamp::now()).await;
            let report = match report {
                Ok(report) => report,
                Err(err) => {
                    // Dropping the receiver stops the reader at its next batch.
                    drop(receiver);
                    return Err((total, anyhow::Error::new(err)));
                }
            };
            total.absorb(report);
            if let Some(bar) = &bar {
                bar.set_position(read.load(Ordering::Relaxed));
            }
            // The first batch is signed at once, so an import cut short later leaves a
            // signed archive; then one checkpoint every CHECKPOINT_EVERY entries.
            if signed_at == 0 || total.head.unwrap_or(0) >= signed_at + CHECKPOINT_EVERY {
                checkpoint(store.as_ref(), &key).await.map_err(|err| (total, err))?;
                signed_at = total.head.unwrap_or(0);
            }
        }
        checkpoint(store.as_ref(), &key).await.map_err(|err| (total, err))?;
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
    name: &'a str,
    captured_at: Timestamp,
    account: Option<&'a str>,
}

fn read_and_check(
    source: &Source<'_>,
    reader: impl Read,
    engine: &Engine,
    batch_size: usize,
    sender: &tokio::sync::mpsc::Sender<Vec<Prepared>>,
) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    let mut batch = Vec::with_capacity(batch_size);
    let mut stderr = io::stderr();
    let result = import::read(source.format, source.name, reader, source.captured_at, |record| {
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
    });
    if !batch.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    if let Err(err) = result {
        let _ = writeln!(stderr, "{err}");
        outcome.stopped = Some(err.to_string());
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
                    "the file could not be read to its end; everything before the error is archived"
                )?;
            }
        }
    }
    Ok(())
}
