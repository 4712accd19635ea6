//! The archive over HTTP: `POST /api/v1/items` ingests items (one, or a batch), checking each
//! with the policy on the way in; `GET /api/v1/items` searches them and `GET
//! /api/v1/items/{seq}` shows one, both within what the caller may read.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::OnceLock;

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest as _, Path, Request, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use lifeguard_core::archive::{Item, Query, hex};
use lifeguard_core::{Action, AuthorType, ContentKind, Engine};
use lifeguard_store::{
    Checked, Cursor, DEFAULT_LIMIT, Filters, ItemDetail, MAX_LIMIT, Prepared, SearchRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};

use super::json::{JsonBytes, Params, json_error, param, store_error, too_large};
use super::wire::{ItemJson, time};
use crate::access::{self, Permission};
use crate::auth::{Client, Principal};
use crate::config::MAX_INGEST_BATCH;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// Bodies up to this size are checked on the request's own thread; larger ones on the
/// blocking pool, so a big batch never stalls the threads that answer other requests.
const INLINE_BODY: usize = 32 * 1024;

/// Items per thread below which a batch is not worth splitting across threads.
const ITEMS_PER_THREAD: usize = 250;

/// What one ingest request archived.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IngestReport)]
pub(super) struct IngestReport {
    /// Items in the request.
    count: usize,
    /// New versions archived (originals, edits and deletions).
    added: u64,
    /// Of those, edits and deletions of items already archived.
    revisions: u64,
    /// Versions already archived, skipped: ingesting the same item again adds nothing.
    unchanged: u64,
    /// Chain entries written: each new version and its verdict, and the audit entry.
    entries: u64,
    /// The chain's last entry after the request.
    head: Option<u64>,
}

// For the document only: `Item::from_json` reads the items.
/// An item, in the archive's JSON Lines import format (`docs/archive-format.md`).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = IngestItem)]
#[allow(dead_code)]
pub(super) struct IngestItem {
    /// The platform's name (`x`, `mastodon`, `linkedin`), at most 64 bytes; lowercased.
    platform: String,
    /// The platform's id for it (a JSON integer is read as its decimal text).
    external_id: String,
    /// The text, at most 1 MiB.
    text: Option<String>,
    /// The organization's account it was captured from.
    account: Option<String>,
    /// Who wrote it.
    author: Option<String>,
    /// `employee` (the default), `corporate` or `third_party`.
    author_type: Option<String>,
    /// `post` (the default), `reply`, `comment`, `message`, `repost`, `story`, `profile`,
    /// `bio`, `banner` or `pinned`.
    kind: Option<String>,
    /// When the platform says it was made (RFC 3339).
    created_at: Option<String>,
    /// When it was captured (RFC 3339); defaults to the time of the request.
    captured_at: Option<String>,
    /// The external id of what it replies to.
    parent: Option<String>,
    /// `original` (the default), `edit` or `deletion`. A deletion without text is archived
    /// unchecked; one with text is checked like any other item.
    change: Option<String>,
    /// The platform's payload as delivered; an object with fields beyond these keeps its own
    /// text here.
    raw: Option<String>,
    /// Links in it (at most 1,000).
    links: Option<Vec<String>>,
    /// Attachments (at most 100): `name`, and optionally `type`, `size`, `sha256`.
    #[schema(value_type = Option<Vec<Object>>)]
    media: Option<Vec<Value>>,
}

// For the document only.
/// A batch of items.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = IngestBatch)]
#[allow(dead_code)]
pub(super) struct IngestBatch {
    /// 1 to 5,000 items.
    items: Vec<IngestItem>,
}

// For the document only: the handler reads the body itself, to keep each item's own text as
// its raw payload and to name the item at fault.
/// One item, or a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = IngestRequest)]
#[allow(dead_code)]
pub(super) enum IngestRequest {
    /// One item.
    Item(Box<IngestItem>),
    /// A batch of items.
    Batch(IngestBatch),
}

