//! API tokens: `lgt_<id>_<secret>`, shown once when made; only the SHA-256 of the secret is
//! kept. A token acts as its person, within its scopes, and never beyond what that person's
//! role allows.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest as _, Path, Request, State};
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use lifeguard_core::access::TokenScope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::json::{Json, Params, param, store_error};
use super::wire::TokenJson;
use crate::access::{Permission, grantable_scopes};
use crate::auth::{self, Client, Principal, Via};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Longest a token may live, in days.
pub(super) const MAX_TOKEN_DAYS: u32 = 3_650;

/// Tokens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TokenList)]
pub(super) struct TokensJson {
    /// Every token (or one person's), revoked and expired ones included.
    tokens: Vec<TokenJson>,
}

/// Which tokens to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct TokenParams {
    /// Only this person's tokens (their id).
    #[param(value_type = Option<i64>)]
    person: Option<String>,
}

/// List API tokens.
///
/// Never shows a secret. Needs the `admin` scope and the admin role.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    operation_id = "list_tokens",
    tag = "tokens",
    params(TokenParams),
    responses((status = 200, description = "The tokens.", body = TokensJson))
)]
pub(super) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Params(params): Params<TokenParams>,
) -> ApiResult<axum::Json<TokensJson>> {
    principal.require(Permission::ManageTokens)?;
    let person = param("person", params.person.as_deref(), |text| {
        text.parse::<i64>().map_err(|_| format!("expected a person id, not `{text}`"))
    })?;
    let tokens = state.store.tokens(person).await.map_err(store_error)?;
    Ok(axum::Json(TokensJson { tokens: tokens.into_iter().map(TokenJson::from).collect() }))
}

/// A token to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewToken)]
pub(super) struct NewTokenJson {
    /// What it is for.
    name: String,
    /// Whose it is (a person id); the caller when absent.
    #[serde(default)]
    person: Option<i64>,
    /// What it may do: any of `check`, `ingest`, `read`, `admin`, within what the person's role
    /// allows (and, when made with a token, within that token's scopes).
    scopes: Vec<String>,
    /// Days until it stops working, 1 to 3,650; it never expires when absent.
    #[serde(default)]
    expires_in_days: Option<u32>,
}

/// A token just made, with its text: shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedToken)]
pub(super) struct CreatedTokenJson {
    /// The token to send as `Authorization: Bearer <token>`. It cannot be shown again.
    token: String,
    /// The token's record.
    #[serde(flatten)]
    details: TokenJson,
}

/// Make an API token.
///
/// Answers the token's text once. Needs the `admin` scope and the admin role. Writes a
/// `token.create` audit entry (without the secret).
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    operation_id = "create_token",
    tag = "tokens",
    request_body = NewTokenJson,
    responses((status = 201, description = "The token, with its text.", body = CreatedTokenJson))
)]
pub(super) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    client: Client,
    request: Request,
) -> ApiResult<(StatusCode, axum::Json<CreatedTokenJson>)> {
    principal.require(Permission::ManageTokens)?;
    let Json(body) = Json::<NewTokenJson>::from_request(request, &state).await?;
    let owner = match body.person {
        None => principal.person.clone(),
        Some(id) => state.store.person(id).await.map_err(store_error)?.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("`person`: no person with id {id}"),
            )
            .field("person")
        })?,
    };
    let scopes = scopes(&body.scopes, &principal, &owner)?;
    let expires_at = match body.expires_in_days {
        None => None,
        Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => Some(
            Timestamp::now()
                .checked_add(SignedDuration::from_hours(24 * i64::from(days)))
                .map_err(|err| ApiError::internal("computing a token's expiry", &err))?,
        ),
        Some(days) => {
            return Err(ApiError::bad_request(format!(
                "`expires_in_days` must be from 1 to {MAX_TOKEN_DAYS}, not {days}"
            ))
            .field("expires_in_days"));
        }
    };
    let minted = auth::mint_token(body.name, owner.id, scopes, expires_at);
    let token = minted.token;
    let audit = principal
        .audit(&client, "token.create")
        .on(token.id.as_str())
        .with("name", token.name.as_str())
        .with("person", owner.login.as_str())
        .with("scopes", token.scopes.iter().map(|scope| scope.name()).collect::<Vec<_>>())
        .with("expires_in_days", body.expires_in_days);
    let created =
        state.store.create_token(&token, &audit, Timestamp::now()).await.map_err(store_error)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedTokenJson { token: minted.text, details: TokenJson::from(created) }),
    ))
}

/// The scopes asked for, each once, if the owner's role may hold them and the caller's own
/// token (if it used one) has them: a token never makes a stronger token.
fn scopes(
    names: &[String],
    principal: &Principal,
    owner: &lifeguard_store::Person,
) -> ApiResult<Vec<TokenScope>> {
    if names.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "`scopes`: a token needs at least one scope",
        )
        .field("scopes"));
    }
    let grantable = grantable_scopes(owner.role);
    let mut scopes = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let scope: TokenScope =
            name.parse().map_err(|err: lifeguard_core::item::UnknownName| {
                ApiError::bad_request(err.to_string()).field(format!("scopes[{i}]"))
            })?;
        if !grantable.contains(&scope) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!(
                    "`scopes[{i}]`: the {} role of {} does not allow the `{scope}` scope",
                    owner.role, owner.login
                ),
            )
            .field(format!("scopes[{i}]")));
        }
        if let Via::Token { scopes: own, .. } = &principal.via
            && !own.contains(&scope)
        {
            return Err(ApiError::forbidden(format!(
                "this API token lacks the `{scope}` scope, so it cannot give it"
            ))
            .field(format!("scopes[{i}]")));
        }
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// Revoke an API token.
///
/// It stops working at once. Needs the `admin` scope and the admin role. Writes a
/// `token.revoke` audit entry.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    operation_id = "revoke_token",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's public id.")),
    responses((status = 200, description = "The token, revoked.", body = TokenJson))
)]
pub(super) async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    client: Client,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<axum::Json<TokenJson>> {
    principal.require(Permission::ManageTokens)?;
    let missing = || ApiError::not_found("no such token");
    let Path(id) = id.map_err(|_| missing())?;
    let tokens = state.store.tokens(None).await.map_err(store_error)?;
    let token = tokens.into_iter().find(|token| token.id == id).ok_or_else(missing)?;
    let audit = principal.audit(&client, "token.revoke").on(id.as_str()).with("name", token.name);
    let revoked =
        state.store.revoke_token(&id, &audit, Timestamp::now()).await.map_err(store_error)?;
    state.tokens.clear();
    Ok(axum::Json(TokenJson::from(revoked)))
}
