//! The CLI suite: runs the real `lifeguard` binary in temporary folders.
// Test helpers unwrap freely: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod archive;
mod check;
mod durability;
mod import;
mod jsonl;
mod people;
mod policy;
mod serve;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// What a finished run printed and how it exited.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `lifeguard` with arguments and standard input.
pub(crate) fn lifeguard(args: &[&str], stdin: impl AsRef<[u8]>) -> Run {
    lifeguard_in(None, args, stdin)
}

/// Runs `lifeguard` in a folder.
pub(crate) fn lifeguard_in(dir: Option<&Path>, args: &[&str], stdin: impl AsRef<[u8]>) -> Run {
    let mut command = binary();
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    run_command(command, stdin)
}

/// The `lifeguard` binary as a command, with nothing of the caller's environment that would
/// point it at another archive (`LIFEGUARD_DATA`, `LIFEGUARD_DATABASE_URL`).
pub(crate) fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lifeguard"));
    command
        .env_remove("NO_COLOR")
        .env_remove("LIFEGUARD_DATA")
        .env_remove("LIFEGUARD_DATABASE_URL");
    command
}

/// Runs a prepared command to its end, feeding it standard input.
pub(crate) fn run_command(mut command: Command, stdin: impl AsRef<[u8]>) -> Run {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    let bytes = stdin.as_ref().to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may exit before reading everything (usage errors); that is fine.
        let _ = input.write_all(&bytes);
    });
    let output = child.wait_with_output().expect("the binary runs");
    writer.join().expect("the stdin writer finishes");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The repository's fixtures folder.
pub(crate) fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(path)
}

/// The minimal fixture policy's folder, as a string argument.
pub(crate) fn minimal_policy() -> String {
    fixture("policies/minimal").display().to_string()
}

/// Runs `lifeguard ARGS --data DATA`: a command on the archive in `data`.
pub(crate) fn with_data(data: &Path, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["--data", path(data)]);
    lifeguard(&all, "")
}

/// Like [`with_data`], and the command must succeed.
pub(crate) fn ok_with_data(data: &Path, args: &[&str]) -> Run {
    let run = with_data(data, args);
    assert_eq!(run.code, 0, "lifeguard {args:?} failed:\n{}{}", run.stdout, run.stderr);
    run
}

/// A path as a command-line argument.
pub(crate) fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A run's standard output as JSON.
pub(crate) fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}):\n{}\n{}", run.stdout, run.stderr))
}

/// Imports a fixture file into the archive in `data`; returns the JSON summary.
pub(crate) fn import(data: &Path, format: &str, file: &str, extra: &[&str]) -> Value {
    let file = fixture(file);
    let mut args = vec!["import", format, path(&file), "--no-progress", "--format", "json"];
    args.extend(extra);
    json(&ok_with_data(data, &args))
}

/// The archive's counts (`archive stats --format json`).
pub(crate) fn stats(data: &Path) -> Value {
    json(&ok_with_data(data, &["archive", "stats", "--format", "json"]))
}

/// An external program on the PATH, if there is one.
pub(crate) fn tool(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}
