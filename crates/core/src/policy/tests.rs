//! Parser and compiler tests: documents in, diagnostics or rule summaries out.

use super::*;

/// Parses and compiles, rendering every diagnostic on its own line, or `ok` with counts.
fn lint(source: &str, files: &[(&str, &str)]) -> String {
    let loaded = load("p.md", source, &MemoryFiles::new(files.iter().copied()));
    if loaded.diagnostics.is_empty() {
        let p = &loaded.policy;
        return format!(
            "ok: {} clauses, {} rules, {} examples",
            p.clauses.len(),
            p.rules.len(),
            p.examples.len()
        );
    }
    loaded.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

const FRONT: &str = "+++\nid = \"t\"\ntitle = \"T\"\nversion = \"1\"\neffective = \"2026-01-01\"\n\
    [ownership]\naccountable = [\"Compliance\"]\n+++\n";

fn doc(body: &str) -> String {
    format!("{FRONT}{body}")
}

#[test]
fn a_valid_policy_parses_with_its_clauses_rules_and_examples() {
    let source = doc(
        "# T\n\n## Words {#words}\n\n```rules\n[[rule]]\nid = \"W-1\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nterms = [\"darn\"]\n```\n\n```examples\n[[example]]\ntext = \"darn\"\nexpect = [\"W-1\"]\n```\n",
    );
    assert_eq!(lint(&source, &[]), "ok: 2 clauses, 1 rules, 1 examples");
    let parsed = parse("p.md", &source);
    let rule = &parsed.policy.rules[0];
    assert_eq!(parsed.policy.clause_of(rule).id.as_deref(), Some("words"));
    assert_eq!(rule.at, Position { line: 14, column: 1 });
    assert_eq!(parsed.policy.examples[0].at, Position { line: 24, column: 1 });
}

#[test]
fn regions_are_read_from_the_front_matter_and_each_bad_one_is_reported_at_its_place() {
    let body = "# T\n";
    let front = |regions: &str| {
        format!(
            "+++\nid = \"t\"\ntitle = \"T\"\nversion = \"1\"\neffective = \"2026-01-01\"\n\
             regions = {regions}\n[ownership]\naccountable = [\"C\"]\n+++\n{body}"
        )
    };
    let good = parse("p.md", &front("[\"GB\", \"FR\"]"));
    assert!(good.diagnostics.is_empty(), "{:?}", good.diagnostics);
    let codes: Vec<String> = good.policy.meta.regions.iter().map(ToString::to_string).collect();
    assert_eq!(codes, ["GB", "FR"]);
    assert!(explain(&good.policy).contains(
        "- **Phone numbers** written without a country code are read as numbers of: GB, FR\n"
    ));
    assert!(parse("p.md", &doc(body)).policy.meta.regions.is_empty());
    insta::assert_snapshot!(lint(&front("[\"UK\", \"fr\", \"Germany\", \"IE\", \"IE\"]"), &[]), @r"
    p.md:6:12: unknown region `UK`: did you mean `GB`?
    p.md:6:18: unknown region `fr`: did you mean `FR`?
    p.md:6:24: unknown region `Germany`: expected an ISO 3166-1 alpha-2 code such as `GB`, `DE` or `FR`
    p.md:6:41: region `IE` is listed twice in `regions`
    ");
}

#[test]
fn front_matter_keys_are_checked_however_the_toml_writes_them() {
    let valid = "+++\nid = \"t\"\ntitle = \"T\"\nversion = \"1\"\neffective = \"2026-01-01\"\n\
        ownership.accountable = [\"Compliance\"]\nownership.informed = [\n  \"Team = everyone\",\n]\n+++\n# T\n";
    assert_eq!(lint(valid, &[]), "ok: 1 clauses, 0 rules, 0 examples");
    let inline = "+++\nid = \"t\"\ntitle = \"T\"\nversion = \"1\"\neffective = \"2026-01-01\"\n\
        ownership = { accountable = [\"C\"], consulted = [] }\n+++\n# T\n";
    assert_eq!(lint(inline, &[]), "ok: 1 clauses, 0 rules, 0 examples");
    let wrong = "+++\nid = \"t\"\ntitle = \"T\"\nversion = \"1\"\neffective = \"2026-01-01\"\n\
        titel = \"T\"\n[owners]\nx = 1\n[ownership]\n\
        accountable = [\"C\"]\nregions = [\"GB\"]\nreviewers = []\n+++\n# T\n";
    insta::assert_snapshot!(lint(wrong, &[]), @r"
    p.md:6:1: unknown field `titel`: did you mean `title`? (expected one of: id, title, version, effective, regions, ownership)
    p.md:7:2: unknown field `owners` (expected one of: id, title, version, effective, regions, ownership)
    p.md:11:1: `regions` is read as part of `[ownership]` here: move it above that line
    p.md:12:1: unknown field `reviewers` (expected one of: responsible, accountable, consulted, informed)
    ");
    let dotted = "+++\nid = \"t\"\ntitle = \"T\"\nversion = \"1\"\neffective = \"2026-01-01\"\n\
        ownership.acountable = [\"C\"]\n+++\n# T\n";
    insta::assert_snapshot!(lint(dotted, &[]), @r"
    p.md:2:1: warning: no one is accountable for this policy: name someone in `accountable` under `[ownership]`
    p.md:6:11: unknown field `acountable`: did you mean `accountable`? (expected one of: responsible, accountable, consulted, informed)
    ");
}

#[test]
fn every_kind_of_error_is_reported_at_once_with_its_place() {
    let source = "+++\nid = \"Bad Id\"\ntitle = \"T\"\nversion = \"1 2\"\neffective = \"2026-02-30\"\ncolour = \"red\"\n+++\n\
# T\n\n\
## Orphan\n\n\
```rules\n[[rule]]\nid = \"X\"\n```\n\n\
## Words {#words}\n\n\
```rules\n\
[[rule]]\nid = \"W-1\"\ncategory = \"Offensive\"\nseverity = \"huge\"\naction = \"flag\"\nmessage = \"m\"\nterms = [\"darn\"]\n\n\
[[rule]]\nid = \"W-2\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nregex = '(unclosed'\n\n\
[[rule]]\nid = \"W-3\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nterms_file = \"missing.txt\"\nunless = [\"???\"]\n\n\
[[rule]]\nid = \"W-3\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nalways = true\n\n\
[[rule]]\nid = \"W-4\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nterms = [\"a\"]\nregex = 'b'\n\n\
[[rule]]\nid = \"W-5\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\ndetect = [\"ssn\"]\ncolour = 1\n\n\
[[rule]]\nid = \"W-6\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nterms_file = \"../etc/passwd\"\n\n\
[[rule]]\nid = \"W-7\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nterms = [\"!!!\"]\nkinds = [\"tweet\"]\n\n\
[[rule]]\nid = \"W-8\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nproximity = { first = [\"a\"], second = [\"b\"], within = 0 }\n\n\
[[rule]]\nid = \"W-10\"\ncatgory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nregex = '[z-a]'\nwithin = 3\n\n\
[[rule]]\nid = \"W-11\"\ncategory = 5\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nkinds = \"post\"\nregex = '(x'\n\n\
[[rule]]\nid = \"W-9\" broken\n\
```\n\n\
## Words {#words}\n\n\
```examples\n[[example]]\ntext = \"x\"\nexpect = [\"NOPE\"]\nkind = \"tweet\"\n\n[[example]]\ntxt = \"y\"\nexpect = []\n```\n";
    insta::assert_snapshot!(lint(source, &[]), @r#"
    p.md:2:1: warning: no one is accountable for this policy: name someone in `accountable` under `[ownership]`
    p.md:2:6: policy id `Bad Id` must be lowercase letters, digits, `.`, `_` or `-`
    p.md:4:11: the version must be non-empty text without spaces
    p.md:5:13: `effective` must be a date written YYYY-MM-DD
    p.md:6:1: unknown field `colour` (expected one of: id, title, version, effective, regions, ownership)
    p.md:12:1: rules must sit under a clause with an id: add `{#some-id}` to the heading "Orphan"
    p.md:22:12: category `Offensive` must be a snake_case word
    p.md:23:12: unknown severity `huge` (expected one of: low, medium, high, critical)
    p.md:34:9: bad regular expression: unclosed group
    p.md:36:1: rule `W-3`: term "???" has no letters or digits to match
    p.md:42:14: term file `missing.txt` not found next to the policy
    p.md:46:6: rule id `W-3` is already used
    p.md:53:1: rule `W-4` has more than one way of matching (terms, regex): split it into one rule each
    p.md:68:11: unknown entity `ssn` (expected one of: credit_card, us_ssn, uk_nino, email, phone, iban, ip_address, crypto_wallet, passport, ca_sin, in_aadhaar, api_key, private_key, password)
    p.md:69:1: unknown field `colour` (expected one of: id, category, severity, action, message, kinds, authors, platforms, unless, unless_file, describe, terms, terms_file, regex, proximity, detect, links, disclosure, always)
    p.md:77:14: term file `../etc/passwd` must be a relative path inside the policy's folder
    p.md:79:1: rule `W-7`: term "!!!" has no letters or digits to match
    p.md:86:10: unknown kind `tweet` (expected one of: post, reply, comment, message, repost, story, profile, bio, banner, pinned)
    p.md:94:55: `within` must be from 1 to 1000 words
    p.md:96:1: missing field `category`
    p.md:98:1: unknown field `catgory`: did you mean `category`? (expected one of: id, category, severity, action, message, kinds, authors, platforms, unless, unless_file, describe, terms, terms_file, regex, proximity, detect, links, disclosure, always)
    p.md:102:9: bad regular expression: invalid character class range, the start must be <= the end
    p.md:103:1: unknown field `within`: it belongs in `proximity` or `disclosure`
    p.md:107:12: `category`: invalid type: integer `5`, expected a string
    p.md:111:9: `kinds`: invalid type: string "post", expected a sequence
    p.md:112:9: bad regular expression: unclosed group
    p.md:115:12: unexpected key or value, expected newline, `#`
    p.md:118:1: clause id `words` is already used at line 17
    p.md:123:11: example expects unknown rule `NOPE`
    p.md:124:8: unknown kind `tweet` (expected one of: post, reply, comment, message, repost, story, profile, bio, banner, pinned)
    p.md:126:1: missing field `text`
    p.md:127:1: unknown field `txt`: did you mean `text`? (expected one of: text, expect, kind, author, platform)
    "#);
}

/// A `[[rule]]` table with valid common fields and `rest` as its way of matching.
fn rule(id: &str, rest: &str) -> String {
    format!(
        "[[rule]]\nid = \"{id}\"\ncategory = \"c\"\nseverity = \"low\"\naction = \"flag\"\nmessage = \"m\"\n{rest}\n"
    )
}

#[test]
fn every_problem_inside_a_nested_table_is_reported_at_its_place() {
    let rules = [
        rule(
            "P1",
            "proximity = { first = \"you\", second = [\"x\"], within = \"three\", ordered = \"yes\" }",
        ),
        rule("P2", "proximity = { first = [\"a\"], second = [\"b\"] }"),
        rule("P3", "links = \"bit.ly\""),
        rule("P4", "disclosure = { triggers = \"ad\", markers = [\"#ad\"], within = 0 }"),
        rule("P5", "[rule.links]\nshorteners = \"yes\"\nip = true\nlookalike = 1"),
        rule("P6", "proximity = { first = \"you\", second = [\"x\"], within = 3 }"),
    ];
    let source = doc(&format!("# T\n\n## C {{#c}}\n\n```rules\n{}```\n", rules.join("\n")));
    let parsed = parse("p.md", &source);
    assert!(parsed.policy.rules.is_empty(), "a rule with an error is never enforced");
    let rejected: Vec<&str> = parsed.policy.rejected.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(rejected, ["P5", "P6"], "the others have no complete way of matching to check");
    insta::assert_snapshot!(lint(&source, &[]), @r#"
    p.md:20:23: `proximity.first`: invalid type: string "you", expected a sequence
    p.md:20:55: `proximity.within`: invalid type: string "three", expected i64
    p.md:20:74: `proximity.ordered`: invalid type: string "yes", expected a boolean
    p.md:28:13: proximity needs `within`: how many words apart, at most
    p.md:36:9: `links`: expected a table, like `links = { … }`
    p.md:44:27: `disclosure.triggers`: invalid type: string "ad", expected a sequence
    p.md:44:61: `within` must be from 1 to 1000 words
    p.md:53:14: `links.shorteners`: invalid type: string "yes", expected a boolean
    p.md:55:13: `links.lookalike`: invalid type: integer `1`, expected a boolean
    p.md:63:23: `proximity.first`: invalid type: string "you", expected a sequence
    "#);
}

#[test]
fn link_lists_hold_domains_and_say_what_to_write_instead() {
    let rules = [
        rule(
            "L1",
            "links = { deny = [\"https://evil.example/x\", \"*.bad.example\", \"bad.example/path\", \" \", \"bad example\", \"a..example\"] }",
        ),
        rule("L2", "links = { allow = [\"http://user@acme.example:8080/\"], shorteners = true }"),
        rule(
            "L3",
            "links = { deny = [\"Bücher.Example.\", \"203.0.113.7\", \"2001:db8::1\", \"[::1]\", \"xn--bcher-kva.example\"] }",
        ),
    ];
    let source = doc(&format!("# T\n\n## C {{#c}}\n\n```rules\n{}```\n", rules.join("\n")));
    let parsed = parse("p.md", &source);
    let rejected: Vec<&str> = parsed.policy.rejected.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(rejected, ["L1", "L2"]);
    let Some(Matcher::Links { deny, .. }) = parsed.policy.rules.first().map(|r| &r.matcher) else {
        panic!("L3 is kept: {:?}", parsed.policy.rules)
    };
    assert_eq!(
        deny,
        &["bücher.example", "203.0.113.7", "2001:db8::1", "::1", "xn--bcher-kva.example"]
    );
    insta::assert_snapshot!(lint(&source, &[]), @r#"
    p.md:20:19: `https://evil.example/x` is not a domain: links are matched by their host alone, so write `evil.example`
    p.md:20:45: `*.bad.example`: a domain covers its subdomains already, so write `bad.example`
    p.md:20:62: `bad.example/path` is not a domain: links are matched by their host alone, so write `bad.example`
    p.md:20:82: an empty domain matches no link
    p.md:20:87: `bad example` is not a domain name (letters, digits, `-` and dots between labels)
    p.md:20:102: `a..example` is not a domain name (letters, digits, `-` and dots between labels)
    p.md:28:20: `http://user@acme.example:8080/` is not a domain: links are matched by their host alone, so write `acme.example`
    "#);
}

#[test]
fn every_documented_key_is_accepted_at_every_level() {
    let rules = [
        rule(
            "T",
            "kinds = [\"post\"]\nauthors = [\"employee\"]\nplatforms = [\"x\"]\nunless = [\"darn it\"]\nunless_file = \"u.txt\"\ndescribe = \"d\"\nterms = [\"darn\"]\nterms_file = \"t.txt\"",
        ),
        rule(
            "P",
            "proximity = { first = [\"a\"], first_file = \"t.txt\", second = [\"b\"], second_file = \"u.txt\", within = 3, ordered = true, same_sentence = true }",
        ),
        rule(
            "D",
            "disclosure = { triggers = [\"gifted\"], triggers_file = \"t.txt\", markers = [\"#ad\"], markers_file = \"u.txt\", within = 4 }",
        ),
        rule(
            "L",
            "links = { deny = [\"bad.example\"], allow = [\"acme.example\"], shorteners = true, ip = true, lookalike = true }",
        ),
        rule("R", "regex = 'x+'"),
        rule("E", "detect = [\"email\"]"),
        rule("A", "always = true"),
    ];
    let source = doc(&format!(
        "# T\n\n## C {{#c}}\n\n```rules\n{}```\n\n```examples\n[[example]]\ntext = \"fine\"\nexpect = [\"A\"]\nkind = \"post\"\nauthor = \"employee\"\nplatform = \"x\"\n```\n",
        rules.join("\n")
    ));
    let files = [("t.txt", "heck\n"), ("u.txt", "gosh\n")];
    assert_eq!(lint(&source, &files), "ok: 2 clauses, 7 rules, 1 examples");
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A valid document to mutate, so the cases reach deep into rule and example tables.
    const SEED: &str = include_str!("../../../../fixtures/policies/minimal/policy.md");

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parsing_arbitrary_text_never_panics_and_places_every_diagnostic(text in "\\PC{0,400}") {
            let loaded = load("p.md", &text, &MemoryFiles::default());
            let lines = text.lines().count().max(1) as u32 + 1;
            for d in &loaded.diagnostics {
                prop_assert!(d.position.line >= 1 && d.position.line <= lines, "{d}");
                prop_assert!(d.position.column >= 1, "{d}");
            }
            prop_assert_eq!(loaded.engine.is_some(), !loaded.diagnostics.iter().any(Diagnostic::is_error));
            let _ = explain(&loaded.policy);
        }

        #[test]
        fn damaged_valid_documents_never_panic(at in 0usize..SEED.len(), cut in 0usize..40, insert in "\\PC{0,12}") {
            let mut at = at;
            while !SEED.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + cut).min(SEED.len());
            while !SEED.is_char_boundary(end) {
                end -= 1;
            }
            let damaged = format!("{}{insert}{}", &SEED[..at], &SEED[end..]);
            let files = MemoryFiles::new([("terms/words.txt", "shucks\n")]);
            let loaded = load("p.md", &damaged, &files);
            prop_assert_eq!(loaded.engine.is_some(), !loaded.diagnostics.iter().any(Diagnostic::is_error));
            let _ = explain(&loaded.policy);
        }
    }
}
