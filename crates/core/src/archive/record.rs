//! What the archive records: an interaction ([`Item`]) and the verdict it was given
//! ([`VerdictRecord`]), with their canonical payloads.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::FORMAT_VERSION;
use super::canonical::{ObjectWriter, canonical_json};
use super::chain::Hash;
use crate::item::{AuthorType, ContentKind, Post};
use crate::verdict::Verdict;

/// Longest platform name, in bytes.
pub const MAX_PLATFORM: usize = 64;
/// Longest account, author, external id or parent id, in bytes.
pub const MAX_NAME: usize = 512;
/// Longest text, in bytes.
pub const MAX_TEXT: usize = 1 << 20;
/// Most links on one item.
pub const MAX_LINKS: usize = 1_000;
/// Most media attachments on one item.
pub const MAX_MEDIA: usize = 100;
/// The fields of the JSON Lines item format (`docs/archive-format.md`).
pub const ITEM_FIELDS: &[&str] = &[
    "platform",
    "external_id",
    "text",
    "account",
    "author",
    "author_type",
    "kind",
    "created_at",
    "captured_at",
    "parent",
    "change",
    "revises",
    "raw",
    "links",
    "media",
];
/// Longest raw payload kept, in bytes.
pub const MAX_RAW: usize = 4 << 20;

/// How an item relates to what was archived before under the same platform and external id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Change {
    /// The first version seen.
    #[default]
    Original,
    /// A new version of something already archived: edited on the platform.
    Edit,
    /// Deleted on the platform; the archived versions stay.
    Deletion,
}

impl Change {
    /// The name used in payloads and imports.
    pub fn name(self) -> &'static str {
        match self {
            Change::Original => "original",
            Change::Edit => "edit",
            Change::Deletion => "deletion",
        }
    }
}

/// A media attachment's metadata; the archive keeps the description, not the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Media {
    /// File name or URL as the platform gave it.
    pub name: String,
    /// MIME type, when known.
    pub media_type: Option<String>,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// SHA-256 of the bytes (hex), when known.
    pub sha256: Option<String>,
}

/// One interaction with a social site, as archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The platform's name (`x`, `mastodon`, `linkedin`), lowercase.
    pub platform: String,
    /// The organization's account it was captured from.
    pub account: String,
    /// The platform's id for it.
    pub external_id: String,
    /// What kind of content it is.
    pub kind: ContentKind,
    /// Who wrote it (handle or name).
    pub author: String,
    /// Whether the author is an employee, the organization itself or a third party.
    pub author_type: AuthorType,
    /// The text.
    pub text: String,
    /// Links in it.
    pub links: Vec<String>,
    /// Attachments.
    pub media: Vec<Media>,
    /// When the platform says it was made.
    pub created_at: Option<Timestamp>,
    /// When the archive received it.
    pub captured_at: Timestamp,
    /// The external id of what it replies to or comments on.
    pub parent: Option<String>,
    /// Original, edit or deletion.
    pub change: Change,
    /// For edits and deletions: the entry of the version this one replaces. Set by the store.
    pub revises: Option<u64>,
    /// The payload exactly as the platform or importer delivered it.
    pub raw: Option<String>,
}

/// A field of an item that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct ItemError {
    /// The field's name in the import format.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> ItemError {
    ItemError { field: field.into(), message: message.into() }
}

/// The archive's time format: UTC, microseconds, always the same width, so texts sort as times.
pub fn format_time(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses an RFC 3339 time (any offset) into a timestamp, truncated to microseconds.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let time: Timestamp = text.parse().map_err(|err| format!("not an RFC 3339 time ({err})"))?;
    // Towards the past, as `format_time` truncates (`as_microsecond` would round towards 1970).
    let micros =
        i64::try_from(time.as_nanosecond().div_euclid(1_000)).map_err(|err| err.to_string())?;
    Timestamp::from_microsecond(micros).map_err(|err| err.to_string())
}

impl Item {
    /// An item with only the required parts; the rest takes its defaults.
    pub fn new(platform: &str, external_id: &str, text: &str, captured_at: Timestamp) -> Item {
        Item {
            platform: platform.to_lowercase(),
            account: String::new(),
            external_id: external_id.to_owned(),
            kind: ContentKind::Post,
            author: String::new(),
            author_type: AuthorType::Employee,
            text: text.to_owned(),
            links: Vec::new(),
            media: Vec::new(),
            created_at: None,
            captured_at,
            parent: None,
            change: Change::Original,
            revises: None,
            raw: None,
        }
    }

