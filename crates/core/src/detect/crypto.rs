//! Cryptocurrency wallet addresses: Bitcoin Base58Check (P2PKH "1...", P2SH "3..."), Bitcoin
//! segwit bech32/bech32m ("bc1..."), and Ethereum ("0x" + 40 hex).
//!
//! Bitcoin addresses carry checksums, so a random word of the right alphabet and length is
//! rejected. Ethereum's only checksum is EIP-55 mixed-case, which needs Keccak-256; we have no
//! Keccak (and do not want a dependency for it), and all-lowercase addresses carry no checksum
//! anyway, so any "0x" + 40 hex word is accepted. A 40-hex word with the 0x prefix is rarely
//! anything other than an address.

use sha2::{Digest, Sha256};

/// True when `word` (a whole word, no surrounding text) is a wallet address.
pub(super) fn is_wallet(word: &[u8]) -> bool {
    match word.first() {
        Some(b'0') => is_ethereum(word),
        Some(b'1' | b'3') => is_base58check(word),
        Some(b'b' | b'B') => is_segwit(word),
        _ => false,
    }
}

fn is_ethereum(word: &[u8]) -> bool {
    word.len() == 42 && word[1] == b'x' && word[2..].iter().all(u8::is_ascii_hexdigit)
}

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Digit values of Base58 characters; 0xff for bytes outside the alphabet.
const BASE58_VALUES: [u8; 128] = {
    let mut table = [0xff; 128];
    let mut i = 0;
    while i < BASE58.len() {
        table[BASE58[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// A version byte, a 20-byte hash and a 4-byte checksum.
const PAYLOAD_LEN: usize = 25;

fn is_base58check(word: &[u8]) -> bool {
    if !(26..=35).contains(&word.len()) {
        return false;
    }
    let mut payload = [0u8; PAYLOAD_LEN];
    for &c in word {
        let Some(&v) = BASE58_VALUES.get(usize::from(c)) else { return false };
        if v == 0xff {
            return false;
        }
        let mut carry = u32::from(v);
        for byte in payload.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = carry as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return false;
        }
    }
    // Each leading '1' encodes one leading zero byte; a mismatch means a non-canonical encoding.
    let ones = word.iter().take_while(|&&c| c == b'1').count();
    let zeros = payload.iter().take_while(|&&b| b == 0).count();
    if ones != zeros {
        return false;
    }
    let version_ok = matches!((word[0], payload[0]), (b'1', 0x00) | (b'3', 0x05));
    let check = Sha256::digest(Sha256::digest(&payload[..21]));
    version_ok && check[..4] == payload[21..]
}

const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_CONST: u32 = 1;
const BECH32M_CONST: u32 = 0x2bc8_30a3;
/// The longest segwit address: "bc1", a version, 40 program bytes (64 chars) and 6 checksum chars.
const MAX_SEGWIT_LEN: usize = 74;

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// A mainnet segwit address per BIP-173 (version 0, bech32) and BIP-350 (versions 1-16, bech32m).
fn is_segwit(word: &[u8]) -> bool {
    let n = word.len();
    if !(14..=MAX_SEGWIT_LEN).contains(&n) || !word[..3].eq_ignore_ascii_case(b"bc1") {
        return false;
    }
    // Mixed case is invalid in bech32: it would defeat the checksum's error detection.
    if word.iter().any(u8::is_ascii_lowercase) && word.iter().any(u8::is_ascii_uppercase) {
        return false;
    }
    let mut data = [0u8; MAX_SEGWIT_LEN - 3];
    let len = n - 3;
    for (slot, &c) in data.iter_mut().zip(&word[3..]) {
        let lower = c.to_ascii_lowercase();
        let Some(v) = BECH32_CHARSET.iter().position(|&x| x == lower) else { return false };
        *slot = v as u8;
    }
    let data = &data[..len];
    let hrp = b"bc";
    let expanded = hrp.iter().map(|c| c >> 5).chain([0]).chain(hrp.iter().map(|c| c & 31));
    let version = data[0];
    let want = match version {
        0 => BECH32_CONST,
        1..=16 => BECH32M_CONST,
        _ => return false,
    };
    if polymod(expanded.chain(data.iter().copied())) != want {
        return false;
    }
    // The witness program is the data between the version and the checksum, regrouped from
    // 5-bit to 8-bit values with at most 4 zero padding bits.
    let (mut acc, mut bits, mut bytes) = (0u32, 0u32, 0usize);
    for &v in &data[1..len - 6] {
        acc = ((acc << 5) | u32::from(v)) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes += 1;
        }
    }
    if bits > 4 || acc & ((1 << bits) - 1) != 0 {
        return false;
    }
    (2..=40).contains(&bytes) && (version != 0 || bytes == 20 || bytes == 32)
}

#[cfg(test)]
mod tests {
    use super::super::Entity;
    use super::super::tests::detect;
    use super::is_wallet;

    #[test]
    fn accepts_real_addresses() {
        let valid = [
            // The genesis block coinbase address.
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            // A P2SH example from the Bitcoin wiki.
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            // BIP-173 and BIP-350 examples.
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae",
        ];
        for a in valid {
            assert!(is_wallet(a.as_bytes()), "{a}");
        }
    }

    #[test]
    fn rejects_broken_addresses() {
        let invalid = [
            // One character changed.
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4x",
            // Version 0 with a bech32m checksum, and version 1 with a bech32 checksum (BIP-350).
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
            // Mixed case.
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8F3T4",
            // Testnet and wrong lengths.
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7Div",
            "0x52908400098527886E0F7030069857D2E4169EE",
            "0x52908400098527886E0F7030069857D2E4169EEG",
            // Base58 forbids 0, O, I and l.
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0",
        ];
        for a in invalid {
            assert!(!is_wallet(a.as_bytes()), "{a}");
        }
    }

    #[test]
    fn finds_wallets_in_text() {
        let cases = [
            (
                "send btc to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa thx",
                r#"crypto_wallet 12..46 "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa""#,
            ),
            (
                "(bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4)",
                r#"crypto_wallet 1..43 "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4""#,
            ),
            (
                "eth: 0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae.",
                r#"crypto_wallet 5..47 "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae""#,
            ),
            ("x1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", ""),
            ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNax", ""),
            ("tx 0xde0b295669a9fd93d5f28d9ec85e40f4cb697baede0b295669a9fd93d5f28d9e", ""),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::CryptoWallet], text), want, "{text}");
        }
    }
}
