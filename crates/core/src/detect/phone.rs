//! Telephone numbers: international numbers written with a leading '+', US/NANP numbers
//! written in their usual 3-3-4 layouts, and the national numbers of the regions a policy names
//! (`regions`), written in groups the way people there write them (`020 7946 0958`).
//!
//! A cheap shape check picks candidates and libphonenumber's metadata (the `phonenumber` crate)
//! decides. The shape check matters for more than speed: without it, dates, order numbers and
//! card numbers would all reach a validator that happily accepts many 10-digit strings. So numbers
//! without '+' must look like a US number as people write one, and bare 10-digit runs (more often
//! IDs and timestamps than phone numbers) are not taken.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;

use super::{digits_end, is_word};

/// E.164 caps a number at 15 digits; the shortest valid international numbers have 7.
const MAX_DIGITS: usize = 15;
const MIN_INTERNATIONAL_DIGITS: usize = 7;
/// Fewer digits than this in national form are extensions, scores or codes, not numbers people
/// call from outside.
const MIN_NATIONAL_DIGITS: usize = 6;
/// Parsing costs microseconds, so an odd run of digit groups cannot make one post expensive.
const MAX_PARSES: usize = 3;

/// A country or territory, by its ISO 3166-1 code, whose national telephone numbers (written
/// without the country code) the phone detector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(Id);

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

impl FromStr for Region {
    type Err = String;

    /// Reads an upper-case ISO 3166-1 alpha-2 code; the error says what was meant where the
    /// mistake is a common one (`UK` for `GB`, lower case).
    fn from_str(code: &str) -> Result<Region, String> {
        if let Ok(id) = Id::from_str(code)
            && phonenumber::metadata::DATABASE.by_id(id.as_ref()).is_some()
        {
            return Ok(Region(id));
        }
        let upper = code.to_ascii_uppercase();
        let meant = match upper.as_str() {
            "UK" => Some("GB".to_owned()),
            "EL" => Some("GR".to_owned()),
            _ if upper != code && Region::from_str(&upper).is_ok() => Some(upper),
            _ => None,
        };
        Err(match meant {
            Some(meant) => format!("unknown region `{code}`: did you mean `{meant}`?"),
            None => format!(
                "unknown region `{code}`: expected an ISO 3166-1 alpha-2 code such as `GB`, `DE` \
                 or `FR`"
            ),
        })
    }
}

/// How people in one region write its numbers without the country code.
#[derive(Debug, Clone)]
pub(super) struct National {
    id: Id,
    /// What every national number starts with (the trunk prefix, `0` in much of Europe), if
    /// the region has one; a run of digits that does not start with it is not tried at all.
    prefix: Option<String>,
    /// North America is read by [`nanp`] already.
    nanp: bool,
}

impl National {
    pub(super) fn new(region: Region) -> National {
        let meta = phonenumber::metadata::DATABASE.by_id(region.0.as_ref());
        National {
            id: region.0,
            prefix: meta.and_then(|m| m.national_prefix()).map(str::to_owned),
            nanp: meta.is_some_and(|m| m.country_code() == 1),
        }
    }
}

/// `[ws, we)` is an all-digit word. Returns the span of a phone number beginning at or just
/// before it (a '+' or '(' belongs to the number).
pub(super) fn at(text: &str, ws: usize, we: usize, regions: &[National]) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    if ws > 0 && b[ws - 1] == b'+' {
        return international(text, ws - 1);
    }
    nanp(text, ws, we)
        .or_else(|| regions.iter().filter(|r| !r.nanp).find_map(|r| national(text, ws, r)))
}

