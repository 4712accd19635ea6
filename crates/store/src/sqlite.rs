//! The SQLite archive: one file in WAL mode, written by one transaction at a time
//! (`BEGIN IMMEDIATE` takes the write lock before the chain's head is read).

use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use lifeguard_core::archive::{
    AuditRecord, Checkpoint, Entry, EntryKind, Hash, Hold, Query, RetentionRule, SigningKey, Term,
    disposition_payload, format_time, hold_payload, hold_release_payload, retention_payload,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{QueryBuilder, Row as _, Sqlite, SqlitePool, Transaction};

use crate::Store;
use crate::error::{ErrorKind, StoreError};
use crate::plan::{self, Prepared, micros};
use crate::shared::{self, Disposal, to_hash, to_i64, to_u64};
use crate::sqlite_bulk::BulkReader;
use crate::sqlite_writer::{Append, BatchWriter, ReadOnly};
use crate::types::{
    AppendReport, Cursor, DisposalCandidate, HoldRecord, ItemDetail, ItemRow, ItemSummary, Page,
    ProjectionRows, SearchRequest, Stats,
};

/// Settings of every connection that writes (both the pool's and the batch writer's).
pub(crate) const CONNECTION_PRAGMAS: [(&str, &str); 6] = [
    // FULL: a committed batch survives power loss, not only a killed process.
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    ("cache_size", "-65536"),
    ("temp_store", "memory"),
    // A checkpoint every 64 MiB of WAL instead of every 4 MiB: index pages that every batch
    // touches are copied into the database once per checkpoint, so fewer checkpoints made
    // ingest about a fifth faster (BENCHMARKS.md).
    ("wal_autocheckpoint", "16384"),
    ("journal_size_limit", "67108864"),
];

/// SQLite's limit on bound values in one statement (32,766 since 3.32), with room to spare.
const MAX_VARIABLES: usize = 32_000;

pub(crate) struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// Writers of this process take turns here rather than in SQLite's busy handler, which
    /// sleeps in steps of up to 100 ms and leaves the database idle between writers; while
    /// several writers spun there, checkpoints never got a turn and the WAL grew without bound.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Audited appends waiting for the writer's turn: whoever gets the turn writes all of
    /// them in one transaction (a group commit), so concurrent ingest requests share the cost
    /// of writing the index pages they all touch.
    waiting: Arc<std::sync::Mutex<Vec<Waiting>>>,
    /// Reads of the whole archive, on connections of their own.
    bulk: Arc<BulkReader>,
    /// Batches of items, written on a connection of their own.
    batches: Arc<BatchWriter>,
}

/// One audited append waiting for its group.
struct Waiting {
    batch: Vec<Prepared>,
    audit: AuditRecord,
    recorded_at: Timestamp,
    reply: tokio::sync::oneshot::Sender<Result<AppendReport, StoreError>>,
}

/// A write transaction holding this process's writer turn until it commits or is dropped.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    /// Commits, then gives the turn to the next writer.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

// Like the transaction it wraps, it stands for its connection.
impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

fn db(context: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |err| StoreError::database(context, err)
}

impl SqliteStore {
    pub(crate) async fn open_file(path: &Path) -> Result<SqliteStore, StoreError> {
        if is_read_only_copy(path) {
            return SqliteStore::open_read_only_copy(path).await;
        }
        let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
        SqliteStore::open_with(options, &path.display().to_string(), "").await
    }

