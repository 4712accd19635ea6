//! One module per subcommand.

pub(crate) mod archive;
pub(crate) mod check;
pub(crate) mod import;
pub(crate) mod policy;
