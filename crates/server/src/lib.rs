//! Lifeguard's HTTP server: the JSON API under `/api/v1`, sign-in, roles and API tokens, the
//! audit trail, and the server-rendered web interface.
//!
//! The server is a library so tests can start it on port 0. It never names sqlx or writes SQL:
//! everything it keeps goes through `lifeguard_store::Store`, and every state-changing action
//! is written with its audit entry in the store's transaction.

pub mod access;
pub mod api;
pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod markdown;
pub mod security;
pub mod state;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;

pub use config::Config;
pub use state::{AppState, ServedPolicy};

/// The whole application: API, pages, health, with every layer.
pub fn app(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    Router::new()
        .merge(api::router())
        .merge(web::router())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(config::MAX_BODY))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(middleware::from_fn(security::headers))
        .with_state(state)
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the archive answers and shutdown has not begun.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    }
    match state.store.head().await {
        Ok(_) => (StatusCode::OK, "ready\n"),
        Err(err) => {
            tracing::error!("readiness: archive unavailable: {err}");
            (StatusCode::SERVICE_UNAVAILABLE, "archive unavailable\n")
        }
    }
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        error::ApiError::not_found(format!("no API route {}", uri.path())).into_response()
    } else {
        web::not_found_page().into_response()
    }
}

/// Binds the listening socket.
pub async fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await
}

/// Serves until `shutdown` resolves, then stops accepting connections and lets requests in
/// flight finish (each is bounded by the request timeout): what was acknowledged was
/// committed before its answer was sent.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let draining = state.clone();
    let sweeper = tokio::spawn(sweep_sessions(state.clone()));
    let app = app(state);
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            draining.start_draining();
        })
        .await;
    sweeper.abort();
    served
}

/// How often ended sessions are deleted. They are refused as soon as they end either way; this
/// only keeps the table from growing.
const SESSION_SWEEP: std::time::Duration = std::time::Duration::from_secs(600);

async fn sweep_sessions(state: AppState) {
    let mut every = tokio::time::interval(SESSION_SWEEP);
    loop {
        every.tick().await;
        match state.store.expire_sessions(jiff::Timestamp::now()).await {
            Ok(0) => {}
            Ok(count) => tracing::info!("deleted {count} ended sessions"),
            Err(err) => tracing::warn!("could not delete ended sessions: {err}"),
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// A store handle for the state.
pub fn shared(store: Box<dyn lifeguard_store::Store>) -> Arc<dyn lifeguard_store::Store> {
    Arc::from(store)
}
