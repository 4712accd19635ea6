//! The hash chain: every archive entry commits to the one before it.
//!
//! An entry's hash is SHA-256 over one line-separated text (see `docs/archive-format.md`):
//! the format tag, the sequence number, the kind, the time it was recorded, the previous
//! entry's hash and the SHA-256 of its canonical payload. The payload enters only through its
//! hash, so disposing of content (dropping the payload) leaves the chain verifiable.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::canonical::parse_canonical;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The `prev` of the first entry: 32 zero bytes.
pub const GENESIS: Hash = [0; 32];

/// What an entry records. The names are part of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    /// An interaction (post, reply, message, profile text, an edit or a deletion of one).
    Item,
    /// The verdict a policy version gave an item when it was archived.
    Verdict,
    /// The removal of an expired item's content, keeping its hashes.
    Disposition,
    /// A legal hold placed.
    Hold,
    /// A legal hold released.
    HoldRelease,
    /// A retention rule set or replaced.
    Retention,
    /// A decision or administrative action recorded by a later feature.
    Action,
}

impl EntryKind {
    /// Every kind.
    pub const ALL: [EntryKind; 7] = [
        EntryKind::Item,
        EntryKind::Verdict,
        EntryKind::Disposition,
        EntryKind::Hold,
        EntryKind::HoldRelease,
        EntryKind::Retention,
        EntryKind::Action,
    ];

    /// The name written into the hash input and the exports.
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Item => "item",
            EntryKind::Verdict => "verdict",
            EntryKind::Disposition => "disposition",
            EntryKind::Hold => "hold",
            EntryKind::HoldRelease => "hold_release",
            EntryKind::Retention => "retention",
            EntryKind::Action => "action",
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EntryKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntryKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| format!("unknown entry kind `{s}`"))
    }
}

/// One link of the chain as stored. `payload` is `None` once the content was disposed of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// What the entry records.
    pub kind: EntryKind,
    /// When the archive recorded it, in the archive's time format.
    pub recorded_at: String,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev: Hash,
    /// SHA-256 of the canonical payload.
    pub payload_hash: Hash,
    /// This entry's hash.
    pub hash: Hash,
    /// The canonical payload, or `None` when disposed of.
    pub payload: Option<String>,
}

impl Entry {
    /// Builds the entry that follows `prev` (hash and sequence number) for a canonical payload.
    pub fn next(
        prev: Option<(u64, Hash)>,
        kind: EntryKind,
        recorded_at: String,
        payload: String,
    ) -> Entry {
        let payload_hash = payload_hash(&payload);
        Entry::next_hashed(prev, kind, recorded_at, payload, payload_hash)
    }

    /// [`Entry::next`] for a payload whose hash is known already (computed off the writer's
    /// path); `payload_hash` must be [`payload_hash`] of `payload`.
    pub fn next_hashed(
        prev: Option<(u64, Hash)>,
        kind: EntryKind,
        recorded_at: String,
        payload: String,
        payload_hash: Hash,
    ) -> Entry {
        debug_assert_eq!(payload_hash, self::payload_hash(&payload));
        let (seq, prev) = match prev {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, GENESIS),
        };
        let hash = entry_hash(seq, kind, &recorded_at, &prev, &payload_hash);
        Entry { seq, kind, recorded_at, prev, payload_hash, hash, payload: Some(payload) }
    }
}

/// SHA-256 of a payload's bytes.
pub fn payload_hash(payload: &str) -> Hash {
    Sha256::digest(payload.as_bytes()).into()
}

/// The hash of an entry: SHA-256 over
/// `lifeguard-entry-v1\n{seq}\n{kind}\n{recorded_at}\n{prev hex}\n{payload hash hex}`.
pub fn entry_hash(
    seq: u64,
    kind: EntryKind,
    recorded_at: &str,
    prev: &Hash,
    payload_hash: &Hash,
) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(b"lifeguard-entry-v1\n");
    hasher.update(seq.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(kind.name().as_bytes());
    hasher.update(b"\n");
    hasher.update(recorded_at.as_bytes());
    hasher.update(b"\n");
    hasher.update(hex(prev).as_bytes());
    hasher.update(b"\n");
    hasher.update(hex(payload_hash).as_bytes());
    hasher.finalize().into()
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// Parses 64 hexadecimal digits (either case) into a hash.
pub fn parse_hex(text: &str) -> Option<Hash> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        out[i] = u8::try_from(high * 16 + low).ok()?;
    }
    Some(out)
}

