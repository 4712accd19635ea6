//! The PostgreSQL archive: the same tables, rules and answers as the SQLite one, for archives
//! shared by several processes or too large for one file.
//!
//! Writers serialize on one transaction-scoped advisory lock taken before the chain's head is
//! read; bulk rows go in as arrays (`UNNEST`), one statement per table per batch. The search
//! index is a `tsvector` built here from the core's tokens, so PostgreSQL's own word parser,
//! which disagrees with `archive::tokens` on some scripts, never decides what a word is.

use std::collections::HashMap;
use std::str::FromStr as _;

use async_trait::async_trait;
use jiff::Timestamp;
use lifeguard_core::archive::{
    AuditRecord, Checkpoint, Entry, EntryKind, Hash, Hold, RetentionRule, SigningKey,
    disposition_payload, format_time, hold_payload, hold_release_payload, retention_payload,
};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgHasArrayType, PgPoolOptions, PgRow, PgTypeInfo,
};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row as _, Transaction};

use crate::Store;
use crate::error::{ErrorKind, StoreError};
use crate::plan::{self, Existing, Planned, Prepared, micros};
use crate::shared::{self, Disposal, to_hash, to_i64, to_u64};
use crate::types::{
    AppendReport, Cursor, DisposalCandidate, HoldRecord, ItemDetail, ItemRow, ItemSummary, Page,
    ProjectionRows, SearchRequest, Stats,
};

/// Connections per process.
const POOL_SIZE: u32 = 8;

/// The advisory lock every writing transaction takes first ("lifeguar" in ASCII).
///
/// Each entry's number and hash follow from the head, so two transactions that read the same
/// head would both write entry N+1 and fork the chain (or one would fail on the primary key
/// after doing all its work). Unlike SQLite's `BEGIN IMMEDIATE`, a PostgreSQL transaction
/// takes no lock by reading, and several processes may write one archive, so writers queue on
/// this lock instead. It is released when the transaction ends, after its rows are visible,
/// so the next writer's reads see the new head.
const CHAIN_LOCK: i64 = 0x6c69_6665_6775_6172;

pub(crate) struct PostgresStore {
    pub(crate) pool: PgPool,
}

fn db(context: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |err| StoreError::database(context, err)
}

impl PostgresStore {
    pub(crate) async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let name = crate::redact(url);
        let options = PgConnectOptions::from_str(url)
            .map_err(|err| StoreError::new(ErrorKind::Config, format!("{name}: {err}")))?;
        PostgresStore::open_with(options, &name).await
    }

    async fn open_with(options: PgConnectOptions, name: &str) -> Result<PostgresStore, StoreError> {
        let options = options.application_name("lifeguard");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .connect_with(options)
            .await
            .map_err(|err| StoreError::database(&format!("opening {name}"), err))?;
        // sqlx serializes concurrent migrators with an advisory lock of its own.
        sqlx::migrate!("migrations/postgres").run(&pool).await.map_err(|err| match err {
            sqlx::migrate::MigrateError::Execute(inner) => {
                StoreError::database(&format!("migrating {name}"), inner)
            }
            other => StoreError::new(ErrorKind::Database, format!("migrating {name}: {other}")),
        })?;
        Ok(PostgresStore { pool })
    }

    /// A writing transaction, holding the chain's lock.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db("starting a write"))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHAIN_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db("waiting for the archive's write lock"))?;
        Ok(tx)
    }
}

async fn head(conn: &mut PgConnection) -> Result<Option<(u64, Hash)>, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await
        .map_err(db("reading the chain's head"))?;
    row.map(|row| Ok((to_u64(row.get("seq")), to_hash(row.get("hash"))?))).transpose()
}

fn entry_from_row(row: &PgRow) -> Result<Entry, StoreError> {
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

async fn insert_entries(conn: &mut PgConnection, entries: &[Entry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO entries (seq, kind, recorded_at, prev, payload_sha256, hash, payload) \
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bytea[], $5::bytea[], $6::bytea[], $7::text[])",
    )
    .bind(entries.iter().map(|e| to_i64(e.seq)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.kind.name()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.recorded_at.as_str()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.prev.as_slice()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.payload_hash.as_slice()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.hash.as_slice()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.payload.as_deref()).collect::<Vec<_>>())
    .execute(conn)
    .await
    .map_err(db("writing entries"))?;
    Ok(())
}

