//! The command line, as clap types. The contract here is public: scripts and hooks drive it.

use std::net::SocketAddr;
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
    /// Import interactions into the archive, checking each one on the way in.
    ///
    /// Imports are idempotent: what is already archived is skipped. A malformed record is
    /// reported with its position and skipped; exit status 2 if any was.
    Import(Box<ImportArgs>),
    /// Search, show, verify, export and govern the archive.
    Archive(Box<ArchiveArgs>),
    /// Add people, set passwords and make API tokens, straight in the archive's directory:
    /// how the first administrator of a new deployment is made. Each change is audited.
    People(Box<PeopleArgs>),
    /// Run the server: the web interface and the JSON API over the archive.
    ///
    /// Logs go to stderr (RUST_LOG sets the level, default info). SIGTERM or Ctrl-C stops
    /// accepting connections and lets requests in flight finish. Exit status 2 if the address
    /// is taken, the archive cannot be opened or the policy has errors.
    Serve(Box<ServeArgs>),
    /// Run the server on a demo organization: people with every role, accounts and a few
    /// hundred archived posts, written into the data directory the first time.
    ///
    /// Prints the address and the demo sign-ins, then serves like `lifeguard serve`.
    Demo(Box<DemoArgs>),
}

/// The address the server listens on by default: this machine only.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8480";

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The address and port to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR", env = "LIFEGUARD_LISTEN", default_value = DEFAULT_LISTEN)]
    pub(crate) listen: SocketAddr,
    /// The policy to enforce: a Markdown file, or a folder holding policy.md and its term
    /// files (default: the built-in policy).
    #[arg(long, value_name = "PATH", env = "LIFEGUARD_POLICY")]
    pub(crate) policy: Option<PathBuf>,
    /// Mark cookies Secure: set this when clients reach the server over HTTPS (directly or
    /// through a proxy).
    #[arg(long, env = "LIFEGUARD_SECURE_COOKIES")]
    pub(crate) secure_cookies: bool,
    /// Longest a request may take before it is answered 408, in seconds.
    #[arg(
        long,
        value_name = "SECS",
        env = "LIFEGUARD_REQUEST_TIMEOUT",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub(crate) request_timeout: u64,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// The address and port to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR", env = "LIFEGUARD_LISTEN", default_value = DEFAULT_LISTEN)]
    pub(crate) listen: SocketAddr,
    /// The data directory: the demo's SQLite archive and signing key. Created and seeded when
    /// it holds no archive; kept as it is on later runs.
    #[arg(long, value_name = "DIR", env = "LIFEGUARD_DATA", default_value = "lifeguard-data")]
    pub(crate) data: PathBuf,
}

/// Where the archive lives.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// The data directory: the SQLite archive (unless --database says otherwise) and the
    /// archive's signing key.
    #[arg(
        long,
        value_name = "DIR",
        env = "LIFEGUARD_DATA",
        default_value = "lifeguard-data",
        global = true
    )]
    pub(crate) data: PathBuf,
    /// A database URL (sqlite:PATH or postgres://…) instead of the data directory's SQLite file.
    #[arg(
        long,
        value_name = "URL",
        env = "LIFEGUARD_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub(crate) database: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The file's format.
    #[arg(value_enum)]
    pub(crate) format: ImportFormat,
    /// The file: an ActivityPub outbox.json (or the Mastodon export's folder holding it), our
    /// JSON Lines, or an X archive's data/tweets.js (or the archive's folder: every part of its
    /// tweets and deleted tweets, and the account its account.js names).
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// The policy to check with (default: the built-in policy).
    #[arg(long, value_name = "PATH")]
    pub(crate) policy: Option<PathBuf>,
    /// The account the file was exported from: fills in the account (and the author) of items
    /// the file leaves without one, as an X archive's tweets.js does (for an archive's folder,
    /// instead of the one its account.js names).
    #[arg(long, value_name = "NAME")]
    pub(crate) account: Option<String>,
    /// Items per transaction (at most 10,000). Fewer commits write the index pages every
    /// batch touches fewer times, so the default is the largest.
    #[arg(long, value_name = "N", default_value_t = lifeguard_store::MAX_BATCH)]
    pub(crate) batch: usize,
    /// Never show a progress bar (it shows only when stderr is a terminal).
    #[arg(long)]
    pub(crate) no_progress: bool,
    /// Output format of the summary.
    #[arg(long = "format", value_enum, default_value_t = Format::Text)]
    pub(crate) output: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ImportFormat {
    /// Our own JSON Lines item format (docs/archive-format.md).
    Jsonl,
    /// A Mastodon (ActivityPub) outbox.json.
    Mastodon,
    /// An X/Twitter archive's data/tweets.js.
    X,
}

