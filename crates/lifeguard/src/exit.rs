//! Exit statuses: the contract that lets `lifeguard` drop into hooks and CI steps like a linter.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Nothing needs action; every example passed.
    Ok,
    /// Some finding needs action (flag, approval or block), or some example failed.
    NeedsAction,
    /// A usage, input or policy error.
    Input,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        match exit {
            Exit::Ok => ExitCode::SUCCESS,
            Exit::NeedsAction => ExitCode::from(1),
            Exit::Input => ExitCode::from(2),
        }
    }
}