/// Ingest items into the archive.
///
/// Takes one item object, or `{"items": [...]}` with up to 5,000 items (the body may then be
/// up to 16 MiB). Each item is checked by the policy in force and archived with its verdict, in
/// one transaction with an `items.ingest` audit entry. Items are known by platform and external
/// id: a version already archived is skipped, so sending the same items again adds nothing, and
/// other content under a known id is archived as an edit. When any item is invalid nothing is
/// archived, and the error names it (`items[3].external_id`). Needs the `ingest` scope.
#[utoipa::path(
    post,
    path = "/api/v1/items",
    operation_id = "ingest_items",
    tag = "items",
    request_body = IngestRequest,
    responses(
        (status = 201, description = "At least one new version was archived.", body = IngestReport),
        (status = 200, description = "Every item was archived already; nothing was added.", body = IngestReport),
        (status = 413, description = "More than 5,000 items, or a body over 16 MiB (`payload_too_large`).", body = ErrorBody),
    )
)]
pub(super) async fn ingest(
    State(state): State<AppState>,
    principal: Principal,
    client: Client,
    request: Request,
) -> ApiResult<(StatusCode, axum::Json<IngestReport>)> {
    principal.require(Permission::IngestItems)?;
    let JsonBytes(body) = JsonBytes::from_request(request, &state).await?;
    let captured_at = Timestamp::now();
    let engine = std::sync::Arc::clone(&state.policy.engine);
    let prepared = if body.len() <= INLINE_BODY {
        prepare(&body, &engine, captured_at)?
    } else {
        tokio::task::spawn_blocking(move || prepare(&body, &engine, captured_at))
            .await
            .map_err(|err| ApiError::internal("checking ingested items", &err))??
    };
    let count = prepared.len();
    let audit = principal.audit(&client, "items.ingest").with("count", count);
    let report = state
        .store
        .append_audited(prepared, &audit, Timestamp::now())
        .await
        .map_err(store_error)?;
    let status = if report.added > 0 { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        axum::Json(IngestReport {
            count,
            added: report.added,
            revisions: report.revisions,
            unchanged: report.unchanged,
            entries: report.entries,
            head: report.head,
        }),
    ))
}

/// Reads, checks and prepares every item of a body, or names the first invalid one.
fn prepare(body: &[u8], engine: &Engine, captured_at: Timestamp) -> ApiResult<Vec<Prepared>> {
    let (items, batch) = split(body)?;
    if items.len() > MAX_INGEST_BATCH {
        return Err(too_large(format!(
            "a batch holds at most {MAX_INGEST_BATCH} items, not {}",
            items.len()
        ))
        .field("items"));
    }
    if items.is_empty() {
        return Err(ApiError::bad_request("`items` is empty").field("items"));
    }
    if items.len() <= ITEMS_PER_THREAD {
        return prepare_chunk(&items, 0, batch, engine, captured_at);
    }
    let chunk = items.len().div_ceil(threads()).max(ITEMS_PER_THREAD);
    let mut parts = items.chunks(chunk).enumerate();
    let results: Vec<ApiResult<Vec<Prepared>>> = std::thread::scope(|scope| {
        let first = parts.next();
        let workers: Vec<_> = parts
            .map(|(n, part)| {
                scope.spawn(move || prepare_chunk(part, n * chunk, batch, engine, captured_at))
            })
            .collect();
        // This thread takes the first part while the others take theirs.
        let mut results = Vec::with_capacity(workers.len() + 1);
        if let Some((_, part)) = first {
            results.push(prepare_chunk(part, 0, batch, engine, captured_at));
        }
        for worker in workers {
            results.push(worker.join().unwrap_or_else(|_| {
                Err(ApiError::internal("checking ingested items", &"a worker panicked"))
            }));
        }
        results
    });
    let mut prepared = Vec::with_capacity(items.len());
    // Parts are in order, so the first error found is the one of the lowest index.
    for result in results {
        prepared.extend(result?);
    }
    Ok(prepared)
}

