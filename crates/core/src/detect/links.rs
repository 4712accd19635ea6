//! Links in post text, with or without a scheme, and the host helpers link rules need
//! (domain matching, URL shortener recognition).
//!
//! `linkify` finds where a link starts and ends (it knows about trailing punctuation and
//! balanced parentheses). Links with a scheme are taken as they are. Links without one are
//! guesses, and "unbelievable.Tonight", "main.rs" or "it.is" are not links, so a bare host must
//! start with "www.", be a known shortener, or end in a real top-level domain written in one case;
//! two-letter domains that are also English words or file extensions need a path as well.

use std::net::{Ipv4Addr, Ipv6Addr};

use linkify::{LinkFinder, LinkKind};

use super::find_byte;

/// A link found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    /// Byte offset of the first byte, on a char boundary.
    pub start: usize,
    /// Byte offset one past the last byte, on a char boundary.
    pub end: usize,
    /// lowercased host without a trailing dot; for raw IP links the address, an IPv4 one in
    /// dotted form whichever way the link wrote it
    pub host: String,
    /// True when the host is an IPv4 or IPv6 address rather than a name.
    pub is_ip: bool,
    /// True when a host name stands before an `@` (`https://paypal.com@evil.example/`): the
    /// browser goes to the host after it, the reader sees the one before.
    pub disguised: bool,
}

/// Appends the links (with or without scheme: "https://x.com/a", "www.acme.example", "bit.ly/3xyz", "http://192.168.0.1/x") found in text.
///
/// Links are appended in order of start offset. IPv6 hosts must be bracketed (`http://[::1]/`).
///
/// A link written with fullwidth forms (`ｂｉｔ.ｌｙ`, `evil．com`) or ideographic full stops
/// (`bit。ly/x`) is found too, with its host as a browser reads it (`bit.ly`): browsers map
/// these characters to their ASCII forms, and writing them is a known way past link filters.
pub fn find_links(text: &str, out: &mut Vec<Link>) {
    super::find_all(None, true, text, super::AsciiForms::of(text).as_ref(), &mut Vec::new(), out);
}

pub(super) fn find_links_in(text: &str, out: &mut Vec<Link>) {
    if !might_have_link(text) {
        return;
    }
    let base = out.len();
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(false);
    for link in finder.links(text) {
        if let Some(found) = accept(link.as_str(), link.start(), link.end()) {
            out.push(found);
        }
    }
    ip_links_with_scheme(text, out, base);
}

/// Appends the links written "defanged", to be read but not clicked: `bit(.)ly/3abc`,
/// `evil[.]com`, `evil[dot]com/x`, `hxxps://evil.com`. Every reader can type such a link back,
/// so writing one is a known way past link filters. Each is found as its typed-back form would
/// be, with that form's host (`bit.ly`) and its span in `text`. A link already in `out[base..]`
/// that one of them contains gives way to it, one that overlaps it otherwise stays, and
/// `out[base..]` stays in order of start.
pub(super) fn find_defanged_links_in(text: &str, out: &mut Vec<Link>, base: usize) {
    let b = text.as_bytes();
    let brackets = memchr::memchr3_iter(b'[', b'(', b'{', b).filter_map(|i| bracketed_dot(b, i));
    let schemes = memchr::memchr_iter(b':', b).filter_map(|colon| defanged_scheme(b, colon));
    let mut markers: Vec<(usize, usize, &str)> = brackets.chain(schemes).collect();
    if markers.is_empty() {
        return;
    }
    markers.sort_unstable();
    let mut plain = String::with_capacity(text.len());
    let mut original = Vec::with_capacity(text.len() + 1);
    let mut replaced = Vec::with_capacity(markers.len());
    let mut copied = 0;
    for &(start, len, replacement) in &markers {
        if start < copied {
            continue;
        }
        plain.push_str(&text[copied..start]);
        original.extend(copied..start);
        replaced.push(plain.len());
        plain.push_str(replacement);
        original.extend(std::iter::repeat_n(start, replacement.len()));
        copied = start + len;
    }
    plain.push_str(&text[copied..]);
    original.extend(copied..=text.len());
    let mut found = Vec::new();
    find_links_in(&plain, &mut found);
    let mut defanged: Vec<Link> = found
        .into_iter()
        .filter(|link| replaced.iter().any(|&at| link.start <= at && at < link.end))
        .map(|link| Link { start: original[link.start], end: original[link.end], ..link })
        .collect();
    if defanged.is_empty() {
        return;
    }
    // The plain reading may have taken a part of one ("hxxp://evil" of "hxxp://evil[.]com").
    let mut links: Vec<Link> = out
        .drain(base..)
        .filter(|seen| !defanged.iter().any(|d| d.start <= seen.start && seen.end <= d.end))
        .collect();
    defanged.retain(|d| !links.iter().any(|seen| seen.start < d.end && d.start < seen.end));
    links.append(&mut defanged);
    links.sort_by_key(|link| link.start);
    out.append(&mut links);
}

