//! Detectors for personal data, secrets and links in post text.
//!
//! Policies say things like "hold posts that leak a credit card number" or "block links to
//! URL shorteners", so the engine needs to know *where* in a post such things are. This module
//! owns that knowledge: the [`Entity`] kinds and their stable names, the [`Detectors`] that find
//! them, and [`find_links`] with its host helpers.
//!
//! Two goals pull against each other here. The engine checks hundreds of thousands of posts per
//! second, and almost none of them contain anything sensitive, so the common "nothing here" case
//! must cost a few hundred CPU cycles. And a detector that cries wolf on dates, prices, version
//! numbers or `@mentions` makes policies useless, so every candidate is validated for real
//! (Luhn and issuer ranges, SSA allocation rules, libphonenumber metadata, IBAN mod-97,
//! Base58Check and bech32 checksums, ICAO passport check digits, known token shapes). The way
//! out is the same everywhere: a cheap byte-level scan finds the rare places worth a look
//! (digits, `@`, `:`, and a few secret prefixes through aho-corasick's SIMD multi-pattern
//! searcher) and only those are handed to the expensive validators.
//!
//! Offsets are byte offsets into the text and always fall on char boundaries, because every
//! detection starts and ends next to an ASCII byte or at the ends of the text.

mod cards;
mod crypto;
mod email;
mod iban;
mod ip;
mod links;
mod national_id;
mod nino;
mod passport;
mod phone;
mod secrets;
mod ssn;
#[cfg(test)]
mod tests;

use std::fmt;

pub use links::{
    Link, ascii_host, find_links, host_matches, is_lookalike_host, is_shortener, lookalike_key,
};
pub use phone::Region;

/// What kind of sensitive thing a detection is. Names are stable: policies and JSON output use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Entity {
    /// A payment card number that passes the Luhn check and matches a real issuer range.
    CreditCard,
    /// A United States social security number in a plausible, allocatable range.
    UsSsn,
    /// A United Kingdom National Insurance number with an allocatable prefix.
    UkNino,
    /// An e-mail address (not an `@mention`).
    Email,
    /// A telephone number that libphonenumber considers valid.
    Phone,
    /// An international bank account number with a valid country length and checksum.
    Iban,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// A Bitcoin (Base58Check or bech32/bech32m) or Ethereum address.
    CryptoWallet,
    /// A passport's machine-readable zone with valid check digits, or a document number
    /// written after the word "passport".
    Passport,
    /// A Canadian Social Insurance Number with a valid check digit, written after its name.
    CaSin,
    /// An Indian Aadhaar number with a valid check digit, written after its name.
    InAadhaar,
    /// A credential token of a well-known shape (cloud, code hosting, chat, payment, AI
    /// providers, package registries) or a JSON Web Token.
    ApiKey,
    /// A PEM or PGP private key block.
    PrivateKey,
    /// A password written out next to a keyword such as "password:" or "my pwd is".
    Password,
}

