//! The built-in default policy, compiled into the binary so `lifeguard check` works with no
//! files at all and `lifeguard policy init` can write a starting point.

/// The default policy's Markdown.
pub const POLICY: &str = include_str!("../default-policy/policy.md");

/// The default policy's term files: (path relative to the policy's folder, contents).
/// `crates/lifeguard/tests/tidy.rs` checks that this list matches the folder.
pub const TERM_FILES: &[(&str, &str)] = &[
    ("terms/company-contacts.txt", include_str!("../default-policy/terms/company-contacts.txt")),
    ("terms/insult-exceptions.txt", include_str!("../default-policy/terms/insult-exceptions.txt")),
    ("terms/insults.txt", include_str!("../default-policy/terms/insults.txt")),
    ("terms/mild.txt", include_str!("../default-policy/terms/mild.txt")),
    ("terms/profanity.txt", include_str!("../default-policy/terms/profanity.txt")),
    ("terms/sexual.txt", include_str!("../default-policy/terms/sexual.txt")),
    ("terms/slur-exceptions.txt", include_str!("../default-policy/terms/slur-exceptions.txt")),
    ("terms/slurs.txt", include_str!("../default-policy/terms/slurs.txt")),
    ("terms/threats.txt", include_str!("../default-policy/terms/threats.txt")),
];
