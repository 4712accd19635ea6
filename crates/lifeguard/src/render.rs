//! A verdict for people in a terminal: the post with each finding underlined and explained.

use std::fmt::Write as _;

use lifeguard_core::{Action, Verdict};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";

fn action_color(action: Action) -> &'static str {
    match action {
        Action::Allow => "\x1b[32m",
        Action::Flag => "\x1b[33m",
        Action::RequireApproval => "\x1b[35m",
        Action::Block => "\x1b[31m",
    }
}

/// Renders the verdict: a summary line, then each finding under the line of the post it is on.
pub(crate) fn verdict_text(text: &str, verdict: &Verdict, color: bool) -> String {
    let paint = |code: &'static str| if color { code } else { "" };
    let reset = paint(RESET);
    let mut out = String::new();
    let policy = &verdict.policy;
    let short_hash = policy.hash.get(..12).unwrap_or(&policy.hash);
    let _ = writeln!(
        out,
        "{}{}{}{reset}  {} finding(s)  {}policy {} {} ({short_hash}){reset}",
        paint(BOLD),
        paint(action_color(verdict.action)),
        verdict.action.name().to_uppercase(),
        verdict.findings.len(),
        paint(DIM),
        policy.id,
        policy.version
    );
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect();
    let number_width = line_starts.len().to_string().len();
    for finding in &verdict.findings {
        let line_index =
            line_starts.partition_point(|&start| start <= finding.start).saturating_sub(1);
        let line_start = line_starts[line_index];
        let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
        let line = text[line_start..line_end].trim_end_matches('\r');
        let before = text[line_start..finding.start.max(line_start)].chars().count();
        let under =
            text[finding.start.min(line_end)..finding.end.min(line_end)].chars().count().max(1);
        let rule = &finding.rule;
        let action_paint = paint(action_color(rule.action));
        let _ = writeln!(out);
        let _ = writeln!(out, "{:>number_width$} | {line}", line_index + 1);
        let _ = writeln!(
            out,
            "{:>number_width$} | {}{action_paint}{}{reset} {}{}{reset} {} · {} · {}",
            "",
            " ".repeat(before),
            "^".repeat(under),
            paint(BOLD),
            rule.id,
            rule.action.name(),
            rule.severity.name(),
            rule.category,
        );
        let entity = finding.entity.map(|e| format!(" ({})", e.name())).unwrap_or_default();
        let _ = writeln!(
            out,
            "{:>number_width$} | {}§ {} [{}]{entity}{reset}",
            "",
            paint(DIM),
            rule.clause_title,
            rule.clause
        );
        let _ = writeln!(out, "{:>number_width$} | {}", "", rule.message);
    }
    out
}