/// A dot written in brackets between two host labels at `open`: `(.)`, `[.]`, `{.}`, `[dot]`,
/// `(DOT)`; its start, length and the dot it stands for.
fn bracketed_dot(b: &[u8], open: usize) -> Option<(usize, usize, &'static str)> {
    let close = match b[open] {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    };
    let label = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c >= 0x80;
    if !open.checked_sub(1).is_some_and(|p| label(&b[p])) {
        return None;
    }
    let inner = if b.get(open + 1) == Some(&b'.') {
        1
    } else if b.get(open + 1..open + 4).is_some_and(|w| w.eq_ignore_ascii_case(b"dot")) {
        3
    } else {
        return None;
    };
    let after = open + 1 + inner;
    (b.get(after) == Some(&close) && b.get(after + 1).is_some_and(label)).then_some((
        open,
        inner + 2,
        ".",
    ))
}

/// "hxxp://" or "hxxps://" (any letter case) with its colon at `colon`: the "http" it stands for.
fn defanged_scheme(b: &[u8], colon: usize) -> Option<(usize, usize, &'static str)> {
    if !b.get(colon + 1..)?.starts_with(b"//") {
        return None;
    }
    let s_len = usize::from(colon > 0 && b[colon - 1].eq_ignore_ascii_case(&b's'));
    let start = colon.checked_sub(4 + s_len)?;
    if !b[start..start + 4].eq_ignore_ascii_case(b"hxxp")
        || start.checked_sub(1).is_some_and(|p| b[p].is_ascii_alphanumeric())
    {
        return None;
    }
    Some((start, 4, "http"))
}

/// The common case is a post without links. A link needs "://", a dot before a letter (a
/// domain label) or a dotted quad (a raw IPv4 host); a dot before a digit is usually a price or a
/// decimal, which would otherwise send every "$49.99" through the full scanner.
fn might_have_link(text: &str) -> bool {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(dot) = find_byte(b, from, b'.') {
        match b.get(dot + 1) {
            Some(&c) if c.is_ascii_alphabetic() || c >= 0x80 => return true,
            Some(c) if c.is_ascii_digit() && in_dotted_quad(b, dot) => return true,
            _ => {}
        }
        from = dot + 1;
    }
    text.contains("://")
}

fn in_dotted_quad(b: &[u8], dot: usize) -> bool {
    let numeric = |c: &u8| c.is_ascii_digit() || *c == b'.';
    let before = b[..dot].iter().rev().take_while(|c| numeric(c)).filter(|&&c| c == b'.').count();
    let after = b[dot + 1..].iter().take_while(|c| numeric(c)).filter(|&&c| c == b'.').count();
    before + after >= 2
}

fn accept(link: &str, start: usize, end: usize) -> Option<Link> {
    // The finder takes "with...https://x" as one link whose scheme is "with...https"; real
    // schemes have no dots, so the link starts after the last character a scheme can't hold.
    let (link, start) = match link.find("://") {
        Some(i) => {
            let scheme_start = link[..i]
                .bytes()
                .rposition(|c| !(c.is_ascii_alphanumeric() || c == b'+' || c == b'-'))
                .map_or(0, |at| at + 1);
            (&link[scheme_start..], start + scheme_start)
        }
        None => (link, start),
    };
    let (has_scheme, rest) = match link.find("://") {
        Some(i)
            if i > 0
                && link[..i].bytes().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c)) =>
        {
            (true, &link[i + 3..])
        }
        _ => (false, link),
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (disguised, authority) = match authority.rsplit_once('@') {
        Some((user_info, host)) => (disguises(user_info), host),
        None => (false, authority),
    };
    let raw = authority.split(':').next().unwrap_or(authority).trim_end_matches('.');
    if raw.is_empty() {
        return None;
    }
    let has_more = rest.len() > raw.len();
    if !has_scheme {
        let is_ip = raw.parse::<Ipv4Addr>().is_ok();
        let plausible = if is_ip { has_more } else { plausible_bare_host(raw, has_more) };
        if !plausible {
            return None;
        }
        return Some(Link { start, end, host: raw.to_lowercase(), is_ip, disguised });
    }
    match url_ipv4(raw) {
        Some(address) => {
            Some(Link { start, end, host: address.to_string(), is_ip: true, disguised })
        }
        None => Some(Link { start, end, host: raw.to_lowercase(), is_ip: false, disguised }),
    }
}

