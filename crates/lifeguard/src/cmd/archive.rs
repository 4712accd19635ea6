//! `lifeguard archive …`: search, show, stats, verify, checkpoints, retention, holds and
//! disposal, over whichever store `--data`/`--database` names.

mod bundle;
pub(crate) mod output;

use std::io::{self, IsTerminal as _, Write as _};

use anyhow::{Context as _, bail};
use jiff::Timestamp;
use lifeguard_core::archive::{
    Checkpoint, Hold, HoldScope, Keep, Query, Retention, RetentionRule, SigningKey, VerifyingKey,
    format_time,
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
    if matches!(args.command, ArchiveCommand::PublicKey) {
        return runtime()?.block_on(public_key(&args.store));
    }
    runtime()?.block_on(async {
        let store = open_existing(&args.store).await?;
        let store = store.as_ref();
        match &args.command {
            ArchiveCommand::Search { query, filters, limit, cursor, format } => {
                search(store, query.as_deref(), filters, *limit, cursor.as_deref(), *format).await
            }
            ArchiveCommand::Show { id, format } => show(store, *id, *format).await,
            ArchiveCommand::Stats { format } => stats(store, *format).await,
            ArchiveCommand::Verify { format } => {
                verify(store, verifying_key(&args.store, store).await?.as_ref(), *format).await
            }
            ArchiveCommand::Checkpoint => {
                match checkpoint(store, &key(&args.store, store).await?).await? {
                    Some(c) => say!(
                        "signed checkpoint at entry {} ({})",
                        c.seq,
                        lifeguard_core::archive::hex(&c.head)
                    ),
                    None => {
                        say!("nothing to sign: the archive is empty or already signed at its head")
                    }
                }
                Ok(Exit::Ok)
            }
            ArchiveCommand::PublicKey => public_key(&args.store).await,
            ArchiveCommand::Export { query, filters, out } => {
                bundle::export(
                    store,
                    &key(&args.store, store).await?,
                    query.as_deref(),
                    filters,
                    out,
                )
                .await
            }
            ArchiveCommand::VerifyExport { .. } => unreachable_verify_export(),
            ArchiveCommand::Retention(command) => {
                let exit = retention(store, command).await?;
                sign_what_was_written(&args.store, store).await?;
                Ok(exit)
            }
            ArchiveCommand::Hold(command) => {
                let exit = hold(store, command).await?;
                sign_what_was_written(&args.store, store).await?;
                Ok(exit)
            }
            ArchiveCommand::Dispose { dry_run, now, format } => {
                dispose(store, &key(&args.store, store).await?, *dry_run, now.as_deref(), *format)
                    .await
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
    let (location, shown) = location(args);
    lifeguard_store::open(&location)
        .await
        .with_context(|| format!("cannot open the archive at {shown}"))
}

/// Opens an archive that must exist already: the archive commands read or extend one, and a
/// mistyped `--data` should say so, not answer from a new empty archive.
async fn open_existing(args: &StoreArgs) -> anyhow::Result<Box<dyn Store>> {
    let (location, shown) = location(args);
    if lifeguard_store::exists(&location) == Some(false) {
        bail!("there is no archive at {shown} (check --data or --database)");
    }
    open(args).await
}

fn location(args: &StoreArgs) -> (Location, String) {
    let location = match &args.database {
        Some(url) => Location::Url(url.clone()),
        None => Location::DataDir(args.data.clone()),
    };
    let shown = match &location {
        Location::Url(url) => lifeguard_store::redact(url),
        Location::DataDir(dir) => dir.join(lifeguard_store::SQLITE_FILE).display().to_string(),
    };
    (location, shown)
}

/// The key that signs this archive's checkpoints. A new one is made only for an archive that
/// nothing has signed yet: if its checkpoints were signed by another key (the key file is
/// missing or replaced, or `--data` names another archive's directory), every checkpoint signed
/// from now on would fail verification, so that is refused.
pub(crate) async fn key(args: &StoreArgs, store: &dyn Store) -> anyhow::Result<SigningKey> {
    let Some(expected) = signed_by(store).await? else {
        return lifeguard_store::load_or_create_key(&args.data)
            .context("cannot load the archive's signing key");
    };
    let file = args.data.join(lifeguard_store::KEY_FILE);
    let key = lifeguard_store::load_key(&args.data)
        .context("cannot load the archive's signing key")?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no signing key, but this archive's checkpoints were signed by key {expected}; \
                 restore that key file, or pass the --data directory that holds it",
                file.display()
            )
        })?;
    let found = lifeguard_core::archive::key_id(&key.verifying_key());
    if found != expected {
        bail!(
            "{}: this is key {found}, but this archive's checkpoints were signed by key \
             {expected}; pass the --data directory that holds this archive's key",
            file.display()
        );
    }
    Ok(key)
}

/// The key that checks this archive's checkpoints, never made anew: with no key file, only an
/// archive without checkpoints can be verified (and verification then says it is unsigned).
async fn verifying_key(
    args: &StoreArgs,
    store: &dyn Store,
) -> anyhow::Result<Option<VerifyingKey>> {
    match lifeguard_store::load_key(&args.data).context("cannot load the archive's signing key")? {
        Some(key) => Ok(Some(key.verifying_key())),
        None => match signed_by(store).await? {
            Some(expected) => bail!(
                "{}: no signing key, but this archive's checkpoints were signed by key \
                 {expected}; restore that key file, or pass the --data directory that holds it",
                args.data.join(lifeguard_store::KEY_FILE).display()
            ),
            None => Ok(None),
        },
    }
}

/// Prints the public key: of the archive's key if there is an archive, else of the data
/// directory's key (made if missing), which an archive made there later will sign with.
async fn public_key(args: &StoreArgs) -> anyhow::Result<Exit> {
    let key = if lifeguard_store::exists(&location(args).0) == Some(false) {
        lifeguard_store::load_or_create_key(&args.data)
            .context("cannot load the archive's signing key")?
    } else {
        key(args, open(args).await?.as_ref()).await?
    };
    say!("{}", key.verifying_key().to_hex());
    Ok(Exit::Ok)
}

/// The key id of the archive's latest checkpoint.
async fn signed_by(store: &dyn Store) -> anyhow::Result<Option<String>> {
    Ok(store.checkpoints().await?.last().map(|c| c.key_id.clone()))
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

/// Signs the head after a command that wrote entries, as an import does when it ends, so that
/// what the command recorded is vouched for at once. Nothing happens when the head is signed
/// already (a command that only read).
pub(crate) async fn sign_what_was_written(
    args: &StoreArgs,
    store: &dyn Store,
) -> anyhow::Result<()> {
    let unsigned = match (store.head().await?, store.checkpoints().await?.last()) {
        (Some((head, _)), Some(last)) => head != last.seq,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if unsigned {
        checkpoint(store, &key(args, store).await?).await?;
    }
    Ok(())
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

async fn verify(
    store: &dyn Store,
    key: Option<&VerifyingKey>,
    format: Format,
) -> anyhow::Result<Exit> {
    let result = verified(store, key).await;
    let mut out = io::stdout().lock();
    match result {
        // Without a checkpoint nothing vouches for the chain: whoever can write the database
        // could have rewritten every entry and recomputed every hash.
        Ok(report) if report.head.is_some() && report.checkpoints == 0 => {
            let error = "no signed checkpoint covers the archive, so its entries cannot be \
                         vouched for; sign one with `lifeguard archive checkpoint`";
            match format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    json!({"ok": false, "error": error, "entries": report.entries,
                        "checkpoints": 0, "unsigned": report.unsigned})
                )?,
                Format::Text => writeln!(out, "NOT VERIFIED: {error}")?,
            }
            Ok(Exit::NeedsAction)
        }
        Ok(report) => {
            let head = report.head.map(|(seq, hash)| (seq, lifeguard_core::archive::hex(&hash)));
            match format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    json!({"ok": true, "entries": report.entries, "items": report.items,
                        "disposed": report.disposed, "checkpoints": report.checkpoints,
                        "unsigned": report.unsigned,
                        "head": head.as_ref().map(|(seq, hash)| json!({"seq": seq, "hash": hash}))})
                )?,
                Format::Text => match head {
                    Some((seq, hash)) => {
                        writeln!(
                            out,
                            "ok: {} entries ({} items, {} disposed), {} signed checkpoint{} verified; head is entry {seq} {hash}",
                            report.entries,
                            report.items,
                            report.disposed,
                            report.checkpoints,
                            if report.checkpoints == 1 { "" } else { "s" }
                        )?;
                        if report.unsigned > 0 {
                            writeln!(
                                out,
                                "note: the last {} entr{} come after the latest checkpoint and are not signed yet",
                                report.unsigned,
                                if report.unsigned == 1 { "y" } else { "ies" }
                            )?;
                        }
                    }
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

/// Verifies the archive, with a progress bar on a terminal.
async fn verified(
    store: &dyn Store,
    key: Option<&VerifyingKey>,
) -> Result<lifeguard_store::VerifyReport, VerifyError> {
    let progress = output::progress_bar("verifying", 0);
    let bar = progress.clone();
    let result = lifeguard_store::verify(store, key, &mut move |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    })
    .await;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    result
}

/// Why the archive does not verify with `key`, or `None` when it does.
async fn unverified(store: &dyn Store, key: &VerifyingKey) -> anyhow::Result<Option<String>> {
    match verified(store, Some(key)).await {
        Ok(report) if report.head.is_some() && report.checkpoints == 0 => {
            Ok(Some("no signed checkpoint covers it".to_owned()))
        }
        Ok(_) => Ok(None),
        Err(VerifyError::Store(err)) => Err(err.into()),
        Err(err) => Ok(Some(err.to_string())),
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
            say!("retention rule `{id}` set: keep {} (entry {seq})", rule.keep.iso());
        }
        RetentionCommand::Remove { id, by } => {
            let seq = store.remove_retention(id, by, Timestamp::now()).await?;
            say!("retention rule `{id}` removed (entry {seq})");
        }
        RetentionCommand::List { format } => {
            let rules = store.retention_rules().await?;
            match format {
                Format::Json => {
                    let rules: Vec<_> = rules.iter().map(output::rule_json).collect();
                    say!("{}", serde_json::to_string_pretty(&rules)?);
                }
                Format::Text if rules.is_empty() => {
                    say!("no retention rules: every item is kept until one covers it");
                }
                Format::Text => {
                    for rule in &rules {
                        say!("{}", output::rule_text(rule));
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
            say!("hold `{id}` placed (entry {seq})");
        }
        HoldCommand::Release { id, reason, by } => {
            let seq = store.release_hold(id, reason, by, Timestamp::now()).await?;
            say!("hold `{id}` released (entry {seq})");
        }
        HoldCommand::List { format } => {
            let holds = store.holds().await?;
            match format {
                Format::Json => {
                    let holds: Vec<_> = holds.iter().map(output::hold_json).collect();
                    say!("{}", serde_json::to_string_pretty(&holds)?);
                }
                Format::Text if holds.is_empty() => say!("no legal holds"),
                Format::Text => {
                    for hold in &holds {
                        say!("{}", output::hold_text(hold));
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
    // Disposal reads the hold and retention tables, and cannot be undone: a hold release or a
    // retention rule written into them behind the chain's back would destroy what must be kept.
    // So it decides only from an archive that verifies.
    if let Some(problem) = unverified(store, &key.verifying_key()).await? {
        let message = format!(
            "not disposing of anything: the archive does not verify ({problem}); \
             see `lifeguard archive verify`"
        );
        match format {
            Format::Json => say!("{}", json!({"ok": false, "error": message})),
            Format::Text => say!("{message}"),
        }
        return Ok(Exit::NeedsAction);
    }
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
            say!(
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
                say!("{verb} #{seq} {name} (rule {rule})");
            }
            for (seq, name, hold) in &tally.held {
                say!("kept #{seq} {name}: under legal hold {hold}");
            }
            say!(
                "{verb} {} {}; kept {} under hold, {} within retention, {} with no retention rule",
                tally.disposed.len(),
                plural(tally.disposed.len()),
                tally.held.len(),
                tally.within,
                tally.no_rule
            );
            if dry_run && !tally.disposed.is_empty() {
                say!("run without --dry-run to dispose of them");
            }
        }
    }
    Ok(Exit::Ok)
}

/// True when progress bars may be drawn: stderr is a terminal.
pub(crate) fn interactive() -> bool {
    io::stderr().is_terminal()
}
