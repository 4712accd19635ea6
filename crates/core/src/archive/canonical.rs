//! Canonical JSON: the one byte sequence a payload hashes to.
//!
//! Objects have their keys sorted by code point, there is no whitespace, strings escape only
//! `"`, `\` and control characters (as `\b \f \n \r \t` or lowercase `\u00xx`), and numbers are
//! integers. That is what Python's `json.dumps(v, sort_keys=True, separators=(",", ":"),
//! ensure_ascii=False)` writes for the same value, so a verifier in another language can
//! re-encode a decoded payload and get the hashed bytes back.

use std::fmt::Write as _;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Why a text is not a canonical payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// The text is not JSON at all.
    #[error("not JSON: {0}")]
    Syntax(String),
    /// The JSON holds a number with a fraction or exponent, which has no canonical form here.
    #[error("canonical payloads hold integers only, found {0}")]
    Float(String),
    /// Valid JSON, but not in canonical form (key order, spacing or escapes differ).
    #[error("JSON is not in canonical form")]
    NotCanonical,
}

/// Encodes a value canonically. Floats never occur in payloads built by this crate; one that
/// does is written in serde_json's shortest form and rejected by [`parse_canonical`].
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(value, &mut out);
    out
}

/// Parses JSON, refusing an object that repeats a key. serde_json keeps the last of repeated
/// keys while other readers keep the first, so a document with repeats could show one reader
/// something other than what another verified: verifiers read bundles with this.
pub fn parse_strict(text: &str) -> Result<Value, CanonicalError> {
    parse_unique_keys(text).map_err(|err| CanonicalError::Syntax(err.to_string()))
}

/// [`parse_strict`] with serde_json's own error, which carries the line and column. Imports
/// read items with it: of two values given for one field, which is the record is not for the
/// archive to guess.
pub fn parse_unique_keys(text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let Strict(value) = Strict::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("the key `{key}` appears twice")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Parses a payload and checks that it is exactly its own canonical encoding.
pub fn parse_canonical(text: &str) -> Result<Value, CanonicalError> {
    let value = parse_strict(text)?;
    if let Some(float) = find_float(&value) {
        return Err(CanonicalError::Float(float));
    }
    if canonical_json(&value) != text {
        return Err(CanonicalError::NotCanonical);
    }
    Ok(value)
}

fn find_float(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => Some(n.to_string()),
        Value::Array(items) => items.iter().find_map(find_float),
        Value::Object(map) => map.values().find_map(find_float),
        _ => None,
    }
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // serde_json's map is ordered only without its `preserve_order` feature, which any
            // crate in a build may switch on, so the order is imposed here.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

/// Writes one canonical object field by field, for payloads built often enough that going
/// through a `serde_json::Value` would cost more than the rest of their encoding. Fields must
/// come in canonical (code point) order; debug builds check it.
pub(crate) struct ObjectWriter<'a> {
    out: &'a mut String,
    last: Option<&'static str>,
}

impl<'a> ObjectWriter<'a> {
    pub(crate) fn new(out: &'a mut String) -> ObjectWriter<'a> {
        out.push('{');
        ObjectWriter { out, last: None }
    }

    fn key(&mut self, key: &'static str) -> &mut String {
        debug_assert!(self.last.is_none_or(|last| last < key), "`{key}` out of canonical order");
        if self.last.is_some() {
            self.out.push(',');
        }
        self.last = Some(key);
        write_string(key, self.out);
        self.out.push(':');
        self.out
    }

    pub(crate) fn string(&mut self, key: &'static str, value: &str) {
        let out = self.key(key);
        write_string(value, out);
    }

    pub(crate) fn optional_string(&mut self, key: &'static str, value: Option<&str>) {
        match value {
            Some(value) => self.string(key, value),
            None => self.key(key).push_str("null"),
        }
    }

    pub(crate) fn number(&mut self, key: &'static str, value: u64) {
        let out = self.key(key);
        let _ = write!(out, "{value}");
    }

    pub(crate) fn optional_number(&mut self, key: &'static str, value: Option<u64>) {
        match value {
            Some(value) => self.number(key, value),
            None => self.key(key).push_str("null"),
        }
    }

    pub(crate) fn boolean(&mut self, key: &'static str, value: bool) {
        self.key(key).push_str(if value { "true" } else { "false" });
    }

    pub(crate) fn strings(&mut self, key: &'static str, values: &[String]) {
        let out = self.key(key);
        out.push('[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(value, out);
        }
        out.push(']');
    }

    /// A field whose value the caller writes, canonically, into the buffer it is given.
    pub(crate) fn with(&mut self, key: &'static str, write: impl FnOnce(&mut String)) {
        write(self.key(key));
    }

    pub(crate) fn finish(self) {
        self.out.push('}');
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut plain_from = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[plain_from..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        plain_from = i + 1;
    }
    out.push_str(&s[plain_from..]);
    out.push('"');
}
