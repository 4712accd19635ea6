//! `Store::item`, `Store::stats` and the checkpoints, written once: every statement but the
//! item's own columns is the same on both databases, and the row decoders (`summary_from_row`,
//! `entry_from_row`) are each backend's. Like `directory_impl.rs`, one macro expanded in
//! `sqlite.rs` and `postgres.rs` keeps the two from drifting apart.

/// Defines `read_item(store, seq)` and `read_stats(store)` in the module it is expanded in,
/// for `$store` (with a `pool` field) on database `$db`. `$item_sql` selects one item's
/// summary columns by `$1`; `$nulls` follows each grouped count's `ORDER BY`, so both
/// databases put the unchecked group (NULL) in the same place among equal counts.
macro_rules! impl_item_reads {
    ($store:ty, $db:ty, item_sql: $item_sql:expr, nulls: $nulls:literal) => {
        async fn read_item(store: &$store, seq: u64) -> Result<Option<ItemDetail>, StoreError> {
            let row = sqlx::query($item_sql)
                .bind(to_i64(seq))
                .fetch_optional(&store.pool)
                .await
                .map_err(db("reading an item"))?;
            let Some(row) = row else { return Ok(None) };
            let summary = summary_from_row(&row)?;
            let entry = store.entries(seq, 1).await?.pop().ok_or_else(|| {
                StoreError::new(ErrorKind::Corrupt, format!("item {seq} has no entry"))
            })?;
            let versions = sqlx::query(
                "SELECT seq, change, captured_at FROM items WHERE platform = $1 AND external_id = $2 ORDER BY seq",
            )
            .bind(&summary.platform)
            .bind(&summary.external_id)
            .fetch_all(&store.pool)
            .await
            .map_err(db("reading an item's versions"))?
            .into_iter()
            .map(|row| {
                shared::version(to_u64(row.get("seq")), row.get("change"), row.get("captured_at"))
            })
            .collect();
            let verdict_rows = sqlx::query(
                "SELECT e.seq, e.kind, e.recorded_at, e.prev, e.payload_sha256, e.hash, e.payload \
                 FROM verdicts v JOIN entries e ON e.seq = v.seq WHERE v.item = $1 ORDER BY e.seq",
            )
            .bind(to_i64(seq))
            .fetch_all(&store.pool)
            .await
            .map_err(db("reading an item's verdicts"))?;
            let verdicts =
                verdict_rows.iter().map(entry_from_row).collect::<Result<Vec<_>, _>>()?;
            let disposed_by: Option<i64> =
                sqlx::query_scalar("SELECT disposition FROM disposed WHERE target = $1")
                    .bind(to_i64(seq))
                    .fetch_optional(&store.pool)
                    .await
                    .map_err(db("reading an item's disposition"))?;
            Ok(Some(shared::detail(summary, entry, versions, verdicts, disposed_by.map(to_u64))))
        }

        async fn read_stats(store: &$store) -> Result<Stats, StoreError> {
            let pool: &sqlx::Pool<$db> = &store.pool;
            let scalar = |sql: &'static str| async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(pool)
                    .await
                    .map(to_u64)
                    .map_err(db("counting"))
            };
            let grouped = |sql: &'static str| async move {
                let rows = sqlx::query(sql).fetch_all(pool).await.map_err(db("counting"))?;
                Ok::<_, StoreError>(
                    rows.iter()
                        .map(|row| {
                            (
                                row.get::<Option<String>, _>(0)
                                    .unwrap_or_else(|| "unchecked".into()),
                                to_u64(row.get(1)),
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            };
            let mut stats = Stats {
                entries: scalar("SELECT count(*) FROM entries").await?,
                items: scalar("SELECT count(*) FROM items").await?,
                verdicts: scalar("SELECT count(*) FROM verdicts").await?,
                disposed: scalar("SELECT count(*) FROM disposed d JOIN items i ON i.seq = d.target")
                    .await?,
                checkpoints: scalar("SELECT count(*) FROM checkpoints").await?,
                by_platform: grouped(concat!(
                    "SELECT platform, count(*) FROM items GROUP BY platform ORDER BY 2 DESC, 1",
                    $nulls
                ))
                .await?,
                by_kind: grouped(concat!(
                    "SELECT kind, count(*) FROM items GROUP BY kind ORDER BY 2 DESC, 1",
                    $nulls
                ))
                .await?,
                by_action: grouped(concat!(
                    "SELECT action, count(*) FROM items GROUP BY action ORDER BY 2 DESC, 1",
                    $nulls
                ))
                .await?,
                ..Stats::default()
            };
            stats.last_checkpoint =
                sqlx::query_scalar::<_, Option<i64>>("SELECT max(seq) FROM checkpoints")
                    .fetch_one(pool)
                    .await
                    .map_err(db("counting"))?
                    .map(to_u64);
            let span =
                sqlx::query("SELECT min(sort_at) AS oldest, max(sort_at) AS newest FROM items")
                    .fetch_one(pool)
                    .await
                    .map_err(db("counting"))?;
            if let (Some(oldest), Some(newest)) =
                (span.get::<Option<i64>, _>("oldest"), span.get::<Option<i64>, _>("newest"))
            {
                stats.span = Some((plan::from_micros(oldest), plan::from_micros(newest)));
            }
            stats.active_holds =
                store.holds().await?.iter().filter(|h| h.released.is_none()).count() as u64;
            stats.retention_rules = store.retention_rules().await?.len() as u64;
            stats.head = store.head().await?;
            Ok(stats)
        }
    };
}

pub(crate) use impl_item_reads;

/// Defines `write_checkpoint(store, checkpoint)` and `read_checkpoints(store)` for `$store`
/// (with a `pool` field, and a `begin()` that takes the archive's write lock).
macro_rules! impl_checkpoints {
    ($store:ty, $connection:ty) => {
        /// Stores `checkpoint` inside the caller's transaction.
        async fn insert_checkpoint(
            connection: &mut $connection,
            checkpoint: &Checkpoint,
        ) -> Result<(), StoreError> {
            sqlx::query(shared::INSERT_CHECKPOINT)
                .bind(to_i64(checkpoint.seq))
                .bind(checkpoint.head.as_slice())
                .bind(&checkpoint.signed_at)
                .bind(&checkpoint.key_id)
                .bind(checkpoint.signature.as_slice())
                .execute(connection)
                .await
                .map_err(db("writing a checkpoint"))?;
            Ok(())
        }

        async fn write_checkpoint(
            store: &$store,
            checkpoint: &Checkpoint,
        ) -> Result<(), StoreError> {
            let mut tx = store.begin().await?;
            let hash: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT hash FROM entries WHERE seq = $1")
                    .bind(to_i64(checkpoint.seq))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db("reading a checkpoint's entry"))?;
            shared::check_checkpoint(checkpoint, hash.map(to_hash).transpose()?)?;
            insert_checkpoint(&mut *tx, checkpoint).await?;
            tx.commit().await.map_err(db("committing a checkpoint"))?;
            Ok(())
        }

        async fn read_checkpoints(store: &$store) -> Result<Vec<Checkpoint>, StoreError> {
            let rows = sqlx::query(
                "SELECT seq, head, signed_at, key_id, signature FROM checkpoints ORDER BY seq",
            )
            .fetch_all(&store.pool)
            .await
            .map_err(db("reading checkpoints"))?;
            rows.iter()
                .map(|row| {
                    shared::checkpoint(
                        to_u64(row.get("seq")),
                        row.get("head"),
                        row.get("signed_at"),
                        row.get("key_id"),
                        row.get("signature"),
                    )
                })
                .collect()
        }
    };
}

pub(crate) use impl_checkpoints;