async fn insert_planned(conn: &mut PgConnection, planned: &Planned) -> Result<(), StoreError> {
    insert_entries(conn, &planned.entries).await?;
    let items = &planned.items;
    if !items.is_empty() {
        sqlx::query(
            "INSERT INTO items (seq, platform, account, external_id, kind, author, author_type, \
             created_at, captured_at, sort_at, change, revises, version_digest, action, findings, tsv) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::bigint[], $13::bytea[], \
             $14::text[], $15::bigint[], $16::tsvector[])",
        )
        .bind(items.iter().map(|i| to_i64(i.seq)).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.platform.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.account.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.external_id.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.kind).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.author.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.author_type).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.created_at).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.captured_at).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.sort_at).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.change).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.revises.map(to_i64)).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.version_digest.as_slice()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.action).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i64::from(i.findings)).collect::<Vec<_>>())
        .bind(items.iter().map(|i| tsvector(&i.words)).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await
        .map_err(db("writing items"))?;
    }
    let verdicts = &planned.verdicts;
    if !verdicts.is_empty() {
        sqlx::query(
            "INSERT INTO verdicts (seq, item) SELECT * FROM UNNEST($1::bigint[], $2::bigint[])",
        )
        .bind(verdicts.iter().map(|v| to_i64(v.seq)).collect::<Vec<_>>())
        .bind(verdicts.iter().map(|v| to_i64(v.item)).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await
        .map_err(db("writing verdicts"))?;
    }
    let findings = &planned.findings;
    if !findings.is_empty() {
        sqlx::query(
            "INSERT INTO findings (item, verdict, category, rule) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[])",
        )
        .bind(findings.iter().map(|f| to_i64(f.item)).collect::<Vec<_>>())
        .bind(findings.iter().map(|f| to_i64(f.verdict)).collect::<Vec<_>>())
        .bind(findings.iter().map(|f| f.category.as_str()).collect::<Vec<_>>())
        .bind(findings.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await
        .map_err(db("writing findings"))?;
    }
    Ok(())
}

async fn existing(
    conn: &mut PgConnection,
    keys: &[(String, String)],
) -> Result<Existing, StoreError> {
    let mut existing = Existing::new();
    if keys.is_empty() {
        return Ok(existing);
    }
    // One index lookup per key (OFFSET 0 keeps the planner from flattening the lateral
    // subquery into a join): left to itself it hashes the whole items table once a batch is
    // large, a cost that grows with every item archived.
    let rows = sqlx::query(
        "SELECT i.platform, i.external_id, i.version_digest, i.seq \
         FROM UNNEST($1::text[], $2::text[]) AS k(platform, external_id) \
         CROSS JOIN LATERAL (SELECT platform, external_id, version_digest, seq FROM items \
             WHERE platform = k.platform AND external_id = k.external_id OFFSET 0) i",
    )
    .bind(keys.iter().map(|(platform, _)| platform.as_str()).collect::<Vec<_>>())
    .bind(keys.iter().map(|(_, external_id)| external_id.as_str()).collect::<Vec<_>>())
    .fetch_all(conn)
    .await
    .map_err(db("looking up archived versions"))?;
    for row in rows {
        existing
            .entry((row.get("platform"), row.get("external_id")))
            .or_default()
            .push((to_hash(row.get("version_digest"))?, to_u64(row.get("seq"))));
    }
    Ok(existing)
}

pub(crate) async fn append_entry(
    conn: &mut PgConnection,
    kind: EntryKind,
    payload: String,
    recorded_at: Timestamp,
) -> Result<Entry, StoreError> {
    let head = head(conn).await?;
    let entry = Entry::next(head, kind, format_time(recorded_at), payload);
    insert_entries(conn, std::slice::from_ref(&entry)).await?;
    Ok(entry)
}

/// PostgreSQL's limits on a `tsvector`: longest lexeme in bytes, highest position, positions
/// kept per lexeme, and bytes of lexemes and positions (1 MiB less one; kept well under).
const MAX_LEXEME: usize = 2_046;
const MAX_POSITION: usize = 16_383;
const MAX_POSITIONS: usize = 256;
const MAX_TSVECTOR: usize = 1_000_000;

/// An item's words (as `archive::tokens` wrote them, separated by spaces) as a `tsvector`:
/// each distinct word once, with its positions for phrase matching.
///
/// It is built here, not by `to_tsvector`, so the index holds exactly the core's words, and
/// sent in PostgreSQL's binary format, which the server reads without parsing a literal.
/// PostgreSQL's limits still apply and are met here rather than failing the batch: words
/// longer than 2,046 bytes are not indexed, positions past 16,383 count as 16,383, a word keeps
/// its first 256 positions, and an enormous text stops adding new words once the vector nears
/// 1 MiB. Only phrase searches deep inside very long texts notice.
#[derive(Debug)]
struct TsVector<'a> {
    /// The distinct words in byte order (PostgreSQL's own), each with its positions, rising.
    lexemes: Vec<(&'a str, Vec<u16>)>,
}

fn tsvector(words: &str) -> TsVector<'_> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut lexemes: Vec<(&str, Vec<u16>)> = Vec::new();
    let mut size = 0;
    for (i, word) in words.split(' ').filter(|w| !w.is_empty()).enumerate() {
        // The binary format ends a word at NUL; the core's words never hold one.
        if word.len() > MAX_LEXEME || word.contains('\0') {
            continue;
        }
        let position = u16::try_from((i + 1).min(MAX_POSITION)).unwrap_or(u16::MAX);
        match index.get(word) {
            Some(&at) => {
                let positions = &mut lexemes[at].1;
                if positions.len() < MAX_POSITIONS
                    && positions.last() != Some(&position)
                    && size + 2 <= MAX_TSVECTOR
                {
                    positions.push(position);
                    size += 2;
                }
            }
            None => {
                // The word, padded to an even length, a count of positions and one position.
                let cost = word.len() + word.len() % 2 + 4;
                if size + cost > MAX_TSVECTOR {
                    continue;
                }
                size += cost;
                index.insert(word, lexemes.len());
                lexemes.push((word, vec![position]));
            }
        }
    }
    // Sent sorted, the server has nothing to sort.
    lexemes.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    TsVector { lexemes }
}

impl sqlx::Type<Postgres> for TsVector<'_> {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("tsvector")
    }
}

impl PgHasArrayType for TsVector<'_> {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("_tsvector")
    }
}

/// The binary form `tsvectorrecv` reads: the number of words, then each word's bytes ended by
/// NUL, its number of positions and the positions (weight bits left at zero), big-endian.
impl sqlx::Encode<'_, Postgres> for TsVector<'_> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        buf.extend_from_slice(&i32::try_from(self.lexemes.len())?.to_be_bytes());
        for (word, positions) in &self.lexemes {
            buf.extend_from_slice(word.as_bytes());
            buf.push(0);
            buf.extend_from_slice(&u16::try_from(positions.len())?.to_be_bytes());
            for position in positions {
                buf.extend_from_slice(&position.to_be_bytes());
            }
        }
        Ok(IsNull::No)
    }
}

