//! Small pieces the pages share: times for people, verdicts for people, dates from forms,
//! links with query strings.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use lifeguard_core::Action;

use super::PageError;

/// A time as a page shows it: machine-readable for `<time datetime>`, short for people.
pub(crate) struct TimeView {
    /// RFC 3339, UTC.
    pub(crate) iso: String,
    /// `2024-05-01 14:03 UTC`.
    pub(crate) text: String,
}

impl TimeView {
    pub(crate) fn new(time: Timestamp) -> TimeView {
        TimeView {
            iso: time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            text: time.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }

    /// A time the archive recorded as RFC 3339 text: shown short like every other, with the
    /// exact value (to the fraction of a second, in UTC) kept for `<time datetime>`. Text that
    /// is not a time is shown as it is.
    pub(crate) fn exact(recorded: &str) -> TimeView {
        match recorded.parse::<Timestamp>() {
            Ok(time) => TimeView {
                iso: time.to_string(),
                text: time.strftime("%Y-%m-%d %H:%M UTC").to_string(),
            },
            Err(_) => TimeView { iso: recorded.to_owned(), text: recorded.to_owned() },
        }
    }
}

/// A verdict's action as a badge: the stable name for classes and data attributes, and words
/// for people.
pub(crate) struct Badge {
    /// `allow`, `flag`, `require_approval` or `block` (or whatever an archived verdict says).
    pub(crate) action: String,
    /// `allowed`, `flagged`, `needs approval`, `blocked`.
    pub(crate) label: String,
}

impl Badge {
    pub(crate) fn new(action: &str) -> Badge {
        Badge { action: action.to_owned(), label: action_label(action) }
    }
}

/// How a page words an action. A name we do not know (an archived verdict of some other
/// version) is shown as it is, with its underscores as spaces.
pub(crate) fn action_label(action: &str) -> String {
    match action.parse::<Action>() {
        Ok(Action::Allow) => "allowed".to_owned(),
        Ok(Action::Flag) => "flagged".to_owned(),
        Ok(Action::RequireApproval) => "needs approval".to_owned(),
        Ok(Action::Block) => "blocked".to_owned(),
        Err(_) => action.replace('_', " "),
    }
}

/// An identifier cut after each `:`, `@`, `/` and `.`, for a template to join with `<wbr>`:
/// a long handle or address then wraps between its parts rather than widening its table.
pub(crate) fn break_points(text: &str) -> Vec<String> {
    text.split_inclusive([':', '@', '/', '.']).map(str::to_owned).collect()
}

/// A form's optional text field: trimmed, with empty meaning "not given".
pub(crate) fn given(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

/// Which end of a day a date stands for in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayEnd {
    /// `since`: the day's first instant.
    Start,
    /// `until`: the next day's first instant, so the whole day is included.
    End,
}

/// A date filter from a form: `YYYY-MM-DD` (a UTC day, which is what `<input type="date">`
/// sends) or a full RFC 3339 time.
pub(crate) fn parse_day(field: &str, text: &str, end: DayEnd) -> Result<Timestamp, PageError> {
    let bad = || {
        PageError::bad_request(format!(
            "`{field}` must be a date like 2024-05-31 or a time like 2024-05-31T12:00:00Z."
        ))
    };
    // A full time first: jiff also reads the date out of a full time.
    if let Ok(time) = text.parse::<Timestamp>() {
        return Ok(time);
    }
    if let Ok(date) = text.parse::<Date>() {
        let date = match end {
            DayEnd::Start => date,
            DayEnd::End => date.tomorrow().map_err(|_| bad())?,
        };
        return date
            .to_zoned_datetime(TimeZone::UTC)
            .map(|zoned| zoned.timestamp())
            .map_err(|_| bad());
    }
    text.parse::<Timestamp>().map_err(|_| bad())
}

/// Percent-encodes a query-string value (everything but unreserved characters).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A path with the non-empty parameters as its query string.
pub(crate) fn link(path: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", encode(value)))
        .collect();
    if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) }
}

