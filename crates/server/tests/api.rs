//! The JSON API under `/api/v1`, over HTTP against a real server: every endpoint on SQLite and
//! (when `LIFEGUARD_TEST_DATABASE_URL` is set) PostgreSQL, every error code, and the OpenAPI
//! document against the router.

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use lifeguard_store::AuditFilter;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Runs each scenario once per database, as its own test: `scenario::sqlite` and
/// `scenario::postgres` (which says it was skipped when no server is configured).
macro_rules! on_both_databases {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use super::common::{self, Db};

            async fn run(db: Db) {
                let Some(app) = common::spawn(db).await else { return };
                super::$scenario(&app).await;
                app.shutdown().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(Db::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(Db::Postgres).await;
            }
        }
    )*};
}

on_both_databases!(
    check_gives_the_cli_verdict,
    tokens_act_within_their_scopes,
    ingest_is_idempotent_and_all_or_nothing,
    ingest_takes_large_batches,
    search_and_items_stay_within_the_audience,
    search_parameters_are_checked,
    people_are_created_and_changed,
    departments_accounts_and_settings,
    tokens_are_shown_once_and_revoked,
    bodies_are_checked,
    cookie_sessions_need_the_csrf_token,
    policy_is_served,
    audit_trail_pages,
    every_route_is_served,
);

// ---------------------------------------------------------------------------------------------
// Helpers.

/// An API client: a bearer token, or a cookie session with its CSRF token.
struct Api<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    auth: Auth,
}

enum Auth {
    Bearer(String),
    Session(String),
    Anonymous,
}

/// An answer: status and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
    json: Value,
}

impl Answer {
    /// The error code of an error answer.
    fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// The field an error answer blames.
    fn field(&self) -> &str {
        self.json["error"]["field"].as_str().unwrap_or("")
    }

    #[track_caller]
    fn expect(self, status: u16) -> Answer {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {}", self.text);
        self
    }

    #[track_caller]
    fn expect_error(self, status: u16, code: &str, field: Option<&str>) -> Answer {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {}", self.text);
        assert_eq!(self.code(), code, "error code of {}", self.text);
        assert_eq!(self.content_type, "application/json", "errors are JSON");
        if let Some(field) = field {
            assert_eq!(self.field(), field, "field of {}", self.text);
        }
        self
    }
}

impl<'a> Api<'a> {
    fn anonymous(app: &'a TestApp) -> Api<'a> {
        Api { app, client: common::client(), auth: Auth::Anonymous }
    }

    fn bearer(app: &'a TestApp, token: &str) -> Api<'a> {
        Api { app, client: common::client(), auth: Auth::Bearer(token.to_owned()) }
    }

    async fn session(app: &'a TestApp, login: &str) -> Api<'a> {
        let (client, csrf) = common::sign_in(app, login).await;
        Api { app, client, auth: Auth::Session(csrf) }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.client.request(method, self.app.url(path));
        match &self.auth {
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Session(csrf) => request.header("x-csrf-token", csrf),
            Auth::Anonymous => request,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let answer = request.send().await.expect("request sent");
        let status = answer.status();
        let content_type = answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = answer.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, content_type, text, json }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, path)).await
    }

    async fn call(&self, method: Method, path: &str, body: &Value) -> Answer {
        self.send(self.request(method, path).json(body)).await
    }

    async fn post(&self, path: &str, body: &Value) -> Answer {
        self.call(Method::POST, path, body).await
    }

    async fn raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        self.send(self.request(method, path).header("content-type", content_type).body(body)).await
    }
}

/// A person's id.
async fn id_of(app: &TestApp, login: &str) -> i64 {
    app.state.store.person_by_login(login).await.expect("look up").expect("demo person").id
}

/// A new token for `login`, made by the admin through the API.
async fn token_for(app: &TestApp, login: &str, scopes: &[&str]) -> String {
    let admin = Api::session(app, "ada").await;
    let person = id_of(app, login).await;
    let answer = admin
        .post("/api/v1/tokens", &json!({"name": "test", "person": person, "scopes": scopes}))
        .await
        .expect(201);
    answer.json["token"].as_str().expect("token text").to_owned()
}

/// The chain's last entry.
async fn head(app: &TestApp) -> u64 {
    app.state.store.head().await.expect("head").map_or(0, |(seq, _)| seq)
}

/// The newest audit entry: (action, target, details).
async fn last_audit(app: &TestApp) -> (String, Option<String>, Value) {
    let filter = AuditFilter { limit: 1, ..AuditFilter::default() };
    let entries = app.state.store.audit_trail(&filter).await.expect("audit trail");
    let entry = entries.into_iter().next().expect("an audit entry");
    (entry.record.action, entry.record.target, Value::Object(entry.record.details))
}

/// Asserts that a change wrote exactly one chain entry, an audit entry with this action.
async fn assert_one_audit_entry(app: &TestApp, before: u64, action: &str) -> Value {
    assert_eq!(head(app).await, before + 1, "{action}: exactly one chain entry");
    let (found, _, details) = last_audit(app).await;
    assert_eq!(found, action);
    details
}

/// A word no demo item holds, to find the items a test ingested.
fn marker(name: &str) -> String {
    format!("zq{name}marker")
}

