//! Archive tests: canonical JSON, the hash chain, checkpoints, item and verdict payloads,
//! search queries, and the retention decision, with property tests for the invariants that
//! the archive's integrity and its legal holds rest on.

use std::process::{Command, Stdio};

use jiff::Timestamp;
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::*;
use crate::item::{AuthorType, ContentKind};

/// A timestamp from RFC 3339 text, for tests.
fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON
// ---------------------------------------------------------------------------------------------

#[test]
fn canonical_json_sorts_keys_at_every_depth() {
    let value = json!({
        "b": {"z": 1, "a": [{"y": true, "x": null}, {"d": {"f": 2, "e": 3}}]},
        "a": "s",
        "A": [],
    });
    assert_eq!(
        canonical_json(&value),
        r#"{"A":[],"a":"s","b":{"a":[{"x":null,"y":true},{"d":{"e":3,"f":2}}],"z":1}}"#
    );
}

#[test]
fn canonical_json_orders_keys_by_code_point() {
    // Code point order, which is also UTF-8 byte order. UTF-16 order (JavaScript's) would put
    // U+1F600 before U+FF61; Python and this crate put it after.
    let value =
        json!({"\u{1F600}": 1, "\u{FF61}": 2, "é": 3, "z": 4, "Z": 5, "aa": 6, "a": 7, "": 8});
    assert_eq!(
        canonical_json(&value),
        "{\"\":8,\"Z\":5,\"a\":7,\"aa\":6,\"z\":4,\"é\":3,\"\u{FF61}\":2,\"\u{1F600}\":1}"
    );
}

