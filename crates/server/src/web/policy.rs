//! The policy in force, for people: its facts, then every clause in plain sentences.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use pulldown_cmark::{Event, HeadingLevel, Parser, Tag};

use super::{Ctx, Layout, render};
use crate::access::Permission;
use crate::markdown;

/// One RACI line.
struct Role {
    label: &'static str,
    names: String,
}

#[derive(Template)]
#[template(path = "policy.html", config = "templates/askama.toml")]
struct PolicyPage<'a> {
    layout: Layout,
    title: &'a str,
    id: &'a str,
    version: &'a str,
    effective: &'a str,
    hash: &'a str,
    rules: usize,
    ownership: Vec<Role>,
    /// The regions whose national phone numbers are read, comma-separated; empty for none.
    regions: String,
    /// Made by [`page_html`] with `crate::markdown::to_html`, which escapes any raw HTML in
    /// the policy.
    explained_html: &'a str,
}

/// A top-level block of Markdown, as far as [`without_head`] needs to know it.
#[derive(Debug, PartialEq, Eq)]
enum Block {
    /// A paragraph all in emphasis: `explain`'s line of id, version and date.
    Stamp,
    List,
    /// A level-1 heading, with its text.
    Title(String),
    Other,
}

/// The first `limit` top-level blocks of `markdown`, each with the offset where it ends.
fn top_blocks(markdown: &str, limit: usize) -> Vec<(Block, usize)> {
    let mut blocks = Vec::new();
    let mut depth = 0_usize;
    let mut block = Block::Other;
    let mut first_inside = false;
    for (event, range) in Parser::new_ext(markdown, markdown::OPTIONS).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    block = match tag {
                        Tag::Paragraph => Block::Other,
                        Tag::List(_) => Block::List,
                        Tag::Heading { level: HeadingLevel::H1, .. } => Block::Title(String::new()),
                        _ => Block::Other,
                    };
                    first_inside = matches!(tag, Tag::Paragraph);
                } else if first_inside {
                    first_inside = false;
                    if depth == 1 && matches!(tag, Tag::Emphasis) {
                        block = Block::Stamp;
                    }
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    blocks.push((std::mem::replace(&mut block, Block::Other), range.end));
                }
            }
            Event::Text(text) | Event::Code(text) => {
                first_inside = false;
                if let Block::Title(title) = &mut block {
                    title.push_str(&text);
                }
            }
            _ if depth == 0 => blocks.push((Block::Other, range.end)),
            _ => first_inside = false,
        }
        if blocks.len() >= limit {
            break;
        }
    }
    blocks
}

/// The explained policy without the head the page shows above it in its title and facts.
/// `explain` starts with a line of id, version and date in emphasis, then the owners and the
/// phone regions as a list (when there are any); the policy's own text follows, usually opening with its title. Those
/// blocks are left out when they are there, and only then: anything else is kept.
fn without_head<'a>(explained: &'a str, title: &str, head_listed: bool) -> &'a str {
    let mut blocks = top_blocks(explained, 3).into_iter();
    let Some((Block::Stamp, mut cut)) = blocks.next() else {
        return explained;
    };
    if head_listed {
        match blocks.next() {
            Some((Block::List, end)) => cut = end,
            _ => return explained,
        }
    }
    if let Some((Block::Title(heading), end)) = blocks.next()
        && heading.trim() == title.trim()
    {
        cut = end;
    }
    &explained[cut..]
}

/// Moves every heading of our rendered policy one level down (`h1` to `h2`, …, `h6` stays),
/// so the page keeps one `h1`, its own. Only tags are touched: the policy's raw HTML was
/// escaped when it was rendered, so every `<h1` in it is a tag we made.
fn demote_headings(html: &str) -> String {
    let mut out = html.to_owned();
    // Deepest first, so a heading moved down is not moved again.
    for level in (1..=5).rev() {
        let next = level + 1;
        for (old, new) in [
            (format!("<h{level} "), format!("<h{next} ")),
            (format!("<h{level}>"), format!("<h{next}>")),
            (format!("</h{level}>"), format!("</h{next}>")),
        ] {
            out = out.replace(&old, &new);
        }
    }
    out
}

