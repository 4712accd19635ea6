//! People and accounts: lists for those who may read the directory, forms for admins.
//!
//! The store checks every field again inside its transaction; the checks here are the ones a
//! form can answer better (a password's length, a choice from a list), and any refusal,
//! ours or the store's, re-renders the form with what was entered and the reason.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::Path;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use lifeguard_core::access::{REVIEW_AREAS, Role};
use lifeguard_store::{
    Account, Department, ErrorKind, NewAccount, NewPerson, Person, PersonPatch, StoreError,
};
use serde::Deserialize;

use super::util::{TimeView, given};
use super::{Ctx, Layout, PageError, render, see_other};
use crate::access::Permission;
use crate::auth::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, PasswordRefusal, check_new_password,
    hash_password_blocking,
};

/// One option of a `<select>` whose values are not fixed names.
pub(crate) struct Opt {
    value: String,
    label: String,
    selected: bool,
}

fn department_options(departments: &[Department], selected: &str) -> Vec<Opt> {
    departments
        .iter()
        .map(|d| Opt { value: d.id.clone(), label: d.name.clone(), selected: d.id == selected })
        .collect()
}

/// Department names by id.
fn department_names(departments: &[Department]) -> HashMap<&str, &str> {
    departments.iter().map(|d| (d.id.as_str(), d.name.as_str())).collect()
}

/// A department as the pages name it: its name, or its id if it has none we know; empty for
/// none.
fn department_name(names: &HashMap<&str, &str>, id: Option<&str>) -> String {
    id.map(|id| names.get(id).copied().unwrap_or(id).to_owned()).unwrap_or_default()
}

fn person_options(people: &[Person], selected: &str, except: Option<i64>) -> Vec<Opt> {
    people
        .iter()
        .filter(|p| Some(p.id) != except)
        .map(|p| {
            let value = p.id.to_string();
            Opt { label: format!("{} ({})", p.name, p.login), selected: value == selected, value }
        })
        .collect()
}

fn name_options(names: &[&str], selected: &str) -> Vec<Opt> {
    names
        .iter()
        .map(|&name| Opt {
            value: name.to_owned(),
            label: name.to_owned(),
            selected: name == selected,
        })
        .collect()
}

fn role_names() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.name()).collect()
}

/// A person as the table lists them.
struct PersonRow {
    id: i64,
    login: String,
    name: String,
    department: String,
    manager: String,
    role: &'static str,
    area: String,
    active: bool,
}

/// Fields of the form that adds a person.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PersonForm {
    login: String,
    name: String,
    email: String,
    department: String,
    manager: String,
    role: String,
    area: String,
    password: String,
}

#[derive(Template)]
#[template(path = "people.html", config = "templates/askama.toml")]
struct PeoplePage<'a> {
    layout: Layout,
    rows: Vec<PersonRow>,
    manage: bool,
    form: &'a PersonForm,
    error: Option<String>,
    departments: Vec<Opt>,
    managers: Vec<Opt>,
    roles: Vec<Opt>,
    areas: Vec<Opt>,
    min_password: usize,
}

async fn people_page(
    ctx: &Ctx,
    status: StatusCode,
    form: &PersonForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let people = ctx.state.store.people().await?;
    let departments = ctx.state.store.departments().await?;
    let department_names = department_names(&departments);
    let logins: HashMap<i64, &str> = people.iter().map(|p| (p.id, p.login.as_str())).collect();
    let rows = people
        .iter()
        .map(|p| PersonRow {
            id: p.id,
            login: p.login.clone(),
            name: p.name.clone(),
            department: department_name(&department_names, p.department.as_deref()),
            manager: p
                .manager
                .and_then(|m| logins.get(&m))
                .map(|l| (*l).to_owned())
                .unwrap_or_default(),
            role: p.role.name(),
            area: p.area.clone().unwrap_or_default(),
            active: p.active,
        })
        .collect();
    let role = if form.role.is_empty() { Role::Employee.name() } else { form.role.as_str() };
    let page = PeoplePage {
        layout: ctx.layout("People", "/people"),
        rows,
        manage: ctx.principal.may(Permission::ManageDirectory),
        form,
        error,
        departments: department_options(&departments, &form.department),
        managers: person_options(&people, &form.manager, None),
        roles: name_options(&role_names(), role),
        areas: name_options(&REVIEW_AREAS, &form.area),
        min_password: MIN_PASSWORD_CHARS,
    };
    render(status, &page)
}

