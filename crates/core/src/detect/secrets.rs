//! Secrets: API tokens of well-known shapes (reported as [`Entity::ApiKey`], JSON Web Tokens
//! included), PEM/PGP private key blocks and passwords written out after a keyword.
//!
//! Every secret kind starts with a fixed prefix ("AKIA", "ghp_", "-----BEGIN ", "pass", ...), so
//! a multi-pattern searcher over the prefixes of the wanted kinds finds all candidates, and each
//! hit is checked against the token's real shape by hand-written byte tests. The searcher is
//! aho-corasick's packed (SIMD "Teddy") searcher where the CPU allows, which scans a tweet in a
//! few nanoseconds. Token prefixes and password keywords are kept in two separate searchers: Teddy
//! sorts patterns into a handful of buckets by their first bytes, and mixing the common letters of
//! "pass"/"pw" into the token buckets makes every bucket fire on ordinary words, which measured
//! about four times slower than two small searchers.

use aho_corasick::{AhoCorasick, MatchKind, packed};

use super::{Detection, Entity, is_word};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Aws,
    GithubClassic,
    GithubFineGrained,
    Slack,
    Stripe,
    Google,
    OpenAi,
    Gitlab,
    Npm,
    Jwt,
    PrivateKey,
    Password,
}

const API_PREFIXES: &[(&str, Kind)] = &[
    ("AKIA", Kind::Aws),
    ("ASIA", Kind::Aws),
    ("ghp_", Kind::GithubClassic),
    ("gho_", Kind::GithubClassic),
    ("ghu_", Kind::GithubClassic),
    ("ghs_", Kind::GithubClassic),
    ("ghr_", Kind::GithubClassic),
    ("github_pat_", Kind::GithubFineGrained),
    ("xox", Kind::Slack),
    ("sk_live_", Kind::Stripe),
    ("rk_live_", Kind::Stripe),
    ("AIza", Kind::Google),
    ("sk-", Kind::OpenAi),
    ("glpat-", Kind::Gitlab),
    ("npm_", Kind::Npm),
    ("eyJ", Kind::Jwt),
];

const KEY_PREFIXES: &[(&str, Kind)] = &[("-----BEGIN ", Kind::PrivateKey)];

/// Case variants are spelled out because aho-corasick's SIMD searcher has no ASCII
/// case-insensitive mode; the rest of the keyword is compared case-insensitively.
const PASSWORD_PREFIXES: &[(&str, Kind)] = &[
    ("pass", Kind::Password),
    ("Pass", Kind::Password),
    ("PASS", Kind::Password),
    ("pw", Kind::Password),
    ("Pw", Kind::Password),
    ("PW", Kind::Password),
];

/// Words that introduce a password.
const PASSWORD_KEYWORDS: &[&[u8]] =
    &[b"password", b"passwd", b"passcode", b"passphrase", b"pass", b"pwd", b"pw"];

/// Words that follow "password is" or "password:" in ordinary sentences about passwords
/// ("the password is required", "password: incorrect") rather than disclosing one; separated by
/// single spaces.
const NOT_SECRETS: &str = "\
    a above an and at attached be been below blank case-sensitive change changed correct empty \
    enabled disabled encrypted expired false for forgot forgotten here hidden in incorrect \
    insecure invalid is it long mandatory missing my needed no none not null of off on optional \
    or our please protected redacted required reset same saved secure see sent short stored \
    strong that the their this to too true unknown updated was weak with wrong yes your";

/// The longest password value taken; anything longer is more likely a pasted blob.
const MAX_PASSWORD: usize = 128;
/// The longest label between "-----BEGIN " and "-----".
const MAX_PEM_LABEL: usize = 48;

/// Searchers over the prefixes of the wanted secret kinds.
#[derive(Debug, Clone)]
pub(super) struct Secrets {
    tokens: Option<Prefixes>,
    passwords: Option<Prefixes>,
}

impl Secrets {
    /// None when no secret kind is wanted.
    pub(super) fn new(api_keys: bool, private_keys: bool, passwords: bool) -> Option<Secrets> {
        let mut tokens: Vec<(&str, Kind)> = Vec::new();
        if api_keys {
            tokens.extend_from_slice(API_PREFIXES);
        }
        if private_keys {
            tokens.extend_from_slice(KEY_PREFIXES);
        }
        let tokens = Prefixes::new(&tokens);
        let passwords = if passwords { Prefixes::new(PASSWORD_PREFIXES) } else { None };
        (tokens.is_some() || passwords.is_some()).then_some(Secrets { tokens, passwords })
    }

