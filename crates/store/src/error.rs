//! Storage errors: a kind callers can act on, and a message that names the place.

use std::path::Path;

/// What went wrong, as far as a caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The database URL or data directory is unusable.
    Config,
    /// The database cannot be written: opened read-only or without permission.
    ReadOnly,
    /// The disk or the database is full.
    Full,
    /// The database file is damaged or not a database.
    Corrupt,
    /// The database refused a change to the append-only record.
    AppendOnly,
    /// The request is invalid (unknown hold, duplicate id, bad cursor).
    Invalid,
    /// Any other database failure.
    Database,
    /// A file outside the database (the signing key) could not be read or written.
    Io,
}

/// A storage error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    kind: ErrorKind,
    message: String,
}

impl StoreError {
    /// An error of a kind with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> StoreError {
        StoreError { kind, message: message.into() }
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub(crate) fn invalid(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorKind::Invalid, message)
    }

    pub(crate) fn io(path: &Path, err: &std::io::Error) -> StoreError {
        StoreError::new(ErrorKind::Io, format!("{}: {err}", path.display()))
    }

    /// Classifies a database error; `context` says what was being done.
    pub(crate) fn database(context: &str, err: sqlx::Error) -> StoreError {
        let kind = match &err {
            sqlx::Error::Database(db) => classify(db.code().as_deref(), db.message()),
            sqlx::Error::Io(io) if io.raw_os_error() == Some(28) => ErrorKind::Full,
            _ => ErrorKind::Database,
        };
        StoreError::classified(kind, context, &err)
    }

    /// Classifies an error of the SQLite archive's bulk reader.
    pub(crate) fn sqlite(context: &str, err: &rusqlite::Error) -> StoreError {
        let kind = match err {
            rusqlite::Error::SqliteFailure(failure, message) => classify(
                Some(&failure.extended_code.to_string()),
                message.as_deref().unwrap_or_default(),
            ),
            _ => ErrorKind::Database,
        };
        StoreError::classified(kind, context, err)
    }

    fn classified(kind: ErrorKind, context: &str, err: &dyn std::fmt::Display) -> StoreError {
        let hint = match kind {
            ErrorKind::ReadOnly => {
                " (the database is read-only: check the file's permissions or the role's privileges)"
            }
            ErrorKind::Full => " (no space left: free disk space; nothing was half-written)",
            ErrorKind::Corrupt => " (the database file is damaged or is not an archive)",
            _ => "",
        };
        StoreError::new(kind, format!("{context}: {err}{hint}"))
    }
}

fn classify(code: Option<&str>, message: &str) -> ErrorKind {
    if message.contains("append-only") {
        return ErrorKind::AppendOnly;
    }
    match code {
        // SQLite primary result codes (extended codes keep them in the low byte).
        Some(code) if code.parse::<i32>().is_ok() => {
            match code.parse::<i32>().unwrap_or(0) & 0xff {
                8 => ErrorKind::ReadOnly,
                13 => ErrorKind::Full,
                11 | 26 => ErrorKind::Corrupt,
                _ => ErrorKind::Database,
            }
        }
        // PostgreSQL SQLSTATEs.
        Some("53100") => ErrorKind::Full,
        Some("25006" | "42501") => ErrorKind::ReadOnly,
        _ => ErrorKind::Database,
    }
}