fn item(id: &str, author: &str, text: &str) -> Value {
    json!({"platform": "x", "account": "api-test", "external_id": id, "author": author, "text": text})
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

async fn check_gives_the_cli_verdict(app: &TestApp) {
    let api = Api::bearer(app, &token_for(app, "eve", &["check"]).await);
    let text = "What the fuck happened to the release build?";
    let answer = api.post("/api/v1/check", &json!({"text": text})).await.expect(200);
    let verdict = &answer.json;
    assert_eq!(verdict["action"], "flag", "{verdict}");
    let findings = verdict["findings"].as_array().expect("findings");
    let finding = findings.iter().find(|f| f["rule"] == "OFF-PROFANITY").expect("OFF-PROFANITY");
    let keys: BTreeSet<&str> =
        finding.as_object().expect("object").keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "rule",
        "clause",
        "clause_title",
        "category",
        "severity",
        "action",
        "start",
        "end",
        "match",
        "message",
    ]
    .into();
    assert_eq!(keys, expected, "a finding's fields are the CLI's");
    let (start, end) =
        (finding["start"].as_u64().unwrap_or(0), finding["end"].as_u64().unwrap_or(0));
    assert_eq!(finding["match"], text[start as usize..end as usize]);
    assert_eq!(finding["category"], "offensive");
    let top: BTreeSet<&str> =
        verdict.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(top, ["action", "findings", "policy"].into());
    let stamp = app.state.policy.engine.stamp();
    assert_eq!(
        verdict["policy"],
        json!({"id": stamp.id, "version": stamp.version, "hash": stamp.hash})
    );

    let clean = api
        .post("/api/v1/check", &json!({"text": "Our new office opens on Monday.", "kind": "reply", "author_type": "corporate", "platform": "linkedin"}))
        .await
        .expect(200);
    assert_eq!(clean.json["action"], "allow");
    assert_eq!(clean.json["findings"], json!([]));
    // Escaped strings cannot be borrowed from the body; they must work all the same.
    let escaped = api
        .post("/api/v1/check", &json!({"text": "line one\nWhat the fuck, \u{e9}t\u{e9}?"}))
        .await;
    assert_eq!(escaped.expect(200).json["action"], "flag");

    api.post("/api/v1/check", &json!({"text": "hi", "kind": "tweet"})).await.expect_error(
        400,
        "bad_request",
        Some("kind"),
    );
    api.post("/api/v1/check", &json!({"text": "hi", "author_type": "robot"})).await.expect_error(
        400,
        "bad_request",
        Some("author_type"),
    );
    api.post("/api/v1/check", &json!({"platform": "x"})).await.expect_error(
        400,
        "bad_request",
        Some("text"),
    );
    api.post("/api/v1/check", &json!({"text": 5})).await.expect_error(
        400,
        "bad_request",
        Some("text"),
    );
    let long = "a ".repeat(40_000);
    api.post("/api/v1/check", &json!({"text": long})).await.expect_error(
        413,
        "payload_too_large",
        Some("text"),
    );
}

async fn tokens_act_within_their_scopes(app: &TestApp) {
    let check_only = Api::bearer(app, &token_for(app, "cora", &["check"]).await);
    check_only.post("/api/v1/check", &json!({"text": "hello"})).await.expect(200);
    let refused = check_only.get("/api/v1/items").await.expect_error(403, "forbidden", None);
    assert!(refused.json["error"]["message"].as_str().unwrap_or("").contains("`read`"));
    check_only.post("/api/v1/items", &item("scope-1", "cora", "hello")).await.expect_error(
        403,
        "forbidden",
        None,
    );

    // A role's limits hold whatever the token's scopes: an employee's read token reads, but
    // the directory stays closed to it.
    let reader = Api::bearer(app, &token_for(app, "eve", &["read"]).await);
    reader.get("/api/v1/items").await.expect(200);
    reader.get("/api/v1/people").await.expect_error(403, "forbidden", None);

    Api::anonymous(app).get("/api/v1/items").await.expect_error(401, "unauthenticated", None);
    Api::anonymous(app).post("/api/v1/check", &json!({"text": "hello"})).await.expect_error(
        401,
        "unauthenticated",
        None,
    );
    Api::bearer(app, "lgt_nothere_0000").get("/api/v1/items").await.expect_error(
        401,
        "unauthenticated",
        None,
    );
    Api::bearer(app, "not-a-token").get("/api/v1/policy").await.expect_error(
        401,
        "unauthenticated",
        None,
    );
}