/// The threads a large batch is checked on: one per core.
fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// The items of a body, each as its own JSON text, and whether it was a batch.
fn split(body: &[u8]) -> ApiResult<(Vec<&RawValue>, bool)> {
    let shape =
        || ApiError::bad_request("the body must be one item object or `{\"items\": [...]}`");
    let top: BTreeMap<String, &RawValue> = serde_json::from_slice(body)
        .map_err(|err| if err.is_data() { shape() } else { json_error(body, &err, |_| Ok(())) })?;
    let Some(items) = top.get("items") else {
        let whole: &RawValue = serde_json::from_slice(body).map_err(|_| shape())?;
        return Ok((vec![whole], false));
    };
    if let Some(other) = top.keys().find(|key| *key != "items") {
        return Err(ApiError::bad_request(format!(
            "unknown field `{other}`: a batch is `{{\"items\": [...]}}` alone"
        ))
        .field(other.as_str()));
    }
    let items: Vec<&RawValue> = serde_json::from_str(items.get()).map_err(|_| {
        ApiError::bad_request("`items` must be an array of item objects").field("items")
    })?;
    Ok((items, true))
}

fn prepare_chunk(
    items: &[&RawValue],
    first: usize,
    batch: bool,
    engine: &Engine,
    captured_at: Timestamp,
) -> ApiResult<Vec<Prepared>> {
    let mut prepared = Vec::with_capacity(items.len());
    for (offset, raw) in items.iter().enumerate() {
        let at = |field: &str| match (batch, field) {
            (true, "(line)") => format!("items[{}]", first + offset),
            (true, field) => format!("items[{}].{field}", first + offset),
            (false, "(line)") => "(body)".to_owned(),
            (false, field) => field.to_owned(),
        };
        let item = item(raw, captured_at).map_err(|(field, message)| {
            let field = at(&field);
            ApiError::bad_request(format!("`{field}`: {message}")).field(field)
        })?;
        prepared.push(Prepared::new(Checked::new(engine, item)));
    }
    Ok(prepared)
}

/// One item from its JSON text, or the field at fault and what is wrong with it.
fn item(raw: &RawValue, captured_at: Timestamp) -> Result<Item, (String, String)> {
    let text = raw.get();
    let value = lifeguard_core::archive::parse_unique_keys(text)
        .map_err(|err| ("(line)".to_owned(), err.to_string()))?;
    Item::from_json_text(text, &value, captured_at).map_err(|err| (err.field, err.message))
}

/// Search filters; each is optional, and an empty value counts as absent.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchParams {
    /// Words, "quoted phrases" and prefix* terms, all of which must match.
    q: Option<String>,
    /// Platform.
    platform: Option<String>,
    /// Account handle.
    account: Option<String>,
    /// Author.
    author: Option<String>,
    /// `employee`, `corporate` or `third_party`.
    author_type: Option<String>,
    /// Content kind (`post`, `reply`, …).
    kind: Option<String>,
    /// Made at or after: an RFC 3339 time or a date (`2024-03-01`, midnight UTC).
    since: Option<String>,
    /// Made before: an RFC 3339 time or a date.
    until: Option<String>,
    /// The verdict's action on the way in: `allow`, `flag`, `require_approval`, `block`.
    verdict: Option<String>,
    /// A finding of this category.
    category: Option<String>,
    /// A finding of this rule.
    rule: Option<String>,
    /// `true`: only items with findings; `false`: only items without.
    #[param(value_type = Option<bool>)]
    has_findings: Option<String>,
    /// Results per page, 1 to 1,000 (default 20).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of search results.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SearchPage)]
pub(super) struct SearchPage {
    /// Results, newest first (by platform time, else capture time).
    items: Vec<ItemJson>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// Search archived items.
///
/// Newest first. Employees see the items they wrote or that were posted from accounts they own;
/// supervisors also those of everyone who reports to them; the other roles see every item.
/// Needs the `read` scope.
#[utoipa::path(
    get,
    path = "/api/v1/items",
    operation_id = "search_items",
    tag = "items",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of results.", body = SearchPage),
    )
)]
pub(super) async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Params(params): Params<SearchParams>,
) -> ApiResult<axum::Json<SearchPage>> {
    principal.require(Permission::ReadItems)?;
    let mut request = search_request(params)?;
    request.filters.audience =
        access::audience(state.store.as_ref(), &principal.person).await.map_err(store_error)?;
    let page = state.store.search(&request).await.map_err(store_error)?;
    Ok(axum::Json(SearchPage {
        items: page.items.into_iter().map(ItemJson::from).collect(),
        next_cursor: page.next.map(|cursor| cursor.token()),
    }))
}

