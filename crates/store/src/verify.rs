//! Verifying a stored archive: the whole chain, every payload, every projection row (items,
//! verdicts, findings, holds, hold releases, retention rules, the audit trail) and every signed
//! checkpoint, naming the first entry that is wrong.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use lifeguard_core::archive::{
    ChainError, ChainVerifier, CheckpointError, Entry, EntryKind, Hash, Item, VerifyingKey,
    check_entry,
};

use crate::error::StoreError;
use crate::plan::micros;
use crate::types::{ItemRow, ProjectionRows};
use crate::{AuditFilter, MAX_PAGE, Store};

/// What a successful verification covered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// Item entries whose projection rows were compared.
    pub items: u64,
    /// Entries whose payload was disposed (and accounted for).
    pub disposed: u64,
    /// Signed checkpoints verified.
    pub checkpoints: u64,
    /// Entries after the last checkpoint, which no signature covers yet.
    pub unsigned: u64,
    /// The chain's head.
    pub head: Option<(u64, Hash)>,
}

/// Why an archive does not verify.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VerifyError {
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain is broken.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A checkpoint does not verify.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A checkpoint exists but no key was given to check it with.
    #[error("checkpoint at entry {seq} cannot be checked: no public key was given")]
    NoKey {
        /// The checkpoint's entry.
        seq: u64,
    },
    /// A row the archive searches and filters on disagrees with the entry it comes from.
    #[error("entry {seq}: {message}")]
    Projection {
        /// The entry.
        seq: u64,
        /// What disagrees.
        message: String,
    },
}

/// Verifies the whole archive, its checkpoints with `key` (an archive with checkpoints needs
/// one). `progress` is called with (entries done, entries in all).
pub async fn verify(
    store: &dyn Store,
    key: Option<&VerifyingKey>,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<VerifyReport, VerifyError> {
    let checkpoints: HashMap<u64, _> =
        store.checkpoints().await?.into_iter().map(|c| (c.seq, c)).collect();
    let total = store.head().await?.map_or(0, |(seq, _)| seq);
    let mut chain = ChainVerifier::new();
    let mut report = VerifyReport::default();
    // Item rows not yet matched with the verdict that judged them: (action, findings).
    let mut judged: BTreeMap<u64, (Option<String>, i64)> = BTreeMap::new();
    let workers = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, 8);
    // A page's item and audit trail rows (by the range of entry numbers the page holds) are
    // read at the same time as the next page's entries, and both while the previous page is
    // checked on other threads. In a chain with gaps the ranges disagree, but the gap itself is
    // reported first.
    //
    // The other projection rows are read once, whole, for the entries up to the head read
    // above, which is where verification stops: PostgreSQL keys `verdicts` by item and keeps
    // no index on a finding's verdict, so reading them page by page would scan both tables
    // once a page. A row is committed with its entry, so every entry up to the head has its
    // rows in this read.
    let (projections, first) =
        tokio::join!(store.projection_rows(1, total.saturating_add(1)), store.entries(1, MAX_PAGE));
    let mut projections = Projections::new(projections?);
    let first = first?;
    let mut pending = read_page(store, 1, first, total).await;
    loop {
        let ((entries, rows, actions), next_entries) = pending?;
        let Some(last) = entries.last() else { break };
        let next_from = last.seq + 1;
        let rows: HashMap<u64, ItemRow> = rows.into_iter().map(|row| (row.seq, row)).collect();
        if let Some(stray) = rows.keys().find(|seq| {
            entries
                .binary_search_by_key(*seq, |e| e.seq)
                .map_or(true, |i| entries[i].kind != EntryKind::Item)
        }) {
            return Err(VerifyError::Projection {
                seq: *stray,
                message: "an item row exists for an entry that is not an item".into(),
            });
        }
        // The item rows' verdict columns are compared when their verdict entry comes, which
        // may be on a later page.
        for row in rows.values() {
            judged.insert(row.seq, (row.action.clone(), row.findings));
        }
        let checking = tokio::task::spawn_blocking(move || {
            let own = prechecks(&entries, &rows, workers);
            (entries, own)
        });
        pending = read_page(store, next_from, next_entries, total).await;
        let (entries, own) = checking.await.map_err(|err| {
            StoreError::new(
                crate::ErrorKind::Database,
                format!("a verification thread failed: {err}"),
            )
        })?;
        for (entry, (chain_check, projection_check, expected)) in entries.iter().zip(own) {
            chain.push_prechecked(entry, false, chain_check)?;
            projection_check?;
            if let Some(checkpoint) = checkpoints.get(&entry.seq) {
                let key = key.ok_or(VerifyError::NoKey { seq: entry.seq })?;
                checkpoint.verify_against(key, &entry.hash)?;
                report.checkpoints += 1;
            }
            projections.check(entry, expected, &mut judged)?;
            if entry.kind == EntryKind::Item {
                report.items += 1;
            }
            if entry.payload.is_none() {
                report.disposed += 1;
            }
        }
        check_actions(&entries, &actions)?;
        report.entries += entries.len() as u64;
        progress(report.entries, total);
    }
    report.head = chain.finish()?;
    let last = report.head.map_or(0, |(seq, _)| seq);
    let highest = checkpoints.keys().max().copied().unwrap_or(0);
    if highest > last {
        return Err(ChainError::Truncated { last, expected: highest }.into());
    }
    projections.leftover(total)?;
    if let Some((seq, _)) =
        judged.iter().find(|(_, (action, findings))| action.is_some() || *findings != 0)
    {
        return Err(VerifyError::Projection {
            seq: *seq,
            message: "the item row names a verdict, but no verdict entry judged the item".into(),
        });
    }
    report.unsigned = last - highest;
    Ok(report)
}