#[test]
fn canonical_json_escapes_only_quotes_backslashes_and_control_characters() {
    let cases: &[(&str, &str)] = &[
        ("plain", r#""plain""#),
        ("say \"hi\"", r#""say \"hi\"""#),
        ("back\\slash", r#""back\\slash""#),
        ("\u{8}\u{c}\n\r\t", r#""\b\f\n\r\t""#),
        (
            "\u{0}\u{1}\u{7}\u{b}\u{e}\u{1b}\u{1f}",
            r#""\u0000\u0001\u0007\u000b\u000e\u001b\u001f""#,
        ),
        // DEL, the slash and everything outside ASCII stay as they are.
        ("\u{7f}/", "\"\u{7f}/\""),
        ("café 中文 😀 \u{2028}\u{a0}", "\"café 中文 😀 \u{2028}\u{a0}\""),
    ];
    for (text, expected) in cases {
        assert_eq!(canonical_json(&json!(text)), *expected, "encoding {text:?}");
    }
}

#[test]
fn canonical_json_writes_every_control_character_in_one_form() {
    for byte in 0u8..0x20 {
        let encoded = canonical_json(&json!(char::from(byte).to_string()));
        let expected = match byte {
            0x08 => r#""\b""#.to_owned(),
            0x09 => r#""\t""#.to_owned(),
            0x0a => r#""\n""#.to_owned(),
            0x0c => r#""\f""#.to_owned(),
            0x0d => r#""\r""#.to_owned(),
            _ => format!("\"\\u{byte:04x}\""),
        };
        assert_eq!(encoded, expected, "control character {byte:#04x}");
    }
}

#[test]
fn canonical_json_writes_integers_and_literals() {
    let value = json!([0, -1, 1, i64::MIN, i64::MAX, u64::MAX, true, false, null, "", [], {}]);
    assert_eq!(
        canonical_json(&value),
        r#"[0,-1,1,-9223372036854775808,9223372036854775807,18446744073709551615,true,false,null,"",[],{}]"#
    );
}

#[test]
fn parse_canonical_accepts_exactly_the_canonical_text() {
    let text = r#"{"a":[1,-2,"x\n",{"b":null}],"c":true}"#;
    let value = parse_canonical(text).unwrap();
    assert_eq!(value, json!({"c": true, "a": [1, -2, "x\n", {"b": null}]}));
    assert_eq!(canonical_json(&value), text);
    for scalar in ["null", "true", "0", "-7", "\"\"", "[]", "{}"] {
        assert!(parse_canonical(scalar).is_ok(), "{scalar}");
    }
}

#[test]
fn parse_canonical_rejects_other_spellings_of_the_same_value() {
    let not_canonical = [
        r#"{"a": 1}"#,
        r#"{"a":1 }"#,
        r#" {"a":1}"#,
        "{\"a\":1}\n",
        r#"[1, 2]"#,
        r#"{"b":1,"a":2}"#,
        r#"{"a":{"d":1,"c":2}}"#,
        r#""\u00e9""#,
        r#""\u001F""#,
        r#""\u0009""#,
        r#""\/""#,
        r#""\u0041""#,
        r#"{"\u0061":1}"#,
    ];
    for text in not_canonical {
        assert_eq!(parse_canonical(text), Err(CanonicalError::NotCanonical), "{text}");
    }
    // A repeated key is refused before canonical form is even considered: serde_json would
    // keep the last copy where other readers keep the first.
    let repeated = parse_canonical(r#"{"a":1,"a":1}"#);
    assert!(
        matches!(&repeated, Err(CanonicalError::Syntax(message)) if message.contains("`a` appears twice")),
        "{repeated:?}"
    );
}

#[test]
fn parse_canonical_rejects_floats_and_malformed_json() {
    for (text, float) in [
        ("1.0", "1.0"),
        ("1e3", "1000.0"),
        (r#"{"a":[1.5]}"#, "1.5"),
        ("-0", "-0.0"),
        ("18446744073709551616", "1.8446744073709552e19"),
    ] {
        match parse_canonical(text) {
            Err(CanonicalError::Float(found)) => {
                assert_eq!(found.parse::<f64>().unwrap(), float.parse::<f64>().unwrap(), "{text}");
            }
            other => panic!("{text}: expected a float error, got {other:?}"),
        }
    }
    for text in ["", "{", "[1,]", "{'a':1}", "nul", "{\"a\":1}x"] {
        assert!(matches!(parse_canonical(text), Err(CanonicalError::Syntax(_))), "{text}");
    }
    assert_eq!(
        CanonicalError::Float("1.5".into()).to_string(),
        "canonical payloads hold integers only, found 1.5"
    );
}

/// Arbitrary JSON values of the kinds payloads hold: no floats.
fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\/a-zé中😀\u{7f}\u{2028}]{0,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map("[a-cA\\x00\"é😀]{0,3}|\\PC{0,4}", inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn canonical_json_parses_back_to_the_same_value(value in arb_value()) {
        let text = canonical_json(&value);
        prop_assert_eq!(parse_canonical(&text), Ok(value.clone()));
        // Whatever spelling serde_json chooses, re-encoding lands on the same bytes.
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let reparsed: Value = serde_json::from_str(&pretty).unwrap();
        prop_assert_eq!(canonical_json(&reparsed), text);
    }
}

/// The Python interpreter, if there is one on the PATH.
fn python() -> Option<Command> {
    let found = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    found.then(|| Command::new("python3"))
}

/// Re-encodes each value with Python's `json.dumps(v, sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)`, or `None` without Python.
fn python_canonical(values: &[Value]) -> Option<Vec<String>> {
    use std::io::Write as _;
    let mut command = python()?;
    let script = "import json, sys\n\
        for line in sys.stdin.buffer:\n    \
            v = json.loads(line)\n    \
            out = json.dumps(v, sort_keys=True, separators=(',', ':'), ensure_ascii=False)\n    \
            sys.stdout.buffer.write(out.encode('utf-8') + b'\\n')\n";
    let mut child = command
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let mut input = String::new();
    for value in values {
        // serde_json's own spelling: not canonical, so Python has to do the work.
        input.push_str(&serde_json::to_string(value).unwrap());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "python3 failed");
    let text = String::from_utf8(output.stdout).expect("python3 writes UTF-8");
    Some(text.lines().map(str::to_owned).collect())
}

#[test]
fn canonical_json_matches_python_json_dumps() {
    let mut values = vec![
        json!({
            "z": "tab\there, quote \" and backslash \\ and \u{0}\u{1f}\u{7f}\u{8}\u{c}\r\n",
            "é": ["café", "中文", "😀", "\u{2028}", "/", ""],
            "A": {"b": [1, -1, 0, i64::MIN, u64::MAX], "a": {"y": null, "x": true, "w": false}},
            "\u{1F600}": 1,
            "\u{FF61}": 2,
            "": {},
        }),
        json!([]),
        json!("just a string"),
    ];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..200 {
        values.push(arb_value().new_tree(&mut runner).unwrap().current());
    }
    let Some(python) = python_canonical(&values) else {
        println!("skipped: python3 not found");
        return;
    };
    assert_eq!(python.len(), values.len());
    for (value, python) in values.iter().zip(&python) {
        assert_eq!(&canonical_json(value), python, "value {value:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The hash chain
// ---------------------------------------------------------------------------------------------

/// The archive time of the `i`th test entry.
fn recorded(i: u64) -> String {
    format_time(
        Timestamp::from_microsecond(1_772_357_400_000_000 + i64::try_from(i).unwrap() * 61_250_001)
            .unwrap(),
    )
}

/// A chain of `n` entries of assorted kinds (no dispositions) with small canonical payloads.
fn build_chain(n: u64) -> Vec<Entry> {
    let kinds = [
        EntryKind::Item,
        EntryKind::Verdict,
        EntryKind::Hold,
        EntryKind::Retention,
        EntryKind::Action,
    ];
    let parts: Vec<(EntryKind, String)> = (1..=n)
        .map(|i| (kinds[usize::try_from(i - 1).unwrap() % kinds.len()], format!("entry {i}")))
        .collect();
    chain_of(&parts)
}

/// A chain with one entry per (kind, text), each with the payload `{"text":..,"v":1}`.
fn chain_of(parts: &[(EntryKind, String)]) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (kind, text) in parts {
        append(&mut entries, *kind, canonical_json(&json!({"v": 1, "text": text})));
    }
    entries
}

/// Appends an entry with this payload to a chain; returns its sequence number.
fn append(entries: &mut Vec<Entry>, kind: EntryKind, payload: String) -> u64 {
    let prev = entries.last().map(|e| (e.seq, e.hash));
    let seq = prev.map_or(1, |p| p.0 + 1);
    entries.push(Entry::next(prev, kind, recorded(seq), payload));
    seq
}

/// Verifies a whole chain: every entry, then the missing payloads.
fn verify(entries: &[Entry]) -> Result<Option<(u64, Hash)>, ChainError> {
    let mut verifier = ChainVerifier::new();
    for entry in entries {
        verifier.push(entry)?;
    }
    verifier.finish()
}

/// Replaces entry `i` (0-based) by its tampered form.
fn tampered(entries: &[Entry], i: usize, change: impl FnOnce(&mut Entry)) -> Vec<Entry> {
    let mut copy = entries.to_vec();
    change(&mut copy[i]);
    copy
}

#[test]
fn entries_link_from_genesis() {
    let entries = build_chain(5);
    assert_eq!(entries[0].seq, 1);
    assert_eq!(entries[0].prev, GENESIS);
    assert_eq!(GENESIS, [0u8; 32]);
    for pair in entries.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(pair[1].prev, pair[0].hash);
    }
    for entry in &entries {
        let payload = entry.payload.as_deref().unwrap();
        assert_eq!(entry.payload_hash, payload_hash(payload));
        assert_eq!(entry.payload_hash.as_slice(), Sha256::digest(payload.as_bytes()).as_slice());
        assert_eq!(
            entry.hash,
            entry_hash(entry.seq, entry.kind, &entry.recorded_at, &entry.prev, &entry.payload_hash)
        );
    }
}

#[test]
fn entry_hash_is_sha256_of_the_documented_text() {
    let entry = &build_chain(3)[2];
    let input = format!(
        "lifeguard-entry-v1\n{}\n{}\n{}\n{}\n{}",
        entry.seq,
        entry.kind.name(),
        entry.recorded_at,
        hex(&entry.prev),
        hex(&entry.payload_hash)
    );
    assert_eq!(entry.hash.as_slice(), Sha256::digest(input.as_bytes()).as_slice());
}

/// The worked example in `docs/archive-format.md`: if this changes, so must the document.
#[test]
fn the_worked_example_of_the_format_document_holds() {
    let mut item = Item::new("mastodon", "109", "Hello, world", ts("2026-03-01T09:30:00Z"));
    item.account = "@acme@social.example".into();
    item.author = "@jane@social.example".into();
    let payload = item.payload();
    assert_eq!(
        payload,
        r#"{"account":"@acme@social.example","author":"@jane@social.example","author_type":"employee","captured_at":"2026-03-01T09:30:00.000000Z","change":"original","created_at":null,"external_id":"109","kind":"post","links":[],"media":[],"parent":null,"platform":"mastodon","raw":null,"revises":null,"text":"Hello, world","v":1}"#
    );
    assert_eq!(
        hex(&payload_hash(&payload)),
        "19c823202333a722066d6ade80ecbde60b41fc2b62153473f4233b9c8cdbf278"
    );
    let entry = Entry::next(None, EntryKind::Item, "2026-03-01T09:30:01.250000Z".into(), payload);
    assert_eq!(
        hex(&entry.hash),
        "134d5e35d656cc268b35f97c6eb49f74cba274ea9f88b8df181c6524c313dc3e"
    );
}

#[test]
fn an_untouched_chain_verifies_and_reports_its_head() {
    let entries = build_chain(12);
    let mut verifier = ChainVerifier::default();
    assert_eq!(verifier.head(), None);
    for entry in &entries {
        verifier.push(entry).unwrap();
    }
    assert_eq!(verifier.count(), 12);
    assert_eq!(verifier.head(), Some((12, entries[11].hash)));
    assert_eq!(verifier.finish(), Ok(Some((12, entries[11].hash))));
    assert_eq!(verify(&[]), Ok(None));
}

#[test]
fn a_segment_verifies_from_its_predecessor() {
    let entries = build_chain(8);
    let mut verifier = ChainVerifier::after(Some((4, entries[3].hash)));
    for entry in &entries[4..] {
        verifier.push(entry).unwrap();
    }
    assert_eq!(verifier.count(), 4);
    assert_eq!(verifier.finish(), Ok(Some((8, entries[7].hash))));

    let mut wrong_start = ChainVerifier::after(Some((4, entries[2].hash)));
    assert_eq!(wrong_start.push(&entries[4]), Err(ChainError::Link { seq: 5 }));
    let mut wrong_seq = ChainVerifier::after(Some((3, entries[3].hash)));
    assert_eq!(wrong_seq.push(&entries[4]), Err(ChainError::Sequence { expected: 4, found: 5 }));
}

#[test]
fn an_altered_payload_is_caught_at_its_entry() {
    let entries = build_chain(6);
    let altered = tampered(&entries, 2, |e| {
        e.payload = Some(canonical_json(&json!({"v": 1, "text": "entry 4"})))
    });
    assert_eq!(verify(&altered), Err(ChainError::Payload { seq: 3 }));

    // Updating the payload hash too breaks the entry's own hash.
    let altered = tampered(&entries, 2, |e| {
        let payload = canonical_json(&json!({"v": 1, "text": "rewritten"}));
        e.payload_hash = payload_hash(&payload);
        e.payload = Some(payload);
    });
    assert_eq!(verify(&altered), Err(ChainError::Hash { seq: 3 }));

    // Recomputing the entry's hash as well breaks the link from the next entry.
    let altered = tampered(&entries, 2, |e| {
        let payload = canonical_json(&json!({"v": 1, "text": "rewritten"}));
        e.payload_hash = payload_hash(&payload);
        e.hash = entry_hash(e.seq, e.kind, &e.recorded_at, &e.prev, &e.payload_hash);
        e.payload = Some(payload);
    });
    assert_eq!(verify(&altered), Err(ChainError::Link { seq: 4 }));
}

#[test]
fn altered_metadata_is_caught_at_its_entry() {
    let entries = build_chain(6);
    let at = |e: &mut Entry| e.recorded_at = recorded(99);
    assert_eq!(verify(&tampered(&entries, 3, at)), Err(ChainError::Hash { seq: 4 }));
    let kind = |e: &mut Entry| e.kind = EntryKind::Action;
    assert_eq!(verify(&tampered(&entries, 0, kind)), Err(ChainError::Hash { seq: 1 }));
    let stored = |e: &mut Entry| e.hash[31] ^= 1;
    assert_eq!(verify(&tampered(&entries, 5, stored)), Err(ChainError::Hash { seq: 6 }));
    let payload_digest = |e: &mut Entry| e.payload_hash[0] ^= 0x80;
    assert_eq!(verify(&tampered(&entries, 4, payload_digest)), Err(ChainError::Hash { seq: 5 }));
    let prev = |e: &mut Entry| e.prev[7] ^= 4;
    assert_eq!(verify(&tampered(&entries, 1, prev)), Err(ChainError::Link { seq: 2 }));
    let first_prev = |e: &mut Entry| e.prev = e.hash;
    assert_eq!(verify(&tampered(&entries, 0, first_prev)), Err(ChainError::Link { seq: 1 }));
}

#[test]
fn deleted_reordered_and_duplicated_entries_are_caught() {
    let entries = build_chain(6);

    let mut deleted = entries.clone();
    deleted.remove(2);
    assert_eq!(verify(&deleted), Err(ChainError::Sequence { expected: 3, found: 4 }));

    let mut first_deleted = entries.clone();
    first_deleted.remove(0);
    assert_eq!(verify(&first_deleted), Err(ChainError::Sequence { expected: 1, found: 2 }));

    let mut swapped = entries.clone();
    swapped.swap(3, 4);
    assert_eq!(verify(&swapped), Err(ChainError::Sequence { expected: 4, found: 5 }));

    let mut duplicated = entries.clone();
    duplicated.insert(3, entries[2].clone());
    assert_eq!(verify(&duplicated), Err(ChainError::Sequence { expected: 4, found: 3 }));

    // Renumbering the entries after a deletion still leaves them pointing at the wrong hash.
    let mut renumbered = entries.clone();
    renumbered.remove(2);
    for entry in &mut renumbered[2..] {
        entry.seq -= 1;
    }
    assert!(matches!(
        verify(&renumbered),
        Err(ChainError::Link { seq: 3 } | ChainError::Hash { seq: 3 })
    ));

    // Dropping the last entries cannot be seen from the chain alone: the head moves back, which
    // a signed checkpoint catches (see `a_truncated_chain_fails_its_checkpoint`).
    assert_eq!(verify(&entries[..5]), Ok(Some((5, entries[4].hash))));
}

#[test]
fn a_non_canonical_payload_is_caught_even_with_matching_hashes() {
    let mut entries = build_chain(2);
    let seq = append(&mut entries, EntryKind::Item, r#"{"text": "spaced", "v": 1}"#.into());
    match verify(&entries) {
        Err(ChainError::Encoding { seq: at, reason }) => {
            assert_eq!(at, seq);
            assert_eq!(reason, "JSON is not in canonical form");
        }
        other => panic!("expected an encoding error, got {other:?}"),
    }
    let mut floats = build_chain(1);
    append(&mut floats, EntryKind::Verdict, r#"{"score":0.5,"v":1}"#.into());
    assert!(matches!(verify(&floats), Err(ChainError::Encoding { seq: 2, .. })));
}

/// A disposition payload naming these entries, as the store writes it.
fn disposition_of(entries: &[Entry], seqs: &[u64]) -> String {
    let named: Vec<(u64, Hash)> = seqs
        .iter()
        .map(|seq| (*seq, entries[usize::try_from(*seq - 1).unwrap()].payload_hash))
        .collect();
    disposition_payload(seqs[0], &named, "R-6Y", ts("2026-01-01T00:00:00Z"))
}

#[test]
fn a_dropped_payload_needs_a_disposition_entry() {
    let entries = build_chain(5);
    let dropped = tampered(&entries, 1, |e| e.payload = None);
    // The entry itself checks out (its hashes are intact); the gap shows at the end.
    let mut verifier = ChainVerifier::new();
    for entry in &dropped {
        verifier.push(entry).unwrap();
    }
    assert_eq!(verifier.finish(), Err(ChainError::Unaccounted { seq: 2 }));

    // With a later disposition entry naming it (and its payload hash), the gap is accounted for.
    let mut disposed = entries.clone();
    let payload = disposition_of(&disposed, &[1, 2]);
    append(&mut disposed, EntryKind::Disposition, payload);
    disposed[0].payload = None;
    disposed[1].payload = None;
    assert_eq!(verify(&disposed), Ok(Some((6, disposed[5].hash))));

    // A disposition of other entries does not account for it.
    let mut other = entries.clone();
    let payload = disposition_of(&other, &[1]);
    append(&mut other, EntryKind::Disposition, payload);
    other[1].payload = None;
    assert_eq!(verify(&other), Err(ChainError::Unaccounted { seq: 2 }));

    // Nor does an entry of another kind with the same payload shape.
    let mut not_disposition = entries.clone();
    let payload = disposition_of(&not_disposition, &[2]);
    append(&mut not_disposition, EntryKind::Action, payload);
    not_disposition[1].payload = None;
    assert_eq!(verify(&not_disposition), Err(ChainError::Unaccounted { seq: 2 }));
}

#[test]
fn a_disposition_accounts_only_for_earlier_entries_with_the_named_payload_hash() {
    // The disposition names the entry's payload hash: a record that names another hash does
    // not account for the missing payload.
    let mut entries = build_chain(3);
    let wrong = disposition_payload(2, &[(2, [7; 32])], "R-6Y", ts("2026-01-01T00:00:00Z"));
    append(&mut entries, EntryKind::Disposition, wrong);
    entries[1].payload = None;
    assert_eq!(verify(&entries), Err(ChainError::Unaccounted { seq: 2 }));

    // A disposition cannot name an entry that came after it.
    let mut entries = build_chain(2);
    let future_hash = payload_hash(&canonical_json(&json!({"v": 1, "text": "later"})));
    let early = disposition_payload(4, &[(4, future_hash)], "R-6Y", ts("2026-01-01T00:00:00Z"));
    append(&mut entries, EntryKind::Disposition, early);
    append(&mut entries, EntryKind::Item, canonical_json(&json!({"v": 1, "text": "later"})));
    entries[3].payload = None;
    assert_eq!(verify(&entries), Err(ChainError::Unaccounted { seq: 4 }));

    // A disposition's own payload is never disposed of: nothing can account for it.
    let mut entries = build_chain(2);
    let payload = disposition_of(&entries, &[1]);
    let at = append(&mut entries, EntryKind::Disposition, payload);
    entries[usize::try_from(at - 1).unwrap()].payload = None;
    assert_eq!(verify(&entries), Err(ChainError::Unaccounted { seq: at }));
    // Without its payload it accounts for nothing: the lowest gap is reported.
    entries[0].payload = None;
    assert_eq!(verify(&entries), Err(ChainError::Unaccounted { seq: 1 }));
}

#[test]
fn omitted_payloads_only_prove_the_chain_position() {
    let entries = build_chain(4);
    let mut verifier = ChainVerifier::new();
    verifier.push(&entries[0]).unwrap();
    let mut omitted = entries[1].clone();
    omitted.payload = None;
    verifier.push_omitted(&omitted).unwrap();
    verifier.push_omitted(&entries[2]).unwrap();
    verifier.push(&entries[3]).unwrap();
    assert_eq!(verifier.finish(), Ok(Some((4, entries[3].hash))));

    // An omitted entry still has to be in its place, with its hashes.
    let mut verifier = ChainVerifier::new();
    verifier.push(&entries[0]).unwrap();
    let mut broken = omitted.clone();
    broken.recorded_at = recorded(50);
    assert_eq!(verifier.push_omitted(&broken), Err(ChainError::Hash { seq: 2 }));

    // A payload that is present is checked even on the omitted path.
    let mut verifier = ChainVerifier::new();
    verifier.push(&entries[0]).unwrap();
    let mut altered = entries[1].clone();
    altered.payload = Some("{}".into());
    assert_eq!(verifier.push_omitted(&altered), Err(ChainError::Payload { seq: 2 }));
}

#[test]
fn chain_errors_name_the_entry() {
    let cases = [
        (ChainError::Sequence { expected: 3, found: 4 }, "entry 4: expected entry 3 here"),
        (ChainError::Link { seq: 5 }, "entry 5: its `prev` does not match the hash of entry 4"),
        (ChainError::Hash { seq: 6 }, "entry 6: stored hash does not match its contents"),
        (ChainError::Payload { seq: 7 }, "entry 7: payload does not match its recorded SHA-256"),
        (
            ChainError::Encoding { seq: 8, reason: "x".into() },
            "entry 8: payload is not canonical: x",
        ),
        (
            ChainError::Unaccounted { seq: 9 },
            "entry 9: payload is missing and no disposition entry",
        ),
        (
            ChainError::Truncated { last: 10, expected: 12 },
            "chain ends at entry 10 but must reach entry 12",
        ),
    ];
    for (error, start) in cases {
        assert!(error.to_string().starts_with(start), "{error}");
    }
}

#[test]
fn hex_round_trips_and_rejects_malformed_digits() {
    let hash: Hash = core::array::from_fn(|i| u8::try_from(i * 8 + 1).unwrap());
    let text = hex(&hash);
    assert_eq!(text, "0109111921293139414951596169717981899199a1a9b1b9c1c9d1d9e1e9f1f9");
    assert_eq!(parse_hex(&text), Some(hash));
    assert_eq!(parse_hex(&text.to_uppercase()), Some(hash));
    assert_eq!(hex(&[]), "");
    assert_eq!(hex(&[0x00, 0xff, 0x0a]), "00ff0a");
    assert_eq!(parse_hex(&text[..62]), None);
    assert_eq!(parse_hex(&format!("{text}00")), None);
    assert_eq!(parse_hex(&format!("{}g", &text[..63])), None);
    assert_eq!(parse_hex(&format!("+{}", &text[..63])), None);
    assert_eq!(parse_hex(&format!("é{}", &text[..62])), None);
}

#[test]
fn entry_kinds_have_stable_names() {
    let names: Vec<&str> = EntryKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(
        names,
        ["item", "verdict", "disposition", "hold", "hold_release", "retention", "action"]
    );
    for kind in EntryKind::ALL {
        assert_eq!(kind.name().parse::<EntryKind>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.name());
    }
    assert_eq!("Item".parse::<EntryKind>(), Err("unknown entry kind `Item`".to_owned()));
}

/// A single change to one entry of a chain (or to its place in it).
#[derive(Debug, Clone, Copy)]
enum Mutation {
    Payload,
    DropPayload,
    RecordedAt,
    Kind,
    StoredHash,
    PayloadHash,
    Prev,
    Seq,
    Delete,
    Swap,
    Duplicate,
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Payload),
        Just(Mutation::DropPayload),
        Just(Mutation::RecordedAt),
        Just(Mutation::Kind),
        Just(Mutation::StoredHash),
        Just(Mutation::PayloadHash),
        Just(Mutation::Prev),
        Just(Mutation::Seq),
        Just(Mutation::Delete),
        Just(Mutation::Swap),
        Just(Mutation::Duplicate),
    ]
}

/// Where in the chain an error points.
fn error_position(error: &ChainError) -> u64 {
    match error {
        ChainError::Sequence { expected, .. } => *expected,
        ChainError::Truncated { expected, .. } => *expected,
        ChainError::Link { seq }
        | ChainError::Hash { seq }
        | ChainError::Payload { seq }
        | ChainError::Encoding { seq, .. }
        | ChainError::Unaccounted { seq } => *seq,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_single_change_is_caught_at_or_before_the_changed_entry(
        texts in prop::collection::vec("\\PC{0,12}", 2..10),
        kinds in prop::collection::vec(0usize..7, 10),
        pick in any::<prop::sample::Index>(),
        mutation in arb_mutation(),
        byte in 0usize..32,
        bit in 0u8..8,
        shift in 1u64..4,
    ) {
        let parts: Vec<(EntryKind, String)> = texts
            .iter()
            .zip(&kinds)
            // Dispositions would need payloads of their own shape; every other kind will do.
            .map(|(text, k)| (EntryKind::ALL[if *k == 2 { 0 } else { *k }], text.clone()))
            .collect();
        let mut entries = chain_of(&parts);
        prop_assert!(verify(&entries).is_ok());
        let n = entries.len();
        // Deleting or swapping needs an entry after the chosen one.
        let limit = if matches!(mutation, Mutation::Delete | Mutation::Swap) { n - 1 } else { n };
        let i = pick.index(limit);
        let seq = entries[i].seq;
        let mut position = seq;
        let flip = 1u8 << bit;
        match mutation {
            Mutation::Payload => {
                let text = format!("{}!", texts[i]);
                entries[i].payload = Some(canonical_json(&json!({"v": 1, "text": text})));
            }
            Mutation::DropPayload => entries[i].payload = None,
            Mutation::RecordedAt => entries[i].recorded_at = recorded(seq + 1000),
            Mutation::Kind => {
                let k = EntryKind::ALL.iter().position(|k| *k == entries[i].kind).unwrap();
                entries[i].kind = EntryKind::ALL[(k + 1 + byte % 6) % 7];
            }
            Mutation::StoredHash => entries[i].hash[byte] ^= flip,
            Mutation::PayloadHash => entries[i].payload_hash[byte] ^= flip,
            Mutation::Prev => entries[i].prev[byte] ^= flip,
            Mutation::Seq => entries[i].seq += shift,
            Mutation::Delete => {
                entries.remove(i);
            }
            Mutation::Swap => entries.swap(i, i + 1),
            Mutation::Duplicate => {
                let copy = entries[i].clone();
                entries.insert(i + 1, copy);
                position = seq + 1;
            }
        }
        match verify(&entries) {
            Ok(head) => prop_assert!(false, "{mutation:?} of entry {seq} went unnoticed (head {head:?})"),
            Err(error) => prop_assert!(
                error_position(&error) <= position,
                "{mutation:?} of entry {seq} reported later: {error}"
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

fn test_key(byte: u8) -> SigningKey {
    SigningKey::from_seed(&[byte; 32])
}

fn parse_hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn a_checkpoint_signs_the_documented_message() {
    let key = test_key(1);
    let head = build_chain(3)[2].hash;
    let checkpoint = key.checkpoint(3, head, "2026-03-01T10:00:00.000000Z".into());
    let message =
        format!("lifeguard-checkpoint-v1\n3\n{}\n2026-03-01T10:00:00.000000Z", hex(&head));
    assert_eq!(Checkpoint::message(3, &head, "2026-03-01T10:00:00.000000Z"), message);
    assert_eq!(checkpoint.seq, 3);
    assert_eq!(checkpoint.head, head);
    assert_eq!(checkpoint.key_id, key_id(&key.verifying_key()));
    // The signature is plain Ed25519 over the message bytes: any Ed25519 library verifies it.
    let public = ed25519_dalek::VerifyingKey::from_bytes(&key.verifying_key().to_bytes()).unwrap();
    let signature = ed25519_dalek::Signature::from_bytes(&checkpoint.signature);
    assert!(public.verify_strict(message.as_bytes(), &signature).is_ok());
    assert_eq!(checkpoint.verify(&key.verifying_key()), Ok(()));
    assert_eq!(checkpoint.verify_against(&key.verifying_key(), &head), Ok(()));
    // Deterministic: the same input signs to the same bytes.
    assert_eq!(key.checkpoint(3, head, "2026-03-01T10:00:00.000000Z".into()), checkpoint);
}

#[test]
fn a_checkpoint_by_another_key_is_refused() {
    let (signer, other) = (test_key(1), test_key(2));
    let checkpoint = signer.checkpoint(9, [5; 32], recorded(9));
    assert_eq!(
        checkpoint.verify(&other.verifying_key()),
        Err(CheckpointError::WrongKey {
            seq: 9,
            expected: key_id(&other.verifying_key()),
            found: key_id(&signer.verifying_key()),
        })
    );
    // Claiming the other key's id does not help: the signature is still the signer's.
    let mut relabelled = checkpoint.clone();
    relabelled.key_id = key_id(&other.verifying_key());
    assert_eq!(
        relabelled.verify(&other.verifying_key()),
        Err(CheckpointError::BadSignature { seq: 9 })
    );
}

#[test]
fn a_tampered_checkpoint_does_not_verify() {
    let key = test_key(3);
    let public = key.verifying_key();
    let checkpoint = key.checkpoint(7, [9; 32], "2026-03-01T10:00:00.000000Z".into());
    let mut head = checkpoint.clone();
    head.head[0] ^= 1;
    assert_eq!(head.verify(&public), Err(CheckpointError::BadSignature { seq: 7 }));
    let mut seq = checkpoint.clone();
    seq.seq = 8;
    assert_eq!(seq.verify(&public), Err(CheckpointError::BadSignature { seq: 8 }));
    let mut signed_at = checkpoint.clone();
    signed_at.signed_at = "2026-03-01T10:00:00.000001Z".into();
    assert_eq!(signed_at.verify(&public), Err(CheckpointError::BadSignature { seq: 7 }));
    for i in [0, 31, 32, 63] {
        let mut signature = checkpoint.clone();
        signature.signature[i] ^= 0x10;
        assert_eq!(
            signature.verify(&public),
            Err(CheckpointError::BadSignature { seq: 7 }),
            "byte {i}"
        );
    }
    assert_eq!(
        checkpoint.verify_against(&public, &[8; 32]),
        Err(CheckpointError::HeadMismatch { seq: 7 })
    );
    // A bad signature is reported before a head mismatch.
    assert_eq!(
        head.verify_against(&public, &[8; 32]),
        Err(CheckpointError::BadSignature { seq: 7 })
    );
}

#[test]
fn rewriting_history_passes_the_chain_but_not_the_checkpoint() {
    let key = test_key(4);
    let entries = build_chain(6);
    let checkpoint = key.checkpoint(6, entries[5].hash, recorded(7));
    // Rewrite entry 2 and recompute every hash after it: a consistent chain again.
    let mut rewritten: Vec<Entry> = Vec::new();
    for entry in &entries {
        let prev = rewritten.last().map(|e| (e.seq, e.hash));
        let payload = if entry.seq == 2 {
            canonical_json(&json!({"v": 1, "text": "nothing happened"}))
        } else {
            entry.payload.clone().unwrap()
        };
        rewritten.push(Entry::next(prev, entry.kind, entry.recorded_at.clone(), payload));
    }
    let (seq, head) = verify(&rewritten).unwrap().unwrap();
    assert_eq!(seq, 6);
    assert_eq!(
        checkpoint.verify_against(&key.verifying_key(), &head),
        Err(CheckpointError::HeadMismatch { seq: 6 })
    );
}

#[test]
fn a_truncated_chain_fails_its_checkpoint() {
    let key = test_key(5);
    let entries = build_chain(6);
    let checkpoint = key.checkpoint(6, entries[5].hash, recorded(7));
    let (last, head) = verify(&entries[..4]).unwrap().unwrap();
    assert!(last < checkpoint.seq, "the verifier's caller reports ChainError::Truncated");
    let error = ChainError::Truncated { last, expected: checkpoint.seq };
    assert_eq!(error.to_string(), "chain ends at entry 4 but must reach entry 6");
    assert_eq!(
        checkpoint.verify_against(&key.verifying_key(), &head),
        Err(CheckpointError::HeadMismatch { seq: 6 })
    );
}

#[test]
fn verifying_keys_round_trip_through_hex_and_bytes() {
    let key = test_key(6);
    let public = key.verifying_key();
    let text = public.to_hex();
    assert_eq!(text.len(), 64);
    assert_eq!(text, text.to_lowercase());
    assert_eq!(VerifyingKey::from_hex(&text), Ok(public));
    assert_eq!(VerifyingKey::from_hex(&format!("  {}\n", text.to_uppercase())), Ok(public));
    assert_eq!(VerifyingKey::from_bytes(&public.to_bytes()), Ok(public));
    assert_eq!(SigningKey::from_seed(&key.seed()).verifying_key(), public);
    assert_eq!(key.seed(), [6; 32]);
    assert_eq!(VerifyingKey::from_hex(&text[..63]), Err(CheckpointError::BadKey));
    assert_eq!(VerifyingKey::from_hex("zz"), Err(CheckpointError::BadKey));
    // y = 2 is not the y coordinate of any point of the curve.
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2;
    assert_eq!(VerifyingKey::from_bytes(&not_a_point), Err(CheckpointError::BadKey));
    assert_eq!(format!("{key:?}"), "SigningKey(…)");
}

#[test]
fn key_id_is_the_first_sixteen_hex_digits_of_the_keys_sha256() {
    let public = test_key(7).verifying_key();
    let digest = hex(&Sha256::digest(public.to_bytes()));
    assert_eq!(key_id(&public), digest[..16]);
    assert_ne!(key_id(&public), key_id(&test_key(8).verifying_key()));
}

/// RFC 8032, section 7.1 ("Test Vectors for Ed25519"), TEST 1 to TEST 3: the keys derive
/// from their seeds and sign to the published signatures, so [`SigningKey::from_seed`] is
/// standard Ed25519 and any RFC 8032 verifier can check the archive's checkpoints.
#[test]
fn ed25519_matches_the_rfc_8032_test_vectors() {
    let vectors = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];
    for (secret, public, message, signature) in vectors {
        let seed: [u8; 32] = parse_hex(secret).unwrap();
        let key = SigningKey::from_seed(&seed);
        assert_eq!(key.verifying_key().to_hex(), public);
        let message = parse_hex_bytes(message);
        let dalek = ed25519_dalek::SigningKey::from_bytes(&seed);
        let signed = ed25519_dalek::Signer::sign(&dalek, &message);
        assert_eq!(hex(&signed.to_bytes()), signature);
        let verifying =
            ed25519_dalek::VerifyingKey::from_bytes(&key.verifying_key().to_bytes()).unwrap();
        assert!(verifying.verify_strict(&message, &signed).is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn checkpoints_verify_and_any_flipped_signature_bit_fails(
        seed in any::<[u8; 32]>(),
        seq in 1u64..u64::MAX,
        head in any::<[u8; 32]>(),
        micros in 0i64..4_102_444_800_000_000,
        bit in 0usize..512,
    ) {
        let key = SigningKey::from_seed(&seed);
        let signed_at = format_time(Timestamp::from_microsecond(micros).unwrap());
        let checkpoint = key.checkpoint(seq, head, signed_at);
        prop_assert_eq!(checkpoint.verify_against(&key.verifying_key(), &head), Ok(()));
        let mut flipped = checkpoint.clone();
        flipped.signature[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(flipped.verify(&key.verifying_key()), Err(CheckpointError::BadSignature { seq }));
    }
}

// ---------------------------------------------------------------------------------------------
// Items and verdicts
// ---------------------------------------------------------------------------------------------

fn full_item_json() -> Value {
    json!({
        "platform": "Mastodon",
        "account": "@acme@social.example",
        "external_id": "109876",
        "kind": "reply",
        "author": "@jane@social.example",
        "author_type": "corporate",
        "text": "Thanks, \"Bob\"! See https://acme.example/a\n😀",
        "links": ["https://acme.example/a", "https://acme.example/b"],
        "media": [
            {"name": "chart.png", "type": "image/png", "size": 2048, "sha256": "AB".repeat(32)},
            {"name": "clip.mp4"},
        ],
        "created_at": "2026-02-28T23:30:00.1234567+02:00",
        "captured_at": "2026-03-01T08:00:00Z",
        "parent": 109875,
        "change": "edit",
        "revises": 41,
        "raw": "{\"id\":109876}",
    })
}

#[test]
fn an_item_reads_every_field() {
    let item = Item::from_json(&full_item_json(), ts("2030-01-01T00:00:00Z")).unwrap();
    assert_eq!(item.platform, "mastodon", "platforms are lowercased");
    assert_eq!(item.account, "@acme@social.example");
    assert_eq!(item.external_id, "109876");
    assert_eq!(item.kind, ContentKind::Reply);
    assert_eq!(item.author, "@jane@social.example");
    assert_eq!(item.author_type, AuthorType::Corporate);
    assert_eq!(item.text, "Thanks, \"Bob\"! See https://acme.example/a\n😀");
    assert_eq!(item.links, ["https://acme.example/a", "https://acme.example/b"]);
    assert_eq!(
        item.media,
        [
            Media {
                name: "chart.png".into(),
                media_type: Some("image/png".into()),
                size: Some(2048),
                sha256: Some("ab".repeat(32)),
            },
            Media { name: "clip.mp4".into(), ..Media::default() },
        ]
    );
    // Converted to UTC and truncated to microseconds.
    assert_eq!(item.created_at, Some(ts("2026-02-28T21:30:00.123456Z")));
    assert_eq!(item.captured_at, ts("2026-03-01T08:00:00Z"), "the item's own capture time wins");
    assert_eq!(item.parent.as_deref(), Some("109875"), "numeric ids are read as text");
    assert_eq!(item.change, Change::Edit);
    assert_eq!(item.revises, Some(41));
    assert_eq!(item.raw.as_deref(), Some("{\"id\":109876}"));
    let post = item.post();
    assert_eq!(
        (post.text, post.kind, post.author, post.platform),
        (item.text.as_str(), ContentKind::Reply, AuthorType::Corporate, Some("mastodon"))
    );
}

#[test]
fn a_minimal_item_takes_the_defaults() {
    let captured = ts("2026-03-01T08:00:00Z");
    let item =
        Item::from_json(&json!({"platform": "x", "external_id": 1_234_567_890_123_u64}), captured)
            .unwrap();
    assert_eq!(item, Item::new("x", "1234567890123", "", captured));
    assert_eq!(item.kind, ContentKind::Post);
    assert_eq!(item.author_type, AuthorType::Employee);
    assert_eq!(item.change, Change::Original);
    assert_eq!(Change::default(), Change::Original);
    // Nulls are the same as absent fields.
    let nulls = json!({"platform": "x", "external_id": "1", "text": null, "links": null, "media": null,
                       "created_at": null, "revises": null, "kind": null});
    assert_eq!(Item::from_json(&nulls, captured).unwrap(), Item::new("x", "1", "", captured));
    let negative = json!({"platform": "x", "external_id": -5});
    assert_eq!(Item::from_json(&negative, captured).unwrap().external_id, "-5");
}

/// The field an item import error names, and its message.
fn item_error(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> (String, String) {
    let mut value = full_item_json();
    change(value.as_object_mut().unwrap());
    let error = Item::from_json(&value, ts("2026-03-01T08:00:00Z")).unwrap_err();
    (error.field, error.message)
}

#[test]
fn item_errors_name_the_field() {
    let field = |change: fn(&mut serde_json::Map<String, Value>)| item_error(change).0;
    assert_eq!(field(|o| drop(o.remove("platform"))), "platform");
    assert_eq!(field(|o| drop(o.insert("platform".into(), json!("  ")))), "platform");
    assert_eq!(field(|o| drop(o.insert("platform".into(), json!(["x"])))), "platform");
    assert_eq!(field(|o| drop(o.remove("external_id"))), "external_id");
    assert_eq!(field(|o| drop(o.insert("external_id".into(), json!(1.5)))), "external_id");
    assert_eq!(field(|o| drop(o.insert("text".into(), json!(true)))), "text");
    assert_eq!(field(|o| drop(o.insert("author_type".into(), json!("robot")))), "author_type");
    assert_eq!(field(|o| drop(o.insert("captured_at".into(), json!("now")))), "captured_at");
    assert_eq!(field(|o| drop(o.insert("change".into(), json!("undo")))), "change");
    assert_eq!(field(|o| drop(o.insert("revises".into(), json!("41")))), "revises");
    assert_eq!(field(|o| drop(o.insert("links".into(), json!("https://a.example")))), "links");
    assert_eq!(field(|o| drop(o.insert("media".into(), json!({"name": "a"})))), "media");
    assert_eq!(field(|o| drop(o.insert("media".into(), json!(["a.png"])))), "media[0]");
    assert_eq!(
        field(|o| drop(o.insert("media".into(), json!([{"name": "a"}, {"type": "image/png"}])))),
        "media[1].name"
    );
    assert_eq!(field(|o| drop(o.insert("media".into(), json!([{"name": 5.5}])))), "media[0].name");
    assert_eq!(
        field(|o| drop(o.insert("media".into(), json!([{"name": "a", "size": -1}])))),
        "media[0].size"
    );
    assert_eq!(
        field(|o| drop(o.insert("media".into(), json!([{"name": "a", "type": []}])))),
        "media[0].type"
    );
    // Names are filter columns in both databases, and PostgreSQL text cannot hold NUL.
    for name in ["platform", "account", "external_id", "author", "parent"] {
        let (field, message) = item_error(|o| drop(o.insert(name.into(), json!("a\u{0}b"))));
        assert_eq!((field.as_str(), message.as_str()), (name, "must not contain a NUL character"));
    }

    let (field, message) = item_error(|o| drop(o.insert("kind".into(), json!("tweet"))));
    assert_eq!(field, "kind");
    assert!(message.contains("`tweet`") && message.contains("post"), "{message}");
    let (field, message) = item_error(|o| drop(o.insert("created_at".into(), json!("yesterday"))));
    assert_eq!(field, "created_at");
    assert!(message.contains("RFC 3339"), "{message}");
    let (field, message) =
        item_error(|o| drop(o.insert("links".into(), json!(["https://a.example", 7]))));
    assert_eq!((field.as_str(), message.as_str()), ("links[1]", "expected a string"));
    let (field, message) = item_error(|o| {
        drop(o.insert("media".into(), json!([{"name": "a", "sha256": "not a digest"}])))
    });
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("media[0].sha256", "expected 64 hexadecimal digits")
    );
    let (field, message) = item_error(|o| {
        o.insert("change".into(), json!("original"));
    });
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("revises", "only edits and deletions revise an entry")
    );

    let error =
        Item::from_json(&json!(["not", "an", "object"]), ts("2026-03-01T08:00:00Z")).unwrap_err();
    assert_eq!(error.to_string(), "field `(line)`: expected a JSON object");
    let error =
        Item::from_json(&json!({"external_id": "1"}), ts("2026-03-01T08:00:00Z")).unwrap_err();
    assert_eq!(error.to_string(), "field `platform`: required");
}

#[test]
fn item_limits_are_enforced_at_the_boundary() {
    let captured = ts("2026-03-01T08:00:00Z");
    let base = Item::new("x", "1", "", captured);
    let check = |change: &dyn Fn(&mut Item)| {
        let mut item = base.clone();
        change(&mut item);
        item.validate().map_err(|e| e.field)
    };
    assert_eq!(check(&|i| i.text = "a".repeat(MAX_TEXT)), Ok(()));
    assert_eq!(check(&|i| i.text = "a".repeat(MAX_TEXT + 1)), Err("text".into()));
    assert_eq!(check(&|i| i.platform = "p".repeat(MAX_PLATFORM)), Ok(()));
    assert_eq!(check(&|i| i.platform = "p".repeat(MAX_PLATFORM + 1)), Err("platform".into()));
    assert_eq!(check(&|i| i.account = "a".repeat(MAX_NAME + 1)), Err("account".into()));
    assert_eq!(check(&|i| i.external_id = "1".repeat(MAX_NAME + 1)), Err("external_id".into()));
    assert_eq!(check(&|i| i.author = "a".repeat(MAX_NAME)), Ok(()));
    assert_eq!(check(&|i| i.author = "a".repeat(MAX_NAME + 1)), Err("author".into()));
    assert_eq!(check(&|i| i.parent = Some("1".repeat(MAX_NAME + 1))), Err("parent".into()));
    assert_eq!(check(&|i| i.links = vec![String::new(); MAX_LINKS]), Ok(()));
    assert_eq!(check(&|i| i.links = vec![String::new(); MAX_LINKS + 1]), Err("links".into()));
    assert_eq!(check(&|i| i.media = vec![Media::default(); MAX_MEDIA + 1]), Err("media".into()));
    assert_eq!(check(&|i| i.raw = Some("r".repeat(MAX_RAW + 1))), Err("raw".into()));
    assert_eq!(check(&|i| i.external_id = " ".into()), Err("external_id".into()));

    // The import path reports the same limits.
    let long = json!({"platform": "x", "external_id": "1", "text": "a".repeat(MAX_TEXT + 1)});
    let error = Item::from_json(&long, captured).unwrap_err();
    assert_eq!(error.to_string(), format!("field `text`: longer than {MAX_TEXT} bytes"));
}

#[test]
fn an_items_payload_is_canonical_and_exact() {
    let item = Item::from_json(&full_item_json(), ts("2030-01-01T00:00:00Z")).unwrap();
    let payload = item.payload();
    assert_eq!(
        payload,
        concat!(
            r#"{"account":"@acme@social.example","author":"@jane@social.example","author_type":"corporate","#,
            r#""captured_at":"2026-03-01T08:00:00.000000Z","change":"edit","created_at":"2026-02-28T21:30:00.123456Z","#,
            r#""external_id":"109876","kind":"reply","links":["https://acme.example/a","https://acme.example/b"],"#,
            r#""media":[{"name":"chart.png","sha256":"abababababababababababababababababababababababababababababababab","size":2048,"type":"image/png"},"#,
            r#"{"name":"clip.mp4","sha256":null,"size":null,"type":null}],"parent":"109875","platform":"mastodon","#,
            r#""raw":"{\"id\":109876}","revises":41,"#,
            r#""text":"Thanks, \"Bob\"! See https://acme.example/a\n😀","v":1}"#
        )
    );
    assert!(parse_canonical(&payload).is_ok());
    assert_eq!(item.payload(), payload, "stable");
}

#[test]
fn an_items_payload_reads_back_as_the_same_item() {
    let item = Item::from_json(&full_item_json(), ts("2030-01-01T00:00:00Z")).unwrap();
    let value = parse_canonical(&item.payload()).unwrap();
    assert_eq!(Item::from_json(&value, ts("2031-01-01T00:00:00Z")).unwrap(), item);
    let plain = Item::new("x", "7", "plain", ts("2026-03-01T08:00:00.5Z"));
    let value = parse_canonical(&plain.payload()).unwrap();
    assert_eq!(Item::from_json(&value, ts("2031-01-01T00:00:00Z")).unwrap(), plain);
}

#[test]
fn the_version_digest_covers_content_not_capture_details() {
    let item = Item::from_json(&full_item_json(), ts("2030-01-01T00:00:00Z")).unwrap();
    let digest = item.version_digest();
    let same = |change: &dyn Fn(&mut Item)| {
        let mut other = item.clone();
        change(&mut other);
        other.version_digest() == digest
    };
    assert!(same(&|i| i.captured_at = ts("2031-05-05T00:00:00Z")));
    assert!(same(&|i| i.raw = None));
    assert!(same(&|i| i.revises = Some(99)));
    assert!(same(&|i| i.revises = None));
    assert!(!same(&|i| i.text.push('!')));
    assert!(!same(&|i| i.links.pop().map_or((), drop)));
    assert!(!same(&|i| i.author = "@bob@social.example".into()));
    assert!(!same(&|i| i.created_at = None));
    assert!(!same(&|i| i.media[1].size = Some(1)));
    assert!(!same(&|i| i.change = Change::Deletion));
    // Whether a version is an original or an edit is the archive's call, not the content's.
    assert!(same(&|i| {
        i.change = Change::Original;
        i.revises = None;
    }));
}

#[test]
fn times_are_written_in_one_fixed_width_utc_form() {
    assert_eq!(format_time(ts("2026-03-01T08:00:00Z")), "2026-03-01T08:00:00.000000Z");
    assert_eq!(format_time(ts("2026-03-01T08:00:00.5+01:00")), "2026-03-01T07:00:00.500000Z");
    assert_eq!(format_time(ts("2026-03-01T08:00:00.123456789Z")), "2026-03-01T08:00:00.123456Z");
    assert_eq!(format_time(ts("0001-01-01T00:00:00Z")), "0001-01-01T00:00:00.000000Z");
    assert_eq!(
        parse_time("2026-03-01T08:00:00.1234567-05:00"),
        Ok(ts("2026-03-01T13:00:00.123456Z"))
    );
    assert_eq!(parse_time("2026-03-01t08:00:00z"), Ok(ts("2026-03-01T08:00:00Z")));
    // Truncated towards the past on both sides of 1970, the way `format_time` writes it.
    for text in [
        "1969-12-31T23:59:59.9999999Z",
        "0999-12-31T23:59:59.1234567Z",
        "1969-12-31T23:59:59.5Z",
        "2026-03-01T08:00:00.0000009Z",
    ] {
        let parsed = parse_time(text).unwrap();
        assert_eq!(parsed, ts(&format_time(ts(text))), "{text}");
        assert_eq!(format_time(parsed), format_time(ts(text)), "{text}");
    }
    assert_eq!(parse_time("1969-12-31T23:59:59.9999999Z"), Ok(ts("1969-12-31T23:59:59.999999Z")));
    for bad in ["2026-03-01", "2026-03-01T08:00:00", "yesterday", "", "2026-02-30T00:00:00Z"] {
        let error = parse_time(bad).unwrap_err();
        assert!(error.starts_with("not an RFC 3339 time"), "{bad}: {error}");
    }
    // Fixed width: the texts sort as the times do.
    let times = [
        "1999-12-31T23:59:59.999999Z",
        "2000-01-01T00:00:00Z",
        "2000-01-01T00:00:00.000001Z",
        "2026-03-01T08:00:00Z",
    ];
    let written: Vec<String> = times.iter().map(|t| format_time(ts(t))).collect();
    assert!(written.windows(2).all(|w| w[0] < w[1]), "{written:?}");
    assert!(written.iter().all(|w| w.len() == 27));
}

/// The engine compiled from the built-in policy.
fn default_engine() -> crate::Engine {
    let files = crate::policy::MemoryFiles::new(crate::default_policy::TERM_FILES.iter().copied());
    let loaded = crate::policy::load("policy.md", crate::default_policy::POLICY, &files);
    loaded.engine.expect("the default policy compiles")
}

#[test]
fn a_verdict_payload_records_the_policy_and_every_finding() {
    let engine = default_engine();
    let item = Item::new(
        "x",
        "1",
        "Damn, email jane.doe@example.com for the slides",
        ts("2026-03-01T08:00:00Z"),
    );
    let verdict = engine.check(&item.post());
    assert!(verdict.findings.len() >= 2, "{:?}", verdict.findings);
    let (payload, record) = verdict_payload(7, &verdict);
    let value = parse_canonical(&payload).unwrap();
    let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["action", "findings", "item", "policy", "v"]);
    assert_eq!(value["v"], json!(1));
    assert_eq!(value["item"], json!(7));
    let stamp = engine.stamp();
    assert_eq!(
        value["policy"],
        json!({"id": "acme-social", "version": stamp.version, "sha256": stamp.hash})
    );
    assert_eq!(value["action"], json!("block"));
    let findings = value["findings"].as_array().unwrap();
    assert_eq!(findings.len(), verdict.findings.len());
    for (written, finding) in findings.iter().zip(&verdict.findings) {
        assert_eq!(
            written,
            &json!({
                "rule": finding.rule.id,
                "clause": finding.rule.clause,
                "category": finding.rule.category,
                "severity": finding.rule.severity.name(),
                "action": finding.action().name(),
                "start": finding.start,
                "end": finding.end,
                "match": finding.matched,
            })
        );
    }
    let mild = findings.iter().find(|f| f["rule"] == "OFF-MILD").expect("a finding for `Damn`");
    assert_eq!(
        (&mild["match"], &mild["start"], &mild["end"], &mild["action"], &mild["severity"]),
        (&json!("Damn"), &json!(0), &json!(4), &json!("flag"), &json!("low"))
    );
    assert!(
        findings.iter().any(|f| f["rule"] == "PD-CONTACT" && f["match"] == "jane.doe@example.com")
    );

    assert_eq!(record.item, 7);
    assert_eq!(record.policy_id, "acme-social");
    assert_eq!(record.policy_version, stamp.version);
    assert_eq!(record.policy_sha256, stamp.hash);
    assert_eq!(record.action, "block");
    assert_eq!(record.findings, verdict.findings.len());
    assert!(record.categories.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    assert!(record.rules.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    assert!(record.categories.contains(&"offensive".to_owned()));
    assert!(record.categories.contains(&"personal_data".to_owned()));
    assert!(
        record.rules.contains(&"OFF-MILD".to_owned())
            && record.rules.contains(&"PD-CONTACT".to_owned())
    );
    assert_eq!(verdict_payload(7, &verdict).0, payload, "stable");
}

#[test]
fn a_clean_post_has_an_allow_verdict_payload() {
    let engine = default_engine();
    let verdict = engine.check(
        &Item::new("x", "2", "Our new office opens on Monday.", ts("2026-03-01T08:00:00Z")).post(),
    );
    let (payload, record) = verdict_payload(3, &verdict);
    let stamp = engine.stamp();
    assert_eq!(
        payload,
        format!(
            r#"{{"action":"allow","findings":[],"item":3,"policy":{{"id":"acme-social","sha256":"{}","version":"{}"}},"v":1}}"#,
            stamp.hash, stamp.version
        )
    );
    assert_eq!((record.action.as_str(), record.findings), ("allow", 0));
    assert!(record.categories.is_empty() && record.rules.is_empty());
}

#[test]
fn a_verdict_template_fills_in_any_entry_number_canonically() {
    let engine = default_engine();
    let verdict = engine.check(
        &Item::new(
            "x",
            "3",
            r#"Damn, "item":0, email jane.doe@example.com ünïcödé"#,
            ts("2026-03-01T08:00:00Z"),
        )
        .post(),
    );
    assert!(!verdict.findings.is_empty());
    let template = VerdictTemplate::new(&verdict);
    for item in [0, 1, 12_345, u64::MAX] {
        let payload = template.payload(item);
        // Canonical: parsing it strictly and writing it again gives the same bytes.
        let value = parse_canonical(&payload).unwrap_or_else(|err| panic!("{payload}: {err}"));
        assert_eq!(canonical_json(&value), payload);
        assert_eq!(value["item"], json!(item));
        assert_eq!(value["findings"].as_array().map(Vec::len), Some(verdict.findings.len()));
        assert_eq!(verdict_payload(item, &verdict).0, payload);
    }
}

// ---------------------------------------------------------------------------------------------
// Search queries
// ---------------------------------------------------------------------------------------------

fn word(w: &str) -> Term {
    Term::Word(w.into())
}

fn phrase(words: &[&str]) -> Term {
    Term::Phrase(words.iter().map(|w| (*w).to_owned()).collect())
}

fn terms(text: &str) -> Vec<Term> {
    Query::parse(text).unwrap().terms().to_vec()
}

#[test]
fn queries_parse_words_phrases_and_prefixes() {
    assert_eq!(terms("Merger LUNCH"), [word("merger"), word("lunch")]);
    assert_eq!(terms("  merger\t lunch \n"), [word("merger"), word("lunch")]);
    assert_eq!(
        terms("\"big returns\" guarantee"),
        [phrase(&["big", "returns"]), word("guarantee")]
    );
    assert_eq!(terms("\"merger\""), [word("merger")], "a quoted single word is a word");
    assert_eq!(terms("\"\" \"  ...\" x"), [word("x")], "empty quotes add nothing");
    assert_eq!(terms("guarant*"), [Term::Prefix("guarant".into())]);
    assert_eq!(terms("GUAR* x"), [Term::Prefix("guar".into()), word("x")]);
    assert_eq!(terms("e-mai*"), [word("e"), Term::Prefix("mai".into())]);

    assert_eq!(terms("a\"b c\"d"), [word("a"), phrase(&["b", "c"]), word("d")]);
    assert!(Query::parse("").unwrap().is_empty());
    assert!(Query::parse("   ").unwrap().is_empty());
    assert!(!Query::parse("x").unwrap().is_empty());
    // Nothing but symbols would match every item: refused, not read as "everything".
    for nothing in ["  !!! -- ", "*", "🚀", "\"...\""] {
        let error = Query::parse(nothing).unwrap_err();
        assert!(error.to_string().contains("no words to search for"), "{nothing:?}: {error}");
    }
}

#[test]
fn a_final_sigma_matches_either_way_the_text_was_written() {
    let capitals = "Ο ΣΊΣΥΦΟΣ ήταν εδώ";
    let lower = "ο σίσυφος ήταν εδώ";
    for query in ["σισυφος", "ΣΙΣΥΦΟΣ", "σισυφοσ", "\"ο σισυφος\"", "σισυ*"]
    {
        let query = Query::parse(query).unwrap();
        assert!(query.matches(capitals), "{query:?} in {capitals}");
        assert!(query.matches(lower), "{query:?} in {lower}");
    }
    assert!(!Query::parse("σισυφοι").unwrap().matches(capitals));
}

#[test]
fn punctuation_inside_a_word_makes_a_phrase() {
    assert_eq!(terms("e-mail"), [phrase(&["e", "mail"])]);
    assert_eq!(terms("don't"), [phrase(&["don", "t"])]);
    assert_eq!(terms("acme.example"), [phrase(&["acme", "example"])]);
    assert_eq!(terms("hello, world."), [word("hello"), word("world")]);
    assert_eq!(terms("#launch @acme"), [word("launch"), word("acme")]);
}

#[test]
fn an_unclosed_quote_reports_its_column() {
    let error = Query::parse("merger \"big returns").unwrap_err();
    assert_eq!(error.column, 8);
    assert_eq!(error.to_string(), "query column 8: this quote is never closed");
    // Columns count characters, not bytes.
    assert_eq!(Query::parse("café \"x").unwrap_err().column, 6);
    assert_eq!(Query::parse("\"a\" \"b").unwrap_err().column, 5);
    assert_eq!(Query::parse("\"").unwrap_err().column, 1);
}

#[test]
fn queries_are_limited_in_length_and_terms() {
    let long = "a".repeat(MAX_QUERY);
    assert_eq!(terms(&long), [word(&long)]);
    let error = Query::parse(&"a".repeat(MAX_QUERY + 1)).unwrap_err();
    assert_eq!((error.column, error.message), (1, format!("longer than {MAX_QUERY} bytes")));
    let words = |n: usize| (0..n).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
    assert_eq!(Query::parse(&words(MAX_TERMS)).unwrap().terms().len(), MAX_TERMS);
    let error = Query::parse(&words(MAX_TERMS + 1)).unwrap_err();
    assert_eq!(error.message, format!("more than {MAX_TERMS} terms"));
    // A phrase is one term however many words it has.
    let phrase_of_many = format!("\"{}\"", words(MAX_TERMS * 2));
    assert_eq!(Query::parse(&phrase_of_many).unwrap().terms().len(), 1);
}

#[test]
fn tokens_fold_case_accents_and_compatibility_forms() {
    assert_eq!(tokens("Hello, World! e-mail 42x"), ["hello", "world", "e", "mail", "42x"]);
    assert_eq!(tokens("Crème Brûlée à GOGO"), ["creme", "brulee", "a", "gogo"]);
    assert_eq!(tokens("ÉCOLE naïve_user"), ["ecole", "naive", "user"]);
    assert_eq!(tokens("ﬁne ＡＣＭＥ ①"), ["fine", "acme", "1"]);
    assert_eq!(tokens("Straße Ωmega"), ["straße", "ωmega"]);
    assert_eq!(tokens("日本語 テキスト"), ["日本語", "テキスト"]);
    assert_eq!(tokens("emoji😀between"), ["emoji", "between"]);
    assert_eq!(tokens(""), Vec::<String>::new());
    assert_eq!(tokens(" --- "), Vec::<String>::new());
}

#[test]
fn queries_match_by_the_index_rules() {
    let q = |text: &str| Query::parse(text).unwrap();
    assert!(q("merger").matches("Talks about the MERGER went well"));
    assert!(!q("merge").matches("Talks about the merger"), "whole words only");
    assert!(q("merge*").matches("Talks about the merger"));
    assert!(q("cafe").matches("Meet at the Café"));
    assert!(q("CAFÉ").matches("meet at the cafe"));
    assert!(q("merger lunch").matches("lunch, then merger talk"), "every term, any order");
    assert!(!q("merger lunch").matches("merger talk"));
    assert!(q("\"big returns\"").matches("Big returns guaranteed"));
    assert!(!q("\"big returns\"").matches("returns big"), "phrases keep their order");
    assert!(!q("\"big returns\"").matches("big fat returns"), "phrases keep their words together");
    assert!(q("e-mail").matches("send an E-Mail"));
    assert!(q("e-mail").matches("e mail"));
    assert!(!q("e-mail").matches("email"));
    assert!(q("\"jane doe\"").matches("jane.doe@example.com"));
    assert!(q("").matches("anything"));
    assert!(q("").matches(""));
    assert!(!q("x").matches(""));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsing_any_query_never_panics_and_yields_no_empty_terms(text in "\\PC{0,60}|[a-z\" *\\-.]{0,40}") {
        if let Ok(query) = Query::parse(&text) {
            for term in query.terms() {
                match term {
                    Term::Word(w) | Term::Prefix(w) => prop_assert!(!w.is_empty()),
                    Term::Phrase(words) => {
                        prop_assert!(words.len() > 1);
                        prop_assert!(words.iter().all(|w| !w.is_empty()));
                    }
                }
            }
        }
    }

    #[test]
    fn a_text_matches_a_phrase_of_its_own_words(text in "\\PC{0,60}", cut in any::<prop::sample::Index>()) {
        let words = tokens(&text);
        prop_assume!(!words.is_empty());
        let start = cut.index(words.len());
        let quoted = format!("\"{}\"", words[start..].join(" "));
        prop_assume!(quoted.len() <= MAX_QUERY);
        let query = Query::parse(&quoted).unwrap();
        prop_assert!(query.matches(&text), "{quoted} against {text:?}");
    }

    #[test]
    fn the_ascii_and_unicode_lanes_agree(text in "[ -~\\t\\n]{0,60}") {
        // Appending a non-ASCII word sends the text down the Unicode lane.
        let mut expected = tokens(&text);
        expected.push("e".to_owned());
        prop_assert_eq!(tokens(&format!("{text} é")), expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Retention and legal holds
// ---------------------------------------------------------------------------------------------

fn keep(years: u16, months: u16, days: u32) -> Keep {
    Keep { years, months, days }
}

#[test]
fn retention_periods_parse_in_every_documented_form() {
    let cases = [
        ("6y", keep(6, 0, 0)),
        ("6 years", keep(6, 0, 0)),
        ("1 year", keep(1, 0, 0)),
        ("P6Y", keep(6, 0, 0)),
        ("  P6Y\n", keep(6, 0, 0)),
        ("18mo", keep(0, 18, 0)),
        ("18 months", keep(0, 18, 0)),
        ("P18M", keep(0, 18, 0)),
        ("90d", keep(0, 0, 90)),
        ("90 days", keep(0, 0, 90)),
        ("P90D", keep(0, 0, 90)),
        ("2w", keep(0, 0, 14)),
        ("P2W", keep(0, 0, 14)),
        ("1w 3d", keep(0, 0, 10)),
        ("1y 6mo", keep(1, 6, 0)),
        ("1 year, 6 months", keep(1, 6, 0)),
        ("P1Y6M10D", keep(1, 6, 10)),
        ("200y", keep(200, 0, 0)),
        ("0d", keep(0, 0, 0)),
    ];
    for (text, expected) in cases {
        assert_eq!(Keep::parse(text), Ok(expected), "{text:?}");
    }
}

#[test]
fn retention_periods_refuse_negative_spans_and_clock_units() {
    let cases = [
        ("-6y", "cannot be negative"),
        ("6y ago", "cannot be negative"),
        ("-P1D", "cannot be negative"),
        ("5h", "years, months, weeks or days"),
        ("1d 1h", "years, months, weeks or days"),
        ("P1DT2H", "years, months, weeks or days"),
        ("30 minutes", "years, months, weeks or days"),
        ("10s", "years, months, weeks or days"),
        ("201y", "more than 200 years"),
        ("", "is not a period"),
        ("soon", "is not a period"),
        ("1.5y", "is not a period"),
        ("6", "is not a period"),
    ];
    for (text, message) in cases {
        let error = Keep::parse(text).unwrap_err();
        assert!(error.to_string().contains(message), "{text:?}: {error}");
        assert!(error.to_string().contains(&format!("`{text}`")), "{text:?} is quoted: {error}");
    }
}

#[test]
fn retention_periods_are_stored_in_iso_8601() {
    assert_eq!(keep(6, 0, 0).iso(), "P6Y");
    assert_eq!(keep(0, 18, 0).iso(), "P18M");
    assert_eq!(keep(0, 0, 90).iso(), "P90D");
    assert_eq!(keep(1, 6, 10).iso(), "P1Y6M10D");
    assert_eq!(keep(0, 0, 0).iso(), "P0D");
    for period in [
        keep(6, 0, 0),
        keep(0, 18, 0),
        keep(0, 0, 90),
        keep(1, 6, 10),
        keep(0, 0, 0),
        keep(200, 11, 400),
    ] {
        assert_eq!(Keep::parse(&period.iso()), Ok(period), "{}", period.iso());
    }
}

#[test]
fn retention_counts_calendar_years_months_and_days() {
    // Six years from a leap day end on the last day of February.
    assert_eq!(
        keep(6, 0, 0).expires(ts("2024-02-29T10:15:00.5Z")),
        Some(ts("2030-02-28T10:15:00.5Z"))
    );
    assert_eq!(keep(4, 0, 0).expires(ts("2024-02-29T10:15:00Z")), Some(ts("2028-02-29T10:15:00Z")));
    assert_eq!(keep(0, 1, 0).expires(ts("2026-01-31T00:00:00Z")), Some(ts("2026-02-28T00:00:00Z")));
    assert_eq!(
        keep(0, 18, 0).expires(ts("2026-08-31T23:00:00Z")),
        Some(ts("2028-02-29T23:00:00Z"))
    );
    assert_eq!(
        keep(0, 0, 90).expires(ts("2026-01-01T00:00:00Z")),
        Some(ts("2026-04-01T00:00:00Z"))
    );
    assert_eq!(keep(1, 1, 1).expires(ts("2026-01-31T00:00:00Z")), Some(ts("2027-03-01T00:00:00Z")));
    assert_eq!(keep(0, 0, 0).expires(ts("2026-01-01T00:00:00Z")), Some(ts("2026-01-01T00:00:00Z")));
    assert_eq!(keep(200, 0, 0).expires(ts("9900-01-01T00:00:00Z")), None, "beyond the calendar");
}

const PEOPLE: [&str; 3] = ["alice", "Bob", "carol"];
const PLATFORMS: [&str; 3] = ["x", "mastodon", "LinkedIn"];
const WORDS: [&str; 5] = ["merger", "lunch", "secret", "launch", "report"];

/// An archived version with owned parts, for [`ItemFacts`].
#[derive(Debug, Clone)]
struct Version {
    platform: String,
    account: String,
    author: String,
    author_type: AuthorType,
    kind: ContentKind,
    text: String,
    created_at: Option<Timestamp>,
    captured_at: Timestamp,
}

impl Version {
    fn new(captured_at: &str) -> Version {
        Version {
            platform: "x".into(),
            account: "@acme".into(),
            author: "alice".into(),
            author_type: AuthorType::Employee,
            kind: ContentKind::Post,
            text: "lunch on friday".into(),
            created_at: None,
            captured_at: ts(captured_at),
        }
    }

    fn facts(&self) -> ItemFacts<'_> {
        ItemFacts {
            platform: &self.platform,
            account: &self.account,
            author: &self.author,
            author_type: self.author_type,
            kind: self.kind,
            text: &self.text,
            created_at: self.created_at,
            captured_at: self.captured_at,
        }
    }
}

fn rule(id: &str, period: Keep) -> RetentionRule {
    RetentionRule {
        id: id.into(),
        kinds: vec![],
        platforms: vec![],
        author_types: vec![],
        keep: period,
    }
}

fn hold(id: &str, scope: HoldScope) -> Hold {
    Hold { id: id.into(), reason: "matter 12".into(), owner: "legal".into(), scope }
}

fn decide(versions: &[Version], rules: &[RetentionRule], holds: &[Hold], now: &str) -> Retention {
    let facts: Vec<ItemFacts<'_>> = versions.iter().map(Version::facts).collect();
    disposable(&facts, rules, holds, ts(now))
}

#[test]
fn nothing_is_disposed_without_a_rule() {
    let v = Version::new("2000-01-01T00:00:00Z");
    assert_eq!(
        decide(std::slice::from_ref(&v), &[], &[], "2100-01-01T00:00:00Z"),
        Retention::NoRule
    );
    assert_eq!(
        decide(&[], &[rule("all", keep(1, 0, 0))], &[], "2100-01-01T00:00:00Z"),
        Retention::NoRule
    );
    let mut only_x = rule("x-only", keep(1, 0, 0));
    only_x.platforms = vec!["X".into()];
    let mut other = v.clone();
    other.platform = "mastodon".into();
    assert_eq!(
        decide(
            std::slice::from_ref(&other),
            std::slice::from_ref(&only_x),
            &[],
            "2100-01-01T00:00:00Z"
        ),
        Retention::NoRule
    );
    // One version no rule covers keeps the whole item.
    assert_eq!(decide(&[v, other], &[only_x], &[], "2100-01-01T00:00:00Z"), Retention::NoRule);
}

#[test]
fn an_item_within_its_period_is_kept_and_disposed_when_it_ends() {
    let v = Version::new("2020-02-29T12:00:00Z");
    let rules = [rule("R-6Y", keep(6, 0, 0))];
    assert_eq!(
        decide(std::slice::from_ref(&v), &rules, &[], "2026-02-28T11:59:59.999999Z"),
        Retention::Within { until: ts("2026-02-28T12:00:00Z") }
    );
    assert_eq!(
        decide(std::slice::from_ref(&v), &rules, &[], "2026-02-28T12:00:00Z"),
        Retention::Dispose { rule: "R-6Y".into(), expired_at: ts("2026-02-28T12:00:00Z") }
    );
    assert_eq!(
        decide(&[v], &rules, &[], "2040-01-01T00:00:00Z"),
        Retention::Dispose { rule: "R-6Y".into(), expired_at: ts("2026-02-28T12:00:00Z") }
    );
}

#[test]
fn the_clock_starts_at_the_later_of_platform_and_archive_time() {
    let rules = [rule("R-1Y", keep(1, 0, 0))];
    let mut early = Version::new("2020-06-01T00:00:00Z");
    early.created_at = Some(ts("2019-01-01T00:00:00Z"));
    assert_eq!(
        decide(&[early], &rules, &[], "2021-01-01T00:00:00Z"),
        Retention::Within { until: ts("2021-06-01T00:00:00Z") }
    );
    let mut skewed = Version::new("2020-06-01T00:00:00Z");
    skewed.created_at = Some(ts("2020-09-01T00:00:00Z"));
    assert_eq!(
        decide(&[skewed], &rules, &[], "2021-07-01T00:00:00Z"),
        Retention::Within { until: ts("2021-09-01T00:00:00Z") }
    );
}

#[test]
fn the_longest_matching_rule_wins() {
    let mut employees = rule("R-EMP-6Y", keep(6, 0, 0));
    employees.author_types = vec![AuthorType::Employee];
    let mut posts = rule("R-POST-1Y", keep(1, 0, 0));
    posts.kinds = vec![ContentKind::Post];
    let mut replies = rule("R-REPLY-10Y", keep(10, 0, 0));
    replies.kinds = vec![ContentKind::Reply];
    let rules = [posts, employees, replies];
    let v = Version::new("2020-01-01T00:00:00Z");
    assert_eq!(
        decide(std::slice::from_ref(&v), &rules, &[], "2022-01-01T00:00:00Z"),
        Retention::Within { until: ts("2026-01-01T00:00:00Z") }
    );
    assert_eq!(
        decide(&[v], &rules, &[], "2026-01-01T00:00:00Z"),
        Retention::Dispose { rule: "R-EMP-6Y".into(), expired_at: ts("2026-01-01T00:00:00Z") }
    );
}

#[test]
fn the_latest_version_sets_the_end_for_all() {
    let rules = [rule("R-1Y", keep(1, 0, 0))];
    let old = Version::new("2020-01-01T00:00:00Z");
    let edit = Version::new("2024-05-01T00:00:00Z");
    let versions = [old, edit];
    assert_eq!(
        decide(&versions, &rules, &[], "2025-01-01T00:00:00Z"),
        Retention::Within { until: ts("2025-05-01T00:00:00Z") }
    );
    assert_eq!(
        decide(&versions, &rules, &[], "2025-05-01T00:00:00Z"),
        Retention::Dispose { rule: "R-1Y".into(), expired_at: ts("2025-05-01T00:00:00Z") }
    );
}

#[test]
fn a_period_beyond_the_calendar_keeps_the_item() {
    let v = Version::new("9900-01-01T00:00:00Z");
    assert_eq!(
        decide(&[v], &[rule("R-200Y", keep(200, 0, 0))], &[], "9999-01-01T00:00:00Z"),
        Retention::Within { until: Timestamp::MAX }
    );
}

#[test]
fn a_hold_keeps_an_item_whatever_its_retention() {
    let rules = [rule("R-1Y", keep(1, 0, 0))];
    let v = Version::new("2020-01-01T00:00:00Z");
    let everything = hold("H-ALL", HoldScope::default());
    assert_eq!(
        decide(
            std::slice::from_ref(&v),
            &rules,
            std::slice::from_ref(&everything),
            "2030-01-01T00:00:00Z"
        ),
        Retention::Held { hold: "H-ALL".into() }
    );
    assert_eq!(
        decide(
            std::slice::from_ref(&v),
            &rules,
            std::slice::from_ref(&everything),
            "2020-06-01T00:00:00Z"
        ),
        Retention::Held { hold: "H-ALL".into() }
    );
    assert_eq!(
        decide(std::slice::from_ref(&v), &[], &[everything], "2030-01-01T00:00:00Z"),
        Retention::Held { hold: "H-ALL".into() }
    );
    let other = hold("H-BOB", HoldScope { authors: vec!["bob".into()], ..HoldScope::default() });
    assert_eq!(
        decide(&[v], &rules, &[other], "2030-01-01T00:00:00Z"),
        Retention::Dispose { rule: "R-1Y".into(), expired_at: ts("2021-01-01T00:00:00Z") }
    );
}

#[test]
fn one_held_version_keeps_every_version() {
    let rules = [rule("R-1Y", keep(1, 0, 0))];
    let original = Version::new("2020-01-01T00:00:00Z");
    let mut edit = Version::new("2020-02-01T00:00:00Z");
    edit.text = "the merger is off".into();
    let merger = hold(
        "H-MERGER",
        HoldScope { query: Some(Query::parse("merger").unwrap()), ..HoldScope::default() },
    );
    assert_eq!(
        decide(
            std::slice::from_ref(&original),
            &rules,
            std::slice::from_ref(&merger),
            "2030-01-01T00:00:00Z"
        ),
        Retention::Dispose { rule: "R-1Y".into(), expired_at: ts("2021-01-01T00:00:00Z") }
    );
    assert_eq!(
        decide(&[original, edit], &rules, &[merger], "2030-01-01T00:00:00Z"),
        Retention::Held { hold: "H-MERGER".into() }
    );
}

#[test]
fn a_hold_scope_matches_every_part_it_gives() {
    let mut v = Version::new("2020-01-01T00:00:00Z");
    v.author = "Alice".into();
    v.account = "@Acme".into();
    v.platform = "mastodon".into();
    v.text = "Quarterly REPORT, draft".into();
    let covers = |scope: HoldScope| hold("H", scope).covers(&v.facts());
    assert!(covers(HoldScope::default()));
    assert!(covers(HoldScope {
        authors: vec!["bob".into(), "ALICE".into()],
        ..HoldScope::default()
    }));
    assert!(!covers(HoldScope { authors: vec!["bob".into()], ..HoldScope::default() }));
    assert!(covers(HoldScope { accounts: vec!["@acme".into()], ..HoldScope::default() }));
    assert!(!covers(HoldScope { accounts: vec!["@other".into()], ..HoldScope::default() }));
    assert!(covers(HoldScope { platforms: vec!["Mastodon".into()], ..HoldScope::default() }));
    assert!(!covers(HoldScope { platforms: vec!["x".into()], ..HoldScope::default() }));
    assert!(covers(HoldScope {
        query: Some(Query::parse("report draft").unwrap()),
        ..HoldScope::default()
    }));
    assert!(!covers(HoldScope {
        query: Some(Query::parse("\"draft report\"").unwrap()),
        ..HoldScope::default()
    }));
    // From is inclusive, until exclusive, on the platform's time when there is one.
    assert!(covers(HoldScope { from: Some(ts("2020-01-01T00:00:00Z")), ..HoldScope::default() }));
    assert!(!covers(HoldScope { until: Some(ts("2020-01-01T00:00:00Z")), ..HoldScope::default() }));
    assert!(covers(HoldScope {
        until: Some(ts("2020-01-01T00:00:00.000001Z")),
        ..HoldScope::default()
    }));
    v.created_at = Some(ts("2019-06-01T00:00:00Z"));
    let covers = |scope: HoldScope| hold("H", scope).covers(&v.facts());
    assert!(covers(HoldScope { until: Some(ts("2020-01-01T00:00:00Z")), ..HoldScope::default() }));
    assert!(!covers(HoldScope { from: Some(ts("2019-07-01T00:00:00Z")), ..HoldScope::default() }));
    // Every part must match.
    assert!(!covers(HoldScope {
        authors: vec!["alice".into()],
        platforms: vec!["x".into()],
        ..HoldScope::default()
    }));
}

#[test]
fn retention_rules_cover_by_kind_platform_and_author_type() {
    let v = Version::new("2020-01-01T00:00:00Z");
    let facts = v.facts();
    let mut r = rule("R", keep(1, 0, 0));
    assert!(r.covers(&facts));
    r.platforms = vec!["X".into()];
    assert!(r.covers(&facts));
    r.kinds = vec![ContentKind::Reply, ContentKind::Post];
    assert!(r.covers(&facts));
    r.author_types = vec![AuthorType::ThirdParty];
    assert!(!r.covers(&facts));
    r.author_types = vec![];
    r.kinds = vec![ContentKind::Message];
    assert!(!r.covers(&facts));
}

/// A time between 2000 and 2050, to the microsecond.
fn arb_time() -> impl Strategy<Value = Timestamp> {
    (946_684_800_000_000i64..2_524_608_000_000_000)
        .prop_map(|micros| Timestamp::from_microsecond(micros).unwrap())
}

fn arb_version() -> impl Strategy<Value = Version> {
    (
        (0usize..3, 0usize..3, 0usize..3, prop::sample::select(AuthorType::ALL.to_vec())),
        prop::sample::select(ContentKind::ALL.to_vec()),
        prop::collection::vec(prop::sample::select(WORDS.to_vec()), 0..4),
        prop::option::of(arb_time()),
        arb_time(),
        any::<bool>(),
    )
        .prop_map(
            |(
                (platform, account, author, author_type),
                kind,
                words,
                created_at,
                captured_at,
                upper,
            )| {
                let text = words.join(" ");
                Version {
                    platform: PLATFORMS[platform].into(),
                    account: format!("@acct{account}"),
                    author: PEOPLE[author].into(),
                    author_type,
                    kind,
                    text: if upper { text.to_uppercase() } else { text },
                    created_at,
                    captured_at,
                }
            },
        )
}

fn arb_rule() -> impl Strategy<Value = RetentionRule> {
    (
        0u32..1000,
        // Mostly unrestricted rules, so that most items have one.
        prop_oneof![3 => Just(vec![]), 1 => prop::collection::vec(prop::sample::select(ContentKind::ALL.to_vec()), 1..4)],
        prop_oneof![3 => Just(vec![]), 1 => prop::collection::vec(prop::sample::select(PLATFORMS.to_vec()), 1..3)],
        prop_oneof![3 => Just(vec![]), 1 => prop::collection::vec(prop::sample::select(AuthorType::ALL.to_vec()), 1..3)],
        (0u16..8, 0u16..30, 0u32..400),
    )
        .prop_map(|(id, kinds, platforms, author_types, (years, months, days))| RetentionRule {
            id: format!("R{id}"),
            kinds,
            platforms: platforms.into_iter().map(str::to_lowercase).collect(),
            author_types,
            keep: Keep { years, months, days },
        })
}

fn arb_hold() -> impl Strategy<Value = Hold> {
    (
        0u32..1000,
        prop::collection::vec(prop::sample::select(PEOPLE.to_vec()), 0..2),
        prop::collection::vec(0usize..4, 0..2),
        prop::collection::vec(prop::sample::select(PLATFORMS.to_vec()), 0..2),
        prop::option::of(prop::sample::select(WORDS.to_vec())),
        prop::option::of(arb_time()),
        prop::option::of(arb_time()),
    )
        .prop_map(|(id, authors, accounts, platforms, word, from, until)| {
            hold(
                &format!("H{id}"),
                HoldScope {
                    authors: authors.into_iter().map(str::to_uppercase).collect(),
                    accounts: accounts.into_iter().map(|a| format!("@ACCT{a}")).collect(),
                    platforms: platforms.into_iter().map(str::to_owned).collect(),
                    query: word.map(|w| Query::parse(w).unwrap()),
                    from,
                    until,
                },
            )
        })
}

/// Whether a hold covers a version, worked out again from the scope's definition.
fn hold_applies(hold: &Hold, v: &Version) -> bool {
    let scope = &hold.scope;
    let time = v.created_at.unwrap_or(v.captured_at);
    let any = |list: &[String], value: &str| {
        list.is_empty() || list.iter().any(|x| x.to_lowercase() == value.to_lowercase())
    };
    any(&scope.authors, &v.author)
        && any(&scope.accounts, &v.account)
        && any(&scope.platforms, &v.platform)
        && scope.from.is_none_or(|from| from <= time)
        && scope.until.is_none_or(|until| time < until)
        && scope.query.as_ref().is_none_or(|query| match query.terms() {
            [Term::Word(word)] => v.text.split(' ').any(|w| w.to_lowercase() == *word),
            other => panic!("unexpected query {other:?}"),
        })
}

/// Whether a rule covers a version, worked out again from its definition.
fn rule_applies(rule: &RetentionRule, v: &Version) -> bool {
    (rule.kinds.is_empty() || rule.kinds.contains(&v.kind))
        && (rule.platforms.is_empty()
            || rule.platforms.iter().any(|p| p.to_lowercase() == v.platform.to_lowercase()))
        && (rule.author_types.is_empty() || rule.author_types.contains(&v.author_type))
}

/// When a version's retention under a rule started.
fn start_of(v: &Version) -> Timestamp {
    v.created_at.map_or(v.captured_at, |created| created.max(v.captured_at))
}

/// A lower bound of a rule's end that does not use the calendar code under test: every year is
/// at least 365 days and every month at least 28.
fn at_least_until(v: &Version, period: &Keep) -> Timestamp {
    let days =
        365 * i64::from(period.years) + 28 * i64::from(period.months) + i64::from(period.days);
    start_of(v).checked_add(jiff::SignedDuration::from_hours(24 * days)).unwrap()
}

fn arb_case() -> impl Strategy<Value = (Vec<Version>, Vec<RetentionRule>, Vec<Hold>, Timestamp)> {
    (
        prop::collection::vec(arb_version(), 0..4),
        prop::collection::vec(arb_rule(), 0..5),
        prop::collection::vec(arb_hold(), 0..3),
        (arb_time(), 0i64..20 * 366 * 24 * 3600),
    )
        .prop_map(|(versions, rules, holds, (now, later))| {
            // Push `now` later half of the time so that periods often have ended.
            (
                versions,
                rules,
                holds,
                now.checked_add(jiff::SignedDuration::from_secs(later)).unwrap(),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// The product's promise: nothing under a legal hold, and nothing still within a retention
    /// period, is ever disposed.
    #[test]
    fn nothing_held_or_within_retention_is_ever_disposed((versions, rules, holds, now) in arb_case()) {
        let facts: Vec<ItemFacts<'_>> = versions.iter().map(Version::facts).collect();
        let decision = disposable(&facts, &rules, &holds, now);
        if let Retention::Dispose { rule, expired_at } = &decision {
            prop_assert!(!versions.is_empty());
            prop_assert!(*expired_at <= now);
            for v in &versions {
                for hold in &holds {
                    prop_assert!(!hold_applies(hold, v), "hold {} covers {v:?}", hold.id);
                    prop_assert!(!hold.covers(&v.facts()));
                }
                let covering: Vec<&RetentionRule> = rules.iter().filter(|r| rule_applies(r, v)).collect();
                prop_assert!(!covering.is_empty(), "no rule covers {v:?}, yet it was disposed");
                for r in covering {
                    let end = r.keep.expires(start_of(v));
                    prop_assert!(end.is_some_and(|end| end <= now), "rule {} keeps {v:?} until {end:?}", r.id);
                    prop_assert!(at_least_until(v, &r.keep) <= now, "rule {} keeps {v:?}", r.id);
                }
            }
            prop_assert!(rules.iter().any(|r| &r.id == rule && versions.iter().any(|v| rule_applies(r, v))));
        }
    }

    /// The decision in full, against a model worked out from the definitions.
    #[test]
    fn the_retention_decision_follows_its_definition((versions, rules, holds, now) in arb_case()) {
        let facts: Vec<ItemFacts<'_>> = versions.iter().map(Version::facts).collect();
        let decision = disposable(&facts, &rules, &holds, now);
        let held = versions.iter().find_map(|v| holds.iter().find(|h| hold_applies(h, v)));
        let ends: Option<Vec<Timestamp>> = versions
            .iter()
            .map(|v| rules.iter().filter(|r| rule_applies(r, v)).map(|r| r.keep.expires(start_of(v)).unwrap()).max())
            .collect();
        let expected = match (held, ends) {
            (Some(hold), _) => Retention::Held { hold: hold.id.clone() },
            (None, None) => Retention::NoRule,
            (None, Some(ends)) => match ends.into_iter().max() {
                None => Retention::NoRule,
                Some(until) if now < until => Retention::Within { until },
                Some(expired_at) => match &decision {
                    Retention::Dispose { rule, .. } => Retention::Dispose { rule: rule.clone(), expired_at },
                    _ => Retention::Dispose { rule: "(any)".into(), expired_at },
                },
            },
        };
        prop_assert_eq!(decision, expected);
    }
}

#[test]
fn the_retention_property_sees_every_outcome() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = [0u32; 4];
    for _ in 0..2000 {
        let (versions, rules, holds, now) = arb_case().new_tree(&mut runner).unwrap().current();
        let facts: Vec<ItemFacts<'_>> = versions.iter().map(Version::facts).collect();
        let index = match disposable(&facts, &rules, &holds, now) {
            Retention::NoRule => 0,
            Retention::Within { .. } => 1,
            Retention::Held { .. } => 2,
            Retention::Dispose { .. } => 3,
        };
        seen[index] += 1;
    }
    assert!(seen.iter().all(|n| *n >= 100), "outcomes (no rule, within, held, dispose): {seen:?}");
}

proptest! {
    #[test]
    fn index_words_are_the_tokens_joined(text in "\\PC{0,60}") {
        prop_assert_eq!(super::index_words(&text), super::tokens(&text).join(" "));
    }
}