fn search_request(params: SearchParams) -> ApiResult<SearchRequest> {
    let given = |value: Option<String>| value.filter(|text| !text.is_empty());
    let query = param("q", given(params.q).as_deref(), |text| {
        Query::parse(text).map_err(|err| err.to_string())
    })?
    .unwrap_or_default();
    let names = |err: lifeguard_core::item::UnknownName| err.to_string();
    let filters = Filters {
        platform: given(params.platform).map(|platform| platform.to_lowercase()),
        account: given(params.account),
        author: given(params.author),
        author_type: param("author_type", given(params.author_type).as_deref(), |text| {
            text.parse::<AuthorType>().map_err(names)
        })?,
        kind: param("kind", given(params.kind).as_deref(), |text| {
            text.parse::<ContentKind>().map_err(names)
        })?,
        since: param("since", given(params.since).as_deref(), parse_when)?,
        until: param("until", given(params.until).as_deref(), parse_when)?,
        action: param("verdict", given(params.verdict).as_deref(), |text| {
            text.parse::<Action>().map_err(|err| err.to_string())
        })?,
        category: given(params.category),
        rule: given(params.rule),
        has_findings: param("has_findings", given(params.has_findings).as_deref(), parse_bool)?,
        audience: None,
    };
    let limit = param("limit", given(params.limit).as_deref(), |text| {
        text.parse::<u32>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| format!("expected a number from 1 to {MAX_LIMIT}, not `{text}`"))
    })?
    .unwrap_or(DEFAULT_LIMIT);
    let cursor = param("cursor", given(params.cursor).as_deref(), |text| {
        Cursor::parse(text).map_err(|err| err.to_string())
    })?;
    Ok(SearchRequest { query, filters, limit, cursor })
}

/// An RFC 3339 time, or a date taken as midnight UTC.
pub(super) fn parse_when(text: &str) -> Result<Timestamp, String> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Ok(time);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|date| {
            jiff::tz::TimeZone::UTC
                .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
                .ok()
        })
        .ok_or_else(|| format!("`{text}` is not an RFC 3339 time or a date like 2024-03-01"))
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("expected `true` or `false`, not `{text}`")),
    }
}

/// Everything about one item version.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ItemDetail)]
pub(super) struct ItemDetailJson {
    /// The item.
    item: ItemJson,
    /// Its place in the hash chain.
    entry: EntryJson,
    /// The archived payload (the item format, canonical), or `null` once disposed of.
    #[schema(value_type = Option<Object>)]
    payload: Option<Value>,
    /// Every version of the same platform item, oldest first, this one included.
    versions: Vec<VersionJson>,
    /// The verdicts it was given, with their findings.
    verdicts: Vec<StoredVerdictJson>,
    /// The disposition entry, if its content was disposed of under retention.
    disposed_by: Option<u64>,
}

/// An entry's place in the chain.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChainEntry)]
pub(super) struct EntryJson {
    /// Entry number, from 1.
    seq: u64,
    /// `item`, `verdict`, `action`, ….
    kind: &'static str,
    /// When the archive recorded it.
    recorded_at: String,
    /// The previous entry's hash (hex).
    prev: String,
    /// SHA-256 of the canonical payload (hex).
    payload_sha256: String,
    /// This entry's hash (hex).
    hash: String,
}

impl From<&lifeguard_core::archive::Entry> for EntryJson {
    fn from(entry: &lifeguard_core::archive::Entry) -> EntryJson {
        EntryJson {
            seq: entry.seq,
            kind: entry.kind.name(),
            recorded_at: entry.recorded_at.clone(),
            prev: hex(&entry.prev),
            payload_sha256: hex(&entry.payload_hash),
            hash: hex(&entry.hash),
        }
    }
}

/// Another version of the same platform item.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ItemVersion)]
pub(super) struct VersionJson {
    /// Its entry number.
    seq: u64,
    /// `original`, `edit` or `deletion`.
    change: String,
    /// When it was captured.
    captured_at: String,
}

