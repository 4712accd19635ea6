//! Tests across detectors: the shared rendering helper, the public API contract, mixed posts and
//! property tests for panics and span validity. Detector-specific tables live next to each
//! detector.

use proptest::prelude::*;

use super::{Detection, Detectors, Entity, Link, find_links};

/// Renders the detections of `entities` in `text`, one per line: `kind start..end "text"`.
pub(super) fn detect(entities: &[Entity], text: &str) -> String {
    let mut out = Vec::new();
    Detectors::new(entities).find(text, &mut out);
    out.iter()
        .map(|d| format!("{} {}..{} {:?}", d.entity.name(), d.start, d.end, &text[d.start..d.end]))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn names_round_trip() {
    assert_eq!(Entity::ALL.len(), 14);
    for &e in Entity::ALL {
        assert_eq!(Entity::parse(e.name()), Some(e));
        assert_eq!(e.to_string(), e.name());
    }
    assert_eq!(Entity::parse("credit-card"), None);
    assert_eq!(Entity::parse(""), None);
    let personal: Vec<_> =
        Entity::ALL.iter().filter(|e| e.is_personal_data()).map(|e| e.name()).collect();
    assert_eq!(
        personal,
        [
            "credit_card",
            "us_ssn",
            "uk_nino",
            "email",
            "phone",
            "iban",
            "ip_address",
            "crypto_wallet",
            "passport",
            "ca_sin",
            "in_aadhaar"
        ]
    );
}

#[test]
fn detectors_are_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Detectors>();
    assert_send_sync::<Detection>();
    assert_send_sync::<Link>();
}

