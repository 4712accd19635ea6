//! `lifeguard check` on one post.

use crate::{lifeguard, minimal_policy};

#[test]
fn a_clean_post_exits_zero() {
    let run = lifeguard(&["check", "--policy", &minimal_policy()], "A lovely day at the beach\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("ALLOW  0 finding(s)  policy minimal 1 ("), "{}", run.stdout);
}

#[test]
fn a_finding_that_needs_action_exits_one_and_is_underlined() {
    let run =
        lifeguard(&["check", "--policy", &minimal_policy()], "Card 4111 1111 1111 1111 please\n");
    assert_eq!(run.code, 1);
    let expected = "\n1 | Card 4111 1111 1111 1111 please\n  |      ^^^^^^^^^^^^^^^^^^^ DATA-1 block · critical · personal_data\n  | § Data [data] (credit_card)\n  | No card numbers.\n";
    assert!(run.stdout.ends_with(expected), "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'), "no colour when not on a terminal");
}

#[test]
fn exit_zero_reports_without_failing_but_errors_still_fail() {
    let policy = minimal_policy();
    let run = lifeguard(&["check", "--exit-zero", "--policy", &policy], "what the heck");
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("LANG-1"), "{}", run.stdout);
    let run = lifeguard(
        &["check", "--exit-zero", "--jsonl", "--policy", &policy],
        "{\"text\":\"heck\"}\nbad\n",
    );
    assert_eq!(run.code, 2);
}

#[test]
fn json_format_names_rule_clause_span_entity_and_policy() {
    let run = lifeguard(
        &["check", "--policy", &minimal_policy(), "--format", "json"],
        "mail bob@acme.example",
    );
    assert_eq!(run.code, 1);
    let line = run.stdout.trim_end();
    let prefix = r#"{"action":"block","findings":[{"rule":"DATA-1","clause":"data","clause_title":"Data","category":"personal_data","severity":"critical","action":"block","start":5,"end":21,"match":"bob@acme.example","entity":"email","message":"No card numbers."}],"policy":{"id":"minimal","version":"1","hash":""#;
    assert!(line.starts_with(prefix), "{line}");
}

#[test]
fn kind_author_and_platform_scope_the_rules() {
    let policy = minimal_policy();
    let run = lifeguard(&["check", "--policy", &policy, "--kind", "bio"], "Engineer at Acme");
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("STATIC-1 require_approval"), "{}", run.stdout);
    let run = lifeguard(&["check", "--policy", &policy, "--kind", "tweet"], "x");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown kind `tweet`"), "{}", run.stderr);
    let run = lifeguard(&["check", "--policy", &policy, "--author-type", "robot"], "x");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown author type `robot`"), "{}", run.stderr);
}

#[test]
fn the_built_in_policy_is_the_default() {
    let run = lifeguard(&["check", "--format", "json"], "hello world");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(r#""action":"allow""#), "{}", run.stdout);
}

#[test]
fn invalid_utf8_names_the_byte_offset() {
    let run = lifeguard(&["check", "--policy", &minimal_policy()], b"abc\xffdef".as_slice());
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "lifeguard: standard input: not UTF-8 (invalid byte at offset 3)\n");
}

#[test]
fn empty_posts_nul_bytes_and_a_one_mebibyte_post_are_checked() {
    let policy = minimal_policy();
    assert_eq!(lifeguard(&["check", "--policy", &policy], "").code, 0);
    assert_eq!(lifeguard(&["check", "--policy", &policy], "\0\0heck\0").code, 1);
    let mut big = "lorem ipsum dolor ".repeat((1 << 20) / 18);
    big.push_str(" heck");
    let run = lifeguard(&["check", "--policy", &policy, "--format", "json"], &big);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains(r#""rule":"LANG-1""#));
}

#[test]
fn a_post_over_the_limit_is_refused_clearly() {
    let big = vec![b'a'; (8 << 20) + 1];
    let run = lifeguard(&["check", "--policy", &minimal_policy()], &big);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "lifeguard: standard input: the post is larger than the limit of 8388608 bytes\n"
    );
}

#[test]
fn usage_errors_exit_two() {
    let run = lifeguard(&["check", "--stats"], "");
    assert_eq!(run.code, 2);
    let run = lifeguard(&["frobnicate"], "");
    assert_eq!(run.code, 2);
    let run = lifeguard(&["check", "--policy", "/nonexistent/policy.md"], "x");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("lifeguard: cannot read policy /nonexistent/policy.md"),
        "{}",
        run.stderr
    );
}