/// Whether `text` is non-empty lowercase hex of at most `max` characters: the shape of our
/// token ids, checked before an id goes anywhere.
pub(crate) fn is_hex_id(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The fields of an `application/x-www-form-urlencoded` body in order, repeated names kept
/// (which the typed `Form` extractor cannot do: a form's checkboxes share one name).
pub(crate) fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, PageError> {
    let bad = || PageError::bad_request("The form could not be read.");
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            Ok((decode(key).ok_or_else(bad)?, decode(value).ok_or_else(bad)?))
        })
        .collect()
}

/// Decodes one form-encoded component: `+` is a space, `%XX` a byte; the result must be UTF-8.
fn decode(text: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.iter();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let high = char::from(*bytes.next()?).to_digit(16)?;
                let low = char::from(*bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(high * 16 + low).ok()?);
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_cover_whole_utc_days() {
        let start = parse_day("since", "2024-05-01", DayEnd::Start).expect("date");
        let end = parse_day("until", "2024-05-01", DayEnd::End).expect("date");
        assert_eq!(start.to_string(), "2024-05-01T00:00:00Z");
        assert_eq!(end.to_string(), "2024-05-02T00:00:00Z");
        let exact = parse_day("since", "2024-05-01T12:30:00+02:00", DayEnd::Start).expect("time");
        assert_eq!(exact.to_string(), "2024-05-01T10:30:00Z");
        let err = parse_day("until", "yesterday", DayEnd::End).expect_err("refused");
        assert!(err.message.contains("`until`"), "{}", err.message);
    }

    #[test]
    fn recorded_times_read_short_and_keep_their_exact_value() {
        let time = TimeView::exact("2026-11-30T12:32:51.197639Z");
        assert_eq!(time.text, "2026-11-30 12:32 UTC");
        assert_eq!(time.iso, "2026-11-30T12:32:51.197639Z");
        let odd = TimeView::exact("not a time");
        assert_eq!((odd.iso.as_str(), odd.text.as_str()), ("not a time", "not a time"));
    }

    #[test]
    fn identifiers_break_after_their_separators() {
        assert_eq!(
            break_points("mastodon:acme_eng@social.example"),
            ["mastodon:", "acme_eng@", "social.", "example"]
        );
        assert_eq!(break_points("plain"), ["plain"]);
        assert!(break_points("").is_empty());
    }

    #[test]
    fn actions_are_worded_for_people() {
        let labels: Vec<String> = Action::ALL.iter().map(|a| action_label(a.name())).collect();
        assert_eq!(labels, ["allowed", "flagged", "needs approval", "blocked"]);
        assert_eq!(action_label("hold_for_legal"), "hold for legal");
        let badge = Badge::new("require_approval");
        assert_eq!(
            (badge.action.as_str(), badge.label.as_str()),
            ("require_approval", "needs approval")
        );
    }

    #[test]
    fn links_encode_their_values() {
        assert_eq!(link("/archive", &[("q", ""), ("platform", "")]), "/archive");
        assert_eq!(
            link("/archive", &[("q", "a&b \"c\""), ("cursor", "1.2")]),
            "/archive?q=a%26b%20%22c%22&cursor=1.2"
        );
        assert!(is_hex_id("0a1b", 16));
        assert!(!is_hex_id("0A1B", 16));
        assert!(!is_hex_id("../x", 16));
        assert!(!is_hex_id("", 16));
    }

    #[test]
    fn form_bodies_keep_repeated_fields() {
        let pairs = form_pairs(b"name=a+b%26c&scopes=check&scopes=read&flag&empty=").expect("form");
        let pairs: Vec<(&str, &str)> =
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("name", "a b&c"),
                ("scopes", "check"),
                ("scopes", "read"),
                ("flag", ""),
                ("empty", "")
            ]
        );
        assert!(form_pairs(b"bad=%zz").is_err());
        assert!(form_pairs(b"bad=%ff").is_err());
        assert!(form_pairs(b"cut=%4").is_err());
    }
}
