//! The web interface over HTTP: sign-in and its defences, every page for the roles that may see
//! it (and the refusal for those that may not), escaping of drafts and stored items, static
//! files, and the page contract the browser tests rely on.
//!
//! Everything runs on SQLite; the scenarios that write through the store's transactions (sign-in,
//! lockout, sign-out, stored text) also run on PostgreSQL when `LIFEGUARD_TEST_DATABASE_URL`
//! names a server, and say they were skipped otherwise.

mod common;

use std::time::Duration;

use common::{Db, TestApp};
use jiff::{SignedDuration, Timestamp};
use lifeguard_core::Post;
use lifeguard_core::archive::{Item, Query};
use lifeguard_server::Config;
use lifeguard_server::auth::{CSRF_COOKIE, SESSION_COOKIE, sha256};
use lifeguard_server::demo::{DEMO_LOGINS, DEMO_PASSWORD};
use lifeguard_store::{AuditFilter, Checked, Lockout, SearchRequest};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER, SET_COOKIE};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A page as fetched: status, headers, body.
struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Fetched {
    fn location(&self) -> &str {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }
}

async fn fetched(answer: reqwest::Response) -> Fetched {
    let status = answer.status();
    let headers = answer.headers().clone();
    let body = answer.text().await.expect("body");
    Fetched { status, headers, body }
}

async fn get(client: &reqwest::Client, app: &TestApp, path: &str) -> Fetched {
    fetched(client.get(app.url(path)).send().await.expect("GET")).await
}

async fn post(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> Fetched {
    fetched(client.post(app.url(path)).form(form).send().await.expect("POST")).await
}

/// A fresh client on the sign-in page; returns it with the page's CSRF token.
async fn at_login(app: &TestApp) -> (reqwest::Client, String) {
    let client = common::client();
    let page = get(&client, app, "/login").await;
    assert_eq!(page.status, 200);
    let csrf = common::csrf_in(&page.body).expect("csrf on the sign-in page");
    (client, csrf)
}

async fn try_login(
    client: &reqwest::Client,
    app: &TestApp,
    csrf: &str,
    login: &str,
    password: &str,
) -> Fetched {
    post(
        client,
        app,
        "/login",
        &[("login", login), ("password", password), ("csrf", csrf), ("next", "")],
    )
    .await
}

async fn audit(app: &TestApp, action: &str) -> Vec<lifeguard_store::AuditEntry> {
    let filter =
        AuditFilter { action: Some(action.to_owned()), limit: 1_000, ..AuditFilter::default() };
    app.state.store.audit_trail(&filter).await.expect("audit trail")
}

/// Whether an element with this id is on the page.
fn has_id(html: &str, id: &str) -> bool {
    html.contains(&format!("id=\"{id}\""))
}

// ---------------------------------------------------------------------------------------------
// Sign-in.

#[tokio::test]
async fn login_page_sets_the_csrf_cookie_once() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let client = common::client();
    let page = get(&client, &app, "/login").await;
    assert_eq!(page.status, 200);
    let cookies = page.set_cookies();
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{CSRF_COOKIE}=")))
        .expect("the lg_csrf cookie is set");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let value = cookie[CSRF_COOKIE.len() + 1..].split(';').next().expect("value");
    assert_eq!(value.len(), 64, "{cookie}");
    assert_eq!(common::csrf_in(&page.body).as_deref(), Some(value), "the form echoes the cookie");
    for id in ["login", "password", "sign-in"] {
        assert!(has_id(&page.body, id), "#{id} on the sign-in page");
    }
    assert!(
        page.body.contains("<label for=\"login\"") && page.body.contains("<label for=\"password\"")
    );
    assert!(page.body.contains("name=\"next\""));
    assert!(page.body.contains("<title>Sign in"));

    // The browser keeps its token: a second visit sets no new one and shows the same.
    let again = get(&client, &app, "/login").await;
    assert!(again.set_cookies().iter().all(|c| !c.starts_with(CSRF_COOKIE)), "no new cookie");
    assert_eq!(common::csrf_in(&again.body).as_deref(), Some(value));
    app.shutdown().await;
}

async fn wrong_password_is_refused_and_audited(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let (client, csrf) = at_login(&app).await;
    let wrong = try_login(&client, &app, &csrf, "eve", "not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("role=\"alert\""), "the refusal is an alert");
    assert!(wrong.body.contains("Wrong login or password."));
    assert!(wrong.body.contains("value=\"eve\""), "the login is kept in the form");
    assert!(wrong.set_cookies().iter().all(|c| !c.starts_with(SESSION_COOKIE)), "no session");

    // An unknown login is told exactly the same.
    let unknown = try_login(&client, &app, &csrf, "nobody-here", "whatever").await;
    assert_eq!(unknown.status, 401);
    assert!(unknown.body.contains("Wrong login or password."));

    let failed = audit(&app, "login.failed").await;
    let targets: Vec<Option<&str>> = failed.iter().map(|e| e.record.target.as_deref()).collect();
    assert!(
        targets.contains(&Some("eve")) && targets.contains(&Some("nobody-here")),
        "{targets:?}"
    );
    assert!(failed.iter().all(|e| e.record.actor == "anonymous" && e.record.from.is_some()));

    // The right password still works, and is audited as a sign-in.
    let right = try_login(&client, &app, &csrf, "eve", DEMO_PASSWORD).await;
    assert_eq!(right.status, 303);
    assert_eq!(right.location(), "/");
    let session = right
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(SESSION_COOKIE))
        .expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    assert!(
        session.contains(&format!("Max-Age={}", Config::default().session_ttl.as_secs())),
        "{session}"
    );
    let logins = audit(&app, "login").await;
    assert!(logins.iter().any(|e| e.record.action == "login" && e.record.actor == "eve"));
    app.shutdown().await;
}