/// True when a link's user information (what stands before the `@`) names a host, as in
/// `https://paypal.com@evil.example/`; a user name such as `jane.doe` does not.
fn disguises(user_info: &str) -> bool {
    let user = user_info.split(':').next().unwrap_or(user_info);
    user.contains('.') && plausible_bare_host(user, false)
}

/// The IPv4 address a browser reads in a URL's host, which need not be a dotted quad:
/// `2130706433`, `0x7f000001`, `0177.0.0.1` and `127.1` are all 127.0.0.1 (the WHATWG URL
/// standard's IPv4 parser). Links written so are a known way around filters on raw IP links.
/// `None` for a host that is a name, or numbers no browser would take as an address.
fn url_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = [0u64; 4];
    for (number, part) in numbers.iter_mut().zip(&parts) {
        *number = url_ipv4_number(part)?;
    }
    let (last, init) = numbers[..parts.len()].split_last()?;
    if init.iter().any(|&n| n > 255) || *last >= 1 << (8 * (5 - parts.len())) {
        return None;
    }
    let mut address = *last;
    for (i, &n) in init.iter().enumerate() {
        address += n << (8 * (3 - i));
    }
    u32::try_from(address).ok().map(Ipv4Addr::from)
}

/// One part of a URL's IPv4 host: decimal, hexadecimal after `0x`, or octal after a leading 0.
fn url_ipv4_number(part: &str) -> Option<u64> {
    let (digits, radix) = match part.as_bytes() {
        [b'0', b'x' | b'X', ..] => (&part[2..], 16),
        [b'0', _, ..] => (&part[1..], 8),
        _ => (part, 10),
    };
    if digits.is_empty() {
        // "0x" alone is zero; an empty part is no number.
        return (radix == 16).then_some(0);
    }
    if digits.len() > 12 || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn plausible_bare_host(raw: &str, has_path: bool) -> bool {
    let host = raw.to_ascii_lowercase();
    if host.starts_with("www.") || is_shortener(&host) {
        return true;
    }
    let Some((_, tld)) = raw.rsplit_once('.') else { return false };
    let one_case = tld.bytes().all(|c| c.is_ascii_lowercase())
        || tld.bytes().all(|c| c.is_ascii_uppercase() || c == b'-' || c.is_ascii_digit());
    if !one_case {
        return false;
    }
    let tld = tld.to_ascii_lowercase();
    if tld.starts_with("xn--") {
        return true;
    }
    if tld.len() == 2 {
        return COUNTRY_TLDS.binary_search(&tld.as_str()).is_ok()
            && (has_path || AMBIGUOUS_COUNTRY_TLDS.binary_search(&tld.as_str()).is_err());
    }
    GENERIC_TLDS.binary_search(&tld.as_str()).is_ok()
}

/// Adds the links with a scheme whose host linkify does not take: a bracketed IPv6 address
/// (`http://[::1]/`), or an IPv4 address written as a browser reads it but not as a dotted quad
/// (`http://2130706433/`, `http://127.1/`). A piece of such a link that linkify found (an IPv4
/// tail, say) gives way to the whole.
fn ip_links_with_scheme(text: &str, out: &mut Vec<Link>, base: usize) {
    let b = text.as_bytes();
    let mut from = 0;
    let mut added = false;
    while let Some(p) = text.get(from..).and_then(|rest| rest.find("://")) {
        let sep = from + p;
        from = sep + 3;
        let mut start = sep;
        while start > 0 && (b[start - 1].is_ascii_alphanumeric() || b"+-.".contains(&b[start - 1]))
        {
            start -= 1;
        }
        while start < sep && !b[start].is_ascii_alphabetic() {
            start += 1;
        }
        if start == sep {
            continue;
        }
        // User information ("user:pw@", "paypal.com@") comes before the host.
        let authority_len = b[sep + 3..]
            .iter()
            .take(256)
            .take_while(|&&c| c.is_ascii_graphic() && !b"/?#<>\"`".contains(&c))
            .count();
        let user_end = b[sep + 3..sep + 3 + authority_len].iter().rposition(|&c| c == b'@');
        let host_start = user_end.map_or(sep + 3, |at| sep + 3 + at + 1);
        let disguised = user_end.is_some_and(|at| disguises(&text[sep + 3..sep + 3 + at]));
        let (host, after) = if b.get(host_start) == Some(&b'[') {
            let inner_start = host_start + 1;
            let Some(close) = b[inner_start..].iter().take(64).position(|&c| c == b']') else {
                continue;
            };
            let inner = &text[inner_start..inner_start + close];
            let addr = inner.split('%').next().unwrap_or(inner);
            match addr.parse::<Ipv6Addr>() {
                Ok(_) => (addr.to_ascii_lowercase(), inner_start + close + 1),
                Err(_) => continue,
            }
        } else {
            let len = b[host_start..]
                .iter()
                .take(64)
                .take_while(|&&c| c.is_ascii_hexdigit() || matches!(c, b'.' | b'x' | b'X'))
                .count();
            let raw = &text[host_start..host_start + len];
            let ends_host = b.get(host_start + len).is_none_or(|c| !c.is_ascii_alphanumeric());
            match url_ipv4(raw).filter(|_| ends_host && !raw.is_empty()) {
                Some(address) if raw.parse::<Ipv4Addr>().is_err() => {
                    (address.to_string(), host_start + len)
                }
                _ => continue,
            }
        };
        let mut end = after;
        while end < b.len() && b[end].is_ascii_graphic() && !b"<>\"`".contains(&b[end]) {
            end += 1;
        }
        while end > after && b".,;:!?)'".contains(&b[end - 1]) {
            end -= 1;
        }
        let mut k = base;
        while k < out.len() {
            if out[k].end <= start || out[k].start >= end {
                k += 1;
            } else {
                out.remove(k);
            }
        }
        out.push(Link { start, end, host, is_ip: true, disguised });
        added = true;
        from = end;
    }
    if added {
        out[base..].sort_by_key(|l| l.start);
    }
}

/// True when host is `domain` or a subdomain of it ("a.b.example" matches "b.example"; "notb.example" does not).
///
/// Comparison ignores ASCII case and a trailing dot on either side. An empty domain matches
/// nothing.
pub fn host_matches(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.').as_bytes();
    let domain = domain.trim_end_matches('.').as_bytes();
    if domain.is_empty() || host.len() < domain.len() {
        return false;
    }
    let (head, tail) = host.split_at(host.len() - domain.len());
    tail.eq_ignore_ascii_case(domain) && (head.is_empty() || head.ends_with(b"."))
}

/// The host as a browser sends it, its Unicode labels in their `xn--` form (`bücher.example`
/// is `xn--bcher-kva.example`), so that either way of writing a domain meets the other. A host
/// that is ASCII already, or that no browser would accept, comes back as it is.
pub fn ascii_host(host: &str) -> std::borrow::Cow<'_, str> {
    if host.is_ascii() {
        return host.into();
    }
    idna::domain_to_ascii(host).map_or(host.into(), Into::into)
}

