//! Batches of items written to the SQLite file on a connection of the writer's own, used on a
//! blocking thread, one prepared statement per table reused row after row.
//!
//! Through sqlx every batch became multi-row statements whose values were each copied into
//! sqlx's arguments on the async side and then handed to its worker thread, so the building
//! and the writing took turns rather than overlapping; written here, a batch costs SQLite's own
//! work and little more (BENCHMARKS.md).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use lifeguard_core::archive::{
    AuditRecord, Checkpoint, Entry, EntryKind, Hash, SigningKey, format_time,
};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension as _, Statement, TransactionBehavior, params,
};

use crate::error::{ErrorKind, StoreError};
use crate::plan::{self, Existing, Planned, Prepared};
use crate::shared::{self, to_hash, to_i64, to_u64};
use crate::sqlite::{BLOCK_ENTRIES, CONNECTION_PRAGMAS};
use crate::sqlite_bulk::file_uri;
use crate::types::AppendReport;

/// One append of a group: a batch of items, for items ingested through the server the audit
/// entry written after them, and the key that signs the new head, if the caller wants it
/// signed in the same transaction.
pub(crate) struct Append {
    pub(crate) batch: Vec<Prepared>,
    pub(crate) audit: Option<AuditRecord>,
    pub(crate) recorded_at: Timestamp,
    pub(crate) sign: Option<SigningKey>,
}

pub(crate) struct BatchWriter {
    path: PathBuf,
    /// The parameters of the archive's URL (`mode=ro`, …), which are SQLite's own.
    parameters: String,
    /// A copy on storage that cannot be written: opened read-only, so every write is refused
    /// as it is on the pool's connections.
    read_only: bool,
    /// Kept open between batches, so its statements stay prepared and its cache warm.
    connection: Mutex<Option<Connection>>,
}

/// How a read-only copy is opened.
#[derive(Clone, Copy)]
pub(crate) enum ReadOnly {
    /// With its write-ahead log beside it.
    WithLog,
    /// The file alone, read as immutable.
    Immutable,
}

impl BatchWriter {
    pub(crate) fn new(path: PathBuf, parameters: &str) -> Arc<BatchWriter> {
        Arc::new(BatchWriter {
            path,
            parameters: parameters.to_owned(),
            read_only: false,
            connection: Mutex::default(),
        })
    }

    pub(crate) fn read_only(path: PathBuf, how: ReadOnly) -> Arc<BatchWriter> {
        let parameters = match how {
            ReadOnly::WithLog => "",
            ReadOnly::Immutable => "immutable=1",
        };
        Arc::new(BatchWriter {
            path,
            parameters: parameters.to_owned(),
            read_only: true,
            connection: Mutex::default(),
        })
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let fail =
            |err: rusqlite::Error| StoreError::sqlite("opening the archive for writing", &err);
        let access = if self.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        let connection = Connection::open_with_flags(
            file_uri(&self.path, &self.parameters),
            access | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(fail)?;
        connection.busy_timeout(Duration::from_secs(30)).map_err(fail)?;
        for (name, value) in CONNECTION_PRAGMAS {
            connection.pragma_update(None, name, value).map_err(fail)?;
        }
        Ok(connection)
    }

    /// Writes `appends` in one transaction, each planned against the chain as the ones before
    /// it left it, and reports each; the caller's writer `turn` is held until the end. Runs to
    /// the end on its own thread even if the caller stops waiting, so a transaction is either
    /// committed or rolled back whole.
    pub(crate) async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        turn: T,
        appends: Vec<Append>,
    ) -> Result<Vec<AppendReport>, StoreError> {
        let writer = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let mut slot = writer.connection.lock().unwrap_or_else(|p| p.into_inner());
            let connection = match slot.as_mut() {
                Some(connection) => connection,
                None => slot.insert(writer.open()?),
            };
            write_group(connection, &appends)
        })
        .await
        .map_err(|err| {
            StoreError::new(ErrorKind::Database, format!("a write thread failed: {err}"))
        })?
    }
}

fn fail(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |err| StoreError::sqlite(context, &err)
}

fn write_group(
    connection: &mut Connection,
    appends: &[Append],
) -> Result<Vec<AppendReport>, StoreError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail("starting a write"))?;
    let mut reports = Vec::with_capacity(appends.len());
    {
        let mut writes = Statements::prepare(&tx)?;
        for append in appends {
            let keys = plan::keys(&append.batch);
            let head = head(&tx)?;
            let existing = writes.existing(&keys)?;
            let recorded_at = format_time(append.recorded_at);
            let planned = plan::plan(&append.batch, existing, head, &recorded_at);
            writes.planned(&planned)?;
            if let Some(checkpoint) = planned.checkpoint(append.sign.as_ref(), Timestamp::now()) {
                writes.checkpoint(&checkpoint)?;
            }
            let head = planned.head_after(head);
            let report = match &append.audit {
                Some(audit) => {
                    let action = writes.action(head, audit, append.recorded_at)?;
                    AppendReport {
                        entries: planned.report.entries + 1,
                        head: Some(action),
                        ..planned.report
                    }
                }
                None => planned.report,
            };
            reports.push(report);
        }
    }
    tx.commit().map_err(fail("committing a batch"))?;
    Ok(reports)
}