#[derive(Debug, Args)]
pub(crate) struct ArchiveArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(subcommand)]
    pub(crate) command: ArchiveCommand,
}

/// Search filters, shared by search and export.
#[derive(Debug, Args, Clone)]
pub(crate) struct FilterArgs {
    /// Only this platform.
    #[arg(long, value_name = "P")]
    pub(crate) platform: Option<String>,
    /// Only this account, whatever the letter case of its ASCII letters.
    #[arg(long, value_name = "A")]
    pub(crate) account: Option<String>,
    /// Only this author, whatever the letter case of its ASCII letters.
    #[arg(long, value_name = "A")]
    pub(crate) author: Option<String>,
    /// Only this author type: employee, corporate or third_party.
    #[arg(long, value_name = "T")]
    pub(crate) author_type: Option<String>,
    /// Only this kind (post, reply, comment, message, repost, story, profile, bio, banner, pinned).
    #[arg(long, value_name = "K")]
    pub(crate) kind: Option<String>,
    /// Made at or after this time (RFC 3339, or a date: 2024-03-01).
    #[arg(long, value_name = "TIME")]
    pub(crate) since: Option<String>,
    /// Made before this time (RFC 3339, or a date).
    #[arg(long, value_name = "TIME")]
    pub(crate) until: Option<String>,
    /// Only items whose verdict was this action: allow, flag, require_approval or block.
    #[arg(long, value_name = "ACTION")]
    pub(crate) verdict: Option<String>,
    /// Only items with a finding of this category.
    #[arg(long, value_name = "C")]
    pub(crate) category: Option<String>,
    /// Only items with a finding of this rule.
    #[arg(long, value_name = "ID")]
    pub(crate) rule: Option<String>,
    /// Only items with findings.
    #[arg(long, conflicts_with = "no_findings")]
    pub(crate) has_findings: bool,
    /// Only items without findings.
    #[arg(long)]
    pub(crate) no_findings: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ArchiveCommand {
    /// Search: words, "phrases" and prefix* terms (all must match), newest first.
    Search {
        /// The query; leave it out to list everything the filters allow.
        query: Option<String>,
        #[command(flatten)]
        filters: FilterArgs,
        /// Results per page (1 to 1000).
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: u32,
        /// Continue after this cursor (printed at the end of a page).
        #[arg(long, value_name = "CURSOR")]
        cursor: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show one item: its content, versions, verdicts and place in the chain.
    Show {
        /// The item's id (its entry number).
        id: u64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Counts: entries, items, verdicts, platforms, holds, checkpoints.
    Stats {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Recompute the whole chain, every payload and checkpoint; name the first bad entry.
    ///
    /// Exit status: 0 intact, 1 tampering found, 2 the archive could not be read.
    Verify {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Sign a checkpoint at the chain's head now.
    Checkpoint,
    /// Print the archive's public key (hexadecimal), for verifying exports.
    PublicKey,
    /// Write matching entries, a signed checkpoint and a manifest to a folder.
    Export {
        /// A search query; with no query and no filters, everything is exported.
        query: Option<String>,
        #[command(flatten)]
        filters: FilterArgs,
        /// The folder to write (must not exist or be empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Verify an export folder with no database: files, chain, payloads and signature.
    ///
    /// Exit status: 0 intact, 1 not intact, 2 unreadable.
    VerifyExport {
        /// The export folder.
        dir: PathBuf,
        /// The public key to trust (hex, or a file holding it); default: the bundle's own key.
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Retention rules: how long items of a kind, platform or author type are kept.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Legal holds: what must be kept whatever retention says.
    #[command(subcommand)]
    Hold(HoldCommand),
    /// Remove the content of items past retention that no hold covers (hashes stay).
    Dispose {
        /// Only show what would be disposed.
        #[arg(long)]
        dry_run: bool,
        /// Decide as of this time instead of now (RFC 3339).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RetentionCommand {
    /// Set or replace a rule.
    Set {
        /// The rule's name.
        id: String,
        /// How long: 6y, 18 months, 90d, P6Y.
        #[arg(long, value_name = "PERIOD")]
        keep: String,
        /// Kinds it covers (repeat; default: all).
        #[arg(long = "kind", value_name = "K")]
        kinds: Vec<String>,
        /// Platforms it covers (repeat; default: all).
        #[arg(long = "platform", value_name = "P")]
        platforms: Vec<String>,
        /// Author types it covers (repeat; default: all).
        #[arg(long = "author-type", value_name = "T")]
        author_types: Vec<String>,
        /// Who sets it.
        #[arg(long, value_name = "WHO")]
        by: String,
    },
    /// Remove a rule.
    Remove {
        id: String,
        #[arg(long, value_name = "WHO")]
        by: String,
    },
    /// List the rules in force.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum HoldCommand {
    /// Place a hold. Every part given must match; a hold with none covers everything.
    Place {
        /// The hold's name.
        id: String,
        /// Why (the matter, the request).
        #[arg(long)]
        reason: String,
        /// Who answers for it.
        #[arg(long)]
        owner: String,
        /// Authors it covers (repeat).
        #[arg(long = "author", value_name = "A")]
        authors: Vec<String>,
        /// Accounts it covers (repeat).
        #[arg(long = "account", value_name = "A")]
        accounts: Vec<String>,
        /// Platforms it covers (repeat).
        #[arg(long = "platform", value_name = "P")]
        platforms: Vec<String>,
        /// A search query the text must match.
        #[arg(long)]
        query: Option<String>,
        /// Items made at or after this time.
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Items made before this time.
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
    },
    /// Release a hold.
    Release {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long, value_name = "WHO")]
        by: String,
    },
    /// List holds, in force and released.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The policy: a Markdown file, or a folder holding policy.md and its term files.
    /// Without it, the built-in default policy is used.
    #[arg(long, value_name = "PATH")]
    pub(crate) policy: Option<PathBuf>,
    /// Content kind of the post (with --jsonl, each line says its own).
    #[arg(long, value_name = "K", default_value = "post", conflicts_with = "jsonl")]
    pub(crate) kind: String,
    /// Who wrote the post: employee, corporate or third_party (with --jsonl, each line says).
    #[arg(long, value_name = "T", default_value = "employee", conflicts_with = "jsonl")]
    pub(crate) author_type: String,
    /// Platform the post is for (x, mastodon, linkedin, …; with --jsonl, each line says).
    #[arg(long, value_name = "P", conflicts_with = "jsonl")]
    pub(crate) platform: Option<String>,
    /// Output format of a single check (JSON Lines mode always writes JSON).
    #[arg(long, value_enum, default_value_t = Format::Text, conflicts_with = "jsonl")]
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

#[derive(Debug, Args)]
pub(crate) struct PeopleArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(subcommand)]
    pub(crate) command: PeopleCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PeopleCommand {
    /// Add a person.
    Add {
        /// Their sign-in name (lowercase letters, digits, `.`, `_`, `-`).
        login: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// E-mail address.
        #[arg(long, default_value = "")]
        email: String,
        /// admin, compliance, supervisor, reviewer, employee or auditor.
        #[arg(long)]
        role: String,
        /// Department id (must exist).
        #[arg(long)]
        department: Option<String>,
        /// Their manager's login.
        #[arg(long)]
        manager: Option<String>,
        /// For reviewers: legal, security, privacy or brand.
        #[arg(long)]
        area: Option<String>,
        /// Read their password from the first line of standard input (at least 12
        /// characters); without it they cannot sign in until one is set.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List people.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Set a person's password from the first line of standard input (at least 12 characters).
    SetPassword {
        /// Their login.
        login: String,
    },
    /// Make an API token for a person and print it (it is shown only this once).
    Token {
        /// Whose token it is: it acts as them, within its scopes.
        login: String,
        /// What it is for.
        #[arg(long)]
        name: String,
        /// check, ingest, read or admin; repeat for several. Never more than their role allows.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Days until it stops working (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
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