/// Writes into `key` the form that a host and every host written to look like it share, so
/// that a deny list also catches `pаypal.com` (a Cyrillic `а`), `xn--80aa0cbo65f.com` (all
/// Cyrillic, as a browser sends it), `paypa1.com` and `pâypal.com` when it names `paypal.com`.
///
/// The host is read as a browser reads it (UTS #46: `xn--` labels decoded, letters lowercased),
/// then each character becomes its prototype in Unicode's confusables (the UTS #39 skeleton:
/// Cyrillic `р` is `p`, `0` is `o`, `1` is `l`, `m` is `rn`), lowercased, with accents and other
/// combining marks left out. Keys are compared with [`host_matches`], label by label.
pub fn lookalike_key(host: &str, key: &mut String) {
    key.clear();
    if host.is_ascii() && !has_punycode(host) {
        // The skeleton of a lowercase ASCII host differs from it in three letters only (the
        // tests hold this against the full mapping), and nearly every host is ASCII.
        for c in host.chars() {
            match c.to_ascii_lowercase() {
                '0' => key.push('o'),
                '1' => key.push('l'),
                'm' => key.push_str("rn"),
                c => key.push(c),
            }
        }
        return;
    }
    let (unicode, _) = idna::domain_to_unicode(host);
    for c in unicode_security::skeleton(&unicode) {
        if !unicode_normalization::char::is_combining_mark(c) {
            key.extend(c.to_lowercase());
        }
    }
}

/// True when a label of the host is written with letters that imitate others, the hosts
/// browsers show as `xn--…` instead of as written: a label that mixes Latin with Cyrillic or
/// Greek (`pаypal.com`), or with any script outside the combinations languages use together
/// (Latin with Han, kana or Hangul are fine), or holds a character no identifier may (`i❤.ws`);
/// and, under an ASCII top-level domain, a label every one of whose characters reads as ASCII
/// (`раураl.com`, all Cyrillic; `gօօgle.com`, with Armenian `օ`). The host may be written
/// with `xn--` labels or as Unicode. ASCII hosts (`paypa1.com`) are not, whatever they imitate:
/// only a deny list says what a host must not look like ([`lookalike_key`]).
pub fn is_lookalike_host(host: &str) -> bool {
    use unicode_security::{RestrictionLevel, RestrictionLevelDetection};
    if host.is_ascii() && !has_punycode(host) {
        return false;
    }
    let (unicode, valid) = idna::domain_to_unicode(host);
    if valid.is_err() {
        // No browser opens it (`xn--` followed by no valid Punycode).
        return false;
    }
    let ascii_tld =
        unicode.trim_end_matches('.').rsplit('.').next().is_some_and(|tld| tld.is_ascii());
    unicode.split('.').filter(|label| !label.is_ascii()).any(|label| {
        label.detect_restriction_level() >= RestrictionLevel::MinimallyRestrictive
            || (ascii_tld && unicode_security::skeleton(label).all(|c| c.is_ascii()))
    })
}

