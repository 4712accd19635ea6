//! Telephone numbers: international numbers written with a leading '+', and US/NANP numbers
//! written in their usual 3-3-4 layouts.
//!
//! A cheap shape check picks candidates and libphonenumber's metadata (the `phonenumber` crate)
//! decides. The shape check matters for more than speed: without it, dates, order numbers and
//! card numbers would all reach a validator that happily accepts many 10-digit strings. So numbers
//! without '+' must look like a US number as people write one, and bare 10-digit runs (more often
//! IDs and timestamps than phone numbers) are not taken.

use phonenumber::country::Id;

use super::{digits_end, is_word};

/// E.164 caps a number at 15 digits; the shortest valid international numbers have 7.
const MAX_DIGITS: usize = 15;
const MIN_INTERNATIONAL_DIGITS: usize = 7;
/// Parsing costs microseconds, so an odd run of digit groups cannot make one post expensive.
const MAX_PARSES: usize = 3;

/// `[ws, we)` is an all-digit word. Returns the span of a phone number beginning at or just
/// before it (a '+' or '(' belongs to the number).
pub(super) fn at(text: &str, ws: usize, we: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    if ws > 0 && b[ws - 1] == b'+' { international(text, ws - 1) } else { nanp(text, ws, we) }
}

fn international(text: &str, plus: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    // "5+44" is arithmetic, "++44" is noise.
    if plus > 0 && (is_word(b[plus - 1]) || b[plus - 1] == b'+') {
        return None;
    }
    let mut ends = [(0usize, false); MAX_DIGITS];
    let mut nends = 0;
    let mut digits = 0;
    let mut open = false;
    let mut pos = plus + 1;
    loop {
        let ge = digits_end(b, pos);
        let len = ge - pos;
        if len == 0 || digits + len > MAX_DIGITS || b.get(ge).is_some_and(|&c| is_word(c)) {
            break;
        }
        digits += len;
        ends[nends] = (ge, !open && digits >= MIN_INTERNATIONAL_DIGITS);
        nends += 1;
        match separator(b, ge, &mut open) {
            Some(next) => pos = next,
            None => break,
        }
    }
    // Longest first: a following unrelated number ("... 0958 2 days ago") only makes the longer
    // candidates invalid.
    let mut parses = 0;
    for &(end, ok) in ends[..nends].iter().rev() {
        if !ok || joined_after(b, end) {
            continue;
        }
        if parses == MAX_PARSES {
            break;
        }
        parses += 1;
        if valid(None, &text[plus..end]) {
            return Some((plus, end));
        }
    }
    None
}

/// Consumes the separator after a digit group at `i` and returns where the next group starts:
/// one spacer (' ', '-', '.') and at most one parenthesis, as in "20 7946", "(0) 20", "1 (415)".
fn separator(b: &[u8], i: usize, open: &mut bool) -> Option<usize> {
    let mut pos = i;
    let mut spacer = false;
    let mut paren = false;
    while pos < i + 2 {
        match b.get(pos) {
            Some(b' ' | b'-' | b'.') if !spacer => spacer = true,
            Some(b'(') if !paren && !*open => {
                paren = true;
                *open = true;
            }
            Some(b')') if !paren && *open => {
                paren = true;
                *open = false;
            }
            _ => break,
        }
        pos += 1;
    }
    (pos > i && b.get(pos).is_some_and(u8::is_ascii_digit)).then_some(pos)
}

