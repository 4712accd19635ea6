//! Verifying a stored archive: the whole chain, every payload, every projection row an item
//! has, and every signed checkpoint, naming the first entry that is wrong.

use std::collections::HashMap;

use lifeguard_core::archive::{
    ChainError, ChainVerifier, CheckpointError, EntryKind, Hash, Item, VerifyingKey,
    parse_canonical,
};

use crate::error::StoreError;
use crate::plan::micros;
use crate::types::ItemRow;
use crate::{MAX_PAGE, Store};

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
    let mut from = 1;
    loop {
        let entries = store.entries(from, MAX_PAGE).await?;
        let Some(last) = entries.last() else { break };
        let to = last.seq + 1;
        let rows = store.item_rows(from, to).await?;
        let mut rows = rows.into_iter().peekable();
        for entry in &entries {
            chain.push(entry)?;
            if let Some(checkpoint) = checkpoints.get(&entry.seq) {
                checkpoint.verify_against(key, &entry.hash)?;
                report.checkpoints += 1;
            }
            if let Some(row) = rows.next_if(|row| row.seq < entry.seq) {
                return Err(VerifyError::Projection {
                    seq: row.seq,
                    message: "an item row exists for an entry that is not an item".into(),
                });
            }
            if entry.kind == EntryKind::Item {
                let row = rows.next_if(|row| row.seq == entry.seq).ok_or_else(|| {
                    VerifyError::Projection {
                        seq: entry.seq,
                        message: "the item has no row in the search tables".into(),
                    }
                })?;
                match &entry.payload {
                    Some(payload) => compare(entry.seq, payload, &row)?,
                    None => report.disposed += 1,
                }
                report.items += 1;
            } else if entry.payload.is_none() {
                report.disposed += 1;
            }
        }
        if let Some(row) = rows.next() {
            return Err(VerifyError::Projection {
                seq: row.seq,
                message: "an item row exists for an entry that is not an item".into(),
            });
        }
        report.entries += entries.len() as u64;
        progress(report.entries, total);
        from = to;
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

fn compare(seq: u64, payload: &str, row: &ItemRow) -> Result<(), VerifyError> {
    let differs = |field: &str| VerifyError::Projection {
        seq,
        message: format!("the item row's `{field}` differs from the archived entry"),
    };
    let value = parse_canonical(payload)
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
