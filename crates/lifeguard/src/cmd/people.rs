//! `lifeguard people`: the directory from the command line, for the first administrator of a
//! new deployment and for scripts. Every change goes through the store with its audit entry
//! (actor `cli`), exactly as a change made through the server does.

use std::io::{self, BufRead as _, Write as _};

use anyhow::{Context as _, bail};
use jiff::{SignedDuration, Timestamp};
use lifeguard_core::access::{Role, TokenScope};
use lifeguard_core::archive::{AuditRecord, format_time};
use lifeguard_server::auth::{MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, PasswordRefusal};
use lifeguard_server::{access, auth};
use lifeguard_store::{NewPerson, Person, PersonPatch, Store};
use serde_json::json;

use crate::cli::{Format, PeopleArgs, PeopleCommand};
use crate::cmd::{archive, serve};
use crate::exit::Exit;

pub(crate) fn run(args: &PeopleArgs) -> anyhow::Result<Exit> {
    serve::runtime()?.block_on(async {
        let store = archive::open(&args.store).await?;
        match &args.command {
            PeopleCommand::Add {
                login,
                name,
                email,
                role,
                department,
                manager,
                area,
                password_stdin,
            } => {
                let role: Role = role.parse().context("--role")?;
                let manager = match manager {
                    Some(login) => Some(person(store.as_ref(), login).await?.id),
                    None => None,
                };
                let password_hash =
                    if *password_stdin { Some(hash(read_password()?).await?) } else { None };
                let new = NewPerson {
                    login: login.clone(),
                    name: name.clone(),
                    email: email.clone(),
                    department: department.clone(),
                    manager,
                    role,
                    area: area.clone(),
                    password_hash,
                };
                let audit = audit("person.create").on(login.as_str()).with("role", role.name());
                let added = store.create_person(&new, &audit, Timestamp::now()).await?;
                say!("added {} ({}), id {}", added.login, added.role, added.id);
            }
            PeopleCommand::List { format } => list(store.as_ref(), *format).await?,
            PeopleCommand::SetPassword { login } => {
                let who = person(store.as_ref(), login).await?;
                let patch = PersonPatch {
                    password_hash: Some(hash(read_password()?).await?),
                    ..Default::default()
                };
                let audit = audit("person.password").on(login.as_str());
                store.update_person(who.id, &patch, &audit, Timestamp::now()).await?;
                say!("password set for {login}");
            }
            PeopleCommand::Token { login, name, scopes, expires_in_days } => {
                let who = person(store.as_ref(), login).await?;
                let scopes = scopes
                    .iter()
                    .map(|s| s.parse::<TokenScope>().context("--scope"))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let grantable = access::grantable_scopes(who.role);
                if let Some(scope) = scopes.iter().find(|s| !grantable.contains(s)) {
                    bail!("a {} may not hold a token with the `{scope}` scope", who.role);
                }
                let now = Timestamp::now();
                let expires_at = expires_in_days
                    .map(|days| now.checked_add(SignedDuration::from_hours(24 * i64::from(days))))
                    .transpose()
                    .context("--expires-in-days is too far ahead")?;
                let minted = auth::mint_token(name.clone(), who.id, scopes, expires_at);
                let names: Vec<_> = minted.token.scopes.iter().map(|s| s.name()).collect();
                let audit =
                    audit("token.create").on(minted.token.id.as_str()).with("scopes", names);
                store.create_token(&minted.token, &audit, now).await?;
                say!("{}", minted.text);
            }
        }
        archive::sign_what_was_written(&args.store, store.as_ref()).await?;
        Ok(Exit::Ok)
    })
}

fn audit(action: &str) -> AuditRecord {
    AuditRecord::new("cli", None, action)
}

async fn person(store: &dyn Store, login: &str) -> anyhow::Result<Person> {
    store.person_by_login(login).await?.with_context(|| format!("no person signs in as `{login}`"))
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line).context("cannot read the password")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    match auth::check_new_password(&password) {
        Ok(()) => Ok(password),
        Err(PasswordRefusal::TooShort(_)) => {
            bail!("the password must have at least {MIN_PASSWORD_CHARS} characters")
        }
        Err(PasswordRefusal::TooLong) => {
            bail!("the password must have at most {MAX_PASSWORD_BYTES} bytes")
        }
    }
}

async fn hash(password: String) -> anyhow::Result<String> {
    auth::hash_password_blocking(password).await.map_err(|err| anyhow::anyhow!("{}", err.message))
}

async fn list(store: &dyn Store, format: Format) -> anyhow::Result<()> {
    let people = store.people().await?;
    let mut out = io::stdout().lock();
    for p in &people {
        match format {
            Format::Json => {
                let line = json!({
                    "id": p.id, "login": p.login, "name": p.name, "email": p.email,
                    "department": p.department, "manager": p.manager, "role": p.role.name(),
                    "area": p.area, "active": p.active, "created_at": format_time(p.created_at),
                });
                writeln!(out, "{line}")?;
            }
            Format::Text => writeln!(
                out,
                "{:<16} {:<11} {:<28} {}{}",
                p.login,
                p.role.name(),
                p.name,
                p.department.as_deref().unwrap_or("-"),
                if p.active { "" } else { " (inactive)" }
            )?,
        }
    }
    Ok(())
}
