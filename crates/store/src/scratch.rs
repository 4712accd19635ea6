//! Scratch PostgreSQL databases for tests (this crate's, and those outside it, which must not
//! name sqlx): made with a random name, and dropped again when the test is done with them.

use sqlx::{Connection as _, Executor as _};

use crate::error::{ErrorKind, StoreError};

/// Creates an empty database with a random name on the server `admin_url` points at (its role
/// needs CREATEDB) and returns a URL for it.
pub async fn create_scratch_database(admin_url: &str, prefix: &str) -> Result<String, StoreError> {
    let mut random = [0_u8; 8];
    getrandom::fill(&mut random)
        .map_err(|err| StoreError::new(ErrorKind::Io, format!("randomness: {err}")))?;
    let prefix: String =
        prefix.chars().filter(|c| c.is_ascii_lowercase() || *c == '_').take(32).collect();
    let name = format!("{prefix}_{}", lifeguard_core::archive::hex(&random));
    let db = |doing: &'static str| move |err| StoreError::database(doing, err);
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(db("connecting to the test server"))?;
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .map_err(db("creating a scratch database"))?;
    conn.close().await.map_err(db("closing"))?;
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(slash) if slash > base.find("://").map_or(0, |i| i + 2) => &base[..slash],
        _ => base,
    };
    Ok(match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    })
}

/// Drops a database made by [`create_scratch_database`], given the URL it returned, ending any
/// sessions still open on it (a test's own pools). Retries for a few seconds while another
/// role's session (autovacuum) holds it.
pub async fn drop_scratch_database(admin_url: &str, url: &str) -> Result<(), StoreError> {
    let path = url.split_once('?').map_or(url, |(path, _)| path);
    let name = path.rsplit('/').next().unwrap_or_default();
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(StoreError::invalid(format!("`{name}` is not a scratch database's name")));
    }
    let db = |doing: &'static str| move |err| StoreError::database(doing, err);
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(db("connecting to the test server"))?;
    let mut attempts = 0;
    let dropped = loop {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        match conn.execute(sqlx::AssertSqlSafe(sql)).await {
            Ok(_) => break Ok(()),
            Err(_) if attempts < 40 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            Err(err) => break Err(StoreError::database("dropping a scratch database", err)),
        }
    };
    conn.close().await.map_err(db("closing"))?;
    dropped
}

#[cfg(test)]
mod tests {
    use sqlx::Connection as _;

    use super::{create_scratch_database, drop_scratch_database};

    #[tokio::test]
    async fn a_scratch_database_is_gone_once_dropped_even_with_a_session_open() {
        let Ok(admin) = std::env::var("LIFEGUARD_TEST_DATABASE_URL") else {
            eprintln!("skipped: LIFEGUARD_TEST_DATABASE_URL not set");
            return;
        };
        let url = create_scratch_database(&admin, "lifeguard_test").await.expect("create");
        let open = sqlx::PgConnection::connect(&url).await.expect("the new database opens");
        drop_scratch_database(&admin, &url).await.expect("drop");
        assert!(sqlx::PgConnection::connect(&url).await.is_err(), "{url} still opens");
        drop(open);
        let refused = drop_scratch_database(&admin, "postgres://localhost/x;DROP").await;
        assert!(refused.is_err(), "only a plain name is dropped");
    }
}
