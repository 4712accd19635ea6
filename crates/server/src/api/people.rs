//! People: who signs in, their role, department and manager. Changing anyone forgets every
//! cached API token, so a token acts with its person's new role (or stops, for someone
//! deactivated) on the next request.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest as _, Path, Request, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use lifeguard_core::access::Role;
use lifeguard_store::{NewPerson, PersonPatch};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::json::{Json, store_error};
use super::wire::PersonJson;
use crate::access::Permission;
use crate::auth::{
    self, Client, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, PasswordRefusal, Principal,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Everyone.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PeopleList)]
pub(super) struct PeopleJson {
    /// By login.
    people: Vec<PersonJson>,
}

/// List people.
///
/// Needs the `read` scope and a role that reads the directory (admin, compliance, auditor).
#[utoipa::path(
    get,
    path = "/api/v1/people",
    operation_id = "list_people",
    tag = "directory",
    responses((status = 200, description = "Everyone, by login.", body = PeopleJson))
)]
pub(super) async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<PeopleJson>> {
    principal.require(Permission::ReadDirectory)?;
    let people = state.store.people().await.map_err(store_error)?;
    Ok(axum::Json(PeopleJson { people: people.into_iter().map(PersonJson::from).collect() }))
}

/// A person to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewPerson)]
pub(super) struct NewPersonJson {
    /// Sign-in name: 1 to 64 bytes of `a-z`, `0-9`, `.`, `_`, `-`; unique.
    login: String,
    /// Full name.
    name: String,
    /// E-mail address.
    email: String,
    /// Department id (must exist).
    #[serde(default)]
    department: Option<String>,
    /// Manager's person id (must exist and be active).
    #[serde(default)]
    manager: Option<i64>,
    /// `admin`, `compliance`, `supervisor`, `reviewer`, `employee` or `auditor`.
    role: String,
    /// For reviewers: `legal`, `security`, `privacy` or `brand`.
    #[serde(default)]
    area: Option<String>,
    /// At least 12 characters; without one the person cannot sign in yet.
    #[serde(default)]
    password: Option<String>,
}

/// Add a person.
///
/// Needs the `admin` scope and the admin role. Writes a `person.create` audit entry.
#[utoipa::path(
    post,
    path = "/api/v1/people",
    operation_id = "create_person",
    tag = "directory",
    request_body = NewPersonJson,
    responses((status = 201, description = "The person added.", body = PersonJson))
)]
pub(super) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    client: Client,
    request: Request,
) -> ApiResult<(StatusCode, axum::Json<PersonJson>)> {
    principal.require(Permission::ManageDirectory)?;
    let Json(body) = Json::<NewPersonJson>::from_request(request, &state).await?;
    let role = parse_role(&body.role)?;
    let password_hash = hash_if_given(body.password).await?;
    let person = NewPerson {
        login: body.login,
        name: body.name,
        email: body.email,
        department: body.department,
        manager: body.manager,
        role,
        area: body.area,
        password_hash,
    };
    // The chain is append-only, so a person's name and e-mail address stay out of it: the login
    // names them, and the directory holds the rest.
    let audit = principal
        .audit(&client, "person.create")
        .on(person.login.as_str())
        .with("role", role.name())
        .with("department", person.department.clone())
        .with("manager", person.manager)
        .with("area", person.area.clone())
        .with("password", person.password_hash.is_some());
    let created =
        state.store.create_person(&person, &audit, Timestamp::now()).await.map_err(store_error)?;
    state.tokens.clear();
    Ok((StatusCode::CREATED, axum::Json(PersonJson::from(created))))
}