/// The first thing wrong with a chain, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A sequence number is missing, repeated or out of order: entries were deleted or moved.
    #[error(
        "entry {found}: expected entry {expected} here (entries missing, repeated or reordered)"
    )]
    Sequence {
        /// The sequence number that should come next.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// The entry does not name its predecessor's hash.
    #[error("entry {seq}: its `prev` does not match the hash of entry {}", seq - 1)]
    Link {
        /// The entry.
        seq: u64,
    },
    /// Recomputing the entry's hash gives another value: its kind, time or hashes changed.
    #[error("entry {seq}: stored hash does not match its contents")]
    Hash {
        /// The entry.
        seq: u64,
    },
    /// The payload no longer hashes to the recorded payload hash: the content was altered.
    #[error("entry {seq}: payload does not match its recorded SHA-256 (content altered)")]
    Payload {
        /// The entry.
        seq: u64,
    },
    /// The payload is not canonical JSON.
    #[error("entry {seq}: payload is not canonical: {reason}")]
    Encoding {
        /// The entry.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// A payload is gone but no disposition entry accounts for it.
    #[error("entry {seq}: payload is missing and no disposition entry records its removal")]
    Unaccounted {
        /// The entry.
        seq: u64,
    },
    /// The chain ends before an entry it is expected to reach (a signed checkpoint, say).
    #[error("chain ends at entry {last} but must reach entry {expected}")]
    Truncated {
        /// The last entry present.
        last: u64,
        /// The entry it must reach.
        expected: u64,
    },
}

/// The checks of one entry that need no other entry: its stored hash recomputed, its payload
/// against the recorded payload hash, and (with `canonical`) the payload's canonical form.
/// They are independent across entries, so a verifier may run them in parallel and feed the
/// results to [`ChainVerifier::push_prechecked`] in order.
///
/// An archive's own payloads were canonical when they were hashed, so a matching hash proves
/// them unchanged; the form is re-checked where bytes come from outside (export bundles).
pub fn check_entry(entry: &Entry, canonical: bool) -> Result<(), ChainError> {
    let recomputed =
        entry_hash(entry.seq, entry.kind, &entry.recorded_at, &entry.prev, &entry.payload_hash);
    if recomputed != entry.hash {
        return Err(ChainError::Hash { seq: entry.seq });
    }
    if let Some(payload) = &entry.payload {
        if payload_hash(payload) != entry.payload_hash {
            return Err(ChainError::Payload { seq: entry.seq });
        }
        if canonical {
            parse_canonical(payload)
                .map_err(|err| ChainError::Encoding { seq: entry.seq, reason: err.to_string() })?;
        }
    }
    Ok(())
}

/// Checks entries fed in order, from any starting point whose predecessor is known.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last: Option<(u64, Hash)>,
    /// Entries whose payload is gone, with the payload hash they record.
    missing_payloads: BTreeMap<u64, Hash>,
    /// What disposition entries name: an earlier entry and the payload hash it had.
    disposed: BTreeSet<(u64, Hash)>,
    count: u64,
}

impl ChainVerifier {
    /// A verifier for a chain that starts at entry 1.
    pub fn new() -> ChainVerifier {
        ChainVerifier::after(None)
    }

    /// A verifier for a segment whose first entry follows `prev` (sequence number and hash).
    pub fn after(prev: Option<(u64, Hash)>) -> ChainVerifier {
        ChainVerifier {
            last: prev,
            missing_payloads: BTreeMap::new(),
            disposed: BTreeSet::new(),
            count: 0,
        }
    }

    /// Checks the next entry. Payloads are checked for their hash and canonical form; a
    /// missing payload must be accounted for by a disposition entry (see [`Self::finish`]).
    pub fn push(&mut self, entry: &Entry) -> Result<(), ChainError> {
        self.check(entry, false)
    }

    /// Checks the next entry of an export that left its payload out on purpose (it did not
    /// match the export's filters): only its place in the chain is checked.
    pub fn push_omitted(&mut self, entry: &Entry) -> Result<(), ChainError> {
        self.check(entry, true)
    }

    fn check(&mut self, entry: &Entry, omitted: bool) -> Result<(), ChainError> {
        let own = check_entry(entry, true);
        self.push_prechecked(entry, omitted, own)
    }

    /// Takes the next entry whose own checks ([`check_entry`]) were made elsewhere, perhaps on
    /// another thread, with their result: checks its place in the chain first, then reports
    /// the precomputed result, so the first bad entry is named just as [`Self::push`] would.
    pub fn push_prechecked(
        &mut self,
        entry: &Entry,
        omitted: bool,
        own: Result<(), ChainError>,
    ) -> Result<(), ChainError> {
        let (expected, prev) = match self.last {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, GENESIS),
        };
        if entry.seq != expected {
            return Err(ChainError::Sequence { expected, found: entry.seq });
        }
        if entry.prev != prev {
            return Err(ChainError::Link { seq: entry.seq });
        }
        own?;
        match &entry.payload {
            Some(payload) if entry.kind == EntryKind::Disposition => {
                let value = parse_canonical(payload).map_err(|err| ChainError::Encoding {
                    seq: entry.seq,
                    reason: err.to_string(),
                })?;
                self.note_disposition(entry.seq, &value);
            }
            Some(_) => {}
            None if omitted => {}
            None => {
                self.missing_payloads.insert(entry.seq, entry.payload_hash);
            }
        }
        self.last = Some((entry.seq, entry.hash));
        self.count += 1;
        Ok(())
    }

    /// Notes the entries a disposition at `at` names. Only earlier entries count, and only with
    /// the payload hash they record: a disposition cannot account for what it never saw.
    fn note_disposition(&mut self, at: u64, value: &serde_json::Value) {
        let targets = value.get("entries").and_then(|e| e.as_array());
        for target in targets.into_iter().flatten() {
            let seq = target.get("seq").and_then(|s| s.as_u64());
            let hash = target.get("payload_sha256").and_then(|h| h.as_str()).and_then(parse_hex);
            if let (Some(seq), Some(hash)) = (seq, hash)
                && seq < at
            {
                self.disposed.insert((seq, hash));
            }
        }
    }

    /// Ends the check: every missing payload must be accounted for by a later disposition
    /// entry naming the entry and its payload hash. Returns the last entry's sequence number
    /// and hash, if any entry was seen.
    pub fn finish(self) -> Result<Option<(u64, Hash)>, ChainError> {
        let unaccounted = self
            .missing_payloads
            .iter()
            .find(|(seq, hash)| !self.disposed.contains(&(**seq, **hash)));
        if let Some((seq, _)) = unaccounted {
            return Err(ChainError::Unaccounted { seq: *seq });
        }
        Ok(self.last)
    }

    /// How many entries were checked.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The last entry checked (sequence number and hash).
    pub fn head(&self) -> Option<(u64, Hash)> {
        self.last
    }
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier::new()
    }
}
