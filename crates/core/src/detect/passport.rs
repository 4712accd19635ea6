//! Passport numbers, found two ways.
//!
//! - The machine-readable zone of a passport's data page (ICAO Doc 9303, format TD3): two
//!   lines of 44 characters from `A-Z`, `0-9` and `<`, the second of which carries the document
//!   number, nationality, birth and expiry dates and five check digits. All five must hold, so
//!   a zone copied from a scan or a photo's text is found and random capitals are not. The first
//!   line (`P<` and the holder's name) is part of the detection when it stands right above.
//! - A document number written after the word "passport" (or its name in a few other
//!   languages), optionally with "no.", "number", "#", ":" or "is" between: 6 to 10 letters and
//!   digits, at least 5 of them digits, which covers the usual national formats (`123456789`,
//!   `A12345678`, `12AB34567`, `C01X00T47`). Without the word such a number is only a number.
//!
//! The specimen printed in ICAO 9303 itself (document `L898902C3`), which every example of the
//! format repeats, is not a passport.

/// The length of a line of a TD3 machine-readable zone.
const LINE: usize = 44;

/// The machine-readable zone whose second line holds the word `[word, word_end)` (the first
/// with a digit, which need not start the line: `ABCDEF<<<7…`): its span, which takes in the
/// first line when it stands right above.
pub(super) fn zone_at(b: &[u8], word: usize, word_end: usize) -> Option<(usize, usize)> {
    let start = if b.get(word_end) == Some(&b'<') {
        word - b[..word].iter().rev().take(LINE).take_while(|&&c| is_zone_byte(c)).count()
    } else {
        // The word ends the line, as most words with a digit end in a space or a sign a zone
        // cannot hold: no walk back needed.
        word_end.checked_sub(LINE)?
    };
    let end = start + LINE;
    let line = b.get(start..end)?;
    if start > 0 && continues_line(b[start - 1]) {
        return None;
    }
    if b.get(end).copied().is_some_and(continues_line) {
        return None;
    }
    if !line.iter().all(|&c| is_zone_byte(c)) || !is_valid_second_line(line) {
        return None;
    }
    Some((first_line_above(b, start).unwrap_or(start), end))
}

fn is_zone_byte(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'<'
}

/// A byte that would make a zone line longer than 44 if it stood beside one: a zone byte or
/// any other letter.
fn continues_line(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'<'
}

fn is_valid_second_line(line: &[u8]) -> bool {
    let digits = |range: std::ops::Range<usize>| line[range].iter().all(u8::is_ascii_digit);
    let date = |at: usize| {
        digits(at..at + 6)
            && (1..=12).contains(&number(&line[at + 2..at + 4]))
            && (1..=31).contains(&number(&line[at + 4..at + 6]))
    };
    let is =
        |at: usize, digit: u32| line[at].is_ascii_digit() && u32::from(line[at] - b'0') == digit;
    let holds = |at: usize, chars: &[u8]| is(at, check_digit(chars.iter().copied()));
    let composite = line[0..10].iter().chain(&line[13..20]).chain(&line[21..43]).copied();
    let document = &line[0..9];
    let optional_holds =
        line[42] == b'<' && line[28..42].iter().all(|&c| c == b'<') || holds(42, &line[28..42]);
    document[0] != b'<'
        && document != b"L898902C3"
        && line[10..13].iter().all(|&c| c.is_ascii_uppercase() || c == b'<')
        && date(13)
        && date(21)
        && matches!(line[20], b'M' | b'F' | b'X' | b'<')
        && holds(9, document)
        && holds(19, &line[13..19])
        && holds(27, &line[21..27])
        && optional_holds
        && is(43, check_digit(composite))
}