#[test]
fn fullwidth_forms_are_read_as_the_ascii_they_stand_for() {
    let card = "カード ４１１１ １１１１ １１１１ １１１１ です";
    let found = detect(&[Entity::CreditCard], card);
    assert_eq!(found, format!("credit_card 10..61 {:?}", &card[10..61]));
    let mail = "mail jane＠example．com now";
    assert_eq!(detect(&[Entity::Email], mail), r#"email 5..25 "jane＠example．com""#);
    // A mention written with a fullwidth ＠, as Japanese keyboards type it, is not an address.
    assert_eq!(detect(&[Entity::Email], "＠user さん"), "");
}

#[test]
fn only_wanted_entities_are_reported() {
    let text = "mail jane@example.com or call +44 20 7946 0958";
    assert_eq!(detect(&[Entity::Email], text), r#"email 5..21 "jane@example.com""#);
    assert_eq!(detect(&[Entity::Phone], text), r#"phone 30..46 "+44 20 7946 0958""#);
    assert_eq!(detect(&[], text), "");
}

#[test]
fn appends_after_existing_detections() {
    let mut out = vec![Detection { entity: Entity::Password, start: 99, end: 100 }];
    Detectors::new(Entity::ALL).find("a@example.com", &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].start, 99);
    assert_eq!(out[1], Detection { entity: Entity::Email, start: 0, end: 13 });
}

#[test]
fn ordinary_posts_have_no_detections() {
    let posts = [
        "@user @user Can't believe what the ref did tonight, unbelievable. URL",
        "RT @news: 3 dead, 12 injured after storm hits coast at 12:30:45 on 2024-01-15 URL",
        "Tickets $49.99 (was $1,299.00), 50% off until 01/15/2024! #sale",
        "Upgraded to v1.2.3.4 and then 10.2.3.4.5, order #12345678901234567 still stuck",
        "Score 2-1, 3:2 on aggregate; 1000000 views in 24h; call it 4155550132 times",
        "forgot my password again, the password reset link is broken and the password is required",
        "xoxo love you all, see you at 7pm. Password? nope",
        "Tracking 4111 1111 1111 1112 and 1234567812345670 and 123-45-6789",
        "Meet at 5.30pm, room 101; the answer is 42. e.g. this, i.e. that",
        "日本語のツイート 😀 with émojis and 12:30 💯",
    ];
    let detectors = Detectors::new(Entity::ALL);
    for post in posts {
        let mut out = Vec::new();
        detectors.find(post, &mut out);
        assert_eq!(out, [], "{post}");
        let mut links = Vec::new();
        find_links(post, &mut links);
        assert_eq!(links, [], "{post}");
    }
}

#[test]
fn mixed_post_is_reported_in_order() {
    let text = "DM me at jane@example.com or +1 (415) 555-0132, card 4111-1111-1111-1111, \
                ip 10.0.0.1, pay 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa, key AKIAIOSFODNN7EXAMPLE, \
                password: hunter2";
    let want = [
        r#"email 9..25 "jane@example.com""#,
        r#"phone 29..46 "+1 (415) 555-0132""#,
        r#"credit_card 53..72 "4111-1111-1111-1111""#,
        r#"ip_address 77..85 "10.0.0.1""#,
        r#"crypto_wallet 91..125 "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa""#,
        r#"api_key 131..151 "AKIAIOSFODNN7EXAMPLE""#,
        r#"password 153..170 "password: hunter2""#,
    ];
    assert_eq!(detect(Entity::ALL, text), want.join("\n"));
}

#[test]
fn contained_detections_are_dropped() {
    // The IPv4 tail of an IPv6 address, and a card number inside a private key block.
    assert_eq!(detect(Entity::ALL, "::ffff:192.0.2.1"), r#"ip_address 0..16 "::ffff:192.0.2.1""#);
    let pem = "-----BEGIN PRIVATE KEY-----\n4111111111111111\n-----END PRIVATE KEY-----";
    assert_eq!(detect(Entity::ALL, pem).lines().count(), 1);
}

/// Fragments that push inputs into the interesting paths (validators, boundaries, multi-byte
/// characters next to ASCII structure).
const FRAGMENTS: &[&str] = &[
    "4111",
    "1111",
    " ",
    "-",
    ".",
    ":",
    "::",
    "+",
    "+44",
    "+1",
    "(",
    ")",
    "@",
    "example.com",
    "0",
    "9",
    "12",
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    "bc1q",
    "0x",
    "GB82",
    "WEST",
    "AKIA",
    "ghp_",
    "xoxb-",
    "sk-",
    "eyJ",
    "password: ",
    "pwd is ",
    "://",
    "postgres://app:",
    "hooks.slack.com/services/",
    "discord.com/api/webhooks/",
    "api_key=",
    "\"clientSecret\": ",
    "TOKEN",
    "Bearer ",
    "SG.",
    "hf_",
    "[.]",
    "(.)",
    "[dot]",
    "hxxps://",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "http://",
    "www.",
    "bit.ly/",
    "[",
    "]",
    "é",
    "日",
    "😀",
    "\0",
    "\n",
    "'",
    "\"",
    "fe80",
    "192.168.0.1",
    "536-22-8145",
    "ssn ",
    "=",
    "/",
    "%",
    "_",
];

fn fragment_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[0-9A-Za-z]{1,8}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn check_spans(text: &str, spans: impl Iterator<Item = (usize, usize)>) {
    let mut last_start = 0;
    for (start, end) in spans {
        assert!(start < end && end <= text.len(), "{start}..{end} in {text:?}");
        assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "{start}..{end} in {text:?}"
        );
        assert!(start >= last_start, "out of order in {text:?}");
        last_start = start;
    }
}

/// Regions with and without a trunk prefix, and one in North America.
fn national_regions() -> Vec<super::Region> {
    ["GB", "FR", "DE", "ES", "IT", "US"].iter().map(|r| r.parse().unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn find_never_panics_and_spans_are_valid(text in any::<String>()) {
        let mut out = Vec::new();
        Detectors::new(Entity::ALL).find(&text, &mut out);
        check_spans(&text, out.iter().map(|d| (d.start, d.end)));
    }

    #[test]
    fn find_on_structured_text(text in fragment_text()) {
        let mut out = Vec::new();
        Detectors::new(Entity::ALL).find(&text, &mut out);
        check_spans(&text, out.iter().map(|d| (d.start, d.end)));
    }

    #[test]
    fn find_links_never_panics_and_spans_are_valid(text in any::<String>()) {
        let mut out = Vec::new();
        find_links(&text, &mut out);
        check_spans(&text, out.iter().map(|l| (l.start, l.end)));
    }

    #[test]
    fn find_links_on_structured_text(text in fragment_text()) {
        let mut out = Vec::new();
        find_links(&text, &mut out);
        check_spans(&text, out.iter().map(|l| (l.start, l.end)));
        for link in &out {
            prop_assert!(!link.host.is_empty());
            prop_assert!(!link.host.ends_with('.'));
        }
    }

    #[test]
    fn phone_like_text_never_panics(text in "[+(]?[0-9]{1,4}([ .()/-]{1,2}[0-9]{1,5}){0,6}") {
        let mut out = Vec::new();
        Detectors::new(Entity::ALL).with_phone_regions(&national_regions()).find(&text, &mut out);
        check_spans(&text, out.iter().map(|d| (d.start, d.end)));
    }

    #[test]
    fn defanged_links_are_read_as_typed_back(
        labels in prop::collection::vec("[a-z][a-z0-9]{0,9}", 1..3),
        dots in prop::collection::vec(prop::sample::select(&[".", "[.]", "(.)", "{.}", "[dot]", "(DOT)"][..]), 3),
        path in "[a-z0-9]{1,8}",
    ) {
        let mut written = String::new();
        let mut host = String::new();
        for (i, label) in labels.iter().chain(std::iter::once(&"com".to_owned())).enumerate() {
            if i > 0 {
                written.push_str(dots[i - 1]);
                host.push('.');
            }
            written.push_str(label);
            host.push_str(label);
        }
        let text = format!("see {written}/{path} now");
        let mut out = Vec::new();
        find_links(&text, &mut out);
        prop_assert_eq!(out.len(), 1, "{:?}", out);
        prop_assert_eq!(&out[0].host, &host);
        prop_assert_eq!(&text[out[0].start..out[0].end], format!("{written}/{path}"));
    }

    #[test]
    fn passwords_in_links_are_found(
        scheme in "[a-z][a-z0-9+]{1,7}",
        user in "[a-z0-9._-]{0,8}",
        password in "[A-Za-z0-9][A-Za-z0-9!$&*+,;=~-]{2,19}",
        host in "[a-z][a-z0-9-]{0,8}\\.[a-z]{2,6}",
    ) {
        prop_assume!(!["password", "passwd", "pass", "pwd", "secret"].contains(&password.to_lowercase().as_str()));
        prop_assume!(!password.chars().all(|c| c == '*' || c.eq_ignore_ascii_case(&'x')));
        let link = format!("{scheme}://{user}:{password}@{host}");
        let text = format!("db at {link}/main, thanks");
        prop_assert_eq!(detect(&[Entity::Password], &text), format!("password 6..{} {:?}", 6 + link.len(), link));
    }

    #[test]
    fn secrets_assigned_to_settings_are_found(
        name in prop::sample::select(&["api_key", "API_KEY", "apiKey", "client_secret", "ACCESS_TOKEN", "x-api-key"][..]),
        separator in prop::sample::select(&["=", ":", ": ", " = ", "=>"][..]),
        value in "([0-9][a-fA-F]){8,20}",
    ) {
        let setting = format!("{name}{separator}{value}");
        let text = format!("try {setting} please");
        prop_assert_eq!(detect(&[Entity::ApiKey], &text), format!("api_key 4..{} {:?}", 4 + setting.len(), setting));
    }

    #[test]
    fn national_numbers_in_any_text_never_panic(text in any::<String>()) {
        let mut out = Vec::new();
        Detectors::new(Entity::ALL).with_phone_regions(&national_regions()).find(&text, &mut out);
        check_spans(&text, out.iter().map(|d| (d.start, d.end)));
    }

    #[test]
    fn hosts_with_a_cyrillic_letter_for_a_latin_one_look_alike(
        label in "[a-z]{0,6}[aceopxy][a-z]{0,6}",
        pick in any::<prop::sample::Index>(),
        tld in prop::sample::select(&["com", "net", "org", "io"][..]),
        punycode in any::<bool>(),
    ) {
        let swappable: Vec<usize> = label.char_indices().filter(|(_, c)| "aceopxy".contains(*c)).map(|(i, _)| i).collect();
        let at = swappable[pick.index(swappable.len())];
        let cyrillic = "асеорху".chars().nth("aceopxy".find(&label[at..=at]).unwrap()).unwrap();
        let mut spoof = label.clone();
        spoof.replace_range(at..=at, cyrillic.encode_utf8(&mut [0; 4]));
        let host = format!("{label}.{tld}");
        let mut spoof = format!("{spoof}.{tld}");
        if punycode {
            spoof = idna::domain_to_ascii(&spoof).unwrap();
        }
        prop_assert!(super::is_lookalike_host(&spoof), "{spoof}");
        prop_assert!(!super::is_lookalike_host(&host), "{host}");
        let (mut key, mut spoof_key) = (String::new(), String::new());
        super::lookalike_key(&host, &mut key);
        super::lookalike_key(&spoof, &mut spoof_key);
        prop_assert_eq!(key, spoof_key);
    }

    #[test]
    fn lookalike_checks_never_panic(host in any::<String>()) {
        let mut key = String::new();
        super::lookalike_key(&host, &mut key);
        super::is_lookalike_host(&host);
    }

    #[test]
    fn passport_zones_with_valid_check_digits_are_found(
        document in "[A-Z0-9][A-Z0-9<]{8}",
        nationality in "[A-Z]{3}",
        birth in (0u32..100, 1u32..13, 1u32..29),
        expiry in (0u32..100, 1u32..13, 1u32..29),
        sex in prop::sample::select(&['M', 'F', '<'][..]),
        optional in "[A-Z0-9]{0,14}",
        before in "[a-z :]{0,12}",
    ) {
        prop_assume!(document != "L898902C3");
        let digit = |s: &str| char::from(b'0' + super::passport::check_digit(s.bytes()) as u8);
        let date = |(y, m, d): (u32, u32, u32)| format!("{y:02}{m:02}{d:02}");
        let (birth, expiry) = (date(birth), date(expiry));
        let optional = format!("{optional:<<14}");
        let optional_check = if optional.bytes().all(|c| c == b'<') { '<' } else { digit(&optional) };
        let mut line = format!(
            "{document}{}{nationality}{birth}{}{sex}{expiry}{}{optional}{optional_check}",
            digit(&document), digit(&birth), digit(&expiry)
        );
        let composite = [&line[0..10], &line[13..20], &line[21..43]].concat();
        line.push(digit(&composite));
        let text = format!("{before}\n{line}\nok");
        let at = before.len() + 1;
        prop_assert_eq!(detect(&[Entity::Passport], &text), format!("passport {at}..{} {line:?}", at + 44));
        // A wrong composite check digit, and the line is no zone.
        let last = line.pop().unwrap();
        line.push(if last == '9' { '0' } else { char::from(last as u8 + 1) });
        prop_assert_eq!(detect(&[Entity::Passport], &line), "");
    }

    #[test]
    fn numbers_after_the_word_passport_are_found(
        keyword in prop::sample::select(&["passport", "Passport", "PASSPORT", "passeport", "Reisepass"][..]),
        between in prop::sample::select(&[" ", ": ", " no. ", " number: ", " # ", " nr ", " number is "][..]),
        number in "[A-Z]{0,2}[0-9]{6,8}",
    ) {
        let text = format!("{keyword}{between}{number} thanks");
        let at = keyword.len() + between.len();
        prop_assert_eq!(
            detect(&[Entity::Passport], &text),
            format!("passport {at}..{} {number:?}", at + number.len())
        );
    }

    #[test]
    fn allocatable_national_insurance_numbers_are_found_in_every_form(
        first in "[ABCEGHJKLMNOPRSTWXYZ]",
        second in "[ABCEGHJKLMNPRSTWXYZ]",
        digits in "[0-9]{6}",
        suffix in "[A-D]",
        form in 0usize..3,
    ) {
        let prefix = format!("{first}{second}");
        prop_assume!(!["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"].contains(&prefix.as_str()));
        let number = match form {
            0 => format!("{prefix}{digits}{suffix}"),
            1 => format!("{prefix} {} {} {} {suffix}", &digits[..2], &digits[2..4], &digits[4..]),
            _ => format!("{prefix} {digits} {suffix}"),
        };
        let text = format!("NI no. {number}, ta");
        prop_assert_eq!(
            detect(&[Entity::UkNino], &text),
            format!("uk_nino 7..{} {number:?}", 7 + number.len())
        );
    }
}
