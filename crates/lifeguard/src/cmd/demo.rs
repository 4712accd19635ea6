//! `lifeguard demo`: the server on a demo organization in a local data directory, seeded the
//! first time and kept as it is afterwards, with the demo's sign-ins printed before serving.

use std::io::{self, Write as _};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use jiff::Timestamp;
use lifeguard_server::demo::{self, DEMO_LOGINS, DEMO_PASSWORD, DemoReport};
use lifeguard_server::{Config, ServedPolicy};
use lifeguard_store::{Location, Store};

use crate::cli::DemoArgs;
use crate::cmd::archive::checkpoint;
use crate::cmd::serve;
use crate::exit::Exit;

pub(crate) fn run(args: &DemoArgs) -> anyhow::Result<Exit> {
    serve::init_logging();
    // The demo's items are written for the built-in policy: they show each of its rules.
    let policy = ServedPolicy::builtin();
    let runtime = serve::runtime()?;
    let exit = runtime.block_on(async {
        let listener = serve::bind(args.listen).await?;
        let shown = args.data.join(lifeguard_store::SQLITE_FILE).display().to_string();
        let store = lifeguard_store::open(&Location::DataDir(args.data.clone()))
            .await
            .with_context(|| format!("cannot open the archive at {shown}"))?;
        let report = seed(store.as_ref(), &policy, &args.data).await?;
        let key = lifeguard_store::load_or_create_key(&args.data)
            .context("cannot load the archive's signing key")?;
        print_summary(&args.data, &report)?;
        serve::announce(&listener)?;
        print_logins()?;
        serve::serve(listener, store, key, policy, Config::default()).await
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    exit
}

/// Seeds the demo unless the directory already has people; refuses an archive that holds
/// other records, so the demo's people (whose password is printed) never join a real one.
async fn seed(store: &dyn Store, policy: &ServedPolicy, data: &Path) -> anyhow::Result<DemoReport> {
    let has_people = !store.people().await.context("cannot read the directory")?.is_empty();
    if !has_people {
        let items = store.stats().await.context("cannot read the archive")?.items;
        if items > 0 {
            bail!(
                "{} already holds an archive ({items} items) without the demo organization; \
                 run the demo in another data directory (--data DIR)",
                data.display()
            );
        }
    }
    let report = demo::seed(store, policy, Timestamp::now())
        .await
        .context("cannot write the demo organization")?;
    if report.items > 0 {
        let key = lifeguard_store::load_or_create_key(data)
            .context("cannot load the archive's signing key")?;
        checkpoint(store, &key).await?;
    }
    tracing::info!(
        people = report.people,
        accounts = report.accounts,
        items = report.items,
        "demo organization ready"
    );
    Ok(report)
}

fn print_summary(data: &Path, report: &DemoReport) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    if report.people > 0 {
        writeln!(
            out,
            "Seeded the demo organization in {}: {} people, {} accounts, {} archived items.",
            data.display(),
            report.people,
            report.accounts,
            report.items
        )?;
    } else {
        writeln!(
            out,
            "The demo organization already exists in {}; nothing was seeded.",
            data.display()
        )?;
    }
    Ok(())
}

/// One sign-in per role, as a table.
fn print_logins() -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out)?;
    writeln!(out, "Sign in as any of:")?;
    writeln!(out)?;
    writeln!(out, "  {:<8} {:<12} password", "login", "role")?;
    for (login, role) in DEMO_LOGINS {
        writeln!(out, "  {:<8} {:<12} {DEMO_PASSWORD}", login, role.name())?;
    }
    writeln!(out)?;
    writeln!(out, "Stop with Ctrl-C.")?;
    out.flush()?;
    Ok(())
}
