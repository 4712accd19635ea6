//! `lifeguard archive …`: search, show, stats, verify, checkpoints, retention, holds and
//! disposal, over whichever store `--data`/`--database` names.

mod bundle;
pub(crate) mod output;

use std::io::{self, IsTerminal as _, Write as _};

use anyhow::{Context as _, bail};
use jiff::Timestamp;
use lifeguard_core::archive::{
    Checkpoint, Hold, HoldScope, Keep, Query, Retention, RetentionRule, SigningKey, format_time,
};
use lifeguard_core::{Action, AuthorType, ContentKind};
use lifeguard_store::{Disposal, Filters, Location, SearchRequest, Store, VerifyError};
use serde_json::json;

use crate::cli::{
    ArchiveArgs, ArchiveCommand, FilterArgs, Format, HoldCommand, RetentionCommand, StoreArgs,
};
use crate::exit::Exit;

/// Candidates read per round of `dispose`.
const DISPOSAL_PAGE: u32 = 500;

pub(crate) fn run(args: &ArchiveArgs) -> anyhow::Result<Exit> {
    if let ArchiveCommand::VerifyExport { dir, public_key, format } = &args.command {
        // Needs no database and no data directory: that is the point of it.
        return bundle::verify_export(dir, public_key.as_deref(), *format);
    }
    runtime()?.block_on(async {
        let store = open(&args.store).await?;
        let store = store.as_ref();
        match &args.command {
            ArchiveCommand::Search { query, filters, limit, cursor, format } => {
                search(store, query.as_deref(), filters, *limit, cursor.as_deref(), *format).await
            }
            ArchiveCommand::Show { id, format } => show(store, *id, *format).await,
            ArchiveCommand::Stats { format } => stats(store, *format).await,
            ArchiveCommand::Verify { format } => verify(store, &key(&args.store)?, *format).await,
            ArchiveCommand::Checkpoint => {
                match checkpoint(store, &key(&args.store)?).await? {
                    Some(c) => println!(
                        "signed checkpoint at entry {} ({})",
                        c.seq,
                        lifeguard_core::archive::hex(&c.head)
                    ),
                    None => println!(
                        "nothing to sign: the archive is empty or already signed at its head"
                    ),
                }
                Ok(Exit::Ok)
            }
            ArchiveCommand::PublicKey => {
                println!("{}", key(&args.store)?.verifying_key().to_hex());
                Ok(Exit::Ok)
            }
            ArchiveCommand::Export { query, filters, out } => {
                bundle::export(store, &key(&args.store)?, query.as_deref(), filters, out).await
            }
            ArchiveCommand::VerifyExport { .. } => unreachable_verify_export(),
            ArchiveCommand::Retention(command) => retention(store, command).await,
            ArchiveCommand::Hold(command) => hold(store, command).await,
            ArchiveCommand::Dispose { dry_run, now, format } => {
                dispose(store, &key(&args.store)?, *dry_run, now.as_deref(), *format).await
            }
        }
    })
}

fn unreachable_verify_export() -> anyhow::Result<Exit> {
    bail!("verify-export is handled before the archive is opened")
}

/// The runtime the store's async API runs on; two workers are plenty for one command.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) async fn open(args: &StoreArgs) -> anyhow::Result<Box<dyn Store>> {
    let location = match &args.database {
        Some(url) => Location::Url(url.clone()),
        None => Location::DataDir(args.data.clone()),
    };
    let shown = match &location {
        Location::Url(url) => lifeguard_store::redact(url),
        Location::DataDir(dir) => dir.join(lifeguard_store::SQLITE_FILE).display().to_string(),
    };
    lifeguard_store::open(&location)
        .await
        .with_context(|| format!("cannot open the archive at {shown}"))
}

pub(crate) fn key(args: &StoreArgs) -> anyhow::Result<SigningKey> {
    lifeguard_store::load_or_create_key(&args.data).context("cannot load the archive's signing key")
}

