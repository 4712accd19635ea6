//! The rest of the directory: departments, the social accounts the organization archives, and
//! settings.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest as _, Path, Request, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use lifeguard_store::{Department, NewAccount, Setting};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json::{Json, store_error};
use super::wire::{AccountJson, DepartmentJson, SettingJson};
use crate::access::Permission;
use crate::auth::{Client, Principal};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Every department.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DepartmentList)]
pub(super) struct DepartmentsJson {
    /// By id.
    departments: Vec<DepartmentJson>,
}

/// List departments.
///
/// Needs the `read` scope and a role that reads the directory (admin, compliance, auditor).
#[utoipa::path(
    get,
    path = "/api/v1/departments",
    operation_id = "list_departments",
    tag = "directory",
    responses((status = 200, description = "Every department, by id.", body = DepartmentsJson))
)]
pub(super) async fn departments(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<DepartmentsJson>> {
    principal.require(Permission::ReadDirectory)?;
    let departments = state.store.departments().await.map_err(store_error)?;
    Ok(axum::Json(DepartmentsJson {
        departments: departments.into_iter().map(DepartmentJson::from).collect(),
    }))
}

/// A department to add, or to rename.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DepartmentInput)]
pub(super) struct DepartmentInput {
    /// Stable id: 1 to 64 bytes of `a-z`, `0-9` and `-`.
    id: String,
    /// Display name.
    name: String,
}

/// Add a department, or rename one.
///
/// Needs the `admin` scope and the admin role. Writes a `department.create` or
/// `department.rename` audit entry.
#[utoipa::path(
    post,
    path = "/api/v1/departments",
    operation_id = "put_department",
    tag = "directory",
    request_body = DepartmentInput,
    responses(
        (status = 201, description = "The department was added.", body = DepartmentJson),
        (status = 200, description = "The department existed and was renamed.", body = DepartmentJson),
    )
)]
pub(super) async fn put_department(
    State(state): State<AppState>,
    principal: Principal,
    client: Client,
    request: Request,
) -> ApiResult<(StatusCode, axum::Json<DepartmentJson>)> {
    principal.require(Permission::ManageDirectory)?;
    let Json(body) = Json::<DepartmentInput>::from_request(request, &state).await?;
    let existing = state.store.departments().await.map_err(store_error)?;
    let known = existing.iter().any(|department| department.id == body.id);
    let action = if known { "department.rename" } else { "department.create" };
    let department = Department { id: body.id, name: body.name };
    let audit = principal
        .audit(&client, action)
        .on(department.id.as_str())
        .with("name", department.name.as_str());
    state.store.put_department(&department, &audit, Timestamp::now()).await.map_err(store_error)?;
    let status = if known { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, axum::Json(DepartmentJson::from(department))))
}

/// Every account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountList)]
pub(super) struct AccountsJson {
    /// By platform and handle.
    accounts: Vec<AccountJson>,
}

/// List the social accounts the organization archives.
///
/// Needs the `read` scope and a role that reads the directory.
#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    operation_id = "list_accounts",
    tag = "directory",
    responses((status = 200, description = "Every account, by platform and handle.", body = AccountsJson))
)]
pub(super) async fn accounts(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<AccountsJson>> {
    principal.require(Permission::ReadDirectory)?;
    let accounts = state.store.accounts().await.map_err(store_error)?;
    Ok(axum::Json(AccountsJson { accounts: accounts.into_iter().map(AccountJson::from).collect() }))
}

/// An account to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewAccount)]
pub(super) struct NewAccountJson {
    /// Platform, lowercase (`x`, `mastodon`, `linkedin`).
    platform: String,
    /// The handle, as the `account` of the items archived from it; unique per platform.
    handle: String,
    /// Display name.
    name: String,
    /// The id of the person responsible for it: its items belong to their team.
    #[serde(default)]
    owner: Option<i64>,
    /// The department it speaks for.
    #[serde(default)]
    department: Option<String>,
}

/// Add a social account.
///
/// Needs the `admin` scope and the admin role. Writes an `account.create` audit entry.
#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    operation_id = "create_account",
    tag = "directory",
    request_body = NewAccountJson,
    responses((status = 201, description = "The account added.", body = AccountJson))
)]
pub(super) async fn create_account(
    State(state): State<AppState>,
    principal: Principal,
    client: Client,
    request: Request,
) -> ApiResult<(StatusCode, axum::Json<AccountJson>)> {
    principal.require(Permission::ManageDirectory)?;
    let Json(body) = Json::<NewAccountJson>::from_request(request, &state).await?;
    let account = NewAccount {
        platform: body.platform,
        handle: body.handle,
        name: body.name,
        owner: body.owner,
        department: body.department,
    };
    let audit = principal
        .audit(&client, "account.create")
        .on(format!("{}:{}", account.platform, account.handle))
        .with("name", account.name.as_str())
        .with("owner", account.owner)
        .with("department", account.department.clone());
    let created = state
        .store
        .create_account(&account, &audit, Timestamp::now())
        .await
        .map_err(store_error)?;
    Ok((StatusCode::CREATED, axum::Json(AccountJson::from(created))))
}

/// Every setting.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SettingList)]
pub(super) struct SettingsJson {
    /// By key.
    settings: Vec<SettingJson>,
}

/// List settings.
///
/// Needs the `read` scope and a role that reads the directory.
#[utoipa::path(
    get,
    path = "/api/v1/settings",
    operation_id = "list_settings",
    tag = "settings",
    responses((status = 200, description = "Every setting, by key.", body = SettingsJson))
)]
pub(super) async fn settings(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<SettingsJson>> {
    principal.require(Permission::ReadDirectory)?;
    let settings = state.store.settings().await.map_err(store_error)?;
    Ok(axum::Json(SettingsJson { settings: settings.into_iter().map(SettingJson::from).collect() }))
}

/// A setting's new value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SettingValue)]
pub(super) struct SettingValue {
    /// The value.
    value: String,
}

/// Set a setting.
///
/// Needs the `admin` scope and the admin role. Writes a `setting.set` audit entry with the
/// new value.
#[utoipa::path(
    put,
    path = "/api/v1/settings/{key}",
    operation_id = "put_setting",
    tag = "settings",
    params(("key" = String, Path, description = "1 to 64 bytes of `a-z`, `0-9`, `_` and `.`.")),
    request_body = SettingValue,
    responses((status = 200, description = "The setting as set.", body = SettingJson))
)]
pub(super) async fn put_setting(
    State(state): State<AppState>,
    principal: Principal,
    client: Client,
    key: Result<Path<String>, PathRejection>,
    request: Request,
) -> ApiResult<axum::Json<SettingJson>> {
    principal.require(Permission::ManageSettings)?;
    let Path(key) =
        key.map_err(|_| ApiError::bad_request("the setting key is not valid").field("key"))?;
    let Json(body) = Json::<SettingValue>::from_request(request, &state).await?;
    let setting = Setting { key, value: body.value };
    let audit = principal
        .audit(&client, "setting.set")
        .on(setting.key.as_str())
        .with("value", setting.value.as_str());
    state.store.set_setting(&setting, &audit, Timestamp::now()).await.map_err(store_error)?;
    Ok(axum::Json(SettingJson::from(setting)))
}
