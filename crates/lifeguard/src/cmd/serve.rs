//! `lifeguard serve`: the server over whichever archive `--data`/`--database` names, enforcing
//! one policy. The server itself is `lifeguard_server`; this is its start and its stop.

use std::io::{self, IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use lifeguard_core::archive::SigningKey;
use lifeguard_server::{AppState, Config, ServedPolicy};
use lifeguard_store::Store;
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::cmd::archive;
use crate::exit::Exit;
use crate::policy_source::PolicySource;

pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<Exit> {
    init_logging();
    // A broken policy stops the start here, before anything is bound or opened.
    let policy = load_policy(args.policy.as_deref())?;
    let runtime = runtime()?;
    let exit = runtime.block_on(async {
        let listener = bind(args.listen).await?;
        let store = archive::open(&args.store).await?;
        let key = archive::key(&args.store, store.as_ref()).await?;
        if store.people().await.context("cannot read the directory of people")?.is_empty() {
            tracing::warn!(
                "the directory has no people yet, so no one can sign in; `lifeguard demo` starts \
                 with a demo organization"
            );
        }
        let config = Config {
            secure_cookies: args.secure_cookies,
            request_timeout: Duration::from_secs(args.request_timeout),
            ..Config::default()
        };
        announce(&listener)?;
        serve(listener, store, key, policy, config).await
    });
    // Blocking tasks (password hashing) left over from cut-off requests must not hold the
    // exit up.
    runtime.shutdown_timeout(Duration::from_secs(5));
    exit
}

/// Logs to stderr at the level `RUST_LOG` asks for (default `info`).
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Failing means a subscriber is already set, which is as good.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .try_init();
}

/// The server's runtime: one worker per core.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Parses and compiles the policy; its errors are printed and refuse the start.
fn load_policy(path: Option<&Path>) -> anyhow::Result<ServedPolicy> {
    let source = PolicySource::open_or_builtin(path)?;
    let loaded = source.load();
    for warning in loaded.diagnostics.iter().filter(|d| !d.is_error()) {
        tracing::warn!("{warning}");
    }
    match loaded.engine {
        Some(engine) => Ok(ServedPolicy::new(loaded.policy, engine)),
        None => {
            let mut stderr = io::stderr().lock();
            for diagnostic in loaded.diagnostics.iter().filter(|d| d.is_error()) {
                let _ = writeln!(stderr, "{diagnostic}");
            }
            bail!("the policy has errors, so the server does not start")
        }
    }
}

/// Binds the listening socket, naming the address when it cannot.
pub(crate) async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    lifeguard_server::bind(address).await.with_context(|| format!("cannot listen on {address}"))
}

/// Prints where the server answers: the bound address, so port 0 shows the port chosen.
pub(crate) fn announce(listener: &TcpListener) -> anyhow::Result<SocketAddr> {
    let address = listener.local_addr().context("cannot read the listening address")?;
    let mut out = io::stdout().lock();
    writeln!(out, "Lifeguard listening on http://{address}")?;
    out.flush()?;
    Ok(address)
}

/// Serves until SIGTERM or Ctrl-C, then drains: no new connections, requests in flight finish
/// (for at most the configured grace period).
pub(crate) async fn serve(
    listener: TcpListener,
    store: Box<dyn Store>,
    key: SigningKey,
    policy: ServedPolicy,
    config: Config,
) -> anyhow::Result<Exit> {
    let address = listener.local_addr().context("cannot read the listening address")?;
    let grace = config.shutdown_grace;
    let store: Arc<dyn Store> = Arc::from(store);
    let key = Arc::new(key);
    let signing = tokio::spawn(sign_periodically(Arc::clone(&store), Arc::clone(&key)));
    let state = AppState::new(Arc::clone(&store), policy, Config { listen: address, ..config });
    let (signalled, stopping) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        lifeguard_server::shutdown_signal().await;
        tracing::info!("shutting down: no new connections, draining requests in flight");
        let _ = signalled.send(());
    };
    tracing::info!(%address, "serving");
    let mut server = tokio::spawn(lifeguard_server::serve(listener, state, shutdown));
    // `None` when requests were still in flight after the grace period.
    let finished = tokio::select! {
        finished = &mut server => Some(finished),
        _ = stopping => match tokio::time::timeout(grace, &mut server).await {
            Ok(finished) => Some(finished),
            Err(_) => {
                tracing::warn!(
                    "requests still in flight after {}s; stopping without them",
                    grace.as_secs()
                );
                server.abort();
                None
            }
        },
    };
    signing.abort();
    sign(store.as_ref(), &key).await;
    let Some(finished) = finished else { return Ok(Exit::Ok) };
    finished.context("the server stopped unexpectedly")?.context("the server failed")?;
    tracing::info!("stopped");
    Ok(Exit::Ok)
}

/// How often the server signs the chain's head, if it has moved: what the server records is
/// vouched for within this long, and at the latest when it stops.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);

async fn sign_periodically(store: Arc<dyn Store>, key: Arc<SigningKey>) {
    let mut ticks = tokio::time::interval(CHECKPOINT_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        sign(store.as_ref(), &key).await;
    }
}

/// Signs a checkpoint at the head unless one is there already; a failure is logged, and the
/// next attempt comes with the next interval.
async fn sign(store: &dyn Store, key: &SigningKey) {
    match archive::checkpoint(store, key).await {
        Ok(Some(checkpoint)) => tracing::info!(entry = checkpoint.seq, "signed a checkpoint"),
        Ok(None) => {}
        Err(err) => tracing::warn!("cannot sign a checkpoint: {err:#}"),
    }
}
