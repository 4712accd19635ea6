//! Highlighting without writing HTML: texts are cut into pieces, and the templates print each
//! piece's text through their escaping and wrap marked pieces in `<mark>` themselves. No
//! stored or submitted text reaches a page except through the template's escaping.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use lifeguard_core::archive::{Query, Term, tokens};

/// One span to mark: byte offsets into the text, and what the mark says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The rule's id, for `data-rule`.
    pub(crate) rule: String,
    /// A short explanation, for the mark's tooltip.
    pub(crate) title: String,
}

/// The opening of a `<mark>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) rule: String,
    pub(crate) title: String,
}

/// One step of a highlighted text: open a mark, close the innermost one, or print text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Piece {
    pub(crate) open: Option<Mark>,
    pub(crate) close: bool,
    pub(crate) text: String,
}

/// Cuts `text` into pieces with a mark around every span. Overlapping spans nest: a span that
/// starts inside another and runs past its end is split, its first part nested inside and its
/// rest marked after, so the marks always form a tree (as HTML needs) and every byte of every
/// span is marked. Spans that are empty, out of range or not on char boundaries are dropped.
pub(crate) fn finding_pieces(text: &str, spans: &[Span]) -> Vec<Piece> {
    let valid = |span: &&Span| {
        span.start < span.end
            && span.end <= text.len()
            && text.is_char_boundary(span.start)
            && text.is_char_boundary(span.end)
    };
    // Earliest start first; of two starting together the longer first, so it encloses.
    let mut pending: BinaryHeap<Reverse<(usize, Reverse<usize>, usize)>> = spans
        .iter()
        .enumerate()
        .filter(|(_, span)| valid(span))
        .map(|(i, span)| Reverse((span.start, Reverse(span.end), i)))
        .collect();
    let mut out = Vec::new();
    let mut at = 0;
    let mut open_ends: Vec<usize> = Vec::new();
    let text_to = |out: &mut Vec<Piece>, at: &mut usize, to: usize| {
        if to > *at {
            out.push(Piece { text: text[*at..to].to_owned(), ..Piece::default() });
            *at = to;
        }
    };
    while let Some(Reverse((start, Reverse(mut end), i))) = pending.pop() {
        while let Some(&inner_end) = open_ends.last() {
            if inner_end > start {
                break;
            }
            text_to(&mut out, &mut at, inner_end);
            out.push(Piece { close: true, ..Piece::default() });
            open_ends.pop();
        }
        if let Some(&enclosing_end) = open_ends.last()
            && end > enclosing_end
        {
            pending.push(Reverse((enclosing_end, Reverse(end), i)));
            end = enclosing_end;
        }
        text_to(&mut out, &mut at, start);
        let span = &spans[i];
        out.push(Piece {
            open: Some(Mark { rule: span.rule.clone(), title: span.title.clone() }),
            ..Piece::default()
        });
        open_ends.push(end);
    }
    while let Some(end) = open_ends.pop() {
        text_to(&mut out, &mut at, end);
        out.push(Piece { close: true, ..Piece::default() });
    }
    text_to(&mut out, &mut at, text.len());
    out
}

/// A stretch of a snippet, marked when it is one of the query's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) text: String,
    pub(crate) mark: bool,
}

/// The byte ranges of the words of a text: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while chars.peek().is_some_and(|(_, c)| !c.is_alphanumeric()) {
            chars.next();
        }
        let &(start, _) = chars.peek()?;
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        Some((start, end))
    })
}

/// Whether a word of the text is one the query asked for, compared as the search index
/// compares them (through `tokens`). Every word of a phrase is marked wherever it appears:
/// a little more than the phrase itself, which is fine for a reader's eye.
fn wanted(word: &str, query: &Query) -> bool {
    let found = tokens(word);
    found.iter().any(|token| {
        query.terms().iter().any(|term| match term {
            Term::Word(word) => token == word,
            Term::Prefix(prefix) => token.starts_with(prefix.as_str()),
            Term::Phrase(words) => words.iter().any(|w| w == token),
        })
    })
}

