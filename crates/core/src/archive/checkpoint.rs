//! Signed checkpoints: an Ed25519 signature over the chain's head at one entry.
//!
//! A checkpoint pins the chain: once an auditor holds one, rewriting any entry up to it (even
//! recomputing every later hash) is detectable without trusting the archive's database.
//! Signing is deterministic (RFC 8032), so it belongs here; making a key needs randomness and
//! happens outside the core.

use ed25519_dalek::{Signature, Signer as _, Verifier as _};
use sha2::{Digest, Sha256};

use super::chain::{Hash, hex, parse_hex};

/// The private half of the archive's signing key.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

/// The public half: what verifiers hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

impl SigningKey {
    /// A key from its 32-byte secret seed.
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The secret seed, for storing the key.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }

    /// Signs the chain's head at entry `seq`.
    pub fn checkpoint(&self, seq: u64, head: Hash, signed_at: String) -> Checkpoint {
        let message = Checkpoint::message(seq, &head, &signed_at);
        let signature = self.0.sign(message.as_bytes()).to_bytes();
        Checkpoint { seq, head, signed_at, key_id: key_id(&self.verifying_key()), signature }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(…)")
    }
}

impl VerifyingKey {
    /// A public key from its 32 bytes; fails on bytes that are not a curve point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<VerifyingKey, CheckpointError> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(VerifyingKey)
            .map_err(|_| CheckpointError::BadKey)
    }

    /// Parses the key's 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Result<VerifyingKey, CheckpointError> {
        let bytes = parse_hex(text.trim()).ok_or(CheckpointError::BadKey)?;
        VerifyingKey::from_bytes(&bytes)
    }

    /// The key's 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The key as 64 lowercase hexadecimal digits.
    pub fn to_hex(&self) -> String {
        hex(&self.to_bytes())
    }
}

/// The short name of a key: the first 16 hex digits of SHA-256 over its 32 bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.to_bytes());
    hex(&digest[..8])
}

/// A signed statement that the chain's entry `seq` has hash `head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The entry the checkpoint pins.
    pub seq: u64,
    /// That entry's hash.
    pub head: Hash,
    /// When it was signed, in the archive's time format.
    pub signed_at: String,
    /// Which key signed it ([`key_id`]).
    pub key_id: String,
    /// The Ed25519 signature over [`Checkpoint::message`].
    pub signature: [u8; 64],
}

/// Why a checkpoint does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The public key is malformed.
    #[error("the public key is not 32 bytes of a valid Ed25519 key")]
    BadKey,
    /// The checkpoint names another key.
    #[error("checkpoint at entry {seq} was signed by key {found}, not by {expected}")]
    WrongKey {
        /// The checkpoint's entry.
        seq: u64,
        /// The id of the key given.
        expected: String,
        /// The id the checkpoint names.
        found: String,
    },
    /// The signature does not match.
    #[error("checkpoint at entry {seq}: signature does not verify")]
    BadSignature {
        /// The checkpoint's entry.
        seq: u64,
    },
    /// The signature is fine but the chain's entry has another hash.
    #[error("checkpoint at entry {seq}: signed head differs from the chain's hash at that entry")]
    HeadMismatch {
        /// The checkpoint's entry.
        seq: u64,
    },
}

impl Checkpoint {
    /// The signed text: `lifeguard-checkpoint-v1\n{seq}\n{head hex}\n{signed_at}`.
    pub fn message(seq: u64, head: &Hash, signed_at: &str) -> String {
        format!("lifeguard-checkpoint-v1\n{seq}\n{}\n{signed_at}", hex(head))
    }

    /// Checks the signature with `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), CheckpointError> {
        let expected = key_id(key);
        if expected != self.key_id {
            return Err(CheckpointError::WrongKey {
                seq: self.seq,
                expected,
                found: self.key_id.clone(),
            });
        }
        let message = Checkpoint::message(self.seq, &self.head, &self.signed_at);
        let signature = Signature::from_bytes(&self.signature);
        key.0
            .verify(message.as_bytes(), &signature)
            .map_err(|_| CheckpointError::BadSignature { seq: self.seq })
    }

    /// Checks the signature and that the chain's hash at `seq` is the signed head.
    pub fn verify_against(
        &self,
        key: &VerifyingKey,
        chain_hash: &Hash,
    ) -> Result<(), CheckpointError> {
        self.verify(key)?;
        if &self.head != chain_hash {
            return Err(CheckpointError::HeadMismatch { seq: self.seq });
        }
        Ok(())
    }
}
