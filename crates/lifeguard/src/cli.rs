//! The command line, as clap types. The contract here is public: scripts and hooks drive it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Lifeguard: a social media policy that enforces itself.
#[derive(Debug, Parser)]
#[command(name = "lifeguard", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check a post (or, with --jsonl, one post per line) against a policy.
    ///
    /// Exit status: 0 nothing needs action, 1 some finding needs action (flag, approval or
    /// block), 2 a usage, input or policy error.
    Check(CheckArgs),
    /// Write, lint, test and explain policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The policy: a Markdown file, or a folder holding policy.md and its term files.
    /// Without it, the built-in default policy is used.
    #[arg(long, value_name = "PATH")]
    pub(crate) policy: Option<PathBuf>,
    /// Content kind of the post.
    #[arg(long, value_name = "K", default_value = "post")]
    pub(crate) kind: String,
    /// Who wrote the post: employee, corporate or third_party.
    #[arg(long, value_name = "T", default_value = "employee")]
    pub(crate) author_type: String,
    /// Platform the post is for (x, mastodon, linkedin, …).
    #[arg(long, value_name = "P")]
    pub(crate) platform: Option<String>,
    /// Output format of a single check (JSON Lines mode always writes JSON).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// Read one JSON object per line: {"id", "text", optional "kind", "author_type", "platform"}.
    #[arg(long)]
    pub(crate) jsonl: bool,
    /// With --jsonl: print posts/s and MB/s to stderr at the end.
    #[arg(long, requires = "jsonl")]
    pub(crate) stats: bool,
    /// With --jsonl: worker threads (default: every core).
    #[arg(long, value_name = "N", requires = "jsonl")]
    pub(crate) threads: Option<usize>,
    /// Exit 0 even when a finding needs action (errors still exit 2): for reports and demos.
    #[arg(long)]
    pub(crate) exit_zero: bool,
    /// The input file, or `-` (the default) for standard input.
    #[arg(value_name = "FILE")]
    pub(crate) input: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Report every problem in a policy as file:line:column: message.
    Lint {
        /// A policy's Markdown file, or a folder holding policy.md.
        path: PathBuf,
    },
    /// Run a policy's examples; prints "N passed, N failed".
    Test {
        /// A policy's Markdown file, or a folder holding policy.md.
        path: PathBuf,
    },
    /// Print the policy for people, each rule as a sentence.
    Explain {
        /// A policy's Markdown file, or a folder holding policy.md (default: the built-in policy).
        path: Option<PathBuf>,
    },
    /// Write the built-in default policy (policy.md and its term files) into DIR.
    Init {
        /// The folder to write to; created if missing.
        dir: PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// Print the built-in default policy's Markdown.
    Show,
}