    /// Reads an item from the JSON Lines import format (also the payload's own shape).
    /// `captured_at` applies when the object does not carry one.
    pub fn from_json(value: &Value, captured_at: Timestamp) -> Result<Item, ItemError> {
        let object =
            value.as_object().ok_or_else(|| field_error("(line)", "expected a JSON object"))?;
        let mut item = Item::new(
            &required_string(object, "platform")?,
            &required_string(object, "external_id")?,
            &string_field(object, "text")?.unwrap_or_default(),
            captured_at,
        );
        item.account = string_field(object, "account")?.unwrap_or_default();
        item.author = string_field(object, "author")?.unwrap_or_default();
        if let Some(kind) = string_field(object, "kind")? {
            item.kind = kind
                .parse()
                .map_err(|err: crate::item::UnknownName| field_error("kind", err.to_string()))?;
        }
        if let Some(author_type) = string_field(object, "author_type")? {
            item.author_type = author_type.parse().map_err(|err: crate::item::UnknownName| {
                field_error("author_type", err.to_string())
            })?;
        }
        item.created_at = time_field(object, "created_at")?;
        if let Some(captured) = time_field(object, "captured_at")? {
            item.captured_at = captured;
        }
        item.parent = string_field(object, "parent")?;
        item.change = match string_field(object, "change")?.as_deref() {
            None | Some("original") => Change::Original,
            Some("edit") => Change::Edit,
            Some("deletion") => Change::Deletion,
            Some(other) => {
                return Err(field_error(
                    "change",
                    format!("unknown change `{other}` (expected original, edit or deletion)"),
                ));
            }
        };
        item.revises = match object.get("revises") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value.as_u64().ok_or_else(|| field_error("revises", "expected an entry number"))?,
            ),
        };
        item.raw = string_field(object, "raw")?;
        if let Some(links) = object.get("links").filter(|v| !v.is_null()) {
            let links = links
                .as_array()
                .ok_or_else(|| field_error("links", "expected an array of strings"))?;
            for (i, link) in links.iter().enumerate() {
                let link = link
                    .as_str()
                    .ok_or_else(|| field_error(format!("links[{i}]"), "expected a string"))?;
                item.links.push(link.to_owned());
            }
        }
        if let Some(media) = object.get("media").filter(|v| !v.is_null()) {
            let media = media
                .as_array()
                .ok_or_else(|| field_error("media", "expected an array of objects"))?;
            for (i, entry) in media.iter().enumerate() {
                item.media.push(media_from_json(entry, &format!("media[{i}]"))?);
            }
        }
        item.validate()?;
        Ok(item)
    }

    /// Reads an item from an object of the JSON Lines item format and its exact text. An
    /// object holding fields beyond the format's own (an export's extra data) is kept whole as
    /// the raw payload unless it names one; an object of only the format's fields is the item
    /// itself, and keeping it again would double what is archived and say nothing new.
    pub fn from_json_text(
        text: &str,
        value: &Value,
        captured_at: Timestamp,
    ) -> Result<Item, ItemError> {
        let mut item = Item::from_json(value, captured_at)?;
        let only_known =
            value.as_object().is_some_and(|o| o.keys().all(|k| ITEM_FIELDS.contains(&k.as_str())));
        if item.raw.is_none() && !only_known {
            if text.len() > MAX_RAW {
                return Err(field_error(
                    "raw",
                    format!(
                        "the object is longer than {MAX_RAW} bytes, the most the archive keeps \
                         as the raw payload; give a shorter `raw` in it"
                    ),
                ));
            }
            item.raw = Some(text.to_owned());
        }
        Ok(item)
    }

    /// Checks the limits and required fields.
    pub fn validate(&self) -> Result<(), ItemError> {
        if self.platform.trim().is_empty() {
            return Err(field_error("platform", "must not be empty"));
        }
        if self.external_id.trim().is_empty() {
            return Err(field_error("external_id", "must not be empty"));
        }
        if self.platform.len() > MAX_PLATFORM {
            return Err(field_error("platform", format!("longer than {MAX_PLATFORM} bytes")));
        }
        if self.platform.contains('\0') {
            return Err(field_error("platform", "must not contain a NUL character"));
        }
        for (field, value) in [
            ("account", Some(&self.account)),
            ("external_id", Some(&self.external_id)),
            ("author", Some(&self.author)),
            ("parent", self.parent.as_ref()),
        ] {
            if value.is_some_and(|v| v.len() > MAX_NAME) {
                return Err(field_error(field, format!("longer than {MAX_NAME} bytes")));
            }
            // Names are filter columns in both databases, and PostgreSQL text cannot hold NUL.
            if value.is_some_and(|v| v.contains('\0')) {
                return Err(field_error(field, "must not contain a NUL character"));
            }
        }
        if self.text.len() > MAX_TEXT {
            return Err(field_error("text", format!("longer than {MAX_TEXT} bytes")));
        }
        if self.links.len() > MAX_LINKS {
            return Err(field_error("links", format!("more than {MAX_LINKS} links")));
        }
        if self.media.len() > MAX_MEDIA {
            return Err(field_error("media", format!("more than {MAX_MEDIA} attachments")));
        }
        if self.raw.as_ref().is_some_and(|raw| raw.len() > MAX_RAW) {
            return Err(field_error("raw", format!("longer than {MAX_RAW} bytes")));
        }
        if self.revises.is_some() && self.change == Change::Original {
            return Err(field_error("revises", "only edits and deletions revise an entry"));
        }
        Ok(())
    }

    /// What the engine checks.
    pub fn post(&self) -> Post<'_> {
        Post {
            text: &self.text,
            kind: self.kind,
            author: self.author_type,
            platform: Some(&self.platform),
        }
    }

    /// The canonical payload of the item entry.
    pub fn payload(&self) -> String {
        let mut out =
            String::with_capacity(256 + self.text.len() + self.raw.as_ref().map_or(0, String::len));
        self.write_fields(&mut out, Fields::Payload);
        out
    }

    /// Identifies this version's content: SHA-256 over the canonical payload without the
    /// capture time, the raw payload, `revises` and whether it is an original or an edit (the
    /// archive decides that), but with whether it is a deletion. Re-importing the same export
    /// finds the same versions, so it adds nothing.
    pub fn version_digest(&self) -> Hash {
        let mut out = String::with_capacity(256 + self.text.len());
        self.write_fields(&mut out, Fields::Version);
        Sha256::digest(out.as_bytes()).into()
    }

    /// Writes the payload, or the version digest's input, straight to canonical JSON: items
    /// are encoded once each on the way in, so this skips building a `serde_json::Value`.
    /// Keys are in canonical order.
    fn write_fields(&self, out: &mut String, fields: Fields) {
        let payload = fields == Fields::Payload;
        let mut object = ObjectWriter::new(out);
        object.string("account", &self.account);
        object.string("author", &self.author);
        object.string("author_type", self.author_type.name());
        if payload {
            object.string("captured_at", &format_time(self.captured_at));
            object.string("change", self.change.name());
        }
        object.optional_string("created_at", self.created_at.map(format_time).as_deref());
        if !payload {
            object.boolean("deleted", self.change == Change::Deletion);
        }
        object.string("external_id", &self.external_id);
        object.string("kind", self.kind.name());
        object.strings("links", &self.links);
        object.with("media", |out| {
            out.push('[');
            for (i, media) in self.media.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let mut entry = ObjectWriter::new(out);
                entry.string("name", &media.name);
                entry.optional_string("sha256", media.sha256.as_deref());
                entry.optional_number("size", media.size);
                entry.optional_string("type", media.media_type.as_deref());
                entry.finish();
            }
            out.push(']');
        });
        object.optional_string("parent", self.parent.as_deref());
        object.string("platform", &self.platform);
        if payload {
            object.optional_string("raw", self.raw.as_deref());
            object.optional_number("revises", self.revises);
        }
        object.string("text", &self.text);
        object.number("v", u64::from(FORMAT_VERSION));
        object.finish();
    }
}