    /// Opens an archive on storage that cannot be written (write-once media, a read-only
    /// mount), where SQLite cannot make the files a WAL database needs. With its `-wal` and
    /// `-shm` files beside it, SQLite reads it as it is, log included; with no log, the file is
    /// the whole archive and is opened as immutable. Every write is refused either way.
    async fn open_read_only_copy(path: &Path) -> Result<SqliteStore, StoreError> {
        let name = path.display().to_string();
        let beside = |suffix: &str| {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            std::path::PathBuf::from(file).exists()
        };
        let (wal, shm) = (beside("-wal"), beside("-shm"));
        if wal && !shm {
            return Err(StoreError::new(
                ErrorKind::ReadOnly,
                format!(
                    "{name} is on read-only storage with its write-ahead log but not the \
                     `-shm` file SQLite needs to read it; copy the three files together"
                ),
            ));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .immutable(!wal)
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let how = if wal { ReadOnly::WithLog } else { ReadOnly::Immutable };
        let batches = BatchWriter::read_only(path.to_path_buf(), how);
        let bulk = if wal {
            BulkReader::new(path.to_path_buf())
        } else {
            BulkReader::immutable(path.to_path_buf())
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|err| StoreError::database(&format!("opening {name}"), err))?;
        // Nothing can be migrated here: the copy must already have this version's tables.
        let known = sqlx::migrate!("migrations/sqlite").migrations.len();
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await
                .map_err(|err| {
                    StoreError::database(&format!("reading the schema of {name}"), err)
                })?;
        if usize::try_from(applied).unwrap_or(0) < known {
            return Err(StoreError::new(
                ErrorKind::ReadOnly,
                format!(
                    "{name} is on read-only storage and was written by an older version \
                     ({applied} of {known} schema steps); open a writable copy once to upgrade it"
                ),
            ));
        }
        Ok(SqliteStore { pool, writer: Arc::default(), waiting: Arc::default(), bulk, batches })
    }

    pub(crate) async fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::new(
                ErrorKind::Config,
                format!("{url}: an archive in memory would keep nothing; name a file"),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| StoreError::new(ErrorKind::Config, format!("{url}: {err}")))?
            .create_if_missing(true);
        // The URL's parameters (`mode`, `cache`, `immutable`, `vfs`) are SQLite's own, so the
        // batch writer opens the file with them too: `mode=ro` stays read-only there.
        let parameters = url.split_once('?').map_or("", |(_, query)| query);
        SqliteStore::open_with(options, url, parameters).await
    }

    async fn open_with(
        options: SqliteConnectOptions,
        name: &str,
        parameters: &str,
    ) -> Result<SqliteStore, StoreError> {
        let mut options =
            options.journal_mode(SqliteJournalMode::Wal).busy_timeout(Duration::from_secs(30));
        for (pragma, value) in CONNECTION_PRAGMAS {
            options = options.pragma(pragma, value);
        }
        let bulk = BulkReader::new(options.get_filename().to_path_buf());
        let batches = BatchWriter::new(options.get_filename().to_path_buf(), parameters);
        // Turning a new file to WAL takes a lock SQLite does not wait for, so a second process
        // opening the same new archive at that moment is told it is locked: it tries again.
        let mut attempt = 1;
        let pool = loop {
            match SqlitePoolOptions::new().max_connections(4).connect_with(options.clone()).await {
                Ok(pool) => break pool,
                Err(err) if attempt < OPEN_ATTEMPTS && is_locked(&err) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(err) => return Err(StoreError::database(&format!("opening {name}"), err)),
            }
        };
        migrate(&pool, name).await?;
        Ok(SqliteStore { pool, writer: Arc::default(), waiting: Arc::default(), bulk, batches })
    }

    pub(crate) async fn begin(&self) -> Result<WriteTx, StoreError> {
        let turn = Arc::clone(&self.writer).lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db("starting a write"))?;
        Ok(WriteTx { tx, _turn: turn })
    }
}

impl SqliteStore {
    /// Writes every waiting audited append in one transaction, on a task of its own so that a
    /// caller giving up (a client gone, a request timed out) cuts no one else's write short,
    /// and answers each; if the transaction fails, each gets the error and none is committed.
    async fn write_group(&self, turn: tokio::sync::OwnedMutexGuard<()>) {
        let group = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|p| p.into_inner()));
        if group.is_empty() {
            return;
        }
        let batches = Arc::clone(&self.batches);
        let task = tokio::spawn(write_group(batches, turn, group));
        // Its answers go to each waiting caller, this one included.
        let _ = task.await;
    }
}

/// The transaction of one group commit: each append planned against the chain as the ones
/// before it in the group left it, each with its own audit entry and report.
async fn write_group(
    batches: Arc<BatchWriter>,
    turn: tokio::sync::OwnedMutexGuard<()>,
    group: Vec<Waiting>,
) {
    let (appends, replies): (Vec<Append>, Vec<_>) = group
        .into_iter()
        .map(|waiting| {
            let append = Append {
                batch: waiting.batch,
                audit: Some(waiting.audit),
                recorded_at: waiting.recorded_at,
                sign: None,
            };
            (append, waiting.reply)
        })
        .unzip();
    match batches.write(turn, appends).await {
        Ok(reports) => {
            for (reply, report) in replies.into_iter().zip(reports) {
                let _ = reply.send(Ok(report));
            }
        }
        Err(err) => {
            for reply in replies {
                let _ = reply.send(Err(err.clone()));
            }
        }
    }
}

