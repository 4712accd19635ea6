//! The part of an append both backends share: deciding which items are new versions, edits
//! or repeats, and turning them into chained entries and projection rows. Pure; the backends
//! only read what it needs and insert what it returns.

use std::collections::HashMap;

use jiff::Timestamp;
use lifeguard_core::archive::{
    Change, Checkpoint, Entry, EntryKind, Hash, SigningKey, VerdictTemplate, format_time,
    index_words, payload_hash,
};

use crate::types::{AppendReport, Checked};

/// The versions already archived for one platform item: (digest, entry) pairs.
pub(crate) type Existing = HashMap<(String, String), Vec<(Hash, u64)>>;

pub(crate) struct ItemInsert {
    pub(crate) seq: u64,
    pub(crate) platform: String,
    pub(crate) account: String,
    pub(crate) external_id: String,
    pub(crate) kind: &'static str,
    pub(crate) author: String,
    pub(crate) author_type: &'static str,
    pub(crate) created_at: Option<i64>,
    pub(crate) captured_at: i64,
    pub(crate) sort_at: i64,
    pub(crate) change: &'static str,
    pub(crate) revises: Option<u64>,
    pub(crate) version_digest: Hash,
    pub(crate) action: Option<&'static str>,
    pub(crate) findings: u32,
    /// The text's words as the index sees them.
    pub(crate) words: String,
}

pub(crate) struct VerdictInsert {
    pub(crate) seq: u64,
    pub(crate) item: u64,
}

pub(crate) struct FindingInsert {
    pub(crate) item: u64,
    pub(crate) verdict: u64,
    pub(crate) category: String,
    pub(crate) rule: String,
}

#[derive(Default)]
pub(crate) struct Planned {
    pub(crate) entries: Vec<Entry>,
    pub(crate) items: Vec<ItemInsert>,
    pub(crate) verdicts: Vec<VerdictInsert>,
    pub(crate) findings: Vec<FindingInsert>,
    pub(crate) report: AppendReport,
}

impl Planned {
    /// The chain's head once these entries follow `before`, the head they were planned after.
    pub(crate) fn head_after(&self, before: Option<(u64, Hash)>) -> Option<(u64, Hash)> {
        self.entries.last().map(|entry| (entry.seq, entry.hash)).or(before)
    }

    /// The checkpoint `key` signs over the last of these entries, stored in the same
    /// transaction; none without a key or when the batch added nothing.
    pub(crate) fn checkpoint(
        &self,
        key: Option<&SigningKey>,
        signed_at: Timestamp,
    ) -> Option<Checkpoint> {
        let (key, last) = (key?, self.entries.last()?);
        Some(key.checkpoint(last.seq, last.hash, format_time(signed_at)))
    }
}

/// An item made ready for archiving before any transaction starts: its version digest, its
/// canonical payload (as an original or as given) and that payload's hash, its verdict's
/// payload but for the entry number, and its indexed words. This is most of the work of an
/// append, and it needs no database, so importers do it on their own threads.
#[derive(Debug, Clone)]
pub struct Prepared {
    checked: Checked,
    digest: Hash,
    payload: String,
    payload_hash: Hash,
    verdict: Option<VerdictTemplate>,
    words: String,
}

impl Prepared {
    /// Prepares a checked item.
    pub fn new(checked: Checked) -> Prepared {
        let digest = checked.item.version_digest();
        let payload = checked.item.payload();
        let payload_hash = payload_hash(&payload);
        let verdict = checked.verdict.as_ref().map(VerdictTemplate::new);
        let words = index_words(&checked.item.text);
        Prepared { checked, digest, payload, payload_hash, verdict, words }
    }

    /// The item.
    pub fn item(&self) -> &lifeguard_core::archive::Item {
        &self.checked.item
    }

    /// Its verdict.
    pub fn verdict(&self) -> Option<&lifeguard_core::Verdict> {
        self.checked.verdict.as_ref()
    }
}