/// The text form, as PostgreSQL prints a `tsvector`, to compare with it in tests.
#[cfg(test)]
impl std::fmt::Display for TsVector<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, (word, positions)) in self.lexemes.iter().enumerate() {
            if n > 0 {
                f.write_str(" ")?;
            }
            f.write_str("'")?;
            for c in word.chars() {
                if c == '\'' || c == '\\' {
                    write!(f, "{c}")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("':")?;
            for (p, position) in positions.iter().enumerate() {
                if p > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{position}")?;
            }
        }
        Ok(())
    }
}

/// The item columns of a summary, with the text: taken from the JSON payload by the database,
/// except for the rare payload with an escaped U+0000, which PostgreSQL's JSON operators
/// refuse to turn into text; those come whole and are decoded here.
const SUMMARY_COLUMNS: &str = "i.seq, i.platform, i.account, i.external_id, i.kind, i.author, i.author_type, \
     i.created_at, i.captured_at, i.sort_at, i.change, i.revises, i.action, i.findings, \
     CASE WHEN strpos(e.payload, E'\\\\u0000') = 0 THEN e.payload::json ->> 'text' END AS text, \
     CASE WHEN strpos(e.payload, E'\\\\u0000') > 0 THEN e.payload END AS nul_payload";

fn summary_from_row(row: &PgRow) -> Result<ItemSummary, StoreError> {
    let seq = to_u64(row.get("seq"));
    let sort_at: i64 = row.get("sort_at");
    let text = match row.get::<Option<String>, _>("nul_payload") {
        Some(payload) => serde_json::from_str::<serde_json::Value>(&payload)
            .map_err(|err| StoreError::new(ErrorKind::Corrupt, format!("entry {seq}: {err}")))?
            .get("text")
            .and_then(|text| text.as_str())
            .map(str::to_owned),
        None => row.get("text"),
    };
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
        text,
        cursor: Cursor { sort_at, seq },
    })
}

async fn retention_rules(conn: &mut PgConnection) -> Result<Vec<RetentionRule>, StoreError> {
    let payloads: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT e.payload FROM retention_rules r JOIN entries e ON e.seq = r.seq \
         WHERE r.seq = (SELECT max(seq) FROM retention_rules x WHERE x.id = r.id) ORDER BY r.id",
    )
    .fetch_all(conn)
    .await
    .map_err(db("reading retention rules"))?;
    shared::retention_rules(payloads)
}

async fn active_holds(conn: &mut PgConnection) -> Result<Vec<Hold>, StoreError> {
    let payloads: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT e.payload FROM holds h JOIN entries e ON e.seq = h.seq WHERE NOT EXISTS \
         (SELECT 1 FROM hold_releases r WHERE r.id = h.id AND r.seq > h.seq) ORDER BY h.seq",
    )
    .fetch_all(conn)
    .await
    .map_err(db("reading holds"))?;
    shared::holds(payloads)
}

async fn active_hold(conn: &mut PgConnection, id: &str) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar(shared::ACTIVE_HOLD)
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db("looking up holds"))
}

/// Appends a hold, hold release or retention entry and lists it under its name.
async fn append_named(
    conn: &mut PgConnection,
    kind: EntryKind,
    id: &str,
    payload: String,
    recorded_at: Timestamp,
) -> Result<u64, StoreError> {
    let (insert, doing) = shared::listing(kind)?;
    let entry = append_entry(conn, kind, payload, recorded_at).await?;
    sqlx::query(insert).bind(to_i64(entry.seq)).bind(id).execute(conn).await.map_err(db(doing))?;
    Ok(entry.seq)
}

// NULLS FIRST: SQLite's order for the unchecked group among equal counts.
crate::reads_impl::impl_item_reads!(
    PostgresStore,
    Postgres,
    item_sql: sqlx::AssertSqlSafe(format!(
        "SELECT {SUMMARY_COLUMNS} FROM items i JOIN entries e ON e.seq = i.seq WHERE i.seq = $1"
    )),
    nulls: " NULLS FIRST"
);

/// Plans `batch` against the chain as the transaction sees it and writes its rows.
async fn write_batch(
    tx: &mut PgConnection,
    batch: &[Prepared],
    recorded_at: Timestamp,
) -> Result<Planned, StoreError> {
    let keys = plan::keys(batch);
    let head = head(tx).await?;
    let existing = existing(tx, &keys).await?;
    let planned = plan::plan(batch, existing, head, &format_time(recorded_at));
    insert_planned(tx, &planned).await?;
    Ok(planned)
}

crate::reads_impl::impl_checkpoints!(PostgresStore, PgConnection);
crate::appends_impl::impl_appends!(PostgresStore);

#[async_trait]
impl Store for PostgresStore {
    async fn append_prepared(
        &self,
        batch: Vec<Prepared>,
        recorded_at: Timestamp,
        sign: Option<&SigningKey>,
    ) -> Result<AppendReport, StoreError> {
        shared::check_batch(&batch)?;
        let mut tx = self.begin().await?;
        let planned = write_batch(&mut tx, &batch, recorded_at).await?;
        if let Some(checkpoint) = planned.checkpoint(sign, Timestamp::now()) {
            insert_checkpoint(&mut tx, &checkpoint).await?;
        }
        tx.commit().await.map_err(db("committing a batch"))?;
        Ok(planned.report)
    }