/// US layouts: "(415) 555-0132", "(415)555-0132", "415-555-0132", "415.555.0132",
/// "415 555 0132", optionally after "1-", "1 " or "1.".
fn nanp(text: &str, ws: usize, we: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut pos = ws;
    if we - ws == 1 && b[ws] == b'1' {
        let sep = *b.get(we)?;
        if !matches!(sep, b'-' | b' ' | b'.') {
            return None;
        }
        pos = we + 1;
    }
    let paren = b.get(pos) == Some(&b'(') || (pos == ws && ws > 0 && b[ws - 1] == b'(');
    let start = if pos == ws && paren { ws - 1 } else { ws };
    if joined_before(b, start) {
        return None;
    }
    let area_start = if b.get(pos) == Some(&b'(') { pos + 1 } else { pos };
    let area_end = digits_end(b, area_start);
    if area_end - area_start != 3 {
        return None;
    }
    let sep;
    pos = area_end;
    if paren {
        if b.get(pos) != Some(&b')') {
            return None;
        }
        pos += 1;
        sep = match b.get(pos) {
            Some(&c @ (b' ' | b'-')) => {
                pos += 1;
                c
            }
            _ => b'-',
        };
    } else {
        sep = *b.get(pos)?;
        if !matches!(sep, b'-' | b'.' | b' ') {
            return None;
        }
        pos += 1;
    }
    let exchange_end = digits_end(b, pos);
    if exchange_end - pos != 3 {
        return None;
    }
    let line_sep = *b.get(exchange_end)?;
    if line_sep != sep && !(paren && matches!(line_sep, b'-' | b'.' | b' ')) {
        return None;
    }
    let line_start = exchange_end + 1;
    let end = digits_end(b, line_start);
    if end - line_start != 4 || b.get(end).is_some_and(|&c| is_word(c)) || joined_after(b, end) {
        return None;
    }
    valid(Some(Id::US), &text[start..end]).then_some((start, end))
}

/// True when a longer number or an amount continues to the left ("12-415-...", "$415.555...").
fn joined_before(b: &[u8], start: usize) -> bool {
    if start == 0 {
        return false;
    }
    let prev = b[start - 1];
    matches!(prev, b'$' | b'#' | b'+' | b'/')
        || (matches!(prev, b'-' | b'.' | b',') && start >= 2 && b[start - 2].is_ascii_digit())
}

/// True when the number continues to the right through a tight separator.
fn joined_after(b: &[u8], end: usize) -> bool {
    matches!(b.get(end), Some(b'-' | b'.' | b',' | b'/'))
        && b.get(end + 1).is_some_and(u8::is_ascii_digit)
}

/// Loads the phone metadata and compiles its patterns now, so that the first post with a
/// phone-shaped number is not the one that pays for it (about 65 ms, once per process).
pub(super) fn warm_up() {
    let _ = valid(None, "+1 415 555 0132");
}

fn valid(region: Option<Id>, candidate: &str) -> bool {
    phonenumber::parse(region, candidate).is_ok_and(|n| phonenumber::is_valid(&n))
}

#[cfg(test)]
mod tests {
    use super::super::Entity;
    use super::super::tests::detect;

    #[test]
    fn finds_phone_numbers() {
        let cases = [
            ("call +44 20 7946 0958 now", r#"phone 5..21 "+44 20 7946 0958""#),
            ("+1 (415) 555-0132", r#"phone 0..17 "+1 (415) 555-0132""#),
            ("fr: +33 1 23 45 67 89.", r#"phone 4..21 "+33 1 23 45 67 89""#),
            ("+44 (0) 20 7946 0958", r#"phone 0..20 "+44 (0) 20 7946 0958""#),
            ("ring (415) 555-0132!", r#"phone 5..19 "(415) 555-0132""#),
            ("415-555-0132", r#"phone 0..12 "415-555-0132""#),
            ("415.555.0132", r#"phone 0..12 "415.555.0132""#),
            ("415 555 0132", r#"phone 0..12 "415 555 0132""#),
            ("(415)555-0132", r#"phone 0..13 "(415)555-0132""#),
            ("1-800-555-0199", r#"phone 0..14 "1-800-555-0199""#),
            ("+44 20 7946 0958 2 days ago", r#"phone 0..16 "+44 20 7946 0958""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::Phone], text), want, "{text}");
        }
    }

    #[test]
    fn ignores_things_that_are_not_phone_numbers() {
        let cases = [
            "@user @user Can't believe what the ref did tonight, unbelievable. URL",
            "on 2024-01-15 at 12:30:45",
            "15.01.2024 and 01/15/2024",
            "it cost $415.55 or $1,234,567",
            "1000000 views and 4155550132 likes",
            "4111 1111 1111 1111",
            "536-22-8145",
            "+1 for this",
            "5+44 20 7946 0958",
            "+12 34",
            "415-555-01325",
            "12-415-555-0132",
            "v1.2.3.4 and 10.0.0.1",
            "+44 20 7946 0958abc",
            "(415 555-0132",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::Phone], text), "", "{text}");
        }
    }
}
