//! The `lifeguard` binary: thin glue between the command line and the core.

/// `println!` for command output, returning the write's error (from the enclosing function)
/// instead of panicking, so that a reader that stops early (`| head`) ends the command quietly.
macro_rules! say {
    ($($arg:tt)*) => {
        ::std::io::Write::write_fmt(
            &mut ::std::io::stdout().lock(),
            format_args!("{}\n", format_args!($($arg)*)),
        )?
    };
}

mod cli;
mod cmd;
mod exit;
mod import;
mod lines;
mod policy_source;
mod render;
mod wire;

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};

// Importing and verifying allocate and free many small values on three threads at once, in
// our code and in SQLite's; mimalloc (overriding malloc, so SQLite uses it too) roughly halved
// the time of both (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use crate::exit::Exit;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { Exit::Input.into() } else { Exit::Ok.into() };
        }
    };
    let result = match &cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Policy(command) => cmd::policy::run(command),
        Command::Import(args) => cmd::import::run(args),
        Command::Archive(args) => cmd::archive::run(args),
        Command::People(args) => cmd::people::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Demo(args) => cmd::demo::run(args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr(), "lifeguard: {err:#}");
            Exit::Input.into()
        }
    }
}

/// A reader that stopped early (`lifeguard check --jsonl big | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
