//! The server's settings, with the limits it enforces. Every limit is explicit here and tested.

use std::net::SocketAddr;
use std::time::Duration;

use jiff::SignedDuration;
use lifeguard_store::Lockout;

/// Largest request body, except on the batch-ingest route.
pub const MAX_BODY: usize = 256 * 1024;
/// Largest batch-ingest body.
pub const MAX_BATCH_BODY: usize = 16 * 1024 * 1024;
/// Most items in one batch-ingest request.
pub const MAX_INGEST_BATCH: usize = 5_000;
/// Longest draft the check endpoint takes, in bytes.
pub const MAX_DRAFT: usize = 64 * 1024;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// How long a sign-in lasts.
    pub session_ttl: SignedDuration,
    /// Mark cookies `Secure` (set when served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Failed sign-ins in a row that lock a login, and for how long.
    pub lockout: Lockout,
    /// Sign-in attempts one client address may make per minute.
    pub login_attempts_per_minute: u32,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8480)),
            request_timeout: Duration::from_secs(30),
            session_ttl: SignedDuration::from_hours(8),
            secure_cookies: false,
            lockout: Lockout { max_failures: 5, lock_for: SignedDuration::from_mins(15) },
            login_attempts_per_minute: 20,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}
