//! `lifeguard import`: every format, idempotence, malformed records, truncated documents and
//! where the archive is.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::{binary, fixture, import, json, ok_with_data, path, run_command, stats, with_data};

/// The JSON summary's counts that do not depend on the archive's state before the import.
fn counts(summary: &Value) -> [u64; 5] {
    ["records", "added", "revisions", "unchanged", "malformed"]
        .map(|key| summary[key].as_u64().unwrap_or_else(|| panic!("no `{key}` in {summary}")))
}

#[test]
fn every_format_imports_with_its_counts_and_a_second_import_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // (format, file, records in the file, of which edits or deletions, other arguments)
    let files: [(&str, &str, u64, u64, &[&str]); 3] = [
        // 24 lines: one edit and two deletions among them.
        ("jsonl", "imports/jsonl/items.jsonl", 24, 3, &[]),
        // 22 activities: an Update, a Delete and an Undo revise earlier ones.
        ("mastodon", "imports/mastodon/outbox.json", 22, 3, &[]),
        // 22 tweets: one tweet was edited once.
        ("x", "imports/x/data/tweets.js", 22, 1, &["--account", "brightwater_en"]),
    ];
    let mut entries = 0;
    for (format, file, records, revisions, extra) in files {
        let summary = import(data, format, file, extra);
        assert_eq!(counts(&summary), [records, records, revisions, 0, 0], "{file}: {summary}");
        assert_eq!(summary["stopped"], Value::Null);
        assert!(summary["entries"].as_u64().unwrap() > records, "a verdict for each version");
        entries += summary["entries"].as_u64().unwrap();
        assert_eq!(summary["head"].as_u64(), Some(entries), "entries are numbered from 1");
        assert!(summary["file"].as_str().unwrap().ends_with(file.rsplit('/').next().unwrap()));
    }
    let before = stats(data);
    assert_eq!(before["items"], 24 + 22 + 22);
    assert_eq!(before["entries"].as_u64(), Some(entries));

    for (format, file, records, _, extra) in files {
        let summary = import(data, format, file, extra);
        assert_eq!(counts(&summary), [records, 0, 0, records, 0], "{file}: {summary}");
        assert_eq!(summary["entries"], 0);
        assert_eq!(summary["head"].as_u64(), Some(entries));
    }
    let text = ok_with_data(
        data,
        &["import", "jsonl", path(&fixture("imports/jsonl/items.jsonl")), "--no-progress"],
    );
    assert!(
        text.stdout.contains(
            ": 0 new versions archived (0 edits or deletions), 24 already archived, 0 malformed records skipped\n"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!("chain head: entry {entries}, signed")),
        "{}",
        text.stdout
    );
    assert_eq!(stats(data), before, "a second import changes nothing");
}

/// The item `archive search` finds for a query, as JSON.
fn only_item(data: &Path, query: &str) -> Value {
    let found =
        json(&ok_with_data(data, &["archive", "search", query, "--format", "json"]))["items"]
            .clone();
    assert_eq!(found.as_array().map(Vec::len), Some(1), "one item for {query}: {found}");
    found[0].clone()
}

#[test]
fn account_fills_in_the_account_and_author_that_an_x_archive_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let (without, with) = (dir.path().join("without"), dir.path().join("with"));
    import(&without, "x", "imports/x/data/tweets.js", &[]);
    import(&with, "x", "imports/x/data/tweets.js", &["--account", "brightwater_en"]);

    let query = "\"heat pump\"";
    let bare = only_item(&without, query);
    assert_eq!((&bare["account"], &bare["author"]), (&Value::from(""), &Value::from("")));
    let id = only_item(&with, query)["id"].as_u64().unwrap().to_string();
    let shown = json(&ok_with_data(&with, &["archive", "show", &id, "--format", "json"]));
    for field in ["account", "author"] {
        assert_eq!(shown["item"][field], "brightwater_en", "{shown}");
        assert_eq!(shown["payload"][field], "brightwater_en", "the archived payload has it too");
    }
    let by_account = json(&ok_with_data(
        &with,
        &["archive", "search", "--account", "brightwater_en", "--limit", "100", "--format", "json"],
    ));
    assert_eq!(by_account["items"].as_array().unwrap().len(), 22);
}