/// The policy for people as the policy page shows it, made once when the policy is loaded:
/// without the document's own title and owners (the page states them) and with its headings
/// one level down, below the page's own `h1`.
pub(crate) fn page_html(policy: &lifeguard_core::Policy, explained_markdown: &str) -> String {
    let meta = &policy.meta;
    let owners = &meta.ownership;
    let owners_listed =
        [&owners.responsible, &owners.accountable, &owners.consulted, &owners.informed]
            .iter()
            .any(|names| !names.is_empty());
    // `explain` lists the regions with the owners.
    let head_listed = owners_listed || !meta.regions.is_empty();
    let body = without_head(explained_markdown, &meta.title, head_listed);
    demote_headings(&markdown::to_html(body))
}

/// `GET /policy`.
pub(crate) async fn show(ctx: Ctx) -> Response {
    let result = ctx.require(Permission::ReadPolicy).and_then(|()| {
        let served = &ctx.state.policy;
        let meta = &served.policy.meta;
        let owners = &meta.ownership;
        let ownership = [
            ("Responsible", &owners.responsible),
            ("Accountable", &owners.accountable),
            ("Consulted", &owners.consulted),
            ("Informed", &owners.informed),
        ]
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(label, names)| Role { label, names: names.join(", ") })
        .collect();
        let page = PolicyPage {
            layout: ctx.layout("Policy", "/policy"),
            title: &meta.title,
            id: &meta.id,
            version: &meta.version,
            effective: &meta.effective,
            hash: &served.engine.stamp().hash,
            rules: served.engine.rule_count(),
            ownership,
            regions: meta.regions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            explained_html: &served.page_html,
        };
        render(StatusCode::OK, &page)
    });
    ctx.finish(result)
}

#[cfg(test)]
mod tests {
    use super::{demote_headings, page_html, without_head};

    #[test]
    fn the_head_the_facts_show_is_left_out() {
        let explained = "*p · version 1 · effective 2026-01-01*\n\n- **Responsible:** Ann\n\n\
                         # The policy {#top}\n\nIntro.\n\n## One\n";
        let body = without_head(explained, "The policy", true);
        assert_eq!(body.trim_start(), "Intro.\n\n## One\n");
        // Another title is the policy's own heading, and stays.
        let kept = without_head(explained, "Something else", true);
        assert!(kept.trim_start().starts_with("# The policy"), "{kept:?}");
        // Without owners there is no list to leave out: the policy's own list stays.
        let bare = "*p · version 1*\n\n- a rule\n\nText.\n";
        assert_eq!(without_head(bare, "The policy", false).trim_start(), "- a rule\n\nText.\n");
        // A document that does not start with the stamp is kept whole.
        let plain = "# The policy\n\nText.\n";
        assert_eq!(without_head(plain, "The policy", false), plain);
        assert_eq!(without_head("", "The policy", true), "");
    }

    #[test]
    fn the_regions_line_goes_with_the_head_with_or_without_owners() {
        for ownership in ["", "[ownership]\naccountable = [\"Ann\"]\n"] {
            let source = format!(
                "+++\nid = \"p\"\ntitle = \"The policy\"\nversion = \"1\"\n\
                 effective = \"2026-01-01\"\nregions = [\"GB\"]\n{ownership}+++\n\
                 # The policy\n\n- a list of the policy itself\n"
            );
            let policy = lifeguard_core::policy::parse("p.md", &source).policy;
            let explained = lifeguard_core::policy::explain(&policy);
            assert!(explained.contains("GB"), "{explained}");
            let html = page_html(&policy, &explained);
            assert!(!html.contains("GB") && !html.contains("Ann"), "{ownership:?}: {html}");
            assert!(html.contains("a list of the policy itself"), "{html}");
        }
    }

    #[test]
    fn headings_move_down_one_level() {
        let html = "<h1 id=\"t\">T</h1><hr /><h2>A</h2><p>&lt;h1&gt;</p><h6>Z</h6>";
        assert_eq!(
            demote_headings(html),
            "<h2 id=\"t\">T</h2><hr /><h3>A</h3><p>&lt;h1&gt;</p><h6>Z</h6>"
        );
    }
}
