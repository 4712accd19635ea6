//! Secrets: API tokens of well-known shapes, webhook addresses, keys and tokens assigned to a
//! named setting (`api_key=…`, `"clientSecret": "…"`, `Bearer …`), all reported as
//! [`Entity::ApiKey`]; PEM/PGP private key blocks; passwords written out after a keyword or in a
//! link's user information (`postgres://app:s3cret@db.example`).
//!
//! Every secret kind starts with a fixed prefix ("AKIA", "ghp_", "-----BEGIN ", "pass", "://",
//! ...), so
//! a multi-pattern searcher over the prefixes of the wanted kinds finds all candidates, and each
//! hit is checked against the token's real shape by hand-written byte tests. The searcher is
//! aho-corasick's packed (SIMD "Teddy") searcher where the CPU allows, which scans a tweet in a
//! few nanoseconds. Token prefixes, setting names and password keywords are kept in separate
//! searchers: Teddy sorts patterns into a handful of buckets by their first bytes, and mixing the
//! common letters of "pass"/"pw" into the token buckets makes every bucket fire on ordinary words,
//! which measured about four times slower than two small searchers.

use aho_corasick::{AhoCorasick, MatchKind, packed};

use super::{Detection, Entity, is_link_user, is_word};

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
    SlackWebhook,
    DiscordWebhook,
    SendGrid,
    Shopify,
    HuggingFace,
    DigitalOcean,
    PyPi,
    /// The last word of a setting's name ("api_key", "clientSecret", "GITHUB_TOKEN").
    Setting,
    Bearer,
    PrivateKey,
    Password,
    /// "://", the user information of a link may follow.
    UrlCredentials,
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
    // The rarer ends of "hooks.slack.com/" and "discord[app].com/api/webhooks/" are searched
    // for: Teddy looks at a pattern's first three bytes, and "hoo" and "dis" start many words.
    (".slack.com/", Kind::SlackWebhook),
    ("/webhooks/", Kind::DiscordWebhook),
    ("SG.", Kind::SendGrid),
    ("shp", Kind::Shopify),
    ("hf_", Kind::HuggingFace),
    // "dop_v1_", "doo_v1_" and "dor_v1_"; the version is the rarer part to search for.
    ("_v1_", Kind::DigitalOcean),
    ("pypi-AgEIcHlwaS5vcmc", Kind::PyPi),
];

/// The words that end a setting holding a secret, in the case variants settings are written in,
/// and "Bearer", which introduces a token in an `Authorization:` header; each needs a ':' or '='
/// in the text.
const SETTING_PREFIXES: &[(&str, Kind)] = &[
    ("key", Kind::Setting),
    ("Key", Kind::Setting),
    ("KEY", Kind::Setting),
    ("secret", Kind::Setting),
    ("Secret", Kind::Setting),
    ("SECRET", Kind::Setting),
    ("token", Kind::Setting),
    ("Token", Kind::Setting),
    ("TOKEN", Kind::Setting),
    // After "Authorization:"; "bea" starts too many words to look for it in every post.
    ("Bearer ", Kind::Bearer),
    ("bearer ", Kind::Bearer),
];

const LINK_CREDENTIAL_PREFIXES: &[(&str, Kind)] = &[("://", Kind::UrlCredentials)];

/// Setting names (lower case, without '_', '-' and '.') ending in "key" that hold a secret; a
/// bare "key" is too often a door's or a song's.
const SECRET_KEY_NAMES: &[&[u8]] =
    &[b"apikey", b"accesskey", b"secretkey", b"signingkey", b"privatekey", b"masterkey"];

/// The shortest and longest value taken for a setting or after "Bearer".
const MIN_SETTING_VALUE: usize = 16;
const MAX_SETTING_VALUE: usize = 512;
/// The longest setting name looked at, in bytes ("AWS_SECRET_ACCESS_KEY" is 21).
const MAX_SETTING_NAME: usize = 64;

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

/// Words in a link's password that stand for one rather than being one
/// (`postgres://user:password@localhost`).
const PLACEHOLDERS: &[&[u8]] = &[b"password", b"passwd", b"pass", b"pwd", b"secret", b"pw"];

