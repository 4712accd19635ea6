//! Verifying a stored archive: the whole chain, every payload, every projection row an item
//! has, and every signed checkpoint, naming the first entry that is wrong.

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
    let first = store.entries(1, MAX_PAGE).await?;
    let mut pending = read_page(store, 1, first).await;
    loop {
        let ((entries, rows, actions, projections), next_entries) = pending?;
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
        pending = read_page(store, next_from, next_entries).await;
        let (entries, own) = checking.await.map_err(|err| {
            StoreError::new(
                crate::ErrorKind::Database,
                format!("a verification thread failed: {err}"),
            )
        })?;
        let mut projections = Projections::new(&entries, projections);
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
        projections.leftover()?;
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

/// A page of entries with its item rows, the entry numbers of its audit trail rows and its
/// other projection rows.
type Page = (Vec<Entry>, Vec<ItemRow>, Vec<u64>, ProjectionRows);

/// A page: `entries` (read from `from` on), their item rows and audit trail rows, and the
/// entries after them, the three read at the same time. The rows are read after the entries
/// and only up to the last one: a row is committed with its entry, so every entry read has its
/// rows visible, and the rows of entries appended meanwhile (the archive may be in use) wait
/// for the next page.
async fn read_page(
    store: &dyn Store,
    from: u64,
    entries: Vec<Entry>,
) -> Result<(Page, Vec<Entry>), StoreError> {
    let Some(last) = entries.last() else {
        return Ok(((entries, Vec::new(), Vec::new(), ProjectionRows::default()), Vec::new()));
    };
    let to = last.seq + 1;
    let (rows, actions, projections, next) = tokio::join!(
        store.item_rows(from, to),
        action_rows(store, from, to),
        store.projection_rows(from, to),
        store.entries(to, MAX_PAGE)
    );
    Ok(((entries, rows?, actions?, projections?), next?))
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
    let value: serde_json::Value =
        serde_json::from_str(payload).map_err(|err| malformed(&err.to_string()))?;
    let text = |field: &str| {
        value
            .get(field)
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| malformed(&format!("`{field}` missing")))
    };
    if entry.kind != EntryKind::Verdict {
        return Ok(Expected::Record(text("id")?.to_owned()));
    }
    let item = value
        .get("item")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| malformed("`item` missing"))?;
    let findings = value
        .get("findings")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| malformed("`findings` missing"))?;
    let mut pairs = Vec::with_capacity(findings.len());
    for finding in findings {
        let field = |name: &str| {
            finding
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| malformed(&format!("a finding's `{name}` missing")))
        };
        pairs.push((field("category")?, field("rule")?));
    }
    pairs.sort_unstable();
    pairs.dedup();
    Ok(Expected::Verdict {
        item,
        action: text("action")?.to_owned(),
        findings: i64::try_from(findings.len()).unwrap_or(i64::MAX),
        pairs,
    })
}

fn stray(seq: u64, table: &str) -> VerifyError {
    VerifyError::Projection {
        seq,
        message: format!("a row in `{table}` exists for an entry that is not of its kind"),
    }
}

/// A page's verdict, finding, hold, hold release and retention rule rows, checked entry by
/// entry against what the payloads say. Each row must belong to an entry of its own kind on
/// the page: a row added by hand (say, a hold release no one recorded) is caught like a row
/// changed or removed, since every read of holds and findings trusts these tables.
struct Projections {
    verdicts: HashMap<u64, u64>,
    findings: HashMap<u64, Vec<(u64, String, String)>>,
    records: HashMap<u64, (EntryKind, String)>,
    /// Rows whose entry is missing or of another kind, by entry number, reported in entry order
    /// once the chain up to there has verified (a deleted entry is named as such first).
    strays: BTreeMap<u64, &'static str>,
}

impl Projections {
    fn new(entries: &[Entry], rows: ProjectionRows) -> Projections {
        let kind_of =
            |seq: u64| entries.binary_search_by_key(&seq, |e| e.seq).ok().map(|i| entries[i].kind);
        let mut strays = BTreeMap::new();
        let mut verdicts = HashMap::with_capacity(rows.verdicts.len());
        for (seq, item) in rows.verdicts {
            if kind_of(seq) != Some(EntryKind::Verdict) || verdicts.insert(seq, item).is_some() {
                strays.entry(seq).or_insert("verdicts");
            }
        }
        let mut findings: HashMap<u64, Vec<(u64, String, String)>> = HashMap::new();
        for (verdict, item, category, rule) in rows.findings {
            if kind_of(verdict) != Some(EntryKind::Verdict) {
                strays.entry(verdict).or_insert("findings");
            }
            findings.entry(verdict).or_default().push((item, category, rule));
        }
        let mut records = HashMap::with_capacity(rows.records.len());
        for (seq, kind, id) in rows.records {
            if kind_of(seq) != Some(kind) || records.insert(seq, (kind, id)).is_some() {
                let table = match kind {
                    EntryKind::Hold => "holds",
                    EntryKind::HoldRelease => "hold_releases",
                    _ => "retention_rules",
                };
                strays.entry(seq).or_insert(table);
            }
        }
        Projections { verdicts, findings, records, strays }
    }

    /// The first row left over once every entry of the page was checked.
    fn leftover(&self) -> Result<(), VerifyError> {
        match self.strays.first_key_value() {
            Some((seq, table)) => Err(stray(*seq, table)),
            None => Ok(()),
        }
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
        if let Some(table) = self.strays.remove(&seq) {
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
                let row = self.records.remove(&seq);
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
