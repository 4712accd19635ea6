//! Who is asking. One middleware ([`authenticate`]) resolves every request's [`Principal`]
//! (a session cookie on pages and the API, or an API token on the API only) and refuses
//! cross-site or token-less state changes before any handler runs, so no route can forget to.

use std::net::{IpAddr, SocketAddr};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, PasswordHash};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use lifeguard_core::access::TokenScope;
use lifeguard_core::archive::{AuditRecord, hex};
use lifeguard_store::{NewToken, Person};
use sha2::{Digest as _, Sha256};

use crate::access::Permission;
use crate::config::MAX_BODY;
use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie.
pub const SESSION_COOKIE: &str = "lg_session";
/// The cookie that carries the CSRF token before sign-in (double-submit, for the login form).
pub const CSRF_COOKIE: &str = "lg_csrf";
/// The form field and header that echo the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The header alternative to the form field.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Prefix of every API token's text.
pub const TOKEN_PREFIX: &str = "lgt_";

/// The signed-in person and how they proved it.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who.
    pub person: Person,
    /// How.
    pub via: Via,
}

/// How a request was authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// A session cookie; forms must echo `csrf`.
    Session {
        /// The session's CSRF token.
        csrf: String,
        /// SHA-256 of the cookie, to end the session.
        id_sha256: [u8; 32],
    },
    /// An API token with its scopes.
    Token {
        /// The token's public id.
        id: String,
        /// What it may do.
        scopes: Vec<TokenScope>,
    },
}

impl Principal {
    /// Refuses with 403 unless the person's role (and the token's scope) allow `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if !permission.allows(self.person.role) {
            return Err(ApiError::forbidden(format!(
                "the {} role may not do this",
                self.person.role.name()
            )));
        }
        if let Via::Token { scopes, .. } = &self.via {
            let needed = permission.scope();
            if !scopes.contains(&needed) {
                return Err(ApiError::forbidden(format!(
                    "this API token lacks the `{needed}` scope"
                )));
            }
        }
        Ok(())
    }

    /// Whether `permission` is allowed (for showing or hiding links).
    pub fn may(&self, permission: Permission) -> bool {
        self.require(permission).is_ok()
    }

    /// The session's CSRF token (empty for API tokens, which need none).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token { .. } => "",
        }
    }

    /// An audit record of an action by this principal.
    pub fn audit(&self, client: &Client, action: &str) -> AuditRecord {
        let record = AuditRecord::new(&self.person.login, client.address().as_deref(), action);
        match &self.via {
            Via::Token { id, .. } => record.with("token", id.as_str()),
            Via::Session { .. } => record,
        }
    }
}

/// The client's address, as the socket saw it. `X-Forwarded-For` is not trusted: a proxy in
/// front must be configured to keep the address some other way.
#[derive(Debug, Clone, Copy, Default)]
pub struct Client(pub Option<IpAddr>);

impl Client {
    /// The address as text.
    pub fn address(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Client, Self::Rejection> {
        Ok(client_of(parts))
    }
}

fn client_of(parts: &Parts) -> Client {
    Client(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()))
}

/// The principal the middleware found, if any.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for MaybePrincipal {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybePrincipal(parts.extensions.get::<Principal>().cloned()))
    }
}

/// What an unauthenticated request gets: 401 JSON on the API, the sign-in page elsewhere.
#[derive(Debug)]
pub enum AuthRejection {
    /// An API request.
    Api,
    /// A page; sign in, then come back here.
    Page(String),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Api => ApiError::unauthenticated().into_response(),
            AuthRejection::Page(back) => {
                let target = if back == "/" {
                    "/login".to_owned()
                } else {
                    format!("/login?next={}", percent_encode(&back))
                };
                Redirect::to(&target).into_response()
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Principal>() {
            Some(principal) => Ok(principal.clone()),
            None if is_api(parts.uri.path()) => Err(AuthRejection::Api),
            None => Err(AuthRejection::Page(
                parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned(),
            )),
        }
    }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Resolves the principal of every request and guards every state change against cross-site
/// requests: a cookie-authenticated request that is not GET, HEAD or OPTIONS must come from our
/// own origin and echo its CSRF token (the session's, or before sign-in the `lg_csrf` cookie's)
/// in the `csrf` form field or the `X-CSRF-Token` header.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let bearer = if api { bearer_token(request.headers()) } else { None };
    let principal = match bearer {
        Some(text) => match token_principal(&state, text).await {
            Ok(principal) => Some(principal),
            Err(err) => return err.into_response(),
        },
        None => match session_principal(&state, request.headers()).await {
            Ok(principal) => principal,
            Err(err) => return err.into_response(),
        },
    };
    let unsafe_method =
        !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE);
    let by_token = matches!(&principal, Some(Principal { via: Via::Token { .. }, .. }));
    let mut request = request;
    if unsafe_method && !by_token {
        let pre_session = cookie(request.headers(), CSRF_COOKIE).map(str::to_owned);
        // An anonymous API call with no cookies is not a browser riding on ambient
        // credentials: it goes on, to be refused as unauthenticated.
        let ambient = principal.is_some() || pre_session.is_some();
        if !api || ambient {
            if !same_origin(request.headers()) {
                return ApiError::csrf().into_response();
            }
            let expected = match &principal {
                Some(principal) => Some(principal.csrf().to_owned()),
                None => pre_session,
            };
            let (given, rebuilt) = match submitted_csrf(request).await {
                Ok(found) => found,
                Err(response) => return response,
            };
            request = rebuilt;
            let valid = match (expected, given) {
                (Some(expected), Some(given)) => {
                    !expected.is_empty() && constant_time_eq(expected.as_bytes(), given.as_bytes())
                }
                _ => false,
            };
            if !valid {
                return ApiError::csrf().into_response();
            }
        }
    }
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    next.run(request).await
}

