//! The policy as people read it: rule blocks become sentences, example blocks become lists.
//!
//! Employees acknowledge this rendering, so it must say what the engine does, in words: it is
//! generated from the same parsed rules the engine compiles, never written separately.

use std::fmt::Write as _;
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::{Example, Matcher, Policy, Rule, TermSource};
use crate::detect::Entity;
use crate::item::{AuthorType, ContentKind};
use crate::location::LineIndex;
use crate::verdict::Action;

/// Renders the policy as Markdown for people.
pub fn explain(policy: &Policy) -> String {
    let source = policy.source.as_str();
    let lines = LineIndex::new(source);
    let body_start = policy.body_start.min(source.len());
    let mut out = String::new();
    let meta = &policy.meta;
    let _ =
        writeln!(out, "*{} · version {} · effective {}*\n", meta.id, meta.version, meta.effective);
    let owners = &meta.ownership;
    for (role, people) in [
        ("Responsible", &owners.responsible),
        ("Accountable", &owners.accountable),
        ("Consulted", &owners.consulted),
        ("Informed", &owners.informed),
    ] {
        if !people.is_empty() {
            let _ = writeln!(out, "- **{role}:** {}", people.join(", "));
        }
    }
    if !meta.regions.is_empty() {
        let codes: Vec<String> = meta.regions.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "- **Phone numbers** written without a country code are read as numbers of: {}",
            codes.join(", ")
        );
    }
    out.push('\n');
    let mut copied_to = body_start;
    for (tag, range) in fenced_blocks(source, body_start) {
        if tag != "rules" && tag != "examples" {
            continue;
        }
        out.push_str(&source[copied_to..range.start]);
        copied_to = range.end;
        let first_line = lines.position(range.start).line;
        let last_line = lines.position(range.end.saturating_sub(1)).line;
        let inside = |line: u32| (first_line..=last_line).contains(&line);
        if tag == "rules" {
            for rule in policy.rules.iter().filter(|r| inside(r.at.line)) {
                let _ = writeln!(out, "- {}", sentence(rule));
            }
        } else {
            let examples: Vec<&Example> =
                policy.examples.iter().filter(|e| inside(e.at.line)).collect();
            if !examples.is_empty() {
                out.push_str("For example:\n\n");
                for example in examples {
                    let _ = writeln!(out, "- {}", example_line(example));
                }
            }
        }
    }
    out.push_str(&source[copied_to..]);
    out
}

/// One rule as a sentence: "**ID** (high): Posts that … are blocked. *message*"
pub fn sentence(rule: &Rule) -> String {
    let subject = subject(rule);
    let what = match &rule.matcher {
        _ if rule.describe.is_some() => {
            format!(" {}", rule.describe.as_deref().unwrap_or_default())
        }
        Matcher::Terms(source) => format!(" that use {}", terms(source, "or")),
        Matcher::Regex(pattern) => format!(" that match the pattern `{}`", pattern.value),
        Matcher::Proximity { first, second, within, ordered, same_sentence } => {
            let relation = if *ordered { "followed within" } else { "within" };
            let joiner = if *ordered { "by" } else { "of" };
            let sentence = if *same_sentence { " in the same sentence" } else { "" };
            format!(
                " that mention {} {relation} {within} {} {joiner} {}{sentence}",
                terms(first, "or"),
                words(*within),
                terms(second, "or")
            )
        }
        Matcher::Detect(entities) => {
            let things: Vec<&str> = entities.iter().map(|e| describe(*e)).collect();
            format!(" that contain {}", join(&things, "or"))
        }
        Matcher::Links { deny, allow, shorteners, ip, lookalike } => {
            let mut targets = Vec::new();
            if !deny.is_empty() {
                targets.push(format!(
                    "{} (or an address written to look like one)",
                    join(&quoted(deny), "or")
                ));
            }
            if !allow.is_empty() {
                targets.push(format!("any site other than {}", join(&quoted(allow), "and")));
            }
            if *shorteners {
                targets.push("a URL shortener".to_owned());
            }
            if *ip {
                targets.push("a raw IP address".to_owned());
            }
            if *lookalike {
                targets.push(
                    "an address disguised as another (look-alike letters, or a host name before an `@`)"
                    .to_owned(),
                );
            }
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            format!(" that link to {}", join(&targets, "or"))
        }
        Matcher::Disclosure { triggers, markers, within } => format!(
            " that mention {} without {} in the first {within} {}",
            terms(triggers, "or"),
            terms(markers, "or"),
            words(*within)
        ),
        Matcher::Always => String::new(),
    };
    let verb = match rule.action {
        Action::Allow => "are noted in the record",
        Action::Flag => "are flagged for a supervisor",
        Action::RequireApproval => "need approval before they go up",
        Action::Block => "are blocked",
    };
    let mut exceptions = rule.unless.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>();
    if let Some(file) = &rule.unless_file {
        exceptions.push(format!("the terms listed in `{}`", file.value));
    }
    let unless = if exceptions.is_empty() {
        String::new()
    } else {
        let exceptions: Vec<&str> = exceptions.iter().map(String::as_str).collect();
        format!(", unless the match is part of {}", join(&exceptions, "or"))
    };
    format!(
        "**{}** ({}): {subject}{what} {verb}{unless}. *{}*",
        rule.id,
        rule.severity.name(),
        rule.message
    )
}

