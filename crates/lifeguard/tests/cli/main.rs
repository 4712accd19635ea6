//! The CLI suite: runs the real `lifeguard` binary in temporary folders.
// Test helpers unwrap freely: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod check;
mod jsonl;
mod policy;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    let mut command = Command::new(env!("CARGO_BIN_EXE_lifeguard"));
    command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command.env_remove("NO_COLOR");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
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