async fn head(conn: &mut sqlx::SqliteConnection) -> Result<Option<(u64, Hash)>, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("reading the chain's head"))?;
    row.map(|row| Ok((to_u64(row.get("seq")), to_hash(row.get("hash"))?))).transpose()
}

fn entry_from_row(row: &SqliteRow) -> Result<Entry, StoreError> {
    let kind: String = row.get("kind");
    Ok(Entry {
        seq: to_u64(row.get("seq")),
        kind: kind.parse().map_err(|err: String| StoreError::new(ErrorKind::Corrupt, err))?,
        recorded_at: row.get("recorded_at"),
        prev: to_hash(row.get("prev"))?,
        payload_hash: to_hash(row.get("payload_sha256"))?,
        hash: to_hash(row.get("hash"))?,
        payload: row.get("payload"),
    })
}

async fn insert_entries(tx: &mut WriteTx, entries: &[Entry]) -> Result<(), StoreError> {
    for chunk in entries.chunks(MAX_VARIABLES / 7) {
        let mut builder = QueryBuilder::<Sqlite>::new(
            "INSERT INTO entries (seq, kind, recorded_at, prev, payload_sha256, hash, payload) ",
        );
        builder.push_values(chunk, |mut row, entry| {
            row.push_bind(to_i64(entry.seq))
                .push_bind(entry.kind.name())
                .push_bind(entry.recorded_at.as_str())
                .push_bind(entry.prev.as_slice())
                .push_bind(entry.payload_hash.as_slice())
                .push_bind(entry.hash.as_slice())
                .push_bind(entry.payload.as_deref());
        });
        builder.build().execute(&mut **tx).await.map_err(db("writing entries"))?;
    }
    Ok(())
}

pub(crate) async fn append_entry(
    tx: &mut WriteTx,
    kind: EntryKind,
    payload: String,
    recorded_at: Timestamp,
) -> Result<Entry, StoreError> {
    let head = head(tx).await?;
    let entry = Entry::next(head, kind, format_time(recorded_at), payload);
    insert_entries(tx, std::slice::from_ref(&entry)).await?;
    Ok(entry)
}

/// Appends a hold, hold release or retention entry and lists it under its name.
async fn append_named(
    tx: &mut WriteTx,
    kind: EntryKind,
    id: &str,
    payload: String,
    recorded_at: Timestamp,
) -> Result<u64, StoreError> {
    let (insert, doing) = shared::listing(kind)?;
    let entry = append_entry(tx, kind, payload, recorded_at).await?;
    sqlx::query(insert)
        .bind(to_i64(entry.seq))
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(db(doing))?;
    Ok(entry.seq)
}

async fn active_hold(tx: &mut WriteTx, id: &str) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar(shared::ACTIVE_HOLD)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db("looking up holds"))
}

crate::reads_impl::impl_item_reads!(
    SqliteStore,
    Sqlite,
    item_sql: "SELECT i.seq, i.platform, i.account, i.external_id, i.kind, i.author, i.author_type, \
         i.created_at, i.captured_at, i.sort_at, i.change, i.revises, i.action, i.findings, \
         json_extract(e.payload, '$.text') AS text FROM items i JOIN entries e ON e.seq = i.seq \
         WHERE i.seq = $1",
    nulls: ""
);

crate::reads_impl::impl_checkpoints!(SqliteStore, sqlx::SqliteConnection);
crate::appends_impl::impl_appends!(SqliteStore);

#[async_trait]
impl Store for SqliteStore {
    async fn append_prepared(
        &self,
        batch: Vec<Prepared>,
        recorded_at: Timestamp,
        sign: Option<&SigningKey>,
    ) -> Result<AppendReport, StoreError> {
        shared::check_batch(&batch)?;
        let turn = Arc::clone(&self.writer).lock_owned().await;
        let append = Append { batch, audit: None, recorded_at, sign: sign.cloned() };
        let mut reports = self.batches.write(turn, vec![append]).await?;
        reports.pop().ok_or_else(|| StoreError::new(ErrorKind::Database, "a batch went unreported"))
    }