/// The archived versions `archive search QUERY` finds, oldest first: (id, change, revises,
/// text).
fn versions(data: &Path, query: &str) -> Vec<(u64, String, Option<u64>, String)> {
    let page = json(&ok_with_data(data, &["archive", "search", query, "--format", "json"]));
    let mut versions: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["id"].as_u64().unwrap(),
                item["change"].as_str().unwrap().to_owned(),
                item["revises"].as_u64(),
                item["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    versions.sort_unstable();
    versions
}

/// Each version's change, what it revises and its text.
fn shape_of(chain: &[(u64, String, Option<u64>, String)]) -> Vec<(&str, Option<u64>, &str)> {
    chain
        .iter()
        .map(|(_, change, revises, text)| (change.as_str(), *revises, text.as_str()))
        .collect()
}

#[test]
fn a_mastodon_export_folder_imports_its_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let summary = import(&data, "mastodon", "imports/mastodon", &[]);
    assert_eq!(counts(&summary), [22, 22, 3, 0, 0], "{summary}");
    let again = import(&data, "mastodon", "imports/mastodon/outbox.json", &[]);
    assert_eq!(counts(&again), [22, 0, 0, 22, 0], "the same outbox: {again}");
    let refused = with_data(&dir.path().join("none"), &["import", "mastodon", path(dir.path())]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("holds no outbox.json"), "{}", refused.stderr);
}

#[test]
fn an_x_archive_folder_imports_every_part_and_names_its_account() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // tweets.js holds the newest tweets, among them the edit of a tweet in tweets-part1.js;
    // deleted-tweets.js a deletion; account.js the archive's handle.
    let summary = import(&data, "x", "imports/x-split", &[]);
    assert_eq!(counts(&summary), [5, 5, 2, 0, 0], "{summary}");
    assert_eq!(summary["stopped"], Value::Null);
    let chain = versions(&data, "\"summer timetable\"");
    let [(original, ..), _] = chain[..] else { panic!("two versions: {chain:?}") };
    let shape: Vec<_> =
        shape_of(&chain).into_iter().map(|(change, revises, _)| (change, revises)).collect();
    assert_eq!(shape, [("original", None), ("edit", Some(original))], "oldest first across parts");
    let everything = json(&ok_with_data(
        &data,
        &["archive", "search", "--account", "harbourline_ferries", "--format", "json"],
    ));
    assert_eq!(everything["items"].as_array().unwrap().len(), 5, "{everything}");
    assert_eq!(everything["items"][0]["author"], "harbourline_ferries");

    // The data folder is the same archive: nothing new. --account wins over account.js.
    let again = import(&data, "x", "imports/x-split/data", &[]);
    assert_eq!(counts(&again), [5, 0, 0, 5, 0], "{again}");
    let other = dir.path().join("other");
    import(&other, "x", "imports/x-split", &["--account", "harbourline_archive"]);
    let named = json(&ok_with_data(
        &other,
        &["archive", "search", "--account", "harbourline_archive", "--format", "json"],
    ));
    assert_eq!(named["items"].as_array().unwrap().len(), 5, "{named}");

    // One part alone is read, with a note that the others would be missed.
    let part = with_data(
        &dir.path().join("part"),
        &["import", "x", path(&fixture("imports/x-split/data/tweets.js")), "--no-progress"],
    );
    assert_eq!(part.code, 0, "{}", part.stderr);
    assert!(
        part.stderr.contains("also holds tweets-part1.js") && part.stderr.contains("folder"),
        "{}",
        part.stderr
    );
    // A folder without tweets is refused.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let refused = with_data(&dir.path().join("none"), &["import", "x", path(&empty)]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("holds no tweets.js"), "{}", refused.stderr);
}