/// `GET /people`.
pub(crate) async fn people(ctx: Ctx) -> Response {
    let result = async {
        ctx.require(Permission::ReadDirectory)?;
        people_page(&ctx, StatusCode::OK, &PersonForm::default(), None).await
    }
    .await;
    ctx.finish(result)
}

/// A refusal the form should show: the store's `Invalid` errors and our own checks.
enum Refusal {
    Form(String),
    Page(PageError),
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Refusal {
        match err.kind() {
            ErrorKind::Invalid => Refusal::Form(err.to_string()),
            _ => Refusal::Page(err.into()),
        }
    }
}

impl From<PageError> for Refusal {
    fn from(err: PageError) -> Refusal {
        Refusal::Page(err)
    }
}

fn optional_id(field: &str, text: &str) -> Result<Option<i64>, Refusal> {
    given(text)
        .map(|id| {
            id.parse::<i64>().map_err(|_| Refusal::Form(format!("Choose a {field} from the list.")))
        })
        .transpose()
}

fn role_of(text: &str) -> Result<Role, Refusal> {
    text.parse::<Role>().map_err(|err| Refusal::Form(err.to_string()))
}

/// The review area, kept only for reviewers: the form offers it to everyone.
fn area_for(role: Role, text: &str) -> Option<String> {
    (role == Role::Reviewer).then(|| given(text).map(str::to_owned)).flatten()
}

/// `POST /people`.
pub(crate) async fn create_person(
    ctx: Ctx,
    form: Result<Form<PersonForm>, FormRejection>,
) -> Response {
    let result = async {
        ctx.require(Permission::ManageDirectory)?;
        let Ok(Form(form)) = form else {
            return Err(PageError::bad_request("The form could not be read."));
        };
        match add_person(&ctx, &form).await {
            Ok(()) => Ok(see_other("/people")),
            Err(Refusal::Form(message)) => {
                people_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(message)).await
            }
            Err(Refusal::Page(err)) => Err(err),
        }
    }
    .await;
    ctx.finish(result)
}

async fn add_person(ctx: &Ctx, form: &PersonForm) -> Result<(), Refusal> {
    let role = role_of(&form.role)?;
    let manager = optional_id("manager", &form.manager)?;
    match check_new_password(&form.password) {
        Ok(()) => {}
        Err(PasswordRefusal::TooShort(_)) => {
            return Err(Refusal::Form(format!(
                "The password must be at least {MIN_PASSWORD_CHARS} characters long."
            )));
        }
        Err(PasswordRefusal::TooLong) => {
            return Err(Refusal::Form(format!(
                "The password must be at most {MAX_PASSWORD_BYTES} bytes long."
            )));
        }
    }
    let hash = hash_password_blocking(form.password.clone()).await.map_err(PageError::from)?;
    let login = form.login.trim().to_lowercase();
    let person = NewPerson {
        login: login.clone(),
        name: form.name.trim().to_owned(),
        email: form.email.trim().to_owned(),
        department: given(&form.department).map(str::to_owned),
        manager,
        role,
        area: area_for(role, &form.area),
        password_hash: Some(hash),
    };
    let audit = ctx.audit("person.create").on(login.as_str()).with("role", role.name());
    ctx.state.store.create_person(&person, &audit, Timestamp::now()).await?;
    Ok(())
}

/// Fields of the form that changes a person. A field left out of the form leaves the person's
/// value as it is; an empty one clears it (where it may be empty).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PersonEditForm {
    name: Option<String>,
    email: Option<String>,
    role: Option<String>,
    department: Option<String>,
    manager: Option<String>,
    area: Option<String>,
    /// `true` or `false` (the form's list); a ticked checkbox's `on` also reads as `true`.
    active: Option<String>,
}

impl PersonEditForm {
    /// The form as it first shows: the person's values.
    fn of(person: &Person) -> PersonEditForm {
        PersonEditForm {
            name: Some(person.name.clone()),
            email: Some(person.email.clone()),
            role: Some(person.role.name().to_owned()),
            department: Some(person.department.clone().unwrap_or_default()),
            manager: Some(person.manager.map(|m| m.to_string()).unwrap_or_default()),
            area: Some(person.area.clone().unwrap_or_default()),
            active: Some(person.active.to_string()),
        }
    }

    /// The form as it shows again after a refusal: what was entered, the rest as it is.
    fn over(&self, person: &Person) -> PersonEditForm {
        let shown = PersonEditForm::of(person);
        let pick = |entered: &Option<String>, current: Option<String>| entered.clone().or(current);
        PersonEditForm {
            name: pick(&self.name, shown.name),
            email: pick(&self.email, shown.email),
            role: pick(&self.role, shown.role),
            department: pick(&self.department, shown.department),
            manager: pick(&self.manager, shown.manager),
            area: pick(&self.area, shown.area),
            active: pick(&self.active, shown.active),
        }
    }