/// Searchers over the prefixes of the wanted secret kinds.
#[derive(Debug, Clone)]
pub(super) struct Secrets {
    tokens: Option<Prefixes>,
    /// Settings' names and links' user information, looked for only in a text holding a ':' or
    /// '=', which few posts do.
    assignments: Option<Prefixes>,
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
        let mut assignments: Vec<(&str, Kind)> = Vec::new();
        if api_keys {
            assignments.extend_from_slice(SETTING_PREFIXES);
        }
        if passwords {
            assignments.extend_from_slice(LINK_CREDENTIAL_PREFIXES);
        }
        let tokens = Prefixes::new(&tokens);
        let assignments = Prefixes::new(&assignments);
        let passwords = if passwords { Prefixes::new(PASSWORD_PREFIXES) } else { None };
        (tokens.is_some() || assignments.is_some() || passwords.is_some()).then_some(Secrets {
            tokens,
            assignments,
            passwords,
        })
    }

    /// Appends every secret in `text`; `assigns` tells whether it holds a ':' or '='.
    pub(super) fn find(&self, text: &str, assigns: bool, out: &mut Vec<Detection>) {
        let assignments = if assigns { &self.assignments } else { &None };
        for prefixes in [&self.tokens, assignments, &self.passwords].into_iter().flatten() {
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
                Some((entity, start, end)) => {
                    out.push(Detection { entity, start, end });
                    // Skipping the whole secret keeps key material (say, base64 in a PEM block)
                    // from producing more hits.
                    at = end;
                }
                None => at = m.start() + 1,
            }
        }
    }
}

