//! Checks, decoders and query translations both backends use, so they agree on every rule
//! that is not SQL.

use jiff::Timestamp;
use lifeguard_core::archive::{
    Checkpoint, Entry, EntryKind, Hash, Hold, Item, ItemFacts, Query, Retention, RetentionRule,
    Term, disposable, hold_from_payload, parse_canonical, parse_time, retention_from_payload,
};

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::error::{ErrorKind, StoreError};
use crate::plan::{self, Prepared};
use crate::types::{
    DisposalCandidate, Filters, HoldRecord, ItemDetail, ItemSummary, MAX_LIMIT, Page,
    VerdictDetail, VersionRef,
};

/// Longest hold or rule id, reason or owner, in bytes.
pub(crate) const MAX_LABEL: usize = 1_000;

/// What [`crate::Store::dispose`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposal {
    /// The content was disposed; the disposition entry and the rule that expired.
    Disposed {
        /// The disposition entry.
        entry: u64,
        /// The retention rule.
        rule: String,
    },
    /// Kept: what the decision was at the time of the transaction.
    Kept(Retention),
    /// Someone else disposed of it first.
    AlreadyDisposed,
}

/// Finds the entry of the hold in force under a name, if any (bind: the name).
pub(crate) const ACTIVE_HOLD: &str = "SELECT h.seq FROM holds h WHERE h.id = $1 AND NOT EXISTS \
     (SELECT 1 FROM hold_releases r WHERE r.id = h.id AND r.seq > h.seq)";

/// For the entries that govern the archive and are looked up by name (holds, their releases,
/// retention rules): the statement that lists one by entry and name, and what it does.
pub(crate) fn listing(kind: EntryKind) -> Result<(&'static str, &'static str), StoreError> {
    match kind {
        EntryKind::Hold => Ok(("INSERT INTO holds (seq, id) VALUES ($1, $2)", "writing a hold")),
        EntryKind::HoldRelease => {
            Ok(("INSERT INTO hold_releases (seq, id) VALUES ($1, $2)", "writing a hold release"))
        }
        EntryKind::Retention => Ok((
            "INSERT INTO retention_rules (seq, id) VALUES ($1, $2)",
            "writing a retention rule",
        )),
        other => Err(StoreError::new(
            ErrorKind::Database,
            format!("{other} entries are not listed by name"),
        )),
    }
}

pub(crate) fn check_batch(batch: &[Prepared]) -> Result<(), StoreError> {
    if batch.len() > crate::MAX_BATCH {
        return Err(StoreError::invalid(format!(
            "a batch holds at most {} items, not {}",
            crate::MAX_BATCH,
            batch.len()
        )));
    }
    for (i, prepared) in batch.iter().enumerate() {
        prepared
            .item()
            .validate()
            .map_err(|err| StoreError::invalid(format!("item {} of the batch: {err}", i + 1)))?;
    }
    Ok(())
}

fn check_label(what: &str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(StoreError::invalid(format!("{what} must not be empty")));
    }
    if value.len() > MAX_LABEL {
        return Err(StoreError::invalid(format!("{what} is longer than {MAX_LABEL} bytes")));
    }
    Ok(())
}

pub(crate) fn check_hold(hold: &Hold) -> Result<(), StoreError> {
    check_label("a hold's id", &hold.id)?;
    check_label("a hold's reason", &hold.reason)?;
    check_label("a hold's owner", &hold.owner)
}

pub(crate) fn check_release(reason: &str, by: &str) -> Result<(), StoreError> {
    check_label("a release's reason", reason)?;
    check_label("who releases a hold", by)
}

pub(crate) fn check_retention(id: &str, by: &str) -> Result<(), StoreError> {
    check_label("a retention rule's id", id)?;
    check_label("who sets retention", by)
}

pub(crate) fn check_limit(limit: u32) -> Result<u32, StoreError> {
    if limit == 0 || limit > MAX_LIMIT {
        return Err(StoreError::invalid(format!(
            "a page holds 1 to {MAX_LIMIT} results, not {limit}"
        )));
    }
    Ok(limit)
}