/// A national number of `region` starting at the digit word at `ws` (or the parenthesis before
/// it): at least two groups of digits, one spacer and at most one parenthesis between groups,
/// as in "020 7946 0958", "(030) 1234 5678", "06 12 34 56 78" and "0151-2345-6789". A bare run
/// of digits is not taken, as for North American numbers, and neither is a date.
fn national(text: &str, ws: usize, region: &National) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    if let Some(prefix) = &region.prefix
        && !b[ws..].starts_with(prefix.as_bytes())
    {
        return None;
    }
    let open = ws > 0 && b[ws - 1] == b'(';
    let start = if open { ws - 1 } else { ws };
    if joined_before(b, start) || follows_digits(b, start) || is_date(b, ws) {
        return None;
    }
    let groups = DigitGroups::read(b, ws, open);
    let groups = groups.as_slice();
    let mut parses = 0;
    for taken in (2..=groups.len()).rev() {
        let end = groups[taken - 1].end;
        let number = &groups[..taken];
        if number[taken - 1].open
            || number[taken - 1].digits < MIN_NATIONAL_DIGITS
            || joined_after(b, end)
            || is_amount(b, number)
        {
            continue;
        }
        if parses == MAX_PARSES {
            break;
        }
        parses += 1;
        if valid(Some(region.id), &text[start..end]) {
            return Some((start, end));
        }
    }
    None
}

/// True when a group of digits and one spacer come right before `start`: the candidate would
/// be the tail of a longer run of numbers ("ISBN 978 3 16 148410 0").
fn follows_digits(b: &[u8], start: usize) -> bool {
    start >= 2 && matches!(b[start - 1], b' ' | b'-' | b'.') && b[start - 2].is_ascii_digit()
}

/// True when the groups read as an amount rather than a number: thousands written with dots
/// ("600.123.456", as in much of Europe), or round ones written with spaces ("600 000 000").
fn is_amount(b: &[u8], groups: &[Group]) -> bool {
    let rest = groups.get(1..).unwrap_or_default();
    let all_zeros = rest.iter().all(|g| b[g.start..g.end].iter().all(|&d| d == b'0'));
    let thousands = rest.iter().all(|g| g.end - g.start == 3 && b[g.start - 1] == b'.');
    all_zeros || thousands
}

/// One group of digits of a number being read.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    start: usize,
    end: usize,
    /// Digits from the number's start to this group's end.
    digits: usize,
    /// A parenthesis is open after this group, so the number cannot end here.
    open: bool,
}

/// The digit groups of a number from `pos` on: groups joined as [`separator`] allows, at most
/// [`MAX_DIGITS`] digits in all, ending before a group that runs into a letter.
struct DigitGroups {
    groups: [Group; MAX_DIGITS],
    len: usize,
}

impl DigitGroups {
    fn read(b: &[u8], mut pos: usize, mut open: bool) -> DigitGroups {
        let mut read = DigitGroups { groups: [Group::default(); MAX_DIGITS], len: 0 };
        let mut digits = 0;
        loop {
            let end = digits_end(b, pos);
            let len = end - pos;
            if len == 0 || digits + len > MAX_DIGITS || b.get(end).is_some_and(|&c| is_word(c)) {
                break;
            }
            digits += len;
            read.groups[read.len] = Group { start: pos, end, digits, open };
            read.len += 1;
            match separator(b, end, &mut open) {
                Some(next) => pos = next,
                None => break,
            }
        }
        read
    }

    fn as_slice(&self) -> &[Group] {
        &self.groups[..self.len]
    }
}

/// True when the digits at `at` begin a date: "01.02.2023", "1-2-2023", "2023.01.02".
fn is_date(b: &[u8], at: usize) -> bool {
    let first = digits_end(b, at);
    let Some(&sep) = b.get(first) else { return false };
    if !matches!(sep, b'.' | b'-' | b'/') {
        return false;
    }
    let second = digits_end(b, first + 1);
    if b.get(second) != Some(&sep) {
        return false;
    }
    let third = digits_end(b, second + 1);
    let lens = (first - at, second - first - 1, third - second - 1);
    matches!(lens, (1..=2, 1..=2, 4) | (4, 1..=2, 1..=2))
}

