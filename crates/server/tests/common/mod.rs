//! One server per test, on SQLite (always) or PostgreSQL (when `LIFEGUARD_TEST_DATABASE_URL`
//! names a server where the role may create databases), seeded with the demo organization and
//! listening on 127.0.0.1 with a port of its own.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;

use jiff::Timestamp;
use lifeguard_server::{AppState, Config, ServedPolicy, demo};
use lifeguard_store::Location;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The databases a test can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub address: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    data_dir: Option<tempfile::TempDir>,
    database: Option<ScratchDatabase>,
}

/// A test's own PostgreSQL database, dropped with this value, so that test runs leave none
/// behind.
pub struct ScratchDatabase {
    admin: String,
    url: String,
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (admin, url) = (self.admin.clone(), self.url.clone());
        // Drop cannot wait on the test's runtime, so a runtime of its own does the work.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())?
                .block_on(lifeguard_store::drop_scratch_database(&admin, &url))
                .map_err(|err| err.to_string())
        })
        .join();
        if let Ok(Err(err)) = dropped {
            eprintln!("warning: the test database {} was not dropped: {err}", self.url);
        }
    }
}

/// What a test may still need once its server has stopped: the SQLite data directory or the
/// PostgreSQL database, each removed when this is dropped.
pub struct Leftovers {
    pub data_dir: Option<tempfile::TempDir>,
    pub database: Option<ScratchDatabase>,
}

/// Starts a server with the default configuration; `None` when the database is not available
/// (PostgreSQL without `LIFEGUARD_TEST_DATABASE_URL`), after saying so on stderr.
pub async fn spawn(db: Db) -> Option<TestApp> {
    spawn_with(db, Config::default()).await
}

/// Starts a server with a configuration (its `listen` is ignored: port 0 is used).
pub async fn spawn_with(db: Db, config: Config) -> Option<TestApp> {
    let (location, dir, database) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            (Location::DataDir(dir.path().to_owned()), Some(dir), None)
        }
        Db::Postgres => {
            let Ok(admin) = std::env::var("LIFEGUARD_TEST_DATABASE_URL") else {
                eprintln!(
                    "skipped: LIFEGUARD_TEST_DATABASE_URL is not set, so this PostgreSQL server test did not run"
                );
                return None;
            };
            let url = lifeguard_store::create_scratch_database(&admin, "lifeguard_server_test")
                .await
                .expect("scratch database");
            (Location::Url(url.clone()), None, Some(ScratchDatabase { admin, url }))
        }
    };
    let store: Arc<dyn lifeguard_store::Store> =
        Arc::from(lifeguard_store::open(&location).await.expect("open the archive"));
    let policy = ServedPolicy::builtin();
    demo::seed(store.as_ref(), &policy, Timestamp::now()).await.expect("seed the demo");
    let listener = lifeguard_server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    let state = AppState::new(store, policy, Config { listen: address, ..config });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(lifeguard_server::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Some(TestApp {
        base: format!("http://{address}"),
        address,
        state,
        stop: Some(stop),
        task: Some(task),
        data_dir: dir,
        database,
    })
}

impl TestApp {
    /// The URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Asks the server to shut down gracefully and waits until it has. Returns the data
    /// directory or database, removed when dropped, for tests that read the archive afterwards.
    pub async fn shutdown(mut self) -> Leftovers {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server ran");
        }
        Leftovers { data_dir: self.data_dir.take(), database: self.database.take() }
    }
}

/// A client that keeps cookies and does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The value of `name="csrf"` (a hidden input) or of the `csrf-token` meta tag in a page.
pub fn csrf_in(page: &str) -> Option<String> {
    for marker in ["name=\"csrf\" value=\"", "name=\"csrf-token\" content=\""] {
        if let Some(start) = page.find(marker) {
            let rest = &page[start + marker.len()..];
            return rest.split('"').next().map(str::to_owned);
        }
    }
    None
}

/// Signs in through the login form; returns a client holding the session and the session's
/// CSRF token (for forms and the `X-CSRF-Token` header).
pub async fn sign_in(app: &TestApp, login: &str) -> (reqwest::Client, String) {
    let client = client();
    let page = client.get(app.url("/login")).send().await.expect("GET /login");
    assert_eq!(page.status(), 200, "GET /login");
    let csrf = csrf_in(&page.text().await.expect("login page")).expect("csrf on the login page");
    let answer = client
        .post(app.url("/login"))
        .form(&[("login", login), ("password", demo::DEMO_PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(answer.status(), 303, "sign-in as {login} redirects");
    let home = client.get(app.url("/")).send().await.expect("GET /");
    assert_eq!(home.status(), 200, "dashboard after sign-in as {login}");
    let csrf = csrf_in(&home.text().await.expect("dashboard")).expect("csrf meta on the dashboard");
    (client, csrf)
}

/// Makes an API token for a demo person straight in the store; returns its text.
pub async fn token(
    app: &TestApp,
    login: &str,
    scopes: &[lifeguard_core::access::TokenScope],
) -> String {
    use lifeguard_server::auth;
    let person = app
        .state
        .store
        .person_by_login(login)
        .await
        .expect("person lookup")
        .unwrap_or_else(|| panic!("no demo person {login}"));
    let minted =
        auth::mint_token(format!("test token for {login}"), person.id, scopes.to_vec(), None);
    let audit = lifeguard_core::archive::AuditRecord::new("system", None, "token.create")
        .on(&minted.token.id);
    app.state
        .store
        .create_token(&minted.token, &audit, Timestamp::now())
        .await
        .expect("create token");
    minted.text
}

/// How many items the archive holds.
pub async fn item_count(app: &TestApp) -> u64 {
    app.state.store.stats().await.expect("stats").items
}
