//! Searching the archive and reading one item, always within the person's audience.

use askama::Template;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use lifeguard_core::archive::{Entry, Query, hex};
use lifeguard_core::{Action, ContentKind};
use lifeguard_store::{Cursor, DEFAULT_LIMIT, Filters, ItemDetail, ItemSummary, SearchRequest};
use serde::Deserialize;
use serde_json::Value;

use super::check::{Choice, PLATFORMS, choices, labelled_choices};
use super::highlight::{Piece, Segment, Span, finding_pieces, snippet};
use super::util::{Badge, DayEnd, TimeView, action_label, given, link, parse_day};
use super::{Ctx, Layout, PageError, render};
use crate::access::{Permission, in_audience};

/// Characters of text shown for each result.
const SNIPPET_CHARS: usize = 240;

/// Query of `GET /archive`; every field may be empty.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ArchiveQuery {
    q: String,
    platform: String,
    account: String,
    author: String,
    kind: String,
    verdict: String,
    since: String,
    until: String,
    cursor: String,
}

/// One search result as listed.
struct ResultView {
    seq: u64,
    platform: String,
    account: String,
    author: String,
    kind: String,
    change: String,
    time: TimeView,
    action: Option<Badge>,
    snippet: Vec<Segment>,
    disposed: bool,
}

#[derive(Template)]
#[template(path = "archive.html", config = "templates/askama.toml")]
struct ArchivePage<'a> {
    layout: Layout,
    query: &'a ArchiveQuery,
    platforms: Vec<Choice>,
    kinds: Vec<Choice>,
    verdicts: Vec<Choice>,
    results: Vec<ResultView>,
    next: Option<String>,
    searched: bool,
}

/// `GET /archive`.
pub(crate) async fn search(ctx: Ctx, uri: Uri) -> Response {
    let result = search_page(&ctx, &uri).await;
    ctx.finish(result)
}

async fn search_page(ctx: &Ctx, uri: &Uri) -> Result<Response, PageError> {
    ctx.require(Permission::ReadItems)?;
    let axum::extract::Query(query) = axum::extract::Query::<ArchiveQuery>::try_from_uri(uri)
        .map_err(|_| PageError::bad_request("The search address could not be read."))?;
    let parsed = Query::parse(query.q.trim())
        .map_err(|err| PageError::bad_request(format!("The search words: {err}.")))?;
    let mut filters = Filters {
        platform: given(&query.platform).map(str::to_lowercase),
        account: given(&query.account).map(str::to_owned),
        author: given(&query.author).map(str::to_owned),
        ..Filters::default()
    };
    if let Some(kind) = given(&query.kind) {
        filters.kind = Some(
            kind.parse::<ContentKind>().map_err(|err| PageError::bad_request(err.to_string()))?,
        );
    }
    if let Some(verdict) = given(&query.verdict) {
        filters.action =
            Some(verdict.parse::<Action>().map_err(|err| PageError::bad_request(err.to_string()))?);
    }
    if let Some(since) = given(&query.since) {
        filters.since = Some(parse_day("since", since, DayEnd::Start)?);
    }
    if let Some(until) = given(&query.until) {
        filters.until = Some(parse_day("until", until, DayEnd::End)?);
    }
    let cursor = match given(&query.cursor) {
        Some(token) => Some(
            Cursor::parse(token)
                .map_err(|_| PageError::bad_request("The page link is not valid; search again."))?,
        ),
        None => None,
    };
    filters.audience = ctx.audience().await?;
    let request = SearchRequest { query: parsed.clone(), filters, limit: DEFAULT_LIMIT, cursor };
    let page = ctx.state.store.search(&request).await?;
    let results = page.items.iter().map(|item| result_view(item, &parsed)).collect();
    let next = page.next.map(|cursor| {
        let token = cursor.token();
        link(
            "/archive",
            &[
                ("q", &query.q),
                ("platform", &query.platform),
                ("account", &query.account),
                ("author", &query.author),
                ("kind", &query.kind),
                ("verdict", &query.verdict),
                ("since", &query.since),
                ("until", &query.until),
                ("cursor", &token),
            ],
        )
    });
    let kinds: Vec<&'static str> = ContentKind::ALL.iter().map(|k| k.name()).collect();
    let verdicts: Vec<&'static str> = Action::ALL.iter().map(|a| a.name()).collect();
    let searched = uri.query().is_some_and(|q| !q.is_empty());
    let page = ArchivePage {
        layout: ctx.layout("Archive", "/archive"),
        query: &query,
        platforms: choices(&PLATFORMS, &query.platform),
        kinds: choices(&kinds, &query.kind),
        verdicts: labelled_choices(&verdicts, &query.verdict, action_label),
        results,
        next,
        searched,
    };
    render(StatusCode::OK, &page)
}