/// A snippet of at most about `max_chars` characters around the first word the query asks
/// for (or from the start), with the query's words marked.
pub(crate) fn snippet(text: &str, query: &Query, max_chars: usize) -> Vec<Segment> {
    let first = if query.is_empty() {
        None
    } else {
        words(text).find(|&(start, end)| wanted(&text[start..end], query)).map(|(start, _)| start)
    };
    // Show a little of what comes before the first hit, so it reads in context.
    let lead = max_chars / 5;
    let from = first.map_or(0, |hit| {
        let before = text[..hit].char_indices().rev().nth(lead.saturating_sub(1));
        before.map_or(0, |(i, _)| i)
    });
    let to = text[from..].char_indices().nth(max_chars).map_or(text.len(), |(i, _)| from + i);
    let window = &text[from..to];
    let mut out = Vec::new();
    if from > 0 {
        out.push(Segment { text: "…".to_owned(), mark: false });
    }
    let mut at = 0;
    if !query.is_empty() {
        for (start, end) in words(window) {
            if wanted(&window[start..end], query) {
                if start > at {
                    out.push(Segment { text: window[at..start].to_owned(), mark: false });
                }
                out.push(Segment { text: window[start..end].to_owned(), mark: true });
                at = end;
            }
        }
    }
    if at < window.len() {
        out.push(Segment { text: window[at..].to_owned(), mark: false });
    }
    if to < text.len() {
        out.push(Segment { text: "…".to_owned(), mark: false });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces as text: `[rule:` opens, `]` closes.
    fn show(pieces: &[Piece]) -> String {
        let mut out = String::new();
        for piece in pieces {
            if let Some(mark) = &piece.open {
                out.push_str(&format!("[{}:", mark.rule));
            }
            if piece.close {
                out.push(']');
            }
            out.push_str(&piece.text);
        }
        out
    }

    fn span(start: usize, end: usize, rule: &str) -> Span {
        Span { start, end, rule: rule.to_owned(), title: String::new() }
    }

    #[test]
    fn spans_nest_and_overlaps_split() {
        let text = "abcdefghij";
        assert_eq!(show(&finding_pieces(text, &[])), "abcdefghij");
        assert_eq!(show(&finding_pieces(text, &[span(2, 4, "a")])), "ab[a:cd]efghij");
        assert_eq!(
            show(&finding_pieces(text, &[span(1, 8, "outer"), span(3, 5, "inner")])),
            "a[outer:bc[inner:de]fgh]ij"
        );
        assert_eq!(
            show(&finding_pieces(text, &[span(1, 5, "x"), span(3, 8, "y")])),
            "a[x:bc[y:de]][y:fgh]ij"
        );
        assert_eq!(
            show(&finding_pieces(text, &[span(0, 3, "x"), span(0, 3, "y"), span(3, 10, "z")])),
            "[x:[y:abc]][z:defghij]"
        );
    }

    #[test]
    fn bad_spans_are_dropped() {
        let text = "héllo";
        let pieces = finding_pieces(
            text,
            &[span(1, 2, "mid-char"), span(4, 99, "past"), span(3, 3, "empty")],
        );
        assert_eq!(show(&pieces), "héllo");
    }

    #[test]
    fn snippets_mark_the_query_words() {
        let query = Query::parse("secret launch*").expect("query");
        let shown = |segments: Vec<Segment>| {
            segments
                .iter()
                .map(|s| if s.mark { format!("<{}>", s.text) } else { s.text.clone() })
                .collect::<String>()
        };
        assert_eq!(
            shown(snippet("The SECRET launches <b>soon</b>", &query, 100)),
            "The <SECRET> <launches> <b>soon</b>"
        );
        let long = format!("{} secret {}", "word ".repeat(100), "more ".repeat(100));
        let text = shown(snippet(&long, &query, 50));
        assert!(
            text.starts_with('…') && text.ends_with('…') && text.contains("<secret>"),
            "{text}"
        );
        assert_eq!(shown(snippet("plain", &Query::default(), 100)), "plain");
    }
}
