//! Checking a draft before it is posted. A check changes nothing, so it is neither archived
//! nor audited.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use lifeguard_core::{AuthorType, ContentKind, Post, Verdict};
use serde::Deserialize;

use super::highlight::{Piece, Span, finding_pieces};
use super::util::Badge;
use super::{Ctx, Layout, PageError, render};
use crate::access::Permission;
use crate::config::MAX_DRAFT;

/// The platforms offered in the form; the policy may scope rules by any of them.
pub(crate) const PLATFORMS: [&str; 10] = [
    "x",
    "mastodon",
    "linkedin",
    "facebook",
    "instagram",
    "threads",
    "bluesky",
    "tiktok",
    "youtube",
    "reddit",
];

/// Fields of the check form.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub(crate) struct CheckForm {
    text: String,
    platform: String,
    kind: String,
    author_type: String,
}

impl Default for CheckForm {
    fn default() -> CheckForm {
        CheckForm {
            text: String::new(),
            platform: PLATFORMS[0].to_owned(),
            kind: ContentKind::Post.name().to_owned(),
            author_type: AuthorType::Employee.name().to_owned(),
        }
    }
}

/// One option of a `<select>`: the value sent and the words shown.
pub(crate) struct Choice {
    pub(crate) value: &'static str,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// Options shown as their values.
pub(crate) fn choices(values: &[&'static str], selected: &str) -> Vec<Choice> {
    labelled_choices(values, selected, str::to_owned)
}

/// Options shown in words of `label`'s choosing.
pub(crate) fn labelled_choices(
    values: &[&'static str],
    selected: &str,
    label: impl Fn(&str) -> String,
) -> Vec<Choice> {
    values
        .iter()
        .map(|&value| Choice { value, label: label(value), selected: value == selected })
        .collect()
}

/// A finding as listed under the verdict.
pub(crate) struct FindingView {
    pub(crate) rule: String,
    pub(crate) clause_title: String,
    pub(crate) message: String,
    pub(crate) severity: String,
    pub(crate) action: Badge,
    pub(crate) matched: String,
}

struct Outcome {
    action: Badge,
    pieces: Vec<Piece>,
    findings: Vec<FindingView>,
}

#[derive(Template)]
#[template(path = "check.html", config = "templates/askama.toml")]
struct CheckPage<'a> {
    layout: Layout,
    form: &'a CheckForm,
    platforms: Vec<Choice>,
    kinds: Vec<Choice>,
    author_types: Vec<Choice>,
    error: Option<String>,
    outcome: Option<Outcome>,
    max_draft: usize,
}

fn page(
    ctx: &Ctx,
    status: StatusCode,
    form: &CheckForm,
    error: Option<String>,
    outcome: Option<Outcome>,
) -> Result<Response, PageError> {
    let kinds: Vec<&'static str> = ContentKind::ALL.iter().map(|k| k.name()).collect();
    let authors: Vec<&'static str> = AuthorType::ALL.iter().map(|a| a.name()).collect();
    let page = CheckPage {
        layout: ctx.layout("Check a draft", "/check"),
        form,
        platforms: choices(&PLATFORMS, &form.platform),
        kinds: choices(&kinds, &form.kind),
        author_types: choices(&authors, &form.author_type),
        error,
        outcome,
        max_draft: MAX_DRAFT,
    };
    render(status, &page)
}

/// `GET /check`.
pub(crate) async fn form(ctx: Ctx) -> Response {
    let result = ctx
        .require(Permission::CheckDraft)
        .and_then(|()| page(&ctx, StatusCode::OK, &CheckForm::default(), None, None));
    ctx.finish(result)
}

/// `POST /check`.
pub(crate) async fn submit(ctx: Ctx, form: Result<Form<CheckForm>, FormRejection>) -> Response {
    let result = check(&ctx, form);
    ctx.finish(result)
}

fn check(ctx: &Ctx, form: Result<Form<CheckForm>, FormRejection>) -> Result<Response, PageError> {
    ctx.require(Permission::CheckDraft)?;
    let Ok(Form(form)) = form else {
        return Err(PageError::bad_request("The check form could not be read."));
    };
    if form.text.len() > MAX_DRAFT {
        let message = format!(
            "The draft is {} bytes long; drafts are limited to {} bytes ({} KiB). Shorten it and \
             check again.",
            form.text.len(),
            MAX_DRAFT,
            MAX_DRAFT / 1024
        );
        return page(ctx, StatusCode::PAYLOAD_TOO_LARGE, &form, Some(message), None);
    }
    let invalid = |message: String| page(ctx, StatusCode::BAD_REQUEST, &form, Some(message), None);
    let kind = match form.kind.parse::<ContentKind>() {
        Ok(kind) => kind,
        Err(err) => return invalid(err.to_string()),
    };
    let author = match form.author_type.parse::<AuthorType>() {
        Ok(author) => author,
        Err(err) => return invalid(err.to_string()),
    };
    let platform = form.platform.trim().to_lowercase();
    if platform.is_empty()
        || platform.len() > 64
        || !platform.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return invalid("The platform must be a name such as `x` or `mastodon`.".to_owned());
    }
    // Bounded by MAX_DRAFT, a check takes a few milliseconds at most: no need for a thread.
    let post = Post { text: &form.text, kind, author, platform: Some(&platform) };
    let verdict = ctx.state.policy.engine.check(&post);
    let outcome = outcome(&form.text, &verdict);
    page(ctx, StatusCode::OK, &form, None, Some(outcome))
}

fn outcome(text: &str, verdict: &Verdict) -> Outcome {
    let spans: Vec<Span> = verdict
        .findings
        .iter()
        .map(|f| Span {
            start: f.start,
            end: f.end,
            rule: f.rule.id.clone(),
            title: format!("{}: {}", f.rule.clause_title, f.rule.message),
        })
        .collect();
    let findings = verdict
        .findings
        .iter()
        .map(|f| FindingView {
            rule: f.rule.id.clone(),
            clause_title: f.rule.clause_title.clone(),
            message: f.rule.message.clone(),
            severity: f.rule.severity.name().to_owned(),
            action: Badge::new(f.action().name()),
            matched: f.matched.clone(),
        })
        .collect();
    Outcome {
        action: Badge::new(verdict.action.name()),
        pieces: finding_pieces(text, &spans),
        findings,
    }
}