/// Which canonical text of an item [`Item::write_fields`] writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fields {
    /// The item entry's payload.
    Payload,
    /// The input of the version digest.
    Version,
}

fn media_from_json(value: &Value, at: &str) -> Result<Media, ItemError> {
    let object = value.as_object().ok_or_else(|| field_error(at, "expected an object"))?;
    let name = string_field(object, "name")
        .map_err(|e| field_error(format!("{at}.{}", e.field), e.message))?
        .ok_or_else(|| field_error(format!("{at}.name"), "required"))?;
    let media_type =
        string_field(object, "type").map_err(|e| field_error(format!("{at}.type"), e.message))?;
    let size = match object.get("size") {
        None | Some(Value::Null) => None,
        Some(size) => Some(
            size.as_u64()
                .ok_or_else(|| field_error(format!("{at}.size"), "expected a byte count"))?,
        ),
    };
    let sha256 = string_field(object, "sha256")
        .map_err(|e| field_error(format!("{at}.sha256"), e.message))?;
    if let Some(digest) = &sha256
        && super::chain::parse_hex(digest).is_none()
    {
        return Err(field_error(format!("{at}.sha256"), "expected 64 hexadecimal digits"));
    }
    Ok(Media { name, media_type, size, sha256: sha256.map(|d| d.to_lowercase()) })
}

