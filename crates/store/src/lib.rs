//! Lifeguard's archive storage: one [`Store`] interface with a SQLite implementation (the
//! embedded default) and a PostgreSQL one (for scale), each with its own migrations.
//!
//! This is the only crate that writes SQL. Every method that writes is one transaction that
//! also extends the hash chain; the chain's rules, encodings and decisions come from
//! `lifeguard_core::archive`, so both backends produce the same bytes and hashes.

mod appends_impl;
mod directory;
mod directory_impl;
mod error;
mod keys;
mod plan;
mod postgres;
mod postgres_directory;
mod reads_impl;
mod scratch;
mod shared;
mod sqlite;
mod sqlite_bulk;
mod sqlite_directory;
mod sqlite_writer;
mod types;
mod verify;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use jiff::Timestamp;
use lifeguard_core::archive::{
    AuditRecord, Checkpoint, Entry, Hash, Hold, RetentionRule, SigningKey,
};

pub use directory::{
    Account, AuditEntry, AuditFilter, Department, Directory, Lockout, LoginFailures, NewAccount,
    NewPerson, NewSession, NewToken, Person, PersonPatch, Session, Setting, Token,
};
pub use error::{ErrorKind, StoreError};
pub use keys::{KEY_FILE, load_key, load_or_create_key};
pub use plan::Prepared;
pub use scratch::{create_scratch_database, drop_scratch_database};
pub use shared::{Disposal, fts5_match, tsquery};
pub use types::{
    AppendReport, Audience, Checked, Cursor, DEFAULT_LIMIT, DisposalCandidate, Filters, HoldRecord,
    ItemDetail, ItemRow, ItemSummary, MAX_LIMIT, Page, ProjectionRows, SearchRequest, Stats,
    VerdictDetail, VersionRef,
};
pub use verify::{VerifyError, VerifyReport, verify};

/// The SQLite file's name inside the data directory.
pub const SQLITE_FILE: &str = "archive.sqlite3";

/// Most items in one [`Store::append`] call: one transaction's worth.
pub const MAX_BATCH: usize = 10_000;

/// Most entries [`Store::entries`] returns at once.
pub const MAX_PAGE: u64 = 10_000;

/// The archive's storage. Every write is one transaction that extends the chain; no
/// transaction crosses this interface.
#[async_trait]
pub trait Store: Directory + Send + Sync {
    /// Archives checked items: each new version becomes an item entry followed by its verdict
    /// entry, with its search index and filter rows, all in one transaction. A version already
    /// archived (same platform, external id and content) is skipped, so imports are idempotent.
    /// An item with the same platform and external id as an archived one but other content is
    /// recorded as an edit revising the latest version.
    async fn append(
        &self,
        batch: &[Checked],
        recorded_at: Timestamp,
    ) -> Result<AppendReport, StoreError> {
        let prepared: Vec<Prepared> = batch.iter().cloned().map(Prepared::new).collect();
        self.append_prepared(prepared, recorded_at, None).await
    }

    /// [`Store::append`] for items prepared beforehand (see [`Prepared`]), so the caller can do
    /// that work on other threads while the previous batch is being written. With `sign`, the
    /// chain's new head is signed with that key in the same transaction, so the batch is never
    /// in the archive without a checkpoint over it (nothing is signed if nothing was added).
    async fn append_prepared(
        &self,
        batch: Vec<Prepared>,
        recorded_at: Timestamp,
        sign: Option<&SigningKey>,
    ) -> Result<AppendReport, StoreError>;

    /// [`Store::append_prepared`] with an audit entry written last in the same transaction,
    /// naming who sent the items and from where (items ingested through the server). The
    /// batch is taken whole because SQLite may queue it for a group commit.
    async fn append_audited(
        &self,
        batch: Vec<Prepared>,
        audit: &AuditRecord,
        recorded_at: Timestamp,
    ) -> Result<AppendReport, StoreError>;

    /// Records a legal hold. Fails if an active hold has the same id.
    async fn place_hold(&self, hold: &Hold, recorded_at: Timestamp) -> Result<u64, StoreError>;

