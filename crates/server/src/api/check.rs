//! `POST /api/v1/check`: a draft checked against the policy in force, before it is published.
//!
//! The hot path. The body is parsed in place (strings borrow from it unless they hold escapes),
//! the engine checks the borrowed post, and the verdict is written straight from the engine's
//! findings; nothing touches the database beyond the authentication middleware's token cache.

use std::borrow::Cow;

use axum::extract::{FromRequest as _, Request, State};
use axum::response::{IntoResponse, Response};
use lifeguard_core::verdict::PolicyStamp;
use lifeguard_core::{AuthorType, ContentKind, Post, Verdict};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json::{JsonBytes, parse_with, too_large};
use crate::access::Permission;
use crate::auth::Principal;
use crate::config::MAX_DRAFT;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// A draft to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckRequest<'a> {
    /// The text, at most 65,536 bytes of UTF-8. Finding offsets are byte offsets into it.
    #[serde(borrow)]
    #[schema(value_type = String)]
    text: Cow<'a, str>,
    /// The platform it is for (`x`, `mastodon`, `linkedin`, …): rules can be scoped by it.
    #[serde(borrow, default)]
    #[schema(value_type = Option<String>)]
    platform: Option<Cow<'a, str>>,
    /// `post` (the default), `reply`, `comment`, `message`, `repost`, `story`, `profile`,
    /// `bio`, `banner` or `pinned`.
    #[serde(borrow, default)]
    #[schema(value_type = Option<String>)]
    kind: Option<Cow<'a, str>>,
    /// `employee` (the default), `corporate` or `third_party`.
    #[serde(borrow, default)]
    #[schema(value_type = Option<String>)]
    author_type: Option<Cow<'a, str>>,
}

/// The verdict on a draft: the same object as one line of `lifeguard check --format json`
/// (`docs/verdict.schema.json`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Verdict)]
pub(super) struct VerdictJson<'a> {
    /// The strongest action among the findings: `allow`, `flag`, `require_approval` or
    /// `block`; `allow` when there are none.
    action: &'static str,
    /// Ordered by start offset, then end offset, then the rule's order in the policy.
    findings: Vec<FindingJson<'a>>,
    /// The policy that gave the verdict.
    policy: PolicyJson<'a>,
}

/// One rule matching one place in the text.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Finding)]
pub(super) struct FindingJson<'a> {
    /// The id of the rule that matched.
    rule: &'a str,
    /// The stable id of the clause the rule enforces.
    clause: &'a str,
    /// The clause's heading, for people.
    clause_title: &'a str,
    /// The rule's category (`offensive`, `personal_data`, `secrets`, …).
    category: &'a str,
    /// `low`, `medium`, `high` or `critical`.
    severity: &'static str,
    /// The rule's action: `allow`, `flag`, `require_approval` or `block`.
    action: &'static str,
    /// Byte offset into the text where the match starts, on a character boundary.
    start: usize,
    /// Byte offset where the match ends (exclusive).
    end: usize,
    /// The matched text: `text[start..end]`.
    #[serde(rename = "match")]
    matched: &'a str,
    /// For detector rules, what was found (`credit_card`, `email`, `api_key`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    entity: Option<&'static str>,
    /// The rule's message for the author.
    message: &'a str,
}

/// Which policy gave a verdict.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PolicyStamp)]
pub(super) struct PolicyJson<'a> {
    /// The policy's id.
    id: &'a str,
    /// Its version.
    version: &'a str,
    /// SHA-256 (hex) over the policy document and every term file it loads.
    hash: &'a str,
}

impl<'a> PolicyJson<'a> {
    pub(super) fn of(stamp: &'a PolicyStamp) -> PolicyJson<'a> {
        PolicyJson { id: &stamp.id, version: &stamp.version, hash: &stamp.hash }
    }
}

impl<'a> VerdictJson<'a> {
    /// The wire form of a verdict, borrowing everything from it.
    pub(super) fn of(verdict: &'a Verdict) -> VerdictJson<'a> {
        VerdictJson {
            action: verdict.action.name(),
            findings: verdict
                .findings
                .iter()
                .map(|finding| FindingJson {
                    rule: &finding.rule.id,
                    clause: &finding.rule.clause,
                    clause_title: &finding.rule.clause_title,
                    category: &finding.rule.category,
                    severity: finding.rule.severity.name(),
                    action: finding.rule.action.name(),
                    start: finding.start,
                    end: finding.end,
                    matched: &finding.matched,
                    entity: finding.entity.map(|entity| entity.name()),
                    message: &finding.rule.message,
                })
                .collect(),
            policy: PolicyJson::of(&verdict.policy),
        }
    }
}

/// Check a draft against the policy.
///
/// Answers the verdict the policy in force gives the text: the strongest action, every finding
/// with its rule, clause, span and message, and the policy's id, version and hash. Nothing is
/// stored. Needs the `check` scope.
#[utoipa::path(
    post,
    path = "/api/v1/check",
    operation_id = "check_draft",
    tag = "check",
    request_body = CheckRequest,
    responses(
        (status = 200, description = "The verdict.", body = VerdictJson),
        (status = 413, description = "The text is longer than 65,536 bytes, or the body larger than 256 KiB (`payload_too_large`).", body = ErrorBody),
    )
)]
pub(super) async fn check(
    State(state): State<AppState>,
    principal: Principal,
    request: Request,
) -> ApiResult<Response> {
    principal.require(Permission::CheckDraft)?;
    let JsonBytes(body) = JsonBytes::from_request(request, &state).await?;
    let draft: CheckRequest<'_> =
        parse_with(&body, |value| CheckRequest::deserialize(value).map(drop))?;
    if draft.text.len() > MAX_DRAFT {
        return Err(too_large(format!(
            "`text` is {} bytes; drafts are limited to {MAX_DRAFT} bytes",
            draft.text.len()
        ))
        .field("text"));
    }
    let kind = match draft.kind.as_deref() {
        None => ContentKind::default(),
        Some(name) => name.parse().map_err(|err: lifeguard_core::item::UnknownName| {
            ApiError::bad_request(err.to_string()).field("kind")
        })?,
    };
    let author = match draft.author_type.as_deref() {
        None => AuthorType::default(),
        Some(name) => name.parse().map_err(|err: lifeguard_core::item::UnknownName| {
            ApiError::bad_request(err.to_string()).field("author_type")
        })?,
    };
    let post = Post { text: &draft.text, kind, author, platform: draft.platform.as_deref() };
    let verdict = state.policy.engine.check(&post);
    Ok(axum::Json(VerdictJson::of(&verdict)).into_response())
}
