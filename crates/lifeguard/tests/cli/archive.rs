//! `lifeguard archive`: search and its filters, pages, show, stats, verify (against a tampered
//! database), retention, holds and disposal, and export bundles with both verifiers.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::{Run, fixture, import, json, lifeguard, ok_with_data, path, stats, tool, with_data};

/// Imports the three import fixtures, the X archive as the account `brightwater_en`.
fn archive_of_fixtures(data: &Path) {
    import(data, "jsonl", "imports/jsonl/items.jsonl", &[]);
    import(data, "mastodon", "imports/mastodon/outbox.json", &[]);
    import(data, "x", "imports/x/data/tweets.js", &["--account", "brightwater_en"]);
}

/// The ids `archive search ARGS` finds, in its order (one page of up to 1000).
fn ids(data: &Path, args: &[&str]) -> Vec<u64> {
    let mut all = vec!["archive", "search", "--limit", "1000", "--format", "json"];
    all.extend(args);
    let page = json(&ok_with_data(data, &all));
    assert_eq!(page["next"], Value::Null, "one page holds them all");
    page["items"].as_array().unwrap().iter().map(|item| item["id"].as_u64().unwrap()).collect()
}

/// Every item, newest first, as `archive search --format json` describes it.
fn everything(data: &Path) -> Vec<Value> {
    let page =
        json(&ok_with_data(data, &["archive", "search", "--limit", "1000", "--format", "json"]));
    page["items"].as_array().unwrap().clone()
}