async fn ingest_is_idempotent_and_all_or_nothing(app: &TestApp) {
    let token = token_for(app, "cora", &["ingest", "read"]).await;
    let api = Api::bearer(app, &token);
    let word = marker("ingest");

    // One item.
    let single = item("ingest-1", "eve", &format!("{word} launch day"));
    let before = head(app).await;
    let first = api.post("/api/v1/items", &single).await.expect(201);
    assert_eq!(first.json["count"], 1);
    assert_eq!(first.json["added"], 1);
    assert_eq!(first.json["entries"], 3, "item, verdict and audit entries: {}", first.text);
    assert_eq!(head(app).await, before + 3);
    let (action, _, details) = last_audit(app).await;
    assert_eq!(action, "items.ingest");
    assert_eq!(details["count"], 1);
    assert!(details["token"].is_string(), "the audit entry names the token: {details}");
    let again = api.post("/api/v1/items", &single).await.expect(200);
    assert_eq!(
        (again.json["added"].as_u64(), again.json["unchanged"].as_u64()),
        (Some(0), Some(1))
    );

    // A batch, with an edit of the first item, a deletion, an item with extra fields, and a
    // deletion that carries text the archive never saw.
    let batch = json!({"items": [
        item("ingest-2", "eve", &format!("{word} second")),
        item("ingest-1", "eve", &format!("{word} launch day, edited")),
        {"platform": "x", "external_id": "ingest-2", "change": "deletion", "author": "eve", "account": "api-test"},
        {"platform": "X", "external_id": 12345, "text": format!("{word} from a platform"), "likes": 3},
        {"platform": "x", "external_id": "ingest-4", "change": "deletion", "text": format!("{word} guaranteed returns, totally risk free")},
    ]});
    let added = api.post("/api/v1/items", &batch).await.expect(201);
    assert_eq!(added.json["count"], 5);
    assert_eq!(added.json["added"], 5);
    assert_eq!(added.json["revisions"], 3, "the edit and the deletions: {}", added.text);
    let repeated = api.post("/api/v1/items", &batch).await.expect(200);
    assert_eq!(repeated.json["added"], 0);
    assert_eq!(repeated.json["unchanged"], 5);

    let found = api.get(&format!("/api/v1/items?q={word}&limit=100")).await.expect(200);
    let items = found.json["items"].as_array().expect("items");
    // The deletion without text has no text of its own to find.
    assert_eq!(items.len(), 5, "{}", found.text);
    // A deletion with text is checked like any other item, as `lifeguard import` does.
    let deleted = items.iter().find(|i| i["external_id"] == "ingest-4").expect("deletion");
    assert_eq!(deleted["change"], "deletion");
    assert_eq!(deleted["verdict"], "require_approval", "{deleted}");
    assert!(deleted["findings"].as_u64() > Some(0), "{deleted}");
    let numeric = items.iter().find(|i| i["external_id"] == "12345").expect("numeric id");
    assert_eq!(numeric["platform"], "x", "platforms are lowercased");
    let detail = api.get(&format!("/api/v1/items/{}", numeric["seq"])).await.expect(200);
    let raw = detail.json["payload"]["raw"].as_str().expect("raw kept for extra fields");
    assert!(raw.contains("\"likes\": 3") || raw.contains("\"likes\":3"), "{raw}");

    // One bad item refuses the whole batch, naming it; nothing of it is archived.
    let before = head(app).await;
    let bad = json!({"items": [
        item("ingest-3", "eve", &format!("{word} never archived")),
        {"platform": "x", "text": "no id"},
    ]});
    api.post("/api/v1/items", &bad).await.expect_error(
        400,
        "bad_request",
        Some("items[1].external_id"),
    );
    let wrong_kind = json!({"items": [{"platform": "x", "external_id": "k", "kind": "tweet"}]});
    api.post("/api/v1/items", &wrong_kind).await.expect_error(
        400,
        "bad_request",
        Some("items[0].kind"),
    );
    api.post("/api/v1/items", &json!({"items": [1]})).await.expect_error(
        400,
        "bad_request",
        Some("items[0]"),
    );
    api.post("/api/v1/items", &json!({"platform": "x"})).await.expect_error(
        400,
        "bad_request",
        Some("external_id"),
    );
    api.post("/api/v1/items", &json!({"items": []})).await.expect_error(
        400,
        "bad_request",
        Some("items"),
    );
    api.post("/api/v1/items", &json!({"items": [], "extra": 1})).await.expect_error(
        400,
        "bad_request",
        Some("extra"),
    );
    api.post("/api/v1/items", &json!([1, 2])).await.expect_error(400, "bad_request", None);
    // Which of two texts is the record is not for the archive to guess.
    let twice = br#"{"items": [{"platform": "x", "external_id": "t1", "text": "a", "text": "b"}]}"#;
    let answer = api.raw(Method::POST, "/api/v1/items", "application/json", twice.to_vec()).await;
    let answer = answer.expect_error(400, "bad_request", Some("items[0]"));
    assert!(answer.text.contains("the key `text` appears twice"), "{}", answer.text);
    let too_many: Vec<Value> =
        (0..5_001).map(|i| json!({"platform": "x", "external_id": i})).collect();
    api.post("/api/v1/items", &json!({"items": too_many})).await.expect_error(
        413,
        "payload_too_large",
        Some("items"),
    );
    assert_eq!(head(app).await, before, "refused requests archive nothing");
    let none = api.get(&format!("/api/v1/items?q={word}+never")).await.expect(200);
    assert_eq!(none.json["items"], json!([]));

    // The audit trail shows each ingest, newest first.
    let auditor = Api::session(app, "otto").await;
    let trail = auditor.get("/api/v1/audit?action=items.ingest&actor=cora").await.expect(200);
    let entries = trail.json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 4, "{}", trail.text);
    assert_eq!(entries[0]["details"]["count"], 5);
    assert_eq!(entries[0]["from"], "127.0.0.1");
}

async fn ingest_takes_large_batches(app: &TestApp) {
    let api = Api::bearer(app, &token_for(app, "ada", &["ingest"]).await);
    // Larger than the default body limit, and enough items to be checked on several threads.
    let padding = "lorem ipsum dolor sit amet ".repeat(12);
    let items: Vec<Value> = (0..2_000)
        .map(|i| item(&format!("large-{i}"), "ada", &format!("{padding} number {i}")))
        .collect();
    let body = json!({"items": items});
    assert!(body.to_string().len() > lifeguard_server::config::MAX_BODY);
    let answer = api.post("/api/v1/items", &body).await.expect(201);
    assert_eq!(answer.json["added"], 2_000);
    // The first bad item is the one named, however the batch was split.
    let mut items: Vec<Value> =
        (0..2_000).map(|i| item(&format!("large-bad-{i}"), "ada", "text")).collect();
    items[1_500] = json!({"platform": "x", "external_id": "x", "created_at": "yesterday"});
    items[1_900] = json!({"platform": "x"});
    api.post("/api/v1/items", &json!({"items": items})).await.expect_error(
        400,
        "bad_request",
        Some("items[1500].created_at"),
    );
    // Over the batch route's own limit.
    let huge = "x".repeat(lifeguard_server::config::MAX_BATCH_BODY);
    api.post(
        "/api/v1/items",
        &json!({"items": [{"platform": "x", "external_id": "h", "text": huge}]}),
    )
    .await
    .expect_error(413, "payload_too_large", None);
}