fn head(connection: &Connection) -> Result<Option<(u64, Hash)>, StoreError> {
    let row: Option<(i64, Vec<u8>)> = connection
        .query_row("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
        .map_err(fail("reading the chain's head"))?;
    row.map(|(seq, hash)| Ok((to_u64(seq), to_hash(hash)?))).transpose()
}

/// The statements of one write transaction, each prepared once and run row after row.
struct Statements<'c> {
    versions: Statement<'c>,
    entries: Statement<'c>,
    items: Statement<'c>,
    words: Statement<'c>,
    blocks: Statement<'c>,
    verdicts: Statement<'c>,
    findings: Statement<'c>,
    actions: Statement<'c>,
    checkpoints: Statement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(connection: &'c Connection) -> Result<Statements<'c>, StoreError> {
        let prepare = |sql: &str| connection.prepare(sql).map_err(fail("preparing a write"));
        Ok(Statements {
            versions: prepare(
                "SELECT version_digest, seq FROM items WHERE platform = ?1 AND external_id = ?2",
            )?,
            entries: prepare(
                "INSERT INTO entries (seq, kind, recorded_at, prev, payload_sha256, hash, \
                 payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            items: prepare(
                "INSERT INTO items (seq, platform, account, external_id, kind, author, \
                 author_type, created_at, captured_at, sort_at, change, revises, version_digest, \
                 action, findings) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?,
            words: prepare("INSERT INTO items_fts (rowid, words) VALUES (?1, ?2)")?,
            blocks: prepare(
                "INSERT INTO item_blocks (block, min_sort, max_sort) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (block) DO UPDATE SET min_sort = min(min_sort, excluded.min_sort), \
                 max_sort = max(max_sort, excluded.max_sort)",
            )?,
            verdicts: prepare("INSERT INTO verdicts (seq, item) VALUES (?1, ?2)")?,
            findings: prepare(
                "INSERT INTO findings (item, verdict, category, rule) VALUES (?1, ?2, ?3, ?4)",
            )?,
            actions: prepare(shared::INSERT_ACTION)?,
            checkpoints: prepare(shared::INSERT_CHECKPOINT)?,
        })
    }

    /// The versions already archived of each platform item in `keys`.
    fn existing(&mut self, keys: &[(String, String)]) -> Result<Existing, StoreError> {
        let context = "looking up archived versions";
        let mut existing = Existing::new();
        for (platform, external_id) in keys {
            let mut rows =
                self.versions.query(params![platform, external_id]).map_err(fail(context))?;
            while let Some(row) = rows.next().map_err(fail(context))? {
                let digest = to_hash(row.get(0).map_err(fail(context))?)?;
                let seq = to_u64(row.get(1).map_err(fail(context))?);
                existing
                    .entry((platform.clone(), external_id.clone()))
                    .or_default()
                    .push((digest, seq));
            }
        }
        Ok(existing)
    }

    fn entry(&mut self, entry: &Entry) -> Result<(), StoreError> {
        self.entries
            .execute(params![
                to_i64(entry.seq),
                entry.kind.name(),
                entry.recorded_at,
                entry.prev.as_slice(),
                entry.payload_hash.as_slice(),
                entry.hash.as_slice(),
                entry.payload,
            ])
            .map_err(fail("writing entries"))?;
        Ok(())
    }

    fn planned(&mut self, planned: &Planned) -> Result<(), StoreError> {
        for entry in &planned.entries {
            self.entry(entry)?;
        }
        let mut blocks: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for item in &planned.items {
            self.items
                .execute(params![
                    to_i64(item.seq),
                    item.platform,
                    item.account,
                    item.external_id,
                    item.kind,
                    item.author,
                    item.author_type,
                    item.created_at,
                    item.captured_at,
                    item.sort_at,
                    item.change,
                    item.revises.map(to_i64),
                    item.version_digest.as_slice(),
                    item.action,
                    i64::from(item.findings),
                ])
                .map_err(fail("writing items"))?;
            self.words
                .execute(params![to_i64(item.seq), item.words])
                .map_err(fail("indexing items"))?;
            let block = to_i64(item.seq) / BLOCK_ENTRIES;
            let span = blocks.entry(block).or_insert((item.sort_at, item.sort_at));
            span.0 = span.0.min(item.sort_at);
            span.1 = span.1.max(item.sort_at);
        }
        for (block, (min_sort, max_sort)) in blocks {
            self.blocks
                .execute(params![block, min_sort, max_sort])
                .map_err(fail("summarizing item times"))?;
        }
        for verdict in &planned.verdicts {
            self.verdicts
                .execute(params![to_i64(verdict.seq), to_i64(verdict.item)])
                .map_err(fail("writing verdicts"))?;
        }
        for finding in &planned.findings {
            self.findings
                .execute(params![
                    to_i64(finding.item),
                    to_i64(finding.verdict),
                    finding.category,
                    finding.rule,
                ])
                .map_err(fail("writing findings"))?;
        }
        Ok(())
    }

    fn checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.checkpoints
            .execute(params![
                to_i64(checkpoint.seq),
                checkpoint.head.as_slice(),
                checkpoint.signed_at,
                checkpoint.key_id,
                checkpoint.signature.as_slice(),
            ])
            .map_err(fail("writing a checkpoint"))?;
        Ok(())
    }

    /// Appends an action entry after `head` and its row in the audit trail.
    fn action(
        &mut self,
        head: Option<(u64, Hash)>,
        audit: &AuditRecord,
        recorded_at: Timestamp,
    ) -> Result<u64, StoreError> {
        let entry = Entry::next(head, EntryKind::Action, format_time(recorded_at), audit.payload());
        self.entry(&entry)?;
        let at = shared::action_time(&entry)?;
        self.actions
            .execute(params![to_i64(entry.seq), at, audit.actor, audit.action, audit.target])
            .map_err(fail("writing an action"))?;
        Ok(entry.seq)
    }
}