    async fn append_audited(
        &self,
        batch: Vec<Prepared>,
        audit: &AuditRecord,
        recorded_at: Timestamp,
    ) -> Result<AppendReport, StoreError> {
        shared::check_batch(&batch)?;
        shared::check_audit(audit)?;
        let mut tx = self.begin().await?;
        let report = write_batch(&mut tx, &batch, recorded_at).await?.report;
        let action = crate::postgres_directory::append_action(&mut tx, audit, recorded_at).await?;
        tx.commit().await.map_err(db("committing a batch"))?;
        Ok(AppendReport { entries: report.entries + 1, head: Some(action), ..report })
    }

    async fn place_hold(&self, hold: &Hold, recorded_at: Timestamp) -> Result<u64, StoreError> {
        place_named_hold(self, hold, recorded_at).await
    }

    /// PostgreSQL samples a table again only once a tenth of it has changed, and an import
    /// that outruns it leaves the planner with the archive's size and word counts of part-way
    /// through: right after 1,000,000 items, searches for common words took up to 450 ms until
    /// the automatic sampling caught up, and 15 ms after. ANALYZE samples a bounded number of
    /// rows, so this takes about as long on any archive.
    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE items, findings")
            .execute(&self.pool)
            .await
            .map_err(db("refreshing the planner's statistics"))?;
        Ok(())
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
        let rows = sqlx::query(
            "SELECT e.seq, e.recorded_at, e.payload, released.seq AS released, re.payload AS release_payload \
             FROM holds h JOIN entries e ON e.seq = h.seq \
             LEFT JOIN LATERAL (SELECT r.seq FROM hold_releases r WHERE r.id = h.id AND r.seq > h.seq \
                 ORDER BY r.seq LIMIT 1) released ON TRUE \
             LEFT JOIN entries re ON re.seq = released.seq \
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
        let mut conn = self.pool.acquire().await.map_err(db("reading retention rules"))?;
        retention_rules(&mut conn).await
    }

