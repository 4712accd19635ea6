//! Every route, requested anonymously and as every role, against one declared matrix.
//!
//! Codes in the table: `Y` allowed (2xx, or a 3xx that is not to the sign-in page), `N`
//! refused (403), `L` sign in first (401 on the API, a redirect to `/login` on pages), `H`
//! hidden (404: the item exists but is outside the person's audience).

mod common;

use std::collections::BTreeSet;

use common::{Db, TestApp};
use jiff::Timestamp;
use lifeguard_core::access::{Role, TokenScope};
use lifeguard_core::archive::{AuditRecord, Query};
use lifeguard_server::access;
use lifeguard_server::auth;
use lifeguard_server::demo::DEMO_LOGINS;
use lifeguard_store::{NewToken, SearchRequest};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Who asks: anonymous, then each role in `DEMO_LOGINS` order.
const WHO: [&str; 7] =
    ["anonymous", "admin", "compliance", "supervisor", "reviewer", "employee", "auditor"];

/// How a request carries its input.
#[derive(Clone, Copy)]
enum Body {
    None,
    Form(fn(&Ctx, &str) -> Vec<(String, String)>),
    Json(fn(&Ctx, &str) -> Value),
}

/// (method, path pattern, body, expected for each of WHO).
type Row = (&'static str, &'static str, Body, &'static str);

/// The declared matrix. Path patterns use the router's `{name}` placeholders.
const MATRIX: &[Row] = &[
    // Public.
    ("GET", "/healthz", Body::None, "YYYYYYY"),
    ("GET", "/readyz", Body::None, "YYYYYYY"),
    ("GET", "/login", Body::None, "YYYYYYY"),
    ("GET", "/static/{file}", Body::None, "YYYYYYY"),
    ("GET", "/api/v1/openapi.json", Body::None, "YYYYYYY"),
    // Pages.
    ("GET", "/", Body::None, "LYYYYYY"),
    ("GET", "/check", Body::None, "LYYYYYY"),
    ("POST", "/check", Body::Form(check_form), "LYYYYYY"),
    ("GET", "/archive", Body::None, "LYYYYYY"),
    ("GET", "/items/{seq}", Body::None, "LYYYYYY"),
    ("GET", "/items/{hidden}", Body::None, "LYYHYHY"),
    ("GET", "/policy", Body::None, "LYYYYYY"),
    ("GET", "/people", Body::None, "LYYNNNY"),
    ("POST", "/people", Body::Form(person_form), "LYNNNNN"),
    ("GET", "/people/{id}", Body::None, "LYYNNNY"),
    ("POST", "/people/{id}", Body::Form(person_edit_form), "LYNNNNN"),
    ("GET", "/accounts", Body::None, "LYYNNNY"),
    ("POST", "/accounts", Body::Form(account_form), "LYNNNNN"),
    ("GET", "/tokens", Body::None, "LYNNNNN"),
    ("POST", "/tokens", Body::Form(token_form), "LYNNNNN"),
    ("POST", "/tokens/{token}/revoke", Body::None, "LYNNNNN"),
    ("GET", "/audit", Body::None, "LNYNNNY"),
    // The API.
    ("POST", "/api/v1/check", Body::Json(check_json), "LYYYYYY"),
    ("GET", "/api/v1/items", Body::None, "LYYYYYY"),
    ("POST", "/api/v1/items", Body::Json(item_json), "LYYNNNN"),
    ("GET", "/api/v1/items/{seq}", Body::None, "LYYYYYY"),
    ("GET", "/api/v1/items/{hidden}", Body::None, "LYYHYHY"),
    ("GET", "/api/v1/policy", Body::None, "LYYYYYY"),
    ("GET", "/api/v1/policy/rendered", Body::None, "LYYYYYY"),
    ("GET", "/api/v1/people", Body::None, "LYYNNNY"),
    ("POST", "/api/v1/people", Body::Json(person_json), "LYNNNNN"),
    ("GET", "/api/v1/people/{id}", Body::None, "LYYNNNY"),
    ("PATCH", "/api/v1/people/{id}", Body::Json(person_patch_json), "LYNNNNN"),
    ("GET", "/api/v1/departments", Body::None, "LYYNNNY"),
    ("POST", "/api/v1/departments", Body::Json(department_json), "LYNNNNN"),
    ("GET", "/api/v1/accounts", Body::None, "LYYNNNY"),
    ("POST", "/api/v1/accounts", Body::Json(account_json), "LYNNNNN"),
    ("GET", "/api/v1/tokens", Body::None, "LYNNNNN"),
    ("POST", "/api/v1/tokens", Body::Json(token_json), "LYNNNNN"),
    ("DELETE", "/api/v1/tokens/{token}", Body::None, "LYNNNNN"),
    ("GET", "/api/v1/audit", Body::None, "LNYNNNY"),
    ("GET", "/api/v1/settings", Body::None, "LYYNNNY"),
    ("PUT", "/api/v1/settings/{key}", Body::Json(setting_json), "LYNNNNN"),
    // Signing out works for everyone (anonymously it only clears cookies).
    ("POST", "/logout", Body::None, "YYYYYYY"),
];

/// Values the path patterns and bodies need.
struct Ctx {
    seq: u64,
    hidden: u64,
    eve: i64,
    tokens: Vec<String>,
}

fn check_form(_: &Ctx, _: &str) -> Vec<(String, String)> {
    pairs(&[
        ("text", "Hello world"),
        ("platform", "x"),
        ("kind", "post"),
        ("author_type", "employee"),
    ])
}

fn person_form(_: &Ctx, who: &str) -> Vec<(String, String)> {
    let login = format!("matrix-{who}-web");
    let mut form = pairs(&[
        ("name", "Matrix Person"),
        ("email", "matrix@example.com"),
        ("role", "employee"),
        ("department", ""),
        ("manager", ""),
        ("area", ""),
        ("password", "a long enough password"),
    ]);
    form.push(("login".into(), login));
    form
}

fn person_edit_form(ctx: &Ctx, _: &str) -> Vec<(String, String)> {
    let _ = ctx;
    pairs(&[("name", "Eve Example"), ("role", "employee"), ("active", "true")])
}

fn account_form(_: &Ctx, who: &str) -> Vec<(String, String)> {
    let mut form =
        pairs(&[("platform", "x"), ("name", "Matrix account"), ("owner", ""), ("department", "")]);
    form.push(("handle".into(), format!("matrix-{who}-web")));
    form
}

fn token_form(_: &Ctx, _: &str) -> Vec<(String, String)> {
    pairs(&[("name", "matrix"), ("person", "eve"), ("scopes", "check"), ("expires_in_days", "30")])
}

fn check_json(_: &Ctx, _: &str) -> Value {
    json!({"text": "Hello world", "platform": "x", "kind": "post"})
}

fn item_json(_: &Ctx, who: &str) -> Value {
    json!({"platform": "x", "external_id": format!("matrix-{who}"), "text": "Matrix item", "author": "eve"})
}

fn person_json(_: &Ctx, who: &str) -> Value {
    json!({
        "login": format!("matrix-{who}-api"),
        "name": "Matrix Person",
        "email": "matrix@example.com",
        "role": "employee",
        "password": "a long enough password",
    })
}

fn person_patch_json(_: &Ctx, _: &str) -> Value {
    json!({"name": "Eve Example"})
}

fn department_json(_: &Ctx, who: &str) -> Value {
    json!({"id": format!("matrix-{who}"), "name": "Matrix"})
}

fn account_json(_: &Ctx, who: &str) -> Value {
    json!({"platform": "x", "handle": format!("matrix-{who}-api"), "name": "Matrix account"})
}

fn token_json(_: &Ctx, _: &str) -> Value {
    json!({"name": "matrix", "scopes": ["check"]})
}

fn setting_json(_: &Ctx, _: &str) -> Value {
    json!({"value": "matrix"})
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// An item eve may see, and one neither she nor her supervisor sam may see.
async fn items(app: &TestApp) -> (u64, u64) {
    let eve = app.state.store.person_by_login("eve").await.expect("lookup").expect("eve");
    let sam = app.state.store.person_by_login("sam").await.expect("lookup").expect("sam");
    let audience = access::audience(app.state.store.as_ref(), &eve).await.expect("audience");
    let team = access::audience(app.state.store.as_ref(), &sam).await.expect("audience");
    let mut request = SearchRequest::new(Query::parse("").expect("empty query"));
    request.limit = 1000;
    let page = app.state.store.search(&request).await.expect("search");
    let visible = |summary: &lifeguard_store::ItemSummary| {
        access::in_audience(audience.as_ref(), &summary.author, &summary.account)
    };
    let seq = page.items.iter().find(|s| visible(s)).expect("an item eve sees").seq;
    let hidden = page
        .items
        .iter()
        .find(|s| !visible(s) && !access::in_audience(team.as_ref(), &s.author, &s.account))
        .expect("an item neither eve nor sam sees")
        .seq;
    (seq, hidden)
}

async fn revocable_token(app: &TestApp) -> String {
    let eve = app.state.store.person_by_login("eve").await.expect("lookup").expect("eve");
    let id = auth::random_hex(8);
    let token = NewToken {
        id: id.clone(),
        name: "matrix revocation".into(),
        person: eve.id,
        scopes: vec![TokenScope::Check],
        secret_sha256: auth::sha256(b"secret"),
        expires_at: None,
    };
    let audit = AuditRecord::new("system", None, "token.create").on(&id);
    app.state.store.create_token(&token, &audit, Timestamp::now()).await.expect("token");
    id
}

fn fill(pattern: &str, ctx: &Ctx) -> String {
    // The page and the API each revoke a token of their own.
    let token = &ctx.tokens[usize::from(pattern.starts_with("/api/"))];
    pattern
        .replace("{file}", "app.css")
        .replace("{seq}", &ctx.seq.to_string())
        .replace("{hidden}", &ctx.hidden.to_string())
        .replace("{id}", &ctx.eve.to_string())
        .replace("{token}", token)
        .replace("{key}", "matrix.setting")
}

fn outcome(status: StatusCode, location: Option<&str>) -> char {
    match status.as_u16() {
        401 => 'L',
        403 => 'N',
        404 => 'H',
        300..=399 if location.is_some_and(|l| l.starts_with("/login")) => 'L',
        200..=399 => 'Y',
        other => char::from_digit(u32::from(other / 100), 10).unwrap_or('?'),
    }
}

async fn matrix(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let (seq, hidden) = items(&app).await;
    let eve = app.state.store.person_by_login("eve").await.expect("lookup").expect("eve").id;
    let mut tokens = Vec::new();
    for _ in 0..WHO.len() * 2 {
        tokens.push(revocable_token(&app).await);
    }
    let mut failures = Vec::new();
    for (column, who) in WHO.iter().enumerate() {
        let ctx = Ctx { seq, hidden, eve, tokens: tokens[column * 2..column * 2 + 2].to_vec() };
        let (client, csrf) = if column == 0 {
            let client = common::client();
            let page = client.get(app.url("/login")).send().await.expect("GET /login");
            let csrf = common::csrf_in(&page.text().await.expect("page")).expect("login csrf");
            (client, csrf)
        } else {
            let (login, role) = DEMO_LOGINS[column - 1];
            assert_eq!(role.name(), *who, "DEMO_LOGINS order");
            common::sign_in(&app, login).await
        };
        for (method, pattern, body, expected) in MATRIX {
            let path = fill(pattern, &ctx);
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let mut request = client.request(method.clone(), app.url(&path));
            request = match body {
                Body::None if method == Method::GET => request,
                Body::None => request.form(&[("csrf", csrf.as_str())]),
                Body::Form(make) => {
                    let mut form = make(&ctx, who);
                    form.push(("csrf".into(), csrf.clone()));
                    request.form(&form)
                }
                Body::Json(make) => request.header("x-csrf-token", &csrf).json(&make(&ctx, who)),
            };
            let answer = request.send().await.expect("send");
            let location =
                answer.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_owned);
            let got = outcome(answer.status(), location.as_deref());
            let want = expected.as_bytes()[column] as char;
            if got != want {
                failures.push(format!(
                    "{method} {pattern} as {who}: expected {want}, got {got} ({})",
                    answer.status()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    app.shutdown().await;
}

#[tokio::test]
async fn every_route_for_every_role_sqlite() {
    matrix(Db::Sqlite).await;
}

#[tokio::test]
async fn every_route_for_every_role_postgres() {
    matrix(Db::Postgres).await;
}

/// Every route the server's source declares is in the matrix, and every row is a real route.
#[test]
fn the_matrix_covers_every_route() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut declared = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).expect("read");
                declared.extend(routes_in(&source));
            }
        }
    }
    let in_matrix: BTreeSet<String> =
        MATRIX.iter().map(|(_, pattern, _, _)| normalize(pattern)).collect();
    let missing: Vec<_> = declared.difference(&in_matrix).collect();
    assert!(missing.is_empty(), "routes missing from the matrix: {missing:?}");
    let unknown: Vec<_> = in_matrix.difference(&declared).collect();
    assert!(unknown.is_empty(), "matrix rows with no route: {unknown:?}");
    for role in Role::ALL {
        assert!(WHO.contains(&role.name()), "{role} has a column");
    }
}

/// `.route("/path", …)` strings in Rust source, with `/api/v1` nesting spelled out.
fn routes_in(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find(".route(\"") {
        rest = &rest[start + 8..];
        if let Some(end) = rest.find('"') {
            found.push(normalize(&rest[..end]));
            rest = &rest[end..];
        }
    }
    found
}

/// Placeholders all read `{}`, so `/items/{seq}` and `/items/{hidden}` are one route.
fn normalize(pattern: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in pattern.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}