    fn active(&self) -> Result<Option<bool>, Refusal> {
        match self.active.as_deref().map(str::trim) {
            None => Ok(None),
            Some("true" | "on" | "yes") => Ok(Some(true)),
            Some("false" | "off" | "no") => Ok(Some(false)),
            Some(_) => Err(Refusal::Form("Choose whether the person is active.".to_owned())),
        }
    }
}

#[derive(Template)]
#[template(path = "person.html", config = "templates/askama.toml")]
struct PersonPage<'a> {
    layout: Layout,
    person: &'a Person,
    manage: bool,
    name: &'a str,
    email: &'a str,
    active: bool,
    error: Option<String>,
    department: String,
    manager: String,
    departments: Vec<Opt>,
    managers: Vec<Opt>,
    roles: Vec<Opt>,
    areas: Vec<Opt>,
    created: TimeView,
}

async fn person_page(
    ctx: &Ctx,
    status: StatusCode,
    person: &Person,
    form: &PersonEditForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let people = ctx.state.store.people().await?;
    let departments = ctx.state.store.departments().await?;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let department = department_name(&department_names(&departments), person.department.as_deref());
    let manager_login = person
        .manager
        .and_then(|m| people.iter().find(|p| p.id == m))
        .map(|p| p.login.clone())
        .unwrap_or_default();
    let page = PersonPage {
        layout: ctx.layout(format!("Person: {}", person.name), ""),
        person,
        manage: ctx.principal.may(Permission::ManageDirectory),
        name: form.name.as_deref().unwrap_or_default(),
        email: form.email.as_deref().unwrap_or_default(),
        active: !matches!(form.active.as_deref(), Some("false" | "off" | "no")),
        error,
        department,
        manager: manager_login,
        departments: department_options(&departments, &text(&form.department)),
        managers: person_options(&people, &text(&form.manager), Some(person.id)),
        roles: name_options(&role_names(), &text(&form.role)),
        areas: name_options(&REVIEW_AREAS, &text(&form.area)),
        created: TimeView::new(person.created_at),
    };
    render(status, &page)
}

async fn person_of(
    ctx: &Ctx,
    id: Result<Path<String>, PathRejection>,
) -> Result<Person, PageError> {
    let id =
        id.ok().and_then(|Path(id)| id.parse::<i64>().ok()).ok_or_else(PageError::not_found)?;
    ctx.state.store.person(id).await?.ok_or_else(PageError::not_found)
}

/// `GET /people/{id}`: the person, with the form to change them for admins.
pub(crate) async fn person(ctx: Ctx, id: Result<Path<String>, PathRejection>) -> Response {
    let result = async {
        ctx.require(Permission::ReadDirectory)?;
        let person = person_of(&ctx, id).await?;
        person_page(&ctx, StatusCode::OK, &person, &PersonEditForm::of(&person), None).await
    }
    .await;
    ctx.finish(result)
}

/// `POST /people/{id}`.
pub(crate) async fn update_person(
    ctx: Ctx,
    id: Result<Path<String>, PathRejection>,
    form: Result<Form<PersonEditForm>, FormRejection>,
) -> Response {
    let result = async {
        ctx.require(Permission::ManageDirectory)?;
        let person = person_of(&ctx, id).await?;
        let Ok(Form(form)) = form else {
            return Err(PageError::bad_request("The form could not be read."));
        };
        match change_person(&ctx, &person, &form).await {
            Ok(()) => Ok(see_other("/people")),
            Err(Refusal::Form(message)) => {
                let shown = form.over(&person);
                person_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &person, &shown, Some(message))
                    .await
            }
            Err(Refusal::Page(err)) => Err(err),
        }
    }
    .await;
    ctx.finish(result)
}

