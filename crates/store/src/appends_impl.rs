//! The appends both backends make the same way, written once: a legal hold placed or
//! released, and a retention rule set or removed. Each runs in one
//! transaction under the archive's write lock (the backend's `begin()`), using the backend's
//! own statements (`append_named`, `active_hold`, `retention_rules`).
//! The shared checks refuse text PostgreSQL cannot store (NUL) on both databases, so both
//! accept the same input.

/// Defines `place_named_hold`, `release_named_hold`, `set_retention_rule` and
/// `remove_retention_rule` for `$store`.
macro_rules! impl_appends {
    ($store:ty) => {
        async fn place_named_hold(
            store: &$store,
            hold: &Hold,
            recorded_at: Timestamp,
        ) -> Result<u64, StoreError> {
            shared::check_hold(hold)?;
            let mut tx = store.begin().await?;
            if active_hold(&mut tx, &hold.id).await?.is_some() {
                return Err(StoreError::invalid(format!(
                    "a hold named `{}` is already in force",
                    hold.id
                )));
            }
            let query_text = hold.scope.query.as_ref().map(shared::query_text);
            let seq = append_named(
                &mut tx,
                EntryKind::Hold,
                &hold.id,
                hold_payload(hold, query_text.as_deref()),
                recorded_at,
            )
            .await?;
            tx.commit().await.map_err(db("committing a hold"))?;
            Ok(seq)
        }

        async fn release_named_hold(
            store: &$store,
            id: &str,
            reason: &str,
            by: &str,
            recorded_at: Timestamp,
        ) -> Result<u64, StoreError> {
            shared::check_release(reason, by)?;
            let missing = || StoreError::invalid(format!("no hold named `{id}` is in force"));
            // No hold id holds NUL (placing one refuses it), and PostgreSQL cannot compare it.
            if id.contains('\0') {
                return Err(missing());
            }
            let mut tx = store.begin().await?;
            if active_hold(&mut tx, id).await?.is_none() {
                return Err(missing());
            }
            let seq = append_named(
                &mut tx,
                EntryKind::HoldRelease,
                id,
                hold_release_payload(id, reason, by),
                recorded_at,
            )
            .await?;
            tx.commit().await.map_err(db("committing a hold release"))?;
            Ok(seq)
        }

        async fn set_retention_rule(
            store: &$store,
            rule: &RetentionRule,
            by: &str,
            recorded_at: Timestamp,
        ) -> Result<u64, StoreError> {
            shared::check_retention(&rule.id, by)?;
            let mut tx = store.begin().await?;
            let seq = append_named(
                &mut tx,
                EntryKind::Retention,
                &rule.id,
                retention_payload(&rule.id, Some(rule), by),
                recorded_at,
            )
            .await?;
            tx.commit().await.map_err(db("committing a retention rule"))?;
            Ok(seq)
        }

        async fn remove_retention_rule(
            store: &$store,
            id: &str,
            by: &str,
            recorded_at: Timestamp,
        ) -> Result<u64, StoreError> {
            shared::check_retention(id, by)?;
            let mut tx = store.begin().await?;
            let rules = retention_rules(&mut tx).await?;
            if !rules.iter().any(|rule| rule.id == id) {
                return Err(StoreError::invalid(format!("no retention rule named `{id}`")));
            }
            let seq = append_named(
                &mut tx,
                EntryKind::Retention,
                id,
                retention_payload(id, None, by),
                recorded_at,
            )
            .await?;
            tx.commit().await.map_err(db("committing a retention rule"))?;
            Ok(seq)
        }
    };
}

pub(crate) use impl_appends;