/// The ids of the items that pass `keep`, in the archive's order.
fn expected(items: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<u64> {
    items.iter().filter(|item| keep(item)).map(|item| item["id"].as_u64().unwrap()).collect()
}

fn text(item: &Value) -> &str {
    item["text"].as_str().unwrap_or("")
}

/// Words as the archive's search sees them, for the plain Latin text the tests query.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['é', 'è'], "e")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The ids in `archive search` text output.
fn text_ids(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|line| line.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn search_finds_words_phrases_and_prefixes_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    archive_of_fixtures(data);
    let items = everything(data);
    assert_eq!(items.len(), 68);

    let has = |word: &'static str| move |item: &Value| words(text(item)).iter().any(|w| w == word);
    let storm = expected(&items, has("storm"));
    assert!(storm.len() >= 2, "{storm:?}");
    assert_eq!(ids(data, &["storm"]), storm);
    assert_eq!(ids(data, &["STORM"]), storm, "case does not matter");
    let cafe = expected(&items, has("cafe"));
    assert!(cafe.len() >= 2, "{cafe:?}");
    assert_eq!(ids(data, &["café"]), cafe, "nor do accents");
    assert_eq!(ids(data, &["cafe"]), cafe);

    let phrase =
        expected(&items, |item| words(text(item)).windows(2).any(|w| w == ["west", "yorkshire"]));
    assert!(phrase.len() >= 2);
    assert_eq!(ids(data, &["\"west yorkshire\""]), phrase);
    assert!(ids(data, &["\"yorkshire west\""]).is_empty(), "a phrase keeps its order");

    let prefix = expected(&items, |item| words(text(item)).iter().any(|w| w.starts_with("renew")));
    assert!(prefix.len() >= 3, "{prefix:?}");
    assert_eq!(ids(data, &["renew*"]), prefix);
    assert!(ids(data, &["renew"]).is_empty(), "without the star a word matches whole words only");

    let both = expected(&items, |item| {
        let words = words(text(item));
        words.iter().any(|w| w == "storm") && words.iter().any(|w| w == "crews")
    });
    assert!(!both.is_empty());
    assert_eq!(ids(data, &["storm crews"]), both, "every term must match");

    // The text form lists the same items, one line of header and one of text each.
    let run = ok_with_data(data, &["archive", "search", "storm"]);
    assert_eq!(text_ids(&run.stdout), storm);
    assert_eq!(run.stdout.lines().count(), 2 * storm.len(), "{}", run.stdout);
    assert!(
        run.stdout.contains(" on x [allow]\n    Storm update: crews are out"),
        "{}",
        run.stdout
    );
    let run = ok_with_data(data, &["archive", "search", "zeppelin"]);
    assert_eq!(run.stdout, "no items match\n");
    assert!(ids(data, &["zeppelin"]).is_empty());

    let run = with_data(data, &["archive", "search", "\"never closed"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("query column 1: this quote is never closed"), "{}", run.stderr);
}

#[test]
fn every_filter_narrows_the_search_to_what_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    archive_of_fixtures(data);
    let items = everything(data);
    let field = |name: &'static str, value: &'static str| {
        move |item: &Value| item[name].as_str() == Some(value)
    };
    let check = |args: &[&str], want: Vec<u64>| {
        assert!(!want.is_empty(), "{args:?} should find something in the fixtures");
        assert_eq!(ids(data, args), want, "{args:?}");
    };

    for (platform, count) in [("x", 31), ("mastodon", 26), ("linkedin", 8), ("facebook", 2)] {
        let want = expected(&items, field("platform", platform));
        assert_eq!(want.len(), count, "{platform}");
        check(&["--platform", platform], want);
    }
    check(&["--platform", "LinkedIn"], expected(&items, field("platform", "linkedin")));
    assert!(ids(data, &["--platform", "myspace"]).is_empty());
    check(
        &["--account", "brightwater-energy"],
        expected(&items, field("account", "brightwater-energy")),
    );
    check(&["--author", "Helen Okafor"], expected(&items, field("author", "Helen Okafor")));
    for author_type in ["employee", "corporate", "third_party"] {
        check(&["--author-type", author_type], expected(&items, field("author_type", author_type)));
    }
    for kind in
        ["post", "reply", "comment", "repost", "story", "bio", "profile", "pinned", "message"]
    {
        check(&["--kind", kind], expected(&items, field("kind", kind)));
    }
    for verdict in ["allow", "require_approval", "block"] {
        check(&["--verdict", verdict], expected(&items, field("verdict", verdict)));
    }
    let findings = |item: &Value| item["findings"].as_u64().unwrap();
    check(&["--has-findings"], expected(&items, |item| findings(item) > 0));
    check(&["--no-findings"], expected(&items, |item| findings(item) == 0));

    // Times: made at or after --since and before --until, the capture time standing in for
    // a missing creation time. Times in the archive's format sort as their texts do.
    let made = |item: &Value| -> String {
        item["created_at"].as_str().or(item["captured_at"].as_str()).unwrap().to_owned()
    };
    let (from, to) = ("2024-02-01T09:00:00.000000Z", "2024-02-10T00:00:00.000000Z");
    let within = expected(&items, |item| made(item).as_str() >= from && made(item).as_str() < to);
    check(&["--since", "2024-02-01T10:00:00+01:00", "--until", "2024-02-10"], within);
    check(&["--since", "2024-02-20"], expected(&items, |item| made(item).as_str() >= "2024-02-20"));
    check(&["--until", "2024-01-12"], expected(&items, |item| made(item).as_str() < "2024-01-12"));

    // Categories and rules come from each item's verdict.
    let mut by_item = Vec::new();
    for item in items.iter().filter(|item| findings(item) > 0) {
        let id = item["id"].as_u64().unwrap();
        let shown =
            json(&ok_with_data(data, &["archive", "show", &id.to_string(), "--format", "json"]));
        let found: Vec<(String, String)> = shown["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|verdict| verdict["payload"]["findings"].as_array().unwrap().clone())
            .map(|f| {
                (f["category"].as_str().unwrap().to_owned(), f["rule"].as_str().unwrap().to_owned())
            })
            .collect();
        assert_eq!(found.len() as u64, findings(item), "{shown}");
        by_item.push((id, found));
    }
    let categories: BTreeSet<&str> =
        by_item.iter().flat_map(|(_, f)| f.iter().map(|(c, _)| c.as_str())).collect();
    let rules: BTreeSet<&str> =
        by_item.iter().flat_map(|(_, f)| f.iter().map(|(_, r)| r.as_str())).collect();
    assert!(categories.len() >= 2 && rules.len() >= 2, "{categories:?} {rules:?}");
    let with = |keep: &dyn Fn(&str, &str) -> bool| -> Vec<u64> {
        let hits: BTreeSet<u64> = by_item
            .iter()
            .filter(|(_, found)| found.iter().any(|(c, r)| keep(c, r)))
            .map(|(id, _)| *id)
            .collect();
        expected(&items, |item| hits.contains(&item["id"].as_u64().unwrap()))
    };
    for category in &categories {
        check(&["--category", category], with(&|c, _| c == *category));
    }
    for rule in &rules {
        check(&["--rule", rule], with(&|_, r| r == *rule));
    }
    assert!(ids(data, &["--rule", "NO-SUCH-RULE"]).is_empty());

    // Filters combine with each other and with a query.
    check(
        &["--platform", "x", "--kind", "reply", "--author-type", "corporate"],
        expected(&items, |item| {
            field("platform", "x")(item)
                && field("kind", "reply")(item)
                && field("author_type", "corporate")(item)
        }),
    );
    check(
        &["guaranteed", "--platform", "mastodon", "--has-findings"],
        expected(&items, |item| {
            field("platform", "mastodon")(item)
                && findings(item) > 0
                && words(text(item)).iter().any(|w| w == "guaranteed")
        }),
    );
}

#[test]
fn bad_filter_values_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    import(data, "jsonl", "imports/jsonl/items.jsonl", &[]);
    let cases: [(&[&str], &str); 9] = [
        (&["--kind", "tweet"], "--kind: unknown kind `tweet`"),
        (&["--author-type", "robot"], "--author-type: unknown author type `robot`"),
        (&["--verdict", "maybe"], "--verdict: unknown action `maybe`"),
        (&["--since", "yesterday"], "--since: `yesterday` is not an RFC 3339 time"),
        (&["--until", "2024-13-01"], "--until: `2024-13-01` is not an RFC 3339 time"),
        (&["--limit", "0"], "a page holds 1 to 1000 results, not 0"),
        (&["--limit", "1001"], "a page holds 1 to 1000 results, not 1001"),
        (&["--cursor", "garbage"], "`garbage` is not a search cursor"),
        (
            &["--has-findings", "--no-findings"],
            "'--has-findings' cannot be used with '--no-findings'",
        ),
    ];
    for (args, message) in cases {
        for command in ["search", "export"] {
            if command == "export" && args.iter().any(|a| *a == "--limit" || *a == "--cursor") {
                continue;
            }
            let out = dir.path().join("bundle");
            let mut all = vec!["archive", command];
            all.extend(args);
            if command == "export" {
                all.extend(["--out", path(&out)]);
            }
            let run = with_data(data, &all);
            assert_eq!(run.code, 2, "{all:?}: {}", run.stdout);
            assert!(run.stderr.contains(message), "{all:?}: {}", run.stderr);
            assert!(!out.exists(), "a refused export writes nothing");
        }
    }
    let run = with_data(data, &["archive", "search", "--limit", "many"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid value 'many' for '--limit <N>'"), "{}", run.stderr);
}

#[test]
fn pages_visit_every_result_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    archive_of_fixtures(data);
    for (filters, limit) in
        [(&[][..], "7"), (&["--platform", "mastodon"][..], "5"), (&["energy"][..], "1")]
    {
        let all = ids(data, filters);
        assert!(all.len() > 3, "{filters:?}");
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut args = vec!["archive", "search", "--limit", limit, "--format", "json"];
            args.extend(filters);
            if let Some(cursor) = &cursor {
                args.extend(["--cursor", cursor]);
            }
            let page = json(&ok_with_data(data, &args));
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= limit.parse().unwrap());
            seen.extend(items.iter().map(|item| item["id"].as_u64().unwrap()));
            pages += 1;
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(pages <= all.len(), "the pages end");
        }
        assert_eq!(seen, all, "{filters:?}: every result once, in order");

        // The text form ends a page with the cursor to go on with.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut args = vec!["archive", "search", "--limit", limit];
            args.extend(filters);
            if let Some(cursor) = &cursor {
                args.extend(["--cursor", cursor]);
            }
            let run = ok_with_data(data, &args);
            seen.extend(text_ids(&run.stdout));
            match run.stdout.lines().last().and_then(|line| line.strip_prefix("more: --cursor ")) {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, all, "{filters:?} in text");
    }
}

