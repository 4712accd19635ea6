//! National identity numbers that are only digits, found only after the name of the document:
//! with one check digit, one number in ten passes, so phone numbers and order or account
//! numbers written in the same groups would be reported too often.
//!
//! - Canadian Social Insurance Numbers: nine digits, together or in three groups of three
//!   (`046 454 286`, `046-454-286`), whose Luhn check holds and whose first digit Service Canada
//!   issues (not 0, which it never issues and which its own sample number uses, nor 8). Three
//!   groups of three are also how Spain, Portugal and Poland write phone numbers, and one such
//!   number in ten passes the Luhn check. Named "SIN", "social insurance" or, in French, "NAS"
//!   and "assurance sociale".
//! - Indian Aadhaar numbers: twelve digits, together or in three groups of four
//!   (`4973 1826 4506`), whose Verhoeff check digit holds and whose first digit is 2 to 9, as
//!   UIDAI issues them. Named "Aadhaar" (or "Aadhar", "Adhaar") or, in Hindi, "आधार".

use super::{cards::luhn, digit_groups, name_window};

/// `[start, we)` is an all-digit word. Returns the end of a SIN starting there.
pub(super) fn sin_at(b: &[u8], start: usize, we: usize) -> Option<usize> {
    let (digits, end): ([u8; 9], usize) = match we - start {
        9 => (b[start..we].try_into().ok()?, we),
        3 => grouped(b, start, we)?,
        _ => return None,
    };
    let named = |window: &[u8]| {
        has_word(window, b"sin", false)
            || has_word(window, b"nas", true)
            || has_word(window, b"social insurance", false)
            || has_word(window, b"assurance sociale", false)
    };
    (!matches!(digits[0], b'0' | b'8') && luhn(&digits) && named(name_window(b, start)))
        .then_some(end)
}

/// `[start, we)` is an all-digit word. Returns the end of an Aadhaar number starting there.
pub(super) fn aadhaar_at(b: &[u8], start: usize, we: usize) -> Option<usize> {
    let (digits, end): ([u8; 12], usize) = match we - start {
        12 => (b[start..we].try_into().ok()?, we),
        4 => grouped(b, start, we)?,
        _ => return None,
    };
    let named = |window: &[u8]| {
        [&b"aadhaar"[..], b"aadhar", b"adhaar", "आधार".as_bytes()]
            .iter()
            .any(|name| has_word(window, name, false))
    };
    (matches!(digits[0], b'2'..=b'9') && verhoeff(&digits) && named(name_window(b, start)))
        .then_some(end)
}

/// Three groups of `N / 3` digits, the first being `[start, we)` (see [`digit_groups`]): the `N`
/// digits and the end.
fn grouped<const N: usize>(b: &[u8], start: usize, we: usize) -> Option<([u8; N], usize)> {
    let end = digit_groups(b, start, we, &[N / 3, N / 3])?;
    let mut digits = [0; N];
    for (slot, &c) in digits.iter_mut().zip(b[start..end].iter().filter(|c| c.is_ascii_digit())) {
        *slot = c;
    }
    Some((digits, end))
}

/// Whether `word` stands in `hay` as a word of its own (no ASCII letter or digit beside it);
/// in capitals only when `capitals`, as "nas" is a Portuguese word and "NAS" the French name.
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

/// The Verhoeff check (dihedral group D5), which catches every single-digit error and every
/// swap of neighbouring digits.
fn verhoeff(digits: &[u8]) -> bool {
    const MULTIPLY: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const PERMUTE: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let check = digits.iter().rev().enumerate().fold(0u8, |check, (i, &c)| {
        MULTIPLY[usize::from(check)][usize::from(PERMUTE[i % 8][usize::from(c - b'0')])]
    });
    check == 0
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
    fn ignores_other_numbers_after_sin() {
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

    #[test]
    fn verhoeff_matches_known_numbers() {
        assert!(super::verhoeff(b"2363"));
        assert!(!super::verhoeff(b"2364"));
        assert!(!super::verhoeff(b"2633"), "a swap of neighbours is caught");
        assert!(super::verhoeff(b"497318264506"));
    }

    #[test]
    fn finds_aadhaar_numbers_after_their_name() {
        let cases = [
            ("my aadhaar is 4973 1826 4506 pls", r#"in_aadhaar 14..28 "4973 1826 4506""#),
            ("Aadhar no: 2865-1934-0727", r#"in_aadhaar 11..25 "2865-1934-0727""#),
            ("AADHAAR card number 357924680130", r#"in_aadhaar 20..32 "357924680130""#),
            ("मेरा आधार 4973 1826 4506", r#"in_aadhaar 26..40 "4973 1826 4506""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::InAadhaar], text), want, "{text}");
        }
    }

    #[test]
    fn ignores_other_numbers_after_aadhaar() {
        let cases = [
            // No name before it, or the name too far away or inside another word.
            "4973 1826 4506",
            "call 4973 1826 4506 about your Aadhaar",
            "Aadhaar: the number printed on the card we sent: 4973 1826 4506",
            "aadhaarx 4973 1826 4506",
            // The check digit fails; a first digit UIDAI does not issue.
            "Aadhaar 4973 1826 4507",
            "Aadhaar 0000 0000 0000",
            "Aadhaar 1234 5678 9012",
            // Other groupings and longer runs.
            "Aadhaar 4973 1826-4506",
            "Aadhaar 4973 1826 45060",
            "Aadhaar 1 4973 1826 4506",
            "Aadhaar 4973 1826 4506 1111",
            "Aadhaar 4973 1826 4506.5",
            "Aadhaar 49731826450",
            "Aadhaar 4973182645060",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::InAadhaar], text), "", "{text}");
        }
    }
}
