//! API tokens: list, create (the secret is shown once, only its hash is kept), revoke.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use lifeguard_core::access::TokenScope;
use lifeguard_store::{ErrorKind, Person};
use serde_json::json;

use super::util::{TimeView, form_pairs, given, is_hex_id};
use super::{Ctx, Layout, PageError, render, see_other};
use crate::access::{Permission, grantable_scopes};
use crate::auth::mint_token;

/// Longest a token may be made to last.
const MAX_DAYS: i64 = 3_650;
/// Longest token name.
const MAX_NAME: usize = 200;

/// A token as the table lists it.
struct TokenRow {
    id: String,
    name: String,
    person: String,
    scopes: String,
    created: TimeView,
    expires: Option<TimeView>,
    revoked: Option<TimeView>,
}

/// Fields of the form that makes a token. Its scope checkboxes share the name `scopes`, so
/// the body is read field by field rather than through the typed `Form` extractor.
#[derive(Debug, Default)]
pub(crate) struct TokenForm {
    name: String,
    /// A person's id (what the form's list sends) or login.
    person: String,
    scopes: Vec<String>,
    expires_in_days: String,
}

impl TokenForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> TokenForm {
        let mut form = TokenForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "name" => form.name = value,
                "person" => form.person = value,
                "scopes" => form.scopes.push(value),
                "expires_in_days" => form.expires_in_days = value,
                _ => {}
            }
        }
        form
    }

    /// The ticked scopes, each once, in their usual order.
    fn scopes(&self) -> Result<Vec<TokenScope>, String> {
        let mut scopes = self
            .scopes
            .iter()
            .map(|name| name.parse::<TokenScope>().map_err(|err| err.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    fn chooses(&self, person: &Person) -> bool {
        let chosen = self.person.trim();
        !chosen.is_empty() && (person.id.to_string() == chosen || person.login == chosen)
    }
}

/// A scope checkbox.
struct ScopeBox {
    name: &'static str,
    checked: bool,
}

/// A person to give a token to.
struct PersonChoice {
    id: i64,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "tokens.html", config = "templates/askama.toml")]
struct TokensPage<'a> {
    layout: Layout,
    rows: Vec<TokenRow>,
    form: &'a TokenForm,
    people: Vec<PersonChoice>,
    scopes: Vec<ScopeBox>,
    error: Option<String>,
    max_days: i64,
}

#[derive(Template)]
#[template(path = "token_created.html", config = "templates/askama.toml")]
struct CreatedPage<'a> {
    layout: Layout,
    text: &'a str,
    name: &'a str,
    person: &'a str,
    scopes: String,
}

async fn tokens_page(
    ctx: &Ctx,
    status: StatusCode,
    form: &TokenForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let tokens = ctx.state.store.tokens(None).await?;
    let people = ctx.state.store.people().await?;
    let logins: HashMap<i64, &str> = people.iter().map(|p| (p.id, p.login.as_str())).collect();
    let rows = tokens
        .iter()
        .map(|t| TokenRow {
            id: t.id.clone(),
            name: t.name.clone(),
            person: logins.get(&t.person).map(|l| (*l).to_owned()).unwrap_or_default(),
            scopes: t.scopes.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "),
            created: TimeView::new(t.created_at),
            expires: t.expires_at.map(TimeView::new),
            revoked: t.revoked_at.map(TimeView::new),
        })
        .collect();
    let chosen = form.scopes().unwrap_or_default();
    let page = TokensPage {
        layout: ctx.layout("Tokens", "/tokens"),
        rows,
        form,
        people: people
            .iter()
            .filter(|p| p.active)
            .map(|p| PersonChoice {
                id: p.id,
                label: format!("{} ({}, {})", p.name, p.login, p.role.name()),
                selected: form.chooses(p),
            })
            .collect(),
        scopes: TokenScope::ALL
            .iter()
            .map(|&scope| ScopeBox { name: scope.name(), checked: chosen.contains(&scope) })
            .collect(),
        error,
        max_days: MAX_DAYS,
    };
    render(status, &page)
}