    /// Releases an active hold, saying why and who released it.
    async fn release_hold(
        &self,
        id: &str,
        reason: &str,
        by: &str,
        recorded_at: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Every hold ever placed, with its release if any.
    async fn holds(&self) -> Result<Vec<HoldRecord>, StoreError>;

    /// Sets (or replaces) a retention rule.
    async fn set_retention(
        &self,
        rule: &RetentionRule,
        by: &str,
        recorded_at: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Removes a retention rule: items it covered are kept until another rule covers them.
    async fn remove_retention(
        &self,
        id: &str,
        by: &str,
        recorded_at: Timestamp,
    ) -> Result<u64, StoreError>;

    /// The retention rules in force.
    async fn retention_rules(&self) -> Result<Vec<RetentionRule>, StoreError>;

    /// Items whose every version was captured before `captured_before`, with content not yet
    /// disposed: what retention may consider. Grouped by platform and external id.
    async fn disposal_candidates(
        &self,
        captured_before: Timestamp,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DisposalCandidate>, StoreError>;

    /// Disposes of an item's content (every version and its verdicts) if, inside the
    /// transaction, the retention rules and holds in force still allow it at `now`: writes one
    /// disposition entry naming the entries and their payload hashes, drops the payloads and
    /// removes the words from the search index.
    async fn dispose(
        &self,
        candidate: &DisposalCandidate,
        now: Timestamp,
        recorded_at: Timestamp,
    ) -> Result<Disposal, StoreError>;

    /// One page of search results, newest first.
    async fn search(&self, request: &SearchRequest) -> Result<Page, StoreError>;

    /// An item with its versions, verdicts and chain position.
    async fn item(&self, seq: u64) -> Result<Option<ItemDetail>, StoreError>;

    /// Counts for `archive stats`.
    async fn stats(&self) -> Result<Stats, StoreError>;

    /// Entries `from..from+limit` in order (at most [`MAX_PAGE`]).
    async fn entries(&self, from: u64, limit: u64) -> Result<Vec<Entry>, StoreError>;

    /// The projection rows of items with `from <= seq < to`, for verification.
    async fn item_rows(&self, from: u64, to: u64) -> Result<Vec<ItemRow>, StoreError>;

    /// The verdict, finding, hold, hold release and retention rule rows of entries
    /// `from <= seq < to` (findings by their verdict's entry), for verification.
    async fn projection_rows(&self, from: u64, to: u64) -> Result<ProjectionRows, StoreError>;

    /// The last entry's number and hash.
    async fn head(&self) -> Result<Option<(u64, Hash)>, StoreError>;

    /// Stores a signed checkpoint; its head must be the chain's hash at its entry.
    async fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;

    /// Every checkpoint, oldest first.
    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError>;

    /// Brings the database's planner statistics up to date after many items were appended,
    /// so that searches are planned for the archive as it now is rather than as it was when
    /// the database last sampled it. Importers call it once at the end.
    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Which backend this is, for messages: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
}

/// Where the archive lives: a database URL, or the SQLite file in the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `sqlite:` or `postgres:` URL.
    Url(String),
    /// The default: `archive.sqlite3` in this directory (created if missing).
    DataDir(PathBuf),
}

/// Opens the archive (running migrations) at a location.
pub async fn open(location: &Location) -> Result<Box<dyn Store>, StoreError> {
    match location {
        Location::DataDir(dir) => {
            std::fs::create_dir_all(dir).map_err(|err| StoreError::io(dir, &err))?;
            Ok(Box::new(sqlite::SqliteStore::open_file(&dir.join(SQLITE_FILE)).await?))
        }
        Location::Url(url) if url.starts_with("sqlite:") => {
            Ok(Box::new(sqlite::SqliteStore::open_url(url).await?))
        }
        Location::Url(url) if url.starts_with("postgres:") || url.starts_with("postgresql:") => {
            Ok(Box::new(postgres::PostgresStore::open(url).await?))
        }
        Location::Url(url) => Err(StoreError::new(
            ErrorKind::Config,
            format!("unsupported database URL `{}` (expected sqlite: or postgres:)", redact(url)),
        )),
    }
}

/// Whether an archive is already at a location: for a SQLite file, whether the file exists;
/// `None` for a database server, where opening is the only way to tell.
pub fn exists(location: &Location) -> Option<bool> {
    match location {
        Location::DataDir(dir) => Some(dir.join(SQLITE_FILE).exists()),
        // An archive in memory is refused when opened, with its own reason.
        Location::Url(url) if url.contains(":memory:") || url.contains("mode=memory") => None,
        Location::Url(url) if url.starts_with("sqlite:") => {
            sqlite::file_of(url).map(|f| f.exists())
        }
        Location::Url(_) => None,
    }
}

/// Opens a SQLite archive file directly (tests and tools).
pub async fn open_sqlite(path: &Path) -> Result<Box<dyn Store>, StoreError> {
    Ok(Box::new(sqlite::SqliteStore::open_file(path).await?))
}

/// A URL with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => {
                    format!("{}{}:***{}", &url[..scheme + 3], &credentials[..colon], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
