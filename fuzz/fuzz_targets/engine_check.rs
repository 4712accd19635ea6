//! Fuzzes the check engine with the built-in default policy, set to read the national phone
//! numbers of a few regions with and without a trunk prefix: arbitrary bytes become a post
//! (the first byte picks its kind, author type and platform; the rest, if UTF-8, is its text)
//! and every verdict is checked against the invariants that `Verdict` and `Finding` document:
//!
//! - each finding's span satisfies `start <= end <= text.len()`, both ends are char
//!   boundaries, and `matched == text[start..end]`;
//! - a finding is empty only when the text is (an `always` rule on an empty post);
//! - findings are ordered by `(start, end)`;
//! - the verdict's action is the strongest action of its findings, `allow` when none;
//! - checking is deterministic: the same post gives the same verdict twice, and the
//!   thread-local scratch buffers give the same verdict as fresh ones.
//!
//! The policy is compiled once per process.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lifeguard_core::engine::CheckScratch;
use lifeguard_core::policy::{self, MemoryFiles};
use lifeguard_core::{Action, AuthorType, ContentKind, Engine, Post, default_policy};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let files = MemoryFiles::new(default_policy::TERM_FILES.iter().copied());
        let source = default_policy::POLICY.replacen(
            "\n[ownership]",
            "\nregions = [\"GB\", \"FR\", \"DE\", \"ES\", \"IT\"]\n\n[ownership]",
            1,
        );
        assert_ne!(source, default_policy::POLICY, "the front matter has an [ownership] table");
        let loaded = policy::load("policy.md", &source, &files);
        match loaded.engine {
            Some(engine) => engine,
            None => panic!("the default policy does not compile: {:#?}", loaded.diagnostics),
        }
    })
}

const PLATFORMS: [Option<&str>; 4] = [None, Some("x"), Some("mastodon"), Some("LinkedIn")];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let selector = usize::from(selector);
    let post = Post {
        text,
        kind: ContentKind::ALL[selector % ContentKind::ALL.len()],
        author: AuthorType::ALL[(selector / ContentKind::ALL.len()) % AuthorType::ALL.len()],
        platform: PLATFORMS
            [(selector / (ContentKind::ALL.len() * AuthorType::ALL.len())) % PLATFORMS.len()],
    };

    let engine = engine();
    let verdict = engine.check(&post);

    let mut strongest = Action::Allow;
    for finding in &verdict.findings {
        let (start, end) = (finding.start, finding.end);
        assert!(
            start <= end && end <= text.len(),
            "span {start}..{end} out of a text of {} bytes: {finding:?}",
            text.len()
        );
        assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "span {start}..{end} is not on char boundaries of {text:?}: {finding:?}"
        );
        assert_eq!(
            finding.matched,
            text[start..end],
            "`matched` is not text[{start}..{end}]: {finding:?}"
        );
        assert!(
            start < end || text.is_empty(),
            "empty finding {start}..{end} in a non-empty text {text:?}: {finding:?}"
        );
        strongest = strongest.max(finding.action());
    }
    assert_eq!(
        verdict.action, strongest,
        "verdict action is not the strongest finding's: {verdict:?}"
    );
    assert!(
        verdict.findings.is_sorted_by_key(|f| (f.start, f.end)),
        "findings are not sorted by (start, end): {:?}",
        verdict.findings.iter().map(|f| (f.start, f.end, &f.rule.id)).collect::<Vec<_>>()
    );

    let again = engine.check(&post);
    assert_eq!(verdict, again, "checking the same post twice gave different verdicts");
    let fresh = engine.check_with(&post, &mut CheckScratch::default());
    assert_eq!(verdict, fresh, "reused scratch buffers gave a different verdict than fresh ones");
});
