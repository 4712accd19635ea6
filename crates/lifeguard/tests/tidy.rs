//! House rules that the compiler cannot check, checked as an ordinary test.
// Test helpers unwrap freely: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy();
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("fuzz"), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !fs::read_to_string(f).unwrap().starts_with("//!"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a `//!` doc comment: {missing:#?}");
}

#[test]
fn the_core_depends_on_nothing_that_does_io() {
    let manifest: toml::Table =
        toml::from_str(&fs::read_to_string(root().join("crates/core/Cargo.toml")).unwrap())
            .unwrap();
    let deps = manifest["dependencies"].as_table().unwrap();
    for forbidden in [
        "tokio",
        "sqlx",
        "axum",
        "hyper",
        "reqwest",
        "rusqlite",
        "tracing-subscriber",
        "rand",
        "getrandom",
    ] {
        assert!(!deps.contains_key(forbidden), "lifeguard-core must not depend on {forbidden}");
    }
}

#[test]
fn only_the_store_names_the_database_layer_and_it_names_no_web_layer() {
    let deps = |krate: &str| -> toml::Table {
        let manifest: toml::Table = toml::from_str(
            &fs::read_to_string(root().join(format!("crates/{krate}/Cargo.toml"))).unwrap(),
        )
        .unwrap();
        manifest["dependencies"].as_table().unwrap().clone()
    };
    let store = deps("store");
    for forbidden in ["axum", "hyper", "tower", "tower-http", "reqwest"] {
        assert!(!store.contains_key(forbidden), "lifeguard-store must not depend on {forbidden}");
    }
    let binary = deps("lifeguard");
    for forbidden in ["sqlx", "rusqlite", "tokio-postgres"] {
        assert!(
            !binary.contains_key(forbidden),
            "the binary reaches the database only through lifeguard-store, not {forbidden}"
        );
    }
}

#[test]
fn the_built_in_policy_embeds_every_file_of_its_folder_as_it_is() {
    let folder = root().join("crates/core/default-policy");
    let mut on_disk = Vec::new();
    files_below(&folder, &folder, &mut on_disk);
    on_disk.sort();
    let mut embedded: Vec<(String, String)> = lifeguard_core::default_policy::TERM_FILES
        .iter()
        .map(|(path, contents)| ((*path).to_owned(), (*contents).to_owned()))
        .collect();
    embedded.push(("policy.md".to_owned(), lifeguard_core::default_policy::POLICY.to_owned()));
    embedded.sort();
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&embedded),
        names(&on_disk),
        "crates/core/src/default_policy.rs must list every file of the folder"
    );
    assert!(embedded == on_disk, "the embedded policy differs from the folder");
}

fn files_below(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_below(base, &path, out);
        } else {
            let relative = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            out.push((relative, fs::read_to_string(&path).unwrap()));
        }
    }
}