#[test]
fn an_x_archives_edited_tweets_are_archived_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The fixture lists the edit before the original, as X archives do.
    import(&data, "x", "imports/x/data/tweets.js", &[]);
    let chain = versions(&data, "\"smart meter swap\"");
    let [(original, ..), _] = chain[..] else { panic!("two versions: {chain:?}") };
    let shape = shape_of(&chain);
    assert_eq!(
        shape,
        [
            (
                "original",
                None,
                "Our smart meter swap starts next week in Halifax. Appointments are free."
            ),
            (
                "edit",
                Some(original),
                "Our smart meter swap starts next week in Halifax and Huddersfield. Appointments are free and take about an hour."
            ),
        ]
    );

    // Three versions, newest first, with other tweets between them.
    let file = dir.path().join("tweets.js");
    let edit = |id: &str, text: &str| {
        format!(
            r#"{{"tweet": {{"id_str": "{id}", "full_text": "{text}", "edit_info": {{"edit": {{"initialTweetId": "900", "editControlInitial": {{"editTweetIds": ["900", "901", "902"]}}}}}}}}}}"#
        )
    };
    let tweets = [
        edit("902", "Doors open on Wednesday"),
        r#"{"tweet": {"id_str": "950", "full_text": "Doors unrelated"}}"#.to_owned(),
        edit("901", "Doors open on Tuesday"),
        r#"{"tweet": {"id_str": "900", "full_text": "Doors open on Monday", "edit_info": {"initial": {"editTweetIds": ["900", "901", "902"]}}}}"#.to_owned(),
        r#"{"tweet": {"id_str": "800", "full_text": "Doors older"}}"#.to_owned(),
    ];
    fs::write(&file, format!("window.YTD.tweets.part0 = [\n{}\n]\n", tweets.join(",\n"))).unwrap();
    let data = dir.path().join("three");
    for added in [5, 0] {
        let run =
            ok_with_data(&data, &["import", "x", path(&file), "--no-progress", "--format", "json"]);
        assert_eq!(json(&run)["added"], added, "importing again adds nothing");
    }
    let chain = versions(&data, "\"doors open\"");
    let ids: Vec<u64> = chain.iter().map(|(id, ..)| *id).collect();
    let shape = shape_of(&chain);
    assert_eq!(
        shape,
        [
            ("original", None, "Doors open on Monday"),
            ("edit", Some(ids[0]), "Doors open on Tuesday"),
            ("edit", Some(ids[1]), "Doors open on Wednesday"),
        ]
    );
}

/// The `file:line:column: record N:` prefixes of the record errors on stderr.
fn record_errors(stderr: &str, file: &str) -> Vec<(u64, u64, u64)> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix(file)?.strip_prefix(':'))
        .map(|rest| {
            let mut parts = rest.splitn(4, ':');
            let line: u64 = parts.next().unwrap().parse().unwrap();
            let column: u64 = parts.next().unwrap().parse().unwrap();
            let record = parts.next().unwrap().trim().strip_prefix("record ").unwrap();
            assert!(!parts.next().unwrap().trim().is_empty(), "a message follows: {rest}");
            (line, column, record.parse().unwrap())
        })
        .collect()
}

