//! One module per subcommand.

pub(crate) mod archive;
pub(crate) mod check;
pub(crate) mod demo;
pub(crate) mod import;
pub(crate) mod people;
pub(crate) mod policy;
pub(crate) mod serve;
