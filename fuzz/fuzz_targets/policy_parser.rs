//! Fuzzes the policy document parser and compiler: arbitrary bytes that are UTF-8 are loaded
//! as a policy (`policy::load`, with a few term files in memory) and the parsed policy is
//! rendered with `policy::explain`. Nothing may panic, whatever the document.
//!
//! Beyond "no panic", it checks what `load` promises: an engine is returned exactly when no
//! diagnostic is an error, and diagnostics come out sorted and without duplicates. When the
//! policy compiles, each of its examples is checked once, so fuzzed rules (regexes, term
//! lists, proximity, disclosure, scopes) also reach the engine.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lifeguard_core::default_policy;
use lifeguard_core::policy::{self, MemoryFiles};

/// Term files a fuzzed policy can name: a few small ones, plus the built-in policy's own so
/// that seeds derived from it compile.
fn files() -> &'static MemoryFiles {
    static FILES: OnceLock<MemoryFiles> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut files: Vec<(&str, &str)> = vec![
            ("terms/a.txt", "# a small list\nalpha\nbeta gamma\n\n  delta  \n"),
            ("terms/b.txt", "sponsored\n#ad\npaid partnership\n"),
            ("terms/empty.txt", ""),
            ("terms/unicode.txt", "café\nstraße\nİstanbul\n日本語\n"),
        ];
        files.extend(default_policy::TERM_FILES.iter().copied());
        MemoryFiles::new(files)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let loaded = policy::load("policy.md", source, files());

    let has_error = loaded.diagnostics.iter().any(|d| d.is_error());
    assert_eq!(
        loaded.engine.is_some(),
        !has_error,
        "an engine must be returned exactly when there is no error: {:?}",
        loaded.diagnostics
    );
    assert!(loaded.diagnostics.is_sorted(), "diagnostics are not sorted: {:?}", loaded.diagnostics);
    assert!(
        loaded.diagnostics.windows(2).all(|w| w[0] != w[1]),
        "diagnostics hold duplicates: {:?}",
        loaded.diagnostics
    );
    assert_eq!(loaded.policy.source, source);

    let explained = policy::explain(&loaded.policy);
    std::hint::black_box(&explained);

    if let Some(engine) = &loaded.engine {
        for example in &loaded.policy.examples {
            let verdict = engine.check(&example.post());
            for finding in &verdict.findings {
                assert!(finding.start <= finding.end && finding.end <= example.text.len());
                assert_eq!(
                    example.text.get(finding.start..finding.end),
                    Some(finding.matched.as_str())
                );
            }
        }
    }
});
