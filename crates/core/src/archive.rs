//! The archive's record, kept pure: what an archived interaction is, its canonical encoding,
//! the hash chain over every entry, signed checkpoints, search queries, and the retention and
//! legal-hold rules that decide what may be disposed.
//!
//! The byte-level format is specified in `docs/archive-format.md`; anything that changes the
//! bytes of an encoding must bump [`FORMAT_VERSION`] and keep the old version verifiable.

mod admin;
mod audit;
mod canonical;
mod chain;
mod checkpoint;
mod query;
mod record;
mod retention;

pub use admin::{
    disposition_payload, hold_from_payload, hold_payload, hold_release_payload,
    retention_from_payload, retention_payload,
};
pub use audit::{AuditRecord, MAX_AUDIT_NAME};
pub use canonical::{
    CanonicalError, canonical_json, parse_canonical, parse_strict, parse_unique_keys,
};
pub use chain::{
    ChainError, ChainVerifier, Entry, EntryKind, GENESIS, Hash, check_entry, entry_hash, hex,
    parse_hex, payload_hash,
};
pub use checkpoint::{Checkpoint, CheckpointError, SigningKey, VerifyingKey, key_id};
pub use query::{
    MAX_QUERY, MAX_TERMS, Query, QueryError, Term, fold_final_sigma, index_words, sigma_spellings,
    tokens,
};
pub use record::{
    Change, ITEM_FIELDS, Item, ItemError, MAX_LINKS, MAX_MEDIA, MAX_NAME, MAX_PLATFORM, MAX_RAW,
    MAX_TEXT, Media, VerdictRecord, VerdictTemplate, format_time, parse_time, verdict_payload,
};
pub use retention::{
    Hold, HoldScope, ItemFacts, Keep, Retention, RetentionError, RetentionRule, disposable,
};

/// The version of the canonical encodings and of the chain's hash input. Written into every
/// payload (`"v"`) and into every entry hash, so a later format can coexist with this one.
pub const FORMAT_VERSION: u32 = 1;

#[cfg(test)]
mod tests;