async fn change_person(ctx: &Ctx, person: &Person, form: &PersonEditForm) -> Result<(), Refusal> {
    let role = form.role.as_deref().map(role_of).transpose()?;
    let active = form.active()?;
    // An admin who demoted or deactivated themselves could leave nobody able to undo it.
    if person.id == ctx.principal.person.id
        && (role.is_some_and(|r| r != Role::Admin) || active == Some(false))
    {
        return Err(Refusal::Form(
            "You cannot take away your own admin role or deactivate yourself; ask another admin."
                .to_owned(),
        ));
    }
    let final_role = role.unwrap_or(person.role);
    // The area only means something for reviewers: moving someone off the reviewer role
    // clears it, whatever the form says.
    let area = match &form.area {
        Some(text) => Some(area_for(final_role, text)),
        None if final_role != Role::Reviewer && person.area.is_some() => Some(None),
        None => None,
    };
    let patch = PersonPatch {
        name: form.name.as_deref().map(|n| n.trim().to_owned()),
        email: form.email.as_deref().map(|e| e.trim().to_owned()),
        department: form.department.as_deref().map(|d| given(d).map(str::to_owned)),
        manager: form.manager.as_deref().map(|m| optional_id("manager", m)).transpose()?,
        role,
        area,
        active,
        password_hash: None,
    };
    let mut audit = ctx.audit("person.update").on(person.login.as_str());
    if let Some(role) = role {
        audit = audit.with("role", role.name());
    }
    if let Some(active) = active {
        audit = audit.with("active", active);
    }
    ctx.state.store.update_person(person.id, &patch, &audit, Timestamp::now()).await?;
    // A cached token acts as its person as they were: forget them all.
    ctx.state.tokens.clear();
    Ok(())
}

/// An account as the table lists it.
struct AccountRow {
    platform: String,
    handle: String,
    name: String,
    owner: String,
    department: String,
    created: TimeView,
}

/// Fields of the form that adds an account.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AccountForm {
    platform: String,
    handle: String,
    name: String,
    owner: String,
    department: String,
}

#[derive(Template)]
#[template(path = "accounts.html", config = "templates/askama.toml")]
struct AccountsPage<'a> {
    layout: Layout,
    rows: Vec<AccountRow>,
    manage: bool,
    form: &'a AccountForm,
    error: Option<String>,
    owners: Vec<Opt>,
    departments: Vec<Opt>,
}

async fn accounts_page(
    ctx: &Ctx,
    status: StatusCode,
    form: &AccountForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let accounts: Vec<Account> = ctx.state.store.accounts().await?;
    let people = ctx.state.store.people().await?;
    let departments = ctx.state.store.departments().await?;
    let logins: HashMap<i64, &str> = people.iter().map(|p| (p.id, p.login.as_str())).collect();
    let department_names = department_names(&departments);
    let rows = accounts
        .iter()
        .map(|a| AccountRow {
            platform: a.platform.clone(),
            handle: a.handle.clone(),
            name: a.name.clone(),
            owner: a
                .owner
                .and_then(|o| logins.get(&o))
                .map(|l| (*l).to_owned())
                .unwrap_or_default(),
            department: department_name(&department_names, a.department.as_deref()),
            created: TimeView::new(a.created_at),
        })
        .collect();
    let page = AccountsPage {
        layout: ctx.layout("Accounts", "/accounts"),
        rows,
        manage: ctx.principal.may(Permission::ManageDirectory),
        form,
        error,
        owners: person_options(&people, &form.owner, None),
        departments: department_options(&departments, &form.department),
    };
    render(status, &page)
}

/// `GET /accounts`.
pub(crate) async fn accounts(ctx: Ctx) -> Response {
    let result = async {
        ctx.require(Permission::ReadDirectory)?;
        accounts_page(&ctx, StatusCode::OK, &AccountForm::default(), None).await
    }
    .await;
    ctx.finish(result)
}

/// `POST /accounts`.
pub(crate) async fn create_account(
    ctx: Ctx,
    form: Result<Form<AccountForm>, FormRejection>,
) -> Response {
    let result = async {
        ctx.require(Permission::ManageDirectory)?;
        let Ok(Form(form)) = form else {
            return Err(PageError::bad_request("The form could not be read."));
        };
        match add_account(&ctx, &form).await {
            Ok(()) => Ok(see_other("/accounts")),
            Err(Refusal::Form(message)) => {
                accounts_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(message)).await
            }
            Err(Refusal::Page(err)) => Err(err),
        }
    }
    .await;
    ctx.finish(result)
}

async fn add_account(ctx: &Ctx, form: &AccountForm) -> Result<(), Refusal> {
    let account = NewAccount {
        platform: form.platform.trim().to_lowercase(),
        handle: form.handle.trim().to_owned(),
        name: form.name.trim().to_owned(),
        owner: optional_id("owner", &form.owner)?,
        department: given(&form.department).map(str::to_owned),
    };
    let audit = ctx
        .audit("account.create")
        .on(format!("{}:{}", account.platform, account.handle))
        .with("owner", account.owner);
    ctx.state.store.create_account(&account, &audit, Timestamp::now()).await?;
    Ok(())
}