    async fn append_audited(
        &self,
        batch: Vec<Prepared>,
        audit: &AuditRecord,
        recorded_at: Timestamp,
    ) -> Result<AppendReport, StoreError> {
        shared::check_batch(&batch)?;
        shared::check_audit(audit)?;
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        let waiting = Waiting { batch, audit: audit.clone(), recorded_at, reply };
        self.waiting.lock().unwrap_or_else(|p| p.into_inner()).push(waiting);
        loop {
            tokio::select! {
                // A writer that took the turn before us wrote our batch with its group.
                result = &mut answer => {
                    return result.unwrap_or_else(|_| {
                        Err(StoreError::new(ErrorKind::Database, "a group commit was cut off"))
                    });
                }
                turn = Arc::clone(&self.writer).lock_owned() => self.write_group(turn).await,
            }
        }
    }

    async fn place_hold(&self, hold: &Hold, recorded_at: Timestamp) -> Result<u64, StoreError> {
        place_named_hold(self, hold, recorded_at).await
    }

    async fn release_hold(
        &self,
        id: &str,
        reason: &str,
        by: &str,
        recorded_at: Timestamp,
    ) -> Result<u64, StoreError> {
        release_named_hold(self, id, reason, by, recorded_at).await
    }

    async fn holds(&self) -> Result<Vec<HoldRecord>, StoreError> {
        // One query: each hold with the payload of the first release after it, if any.
        let rows = sqlx::query(
            "SELECT e.seq, e.recorded_at, e.payload, re.seq AS released, re.payload AS release_payload \
             FROM holds h JOIN entries e ON e.seq = h.seq \
             LEFT JOIN entries re ON re.seq = (SELECT r.seq FROM hold_releases r \
                 WHERE r.id = h.id AND r.seq > h.seq ORDER BY r.seq LIMIT 1) \
             ORDER BY h.seq",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading holds"))?;
        rows.iter()
            .map(|row| {
                let release = row
                    .get::<Option<i64>, _>("released")
                    .map(|seq| (to_u64(seq), row.get::<Option<String>, _>("release_payload")));
                shared::hold_record(
                    to_u64(row.get("seq")),
                    &row.get::<String, _>("recorded_at"),
                    row.get("payload"),
                    release,
                )
            })
            .collect()
    }

    async fn set_retention(
        &self,
        rule: &RetentionRule,
        by: &str,
        recorded_at: Timestamp,
    ) -> Result<u64, StoreError> {
        set_retention_rule(self, rule, by, recorded_at).await
    }

    async fn remove_retention(
        &self,
        id: &str,
        by: &str,
        recorded_at: Timestamp,
    ) -> Result<u64, StoreError> {
        remove_retention_rule(self, id, by, recorded_at).await
    }

    async fn retention_rules(&self) -> Result<Vec<RetentionRule>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db("reading retention rules"))?;
        let rules = retention_rules(&mut tx).await?;
        tx.rollback().await.map_err(db("reading retention rules"))?;
        Ok(rules)
    }

    async fn disposal_candidates(
        &self,
        captured_before: Timestamp,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DisposalCandidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.platform || char(10) || i.external_id AS key FROM items i \
             WHERE i.platform || char(10) || i.external_id > $1 \
             GROUP BY i.platform, i.external_id \
             HAVING MAX(max(i.captured_at, coalesce(i.created_at, i.captured_at))) < $2 \
             AND EXISTS (SELECT 1 FROM items j WHERE j.platform = i.platform \
                 AND j.external_id = i.external_id \
                 AND NOT EXISTS (SELECT 1 FROM disposed d WHERE d.target = j.seq)) \
             ORDER BY key LIMIT $3",
        )
        .bind(after.unwrap_or(""))
        .bind(micros(captured_before))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("finding items past retention"))?;
        let mut candidates = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.get("key");
            let (platform, external_id) = key.split_once('\n').unwrap_or((key.as_str(), ""));
            let versions = sqlx::query(
                "SELECT e.seq, e.payload, (SELECT group_concat(v.seq) FROM verdicts v WHERE v.item = i.seq) AS verdicts \
                 FROM items i JOIN entries e ON e.seq = i.seq \
                 WHERE i.platform = $1 AND i.external_id = $2 \
                 AND NOT EXISTS (SELECT 1 FROM disposed d WHERE d.target = i.seq) ORDER BY i.seq",
            )
            .bind(platform)
            .bind(external_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db("reading an item's versions"))?;
            let versions = versions
                .into_iter()
                .map(|row| {
                    (
                        to_u64(row.get("seq")),
                        row.get::<Option<String>, _>("payload"),
                        row.get::<Option<String>, _>("verdicts"),
                    )
                })
                .collect();
            candidates.push(shared::candidate(key.clone(), versions)?);
        }
        Ok(candidates)
    }

    async fn dispose(
        &self,
        candidate: &DisposalCandidate,
        now: Timestamp,
        recorded_at: Timestamp,
    ) -> Result<Disposal, StoreError> {
        let mut tx = self.begin().await?;
        let rules = retention_rules(&mut tx).await?;
        let holds = active_holds(&mut tx).await?;
        let targets = candidate.targets();
        let mut payload_hashes = Vec::with_capacity(targets.len());
        for seq in &targets {
            let row = sqlx::query(
                "SELECT payload_sha256, payload IS NULL AS gone FROM entries WHERE seq = $1",
            )
            .bind(to_i64(*seq))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("reading an entry to dispose"))?;
            if row.get::<bool, _>("gone") {
                return Ok(Disposal::AlreadyDisposed);
            }
            payload_hashes.push((*seq, to_hash(row.get("payload_sha256"))?));
        }
        let (rule, expired_at) = match shared::decide(candidate, &rules, &holds, now) {
            Ok(decision) => decision,
            Err(kept) => return Ok(kept),
        };
        let item = candidate.versions.first().map_or(0, |(seq, _)| *seq);
        let payload = disposition_payload(item, &payload_hashes, &rule, expired_at);
        let entry = append_entry(&mut tx, EntryKind::Disposition, payload, recorded_at).await?;
        for seq in &targets {
            sqlx::query("INSERT INTO disposed (target, disposition) VALUES ($1, $2)")
                .bind(to_i64(*seq))
                .bind(to_i64(entry.seq))
                .execute(&mut *tx)
                .await
                .map_err(db("recording a disposition"))?;
            sqlx::query("UPDATE entries SET payload = NULL WHERE seq = $1")
                .bind(to_i64(*seq))
                .execute(&mut *tx)
                .await
                .map_err(db("dropping disposed content"))?;
        }
        for (seq, _) in &candidate.versions {
            sqlx::query("DELETE FROM items_fts WHERE rowid = $1")
                .bind(to_i64(*seq))
                .execute(&mut *tx)
                .await
                .map_err(db("removing disposed words from the index"))?;
        }
        tx.commit().await.map_err(db("committing a disposition"))?;
        Ok(Disposal::Disposed { entry: entry.seq, rule })
    }

    async fn search(&self, request: &SearchRequest) -> Result<Page, StoreError> {
        let limit = shared::check_limit(request.limit)?;
        shared::check_audience(&request.filters)?;
        if request.query.is_empty() {
            return self.search_where(request, limit, Words::Everything).await;
        }
        let expression = shared::fts5_match(&request.query);
        if self.rarest_word_count(&request.query).await? <= RARE_WORD_ITEMS {
            return self.search_where(request, limit, Words::List(&expression)).await;
        }
        // A common word: take the newest blocks of entries first and read the word's list
        // only within each block, stopping as soon as no older block can hold a newer item.
        let f = &request.filters;
        let blocks = sqlx::query(
            "SELECT block, min_sort, max_sort FROM item_blocks              WHERE max_sort >= $1 AND min_sort < $2 AND min_sort <= $3 ORDER BY max_sort DESC",
        )
        .bind(f.since.map_or(i64::MIN, micros))
        .bind(f.until.map_or(i64::MAX, micros))
        .bind(request.cursor.map_or(i64::MAX, |c| c.sort_at))
        .fetch_all(&self.pool)
        .await
        .map_err(db("searching"))?;
        let wanted = limit as usize + 1;
        let mut found: Vec<ItemSummary> = Vec::with_capacity(wanted * 2);
        for block in blocks {
            let max_sort: i64 = block.get("max_sort");
            if found.len() == wanted && found[wanted - 1].cursor.sort_at > max_sort {
                break;
            }
            let number: i64 = block.get("block");
            let range = (number * BLOCK_ENTRIES, (number + 1) * BLOCK_ENTRIES);
            let page =
                self.search_where(request, limit, Words::InRange(&expression, range)).await?;
            found.extend(page.items);
            found.sort_by_key(|item| std::cmp::Reverse((item.cursor.sort_at, item.seq)));
            found.truncate(wanted);
        }
        Ok(shared::page(found, limit))
    }

    async fn item(&self, seq: u64) -> Result<Option<ItemDetail>, StoreError> {
        read_item(self, seq).await
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        read_stats(self).await
    }

    async fn entries(&self, from: u64, limit: u64) -> Result<Vec<Entry>, StoreError> {
        self.bulk.entries(from, limit.min(crate::MAX_PAGE)).await
    }

    async fn item_rows(&self, from: u64, to: u64) -> Result<Vec<ItemRow>, StoreError> {
        self.bulk.item_rows(from, to).await
    }

    async fn projection_rows(&self, from: u64, to: u64) -> Result<ProjectionRows, StoreError> {
        self.bulk.projection_rows(from, to).await
    }

    async fn head(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db("reading the chain's head"))?;
        let head = head(&mut tx).await?;
        tx.rollback().await.map_err(db("reading the chain's head"))?;
        Ok(head)
    }

    async fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        write_checkpoint(self, checkpoint).await
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        read_checkpoints(self).await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

