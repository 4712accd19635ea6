//! The audit trail: who did what, when and from where, newest first.

use askama::Template;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::Response;
use lifeguard_store::AuditFilter;
use serde::Deserialize;
use serde_json::Value;

use super::util::{DayEnd, TimeView, break_points, given, link, parse_day};
use super::{Ctx, Layout, PageError, render};
use crate::access::Permission;

/// Entries per page.
const PAGE: u32 = 50;

/// Query of `GET /audit`; every field may be empty.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AuditQuery {
    actor: String,
    action: String,
    since: String,
    until: String,
    before: String,
}

/// One entry as the table lists it.
struct Row {
    seq: u64,
    time: TimeView,
    actor: String,
    action: String,
    /// The target in pieces, see [`break_points`].
    target: Vec<String>,
    from: String,
    /// `key: value` pairs, in the record's order.
    details: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "audit.html", config = "templates/askama.toml")]
struct AuditPage<'a> {
    layout: Layout,
    query: &'a AuditQuery,
    rows: Vec<Row>,
    older: Option<String>,
}

/// `GET /audit`.
pub(crate) async fn list(ctx: Ctx, query: Result<Query<AuditQuery>, QueryRejection>) -> Response {
    let result = async {
        ctx.require(Permission::ReadAudit)?;
        let Ok(Query(query)) = query else {
            return Err(PageError::bad_request("The filter address could not be read."));
        };
        trail(&ctx, &query).await
    }
    .await;
    ctx.finish(result)
}

async fn trail(ctx: &Ctx, query: &AuditQuery) -> Result<Response, PageError> {
    let before = match given(&query.before) {
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| PageError::bad_request("`before` must be an entry number."))?,
        ),
        None => None,
    };
    let filter = AuditFilter {
        actor: given(&query.actor).map(str::to_owned),
        action: given(&query.action).map(str::to_owned),
        target: None,
        since: given(&query.since).map(|t| parse_day("since", t, DayEnd::Start)).transpose()?,
        until: given(&query.until).map(|t| parse_day("until", t, DayEnd::End)).transpose()?,
        before,
        limit: PAGE,
    };
    let entries = ctx.state.store.audit_trail(&filter).await?;
    let older = (entries.len() == PAGE as usize).then(|| entries.last()).flatten().map(|last| {
        let before = last.seq.to_string();
        link(
            "/audit",
            &[
                ("actor", &query.actor),
                ("action", &query.action),
                ("since", &query.since),
                ("until", &query.until),
                ("before", &before),
            ],
        )
    });
    let rows = entries
        .into_iter()
        .map(|entry| Row {
            seq: entry.seq,
            time: TimeView::new(entry.recorded_at),
            actor: entry.record.actor,
            action: entry.record.action,
            target: break_points(entry.record.target.as_deref().unwrap_or_default()),
            from: entry.record.from.unwrap_or_default(),
            details: entry
                .record
                .details
                .iter()
                .map(|(key, value)| (key.clone(), detail_text(value)))
                .collect(),
        })
        .collect();
    let page = AuditPage { layout: ctx.layout("Audit trail", "/audit"), query, rows, older };
    render(StatusCode::OK, &page)
}

/// A detail's value for people: text as it is, a list of texts joined with commas, anything
/// else as compact JSON.
fn detail_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::detail_text;

    #[test]
    fn details_read_as_words() {
        assert_eq!(detail_text(&json!("employee")), "employee");
        assert_eq!(detail_text(&json!(["check", "read"])), "check, read");
        assert_eq!(detail_text(&json!(4)), "4");
        assert_eq!(detail_text(&json!(null)), "null");
        assert_eq!(detail_text(&json!({"a": [1, "b"]})), r#"{"a":[1,"b"]}"#);
    }
}