fn result_view(item: &ItemSummary, query: &Query) -> ResultView {
    ResultView {
        seq: item.seq,
        platform: item.platform.clone(),
        account: item.account.clone(),
        author: item.author.clone(),
        kind: item.kind.clone(),
        change: item.change.clone(),
        time: TimeView::new(item.created_at.unwrap_or(item.captured_at)),
        action: item.action.as_deref().map(Badge::new),
        snippet: item
            .text
            .as_deref()
            .map(|text| snippet(text, query, SNIPPET_CHARS))
            .unwrap_or_default(),
        disposed: item.text.is_none(),
    }
}

/// A chain entry as shown.
struct EntryView {
    seq: u64,
    kind: &'static str,
    recorded_at: TimeView,
    hash: String,
    prev: String,
    payload_hash: String,
}

impl EntryView {
    fn new(entry: &Entry) -> EntryView {
        EntryView {
            seq: entry.seq,
            kind: entry.kind.name(),
            recorded_at: TimeView::exact(&entry.recorded_at),
            hash: hex(&entry.hash),
            prev: hex(&entry.prev),
            payload_hash: hex(&entry.payload_hash),
        }
    }
}

/// Another version of the item.
struct VersionView {
    seq: u64,
    change: String,
    time: TimeView,
    current: bool,
}

/// One finding of an archived verdict.
struct ArchivedFinding {
    rule: String,
    clause: String,
    clause_title: Option<String>,
    message: Option<String>,
    severity: String,
    action: Badge,
    matched: String,
}

/// One verdict of the item.
struct VerdictView {
    entry: EntryView,
    action: Badge,
    policy: String,
    findings: Vec<ArchivedFinding>,
    pieces: Vec<Piece>,
    disposed: bool,
}

#[derive(Template)]
#[template(path = "item.html", config = "templates/askama.toml")]
struct ItemPage {
    layout: Layout,
    seq: u64,
    platform: String,
    account: String,
    external_id: String,
    author: String,
    author_type: String,
    kind: String,
    change: String,
    created_at: Option<TimeView>,
    captured_at: TimeView,
    text: Option<String>,
    links: Vec<String>,
    disposed_by: Option<u64>,
    versions: Vec<VersionView>,
    verdicts: Vec<VerdictView>,
    /// The item's entry, then its verdicts'.
    chain: Vec<EntryView>,
}

/// `GET /items/{seq}`.
pub(crate) async fn item(ctx: Ctx, seq: Result<Path<String>, PathRejection>) -> Response {
    let result = async {
        ctx.require(Permission::ReadItems)?;
        let seq = seq
            .ok()
            .and_then(|Path(seq)| seq.parse::<u64>().ok())
            .ok_or_else(PageError::not_found)?;
        item_page(&ctx, seq).await
    }
    .await;
    ctx.finish(result)
}

async fn item_page(ctx: &Ctx, seq: u64) -> Result<Response, PageError> {
    let detail = ctx.state.store.item(seq).await?.ok_or_else(PageError::not_found)?;
    let audience = ctx.audience().await?;
    // Outside the audience it is "not found", so a person cannot learn which numbers exist.
    if !in_audience(audience.as_ref(), &detail.summary.author, &detail.summary.account) {
        return Err(PageError::not_found());
    }
    let page = item_view(ctx, &detail);
    render(StatusCode::OK, &page)
}

