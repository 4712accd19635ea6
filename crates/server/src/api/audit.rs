//! `GET /api/v1/audit`: the audit trail, the `action` entries of the archive's chain.

use axum::extract::State;
use lifeguard_store::AuditFilter;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::items::parse_when;
use super::json::{Params, param, store_error};
use super::wire::time;
use crate::access::Permission;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;

/// Entries per page unless `limit` says otherwise.
pub(super) const DEFAULT_AUDIT_LIMIT: u32 = 100;
/// Most entries per page.
pub(super) const MAX_AUDIT_LIMIT: u32 = 1_000;

/// Which entries to list; each filter is optional, and an empty value counts as absent.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditParams {
    /// Only this actor (a login, or `anonymous`).
    actor: Option<String>,
    /// Only this action, or its family: `login` also matches `login.failed`.
    action: Option<String>,
    /// Only this target.
    target: Option<String>,
    /// Recorded at or after: an RFC 3339 time or a date.
    since: Option<String>,
    /// Recorded before: an RFC 3339 time or a date.
    until: Option<String>,
    /// Only entries before this entry number: the previous page's `next_before`.
    #[param(value_type = Option<u64>)]
    before: Option<String>,
    /// Entries per page, 1 to 1,000 (default 100).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

/// A page of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditPage)]
pub(super) struct AuditPage {
    /// Newest first.
    entries: Vec<AuditEntryJson>,
    /// Pass as `before` for the next page; `null` on the last.
    next_before: Option<u64>,
}

/// One action, as the chain records it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditEntry)]
pub(super) struct AuditEntryJson {
    /// Its entry number in the chain.
    seq: u64,
    /// When it was recorded.
    recorded_at: String,
    /// Who: a login, `anonymous` before sign-in, or `system`.
    actor: String,
    /// The client's address, when known.
    from: Option<String>,
    /// What, as a dotted name (`person.update`, `items.ingest`, `token.create`, …).
    action: String,
    /// What it was done to, when one thing.
    target: Option<String>,
    /// Everything else recorded (never a secret). Actions through an API token name it as
    /// `token`.
    #[schema(value_type = Object)]
    details: Map<String, Value>,
}

/// Read the audit trail.
///
/// Newest first. Needs the `read` scope and the compliance or auditor role.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "read_audit_trail",
    tag = "audit",
    params(AuditParams),
    responses((status = 200, description = "A page of the audit trail.", body = AuditPage))
)]
pub(super) async fn trail(
    State(state): State<AppState>,
    principal: Principal,
    Params(params): Params<AuditParams>,
) -> ApiResult<axum::Json<AuditPage>> {
    principal.require(Permission::ReadAudit)?;
    let given = |value: Option<String>| value.filter(|text| !text.is_empty());
    let limit = param("limit", given(params.limit).as_deref(), |text| {
        text.parse::<u32>()
            .ok()
            .filter(|limit| (1..=MAX_AUDIT_LIMIT).contains(limit))
            .ok_or_else(|| format!("expected a number from 1 to {MAX_AUDIT_LIMIT}, not `{text}`"))
    })?
    .unwrap_or(DEFAULT_AUDIT_LIMIT);
    let filter = AuditFilter {
        actor: given(params.actor),
        action: given(params.action),
        target: given(params.target),
        since: param("since", given(params.since).as_deref(), parse_when)?,
        until: param("until", given(params.until).as_deref(), parse_when)?,
        before: param("before", given(params.before).as_deref(), |text| {
            text.parse::<u64>().map_err(|_| format!("expected an entry number, not `{text}`"))
        })?,
        limit,
    };
    let entries = state.store.audit_trail(&filter).await.map_err(store_error)?;
    let next_before =
        (entries.len() == limit as usize).then(|| entries.last().map(|entry| entry.seq)).flatten();
    Ok(axum::Json(AuditPage {
        entries: entries
            .into_iter()
            .map(|entry| AuditEntryJson {
                seq: entry.seq,
                recorded_at: time(entry.recorded_at),
                actor: entry.record.actor,
                from: entry.record.from,
                action: entry.record.action,
                target: entry.record.target,
                details: entry.record.details,
            })
            .collect(),
        next_before,
    }))
}
