//! E-mail addresses.
//!
//! Posts are full of "@user" mentions, which are not e-mail addresses, so an '@' only starts a
//! candidate when a local-part character stands right before it. The candidate is then validated
//! by the `email_address` crate, with a dotted domain and an alphabetic top-level label required
//! so that "me@home" or "x@1.5" do not count.

use email_address::{EmailAddress, Options};

use super::{Detection, Entity, find_byte};

/// RFC 5321 limits: a local part of at most 64 bytes, a domain of at most 253.
const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;

/// Appends every e-mail address in `text`.
pub(super) fn find(text: &str, out: &mut Vec<Detection>) {
    let b = text.as_bytes();
    let mut from = 0;
    let mut last_end = 0;
    while let Some(at) = find_byte(b, from, b'@') {
        from = at + 1;
        if at == 0 || !is_local(b[at - 1]) {
            continue;
        }
        let mut s = at;
        while s > last_end && at - s < MAX_LOCAL + 1 && is_local(b[s - 1]) {
            s -= 1;
        }
        while s < at && b[s] == b'.' {
            s += 1;
        }
        let mut e = at + 1;
        while e < b.len() && e - at <= MAX_DOMAIN + 1 && is_domain(b[e]) {
            e += 1;
        }
        while e > at + 1 && matches!(b[e - 1], b'.' | b'-') {
            e -= 1;
        }
        if s == at || at - s > MAX_LOCAL || !plausible_domain(&b[at + 1..e]) {
            continue;
        }
        let Some(candidate) = text.get(s..e) else { continue };
        if valid(candidate) {
            out.push(Detection { entity: Entity::Email, start: s, end: e });
            last_end = e;
            from = e;
        }
    }
}

/// The unquoted local-part characters people actually use; RFC 5322 allows more, but "!#$&*"
/// next to an '@' in a post is far more often punctuation than an address.
fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'')
}

fn is_domain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')
}

/// At least two labels and a top-level label of two or more letters.
fn plausible_domain(domain: &[u8]) -> bool {
    let Some(dot) = domain.iter().rposition(|&c| c == b'.') else { return false };
    let tld = &domain[dot + 1..];
    dot > 0 && tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic)
}

fn valid(candidate: &str) -> bool {
    let options =
        Options::default().with_required_tld().without_domain_literal().without_display_text();
    EmailAddress::parse_with_options(candidate, options).is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::Entity;
    use super::super::tests::detect;

    #[test]
    fn finds_email_addresses() {
        let cases = [
            ("mail me: jane.doe@example.com.", r#"email 9..29 "jane.doe@example.com""#),
            ("<j+tag@mail.example.co.uk>", r#"email 1..25 "j+tag@mail.example.co.uk""#),
            ("@bob ask o'neil@example.org", r#"email 9..27 "o'neil@example.org""#),
            (
                "a@example.com,b@example.net",
                "email 0..13 \"a@example.com\"\nemail 14..27 \"b@example.net\"",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::Email], text), want, "{text}");
        }
    }

    #[test]
    fn ignores_mentions_and_non_addresses() {
        let cases = [
            "@user @user Can't believe what the ref did tonight, unbelievable. URL",
            "RT @jack: hello @example.com",
            "me@home tonight",
            "x@1.5 and y@host.c0m",
            "a..b@example.com",
            "price @ 5.99",
            "user@-example.com",
            "user@.com",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::Email], text), "", "{text}");
        }
    }
}