fn international(text: &str, plus: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    // "5+44" is arithmetic, "++44" is noise.
    if plus > 0 && (is_word(b[plus - 1]) || b[plus - 1] == b'+') {
        return None;
    }
    let groups = DigitGroups::read(b, plus + 1, false);
    // Longest first: a following unrelated number ("... 0958 2 days ago") only makes the longer
    // candidates invalid.
    let mut parses = 0;
    for group in groups.as_slice().iter().rev() {
        let end = group.end;
        if group.open || group.digits < MIN_INTERNATIONAL_DIGITS || joined_after(b, end) {
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
    use super::super::tests::detect;
    use super::super::{Detectors, Entity};
    use super::Region;

    /// The phone numbers found in `text` reading national numbers of `regions`.
    fn national(regions: &[&str], text: &str) -> String {
        let regions: Vec<Region> = regions.iter().map(|r| r.parse().unwrap()).collect();
        let mut out = Vec::new();
        Detectors::new(&[Entity::Phone]).with_phone_regions(&regions).find(text, &mut out);
        out.iter().map(|d| &text[d.start..d.end]).collect::<Vec<_>>().join(" | ")
    }

    #[test]
    fn finds_national_numbers_of_the_regions_named() {
        let cases: &[(&[&str], &str, &str)] = &[
            (&["GB"], "ring me on 020 7946 0958 tonight", "020 7946 0958"),
            (&["GB"], "ring me on (020) 7946 0958.", "(020) 7946 0958"),
            (&["GB"], "mobile 07911 123456", "07911 123456"),
            (&["GB"], "020-7946-0958, ask for Sam", "020-7946-0958"),
            (&["FR"], "appelez le 01 23 45 67 89 !", "01 23 45 67 89"),
            (&["FR"], "tél. 06.12.34.56.78", "06.12.34.56.78"),
            (&["DE"], "Tel. 030 12345678", "030 12345678"),
            (&["ES"], "llama al 600 123 456", "600 123 456"),
            (&["IT"], "chiama lo 06 1234 5678", "06 1234 5678"),
            (
                &["GB", "FR"],
                "London 020 7946 0958, Paris 01 23 45 67 89",
                "020 7946 0958 | 01 23 45 67 89",
            ),
            (&["GB"], "020 7946 0958 2 days ago", "020 7946 0958"),
            // North American numbers are read whatever the regions.
            (&["GB"], "or (415) 555-0132", "(415) 555-0132"),
            (&["US"], "or (415) 555-0132", "(415) 555-0132"),
        ];
        for (regions, text, want) in cases {
            assert_eq!(national(regions, text), *want, "{regions:?} {text}");
        }
    }

    #[test]
    fn national_numbers_are_not_read_without_their_region_or_in_other_shapes() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "ring me on 020 7946 0958 tonight"),
            (&["FR"], "ring me on 020 7946 0958 tonight"),
            (&["US"], "ring me on 020 7946 0958 tonight"),
            // A bare run of digits is an id more often than a number.
            (&["GB"], "order 02079460958 shipped"),
            (&["FR"], "le 01.02.2023 à 10 h"),
            (&["FR"], "rdv le 01.02.2023 10:30"),
            (&["FR"], "rdv le 01-02-2023 10 h 30"),
            (&["FR", "DE", "GB"], "on 01-02-2023 and 2023.01.02 and 1.2.2023"),
            (&["GB"], "score 0 - 1 then 2 0 3"),
            (&["GB"], "$020 7946 0958"),
            (&["GB"], "12-020 7946 0958"),
            (&["GB"], "020 7946 0958abc"),
            (&["GB"], "(020 7946 0958"),
            (&["DE"], "Version 0.12.3 und 0 12 3"),
            (&["ES"], "600 000 000 euros y 600.123.456 votos"),
            (&["IT"], "ISBN 978 3 16 148410 0"),
        ];
        for (regions, text) in cases {
            assert_eq!(national(regions, text), "", "{regions:?} {text}");
        }
    }

    #[test]
    fn regions_are_iso_codes_with_a_hint_for_common_mistakes() {
        assert_eq!("GB".parse::<Region>().map(|r| r.to_string()), Ok("GB".to_owned()));
        assert_eq!(
            "UK".parse::<Region>(),
            Err("unknown region `UK`: did you mean `GB`?".to_owned())
        );
        assert_eq!(
            "de".parse::<Region>(),
            Err("unknown region `de`: did you mean `DE`?".to_owned())
        );
        assert_eq!(
            "Germany".parse::<Region>(),
            Err("unknown region `Germany`: expected an ISO 3166-1 alpha-2 code such as `GB`, \
                 `DE` or `FR`"
                .to_owned())
        );
        assert!("".parse::<Region>().is_err());
    }

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