/// True when the host may hold a label written in Punycode (`xn--…`), in any letter case.
fn has_punycode(host: &str) -> bool {
    host.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"xn--"))
}

/// True for well-known URL shorteners (bit.ly, t.co, tinyurl.com, goo.gl, ow.ly, is.gd, buff.ly, rebrand.ly, cutt.ly, tiny.cc, rb.gy, lnkd.in, dlvr.it, trib.al, shorturl.at, ... a list of ~25).
///
/// Subdomains count ("www.tinyurl.com"). First-party shorteners that can only point at their
/// owner's site (youtu.be, amzn.to) are not listed: they hide nothing.
pub fn is_shortener(host: &str) -> bool {
    SHORTENERS.iter().any(|s| host_matches(host, s))
}

/// Services that redirect to an arbitrary URL chosen by whoever made the link.
const SHORTENERS: &[&str] = &[
    "adf.ly",
    "bit.do",
    "bit.ly",
    "bl.ink",
    "buff.ly",
    "cutt.ly",
    "dlvr.it",
    "goo.gl",
    "ift.tt",
    "is.gd",
    "j.mp",
    "lnkd.in",
    "ow.ly",
    "rb.gy",
    "rebrand.ly",
    "s.id",
    "shorte.st",
    "shorturl.at",
    "soo.gd",
    "surl.li",
    "t.co",
    "t.ly",
    "tiny.cc",
    "tinyurl.com",
    "trib.al",
    "v.gd",
];

/// Country-code top-level domains (sorted, for binary search).
const COUNTRY_TLDS: &[&str] = &[
    "ac", "ad", "ae", "af", "ag", "ai", "al", "am", "ao", "aq", "ar", "as", "at", "au", "aw", "ax",
    "az", "ba", "bb", "bd", "be", "bf", "bg", "bh", "bi", "bj", "bm", "bn", "bo", "br", "bs", "bt",
    "bw", "by", "bz", "ca", "cc", "cd", "cf", "cg", "ch", "ci", "ck", "cl", "cm", "cn", "co", "cr",
    "cu", "cv", "cw", "cx", "cy", "cz", "de", "dj", "dk", "dm", "do", "dz", "ec", "ee", "eg", "er",
    "es", "et", "eu", "fi", "fj", "fk", "fm", "fo", "fr", "ga", "gd", "ge", "gf", "gg", "gh", "gi",
    "gl", "gm", "gn", "gp", "gq", "gr", "gs", "gt", "gu", "gw", "gy", "hk", "hm", "hn", "hr", "ht",
    "hu", "id", "ie", "il", "im", "in", "io", "iq", "ir", "is", "it", "je", "jm", "jo", "jp", "ke",
    "kg", "kh", "ki", "km", "kn", "kp", "kr", "kw", "ky", "kz", "la", "lb", "lc", "li", "lk", "lr",
    "ls", "lt", "lu", "lv", "ly", "ma", "mc", "md", "me", "mg", "mh", "mk", "ml", "mm", "mn", "mo",
    "mp", "mq", "mr", "ms", "mt", "mu", "mv", "mw", "mx", "my", "mz", "na", "nc", "ne", "nf", "ng",
    "ni", "nl", "no", "np", "nr", "nu", "nz", "om", "pa", "pe", "pf", "pg", "ph", "pk", "pl", "pm",
    "pn", "pr", "ps", "pt", "pw", "py", "qa", "re", "ro", "rs", "ru", "rw", "sa", "sb", "sc", "sd",
    "se", "sg", "sh", "si", "sk", "sl", "sm", "sn", "so", "sr", "ss", "st", "sv", "sx", "sy", "sz",
    "tc", "td", "tf", "tg", "th", "tj", "tk", "tl", "tm", "tn", "to", "tr", "tt", "tv", "tw", "tz",
    "ua", "ug", "uk", "us", "uy", "uz", "va", "vc", "ve", "vg", "vi", "vn", "vu", "wf", "ws", "ye",
    "yt", "za", "zm", "zw",
];

/// Country codes that are also English words or source-file extensions ("it.is", "main.rs",
/// "README.md"): without a path they are more likely text than a link (sorted).
const AMBIGUOUS_COUNTRY_TLDS: &[&str] = &[
    "am", "as", "at", "be", "by", "cc", "do", "in", "is", "it", "md", "me", "mk", "ml", "my", "no",
    "pl", "pm", "ps", "py", "rs", "sh", "so", "to", "us",
];

