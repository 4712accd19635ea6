//! Every policy we ship or document compiles cleanly and passes its own examples.
// Tests read fixtures and docs from disk, and unwrap freely in their helpers; only the
// library itself must stay free of I/O and panics.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use lifeguard_core::default_policy::{POLICY, TERM_FILES};
use lifeguard_core::examples;
use lifeguard_core::policy::{Files, Loaded, MemoryFiles, load};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Lints and runs the examples, returning "ok N examples" or every problem.
fn verify(file: &str, source: &str, files: &dyn Files) -> String {
    let Loaded { policy, engine, diagnostics } = load(file, source, files);
    if !diagnostics.is_empty() {
        return diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
    }
    let engine = engine.expect("no diagnostics means it compiled");
    let outcomes = examples::run(&policy, &engine);
    let report = examples::report(file, &outcomes);
    if outcomes.iter().all(examples::Outcome::passed) {
        format!("ok {} examples", outcomes.len())
    } else {
        report
    }
}

#[test]
fn the_built_in_policy_is_clean_and_passes_its_examples() {
    let files = MemoryFiles::new(TERM_FILES.iter().copied());
    let result = verify("default-policy/policy.md", POLICY, &files);
    assert!(result.starts_with("ok "), "{result}");
    let count: usize = result.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(count >= 80, "the built-in policy has {count} examples; it needs at least 80");
}

#[test]
fn the_built_in_policy_uses_the_categories_other_tools_rely_on() {
    let parsed = lifeguard_core::policy::parse("policy.md", POLICY);
    for category in [
        "offensive",
        "personal_data",
        "secrets",
        "confidential",
        "recommendation",
        "disclosure",
        "links",
        "approval",
    ] {
        assert!(
            parsed.policy.rules.iter().any(|r| r.category == category),
            "no rule of category {category}"
        );
    }
}

#[test]
fn every_fixture_policy_is_clean_and_passes_its_examples() {
    let folder = root().join("fixtures/policies");
    let mut checked = 0;
    for entry in fs::read_dir(&folder).unwrap() {
        let dir = entry.unwrap().path();
        let source = fs::read_to_string(dir.join("policy.md")).unwrap();
        let files = folder_files(&dir);
        let result = verify(&dir.display().to_string(), &source, &files);
        assert!(result.starts_with("ok "), "{result}");
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn the_complete_example_in_the_format_docs_works() {
    let doc = fs::read_to_string(root().join("docs/policy-format.md")).unwrap();
    let start =
        doc.find("````markdown complete-policy\n").expect("the docs hold a complete policy");
    let body = &doc[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let body = &body[..body.find("\n````").expect("the block is closed") + 1];
    let result = verify("docs/policy-format.md", body, &MemoryFiles::default());
    assert_eq!(result, "ok 20 examples");
}

fn folder_files(dir: &Path) -> MemoryFiles {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    MemoryFiles::new(files.iter().map(|(p, c)| (p.as_str(), c.as_str())))
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(base, &path, out);
        } else {
            let relative = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            out.push((relative, fs::read_to_string(&path).unwrap()));
        }
    }
}
