//! One module per subcommand.

pub(crate) mod check;
pub(crate) mod policy;