impl Entity {
    /// Every entity, in declaration order.
    pub const ALL: &'static [Entity] = &[
        Entity::CreditCard,
        Entity::UsSsn,
        Entity::UkNino,
        Entity::Email,
        Entity::Phone,
        Entity::Iban,
        Entity::IpAddress,
        Entity::CryptoWallet,
        Entity::Passport,
        Entity::CaSin,
        Entity::InAadhaar,
        Entity::ApiKey,
        Entity::PrivateKey,
        Entity::Password,
    ];

    /// The stable snake_case name used in policies and output.
    pub fn name(self) -> &'static str {
        match self {
            Entity::CreditCard => "credit_card",
            Entity::UsSsn => "us_ssn",
            Entity::UkNino => "uk_nino",
            Entity::Email => "email",
            Entity::Phone => "phone",
            Entity::Iban => "iban",
            Entity::IpAddress => "ip_address",
            Entity::CryptoWallet => "crypto_wallet",
            Entity::Passport => "passport",
            Entity::CaSin => "ca_sin",
            Entity::InAadhaar => "in_aadhaar",
            Entity::ApiKey => "api_key",
            Entity::PrivateKey => "private_key",
            Entity::Password => "password",
        }
    }

    /// The entity with this stable name; the inverse of [`Entity::name`].
    pub fn parse(name: &str) -> Option<Entity> {
        Entity::ALL.iter().copied().find(|e| e.name() == name)
    }

    /// True for data about a person; false for secrets, which are about systems.
    pub fn is_personal_data(self) -> bool {
        match self {
            Entity::CreditCard
            | Entity::UsSsn
            | Entity::UkNino
            | Entity::Email
            | Entity::Phone
            | Entity::Iban
            | Entity::IpAddress
            | Entity::CryptoWallet
            | Entity::Passport
            | Entity::CaSin
            | Entity::InAadhaar => true,
            Entity::ApiKey | Entity::PrivateKey | Entity::Password => false,
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One sensitive thing found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Detection {
    /// What was found.
    pub entity: Entity,
    /// Byte offset of the first byte, on a char boundary.
    pub start: usize,
    /// Byte offset one past the last byte, on a char boundary.
    pub end: usize,
}

/// Built once per policy for the entities its rules ask for; immutable and Send + Sync.
#[derive(Debug, Clone)]
pub struct Detectors {
    wanted: u16,
    /// Present only when a secret entity is wanted, so personal-data-only policies never pay for
    /// the prefix search.
    secrets: Option<secrets::Secrets>,
    /// Regions whose national phone numbers are read too (North American ones always are).
    national: Vec<phone::National>,
}

/// Entities found from a digit inside a word (see [`Detectors::scan_digits`]).
const DIGIT_ENTITIES: [Entity; 10] = [
    Entity::CreditCard,
    Entity::UsSsn,
    Entity::UkNino,
    Entity::Phone,
    Entity::Iban,
    Entity::IpAddress,
    Entity::CryptoWallet,
    Entity::Passport,
    Entity::CaSin,
    Entity::InAadhaar,
];

impl Detectors {
    /// Builds detectors for the `wanted` entities; others are never searched for.
    pub fn new(wanted: &[Entity]) -> Detectors {
        let wanted = wanted.iter().fold(0u16, |acc, e| acc | e.bit());
        let wants = |e: Entity| wanted & e.bit() != 0;
        let secrets = secrets::Secrets::new(
            wants(Entity::ApiKey),
            wants(Entity::PrivateKey),
            wants(Entity::Password),
        );
        if wants(Entity::Phone) {
            phone::warm_up();
        }
        Detectors { wanted, secrets, national: Vec::new() }
    }

    /// Also finds phone numbers written the national way of each of `regions`, without the
    /// country code (`020 7946 0958` for `GB`), tried in the order given.
    #[must_use]
    pub fn with_phone_regions(mut self, regions: &[Region]) -> Detectors {
        self.national = regions.iter().map(|&region| phone::National::new(region)).collect();
        self
    }

    fn wants(&self, entity: Entity) -> bool {
        self.wanted & entity.bit() != 0
    }

    /// Appends every detection of a wanted entity, in order of start offset. Never panics, on any &str.
    ///
    /// A detection lying entirely inside a longer one is dropped (say, digits inside a private
    /// key block or an IPv4 tail of an IPv6 address): the longer one already covers the text.
    ///
    /// Text written in fullwidth forms (`４１１１ １１１１ …`, `jane＠example.com`) is read as
    /// the ASCII it stands for, with spans in the text as written.
    pub fn find(&self, text: &str, out: &mut Vec<Detection>) {
        find_all(Some(self), false, text, AsciiForms::of(text).as_ref(), out, &mut Vec::new());
    }

    fn find_in(&self, text: &str, seen: &Seen, out: &mut Vec<Detection>) {
        let base = out.len();
        if seen.digit && DIGIT_ENTITIES.iter().any(|&e| self.wants(e)) {
            self.scan_digits(text, out);
        }
        if seen.at && self.wants(Entity::Email) {
            email::find(text, out);
        }
        if seen.bracket && self.wants(Entity::Email) {
            email::find_obfuscated(text, out);
        }
        if seen.colon && self.wants(Entity::IpAddress) {
            ip::find_v6(text, out);
        }
        if let Some(secrets) = &self.secrets {
            secrets.find(text, seen.colon || seen.equals, out);
        }
        if out.len() - base > 1 {
            tidy(&mut out[base..]);
            drop_contained(out, base);
        }
    }

    /// Personal data mostly contains digits, and tweets mostly do not, so a fast search for the
    /// next digit is the gate. Each word holding a digit is classified once, then skipped, which
    /// keeps the scan linear even on long base64 blobs.
    fn scan_digits(&self, text: &str, out: &mut Vec<Detection>) {
        let b = text.as_bytes();
        let mut i = 0;
        while let Some(d) = next_digit(b, i) {
            let mut ws = d;
            while ws > 0 && is_word(b[ws - 1]) {
                ws -= 1;
            }
            let we = word_end(b, d);
            let next = match self.classify_word(text, ws, d, we) {
                Some(det) => {
                    out.push(det);
                    det.end.max(we)
                }
                None => we,
            };
            i = next;
        }
    }

    /// `[ws, we)` is a whole word and `d` its first digit.
    fn classify_word(&self, text: &str, ws: usize, d: usize, we: usize) -> Option<Detection> {
        let b = text.as_bytes();
        let word = &b[ws..we];
        let hit = |entity, start, end| Some(Detection { entity, start, end });
        if self.wants(Entity::Passport) {
            if let Some((start, end)) = passport::zone_at(b, ws, we) {
                return hit(Entity::Passport, start, end);
            }
            // Before the checks below: after the word "passport", nine digits are a passport
            // number, whatever else they could be.
            if passport::is_number_at(text, ws, we) {
                return hit(Entity::Passport, ws, we);
            }
        }
        if self.wants(Entity::UkNino)
            && let Some((start, end)) = nino::at(b, ws, d, we)
        {
            return hit(Entity::UkNino, start, end);
        }
        if self.wants(Entity::CryptoWallet) && crypto::is_wallet(word) {
            return hit(Entity::CryptoWallet, ws, we);
        }
        if self.wants(Entity::Iban)
            && d == ws + 2
            && let Some(end) = iban::at(b, ws, we)
        {
            return hit(Entity::Iban, ws, end);
        }
        if d != ws || !word.iter().all(u8::is_ascii_digit) {
            return None;
        }
        if self.wants(Entity::IpAddress)
            && let Some(end) = ip::v4_at(b, ws, we)
        {
            return hit(Entity::IpAddress, ws, end);
        }
        if self.wants(Entity::CreditCard)
            && let Some(end) = cards::at(b, ws, we)
        {
            return hit(Entity::CreditCard, ws, end);
        }
        if self.wants(Entity::UsSsn)
            && let Some(end) = ssn::at(b, ws, we)
        {
            return hit(Entity::UsSsn, ws, end);
        }
        if self.wants(Entity::CaSin)
            && let Some(end) = national_id::sin_at(b, ws, we)
        {
            return hit(Entity::CaSin, ws, end);
        }
        if self.wants(Entity::InAadhaar)
            && let Some(end) = national_id::aadhaar_at(b, ws, we)
        {
            return hit(Entity::InAadhaar, ws, end);
        }
        if self.wants(Entity::Phone)
            && let Some((start, end)) = phone::at(text, ws, we, &self.national)
        {
            return hit(Entity::Phone, start, end);
        }
        None
    }
}

/// Runs `detectors` and, when `with_links`, the link finder over one text, as
/// [`Detectors::find`] and [`find_links`] do, reading its fullwidth forms as ASCII once for both.
/// `forms` is `AsciiForms::of(text)`, which the caller may have for other uses too.
pub fn find_all(
    detectors: Option<&Detectors>,
    with_links: bool,
    text: &str,
    forms: Option<&AsciiForms>,
    detections: &mut Vec<Detection>,
    found_links: &mut Vec<Link>,
) {
    let plain = forms.map_or(text, AsciiForms::as_str);
    let (first_detection, first_link) = (detections.len(), found_links.len());
    let seen = Seen::of(plain.as_bytes());
    if let Some(detectors) = detectors {
        detectors.find_in(plain, &seen, detections);
    }
    if with_links {
        links::find_links_in(plain, found_links);
        // A defanged link holds a bracket ("bit(.)ly") or a colon ("hxxps://").
        if seen.bracket || seen.colon {
            links::find_defanged_links_in(plain, found_links, first_link);
        }
    }
    if let Some(forms) = forms {
        for detection in &mut detections[first_detection..] {
            detection.start = forms.original(detection.start);
            detection.end = forms.original(detection.end);
        }
        for link in &mut found_links[first_link..] {
            link.start = forms.original(link.start);
            link.end = forms.original(link.end);
        }
    }
}

/// A text with its fullwidth ASCII forms (U+FF01 to U+FF5E) and ideographic full stops (U+3002,
/// U+FF61) written as ASCII, and where each of its bytes came from.
#[derive(Debug, Clone, Default)]
pub struct AsciiForms {
    text: String,
    /// For each byte offset of `text` and its end, the offset in the original text.
    original: Vec<usize>,
}

impl AsciiForms {
    /// The text with those characters written in ASCII.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The offset in the original text of an offset in [`AsciiForms::as_str`] (its end too).
    pub fn original(&self, offset: usize) -> usize {
        self.original[offset]
    }

    /// `None` when the text holds none of those characters, as nearly every post does (their
    /// UTF-8 forms all start with 0xE3 or 0xEF).
    pub fn of(text: &str) -> Option<AsciiForms> {
        let mut forms = AsciiForms::default();
        forms.read(text).then_some(forms)
    }

    /// Reads `text` into these buffers, reusing them, and says whether it holds any of those
    /// characters; when it holds none the buffers are left as they were and mean nothing.
    pub fn read(&mut self, text: &str) -> bool {
        let b = text.as_bytes();
        let mut at = 0;
        let first = loop {
            let Some(lead) = b.get(at..).and_then(|rest| memchr::memchr2(0xE3, 0xEF, rest)) else {
                return false;
            };
            let lead = at + lead;
            if text.get(lead..).and_then(|rest| rest.chars().next()).and_then(Self::ascii).is_some()
            {
                break lead;
            }
            at = lead + 1;
        };
        self.text.clear();
        self.original.clear();
        self.text.push_str(&text[..first]);
        self.original.extend(0..first);
        for (offset, ch) in text[first..].char_indices() {
            let offset = first + offset;
            match Self::ascii(ch) {
                Some(ascii) => {
                    self.text.push(ascii);
                    self.original.push(offset);
                }
                None => {
                    self.text.push(ch);
                    self.original.extend(std::iter::repeat_n(offset, ch.len_utf8()));
                }
            }
        }
        self.original.push(text.len());
        true
    }

    fn ascii(ch: char) -> Option<char> {
        match ch {
            '\u{3002}' | '\u{FF61}' => Some('.'),
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(ch) - 0xFF01 + 0x21),
            _ => None,
        }
    }
}

/// Which trigger bytes a text contains.
struct Seen {
    digit: bool,
    at: bool,
    colon: bool,
    equals: bool,
    /// `(`, `[`, `{` or `<`, which may bracket the "at" of a spelled-out address.
    bracket: bool,
}

impl Seen {
    /// One pass over the text, on a tweet a few nanoseconds, that lets most detectors skip the
    /// text outright. Flags are kept per lane of a 16-byte block and merged at the end, which the
    /// compiler turns into vector compares; folding into three plain bools measured five times
    /// slower.
    fn of(b: &[u8]) -> Seen {
        let mut digit = [0u8; 16];
        let mut at = [0u8; 16];
        let mut colon = [0u8; 16];
        let mut equals = [0u8; 16];
        let mut bracket = [0u8; 16];
        let (blocks, rest) = b.as_chunks::<16>();
        for block in blocks {
            for (k, &c) in block.iter().enumerate() {
                digit[k] |= u8::from(c.wrapping_sub(b'0') < 10);
                at[k] |= u8::from(c == b'@');
                colon[k] |= u8::from(c == b':');
                equals[k] |= u8::from(c == b'=');
                bracket[k] |= u8::from(matches!(c, b'(' | b'[' | b'{' | b'<'));
            }
        }
        let any = |lanes: [u8; 16]| lanes.iter().any(|&x| x != 0);
        // The tail goes to separate flags: byte stores into the lanes right before the vector
        // loads above would stall on store forwarding.
        Seen {
            digit: any(digit) || rest.iter().any(u8::is_ascii_digit),
            at: any(at) || rest.contains(&b'@'),
            colon: any(colon) || rest.contains(&b':'),
            equals: any(equals) || rest.contains(&b'='),
            bracket: any(bracket) || rest.iter().any(|c| matches!(c, b'(' | b'[' | b'{' | b'<')),
        }
    }
}

/// Sorts by start, longest first at equal starts, so containment can be checked in one sweep.
fn tidy(dets: &mut [Detection]) {
    dets.sort_unstable_by(|a, b| {
        a.start.cmp(&b.start).then(b.end.cmp(&a.end)).then(a.entity.cmp(&b.entity))
    });
}

/// Removes detections strictly inside an earlier, longer one, and exact duplicates. Two entities
/// claiming the very same span are both kept: neither explains the other.
fn drop_contained(out: &mut Vec<Detection>, base: usize) {
    let mut kept = base;
    let mut outer: Option<Detection> = None;
    for r in base..out.len() {
        let d = out[r];
        if let Some(o) = outer
            && d.end <= o.end
            && (d.start, d.end) != (o.start, o.end)
        {
            continue;
        }
        if kept > base && out[kept - 1] == d {
            continue;
        }
        if outer.is_none_or(|o| d.end > o.end) {
            outer = Some(d);
        }
        out[kept] = d;
        kept += 1;
    }
    out.truncate(kept);
}

/// True when the text at `s` is in a link's user information (`https://jane@host`,
/// `postgres://app:secret@db`): the run of printable characters before it, up to a '/', ends
/// with "://".
pub(super) fn is_link_user(b: &[u8], s: usize) -> bool {
    let floor = s.saturating_sub(128);
    let mut i = s;
    while i > floor && b[i - 1] != b'/' && b[i - 1].is_ascii_graphic() {
        i -= 1;
    }
    i >= 3 && &b[i - 3..i] == b"://"
}

/// Word bytes for boundary checks: identifiers and numbers never start or end inside one.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// End of the word containing `i`.
fn word_end(b: &[u8], i: usize) -> usize {
    let mut e = i;
    while e < b.len() && is_word(b[e]) {
        e += 1;
    }
    e
}

/// End of the digit run starting at `i`.
fn digits_end(b: &[u8], i: usize) -> usize {
    let mut e = i;
    while e < b.len() && b[e].is_ascii_digit() {
        e += 1;
    }
    e
}

/// `[start, we)` is a group of digits: the end of the number it begins when the groups of
/// `rest`'s lengths follow it, each after the same separator (a space or a hyphen), and the
/// whole stands alone, neither part of a longer run of groups nor the head of a decimal number.
fn digit_groups(b: &[u8], start: usize, we: usize, rest: &[usize]) -> Option<usize> {
    let sep = *b.get(we)?;
    if sep != b'-' && sep != b' ' {
        return None;
    }
    // The tail of a longer run of groups, such as a phone number written "1-234-56-7890".
    if start >= 2 && b[start - 1] == sep && b[start - 2].is_ascii_digit() {
        return None;
    }
    let mut end = we;
    for &len in rest {
        if b.get(end) != Some(&sep) {
            return None;
        }
        let group_end = digits_end(b, end + 1);
        if group_end - (end + 1) != len {
            return None;
        }
        end = group_end;
    }
    if b.get(end).is_some_and(|&c| is_word(c)) {
        return None;
    }
    // The head of a longer run of groups, or of a decimal number.
    if matches!(b.get(end), Some(&c) if c == sep || c == b'.' || c == b',')
        && b.get(end + 1).is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    Some(end)
}

/// How far back (bytes) the name of a document may stand before its number ("SSN: …").
const NAME_WINDOW: usize = 32;

/// The bytes before a number at `start` in which its document's name may stand.
fn name_window(b: &[u8], start: usize) -> &[u8] {
    &b[start.saturating_sub(NAME_WINDOW)..start]
}

/// Position of the next `needle` byte at or after `from`; vectorised like [`next_digit`], and on
/// tweets several times faster than `str::find(char)`, which pays for UTF-8 generality.
fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    let mut i = from;
    while let Some(block) = b.get(i..i + 16) {
        if block.iter().fold(false, |acc, &c| acc | (c == needle)) {
            break;
        }
        i += 16;
    }
    b.get(i..)?.iter().position(|&c| c == needle).map(|p| p + i)
}

/// Position of the next ASCII digit at or after `from`. Whole 16-byte blocks are tested without
/// early exit so the compiler can turn the test into a few vector instructions; this is the
/// hottest loop of the module.
fn next_digit(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(block) = b.get(i..i + 16) {
        let any = block.iter().fold(false, |acc, &c| acc | (c.wrapping_sub(b'0') < 10));
        if any {
            break;
        }
        i += 16;
    }
    b.get(i..)?.iter().position(u8::is_ascii_digit).map(|p| p + i)
}