#[test]
fn show_gives_an_items_versions_verdicts_and_place_in_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    import(data, "jsonl", "imports/jsonl/items.jsonl", &[]);
    // The bond post was edited: an original and an edit, each with its verdict.
    let found = ids(data, &["\"community energy bond\"", "--platform", "linkedin"]);
    let [edit, original] = found[..] else { panic!("two versions: {found:?}") };
    let show = |id: u64| {
        json(&ok_with_data(data, &["archive", "show", &id.to_string(), "--format", "json"]))
    };
    let shown = show(edit);
    let item = &shown["item"];
    assert_eq!(item["id"].as_u64(), Some(edit));
    assert_eq!((item["change"].as_str(), item["revises"].as_u64()), (Some("edit"), Some(original)));
    assert_eq!(item["author"], "Marcus Webb");
    assert_eq!(shown["payload"]["text"], item["text"]);
    assert_eq!(shown["payload"]["revises"].as_u64(), Some(original));
    let versions: Vec<(u64, &str)> = shown["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_u64().unwrap(), v["change"].as_str().unwrap()))
        .collect();
    assert_eq!(versions, [(original, "original"), (edit, "edit")]);
    assert_eq!(show(original)["versions"], shown["versions"], "both versions list both");

    let entry = &shown["entry"];
    assert_eq!((entry["seq"].as_u64(), entry["kind"].as_str()), (Some(edit), Some("item")));
    let verdicts = shown["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 1);
    let verdict = &verdicts[0];
    assert_eq!(verdict["entry"].as_u64(), Some(edit + 1), "the verdict follows its item");
    assert_eq!(verdict["payload"]["item"].as_u64(), Some(edit));
    assert_eq!(verdict["payload"]["action"], item["verdict"]);
    assert_eq!(
        verdict["payload"]["findings"].as_array().unwrap().len() as u64,
        item["findings"].as_u64().unwrap()
    );
    // The entry before the edit is the verdict of the item before it: the chain links them.
    let before = show(edit - 2);
    assert_eq!(before["verdicts"][0]["entry"].as_u64(), Some(edit - 1));
    assert_eq!(entry["prev"], before["verdicts"][0]["hash"]);
    for hash in ["prev", "hash", "payload_sha256"] {
        assert_eq!(entry[hash].as_str().unwrap().len(), 64, "{entry}");
    }

    let run = ok_with_data(data, &["archive", "show", &edit.to_string()]);
    for expected in [
        format!("item #{edit} — post urn:li:share:7160000000000000102 on linkedin\n"),
        "  author:      Marcus Webb (employee)\n".to_owned(),
        format!("  edit: of #{original}\n"),
        format!("  chain:       entry {edit} hash {}\n", entry["hash"].as_str().unwrap()),
        format!("               prev {}\n", entry["prev"].as_str().unwrap()),
        format!("    #{original} original captured "),
        format!("    #{edit} edit captured "),
        "  ← this one\n".to_owned(),
        format!("  verdict:     {} by policy ", item["verdict"].as_str().unwrap()),
        format!("(entry {})\n", edit + 1),
    ] {
        assert!(run.stdout.contains(&expected), "{expected:?} in\n{}", run.stdout);
    }

    for missing in ["999999", &(edit + 1).to_string()] {
        let run = with_data(data, &["archive", "show", missing]);
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert!(run.stderr.contains(&format!("no item with id {missing}")), "{}", run.stderr);
    }
    let run = with_data(data, &["archive", "show", "first"]);
    assert_eq!(run.code, 2);
}

#[test]
fn stats_count_the_archive_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // A mistyped --data is named, not answered from a new empty archive.
    for command in [&["archive", "verify"][..], &["archive", "stats"], &["archive", "search", "x"]]
    {
        let run = with_data(data, command);
        assert_eq!(run.code, 2, "{command:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("there is no archive at"), "{}", run.stderr);
    }
    assert!(!data.join("archive.sqlite3").exists() && !data.join("signing.key").exists());
    let nothing = data.join("nothing.jsonl");
    fs::write(&nothing, "").unwrap();
    ok_with_data(data, &["import", "jsonl", path(&nothing), "--no-progress"]);
    let empty = stats(data);
    assert_eq!((empty["entries"].as_u64(), empty["items"].as_u64()), (Some(0), Some(0)));
    assert_eq!(empty["head"], Value::Null);
    let run = ok_with_data(data, &["archive", "verify"]);
    assert_eq!(run.stdout, "ok: the archive is empty\n");

    archive_of_fixtures(data);
    let stats = stats(data);
    assert_eq!(stats["backend"], "sqlite");
    assert_eq!(stats["items"], 68);
    let by_platform: Vec<(&str, u64)> = ["x", "mastodon", "linkedin", "facebook", "instagram"]
        .iter()
        .map(|p| (*p, stats["by_platform"][p].as_u64().unwrap()))
        .collect();
    assert_eq!(
        by_platform,
        [("x", 31), ("mastodon", 26), ("linkedin", 8), ("facebook", 2), ("instagram", 1)]
    );
    let sum = |name: &str| {
        stats[name].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>()
    };
    assert_eq!((sum("by_platform"), sum("by_kind"), sum("by_verdict")), (68, 68, 68));
    let unchecked = stats["by_verdict"]["unchecked"].as_u64().unwrap();
    assert_eq!(
        stats["verdicts"].as_u64(),
        Some(68 - unchecked),
        "deletions without text get no verdict"
    );
    let entries = stats["entries"].as_u64().unwrap();
    assert_eq!(entries, 68 + 68 - unchecked);
    assert_eq!(stats["head"]["seq"].as_u64(), Some(entries));
    assert_eq!(stats["last_checkpoint"].as_u64(), Some(entries), "each import signs its head");
    assert_eq!(stats["checkpoints"], 3);
    assert_eq!((stats["disposed"].as_u64(), stats["active_holds"].as_u64()), (Some(0), Some(0)));
    assert_eq!(stats["oldest"], "2024-01-08T08:30:00.000000Z");

    let run = ok_with_data(data, &["archive", "stats"]);
    for line in [
        "archive (sqlite)\n".to_owned(),
        format!("  entries:          {entries}\n"),
        "  items:            68 (0 disposed)\n".to_owned(),
        "  by platform:      x 31, mastodon 26, linkedin 8, facebook 2, instagram 1\n".to_owned(),
        format!("  checkpoints:      3 (last at entry {entries})\n"),
        format!(
            "  head:             entry {entries} {}\n",
            stats["head"]["hash"].as_str().unwrap()
        ),
    ] {
        assert!(run.stdout.contains(&line), "{line:?} in\n{}", run.stdout);
    }

    let run = ok_with_data(data, &["archive", "checkpoint"]);
    assert!(run.stdout.starts_with("nothing to sign"), "{}", run.stdout);
    let key = ok_with_data(data, &["archive", "public-key"]).stdout;
    assert_eq!(key.trim().len(), 64, "{key}");
    assert!(key.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    let run = ok_with_data(data, &["archive", "verify", "--format", "json"]);
    let verified = json(&run);
    assert_eq!(verified["ok"], true);
    assert_eq!(
        (verified["entries"].as_u64(), verified["items"].as_u64()),
        (Some(entries), Some(68))
    );
    assert_eq!(verified["head"], stats["head"]);
}

/// Runs SQL on an archive file with the `sqlite3` shell; its output.
fn sqlite(shell: &Path, db: &Path, args: &[&str]) -> String {
    let output = Command::new(shell).arg(db).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "sqlite3 {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Ways to change an archive behind its back, given an item's entry and the chain's head:
/// (what is changed, the SQL that changes it, what `archive verify` says).
fn tamperings(item: u64, head: u64) -> [(&'static str, String, String); 6] {
    let verdict = item + 1;
    [
        (
            "an item's text",
            format!(
                "DROP TRIGGER entries_only_disposal; UPDATE entries SET payload = replace(payload, 'back online', 'back offline') WHERE seq = {item};"
            ),
            format!("entry {item}: payload does not match its recorded SHA-256 (content altered)"),
        ),
        (
            "an entry's time",
            format!(
                "DROP TRIGGER entries_only_disposal; UPDATE entries SET recorded_at = '2020-01-01T00:00:00.000000Z' WHERE seq = {verdict};"
            ),
            format!("entry {verdict}: stored hash does not match its contents"),
        ),
        (
            "an entry deleted",
            format!("DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq = {verdict};"),
            format!(
                "entry {}: expected entry {verdict} here (entries missing, repeated or reordered)",
                verdict + 1
            ),
        ),
        (
            "a payload dropped without a disposition",
            format!(
                "DROP TRIGGER entries_only_disposal; UPDATE entries SET payload = NULL WHERE seq = {item};"
            ),
            format!(
                "entry {item}: payload is missing and no disposition entry records its removal"
            ),
        ),
        (
            "a search row",
            format!(
                "DROP TRIGGER items_no_update; UPDATE items SET author = 'someone else' WHERE seq = {item};"
            ),
            format!("entry {item}: the item row's `author` differs from the archived entry"),
        ),
        (
            "the signed head cut off",
            format!("DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq = {head};"),
            format!("chain ends at entry {} but must reach entry {head}", head - 1),
        ),
    ]
}

#[test]
fn verify_names_the_first_entry_changed_behind_the_archives_back() {
    let Some(shell) = tool("sqlite3") else {
        println!("skipped: sqlite3 not found");
        return;
    };
    // A fresh archive of items.jsonl: its folder, an item's entry and the head.
    let fresh = || -> (tempfile::TempDir, u64, u64) {
        let dir = tempfile::tempdir().unwrap();
        import(dir.path(), "jsonl", "imports/jsonl/items.jsonl", &[]);
        let run = ok_with_data(dir.path(), &["archive", "verify"]);
        let ok = "ok: 46 entries (24 items, 0 disposed), 1 signed checkpoint verified; head is entry 46 ";
        assert!(run.stdout.starts_with(ok), "{}", run.stdout);
        let item = ids(dir.path(), &["\"tariff comparison tool\""])[0];
        (dir, item, 46)
    };
    let db = |data: &Path| data.join("archive.sqlite3");
    let (_, item, head) = fresh();
    for (name, sql, message) in tamperings(item, head) {
        let (dir, _, _) = fresh();
        let data = dir.path();
        sqlite(&shell, &db(data), &[&sql]);
        let run = with_data(data, &["archive", "verify"]);
        assert_eq!(run.code, 1, "{name}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stdout, format!("NOT INTACT: {message}\n"), "{name}");
        let run = with_data(data, &["archive", "verify", "--format", "json"]);
        assert_eq!(run.code, 1, "{name}");
        assert_eq!(json(&run), serde_json::json!({"ok": false, "error": message}), "{name}");
    }

    // A forger who rewrites the head entry and its hash consistently still cannot sign it.
    let (dir, _, head) = fresh();
    let data = dir.path();
    let rows = sqlite(
        &shell,
        &db(data),
        &[
            "-json",
            &format!(
                "SELECT kind, recorded_at, lower(hex(prev)) AS prev, payload FROM entries WHERE seq = {head}"
            ),
        ],
    );
    let row = &serde_json::from_str::<Value>(&rows).unwrap()[0];
    let payload = row["payload"].as_str().unwrap().replacen(
        "\"action\":\"allow\"",
        "\"action\":\"block\"",
        1,
    );
    assert_ne!(payload, row["payload"].as_str().unwrap(), "the head is an allow verdict");
    let payload_sha256 = sha256_hex(payload.as_bytes());
    let hash = sha256_hex(
        format!(
            "lifeguard-entry-v1\n{head}\n{}\n{}\n{}\n{payload_sha256}",
            row["kind"].as_str().unwrap(),
            row["recorded_at"].as_str().unwrap(),
            row["prev"].as_str().unwrap()
        )
        .as_bytes(),
    );
    sqlite(
        &shell,
        &db(data),
        &[&format!(
            "DROP TRIGGER entries_only_disposal; UPDATE entries SET payload = '{}', payload_sha256 = X'{payload_sha256}', hash = X'{hash}' WHERE seq = {head};",
            payload.replace('\'', "''")
        )],
    );
    let run = with_data(data, &["archive", "verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "NOT INTACT: checkpoint at entry {head}: signed head differs from the chain's hash at that entry\n"
        )
    );
}

/// `archive dispose --now NOW --format json`: (disposed ids, held ids with their hold, all).
#[test]
fn the_signing_key_is_never_replaced_behind_an_archives_back() {
    let dir = tempfile::tempdir().unwrap();
    let (data, other) = (dir.path().join("data"), dir.path().join("other"));
    archive_of_fixtures(&data);
    import(&other, "jsonl", "imports/jsonl/items.jsonl", &[]);
    let key_file = data.join("signing.key");
    let kept = dir.path().join("signing.key.kept");
    let signed_by = ok_with_data(&data, &["archive", "public-key"]).stdout;

    // Without its key file, nothing is signed with a new key, and verification says why.
    fs::rename(&key_file, &kept).unwrap();
    let more = fixture("imports/jsonl/items.jsonl");
    for command in [
        &["archive", "verify"][..],
        &["archive", "checkpoint"],
        &["import", "jsonl", path(&more), "--no-progress"],
    ] {
        let run = with_data(&data, command);
        assert_eq!(run.code, 2, "{command:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("no signing key, but this archive's checkpoints were signed by key"),
            "{command:?}: {}",
            run.stderr
        );
        assert!(!key_file.exists(), "{command:?} made a new key");
    }

    // Another archive's key, or another archive's directory, is refused the same way.
    fs::copy(other.join("signing.key"), &key_file).unwrap();
    let run = with_data(&data, &["archive", "checkpoint"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("this is key "), "{}", run.stderr);
    fs::rename(&kept, &key_file).unwrap();
    let database = format!("sqlite:{}", path(&data.join("archive.sqlite3")));
    let run =
        lifeguard(&["archive", "checkpoint", "--database", &database, "--data", path(&other)], "");
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("this is key "), "{}", run.stderr);
    assert_eq!(ok_with_data(&data, &["archive", "public-key"]).stdout, signed_by);
    assert!(ok_with_data(&data, &["archive", "verify"]).stdout.starts_with("ok: "));

    // With its checkpoints gone, nothing vouches for the chain: it could have been rewritten.
    let Some(shell) = tool("sqlite3") else {
        eprintln!("skipped the unsigned-archive part: no sqlite3 shell");
        return;
    };
    let db = data.join("archive.sqlite3");
    sqlite(&shell, &db, &["DROP TRIGGER checkpoints_no_delete; DELETE FROM checkpoints;"]);
    let run = with_data(&data, &["archive", "verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("NOT VERIFIED: no signed checkpoint"), "{}", run.stdout);
    ok_with_data(&data, &["archive", "checkpoint"]);
    assert!(ok_with_data(&data, &["archive", "verify"]).stdout.starts_with("ok: "));
}

fn dispose(data: &Path, now: &str, extra: &[&str]) -> (Vec<u64>, Vec<(u64, String)>, Value) {
    let mut args = vec!["archive", "dispose", "--now", now, "--format", "json"];
    args.extend(extra);
    let report = json(&ok_with_data(data, &args));
    let id = |v: &Value| v["id"].as_u64().unwrap();
    let mut disposed: Vec<u64> = report["disposed"].as_array().unwrap().iter().map(id).collect();
    disposed.sort_unstable();
    let mut held: Vec<(u64, String)> = report["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (id(v), v["hold"].as_str().unwrap().to_owned()))
        .collect();
    held.sort_unstable();
    (disposed, held, report)
}

#[test]
fn retention_holds_and_disposal_work_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    import(data, "jsonl", "imports/jsonl/items.jsonl", &[]);
    let items = everything(data);
    let run = ok_with_data(data, &["archive", "retention", "list"]);
    assert!(run.stdout.starts_with("no retention rules"), "{}", run.stdout);

    let run = ok_with_data(
        data,
        &[
            "archive",
            "retention",
            "set",
            "social",
            "--keep",
            "6y",
            "--platform",
            "X",
            "--platform",
            "facebook",
            "--by",
            "Records team",
        ],
    );
    assert!(
        run.stdout.starts_with("retention rule `social` set: keep P6Y (entry 47)"),
        "{}",
        run.stdout
    );
    for (args, message) in [
        (&["--keep", "forever"][..], "--keep: `forever` is not a period"),
        (&["--keep", "1y", "--kind", "tweet"][..], "--kind: unknown kind `tweet`"),
        (&["--keep", "1y", "--author-type", "robot"][..], "--author-type: unknown author type"),
    ] {
        let mut all = vec!["archive", "retention", "set", "bad", "--by", "someone"];
        all.extend(args);
        let run = with_data(data, &all);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains(message), "{}", run.stderr);
    }
    let run = ok_with_data(data, &["archive", "retention", "list"]);
    assert_eq!(
        run.stdout,
        "social: keep P6Y — kinds: all; platforms: x, facebook; author types: all\n"
    );
    let rules = json(&ok_with_data(data, &["archive", "retention", "list", "--format", "json"]));
    assert_eq!(
        rules,
        serde_json::json!([{"id": "social", "keep": "P6Y", "kinds": [], "platforms": ["x", "facebook"], "author_types": []}])
    );

    // One hold by author, one by text and dates.
    let dave = expected(&items, |item| item["author"] == "Dave P");
    let storm = expected(&items, |item| {
        words(text(item)).contains(&"storm".to_owned())
            && item["created_at"].as_str().unwrap() < "2024-02-01"
            && item["platform"] == "x"
    });
    assert_eq!((dave.len(), storm.len()), (1, 1));
    ok_with_data(
        data,
        &[
            "archive",
            "hold",
            "place",
            "complaint",
            "--reason",
            "Complaint 4471",
            "--owner",
            "Legal",
            "--author",
            "Dave P",
        ],
    );
    ok_with_data(
        data,
        &[
            "archive",
            "hold",
            "place",
            "storm",
            "--reason",
            "Storm review",
            "--owner",
            "Legal",
            "--query",
            "storm",
            "--since",
            "2024-01-01",
            "--until",
            "2024-02-01",
        ],
    );
    let run = with_data(
        data,
        &["archive", "hold", "place", "storm", "--reason", "again", "--owner", "Legal"],
    );
    assert_eq!(run.code, 2, "a hold in force keeps its name");
    let run = with_data(
        data,
        &["archive", "hold", "place", "later", "--reason", "r", "--owner", "o", "--since", "soon"],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--since: `soon`"), "{}", run.stderr);
    let run = ok_with_data(data, &["archive", "hold", "list"]);
    assert!(run.stdout.contains("complaint — in force; owner Legal; reason: Complaint 4471; covers authors Dave P; placed "), "{}", run.stdout);
    assert!(run.stdout.contains("storm — in force; owner Legal; reason: Storm review; covers text matching storm; from 2024-01-01T00:00:00.000000Z; until 2024-02-01T00:00:00.000000Z; placed "), "{}", run.stdout);
    let holds = json(&ok_with_data(data, &["archive", "hold", "list", "--format", "json"]));
    assert_eq!(holds.as_array().unwrap().len(), 2);
    assert_eq!(holds[1]["scope"]["query"], "storm");
    assert_eq!(holds[1]["released"], Value::Null);
    assert_eq!(stats(data)["active_holds"], 2);

    // What the rule covers: the X and Facebook items; all of them are past six years in 2099.
    let covered =
        expected(&items, |item| item["platform"] == "x" || item["platform"] == "facebook");
    let mut unheld: Vec<u64> =
        covered.iter().copied().filter(|id| !dave.contains(id) && !storm.contains(id)).collect();
    unheld.sort_unstable();
    let held = vec![(storm[0], "storm".to_owned()), (dave[0], "complaint".to_owned())];
    let mut held_sorted = held.clone();
    held_sorted.sort_unstable();

    let before = stats(data);
    let (disposed, kept, report) = dispose(data, "2099-01-01", &["--dry-run"]);
    assert_eq!((disposed.clone(), kept.clone()), (unheld.clone(), held_sorted.clone()));
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["within_retention"], 0);
    assert_eq!(stats(data), before, "a dry run changes nothing");
    let run = ok_with_data(data, &["archive", "dispose", "--dry-run", "--now", "2099-01-01"]);
    assert!(
        run.stdout.contains(&format!("would dispose of {} items; kept 2 under hold", unheld.len())),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("run without --dry-run"));
    assert_eq!(stats(data), before);
    let (nothing, _, _) = dispose(data, "2026-01-01", &["--dry-run"]);
    assert!(nothing.is_empty(), "nothing is six years old yet");

    // A release of the storm hold written straight into its table, on a copy: disposal refuses
    // to decide from an archive that does not verify, and disposes of nothing.
    if let Some(shell) = tool("sqlite3") {
        let copy = tempfile::tempdir().unwrap();
        for file in ["archive.sqlite3", "archive.sqlite3-wal", "signing.key"] {
            if data.join(file).exists() {
                fs::copy(data.join(file), copy.path().join(file)).unwrap();
            }
        }
        ok_with_data(copy.path(), &["archive", "verify"]);
        let forged = "INSERT INTO hold_releases (seq, id) SELECT max(seq), 'storm' FROM entries;";
        sqlite(&shell, &copy.path().join("archive.sqlite3"), &[forged]);
        let run = with_data(copy.path(), &["archive", "dispose", "--now", "2099-01-01"]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.starts_with("not disposing of anything: the archive does not verify ("),
            "{}",
            run.stdout
        );
        assert_eq!(stats(copy.path())["disposed"], 0);
    } else {
        println!("skipped the forged-release part: no sqlite3 shell");
    }

    let (disposed, kept, _) = dispose(data, "2099-01-01", &[]);
    assert_eq!((disposed, kept), (unheld.clone(), held_sorted.clone()));
    let after = stats(data);
    assert!(after["disposed"].as_u64().unwrap() >= unheld.len() as u64, "{after}");
    assert_eq!(after["items"], before["items"], "disposal keeps the entries");
    let run = ok_with_data(data, &["archive", "verify"]);
    assert!(run.stdout.starts_with("ok: "), "{}", run.stdout);
    let gone =
        json(&ok_with_data(data, &["archive", "show", &unheld[0].to_string(), "--format", "json"]));
    assert_eq!((gone["item"]["text"].clone(), gone["payload"].clone()), (Value::Null, Value::Null));
    assert!(gone["disposed_by"].as_u64().unwrap() > 47);
    for (id, _) in &held {
        let kept =
            json(&ok_with_data(data, &["archive", "show", &id.to_string(), "--format", "json"]));
        assert!(kept["item"]["text"].is_string(), "{kept}");
    }
    let (again, _, _) = dispose(data, "2099-01-01", &[]);
    assert!(again.is_empty(), "what is disposed stays disposed");

    let run = with_data(
        data,
        &["archive", "hold", "release", "nothing", "--reason", "r", "--by", "Legal"],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no hold named `nothing` is in force"), "{}", run.stderr);
    for (id, hold) in held {
        let run = ok_with_data(
            data,
            &["archive", "hold", "release", &hold, "--reason", "closed", "--by", "Legal"],
        );
        assert!(
            run.stdout.starts_with(&format!("hold `{hold}` released (entry ")),
            "{}",
            run.stdout
        );
        let (disposed, _, _) = dispose(data, "2099-01-01", &[]);
        assert_eq!(disposed, [id], "releasing {hold} lets its item go");
    }
    let holds = json(&ok_with_data(data, &["archive", "hold", "list", "--format", "json"]));
    assert!(holds.as_array().unwrap().iter().all(|h| h["released"]["by"] == "Legal"), "{holds}");
    let run = ok_with_data(data, &["archive", "verify"]);
    assert!(run.stdout.starts_with("ok: "), "{}", run.stdout);
    let end = stats(data);
    assert_eq!(end["active_holds"], 0);
    let texts = everything(data);
    let present: Vec<u64> = expected(&texts, |item| !item["disposed"].as_bool().unwrap());
    let uncovered =
        expected(&items, |item| item["platform"] != "x" && item["platform"] != "facebook");
    assert_eq!(present, uncovered, "exactly what no rule covers is left");
}

/// An archive of items.jsonl with a disposal and a hold, exported whole and filtered.
struct Exported {
    _dir: tempfile::TempDir,
    data: PathBuf,
    full: PathBuf,
    filtered: PathBuf,
    key: String,
    other_key: String,
    root: PathBuf,
}

fn exported() -> Exported {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let data = root.join("data");
    import(&data, "jsonl", "imports/jsonl/items.jsonl", &[]);
    ok_with_data(
        &data,
        &[
            "archive",
            "retention",
            "set",
            "comments",
            "--keep",
            "6y",
            "--kind",
            "comment",
            "--by",
            "Records",
        ],
    );
    ok_with_data(
        &data,
        &[
            "archive",
            "hold",
            "place",
            "complaint",
            "--reason",
            "Complaint 4471",
            "--owner",
            "Legal",
            "--author",
            "Dave P",
        ],
    );
    let (disposed, _, _) = dispose(&data, "2099-01-01", &[]);
    assert_eq!(disposed.len(), 1, "the unheld comment goes");
    // Something after the disposition, so the bundle does not end with it.
    ok_with_data(
        &data,
        &[
            "archive",
            "hold",
            "place",
            "review",
            "--reason",
            "Annual review",
            "--owner",
            "Compliance",
            "--platform",
            "linkedin",
        ],
    );
    let (full, filtered) = (root.join("full"), root.join("filtered"));
    let run = ok_with_data(&data, &["archive", "export", "--out", path(&full)]);
    assert!(run.stdout.starts_with("exported "), "{}", run.stdout);
    let run = ok_with_data(
        &data,
        &["archive", "export", "storm", "--platform", "x", "--out", path(&filtered)],
    );
    assert!(run.stdout.contains("left out by the filters"), "{}", run.stdout);
    let key = ok_with_data(&data, &["archive", "public-key"]).stdout.trim().to_owned();
    let other = root.join("other");
    let other_key = ok_with_data(&other, &["archive", "public-key"]).stdout.trim().to_owned();
    assert_ne!(key, other_key);
    Exported { _dir: dir, data, full, filtered, key, other_key, root }
}

/// The lines of a bundle's entries.jsonl, without their line feeds.
fn lines(bundle: &Path) -> Vec<String> {
    fs::read_to_string(bundle.join("entries.jsonl")).unwrap().lines().map(str::to_owned).collect()
}

/// A copy of `bundle` with its entries replaced by `lines`; with `fix`, the manifest's
/// `files` entry is brought in line with them (and `edit_manifest` changes what else it must).
fn tampered(
    bundle: &Path,
    into: &Path,
    lines: &[String],
    fix: bool,
    edit_manifest: impl FnOnce(&mut Value),
) -> PathBuf {
    fs::create_dir_all(into).unwrap();
    let mut bytes = lines.join("\n").into_bytes();
    bytes.push(b'\n');
    fs::write(into.join("entries.jsonl"), &bytes).unwrap();
    let mut manifest: Value =
        serde_json::from_slice(&fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    if fix {
        let file = &mut manifest["files"][0];
        file["sha256"] = sha256_hex(&bytes).into();
        file["bytes"] = bytes.len().into();
        file["lines"] = lines.len().into();
    }
    edit_manifest(&mut manifest);
    fs::write(into.join("manifest.json"), serde_json::to_string_pretty(&manifest).unwrap())
        .unwrap();
    into.to_path_buf()
}

/// A tampered bundle, what `verify-export` says of it and what the Python verifier says.
struct Tampered {
    name: &'static str,
    dir: PathBuf,
    key: Option<String>,
    rust: String,
    python: String,
}

fn line_of(lines: &[String], needle: &str) -> usize {
    lines.iter().position(|line| line.contains(needle)).unwrap_or_else(|| panic!("{needle}"))
}

fn tampered_bundles(exported: &Exported) -> Vec<Tampered> {
    let full = &exported.full;
    let original = lines(full);
    let n = original.len();
    let at = |name: &str| exported.root.join("tampered").join(name);
    let mut cases = Vec::new();

    // A payload's byte, nothing else.
    let k = line_of(&original, "tariff comparison tool");
    let mut edited = original.clone();
    edited[k] = edited[k].replacen("tariff comparison tool", "tariff comparison toot", 1);
    cases.push(Tampered {
        name: "a payload changed",
        dir: tampered(full, &at("payload"), &edited, false, |_| {}),
        key: None,
        rust:
            "NOT INTACT: entries.jsonl: SHA-256 differs from the manifest (the file was changed)\n"
                .into(),
        python: "error: entries.jsonl: sha256 is ".into(),
    });

    // The same, with the manifest made to match the file.
    let seq = k + 1;
    cases.push(Tampered {
        name: "a payload changed and the manifest fixed",
        dir: tampered(full, &at("payload-manifest"), &edited, true, |_| {}),
        key: None,
        rust: format!("NOT INTACT: entries.jsonl:{seq}: entry {seq}: payload does not match its recorded SHA-256 (content altered)\n"),
        python: format!("error: entries.jsonl line {seq} (entry {seq}): payload does not match its SHA-256 (content altered)\n"),
    });

    // A line deleted.
    let mut edited = original.clone();
    edited.remove(9);
    cases.push(Tampered {
        name: "a line deleted",
        dir: tampered(full, &at("deleted"), &edited, true, |_| {}),
        key: None,
        rust: "NOT INTACT: entries.jsonl:10: entry 11: expected entry 10 here (entries missing, repeated or reordered)\n".into(),
        python: "error: entries.jsonl line 10: holds entry 11, expected entry 10 (entries missing or moved)\n".into(),
    });

    // Two lines swapped, and the same with their numbers swapped back.
    let mut edited = original.clone();
    edited.swap(4, 5);
    cases.push(Tampered {
        name: "two lines swapped",
        dir: tampered(full, &at("swapped"), &edited, true, |_| {}),
        key: None,
        rust: "NOT INTACT: entries.jsonl:5: entry 6: expected entry 5 here (entries missing, repeated or reordered)\n".into(),
        python: "error: entries.jsonl line 5: holds entry 6, expected entry 5 (entries missing or moved)\n".into(),
    });
    edited[4] = edited[4].replacen("{\"seq\":6,", "{\"seq\":5,", 1);
    edited[5] = edited[5].replacen("{\"seq\":5,", "{\"seq\":6,", 1);
    cases.push(Tampered {
        name: "two lines swapped and renumbered",
        dir: tampered(full, &at("renumbered"), &edited, true, |_| {}),
        key: None,
        rust:
            "NOT INTACT: entries.jsonl:5: entry 5: its `prev` does not match the hash of entry 4\n"
                .into(),
        python: "error: entries.jsonl line 5 (entry 5): `prev` is not the hash of entry 4\n".into(),
    });

    // A payload left out and called disposed, with the counts fixed.
    let k = line_of(&original, "Leeds depot");
    let mut edited = original.clone();
    let cut = edited[k].find("\"state\":\"present\"").unwrap();
    edited[k] = format!("{}\"state\":\"disposed\",\"payload\":null}}", &edited[k][..cut]);
    let seq = k + 1;
    cases.push(Tampered {
        name: "a payload removed without a disposition",
        dir: tampered(full, &at("disposed"), &edited, true, |m| {
            let counts = &mut m["counts"];
            counts["payloads"] = (counts["payloads"].as_u64().unwrap() - 1).into();
            counts["disposed"] = (counts["disposed"].as_u64().unwrap() + 1).into();
        }),
        key: None,
        rust: format!("NOT INTACT: entries.jsonl: entry {seq}: payload is missing and no disposition entry records its removal\n"),
        python: format!("error: entries.jsonl line {seq} (entry {seq}): payload disposed, but no later disposition entry names it"),
    });

    // The last entry cut off, and the manifest made to agree with what is left.
    let mut edited = original.clone();
    edited.pop();
    let head = serde_json::from_str::<Value>(&edited[n - 2]).unwrap()["hash"].clone();
    cases.push(Tampered {
        name: "the signed head cut off",
        dir: tampered(full, &at("truncated"), &edited, true, |m| {
            let counts = &mut m["counts"];
            counts["entries"] = (n - 1).into();
            counts["payloads"] = (counts["payloads"].as_u64().unwrap() - 1).into();
            m["chain"]["last"] = (n - 1).into();
            m["chain"]["head"] = head;
        }),
        key: None,
        rust: format!(
            "NOT INTACT: the signed checkpoint (entry {n}) is not the chain's head (entry {})\n",
            n - 1
        ),
        python: format!(
            "error: manifest.json checkpoint: signs entry {n}, but the bundle ends at entry {}\n",
            n - 1
        ),
    });

    // The signature changed.
    cases.push(Tampered {
        name: "the signature altered",
        dir: tampered(full, &at("signature"), &original, false, |m| {
            let signature = m["checkpoint"]["signature"].as_str().unwrap();
            let flipped = if signature.ends_with('0') { '1' } else { '0' };
            m["checkpoint"]["signature"] = format!("{}{flipped}", &signature[..127]).into();
        }),
        key: None,
        rust: format!("NOT INTACT: checkpoint at entry {n}: signature does not verify\n"),
        python: "error: manifest.json checkpoint: Ed25519 signature does not verify\n".into(),
    });

    // A good bundle, checked against another archive's key.
    cases.push(Tampered {
        name: "another archive's key",
        dir: full.clone(),
        key: Some(exported.other_key.clone()),
        rust: "NOT INTACT: the bundle was signed with another key than the one given\n".into(),
        python: format!(
            "error: manifest.json: public key {} is not the trusted key {}\n",
            exported.key, exported.other_key
        ),
    });
    cases
}

fn verify_export(bundle: &Path, key: Option<&str>) -> Run {
    let mut args = vec!["archive", "verify-export", path(bundle)];
    if let Some(key) = key {
        args.extend(["--public-key", key]);
    }
    lifeguard(&args, "")
}

#[test]
fn export_bundles_verify_and_every_kind_of_tampering_is_named() {
    let exported = exported();
    let manifest = |bundle: &Path| -> Value {
        serde_json::from_slice(&fs::read(bundle.join("manifest.json")).unwrap()).unwrap()
    };
    let full = manifest(&exported.full);
    let n = lines(&exported.full).len() as u64;
    assert_eq!(full["counts"]["entries"].as_u64(), Some(n));
    assert_eq!(
        (full["counts"]["omitted"].as_u64(), full["counts"]["disposed"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(full["chain"]["last"].as_u64(), Some(n));
    assert_eq!(full["public_key"], exported.key.as_str());
    assert_eq!(full["filters"]["query"], Value::Null);

    let key_file = exported.root.join("archive.pub");
    fs::write(&key_file, format!("{}\n", exported.key)).unwrap();
    for bundle in [&exported.full, &exported.filtered] {
        for key in [None, Some(exported.key.as_str()), Some(path(&key_file))] {
            let run = verify_export(bundle, key);
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            assert!(run.stdout.starts_with(&format!("ok: {n} entries (")), "{}", run.stdout);
            let noted = run.stderr.contains("checked against the public key the bundle carries");
            assert_eq!(noted, key.is_none(), "only a self-vouched bundle says so: {}", run.stderr);
        }
    }
    let run =
        lifeguard(&["archive", "verify-export", path(&exported.full), "--format", "json"], "");
    assert_eq!(json(&run)["ok"], true);

    // The filtered bundle carries the content of what matches, and proves the rest.
    let filtered = manifest(&exported.filtered);
    assert_eq!(
        (filtered["filters"]["query"].as_str(), filtered["filters"]["platform"].as_str()),
        (Some("storm"), Some("x"))
    );
    assert_eq!(filtered["chain"], full["chain"], "it covers the same chain");
    let matching = ids(&exported.data, &["storm", "--platform", "x"]);
    assert!(!matching.is_empty());
    let mut present_items = Vec::new();
    for line in lines(&exported.filtered) {
        let entry: Value = serde_json::from_str(&line).unwrap();
        let (seq, kind, state) = (
            entry["seq"].as_u64().unwrap(),
            entry["kind"].as_str().unwrap(),
            entry["state"].as_str().unwrap(),
        );
        match kind {
            "item" if state == "present" => present_items.push(seq),
            "verdict" if state == "present" => {
                assert!(matching.contains(&entry["payload"]["item"].as_u64().unwrap()), "{line}");
            }
            "item" | "verdict" => assert!(state == "omitted" || state == "disposed", "{line}"),
            _ => assert_eq!(state, "present", "entries of other kinds are always there: {line}"),
        }
    }
    present_items.sort_unstable();
    let mut matching = matching;
    matching.sort_unstable();
    assert_eq!(present_items, matching);
    assert!(filtered["counts"]["omitted"].as_u64().unwrap() > 0);

    for case in tampered_bundles(&exported) {
        let run = verify_export(&case.dir, case.key.as_deref());
        assert_eq!(run.code, 1, "{}: {}{}", case.name, run.stdout, run.stderr);
        assert_eq!(run.stdout, case.rust, "{}", case.name);
    }

    // Refusals: a folder that is not empty, an empty archive, a folder with no bundle.
    let run = with_data(&exported.data, &["archive", "export", "--out", path(&exported.full)]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not empty; export into a new folder"), "{}", run.stderr);
    let empty = exported.root.join("empty");
    let run =
        with_data(&empty, &["archive", "export", "--out", path(&exported.root.join("nothing"))]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("there is no archive at"), "{}", run.stderr);
    let nothing = exported.root.join("nothing.jsonl");
    fs::write(&nothing, "").unwrap();
    ok_with_data(&empty, &["import", "jsonl", path(&nothing), "--no-progress"]);
    let run =
        with_data(&empty, &["archive", "export", "--out", path(&exported.root.join("nothing"))]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("the archive is empty: nothing to export"), "{}", run.stderr);
    let run = verify_export(&exported.root.join("nowhere"), None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot open"), "{}", run.stderr);
    let run = verify_export(&exported.full, Some("not-a-key"));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--public-key: `not-a-key` is neither 64 hex digits nor a readable file"),
        "{}",
        run.stderr
    );
}

/// The format document says a payload has no repeated keys: a reader that keeps the first
/// of two would see other content than the one that was hashed.
#[test]
fn verify_export_refuses_repeated_keys() {
    let exported = exported();
    let mut edited = lines(&exported.full);
    let k = line_of(&edited, "tariff comparison tool");
    edited[k] = edited[k].replacen("\"payload\":{", "\"payload\":{\"text\":\"Forged\",", 1);
    let bundle = tampered(&exported.full, &exported.root.join("repeated"), &edited, true, |_| {});
    let run = verify_export(&bundle, None);
    assert_eq!(run.code, 1, "{}", run.stdout);
}

/// Runs the Python verifier, or says why it cannot.
fn python(args: &[&str]) -> Option<Run> {
    let Some(python) = tool("python3") else {
        println!("skipped: python3 not found");
        return None;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify_export.py");
    let output = Command::new(python).arg(script).args(args).output().unwrap();
    Some(Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

#[test]
fn the_python_verifier_agrees_on_good_and_tampered_bundles() {
    let Some(run) = python(&["--self-test"]) else { return };
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("ok: self-test passed"), "{}", run.stdout);

    let exported = exported();
    let head = ok_with_data(&exported.data, &["archive", "stats", "--format", "json"]);
    let head = json(&head)["head"]["hash"].as_str().unwrap().to_owned();
    let n = lines(&exported.full).len();
    for bundle in [&exported.full, &exported.filtered] {
        for key in [None, Some(exported.key.as_str())] {
            let mut args = vec![path(bundle)];
            if let Some(key) = key {
                args.extend(["--public-key", key]);
            }
            let run = python(&args).unwrap();
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            assert_eq!(run.stdout, format!("ok: {n} entries, head {head}\n"));
        }
    }
    for case in tampered_bundles(&exported) {
        let mut args = vec![path(&case.dir)];
        if let Some(key) = &case.key {
            args.extend(["--public-key", key]);
        }
        let run = python(&args).unwrap();
        assert_eq!(run.code, 1, "{}: {}{}", case.name, run.stdout, run.stderr);
        assert!(run.stdout.starts_with(&case.python), "{}: {}", case.name, run.stdout);
    }
}

#[test]
fn the_bundle_of_version_one_still_verifies() {
    let bundle = fixture("exports/v1");
    let key_file = fixture("exports/v1.pub");
    let key = fs::read_to_string(&key_file).unwrap().trim().to_owned();
    let run = verify_export(&bundle, Some(path(&key_file)));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("ok: "), "{}", run.stdout);

    // It is worth keeping: it holds every kind of entry and every state a bundle can hold
    // without filters.
    let mut kinds = BTreeSet::new();
    let mut states = BTreeSet::new();
    for line in lines(&bundle) {
        let entry: Value = serde_json::from_str(&line).unwrap();
        kinds.insert(entry["kind"].as_str().unwrap().to_owned());
        states.insert(entry["state"].as_str().unwrap().to_owned());
    }
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    assert_eq!(kinds, ["disposition", "hold", "hold_release", "item", "retention", "verdict"]);
    assert_eq!(states.into_iter().collect::<Vec<_>>(), ["disposed", "present"]);

    let Some(run) = python(&[path(&bundle), "--public-key", &key]) else { return };
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("ok: "), "{}", run.stdout);
}