/// How many times opening a new archive is tried while another process is creating it.
const OPEN_ATTEMPTS: u32 = 40;

fn is_locked(err: &sqlx::Error) -> bool {
    err.as_database_error().and_then(|db| db.code()).is_some_and(|code| code == "5")
}

/// Brings the database to this version's tables. Two processes opening a new archive at once
/// can both find a step missing; the second then fails on what the first created. Each step is
/// one transaction, so it is tried again, and then finds the step done.
async fn migrate(pool: &SqlitePool, name: &str) -> Result<(), StoreError> {
    let mut attempt = 1;
    loop {
        match sqlx::migrate!("migrations/sqlite").run(pool).await {
            Ok(()) => return Ok(()),
            Err(
                sqlx::migrate::MigrateError::Execute(inner)
                | sqlx::migrate::MigrateError::ExecuteMigration(inner, _),
            ) => {
                // Another process applying the same migration at the same moment: its tables
                // already exist, or it recorded the migration first. Trying again finds it
                // applied.
                let message = inner.to_string();
                let raced = message.contains("already exists")
                    || message.contains("UNIQUE constraint failed: _sqlx_migrations.version");
                if attempt < OPEN_ATTEMPTS && raced {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                // Classified like any other database error, so a read-only or full database
                // says so.
                return Err(StoreError::database(&format!("migrating {name}"), inner));
            }
            Err(other) => {
                return Err(StoreError::new(
                    ErrorKind::Database,
                    format!("migrating {name}: {other}"),
                ));
            }
        }
    }
}

/// Whether `path` is an archive file that cannot be opened for writing.
fn is_read_only_copy(path: &Path) -> bool {
    path.is_file()
        && std::fs::OpenOptions::new().write(true).open(path).is_err_and(|err| {
            matches!(
                err.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            )
        })
}

/// The file a `sqlite:` URL names, if it names one.
pub(crate) fn file_of(url: &str) -> Option<std::path::PathBuf> {
    let options = SqliteConnectOptions::from_str(url).ok()?;
    Some(options.get_filename().to_path_buf())
}

/// Which items a search's words allow.
#[derive(Clone, Copy)]
enum Words<'a> {
    /// No words: every item.
    Everything,
    /// Items in the FTS5 expression's list.
    List(&'a str),
    /// Items in the list whose entry numbers fall in `[from, to)`.
    InRange(&'a str, (i64, i64)),
}

/// A word held by at most this many items is read as one list; a more common one is read
/// block by block from the newest.
const RARE_WORD_ITEMS: i64 = 4_000;

/// Entry numbers per block in `item_blocks`, the table of each block's oldest and newest item
/// time that lets a search for a common word start with the newest items.
pub(crate) const BLOCK_ENTRIES: i64 = 8_192;

impl SqliteStore {
    /// One page of the items the words and filters allow, newest first.
    async fn search_where(
        &self,
        request: &SearchRequest,
        limit: u32,
        words: Words<'_>,
    ) -> Result<Page, StoreError> {
        let mut builder = QueryBuilder::<Sqlite>::new(
            "SELECT i.seq, i.platform, i.account, i.external_id, i.kind, i.author, i.author_type, \
             i.created_at, i.captured_at, i.sort_at, i.change, i.revises, i.action, i.findings, \
             json_extract(e.payload, '$.text') AS text FROM items i JOIN entries e ON e.seq = i.seq WHERE 1 = 1",
        );
        match words {
            Words::Everything => {}
            Words::List(expression) => {
                builder.push(" AND i.seq IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ");
                builder.push_bind(expression.to_owned()).push(")");
            }
            Words::InRange(expression, (from, to)) => {
                builder.push(" AND i.seq >= ").push_bind(from);
                builder.push(" AND i.seq < ").push_bind(to);
                builder.push(" AND i.seq IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ");
                builder.push_bind(expression.to_owned());
                builder.push(" AND rowid >= ").push_bind(from);
                builder.push(" AND rowid < ").push_bind(to).push(")");
            }
        }
        let f = &request.filters;
        shared::push_filters(&mut builder, f, |column| format!("{column} COLLATE NOCASE"));
        if let Some(cursor) = request.cursor {
            builder.push(" AND (i.sort_at < ").push_bind(cursor.sort_at);
            builder.push(" OR (i.sort_at = ").push_bind(cursor.sort_at);
            builder.push(" AND i.seq < ").push_bind(to_i64(cursor.seq)).push("))");
        }
        builder.push(" ORDER BY i.sort_at DESC, i.seq DESC LIMIT ").push_bind(i64::from(limit) + 1);
        let rows = builder.build().fetch_all(&self.pool).await.map_err(db("searching"))?;
        let summaries = rows.iter().map(summary_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(shared::page(summaries, limit))
    }
}

impl SqliteStore {
    /// How many items hold the query's rarest word (for a prefix, all words it starts), from
    /// the index's own counts: the most a list read for the query can cost.
    async fn rarest_word_count(&self, query: &Query) -> Result<i64, StoreError> {
        let mut rarest = i64::MAX;
        for term in query.terms() {
            let words: Vec<&str> = match term {
                Term::Word(word) | Term::Prefix(word) => vec![word.as_str()],
                Term::Phrase(words) => words.iter().map(String::as_str).collect(),
            };
            for word in words {
                let docs: Option<i64> = match term {
                    Term::Prefix(_) => sqlx::query_scalar(
                        "SELECT sum(doc) FROM items_vocab WHERE term >= $1 AND term < $2",
                    )
                    .bind(word)
                    .bind(format!("{word}\u{10ffff}"))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db("sizing a search"))?,
                    _ => sqlx::query_scalar("SELECT doc FROM items_vocab WHERE term = $1")
                        .bind(word)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("sizing a search"))?,
                };
                rarest = rarest.min(docs.unwrap_or(0));
            }
        }
        Ok(rarest)
    }
}

async fn retention_rules(
    conn: &mut sqlx::SqliteConnection,
) -> Result<Vec<RetentionRule>, StoreError> {
    let payloads: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT e.payload FROM retention_rules r JOIN entries e ON e.seq = r.seq \
         WHERE r.seq = (SELECT max(seq) FROM retention_rules x WHERE x.id = r.id) ORDER BY r.id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db("reading retention rules"))?;
    shared::retention_rules(payloads)
}

