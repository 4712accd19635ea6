//! Hostile input: every kind gets a clear 4xx, with our error format on the API, and leaves
//! nothing half-done; stored text is always escaped on pages; every answer carries the
//! security headers.

mod common;

use common::{Db, TestApp};
use jiff::{SignedDuration, Timestamp};
use lifeguard_core::access::TokenScope;
use lifeguard_core::archive::AuditRecord;
use lifeguard_server::auth;
use lifeguard_server::config::{MAX_BATCH_BODY, MAX_BODY};
use lifeguard_store::{AuditFilter, NewSession};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn error_code(answer: reqwest::Response) -> (StatusCode, String, Option<String>) {
    let status = answer.status();
    let body: Value = answer.json().await.expect("a JSON error body");
    let code = body["error"]["code"].as_str().expect("error.code").to_owned();
    let field = body["error"]["field"].as_str().map(str::to_owned);
    (status, code, field)
}

async fn audit_count(app: &TestApp) -> usize {
    let filter = AuditFilter { limit: 1000, ..AuditFilter::default() };
    app.state.store.audit_trail(&filter).await.expect("audit trail").len()
}

async fn api_rejects_bad_bodies(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let token = common::token(&app, "cora", &[TokenScope::Check, TokenScope::Ingest]).await;
    let client = common::client();
    let post = |path: &str| client.post(app.url(path)).bearer_auth(&token);
    let before = common::item_count(&app).await;

    let huge = json!({ "text": "a".repeat(MAX_BODY + 1) }).to_string();
    let answer = post("/api/v1/check")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("send");
    assert_eq!(error_code(answer).await.0, StatusCode::PAYLOAD_TOO_LARGE);

    let huge_batch = vec![b' '; MAX_BATCH_BODY + 1];
    let answer = post("/api/v1/items")
        .header("content-type", "application/json")
        .body(huge_batch)
        .send()
        .await
        .expect("send");
    assert_eq!(error_code(answer).await.0, StatusCode::PAYLOAD_TOO_LARGE);

    let answer = post("/api/v1/check")
        .header("content-type", "application/json")
        .body("{\"text\": \"unterminated")
        .send()
        .await
        .expect("send");
    let (status, code, _) = error_code(answer).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_json"));

    let answer = post("/api/v1/check")
        .header("content-type", "text/plain")
        .body("{\"text\": \"hello\"}")
        .send()
        .await
        .expect("send");
    let (status, code, _) = error_code(answer).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );

    let answer = post("/api/v1/check")
        .json(&json!({"text": "hi", "colour": "red"}))
        .send()
        .await
        .expect("send");
    let (status, _, field) = error_code(answer).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field.as_deref(), Some("colour"));

    // One bad item refuses the whole batch: nothing from it is archived.
    let batch = json!({"items": [
        {"platform": "x", "external_id": "ok-1", "text": "fine"},
        {"platform": "x", "text": "no external id"},
    ]});
    let answer = post("/api/v1/items").json(&batch).send().await.expect("send");
    let (status, _, field) = error_code(answer).await;
    assert!(status.is_client_error(), "{status}");
    assert!(field.is_some_and(|f| f.starts_with("items[1]")), "the field names the item");
    assert_eq!(common::item_count(&app).await, before, "nothing half-done");
    app.shutdown().await;
}

#[tokio::test]
async fn api_rejects_bad_bodies_sqlite() {
    api_rejects_bad_bodies(Db::Sqlite).await;
}

#[tokio::test]
async fn api_rejects_bad_bodies_postgres() {
    api_rejects_bad_bodies(Db::Postgres).await;
}

#[tokio::test]
async fn long_headers_and_traversal_are_refused() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let client = common::client();
    let answer =
        client.get(app.url("/healthz")).header("x-padding", "a".repeat(1024 * 1024)).send().await;
    match answer {
        Ok(answer) => assert!(answer.status().is_client_error(), "{}", answer.status()),
        // hyper may close the connection on a header it will not buffer; that is a refusal too.
        Err(err) => assert!(err.is_request() || err.is_connect() || err.is_body(), "{err}"),
    }
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2f..%2fCargo.toml",
        "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/items/..%2f..%2fetc%2fpasswd",
        "/api/v1/items/..%2f1",
    ] {
        let answer = client.get(app.url(path)).send().await.expect("send");
        let status = answer.status();
        assert!(status.is_client_error() || status.is_redirection(), "{path}: {status}");
        let body = answer.text().await.unwrap_or_default();
        assert!(!body.contains("[workspace]") && !body.contains("root:"), "{path} leaked a file");
    }
    app.shutdown().await;
}

