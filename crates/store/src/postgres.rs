//! The PostgreSQL archive.

use crate::error::{ErrorKind, StoreError};

pub(crate) struct PostgresStore;

impl PostgresStore {
    pub(crate) async fn open(_url: &str) -> Result<crate::sqlite::SqliteStore, StoreError> {
        Err(StoreError::new(ErrorKind::Config, "PostgreSQL support is being written"))
    }
}