async fn active_holds(tx: &mut WriteTx) -> Result<Vec<Hold>, StoreError> {
    let payloads: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT e.payload FROM holds h JOIN entries e ON e.seq = h.seq WHERE NOT EXISTS \
         (SELECT 1 FROM hold_releases r WHERE r.id = h.id AND r.seq > h.seq) ORDER BY h.seq",
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(db("reading holds"))?;
    shared::holds(payloads)
}

fn summary_from_row(row: &SqliteRow) -> Result<ItemSummary, StoreError> {
    let seq = to_u64(row.get("seq"));
    let sort_at: i64 = row.get("sort_at");
    Ok(ItemSummary {
        seq,
        platform: row.get("platform"),
        account: row.get("account"),
        external_id: row.get("external_id"),
        kind: row.get("kind"),
        author: row.get("author"),
        author_type: row.get("author_type"),
        created_at: row.get::<Option<i64>, _>("created_at").map(plan::from_micros),
        captured_at: plan::from_micros(row.get("captured_at")),
        change: row.get("change"),
        revises: row.get::<Option<i64>, _>("revises").map(to_u64),
        action: row.get("action"),
        findings: u32::try_from(row.get::<i64, _>("findings")).unwrap_or(u32::MAX),
        text: row.get("text"),
        cursor: Cursor { sort_at, seq },
    })
}
