//! Checks, decoders and query translations both backends use, so they agree on every rule
//! that is not SQL.

use jiff::Timestamp;
use lifeguard_core::access::{REVIEW_AREAS, Role, TokenScope};
use lifeguard_core::archive::{
    AuditRecord, Checkpoint, Entry, EntryKind, Hash, Hold, Item, ItemFacts, MAX_NAME, MAX_PLATFORM,
    Query, Retention, RetentionRule, Term, disposable, format_time, hold_from_payload,
    parse_canonical, parse_time, retention_from_payload, sigma_spellings,
};

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::directory::{
    Account, AuditEntry, AuditFilter, Department, Lockout, NewAccount, NewPerson, NewSession,
    NewToken, Person, PersonPatch, Session, Setting, Token,
};
use crate::error::{ErrorKind, StoreError};
use crate::plan::{self, Prepared};
use crate::types::{
    Audience, DisposalCandidate, Filters, HoldRecord, ItemDetail, ItemSummary, MAX_LIMIT, Page,
    VerdictDetail, VersionRef,
};

/// Longest hold or rule id, reason or owner, in bytes.
pub(crate) const MAX_LABEL: usize = 1_000;

/// What [`crate::Store::dispose`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposal {
    /// The content was disposed; the disposition entry and the rule that expired.
    Disposed {
        /// The disposition entry.
        entry: u64,
        /// The retention rule.
        rule: String,
    },
    /// Kept: what the decision was at the time of the transaction.
    Kept(Retention),
    /// Someone else disposed of it first.
    AlreadyDisposed,
}

/// Finds the entry of the hold in force under a name, if any (bind: the name).
pub(crate) const ACTIVE_HOLD: &str = "SELECT h.seq FROM holds h WHERE h.id = $1 AND NOT EXISTS \
     (SELECT 1 FROM hold_releases r WHERE r.id = h.id AND r.seq > h.seq)";

/// For the entries that govern the archive and are looked up by name (holds, their releases,
/// retention rules): the statement that lists one by entry and name, and what it does.
pub(crate) fn listing(kind: EntryKind) -> Result<(&'static str, &'static str), StoreError> {
    match kind {
        EntryKind::Hold => Ok(("INSERT INTO holds (seq, id) VALUES ($1, $2)", "writing a hold")),
        EntryKind::HoldRelease => {
            Ok(("INSERT INTO hold_releases (seq, id) VALUES ($1, $2)", "writing a hold release"))
        }
        EntryKind::Retention => Ok((
            "INSERT INTO retention_rules (seq, id) VALUES ($1, $2)",
            "writing a retention rule",
        )),
        other => Err(StoreError::new(
            ErrorKind::Database,
            format!("{other} entries are not listed by name"),
        )),
    }
}

pub(crate) fn check_batch(batch: &[Prepared]) -> Result<(), StoreError> {
    if batch.len() > crate::MAX_BATCH {
        return Err(StoreError::invalid(format!(
            "a batch holds at most {} items, not {}",
            crate::MAX_BATCH,
            batch.len()
        )));
    }
    for (i, prepared) in batch.iter().enumerate() {
        prepared
            .item()
            .validate()
            .map_err(|err| StoreError::invalid(format!("item {} of the batch: {err}", i + 1)))?;
    }
    Ok(())
}

fn check_label(what: &str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(StoreError::invalid(format!("{what} must not be empty")));
    }
    if value.len() > MAX_LABEL {
        return Err(StoreError::invalid(format!("{what} is longer than {MAX_LABEL} bytes")));
    }
    // PostgreSQL text cannot hold NUL; refused on both databases so they accept the same labels.
    if value.contains('\0') {
        return Err(StoreError::invalid(format!("{what} must not contain a NUL character")));
    }
    Ok(())
}

pub(crate) fn check_hold(hold: &Hold) -> Result<(), StoreError> {
    check_label("a hold's id", &hold.id)?;
    check_label("a hold's reason", &hold.reason)?;
    check_label("a hold's owner", &hold.owner)?;
    if let (Some(from), Some(until)) = (hold.scope.from, hold.scope.until)
        && from >= until
    {
        return Err(StoreError::invalid(format!(
            "a hold's dates cover nothing: {} is not before {}",
            format_time(from),
            format_time(until)
        )));
    }
    Ok(())
}

pub(crate) fn check_release(reason: &str, by: &str) -> Result<(), StoreError> {
    check_label("a release's reason", reason)?;
    check_label("who releases a hold", by)
}

pub(crate) fn check_retention(id: &str, by: &str) -> Result<(), StoreError> {
    check_label("a retention rule's id", id)?;
    check_label("who sets retention", by)
}

pub(crate) fn check_limit(limit: u32) -> Result<u32, StoreError> {
    if limit == 0 || limit > MAX_LIMIT {
        return Err(StoreError::invalid(format!(
            "a page holds 1 to {MAX_LIMIT} results, not {limit}"
        )));
    }
    Ok(limit)
}

