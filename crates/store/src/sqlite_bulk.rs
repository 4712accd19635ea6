//! Whole-archive reads of the SQLite file (verification, export) on read-only connections of
//! their own, used on blocking threads.
//!
//! Through sqlx every row crosses from its worker thread to the async side one at a time and
//! each value is copied on the way: verifying 1,000,000 items spent 12.7 s of its 13 s reading
//! its 3,000,000 rows that way, and takes about 5 s with the reads done here (BENCHMARKS.md).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lifeguard_core::archive::Entry;
use rusqlite::{Connection, OpenFlags};

use crate::error::StoreError;
use crate::shared::{RECORD_ROWS, record_kind, to_hash, to_i64, to_u64};
use crate::types::{ItemRow, ProjectionRows};

/// Connections kept open between reads: verification runs at most two reads at once.
const IDLE_CONNECTIONS: usize = 4;

pub(crate) struct BulkReader {
    path: PathBuf,
    /// A copy on storage that cannot be written, opened without locks or a shared-memory file.
    immutable: bool,
    idle: Mutex<Vec<Connection>>,
}

impl BulkReader {
    pub(crate) fn new(path: PathBuf) -> Arc<BulkReader> {
        Arc::new(BulkReader { path, immutable: false, idle: Mutex::default() })
    }

    pub(crate) fn immutable(path: PathBuf) -> Arc<BulkReader> {
        Arc::new(BulkReader { path, immutable: true, idle: Mutex::default() })
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let parameters = if self.immutable { "immutable=1" } else { "" };
        let connection = Connection::open_with_flags(
            file_uri(&self.path, parameters),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|err| StoreError::sqlite("opening the archive for reading", &err))?;
        connection
            .busy_timeout(Duration::from_secs(30))
            .map_err(|err| StoreError::sqlite("opening the archive for reading", &err))?;
        Ok(connection)
    }

    /// Runs `read` on a blocking thread with a connection of the reader's own.
    async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let idle = reader.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let connection = match idle {
                Some(connection) => connection,
                None => reader.open()?,
            };
            let result = read(&connection);
            let mut idle = reader.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < IDLE_CONNECTIONS {
                idle.push(connection);
            }
            result
        })
        .await
        .map_err(|err| {
            StoreError::new(crate::ErrorKind::Database, format!("a read thread failed: {err}"))
        })?
    }

    /// Entries numbered from `from`, at most `limit` of them, in order.
    pub(crate) async fn entries(
        self: &Arc<Self>,
        from: u64,
        limit: u64,
    ) -> Result<Vec<Entry>, StoreError> {
        self.read(move |connection| {
            all(
                connection,
                "SELECT seq, kind, recorded_at, prev, payload_sha256, hash, payload \
                 FROM entries WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
                (to_i64(from), to_i64(limit)),
                entry,
                "reading entries",
            )
        })
        .await
    }

    /// The item rows with `from <= seq < to`, in order.
    pub(crate) async fn item_rows(
        self: &Arc<Self>,
        from: u64,
        to: u64,
    ) -> Result<Vec<ItemRow>, StoreError> {
        self.read(move |connection| {
            all(
                connection,
                "SELECT seq, platform, account, external_id, kind, author, author_type, \
                 created_at, captured_at, change, revises, version_digest, sort_at, action, \
                 findings \
                 FROM items WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
                (to_i64(from), to_i64(to)),
                item_row,
                "reading items",
            )
        })
        .await
    }

    /// See [`crate::Store::projection_rows`].
    pub(crate) async fn projection_rows(
        self: &Arc<Self>,
        from: u64,
        to: u64,
    ) -> Result<ProjectionRows, StoreError> {
        self.read(move |connection| {
            let range = (to_i64(from), to_i64(to));
            let verdicts = all(
                connection,
                "SELECT seq, item FROM verdicts WHERE seq >= ?1 AND seq < ?2",
                range,
                |row| Ok((to_u64(get(row, 0)?), to_u64(get(row, 1)?))),
                "reading verdicts",
            )?;
            let findings = all(
                connection,
                "SELECT verdict, item, category, rule FROM findings \
                 WHERE verdict >= ?1 AND verdict < ?2",
                range,
                |row| Ok((to_u64(get(row, 0)?), to_u64(get(row, 1)?), get(row, 2)?, get(row, 3)?)),
                "reading findings",
            )?;
            let records = all(
                connection,
                RECORD_ROWS,
                range,
                |row| {
                    let table: String = get(row, 1)?;
                    Ok((to_u64(get(row, 0)?), record_kind(&table), get(row, 2)?))
                },
                "reading holds and retention rules",
            )?;
            Ok(ProjectionRows { verdicts, findings, records })
        })
        .await
    }
}

/// The `file:` URI of `path` with the URI `parameters` (none if empty), in which SQLite reads
/// `%`, `?` and `#` as escapes and delimiters.
pub(crate) fn file_uri(path: &std::path::Path, parameters: &str) -> PathBuf {
    let path = path.to_string_lossy();
    let escaped = path.replace('%', "%25").replace('?', "%3F").replace('#', "%23");
    let separator = if parameters.is_empty() { "" } else { "?" };
    PathBuf::from(format!("file:{escaped}{separator}{parameters}"))
}

/// Every row a query answers, each decoded by `decode`.
fn all<T>(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    decode: fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
    context: &str,
) -> Result<Vec<T>, StoreError> {
    let mut statement = connection.prepare(sql).map_err(|err| StoreError::sqlite(context, &err))?;
    let mut rows = statement.query(params).map_err(|err| StoreError::sqlite(context, &err))?;
    let mut decoded = Vec::new();
    while let Some(row) = rows.next().map_err(|err| StoreError::sqlite(context, &err))? {
        decoded.push(decode(row)?);
    }
    Ok(decoded)
}

fn get<T: rusqlite::types::FromSql>(
    row: &rusqlite::Row<'_>,
    column: usize,
) -> Result<T, StoreError> {
    row.get(column).map_err(|err| StoreError::sqlite("reading the archive", &err))
}

fn entry(row: &rusqlite::Row<'_>) -> Result<Entry, StoreError> {
    let kind: String = get(row, 1)?;
    Ok(Entry {
        seq: to_u64(get(row, 0)?),
        kind: kind
            .parse()
            .map_err(|err: String| StoreError::new(crate::ErrorKind::Corrupt, err))?,
        recorded_at: get(row, 2)?,
        prev: to_hash(get(row, 3)?)?,
        payload_hash: to_hash(get(row, 4)?)?,
        hash: to_hash(get(row, 5)?)?,
        payload: get(row, 6)?,
    })
}

fn item_row(row: &rusqlite::Row<'_>) -> Result<ItemRow, StoreError> {
    Ok(ItemRow {
        seq: to_u64(get(row, 0)?),
        platform: get(row, 1)?,
        account: get(row, 2)?,
        external_id: get(row, 3)?,
        kind: get(row, 4)?,
        author: get(row, 5)?,
        author_type: get(row, 6)?,
        created_at: get(row, 7)?,
        captured_at: get(row, 8)?,
        change: get(row, 9)?,
        revises: get::<Option<i64>>(row, 10)?.map(to_u64),
        version_digest: to_hash(get(row, 11)?)?,
        sort_at: get(row, 12)?,
        action: get(row, 13)?,
        findings: get(row, 14)?,
        indexed: None,
    })
}