/// Show a person.
///
/// Needs the `read` scope and a role that reads the directory.
#[utoipa::path(
    get,
    path = "/api/v1/people/{id}",
    operation_id = "show_person",
    tag = "directory",
    params(("id" = i64, Path, description = "The person's id.")),
    responses((status = 200, description = "The person.", body = PersonJson))
)]
pub(super) async fn show(
    State(state): State<AppState>,
    principal: Principal,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<axum::Json<PersonJson>> {
    principal.require(Permission::ReadDirectory)?;
    let id = person_id(id)?;
    let person = state.store.person(id).await.map_err(store_error)?.ok_or_else(no_person)?;
    Ok(axum::Json(PersonJson::from(person)))
}

/// Changes to a person: give only what changes; `null` clears `department`, `manager` and
/// `area`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PersonPatch)]
pub(super) struct PersonPatchJson {
    /// New full name.
    #[serde(default)]
    name: Option<String>,
    /// New e-mail address.
    #[serde(default)]
    email: Option<String>,
    /// New department id, or `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    department: Option<Option<String>>,
    /// New manager's id, or `null` for none (no one may manage themselves, directly or
    /// through others).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    manager: Option<Option<i64>>,
    /// New role.
    #[serde(default)]
    role: Option<String>,
    /// New review area, or `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    area: Option<Option<String>>,
    /// `false` deactivates: their sessions end and their tokens are revoked.
    #[serde(default)]
    active: Option<bool>,
    /// New password, at least 12 characters.
    #[serde(default)]
    password: Option<String>,
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Change a person.
///
/// Needs the `admin` scope and the admin role. Writes a `person.update` audit entry naming
/// every field changed, with its new value (a new name, e-mail address or password only as
/// `true`).
#[utoipa::path(
    patch,
    path = "/api/v1/people/{id}",
    operation_id = "update_person",
    tag = "directory",
    params(("id" = i64, Path, description = "The person's id.")),
    request_body = PersonPatchJson,
    responses((status = 200, description = "The person as changed.", body = PersonJson))
)]
pub(super) async fn update(
    State(state): State<AppState>,
    principal: Principal,
    client: Client,
    id: Result<Path<String>, PathRejection>,
    request: Request,
) -> ApiResult<axum::Json<PersonJson>> {
    principal.require(Permission::ManageDirectory)?;
    let id = person_id(id)?;
    let Json(body) = Json::<PersonPatchJson>::from_request(request, &state).await?;
    let person = state.store.person(id).await.map_err(store_error)?.ok_or_else(no_person)?;
    let role = body.role.as_deref().map(parse_role).transpose()?;
    let password_hash = hash_if_given(body.password).await?;
    let patch = PersonPatch {
        name: body.name,
        email: body.email,
        department: body.department,
        manager: body.manager,
        role,
        area: body.area,
        active: body.active,
        password_hash,
    };
    let mut audit =
        principal.audit(&client, "person.update").on(id.to_string()).with("login", person.login);
    let changes: [(&str, Option<Value>); 8] = [
        // Personal data is recorded as changed, not by value (see `create`).
        ("name", patch.name.as_ref().map(|_| Value::from(true))),
        ("email", patch.email.as_ref().map(|_| Value::from(true))),
        ("department", patch.department.clone().map(Value::from)),
        ("manager", patch.manager.map(Value::from)),
        ("role", patch.role.map(|role| Value::from(role.name()))),
        ("area", patch.area.clone().map(Value::from)),
        ("active", patch.active.map(Value::from)),
        ("password", patch.password_hash.as_ref().map(|_| Value::from(true))),
    ];
    let mut changed = false;
    for (field, value) in changes {
        if let Some(value) = value {
            audit = audit.with(field, value);
            changed = true;
        }
    }
    if !changed {
        return Err(ApiError::bad_request("nothing to change: give at least one field"));
    }
    let updated = state
        .store
        .update_person(id, &patch, &audit, Timestamp::now())
        .await
        .map_err(store_error)?;
    state.tokens.clear();
    Ok(axum::Json(PersonJson::from(updated)))
}

fn no_person() -> ApiError {
    ApiError::not_found("no such person")
}

/// A person id from the path; anything else names no person.
fn person_id(id: Result<Path<String>, PathRejection>) -> ApiResult<i64> {
    id.ok().and_then(|Path(text)| text.parse().ok()).ok_or_else(no_person)
}

fn parse_role(name: &str) -> ApiResult<Role> {
    name.parse::<Role>().map_err(|err| ApiError::bad_request(err.to_string()).field("role"))
}

/// The argon2id hash of a new password if one is given, made on the blocking pool (it is slow
/// on purpose).
async fn hash_if_given(password: Option<String>) -> ApiResult<Option<String>> {
    let Some(password) = password else { return Ok(None) };
    let invalid = |message: String| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message).field("password")
    };
    match auth::check_new_password(&password) {
        Ok(()) => auth::hash_password_blocking(password).await.map(Some),
        Err(PasswordRefusal::TooShort(length)) => Err(invalid(format!(
            "`password` must be at least {MIN_PASSWORD_CHARS} characters, not {length}"
        ))),
        Err(PasswordRefusal::TooLong) => {
            Err(invalid(format!("`password` must be at most {MAX_PASSWORD_BYTES} bytes")))
        }
    }
}
