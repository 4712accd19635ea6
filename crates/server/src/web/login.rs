//! Sign-in and sign-out.
//!
//! The sign-in form is protected like every other form: before there is a session, its CSRF
//! token is the `lg_csrf` cookie's value, echoed in a hidden field (the middleware compares
//! them). A failed sign-in takes as long whether or not the login exists, and says the same.

use std::net::{IpAddr, Ipv4Addr};

use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use jiff::Timestamp;
use lifeguard_core::archive::{AuditRecord, MAX_AUDIT_NAME};
use lifeguard_store::NewSession;
use serde::Deserialize;

use super::util::is_hex_id;
use super::{Layout, PageError, error_page, render, see_other};
use crate::auth::{
    CSRF_COOKIE, Client, MaybePrincipal, SESSION_COOKIE, Via, cookie, random_hex, safe_next,
    set_cookie, sha256, verify_password,
};
use crate::state::AppState;

/// An argon2id hash (of a password nobody knows) with the parameters `auth::hash_password`
/// uses, verified when the login is unknown so that answer takes as long as a real one.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$bGlmZWd1YXJkLWR1bW15$\
    t9xHbsHnMOdvZ/7TPzFb0iM8zF3Vp2nvXQ6Jd6lfb0M";

/// How long the pre-sign-in CSRF cookie lasts: long enough to leave the page open a while.
const CSRF_COOKIE_SECONDS: i64 = 12 * 60 * 60;

const WRONG: &str = "Wrong login or password.";

/// Query of `GET /login`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginQuery {
    next: String,
}

/// Fields of the sign-in form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginForm {
    login: String,
    password: String,
    next: String,
    csrf: String,
}

#[derive(Template)]
#[template(path = "login.html", config = "templates/askama.toml")]
struct LoginPage<'a> {
    layout: Layout,
    csrf: &'a str,
    next: &'a str,
    login: &'a str,
    error: Option<&'a str>,
}

fn login_page(
    status: StatusCode,
    csrf: &str,
    next: &str,
    login: &str,
    error: Option<&str>,
) -> Response {
    let page = LoginPage { layout: Layout::public("Sign in"), csrf, next, login, error };
    render(status, &page).unwrap_or_else(|err| error_page(None, &err))
}

/// `GET /login`: the sign-in form, or straight on for someone already signed in.
pub(crate) async fn form(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let next = query.map(|Query(query)| query.next).unwrap_or_default();
    if principal.is_some() {
        return see_other(&safe_next(Some(&next)));
    }
    // Keep a token the browser already has, so two open sign-in tabs both work.
    let existing =
        cookie(&headers, CSRF_COOKIE).filter(|value| value.len() == 64 && is_hex_id(value, 64));
    let csrf = existing.map_or_else(|| random_hex(32), str::to_owned);
    let mut response = login_page(StatusCode::OK, &csrf, &next, "", None);
    if existing.is_none() {
        let value =
            set_cookie(CSRF_COOKIE, &csrf, CSRF_COOKIE_SECONDS, state.config.secure_cookies);
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// `POST /login`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    client: Client,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return error_page(None, &PageError::bad_request("The sign-in form was incomplete."));
    };
    match sign_in(&state, client, &form).await {
        Ok(response) => response,
        Err(err) => error_page(None, &err),
    }
}

async fn sign_in(
    state: &AppState,
    client: Client,
    form: &LoginForm,
) -> Result<Response, PageError> {
    let ip = client.0.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let from = client.address();
    let login = form.login.trim().to_lowercase();
    let again = |status: StatusCode, message: &str| {
        login_page(status, &form.csrf, &form.next, &login, Some(message))
    };
    if let Err(wait) = state.login_limiter.attempt(ip) {
        let mut response = again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts from your address. Wait a minute, then try again.",
        );
        let seconds = wait.as_secs().max(1);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return Ok(response);
    }
    // A login no audit record could name (empty, oversized, control characters) cannot
    // exist; it is refused the same way, after the same work, without being recorded.
    let recordable =
        !login.is_empty() && login.len() <= MAX_AUDIT_NAME && !login.chars().any(char::is_control);
    let now = Timestamp::now();
    if recordable && state.store.locked_until(&login, now).await?.is_some() {
        let audit =
            AuditRecord::new("anonymous", from.as_deref(), "login.refused_locked").on(&login);
        state.store.record_action(&audit, now).await?;
        return Ok(again(
            StatusCode::LOCKED,
            "This login is locked after too many failed sign-ins. Try again later.",
        ));
    }
    let mut candidate = None;
    if recordable
        && let Some(person) = state.store.person_by_login(&login).await?
        && person.active
        && let Some(hash) = state.store.password_hash(person.id).await?
    {
        candidate = Some((person, hash));
    }
    let hash = candidate.as_ref().map_or(DUMMY_HASH, |(_, hash)| hash.as_str()).to_owned();
    let password = form.password.clone();
    let matches = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(|err| PageError::internal("verifying a password", &err))?;
    let person = match candidate {
        Some((person, _)) if matches => person,
        _ => {
            if recordable {
                let audit =
                    AuditRecord::new("anonymous", from.as_deref(), "login.failed").on(&login);
                state.store.login_failed(&login, state.config.lockout, &audit, now).await?;
            }
            return Ok(again(StatusCode::UNAUTHORIZED, WRONG));
        }
    };
    let secret = random_hex(32);
    let ttl = state.config.session_ttl;
    let expires_at =
        now.checked_add(ttl).map_err(|err| PageError::internal("session expiry", &err))?;
    let session = NewSession {
        id_sha256: sha256(secret.as_bytes()),
        person: person.id,
        csrf: random_hex(32),
        expires_at,
    };
    let audit = AuditRecord::new(&person.login, from.as_deref(), "login").on(&person.login);
    state.store.create_session(&session, &audit, now).await?;
    let mut response = see_other(&safe_next(Some(&form.next)));
    let value = set_cookie(SESSION_COOKIE, &secret, ttl.as_secs(), state.config.secure_cookies);
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /logout`: ends the session in the store (so the cookie is worthless even if kept)
/// and clears the cookie. Without a session it only clears the cookie.
///
/// It answers with the dashboard's address, which sends a signed-out browser on to the
/// sign-in page: a redirect straight to `/login` would read as "sign in first" to clients that
/// tell refusals from successes by where they are sent.
pub(crate) async fn logout(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    client: Client,
) -> Response {
    if let Some(principal) = &principal
        && let Via::Session { id_sha256, .. } = &principal.via
    {
        let audit = principal.audit(&client, "logout");
        if let Err(err) = state.store.end_session(id_sha256, &audit, Timestamp::now()).await {
            return error_page(None, &err.into());
        }
    }
    let mut response = see_other("/");
    let cleared = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies);
    if let Ok(value) = HeaderValue::from_str(&cleared) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use argon2::PasswordHash;

    use super::DUMMY_HASH;
    use crate::auth::{hash_password, verify_password};

    #[test]
    fn dummy_hash_costs_what_a_real_one_does() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("a PHC string");
        let real_text = hash_password("anything at all").expect("hash");
        let real = PasswordHash::new(&real_text).expect("a PHC string");
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert!(!verify_password(DUMMY_HASH, ""));
    }
}
