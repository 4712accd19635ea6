//! Lifeguard's pure core: the policy document, the check engine, its verdicts and the
//! archive's record (canonical encoding, hash chain, checkpoints, retention).
//!
//! Nothing here does I/O, reads the clock or the environment: files come in through the
//! [`policy::Files`] trait, so the same code runs in the CLI, the server and the tests, and a
//! verdict can be recomputed by anyone holding the policy and the post.
#![warn(missing_docs)]

pub mod access;
pub mod archive;
pub mod default_policy;
pub mod detect;
pub mod engine;
pub mod examples;
pub mod item;
pub mod location;
pub mod policy;
pub mod text;
pub mod verdict;

pub use engine::Engine;
pub use item::{AuthorType, ContentKind, Post};
pub use location::Diagnostic;
pub use policy::Policy;
pub use verdict::{Action, Finding, Severity, Verdict};