fn subject(rule: &Rule) -> String {
    let kinds = rule.scope.kinds();
    let every = matches!(rule.matcher, Matcher::Always);
    let mut subject = if kinds.is_empty() {
        if every { "Every post".to_owned() } else { "Posts".to_owned() }
    } else {
        let names: Vec<&str> = kinds.iter().map(|k| plural(*k)).collect();
        let names = join(&names, "and");
        if every { format!("All {names}") } else { capitalize(&names) }
    };
    if every {
        subject = subject.replace("Every post", "All posts");
    }
    let authors = rule.scope.authors();
    if !authors.is_empty() {
        let names: Vec<&str> = authors.iter().map(|a| by(*a)).collect();
        let _ = write!(subject, " by {}", join(&names, "or"));
    }
    let platforms = rule.scope.platforms();
    if !platforms.is_empty() {
        let names: Vec<&str> = platforms.iter().map(String::as_str).collect();
        let _ = write!(subject, " on {}", join(&names, "or"));
    }
    subject
}

fn terms(source: &TermSource, conjunction: &str) -> String {
    const SHOWN: usize = 6;
    let mut parts: Vec<String> =
        source.terms.iter().take(SHOWN).map(|t| format!("\"{t}\"")).collect();
    let hidden = source.terms.len().saturating_sub(SHOWN);
    if hidden > 0 {
        parts.push(format!("{hidden} more listed terms"));
    }
    if let Some(file) = &source.file {
        parts.push(format!("a term listed in `{}`", file.value));
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    join(&parts, conjunction)
}

fn example_line(example: &Example) -> String {
    let mut context = Vec::new();
    if example.kind != ContentKind::Post {
        context.push(example.kind.name().to_owned());
    }
    if example.author != AuthorType::Employee {
        context.push(format!("by {}", by(example.author)));
    }
    if let Some(platform) = &example.platform {
        context.push(format!("on {platform}"));
    }
    let context =
        if context.is_empty() { String::new() } else { format!(" ({})", context.join(", ")) };
    let result = if example.expect.is_empty() {
        "fine".to_owned()
    } else {
        format!("caught by {}", example.expect.join(", "))
    };
    format!("\"{}\"{context} → {result}", example.text.replace('\n', " "))
}

fn describe(entity: Entity) -> &'static str {
    match entity {
        Entity::CreditCard => "a payment card number",
        Entity::UsSsn => "a US social security number",
        Entity::UkNino => "a UK National Insurance number",
        Entity::Email => "an e-mail address",
        Entity::Phone => "a phone number",
        Entity::Iban => "a bank account number (IBAN)",
        Entity::IpAddress => "an IP address",
        Entity::CryptoWallet => "a cryptocurrency wallet address",
        Entity::Passport => "a passport number",
        Entity::CaSin => "a Canadian Social Insurance Number",
        Entity::InAadhaar => "an Indian Aadhaar number",
        Entity::ApiKey => "an API key or access token",
        Entity::PrivateKey => "a private key",
        Entity::Password => "a password",
        #[allow(unreachable_patterns, reason = "Entity is non_exhaustive")]
        other => other.name(),
    }
}

fn plural(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Post => "posts",
        ContentKind::Reply => "replies",
        ContentKind::Comment => "comments",
        ContentKind::Message => "messages",
        ContentKind::Repost => "reposts",
        ContentKind::Story => "stories",
        ContentKind::Profile => "profiles",
        ContentKind::Bio => "bios",
        ContentKind::Banner => "banners",
        ContentKind::Pinned => "pinned posts",
    }
}

fn by(author: AuthorType) -> &'static str {
    match author {
        AuthorType::Employee => "employees",
        AuthorType::Corporate => "corporate accounts",
        AuthorType::ThirdParty => "third parties",
    }
}

fn words(n: u32) -> &'static str {
    if n == 1 { "word" } else { "words" }
}

fn quoted(items: &[String]) -> Vec<String> {
    items.iter().map(|i| format!("`{i}`")).collect()
}

fn join<S: AsRef<str>>(items: &[S], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [rest @ .., last] => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} {conjunction} {}", rest.join(", "), last.as_ref())
        }
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every fenced code block of the body: its tag and its whole range, fences included.
fn fenced_blocks(source: &str, body_start: usize) -> Vec<(String, Range<usize>)> {
    let mut blocks = Vec::new();
    let body = &source[body_start..];
    let mut current: Option<(String, usize)> = None;
    for (event, range) in
        Parser::new_ext(body, Options::ENABLE_HEADING_ATTRIBUTES).into_offset_iter()
    {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let tag = info.split_whitespace().next().unwrap_or("").to_owned();
                current = Some((tag, range.start));
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((tag, _)) = current.take() {
                    blocks.push((tag, body_start + range.start..body_start + range.end));
                }
            }
            _ => {}
        }
    }
    blocks
}