    async fn disposal_candidates(
        &self,
        captured_before: Timestamp,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DisposalCandidate>, StoreError> {
        // No key holds U+0000, so comparing with the part before one gives the same order.
        let after = after.unwrap_or("");
        let after = after.split('\0').next().unwrap_or(after);
        let rows = sqlx::query(
            "SELECT i.platform || chr(10) || i.external_id COLLATE \"C\" AS key FROM items i \
             WHERE i.platform || chr(10) || i.external_id COLLATE \"C\" > $1 \
             GROUP BY i.platform, i.external_id \
             HAVING max(greatest(i.captured_at, coalesce(i.created_at, i.captured_at))) < $2 \
             AND EXISTS (SELECT 1 FROM items j WHERE j.platform = i.platform \
                 AND j.external_id = i.external_id \
                 AND NOT EXISTS (SELECT 1 FROM disposed d WHERE d.target = j.seq)) \
             ORDER BY key LIMIT $3",
        )
        .bind(after)
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
                "SELECT e.seq, e.payload, \
                 (SELECT string_agg(v.seq::text, ',' ORDER BY v.seq) FROM verdicts v WHERE v.item = i.seq) AS verdicts \
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
        let target_seqs: Vec<i64> = targets.iter().copied().map(to_i64).collect();
        let rows = sqlx::query(
            "SELECT seq, payload_sha256, payload IS NULL AS gone FROM entries WHERE seq = ANY($1)",
        )
        .bind(&target_seqs)
        .fetch_all(&mut *tx)
        .await
        .map_err(db("reading an entry to dispose"))?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in &rows {
            found.insert(
                to_u64(row.get("seq")),
                (row.get::<Vec<u8>, _>("payload_sha256"), row.get::<bool, _>("gone")),
            );
        }
        let mut payload_hashes = Vec::with_capacity(targets.len());
        for seq in &targets {
            match found.remove(seq) {
                None => {
                    return Err(StoreError::database(
                        "reading an entry to dispose",
                        sqlx::Error::RowNotFound,
                    ));
                }
                Some((_, true)) => return Ok(Disposal::AlreadyDisposed),
                Some((hash, false)) => payload_hashes.push((*seq, to_hash(hash)?)),
            }
        }
        let (rule, expired_at) = match shared::decide(candidate, &rules, &holds, now) {
            Ok(decision) => decision,
            Err(kept) => return Ok(kept),
        };
        let item = candidate.versions.first().map_or(0, |(seq, _)| *seq);
        let payload = disposition_payload(item, &payload_hashes, &rule, expired_at);
        let entry = append_entry(&mut tx, EntryKind::Disposition, payload, recorded_at).await?;
        sqlx::query("INSERT INTO disposed (target, disposition) SELECT t, $2 FROM UNNEST($1::bigint[]) AS t")
            .bind(&target_seqs)
            .bind(to_i64(entry.seq))
            .execute(&mut *tx)
            .await
            .map_err(db("recording a disposition"))?;
        sqlx::query("UPDATE entries SET payload = NULL WHERE seq = ANY($1)")
            .bind(&target_seqs)
            .execute(&mut *tx)
            .await
            .map_err(db("dropping disposed content"))?;
        let versions: Vec<i64> = candidate.versions.iter().map(|(seq, _)| to_i64(*seq)).collect();
        sqlx::query("UPDATE items SET tsv = NULL WHERE seq = ANY($1)")
            .bind(&versions)
            .execute(&mut *tx)
            .await
            .map_err(db("removing disposed words from the index"))?;
        tx.commit().await.map_err(db("committing a disposition"))?;
        Ok(Disposal::Disposed { entry: entry.seq, rule })
    }

    async fn search(&self, request: &SearchRequest) -> Result<Page, StoreError> {
        let limit = shared::check_limit(request.limit)?;
        shared::check_audience(&request.filters)?;
        let f = &request.filters;
        // Nothing stored holds U+0000 (PostgreSQL text cannot), so such a filter matches nothing.
        let texts = [&f.platform, &f.account, &f.author, &f.category, &f.rule];
        if texts.iter().any(|text| text.as_ref().is_some_and(|text| text.contains('\0'))) {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let mut builder = QueryBuilder::<Postgres>::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM items i JOIN entries e ON e.seq = i.seq"
        ));
        builder.push(" WHERE TRUE");
        if !request.query.is_empty() {
            builder.push(" AND i.tsv @@ ");
            builder.push_bind(shared::tsquery(&request.query)).push("::tsquery");
        }
        // With the "C" collation, lower() changes ASCII letters only, as NOCASE does.
        shared::push_filters(&mut builder, f, |column| format!("lower({column} COLLATE \"C\")"));
        if let Some(cursor) = request.cursor {
            builder.push(" AND (i.sort_at, i.seq) < (").push_bind(cursor.sort_at);
            builder.push(", ").push_bind(to_i64(cursor.seq)).push(")");
        }
        builder.push(" ORDER BY i.sort_at DESC, i.seq DESC LIMIT ").push_bind(i64::from(limit) + 1);
        // Planned anew for each search, never as a cached generic plan: how many items a word
        // and a time window select varies by orders of magnitude ("the" against a rare name),
        // and a generic plan that collects every item holding the word before sorting them
        // took half a second for "the" where walking the time index takes a millisecond.
        let query = builder.build().persistent(false);
        let rows = query.fetch_all(&self.pool).await.map_err(db("searching"))?;
        let summaries = rows.iter().map(summary_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(shared::page(summaries, limit))
    }

    async fn item(&self, seq: u64) -> Result<Option<ItemDetail>, StoreError> {
        read_item(self, seq).await
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        read_stats(self).await
    }

    async fn entries(&self, from: u64, limit: u64) -> Result<Vec<Entry>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, kind, recorded_at, prev, payload_sha256, hash, payload FROM entries \
             WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(to_i64(from))
        .bind(to_i64(limit.min(crate::MAX_PAGE)))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading entries"))?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn item_rows(&self, from: u64, to: u64) -> Result<Vec<ItemRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, platform, account, external_id, kind, author, author_type, created_at, captured_at, \
             change, revises, version_digest, sort_at, action, findings, tsv IS NOT NULL AS indexed \
             FROM items WHERE seq >= $1 AND seq < $2 ORDER BY seq",
        )
        .bind(to_i64(from))
        .bind(to_i64(to))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading items"))?;
        rows.iter()
            .map(|row| {
                Ok(ItemRow {
                    seq: to_u64(row.get("seq")),
                    platform: row.get("platform"),
                    account: row.get("account"),
                    external_id: row.get("external_id"),
                    kind: row.get("kind"),
                    author: row.get("author"),
                    author_type: row.get("author_type"),
                    created_at: row.get("created_at"),
                    captured_at: row.get("captured_at"),
                    change: row.get("change"),
                    revises: row.get::<Option<i64>, _>("revises").map(to_u64),
                    version_digest: to_hash(row.get("version_digest"))?,
                    sort_at: row.get("sort_at"),
                    action: row.get("action"),
                    findings: row.get("findings"),
                    indexed: Some(row.get("indexed")),
                })
            })
            .collect()
    }

    async fn projection_rows(&self, from: u64, to: u64) -> Result<ProjectionRows, StoreError> {
        let range = (to_i64(from), to_i64(to));
        let (verdicts, findings, records) = tokio::try_join!(
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT seq, item FROM verdicts WHERE seq >= $1 AND seq < $2"
            )
            .bind(range.0)
            .bind(range.1)
            .fetch_all(&self.pool),
            sqlx::query_as::<_, (i64, i64, String, String)>(
                "SELECT verdict, item, category, rule FROM findings WHERE verdict >= $1 AND verdict < $2"
            )
            .bind(range.0)
            .bind(range.1)
            .fetch_all(&self.pool),
            sqlx::query_as::<_, (i64, String, String)>(shared::RECORD_ROWS)
                .bind(range.0)
                .bind(range.1)
                .fetch_all(&self.pool),
        )
        .map_err(db("reading verdicts, findings, holds and retention rules"))?;
        Ok(ProjectionRows {
            verdicts: verdicts.into_iter().map(|(seq, item)| (to_u64(seq), to_u64(item))).collect(),
            findings: findings
                .into_iter()
                .map(|(verdict, item, category, rule)| {
                    (to_u64(verdict), to_u64(item), category, rule)
                })
                .collect(),
            records: records
                .into_iter()
                .map(|(seq, table, id)| (to_u64(seq), shared::record_kind(&table), id))
                .collect(),
        })
    }

    async fn head(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db("reading the chain's head"))?;
        head(&mut conn).await
    }

    async fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        write_checkpoint(self, checkpoint).await
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        read_checkpoints(self).await
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::{Arc, OnceLock};
    use std::time::Instant;

    use lifeguard_core::archive::{Item, Query, SigningKey};
    use lifeguard_core::policy::{MemoryFiles, load};
    use lifeguard_core::{Engine, default_policy};
    use sqlx::{Connection as _, Executor as _};

    use super::*;
    use crate::types::{Checked, Filters};

    #[test]
    fn tsvector_keeps_the_core_words_and_positions() {
        assert_eq!(tsvector("").to_string(), "");
        assert_eq!(
            tsvector("the cat saw the dog").to_string(),
            "'cat':2 'dog':5 'saw':3 'the':1,4",
            "words in byte order, each with its positions"
        );
        assert_eq!(
            tsvector("it's a\\b").to_string(),
            "'a\\\\b':2 'it''s':1",
            "quotes and backslashes are escaped in the text form"
        );
        assert_eq!(
            tsvector("፲ 中文").to_string(),
            "'፲':1 '中文':2",
            "words PostgreSQL's parser would drop are kept"
        );
    }

    #[test]
    fn tsvector_stays_within_postgres_limits() {
        let long = "x".repeat(MAX_LEXEME + 1);
        assert_eq!(
            tsvector(&format!("a {long} b")).to_string(),
            "'a':1 'b':3",
            "an overlong word is skipped, not renumbered"
        );
        let repeated = vec!["w"; 20_000].join(" ");
        let vector = tsvector(&repeated);
        assert_eq!(
            vector.lexemes[0].1.len(),
            MAX_POSITIONS,
            "a word keeps its first 256 positions"
        );
        let mut late = vec!["w"; MAX_POSITION + 10];
        late.push("end");
        late.push("end");
        assert!(
            tsvector(&late.join(" ")).to_string().starts_with("'end':16383 "),
            "late positions clamp and merge"
        );
        // A text of distinct words larger than a tsvector can hold keeps its first words.
        let many: Vec<String> = (0..200_000).map(|i| format!("w{i:06}")).collect();
        let many = many.join(" ");
        let vector = tsvector(&many);
        assert!(vector.to_string().starts_with("'w000000':1 'w000001':2"));
        let kept = vector.lexemes.len();
        assert!(kept > 80_000 && kept < 200_000, "{kept}");
        assert!(vector.lexemes.iter().all(|(word, _)| *word < "w200000"));
    }

    /// PostgreSQL reads the binary form into the vector the text form describes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tsvector_binary_form_is_what_postgres_reads() {
        with_database(|options| async move {
            let mut conn = PgConnection::connect_with(&options).await.expect("connect");
            let many: Vec<String> = (0..200_000).map(|i| format!("w{i:06}")).collect();
            let mut late = vec!["w"; MAX_POSITION + 10];
            late.extend(["end", "end"]);
            let texts = [
                String::new(),
                "the cat saw the dog".to_owned(),
                "it's a\\b ፲ 中文 café zürich".to_owned(),
                "zebra apple mango apple zebra zebra".to_owned(),
                vec!["w"; 20_000].join(" "),
                late.join(" "),
                many.join(" "),
            ];
            let vectors: Vec<TsVector<'_>> = texts.iter().map(|t| tsvector(t)).collect();
            let printed: Vec<String> =
                sqlx::query_scalar("SELECT v::text FROM UNNEST($1::tsvector[]) AS u(v)")
                    .bind(&vectors)
                    .fetch_all(&mut conn)
                    .await
                    .expect("PostgreSQL reads the vectors");
            assert_eq!(printed.len(), vectors.len());
            for ((text, vector), printed) in texts.iter().zip(&vectors).zip(&printed) {
                assert!(*printed == vector.to_string(), "{}", &text[..text.len().min(40)]);
            }
            let matched: bool =
                sqlx::query_scalar("SELECT $1::tsvector @@ to_tsquery('simple', 'saw <-> the')")
                    .bind(tsvector("the cat saw the dog"))
                    .fetch_one(&mut conn)
                    .await
                    .expect("a phrase query");
            assert!(matched, "positions reach the server");
            conn.close().await.expect("close");
        })
        .await;
    }

    fn engine() -> &'static Engine {
        static ENGINE: OnceLock<Engine> = OnceLock::new();
        ENGINE.get_or_init(|| {
            let files = MemoryFiles::new(default_policy::TERM_FILES.iter().copied());
            load("policy.md", default_policy::POLICY, &files)
                .engine
                .expect("the default policy compiles")
        })
    }

    fn time(text: &str) -> Timestamp {
        text.parse().expect("a test time")
    }

    fn checked(id: &str, text: &str) -> Checked {
        let mut item = Item::new("x", id, text, time("2024-01-01T00:00:00Z"));
        item.account = "@acme".into();
        item.author = "dana".into();
        let verdict = Some(engine().check(&item.post()));
        Checked { item, verdict }
    }

    /// Runs a test against a new database on the server `LIFEGUARD_TEST_DATABASE_URL` names
    /// (the role must be allowed to create databases), dropping it afterwards, pass or fail.
    async fn with_database<F, Fut>(test: F)
    where
        F: FnOnce(PgConnectOptions) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Ok(admin) = std::env::var("LIFEGUARD_TEST_DATABASE_URL") else {
            eprintln!("skipped: LIFEGUARD_TEST_DATABASE_URL not set");
            return;
        };
        let url = crate::create_scratch_database(&admin, "lifeguard_test")
            .await
            .expect("create a database on the test server");
        let options = PgConnectOptions::from_str(&url).expect("a scratch database's URL");
        let outcome = tokio::spawn(test(options)).await;
        crate::drop_scratch_database(&admin, &url).await.expect("drop the test database");
        if let Err(err) = outcome {
            std::panic::resume_unwind(err.into_panic());
        }
    }

    /// Runs each statement on `conn` and checks that the archive's guards refuse it.
    async fn assert_refused(conn: &mut PgConnection, statements: &[&'static str]) {
        for sql in statements {
            let err = conn.execute(*sql).await.expect_err(sql);
            let err = StoreError::database("tampering", err);
            assert_eq!(err.kind(), ErrorKind::AppendOnly, "{sql}: {err}");
        }
    }

    async fn open(options: &PgConnectOptions) -> PostgresStore {
        PostgresStore::open_with(options.clone(), "the test database").await.expect("open")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_in_two_processes_keep_one_chain() {
        with_database(|options| async move {
            // Two pools stand for two processes: nothing in this process orders their writes.
            let stores = [Arc::new(open(&options).await), Arc::new(open(&options).await)];
            let mut writers = Vec::new();
            for (s, store) in stores.iter().enumerate() {
                for w in 0..3 {
                    let store = Arc::clone(store);
                    writers.push(tokio::spawn(async move {
                        for round in 0..5 {
                            let batch: Vec<Checked> = (0..40)
                                .map(|i| {
                                    checked(&format!("{s}-{w}-{round}-{i}"), "a parallel writer")
                                })
                                .collect();
                            store
                                .append(&batch, time("2024-01-02T00:00:00Z"))
                                .await
                                .expect("append");
                        }
                    }));
                }
            }
            for writer in writers {
                writer.await.expect("writer");
            }
            let key = SigningKey::from_seed(&[7; 32]).verifying_key();
            let report = crate::verify(stores[1].as_ref(), Some(&key), &mut |_, _| {})
                .await
                .expect("one unbroken chain");
            assert_eq!((report.items, report.entries), (1_200, 2_400));
            assert_eq!(stores[0].head().await.expect("head"), report.head);
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_a_disposed_items_words_may_leave_the_index() {
        with_database(|options| async move {
            let store = open(&options).await;
            store
                .append(
                    &[checked("1", "Guaranteed returns"), checked("2", "Guaranteed profits")],
                    time("2024-01-02T00:00:00Z"),
                )
                .await
                .expect("append");
            let mut conn = PgConnection::connect_with(&options).await.expect("connect");
            // What disposal records first; the item's entries stay as they are here.
            conn.execute("INSERT INTO disposed (target, disposition) VALUES (1, 4)")
                .await
                .expect("record a disposition");
            assert_refused(
                &mut conn,
                &[
                    "UPDATE items SET tsv = NULL WHERE seq = 3",
                    "UPDATE items SET tsv = NULL, author = 'someone else' WHERE seq = 1",
                    "UPDATE items SET tsv = '' WHERE seq = 1",
                    "DELETE FROM items WHERE seq = 1",
                ],
            )
            .await;
            conn.execute("UPDATE items SET tsv = NULL WHERE seq = 1")
                .await
                .expect("a disposed item's words may go");
            conn.close().await.expect("close");
            let page = store
                .search(&SearchRequest::new(Query::parse("guaranteed").expect("q")))
                .await
                .expect("search");
            let found: Vec<u64> = page.items.iter().map(|i| i.seq).collect();
            assert_eq!(found, [3]);
        })
        .await;
    }

    /// An archive written before the search words moved into `items` keeps them, and keeps a
    /// disposed item's words out of the index.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migration_moves_the_search_words_into_items() {
        with_database(|options| async move {
            let earlier = tempfile::tempdir().expect("a folder");
            for (name, sql) in [
                ("0001_archive.sql", include_str!("../migrations/postgres/0001_archive.sql")),
                ("0002_directory.sql", include_str!("../migrations/postgres/0002_directory.sql")),
            ] {
                std::fs::write(earlier.path().join(name), sql).expect("write a migration");
            }
            let pool = PgPool::connect_with(options.clone()).await.expect("connect");
            let migrator =
                sqlx::migrate::Migrator::new(earlier.path()).await.expect("the first migrations");
            migrator.run(&pool).await.expect("migrate to the earlier layout");
            for seq in [1, 3] {
                sqlx::query(
                    "INSERT INTO items (seq, platform, account, external_id, kind, author, \
                     author_type, captured_at, sort_at, change, version_digest, findings) \
                     VALUES ($1, 'x', '@acme', $1::text, 'post', 'dana', 'employee', 0, 0, 'new', '', 0)",
                )
                .bind(seq)
                .execute(&pool)
                .await
                .expect("an item row");
            }
            sqlx::query("INSERT INTO items_search (seq, tsv) VALUES (1, 'saw:2 the:1,3')")
                .execute(&pool)
                .await
                .expect("its words");
            for (item, verdict) in [(1, 2), (3, 4)] {
                sqlx::query("INSERT INTO verdicts (seq, item) VALUES ($1, $2)")
                    .bind(verdict)
                    .bind(item)
                    .execute(&pool)
                    .await
                    .expect("a verdict row");
            }
            pool.close().await;

            let store = open(&options).await;
            let rows: Vec<(i64, Option<String>)> =
                sqlx::query_as("SELECT seq, tsv::text FROM items ORDER BY seq")
                    .fetch_all(&store.pool)
                    .await
                    .expect("items");
            assert_eq!(rows, [(1, Some("'saw':2 'the':1,3".to_owned())), (3, None)]);
            let verdicts: Vec<(i64, i64)> =
                sqlx::query_as("SELECT item, seq FROM verdicts ORDER BY item")
                    .fetch_all(&store.pool)
                    .await
                    .expect("verdicts");
            assert_eq!(verdicts, [(1, 2), (3, 4)]);
            let err = sqlx::query("INSERT INTO verdicts (seq, item) VALUES (2, 1)")
                .execute(&store.pool)
                .await
                .expect_err("a verdict row twice");
            assert!(err.to_string().contains("verdicts_pkey"), "{err}");
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn truncation_and_stray_index_deletes_are_refused() {
        with_database(|options| async move {
            let store = open(&options).await;
            store
                .append(&[checked("1", "Guaranteed returns")], time("2024-01-02T00:00:00Z"))
                .await
                .expect("append");
            let mut conn = PgConnection::connect_with(&options).await.expect("connect");
            assert_refused(
                &mut conn,
                &[
                    "TRUNCATE entries CASCADE",
                    "TRUNCATE items CASCADE",
                    "TRUNCATE verdicts CASCADE",
                    "TRUNCATE findings",
                    "TRUNCATE holds",
                    "TRUNCATE hold_releases",
                    "TRUNCATE retention_rules",
                    "TRUNCATE disposed",
                    "TRUNCATE checkpoints",
                    "UPDATE items SET tsv = NULL",
                    "UPDATE items SET tsv = ''",
                ],
            )
            .await;
            conn.close().await.expect("close");
            let page = store
                .search(&SearchRequest::new(Query::parse("guaranteed").expect("q")))
                .await
                .expect("search");
            assert_eq!(page.items.len(), 1);
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nul_characters_are_kept_in_text_and_refused_in_names() {
        with_database(|options| async move {
            let store = open(&options).await;
            let text = "before\0after ፲";
            store
                .append(&[checked("1", text)], time("2024-01-02T00:00:00Z"))
                .await
                .expect("append");
            for query in ["before", "after", "፲"] {
                let page = store
                    .search(&SearchRequest::new(Query::parse(query).expect("q")))
                    .await
                    .expect("search");
                assert_eq!(
                    page.items.iter().map(|i| i.text.as_deref()).collect::<Vec<_>>(),
                    [Some(text)],
                    "{query}"
                );
            }
            let detail = store.item(1).await.expect("item").expect("exists");
            assert_eq!(detail.summary.text.as_deref(), Some(text));

            let mut bad = checked("2", "fine");
            bad.item.author = "da\0na".into();
            let err = store
                .append(&[checked("3", "fine"), bad], time("2024-01-02T00:00:00Z"))
                .await
                .expect_err("NUL");
            assert_eq!(err.kind(), ErrorKind::Invalid);
            assert!(err.to_string().contains("item 2 of the batch: field `author`"), "{err}");
            assert_eq!(
                store.head().await.expect("head").map(|(seq, _)| seq),
                Some(2),
                "nothing half-way"
            );

            let mut request = SearchRequest::new(Query::default());
            request.filters = Filters { author: Some("da\0na".into()), ..Filters::default() };
            assert!(store.search(&request).await.expect("search").items.is_empty());
            let err = store
                .release_hold("a\0b", "done", "legal", time("2024-01-03T00:00:00Z"))
                .await
                .expect_err("none");
            assert_eq!(err.kind(), ErrorKind::Invalid);
            let after = "x\n1\0";
            let candidates = store
                .disposal_candidates(time("2031-01-01T00:00:00Z"), Some(after), 10)
                .await
                .expect("candidates");
            assert!(candidates.is_empty(), "x/1 sorts before `x\\n1\\0`");
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_longest_text_is_archived_and_searchable() {
        with_database(|options| async move {
            let store = open(&options).await;
            let words: Vec<String> = (0..130_000).map(|i| format!("w{i:06}")).collect();
            let text = words.join(" ");
            assert!(text.len() <= lifeguard_core::archive::MAX_TEXT);
            let report = store
                .append(&[checked("1", &text)], time("2024-01-02T00:00:00Z"))
                .await
                .expect("append");
            assert_eq!(report.added, 1);
            for query in ["w000000", "\"w000001 w000002\"", "w0000*"] {
                let page = store
                    .search(&SearchRequest::new(Query::parse(query).expect("q")))
                    .await
                    .expect("search");
                assert_eq!(page.items.len(), 1, "{query}");
            }
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopening_migrates_once() {
        with_database(|options| async move {
            let first = open(&options).await;
            first
                .append(&[checked("1", "hello")], time("2024-01-02T00:00:00Z"))
                .await
                .expect("append");
            let again = open(&options).await;
            assert_eq!(again.stats().await.expect("stats").items, 1);
        })
        .await;
    }

    /// `cargo test --release -p lifeguard-store --lib append_throughput -- --ignored --nocapture`
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement, not a check"]
    async fn append_throughput() {
        with_database(|options| async move {
            let store = open(&options).await;
            let phrases = [
                "Our quarterly invoice is ready for review",
                "This stock has guaranteed returns, buy now",
                "Call me at 415-555-0132 tonight about the launch",
                "Thanks everyone for coming to the meetup yesterday",
                "We are hiring engineers in Berlin and Lisbon",
            ];
            let total = 100_000;
            let started = Instant::now();
            // Prepared beforehand, as the importer does on other threads.
            let batches: Vec<Vec<Prepared>> = (0..total / 1_000)
                .map(|b| {
                    (0..1_000)
                        .map(|i| {
                            let n = b * 1_000 + i;
                            let text = format!("{} #{n} update {}", phrases[n % phrases.len()], n % 97);
                            let mut checked = checked(&n.to_string(), &text);
                            let offset = jiff::SignedDuration::from_secs(i64::try_from(n).expect("small"));
                            checked.item.created_at = Some(time("2024-01-01T00:00:00Z") + offset);
                            Prepared::new(checked)
                        })
                        .collect()
                })
                .collect();
            eprintln!("prepared {total} checked items in {:.1?}", started.elapsed());
            let started = Instant::now();
            for batch in batches {
                store.append_prepared(batch, time("2024-01-02T00:00:00Z"), None).await.expect("append");
            }
            let elapsed = started.elapsed();
            let rate = f64::from(u32::try_from(total).expect("small")) / elapsed.as_secs_f64();
            eprintln!("appended {total} items with verdicts in batches of 1,000: {elapsed:.1?}, {rate:.0} items/s");
        })
        .await;
    }
}
