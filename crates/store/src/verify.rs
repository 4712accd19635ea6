//! Verifying a stored archive: the whole chain, every payload, every projection row an item
//! has, and every signed checkpoint, naming the first entry that is wrong.

use std::collections::HashMap;

use lifeguard_core::archive::{
    ChainError, ChainVerifier, CheckpointError, Entry, EntryKind, Hash, Item, VerifyingKey,
    check_entry,
};

use crate::error::StoreError;
use crate::plan::micros;
use crate::types::ItemRow;
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
    /// A row the archive searches and filters on disagrees with the entry it comes from.
    #[error("entry {seq}: {message}")]
    Projection {
        /// The entry.
        seq: u64,
        /// What disagrees.
        message: String,
    },
}

/// Verifies the whole archive. `progress` is called with (entries done, entries in all).
pub async fn verify(
    store: &dyn Store,
    key: &VerifyingKey,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<VerifyReport, VerifyError> {
    let checkpoints: HashMap<u64, _> =
        store.checkpoints().await?.into_iter().map(|c| (c.seq, c)).collect();
    let total = store.head().await?.map_or(0, |(seq, _)| seq);
    let mut chain = ChainVerifier::new();
    let mut report = VerifyReport::default();
    let workers = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, 8);
    // A page's item and audit trail rows (by the range of entry numbers the page holds) are
    // read at the same time as the next page's entries, and both while the previous page is
    // checked on other threads. In a chain with gaps the ranges disagree, but the gap itself is
    // reported first.
    let first = store.entries(1, MAX_PAGE).await?;
    let mut pending = read_page(store, 1, first).await;
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
        for (entry, (chain_check, projection_check)) in entries.iter().zip(own) {
            chain.push_prechecked(entry, false, chain_check)?;
            projection_check?;
            if let Some(checkpoint) = checkpoints.get(&entry.seq) {
                checkpoint.verify_against(key, &entry.hash)?;
                report.checkpoints += 1;
            }
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
    if let Some(highest) = checkpoints.keys().max() {
        let last = report.head.map_or(0, |(seq, _)| seq);
        if *highest > last {
            return Err(ChainError::Truncated { last, expected: *highest }.into());
        }
    }
    Ok(report)
}

type Own = (Result<(), ChainError>, Result<(), VerifyError>);

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
    entries: Vec<Entry>,
) -> Result<(Page, Vec<Entry>), StoreError> {
    let Some(last) = entries.last() else {
        return Ok(((entries, Vec::new(), Vec::new()), Vec::new()));
    };
    let to = last.seq + 1;
    let (rows, actions, next) = tokio::join!(
        store.item_rows(from, to),
        action_rows(store, from, to),
        store.entries(to, MAX_PAGE)
    );
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
        Ok(())
    };
    (chain, projection)
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
    Ok(())
}