#[tokio::test]
async fn wrong_password_is_refused_and_audited_sqlite() {
    wrong_password_is_refused_and_audited(Db::Sqlite).await;
}

#[tokio::test]
async fn wrong_password_is_refused_and_audited_postgres() {
    wrong_password_is_refused_and_audited(Db::Postgres).await;
}

async fn repeated_failures_lock_the_login(db: Db) {
    let lockout = Lockout { max_failures: 3, lock_for: SignedDuration::from_mins(15) };
    let Some(app) = common::spawn_with(db, Config { lockout, ..Config::default() }).await else {
        return;
    };
    let (client, csrf) = at_login(&app).await;
    for _ in 0..lockout.max_failures {
        let answer = try_login(&client, &app, &csrf, "rey", "wrong again").await;
        assert_eq!(answer.status, 401);
    }
    let locked = try_login(&client, &app, &csrf, "rey", DEMO_PASSWORD).await;
    assert_eq!(locked.status, 423, "locked even with the right password");
    assert!(
        locked.body.contains("role=\"alert\"")
            && locked.body.to_lowercase().contains("try again later")
    );
    assert!(locked.set_cookies().iter().all(|c| !c.starts_with(SESSION_COOKIE)));
    let refused = audit(&app, "login.refused_locked").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].record.target.as_deref(), Some("rey"));
    // Others are not locked with rey.
    let other = try_login(&client, &app, &csrf, "eve", DEMO_PASSWORD).await;
    assert_eq!(other.status, 303);
    app.shutdown().await;
}

#[tokio::test]
async fn repeated_failures_lock_the_login_sqlite() {
    repeated_failures_lock_the_login(Db::Sqlite).await;
}

