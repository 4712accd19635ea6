//! `lifeguard policy`: init, show, lint, test and explain.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context as _, bail};
use lifeguard_core::default_policy;
use lifeguard_core::{examples, policy};

use crate::cli::PolicyCommand;
use crate::exit::Exit;
use crate::policy_source::PolicySource;

pub(crate) fn run(command: &PolicyCommand) -> anyhow::Result<Exit> {
    match command {
        PolicyCommand::Lint { path } => lint(path),
        PolicyCommand::Test { path } => test(path),
        PolicyCommand::Explain { path } => explain(path.as_deref()),
        PolicyCommand::Init { dir, force } => init(dir, *force),
        PolicyCommand::Show => {
            io::stdout().lock().write_all(default_policy::POLICY.as_bytes())?;
            Ok(Exit::Ok)
        }
    }
}

fn lint(path: &Path) -> anyhow::Result<Exit> {
    let source = PolicySource::open(path)?;
    let loaded = source.load();
    let mut stdout = io::stdout().lock();
    for diagnostic in &loaded.diagnostics {
        writeln!(stdout, "{diagnostic}")?;
    }
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = loaded.diagnostics.len() - errors;
    let p = &loaded.policy;
    if errors > 0 {
        writeln!(stdout, "{errors} error(s), {warnings} warning(s)")?;
        return Ok(Exit::Input);
    }
    writeln!(
        stdout,
        "ok: {} clauses, {} rules, {} examples; {warnings} warning(s)",
        p.clauses.len(),
        p.rules.len(),
        p.examples.len()
    )?;
    Ok(Exit::Ok)
}

fn test(path: &Path) -> anyhow::Result<Exit> {
    let source = PolicySource::open(path)?;
    let loaded = source.load();
    let mut stdout = io::stdout().lock();
    let Some(engine) = loaded.engine else {
        for diagnostic in loaded.diagnostics.iter().filter(|d| d.is_error()) {
            writeln!(stdout, "{diagnostic}")?;
        }
        bail!("the policy has errors, so its examples cannot run");
    };
    let outcomes = examples::run(&loaded.policy, &engine);
    stdout.write_all(examples::report(&source.file, &outcomes).as_bytes())?;
    Ok(if outcomes.iter().all(examples::Outcome::passed) { Exit::Ok } else { Exit::NeedsAction })
}

fn explain(path: Option<&Path>) -> anyhow::Result<Exit> {
    let source = PolicySource::open_or_builtin(path)?;
    let parsed = policy::parse(&source.file, &source.text);
    let errors: Vec<_> = parsed.diagnostics.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        let mut stderr = io::stderr().lock();
        for diagnostic in errors {
            writeln!(stderr, "{diagnostic}")?;
        }
        bail!("the policy has errors; fix them before explaining it");
    }
    io::stdout().lock().write_all(policy::explain(&parsed.policy).as_bytes())?;
    Ok(Exit::Ok)
}

fn init(dir: &Path, force: bool) -> anyhow::Result<Exit> {
    let mut files = vec![("policy.md", default_policy::POLICY)];
    files.extend(default_policy::TERM_FILES.iter().copied());
    if !force {
        let existing: Vec<String> = files
            .iter()
            .map(|(name, _)| dir.join(name))
            .filter(|path| path.exists())
            .map(|path| path.display().to_string())
            .collect();
        if !existing.is_empty() {
            bail!("{} already exist(s); pass --force to overwrite", existing.join(", "));
        }
    }
    for (name, contents) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    }
    say!("wrote the default policy to {}", dir.join("policy.md").display());
    Ok(Exit::Ok)
}