/// ICAO 9303's check digit: weights 7, 3, 1 repeating; letters count 10 to 35, `<` zero.
pub(super) fn check_digit(chars: impl Iterator<Item = u8>) -> u32 {
    let value = |c: u8| match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A'..=b'Z' => u32::from(c - b'A') + 10,
        _ => 0,
    };
    chars.zip([7, 3, 1].into_iter().cycle()).map(|(c, w)| value(c) * w).sum::<u32>() % 10
}

fn number(two: &[u8]) -> u32 {
    u32::from(two[0] - b'0') * 10 + u32::from(two[1] - b'0')
}

/// The start of the first line of a zone (`P`, a type letter or `<`, then 42 characters) that
/// ends one line break or space before `second`.
fn first_line_above(b: &[u8], second: usize) -> Option<usize> {
    let mut end = second.checked_sub(1)?;
    if b[end] == b'\n' && end > 0 && b[end - 1] == b'\r' {
        end -= 1;
    } else if !matches!(b[end], b'\n' | b' ') {
        return None;
    }
    let start = end.checked_sub(LINE)?;
    let line = &b[start..end];
    let clear_before = start == 0 || !continues_line(b[start - 1]);
    (clear_before && line[0] == b'P' && line.iter().all(|&c| is_zone_byte(c))).then_some(start)
}

/// True when the word `[ws, we)` has the shape of a passport number and follows the word
/// "passport", perhaps with a few connecting words or signs between.
pub(super) fn is_number_at(text: &str, ws: usize, we: usize) -> bool {
    let word = &text.as_bytes()[ws..we];
    (6..=10).contains(&word.len())
        && word.iter().all(u8::is_ascii_alphanumeric)
        && word.iter().filter(|c| c.is_ascii_digit()).count() >= 5
        && follows_keyword(text, ws)
}

/// Names of the document, lowercase.
const KEYWORDS: &[&str] = &[
    "passport",
    "passeport",
    "pasaporte",
    "passaporto",
    "passaporte",
    "paspoort",
    "paszport",
    "reisepass",
    "reisepassnummer",
    "passnummer",
    "паспорт",
];

/// Words that may stand between the name and the number ("passport no. is …"), lowercase.
const CONNECTORS: &[&str] = &[
    "no",
    "nr",
    "nbr",
    "num",
    "number",
    "numero",
    "número",
    "numéro",
    "nummer",
    "n°",
    "nº",
    "is",
    "id",
    "номер",
];

fn follows_keyword(text: &str, ws: usize) -> bool {
    let b = text.as_bytes();
    let mut end = ws;
    // The name, then at most three connecting words.
    for _ in 0..4 {
        let gap_start = end;
        while end > 0
            && gap_start - end < 8
            && matches!(
                b[end - 1],
                b' ' | b'\t' | b'\n' | b'\r' | b':' | b'#' | b'.' | b'=' | b'-' | b'(' | b')'
            )
        {
            end -= 1;
        }
        let mut start = end;
        while start > 0
            && end - start < 32
            && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] >= 0x80)
        {
            start -= 1;
        }
        let Some(word) = text.get(start..end).filter(|w| !w.is_empty()) else { return false };
        if KEYWORDS.iter().any(|k| same_word(word, k)) {
            return true;
        }
        if !CONNECTORS.iter().any(|k| same_word(word, k)) {
            return false;
        }
        end = start;
    }
    false
}

