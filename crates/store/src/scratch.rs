//! Scratch PostgreSQL databases for tests outside this crate, which must not name sqlx.

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
