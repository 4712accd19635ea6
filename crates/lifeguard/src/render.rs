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
        let (start, end) = (finding.start.clamp(line_start, line_end), finding.end.min(line_end));
        let from = context_start(text, line_start, start);
        let to = context_end(text, end.max(start), line_end);
        let mut line = String::new();
        if from > line_start {
            line.push('…');
        }
        let before = width(&line) + width(&visible(&text[from..start]));
        line.push_str(&visible(&text[from..to]));
        if to < line_end {
            line.push('…');
        }
        let under = width(&visible(&text[start..end.max(start)])).max(1);
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

/// Characters of a line shown on each side of a finding: a long line is cut around it, so the
/// output grows with the findings, not with the findings times the line's length.
const CONTEXT_CHARS: usize = 60;

/// Where the shown part of the line before `at` begins.
fn context_start(text: &str, line_start: usize, at: usize) -> usize {
    text[line_start..at]
        .char_indices()
        .rev()
        .nth(CONTEXT_CHARS - 1)
        .map_or(line_start, |(i, _)| line_start + i)
}

/// Where the shown part of the line after `at` ends.
fn context_end(text: &str, at: usize, line_end: usize) -> usize {
    text[at..line_end].char_indices().nth(CONTEXT_CHARS).map_or(line_end, |(i, _)| at + i)
}

/// The text with control characters shown as their Unicode pictures (`␛` for escape, `␍` for
/// a carriage return), so that a post can neither drive the terminal nor shift the underline,
/// and a tab as a space.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + u32::from(c)).unwrap_or('?'),
            '\u{7f}' => '␡',
            '\u{80}'..='\u{9f}' => '?',
            c => c,
        })
        .collect()
}

/// Terminal columns the text takes: two for wide characters (CJK, most emoji).
fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

#[cfg(test)]
mod tests {
    use lifeguard_core::Engine;

    use super::*;

    fn rendered(text: &str) -> String {
        let files = lifeguard_core::policy::MemoryFiles::new(
            lifeguard_core::default_policy::TERM_FILES.iter().copied(),
        );
        let loaded = lifeguard_core::policy::load(
            "policy.md",
            lifeguard_core::default_policy::POLICY,
            &files,
        );
        let engine: Engine = loaded.engine.expect("the built-in policy compiles");
        verdict_text(text, &engine.check(&lifeguard_core::Post::new(text)), false)
    }

    /// The shown line and the underline below it, for the first finding.
    fn first_finding(text: &str) -> (String, String) {
        let out = rendered(text);
        let mut lines = out.lines().skip(2);
        let shown = lines.next().expect("a line").split_once(" | ").expect("a gutter").1;
        let under = lines.next().expect("an underline").split_once(" | ").expect("a gutter").1;
        (shown.to_owned(), under.to_owned())
    }

    #[test]
    fn the_underline_sits_under_the_finding_after_wide_characters_and_tabs() {
        for (text, prefix) in [("日本語 damn", "日本語 "), ("🎉🎉 damn", "🎉🎉 "), ("\tdamn", " ")]
        {
            let (shown, under) = first_finding(text);
            assert_eq!(shown, text.replace('\t', " "), "{text:?}");
            let column = width(prefix);
            assert_eq!(&under[..column], " ".repeat(column), "{text:?}: {under:?}");
            assert!(under[column..].starts_with("^^^^ "), "{text:?}: {under:?}");
        }
    }

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        let out = rendered("\x1b]0;title\x07 damn\r");
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(out.contains("␛]0;title␇ damn"), "{out}");
    }

    #[test]
    fn a_long_line_is_cut_around_each_finding() {
        let text = format!("{} damn {}", "word ".repeat(2000), "more ".repeat(2000));
        let (shown, under) = first_finding(&text);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert_eq!(shown.chars().count(), 2 + 2 * CONTEXT_CHARS + 4, "{shown}");
        assert_eq!(under.find('^'), Some(1 + CONTEXT_CHARS), "{under}");
        let many = "damn ".repeat(20_000);
        assert!(rendered(&many).len() < 20_000 * 1_000, "output grows with findings only");
    }
}