type Own = (Result<(), ChainError>, Result<(), VerifyError>, Expected);

/// What an entry's payload says its projection rows hold.
#[derive(Debug, Default)]
enum Expected {
    /// Nothing to compare: an item (compared on its own), an action, a disposed payload.
    #[default]
    Nothing,
    /// A verdict: the item judged, its action, its number of findings, and its (category, rule)
    /// pairs, sorted and without repeats.
    Verdict { item: u64, action: String, findings: i64, pairs: Vec<(String, String)> },
    /// A hold, hold release or retention rule, by id.
    Record(String),
}

/// A page of entries with its item rows and the entry numbers of its audit trail rows.
type Page = (Vec<Entry>, Vec<ItemRow>, Vec<u64>);

/// A page: `entries` (read from `from` on), their item rows and audit trail rows, and the
/// entries after them, the three read at the same time. The rows are read after the entries
/// and only up to the last one: a row is committed with its entry, so every entry read has its
/// rows visible, and the rows of entries appended meanwhile (the archive may be in use) wait
/// for the next page.
async fn read_page(
    store: &dyn Store,
    from: u64,
    mut entries: Vec<Entry>,
    through: u64,
) -> Result<(Page, Vec<Entry>), StoreError> {
    entries.retain(|e| e.seq <= through);
    let Some(last) = entries.last() else {
        return Ok(((entries, Vec::new(), Vec::new()), Vec::new()));
    };
    let to = last.seq + 1;
    let next = async {
        if last.seq < through { store.entries(to, MAX_PAGE).await } else { Ok(Vec::new()) }
    };
    let (rows, actions, next) =
        tokio::join!(store.item_rows(from, to), action_rows(store, from, to), next);
    Ok(((entries, rows?, actions?), next?))
}

/// The entry numbers of the audit trail's rows with `from <= seq < to`, newest first. Reading
/// them through the trail itself also checks each row against its entry's payload.
async fn action_rows(store: &dyn Store, from: u64, to: u64) -> Result<Vec<u64>, StoreError> {
    const LIMIT: u32 = 1_000;
    let mut seqs = Vec::new();
    let mut filter = AuditFilter { before: Some(to), limit: LIMIT, ..AuditFilter::default() };
    loop {
        let page = store.audit_trail(&filter).await?;
        for entry in &page {
            if entry.seq < from {
                return Ok(seqs);
            }
            seqs.push(entry.seq);
        }
        match page.last() {
            Some(last) if page.len() == LIMIT as usize => filter.before = Some(last.seq),
            _ => return Ok(seqs),
        }
    }
}