/// `word` is `lowercase` in any letter case.
fn same_word(word: &str, lowercase: &str) -> bool {
    if word.is_ascii() {
        word.eq_ignore_ascii_case(lowercase)
    } else {
        word.chars().flat_map(char::to_lowercase).eq(lowercase.chars())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::detect;
    use super::check_digit;
    use crate::detect::Entity;

    /// A second line of a zone with the check digits worked out.
    fn second_line(document: &str, birth: &str, sex: char, expiry: &str, optional: &str) -> String {
        let digit = |s: &str| char::from(b'0' + check_digit(s.bytes()) as u8);
        let optional = format!("{optional:<<14}");
        let optional_check =
            if optional.bytes().all(|c| c == b'<') { '<' } else { digit(&optional) };
        let mut line = format!(
            "{document}{}GBR{birth}{}{sex}{expiry}{}{optional}{optional_check}",
            digit(document),
            digit(birth),
            digit(expiry)
        );
        let composite: String = [&line[0..10], &line[13..20], &line[21..43]].concat();
        line.push(digit(&composite));
        line
    }

    #[test]
    fn check_digits_follow_icao_9303() {
        // The worked examples of Doc 9303 part 3.
        assert_eq!(check_digit(b"520727".iter().copied()), 3);
        assert_eq!(check_digit(b"AB2134<<<".iter().copied()), 5);
        assert_eq!(check_digit(b"L898902C3".iter().copied()), 6);
    }

    #[test]
    fn machine_readable_zones() {
        let line = second_line("123456789", "850312", 'F', "310115", "");
        assert_eq!(line.len(), 44);
        let first = "P<GBRDOE<<JANE<MARY<<<<<<<<<<<<<<<<<<<<<<<<<";
        assert_eq!(first.len(), 44);
        let text = format!("scan:\n{first}\n{line}\nthanks");
        assert_eq!(
            detect(&[Entity::Passport], &text),
            format!("passport 6..95 {:?}", &text[6..95])
        );
        let alone = format!("line two {line} only");
        assert_eq!(detect(&[Entity::Passport], &alone), format!("passport 9..53 {line:?}"));
        let with_optional = second_line("X1234567<", "991231", 'M', "290630", "ZE184226B");
        assert_eq!(
            detect(&[Entity::Passport], &with_optional),
            format!("passport 0..44 {with_optional:?}")
        );
        // Any one check digit wrong, or a line too long or too short, is not a zone.
        for at in [9, 19, 27, 43] {
            let mut wrong = line.clone().into_bytes();
            wrong[at] = if wrong[at] == b'9' { b'0' } else { wrong[at] + 1 };
            let wrong = String::from_utf8(wrong).unwrap();
            assert_eq!(detect(&[Entity::Passport], &wrong), "", "check digit at {at}");
        }
        assert_eq!(detect(&[Entity::Passport], &format!("{line}<")), "");
        assert_eq!(detect(&[Entity::Passport], &format!("A{line}")), "");
        assert_eq!(detect(&[Entity::Passport], &line[..43]), "");
        // The specimen of Doc 9303 itself.
        let specimen = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
        assert_eq!(detect(&[Entity::Passport], specimen), "");
        let month = second_line("123456789", "851312", 'F', "310115", "");
        assert_eq!(detect(&[Entity::Passport], &month), "", "no thirteenth month");
    }

    #[test]
    fn numbers_after_the_word_passport() {
        let cases = [
            ("My passport number is 123456789.", r#"passport 22..31 "123456789""#),
            ("Passport No. A12345678 exp 2030", r#"passport 13..22 "A12345678""#),
            ("passport #: 987654321", r#"passport 12..21 "987654321""#),
            ("PASSPORT: C01X00T47", r#"passport 10..19 "C01X00T47""#),
            ("Numéro de passeport : 12AB34567", r#"passport 23..32 "12AB34567""#),
            ("Reisepassnummer C01X00T47", r#"passport 16..25 "C01X00T47""#),
            ("паспорт номер 4509123456", r#"passport 26..36 "4509123456""#),
        ];
        for (text, expected) in cases {
            assert_eq!(detect(&[Entity::Passport], text), expected, "{text}");
        }
        for text in [
            "123456789 is not near the word",
            "passport photos 123456789",    // "photos" connects nothing
            "passport number 12345",        // too short
            "passport number ABCDEFG1",     // too few digits
            "passport number 12345678901",  // too long
            "my passport expires 20300501", // a date after another word
            "passportnumber 123456789",     // not a word of the list
        ] {
            assert_eq!(detect(&[Entity::Passport], text), "", "{text}");
        }
    }
}