async fn search_and_items_stay_within_the_audience(app: &TestApp) {
    let ingest = Api::bearer(app, &token_for(app, "ada", &["ingest"]).await);
    let word = marker("audience");
    let batch = json!({"items": [
        item("aud-eve", "eve", &format!("{word} by eve")),
        item("aud-leo", "leo", &format!("{word} by leo")),
        item("aud-ola", "ola", &format!("{word} by ola")),
    ]});
    ingest.post("/api/v1/items", &batch).await.expect(201);
    let authors = |answer: &Answer| -> BTreeSet<String> {
        answer.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["author"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let query = format!("/api/v1/items?q={word}");

    let eve = Api::session(app, "eve").await;
    let mine = eve.get(&query).await.expect(200);
    assert_eq!(authors(&mine), ["eve".to_owned()].into());
    let sam = Api::session(app, "sam").await;
    let team = sam.get(&query).await.expect(200);
    assert_eq!(authors(&team), ["eve".to_owned(), "leo".to_owned()].into());
    let cora = Api::session(app, "cora").await;
    let all = cora.get(&query).await.expect(200);
    assert_eq!(authors(&all).len(), 3);

    // Every item an employee can list, without a query, is hers or from her own accounts.
    let everything = eve.get("/api/v1/items?limit=1000").await.expect(200);
    let eve_id = id_of(app, "eve").await;
    let own_accounts: BTreeSet<String> = app
        .state
        .store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .filter(|account| account.owner == Some(eve_id))
        .map(|account| account.handle)
        .collect();
    for listed in everything.json["items"].as_array().expect("items") {
        let author = listed["author"].as_str().unwrap_or("");
        let account = listed["account"].as_str().unwrap_or("");
        assert!(author == "eve" || own_accounts.contains(account), "eve sees {listed}");
    }

    // One item: 404 outside the audience, as for no item at all.
    let ola_item = all.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["author"] == "ola")
        .expect("ola's item")["seq"]
        .as_u64()
        .expect("seq");
    let detail = cora.get(&format!("/api/v1/items/{ola_item}")).await.expect(200);
    assert_eq!(detail.json["item"]["author"], "ola");
    assert_eq!(detail.json["entry"]["seq"], ola_item);
    assert_eq!(detail.json["entry"]["kind"], "item");
    assert_eq!(detail.json["entry"]["hash"].as_str().map(str::len), Some(64));
    assert_eq!(detail.json["versions"].as_array().map(Vec::len), Some(1));
    let verdict = &detail.json["verdicts"][0];
    assert_eq!(verdict["action"], "allow");
    assert_eq!(verdict["policy"]["id"], app.state.policy.engine.stamp().id.as_str());
    eve.get(&format!("/api/v1/items/{ola_item}")).await.expect_error(404, "not_found", None);
    sam.get(&format!("/api/v1/items/{ola_item}")).await.expect_error(404, "not_found", None);
    eve.get("/api/v1/items/999999999").await.expect_error(404, "not_found", None);
    eve.get("/api/v1/items/not-a-number").await.expect_error(404, "not_found", None);
    let eve_item = mine.json["items"][0]["seq"].as_u64().expect("seq");
    eve.get(&format!("/api/v1/items/{eve_item}")).await.expect(200);

    // A flagged item shows its findings.
    ingest
        .post("/api/v1/items", &item("aud-flag", "eve", &format!("{word} what the fuck")))
        .await
        .expect(201);
    let flagged = eve.get(&format!("/api/v1/items?q={word}+fuck&has_findings=true")).await;
    let flagged = flagged.expect(200);
    let seq = flagged.json["items"][0]["seq"].as_u64().expect("flagged item");
    assert_eq!(flagged.json["items"][0]["verdict"], "flag");
    let shown = eve.get(&format!("/api/v1/items/{seq}")).await.expect(200);
    assert_eq!(shown.json["verdicts"][0]["findings"][0]["rule"], "OFF-PROFANITY");
    assert_eq!(shown.json["verdicts"][0]["findings"][0]["match"], "fuck");
}

async fn search_parameters_are_checked(app: &TestApp) {
    let api = Api::session(app, "cora").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("kind=tweet", "kind"),
        ("author_type=robot", "author_type"),
        ("verdict=maybe", "verdict"),
        ("since=yesterday", "since"),
        ("has_findings=yes", "has_findings"),
        ("cursor=abc", "cursor"),
        ("q=%22open", "q"),
        ("colour=blue", "colour"),
    ] {
        api.get(&format!("/api/v1/items?{query}")).await.expect_error(
            400,
            "bad_request",
            Some(field),
        );
    }
    // Paging: the cursor continues where the page ended, without repeats.
    let first = api.get("/api/v1/items?limit=2&since=2000-01-01").await.expect(200);
    let cursor = first.json["next_cursor"].as_str().expect("a next page").to_owned();
    let second = api.get(&format!("/api/v1/items?limit=2&cursor={cursor}")).await.expect(200);
    let seqs = |answer: &Answer| -> Vec<u64> {
        answer.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["seq"].as_u64())
            .collect()
    };
    let (a, b) = (seqs(&first), seqs(&second));
    assert_eq!((a.len(), b.len()), (2, 2));
    assert!(a.iter().all(|seq| !b.contains(seq)));
    // Empty values count as absent, as HTML forms send them.
    api.get("/api/v1/items?q=&platform=&limit=").await.expect(200);
    // Filters narrow.
    let platform = api.get("/api/v1/items?platform=X&limit=50").await.expect(200);
    assert!(platform.json["items"].as_array().expect("items").iter().all(|i| i["platform"] == "x"));
}

