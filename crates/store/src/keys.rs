//! The archive's signing key: 32 random bytes in the data directory, made on first use.

use std::io::Write as _;
use std::path::Path;

use lifeguard_core::archive::{SigningKey, hex, parse_hex};

use crate::error::{ErrorKind, StoreError};

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "signing.key";

/// Loads the signing key from `dir`; `None` if there is no key file.
pub fn load_key(dir: &Path) -> Result<Option<SigningKey>, StoreError> {
    let path = dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let seed = parse_hex(text.trim()).ok_or_else(|| {
                StoreError::new(
                    ErrorKind::Io,
                    format!(
                        "{}: expected 64 hexadecimal digits (an Ed25519 secret key)",
                        path.display()
                    ),
                )
            })?;
            Ok(Some(SigningKey::from_seed(&seed)))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(StoreError::io(&path, &err)),
    }
}

/// Loads the signing key from `dir`, or makes one (readable by the owner only) if there is none.
pub fn load_or_create_key(dir: &Path) -> Result<SigningKey, StoreError> {
    let path = dir.join(KEY_FILE);
    match load_key(dir)? {
        Some(key) => Ok(key),
        None => {
            std::fs::create_dir_all(dir).map_err(|err| StoreError::io(dir, &err))?;
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|err| {
                StoreError::new(ErrorKind::Io, format!("no randomness for a new key: {err}"))
            })?;
            // Written whole to a private file first, then linked into place: a full disk or a
            // killed process leaves no half-written key, and of two first runs at once the
            // second finds the first one's key instead of replacing it.
            let temporary = dir.join(format!("{KEY_FILE}.{}.tmp", std::process::id()));
            let written = write_private(&temporary, format!("{}\n", hex(&seed)).as_bytes());
            let linked = written.and_then(|()| std::fs::hard_link(&temporary, &path));
            let _ = std::fs::remove_file(&temporary);
            match linked {
                Ok(()) => Ok(SigningKey::from_seed(&seed)),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create_key(dir)
                }
                Err(err) => Err(StoreError::io(&path, &err)),
            }
        }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