/// Generic top-level domains common in links (sorted). English words that often follow a
/// missing space after a full stop ("life", "world", "today") are left out on purpose.
const GENERIC_TLDS: &[&str] = &[
    "aero", "app", "asia", "biz", "blog", "cat", "cloud", "com", "coop", "dev", "edu", "gov",
    "guru", "icu", "info", "int", "jobs", "mil", "mobi", "museum", "name", "net", "ninja", "onion",
    "online", "org", "pro", "site", "store", "tech", "tel", "travel", "website", "wiki", "xyz",
];

#[cfg(test)]
mod tests {
    use super::{
        AMBIGUOUS_COUNTRY_TLDS, COUNTRY_TLDS, GENERIC_TLDS, Link, ascii_host, find_links,
        host_matches, is_lookalike_host, is_shortener, lookalike_key,
    };

    fn key(host: &str) -> String {
        let mut key = String::from("left over");
        lookalike_key(host, &mut key);
        key
    }

    fn links(text: &str) -> String {
        let mut out = Vec::new();
        find_links(text, &mut out);
        out.iter()
            .map(|Link { start, end, host, is_ip, disguised }| {
                let ip = if *is_ip { " ip" } else { "" };
                let disguised = if *disguised { " disguised" } else { "" };
                format!("{start}..{end} {:?} host={host}{ip}{disguised}", &text[*start..*end])
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn tables_are_sorted() {
        for table in [COUNTRY_TLDS, AMBIGUOUS_COUNTRY_TLDS, GENERIC_TLDS] {
            assert!(table.windows(2).all(|w| w[0] < w[1]), "{table:?}");
        }
    }

    #[test]
    fn finds_links_with_and_without_scheme() {
        let cases = [
            ("see https://x.com/a now", r#"4..19 "https://x.com/a" host=x.com"#),
            ("more with...https://t.co/k2q", r#"12..28 "https://t.co/k2q" host=t.co"#),
            ("www.acme.example rocks", r#"0..16 "www.acme.example" host=www.acme.example"#),
            ("short: bit.ly/3xyz.", r#"7..18 "bit.ly/3xyz" host=bit.ly"#),
            ("http://192.168.0.1/x", r#"0..20 "http://192.168.0.1/x" host=192.168.0.1 ip"#),
            (
                "(http://user:pw@Example.COM.:8080/p?q=1#f)",
                r#"1..41 "http://user:pw@Example.COM.:8080/p?q=1#f" host=example.com"#,
            ),
            // A host name before the @ is a disguise; a user name with a dot is not.
            (
                "log in: https://www.paypal.com@evil.example/x",
                r#"8..45 "https://www.paypal.com@evil.example/x" host=evil.example disguised"#,
            ),
            (
                "log in: https://paypal.com:443@2130706433/",
                r#"8..42 "https://paypal.com:443@2130706433/" host=127.0.0.1 ip disguised"#,
            ),
            ("http://admin:pw@[::1]:8080/x", r#"0..28 "http://admin:pw@[::1]:8080/x" host=::1 ip"#),
            (
                "log in: https://paypal.com:443@203.0.113.9/",
                r#"8..43 "https://paypal.com:443@203.0.113.9/" host=203.0.113.9 ip disguised"#,
            ),
            (
                "ftp://jane.doe@files.example.com/a",
                r#"0..34 "ftp://jane.doe@files.example.com/a" host=files.example.com"#,
            ),
            (
                "visit acme.com, or ACME.ORG.",
                "6..14 \"acme.com\" host=acme.com\n19..27 \"ACME.ORG\" host=acme.org",
            ),
            ("docs.rs/regex", r#"0..13 "docs.rs/regex" host=docs.rs"#),
            ("t.me/channel", r#"0..12 "t.me/channel" host=t.me"#),
            ("10.0.0.1/admin", r#"0..14 "10.0.0.1/admin" host=10.0.0.1 ip"#),
            (
                "go http://[2001:DB8::1]:80/x.",
                r#"3..28 "http://[2001:DB8::1]:80/x" host=2001:db8::1 ip"#,
            ),
            (
                "tinyurl.com/abc and goo.gl",
                "0..15 \"tinyurl.com/abc\" host=tinyurl.com\n20..26 \"goo.gl\" host=goo.gl",
            ),
            ("münchen.de", r#"0..11 "münchen.de" host=münchen.de"#),
            // Fullwidth forms and ideographic full stops, as a browser reads them.
            ("see bit。ly/3abc now", r#"4..17 "bit。ly/3abc" host=bit.ly"#),
            ("https://bit｡ly/3abc", r#"0..21 "https://bit｡ly/3abc" host=bit.ly"#),
            ("go to ｅｖｉｌ.com/x now", r#"6..24 "ｅｖｉｌ.com/x" host=evil.com"#),
            ("日本語 https://evil．com/x と 例。", r#"10..30 "https://evil．com/x" host=evil.com"#),
            (
                "ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ",
                r#"0..57 "ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ" host=example.com"#,
            ),
            ("句点。では終わり", ""),
        ];
        for (text, want) in cases {
            assert_eq!(links(text), want, "{text}");
        }
    }

    #[test]
    fn finds_defanged_links() {
        let cases = [
            ("go to bit(.)ly/3abc now", r#"6..19 "bit(.)ly/3abc" host=bit.ly"#),
            ("evil[.]com/x", r#"0..12 "evil[.]com/x" host=evil.com"#),
            (
                "see evil[DOT]example{.}com",
                r#"4..26 "evil[DOT]example{.}com" host=evil.example.com"#,
            ),
            ("hxxps://evil.com/payload", r#"0..24 "hxxps://evil.com/payload" host=evil.com"#),
            ("hXXp://evil[.]com", r#"0..17 "hXXp://evil[.]com" host=evil.com"#),
            (
                "acme.com and tinyurl(.)com/y6",
                "0..8 \"acme.com\" host=acme.com\n13..29 \"tinyurl(.)com/y6\" host=tinyurl.com",
            ),
            ("ｂｉｔ(.)ｌｙ/x", r#"0..20 "ｂｉｔ(.)ｌｙ/x" host=bit.ly"#),
        ];
        for (text, want) in cases {
            assert_eq!(links(text), want, "{text}");
        }
        for text in [
            "one (.) two",
            "f(.)",
            "(.)com",
            "the end[.] Next",
            "wait (dot) com",
            "hxxp is not a scheme",
            "a.b (.) c.d",
        ] {
            assert_eq!(links(text), "", "{text}");
        }
    }

    #[test]
    fn ip_hosts_a_browser_reads_as_addresses_are_ip_links() {
        let cases = [
            ("http://2130706433/a", r#"0..19 "http://2130706433/a" host=127.0.0.1 ip"#),
            ("http://0x7f000001/", r#"0..18 "http://0x7f000001/" host=127.0.0.1 ip"#),
            ("http://0177.0.0.1/", r#"0..18 "http://0177.0.0.1/" host=127.0.0.1 ip"#),
            ("http://127.1/", r#"0..13 "http://127.1/" host=127.0.0.1 ip"#),
            ("http://10.0.258/", r#"0..16 "http://10.0.258/" host=10.0.1.2 ip"#),
            ("http://0xC0.0250.1.1/", r#"0..21 "http://0xC0.0250.1.1/" host=192.168.1.1 ip"#),
            // Too big for an address, five parts, or a name: not IP links (linkify takes
            // no all-numeric host that is not an address, and neither do we).
            ("http://4294967296/", ""),
            ("http://1.2.3.4.5/", ""),
            ("http://256.1.1.1/", r#"0..17 "http://256.1.1.1/" host=256.1.1.1"#),
            ("http://08.1.1.1/", r#"0..16 "http://08.1.1.1/" host=08.1.1.1"#),
            ("http://v1.example/", r#"0..18 "http://v1.example/" host=v1.example"#),
        ];
        for (text, want) in cases {
            assert_eq!(links(text), want, "{text}");
        }
    }

    #[test]
    fn ignores_text_that_is_not_a_link() {
        let cases = [
            "@user @user Can't believe what the ref did tonight, unbelievable. URL",
            "unbelievable.Tonight we ride",
            "edit main.rs and README.md",
            "i think it.is over",
            "e.g. this, i.e. that, a.m. and U.S.",
            "version 1.2.3.4 shipped",
            "john@example.com",
            "node.js and file.txt",
            "3.14159 is pi",
        ];
        for text in cases {
            assert_eq!(links(text), "", "{text}");
        }
    }

    #[test]
    fn appends_after_existing_links() {
        let earlier = Link {
            start: 0,
            end: 30,
            host: "earlier.example".into(),
            is_ip: false,
            disguised: false,
        };
        let mut out = vec![earlier.clone()];
        find_links("x https://[::ffff:10.0.0.1]/y and www.acme.example", &mut out);
        let hosts: Vec<_> = out.iter().map(|l| (l.start, l.host.as_str(), l.is_ip)).collect();
        assert_eq!(
            hosts,
            [
                (0, "earlier.example", false),
                (2, "::ffff:10.0.0.1", true),
                (34, "www.acme.example", false)
            ]
        );
        assert_eq!(out[0], earlier);
    }

    #[test]
    fn host_matching() {
        assert!(host_matches("b.example", "b.example"));
        assert!(host_matches("a.b.example", "b.example"));
        assert!(host_matches("A.B.Example.", "b.example"));
        assert!(!host_matches("notb.example", "b.example"));
        assert!(!host_matches("b.example", "a.b.example"));
        assert!(!host_matches("b.example", ""));
        assert!(!host_matches("ü.example", "xample"));
    }

    #[test]
    fn shorteners() {
        for host in ["bit.ly", "t.co", "www.tinyurl.com", "goo.gl", "is.gd", "rb.gy", "lnkd.in"] {
            assert!(is_shortener(host), "{host}");
        }
        for host in ["example.com", "notbit.ly", "youtu.be", "co"] {
            assert!(!is_shortener(host), "{host}");
        }
    }

    #[test]
    fn ascii_hosts() {
        assert_eq!(ascii_host("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ascii_host("BÜCHER.example"), "xn--bcher-kva.example");
        assert_eq!(ascii_host("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert_eq!(ascii_host("acme.example"), "acme.example");
        assert_eq!(ascii_host("a\u{fffd}b.example"), "a\u{fffd}b.example");
    }

    #[test]
    fn lookalike_keys_are_shared_by_hosts_written_to_look_alike() {
        let paypal = key("paypal.com");
        assert_eq!(paypal, "paypal.corn");
        for host in [
            "PayPal.com",
            "pаypal.com",          // Cyrillic а
            "раураl.com",          // all Cyrillic
            "xn--80aa0cbo65f.com", // all Cyrillic, as a browser sends it
            "XN--80AA0CBO65F.COM",
            "xn--pypal-4ve.com", // Cyrillic а again
            "paypa1.com",
            "pâypal.com",
            "pa\u{302}ypal.com", // the accent as a combining mark
            "ｐａｙｐａｌ.com",
            "paypal.corn",
        ] {
            assert_eq!(key(host), paypal, "{host}");
        }
        for host in ["paypal.co", "paypals.com", "pay-pal.com", "paypal.com.evil", "bücher.de"] {
            assert_ne!(key(host), paypal, "{host}");
        }
        assert_eq!(key("bücher.de"), key("xn--bcher-kva.de"));
        assert_eq!(key("bücher.de"), key("bucher.de"));
        assert_eq!(key("g00gle.com"), key("google.com"));
        assert_eq!(key("arnazon.com"), key("amazon.com"));
        assert!(host_matches(&key("login.pаypal.com"), &paypal));
        assert!(!host_matches(&key("notpaypal.com"), &paypal));
        assert_eq!(key(""), "");
    }

    #[test]
    fn ascii_lookalike_keys_agree_with_the_full_mapping() {
        // The ASCII lane maps three characters by hand; the Unicode lane must agree on every
        // character a host can hold, and on upper case (hosts come lowercased, lists may not).
        for c in ('a'..='z').chain('A'..='Z').chain('0'..='9').chain(['-', '.', '_']) {
            let ascii = key(&format!("{c}.example"));
            let mut full = String::new();
            for m in
                unicode_security::skeleton(&format!("{}\u{e9}.example", c.to_ascii_lowercase()))
            {
                full.extend(m.to_lowercase());
            }
            // The é takes the Unicode lane; with its accent left out, the rest must match.
            let full = full.replacen("e\u{301}", "", 1);
            assert_eq!(ascii, full, "{c:?}");
        }
    }

    #[test]
    fn lookalike_hosts() {
        for host in [
            "pаypal.com",          // Latin with a Cyrillic а
            "раураl.com",          // all Cyrillic, every letter reads as Latin
            "xn--80aa0cbo65f.com", // the same, as a browser sends it
            "xn--pple-43d.com",    // аpple, Cyrillic а
            "login.xn--pple-43d.com",
            "αpple.com",   // Greek alpha
            "gօօgle.com",  // Armenian օ
            "ѕсоре.com",   // all Cyrillic
            "i❤.ws",       // no identifier holds a heart
            "ɑpple.com",   // Latin alpha, a technical letter
            "kırmızı.com", // the documented false alarm: dotless ı reads as i
        ] {
            assert!(is_lookalike_host(host), "{host}");
        }
        for host in [
            "paypal.com",
            "paypa1.com", // ASCII imitations are for deny lists
            "xn--",
            "xn--zz.com", // no valid Punycode: no browser opens it
            "münchen.de",
            "xn--mnchen-3ya.de",
            "bücher.de",
            "例え.jp",
            "日本語example.jp", // Han with Latin, as Japanese writes
            "москва.рф",        // Cyrillic under a Cyrillic top-level domain
            "сосо.рф",          // every letter reads as Latin, but the domain is Cyrillic
            "ελλάδα.gr",
            "",
        ] {
            assert!(!is_lookalike_host(host), "{host}");
        }
    }
}
