//! The policy document: front matter, clauses, rules and examples, as parsed from Markdown.
//!
//! A [`Policy`] is what the document *says*; [`crate::Engine`] is what it *does* once its term
//! files are loaded and its patterns compiled. Parsing never stops at the first problem: every
//! problem is a [`Diagnostic`] and everything valid is kept, so `policy lint` can report all of
//! them at once.

mod parse;
mod render;

use crate::detect::{Entity, Region};
use crate::item::Scope;
use crate::location::{Diagnostic, Position};
use crate::verdict::{Action, Severity};

pub use parse::parse;
pub use render::{explain, sentence};

/// Largest policy document accepted: large enough for any real policy, small enough that an
/// uploaded document cannot exhaust memory.
pub const MAX_POLICY_BYTES: usize = 4 << 20;
/// Largest term file accepted.
pub const MAX_TERM_FILE_BYTES: usize = 16 << 20;
/// Largest regular expression pattern accepted, in bytes.
pub const MAX_REGEX_BYTES: usize = 10_000;
/// Largest compiled size of one regular expression.
pub const MAX_REGEX_COMPILED_BYTES: usize = 10 << 20;
/// Largest `within` of proximity and disclosure rules, in words.
pub const MAX_WITHIN_WORDS: u32 = 1_000;

/// Reads the files a policy names (term files), relative to the policy's folder.
///
/// The core does no I/O; the binary and the server implement this over a folder, tests over a
/// map. Implementations must refuse paths that leave the policy's folder.
pub trait Files {
    /// The contents of a file, or why it could not be read.
    fn read(&self, relative: &str) -> Result<String, FileError>;
    /// The file as shown in diagnostics (for example `policy/terms/insults.txt`).
    fn display(&self, relative: &str) -> String;
}

/// Why a policy file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// There is no such file.
    #[error("file not found")]
    NotFound,
    /// The file is larger than the limit.
    #[error("file is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Anything else: not UTF-8, permission denied, outside the policy folder.
    #[error("{0}")]
    Unreadable(String),
}

/// A policy with no term files: every file read fails with [`FileError::NotFound`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl Files for NoFiles {
    fn read(&self, _relative: &str) -> Result<String, FileError> {
        Err(FileError::NotFound)
    }

    fn display(&self, relative: &str) -> String {
        relative.to_owned()
    }
}

/// Files held in memory, for the built-in policy and for tests.
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles {
    files: Vec<(String, String)>,
}

impl MemoryFiles {
    /// Files from (relative path, contents) pairs.
    pub fn new<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> MemoryFiles {
        MemoryFiles {
            files: files.into_iter().map(|(p, c)| (p.to_owned(), c.to_owned())).collect(),
        }
    }
}

impl Files for MemoryFiles {
    fn read(&self, relative: &str) -> Result<String, FileError> {
        self.files
            .iter()
            .find(|(path, _)| path == relative)
            .map(|(_, contents)| contents.clone())
            .ok_or(FileError::NotFound)
    }

    fn display(&self, relative: &str) -> String {
        relative.to_owned()
    }
}

/// A value with the place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it starts in the policy document.
    pub at: Position,
}

/// A parsed policy document, with whatever was valid in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The file name used in diagnostics.
    pub file: String,
    /// The Markdown source, exactly as read.
    pub source: String,
    /// Byte offset in `source` where the Markdown body starts, after the front matter.
    pub body_start: usize,
    /// The front matter.
    pub meta: Meta,
    /// Every heading, in document order.
    pub clauses: Vec<Clause>,
    /// Every valid rule, in document order.
    pub rules: Vec<Rule>,
    /// Rules with an error of their own, kept only so that compiling the policy also reports
    /// the problems of their patterns and term files. Never enforced; a severity or action
    /// that did not parse is left at its default.
    pub rejected: Vec<Rule>,
    /// Every valid example, in document order.
    pub examples: Vec<Example>,
}

/// The policy's front matter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    /// Stable id of the policy (`acme-social`).
    pub id: String,
    /// Title for people.
    pub title: String,
    /// Version; a published version never changes.
    pub version: String,
    /// Date from which this version applies, `YYYY-MM-DD`.
    pub effective: String,
    /// Regions whose national phone numbers (written without the country code) the phone
    /// detector reads, besides international and North American ones.
    pub regions: Vec<Region>,
    /// Who writes and revises the policy.
    pub ownership: Ownership,
}

/// A RACI matrix for the policy as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ownership {
    /// Who writes and revises it.
    pub responsible: Vec<String>,
    /// Who answers for it.
    pub accountable: Vec<String>,
    /// Who is asked before it changes.
    pub consulted: Vec<String>,
    /// Who is told when it changes.
    pub informed: Vec<String>,
}

/// A heading of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The stable id from `{#id}`, if the heading has one.
    pub id: Option<String>,
    /// The heading text.
    pub title: String,
    /// Heading level, 1 to 6.
    pub level: u8,
    /// Where the heading is.
    pub at: Position,
}