/// `GET /tokens`.
pub(crate) async fn list(ctx: Ctx) -> Response {
    let result = async {
        ctx.require(Permission::ManageTokens)?;
        tokens_page(&ctx, StatusCode::OK, &TokenForm::default(), None).await
    }
    .await;
    ctx.finish(result)
}

/// `POST /tokens`.
pub(crate) async fn create(ctx: Ctx, body: Bytes) -> Response {
    let result = async {
        ctx.require(Permission::ManageTokens)?;
        let form = TokenForm::from_pairs(form_pairs(&body)?);
        let refuse = |message: String| {
            tokens_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(message))
        };
        let name = form.name.trim();
        if name.is_empty() || name.len() > MAX_NAME {
            return refuse(format!("Give the token a name of 1 to {MAX_NAME} bytes.")).await;
        }
        let chosen = form.person.trim();
        let person: Option<Person> = match chosen.parse::<i64>() {
            Ok(id) => ctx.state.store.person(id).await?,
            Err(_) if chosen.is_empty() => None,
            Err(_) => ctx.state.store.person_by_login(&chosen.to_lowercase()).await?,
        };
        let Some(person) = person.filter(|p| p.active) else {
            return refuse("Choose whose token it is from the list.".to_owned()).await;
        };
        let scopes = match form.scopes() {
            Ok(scopes) => scopes,
            Err(message) => return refuse(message).await,
        };
        if scopes.is_empty() {
            return refuse("Tick at least one scope.".to_owned()).await;
        }
        let allowed = grantable_scopes(person.role);
        if let Some(extra) = scopes.iter().find(|scope| !allowed.contains(scope)) {
            return refuse(format!(
                "A token of {} ({}) cannot have the `{extra}` scope: the role does not allow it.",
                person.login,
                person.role.name()
            ))
            .await;
        }
        let now = Timestamp::now();
        let expires_at = match given(&form.expires_in_days) {
            None => None,
            Some(days) => match days.parse::<i64>() {
                Ok(days) if (1..=MAX_DAYS).contains(&days) => {
                    now.checked_add(SignedDuration::from_hours(days * 24)).ok()
                }
                _ => {
                    return refuse(format!(
                        "Expiry must be a number of days from 1 to {MAX_DAYS}, or empty for never."
                    ))
                    .await;
                }
            },
        };
        let minted = mint_token(name.to_owned(), person.id, scopes.clone(), expires_at);
        let names: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
        let audit = ctx
            .audit("token.create")
            .on(minted.token.id.as_str())
            .with("person", person.login.as_str())
            .with("scopes", json!(names));
        if let Err(err) = ctx.state.store.create_token(&minted.token, &audit, now).await {
            return match err.kind() {
                ErrorKind::Invalid => refuse(err.to_string()).await,
                _ => Err(err.into()),
            };
        }
        ctx.state.tokens.clear();
        let text = minted.text;
        let page = CreatedPage {
            layout: ctx.layout("New token", "/tokens"),
            text: &text,
            name,
            person: &person.login,
            scopes: names.join(", "),
        };
        render(StatusCode::OK, &page)
    }
    .await;
    ctx.finish(result)
}

/// `POST /tokens/{id}/revoke`.
pub(crate) async fn revoke(ctx: Ctx, id: Result<Path<String>, PathRejection>) -> Response {
    let result = async {
        ctx.require(Permission::ManageTokens)?;
        let id = id
            .ok()
            .map(|Path(id)| id)
            .filter(|id| is_hex_id(id, 64))
            .ok_or_else(PageError::not_found)?;
        let audit = ctx.audit("token.revoke").on(id.as_str());
        if let Err(err) = ctx.state.store.revoke_token(&id, &audit, Timestamp::now()).await {
            return match err.kind() {
                ErrorKind::Invalid => {
                    tokens_page(
                        &ctx,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &TokenForm::default(),
                        Some(err.to_string()),
                    )
                    .await
                }
                _ => Err(err.into()),
            };
        }
        ctx.state.tokens.clear();
        Ok(see_other("/tokens"))
    }
    .await;
    ctx.finish(result)
}
