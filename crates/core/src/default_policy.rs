//! The built-in default policy, compiled into the binary so `lifeguard check` works with no
//! files at all and `lifeguard policy init` can write a starting point.

/// The default policy's Markdown.
pub const POLICY: &str = include_str!("../../../fixtures/policies/minimal/policy.md");

/// The default policy's term files: (path relative to the policy's folder, contents).
/// `tests/tidy.rs` in the binary checks that this list matches the folder.
pub const TERM_FILES: &[(&str, &str)] =
    &[("terms/words.txt", include_str!("../../../fixtures/policies/minimal/terms/words.txt"))];
