//! Health, readiness, time limits and graceful shutdown, over real sockets.

mod common;

use std::time::Duration;

use common::{Db, TestApp};
use lifeguard_core::access::TokenScope;
use lifeguard_server::Config;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

fn batch(prefix: &str, count: usize) -> String {
    let items: Vec<_> = (0..count)
        .map(|n| {
            json!({
                "platform": "x",
                "external_id": format!("{prefix}-{n}"),
                "account": "acme",
                "author": "eve",
                "text": format!("Shutdown test post number {n}"),
            })
        })
        .collect();
    json!({ "items": items }).to_string()
}

fn request_head(app: &TestApp, token: &str, length: usize) -> String {
    format!(
        "POST /api/v1/items HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
        app.address
    )
}

async fn health_and_readiness(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let client = common::client();
    for path in ["/healthz", "/readyz"] {
        let answer = client.get(app.url(path)).send().await.expect("GET");
        assert_eq!(answer.status(), 200, "{path}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn health_and_readiness_sqlite() {
    health_and_readiness(Db::Sqlite).await;
}

#[tokio::test]
async fn health_and_readiness_postgres() {
    health_and_readiness(Db::Postgres).await;
}

/// A request whose body is still arriving when SIGTERM's shutdown begins is finished, answered
/// and committed; afterwards the server accepts nothing.
async fn shutdown_finishes_requests_in_flight(db: Db) {
    let Some(app) = common::spawn(db).await else { return };
    let token = common::token(&app, "cora", &[TokenScope::Ingest]).await;
    let before = common::item_count(&app).await;
    let body = batch("in-flight", 300);
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut stream = TcpStream::connect(app.address).await.expect("connect");
    stream.write_all(request_head(&app, &token, body.len()).as_bytes()).await.expect("head");
    stream.write_all(first).await.expect("first half");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let state = app.state.clone();
    let address = app.address;
    let shutdown = tokio::spawn(app.shutdown());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(state.is_draining(), "shutdown has begun");

    stream.write_all(rest).await.expect("second half");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 20"), "in-flight request answered: {answer}");
    let _data = shutdown.await.expect("shutdown finished");

    let after = state.store.stats().await.expect("stats").items;
    assert_eq!(after, before + 300, "every acknowledged item is in the archive");
    assert!(TcpStream::connect(address).await.is_err(), "no connections after shutdown");
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_sqlite() {
    shutdown_finishes_requests_in_flight(Db::Sqlite).await;
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_postgres() {
    shutdown_finishes_requests_in_flight(Db::Postgres).await;
}

/// A client that stops sending its body gets 408 once the request time limit passes, and what
/// it sent is not archived.
#[tokio::test]
async fn stalled_requests_time_out() {
    let config = Config { request_timeout: Duration::from_millis(500), ..Config::default() };
    let Some(app) = common::spawn_with(Db::Sqlite, config).await else { return };
    let token = common::token(&app, "cora", &[TokenScope::Ingest]).await;
    let before = common::item_count(&app).await;
    let body = batch("stalled", 10);
    let mut stream = TcpStream::connect(app.address).await.expect("connect");
    stream.write_all(request_head(&app, &token, body.len()).as_bytes()).await.expect("head");
    stream.write_all(&body.as_bytes()[..body.len() / 2]).await.expect("half");
    let mut answer = String::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer));
    read.await.expect("answered within the limit").expect("read");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(common::item_count(&app).await, before);
    app.shutdown().await;
}