/// Signs the chain's head unless it is already signed there.
pub(crate) async fn checkpoint(
    store: &dyn Store,
    key: &SigningKey,
) -> anyhow::Result<Option<Checkpoint>> {
    let Some((seq, head)) = store.head().await? else { return Ok(None) };
    if store.checkpoints().await?.last().is_some_and(|c| c.seq == seq) {
        return Ok(None);
    }
    let checkpoint = key.checkpoint(seq, head, format_time(Timestamp::now()));
    store.add_checkpoint(&checkpoint).await?;
    Ok(Some(checkpoint))
}

/// An RFC 3339 time, or a plain date meaning midnight UTC.
pub(crate) fn parse_when(flag: &str, text: &str) -> anyhow::Result<Timestamp> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Ok(time);
    }
    match text.parse::<jiff::civil::Date>() {
        Ok(date) => Ok(jiff::tz::TimeZone::UTC
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))?),
        Err(_) => bail!("--{flag}: `{text}` is not an RFC 3339 time or a date like 2024-03-01"),
    }
}

pub(crate) fn filters(args: &FilterArgs) -> anyhow::Result<Filters> {
    Ok(Filters {
        platform: args.platform.as_ref().map(|p| p.to_lowercase()),
        account: args.account.clone(),
        author: args.author.clone(),
        author_type: args
            .author_type
            .as_deref()
            .map(|t| t.parse::<AuthorType>().context("--author-type"))
            .transpose()?,
        kind: args
            .kind
            .as_deref()
            .map(|k| k.parse::<ContentKind>().context("--kind"))
            .transpose()?,
        since: args.since.as_deref().map(|t| parse_when("since", t)).transpose()?,
        until: args.until.as_deref().map(|t| parse_when("until", t)).transpose()?,
        action: args
            .verdict
            .as_deref()
            .map(|a| a.parse::<Action>().context("--verdict"))
            .transpose()?,
        category: args.category.clone(),
        rule: args.rule.clone(),
        has_findings: if args.has_findings {
            Some(true)
        } else if args.no_findings {
            Some(false)
        } else {
            None
        },
        audience: None,
    })
}

pub(crate) fn query(text: Option<&str>) -> anyhow::Result<Query> {
    Query::parse(text.unwrap_or("")).map_err(anyhow::Error::new)
}

async fn search(
    store: &dyn Store,
    text: Option<&str>,
    filter_args: &FilterArgs,
    limit: u32,
    cursor: Option<&str>,
    format: Format,
) -> anyhow::Result<Exit> {
    let request = SearchRequest {
        query: query(text)?,
        filters: filters(filter_args)?,
        limit,
        cursor: cursor.map(lifeguard_store::Cursor::parse).transpose().context("--cursor")?,
    };
    if limit == 0 || limit > lifeguard_store::MAX_LIMIT {
        bail!("--limit: a page holds 1 to {} results, not {limit}", lifeguard_store::MAX_LIMIT);
    }
    let page = store.search(&request).await?;
    let mut out = io::stdout().lock();
    match format {
        Format::Json => {
            let items: Vec<_> = page.items.iter().map(output::summary_json).collect();
            let value = json!({"items": items, "next": page.next.map(|c| c.token())});
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        Format::Text => {
            if page.items.is_empty() {
                writeln!(out, "no items match")?;
            }
            for item in &page.items {
                output::summary_text(&mut out, item)?;
            }
            if let Some(next) = page.next {
                writeln!(out, "more: --cursor {}", next.token())?;
            }
        }
    }
    Ok(Exit::Ok)
}

async fn show(store: &dyn Store, id: u64, format: Format) -> anyhow::Result<Exit> {
    let Some(detail) = store.item(id).await? else {
        bail!("no item with id {id} (ids are the entry numbers `archive search` prints)");
    };
    let mut out = io::stdout().lock();
    match format {
        Format::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&output::detail_json(&detail))?)?
        }
        Format::Text => output::detail_text(&mut out, &detail)?,
    }
    Ok(Exit::Ok)
}

async fn stats(store: &dyn Store, format: Format) -> anyhow::Result<Exit> {
    let stats = store.stats().await?;
    let mut out = io::stdout().lock();
    match format {
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&output::stats_json(&stats, store.backend()))?
        )?,
        Format::Text => output::stats_text(&mut out, &stats, store.backend())?,
    }
    Ok(Exit::Ok)
}