    /// Appends every secret in `text`.
    pub(super) fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for prefixes in [&self.tokens, &self.passwords].into_iter().flatten() {
            prefixes.find(text.as_bytes(), out);
        }
    }
}

/// One multi-pattern searcher and the secret kind of each pattern.
#[derive(Debug, Clone)]
struct Prefixes {
    searcher: Searcher,
    kinds: Vec<Kind>,
}

#[derive(Debug, Clone)]
enum Searcher {
    /// SIMD Teddy, available on x86_64 and aarch64.
    Packed(packed::Searcher),
    /// The portable automaton, for other targets.
    Automaton(AhoCorasick),
}

impl Prefixes {
    fn new(prefixes: &[(&str, Kind)]) -> Option<Prefixes> {
        if prefixes.is_empty() {
            return None;
        }
        let patterns = prefixes.iter().map(|(p, _)| p);
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(patterns.clone())
            .build();
        let searcher = match packed {
            Some(packed) => Searcher::Packed(packed),
            None => Searcher::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(patterns)
                    .expect("a few short constant prefixes always fit an automaton"),
            ),
        };
        Some(Prefixes { searcher, kinds: prefixes.iter().map(|&(_, k)| k).collect() })
    }

    fn find(&self, b: &[u8], out: &mut Vec<Detection>) {
        let mut at = 0;
        while at < b.len() {
            let span = aho_corasick::Span { start: at, end: b.len() };
            let found = match &self.searcher {
                Searcher::Packed(s) => s.find_in(b, span),
                Searcher::Automaton(ac) => ac.find(aho_corasick::Input::new(b).span(span)),
            };
            let Some(m) = found else { break };
            let kind = self.kinds[m.pattern().as_usize()];
            match check(kind, b, m.start(), m.end()) {
                Some((entity, end)) => {
                    out.push(Detection { entity, start: m.start(), end });
                    // Skipping the whole secret keeps key material (say, base64 in a PEM block)
                    // from producing more hits.
                    at = end;
                }
                None => at = m.start() + 1,
            }
        }
    }
}

/// Checks the text around a prefix at `[s, e)`; returns the entity and the end of the secret.
fn check(kind: Kind, b: &[u8], s: usize, e: usize) -> Option<(Entity, usize)> {
    let prev = s.checked_sub(1).map(|i| b[i]);
    let api = |end: Option<usize>| end.map(|end| (Entity::ApiKey, end));
    match kind {
        Kind::PrivateKey => private_key(b, e).map(|end| (Entity::PrivateKey, end)),
        Kind::Password => password(b, s).map(|end| (Entity::Password, end)),
        _ if prev.is_some_and(|c| is_word(c) || c == b'-') => None,
        Kind::Aws => api(exact(b, e, 16, |c| c.is_ascii_uppercase() || c.is_ascii_digit())),
        Kind::GithubClassic => api(between(b, e, 36, 251, u8::is_ascii_alphanumeric)),
        Kind::GithubFineGrained => api(between(b, e, 40, 244, |&c| is_word(c))),
        Kind::Stripe => api(between(b, e, 24, 247, u8::is_ascii_alphanumeric)),
        Kind::Google => api(exact(b, e, 35, is_base64url)),
        Kind::Gitlab => api(between(b, e, 20, 250, is_base64url)),
        Kind::Npm => api(exact(b, e, 36, u8::is_ascii_alphanumeric)),
        Kind::Slack => api(slack(b, e)),
        Kind::OpenAi => api(openai(b, e)),
        Kind::Jwt => api(jwt(b, s)),
    }
}

fn is_base64url(c: &u8) -> bool {
    c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-'
}

fn run(b: &[u8], from: usize, class: impl Fn(&u8) -> bool) -> usize {
    let mut e = from;
    while e < b.len() && class(&b[e]) {
        e += 1;
    }
    e
}

/// Exactly `len` bytes of `class` at `from`, followed by a non-word byte.
fn exact(b: &[u8], from: usize, len: usize, class: impl Fn(&u8) -> bool) -> Option<usize> {
    let end = run(b, from, class);
    (end - from == len && b.get(end).is_none_or(|&c| !is_word(c) && c != b'-')).then_some(end)
}

/// Between `min` and `max` bytes of `class` at `from`, followed by a non-word byte.
fn between(
    b: &[u8],
    from: usize,
    min: usize,
    max: usize,
    class: impl Fn(&u8) -> bool,
) -> Option<usize> {
    let end = run(b, from, class);
    let len = end - from;
    ((min..=max).contains(&len) && b.get(end).is_none_or(|&c| !is_word(c))).then_some(end)
}

