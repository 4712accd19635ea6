//! One archive per test, on SQLite (always) or PostgreSQL (when `LIFEGUARD_TEST_DATABASE_URL`
//! names a server where the role may create databases), plus raw SQL access for tampering.

use std::path::PathBuf;
use std::sync::OnceLock;

use jiff::Timestamp;
use lifeguard_core::archive::{Item, SigningKey};
use lifeguard_core::policy::{MemoryFiles, load};
use lifeguard_core::{Engine, default_policy};
use lifeguard_store::{Checked, Location, Store};
use sqlx::{Connection as _, Executor as _};

pub(crate) struct Backend {
    pub(crate) store: Box<dyn Store>,
    raw: Raw,
    _dir: Option<tempfile::TempDir>,
}

enum Raw {
    Sqlite(PathBuf),
    Postgres { admin: String, url: String },
}

pub(crate) async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = lifeguard_store::open(&Location::DataDir(dir.path().to_owned()))
        .await
        .expect("open sqlite");
    let path = dir.path().join(lifeguard_store::SQLITE_FILE);
    Backend { store, raw: Raw::Sqlite(path), _dir: Some(dir) }
}

/// `None` (and a note on stderr) when no PostgreSQL server is configured.
pub(crate) async fn postgres() -> Option<Backend> {
    let Ok(admin) = std::env::var("LIFEGUARD_TEST_DATABASE_URL") else {
        eprintln!(
            "skipped: LIFEGUARD_TEST_DATABASE_URL is not set, so this PostgreSQL contract test did not run"
        );
        return None;
    };
    let url = lifeguard_store::create_scratch_database(&admin, "lifeguard_test")
        .await
        .expect("create a database on the test server");
    let store = lifeguard_store::open(&Location::Url(url.clone())).await.expect("open postgres");
    Some(Backend { store, raw: Raw::Postgres { admin, url }, _dir: None })
}

impl Backend {
    pub(crate) fn name(&self) -> &'static str {
        self.store.backend()
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self.raw, Raw::Postgres { .. })
    }

    /// A new, empty archive on the same kind of database; the caller cleans it up.
    pub(crate) async fn fresh(&self) -> Backend {
        match &self.raw {
            Raw::Sqlite(_) => sqlite().await,
            Raw::Postgres { admin, .. } => {
                let url = lifeguard_store::create_scratch_database(admin, "lifeguard_test")
                    .await
                    .expect("create a database on the test server");
                let store = lifeguard_store::open(&Location::Url(url.clone()))
                    .await
                    .expect("open postgres");
                Backend { store, raw: Raw::Postgres { admin: admin.clone(), url }, _dir: None }
            }
        }
    }

    /// Runs SQL directly, as an administrator with the database open could.
    pub(crate) async fn exec(&self, sql: &str) -> Result<(), sqlx::Error> {
        match &self.raw {
            Raw::Sqlite(path) => {
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await?;
                conn.execute("PRAGMA foreign_keys = OFF").await?;
                conn.execute(sqlx::AssertSqlSafe(sql.to_owned())).await?;
                conn.close().await
            }
            Raw::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await?;
                conn.execute(sqlx::AssertSqlSafe(sql.to_owned())).await?;
                conn.close().await
            }
        }
    }

    /// Removes the database's append-only guards, as someone tampering would first do.
    pub(crate) async fn drop_guards(&self) {
        let sql = match &self.raw {
            Raw::Sqlite(path) => {
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("connect");
                let names: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                        .fetch_all(&mut conn)
                        .await
                        .expect("list triggers");
                conn.close().await.expect("close");
                names.iter().map(|name| format!("DROP TRIGGER {name};")).collect::<String>()
            }
            Raw::Postgres { .. } => [
                "entries",
                "items",
                "verdicts",
                "findings",
                "disposed",
                "actions",
                "holds",
                "hold_releases",
                "retention_rules",
            ]
            .iter()
            .map(|t| format!("ALTER TABLE {t} DISABLE TRIGGER USER;"))
            .collect(),
        };
        self.exec(&sql).await.expect("drop the guards");
    }

    pub(crate) async fn cleanup(self) {
        let Backend { store, raw, _dir } = self;
        drop(store);
        if let Raw::Postgres { admin, url } = raw {
            // Best effort: a database left behind does not fail the test it served.
            let _ = lifeguard_store::drop_scratch_database(&admin, &url).await;
        }
    }
}

pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let files = MemoryFiles::new(default_policy::TERM_FILES.iter().copied());
        load("policy.md", default_policy::POLICY, &files)
            .engine
            .expect("the default policy compiles")
    })
}

pub(crate) fn key() -> SigningKey {
    SigningKey::from_seed(&[7; 32])
}

pub(crate) fn time(text: &str) -> Timestamp {
    text.parse().expect("a test time")
}

/// An item captured at 2024-01-01 and made at `created`.
pub(crate) fn item(platform: &str, id: &str, text: &str, created: &str) -> Item {
    let mut item = Item::new(platform, id, text, time("2024-01-01T00:00:00Z"));
    item.created_at = Some(time(created));
    item.account = "@acme".into();
    item.author = "dana".into();
    item
}

/// Checks an item with the default policy, as ingestion does.
pub(crate) fn checked(item: Item) -> Checked {
    Checked::new(engine(), item)
}
