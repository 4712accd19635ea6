//! Payment card numbers: the ways people group them, the Luhn check and issuer prefix/length
//! ranges.
//!
//! Luhn alone passes one random number in ten, and long order or tracking numbers are common in
//! posts, so a number must also start with a real issuer prefix and have a length that issuer
//! uses.

use super::{digits_end, is_word};

const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

/// `[start, we)` is an all-digit word. Returns the end of a card number starting there.
pub(super) fn at(b: &[u8], start: usize, we: usize) -> Option<usize> {
    if joined_before(b, start) {
        return None;
    }
    let first = we - start;
    if first >= MIN_DIGITS {
        return (first <= MAX_DIGITS && !joined_after(b, we) && valid(&b[start..we])).then_some(we);
    }
    // Printed cards group in 4s (Amex 4-6-5, Diners 4-6-4); a first group of 1-3 digits is a
    // list of small numbers, not a card.
    if !(4..=6).contains(&first) {
        return None;
    }
    let sep = *b.get(we)?;
    if sep != b' ' && sep != b'-' {
        return None;
    }
    let mut digits = [0u8; MAX_DIGITS];
    digits[..first].copy_from_slice(&b[start..we]);
    let mut n = first;
    // (end offset, digit count) after each group beyond the first.
    let mut cands = [(0usize, 0usize); MAX_DIGITS / 3];
    let mut ncands = 0;
    let mut e = we;
    while b.get(e) == Some(&sep) && ncands < cands.len() {
        let gs = e + 1;
        let ge = digits_end(b, gs);
        let len = ge - gs;
        if !(3..=6).contains(&len) || n + len > MAX_DIGITS || b.get(ge).is_some_and(|&c| is_word(c))
        {
            break;
        }
        digits[n..n + len].copy_from_slice(&b[gs..ge]);
        n += len;
        cands[ncands] = (ge, n);
        ncands += 1;
        e = ge;
    }
    if sep == b'-' {
        // Hyphens bind: "4111-1111-1111-1111-2222" is one longer identifier, not a card.
        if ncands == 0 || joined_after(b, e) || b.get(e) == Some(&b'-') {
            return None;
        }
        return valid(&digits[..n]).then_some(e);
    }
    // A space may separate the card from an unrelated number that follows it ("... 1111 2025"),
    // so shorter groupings are tried too, longest first.
    cands[..ncands]
        .iter()
        .rev()
        .find(|&&(end, count)| {
            count >= MIN_DIGITS && !joined_after(b, end) && valid(&digits[..count])
        })
        .map(|&(end, _)| end)
}

/// True when the number continues to the left through a tight separator ("12-4111...", "3.4111").
fn joined_before(b: &[u8], start: usize) -> bool {
    start >= 2 && matches!(b[start - 1], b'-' | b'.' | b',' | b'/') && b[start - 2].is_ascii_digit()
}

/// True when the number continues to the right through a tight separator.
fn joined_after(b: &[u8], end: usize) -> bool {
    matches!(b.get(end), Some(b'-' | b'.' | b',' | b'/'))
        && b.get(end + 1).is_some_and(u8::is_ascii_digit)
}

fn valid(digits: &[u8]) -> bool {
    issuer_accepts(digits) && luhn(digits)
}

/// The Luhn mod-10 check over ASCII digits.
pub(super) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// True when some issuer network uses this prefix with this many digits.
fn issuer_accepts(d: &[u8]) -> bool {
    let prefix = |k: usize| d[..k].iter().fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'));
    let (p1, p2, p3, p4) = (prefix(1), prefix(2), prefix(3), prefix(4));
    let n = d.len();
    let visa = p1 == 4 && matches!(n, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16;
    let amex = matches!(p2, 34 | 37) && n == 15;
    let discover = (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) && (16..=19).contains(&n);
    let diners =
        (p2 == 36 || (300..=305).contains(&p3) || matches!(p2, 38 | 39)) && (14..=19).contains(&n);
    let jcb = (3528..=3589).contains(&p4) && (16..=19).contains(&n);
    let unionpay = p2 == 62 && (16..=19).contains(&n);
    // Only Maestro's narrow, long-standing prefixes: its full range (50, 56-69) would accept too
    // many unrelated numbers.
    let maestro = matches!(p4, 5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761..=6763);
    visa || mastercard || amex || discover || diners || jcb || unionpay || maestro
}

#[cfg(test)]
mod tests {
    use super::super::Entity;
    use super::super::tests::detect;
    use super::{issuer_accepts, luhn};

    #[test]
    fn luhn_matches_known_numbers() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b"79927398710"));
    }

    #[test]
    fn issuer_ranges() {
        let cases: &[(&[u8], bool)] = &[
            (b"4111111111111111", true),
            (b"411111111111111", false),
            (b"5500000000000004", true),
            (b"2221000000000009", true),
            (b"2721000000000000", false),
            (b"378282246310005", true),
            (b"3782822463100050", false),
            (b"6011111111111117", true),
            (b"30569309025904", true),
            (b"3530111333300000", true),
            (b"6200000000000005", true),
            (b"1234567812345670", false),
        ];
        for &(digits, want) in cases {
            assert_eq!(issuer_accepts(digits), want, "{}", String::from_utf8_lossy(digits));
        }
    }

    #[test]
    fn finds_cards_in_common_layouts() {
        let cases = [
            ("card 4111 1111 1111 1111 thanks", r#"credit_card 5..24 "4111 1111 1111 1111""#),
            ("4111-1111-1111-1111", r#"credit_card 0..19 "4111-1111-1111-1111""#),
            ("(4111111111111111)", r#"credit_card 1..17 "4111111111111111""#),
            ("amex 3782 822463 10005.", r#"credit_card 5..22 "3782 822463 10005""#),
            ("mc 5500 0000 0000 0004 exp 2027", r#"credit_card 3..22 "5500 0000 0000 0004""#),
            ("discover 6011111111111117", r#"credit_card 9..25 "6011111111111117""#),
            ("diners 3056 930902 5904", r#"credit_card 7..23 "3056 930902 5904""#),
            ("jcb 3530 1113 3330 0000", r#"credit_card 4..23 "3530 1113 3330 0000""#),
            ("visa13 4222222222222", r#"credit_card 7..20 "4222222222222""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::CreditCard], text), want, "{text}");
        }
    }

    #[test]
    fn ignores_numbers_that_are_not_cards() {
        let cases = [
            // Luhn fails.
            "order 4111 1111 1111 1112 shipped",
            "tracking 4111111111111112",
            // Luhn passes but no issuer uses prefix 1.
            "order number 1234567812345670",
            // Part of a longer digit run.
            "41111111111111110",
            "4111-1111-1111-1111-2222",
            "99-4111111111111111",
            // Too few digits, or dates and prices.
            "4111 1111 1111",
            "on 2024-01-15 it cost $4,111.11",
            "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6",
            "4111 1111 1111 1111abc",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::CreditCard], text), "", "{text}");
        }
    }

    #[test]
    fn card_followed_by_unrelated_number() {
        assert_eq!(
            detect(&[Entity::CreditCard], "4111 1111 1111 1111 2025"),
            r#"credit_card 0..19 "4111 1111 1111 1111""#
        );
    }
}
