//! UK National Insurance numbers: two prefix letters, six digits and a suffix letter from A to
//! D, written compact (`AB123456C`), in the printed pairs (`AB 12 34 56 C`) or with the digits
//! together (`AB 123456 C`), in capitals.
//!
//! HMRC's allocation rules do the validating: neither prefix letter is D, F, I, Q, U or V, the
//! second is not O, and the prefixes BG, GB, KN, NK, NT, TN and ZZ are never allocated. So
//! `QQ 12 34 56 C`, the number HMRC prints in its own examples, is not one.

/// `[ws, we)` is a whole word holding a digit, `d` its first. Returns the span of a National
/// Insurance number that the word is part of.
pub(super) fn at(b: &[u8], ws: usize, d: usize, we: usize) -> Option<(usize, usize)> {
    let word = &b[ws..we];
    if d == ws + 2 && word.len() == 9 {
        let compact = word[2..8].iter().all(u8::is_ascii_digit);
        return (compact && valid(&word[..2], word[8])).then_some((ws, we));
    }
    // Spaced: the word is the first group of digits, after the prefix and a space.
    if d != ws || ws < 3 || b[ws - 1] != b' ' || !word.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let start = ws - 3;
    if start > 0 && super::is_word(b[start - 1]) {
        return None;
    }
    let prefix = &b[start..start + 2];
    let mut at = we;
    let groups: &[usize] = match word.len() {
        2 => &[2, 2],
        6 => &[],
        _ => return None,
    };
    for &len in groups {
        if b.get(at) != Some(&b' ') {
            return None;
        }
        let group_end = super::digits_end(b, at + 1);
        if group_end - (at + 1) != len {
            return None;
        }
        at = group_end;
    }
    if b.get(at) != Some(&b' ') {
        return None;
    }
    let suffix = *b.get(at + 1)?;
    let end = at + 2;
    if b.get(end).is_some_and(|&c| super::is_word(c)) {
        return None;
    }
    valid(prefix, suffix).then_some((start, end))
}

fn valid(prefix: &[u8], suffix: u8) -> bool {
    const NEVER_FIRST: &[u8] = b"DFIQUV";
    const NEVER_SECOND: &[u8] = b"DFIOQUV";
    const NEVER_ALLOCATED: [&[u8]; 7] = [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"];
    prefix.iter().all(u8::is_ascii_uppercase)
        && !NEVER_FIRST.contains(&prefix[0])
        && !NEVER_SECOND.contains(&prefix[1])
        && !NEVER_ALLOCATED.contains(&prefix)
        && matches!(suffix, b'A'..=b'D')
}

#[cfg(test)]
mod tests {
    use super::super::tests::detect;
    use crate::detect::Entity;

    #[test]
    fn numbers_in_each_written_form() {
        let cases = [
            ("NI number AB123456C, thanks", r#"uk_nino 10..19 "AB123456C""#),
            ("NI: JG 10 37 82 B.", r#"uk_nino 4..17 "JG 10 37 82 B""#),
            ("mine is CE 654321 A", r#"uk_nino 8..19 "CE 654321 A""#),
            ("PX987654D", r#"uk_nino 0..9 "PX987654D""#),
        ];
        for (text, expected) in cases {
            assert_eq!(detect(&[Entity::UkNino], text), expected, "{text}");
        }
    }

    #[test]
    fn numbers_hmrc_never_allocates_and_other_shapes_are_not() {
        for text in [
            "QQ 12 34 56 C", // HMRC's example prefix
            "QQ123456C",
            "DA123456C", // D never first
            "AO123456C", // O never second
            "GB123456C", // never allocated
            "ZZ 12 34 56 A",
            "AB123456E", // suffix beyond D
            "AB123456",  // no suffix
            "ab123456c", // not in capitals
            "AB1234567C",
            "XAB 12 34 56 C",
            "AB 12 34 56 CD",
            "AB 12 34 5 C",
            "AB 12 34 56",
        ] {
            assert_eq!(detect(&[Entity::UkNino], text), "", "{text}");
        }
    }
}
