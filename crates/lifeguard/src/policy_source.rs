//! Where policies come from: a folder or file on disk, or the built-in default.
//!
//! This is the only place that reads policy files, so the limits and the rule that term files
//! stay inside the policy's folder are enforced once.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use lifeguard_core::default_policy;
use lifeguard_core::policy::{
    self, FileError, Files, Loaded, MAX_POLICY_BYTES, MAX_TERM_FILE_BYTES, MemoryFiles,
};

/// A policy read from disk or the built-in one, ready to parse.
pub(crate) struct PolicySource {
    /// The document's name in diagnostics.
    pub(crate) file: String,
    pub(crate) text: String,
    pub(crate) files: Box<dyn Files>,
}

impl PolicySource {
    /// The built-in default policy.
    pub(crate) fn builtin() -> PolicySource {
        PolicySource {
            file: "(built-in)/policy.md".to_owned(),
            text: default_policy::POLICY.to_owned(),
            files: Box::new(MemoryFiles::new(default_policy::TERM_FILES.iter().copied())),
        }
    }

    /// A policy file, or a folder holding `policy.md`.
    pub(crate) fn open(path: &Path) -> anyhow::Result<PolicySource> {
        let document = if path.is_dir() { path.join("policy.md") } else { path.to_path_buf() };
        // A bare file name's parent is the empty path, which names no folder: it means here.
        let folder = match document.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let shown = document.display().to_string();
        let text = read_limited(&document, MAX_POLICY_BYTES)
            .with_context(|| format!("cannot read policy {shown}"))?;
        let text = match String::from_utf8(text) {
            Ok(text) => text,
            Err(err) => bail!(
                "{shown}: not UTF-8 (invalid byte at offset {})",
                err.utf8_error().valid_up_to()
            ),
        };
        let root =
            folder.canonicalize().with_context(|| format!("cannot open folder of {shown}"))?;
        Ok(PolicySource { file: shown, text, files: Box::new(FolderFiles { root, shown: folder }) })
    }

    /// Opens `path`, or the built-in policy when there is none.
    pub(crate) fn open_or_builtin(path: Option<&Path>) -> anyhow::Result<PolicySource> {
        match path {
            Some(path) => PolicySource::open(path),
            None => Ok(PolicySource::builtin()),
        }
    }

    /// Parses and compiles.
    pub(crate) fn load(&self) -> Loaded {
        policy::load(&self.file, &self.text, self.files.as_ref())
    }
}

/// Term files in the policy's folder.
struct FolderFiles {
    root: PathBuf,
    shown: PathBuf,
}

impl Files for FolderFiles {
    fn read(&self, relative: &str) -> Result<String, FileError> {
        let path = self.root.join(relative);
        let resolved = match path.canonicalize() {
            Ok(resolved) => resolved,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(FileError::NotFound);
            }
            Err(err) => return Err(FileError::Unreadable(err.to_string())),
        };
        // A symbolic link may not lead out of the policy's folder: uploaded policies are untrusted.
        if !resolved.starts_with(&self.root) {
            return Err(FileError::Unreadable(
                "the file is outside the policy's folder".to_owned(),
            ));
        }
        let bytes = match read_limited(&resolved, MAX_TERM_FILE_BYTES) {
            Ok(bytes) => bytes,
            Err(err) if err.downcast_ref::<TooLarge>().is_some() => {
                return Err(FileError::TooLarge { limit: MAX_TERM_FILE_BYTES });
            }
            Err(err) => return Err(FileError::Unreadable(format!("{err:#}"))),
        };
        String::from_utf8(bytes).map_err(|err| {
            FileError::Unreadable(format!(
                "not UTF-8 (invalid byte at offset {})",
                err.utf8_error().valid_up_to()
            ))
        })
    }

    fn display(&self, relative: &str) -> String {
        self.shown.join(relative).display().to_string()
    }
}

/// Marks a read refused by its size limit, so callers can tell it from other I/O errors.
#[derive(Debug)]
struct TooLarge;

impl std::error::Error for TooLarge {}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("file is too large")
    }
}

/// Reads at most `limit` bytes; a larger file is an error rather than a truncated read.
pub(crate) fn read_limited(path: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    let file = fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(
            anyhow::Error::new(TooLarge).context(format!("larger than the limit of {limit} bytes"))
        );
    }
    Ok(bytes)
}
