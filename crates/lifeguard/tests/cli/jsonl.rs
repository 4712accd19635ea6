//! `lifeguard check --jsonl`: one verdict per line, in order, errors per line.

use std::fmt::Write as _;

use crate::{lifeguard, minimal_policy};

fn jsonl(input: &[u8], threads: &str) -> crate::Run {
    lifeguard(
        &["check", "--jsonl", "--policy", &minimal_policy(), "--threads", threads, "-"],
        input,
    )
}

/// Each output line shortened to `id action [rules]` or `line N error`.
fn summary(stdout: &str) -> String {
    stdout
        .lines()
        .map(|line| {
            if let Some(at) = line.find(r#""error":"#) {
                let number =
                    line.trim_start_matches(r#"{"line":"#).split([',', '}']).next().unwrap_or("");
                return format!("line {number} error {}", &line[at + 9..line.len() - 2]);
            }
            let id = line
                .split(r#""id":"#)
                .nth(1)
                .and_then(|rest| rest.split(',').next())
                .unwrap_or("-");
            let action =
                line.split(r#""action":""#).nth(1).and_then(|r| r.split('"').next()).unwrap_or("?");
            let rules: Vec<&str> =
                line.split(r#""rule":""#).skip(1).filter_map(|r| r.split('"').next()).collect();
            format!("{id} {action} [{}]", rules.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn verdicts_come_out_in_order_with_ids_echoed_and_errors_in_place() {
    let input = concat!(
        "{\"id\":\"a\",\"text\":\"what the heck\"}\n",
        "{\"id\":2,\"text\":\"fine\",\"label\":\"ignored\"}\n",
        "not json\n",
        "\n",
        "{\"id\":\"c\",\"text\":\"Engineer\",\"kind\":\"bio\"}\n",
        "{\"id\":\"d\",\"text\":\"x\",\"kind\":\"tweet\"}\n",
        "{\"id\":\"e\"}\n",
        "{\"id\":{\"nested\":[1,2]},\"text\":\"\",\"author_type\":\"third_party\",\"platform\":\"x\"}\r\n",
        "{\"id\":\"f\",\"text\":\"card 4111111111111111\"}\n",
        "[\"g\",\"what the heck\"]",
    );
    let run = jsonl(input.as_bytes(), "1");
    assert_eq!(run.code, 2, "a bad line makes the run exit 2, after finishing");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[5].starts_with(r#"{"line":7,"id":"e","error":"#),
        "the id is echoed: {}",
        lines[5]
    );
    insta::assert_snapshot!(summary(&run.stdout), @r#"
    "a" flag [LANG-1]
    2 allow []
    line 3 error invalid JSON at column 2: expected ident
    "c" require_approval [STATIC-1]
    line 6 error field `kind`: unknown kind `tweet` (expected one of: post, reply, comment, message, repost, story, profile, bio, banner, pinned)
    line 7 error missing field `text` (at column 10)
    {"nested":[1 allow []
    "f" block [DATA-1]
    line 10 error invalid JSON at column 1: expected an object, not an array
    "#);
}

#[test]
fn a_byte_order_mark_before_the_first_line_is_skipped() {
    let run = jsonl("\u{feff}{\"id\":1,\"text\":\"what the heck\"}\n".as_bytes(), "1");
    assert_eq!(summary(&run.stdout), "1 flag [LANG-1]", "{}", run.stderr);
}

#[test]
fn per_post_options_belong_to_each_line_in_json_lines_mode() {
    for option in [
        &["--kind", "bio"][..],
        &["--author-type", "corporate"],
        &["--platform", "x"],
        &["--format", "json"],
    ] {
        let mut args = vec!["check", "--jsonl"];
        args.extend_from_slice(option);
        args.push("-");
        let run = lifeguard(&args, "{\"text\":\"hi\"}\n");
        assert_eq!(run.code, 2, "{option:?}: {}", run.stderr);
        assert!(run.stderr.contains("cannot be used with"), "{option:?}: {}", run.stderr);
    }
}

#[test]
fn invalid_utf8_on_a_line_names_the_byte_and_the_run_goes_on() {
    let mut input = b"{\"id\":1,\"text\":\"ok\"}\n".to_vec();
    input.extend_from_slice(b"{\"id\":2,\"text\":\"bad \xc3\x28\"}\n");
    input.extend_from_slice(b"{\"id\":3,\"text\":\"heck\"}\n");
    let run = jsonl(&input, "2");
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(summary(&run.stdout), @r#"
    1 allow []
    line 2 error invalid UTF-8 at byte 41 of the input (byte 20 of the line)
    3 flag [LANG-1]
    "#);
}

#[test]
fn a_line_over_the_limit_is_an_error_and_later_lines_still_count() {
    let mut input =
        format!("{{\"id\":1,\"text\":\"{}\"}}\n", "a".repeat((8 << 20) + 10)).into_bytes();
    input.extend_from_slice(b"{\"id\":2,\"text\":\"heck\"}\n");
    let run = jsonl(&input, "1");
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(summary(&run.stdout), @r#"
    line 1 error line is longer than the limit of 8388608 bytes; skipped
    2 flag [LANG-1]
    "#);
}

#[test]
fn many_threads_give_the_same_output_as_one() {
    let mut input = String::new();
    for n in 0..20_000 {
        let text = match n % 5 {
            0 => "what the heck",
            1 => "a calm post about the weather",
            2 => "mail bob@acme.example",
            3 => "broken",
            _ => "",
        };
        if n % 5 == 3 {
            let _ = writeln!(input, "{{\"id\":{n},\"text\":");
        } else {
            let _ = writeln!(input, "{{\"id\":{n},\"text\":\"{text}\"}}");
        }
    }
    let one = jsonl(input.as_bytes(), "1");
    let four = jsonl(input.as_bytes(), "4");
    assert_eq!(one.code, 2);
    assert_eq!(one.stdout.lines().count(), 20_000);
    assert!(one.stdout == four.stdout, "outputs differ between 1 and 4 threads");
}

#[test]
fn all_clean_exits_zero_and_stats_go_to_stderr() {
    let run = lifeguard(
        &["check", "--jsonl", "--stats", "--policy", &minimal_policy()],
        "{\"id\":1,\"text\":\"hello\"}\n{\"id\":2,\"text\":\"world\"}\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2);
    assert!(run.stderr.starts_with("checked 2 posts (0.0 MB) in "), "{}", run.stderr);
    assert!(run.stderr.contains("posts/s") && run.stderr.contains("MB/s"), "{}", run.stderr);
}

/// The keys of an object in the schema's `$defs`.
fn schema_keys(schema: &serde_json::Value, def: &str, field: &str) -> Vec<String> {
    let mut keys: Vec<String> = match &schema["$defs"][def][field] {
        serde_json::Value::Object(map) => map.keys().cloned().collect(),
        serde_json::Value::Array(items) => {
            items.iter().map(|v| v.as_str().unwrap().to_owned()).collect()
        }
        other => panic!("no {field} in {def}: {other}"),
    };
    keys.sort();
    keys
}

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn output_lines_have_exactly_the_fields_the_schema_documents() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::fixture("../docs/verdict.schema.json")).unwrap(),
    )
    .unwrap();
    let input = "{\"id\":1,\"text\":\"card 4111 1111 1111 1111 and heck\"}\n{\"id\":2,\"text\":\"Engineer\",\"kind\":\"bio\"}\nnope\n";
    let run = jsonl(input.as_bytes(), "1");
    let lines: Vec<serde_json::Value> =
        run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(keys(&lines[0]), schema_keys(&schema, "verdict", "properties"));
    let with_entity = &lines[0]["findings"][0];
    assert_eq!(keys(with_entity), schema_keys(&schema, "finding", "properties"));
    let without_entity = &lines[1]["findings"][0];
    assert_eq!(keys(without_entity), schema_keys(&schema, "finding", "required"));
    assert_eq!(keys(&lines[0]["policy"]), {
        let mut k: Vec<String> = schema["$defs"]["verdict"]["properties"]["policy"]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        k.sort();
        k
    });
    assert_eq!(keys(&lines[2]), schema_keys(&schema, "error", "required"));
    let entities = schema["$defs"]["finding"]["properties"]["entity"]["enum"].as_array().unwrap();
    for entity in lifeguard_core::detect::Entity::ALL {
        assert!(entities.iter().any(|e| e == entity.name()), "{entity:?} missing from the schema");
    }
}

#[test]
fn a_verdict_without_findings_is_written_like_any_other() {
    let run = jsonl(b"{\"id\": [1, \"a b\"],  \"text\": \"fine\"}\n{\"text\": \"fine\"}\n", "1");
    assert_eq!(run.code, 0, "{}", run.stdout);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let hash = lines[0].split("\"hash\":\"").nth(1).unwrap().split('"').next().unwrap();
    let policy = format!("{{\"id\":\"minimal\",\"version\":\"1\",\"hash\":\"{hash}\"}}");
    assert_eq!(
        lines[0],
        format!("{{\"id\":[1, \"a b\"],\"action\":\"allow\",\"findings\":[],\"policy\":{policy}}}")
    );
    assert_eq!(lines[1], format!("{{\"action\":\"allow\",\"findings\":[],\"policy\":{policy}}}"));
    let single =
        crate::lifeguard(&["check", "--format", "json", "--policy", &minimal_policy()], "fine");
    assert_eq!(single.stdout.trim_end(), lines[1], "the serde path writes the same line");
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::process::{Command, Stdio};

    let input = "{\"id\":1,\"text\":\"what the heck\"}\n".repeat(200_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifeguard"))
        .args(["check", "--jsonl", "--threads", "2", "--policy", &minimal_policy(), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("{\"id\":1,\"action\":\"flag\""), "{first}");
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}
