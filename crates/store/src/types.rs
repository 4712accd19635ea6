//! What goes in and out of a [`crate::Store`].

use jiff::Timestamp;
use lifeguard_core::archive::{Change, Entry, Hash, Hold, Item, Query};
use lifeguard_core::{Action, AuthorType, ContentKind, Engine, Verdict};

use crate::error::StoreError;

/// An item with the verdict the engine gave it on the way in (`None` for a deletion without
/// text, which has nothing to check).
#[derive(Debug, Clone)]
pub struct Checked {
    /// The interaction.
    pub item: Item,
    /// Its verdict.
    pub verdict: Option<Verdict>,
}

impl Checked {
    /// Checks an item on its way into the archive, as every way in (import, API, demo) does.
    /// A deletion is checked like any other item when it carries text: that text may never
    /// have been archived before (a deleted tweet in an export), and then this verdict is the
    /// only one it gets. A deletion without text has nothing to check.
    pub fn new(engine: &Engine, item: Item) -> Checked {
        let has_text_to_check = item.change != Change::Deletion || !item.text.is_empty();
        let verdict = has_text_to_check.then(|| engine.check(&item.post()));
        Checked { item, verdict }
    }
}

/// What one [`crate::Store::append`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendReport {
    /// New versions archived (originals, edits and deletions).
    pub added: u64,
    /// Of those, edits and deletions of something already archived.
    pub revisions: u64,
    /// Versions already in the archive, skipped.
    pub unchanged: u64,
    /// Entries written (items and verdicts).
    pub entries: u64,
    /// The chain's last entry after the transaction.
    pub head: Option<u64>,
}

impl AppendReport {
    /// Adds another report's counts to this one.
    pub fn absorb(&mut self, other: AppendReport) {
        self.added += other.added;
        self.revisions += other.revisions;
        self.unchanged += other.unchanged;
        self.entries += other.entries;
        self.head = other.head.or(self.head);
    }
}

/// Filters on a search; `None` leaves a dimension open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Platform (lowercase).
    pub platform: Option<String>,
    /// Account.
    pub account: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// Author type.
    pub author_type: Option<AuthorType>,
    /// Kind.
    pub kind: Option<ContentKind>,
    /// Made at or after (platform time, else capture time).
    pub since: Option<Timestamp>,
    /// Made before.
    pub until: Option<Timestamp>,
    /// The verdict's action on the way in.
    pub action: Option<Action>,
    /// A finding of this category.
    pub category: Option<String>,
    /// A finding of this rule.
    pub rule: Option<String>,
    /// Whether the verdict had findings.
    pub has_findings: Option<bool>,
    /// Only items this audience may see; `None`: every item.
    pub audience: Option<Audience>,
}

/// The items one person may see: those written by one of `authors` or posted from one of
/// `accounts`. Empty lists see nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// Author names (people's logins).
    pub authors: Vec<String>,
    /// Account handles.
    pub accounts: Vec<String>,
}

/// Where the next page starts: after the item with this time and entry number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last item's sort time, in microseconds.
    pub sort_at: i64,
    /// The last item's entry number.
    pub seq: u64,
}

impl Cursor {
    /// The cursor as an opaque token.
    pub fn token(&self) -> String {
        format!("{}.{}", self.sort_at, self.seq)
    }