/// The CSRF token a request carries: its header, or the `csrf` field of a form body (which is
/// read, bounded by [`MAX_BODY`], and put back).
async fn submitted_csrf(request: Request) -> Result<(Option<String>, Request), Response> {
    if let Some(value) = request.headers().get(CSRF_HEADER) {
        let token = value.to_str().ok().map(str::to_owned);
        return Ok((token, request));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, request));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request bodies are limited to {MAX_BODY} bytes"),
        )
        .into_response());
    };
    let token = bytes
        .split(|b| *b == b'&')
        .find_map(|pair| pair.strip_prefix(b"csrf="))
        .and_then(|value| std::str::from_utf8(value).ok())
        .map(str::to_owned);
    Ok((token, Request::from_parts(parts, axum::body::Body::from(bytes))))
}

/// Whether the request says it comes from our own pages: `Sec-Fetch-Site` (sent by every
/// current browser) must not be `cross-site`/`same-site`, and an `Origin` must name our host.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
            !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// A cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

async fn session_principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    let Some(value) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let id_sha256 = sha256(value.as_bytes());
    let session = state.store.session(&id_sha256, Timestamp::now()).await?;
    Ok(session.map(|session| Principal {
        person: session.person,
        via: Via::Session { csrf: session.csrf, id_sha256 },
    }))
}

async fn token_principal(state: &AppState, text: &str) -> Result<Principal, ApiError> {
    let invalid = || {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "the API token is not valid (malformed, unknown, expired or revoked)",
        )
    };
    let (id, secret) = text
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .ok_or_else(invalid)?;
    let cached = match state.tokens.get(id) {
        Some(cached) => cached,
        None => {
            let Some((token, hash, person)) = state.store.token_secret(id).await? else {
                return Err(invalid());
            };
            state.tokens.put(token, hash, person);
            state.tokens.get(id).ok_or_else(invalid)?
        }
    };
    let now = Timestamp::now();
    let live = cached.token.revoked_at.is_none()
        && cached.token.expires_at.is_none_or(|end| end > now)
        && cached.person.active;
    if !live || !constant_time_eq(&sha256(secret.as_bytes()), &cached.secret_sha256) {
        return Err(invalid());
    }
    Ok(Principal {
        person: cached.person,
        via: Via::Token { id: cached.token.id, scopes: cached.token.scopes },
    })
}

/// A new API token: what the store keeps, and the text shown to its owner once.
#[derive(Debug, Clone)]
pub struct MintedToken {
    /// The token as stored: only the SHA-256 of its secret.
    pub token: NewToken,
    /// `lgt_<id>_<secret>`, the only place the secret appears.
    pub text: String,
}

/// Makes a new API token with a fresh id and secret.
pub fn mint_token(
    name: String,
    person: i64,
    scopes: Vec<TokenScope>,
    expires_at: Option<Timestamp>,
) -> MintedToken {
    let id = random_hex(8);
    let secret = random_hex(32);
    let text = format!("{TOKEN_PREFIX}{id}_{secret}");
    let token =
        NewToken { id, name, person, scopes, secret_sha256: sha256(secret.as_bytes()), expires_at };
    MintedToken { token, text }
}

/// SHA-256 of some bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `len` random bytes as lowercase hex.
pub fn random_hex(len: usize) -> String {
    let mut bytes = vec![0_u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    hex(&bytes)
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes: argon2 takes any length, but hashing megabytes on
/// request would be a cheap way to tie up the server.
pub const MAX_PASSWORD_BYTES: usize = 1_024;

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRefusal {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters (it had this many).
    TooShort(usize),
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    TooLong,
}

/// Checks a new password against the bounds every way of setting one shares.
pub fn check_new_password(password: &str) -> Result<(), PasswordRefusal> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(PasswordRefusal::TooShort(length));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordRefusal::TooLong);
    }
    Ok(())
}

/// [`hash_password`] on the blocking pool, where its deliberate slowness holds up no request.
pub async fn hash_password_blocking(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|err| ApiError::internal("hashing a password", &err))?
}

/// An argon2id PHC string for a password. Slow on purpose: call from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| ApiError::internal("hashing a password", &err))
}

/// Whether a password matches a PHC string. Slow on purpose: call from a blocking thread.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A `Set-Cookie` value with our attributes.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}")
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A post-sign-in destination that stays on this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong horse"));
        assert!(!verify_password("not a hash", "correct horse"));
    }

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/archive?q=x")), "/archive?q=x");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn origin_must_be_ours() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8480".parse().expect("header"));
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, "http://127.0.0.1:8480".parse().expect("header"));
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, "http://evil.example".parse().expect("header"));
        assert!(!same_origin(&headers));
        headers.remove(header::ORIGIN);
        headers.insert("sec-fetch-site", "cross-site".parse().expect("header"));
        assert!(!same_origin(&headers));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; lg_session=abc; b=2".parse().expect("header"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