async fn verify(store: &dyn Store, key: &SigningKey, format: Format) -> anyhow::Result<Exit> {
    let progress = output::progress_bar("verifying", 0);
    let bar = progress.clone();
    let result = lifeguard_store::verify(store, &key.verifying_key(), &mut move |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    })
    .await;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let mut out = io::stdout().lock();
    match result {
        Ok(report) => {
            let head = report.head.map(|(seq, hash)| (seq, lifeguard_core::archive::hex(&hash)));
            match format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    json!({"ok": true, "entries": report.entries, "items": report.items,
                        "disposed": report.disposed, "checkpoints": report.checkpoints,
                        "head": head.as_ref().map(|(seq, hash)| json!({"seq": seq, "hash": hash}))})
                )?,
                Format::Text => match head {
                    Some((seq, hash)) => writeln!(
                        out,
                        "ok: {} entries ({} items, {} disposed), {} signed checkpoint{} verified; head is entry {seq} {hash}",
                        report.entries,
                        report.items,
                        report.disposed,
                        report.checkpoints,
                        if report.checkpoints == 1 { "" } else { "s" }
                    )?,
                    None => writeln!(out, "ok: the archive is empty")?,
                },
            }
            Ok(Exit::Ok)
        }
        Err(VerifyError::Store(err)) => Err(err.into()),
        Err(err) => {
            match format {
                Format::Json => {
                    writeln!(out, "{}", json!({"ok": false, "error": err.to_string()}))?
                }
                Format::Text => writeln!(out, "NOT INTACT: {err}")?,
            }
            Ok(Exit::NeedsAction)
        }
    }
}

fn names<T: std::str::FromStr>(flag: &str, values: &[String]) -> anyhow::Result<Vec<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    values.iter().map(|v| v.parse::<T>().with_context(|| format!("--{flag}"))).collect()
}

async fn retention(store: &dyn Store, command: &RetentionCommand) -> anyhow::Result<Exit> {
    match command {
        RetentionCommand::Set { id, keep, kinds, platforms, author_types, by } => {
            let rule = RetentionRule {
                id: id.clone(),
                kinds: names("kind", kinds)?,
                platforms: platforms.iter().map(|p| p.to_lowercase()).collect(),
                author_types: names("author-type", author_types)?,
                keep: Keep::parse(keep).context("--keep")?,
            };
            let seq = store.set_retention(&rule, by, Timestamp::now()).await?;
            println!("retention rule `{id}` set: keep {} (entry {seq})", rule.keep.iso());
        }
        RetentionCommand::Remove { id, by } => {
            let seq = store.remove_retention(id, by, Timestamp::now()).await?;
            println!("retention rule `{id}` removed (entry {seq})");
        }
        RetentionCommand::List { format } => {
            let rules = store.retention_rules().await?;
            match format {
                Format::Json => {
                    let rules: Vec<_> = rules.iter().map(output::rule_json).collect();
                    println!("{}", serde_json::to_string_pretty(&rules)?);
                }
                Format::Text if rules.is_empty() => {
                    println!("no retention rules: every item is kept until one covers it");
                }
                Format::Text => {
                    for rule in &rules {
                        println!("{}", output::rule_text(rule));
                    }
                }
            }
        }
    }
    Ok(Exit::Ok)
}

async fn hold(store: &dyn Store, command: &HoldCommand) -> anyhow::Result<Exit> {
    match command {
        HoldCommand::Place {
            id,
            reason,
            owner,
            authors,
            accounts,
            platforms,
            query: text,
            since,
            until,
        } => {
            let hold = Hold {
                id: id.clone(),
                reason: reason.clone(),
                owner: owner.clone(),
                scope: HoldScope {
                    authors: authors.clone(),
                    accounts: accounts.clone(),
                    platforms: platforms.iter().map(|p| p.to_lowercase()).collect(),
                    query: text.as_deref().map(|t| query(Some(t))).transpose()?,
                    from: since.as_deref().map(|t| parse_when("since", t)).transpose()?,
                    until: until.as_deref().map(|t| parse_when("until", t)).transpose()?,
                },
            };
            let seq = store.place_hold(&hold, Timestamp::now()).await?;
            println!("hold `{id}` placed (entry {seq})");
        }
        HoldCommand::Release { id, reason, by } => {
            let seq = store.release_hold(id, reason, by, Timestamp::now()).await?;
            println!("hold `{id}` released (entry {seq})");
        }
        HoldCommand::List { format } => {
            let holds = store.holds().await?;
            match format {
                Format::Json => {
                    let holds: Vec<_> = holds.iter().map(output::hold_json).collect();
                    println!("{}", serde_json::to_string_pretty(&holds)?);
                }
                Format::Text if holds.is_empty() => println!("no legal holds"),
                Format::Text => {
                    for hold in &holds {
                        println!("{}", output::hold_text(hold));
                    }
                }
            }
        }
    }
    Ok(Exit::Ok)
}

