//! Canadian Social Insurance Numbers: nine digits, written together or in three groups of three
//! (`046 454 286`, `046-454-286`), whose Luhn check holds and whose first digit Service Canada
//! issues (not 0, which it never issues and which its own sample number uses, nor 8).
//!
//! Three groups of three digits are also how Spain, Portugal and Poland write phone numbers,
//! and one such number in ten passes the Luhn check, so a number counts only after the name of
//! the document: "SIN", "social insurance" or, in French, "NAS" and "assurance sociale".

use super::{cards::luhn, digits_end, is_word};

/// How far back (bytes) the name may stand before the number.
const KEYWORD_WINDOW: usize = 32;

/// `[start, we)` is an all-digit word. Returns the end of a SIN starting there.
pub(super) fn at(b: &[u8], start: usize, we: usize) -> Option<usize> {
    let (digits, end): ([u8; 9], usize) = match we - start {
        9 => (b[start..we].try_into().ok()?, we),
        3 => grouped(b, start, we)?,
        _ => return None,
    };
    (!matches!(digits[0], b'0' | b'8') && luhn(&digits) && near_keyword(b, start)).then_some(end)
}

/// Three groups of three digits with the same separator, standing alone: the nine digits and
/// the end.
fn grouped(b: &[u8], start: usize, we: usize) -> Option<([u8; 9], usize)> {
    let sep = *b.get(we)?;
    if sep != b'-' && sep != b' ' {
        return None;
    }
    // The tail of a longer run of groups.
    if start >= 2 && b[start - 1] == sep && b[start - 2].is_ascii_digit() {
        return None;
    }
    let mut digits = [0; 9];
    digits[..3].copy_from_slice(&b[start..we]);
    let mut at = we;
    for group in 1..3 {
        if b.get(at) != Some(&sep) {
            return None;
        }
        let group_end = digits_end(b, at + 1);
        if group_end - (at + 1) != 3 {
            return None;
        }
        digits[group * 3..group * 3 + 3].copy_from_slice(&b[at + 1..group_end]);
        at = group_end;
    }
    if b.get(at).is_some_and(|&c| is_word(c)) {
        return None;
    }
    // The head of a longer run of groups, or of a decimal number.
    if matches!(b.get(at), Some(&c) if c == sep || c == b'.' || c == b',')
        && b.get(at + 1).is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    Some((digits, at))
}

fn near_keyword(b: &[u8], start: usize) -> bool {
    let from = start.saturating_sub(KEYWORD_WINDOW);
    let window = &b[from..start];
    has_word(window, b"sin", false)
        || has_word(window, b"nas", true)
        || has_word(window, b"social insurance", false)
        || has_word(window, b"assurance sociale", false)
}

/// Whether `word` stands in `hay` as a word of its own (no letter or digit beside it); in
/// capitals only when `capitals`, as "nas" is a Portuguese word and "NAS" the French name.
fn has_word(hay: &[u8], word: &[u8], capitals: bool) -> bool {
    let alone = |at: Option<&u8>| at.is_none_or(|c| !c.is_ascii_alphanumeric());
    hay.windows(word.len()).enumerate().any(|(i, w)| {
        let same = if capitals {
            w.eq_ignore_ascii_case(word) && w.iter().all(u8::is_ascii_uppercase)
        } else {
            w.eq_ignore_ascii_case(word)
        };
        same && alone(i.checked_sub(1).map(|k| &hay[k])) && alone(hay.get(i + word.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::super::Entity;
    use super::super::tests::detect;

    #[test]
    fn finds_sins_after_their_name() {
        let cases = [
            ("my SIN is 130 692 544 ok", r#"ca_sin 10..21 "130 692 544""#),
            ("SIN: 130-692-544.", r#"ca_sin 5..16 "130-692-544""#),
            ("sin#130692544", r#"ca_sin 4..13 "130692544""#),
            ("Social Insurance Number 130692544", r#"ca_sin 24..33 "130692544""#),
            ("son NAS : 130 692 544", r#"ca_sin 10..21 "130 692 544""#),
            ("numéro d'assurance sociale 130 692 544", r#"ca_sin 28..39 "130 692 544""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::CaSin], text), want, "{text}");
        }
    }

    #[test]
    fn ignores_other_numbers() {
        let cases = [
            // No name before it, or the name too far away or inside another word.
            "130 692 544",
            "call 612 345 678 for the SIN bin",
            "SIN: the number you asked about, in the letter we sent: 130 692 544",
            "business 130 692 544",
            "basin 130692544",
            "nas 130 692 544",
            // Luhn fails; the first digit is never issued (the government's sample starts
            // with 0).
            "SIN 130 692 545",
            "SIN 046 454 286",
            "SIN 800 000 002",
            // Other groupings and longer runs.
            "SIN 130 692 5440",
            "SIN 130-692 544",
            "SIN 1 130 692 544",
            "SIN 130 692 544 111",
            "SIN 130 692 544.5",
            "SIN 13069254",
            "SIN 1306925440",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::CaSin], text), "", "{text}");
        }
    }
}
