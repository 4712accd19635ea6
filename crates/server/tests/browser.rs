//! End-to-end tests of the web interface in headless Chromium, driven over WebDriver: a person
//! signs in, checks a draft, searches the archive, is refused what their role may not see, and
//! the pages hold up on a phone and against script smuggled in through content.
//!
//! One test per database runs every scenario in turn with one browser, and the two tests take
//! turns, so a two-core machine runs one Chromium at a time. Each run writes a screenshot of
//! every page it visits to `target/screenshots/{backend}/`. Without `/usr/bin/chromium` and
//! `/usr/bin/chromedriver` (Debian's `chromium` and `chromium-driver`) the tests say they
//! were skipped and pass; `.ci/run` installs both.

mod common;

#[path = "browser/harness.rs"]
mod harness;
#[path = "browser/scenarios.rs"]
mod scenarios;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Db;
use harness::Browser;
use scenarios::{Ctx, SCENARIOS};

/// The longest one scenario may take (each wait inside has its own, shorter, limit).
const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

/// One browser at a time, whichever database.
static ONE_BROWSER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn every_scenario(db: Db, backend: &'static str) {
    if !harness::installed() {
        eprintln!("skipped: chromium/chromedriver not installed");
        return;
    }
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let started = Instant::now();
    let Some(app) = common::spawn(db).await else { return };
    let browser = Browser::start(backend).await;
    eprintln!("browser {backend}: server and Chromium ready in {:.1?}", started.elapsed());
    let ctx = Arc::new(Ctx { app, browser });

    // Each scenario runs as a task of its own so a failing one is reported and the next still
    // runs; the browser and chromedriver end whatever happens (their drop ends the processes).
    let mut failed = Vec::new();
    for name in SCENARIOS {
        let began = Instant::now();
        let shared = Arc::clone(&ctx);
        let task = tokio::spawn(async move { scenarios::run(name, &shared).await });
        let abort = task.abort_handle();
        let outcome = match tokio::time::timeout(SCENARIO_LIMIT, task).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) if err.is_panic() => Err(panic_text(err.into_panic())),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => {
                abort.abort();
                Err(format!("took longer than {SCENARIO_LIMIT:?}"))
            }
        };
        match outcome {
            Ok(()) => eprintln!("browser {backend}: ok     {name} ({:.1?})", began.elapsed()),
            Err(why) => {
                eprintln!("browser {backend}: FAILED {name} ({:.1?}): {why}", began.elapsed());
                failed.push(format!("{name}: {why}"));
                ctx.browser.failure_screenshot(&name.replace([' ', '\''], "-")).await;
            }
        }
    }

    ctx.browser.close().await;
    eprintln!(
        "browser {backend}: {} of {} scenarios passed in {:.1?}; screenshots in {}",
        SCENARIOS.len() - failed.len(),
        SCENARIOS.len(),
        started.elapsed(),
        ctx.browser.shots.display()
    );
    // A timed-out task may still hold its reference for a moment after being aborted.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut ctx = ctx;
    let Ctx { app, browser } = loop {
        match Arc::try_unwrap(ctx) {
            Ok(inner) => break inner,
            Err(shared) if Instant::now() < deadline => {
                ctx = shared;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => panic!("a scenario still holds the browser"),
        }
    };
    drop(browser);
    app.shutdown().await;
    assert!(failed.is_empty(), "browser scenarios failed on {backend}:\n{}", failed.join("\n"));
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panicked".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sqlite() {
    every_scenario(Db::Sqlite, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_postgres() {
    every_scenario(Db::Postgres, "postgres").await;
}
