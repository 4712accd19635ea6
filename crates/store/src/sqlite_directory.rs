//! The directory on SQLite (see `directory_impl.rs`), and the action entry's append.

use jiff::Timestamp;
use lifeguard_core::archive::{AuditRecord, EntryKind};

use crate::error::StoreError;
use crate::shared::{self, db, to_i64};

/// Appends an action entry and its row in the audit trail, inside the caller's transaction.
pub(crate) async fn append_action(
    tx: &mut crate::sqlite::WriteTx,
    audit: &AuditRecord,
    recorded_at: Timestamp,
) -> Result<u64, StoreError> {
    shared::check_audit(audit)?;
    let entry =
        crate::sqlite::append_entry(tx, EntryKind::Action, audit.payload(), recorded_at).await?;
    sqlx::query(shared::INSERT_ACTION)
        .bind(to_i64(entry.seq))
        .bind(shared::action_time(&entry)?)
        .bind(&audit.actor)
        .bind(&audit.action)
        .bind(audit.target.as_deref())
        .execute(&mut **tx)
        .await
        .map_err(db("writing an action"))?;
    Ok(entry.seq)
}

crate::directory_impl::impl_directory!(
    crate::sqlite::SqliteStore,
    sqlx::Sqlite,
    sqlx::SqliteConnection,
    crate::sqlite_directory::append_action
);
