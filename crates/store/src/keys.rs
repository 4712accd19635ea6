//! The archive's signing key: 32 random bytes in the data directory, made on first use.

use std::io::Write as _;
use std::path::Path;

use lifeguard_core::archive::{SigningKey, hex, parse_hex};

use crate::error::{ErrorKind, StoreError};

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "signing.key";

/// Loads the signing key from `dir`, or makes one (readable by the owner only) if there is none.
pub fn load_or_create_key(dir: &Path) -> Result<SigningKey, StoreError> {
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
            Ok(SigningKey::from_seed(&seed))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|err| StoreError::io(dir, &err))?;
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|err| {
                StoreError::new(ErrorKind::Io, format!("no randomness for a new key: {err}"))
            })?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            let mut file = options.open(&path).map_err(|err| StoreError::io(&path, &err))?;
            file.write_all(format!("{}\n", hex(&seed)).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|err| StoreError::io(&path, &err))?;
            Ok(SigningKey::from_seed(&seed))
        }
        Err(err) => Err(StoreError::io(&path, &err)),
    }
}