/// SQL and HTML in every text field are stored as text and shown escaped.
async fn injection_is_inert(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let token = common::token(&app, "cora", &[TokenScope::Ingest, TokenScope::Read]).await;
    let client = common::client();
    let nasty = "<script>alert('x')</script>'; DROP TABLE items; -- \" OR 1=1";
    let item = json!({
        "platform": "x",
        "external_id": "nasty-1",
        "account": nasty,
        "author": nasty,
        "text": format!("hostile {nasty}"),
        "links": ["https://example.com/?q=<b>"],
    });
    let answer = client
        .post(app.url("/api/v1/items"))
        .bearer_auth(&token)
        .json(&item)
        .send()
        .await
        .expect("send");
    assert!(answer.status().is_success(), "{}", answer.status());

    let answer = client
        .get(app.url("/api/v1/items"))
        .bearer_auth(&token)
        .query(&[("q", "hostile"), ("author", nasty)])
        .send()
        .await
        .expect("search");
    assert_eq!(answer.status(), 200);
    let found: Value = answer.json().await.expect("json");
    let items = found["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "the author filter matched the literal text: {found}");
    let seq = items[0]["seq"].as_u64().expect("seq");

    for query in ["' OR 1=1 --", "\"unterminated", "*", "drop table items;"] {
        let answer = client
            .get(app.url("/api/v1/items"))
            .bearer_auth(&token)
            .query(&[("q", query)])
            .send()
            .await
            .expect("search");
        assert!(answer.status() == 200 || answer.status() == 400, "{query}: {}", answer.status());
    }

    let (session, _) = common::sign_in(&app, "cora").await;
    for path in [format!("/items/{seq}"), "/archive?q=hostile".to_owned()] {
        let page = session.get(app.url(&path)).send().await.expect("page");
        assert_eq!(page.status(), 200, "{path}");
        let html = page.text().await.expect("html");
        assert!(!html.contains("<script>alert"), "{path} shows raw HTML");
        assert!(html.contains("&lt;script&gt;alert"), "{path} shows the text escaped");
    }
    assert!(common::item_count(&app).await > 0);
    app.shutdown().await;
}

#[tokio::test]
async fn injection_is_inert_sqlite() {
    injection_is_inert(Db::Sqlite).await;
}

#[tokio::test]
async fn injection_is_inert_postgres() {
    injection_is_inert(Db::Postgres).await;
}

/// A form post with a forged or missing CSRF token, or from another origin, changes nothing
/// and writes no audit entry.
async fn forged_csrf_changes_nothing(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let (client, csrf) = common::sign_in(&app, "ada").await;
    let people = app.state.store.people().await.expect("people").len();
    let audited = audit_count(&app).await;
    let form = [
        ("login", "mallory"),
        ("name", "Mallory"),
        ("email", "mallory@example.com"),
        ("role", "admin"),
        ("password", "correct horse battery staple"),
    ];
    let forged = "0".repeat(64);
    for (token, origin) in [
        (None, None),
        (Some(forged.as_str()), None),
        (Some(csrf.as_str()), Some("http://evil.example")),
    ] {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        if let Some(token) = token {
            fields.push(("csrf", token));
        }
        let mut request = client.post(app.url("/people")).form(&fields);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let answer = request.send().await.expect("send");
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "token {token:?} origin {origin:?}");
    }
    let answer = client
        .post(app.url("/api/v1/people"))
        .header("x-csrf-token", &forged)
        .json(&json!({"login": "mallory", "name": "M", "email": "m@example.com", "role": "admin"}))
        .send()
        .await
        .expect("send");
    assert_eq!(error_code(answer).await.1, "csrf");
    assert_eq!(app.state.store.people().await.expect("people").len(), people);
    assert_eq!(audit_count(&app).await, audited, "no audit entry for refused forgeries");
    app.shutdown().await;
}

#[tokio::test]
async fn forged_csrf_changes_nothing_sqlite() {
    forged_csrf_changes_nothing(Db::Sqlite).await;
}

#[tokio::test]
async fn forged_csrf_changes_nothing_postgres() {
    forged_csrf_changes_nothing(Db::Postgres).await;
}

/// An expired session is no session: pages send the person to sign in, the API answers 401.
async fn expired_sessions_are_refused(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let eve = app.state.store.person_by_login("eve").await.expect("lookup").expect("eve");
    let cookie = auth::random_hex(32);
    let session = NewSession {
        id_sha256: auth::sha256(cookie.as_bytes()),
        person: eve.id,
        csrf: auth::random_hex(32),
        expires_at: Timestamp::now() - SignedDuration::from_mins(1),
    };
    let audit = AuditRecord::new("eve", None, "login");
    app.state
        .store
        .create_session(&session, &audit, Timestamp::now() - SignedDuration::from_hours(9))
        .await
        .expect("session");
    let client = common::client();
    let cookie = format!("{}={cookie}", auth::SESSION_COOKIE);
    let page = client.get(app.url("/")).header("cookie", &cookie).send().await.expect("GET /");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(page.headers()["location"].to_str().expect("location").starts_with("/login"));
    let api = client.get(app.url("/api/v1/items")).header("cookie", &cookie).send().await;
    assert_eq!(error_code(api.expect("GET")).await.1, "unauthenticated");
    app.shutdown().await;
}

#[tokio::test]
async fn expired_sessions_are_refused_sqlite() {
    expired_sessions_are_refused(Db::Sqlite).await;
}

#[tokio::test]
async fn expired_sessions_are_refused_postgres() {
    expired_sessions_are_refused(Db::Postgres).await;
}

#[tokio::test]
async fn every_answer_has_security_headers() {
    let Some(app) = common::spawn(Db::Sqlite).await else { return };
    let (client, _) = common::sign_in(&app, "otto").await;
    for path in
        ["/", "/login", "/archive", "/policy", "/nowhere", "/api/v1/nowhere", "/healthz", "/tokens"]
    {
        let answer = client.get(app.url(path)).send().await.expect("GET");
        let headers = answer.headers();
        let csp = headers["content-security-policy"].to_str().expect("csp");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(!content_type.is_empty() || answer.status().is_redirection(), "{path}: no type");
        if content_type.starts_with("text/html") {
            let html = answer.text().await.expect("html");
            assert!(!html.contains(" style=\""), "{path} has an inline style");
            let scripts = html.matches("<script").count();
            let external = html.matches("<script src=").count();
            assert_eq!(scripts, external, "{path} has an inline script");
        }
    }
    app.shutdown().await;
}