/// A verdict as archived.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StoredVerdict)]
pub(super) struct StoredVerdictJson {
    /// The verdict's entry number.
    seq: u64,
    /// When it was recorded.
    recorded_at: String,
    /// The verdict entry's hash (hex).
    hash: String,
    /// The action, or `null` once disposed of.
    action: Option<String>,
    /// The policy that gave it, or `null` once disposed of.
    policy: Option<StoredPolicy>,
    /// Its findings (empty once disposed of).
    findings: Vec<StoredFinding>,
}

/// The verdict payload's fields the API shows.
#[derive(Debug, Deserialize)]
struct VerdictPayload {
    action: String,
    policy: StoredPolicy,
    findings: Vec<StoredFinding>,
}

/// The policy named by an archived verdict.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(super) struct StoredPolicy {
    /// Policy id.
    id: String,
    /// Policy version.
    version: String,
    /// SHA-256 of the policy document and its term files.
    sha256: String,
}

/// A finding as archived with its verdict.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(super) struct StoredFinding {
    /// Rule id.
    rule: String,
    /// Clause id.
    clause: String,
    /// Category.
    category: String,
    /// Severity.
    severity: String,
    /// The rule's action.
    action: String,
    /// Byte offset where the match starts.
    start: usize,
    /// Byte offset where it ends (exclusive).
    end: usize,
    /// The matched text.
    #[serde(rename = "match")]
    matched: String,
}

impl ItemDetailJson {
    fn of(detail: ItemDetail) -> ApiResult<ItemDetailJson> {
        let verdicts = detail
            .verdicts
            .iter()
            .map(|verdict| {
                let payload = verdict
                    .payload
                    .clone()
                    .map(serde_json::from_value::<VerdictPayload>)
                    .transpose()
                    .map_err(|err| ApiError::internal("decoding an archived verdict", &err))?;
                let (action, policy, findings) = match payload {
                    Some(payload) => (Some(payload.action), Some(payload.policy), payload.findings),
                    None => (None, None, Vec::new()),
                };
                Ok(StoredVerdictJson {
                    seq: verdict.entry.seq,
                    recorded_at: verdict.entry.recorded_at.clone(),
                    hash: hex(&verdict.entry.hash),
                    action,
                    policy,
                    findings,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(ItemDetailJson {
            entry: EntryJson::from(&detail.entry),
            payload: detail.payload,
            versions: detail
                .versions
                .into_iter()
                .map(|version| VersionJson {
                    seq: version.seq,
                    change: version.change,
                    captured_at: time(version.captured_at),
                })
                .collect(),
            verdicts,
            disposed_by: detail.disposed_by,
            item: ItemJson::from(detail.summary),
        })
    }
}

/// Show one archived item.
///
/// The item with its chain entry, payload, every version of the same platform item, and its
/// verdicts with their findings. An item the caller may not read is answered 404 like one that
/// does not exist. Needs the `read` scope.
#[utoipa::path(
    get,
    path = "/api/v1/items/{seq}",
    operation_id = "show_item",
    tag = "items",
    params(("seq" = u64, Path, description = "The item's entry number.")),
    responses(
        (status = 200, description = "The item.", body = ItemDetailJson),
    )
)]
pub(super) async fn show(
    State(state): State<AppState>,
    principal: Principal,
    seq: Result<Path<String>, PathRejection>,
) -> ApiResult<axum::Json<ItemDetailJson>> {
    principal.require(Permission::ReadItems)?;
    let missing = || ApiError::not_found("no such item");
    let seq: u64 = seq.ok().and_then(|Path(text)| text.parse().ok()).ok_or_else(missing)?;
    let detail = state.store.item(seq).await.map_err(store_error)?.ok_or_else(missing)?;
    let audience =
        access::audience(state.store.as_ref(), &principal.person).await.map_err(store_error)?;
    if !access::in_audience(audience.as_ref(), &detail.summary.author, &detail.summary.account) {
        return Err(missing());
    }
    ItemDetailJson::of(detail).map(axum::Json)
}
