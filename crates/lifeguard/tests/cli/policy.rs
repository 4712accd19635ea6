//! `lifeguard policy`: lint, test, explain, init, show.

use std::fs;

use crate::{fixture, lifeguard, lifeguard_in, minimal_policy};

#[test]
fn lint_reports_a_clean_policy() {
    let run = lifeguard(&["policy", "lint", &minimal_policy()], "");
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stdout, "ok: 4 clauses, 7 rules, 11 examples; 0 warning(s)\n");
}

#[test]
fn lint_reports_every_problem_with_its_place_and_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("policy.md"),
        "+++\nid = \"p\"\ntitle = \"P\"\nversion = \"1\"\neffective = \"2026-13-01\"\n+++\n## A {#a}\n\n```rules\n[[rule]]\nid = \"R\"\ncategory = \"c\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nterms_file = \"terms/none.txt\"\n\n[[rule]]\nid = \"S\"\ncategory = \"c\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nterms_file = \"terms/bad.txt\"\n```\n",
    )
    .unwrap();
    fs::create_dir(dir.path().join("terms")).unwrap();
    fs::write(dir.path().join("terms/bad.txt"), "fine\n  ???\n").unwrap();
    let run = lifeguard_in(Some(dir.path()), &["policy", "lint", "."], "");
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stdout,
        "./policy.md:2:1: warning: no one is accountable for this policy: name someone in `accountable` under `[ownership]`\n\
         ./policy.md:5:13: `effective` must be a date written YYYY-MM-DD\n\
         ./policy.md:16:14: term file `terms/none.txt` not found next to the policy\n\
         ./terms/bad.txt:2:3: term \"???\" has no letters or digits to match\n\
         3 error(s), 1 warning(s)\n"
    );
}

#[test]
fn test_runs_the_examples_and_counts_them() {
    let run = lifeguard(&["policy", "test", &minimal_policy()], "");
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stdout, "11 passed, 0 failed\n");
}

#[test]
fn a_failing_example_is_shown_with_its_place_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let source = fs::read_to_string(fixture("policies/minimal/policy.md")).unwrap();
    let source =
        source.replace("text = \"A heck of a deal on boots\"", "text = \"A heck of a mess\"");
    fs::write(dir.path().join("policy.md"), source).unwrap();
    fs::create_dir(dir.path().join("terms")).unwrap();
    fs::copy(fixture("policies/minimal/terms/words.txt"), dir.path().join("terms/words.txt"))
        .unwrap();
    let path = dir.path().join("policy.md");
    let run = lifeguard(&["policy", "test", path.to_str().unwrap()], "");
    assert_eq!(run.code, 1);
    let expected = format!(
        "{}:34:1: example failed: expected nothing, got [LANG-1]\n    text: \"A heck of a mess\"\n10 passed, 1 failed\n",
        path.display()
    );
    assert_eq!(run.stdout, expected);
}

#[test]
fn explain_turns_rules_into_sentences() {
    let run = lifeguard(&["policy", "explain", &minimal_policy()], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = run.stdout;
    for sentence in [
        "- **LANG-1** (high): Posts that use \"darn\", \"heck\" or a term listed in `terms/words.txt` are flagged for a supervisor, unless the match is part of \"heck of a deal\". *Mind your language.*",
        "- **MONEY-1** (medium): Posts that mention \"guarantee\" or \"guaranteed\" within 2 words of \"returns\" or \"profit\" need approval before they go up. *Promises about returns need approval.*",
        "- **DATA-1** (critical): Posts that contain a payment card number or an e-mail address are blocked, unless the match is part of \"help@acme.example\". *No card numbers.*",
        "- **LINK-1** (low): Posts that link to `bad.example` (or an address written to look like one) or a URL shortener are flagged for a supervisor. *Shortened links hide where they go.*",
        "- **AD-1** (medium): Posts that mention \"sponsored\" or \"gifted\" without \"#ad\" in the first 3 words are flagged for a supervisor. *Disclose sponsorships at the start.*",
        "- **STATIC-1** (low): All bios and banners need approval before they go up. *Static content needs approval.*",
        "- \"Engineer at Acme\" (bio) → caught by STATIC-1",
        "- \"A heck of a deal on boots\" → fine",
    ] {
        assert!(text.contains(sentence), "missing {sentence:?} in:\n{text}");
    }
    assert!(!text.contains("[[rule]]") && !text.contains("```"), "{text}");
}

#[test]
fn init_writes_the_default_policy_which_lints_and_passes_its_examples() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("policy");
    let target = target.to_str().unwrap();
    let run = lifeguard(&["policy", "init", target], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(lifeguard(&["policy", "lint", target], "").code, 0);
    let tested = lifeguard(&["policy", "test", target], "");
    assert_eq!(tested.code, 0, "{}", tested.stdout);
    assert!(tested.stdout.ends_with(" passed, 0 failed\n"));
    let again = lifeguard(&["policy", "init", target], "");
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exist"), "{}", again.stderr);
    assert_eq!(lifeguard(&["policy", "init", "--force", target], "").code, 0);
    let shown = lifeguard(&["policy", "show"], "");
    assert_eq!(shown.stdout, fs::read_to_string(dir.path().join("policy/policy.md")).unwrap());
    // The file named bare, from its own folder, finds its term files there.
    let folder = dir.path().join("policy");
    for command in [&["policy", "lint", "policy.md"][..], &["policy", "test", "policy.md"]] {
        let run = lifeguard_in(Some(&folder), command, "");
        assert_eq!(run.code, 0, "{command:?}: {}{}", run.stdout, run.stderr);
    }
    let run = lifeguard_in(Some(&folder), &["check", "--policy", "policy.md", "-"], "hello");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
