//! Audit entries: every state-changing action taken through the server (a login, a failed
//! login, a token created, a person changed, items ingested, a setting changed) is an `action`
//! entry in the same hash chain as the items, naming who did what, to what, when and from
//! where.

use serde_json::{Map, Value, json};

use super::FORMAT_VERSION;
use super::canonical::canonical_json;

/// Longest actor, action or target name.
pub const MAX_AUDIT_NAME: usize = 256;

/// One action, as the audit trail records it. The time is the entry's own `recorded_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Who: a person's login, `token:<id>` for an API token, `anonymous` before sign-in, or
    /// `system` for what the server does on its own.
    pub actor: String,
    /// Where from: the client's address, when known.
    pub from: Option<String>,
    /// What, as a dotted name: `login`, `login.failed`, `token.create`, `person.update`,
    /// `items.ingest`, `setting.set`, ….
    pub action: String,
    /// What it was done to, when one thing: a login, a token id, a person id.
    pub target: Option<String>,
    /// Everything else worth keeping (never a secret).
    pub details: Map<String, Value>,
}

impl AuditRecord {
    /// An action with no target or details.
    pub fn new(actor: &str, from: Option<&str>, action: &str) -> AuditRecord {
        AuditRecord {
            actor: actor.to_owned(),
            from: from.map(str::to_owned),
            action: action.to_owned(),
            target: None,
            details: Map::new(),
        }
    }

    /// The same action done to `target`.
    pub fn on(mut self, target: impl Into<String>) -> AuditRecord {
        self.target = Some(target.into());
        self
    }

    /// The same action with one more detail.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> AuditRecord {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// Refuses empty or oversized names and NUL characters, which no database stores alike.
    pub fn validate(&self) -> Result<(), String> {
        let names = [
            ("actor", Some(self.actor.as_str())),
            ("action", Some(self.action.as_str())),
            ("target", self.target.as_deref()),
            ("from", self.from.as_deref()),
        ];
        for (field, value) in names {
            let Some(value) = value else { continue };
            if value.is_empty() && field != "target" {
                return Err(format!("audit `{field}` is empty"));
            }
            if value.len() > MAX_AUDIT_NAME {
                return Err(format!("audit `{field}` is longer than {MAX_AUDIT_NAME} bytes"));
            }
            if value.contains('\0') {
                return Err(format!("audit `{field}` contains a NUL character"));
            }
        }
        if Value::Object(self.details.clone()).to_string().contains("\\u0000") {
            return Err("audit details contain a NUL character".to_owned());
        }
        Ok(())
    }

    /// The canonical payload of the action entry.
    pub fn payload(&self) -> String {
        canonical_json(&json!({
            "v": FORMAT_VERSION,
            "actor": self.actor,
            "from": self.from,
            "action": self.action,
            "target": self.target,
            "details": self.details,
        }))
    }

    /// Reads an action back from its payload.
    pub fn from_payload(value: &Value) -> Result<AuditRecord, String> {
        let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_owned);
        Ok(AuditRecord {
            actor: text("actor").ok_or("action payload: `actor` missing")?,
            from: text("from"),
            action: text("action").ok_or("action payload: `action` missing")?,
            target: text("target"),
            details: value.get("details").and_then(Value::as_object).cloned().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::parse_canonical;

    #[test]
    fn payload_round_trips_and_is_canonical() {
        let record = AuditRecord::new("ada", Some("127.0.0.1"), "token.create")
            .on("lgt_0123")
            .with("scopes", json!(["check"]));
        let payload = record.payload();
        assert_eq!(
            payload,
            r#"{"action":"token.create","actor":"ada","details":{"scopes":["check"]},"from":"127.0.0.1","target":"lgt_0123","v":1}"#
        );
        let value = parse_canonical(&payload).expect("canonical");
        assert_eq!(AuditRecord::from_payload(&value), Ok(record));
    }

    #[test]
    fn validate_names_the_field() {
        let mut record = AuditRecord::new("ada", None, "login");
        assert_eq!(record.validate(), Ok(()));
        record.actor = "a\0b".into();
        assert!(record.validate().unwrap_err().contains("`actor`"));
        record.actor = "x".repeat(MAX_AUDIT_NAME + 1);
        assert!(record.validate().unwrap_err().contains("longer"));
        let record = AuditRecord::new("ada", None, "").with("k", "v");
        assert!(record.validate().unwrap_err().contains("`action` is empty"));
    }
}
