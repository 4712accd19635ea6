//! `lifeguard people`: the first administrator of a new deployment, passwords and tokens, each
//! change audited and the archive still verifying.

use serde_json::Value;

use crate::{lifeguard, ok_with_data, path, with_data};

fn people(data: &std::path::Path) -> Vec<Value> {
    ok_with_data(data, &["people", "list", "--format", "json"])
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn the_first_administrator_is_made_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let add = |args: &[&str], stdin: &str| {
        let mut all = vec!["people", "add"];
        all.extend(args);
        all.extend(["--data", path(data)]);
        lifeguard(&all, stdin)
    };
    let run = add(
        &["root", "--name", "Rosa Admin", "--role", "admin", "--password-stdin"],
        "a long admin password\n",
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = add(&["pat", "--name", "Pat", "--role", "employee", "--manager", "root"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);

    let listed = people(data);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["login"], "pat");
    assert_eq!(listed[0]["manager"], listed[1]["id"]);
    assert_eq!(listed[1]["role"], "admin");

    // Refusals name what is wrong and change nothing.
    let run = add(&["short", "--name", "S", "--role", "admin", "--password-stdin"], "too short\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("at least 12 characters"), "{}", run.stderr);
    let run = add(&["x", "--name", "X", "--role", "root"], "");
    assert!(run.stderr.contains("--role") && run.stderr.contains("unknown role"), "{}", run.stderr);
    let run = add(&["root", "--name", "Again", "--role", "admin"], "");
    assert_eq!(run.code, 2, "a taken login is refused");
    assert_eq!(people(data).len(), 2);

    let token =
        ok_with_data(data, &["people", "token", "root", "--name", "ci", "--scope", "ingest"]);
    let token = token.stdout.trim();
    assert!(token.starts_with("lgt_") && token.len() > 70, "{token}");
    let run = with_data(data, &["people", "token", "pat", "--name", "x", "--scope", "admin"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("may not hold a token with the `admin` scope"), "{}", run.stderr);

    let run =
        lifeguard(&["people", "set-password", "pat", "--data", path(data)], "another long one\n");
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The four changes made are four entries in the chain (the refusals wrote none), and the
    // chain verifies.
    let verify = ok_with_data(data, &["archive", "verify"]);
    assert!(verify.stdout.starts_with("ok: 4 entries"), "{}", verify.stdout);
}