/// A query written back as text, as stored in a hold.
pub(crate) fn query_text(query: &Query) -> String {
    query
        .terms()
        .iter()
        .map(|term| match term {
            Term::Word(word) => word.clone(),
            Term::Prefix(prefix) => format!("{prefix}*"),
            Term::Phrase(words) => format!("\"{}\"", words.join(" ")),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The query as an FTS5 MATCH expression. Terms hold only letters and digits (see
/// `archive::tokens`), so quoting each one is enough.
pub fn fts5_match(query: &Query) -> String {
    query
        .terms()
        .iter()
        .map(|term| match term {
            Term::Word(word) => format!("\"{word}\""),
            Term::Prefix(prefix) => format!("\"{prefix}\"*"),
            Term::Phrase(words) => format!("\"{}\"", words.join(" ")),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The query as a PostgreSQL `tsquery` for the `simple` configuration.
pub fn tsquery(query: &Query) -> String {
    query
        .terms()
        .iter()
        .map(|term| match term {
            Term::Word(word) => format!("'{word}'"),
            Term::Prefix(prefix) => format!("'{prefix}':*"),
            Term::Phrase(words) => {
                format!(
                    "({})",
                    words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" <-> ")
                )
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

pub(crate) fn page(mut items: Vec<ItemSummary>, limit: u32) -> Page {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = if more { items.last().map(|item| item.cursor) } else { None };
    Page { items, next }
}

pub(crate) fn version(seq: u64, change: String, captured_at: i64) -> VersionRef {
    VersionRef { seq, change, captured_at: plan::from_micros(captured_at) }
}

fn decode(entry: &Entry) -> Option<serde_json::Value> {
    entry.payload.as_deref().and_then(|payload| parse_canonical(payload).ok())
}

pub(crate) fn detail(
    summary: ItemSummary,
    entry: Entry,
    versions: Vec<VersionRef>,
    verdicts: Vec<Entry>,
    disposed_by: Option<u64>,
) -> ItemDetail {
    let payload = decode(&entry);
    let verdicts = verdicts
        .into_iter()
        .map(|entry| VerdictDetail { payload: decode(&entry), entry })
        .collect();
    ItemDetail { summary, entry, payload, versions, verdicts, disposed_by }
}

fn corrupt(message: String) -> StoreError {
    StoreError::new(ErrorKind::Corrupt, message)
}

fn payload_value(seq: u64, payload: Option<String>) -> Result<serde_json::Value, StoreError> {
    let payload = payload.ok_or_else(|| corrupt(format!("entry {seq} has no payload")))?;
    parse_canonical(&payload).map_err(|err| corrupt(format!("entry {seq}: {err}")))
}

pub(crate) fn hold_record(
    seq: u64,
    placed_at: &str,
    payload: Option<String>,
    release: Option<(u64, Option<String>)>,
) -> Result<HoldRecord, StoreError> {
    let (hold, query) = hold_from_payload(&payload_value(seq, payload)?).map_err(corrupt)?;
    let released = match release {
        Some((release_seq, payload)) => {
            let value = payload_value(release_seq, payload)?;
            let field = |name: &str| {
                value.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
            };
            Some((release_seq, field("reason"), field("by")))
        }
        None => None,
    };
    let placed_at = parse_time(placed_at).map_err(corrupt)?;
    Ok(HoldRecord { hold, query, placed: seq, placed_at, released })
}

pub(crate) fn holds(payloads: Vec<Option<String>>) -> Result<Vec<Hold>, StoreError> {
    payloads
        .into_iter()
        .map(|payload| {
            let value = payload_value(0, payload)?;
            hold_from_payload(&value).map(|(hold, _)| hold).map_err(corrupt)
        })
        .collect()
}

pub(crate) fn retention_rules(
    payloads: Vec<Option<String>>,
) -> Result<Vec<RetentionRule>, StoreError> {
    let mut rules = Vec::new();
    for payload in payloads {
        if let Some(rule) = retention_from_payload(&payload_value(0, payload)?).map_err(corrupt)? {
            rules.push(rule);
        }
    }
    Ok(rules)
}

/// Builds a candidate from `(item entry, payload, comma-separated verdict entries)` rows.
pub(crate) fn candidate(
    key: String,
    rows: Vec<(u64, Option<String>, Option<String>)>,
) -> Result<DisposalCandidate, StoreError> {
    let mut versions = Vec::with_capacity(rows.len());
    let mut verdicts = Vec::new();
    for (seq, payload, verdict_list) in rows {
        let value = payload_value(seq, payload)?;
        let item = Item::from_json(&value, Timestamp::UNIX_EPOCH)
            .map_err(|err| corrupt(format!("entry {seq}: {err}")))?;
        versions.push((seq, item));
        for verdict in verdict_list.iter().flat_map(|list| list.split(',')) {
            verdicts.push(
                verdict
                    .trim()
                    .parse()
                    .map_err(|_| corrupt(format!("entry {seq}: bad verdict list")))?,
            );
        }
    }
    Ok(DisposalCandidate { key, versions, verdicts })
}

impl DisposalCandidate {
    /// Every entry whose payload a disposition drops: the versions and their verdicts.
    pub fn targets(&self) -> Vec<u64> {
        let mut targets: Vec<u64> = self
            .versions
            .iter()
            .map(|(seq, _)| *seq)
            .chain(self.verdicts.iter().copied())
            .collect();
        targets.sort_unstable();
        targets.dedup();
        targets
    }

    /// What retention and holds decide for this item at `now`.
    pub fn decide(&self, rules: &[RetentionRule], holds: &[Hold], now: Timestamp) -> Retention {
        let facts: Vec<ItemFacts<'_>> = self
            .versions
            .iter()
            .map(|(_, item)| ItemFacts {
                platform: &item.platform,
                account: &item.account,
                author: &item.author,
                author_type: item.author_type,
                kind: item.kind,
                text: &item.text,
                created_at: item.created_at,
                captured_at: item.captured_at,
            })
            .collect();
        disposable(&facts, rules, holds, now)
    }
}

/// The rule and expiry if the candidate may go, or what keeps it.
pub(crate) fn decide(
    candidate: &DisposalCandidate,
    rules: &[RetentionRule],
    holds: &[Hold],
    now: Timestamp,
) -> Result<(String, Timestamp), Disposal> {
    match candidate.decide(rules, holds, now) {
        Retention::Dispose { rule, expired_at } => Ok((rule, expired_at)),
        other => Err(Disposal::Kept(other)),
    }
}

pub(crate) fn check_checkpoint(
    checkpoint: &Checkpoint,
    hash: Option<Hash>,
) -> Result<(), StoreError> {
    match hash {
        None => Err(StoreError::invalid(format!(
            "checkpoint names entry {}, which does not exist",
            checkpoint.seq
        ))),
        Some(hash) if hash != checkpoint.head => Err(StoreError::invalid(format!(
            "checkpoint's head differs from the hash of entry {}",
            checkpoint.seq
        ))),
        Some(_) => Ok(()),
    }
}

pub(crate) fn checkpoint(
    seq: u64,
    head: Vec<u8>,
    signed_at: String,
    key_id: String,
    signature: Vec<u8>,
) -> Result<Checkpoint, StoreError> {
    let signature: [u8; 64] = signature
        .as_slice()
        .try_into()
        .map_err(|_| corrupt(format!("checkpoint at entry {seq}: signature is not 64 bytes")))?;
    Ok(Checkpoint { seq, head: to_hash(head)?, signed_at, key_id, signature })
}

/// An entry number as both databases store it (signed 64 bits).
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A stored entry number; the schema never holds a negative one.
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A stored 32-byte digest.
pub(crate) fn to_hash(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    Hash::try_from(bytes.as_slice()).map_err(|_| {
        StoreError::new(
            ErrorKind::Corrupt,
            format!("a stored hash has {} bytes, not 32", bytes.len()),
        )
    })
}

/// Adds the search filters to a query over `items i` (after a `WHERE`), the same for both
/// databases; the cursor, whose best form differs between them, is left to the caller.
pub(crate) fn push_filters<DB>(builder: &mut QueryBuilder<DB>, f: &Filters)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> &'static str: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    if let Some(platform) = &f.platform {
        builder.push(" AND i.platform = ").push_bind(platform.to_lowercase());
    }
    if let Some(account) = &f.account {
        builder.push(" AND i.account = ").push_bind(account.clone());
    }
    if let Some(author) = &f.author {
        builder.push(" AND i.author = ").push_bind(author.clone());
    }
    if let Some(author_type) = f.author_type {
        builder.push(" AND i.author_type = ").push_bind(author_type.name());
    }
    if let Some(kind) = f.kind {
        builder.push(" AND i.kind = ").push_bind(kind.name());
    }
    if let Some(since) = f.since {
        builder.push(" AND i.sort_at >= ").push_bind(plan::micros(since));
    }
    if let Some(until) = f.until {
        builder.push(" AND i.sort_at < ").push_bind(plan::micros(until));
    }
    if let Some(action) = f.action {
        builder.push(" AND i.action = ").push_bind(action.name());
    }
    match f.has_findings {
        Some(true) => {
            builder.push(" AND i.findings > 0");
        }
        Some(false) => {
            builder.push(" AND i.findings = 0");
        }
        None => {}
    }
    if let Some(category) = &f.category {
        builder
            .push(" AND EXISTS (SELECT 1 FROM findings x WHERE x.item = i.seq AND x.category = ");
        builder.push_bind(category.clone()).push(")");
    }
    if let Some(rule) = &f.rule {
        builder.push(" AND EXISTS (SELECT 1 FROM findings x WHERE x.item = i.seq AND x.rule = ");
        builder.push_bind(rule.clone()).push(")");
    }
}