/// Every action entry of a page has its row in the audit trail, and no other entry has one.
fn check_actions(entries: &[Entry], actions: &[u64]) -> Result<(), VerifyError> {
    let listed: std::collections::HashSet<u64> = actions.iter().copied().collect();
    if let Some(entry) =
        entries.iter().find(|e| e.kind == EntryKind::Action && !listed.contains(&e.seq))
    {
        return Err(VerifyError::Projection {
            seq: entry.seq,
            message: "the action has no row in the audit trail".into(),
        });
    }
    if let Some(stray) = actions.iter().rev().find(|seq| {
        entries
            .binary_search_by_key(*seq, |e| e.seq)
            .map_or(true, |i| entries[i].kind != EntryKind::Action)
    }) {
        return Err(VerifyError::Projection {
            seq: *stray,
            message: "an audit trail row exists for an entry that is not an action".into(),
        });
    }
    Ok(())
}

/// The per-entry checks of a page, split over `workers` threads, in entry order.
fn prechecks(entries: &[Entry], rows: &HashMap<u64, ItemRow>, workers: usize) -> Vec<Own> {
    let chunk = entries.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().map(|entry| own_checks(entry, rows)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().unwrap_or_default()).collect()
    })
}

fn own_checks(entry: &Entry, rows: &HashMap<u64, ItemRow>) -> Own {
    let chain = check_entry(entry, false);
    let expected = match (&entry.payload, chain.is_ok()) {
        (Some(payload), true) => expected(entry, payload),
        _ => Ok(Expected::Nothing),
    };
    let (expected, malformed) = match expected {
        Ok(expected) => (expected, Ok(())),
        Err(err) => (Expected::Nothing, Err(err)),
    };
    let projection = if entry.kind == EntryKind::Item {
        match (rows.get(&entry.seq), &entry.payload) {
            (None, _) => Err(VerifyError::Projection {
                seq: entry.seq,
                message: "the item has no row in the search tables".into(),
            }),
            (Some(row), Some(payload)) if chain.is_ok() => compare(entry.seq, payload, row),
            (Some(_), _) => Ok(()),
        }
    } else {
        malformed
    };
    (chain, projection, expected)
}

/// What the payload of a verdict, hold, hold release or retention entry says its rows hold.
fn expected(entry: &Entry, payload: &str) -> Result<Expected, VerifyError> {
    let seq = entry.seq;
    let malformed =
        |what: &str| VerifyError::Projection { seq, message: format!("payload: {what}") };
    if !matches!(
        entry.kind,
        EntryKind::Verdict | EntryKind::Hold | EntryKind::HoldRelease | EntryKind::Retention
    ) {
        return Ok(Expected::Nothing);
    }
    // Typed and borrowed: one of these is read for every item, so no `Value` tree is built.
    #[derive(serde::Deserialize)]
    struct Record<'a> {
        #[serde(borrow)]
        id: Cow<'a, str>,
    }
    #[derive(serde::Deserialize)]
    struct Verdict<'a> {
        item: u64,
        #[serde(borrow)]
        action: Cow<'a, str>,
        #[serde(borrow)]
        findings: Vec<Finding<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Finding<'a> {
        #[serde(borrow)]
        category: Cow<'a, str>,
        #[serde(borrow)]
        rule: Cow<'a, str>,
    }
    if entry.kind != EntryKind::Verdict {
        let record: Record<'_> =
            serde_json::from_str(payload).map_err(|err| malformed(&err.to_string()))?;
        return Ok(Expected::Record(record.id.into_owned()));
    }
    let verdict: Verdict<'_> =
        serde_json::from_str(payload).map_err(|err| malformed(&err.to_string()))?;
    let findings = i64::try_from(verdict.findings.len()).unwrap_or(i64::MAX);
    let mut pairs: Vec<(String, String)> = verdict
        .findings
        .into_iter()
        .map(|f| (f.category.into_owned(), f.rule.into_owned()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    Ok(Expected::Verdict {
        item: verdict.item,
        action: verdict.action.into_owned(),
        findings,
        pairs,
    })
}

fn stray(seq: u64, table: &str) -> VerifyError {
    VerifyError::Projection {
        seq,
        message: format!("a row in `{table}` exists for an entry that is not of its kind"),
    }
}

/// The archive's verdict, finding, hold, hold release and retention rule rows, each taken out
/// when the entry it projects is checked against it. A row whose entry is of another kind, or
/// that is left when every entry was checked, is an error too: reads of holds and findings
/// trust these tables, so a row added by hand (say, a hold release no one recorded) must be
/// caught like a row changed or removed.
struct Projections {
    verdicts: HashMap<u64, u64>,
    findings: HashMap<u64, Vec<(u64, String, String)>>,
    /// Every hold, hold release and retention rule row of an entry number (one, normally).
    records: HashMap<u64, Vec<(EntryKind, String)>>,
    /// Verdict rows for an entry number that is already taken.
    repeated: BTreeMap<u64, &'static str>,
}

fn table_of(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Hold => "holds",
        EntryKind::HoldRelease => "hold_releases",
        _ => "retention_rules",
    }
}