#[derive(Default)]
struct DisposalTally {
    disposed: Vec<(u64, String, String)>,
    held: Vec<(u64, String, String)>,
    within: u64,
    no_rule: u64,
}

async fn dispose(
    store: &dyn Store,
    key: &SigningKey,
    dry_run: bool,
    now: Option<&str>,
    format: Format,
) -> anyhow::Result<Exit> {
    let now = match now {
        Some(text) => parse_when("now", text)?,
        None => Timestamp::now(),
    };
    let rules = store.retention_rules().await?;
    let holds: Vec<Hold> =
        store.holds().await?.into_iter().filter(|h| h.released.is_none()).map(|h| h.hold).collect();
    let mut tally = DisposalTally::default();
    let mut after: Option<String> = None;
    loop {
        let candidates = store.disposal_candidates(now, after.as_deref(), DISPOSAL_PAGE).await?;
        let Some(last) = candidates.last() else { break };
        after = Some(last.key.clone());
        for candidate in &candidates {
            let (seq, item) = match candidate.versions.first() {
                Some((seq, item)) => (*seq, item),
                None => continue,
            };
            let name = format!("{}/{}", item.platform, item.external_id);
            let outcome = if dry_run {
                match candidate.decide(&rules, &holds, now) {
                    Retention::Dispose { rule, .. } => Disposal::Disposed { entry: 0, rule },
                    other => Disposal::Kept(other),
                }
            } else {
                store.dispose(candidate, now, Timestamp::now()).await?
            };
            match outcome {
                Disposal::Disposed { rule, .. } => tally.disposed.push((seq, name, rule)),
                Disposal::Kept(Retention::Held { hold }) => tally.held.push((seq, name, hold)),
                Disposal::Kept(Retention::Within { .. }) => tally.within += 1,
                Disposal::Kept(Retention::NoRule) => tally.no_rule += 1,
                Disposal::Kept(Retention::Dispose { .. }) | Disposal::AlreadyDisposed => {}
            }
        }
    }
    if !dry_run && !tally.disposed.is_empty() {
        checkpoint(store, key).await?;
    }
    let verb = if dry_run { "would dispose of" } else { "disposed of" };
    let plural = |n: usize| if n == 1 { "item" } else { "items" };
    match format {
        Format::Json => {
            let list = |items: &[(u64, String, String)], field: &str| -> Vec<serde_json::Value> {
                items
                    .iter()
                    .map(|(seq, name, why)| json!({"id": seq, "item": name, field: why}))
                    .collect()
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "dry_run": dry_run,
                    "now": format_time(now),
                    "disposed": list(&tally.disposed, "rule"),
                    "held": list(&tally.held, "hold"),
                    "within_retention": tally.within,
                    "no_rule": tally.no_rule,
                }))?
            );
        }
        Format::Text => {
            for (seq, name, rule) in &tally.disposed {
                println!("{verb} #{seq} {name} (rule {rule})");
            }
            for (seq, name, hold) in &tally.held {
                println!("kept #{seq} {name}: under legal hold {hold}");
            }
            println!(
                "{verb} {} {}; kept {} under hold, {} within retention, {} with no retention rule",
                tally.disposed.len(),
                plural(tally.disposed.len()),
                tally.held.len(),
                tally.within,
                tally.no_rule
            );
            if dry_run && !tally.disposed.is_empty() {
                println!("run without --dry-run to dispose of them");
            }
        }
    }
    Ok(Exit::Ok)
}

/// True when progress bars may be drawn: stderr is a terminal.
pub(crate) fn interactive() -> bool {
    io::stderr().is_terminal()
}