/// The platform items a batch touches, for the backend to look up.
pub(crate) fn keys(batch: &[Prepared]) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = batch
        .iter()
        .map(|p| (p.checked.item.platform.clone(), p.checked.item.external_id.clone()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Plans the entries and rows for a batch after `head`, given what is already archived.
pub(crate) fn plan(
    batch: &[Prepared],
    mut existing: Existing,
    head: Option<(u64, Hash)>,
    recorded_at: &str,
) -> Planned {
    let mut planned = Planned::default();
    let mut head = head;
    for prepared in batch {
        let checked = &prepared.checked;
        let source = &checked.item;
        let digest = prepared.digest;
        let key = (source.platform.clone(), source.external_id.clone());
        let versions = existing.entry(key).or_default();
        if versions.iter().any(|(d, _)| *d == digest) {
            planned.report.unchanged += 1;
            continue;
        }
        let latest = versions.iter().map(|(_, seq)| *seq).max();
        let (change, revises) = match (source.change, latest) {
            (Change::Original, Some(latest)) => (Change::Edit, Some(latest)),
            (change, Some(latest)) => (change, Some(latest)),
            (change, None) => (change, None),
        };
        if change != Change::Original {
            planned.report.revisions += 1;
        }
        // The prepared payload holds unless the archive makes this version an edit or
        // a revision of something: then it is encoded again with those facts.
        let entry = if change == source.change && revises == source.revises {
            let payload = prepared.payload.clone();
            Entry::next_hashed(
                head,
                EntryKind::Item,
                recorded_at.to_owned(),
                payload,
                prepared.payload_hash,
            )
        } else {
            let mut item = source.clone();
            item.change = change;
            item.revises = revises;
            Entry::next(head, EntryKind::Item, recorded_at.to_owned(), item.payload())
        };
        let seq = entry.seq;
        head = Some((entry.seq, entry.hash));
        planned.entries.push(entry);
        versions.push((digest, seq));

        let captured_at = micros(source.captured_at);
        let created_at = source.created_at.map(micros);
        let mut insert = ItemInsert {
            seq,
            platform: source.platform.clone(),
            account: source.account.clone(),
            external_id: source.external_id.clone(),
            kind: source.kind.name(),
            author: source.author.clone(),
            author_type: source.author_type.name(),
            created_at,
            captured_at,
            sort_at: created_at.unwrap_or(captured_at),
            change: change.name(),
            revises,
            version_digest: digest,
            action: None,
            findings: 0,
            words: prepared.words.clone(),
        };
        if let (Some(verdict), Some(template)) = (&checked.verdict, &prepared.verdict) {
            let payload = template.payload(seq);
            let entry = Entry::next(head, EntryKind::Verdict, recorded_at.to_owned(), payload);
            head = Some((entry.seq, entry.hash));
            let findings = u32::try_from(verdict.findings.len()).unwrap_or(u32::MAX);
            insert.action = Some(verdict.action.name());
            insert.findings = findings;
            let mut pairs: Vec<(&str, &str)> = verdict
                .findings
                .iter()
                .map(|f| (f.rule.category.as_str(), f.rule.id.as_str()))
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            for (category, rule) in pairs {
                planned.findings.push(FindingInsert {
                    item: seq,
                    verdict: entry.seq,
                    category: category.to_owned(),
                    rule: rule.to_owned(),
                });
            }
            planned.verdicts.push(VerdictInsert { seq: entry.seq, item: seq });
            planned.entries.push(entry);
        }
        planned.items.push(insert);
        planned.report.added += 1;
    }
    planned.report.entries = planned.entries.len() as u64;
    planned.report.head = head.map(|(seq, _)| seq);
    planned
}

/// Microseconds since the Unix epoch: how times are stored for filtering.
pub(crate) fn micros(time: jiff::Timestamp) -> i64 {
    time.as_microsecond()
}

/// The inverse of [`micros`].
pub(crate) fn from_micros(micros: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(micros).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}