impl Projections {
    fn new(rows: ProjectionRows) -> Projections {
        let mut repeated = BTreeMap::new();
        let mut verdicts = HashMap::with_capacity(rows.verdicts.len());
        for (seq, item) in rows.verdicts {
            if verdicts.insert(seq, item).is_some() {
                repeated.entry(seq).or_insert("verdicts");
            }
        }
        let mut findings: HashMap<u64, Vec<(u64, String, String)>> = HashMap::new();
        for (verdict, item, category, rule) in rows.findings {
            findings.entry(verdict).or_default().push((item, category, rule));
        }
        let mut records: HashMap<u64, Vec<(EntryKind, String)>> =
            HashMap::with_capacity(rows.records.len());
        for (seq, kind, id) in rows.records {
            records.entry(seq).or_default().push((kind, id));
        }
        Projections { verdicts, findings, records, repeated }
    }

    /// The first row left once every entry up to `last` was checked: one whose entry is
    /// missing. (Rows of entries appended after `last` are not this verification's.)
    fn leftover(&self, last: u64) -> Result<(), VerifyError> {
        let first =
            [
                self.verdicts.keys().filter(|s| **s <= last).min().map(|s| (*s, "verdicts")),
                self.findings.keys().filter(|s| **s <= last).min().map(|s| (*s, "findings")),
                self.records.iter().filter(|(s, _)| **s <= last).min_by_key(|(s, _)| **s).map(
                    |(s, rows)| (*s, rows.first().map_or("holds", |(kind, _)| table_of(*kind))),
                ),
            ]
            .into_iter()
            .flatten()
            .min();
        match first {
            Some((seq, table)) => Err(stray(seq, table)),
            None => Ok(()),
        }
    }