/// Checks the text around a prefix at `[s, e)`; returns the entity and the span of the secret,
/// which may start before the prefix (a webhook's scheme, a setting's name).
fn check(kind: Kind, b: &[u8], s: usize, e: usize) -> Option<(Entity, usize, usize)> {
    let prev = s.checked_sub(1).map(|i| b[i]);
    let api = |end: Option<usize>| end.map(|end| (Entity::ApiKey, s, end));
    let api_span =
        |span: Option<(usize, usize)>| span.map(|(start, end)| (Entity::ApiKey, start, end));
    match kind {
        Kind::PrivateKey => private_key(b, e).map(|end| (Entity::PrivateKey, s, end)),
        Kind::Password => password(b, s).map(|end| (Entity::Password, s, end)),
        Kind::UrlCredentials => {
            url_credentials(b, s).map(|(start, end)| (Entity::Password, start, end))
        }
        Kind::Setting => api_span(setting(b, s, e)),
        Kind::DigitalOcean => api_span(digital_ocean(b, s, e)),
        Kind::SlackWebhook => api_span(slack_webhook(b, s, e)),
        Kind::DiscordWebhook => api_span(discord_webhook(b, s, e)),
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
        Kind::SendGrid => api(sendgrid(b, e)),
        Kind::Shopify => api(shopify(b, e)),
        Kind::HuggingFace => api(exact(b, e, 34, u8::is_ascii_alphabetic)),
        Kind::PyPi => api(between(b, e, 50, 1000, is_base64url)),
        Kind::Bearer => api(bearer(b, e)),
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

/// Where a link that the match at `s` belongs to starts: back over a subdomain ("ptb.") and a
/// scheme ("https://").
fn link_start(b: &[u8], s: usize) -> usize {
    let start = run_back(b, s, 64, |&c| c.is_ascii_alphanumeric() || c == b'.');
    if start >= 3 && &b[start - 3..start] == b"://" {
        let scheme_end = start - 3;
        let scheme = run_back(b, scheme_end, 16, u8::is_ascii_alphabetic);
        if scheme < scheme_end {
            return scheme;
        }
    }
    start
}

/// The start of the run of `class` bytes ending at `end`, at most `max` bytes long.
fn run_back(b: &[u8], end: usize, max: usize, class: impl Fn(&u8) -> bool) -> usize {
    let mut start = end;
    while start > 0 && end - start < max && class(&b[start - 1]) {
        start -= 1;
    }
    start
}

/// `[s, e)` is ".slack.com/" after "hooks": "services/T…/B…/secret" (or a workflow's or
/// trigger's path), whose last part is the secret. The finding starts at the link's scheme.
fn slack_webhook(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let host = s.checked_sub(5)?;
    if &b[host..s] != b"hooks" || host.checked_sub(1).is_some_and(|p| is_word(b[p]) || b[p] == b'-')
    {
        return None;
    }
    let rest = &b[e..];
    let kind: &[u8] = [&b"services/"[..], b"workflows/", b"triggers/"]
        .into_iter()
        .find(|k| rest.starts_with(k))?;
    let mut pos = e + kind.len();
    let mut parts = 0;
    let last = loop {
        let end = run(b, pos, u8::is_ascii_alphanumeric);
        if end == pos {
            return None;
        }
        parts += 1;
        let len = end - pos;
        pos = end;
        if b.get(pos) == Some(&b'/') && b.get(pos + 1).is_some_and(u8::is_ascii_alphanumeric) {
            pos += 1;
        } else {
            break len;
        }
    };
    (parts >= 3 && last >= 20 && b.get(pos).is_none_or(|&c| !is_word(c)))
        .then(|| (link_start(b, host), pos))
}

/// `[s, e)` is "/webhooks/" after "discord.com/api" or "discordapp.com/api": a numeric id, '/',
/// and the token. The finding starts at the link's scheme and subdomain ("https://ptb.").
fn discord_webhook(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let before = &b[..s];
    let host = [&b"discord.com/api"[..], b"discordapp.com/api"]
        .into_iter()
        .find(|h| before.ends_with(h))
        .map(|h| s - h.len())?;
    if host.checked_sub(1).is_some_and(|p| is_word(b[p]) || b[p] == b'-') {
        return None;
    }
    let id_end = run(b, e, u8::is_ascii_digit);
    if !(17..=20).contains(&(id_end - e)) || b.get(id_end) != Some(&b'/') {
        return None;
    }
    let end = between(b, id_end + 1, 60, 100, is_base64url)?;
    Some((link_start(b, host), end))
}

/// `e` is just past "shp": the token's kind ("at_", "ca_", "pa_", "ss_") and 32 hex digits.
fn shopify(b: &[u8], e: usize) -> Option<usize> {
    let kind = b.get(e..e + 3)?;
    if ![&b"at_"[..], b"ca_", b"pa_", b"ss_"].contains(&kind) {
        return None;
    }
    exact(b, e + 3, 32, u8::is_ascii_hexdigit)
}

/// `[s, e)` is "_v1_" after "dop", "doo" or "dor": 64 lower-case hex digits follow.
fn digital_ocean(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let start = s.checked_sub(3)?;
    if ![&b"dop"[..], b"doo", b"dor"].contains(&&b[start..s])
        || start.checked_sub(1).is_some_and(|p| is_word(b[p]) || b[p] == b'-')
    {
        return None;
    }
    let end = exact(b, e, 64, |c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))?;
    Some((start, end))
}

/// "SG." then a 22-character id, '.', and a 43-character secret.
fn sendgrid(b: &[u8], e: usize) -> Option<usize> {
    let id_end = run(b, e, is_base64url);
    if id_end - e != 22 || b.get(id_end) != Some(&b'.') {
        return None;
    }
    exact(b, id_end + 1, 43, is_base64url)
}

/// `[s, e)` is "key", "secret" or "token" in some letter case, ending a setting's name: the
/// name, ':' or '=' (or "=>"), and a value that looks machine-made. Returns the span from the
/// name to the value's end (its closing quote included).
fn setting(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    // "keyboard", "tokens" and "secretary" are other words.
    if b.get(e).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut pos = e;
    // The closing quote of a JSON or YAML key.
    if matches!(b.get(pos), Some(b'"' | b'\'')) {
        pos += 1;
    }
    pos = skip_blanks(b, pos);
    match b.get(pos) {
        Some(b':' | b'=') => pos += 1,
        _ => return None,
    }
    if b.get(pos) == Some(&b'>') {
        pos += 1;
    }
    let start = run_back(b, s, MAX_SETTING_NAME, |&c| is_word(c) || matches!(c, b'-' | b'.'));
    if start > 0 && s - start == MAX_SETTING_NAME {
        return None;
    }
    let mut start = start + b[start..s].iter().take_while(|&&c| matches!(c, b'-' | b'.')).count();
    if b[s..e].eq_ignore_ascii_case(b"key") && !names_secret_key(&b[start..e]) {
        // Written as words: "API key:", "Private Key =".
        let word = run_back(b, start.saturating_sub(1), 16, u8::is_ascii_alphanumeric);
        if start == 0 || b[start - 1] != b' ' || !names_secret_key(&b[word..e]) {
            return None;
        }
        start = word;
    }
    pos = skip_blanks(b, pos);
    let quote = match b.get(pos) {
        Some(&q @ (b'"' | b'\'' | b'`')) => {
            pos += 1;
            Some(q)
        }
        _ => None,
    };
    let mut end = run(b, pos, is_token_byte);
    let value_end = match quote {
        Some(q) if b.get(end) == Some(&q) => end + 1,
        Some(_) => return None,
        None => {
            // A sentence may end right after the value.
            while end > pos && b[end - 1] == b'.' {
                end -= 1;
            }
            end
        }
    };
    let value = &b[pos..end];
    let contract_address = value.len() == 42
        && value.starts_with(b"0x")
        && value[2..].iter().all(u8::is_ascii_hexdigit);
    (machine_made(value) && !contract_address).then_some((start, value_end))
}

/// Whether a setting's name ending in "key" names a secret ("api_key", "apiKey",
/// "AWS_SECRET_ACCESS_KEY"): compared without case and without '_', '-' and '.'.
fn names_secret_key(name: &[u8]) -> bool {
    SECRET_KEY_NAMES.iter().any(|wanted| {
        let mut letters = name.iter().rev().filter(|c| c.is_ascii_alphanumeric());
        wanted.iter().rev().all(|w| letters.next().is_some_and(|c| c.eq_ignore_ascii_case(w)))
    })
}

/// `e` is just past "Bearer ": a token that looks machine-made. A JSON Web Token is left to
/// [`jwt`], which names it on its own.
fn bearer(b: &[u8], e: usize) -> Option<usize> {
    let mut end = run(b, e, is_token_byte);
    while end > e && b[end - 1] == b'.' {
        end -= 1;
    }
    let value = &b[e..end];
    (!value.starts_with(b"eyJ") && machine_made(value)).then_some(end)
}

/// Bytes of tokens: base64 (both alphabets), hex, and the separators tokens use.
fn is_token_byte(c: &u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+' | b'/' | b'=' | b'.' | b'~')
}

/// A value that a program made rather than a person typed: a UUID, or a stretch of at least 12
/// letters and digits between the separators people write phrases with (base64's '/' and '+'
/// included) that switches between letters and digits, or from a small letter to a capital, at
/// least three times ("4eC39HqLyjWD"). "the-best-recipe-2024" and "Summer2024Vibes" are typed.
fn machine_made(value: &[u8]) -> bool {
    if !(MIN_SETTING_VALUE..=MAX_SETTING_VALUE).contains(&value.len()) {
        return false;
    }
    let uuid = value.len() == 36
        && value.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    uuid || value
        .split(|c| matches!(c, b'-' | b'_' | b'.' | b'=' | b'~'))
        .any(|part| part.len() >= 12 && mixes_classes(part))
}

fn mixes_classes(part: &[u8]) -> bool {
    let switches = part
        .windows(2)
        .filter(|pair| {
            let (a, b) = (pair[0], pair[1]);
            (a.is_ascii_digit() && b.is_ascii_alphabetic())
                || (a.is_ascii_alphabetic() && b.is_ascii_digit())
                || (a.is_ascii_lowercase() && b.is_ascii_uppercase())
        })
        .count();
    switches >= 3 && part.iter().any(u8::is_ascii_digit) && part.iter().any(u8::is_ascii_alphabetic)
}

/// `s` is at "://": a link whose user information holds a password
/// (`scheme://user:password@host`). Returns the span from the scheme to the end of the host and
/// port.
fn url_credentials(b: &[u8], s: usize) -> Option<(usize, usize)> {
    let mut start =
        run_back(b, s, 32, |&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'));
    while start < s && !b[start].is_ascii_alphabetic() {
        start += 1;
    }
    if start == s || (start > 0 && is_word(b[start - 1])) {
        return None;
    }
    let user_end = run(b, s + 3, |&c| {
        c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'.' | b'_' | b'~' | b'%' | b'!' | b'$' | b'&' | b'\'' | b'(')
            || matches!(c, b')' | b'*' | b'+' | b',' | b';' | b'=')
    });
    if b.get(user_end) != Some(&b':') {
        return None;
    }
    let pass_start = user_end + 1;
    let pass_end =
        run(b, pass_start, |&c| c.is_ascii_graphic() && !matches!(c, b'@' | b'/' | b'?' | b'#'));
    if b.get(pass_end) != Some(&b'@') || !url_password(&b[pass_start..pass_end]) {
        return None;
    }
    let host_start = pass_end + 1;
    let mut end = run(b, host_start, |&c| {
        c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'[' | b']' | b':')
    });
    while end > host_start && matches!(b[end - 1], b'.' | b':' | b'-') {
        end -= 1;
    }
    (end > host_start).then_some((start, end))
}

