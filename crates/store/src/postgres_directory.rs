//! The directory on PostgreSQL (see `directory_impl.rs`), and the action entry's append.

use jiff::Timestamp;
use lifeguard_core::archive::{AuditRecord, EntryKind};
use sqlx::PgConnection;

use crate::error::StoreError;
use crate::shared::{self, db, to_i64};

/// Appends an action entry and its row in the audit trail, inside the caller's transaction.
pub(crate) async fn append_action(
    conn: &mut PgConnection,
    audit: &AuditRecord,
    recorded_at: Timestamp,
) -> Result<u64, StoreError> {
    shared::check_audit(audit)?;
    let entry =
        crate::postgres::append_entry(conn, EntryKind::Action, audit.payload(), recorded_at)
            .await?;
    sqlx::query(shared::INSERT_ACTION)
        .bind(to_i64(entry.seq))
        .bind(shared::action_time(&entry)?)
        .bind(&audit.actor)
        .bind(&audit.action)
        .bind(audit.target.as_deref())
        .execute(conn)
        .await
        .map_err(db("writing an action"))?;
    Ok(entry.seq)
}

crate::directory_impl::impl_directory!(
    crate::postgres::PostgresStore,
    sqlx::Postgres,
    sqlx::PgConnection,
    crate::postgres_directory::append_action
);