    /// A row in another kind's table for `entry`.
    fn foreign_row(&self, entry: &Entry) -> Option<&'static str> {
        let seq = entry.seq;
        if entry.kind != EntryKind::Verdict {
            if self.verdicts.contains_key(&seq) {
                return Some("verdicts");
            }
            if self.findings.contains_key(&seq) {
                return Some("findings");
            }
        }
        let rows = self.records.get(&seq)?;
        if let Some((kind, _)) = rows.iter().find(|(kind, _)| *kind != entry.kind) {
            return Some(table_of(*kind));
        }
        (rows.len() > 1).then(|| table_of(entry.kind))
    }

    /// Compares `entry`'s rows with what its payload says, and a verdict's with the item row
    /// it judged (taken out of `judged`).
    fn check(
        &mut self,
        entry: &Entry,
        expected: Expected,
        judged: &mut BTreeMap<u64, (Option<String>, i64)>,
    ) -> Result<(), VerifyError> {
        let seq = entry.seq;
        if let Some(table) = self.repeated.remove(&seq).or_else(|| self.foreign_row(entry)) {
            return Err(stray(seq, table));
        }
        let wrong = |message: &str| VerifyError::Projection { seq, message: message.to_owned() };
        match entry.kind {
            EntryKind::Verdict => {
                let item = self
                    .verdicts
                    .remove(&seq)
                    .ok_or_else(|| wrong("the verdict has no row in `verdicts`"))?;
                let mut rows = self.findings.remove(&seq).unwrap_or_default();
                let Expected::Verdict { item: judged_item, action, findings, pairs } = expected
                else {
                    // A disposed verdict: its rows can no longer be compared, but its item's
                    // row is accounted for.
                    judged.remove(&item);
                    return Ok(());
                };
                if item != judged_item {
                    return Err(wrong("the `verdicts` row names another item than the entry"));
                }
                if rows.iter().any(|(row_item, _, _)| *row_item != item) {
                    return Err(wrong("a `findings` row names another item than the verdict"));
                }
                rows.sort_unstable();
                let found: Vec<(String, String)> =
                    rows.into_iter().map(|(_, category, rule)| (category, rule)).collect();
                if found != pairs {
                    return Err(wrong("the `findings` rows differ from the verdict's findings"));
                }
                // The item row holds the first verdict given; a later one leaves it alone.
                if let Some((row_action, row_findings)) = judged.remove(&item)
                    && (row_action.as_deref() != Some(action.as_str()) || row_findings != findings)
                {
                    return Err(VerifyError::Projection {
                        seq: item,
                        message: format!(
                            "the item row's verdict columns differ from verdict entry {seq}"
                        ),
                    });
                }
                Ok(())
            }
            EntryKind::Hold | EntryKind::HoldRelease | EntryKind::Retention => {
                let row = self.records.remove(&seq).and_then(|rows| rows.into_iter().next());
                match (row, expected) {
                    (None, _) => Err(wrong("the entry has no row in its table")),
                    (Some((_, id)), Expected::Record(expected)) if id != expected => {
                        Err(wrong("the row's id differs from the entry's"))
                    }
                    (Some(_), _) => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

fn compare(seq: u64, payload: &str, row: &ItemRow) -> Result<(), VerifyError> {
    let differs = |field: &str| VerifyError::Projection {
        seq,
        message: format!("the item row's `{field}` differs from the archived entry"),
    };
    // The payload's hash was checked already, so it is what was archived; plain parsing is enough.
    let value: serde_json::Value = serde_json::from_str(payload)
        .map_err(|err| VerifyError::Projection { seq, message: err.to_string() })?;
    let item = Item::from_json(&value, jiff::Timestamp::UNIX_EPOCH)
        .map_err(|err| VerifyError::Projection { seq, message: format!("payload: {err}") })?;
    if item.platform != row.platform {
        return Err(differs("platform"));
    }
    if item.account != row.account {
        return Err(differs("account"));
    }
    if item.external_id != row.external_id {
        return Err(differs("external_id"));
    }
    if item.kind.name() != row.kind {
        return Err(differs("kind"));
    }
    if item.author != row.author {
        return Err(differs("author"));
    }
    if item.author_type.name() != row.author_type {
        return Err(differs("author_type"));
    }
    if item.created_at.map(micros) != row.created_at {
        return Err(differs("created_at"));
    }
    if micros(item.captured_at) != row.captured_at {
        return Err(differs("captured_at"));
    }
    if item.change.name() != row.change {
        return Err(differs("change"));
    }
    if item.revises != row.revises {
        return Err(differs("revises"));
    }
    if item.version_digest() != row.version_digest {
        return Err(differs("version_digest"));
    }
    if item.created_at.map_or(micros(item.captured_at), micros) != row.sort_at {
        return Err(differs("sort_at"));
    }
    if row.indexed == Some(false) {
        return Err(VerifyError::Projection {
            seq,
            message: "the item's words are missing from the search index".into(),
        });
    }
    Ok(())
}