async fn people_are_created_and_changed(app: &TestApp) {
    let admin = Api::session(app, "ada").await;
    let before = head(app).await;
    let created = admin
        .post(
            "/api/v1/people",
            &json!({
                "login": "newbie",
                "name": "New Person",
                "email": "new@example.com",
                "department": "marketing",
                "manager": id_of(app, "sam").await,
                "role": "employee",
                "password": "correct horse battery",
            }),
        )
        .await
        .expect(201);
    let details = assert_one_audit_entry(app, before, "person.create").await;
    assert_eq!(details["password"], true, "the audit says a password was set, not which");
    assert!(!details.to_string().contains("correct horse"));
    assert!(!details.to_string().contains("new@example.com"), "no personal data in the chain");
    let id = created.json["id"].as_i64().expect("id");
    assert_eq!(created.json["role"], "employee");
    assert_eq!(created.json["active"], true);
    assert!(!created.text.contains("password") && !created.text.contains("argon2"));

    // The new person can sign in with the password given.
    let client = common::client();
    let page = client.get(app.url("/login")).send().await.expect("login page");
    let csrf = common::csrf_in(&page.text().await.expect("page")).expect("csrf");
    let signed = client
        .post(app.url("/login"))
        .form(&[("login", "newbie"), ("password", "correct horse battery"), ("csrf", &csrf)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed.status(), 303);

    let shown = admin.get(&format!("/api/v1/people/{id}")).await.expect(200);
    assert_eq!(shown.json["login"], "newbie");
    admin.get("/api/v1/people/999999").await.expect_error(404, "not_found", None);
    let listed = admin.get("/api/v1/people").await.expect(200);
    assert!(
        listed.json["people"].as_array().expect("people").iter().any(|p| p["login"] == "newbie")
    );
    assert!(!listed.text.contains("argon2") && !listed.text.contains("password"));

    // Validation errors name the field.
    let person = |login: &str| json!({"login": login, "name": "X", "email": "x@example.com", "role": "employee"});
    admin.post("/api/v1/people", &person("newbie")).await.expect_error(
        422,
        "invalid",
        Some("login"),
    );
    admin.post("/api/v1/people", &person("Bad Login")).await.expect_error(
        422,
        "invalid",
        Some("login"),
    );
    let mut short = person("shorty");
    short["password"] = json!("too short");
    admin.post("/api/v1/people", &short).await.expect_error(422, "invalid", Some("password"));
    let mut role = person("roleless");
    role["role"] = json!("king");
    admin.post("/api/v1/people", &role).await.expect_error(400, "bad_request", Some("role"));
    let mut department = person("nodept");
    department["department"] = json!("nowhere");
    admin.post("/api/v1/people", &department).await.expect_error(
        422,
        "invalid",
        Some("department"),
    );
    admin
        .post(
            "/api/v1/people",
            &json!({"login": "noname", "email": "x@example.com", "role": "employee"}),
        )
        .await
        .expect_error(400, "bad_request", Some("name"));
    let mut extra = person("extra");
    extra["password_hash"] = json!("$argon2id$...");
    admin.post("/api/v1/people", &extra).await.expect_error(
        400,
        "bad_request",
        Some("password_hash"),
    );

    // Changes.
    let before = head(app).await;
    let path = format!("/api/v1/people/{id}");
    let changed = admin
        .call(
            Method::PATCH,
            &path,
            &json!({"role": "reviewer", "area": "legal", "department": null}),
        )
        .await
        .expect(200);
    assert_eq!(changed.json["role"], "reviewer");
    assert_eq!(changed.json["area"], "legal");
    assert_eq!(changed.json["department"], Value::Null);
    let details = assert_one_audit_entry(app, before, "person.update").await;
    assert_eq!(details["role"], "reviewer");
    assert_eq!(details["department"], Value::Null);
    let (_, target, _) = last_audit(app).await;
    assert_eq!(target.as_deref(), Some(id.to_string().as_str()));

    admin.call(Method::PATCH, &path, &json!({"area": "cooking"})).await.expect_error(
        422,
        "invalid",
        Some("area"),
    );
    admin.call(Method::PATCH, &path, &json!({"manager": id})).await.expect_error(
        422,
        "invalid",
        Some("manager"),
    );
    admin.call(Method::PATCH, &path, &json!({"password": "short"})).await.expect_error(
        422,
        "invalid",
        Some("password"),
    );
    admin.call(Method::PATCH, &path, &json!({"active": "no"})).await.expect_error(
        400,
        "bad_request",
        Some("active"),
    );
    admin.call(Method::PATCH, &path, &json!({})).await.expect_error(400, "bad_request", None);
    admin
        .call(Method::PATCH, "/api/v1/people/999999", &json!({"name": "Nobody"}))
        .await
        .expect_error(404, "not_found", None);

    // Deactivating a person stops their tokens at once.
    let token = token_for(app, "newbie", &["check"]).await;
    let theirs = Api::bearer(app, &token);
    theirs.post("/api/v1/check", &json!({"text": "hello"})).await.expect(200);
    admin.call(Method::PATCH, &path, &json!({"active": false})).await.expect(200);
    theirs.post("/api/v1/check", &json!({"text": "hello"})).await.expect_error(
        401,
        "unauthenticated",
        None,
    );
}

async fn departments_accounts_and_settings(app: &TestApp) {
    let admin = Api::session(app, "ada").await;
    let reader = Api::session(app, "otto").await;

    let before = head(app).await;
    let department = json!({"id": "research", "name": "Research"});
    admin.post("/api/v1/departments", &department).await.expect(201);
    assert_one_audit_entry(app, before, "department.create").await;
    let renamed = admin
        .post("/api/v1/departments", &json!({"id": "research", "name": "Research & Development"}))
        .await
        .expect(200);
    assert_eq!(renamed.json["name"], "Research & Development");
    admin.post("/api/v1/departments", &json!({"id": "Bad Id", "name": "x"})).await.expect_error(
        422,
        "invalid",
        Some("department"),
    );
    let listed = reader.get("/api/v1/departments").await.expect(200);
    assert!(
        listed.json["departments"].as_array().expect("list").iter().any(|d| d["id"] == "research")
    );

    let before = head(app).await;
    let owner = id_of(app, "eve").await;
    let account =
        json!({"platform": "bluesky", "handle": "eve.example", "name": "Eve", "owner": owner});
    let created = admin.post("/api/v1/accounts", &account).await.expect(201);
    assert_one_audit_entry(app, before, "account.create").await;
    assert_eq!(created.json["owner"], owner);
    admin.post("/api/v1/accounts", &account).await.expect_error(422, "invalid", Some("handle"));
    admin
        .post("/api/v1/accounts", &json!({"platform": "Bluesky", "handle": "h", "name": "n"}))
        .await
        .expect_error(422, "invalid", Some("platform"));
    let listed = reader.get("/api/v1/accounts").await.expect(200);
    assert!(
        listed.json["accounts"]
            .as_array()
            .expect("list")
            .iter()
            .any(|a| a["handle"] == "eve.example")
    );

    let before = head(app).await;
    let set = admin
        .call(Method::PUT, "/api/v1/settings/review.sla_hours", &json!({"value": "24"}))
        .await
        .expect(200);
    assert_eq!(set.json, json!({"key": "review.sla_hours", "value": "24"}));
    let details = assert_one_audit_entry(app, before, "setting.set").await;
    assert_eq!(details["value"], "24");
    let settings = reader.get("/api/v1/settings").await.expect(200);
    assert!(
        settings.json["settings"]
            .as_array()
            .expect("list")
            .iter()
            .any(|s| s["key"] == "review.sla_hours")
    );
    admin.call(Method::PUT, "/api/v1/settings/Bad-Key", &json!({"value": "1"})).await.expect_error(
        422,
        "invalid",
        Some("key"),
    );
    admin.call(Method::PUT, "/api/v1/settings/a.b", &json!({"value": 1})).await.expect_error(
        400,
        "bad_request",
        Some("value"),
    );
    reader.call(Method::PUT, "/api/v1/settings/a.b", &json!({"value": "1"})).await.expect_error(
        403,
        "forbidden",
        None,
    );
}

async fn tokens_are_shown_once_and_revoked(app: &TestApp) {
    let admin = Api::session(app, "ada").await;
    let eve = id_of(app, "eve").await;
    let before = head(app).await;
    let created = admin
        .post(
            "/api/v1/tokens",
            &json!({"name": "eve's editor plugin", "person": eve, "scopes": ["check", "read", "check"], "expires_in_days": 30}),
        )
        .await
        .expect(201);
    let details = assert_one_audit_entry(app, before, "token.create").await;
    let text = created.json["token"].as_str().expect("token").to_owned();
    let id = created.json["id"].as_str().expect("id").to_owned();
    assert!(text.starts_with(&format!("lgt_{id}_")), "{text}");
    let secret = text.rsplit('_').next().expect("secret");
    assert_eq!(secret.len(), 64);
    assert!(!details.to_string().contains(secret), "the audit entry keeps no secret");
    assert_eq!(created.json["scopes"], json!(["check", "read"]));
    assert_eq!(created.json["person"], eve);
    assert!(created.json["expires_at"].is_string());

    // Listed without its secret.
    let listed = admin.get(&format!("/api/v1/tokens?person={eve}")).await.expect(200);
    assert!(!listed.text.contains(secret));
    let tokens = listed.json["tokens"].as_array().expect("tokens");
    assert!(tokens.iter().all(|t| t["person"] == eve && t.get("token").is_none()));
    assert!(tokens.iter().any(|t| t["id"] == id.as_str()));
    admin.get("/api/v1/tokens?person=eve").await.expect_error(400, "bad_request", Some("person"));

    // It works, within its person's audience.
    let theirs = Api::bearer(app, &text);
    theirs.post("/api/v1/check", &json!({"text": "hello"})).await.expect(200);
    theirs.get("/api/v1/items").await.expect(200);

    // Scopes beyond the person's role, unknown scopes, none at all.
    let scopes = |scopes: Value| json!({"name": "t", "person": eve, "scopes": scopes});
    admin.post("/api/v1/tokens", &scopes(json!(["ingest"]))).await.expect_error(
        422,
        "invalid",
        Some("scopes[0]"),
    );
    admin.post("/api/v1/tokens", &scopes(json!(["check", "root"]))).await.expect_error(
        400,
        "bad_request",
        Some("scopes[1]"),
    );
    admin.post("/api/v1/tokens", &scopes(json!([]))).await.expect_error(
        422,
        "invalid",
        Some("scopes"),
    );
    admin
        .post("/api/v1/tokens", &json!({"name": "t", "person": 999999, "scopes": ["check"]}))
        .await
        .expect_error(422, "invalid", Some("person"));
    admin
        .post("/api/v1/tokens", &json!({"name": "t", "scopes": ["check"], "expires_in_days": 0}))
        .await
        .expect_error(400, "bad_request", Some("expires_in_days"));
    // A token never makes a stronger token.
    let limited = Api::bearer(app, &token_for(app, "ada", &["admin"]).await);
    limited.post("/api/v1/tokens", &json!({"name": "t", "scopes": ["ingest"]})).await.expect_error(
        403,
        "forbidden",
        Some("scopes[0]"),
    );
    limited.post("/api/v1/tokens", &json!({"name": "t", "scopes": ["admin"]})).await.expect(201);

    // Revoked: it stops at once.
    let before = head(app).await;
    let revoked = admin.send(admin.request(Method::DELETE, &format!("/api/v1/tokens/{id}"))).await;
    let revoked = revoked.expect(200);
    assert!(revoked.json["revoked_at"].is_string());
    assert_one_audit_entry(app, before, "token.revoke").await;
    theirs.post("/api/v1/check", &json!({"text": "hello"})).await.expect_error(
        401,
        "unauthenticated",
        None,
    );
    admin.send(admin.request(Method::DELETE, &format!("/api/v1/tokens/{id}"))).await.expect_error(
        422,
        "invalid",
        Some("id"),
    );
    admin.send(admin.request(Method::DELETE, "/api/v1/tokens/doesnotexist")).await.expect_error(
        404,
        "not_found",
        None,
    );
}

async fn bodies_are_checked(app: &TestApp) {
    let api = Api::bearer(app, &token_for(app, "ada", &["check", "ingest", "admin"]).await);
    let post = |path: &'static str, content_type: &'static str, body: &[u8]| {
        api.raw(Method::POST, path, content_type, body.to_vec())
    };
    post("/api/v1/check", "text/plain", b"{\"text\": \"hi\"}").await.expect_error(
        415,
        "unsupported_media_type",
        None,
    );
    api.send(api.request(Method::POST, "/api/v1/check").body("{\"text\": \"hi\"}"))
        .await
        .expect_error(415, "unsupported_media_type", None);
    post("/api/v1/items", "application/x-www-form-urlencoded", b"platform=x").await.expect_error(
        415,
        "unsupported_media_type",
        None,
    );
    post("/api/v1/check", "application/json; charset=utf-8", b"{\"text\": \"hi\"}")
        .await
        .expect(200);

    let malformed = post("/api/v1/check", "application/json", b"{\n  \"text\": \"hi\",\n}")
        .await
        .expect_error(400, "invalid_json", None);
    let message = malformed.json["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("line 3, column 1"), "{message}");
    post("/api/v1/items", "application/json", b"{\"platform\": ").await.expect_error(
        400,
        "invalid_json",
        None,
    );
    post("/api/v1/people", "application/json", b"").await.expect_error(400, "invalid_json", None);

    api.post("/api/v1/check", &json!({"text": "hi", "txet": "typo"})).await.expect_error(
        400,
        "bad_request",
        Some("txet"),
    );
    api.post("/api/v1/departments", &json!({"id": "x", "name": "X", "head": "ada"}))
        .await
        .expect_error(400, "bad_request", Some("head"));

    // Over the default body limit (the check route's).
    let big = format!("{{\"text\": \"{}\"}}", "a".repeat(lifeguard_server::config::MAX_BODY));
    post("/api/v1/check", "application/json", big.as_bytes()).await.expect_error(
        413,
        "payload_too_large",
        None,
    );
    post("/api/v1/people", "application/json", big.as_bytes()).await.expect_error(
        413,
        "payload_too_large",
        None,
    );

    // Unknown API routes answer JSON too.
    api.get("/api/v1/nothing").await.expect_error(404, "not_found", None);
}

async fn cookie_sessions_need_the_csrf_token(app: &TestApp) {
    let (client, csrf) = common::sign_in(app, "eve").await;
    let body = json!({"text": "hello"});
    let without = client.post(app.url("/api/v1/check")).json(&body).send().await.expect("send");
    assert_eq!(without.status(), 403);
    let error: Value = without.json().await.expect("json");
    assert_eq!(error["error"]["code"], "csrf");
    let wrong = client
        .post(app.url("/api/v1/check"))
        .header("x-csrf-token", "not-the-token")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(wrong.status(), 403);
    let with = client
        .post(app.url("/api/v1/check"))
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(with.status(), 200);
    // Reading needs no token.
    let read = client.get(app.url("/api/v1/policy")).send().await.expect("send");
    assert_eq!(read.status(), 200);
    // A cross-site request is refused even with the token.
    let cross = client
        .post(app.url("/api/v1/check"))
        .header("x-csrf-token", &csrf)
        .header("origin", "http://evil.example")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(cross.status(), 403);
}

async fn policy_is_served(app: &TestApp) {
    let api = Api::bearer(app, &token_for(app, "eve", &["read"]).await);
    let policy = api.get("/api/v1/policy").await.expect(200);
    let stamp = app.state.policy.engine.stamp();
    assert_eq!(policy.json["id"], stamp.id.as_str());
    assert_eq!(policy.json["version"], stamp.version.as_str());
    assert_eq!(policy.json["hash"], stamp.hash.as_str());
    assert!(policy.json["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(policy.json["ownership"]["accountable"].is_array());
    assert_eq!(policy.json["regions"], json!([]));
    let rules = policy.json["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), app.state.policy.policy.rules.len());
    let profanity = rules.iter().find(|r| r["id"] == "OFF-PROFANITY").expect("OFF-PROFANITY");
    assert_eq!(profanity["action"], "flag");
    assert_eq!(profanity["severity"], "high");
    assert!(profanity["sentence"].as_str().is_some_and(|s| s.contains("OFF-PROFANITY")));
    assert!(profanity["clause"].as_str().is_some_and(|c| !c.is_empty()));

    let rendered = api.get("/api/v1/policy/rendered").await.expect(200);
    assert_eq!(rendered.content_type, "text/markdown; charset=utf-8");
    assert_eq!(rendered.text, app.state.policy.explained_markdown);
}

async fn audit_trail_pages(app: &TestApp) {
    let compliance = Api::session(app, "cora").await;
    let first = compliance.get("/api/v1/audit?limit=3").await.expect(200);
    let entries = first.json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3);
    let seqs: Vec<u64> = entries.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first: {seqs:?}");
    let before = first.json["next_before"].as_u64().expect("next page");
    assert_eq!(before, seqs[2]);
    let second =
        compliance.get(&format!("/api/v1/audit?limit=3&before={before}")).await.expect(200);
    assert!(second.json["entries"][0]["seq"].as_u64().expect("seq") < before);
    let created = compliance.get("/api/v1/audit?action=person.create&target=eve").await.expect(200);
    let entries = created.json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{}", created.text);
    assert_eq!(entries[0]["action"], "person.create");
    assert!(entries[0]["recorded_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let logins = compliance.get("/api/v1/audit?action=login&actor=cora").await.expect(200);
    assert!(!logins.json["entries"].as_array().expect("entries").is_empty());
    for (query, field) in
        [("limit=0", "limit"), ("before=x", "before"), ("since=soon", "since"), ("who=me", "who")]
    {
        compliance.get(&format!("/api/v1/audit?{query}")).await.expect_error(
            400,
            "bad_request",
            Some(field),
        );
    }
    Api::session(app, "ada").await.get("/api/v1/audit").await.expect_error(403, "forbidden", None);
}

/// Every route the router declares answers as a route (never the fallback's "no API route",
/// never 405), and the OpenAPI document describes exactly those routes.
async fn every_route_is_served(app: &TestApp) {
    let api = Api::session(app, "ada").await;
    for (method, path) in declared_routes() {
        let concrete = path.replace("{seq}", "1").replace("{id}", "1").replace("{key}", "k");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let answer = api.send(api.request(method.clone(), &concrete)).await;
        assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(
            !answer.text.contains("no API route"),
            "{method} {path} is not routed: {}",
            answer.text
        );
    }
    let document = Api::anonymous(app).get("/api/v1/openapi.json").await.expect(200);
    assert_eq!(document.content_type, "application/json");
    assert_eq!(document.json["openapi"], "3.1.0");
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document (no database needed).

/// (method, path) of every `.route("PATH", METHOD(…))` in `src/api/mod.rs`.
fn declared_routes() -> BTreeSet<(String, String)> {
    let source = include_str!("../src/api/mod.rs");
    let mut routes = BTreeSet::new();
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix(".route(\"") else { continue };
        let (path, rest) = rest.split_once('"').expect("a closing quote");
        let method = rest.trim_start_matches([',', ' ']).split('(').next().expect("a method");
        routes.insert((method.to_owned(), path.to_owned()));
    }
    routes
}

fn document() -> Value {
    serde_json::to_value(lifeguard_server::api::document()).expect("the document serializes")
}

#[test]
fn the_document_describes_exactly_the_routes() {
    let declared = declared_routes();
    assert!(declared.len() >= 21, "found the routes: {declared:?}");
    let document = document();
    let mut described = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                described.insert((method.to_owned(), path.clone()));
            }
        }
    }
    let undocumented: Vec<_> = declared.difference(&described).collect();
    assert!(undocumented.is_empty(), "routes missing from the OpenAPI document: {undocumented:?}");
    let unrouted: Vec<_> = described.difference(&declared).collect();
    assert!(unrouted.is_empty(), "documented operations with no route: {unrouted:?}");
}

#[test]
fn the_document_has_security_and_errors() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "lg_session");
    assert!(document["components"]["schemas"]["ErrorBody"].is_object());
    let paths = document["paths"].as_object().expect("paths");
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.contains_key("500"), "{method} {path}");
            let public = path == "/api/v1/openapi.json";
            assert_eq!(responses.contains_key("401"), !public, "{method} {path}");
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415"] {
                    assert!(responses.contains_key(status), "{method} {path} {status}");
                }
            }
            assert!(operation["summary"].is_string(), "{method} {path} has a summary");
            let id = operation["operationId"].as_str().expect("operationId");
            assert!(operation_ids.insert(id.to_owned()), "operationId {id} is used twice");
        }
    }
    assert_eq!(paths["/api/v1/openapi.json"]["get"]["security"], json!([{}]));
}

#[test]
fn the_document_is_as_recorded() {
    insta::assert_json_snapshot!("openapi", document());
}