/// A password in a link, unless it is masked (`****`), a placeholder (`password`, `<password>`,
/// `${DB_PASSWORD}`, `%s`) or too long to be one.
fn url_password(value: &[u8]) -> bool {
    let masked = value.iter().all(|&c| c == b'*' || c.eq_ignore_ascii_case(&b'x'));
    let placeholder = PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(value))
        || matches!(value.first(), Some(b'<' | b'{' | b'[' | b'$' | b'%'));
    !value.is_empty() && value.len() <= MAX_PASSWORD && !masked && !placeholder
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
    // "postgres://pw:…@db" names a user; the link's password is found as such.
    if s > 0 && is_word(b[s - 1]) || is_link_user(b, s) {
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
        // "pass is" and "pw is" are ordinary phrases ("season pass is $99", "PW is back");
        // the spelled-out keywords read as a disclosure with "is", and "pw" does after a word
        // that says whose or which it is ("my pw is").
        Some(b'i' | b'I')
            if !word.eq_ignore_ascii_case(b"pass")
                && (!word.eq_ignore_ascii_case(b"pw") || owner_before(b, s))
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

/// Words that say whose or which password follows them ("my pw", "the wifi pw").
const PASSWORD_OWNERS: &[&[u8]] =
    &[b"my", b"our", b"your", b"his", b"her", b"their", b"the", b"wifi", b"new", b"admin"];

/// Whether the word before the keyword at `s`, one blank away, is one of [`PASSWORD_OWNERS`].
fn owner_before(b: &[u8], s: usize) -> bool {
    let Some(blank) = s.checked_sub(1) else {
        return false;
    };
    if !matches!(b[blank], b' ' | b'\t') {
        return false;
    }
    let start = b[..blank].iter().rposition(|c| !c.is_ascii_alphabetic()).map_or(0, |i| i + 1);
    let owner = &b[start..blank];
    PASSWORD_OWNERS.iter().any(|w| w.eq_ignore_ascii_case(owner))
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
                "ghp_|aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
                r#"api_key 0..40 "ghp_|aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789""#,
            ),
            // Assigned to a setting, the setting's name is part of the finding.
            (
                "token=ghp_|aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
                r#"api_key 0..46 "token=ghp_|aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789""#,
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
    fn finds_more_token_formats() {
        let cases = [
            (
                "SG.|ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr ok",
                r#"api_key 0..69 "SG.|ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr""#,
            ),
            (
                "shpat_|0123456789abcdef0123456789ABCDEF",
                r#"api_key 0..38 "shpat_|0123456789abcdef0123456789ABCDEF""#,
            ),
            (
                "(shpss_|0123456789abcdef0123456789abcdef)",
                r#"api_key 1..39 "shpss_|0123456789abcdef0123456789abcdef""#,
            ),
            (
                "HF: hf_|AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
                r#"api_key 4..41 "hf_|AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh""#,
            ),
            (
                "dop_v1_|0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                r#"api_key 0..71 "dop_v1_|0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef""#,
            ),
            (
                "pypi-|AgEIcHlwaS5vcmcCJDU1ZjRkNjA3LWE2OTEtNGFkMi04YmJiLTE2ZDNlNjJhZTUzYwACKlsz",
                r#"api_key 0..77 "pypi-|AgEIcHlwaS5vcmcCJDU1ZjRkNjA3LWE2OTEtNGFkMi04YmJiLTE2ZDNlNjJhZTUzYwACKlsz""#,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect_split(text), want.replace('|', ""), "{text}");
        }
    }

    #[test]
    fn finds_webhook_addresses() {
        let cases = [
            (
                "post to https://hooks.slack.com/|services/T0ABC1234/B0DEF5678/aBcDeFgHiJkLmNoPqRsTuVwX please",
                r#"api_key 8..85 "https://hooks.slack.com/|services/T0ABC1234/B0DEF5678/aBcDeFgHiJkLmNoPqRsTuVwX""#,
            ),
            (
                "hooks.slack.com/|workflows/T0ABC1234/A0DEF5678/123456789012345678/aBcDeFgHiJkLmNoPqRsTuVwX.",
                r#"api_key 0..89 "hooks.slack.com/|workflows/T0ABC1234/A0DEF5678/123456789012345678/aBcDeFgHiJkLmNoPqRsTuVwX""#,
            ),
            (
                "https://ptb.discord.com/api/|webhooks/112233445566778899/Ab-Cd_Ef0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST",
                r#"api_key 0..120 "https://ptb.discord.com/api/|webhooks/112233445566778899/Ab-Cd_Ef0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST""#,
            ),
            (
                "discordapp.com/api/|webhooks/112233445566778899/Ab-Cd_Ef0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST",
                r#"api_key 0..111 "discordapp.com/api/|webhooks/112233445566778899/Ab-Cd_Ef0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST""#,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect_split(text), want.replace('|', ""), "{text}");
        }
        // The service's pages are not secrets.
        for text in [
            "https://hooks.slack.com/services/",
            "see https://api.slack.com/messaging/webhooks",
            "https://discord.com/api/webhooks/ is documented",
            "https://discord.com/api/webhooks/112233445566778899/short",
        ] {
            assert_eq!(detect(SECRETS, text), "", "{text}");
        }
    }

    #[test]
    fn finds_secrets_assigned_to_settings() {
        let cases = [
            (
                "api_key=9f8e7d6c5b4a3928|1726354453627182",
                r#"api_key 0..40 "api_key=9f8e7d6c5b4a39281726354453627182""#,
            ),
            (
                r#"{"clientSecret": "Xy7|Qp2Lm9Rt4Vw8Zk3N"}"#,
                r#"api_key 2..38 "clientSecret\": \"Xy7Qp2Lm9Rt4Vw8Zk3N\"""#,
            ),
            (
                "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/|bPxRfiCYEXAMPLEKEY",
                r#"api_key 7..69 "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY""#,
            ),
            (
                "GITHUB_TOKEN: 'a1b2c3d4e5f6|a7b8c9d0'.",
                r#"api_key 0..36 "GITHUB_TOKEN: 'a1b2c3d4e5f6a7b8c9d0'""#,
            ),
            (
                "https://api.example.com/v1/items?access_token=Q2x|pZW50SWQ6MTIzNDU2&page=2",
                r#"api_key 33..66 "access_token=Q2xpZW50SWQ6MTIzNDU2""#,
            ),
            (
                "My API key: 9f8e7d6c5b4a3928|1726354453627182",
                r#"api_key 3..44 "API key: 9f8e7d6c5b4a39281726354453627182""#,
            ),
            (
                "Private Key = 4c0883a69102937d6231471b5dbb6204|fe5129617082792ae468d01a3f362318",
                r#"api_key 0..78 "Private Key = 4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318""#,
            ),
            (
                "secret => 123e4567-e89b-12d3-|a456-426614174000",
                r#"api_key 0..46 "secret => 123e4567-e89b-12d3-a456-426614174000""#,
            ),
            (
                "curl -H 'authorization: bearer 8f14e45fceea|167a5a36dedd4bea2543'",
                r#"api_key 24..63 "bearer 8f14e45fceea167a5a36dedd4bea2543""#,
            ),
            (
                "Authorization: Bearer 8f14e45fceea|167a5a36dedd4bea2543",
                r#"api_key 15..54 "Bearer 8f14e45fceea167a5a36dedd4bea2543""#,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect_split(text), want.replace('|', ""), "{text}");
        }
    }

    #[test]
    fn ignores_settings_that_hold_no_secret() {
        let cases = [
            "key: the one under the mat",
            "the key=value format",
            "Public key: 04a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd",
            "the key: 9f8e7d6c5b4a39281726354453627182",
            "primary_key=user_id",
            "keyboard=9f8e7d6c5b4a39281726354453627182",
            "secret: the-best-recipe-2024",
            "my secret: Summer2024Vibes",
            "secret_key = Password123456",
            "api_key=<YOUR_API_KEY>",
            "API_KEY=${API_KEY}",
            "token: your_token_here",
            "tokens=12345678901234567890",
            "Token: 0x6982508145454Ce325dDbE47a25d4ec3d2311933",
            "secret: 'unterminated9f8e7d6c5b4a3928",
            "the bearer of good news",
            "Bearer eyJhbGciOiJIUzI1NiJ9 alone",
            "secretary: Jane Doe 2024-01-01",
        ];
        for text in cases {
            assert_eq!(detect(SECRETS, text), "", "{text}");
        }
    }

    #[test]
    fn finds_passwords_in_links() {
        let cases = [
            (
                "db: postgres://admin:s3cretpass@db.internal:5432/prod",
                r#"password 4..48 "postgres://admin:s3cretpass@db.internal:5432""#,
            ),
            (
                "redis://:hunter2@cache.example.",
                r#"password 0..30 "redis://:hunter2@cache.example""#,
            ),
            ("ftp://pw:Xy7Qp2@files.example", r#"password 0..29 "ftp://pw:Xy7Qp2@files.example""#),
            (
                "ftp://jane:p%40ss:word@[2001:db8::1]:21/file",
                r#"password 0..39 "ftp://jane:p%40ss:word@[2001:db8::1]:21""#,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect(SECRETS, text), want, "{text}");
        }
        for text in [
            "postgres://user:password@localhost/db",
            "mysql://root:<password>@localhost",
            "https://app:${DB_PASSWORD}@db.example",
            "https://jane:****@example.com",
            "https://jane@example.com/x",
            "https://example.com:8080/x@y",
            "see https://example.com/a:b@c",
            "x://a:b",
        ] {
            assert_eq!(detect(SECRETS, text), "", "{text}");
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
            "shpxx_|0123456789abcdef0123456789abcdef",
            "xdop_v1_|0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "api_v1_|0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "join our discord.com/invite/acme",
            "xhooks.slack.com/|services/T0ABC1234/B0DEF5678/aBcDeFgHiJkLmNoPqRsTuVwX",
            "notdiscord.com/api/|webhooks/112233445566778899/Ab-Cd_Ef0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST",
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
            ("my pw is hunter2", r#"password 3..16 "pw is hunter2""#),
            ("The wifi PW is Tr0ub4dor&3!", r#"password 9..26 "PW is Tr0ub4dor&3""#),
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
            "PW is 2x faster now",
            "new PW is simple",
            "my pw is: ****",
            "my.pw is 2x",
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
