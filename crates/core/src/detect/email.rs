//! E-mail addresses.
//!
//! Posts are full of "@user" mentions, which are not e-mail addresses, so an '@' only starts a
//! candidate when a local-part character stands right before it. The candidate is then validated
//! by the `email_address` crate, with a dotted domain and an alphabetic top-level label required
//! so that "me@home" or "x@1.5" do not count.
//!
//! Addresses written to dodge harvesters count too: `jane(at)example(dot)com`, `jane [at]
//! example [dot] com`, `jane{at}example.com`. The "at" must be in brackets (`()`, `[]`, `{}` or
//! `<>`), which plain prose never writes, and a dot may be a real one or a bracketed "dot". The
//! address they spell is validated like any other; the finding spans the text as written.

use email_address::{EmailAddress, Options};

use super::{Detection, Entity, find_byte, is_link_user};

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
        let s = local_start(b, at, last_end);
        let mut e = at + 1;
        while e < b.len() && e - at <= MAX_DOMAIN + 1 && is_domain(b[e]) {
            e += 1;
        }
        while e > at + 1 && matches!(b[e - 1], b'.' | b'-') {
            e -= 1;
        }
        if s == at || at - s > MAX_LOCAL || !plausible_domain(&b[at + 1..e]) || is_link_user(b, s) {
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

/// Appends every address spelled with a bracketed "at" (see the module's documentation).
pub(super) fn find_obfuscated(text: &str, out: &mut Vec<Detection>) {
    let b = text.as_bytes();
    let mut from = 0;
    let mut last_end = 0;
    while let Some(open) = b.get(from..).and_then(|rest| rest.iter().position(|&c| is_open(c))) {
        let open = from + open;
        from = open + 1;
        let Some(after_at) = bracketed_word(b, open, b"at") else { continue };
        // The local part ends right before the bracket, or before the spaces ahead of it.
        let mut at = open;
        while at > last_end && b[at - 1] == b' ' && open - at < 2 {
            at -= 1;
        }
        let s = local_start(b, at, last_end);
        if s == at || at - s > MAX_LOCAL {
            continue;
        }
        let mut address = String::with_capacity(64);
        address.push_str(&text[s..at]);
        address.push('@');
        let Some(end) = spelled_domain(b, after_at, &mut address) else { continue };
        let domain = &address.as_bytes()[at - s + 1..];
        if plausible_domain(domain) && valid(&address) {
            out.push(Detection { entity: Entity::Email, start: s, end });
            last_end = end;
            from = end;
        }
    }
}

/// Where the local part ending at `at` starts: local-part characters back to `floor` (the end of
/// the previous address), one more than a local part may hold so that an overlong one shows,
/// and no leading dots.
fn local_start(b: &[u8], at: usize, floor: usize) -> usize {
    let mut s = at;
    while s > floor && at - s < MAX_LOCAL + 1 && is_local(b[s - 1]) {
        s -= 1;
    }
    while s < at && b[s] == b'.' {
        s += 1;
    }
    s
}

fn is_open(c: u8) -> bool {
    matches!(c, b'(' | b'[' | b'{' | b'<')
}

fn closing(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        _ => b'>',
    }
}

/// If `b[open..]` is `word` in brackets (any letter case, a space allowed inside either
/// bracket), where the text goes on after it, skipping one space after the closing bracket.
fn bracketed_word(b: &[u8], open: usize, word: &[u8]) -> Option<usize> {
    let close = closing(*b.get(open)?);
    let mut i = open + 1;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    if !b.get(i..i + word.len())?.eq_ignore_ascii_case(word) {
        return None;
    }
    i += word.len();
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    if b.get(i) != Some(&close) {
        return None;
    }
    i += 1;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    Some(i)
}

/// Reads domain labels from `b[from..]`, joined by real dots or bracketed "dot"s, onto
/// `address`; returns where the last label ends, if there is one.
fn spelled_domain(b: &[u8], from: usize, address: &mut String) -> Option<usize> {
    let mut i = from;
    let mut end = None;
    while address.len() <= MAX_LOCAL + 1 + MAX_DOMAIN {
        let label = i;
        while b.get(i).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'-') {
            i += 1;
        }
        if i == label {
            break;
        }
        address.push_str(std::str::from_utf8(&b[label..i]).ok()?);
        end = Some(i);
        let mut next = i;
        if b.get(next) == Some(&b' ') && b.get(next + 1).is_some_and(|&c| is_open(c)) {
            next += 1;
        }
        match b.get(next) {
            Some(b'.') if b.get(next + 1).is_some_and(u8::is_ascii_alphanumeric) => i = next + 1,
            Some(&c) if is_open(c) => match bracketed_word(b, next, b"dot") {
                Some(after) => i = after,
                None => break,
            },
            _ => break,
        }
        address.push('.');
    }
    end
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
            ("https://example.com/contact/jane@example.com", r#"email 28..44 "jane@example.com""#),
            ("mailto:jane@example.com", r#"email 7..23 "jane@example.com""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::Email], text), want, "{text}");
        }
    }

    #[test]
    fn finds_addresses_spelled_with_a_bracketed_at() {
        let cases = [
            ("write john(at)example(dot)com now", r#"email 6..29 "john(at)example(dot)com""#),
            (
                "jane [at] example [dot] co [dot] uk",
                r#"email 0..35 "jane [at] example [dot] co [dot] uk""#,
            ),
            ("j.doe{AT}mail.example.org.", r#"email 0..25 "j.doe{AT}mail.example.org""#),
            ("sales <at> acme.example", r#"email 0..23 "sales <at> acme.example""#),
            ("ask (bob[at]x.org)", r#"email 5..17 "bob[at]x.org""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::Email], text), want, "{text}");
        }
    }

    #[test]
    fn a_bracketed_at_that_spells_no_address_is_not_one() {
        let cases = [
            "meet (at) noon",
            "see you (at) home tonight",
            "x (at) y",
            "price(at)5.99",
            "(at)example.com",
            "jane (at) example (dot)",
            "jane(at)example dot com",
            "look at this (at least) once",
            "[at]",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::Email], text), "", "{text}");
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
            "https://jane@example.com/x",
            "postgres://app:s3cret@db.example.com/prod",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::Email], text), "", "{text}");
        }
    }
}
