//! The JSON API under `/api/v1`, described by the OpenAPI 3.1 document it serves at
//! `/api/v1/openapi.json` (see `docs/api.md`).
//!
//! Every handler names the [`crate::access::Permission`] it needs before it reads its body, so
//! a caller who may not act learns nothing from validation errors. Every handler that changes
//! something passes an audit record to the store, which writes it in the change's transaction.

mod audit;
mod check;
mod directory;
mod items;
mod json;
mod openapi;
mod people;
mod policy;
mod tokens;
mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};

use crate::config::MAX_BATCH_BODY;
use crate::state::AppState;

pub use json::{Json, JsonBytes, Params};
pub use openapi::document;

/// Every API route, one method per `.route` call: `tests/api.rs` reads these lines to check
/// that the OpenAPI document describes exactly the routes served.
pub fn router() -> Router<AppState> {
    // Batches are larger than any other body.
    let batch_limit = DefaultBodyLimit::max(MAX_BATCH_BODY);
    Router::new()
        .route("/api/v1/check", post(check::check))
        .route("/api/v1/items", get(items::search))
        .route("/api/v1/items", post(items::ingest).layer(batch_limit))
        .route("/api/v1/items/{seq}", get(items::show))
        .route("/api/v1/policy", get(policy::show))
        .route("/api/v1/policy/rendered", get(policy::rendered))
        .route("/api/v1/people", get(people::list))
        .route("/api/v1/people", post(people::create))
        .route("/api/v1/people/{id}", get(people::show))
        .route("/api/v1/people/{id}", patch(people::update))
        .route("/api/v1/departments", get(directory::departments))
        .route("/api/v1/departments", post(directory::put_department))
        .route("/api/v1/accounts", get(directory::accounts))
        .route("/api/v1/accounts", post(directory::create_account))
        .route("/api/v1/tokens", get(tokens::list))
        .route("/api/v1/tokens", post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route("/api/v1/audit", get(audit::trail))
        .route("/api/v1/settings", get(directory::settings))
        .route("/api/v1/settings/{key}", put(directory::put_setting))
        .route("/api/v1/openapi.json", get(openapi::serve))
}
