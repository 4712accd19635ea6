//! `GET /api/v1/policy`: the policy in force, as data; `GET /api/v1/policy/rendered`: the same
//! policy for people, every rule block as plain sentences.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Permission;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;

/// The policy in force.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Policy)]
pub(super) struct PolicyJson {
    /// Stable id.
    id: String,
    /// Title for people.
    title: String,
    /// Version; a published version never changes.
    version: String,
    /// The date this version applies from, `YYYY-MM-DD`.
    effective: String,
    /// SHA-256 (hex) over the document and every term file it loads: what verdicts name.
    hash: String,
    /// Regions (ISO 3166-1 alpha-2) whose national phone numbers the phone detector reads.
    regions: Vec<String>,
    /// Who writes, answers for, is consulted on and is told about the policy.
    ownership: OwnershipJson,
    /// Every rule, in document order.
    rules: Vec<RuleJson>,
}

/// The policy's RACI matrix.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Ownership)]
pub(super) struct OwnershipJson {
    /// Who writes and revises it.
    responsible: Vec<String>,
    /// Who answers for it.
    accountable: Vec<String>,
    /// Who is asked before it changes.
    consulted: Vec<String>,
    /// Who is told when it changes.
    informed: Vec<String>,
}

/// One rule.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Rule)]
pub(super) struct RuleJson {
    /// Unique id.
    id: String,
    /// The id of the clause it enforces (empty when the heading has none).
    clause: String,
    /// That clause's heading.
    clause_title: String,
    /// Category.
    category: String,
    /// `low`, `medium`, `high` or `critical`.
    severity: &'static str,
    /// `allow`, `flag`, `require_approval` or `block`.
    action: &'static str,
    /// What the author is told.
    message: String,
    /// The rule as a sentence for people, in Markdown.
    sentence: String,
}

/// The policy in force.
///
/// Its front matter, content hash and every rule, each with the sentence that explains it.
/// Needs the `read` scope.
#[utoipa::path(
    get,
    path = "/api/v1/policy",
    operation_id = "show_policy",
    tag = "policy",
    responses((status = 200, description = "The policy.", body = PolicyJson))
)]
pub(super) async fn show(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<PolicyJson>> {
    principal.require(Permission::ReadPolicy)?;
    let policy = &state.policy.policy;
    let meta = &policy.meta;
    let rules = policy
        .rules
        .iter()
        .map(|rule| {
            let clause = policy.clause_of(rule);
            RuleJson {
                id: rule.id.clone(),
                clause: clause.id.clone().unwrap_or_default(),
                clause_title: clause.title.clone(),
                category: rule.category.clone(),
                severity: rule.severity.name(),
                action: rule.action.name(),
                message: rule.message.clone(),
                sentence: lifeguard_core::policy::sentence(rule),
            }
        })
        .collect();
    Ok(axum::Json(PolicyJson {
        id: meta.id.clone(),
        title: meta.title.clone(),
        version: meta.version.clone(),
        effective: meta.effective.clone(),
        hash: state.policy.engine.stamp().hash.clone(),
        regions: meta.regions.iter().map(ToString::to_string).collect(),
        ownership: OwnershipJson {
            responsible: meta.ownership.responsible.clone(),
            accountable: meta.ownership.accountable.clone(),
            consulted: meta.ownership.consulted.clone(),
            informed: meta.ownership.informed.clone(),
        },
        rules,
    }))
}

/// The policy for people, as Markdown.
///
/// The document with every rule block replaced by sentences generated from the rules the
/// engine enforces. Needs the `read` scope.
#[utoipa::path(
    get,
    path = "/api/v1/policy/rendered",
    operation_id = "render_policy",
    tag = "policy",
    responses((status = 200, description = "The policy as Markdown.", body = String, content_type = "text/markdown; charset=utf-8"))
)]
pub(super) async fn rendered(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<impl IntoResponse> {
    principal.require(Permission::ReadPolicy)?;
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        state.policy.explained_markdown.clone(),
    ))
}