fn item_view(ctx: &Ctx, detail: &ItemDetail) -> ItemPage {
    let summary = &detail.summary;
    let text = summary.text.clone();
    let links = detail
        .payload
        .as_ref()
        .and_then(|payload| payload.get("links"))
        .and_then(Value::as_array)
        .map(|links| links.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let versions = detail
        .versions
        .iter()
        .map(|version| VersionView {
            seq: version.seq,
            change: version.change.clone(),
            time: TimeView::new(version.captured_at),
            current: version.seq == summary.seq,
        })
        .collect();
    let verdicts = detail
        .verdicts
        .iter()
        .map(|verdict| verdict_view(ctx, text.as_deref(), &verdict.entry, verdict.payload.as_ref()))
        .collect();
    ItemPage {
        layout: ctx.layout(format!("Item {}", summary.seq), ""),
        seq: summary.seq,
        platform: summary.platform.clone(),
        account: summary.account.clone(),
        external_id: summary.external_id.clone(),
        author: summary.author.clone(),
        author_type: summary.author_type.clone(),
        kind: summary.kind.clone(),
        change: summary.change.clone(),
        created_at: summary.created_at.map(TimeView::new),
        captured_at: TimeView::new(summary.captured_at),
        text,
        links,
        disposed_by: detail.disposed_by,
        versions,
        verdicts,
        chain: std::iter::once(&detail.entry)
            .chain(detail.verdicts.iter().map(|verdict| &verdict.entry))
            .map(EntryView::new)
            .collect(),
    }
}

/// A stored verdict, explained with the policy in force where its rule still exists there
/// (the verdict itself names the policy version that made it).
fn verdict_view(
    ctx: &Ctx,
    text: Option<&str>,
    entry: &Entry,
    payload: Option<&Value>,
) -> VerdictView {
    let policy = &ctx.state.policy.policy;
    let field = |value: &Value, name: &str| {
        value.get(name).and_then(Value::as_str).unwrap_or_default().to_owned()
    };
    let Some(payload) = payload else {
        return VerdictView {
            entry: EntryView::new(entry),
            action: Badge::new(""),
            policy: String::new(),
            findings: Vec::new(),
            pieces: Vec::new(),
            disposed: true,
        };
    };
    let stamp = payload.get("policy").cloned().unwrap_or(Value::Null);
    let same_policy = field(&stamp, "id") == policy.meta.id;
    let mut findings = Vec::new();
    let mut spans = Vec::new();
    for finding in payload.get("findings").and_then(Value::as_array).into_iter().flatten() {
        let rule_id = field(finding, "rule");
        let rule = same_policy.then(|| policy.rules.iter().find(|r| r.id == rule_id)).flatten();
        let clause_title = rule.and_then(|r| policy.clauses.get(r.clause)).map(|c| c.title.clone());
        let message = rule.map(|r| r.message.clone());
        let offset = |name: &str| {
            finding.get(name).and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok())
        };
        if let (Some(start), Some(end)) = (offset("start"), offset("end")) {
            spans.push(Span {
                start,
                end,
                rule: rule_id.clone(),
                title: message.clone().unwrap_or_else(|| rule_id.clone()),
            });
        }
        findings.push(ArchivedFinding {
            clause: field(finding, "clause"),
            clause_title,
            message,
            severity: field(finding, "severity"),
            action: Badge::new(&field(finding, "action")),
            matched: field(finding, "match"),
            rule: rule_id,
        });
    }
    VerdictView {
        entry: EntryView::new(entry),
        action: Badge::new(&field(payload, "action")),
        policy: format!("{} {}", field(&stamp, "id"), field(&stamp, "version")),
        findings,
        pieces: text.map(|text| finding_pieces(text, &spans)).unwrap_or_default(),
        disposed: false,
    }
}