#[tokio::test]
async fn repeated_failures_lock_the_login_postgres() {
    repeated_failures_lock_the_login(Db::Postgres).await;
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_address() {
    let config = Config { login_attempts_per_minute: 3, ..Config::default() };
    let Some(app) = common::spawn_with(Db::Sqlite, config).await else { return };
    let (client, csrf) = at_login(&app).await;
    for _ in 0..3 {
        assert_eq!(try_login(&client, &app, &csrf, "sam", "wrong").await.status, 401);
    }
    let limited = try_login(&client, &app, &csrf, "sam", DEMO_PASSWORD).await;
    assert_eq!(limited.status, 429);
    let wait: u64 = limited.headers[RETRY_AFTER].to_str().expect("text").parse().expect("seconds");
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert!(limited.body.contains("role=\"alert\""));
    app.shutdown().await;
}

#[tokio::test]
async fn sign_in_needs_the_csrf_token() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let (client, csrf) = at_login(&app).await;
    let without = [("login", "eve"), ("password", DEMO_PASSWORD)];
    assert_eq!(post(&client, &app, "/login", &without).await.status, 403, "no token");
    let forged = "0".repeat(64);
    let with_forged = [("login", "eve"), ("password", DEMO_PASSWORD), ("csrf", &forged)];
    assert_eq!(post(&client, &app, "/login", &with_forged).await.status, 403, "forged token");
    // A client that never loaded the form has no cookie to match, whatever it sends.
    let stranger = common::client();
    let copied = [("login", "eve"), ("password", DEMO_PASSWORD), ("csrf", &csrf)];
    assert_eq!(post(&stranger, &app, "/login", &copied).await.status, 403, "no cookie");
    assert!(
        audit(&app, "login").await.iter().all(|e| e.record.action != "login"),
        "nobody signed in"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let (client, csrf) = at_login(&app).await;
    let asked = get(&client, &app, "/archive?q=gifted").await;
    assert_eq!(asked.status, 303);
    assert_eq!(asked.location(), "/login?next=/archive%3Fq%3Dgifted");
    let page = get(&client, &app, asked.location()).await;
    assert!(page.body.contains("value=\"/archive?q=gifted\""), "the form carries next");
    let fields = [
        ("login", "cora"),
        ("password", DEMO_PASSWORD),
        ("csrf", &csrf),
        ("next", "/archive?q=gifted"),
    ];
    let answer = post(&client, &app, "/login", &fields).await;
    assert_eq!(answer.location(), "/archive?q=gifted");
    // Signed in, the sign-in page sends the person on.
    let again = get(&client, &app, "/login").await;
    assert_eq!(again.status, 303);

    // Somewhere else entirely is not followed.
    let (client, csrf) = at_login(&app).await;
    let fields = [
        ("login", "cora"),
        ("password", DEMO_PASSWORD),
        ("csrf", &csrf),
        ("next", "//evil.example/"),
    ];
    assert_eq!(post(&client, &app, "/login", &fields).await.location(), "/");
    app.shutdown().await;
}

async fn sign_out_ends_the_session(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let (client, csrf) = at_login(&app).await;
    let signed_in = try_login(&client, &app, &csrf, "sam", DEMO_PASSWORD).await;
    let cookie = signed_in
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(SESSION_COOKIE))
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect("session cookie");
    let home = get(&client, &app, "/").await;
    assert_eq!(home.status, 200);
    let session_csrf = common::csrf_in(&home.body).expect("csrf");
    assert!(home.body.contains(&format!("<meta name=\"csrf-token\" content=\"{session_csrf}\">")));

    let out = post(&client, &app, "/logout", &[("csrf", &session_csrf)]).await;
    assert_eq!(out.status, 303);
    let cleared = out.set_cookies();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    // Wherever it points, following it ends on the sign-in page.
    let next = get(&client, &app, out.location()).await;
    assert!(
        next.status == 200 && has_id(&next.body, "sign-in")
            || next.location().starts_with("/login")
    );
    assert_eq!(audit(&app, "logout").await.len(), 1);

    // The old cookie, replayed, is worth nothing: the session is gone from the store.
    let replay = common::client();
    let answer =
        fetched(replay.get(app.url("/")).header("cookie", &cookie).send().await.expect("GET"))
            .await;
    assert_eq!(answer.status, 303);
    assert!(answer.location().starts_with("/login"));
    let hash = sha256(&cookie.as_bytes()[SESSION_COOKIE.len() + 1..]);
    assert!(app.state.store.session(&hash, Timestamp::now()).await.expect("lookup").is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn sign_out_ends_the_session_sqlite() {
    sign_out_ends_the_session(Db::Sqlite).await;
}

#[tokio::test]
async fn sign_out_ends_the_session_postgres() {
    sign_out_ends_the_session(Db::Postgres).await;
}

// ---------------------------------------------------------------------------------------------
// Pages by role.

/// (path, title, who may see it in `DEMO_LOGINS` order: admin, compliance, supervisor,
/// reviewer, employee, auditor).
const PAGES: [(&str, &str, &str); 8] = [
    ("/", "Dashboard", "YYYYYY"),
    ("/check", "Check a draft", "YYYYYY"),
    ("/archive", "Archive", "YYYYYY"),
    ("/policy", "Policy", "YYYYYY"),
    ("/people", "People", "YYNNNY"),
    ("/accounts", "Accounts", "YYNNNY"),
    ("/tokens", "Tokens", "YNNNNN"),
    ("/audit", "Audit trail", "NYNNNY"),
];

async fn pages_for_every_role(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    for (column, (login, role)) in DEMO_LOGINS.iter().enumerate() {
        let (client, csrf) = common::sign_in(&app, login).await;
        let home = get(&client, &app, "/").await;
        for (path, title, who) in PAGES {
            let allowed = who.as_bytes()[column] == b'Y';
            let page = get(&client, &app, path).await;
            let nav = format!("<a href=\"{path}\"");
            assert_eq!(home.body.contains(&nav), allowed, "{login}'s navigation and {path}");
            if allowed {
                assert_eq!(page.status, 200, "{login} ({role}) on {path}");
                assert!(
                    page.body.contains(&format!("<title>{title} ·")),
                    "{path} is titled {title}"
                );
                assert!(
                    page.body.contains(&format!("<a href=\"{path}\" aria-current=\"page\">")),
                    "{path} is current"
                );
                assert!(
                    page.body.contains(&format!("content=\"{csrf}\"")),
                    "{path} has the csrf meta"
                );
                assert!(has_id(&page.body, "sign-out") && page.body.contains("action=\"/logout\""));
                assert!(page.body.contains(role.name()), "{path} names the role");
                for landmark in ["<header", "<nav", "<main", "class=\"skip-link\" href=\"#main\""] {
                    assert!(page.body.contains(landmark), "{path} has {landmark}");
                }
            } else {
                assert_eq!(page.status, 403, "{login} ({role}) is refused {path}");
                assert!(has_id(&page.body, "forbidden"), "{path} refusal page");
                assert!(!page.body.contains("<table id=\"audit\""));
            }
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn pages_for_every_role_sqlite() {
    pages_for_every_role(Db::Sqlite).await;
}

#[tokio::test]
async fn pages_for_every_role_postgres() {
    pages_for_every_role(Db::Postgres).await;
}

#[tokio::test]
async fn dashboard_shows_the_chart_counts_and_latest_in_the_audience() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let (client, _) = common::sign_in(&app, "eve").await;
    let page = get(&client, &app, "/").await;
    assert!(page.body.contains("<svg id=\"items-per-day\" role=\"img\""));
    assert!(page.body.contains("<title id=\"chart-title\">"));
    assert!(has_id(&page.body, "items-per-day-table") && page.body.contains("<th scope=\"row\">"));
    assert!(has_id(&page.body, "open-counts") && has_id(&page.body, "latest-flagged"));
    // Every item eve is shown is hers to see.
    let eve = app.state.store.person_by_login("eve").await.expect("lookup").expect("eve");
    let audience =
        lifeguard_server::access::audience(app.state.store.as_ref(), &eve).await.expect("audience");
    for seq in item_links(&page.body) {
        let item = app.state.store.item(seq).await.expect("item").expect("exists");
        assert!(
            lifeguard_server::access::in_audience(
                audience.as_ref(),
                &item.summary.author,
                &item.summary.account
            ),
            "eve's dashboard links to item {seq}, outside her audience"
        );
        assert_eq!(get(&client, &app, &format!("/items/{seq}")).await.status, 200);
    }
    app.shutdown().await;
}

/// The `/items/N` links of a page.
fn item_links(html: &str) -> Vec<u64> {
    html.split("href=\"/items/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn items_outside_the_audience_are_not_found() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let eve = app.state.store.person_by_login("eve").await.expect("lookup").expect("eve");
    let audience =
        lifeguard_server::access::audience(app.state.store.as_ref(), &eve).await.expect("audience");
    let mut request = SearchRequest::new(Query::default());
    request.limit = 1_000;
    let page = app.state.store.search(&request).await.expect("search");
    let hidden = page
        .items
        .iter()
        .find(|s| !lifeguard_server::access::in_audience(audience.as_ref(), &s.author, &s.account))
        .expect("an item eve may not see")
        .seq;
    let (client, _) = common::sign_in(&app, "eve").await;
    let answer = get(&client, &app, &format!("/items/{hidden}")).await;
    assert_eq!(answer.status, 404);
    assert!(has_id(&answer.body, "not-found"));
    for path in ["/items/99999999", "/items/abc", "/no-such-page"] {
        let answer = get(&client, &app, path).await;
        assert_eq!(answer.status, 404, "{path}");
        assert!(has_id(&answer.body, "not-found"), "{path}");
    }
    // The same item is there for compliance, with its versions, verdicts and chain.
    let (client, _) = common::sign_in(&app, "cora").await;
    let answer = get(&client, &app, &format!("/items/{hidden}")).await;
    assert_eq!(answer.status, 200);
    for id in ["versions", "verdicts", "chain"] {
        assert!(has_id(&answer.body, id), "#{id} on the item page");
    }
    // Recorded times read like every other, the exact value kept in the markup.
    let item = app.state.store.item(hidden).await.expect("item").expect("exists");
    let recorded = &item.entry.recorded_at;
    let exact: Timestamp = recorded.parse().expect("an RFC 3339 time");
    assert!(
        answer.body.contains(&format!(
            "<time datetime=\"{exact}\">{}</time>",
            exact.strftime("%Y-%m-%d %H:%M UTC")
        )),
        "the chain shows {recorded} for people"
    );
    assert!(!answer.body.contains(&format!(">{recorded}<")), "no raw recorded time is shown");
    assert!(answer.body.contains(&format!("<title>Item {hidden} ·")));
    app.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Checking drafts.

#[tokio::test]
async fn a_draft_is_checked_marked_and_escaped() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let (client, csrf) = common::sign_in(&app, "eve").await;
    let form = get(&client, &app, "/check").await;
    for id in ["text", "platform", "kind", "author_type", "check-submit"] {
        assert!(has_id(&form.body, id), "#{id} on the check page");
        if id != "check-submit" {
            assert!(form.body.contains(&format!("<label for=\"{id}\"")), "#{id} is labelled");
        }
    }
    let draft = "<script>alert(1)</script> <b>so</b> #gifted, mail jane.doe@example.com";
    let fields = [
        ("text", draft),
        ("platform", "instagram"),
        ("kind", "post"),
        ("author_type", "employee"),
        ("csrf", &csrf),
    ];
    let result = post(&client, &app, "/check", &fields).await;
    assert_eq!(result.status, 200);
    assert!(!result.body.contains("<script>alert") && !result.body.contains("<b>so</b>"));
    assert!(
        result.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the draft is shown as text"
    );

    let verdict = app.state.policy.engine.check(&Post {
        text: draft,
        kind: lifeguard_core::ContentKind::Post,
        author: lifeguard_core::AuthorType::Employee,
        platform: Some("instagram"),
    });
    assert!(!verdict.findings.is_empty(), "the draft has findings");
    let action = verdict.action.name();
    let label = match verdict.action {
        lifeguard_core::Action::Allow => "allowed",
        lifeguard_core::Action::Flag => "flagged",
        lifeguard_core::Action::RequireApproval => "needs approval",
        lifeguard_core::Action::Block => "blocked",
    };
    // People read the verdict in words; its stable name is in the class and data attribute.
    assert!(
        result.body.contains(&format!(
            "id=\"verdict\" class=\"verdict verdict-main verdict-{action}\" \
             data-action=\"{action}\">{label}<"
        )),
        "the verdict reads `{label}`"
    );
    assert!(!result.body.contains(">require_approval<"), "no badge shows a raw action name");
    // The result comes before the form, so it is in view after a check on any screen.
    let result_at = result.body.find("id=\"result-heading\"").expect("the result");
    let form_at = result.body.find("<form method=\"post\" action=\"/check\"").expect("the form");
    assert!(result_at < form_at, "the result is above the form");
    for finding in &verdict.findings {
        assert!(
            result
                .body
                .contains(&format!("<mark class=\"finding\" data-rule=\"{}\"", finding.rule.id)),
            "{} is marked",
            finding.rule.id
        );
        let title = &finding.rule.clause_title;
        assert!(
            result.body.contains(title.as_str()) || result.body.contains(&escape(title)),
            "clause {title}"
        );
    }
    assert_eq!(
        result.body.matches("<mark class=\"finding\"").count(),
        result.body.matches("</mark>").count()
    );
    assert!(has_id(&result.body, "findings"));
    assert!(result.body.contains("jane.doe@example.com</mark>"), "the address is marked");

    // Nothing was archived or audited.
    let entries = app.state.store.head().await.expect("head");
    post(&client, &app, "/check", &fields).await;
    assert_eq!(app.state.store.head().await.expect("head"), entries, "a check writes nothing");

    // Too long: refused with a clear message.
    let long = "a".repeat(lifeguard_server::config::MAX_DRAFT + 1);
    let fields = [
        ("text", long.as_str()),
        ("platform", "x"),
        ("kind", "post"),
        ("author_type", "employee"),
        ("csrf", &csrf),
    ];
    let refused = post(&client, &app, "/check", &fields).await;
    assert_eq!(refused.status, 413);
    assert!(refused.body.contains("role=\"alert\"") && refused.body.contains("limited to"));
    app.shutdown().await;
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

// ---------------------------------------------------------------------------------------------
// The archive.

async fn stored_markup_is_escaped(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let text = "<script>alert(1)</script> quarterly xyzzy results <img src=x onerror=alert(2)>";
    let mut item = Item::new("x", "web-test-xss", text, Timestamp::now());
    item.author = "eve".into();
    item.account = "@eve<b>".into();
    let verdict = app.state.policy.engine.check(&item.post());
    let report = app
        .state
        .store
        .append(&[Checked { item, verdict: Some(verdict) }], Timestamp::now())
        .await
        .expect("append");
    assert_eq!(report.added, 1);
    let seq = report.head.expect("head") - 1;

    for login in ["cora", "eve"] {
        let (client, _) = common::sign_in(&app, login).await;
        for path in ["/archive?q=xyzzy".to_owned(), format!("/items/{seq}")] {
            let page = get(&client, &app, &path).await;
            assert_eq!(page.status, 200, "{login} on {path}");
            assert!(!page.body.contains("<script>alert"), "{path} shows raw script");
            assert!(!page.body.contains("<img src=x"), "{path} shows a raw image");
            assert!(!page.body.contains("@eve<b>"), "{path} shows the raw account");
            assert!(
                page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{path} escapes the text"
            );
        }
        let results = get(&client, &app, "/archive?q=xyzzy").await;
        assert!(results.body.contains("<mark>xyzzy</mark>"), "the searched word is highlighted");
        assert!(results.body.contains(&format!("<a href=\"/items/{seq}\">")));
    }
    app.shutdown().await;
}

#[tokio::test]
async fn stored_markup_is_escaped_sqlite() {
    stored_markup_is_escaped(Db::Sqlite).await;
}

#[tokio::test]
async fn stored_markup_is_escaped_postgres() {
    stored_markup_is_escaped(Db::Postgres).await;
}

#[tokio::test]
async fn archive_search_filters_pages_and_refuses_bad_input() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let (client, _) = common::sign_in(&app, "cora").await;
    let page = get(&client, &app, "/archive").await;
    for id in ["q", "platform", "account", "author", "kind", "verdict-filter", "since", "until"] {
        assert!(page.body.contains(&format!("<label for=\"{id}\"")), "#{id} is labelled");
    }
    // The filter is not `#verdict`, the check's result: ids name one thing on every page.
    assert!(!has_id(&page.body, "verdict"));
    assert!(page.body.contains("<select id=\"verdict-filter\" name=\"verdict\">"));
    assert!(page.body.contains("<option value=\"require_approval\">needs approval</option>"));
    assert!(has_id(&page.body, "search-submit") && has_id(&page.body, "results"));
    let first = item_links(&page.body);
    assert_eq!(first.len(), 20, "a full first page");
    let next = page
        .body
        .split("id=\"next-page\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page link")
        .replace("&amp;", "&");
    let second = get(&client, &app, &next).await;
    assert_eq!(second.status, 200);
    let later = item_links(&second.body);
    assert!(
        !later.is_empty() && later.iter().all(|seq| !first.contains(seq)),
        "the next page goes on"
    );

    let flagged = get(&client, &app, "/archive?verdict=flag&platform=x").await;
    assert_eq!(flagged.status, 200);
    assert!(flagged.body.contains("<option value=\"flag\" selected>"));

    for (path, says) in [
        ("/archive?q=%22unterminated", "never closed"),
        ("/archive?since=yesterday", "`since`"),
        ("/archive?until=2024-13-45", "`until`"),
        ("/archive?verdict=maybe", "maybe"),
        ("/archive?cursor=nonsense", "page link"),
    ] {
        let answer = get(&client, &app, path).await;
        assert_eq!(answer.status, 400, "{path}");
        assert!(answer.body.contains(says), "{path}: the message says {says}");
        assert!(answer.body.contains("role=\"alert\""));
    }
    app.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Policy, directory, tokens, audit.

#[tokio::test]
async fn the_policy_page_explains_the_policy() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let (client, _) = common::sign_in(&app, "eve").await;
    let page = get(&client, &app, "/policy").await;
    let served = &app.state.policy;
    assert!(page.body.contains(&escape(&served.policy.meta.title)));
    assert!(page.body.contains(&served.policy.meta.version));
    assert!(page.body.contains(&served.engine.stamp().hash));
    // Messages pass through Markdown, which may render some characters as entities: the
    // plain ones must appear as written.
    let plain = served
        .policy
        .rules
        .iter()
        .filter(|r| r.message.chars().all(|c| c.is_alphanumeric() || " .,;:-()".contains(c)));
    let mut checked = 0;
    for rule in plain {
        assert!(page.body.contains(&rule.message), "the page explains {}", rule.id);
        checked += 1;
    }
    assert!(checked > 0, "some rule messages were checked");
    assert!(page.body.contains("<article class=\"policy\""), "the policy's own HTML is embedded");
    assert_eq!(page.body.matches("<h1").count(), 1, "one main heading");
    // The title and owners are in the heading and the facts, not again in the text.
    let meta = &served.policy.meta;
    let article = page.body.split("<article class=\"policy\"").nth(1).expect("the article");
    assert!(!article.contains(&format!("version {}", meta.version)), "no second stamp line");
    assert!(!article.contains("Responsible:"), "no second list of owners");
    assert!(!article.contains(&format!(">{}</h2>", escape(&meta.title))), "no second title");
    assert_eq!(page.body.matches(&format!(">{}<", escape(&meta.title))).count(), 1, "one title");
    // Its tables scope their header cells, like ours.
    assert!(article.contains("<th scope=\"col\">") && !article.contains("<th>"));
    app.shutdown().await;
}

#[tokio::test]
async fn admins_add_and_change_people_and_accounts() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let (client, csrf) = common::sign_in(&app, "ada").await;
    let people = get(&client, &app, "/people").await;
    assert!(people.body.contains("<th scope=\"col\">Login</th>"));
    for (login, _) in DEMO_LOGINS {
        assert!(people.body.contains(&format!(">{login}</a></th>")), "{login} listed");
    }

    let mut fields = vec![
        ("login", "newbie"),
        ("name", "New <Person>"),
        ("email", "newbie@example.com"),
        ("role", "employee"),
        ("department", ""),
        ("manager", ""),
        ("area", ""),
        ("password", "too short"),
        ("csrf", &csrf),
    ];
    let refused = post(&client, &app, "/people", &fields).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("at least 12 characters") && refused.body.contains("role=\"alert\"")
    );
    assert!(refused.body.contains("value=\"New &lt;Person&gt;\""), "the entered values are kept");
    fields[7] = ("password", "a long enough password");
    let added = post(&client, &app, "/people", &fields).await;
    assert_eq!(added.status, 303);
    let newbie = app.state.store.person_by_login("newbie").await.expect("lookup").expect("added");
    assert_eq!(newbie.name, "New <Person>");
    let created = audit(&app, "person.create").await;
    assert!(
        created
            .iter()
            .any(|e| e.record.actor == "ada" && e.record.target.as_deref() == Some("newbie"))
    );
    // The new person can sign in with that password.
    let (other, login_csrf) = at_login(&app).await;
    assert_eq!(
        try_login(&other, &app, &login_csrf, "newbie", "a long enough password").await.status,
        303
    );
    // A taken login is the store's refusal, shown in the form.
    let again = post(&client, &app, "/people", &fields).await;
    assert_eq!(again.status, 422);

    let sam = app.state.store.person_by_login("sam").await.expect("lookup").expect("sam");
    let edit = get(&client, &app, &format!("/people/{}", newbie.id)).await;
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains(&format!("action=\"/people/{}\"", newbie.id)));
    let manager = sam.id.to_string();
    let changed = post(
        &client,
        &app,
        &format!("/people/{}", newbie.id),
        &[
            ("role", "supervisor"),
            ("manager", &manager),
            ("department", ""),
            ("active", "false"),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(changed.status, 303);
    let newbie = app.state.store.person(newbie.id).await.expect("lookup").expect("there");
    assert_eq!(
        (newbie.role.name(), newbie.manager, newbie.active),
        ("supervisor", Some(sam.id), false)
    );
    assert!(
        audit(&app, "person.update")
            .await
            .iter()
            .any(|e| e.record.target.as_deref() == Some("newbie"))
    );

    // An admin cannot lock themselves out.
    let ada = app.state.store.person_by_login("ada").await.expect("lookup").expect("ada");
    let refused = post(
        &client,
        &app,
        &format!("/people/{}", ada.id),
        &[("role", "employee"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(refused.status, 422);

    // Compliance reads a person but gets no form.
    let (cora, _) = common::sign_in(&app, "cora").await;
    let read = get(&cora, &app, &format!("/people/{}", newbie.id)).await;
    assert_eq!(read.status, 200);
    assert!(!read.body.contains("action=\"/people/"));

    let account = post(
        &client,
        &app,
        "/accounts",
        &[
            ("platform", "Mastodon"),
            ("handle", "@web@example.social"),
            ("name", "Web test"),
            ("owner", ""),
            ("department", ""),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(account.status, 303);
    let accounts = get(&client, &app, "/accounts").await;
    assert!(accounts.body.contains("@web@example.social"));
    // Departments are named as on the people page, never by their ids.
    let people = get(&client, &app, "/people").await;
    let names: Vec<String> = app
        .state
        .store
        .departments()
        .await
        .expect("departments")
        .iter()
        .map(|d| escape(&d.name))
        .collect();
    for (page, body) in [("accounts", &accounts.body), ("people", &people.body)] {
        let cells: Vec<&str> = body
            .split("<td class=\"department\">")
            .skip(1)
            .filter_map(|rest| rest.split("</td>").next())
            .filter(|cell| !cell.is_empty())
            .collect();
        assert!(!cells.is_empty(), "the {page} page shows departments");
        for cell in cells {
            assert!(names.iter().any(|name| name == cell), "{page} shows `{cell}`, not a name");
        }
    }
    assert!(
        audit(&app, "account.create")
            .await
            .iter()
            .any(|e| e.record.target.as_deref() == Some("mastodon:@web@example.social"))
    );
    app.shutdown().await;
}

#[tokio::test]
async fn tokens_are_shown_once_and_can_be_revoked() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let (client, csrf) = common::sign_in(&app, "ada").await;
    let eve = app.state.store.person_by_login("eve").await.expect("lookup").expect("eve");
    let eve_id = eve.id.to_string();
    let page = get(&client, &app, "/tokens").await;
    assert!(
        has_id(&page.body, "token-name")
            && has_id(&page.body, "token-person")
            && has_id(&page.body, "create-token")
    );

    // More than eve's role allows: refused.
    let beyond = [
        ("name", "too much"),
        ("person", eve_id.as_str()),
        ("scopes", "check"),
        ("scopes", "admin"),
        ("csrf", &csrf),
    ];
    let refused = post(&client, &app, "/tokens", &beyond).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("`admin` scope"));

    let fields = [
        ("name", "eve's bot"),
        ("person", eve_id.as_str()),
        ("scopes", "check"),
        ("scopes", "read"),
        ("expires_in_days", "30"),
        ("csrf", &csrf),
    ];
    let created = post(&client, &app, "/tokens", &fields).await;
    assert_eq!(created.status, 200);
    let text = created
        .body
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the token is shown")
        .to_owned();
    let (id, secret) =
        text.strip_prefix("lgt_").and_then(|rest| rest.split_once('_')).expect("lgt_<id>_<secret>");
    assert_eq!((id.len(), secret.len()), (16, 64));
    let (token, hash, person) =
        app.state.store.token_secret(id).await.expect("lookup").expect("stored");
    assert_eq!(hash, sha256(secret.as_bytes()), "only the secret's hash is kept");
    assert_eq!(person.login, "eve");
    assert_eq!(token.scopes.len(), 2);
    assert!(
        token
            .expires_at
            .is_some_and(|end| end > Timestamp::now() + SignedDuration::from_hours(24 * 29))
    );
    let list = get(&client, &app, "/tokens").await;
    assert!(
        list.body.contains(id) && !list.body.contains(secret),
        "listed, the secret not shown again"
    );
    assert!(
        audit(&app, "token.create").await.iter().any(|e| e.record.target.as_deref() == Some(id))
    );

    // By login works too, as a script would send it.
    let by_login = [("name", "by login"), ("person", "eve"), ("scopes", "check"), ("csrf", &csrf)];
    assert_eq!(post(&client, &app, "/tokens", &by_login).await.status, 200);

    let revoked = post(&client, &app, &format!("/tokens/{id}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!(revoked.status, 303);
    let (token, ..) = app.state.store.token_secret(id).await.expect("lookup").expect("stored");
    assert!(token.revoked_at.is_some());
    assert!(
        audit(&app, "token.revoke").await.iter().any(|e| e.record.target.as_deref() == Some(id))
    );
    let twice = post(&client, &app, &format!("/tokens/{id}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!(twice.status, 422, "already revoked");
    let unknown = post(&client, &app, "/tokens/..%2f..%2fx/revoke", &[("csrf", &csrf)]).await;
    assert_eq!(unknown.status, 404);
    app.shutdown().await;
}

#[tokio::test]
async fn the_audit_trail_filters_and_pages() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    // Enough entries for two pages.
    for n in 0..60 {
        let record =
            lifeguard_core::archive::AuditRecord::new("tester", Some("127.0.0.1"), "test.note")
                .on(format!("n{n}"))
                .with("note", "<b>not markup</b>");
        app.state.store.record_action(&record, Timestamp::now()).await.expect("record");
    }
    let (client, _) = common::sign_in(&app, "otto").await;
    let page = get(&client, &app, "/audit?actor=tester").await;
    assert_eq!(page.status, 200);
    assert!(has_id(&page.body, "audit") && page.body.contains("<th scope=\"col\">Actor</th>"));
    assert_eq!(page.body.matches("<td>test.note</td>").count(), 50);
    assert!(
        page.body.contains("&lt;b&gt;not markup&lt;/b&gt;") && !page.body.contains("<b>not markup")
    );
    // Details read as `key: value`, not as JSON.
    assert!(
        page.body.contains("<span class=\"detail-key\">note:</span> &lt;b&gt;not markup&lt;/b&gt;"),
        "details are listed as key: value"
    );
    assert!(!page.body.contains("{&quot;note&quot;"), "no raw JSON");
    let older = page
        .body
        .split("id=\"older\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to older entries")
        .replace("&amp;", "&");
    let rest = get(&client, &app, &older).await;
    assert_eq!(rest.body.matches("<td>test.note</td>").count(), 10);
    let otto = get(&client, &app, "/audit?actor=otto&action=login").await;
    assert!(otto.body.contains("<td>login</td>"), "otto's own sign-in is listed");
    assert_eq!(get(&client, &app, "/audit?since=soon").await.status, 400);
    app.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Static files and headers.

/// Sends a request line as written, so no client library normalizes the path first.
async fn raw_get(app: &TestApp, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(app.address).await.expect("connect");
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", app.address);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    read.expect("answered in time").expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn static_files_are_served_with_types_and_nothing_else() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let client = common::client();
    for (name, kind) in
        [("app.css", "text/css"), ("app.js", "text/javascript"), ("favicon.svg", "image/svg+xml")]
    {
        let answer = get(&client, &app, &format!("/static/{name}")).await;
        assert_eq!(answer.status, 200, "{name}");
        let content_type = answer.headers[CONTENT_TYPE].to_str().expect("type");
        assert!(content_type.starts_with(kind), "{name}: {content_type}");
        let cache = answer.headers[CACHE_CONTROL].to_str().expect("cache");
        assert!(cache.starts_with("public, max-age="), "{name}: {cache}");
        assert!(!answer.body.is_empty());
    }
    // The sign-in page links the stylesheet it is served with.
    let login = get(&client, &app, "/login").await;
    assert!(login.body.contains("href=\"/static/app.css?v="));

    for path in ["/static/nope.css", "/static/APP.CSS", "/static/app.css/"] {
        let answer = get(&client, &app, path).await;
        assert_eq!(answer.status, 404, "{path}");
    }
    for path in [
        "/static/../Cargo.toml",
        "/static/..%2fCargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/static/..%5cCargo.toml",
        "/static/.%2e/.%2e/src/lib.rs",
    ] {
        let answer = raw_get(&app, path).await;
        let status = answer.lines().next().unwrap_or_default();
        assert!(status.contains(" 404 ") || status.contains(" 400 "), "{path}: {status}");
        assert!(
            !answer.contains("[package]") && !answer.contains("pub mod"),
            "{path} leaked a file"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn every_page_has_the_csp_and_no_inline_code() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let seq = {
        let page =
            app.state.store.search(&SearchRequest::new(Query::default())).await.expect("search");
        page.items[0].seq
    };
    let item = format!("/items/{seq}");
    let ada_id = app.state.store.person_by_login("ada").await.expect("lookup").expect("ada").id;
    let person = format!("/people/{ada_id}");
    let anonymous = common::client();
    let mut pages = vec![("anonymous", get(&anonymous, &app, "/login").await, "/login".to_owned())];
    pages.push(("anonymous", get(&anonymous, &app, "/nowhere").await, "/nowhere".to_owned()));
    for login in ["ada", "cora"] {
        let (client, csrf) = common::sign_in(&app, login).await;
        for path in [
            "/",
            "/check",
            "/archive?q=gifted",
            "/policy",
            "/people",
            "/accounts",
            "/tokens",
            "/audit",
            item.as_str(),
            person.as_str(),
        ] {
            pages.push((login, get(&client, &app, path).await, path.to_owned()));
        }
        let fields = [
            ("text", "#gifted <i>x</i>"),
            ("platform", "x"),
            ("kind", "post"),
            ("author_type", "employee"),
            ("csrf", &csrf),
        ];
        pages.push((login, post(&client, &app, "/check", &fields).await, "POST /check".to_owned()));
    }
    for (who, page, path) in &pages {
        let csp = page.headers["content-security-policy"].to_str().expect("csp");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
            "{who} {path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert!(
            page.headers[CONTENT_TYPE].to_str().expect("type").starts_with("text/html"),
            "{path}"
        );
        assert_eq!(page.headers[CACHE_CONTROL], "no-store", "{path}: pages are not cached");
        let html = &page.body;
        assert!(!html.contains(" style="), "{who} {path} has an inline style");
        assert!(!html.contains("<style"), "{who} {path} has a style block");
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script src=\"/static/").count(),
            "{who} {path}"
        );
        assert!(html.contains("<title>") && html.contains("<html lang=\"en\">"), "{path}");
        // Every labelled control has its label, and every label names a control on the page.
        for label in html.split("<label for=\"").skip(1) {
            let id = label.split('"').next().unwrap_or_default();
            assert!(has_id(html, id), "{who} {path}: label for missing #{id}");
        }
        for tag in ["<input ", "<select ", "<textarea "] {
            for control in html.split(tag).skip(1) {
                let attributes = control.split('>').next().unwrap_or_default();
                if attributes.contains("type=\"hidden\"") {
                    continue;
                }
                let id = attributes.split("id=\"").nth(1).and_then(|rest| rest.split('"').next());
                let id = id.unwrap_or_else(|| {
                    panic!("{who} {path}: a control without an id: {attributes}")
                });
                assert!(
                    html.contains(&format!("<label for=\"{id}\"")),
                    "{who} {path}: #{id} has no label"
                );
            }
        }
        // Every table, ours and the policy's own from its Markdown, scopes its headers.
        for table in html.split("<table").skip(1) {
            let table = table.split("</table>").next().unwrap_or_default();
            assert!(!table.contains("<th>"), "{who} {path}: a header cell without scope");
        }
        // An id names one element.
        let mut ids = std::collections::BTreeSet::new();
        for rest in html.split(" id=\"").skip(1) {
            let id = rest.split('"').next().unwrap_or_default();
            assert!(ids.insert(id), "{who} {path}: the id `{id}` is used twice");
        }
    }
    app.shutdown().await;
}