/// One rule, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// Index into [`Policy::clauses`] of the clause it enforces.
    pub clause: usize,
    /// Category (`offensive`, `personal_data`, …).
    pub category: String,
    /// Severity of a finding.
    pub severity: Severity,
    /// Action of a finding.
    pub action: Action,
    /// What the author is told.
    pub message: String,
    /// Which posts it applies to.
    pub scope: Scope,
    /// How it matches.
    pub matcher: Matcher,
    /// Exception terms written inline.
    pub unless: Vec<String>,
    /// A term file of exceptions.
    pub unless_file: Option<Located<String>>,
    /// Plain words for what the rule matches, used by `explain` instead of the generated
    /// wording (for patterns people cannot read).
    pub describe: Option<String>,
    /// Where the rule's `[[rule]]` header is.
    pub at: Position,
}

/// A list of terms: inline and from a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TermSource {
    /// Terms written in the rule.
    pub terms: Vec<String>,
    /// A term file, relative to the policy's folder.
    pub file: Option<Located<String>>,
}

impl TermSource {
    /// True when there is no inline term and no term file.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.file.is_none()
    }
}

/// How a rule finds what it looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// Any of these terms or phrases.
    Terms(TermSource),
    /// A regular expression.
    Regex(Located<String>),
    /// A term of `first` within `within` words of a term of `second`.
    Proximity {
        /// The first list.
        first: TermSource,
        /// The second list.
        second: TermSource,
        /// Largest distance in words.
        within: u32,
        /// Whether `first` must come before `second`.
        ordered: bool,
        /// Whether both must be in the same sentence.
        same_sentence: bool,
    },
    /// Personal data or secrets found by validating detectors.
    Detect(Vec<Entity>),
    /// Links by domain, shorteners, raw IP addresses and look-alike letters.
    Links {
        /// Domains whose links are findings, also when a host is written to look like one.
        deny: Vec<String>,
        /// If not empty, links to any other domain are findings.
        allow: Vec<String>,
        /// Report URL shorteners.
        shorteners: bool,
        /// Report links to raw IP addresses.
        ip: bool,
        /// Report links whose host mixes in letters of another script that look like Latin
        /// ones, as browsers refuse to show (`pаypal.com` with a Cyrillic `а`), and links that
        /// put a host name before an `@` (`https://paypal.com@evil.example/`).
        lookalike: bool,
    },
    /// Triggers that need a disclosure marker near the start of the post.
    Disclosure {
        /// Terms that make a disclosure necessary.
        triggers: TermSource,
        /// Terms that disclose.
        markers: TermSource,
        /// A marker must be within this many words of the start.
        within: u32,
    },
    /// Every post in scope.
    Always,
}

/// One example: a post and the rules it must trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The post's text.
    pub text: String,
    /// Its kind, author type and platform.
    pub kind: crate::ContentKind,
    /// Who wrote it.
    pub author: crate::AuthorType,
    /// The platform, if any.
    pub platform: Option<String>,
    /// The rule ids it must trigger, exactly.
    pub expect: Vec<String>,
    /// Where the example's `[[example]]` header is.
    pub at: Position,
}

/// The result of parsing: the policy as far as it was valid, and every problem found.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The valid parts.
    pub policy: Policy,
    /// Every problem, in document order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Example {
    /// The example as the post the engine checks.
    pub fn post(&self) -> crate::Post<'_> {
        crate::Post {
            text: &self.text,
            kind: self.kind,
            author: self.author,
            platform: self.platform.as_deref(),
        }
    }
}

impl Policy {
    /// The clause a rule enforces.
    pub fn clause_of(&self, rule: &Rule) -> &Clause {
        &self.clauses[rule.clause]
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }
}

/// A policy parsed and, when it has no errors, compiled.
#[derive(Debug)]
pub struct Loaded {
    /// What the document says, as far as it was valid.
    pub policy: Policy,
    /// The compiled engine, when there were no errors.
    pub engine: Option<crate::Engine>,
    /// Every problem, errors and warnings, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and compiles a policy in one step, collecting the diagnostics of both.
pub fn load(file: &str, source: &str, files: &dyn Files) -> Loaded {
    let Parsed { policy, mut diagnostics } = parse(file, source);
    let mut engine = None;
    if !diagnostics.iter().any(Diagnostic::is_error) {
        match crate::Engine::compile(&policy, files) {
            Ok(compiled) => engine = Some(compiled),
            Err(errors) => diagnostics.extend(errors),
        }
    } else if let Err(errors) = crate::Engine::compile(&policy, files) {
        // Compile what parsed anyway: a bad regex or a missing term file is worth reporting
        // in the same run as a syntax error elsewhere.
        diagnostics.extend(errors);
    }
    diagnostics.sort();
    diagnostics.dedup();
    Loaded { policy, engine, diagnostics }
}

#[cfg(test)]
mod tests;
