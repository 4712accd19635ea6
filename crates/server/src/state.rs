//! What every handler shares: the archive, the compiled policy, the settings, and the small
//! in-memory caches that keep the hot paths off the database.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use lifeguard_core::policy::Policy;
use lifeguard_core::{Engine, policy};
use lifeguard_store::{Person, Store, Token};

use crate::config::Config;

/// The policy the server enforces: parsed, compiled, and rendered for people once.
pub struct ServedPolicy {
    /// The parsed document.
    pub policy: Policy,
    /// The compiled engine.
    pub engine: Arc<Engine>,
    /// The policy page's body: the document for people as HTML, every rule block as
    /// plain-language sentences.
    pub page_html: String,
    /// The same, as Markdown.
    pub explained_markdown: String,
}

impl ServedPolicy {
    /// The built-in default policy.
    pub fn builtin() -> ServedPolicy {
        use lifeguard_core::default_policy::{POLICY, TERM_FILES};
        let files = policy::MemoryFiles::new(TERM_FILES.iter().copied());
        let loaded = policy::load("(built-in)/policy.md", POLICY, &files);
        let engine = loaded.engine.expect("the built-in policy compiles (tested in core)");
        ServedPolicy::new(loaded.policy, engine)
    }

    /// Wraps a parsed and compiled policy.
    pub fn new(policy: Policy, engine: Engine) -> ServedPolicy {
        let explained_markdown = policy::explain(&policy);
        let page_html = crate::web::page_html(&policy, &explained_markdown);
        ServedPolicy { policy, engine: Arc::new(engine), page_html, explained_markdown }
    }
}

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What [`AppState`] holds.
pub struct Inner {
    /// The archive and directory.
    pub store: Arc<dyn Store>,
    /// The policy in force.
    pub policy: Arc<ServedPolicy>,
    /// Settings and limits.
    pub config: Config,
    /// Authenticated API tokens, so the check endpoint needs no database read per request.
    pub tokens: TokenCache,
    /// Sign-in attempts per client address.
    pub login_limiter: RateLimiter,
    /// Set when shutdown starts: readiness then answers 503.
    pub draining: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// State over an opened store.
    pub fn new(store: Arc<dyn Store>, policy: ServedPolicy, config: Config) -> AppState {
        let per_minute = config.login_attempts_per_minute;
        AppState(Arc::new(Inner {
            store,
            policy: Arc::new(policy),
            config,
            tokens: TokenCache::default(),
            login_limiter: RateLimiter::new(per_minute, Duration::from_secs(60)),
            draining: AtomicBool::new(false),
        }))
    }

    /// Marks the server as shutting down.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has started.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// How long a token stays authenticated without a fresh database read. Revoking a token, or
/// changing or deactivating its person, clears the cache at once on this server.
const TOKEN_TTL: Duration = Duration::from_secs(30);

/// Tokens recently authenticated, by id.
#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, CachedToken>>,
}

/// One cached token.
#[derive(Clone)]
pub struct CachedToken {
    /// The token.
    pub token: Token,
    /// SHA-256 of its secret.
    pub secret_sha256: [u8; 32],
    /// Its person.
    pub person: Person,
    loaded: Instant,
}

impl TokenCache {
    /// A fresh cached token.
    pub fn get(&self, id: &str) -> Option<CachedToken> {
        let entries = self.entries.read().unwrap_or_else(|poison| poison.into_inner());
        entries.get(id).filter(|cached| cached.loaded.elapsed() < TOKEN_TTL).cloned()
    }

    /// Remembers a token just read from the database.
    pub fn put(&self, token: Token, secret_sha256: [u8; 32], person: Person) {
        let mut entries = self.entries.write().unwrap_or_else(|poison| poison.into_inner());
        if entries.len() > 10_000 {
            entries.clear();
        }
        entries.insert(
            token.id.clone(),
            CachedToken { token, secret_sha256, person, loaded: Instant::now() },
        );
    }

    /// Forgets every token (after a revocation or a change to people).
    pub fn clear(&self) {
        self.entries.write().unwrap_or_else(|poison| poison.into_inner()).clear();
    }
}

/// A fixed-window counter per client address.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// At most `limit` attempts per `window` per address.
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter { limit, window, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt; `Err(wait)` when the address is over its limit.
    pub fn attempt(&self, address: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|poison| poison.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let (start, count) = windows.entry(address).or_insert((now, 0));
        if now.duration_since(*start) >= self.window {
            *start = now;
            *count = 0;
        }
        if *count >= self.limit {
            return Err(self.window.saturating_sub(now.duration_since(*start)));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_counts_per_address() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let a = IpAddr::from([127, 0, 0, 1]);
        let b = IpAddr::from([127, 0, 0, 2]);
        assert!(limiter.attempt(a).is_ok());
        assert!(limiter.attempt(a).is_ok());
        let wait = limiter.attempt(a).expect_err("third attempt refused");
        assert!(wait <= Duration::from_secs(60));
        assert!(limiter.attempt(b).is_ok());
    }
}
