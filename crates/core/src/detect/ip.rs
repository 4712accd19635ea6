//! IP addresses: IPv4 dotted quads and IPv6 in full, compressed or IPv4-mapped form.
//!
//! IPv4 is strict (four octets, each 0-255, no leading zeros, not inside a longer dotted run like
//! a version string "1.2.3.4.5"). IPv6 candidates are runs of hex digits and colons with at least
//! two colons and a digit, validated by the standard library parser, which already rejects
//! clock times such as "12:30:45" and MAC addresses.

use std::net::Ipv6Addr;

use super::{Detection, Entity, digits_end, find_byte, is_word};

/// The longest textual IPv6 address ("ffff:...:255.255.255.255").
const MAX_V6_LEN: usize = 45;

/// `[start, we)` is an all-digit word. Returns the end of an IPv4 address starting there.
pub(super) fn v4_at(b: &[u8], start: usize, we: usize) -> Option<usize> {
    if b.get(we) != Some(&b'.') || (start > 0 && b[start - 1] == b'.') {
        return None;
    }
    let mut pos = start;
    for octet in 0..4 {
        let end = digits_end(b, pos);
        let digits = &b[pos..end];
        if digits.is_empty() || digits.len() > 3 || (digits.len() > 1 && digits[0] == b'0') {
            return None;
        }
        let value = digits.iter().fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'));
        if value > 255 {
            return None;
        }
        if octet == 3 {
            pos = end;
        } else if b.get(end) == Some(&b'.') {
            pos = end + 1;
        } else {
            return None;
        }
    }
    let after = b.get(pos).copied();
    let glued = after.is_some_and(is_word);
    let longer = after == Some(b'.') && b.get(pos + 1).is_some_and(u8::is_ascii_digit);
    (!glued && !longer).then_some(pos)
}

/// Appends every IPv6 address in `text`.
pub(super) fn find_v6(text: &str, out: &mut Vec<Detection>) {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(colon) = find_byte(b, from, b':') {
        let mut s = colon;
        while s > 0 && (b[s - 1].is_ascii_hexdigit() || b[s - 1] == b':') {
            s -= 1;
        }
        let mut e = colon + 1;
        while e < b.len() && (b[e].is_ascii_hexdigit() || b[e] == b':' || b[e] == b'.') {
            e += 1;
        }
        from = e;
        // Sentence punctuation after an address: "at fe80::1." or "use ::1:".
        while e > s && (b[e - 1] == b'.' || (b[e - 1] == b':' && e >= s + 2 && b[e - 2] != b':')) {
            e -= 1;
        }
        if let Some(end) = v6_candidate(text, s, e) {
            out.push(Detection { entity: Entity::IpAddress, start: s, end });
        }
    }
}

fn v6_candidate(text: &str, s: usize, e: usize) -> Option<usize> {
    let b = text.as_bytes();
    let cand = text.get(s..e)?;
    let bounded = (s == 0 || !is_word(b[s - 1])) && b.get(e).is_none_or(|&c| !is_word(c));
    let shaped = cand.len() <= MAX_V6_LEN
        && cand.bytes().filter(|&c| c == b':').count() >= 2
        && cand.bytes().any(|c| c.is_ascii_digit());
    (bounded && shaped && cand.parse::<Ipv6Addr>().is_ok()).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::super::Entity;
    use super::super::tests::detect;

    #[test]
    fn finds_ip_addresses() {
        let cases = [
            ("server 192.168.0.1 is down", r#"ip_address 7..18 "192.168.0.1""#),
            ("at 10.0.0.255.", r#"ip_address 3..13 "10.0.0.255""#),
            ("0.0.0.0:8080", r#"ip_address 0..7 "0.0.0.0""#),
            ("ping 2001:db8::1 now", r#"ip_address 5..16 "2001:db8::1""#),
            ("lo ::1.", r#"ip_address 3..6 "::1""#),
            ("fe80::1:", r#"ip_address 0..7 "fe80::1""#),
            (
                "full 2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                r#"ip_address 5..44 "2001:0db8:85a3:0000:0000:8a2e:0370:7334""#,
            ),
            ("mapped ::ffff:192.0.2.1", r#"ip_address 7..23 "::ffff:192.0.2.1""#),
            ("url http://[2001:db8::2]/x", r#"ip_address 12..23 "2001:db8::2""#),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&[Entity::IpAddress], text), want, "{text}");
        }
    }

    #[test]
    fn ignores_non_addresses() {
        let cases = [
            "version 1.2.3.4.5 released",
            "v1.2.3.4",
            "256.1.1.1",
            "10.01.0.1",
            "1.2.3",
            "at 12:30:45 today",
            "mac 00:1A:2B:3C:4D:5E",
            "std::vec::Vec and a::b",
            "10.0.0.1abc",
            "ratio 1:2:3",
            "2024-01-15T10:30:00Z",
        ];
        for text in cases {
            assert_eq!(detect(&[Entity::IpAddress], text), "", "{text}");
        }
    }
}