    /// Reads a token made by [`Cursor::token`].
    pub fn parse(token: &str) -> Result<Cursor, StoreError> {
        let bad = || StoreError::invalid(format!("`{token}` is not a search cursor"));
        let (sort_at, seq) = token.split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            sort_at: sort_at.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

/// Default number of results per page.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most results per page.
pub const MAX_LIMIT: u32 = 1_000;

/// A search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// Words, phrases and prefixes that must all match (empty: everything).
    pub query: Query,
    /// Filters.
    pub filters: Filters,
    /// Results per page (1 to [`MAX_LIMIT`]).
    pub limit: u32,
    /// Continue after this cursor.
    pub cursor: Option<Cursor>,
}

impl SearchRequest {
    /// The first page of a query with no filters.
    pub fn new(query: Query) -> SearchRequest {
        SearchRequest { query, filters: Filters::default(), limit: DEFAULT_LIMIT, cursor: None }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSummary {
    /// The item's entry number, its id in the archive.
    pub seq: u64,
    /// Platform.
    pub platform: String,
    /// Account.
    pub account: String,
    /// The platform's id.
    pub external_id: String,
    /// Kind.
    pub kind: String,
    /// Author.
    pub author: String,
    /// Author type.
    pub author_type: String,
    /// Platform time.
    pub created_at: Option<Timestamp>,
    /// Capture time.
    pub captured_at: Timestamp,
    /// original, edit or deletion.
    pub change: String,
    /// The version this one revises.
    pub revises: Option<u64>,
    /// The verdict's action on the way in.
    pub action: Option<String>,
    /// The verdict's number of findings.
    pub findings: u32,
    /// The text, or `None` once disposed.
    pub text: Option<String>,
    /// Where the next page would start if this were the last result.
    pub cursor: Cursor,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Results, newest first.
    pub items: Vec<ItemSummary>,
    /// The next page, if there may be one.
    pub next: Option<Cursor>,
}

/// Another version of the same platform item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRef {
    /// Its entry number.
    pub seq: u64,
    /// original, edit or deletion.
    pub change: String,
    /// When it was captured.
    pub captured_at: Timestamp,
}

/// A verdict entry, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictDetail {
    /// The verdict's entry.
    pub entry: Entry,
    /// Its payload, or `None` once disposed.
    pub payload: Option<serde_json::Value>,
}

/// Everything about one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDetail {
    /// The summary row.
    pub summary: ItemSummary,
    /// The item's entry (chain position and hashes).
    pub entry: Entry,
    /// The decoded payload, or `None` once disposed.
    pub payload: Option<serde_json::Value>,
    /// Every version of the same platform item, oldest first (this one included).
    pub versions: Vec<VersionRef>,
    /// Its verdicts.
    pub verdicts: Vec<VerdictDetail>,
    /// The disposition entry, if its content was disposed.
    pub disposed_by: Option<u64>,
}

/// The projection row of an item, compared with its payload by `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// Entry number.
    pub seq: u64,
    /// Platform.
    pub platform: String,
    /// Account.
    pub account: String,
    /// External id.
    pub external_id: String,
    /// Kind.
    pub kind: String,
    /// Author.
    pub author: String,
    /// Author type.
    pub author_type: String,
    /// Platform time (µs).
    pub created_at: Option<i64>,
    /// Capture time (µs).
    pub captured_at: i64,
    /// Change.
    pub change: String,
    /// Revises.
    pub revises: Option<u64>,
    /// Version digest.
    pub version_digest: Hash,
    /// The time searches sort and filter by (µs): the platform time, else the capture time.
    pub sort_at: i64,
    /// The action of the verdict given on the way in; `None` for an item not checked.
    pub action: Option<String>,
    /// How many findings that verdict had.
    pub findings: i64,
    /// Whether the item's words are in the search index, where the backend can tell cheaply
    /// (PostgreSQL keeps them in the row); `None` where it cannot.
    pub indexed: Option<bool>,
}

/// The rows that other entries project into, for entries `from <= seq < to` (see
/// [`crate::Store::projection_rows`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectionRows {
    /// `verdicts` rows: (verdict entry, item entry).
    pub verdicts: Vec<(u64, u64)>,
    /// `findings` rows: (verdict entry, item entry, category, rule).
    pub findings: Vec<(u64, u64, String, String)>,
    /// `holds`, `hold_releases` and `retention_rules` rows: (entry, the kind of entry the
    /// table holds, id).
    pub records: Vec<(u64, lifeguard_core::archive::EntryKind, String)>,
}

/// A legal hold and its release, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRecord {
    /// The hold.
    pub hold: Hold,
    /// Its query as written, if it has one.
    pub query: Option<String>,
    /// Its entry.
    pub placed: u64,
    /// When it was placed.
    pub placed_at: Timestamp,
    /// The release entry, reason and who released it.
    pub released: Option<(u64, String, String)>,
}

/// An item (all versions) that retention may consider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisposalCandidate {
    /// `platform` and `external_id` joined by a newline: the paging key.
    pub key: String,
    /// The versions, oldest first, decoded from their payloads.
    pub versions: Vec<(u64, Item)>,
    /// The verdict entries of those versions.
    pub verdicts: Vec<u64>,
}

/// Counts for `archive stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Entries in the chain.
    pub entries: u64,
    /// Item versions.
    pub items: u64,
    /// Verdicts.
    pub verdicts: u64,
    /// Item versions whose content was disposed.
    pub disposed: u64,
    /// Items per platform.
    pub by_platform: Vec<(String, u64)>,
    /// Items per kind.
    pub by_kind: Vec<(String, u64)>,
    /// Items per ingest action.
    pub by_action: Vec<(String, u64)>,
    /// Holds in force.
    pub active_holds: u64,
    /// Retention rules in force.
    pub retention_rules: u64,
    /// Checkpoints.
    pub checkpoints: u64,
    /// The last checkpoint's entry.
    pub last_checkpoint: Option<u64>,
    /// The last entry and its hash.
    pub head: Option<(u64, Hash)>,
    /// Oldest and newest item time.
    pub span: Option<(Timestamp, Timestamp)>,
}
