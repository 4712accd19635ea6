//! The web interface: server-rendered pages over the same store, policy and roles as the API.
//!
//! Every page works with plain links and forms, so it needs no JavaScript; the one script only
//! adds conveniences. Markup comes from askama templates in `templates/`, which escape every
//! value they print: no stored or submitted text is ever written into a page unescaped, and
//! highlights are built as pieces the template prints one by one rather than as HTML strings.
//! The content security policy forbids inline code, so styles and the script are files under
//! `/static/`, compiled into the binary.

mod archive;
mod assets;
mod audit;
mod check;
mod dashboard;
mod directory;
mod escape;
mod highlight;
mod login;
mod policy;

pub(crate) use policy::page_html;
mod tokens;
mod util;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use lifeguard_core::archive::AuditRecord;
use lifeguard_store::{Audience, StoreError};

use crate::access::{self, Permission};
use crate::auth::{AuthRejection, Client, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// Every page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/check", get(check::form).post(check::submit))
        .route("/archive", get(archive::search))
        .route("/items/{seq}", get(archive::item))
        .route("/policy", get(policy::show))
        .route("/people", get(directory::people).post(directory::create_person))
        .route("/people/{id}", get(directory::person).post(directory::update_person))
        .route("/accounts", get(directory::accounts).post(directory::create_account))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/audit", get(audit::list))
        .route("/static/{name}", get(assets::serve))
}

/// The page for an unknown address.
pub fn not_found_page() -> impl IntoResponse {
    // The fallback knows nothing of the visitor, so this page has no navigation of its own.
    error_page(None, &PageError::not_found())
}

/// One link of the main navigation.
pub(crate) struct NavLink {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// The pages of the navigation, each with the permission it needs.
const NAV: [(&str, &str, Option<Permission>); 8] = [
    ("/", "Dashboard", None),
    ("/check", "Check a draft", Some(Permission::CheckDraft)),
    ("/archive", "Archive", Some(Permission::ReadItems)),
    ("/policy", "Policy", Some(Permission::ReadPolicy)),
    ("/people", "People", Some(Permission::ReadDirectory)),
    ("/accounts", "Accounts", Some(Permission::ReadDirectory)),
    ("/tokens", "Tokens", Some(Permission::ManageTokens)),
    ("/audit", "Audit trail", Some(Permission::ReadAudit)),
];

/// The signed-in person as the layout shows them.
pub(crate) struct Viewer {
    name: String,
    role: &'static str,
    csrf: String,
    nav: Vec<NavLink>,
}

/// What every page's frame needs: its title and, when someone is signed in, who.
pub(crate) struct Layout {
    title: String,
    viewer: Option<Viewer>,
    version: &'static str,
}

impl Layout {
    /// The frame of a page seen before sign-in.
    fn public(title: impl Into<String>) -> Layout {
        Layout { title: title.into(), viewer: None, version: assets::version() }
    }

    /// The session's CSRF token, for the hidden field of every form on the page.
    fn csrf(&self) -> &str {
        self.viewer.as_ref().map_or("", |viewer| viewer.csrf.as_str())
    }
}

/// A page's failure, shown as a page (never as JSON, never with internals).
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError { status, message: message.into() }
    }

    fn bad_request(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found() -> PageError {
        PageError::new(StatusCode::NOT_FOUND, "There is no page at this address.")
    }

    fn internal(context: &str, detail: &dyn std::fmt::Display) -> PageError {
        ApiError::internal(context, detail).into()
    }
}

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> PageError {
        // ApiError messages are written for people and already free of internals.
        PageError::new(err.status, err.message)
    }
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> PageError {
        ApiError::from(err).into()
    }
}

impl From<askama::Error> for PageError {
    fn from(err: askama::Error) -> PageError {
        PageError::internal("rendering a page", &err)
    }
}

#[derive(Template)]
#[template(path = "error.html", config = "templates/askama.toml")]
struct ErrorPage<'a> {
    layout: Layout,
    heading_id: &'static str,
    heading: &'static str,
    message: &'a str,
}

fn error_page(viewer: Option<Viewer>, err: &PageError) -> Response {
    let (heading_id, heading) = match err.status {
        StatusCode::FORBIDDEN => ("forbidden", "Not allowed"),
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            ("error", "Please check what you entered")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("error", "Too large"),
        StatusCode::TOO_MANY_REQUESTS => ("error", "Too many attempts"),
        StatusCode::SERVICE_UNAVAILABLE => ("error", "Unavailable"),
        _ => ("error", "Something went wrong"),
    };
    let page = ErrorPage {
        layout: Layout { title: heading.to_owned(), viewer, version: assets::version() },
        heading_id,
        heading,
        message: &err.message,
    };
    match page.render() {
        Ok(html) => (err.status, Html(html)).into_response(),
        Err(render) => {
            tracing::error!("rendering the error page: {render}");
            (err.status, heading).into_response()
        }
    }
}

/// What a signed-in page handler works with: the state, who is asking and from where.
pub(crate) struct Ctx {
    state: AppState,
    principal: Principal,
    client: Client,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, AuthRejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let client = match Client::from_request_parts(parts, state).await {
            Ok(client) => client,
            Err(never) => match never {},
        };
        Ok(Ctx { state: state.clone(), principal, client })
    }
}

impl Ctx {
    /// Refuses with the "Not allowed" page unless the person's role allows `permission`.
    fn require(&self, permission: Permission) -> Result<(), PageError> {
        self.principal.require(permission).map_err(|_| {
            PageError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "Your role ({}) does not give access to this page.",
                    self.principal.person.role.name()
                ),
            )
        })
    }

    fn viewer(&self, current: &str) -> Viewer {
        let nav = NAV
            .iter()
            .filter(|(_, _, permission)| permission.is_none_or(|p| self.principal.may(p)))
            .map(|&(href, label, _)| NavLink { href, label, current: href == current })
            .collect();
        Viewer {
            name: self.principal.person.name.clone(),
            role: self.principal.person.role.name(),
            csrf: self.principal.csrf().to_owned(),
            nav,
        }
    }

    /// The frame of a page; `current` is the navigation entry to mark as this page.
    fn layout(&self, title: impl Into<String>, current: &str) -> Layout {
        Layout {
            title: title.into(),
            viewer: Some(self.viewer(current)),
            version: assets::version(),
        }
    }

    /// The audit record of an action taken by the signed-in person.
    fn audit(&self, action: &str) -> AuditRecord {
        self.principal.audit(&self.client, action)
    }

    /// The items this person may read (`None`: all of them).
    async fn audience(&self) -> Result<Option<Audience>, PageError> {
        Ok(access::audience(self.state.store.as_ref(), &self.principal.person).await?)
    }

    /// A handler's answer: the page, or its failure as a page in this person's frame.
    fn finish(&self, result: Result<Response, PageError>) -> Response {
        result.unwrap_or_else(|err| error_page(Some(self.viewer("")), &err))
    }
}

/// Renders a template as an HTML answer.
fn render(status: StatusCode, template: &impl Template) -> Result<Response, PageError> {
    let html = template.render()?;
    Ok((status, Html(html)).into_response())
}

/// A `303 See Other` to a path on this site, the answer to a form that changed something.
fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