/// "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-" and refresh tokens "xoxe-" / "xoxe.xoxp-",
/// followed by dash-separated numbers and a random tail.
fn slack(b: &[u8], e: usize) -> Option<usize> {
    let flavour = *b.get(e)?;
    let sep = *b.get(e + 1)?;
    let ok =
        matches!((flavour, sep), (b'a' | b'b' | b'p' | b'r' | b's' | b'e', b'-') | (b'e', b'.'));
    if !ok {
        return None;
    }
    let body = e + 2;
    let mut end = run(b, body, |&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.');
    while end > body && matches!(b[end - 1], b'-' | b'.') {
        end -= 1;
    }
    (end - body >= 10 && b[body..end].iter().any(u8::is_ascii_digit)).then_some(end)
}

/// OpenAI-style keys: "sk-" then a long random tail, possibly after a dash-separated scope such
/// as "proj-". A random tail of 32+ characters has digits and both cases; a hyphenated phrase
/// does not.
fn openai(b: &[u8], e: usize) -> Option<usize> {
    let end = run(b, e, is_base64url);
    let tail = &b[e..end];
    let random = tail.iter().any(u8::is_ascii_digit)
        && tail.iter().any(u8::is_ascii_uppercase)
        && tail.iter().any(u8::is_ascii_lowercase);
    (tail.len() >= 32 && tail.len() <= 300 && random).then_some(end)
}

/// Three base64url segments: a JSON header and payload (both start "eyJ", i.e. `{"`) and a
/// signature.
fn jwt(b: &[u8], s: usize) -> Option<usize> {
    if s > 0 && (is_base64url(&b[s - 1]) || b[s - 1] == b'.') {
        return None;
    }
    let header_end = run(b, s, is_base64url);
    if header_end - s < 10 || b.get(header_end) != Some(&b'.') {
        return None;
    }
    let payload = header_end + 1;
    if !b[payload..].starts_with(b"eyJ") {
        return None;
    }
    let payload_end = run(b, payload, is_base64url);
    if payload_end - payload < 10 || b.get(payload_end) != Some(&b'.') {
        return None;
    }
    let sig = payload_end + 1;
    let end = run(b, sig, is_base64url);
    (end - sig >= 16 && b.get(end) != Some(&b'.')).then_some(end)
}

/// `e` is just past "-----BEGIN ". The block runs through its matching END line, or to the end
/// of the text when the END line is missing (a truncated paste still leaks the key).
fn private_key(b: &[u8], e: usize) -> Option<usize> {
    let label_end = e + b.get(e..)?.iter().take(MAX_PEM_LABEL + 1).position(|&c| c == b'-')?;
    let label = &b[e..label_end];
    if !b[label_end..].starts_with(b"-----")
        || !(label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK"))
        || !label.iter().all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' ')
    {
        return None;
    }
    let body = label_end + 5;
    let mut from = body;
    while let Some(p) = find_bytes(&b[from..], b"-----END ") {
        let label_start = from + p + 9;
        let rest = &b[label_start..];
        if rest.starts_with(label) && rest[label.len()..].starts_with(b"-----") {
            return Some(label_start + label.len() + 5);
        }
        from = label_start;
    }
    Some(b.len())
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `s` is at a possible keyword. Accepts "keyword: value", "keyword = value" and
/// "keyword is value"; returns the end of the value.
fn password(b: &[u8], s: usize) -> Option<usize> {
    if s > 0 && is_word(b[s - 1]) {
        return None;
    }
    let word_end = run(b, s, u8::is_ascii_alphabetic);
    let word = &b[s..word_end];
    if !PASSWORD_KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
        return None;
    }
    let mut pos = skip_blanks(b, word_end);
    let is_form = match b.get(pos) {
        Some(b':' | b'=') => {
            pos += 1;
            false
        }
        // "pass is" and "pw is" are ordinary phrases ("season pass is $99"); only the
        // spelled-out keywords read as a disclosure with "is".
        Some(b'i' | b'I')
            if ![&b"pass"[..], b"pw"].iter().any(|k| k.eq_ignore_ascii_case(word))
                && b.get(pos + 1).is_some_and(|c| c.eq_ignore_ascii_case(&b's'))
                && b.get(pos + 2).is_some_and(|&c| matches!(c, b' ' | b'\t' | b':')) =>
        {
            pos += 2;
            // "is:" announces a value as plainly as a colon does.
            if b.get(pos) == Some(&b':') {
                pos += 1;
                false
            } else {
                true
            }
        }
        _ => return None,
    };
    pos = skip_blanks(b, pos);
    let (value_start, value_end, end) = match b.get(pos) {
        // A quoted value may hold spaces ('correct horse battery staple').
        Some(&q @ (b'"' | b'\'' | b'`')) => {
            let vs = pos + 1;
            let ve = run(b, vs, |&c| (c.is_ascii_graphic() || c == b' ') && c != q);
            if b.get(ve) != Some(&q) || ve == vs || b[vs..ve].iter().all(|&c| c == b' ') {
                return None;
            }
            (vs, ve, ve + 1)
        }
        _ => {
            let mut ve = run(b, pos, u8::is_ascii_graphic);
            while ve > pos
                && matches!(
                    b[ve - 1],
                    b'.' | b',' | b';' | b'!' | b'?' | b')' | b']' | b'"' | b'\''
                )
            {
                ve -= 1;
            }
            (pos, ve, ve)
        }
    };
    let value = &b[value_start..value_end];
    (looks_like_secret(value, is_form)).then_some(end)
}

fn skip_blanks(b: &[u8], mut pos: usize) -> usize {
    let start = pos;
    while pos < b.len() && pos - start < 3 && matches!(b[pos], b' ' | b'\t') {
        pos += 1;
    }
    pos
}

/// After "is" a secret must look machine-made (a digit, a symbol or an inner capital), because
/// "the password is simple" is a sentence; after ':' or '=' any word outside the stop list counts.
fn looks_like_secret(value: &[u8], is_form: bool) -> bool {
    if value.len() < 3 || value.len() > MAX_PASSWORD {
        return false;
    }
    if value.iter().all(|&c| c == b'*') || value.iter().all(|&c| c.eq_ignore_ascii_case(&b'x')) {
        // Masked: nothing is disclosed.
        return false;
    }
    if NOT_SECRETS.split(' ').any(|w| w.as_bytes().eq_ignore_ascii_case(value)) {
        return false;
    }
    // A price ("$99") or a path ("/home/user") is what such a sentence is more likely about.
    let amount = matches!(value[0], b'$' | b'#')
        && value[1..].iter().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b','));
    if amount || value.starts_with(b"/") || value.starts_with(b"~/") {
        return false;
    }
    !is_form
        || value.iter().any(|&c| !c.is_ascii_alphabetic())
        || value[1..].iter().any(u8::is_ascii_uppercase)
}