#[test]
fn malformed_records_are_named_skipped_and_the_good_ones_archived() {
    // (format, file, the errors' line, column and record, the good records)
    type Case = (&'static str, &'static str, &'static [(u64, u64, u64)], u64);
    let cases: [Case; 3] = [
        (
            "jsonl",
            "imports/jsonl/bad.jsonl",
            &[(2, 1, 2), (4, 28, 3), (5, 1, 4), (6, 1, 5), (7, 1, 6)],
            2,
        ),
        ("mastodon", "imports/mastodon/bad-record.json", &[(17, 5, 2), (28, 5, 3), (34, 5, 4)], 2),
        ("x", "imports/x/data/bad-record.js", &[(9, 3, 2), (16, 3, 3), (22, 3, 4)], 2),
    ];
    for (format, file, errors, good) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = fixture(file);
        let run = with_data(
            dir.path(),
            &["import", format, path(&file), "--no-progress", "--format", "json"],
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert_eq!(record_errors(&run.stderr, path(&file)), errors, "{}", run.stderr);
        let summary = json(&run);
        let bad = errors.len() as u64;
        assert_eq!(counts(&summary), [good + bad, good, 0, 0, bad], "{summary}");
        assert_eq!(stats(dir.path())["items"], good, "every good record is archived");
        ok_with_data(dir.path(), &["archive", "verify"]);
    }
    // The record after the bad ones made it in.
    let dir = tempfile::tempdir().unwrap();
    let _ = with_data(
        dir.path(),
        &["import", "jsonl", path(&fixture("imports/jsonl/bad.jsonl")), "--no-progress"],
    );
    assert_eq!(only_item(dir.path(), "\"still here\"")["external_id"], "1755000000000000999");
}

#[test]
fn a_truncated_document_keeps_the_records_before_the_break() {
    let dir = tempfile::tempdir().unwrap();
    let whole = fs::read(fixture("imports/mastodon/outbox.json")).unwrap();
    // Cut inside the tenth note's HTML content: a string that never ends.
    let marker = b"\"content\": \"<p>";
    let tenth = whole
        .windows(marker.len())
        .enumerate()
        .filter(|(_, window)| *window == marker)
        .nth(9)
        .map(|(at, _)| at)
        .unwrap();
    let cut = &whole[..tenth + marker.len() + 10];
    let file = dir.path().join("outbox.json");
    fs::write(&file, cut).unwrap();
    // Every activity closed before the cut ("    }" at the items' indentation) is whole.
    let complete = cut.windows(6).filter(|w| w == b"\n    }").count() as u64;
    assert!(complete >= 8, "the cut leaves whole records before it ({complete})");

    let data = dir.path().join("data");
    let run = with_data(&data, &["import", "mastodon", path(&file), "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let summary = json(&run);
    assert_eq!(counts(&summary), [complete, complete, 0, 0, 0], "{summary}");
    let line = cut.iter().filter(|b| **b == b'\n').count() + 1;
    let column = cut.len() - cut.iter().rposition(|b| *b == b'\n').unwrap() - 1;
    let place = format!("{}:{line}:{column}: ", path(&file));
    assert!(run.stderr.contains(&place), "expected {place} in {}", run.stderr);
    assert!(summary["stopped"].as_str().unwrap().starts_with(&place), "{summary}");
    assert_eq!(stats(&data)["items"].as_u64(), Some(complete));
    ok_with_data(&data, &["archive", "verify"]);

    let text = with_data(&data, &["import", "mastodon", path(&file)]);
    assert_eq!(text.code, 2);
    assert!(text.stdout.contains("could not be read to its end"), "{}", text.stdout);
}

#[test]
fn a_missing_file_and_impossible_batch_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-export.json");
    let run = with_data(dir.path(), &["import", "mastodon", path(&missing)]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&format!("cannot open {}", path(&missing))), "{}", run.stderr);
    assert!(run.stderr.contains("No such file"), "{}", run.stderr);
    let items = fixture("imports/jsonl/items.jsonl");
    for batch in ["0", "10001"] {
        let run = with_data(dir.path(), &["import", "jsonl", path(&items), "--batch", batch]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("--batch must be between 1 and 10000"), "{}", run.stderr);
    }
    let run = with_data(dir.path(), &["import", "csv", path(&items)]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid value 'csv'"), "{}", run.stderr);
    assert!(!dir.path().join("archive.sqlite3").exists(), "nothing was opened");
}

#[test]
fn a_database_url_or_the_environment_says_where_the_archive_is() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("elsewhere.sqlite3");
    let url = format!("sqlite:{}", path(&database));
    let keys = dir.path().join("keys");
    let items = fixture("imports/jsonl/items.jsonl");
    let run = with_data(
        &keys,
        &["import", "jsonl", path(&items), "--database", &url, "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run)["added"], 24);
    assert!(database.is_file(), "the archive is where the URL says");
    assert!(keys.join("signing.key").is_file(), "the key is in the data directory");
    assert!(!keys.join("archive.sqlite3").exists(), "no archive in the data directory");
    let verified = ok_with_data(&keys, &["archive", "verify", "--database", &url]);
    assert!(verified.stdout.starts_with("ok: 46 entries (24 items"), "{}", verified.stdout);

    // The environment names the data directory when --data does not.
    let from_env = dir.path().join("from-env");
    let mut command = binary();
    command.env("LIFEGUARD_DATA", &from_env).args([
        "import",
        "jsonl",
        path(&items),
        "--format",
        "json",
    ]);
    let run = run_command(command, "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run)["added"], 24);
    assert!(from_env.join("archive.sqlite3").is_file() && from_env.join("signing.key").is_file());
    let mut command = binary();
    command.env("LIFEGUARD_DATA", &from_env).args(["archive", "stats", "--format", "json"]);
    let shown = run_command(command, "");
    assert_eq!(json(&shown)["items"], 24);

    // And the database URL too.
    let mut command = binary();
    command.env("LIFEGUARD_DATABASE_URL", &url).args(["archive", "stats", "--format", "json"]);
    command.args(["--data", path(&keys)]);
    let shown = run_command(command, "");
    assert_eq!(json(&shown)["items"], 24, "{}", shown.stderr);

    let run = with_data(&keys, &["archive", "stats", "--database", "mysql://localhost/x"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unsupported database URL"), "{}", run.stderr);

    // An archive in memory would vanish with the process, so it is refused rather than kept.
    let run = with_data(&keys, &["archive", "stats", "--database", "sqlite::memory:"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("an archive in memory would keep nothing"), "{}", run.stderr);
}

#[test]
fn a_deletion_carrying_text_is_checked_like_any_other_item() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Deleted content the archive never saw before: the verdict given now is its only one.
    let risky = "Our community bond: guaranteed returns of 9% a year, totally risk free";
    let deleted_tweets = dir.path().join("deleted-tweets.js");
    fs::write(
        &deleted_tweets,
        format!(
            r#"window.YTD.deleted_tweets.part0 = [{{"tweet": {{"id_str": "7001", "full_text": "{risky}", "deleted_at": "Tue Feb 20 08:31:00 +0000 2024"}}}}]"#
        ),
    )
    .unwrap();
    let lines = dir.path().join("items.jsonl");
    fs::write(
        &lines,
        format!(
            concat!(
                r#"{{"platform":"mastodon","external_id":"7002","text":"{risky}","change":"deletion"}}"#,
                "\n",
                r#"{{"platform":"mastodon","external_id":"7003","text":"","change":"deletion"}}"#,
                "\n",
            ),
            risky = risky
        ),
    )
    .unwrap();
    for (format, file) in [("x", &deleted_tweets), ("jsonl", &lines)] {
        ok_with_data(&data, &["import", format, path(file), "--no-progress"]);
    }

    let page =
        json(&ok_with_data(&data, &["archive", "search", "--limit", "100", "--format", "json"]));
    let items = page["items"].as_array().unwrap();
    let by_id = |id: &str| items.iter().find(|item| item["external_id"] == id).unwrap();
    for id in ["7001", "7002"] {
        let item = by_id(id);
        assert_eq!(item["change"], "deletion", "{item}");
        assert_eq!(item["verdict"], "require_approval", "{item}");
        assert!(item["findings"].as_u64() > Some(0), "{item}");
        let seq = item["id"].as_u64().unwrap().to_string();
        let shown = json(&ok_with_data(&data, &["archive", "show", &seq, "--format", "json"]));
        let verdicts = shown["verdicts"].as_array().unwrap();
        assert_eq!(verdicts.len(), 1, "{shown}");
        assert!(!verdicts[0]["payload"]["findings"].as_array().unwrap().is_empty(), "{shown}");
    }
    // A deletion without text has nothing to check.
    assert_eq!(by_id("7003")["verdict"], Value::Null);
    ok_with_data(&data, &["archive", "verify"]);
}