/// A query written back as text, as stored in a hold.
pub(crate) fn query_text(query: &Query) -> String {
    query
        .terms()
        .iter()
        .map(|term| match term {
            Term::Word(word) => word.clone(),
            Term::Prefix(prefix) => format!("{prefix}*"),
            Term::Phrase(words) => format!("\"{}\"", words.join(" ")),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The query as an FTS5 MATCH expression. Terms hold only letters and digits (see
/// `archive::tokens`), so quoting each one is enough.
pub fn fts5_match(query: &Query) -> String {
    query
        .terms()
        .iter()
        .map(|term| match term {
            Term::Word(word) => format!("\"{word}\""),
            Term::Prefix(prefix) => format!("\"{prefix}\"*"),
            Term::Phrase(words) => format!("\"{}\"", words.join(" ")),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The query as a PostgreSQL `tsquery` for the `simple` configuration. A word ending in a
/// sigma is looked for with either sigma, as the index holds it the way its text was written
/// (FTS5's tokenizer folds the two itself).
pub fn tsquery(query: &Query) -> String {
    let either = |word: &str, suffix: &str| {
        let spellings: Vec<String> =
            sigma_spellings(word).iter().map(|w| format!("'{w}'{suffix}")).collect();
        match spellings.as_slice() {
            [one] => one.clone(),
            many => format!("({})", many.join(" | ")),
        }
    };
    query
        .terms()
        .iter()
        .map(|term| match term {
            Term::Word(word) => either(word, ""),
            Term::Prefix(prefix) => either(prefix, ":*"),
            Term::Phrase(words) => {
                format!(
                    "({})",
                    words.iter().map(|w| either(w, "")).collect::<Vec<_>>().join(" <-> ")
                )
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

pub(crate) fn page(mut items: Vec<ItemSummary>, limit: u32) -> Page {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = if more { items.last().map(|item| item.cursor) } else { None };
    Page { items, next }
}

pub(crate) fn version(seq: u64, change: String, captured_at: i64) -> VersionRef {
    VersionRef { seq, change, captured_at: plan::from_micros(captured_at) }
}

fn decode(entry: &Entry) -> Option<serde_json::Value> {
    entry.payload.as_deref().and_then(|payload| parse_canonical(payload).ok())
}

pub(crate) fn detail(
    summary: ItemSummary,
    entry: Entry,
    versions: Vec<VersionRef>,
    verdicts: Vec<Entry>,
    disposed_by: Option<u64>,
) -> ItemDetail {
    let payload = decode(&entry);
    let verdicts = verdicts
        .into_iter()
        .map(|entry| VerdictDetail { payload: decode(&entry), entry })
        .collect();
    ItemDetail { summary, entry, payload, versions, verdicts, disposed_by }
}

fn corrupt(message: String) -> StoreError {
    StoreError::new(ErrorKind::Corrupt, message)
}

fn payload_value(seq: u64, payload: Option<String>) -> Result<serde_json::Value, StoreError> {
    let payload = payload.ok_or_else(|| corrupt(format!("entry {seq} has no payload")))?;
    parse_canonical(&payload).map_err(|err| corrupt(format!("entry {seq}: {err}")))
}

pub(crate) fn hold_record(
    seq: u64,
    placed_at: &str,
    payload: Option<String>,
    release: Option<(u64, Option<String>)>,
) -> Result<HoldRecord, StoreError> {
    let (hold, query) = hold_from_payload(&payload_value(seq, payload)?).map_err(corrupt)?;
    let released = match release {
        Some((release_seq, payload)) => {
            let value = payload_value(release_seq, payload)?;
            let field = |name: &str| {
                value.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
            };
            Some((release_seq, field("reason"), field("by")))
        }
        None => None,
    };
    let placed_at = parse_time(placed_at).map_err(corrupt)?;
    Ok(HoldRecord { hold, query, placed: seq, placed_at, released })
}

pub(crate) fn holds(payloads: Vec<Option<String>>) -> Result<Vec<Hold>, StoreError> {
    payloads
        .into_iter()
        .map(|payload| {
            let value = payload_value(0, payload)?;
            hold_from_payload(&value).map(|(hold, _)| hold).map_err(corrupt)
        })
        .collect()
}

pub(crate) fn retention_rules(
    payloads: Vec<Option<String>>,
) -> Result<Vec<RetentionRule>, StoreError> {
    let mut rules = Vec::new();
    for payload in payloads {
        if let Some(rule) = retention_from_payload(&payload_value(0, payload)?).map_err(corrupt)? {
            rules.push(rule);
        }
    }
    Ok(rules)
}

/// Builds a candidate from `(item entry, payload, comma-separated verdict entries)` rows.
pub(crate) fn candidate(
    key: String,
    rows: Vec<(u64, Option<String>, Option<String>)>,
) -> Result<DisposalCandidate, StoreError> {
    let mut versions = Vec::with_capacity(rows.len());
    let mut verdicts = Vec::new();
    for (seq, payload, verdict_list) in rows {
        let value = payload_value(seq, payload)?;
        let item = Item::from_json(&value, Timestamp::UNIX_EPOCH)
            .map_err(|err| corrupt(format!("entry {seq}: {err}")))?;
        versions.push((seq, item));
        for verdict in verdict_list.iter().flat_map(|list| list.split(',')) {
            verdicts.push(
                verdict
                    .trim()
                    .parse()
                    .map_err(|_| corrupt(format!("entry {seq}: bad verdict list")))?,
            );
        }
    }
    Ok(DisposalCandidate { key, versions, verdicts })
}

impl DisposalCandidate {
    /// Every entry whose payload a disposition drops: the versions and their verdicts.
    pub fn targets(&self) -> Vec<u64> {
        let mut targets: Vec<u64> = self
            .versions
            .iter()
            .map(|(seq, _)| *seq)
            .chain(self.verdicts.iter().copied())
            .collect();
        targets.sort_unstable();
        targets.dedup();
        targets
    }

    /// What retention and holds decide for this item at `now`.
    pub fn decide(&self, rules: &[RetentionRule], holds: &[Hold], now: Timestamp) -> Retention {
        let facts: Vec<ItemFacts<'_>> = self
            .versions
            .iter()
            .map(|(_, item)| ItemFacts {
                platform: &item.platform,
                account: &item.account,
                author: &item.author,
                author_type: item.author_type,
                kind: item.kind,
                text: &item.text,
                created_at: item.created_at,
                captured_at: item.captured_at,
            })
            .collect();
        disposable(&facts, rules, holds, now)
    }
}

/// The rule and expiry if the candidate may go, or what keeps it.
pub(crate) fn decide(
    candidate: &DisposalCandidate,
    rules: &[RetentionRule],
    holds: &[Hold],
    now: Timestamp,
) -> Result<(String, Timestamp), Disposal> {
    match candidate.decide(rules, holds, now) {
        Retention::Dispose { rule, expired_at } => Ok((rule, expired_at)),
        other => Err(Disposal::Kept(other)),
    }
}

pub(crate) fn check_checkpoint(
    checkpoint: &Checkpoint,
    hash: Option<Hash>,
) -> Result<(), StoreError> {
    check_label("a checkpoint's key id", &checkpoint.key_id)?;
    check_label("a checkpoint's time", &checkpoint.signed_at)?;
    match hash {
        None => Err(StoreError::invalid(format!(
            "checkpoint names entry {}, which does not exist",
            checkpoint.seq
        ))),
        Some(hash) if hash != checkpoint.head => Err(StoreError::invalid(format!(
            "checkpoint's head differs from the hash of entry {}",
            checkpoint.seq
        ))),
        Some(_) => Ok(()),
    }
}

pub(crate) fn checkpoint(
    seq: u64,
    head: Vec<u8>,
    signed_at: String,
    key_id: String,
    signature: Vec<u8>,
) -> Result<Checkpoint, StoreError> {
    let signature: [u8; 64] = signature
        .as_slice()
        .try_into()
        .map_err(|_| corrupt(format!("checkpoint at entry {seq}: signature is not 64 bytes")))?;
    Ok(Checkpoint { seq, head: to_hash(head)?, signed_at, key_id, signature })
}

/// An entry number as both databases store it (signed 64 bits).
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A stored entry number; the schema never holds a negative one.
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A stored 32-byte digest.
pub(crate) fn to_hash(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    Hash::try_from(bytes.as_slice()).map_err(|_| {
        StoreError::new(
            ErrorKind::Corrupt,
            format!("a stored hash has {} bytes, not 32", bytes.len()),
        )
    })
}

/// How a backend writes a column compared without regard to ASCII letter case, in the form
/// its index on that column serves. Handles and logins are matched this way, as legal holds
/// match them (`HoldScope` in `lifeguard_core::archive`), and the value compared is lowercased.
pub(crate) type AnyCase = fn(&'static str) -> String;

/// Adds the search filters to a query over `items i` (after a `WHERE`), the same for both
/// databases; the cursor, whose best form differs between them, is left to the caller.
pub(crate) fn push_filters<DB>(builder: &mut QueryBuilder<DB>, f: &Filters, any_case: AnyCase)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> &'static str: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    if let Some(platform) = &f.platform {
        builder.push(" AND i.platform = ").push_bind(platform.to_lowercase());
    }
    if let Some(account) = &f.account {
        builder.push(format!(" AND {} = ", any_case("i.account")));
        builder.push_bind(account.to_ascii_lowercase());
    }
    if let Some(author) = &f.author {
        builder.push(format!(" AND {} = ", any_case("i.author")));
        builder.push_bind(author.to_ascii_lowercase());
    }
    if let Some(author_type) = f.author_type {
        builder.push(" AND i.author_type = ").push_bind(author_type.name());
    }
    if let Some(kind) = f.kind {
        builder.push(" AND i.kind = ").push_bind(kind.name());
    }
    if let Some(since) = f.since {
        builder.push(" AND i.sort_at >= ").push_bind(plan::micros(since));
    }
    if let Some(until) = f.until {
        builder.push(" AND i.sort_at < ").push_bind(plan::micros(until));
    }
    if let Some(action) = f.action {
        builder.push(" AND i.action = ").push_bind(action.name());
    }
    match f.has_findings {
        Some(true) => {
            builder.push(" AND i.findings > 0");
        }
        Some(false) => {
            builder.push(" AND i.findings = 0");
        }
        None => {}
    }
    if let Some(category) = &f.category {
        builder
            .push(" AND EXISTS (SELECT 1 FROM findings x WHERE x.item = i.seq AND x.category = ");
        builder.push_bind(category.clone()).push(")");
    }
    if let Some(rule) = &f.rule {
        builder.push(" AND EXISTS (SELECT 1 FROM findings x WHERE x.item = i.seq AND x.rule = ");
        builder.push_bind(rule.clone()).push(")");
    }
    if let Some(audience) = &f.audience {
        push_audience(builder, audience, any_case);
    }
}

/// Most authors plus accounts an audience may list: each is one bound value, and SQLite
/// allows 32,766 in a statement.
pub(crate) const MAX_AUDIENCE: usize = 20_000;

/// Restricts a query over `items i` to what an audience may see. Names holding U+0000 are
/// left out: no login or handle holds one, and PostgreSQL would refuse to compare them.
fn push_audience<DB>(builder: &mut QueryBuilder<DB>, audience: &Audience, any_case: AnyCase)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    let usable = |names: &[String]| -> Vec<String> {
        names.iter().filter(|name| !name.contains('\0')).map(|n| n.to_ascii_lowercase()).collect()
    };
    let authors = usable(&audience.authors);
    let accounts = usable(&audience.accounts);
    let mut any = false;
    builder.push(" AND (");
    for (column, names) in [("i.author", authors), ("i.account", accounts)] {
        if names.is_empty() {
            continue;
        }
        if any {
            builder.push(" OR ");
        }
        any = true;
        builder.push(any_case(column)).push(" IN (");
        let mut separated = builder.separated(", ");
        for name in names {
            separated.push_bind(name);
        }
        builder.push(")");
    }
    if !any {
        // Nobody to see: nothing.
        builder.push("1 = 0");
    }
    builder.push(")");
}

pub(crate) fn check_audience(filters: &Filters) -> Result<(), StoreError> {
    if let Some(audience) = &filters.audience {
        let names = audience.authors.len() + audience.accounts.len();
        if names > MAX_AUDIENCE {
            return Err(StoreError::invalid(format!(
                "an audience lists at most {MAX_AUDIENCE} authors and accounts, not {names}"
            )));
        }
    }
    Ok(())
}

// The directory: checks, statements and row decoders both backends share.

/// Longest login, department id, token id or setting key, in bytes.
pub(crate) const MAX_ID: usize = 64;

/// Longest display name, e-mail address, CSRF token or login as typed, in bytes.
pub(crate) const MAX_DIRECTORY_NAME: usize = 256;

/// Longest password hash (argon2id PHC strings are about 100 bytes).
const MAX_PASSWORD_HASH: usize = 1_024;

/// Longest setting value, in bytes.
pub(crate) const MAX_SETTING: usize = 64 * 1_024;

/// Most audit entries one [`crate::Directory::audit_trail`] call returns.
pub(crate) const MAX_AUDIT_PAGE: u32 = 1_000;

/// A database error with what was being done.
pub(crate) fn db(context: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |err| StoreError::database(context, err)
}

pub(crate) fn check_audit(audit: &AuditRecord) -> Result<(), StoreError> {
    audit.validate().map_err(StoreError::invalid)
}

/// Refuses text PostgreSQL cannot store (NUL) or that is empty (when `required`) or too long,
/// so both databases refuse the same input with the same message.
fn check_text(field: &str, value: &str, required: bool, max: usize) -> Result<(), StoreError> {
    if required && value.trim().is_empty() {
        return Err(StoreError::invalid(format!("`{field}` must not be empty")));
    }
    if value.len() > max {
        return Err(StoreError::invalid(format!("`{field}` is longer than {max} bytes")));
    }
    if value.contains('\0') {
        return Err(StoreError::invalid(format!("`{field}` contains a NUL character")));
    }
    Ok(())
}

/// An id of 1 to [`MAX_ID`] bytes of ASCII lowercase letters, digits and `extra`.
fn check_id(field: &str, value: &str, extra: &str) -> Result<(), StoreError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(c);
    if value.is_empty() || value.len() > MAX_ID || !value.chars().all(allowed) {
        let extra: Vec<String> = extra.chars().map(|c| format!("`{c}`")).collect();
        let also = if extra.is_empty() { String::new() } else { format!(", {}", extra.join(", ")) };
        return Err(StoreError::invalid(format!(
            "`{field}` must be 1 to {MAX_ID} bytes of a-z, 0-9{also}, not `{}`",
            value.escape_debug()
        )));
    }
    Ok(())
}

pub(crate) fn check_login(login: &str) -> Result<(), StoreError> {
    check_id("login", login, "._-")
}

pub(crate) fn check_department_id(id: &str) -> Result<(), StoreError> {
    check_id("department", id, "-")
}

pub(crate) fn check_department(department: &Department) -> Result<(), StoreError> {
    check_department_id(&department.id)?;
    check_text("name", &department.name, true, MAX_DIRECTORY_NAME)
}

/// The fields of a person that any change must leave valid, checked on the result of a change
/// rather than on the change, so a role and an area are always judged together.
pub(crate) fn check_person(
    name: &str,
    email: &str,
    department: Option<&str>,
    role: Role,
    area: Option<&str>,
    password_hash: Option<&str>,
) -> Result<(), StoreError> {
    check_text("name", name, true, MAX_DIRECTORY_NAME)?;
    check_text("email", email, false, MAX_DIRECTORY_NAME)?;
    if let Some(department) = department {
        check_department_id(department)?;
    }
    match (role, area) {
        (_, None) => {}
        (Role::Reviewer, Some(area)) if REVIEW_AREAS.contains(&area) => {}
        (Role::Reviewer, Some(area)) => {
            return Err(StoreError::invalid(format!(
                "`area` `{}` is not a review area (expected one of {})",
                area.escape_debug(),
                REVIEW_AREAS.join(", ")
            )));
        }
        (role, Some(_)) => {
            return Err(StoreError::invalid(format!(
                "`area` is only for reviewers, and this person's role is {role}"
            )));
        }
    }
    if let Some(hash) = password_hash {
        check_text("password_hash", hash, true, MAX_PASSWORD_HASH)?;
    }
    Ok(())
}

pub(crate) fn check_new_person(person: &NewPerson) -> Result<(), StoreError> {
    check_login(&person.login)?;
    check_person(
        &person.name,
        &person.email,
        person.department.as_deref(),
        person.role,
        person.area.as_deref(),
        person.password_hash.as_deref(),
    )
}

/// A person as a change leaves them.
pub(crate) struct Merged {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) department: Option<String>,
    pub(crate) manager: Option<i64>,
    pub(crate) role: Role,
    pub(crate) area: Option<String>,
    pub(crate) active: bool,
}

/// Applies a patch to a person and checks the result.
pub(crate) fn merge(person: &Person, patch: &PersonPatch) -> Result<Merged, StoreError> {
    let merged = Merged {
        name: patch.name.clone().unwrap_or_else(|| person.name.clone()),
        email: patch.email.clone().unwrap_or_else(|| person.email.clone()),
        department: patch.department.clone().unwrap_or_else(|| person.department.clone()),
        manager: patch.manager.unwrap_or(person.manager),
        role: patch.role.unwrap_or(person.role),
        area: patch.area.clone().unwrap_or_else(|| person.area.clone()),
        active: patch.active.unwrap_or(person.active),
    };
    check_person(
        &merged.name,
        &merged.email,
        merged.department.as_deref(),
        merged.role,
        merged.area.as_deref(),
        patch.password_hash.as_deref(),
    )?;
    if merged.manager == Some(person.id) {
        return Err(StoreError::invalid(format!(
            "`manager`: {} cannot be their own manager",
            person.login
        )));
    }
    Ok(merged)
}

pub(crate) fn check_account(account: &NewAccount) -> Result<(), StoreError> {
    check_text("platform", &account.platform, true, MAX_PLATFORM)?;
    if account.platform != account.platform.to_lowercase() {
        return Err(StoreError::invalid(format!(
            "`platform` must be lowercase, not `{}`",
            account.platform.escape_debug()
        )));
    }
    check_text("handle", &account.handle, true, MAX_NAME)?;
    check_text("name", &account.name, true, MAX_DIRECTORY_NAME)?;
    if let Some(department) = &account.department {
        check_department_id(department)?;
    }
    Ok(())
}

pub(crate) fn check_token(token: &NewToken) -> Result<(), StoreError> {
    check_id("token id", &token.id, "")?;
    check_text("token name", &token.name, true, MAX_DIRECTORY_NAME)?;
    if token.scopes.is_empty() {
        return Err(StoreError::invalid("`scopes`: a token needs at least one scope"));
    }
    Ok(())
}

/// Each scope once, in the order given.
pub(crate) fn distinct_scopes(scopes: &[TokenScope]) -> Vec<TokenScope> {
    let mut distinct = Vec::with_capacity(scopes.len());
    for scope in scopes {
        if !distinct.contains(scope) {
            distinct.push(*scope);
        }
    }
    distinct
}

/// Scopes as stored: their names, each once, separated by spaces.
pub(crate) fn scope_names(scopes: &[TokenScope]) -> String {
    distinct_scopes(scopes).iter().map(|scope| scope.name()).collect::<Vec<_>>().join(" ")
}

pub(crate) fn check_session(session: &NewSession, at: Timestamp) -> Result<(), StoreError> {
    check_text("csrf", &session.csrf, true, MAX_DIRECTORY_NAME)?;
    if session.expires_at <= at {
        return Err(StoreError::invalid("`expires_at`: a session must end after it starts"));
    }
    Ok(())
}

/// A login as typed at sign-in, which need not be a valid one.
pub(crate) fn check_typed_login(login: &str) -> Result<(), StoreError> {
    check_text("login", login, true, MAX_DIRECTORY_NAME)
}

pub(crate) fn check_lockout(lockout: Lockout) -> Result<(), StoreError> {
    if lockout.max_failures == 0 {
        return Err(StoreError::invalid("`max_failures` must be at least 1"));
    }
    if !lockout.lock_for.is_positive() {
        return Err(StoreError::invalid("`lock_for` must be longer than nothing"));
    }
    Ok(())
}

/// What a failed sign-in makes of the failures recorded so far: `(failures, last failure,
/// locked until)` before, the time, the lockout. Failures more than `lock_for` apart do not
/// count as in a row. Every failure from `max_failures` on (re)locks, so failing again while
/// or right after being locked never buys more guesses.
pub(crate) fn next_failures(
    before: Option<(i64, i64, Option<i64>)>,
    at: Timestamp,
    lockout: Lockout,
) -> (i64, Option<i64>) {
    let now = plan::micros(at);
    let window = i64::try_from(lockout.lock_for.as_micros()).unwrap_or(i64::MAX);
    let (failures, locked_until) = match before {
        Some((failures, last, locked_until)) if now.saturating_sub(last) <= window => {
            (failures.saturating_add(1), locked_until)
        }
        _ => (1, None),
    };
    if failures >= i64::from(lockout.max_failures) {
        (failures, Some(now.saturating_add(window)))
    } else {
        (failures, locked_until)
    }
}

pub(crate) fn check_setting(setting: &Setting) -> Result<(), StoreError> {
    check_id("setting key", &setting.key, "_.")?;
    check_text("setting value", &setting.value, false, MAX_SETTING)
}

/// Whether a filter names text nothing stored can hold, so it matches nothing.
pub(crate) fn audit_filter_is_empty(filter: &AuditFilter) -> bool {
    [&filter.actor, &filter.action, &filter.target]
        .iter()
        .any(|text| text.as_ref().is_some_and(|text| text.contains('\0')))
        || filter.before == Some(0)
}

/// Adds an audit trail's filters to a query over `actions a` (after a `WHERE`), with its order
/// and limit.
pub(crate) fn push_audit_filters<DB>(builder: &mut QueryBuilder<DB>, filter: &AuditFilter)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    if let Some(actor) = &filter.actor {
        builder.push(" AND a.actor = ").push_bind(actor.clone());
    }
    if let Some(action) = &filter.action {
        // The family `login` is `login` and everything from `login.` up to (not including)
        // `login/`, the next byte after `.`: a range both databases read from the index,
        // where LIKE would need escaping and differs in case between them.
        builder.push(" AND (a.action = ").push_bind(action.clone());
        builder.push(" OR (a.action >= ").push_bind(format!("{action}."));
        builder.push(" AND a.action < ").push_bind(format!("{action}/")).push("))");
    }
    if let Some(target) = &filter.target {
        builder.push(" AND a.target = ").push_bind(target.clone());
    }
    if let Some(since) = filter.since {
        builder.push(" AND a.recorded_at >= ").push_bind(plan::micros(since));
    }
    if let Some(until) = filter.until {
        builder.push(" AND a.recorded_at < ").push_bind(plan::micros(until));
    }
    if let Some(before) = filter.before {
        builder.push(" AND a.seq < ").push_bind(to_i64(before));
    }
    let limit = filter.limit.clamp(1, MAX_AUDIT_PAGE);
    builder.push(" ORDER BY a.seq DESC LIMIT ").push_bind(i64::from(limit));
}

/// A row of the audit trail with its entry's time and payload.
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    row_at: i64,
    actor: String,
    action: String,
    target: Option<String>,
    recorded_at: String,
    payload: Option<String>,
}

impl AuditRow {
    /// The entry, read from its payload. The row the trail was filtered by must say the same,
    /// or the trail would show some actions under the wrong names: that is corruption.
    pub(crate) fn entry(self) -> Result<AuditEntry, StoreError> {
        let seq = to_u64(self.seq);
        let value = payload_value(seq, self.payload)?;
        let record = AuditRecord::from_payload(&value)
            .map_err(|err| corrupt(format!("entry {seq}: {err}")))?;
        let recorded_at =
            parse_time(&self.recorded_at).map_err(|err| corrupt(format!("entry {seq}: {err}")))?;
        let differs = [
            ("actor", self.actor != record.actor),
            ("action", self.action != record.action),
            ("target", self.target != record.target),
            ("recorded_at", self.row_at != plan::micros(recorded_at)),
        ];
        if let Some((field, _)) = differs.iter().find(|(_, differs)| *differs) {
            return Err(corrupt(format!(
                "entry {seq}: the audit trail's `{field}` differs from the archived entry"
            )));
        }
        Ok(AuditEntry { seq, recorded_at, record })
    }
}

/// An action entry's time as the audit trail stores it: the entry's own time, read back, so
/// the two always agree.
pub(crate) fn action_time(entry: &Entry) -> Result<i64, StoreError> {
    parse_time(&entry.recorded_at)
        .map(plan::micros)
        .map_err(|err| corrupt(format!("entry {}: {err}", entry.seq)))
}

/// Stores a checkpoint (binds: entry, head, time signed, key id, signature); one already stored
/// for the same entry is kept.
pub(crate) const INSERT_CHECKPOINT: &str = "INSERT INTO checkpoints (seq, head, signed_at, key_id, \
     signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING";

/// Writes an action entry's row in the audit trail (binds: entry, time in microseconds,
/// actor, action, target).
pub(crate) const INSERT_ACTION: &str =
    "INSERT INTO actions (seq, recorded_at, actor, action, target) VALUES ($1, $2, $3, $4, $5)";

/// The audit trail's query, to which [`push_audit_filters`] adds.
pub(crate) const AUDIT_TRAIL: &str = "SELECT a.seq, a.recorded_at AS row_at, a.actor, a.action, \
     a.target, e.recorded_at, e.payload FROM actions a JOIN entries e ON e.seq = a.seq WHERE 1 = 1";

macro_rules! person_columns {
    () => {
        "p.id, p.login, p.name, p.email, p.department, p.manager, p.role, p.area, p.active, \
         p.created_at"
    };
}

macro_rules! token_columns {
    () => {
        "t.id AS token_id, t.name AS token_name, t.person AS token_person, t.scopes, \
         t.created_at AS token_created_at, t.expires_at, t.revoked_at"
    };
}

pub(crate) const DEPARTMENTS: &str = "SELECT id, name FROM departments ORDER BY id";
pub(crate) const DEPARTMENT_EXISTS: &str = "SELECT count(*) FROM departments WHERE id = $1";
pub(crate) const PUT_DEPARTMENT: &str = "INSERT INTO departments (id, name) VALUES ($1, $2) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name";

pub(crate) const PEOPLE: &str =
    concat!("SELECT ", person_columns!(), " FROM people p ORDER BY p.login");
pub(crate) const PERSON: &str =
    concat!("SELECT ", person_columns!(), " FROM people p WHERE p.id = $1");
pub(crate) const PERSON_BY_LOGIN: &str =
    concat!("SELECT ", person_columns!(), " FROM people p WHERE p.login = $1");
pub(crate) const PASSWORD_HASH: &str = "SELECT password_hash FROM people WHERE id = $1";
/// Everyone below a manager. `UNION`, not `UNION ALL`, so even a loop the checks somehow let
/// in ends the walk.
pub(crate) const TEAM: &str = concat!(
    "WITH RECURSIVE team (id) AS (SELECT id FROM people WHERE manager = $1 \
     UNION SELECT p.id FROM people p JOIN team t ON p.manager = t.id) SELECT ",
    person_columns!(),
    " FROM people p WHERE p.id IN (SELECT id FROM team) AND p.id <> $1 ORDER BY p.login"
);
/// Whether person `$2` is `$1` or above `$1` in the chain of managers (so making `$2` report
/// to `$1` would close a loop).
pub(crate) const MANAGES: &str = "WITH RECURSIVE up (id) AS (SELECT id FROM people WHERE id = $1 \
     UNION SELECT p.manager FROM people p JOIN up ON p.id = up.id WHERE p.manager IS NOT NULL) \
     SELECT count(*) FROM up WHERE id = $2";
pub(crate) const INSERT_PERSON: &str = "INSERT INTO people (login, name, email, department, \
     manager, role, area, active, password_hash, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $9) RETURNING id";
/// Binds: name, email, department, manager, role, area, active, password hash (NULL keeps
/// it), id.
pub(crate) const UPDATE_PERSON: &str = "UPDATE people SET name = $1, email = $2, department = $3, \
     manager = $4, role = $5, area = $6, active = $7, \
     password_hash = coalesce($8, password_hash) WHERE id = $9";
pub(crate) const END_SESSIONS_OF: &str = "DELETE FROM sessions WHERE person = $1";
/// Revokes a person's live tokens (binds: person, time).
pub(crate) const REVOKE_TOKENS_OF: &str = "UPDATE api_tokens SET revoked_at = $2 \
     WHERE person = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)";

pub(crate) const ACCOUNTS: &str = "SELECT id, platform, handle, name, owner, department, \
     created_at FROM accounts ORDER BY platform, handle";
pub(crate) const ACCOUNT_EXISTS: &str =
    "SELECT count(*) FROM accounts WHERE platform = $1 AND handle = $2";
pub(crate) const INSERT_ACCOUNT: &str = "INSERT INTO accounts (platform, handle, name, owner, \
     department, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

pub(crate) const TOKENS: &str =
    concat!("SELECT ", token_columns!(), " FROM api_tokens t ORDER BY t.created_at, t.id");
pub(crate) const TOKENS_OF: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens t WHERE t.person = $1 ORDER BY t.created_at, t.id"
);
pub(crate) const TOKEN: &str =
    concat!("SELECT ", token_columns!(), " FROM api_tokens t WHERE t.id = $1");
pub(crate) const TOKEN_SECRET: &str = concat!(
    "SELECT ",
    token_columns!(),
    ", t.secret_sha256, ",
    person_columns!(),
    " FROM api_tokens t JOIN people p ON p.id = t.person WHERE t.id = $1"
);
pub(crate) const INSERT_TOKEN: &str = "INSERT INTO api_tokens (id, name, person, scopes, \
     secret_sha256, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const REVOKE_TOKEN: &str = "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1";

pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (id_sha256, person, csrf, \
     created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const SESSION: &str = concat!(
    "SELECT s.csrf, s.created_at AS session_created_at, s.expires_at AS session_expires_at, ",
    person_columns!(),
    " FROM sessions s JOIN people p ON p.id = s.person \
     WHERE s.id_sha256 = $1 AND s.expires_at > $2 AND p.active"
);
pub(crate) const END_SESSION: &str = "DELETE FROM sessions WHERE id_sha256 = $1";
pub(crate) const EXPIRE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";

pub(crate) const LOGIN_FAILURES: &str =
    "SELECT failures, last_failure, locked_until FROM login_failures WHERE login = $1";
/// Binds: login, failures, last failure, locked until.
pub(crate) const PUT_LOGIN_FAILURES: &str = "INSERT INTO login_failures (login, failures, \
     last_failure, locked_until) VALUES ($1, $2, $3, $4) ON CONFLICT (login) DO UPDATE SET \
     failures = excluded.failures, last_failure = excluded.last_failure, \
     locked_until = excluded.locked_until";
pub(crate) const CLEAR_LOGIN_FAILURES: &str = "DELETE FROM login_failures WHERE login = $1";
pub(crate) const LOCKED_UNTIL: &str = "SELECT locked_until FROM login_failures WHERE login = $1";

pub(crate) const SETTINGS: &str = "SELECT key, value FROM settings ORDER BY key";
pub(crate) const PUT_SETTING: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// A `people` row as `person_columns!` selects it.
#[derive(sqlx::FromRow)]
pub(crate) struct PersonRow {
    id: i64,
    login: String,
    name: String,
    email: String,
    department: Option<String>,
    manager: Option<i64>,
    role: String,
    area: Option<String>,
    active: bool,
    created_at: i64,
}

impl PersonRow {
    pub(crate) fn person(self) -> Result<Person, StoreError> {
        let role =
            self.role.parse().map_err(|err| corrupt(format!("person {}: {err}", self.login)))?;
        Ok(Person {
            id: self.id,
            login: self.login,
            name: self.name,
            email: self.email,
            department: self.department,
            manager: self.manager,
            role,
            area: self.area,
            active: self.active,
            created_at: plan::from_micros(self.created_at),
        })
    }
}

/// An `accounts` row.
#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: i64,
    platform: String,
    handle: String,
    name: String,
    owner: Option<i64>,
    department: Option<String>,
    created_at: i64,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Account {
        Account {
            id: row.id,
            platform: row.platform,
            handle: row.handle,
            name: row.name,
            owner: row.owner,
            department: row.department,
            created_at: plan::from_micros(row.created_at),
        }
    }
}

/// An `api_tokens` row as `token_columns!` selects it.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    token_id: String,
    token_name: String,
    token_person: i64,
    scopes: String,
    token_created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    pub(crate) fn token(self) -> Result<Token, StoreError> {
        let scopes = self
            .scopes
            .split(' ')
            .filter(|name| !name.is_empty())
            .map(|name| name.parse::<TokenScope>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| corrupt(format!("token {}: {err}", self.token_id)))?;
        Ok(Token {
            id: self.token_id,
            name: self.token_name,
            person: self.token_person,
            scopes,
            created_at: plan::from_micros(self.token_created_at),
            expires_at: self.expires_at.map(plan::from_micros),
            revoked_at: self.revoked_at.map(plan::from_micros),
        })
    }
}

/// A token with its secret's hash and its person.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenSecretRow {
    #[sqlx(flatten)]
    token: TokenRow,
    secret_sha256: Vec<u8>,
    #[sqlx(flatten)]
    person: PersonRow,
}

impl TokenSecretRow {
    pub(crate) fn decode(self) -> Result<(Token, [u8; 32], Person), StoreError> {
        let token = self.token.token()?;
        let secret = to_hash(self.secret_sha256)?;
        Ok((token, secret, self.person.person()?))
    }
}

/// A session with its person.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    csrf: String,
    session_created_at: i64,
    session_expires_at: i64,
    #[sqlx(flatten)]
    person: PersonRow,
}

impl SessionRow {
    pub(crate) fn session(self) -> Result<Session, StoreError> {
        Ok(Session {
            person: self.person.person()?,
            csrf: self.csrf,
            created_at: plan::from_micros(self.session_created_at),
            expires_at: plan::from_micros(self.session_expires_at),
        })
    }
}

/// The hold, hold release and retention rule rows of entries `$1 <= seq < $2`: entry, table
/// (see [`record_kind`]) and id. Plain SQL that both databases read alike.
pub(crate) const RECORD_ROWS: &str = "SELECT seq, 'holds', id FROM holds WHERE seq >= $1 AND seq < $2 \
     UNION ALL SELECT seq, 'hold_releases', id FROM hold_releases WHERE seq >= $1 AND seq < $2 \
     UNION ALL SELECT seq, 'retention_rules', id FROM retention_rules WHERE seq >= $1 AND seq < $2";

/// The kind of entry whose projection a table of [`RECORD_ROWS`] holds.
pub(crate) fn record_kind(table: &str) -> EntryKind {
    match table {
        "holds" => EntryKind::Hold,
        "hold_releases" => EntryKind::HoldRelease,
        _ => EntryKind::Retention,
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;

    fn time(minutes: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_mins(24 * 60 * 365 * 50 + minutes)
    }

    /// `ok`, or the error's message.
    fn outcome(result: Result<(), StoreError>) -> String {
        result.map_or_else(|err| err.to_string(), |()| "ok".to_owned())
    }

    #[test]
    fn ids_name_their_field_and_rule() {
        assert_eq!(outcome(check_login("ada.l-2_")), "ok");
        assert_eq!(
            outcome(check_login("Ada")),
            "`login` must be 1 to 64 bytes of a-z, 0-9, `.`, `_`, `-`, not `Ada`"
        );
        assert_eq!(
            outcome(check_department_id("a\0")),
            "`department` must be 1 to 64 bytes of a-z, 0-9, `-`, not `a\\0`"
        );
        assert_eq!(
            outcome(check_id("token id", "", "")),
            "`token id` must be 1 to 64 bytes of a-z, 0-9, not ``"
        );
        assert_eq!(outcome(check_login(&"a".repeat(MAX_ID))), "ok");
        assert!(check_login(&"a".repeat(MAX_ID + 1)).is_err());
    }

    #[test]
    fn review_areas_belong_to_reviewers() {
        let check = |role, area| outcome(check_person("Ada", "", None, role, area, None));
        assert_eq!(check(Role::Reviewer, Some("legal")), "ok");
        assert_eq!(check(Role::Reviewer, None), "ok");
        assert!(check(Role::Reviewer, Some("finance")).contains("not a review area"));
        assert_eq!(
            check(Role::Employee, Some("legal")),
            "`area` is only for reviewers, and this person's role is employee"
        );
    }

    #[test]
    fn failures_in_a_row_lock_and_stale_ones_reset() {
        let lockout = Lockout { max_failures: 3, lock_for: SignedDuration::from_mins(10) };
        let micros = |minutes| plan::micros(time(minutes));
        assert_eq!(next_failures(None, time(0), lockout), (1, None));
        assert_eq!(next_failures(Some((1, micros(0), None)), time(10), lockout), (2, None));
        assert_eq!(
            next_failures(Some((1, micros(0), None)), time(11), lockout),
            (1, None),
            "more than lock_for apart: not in a row"
        );
        assert_eq!(
            next_failures(Some((2, micros(0), None)), time(1), lockout),
            (3, Some(micros(11)))
        );
        assert_eq!(
            next_failures(Some((3, micros(1), Some(micros(11)))), time(5), lockout),
            (4, Some(micros(15))),
            "failing while locked extends the lock"
        );
    }

    #[test]
    fn scopes_are_stored_once_each() {
        let scopes = [TokenScope::Read, TokenScope::Check, TokenScope::Read];
        assert_eq!(scope_names(&scopes), "read check");
        assert_eq!(distinct_scopes(&scopes), [TokenScope::Read, TokenScope::Check]);
    }
}
