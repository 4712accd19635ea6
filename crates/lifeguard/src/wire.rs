//! The JSON the CLI reads and writes: input lines and verdict lines.
//!
//! These wire types are the public contract described by `docs/verdict.schema.json`; the core's
//! types stay free of serialization so their shape can change without breaking it.

use std::borrow::Cow;

use lifeguard_core::Verdict;
use lifeguard_core::verdict::PolicyStamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One input line of `check --jsonl`. Unknown fields (a corpus's labels, say) are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct InputLine<'a> {
    #[serde(borrow, default)]
    pub(crate) id: Option<&'a RawValue>,
    #[serde(borrow)]
    pub(crate) text: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) author_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) platform: Option<Cow<'a, str>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct VerdictOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<&'a RawValue>,
    pub(crate) action: &'static str,
    pub(crate) findings: Vec<FindingOut<'a>>,
    pub(crate) policy: &'a RawValue,
}

#[derive(Debug, Serialize)]
pub(crate) struct FindingOut<'a> {
    pub(crate) rule: &'a str,
    pub(crate) clause: &'a str,
    pub(crate) clause_title: &'a str,
    pub(crate) category: &'a str,
    pub(crate) severity: &'static str,
    pub(crate) action: &'static str,
    pub(crate) start: usize,
    pub(crate) end: usize,
    #[serde(rename = "match")]
    pub(crate) matched: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) entity: Option<&'static str>,
    pub(crate) message: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct ErrorOut<'a> {
    pub(crate) line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<&'a RawValue>,
    pub(crate) error: &'a str,
}

/// The policy object every verdict line repeats, encoded once.
pub(crate) fn policy_json(stamp: &PolicyStamp) -> Box<RawValue> {
    #[derive(Serialize)]
    struct PolicyOut<'a> {
        id: &'a str,
        version: &'a str,
        hash: &'a str,
    }
    let json = serde_json::to_string(&PolicyOut {
        id: &stamp.id,
        version: &stamp.version,
        hash: &stamp.hash,
    })
    .expect("a struct of strings always serializes");
    RawValue::from_string(json).expect("serde_json wrote valid JSON")
}

/// A verdict as its wire type, borrowing everything.
pub(crate) fn verdict_out<'a>(
    id: Option<&'a RawValue>,
    verdict: &'a Verdict,
    policy: &'a RawValue,
) -> VerdictOut<'a> {
    VerdictOut {
        id,
        action: verdict.action.name(),
        findings: verdict
            .findings
            .iter()
            .map(|f| FindingOut {
                rule: &f.rule.id,
                clause: &f.rule.clause,
                clause_title: &f.rule.clause_title,
                category: &f.rule.category,
                severity: f.rule.severity.name(),
                action: f.rule.action.name(),
                start: f.start,
                end: f.end,
                matched: &f.matched,
                entity: f.entity.map(|e| e.name()),
                message: &f.rule.message,
            })
            .collect(),
        policy,
    }
}