fn required_string(object: &Map<String, Value>, field: &str) -> Result<String, ItemError> {
    string_field(object, field)?.ok_or_else(|| field_error(field, "required"))
}

fn string_field(object: &Map<String, Value>, field: &str) -> Result<Option<String>, ItemError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        // Platforms hand out numeric ids; accept them as their decimal text.
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        Some(_) => Err(field_error(field, "expected a string")),
    }
}

fn time_field(object: &Map<String, Value>, field: &str) -> Result<Option<Timestamp>, ItemError> {
    string_field(object, field)?
        .map(|text| parse_time(&text).map_err(|err| field_error(field, err)))
        .transpose()
}

/// A verdict as archived: the item's entry, the policy version and the findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictRecord {
    /// The entry number of the item judged.
    pub item: u64,
    /// Policy id.
    pub policy_id: String,
    /// Policy version.
    pub policy_version: String,
    /// SHA-256 of the policy document and its term files.
    pub policy_sha256: String,
    /// The strongest action.
    pub action: String,
    /// Categories of the findings, sorted and without repeats.
    pub categories: Vec<String>,
    /// Rule ids of the findings, sorted and without repeats.
    pub rules: Vec<String>,
    /// How many findings there were.
    pub findings: usize,
}

/// The canonical payload of a verdict entry, and its summary for indexing.
pub fn verdict_payload(item: u64, verdict: &Verdict) -> (String, VerdictRecord) {
    let mut categories: Vec<String> =
        verdict.findings.iter().map(|f| f.rule.category.clone()).collect();
    categories.sort();
    categories.dedup();
    let mut rules: Vec<String> = verdict.findings.iter().map(|f| f.rule.id.clone()).collect();
    rules.sort();
    rules.dedup();
    let record = VerdictRecord {
        item,
        policy_id: verdict.policy.id.clone(),
        policy_version: verdict.policy.version.clone(),
        policy_sha256: verdict.policy.hash.clone(),
        action: verdict.action.name().to_owned(),
        categories,
        rules,
        findings: verdict.findings.len(),
    };
    (VerdictTemplate::new(verdict).payload(item), record)
}

/// A verdict's canonical payload with its item's entry number still to be written in.
///
/// Everything else in the payload is known once the item is checked, so an importer builds
/// this on its own threads and the archive's single writer only writes the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictTemplate {
    /// `{"action":…,"findings":[…]`, the members that sort before `item`.
    before: String,
    /// `"policy":{…},"v":…}`, the members that sort after it.
    after: String,
}

impl VerdictTemplate {
    /// The template of a verdict's payload.
    pub fn new(verdict: &Verdict) -> VerdictTemplate {
        let findings: Vec<Value> = verdict
            .findings
            .iter()
            .map(|f| {
                json!({
                    "rule": f.rule.id,
                    "clause": f.rule.clause,
                    "category": f.rule.category,
                    "severity": f.rule.severity.name(),
                    "action": f.action().name(),
                    "start": f.start,
                    "end": f.end,
                    "match": f.matched,
                })
            })
            .collect();
        // Canonical JSON sorts members by key, and `action` < `findings` < `item` < `policy`
        // < `v`: the two halves are canonical objects of their own, less one brace each.
        let mut before =
            canonical_json(&json!({"action": verdict.action.name(), "findings": findings}));
        before.pop();
        let after = canonical_json(&json!({
            "policy": {"id": verdict.policy.id, "version": verdict.policy.version, "sha256": verdict.policy.hash},
            "v": FORMAT_VERSION,
        }));
        VerdictTemplate { before, after: after[1..].to_owned() }
    }

    /// The payload of the verdict on the item archived as entry `item`.
    pub fn payload(&self, item: u64) -> String {
        let mut payload = String::with_capacity(self.before.len() + self.after.len() + 30);
        payload.push_str(&self.before);
        // `write!` into a String cannot fail.
        let _ = write!(payload, ",\"item\":{item},");
        payload.push_str(&self.after);
        payload
    }
}