#[cfg(test)]
mod tests {
    use super::super::Entity;
    use super::super::tests::detect;

    const SECRETS: &[Entity] = &[Entity::ApiKey, Entity::PrivateKey, Entity::Password];

    /// Token examples are written with a '|' inside so that secret scanners run on this
    /// repository do not flag the test data; the marker is removed before detecting.
    fn detect_split(text: &str) -> String {
        detect(SECRETS, &text.replace('|', ""))
    }

    #[test]
    fn stop_list_is_single_spaced() {
        assert!(super::NOT_SECRETS.split(' ').all(|w| !w.is_empty() && w.trim() == w));
    }

    #[test]
    fn finds_api_keys() {
        let cases = [
            ("aws AKIA|IOSFODNN7EXAMPLE ok", r#"api_key 4..24 "AKIA|IOSFODNN7EXAMPLE""#),
            ("ASIA|Y34FZKBOKMUTVV7A", r#"api_key 0..20 "ASIA|Y34FZKBOKMUTVV7A""#),
            (
                "token=ghp_|aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
                r#"api_key 6..46 "ghp_|aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789""#,
            ),
            (
                "github_pat_|11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                r#"api_key 0..83 "github_pat_|11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ""#,
            ),
            (
                "slack xoxb-|123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx.",
                r#"api_key 6..62 "xoxb-|123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx""#,
            ),
            (
                "sk_live_|4eC39HqLyjWDarjtT1zdp7dc",
                r#"api_key 0..32 "sk_live_|4eC39HqLyjWDarjtT1zdp7dc""#,
            ),
            (
                "key: AIza|SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
                r#"api_key 5..44 "AIza|SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q""#,
            ),
            (
                "sk-proj-|Ab3dEf6hIj9kLmN0pQr2StU4vWx6Yz8aBc1dEf3gHi5j",
                r#"api_key 0..52 "sk-proj-|Ab3dEf6hIj9kLmN0pQr2StU4vWx6Yz8aBc1dEf3gHi5j""#,
            ),
            (
                "sk-|Ab3dEf6hIj9kLmN0pQr2StU4vWx6Yz8aBc1dEf3gHi5jKl7m",
                r#"api_key 0..51 "sk-|Ab3dEf6hIj9kLmN0pQr2StU4vWx6Yz8aBc1dEf3gHi5jKl7m""#,
            ),
            ("glpat-|xYz12AbC34dEf56GhI78jK", r#"api_key 0..28 "glpat-|xYz12AbC34dEf56GhI78jK""#),
            (
                "npm_|aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
                r#"api_key 0..40 "npm_|aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789""#,
            ),
            (
                "Bearer eyJ|hbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                r#"api_key 7..99 "eyJ|hbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U""#,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect_split(text), want.replace('|', ""), "{text}");
        }
    }

    #[test]
    fn ignores_lookalike_tokens() {
        let cases = [
            "xoxo see you soon",
            "AKIA is short",
            "XAKIA|IOSFODNN7EXAMPLE",
            "AKIA|IOSFODNN7EXAMPLE1",
            "ghp_short",
            "a risk-free task-based plan",
            "sk-this-is-a-very-long-hyphenated-phrase-really",
            "eyJhbGciOiJIUzI1NiJ9 alone",
            "sk_test_|4eC39HqLyjWDarjtT1zdp7dc",
            "AIza|SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6",
            "the compass points north and passengers pass by",
        ];
        for text in cases {
            assert_eq!(detect_split(text), "", "{text}");
        }
    }

    #[test]
    fn finds_private_keys() {
        let cases = [
            (
                "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END RSA PRIVATE KEY-----\nbye",
                r#"private_key 5..91 "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END RSA PRIVATE KEY-----""#,
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA",
                r#"private_key 0..60 "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA""#,
            ),
            (
                "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK----- x",
                r#"private_key 0..81 "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----""#,
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END RSA PRIVATE KEY-----",
                r#"private_key 0..65 "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END RSA PRIVATE KEY-----""#,
            ),
            // Secrets inside key material are covered by the block.
            (
                "-----BEGIN PRIVATE KEY-----\nAKIA|IOSFODNN7EXAMPLE password: x1y2z3\n-----END PRIVATE KEY-----",
                r#"private_key 0..91 "-----BEGIN PRIVATE KEY-----\nAKIA|IOSFODNN7EXAMPLE password: x1y2z3\n-----END PRIVATE KEY-----""#,
            ),
            ("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----", ""),
            ("-----BEGIN CERTIFICATE-----", ""),
            ("-----BEGIN PRIVATE KEY", ""),
        ];
        for (text, want) in cases {
            assert_eq!(detect_split(text), want.replace('|', ""), "{text}");
        }
    }

    #[test]
    fn finds_disclosed_passwords() {
        let cases = [
            ("password: hunter2", r#"password 0..17 "password: hunter2""#),
            ("my pwd is Tr0ub4dor&3 lol", r#"password 3..21 "pwd is Tr0ub4dor&3""#),
            ("passcode=1234.", r#"password 0..13 "passcode=1234""#),
            ("pw: xyz", r#"password 0..7 "pw: xyz""#),
            ("WiFi Password: 'sunflower'", r#"password 5..26 "Password: 'sunflower'""#),
            ("PASSWORD = correcthorse", r#"password 0..23 "PASSWORD = correcthorse""#),
            ("the passphrase is: Open-Sesame!", r#"password 4..30 "passphrase is: Open-Sesame""#),
            ("The password is: changeme", r#"password 4..25 "password is: changeme""#),
            (
                "password is: 'correct horse battery staple'",
                r#"password 0..43 "password is: 'correct horse battery staple'""#,
            ),
            ("pass: hunter2", r#"password 0..13 "pass: hunter2""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(SECRETS, text), want, "{text}");
        }
    }

    #[test]
    fn ignores_talk_about_passwords() {
        let cases = [
            "forgot my password again",
            "password reset link sent",
            "the password is required",
            "password is incorrect",
            "Password: wrong",
            "your password has expired",
            "the password is simple",
            "password: ********",
            "passwords: 3",
            "password:",
            "boarding pass is ready",
            "PW is back tonight",
            "password: 'unterminated",
            "Season pass is $99",
            "the pass is 2-for-1",
            "password: see below",
            "pwd: /home/user",
            "Set password=true in config",
            "password = ''",
        ];
        for text in cases {
            assert_eq!(detect(SECRETS, text), "", "{text}");
        }
    }
}
