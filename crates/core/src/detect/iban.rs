//! International bank account numbers, compact ("DE89370400440532013000") or printed in groups of
//! four ("GB82 WEST 1234 5698 7654 32").
//!
//! The `iban_validate` crate checks the per-country length and layout and the mod-97 checksum;
//! this module only finds candidates: a word starting with two capital letters and two digits.

use iban::Iban;

use super::word_end;

const MIN_LEN: usize = 15;
const MAX_LEN: usize = 34;

/// `[ws, we)` is a whole word whose third byte is its first digit. Returns the end of an IBAN
/// starting at `ws`.
pub(super) fn at(b: &[u8], ws: usize, we: usize) -> Option<usize> {
    let word = &b[ws..we];
    let shape = word.len() >= 4
        && word[..2].iter().all(u8::is_ascii_uppercase)
        && word[2..4].iter().all(u8::is_ascii_digit)
        && word.iter().all(|&c| is_iban_byte(c));
    if !shape {
        return None;
    }
    if word.len() > 4 {
        return ((MIN_LEN..=MAX_LEN).contains(&word.len()) && valid(word)).then_some(we);
    }
    let mut compact = [0u8; MAX_LEN];
    compact[..4].copy_from_slice(word);
    let mut n = 4;
    let mut cands = [(0usize, 0usize); MAX_LEN / 4];
    let mut ncands = 0;
    let mut e = we;
    while b.get(e) == Some(&b' ') && ncands < cands.len() {
        let gs = e + 1;
        let ge = word_end(b, gs);
        let len = ge - gs;
        if len == 0 || len > 4 || n + len > MAX_LEN || !b[gs..ge].iter().all(|&c| is_iban_byte(c)) {
            break;
        }
        compact[n..n + len].copy_from_slice(&b[gs..ge]);
        n += len;
        cands[ncands] = (ge, n);
        ncands += 1;
        e = ge;
        if len < 4 {
            // Only the last group may be short.
            break;
        }
    }
    // Longest first, because a short capitalised word may follow the number ("... 32 OK").
    cands[..ncands]
        .iter()
        .rev()
        .find(|&&(_, count)| count >= MIN_LEN && valid(&compact[..count]))
        .map(|&(end, _)| end)
}

/// IBANs are written in capitals; lowercase letters would mostly turn up in ordinary words.
fn is_iban_byte(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

fn valid(compact: &[u8]) -> bool {
    std::str::from_utf8(compact).is_ok_and(|s| s.parse::<Iban>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::super::Entity;
    use super::super::tests::detect;

    #[test]
    fn finds_ibans() {
        let cases = [
            ("iban GB82 WEST 1234 5698 7654 32 OK", r#"iban 5..32 "GB82 WEST 1234 5698 7654 32""#),
            ("DE89370400440532013000", r#"iban 0..22 "DE89370400440532013000""#),
            ("(DE89 3704 0044 0532 0130 00)", r#"iban 1..28 "DE89 3704 0044 0532 0130 00""#),
            ("to FR1420041010050500013M02606.", r#"iban 3..30 "FR1420041010050500013M02606""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::Iban], text), want, "{text}");
        }
    }

    #[test]
    fn ignores_invalid_ibans() {
        let cases = [
            // Checksum broken by one digit.
            "GB82 WEST 1234 5698 7654 33",
            "DE89370400440532013001",
            // Wrong length for the country, unknown country, lowercase, glued to a word.
            "DE8937040044053201300",
            "ZZ82WEST12345698765432",
            "gb82 west 1234 5698 7654 32",
            "xGB82WEST12345698765432",
            "GB82 WEST 1234 5698 76 54 32",
            "AB12 is a code",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::Iban], text), "", "{text}");
        }
    }
}
