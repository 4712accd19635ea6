//! The archive under duress: imports killed mid-way, a read-only database and a full disk
//! must leave whole batches and a chain that verifies.
#![cfg(unix)]

use std::fmt::Write as _;
use std::fs;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{binary, fixture, import, json, ok_with_data, path, stats, tool, with_data};

/// Writes `count` small items as JSON Lines, each with `padding` extra bytes of text.
fn items_file(file: &Path, count: u64, padding: usize) {
    let filler = "lorem ipsum dolor sit amet ".repeat(padding / 27 + 1);
    let mut text = String::new();
    for i in 0..count {
        let _ = writeln!(
            text,
            r#"{{"platform":"x","account":"acme","external_id":"{i}","text":"item {i} {}","created_at":"2024-01-01T00:00:00Z"}}"#,
            &filler[..padding]
        );
    }
    fs::write(file, text).unwrap();
}

/// Items in the durability run: enough that no round finishes the import, few enough that
/// verifying after every round stays quick in a debug build.
const TOTAL: u64 = 15_000;
const BATCH: u64 = 500;

#[test]
fn an_import_killed_at_any_moment_leaves_whole_batches_and_a_chain_that_verifies() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("items.jsonl");
    items_file(&file, TOTAL, 0);
    let data = dir.path().join("data");
    let batch = BATCH.to_string();
    let import_command = || {
        let mut command = binary();
        command
            .args(["import", "jsonl", path(&file), "--batch", &batch, "--no-progress"])
            .args(["--data", path(&data)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };

    // How long an import takes to start writing: its kills land 50 to 600 ms after that, at
    // delays from a fixed sequence, so a failing run can be repeated. A round that archived
    // nothing, or was killed before the archive existed, moves the later ones on.
    let empty = dir.path().join("empty.jsonl");
    fs::write(&empty, "").unwrap();
    let clock = Instant::now();
    ok_with_data(&dir.path().join("scratch"), &["import", "jsonl", path(&empty)]);
    let mut start = clock.elapsed();
    let mut state: u64 = 0x853c_49e6_748f_ea9b;
    let mut archived = 0;
    let mut killed = 0;
    for round in 1..=8 {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let delay = start + Duration::from_millis(50 + (state >> 33) % 551);
        let mut child = import_command().spawn().unwrap();
        thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        if status.signal() == Some(9) {
            killed += 1;
        }
        // A busy machine can start slower than the measured start suggested.
        let later = Duration::from_millis(250).max(start / 4);
        if !data.join("archive.sqlite3").exists() {
            println!("round {round}: killed after {delay:?} before the archive existed");
            start += later;
            continue;
        }
        let items = stats(&data)["items"].as_u64().unwrap();
        println!("round {round}: killed after {delay:?} with {items} items archived");
        // An import signs its first batch in the batch's own transaction, so there is no
        // moment at which a kill leaves entries that no checkpoint covers.
        let verify = with_data(&data, &["archive", "verify"]);
        assert_eq!(
            verify.code, 0,
            "round {round}, killed after {delay:?}: {}{}",
            verify.stdout, verify.stderr
        );
        assert!(items >= archived, "round {round}: {items} items after {archived}");
        assert!(
            items.is_multiple_of(BATCH) || items == TOTAL,
            "round {round}: {items} items is not a whole number of batches"
        );
        if items == archived {
            start += later;
        }
        archived = items;
    }
    assert!(killed > 0, "some import was still running when it was killed");
    assert!(archived > 0, "some batches were committed before a kill");

    let run = ok_with_data(
        &data,
        &["import", "jsonl", path(&file), "--batch", &batch, "--no-progress", "--format", "json"],
    );
    let summary = json(&run);
    assert_eq!(summary["unchanged"].as_u64(), Some(archived), "what was committed is kept");
    assert_eq!(summary["added"].as_u64(), Some(TOTAL - archived), "and the rest is added");
    assert_eq!(stats(&data)["items"].as_u64(), Some(TOTAL));
    let verify = ok_with_data(&data, &["archive", "verify"]);
    assert!(
        verify
            .stdout
            .starts_with(&format!("ok: {} entries ({TOTAL} items, 0 disposed)", 2 * TOTAL)),
        "{}",
        verify.stdout
    );
    println!("the durability run took {:?}", started.elapsed());
}

#[test]
fn a_read_only_database_refuses_writes_but_answers_questions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    import(data, "jsonl", "imports/jsonl/items.jsonl", &[]);
    let before = stats(data);
    let url = format!("sqlite:{}?mode=ro", path(&data.join("archive.sqlite3")));

    let outbox = fixture("imports/mastodon/outbox.json");
    let run = with_data(data, &["import", "mastodon", path(&outbox), "--database", &url]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    assert!(
        run.stderr.contains("0 items before the failing batch were committed"),
        "{}",
        run.stderr
    );
    let run = with_data(
        data,
        &["archive", "hold", "place", "h", "--reason", "r", "--owner", "o", "--database", &url],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);

    let found = json(&ok_with_data(
        data,
        &["archive", "search", "storm", "--database", &url, "--format", "json"],
    ));
    assert_eq!(found["items"][0]["external_id"], "1755000000000000100");
    let run = ok_with_data(data, &["archive", "verify", "--database", &url]);
    assert!(run.stdout.starts_with("ok: 46 entries"), "{}", run.stdout);
    let run = ok_with_data(data, &["archive", "stats", "--database", &url, "--format", "json"]);
    assert_eq!(json(&run), before);
    assert_eq!(stats(data), before, "nothing was written");
}

/// Unmounts a filesystem when dropped, whatever happened in between.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Runs `mount ARGS`; whether it worked (it needs the right to mount).
fn mount(args: &[&str]) -> bool {
    Command::new("mount")
        .args(args)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Shows `source` at `target`, read-only; `None` where mounting is not allowed.
fn mount_read_only(source: &Path, target: &Path) -> Option<Mounted> {
    if !mount(&["--bind", path(source), path(target)]) {
        return None;
    }
    let mounted = Mounted(target.to_owned());
    mount(&["-o", "remount,ro,bind", path(target)]).then_some(mounted)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

#[test]
fn a_full_disk_stops_the_import_with_a_clear_message_and_nothing_half_written() {
    let skip = || println!("skipped: cannot mount a small filesystem here");
    if !running_as_root() {
        return skip();
    }
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    fs::create_dir(&small).unwrap();
    if !mount(&["-t", "tmpfs", "-o", "size=1m", "tmpfs", path(&small)]) {
        return skip();
    }
    let _unmount = Mounted(small.clone());

    // About 1.8 MiB of items, written outside the small filesystem.
    let file = dir.path().join("big.jsonl");
    items_file(&file, 3_000, 500);
    assert!(fs::metadata(&file).unwrap().len() > 1 << 20);
    let data = small.join("data");
    let run = with_data(&data, &["import", "jsonl", path(&file), "--batch", "50", "--no-progress"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("disk is full") && run.stderr.contains("no space left"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was half-written"), "{}", run.stderr);

    let verify = with_data(&data, &["archive", "verify"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let items = stats(&data)["items"].as_u64().unwrap();
    assert!(items < 3_000 && items.is_multiple_of(50), "{items} items: whole batches only");
    assert!(
        run.stderr.contains(&format!("{items} items before the failing batch were committed")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_copy_on_read_only_storage_can_be_verified_and_searched_but_not_written() {
    let skip = || println!("skipped: cannot mount a read-only copy here");
    if !running_as_root() {
        return skip();
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import(&data, "jsonl", "imports/jsonl/items.jsonl", &[]);
    let before = stats(&data);
    let copy = dir.path().join("copy");
    fs::create_dir(&copy).unwrap();
    let Some(_unmount) = mount_read_only(&data, &copy) else {
        return skip();
    };

    // As write-once storage presents it: SQLite cannot even make its shared-memory file there.
    let run = ok_with_data(&copy, &["archive", "verify"]);
    assert!(run.stdout.starts_with("ok: 46 entries"), "{}", run.stdout);
    let found = json(&ok_with_data(&copy, &["archive", "search", "storm", "--format", "json"]));
    assert_eq!(found["items"][0]["external_id"], "1755000000000000100");
    assert_eq!(stats(&copy), before);
    let run = with_data(&copy, &["archive", "hold", "place", "h", "--reason", "r", "--owner", "o"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    assert_eq!(stats(&data), before, "nothing was written");
    drop(_unmount);

    // The archive file alone, its log folded in first: read as immutable.
    let Some(shell) = tool("sqlite3") else {
        return println!("skipped the single-file part: no sqlite3 shell");
    };
    let db = data.join("archive.sqlite3");
    let folded = Command::new(shell).arg(&db).arg("PRAGMA wal_checkpoint(TRUNCATE);").status();
    assert!(folded.is_ok_and(|status| status.success()));
    let single = dir.path().join("single");
    fs::create_dir(&single).unwrap();
    for file in ["archive.sqlite3", "signing.key"] {
        fs::copy(data.join(file), single.join(file)).unwrap();
    }
    let _unmount = mount_read_only(&single, &copy).expect("mounted once already");
    assert!(!copy.join("archive.sqlite3-wal").exists());
    let run = ok_with_data(&copy, &["archive", "verify"]);
    assert!(run.stdout.starts_with("ok: 46 entries"), "{}", run.stdout);
    assert_eq!(stats(&copy), before);
}

#[test]
fn two_first_imports_into_a_new_data_directory_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("imports/jsonl/items.jsonl");
    for round in 0..6 {
        let data = dir.path().join(format!("data-{round}"));
        let start = || {
            let mut command = binary();
            command
                .args(["import", "jsonl", path(&file), "--no-progress", "--data", path(&data)])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            command.spawn().unwrap()
        };
        let (first, second) = (start(), start());
        for child in [first, second] {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert_eq!(stats(&data)["items"], 24, "round {round}: the second import adds nothing");
    }
}
