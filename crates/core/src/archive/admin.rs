//! Payloads of the entries that govern the archive itself: legal holds and their releases,
//! retention rules, and dispositions. Each has a builder and, where the store needs to read it
//! back, a decoder.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::FORMAT_VERSION;
use super::canonical::canonical_json;
use super::chain::{Hash, hex};
use super::query::Query;
use super::record::{format_time, parse_time};
use super::retention::{Hold, HoldScope, Keep, RetentionRule};

/// The canonical payload of a hold entry.
pub fn hold_payload(hold: &Hold, query_text: Option<&str>) -> String {
    let scope = &hold.scope;
    canonical_json(&json!({
        "v": FORMAT_VERSION,
        "id": hold.id,
        "reason": hold.reason,
        "owner": hold.owner,
        "scope": {
            "authors": scope.authors,
            "accounts": scope.accounts,
            "platforms": scope.platforms,
            "query": query_text,
            "from": scope.from.map(format_time),
            "until": scope.until.map(format_time),
        },
    }))
}

/// Reads a hold back from its payload, with the query's text.
pub fn hold_from_payload(value: &Value) -> Result<(Hold, Option<String>), String> {
    let text = |v: &Value, field: &str| -> Result<String, String> {
        v.get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("hold payload: `{field}` missing"))
    };
    let list = |v: &Value, field: &str| -> Vec<String> {
        v.get(field)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let time = |v: &Value, field: &str| -> Result<Option<Timestamp>, String> {
        v.get(field).and_then(Value::as_str).map(parse_time).transpose()
    };
    let scope_value = value.get("scope").ok_or("hold payload: `scope` missing")?;
    let query_text = scope_value.get("query").and_then(Value::as_str).map(str::to_owned);
    let query = query_text
        .as_deref()
        .map(Query::parse)
        .transpose()
        .map_err(|err| format!("hold payload: {err}"))?;
    let scope = HoldScope {
        authors: list(scope_value, "authors"),
        accounts: list(scope_value, "accounts"),
        platforms: list(scope_value, "platforms"),
        query,
        from: time(scope_value, "from")?,
        until: time(scope_value, "until")?,
    };
    let hold = Hold {
        id: text(value, "id")?,
        reason: text(value, "reason")?,
        owner: text(value, "owner")?,
        scope,
    };
    Ok((hold, query_text))
}

/// The canonical payload of a hold release.
pub fn hold_release_payload(id: &str, reason: &str, by: &str) -> String {
    canonical_json(&json!({"v": FORMAT_VERSION, "id": id, "reason": reason, "by": by}))
}

/// The canonical payload of a retention entry; `rule` is `None` when the rule is removed.
pub fn retention_payload(id: &str, rule: Option<&RetentionRule>, by: &str) -> String {
    let value = match rule {
        Some(rule) => json!({
            "v": FORMAT_VERSION,
            "id": id,
            "kinds": rule.kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
            "platforms": rule.platforms,
            "author_types": rule.author_types.iter().map(|a| a.name()).collect::<Vec<_>>(),
            "keep": rule.keep.iso(),
            "by": by,
        }),
        None => json!({"v": FORMAT_VERSION, "id": id, "keep": null, "by": by}),
    };
    canonical_json(&value)
}

/// Reads a retention entry back: `None` for a removal.
pub fn retention_from_payload(value: &Value) -> Result<Option<RetentionRule>, String> {
    let id = value.get("id").and_then(Value::as_str).ok_or("retention payload: `id` missing")?;
    let Some(keep) = value.get("keep").and_then(Value::as_str) else {
        return Ok(None);
    };
    let names = |field: &str| -> Vec<String> {
        value
            .get(field)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let kinds = names("kinds")
        .iter()
        .map(|k| k.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{e}"))?;
    let author_types = names("author_types")
        .iter()
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{e}"))?;
    Ok(Some(RetentionRule {
        id: id.to_owned(),
        kinds,
        platforms: names("platforms"),
        author_types,
        keep: Keep::parse(keep).map_err(|e| e.to_string())?,
    }))
}

/// The canonical payload of a disposition: the item, the entries whose payloads go (with the
/// hashes that stay), the rule and when its period ended.
pub fn disposition_payload(
    item: u64,
    entries: &[(u64, Hash)],
    rule: &str,
    expired_at: Timestamp,
) -> String {
    let entries: Vec<Value> = entries
        .iter()
        .map(|(seq, hash)| json!({"seq": seq, "payload_sha256": hex(hash)}))
        .collect();
    canonical_json(&json!({
        "v": FORMAT_VERSION,
        "item": item,
        "entries": entries,
        "rule": rule,
        "expired_at": format_time(expired_at),
        "reason": "retention period ended and no legal hold applies",
    }))
}
