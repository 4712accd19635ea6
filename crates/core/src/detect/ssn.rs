//! US social security numbers: the dashed or spaced AAA-GG-SSSS layout, the SSA's never-issued
//! ranges, and the handful of numbers printed in ads and documentation.
//!
//! Nine bare digits are far more often an order or account number than an SSN, so they count
//! only right after the words "ssn" or "social security".

use super::{digit_groups, name_window};

/// `[start, we)` is an all-digit word. Returns the end of an SSN starting there.
pub(super) fn at(b: &[u8], start: usize, we: usize) -> Option<usize> {
    match we - start {
        3 => {
            let end = digit_groups(b, start, we, &[2, 4])?;
            allowed(&b[start..we], &b[we + 1..we + 3], &b[end - 4..end]).then_some(end)
        }
        9 if near_keyword(b, start) => {
            let d = &b[start..we];
            allowed(&d[..3], &d[3..5], &d[5..]).then_some(we)
        }
        _ => None,
    }
}

/// The SSA never issues area 000, 666 or 900-999, group 00 or serial 0000; the rest are numbers
/// that were printed publicly and are used as examples.
fn allowed(area: &[u8], group: &[u8], serial: &[u8]) -> bool {
    if area == b"000" || area == b"666" || area[0] == b'9' || group == b"00" || serial == b"0000" {
        return false;
    }
    let sample = matches!(
        (area, group, serial),
        (b"078", b"05", b"1120") | (b"219", b"09", b"9999") | (b"123", b"45", b"6789")
    ) || (area == b"987" && group == b"65" && serial.starts_with(b"432"));
    !sample
}

fn near_keyword(b: &[u8], start: usize) -> bool {
    let window = name_window(b, start);
    contains_ignore_case(window, b"ssn") || contains_ignore_case(window, b"social security")
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::super::Entity;
    use super::super::tests::detect;

    #[test]
    fn finds_ssns() {
        let cases = [
            ("my ssn is 536-22-8145 ok", r#"us_ssn 10..21 "536-22-8145""#),
            ("536 22 8145", r#"us_ssn 0..11 "536 22 8145""#),
            ("SSN: 536228145", r#"us_ssn 5..14 "536228145""#),
            ("social security number 536228145.", r#"us_ssn 23..32 "536228145""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::UsSsn], text), want, "{text}");
        }
    }

    #[test]
    fn ignores_invalid_and_sample_ssns() {
        let cases = [
            "000-12-3456",
            "666-12-3456",
            "912-34-5678",
            "536-00-8145",
            "536-22-0000",
            "078-05-1120",
            "219-09-9999",
            "123-45-6789",
            "987-65-4320",
            "987-65-4329",
            // Bare digits without a keyword, longer runs, dates and phone-like groupings.
            "order 536228145",
            "536-22-8145-77",
            "1-536-22-8145",
            "536-22-81456",
            "2024-01-15",
            "536-228-145",
            "536-22 8145",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::UsSsn], text), "", "{text}");
        }
    }
}
