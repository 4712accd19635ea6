//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes and the
//! wire types' schemas, and served at `GET /api/v1/openapi.json` without authentication.
//!
//! The errors every route can answer follow from what the route is (secured or public, with a
//! body, with parameters, changing something), so [`Conventions`] adds them from those facts
//! rather than each handler listing them by hand and forgetting one.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::auth::{CSRF_HEADER, SESSION_COOKIE};
use crate::error::{ApiError, ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lifeguard API",
        version = "1",
        description = "The JSON API of Lifeguard: check drafts against the organization's social media policy, ingest and search the tamper-evident archive, and manage people, tokens and settings. See docs/api.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        super::check::check,
        super::items::search,
        super::items::ingest,
        super::items::show,
        super::policy::show,
        super::policy::rendered,
        super::people::list,
        super::people::create,
        super::people::show,
        super::people::update,
        super::directory::departments,
        super::directory::put_department,
        super::directory::accounts,
        super::directory::create_account,
        super::tokens::list,
        super::tokens::create,
        super::tokens::revoke,
        super::audit::trail,
        super::directory::settings,
        super::directory::put_setting,
        serve,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Conventions),
    tags(
        (name = "check", description = "Checking drafts against the policy in force."),
        (name = "items", description = "The archive: ingest, search and show items."),
        (name = "policy", description = "The policy in force."),
        (name = "directory", description = "People, departments and social accounts."),
        (name = "tokens", description = "API tokens."),
        (name = "audit", description = "The audit trail."),
        (name = "settings", description = "Settings."),
        (name = "meta", description = "This document."),
    )
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// The OpenAPI 3.1 document of this API.
///
/// Public: needs no sign-in or token.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi_document",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The document.", content_type = "application/json", body = Object))
)]
pub(super) async fn serve() -> Response {
    static DOCUMENT: OnceLock<Result<String, String>> = OnceLock::new();
    let rendered = DOCUMENT.get_or_init(|| document().to_pretty_json().map_err(|e| e.to_string()));
    match rendered {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text.as_str()).into_response(),
        Err(err) => ApiError::internal("rendering the OpenAPI document", err).into_response(),
    }
}

/// The security schemes, and the error answers each operation can give.
struct Conventions;

/// Operations that are posted (they take a body) but change nothing.
const READ_ONLY_POSTS: &[&str] = &["check_draft"];

/// The shared error answers: (component name, code(s), description).
const ERRORS: &[(&str, &str)] = &[
    (
        "BadRequest",
        "`invalid_json` (the body is not JSON; the message gives line and column) or \
         `bad_request` (a field or parameter is missing, unknown, of the wrong type or \
         malformed; `field` names it).",
    ),
    ("Unauthenticated", "`unauthenticated`: no session or API token, or the token is not valid."),
    (
        "Forbidden",
        "`forbidden` (the role or the token's scopes do not allow this) or `csrf` (a \
         cookie-authenticated request that changes something without the session's \
         `X-CSRF-Token` header, or from another origin).",
    ),
    ("NotFound", "`not_found`: no such thing, or not one the caller may see."),
    ("PayloadTooLarge", "`payload_too_large`: the body is larger than the route accepts."),
    (
        "UnsupportedMediaType",
        "`unsupported_media_type`: the body is not sent as `application/json`.",
    ),
    (
        "Invalid",
        "`invalid`: well-formed but refused (a login taken, an unknown department, a short \
         password, a scope the role may not hold); `field` names the field at fault.",
    ),
    ("Internal", "`internal`: something failed on the server; the details are in its log."),
    ("Unavailable", "`unavailable`: the archive cannot be written right now."),
];

impl Modify for Conventions {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("lgt_<id>_<secret>")
                    .description(Some(
                        "An API token: `Authorization: Bearer lgt_<id>_<secret>`. It acts as its \
                         person within its scopes, and needs no CSRF token.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE.to_owned(),
                format!(
                    "The session cookie set by signing in at /login. Requests that change \
                     something must echo the session's CSRF token in the `{CSRF_HEADER}` header."
                ),
            ))),
        );
        for (name, description) in ERRORS {
            let content = Content::new(Some(Ref::from_schema_name("ErrorBody")));
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", content);
            components.responses.insert((*name).to_owned(), RefOr::T(response.build()));
        }
        openapi.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                (false, &mut item.get),
                (true, &mut item.post),
                (true, &mut item.put),
                (true, &mut item.patch),
                (true, &mut item.delete),
            ];
            for (unsafe_method, operation) in operations {
                if let Some(operation) = operation {
                    let reads_only = operation
                        .operation_id
                        .as_deref()
                        .is_some_and(|id| READ_ONLY_POSTS.contains(&id));
                    add_errors(operation, path.contains('{'), unsafe_method && !reads_only);
                }
            }
        }
    }
}

/// Adds the shared error answers that apply to one operation.
fn add_errors(operation: &mut Operation, has_path_parameter: bool, changes: bool) {
    let public = operation
        .security
        .as_ref()
        .is_some_and(|requirements| requirements.contains(&SecurityRequirement::default()));
    let has_body = operation.request_body.is_some();
    let has_query = operation.parameters.iter().flatten().any(|parameter| {
        matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == ParameterIn::Query)
    });
    let applicable = [
        ("400", "BadRequest", has_body || has_query),
        ("401", "Unauthenticated", !public),
        ("403", "Forbidden", !public),
        ("404", "NotFound", has_path_parameter),
        ("413", "PayloadTooLarge", has_body),
        ("415", "UnsupportedMediaType", has_body),
        ("422", "Invalid", changes),
        ("500", "Internal", true),
        ("503", "Unavailable", changes),
    ];
    let responses = &mut operation.responses.responses;
    for (status, name, applies) in applicable {
        if applies && !responses.contains_key(status) {
            responses.insert(status.to_owned(), RefOr::Ref(Ref::from_response_name(name)));
        }
    }
}
