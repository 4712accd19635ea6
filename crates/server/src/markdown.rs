//! Markdown to HTML for the policy page. The policy is written by compliance, not by the
//! public, but raw HTML in it is still escaped rather than passed through: a page of ours never
//! carries markup we did not write.
//!
//! Table cells are written here rather than by pulldown-cmark's writer, for two reasons: a
//! header cell names what it heads (`scope="col"`), and a column's alignment becomes a class,
//! not the `style` attribute the content security policy would refuse. Each table sits in a
//! box that scrolls sideways on its own, so a wide one never widens a phone's page.

use pulldown_cmark::{Alignment, CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// The Markdown extensions the policy may use.
pub const OPTIONS: Options = Options::ENABLE_TABLES.union(Options::ENABLE_HEADING_ATTRIBUTES);

/// Renders Markdown as HTML, escaping any raw HTML in it.
pub fn to_html(markdown: &str) -> String {
    let mut cells = Cells::default();
    let parser = Parser::new_ext(markdown, OPTIONS).flat_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => vec![Event::Text(raw)],
        Event::Start(Tag::Table(alignments)) => vec![
            Event::Html(CowStr::Borrowed("<div class=\"table-wrap\">\n")),
            cells.rewrite(Event::Start(Tag::Table(alignments))),
        ],
        Event::End(TagEnd::Table) => {
            vec![Event::End(TagEnd::Table), Event::Html(CowStr::Borrowed("</div>\n"))]
        }
        other => vec![cells.rewrite(other)],
    });
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, parser);
    out
}

/// Where the events are in a table, to write its cells.
#[derive(Default)]
struct Cells {
    alignments: Vec<Alignment>,
    in_head: bool,
    column: usize,
}

impl Cells {
    /// Table cells become our own tags; every other event passes through. The tags are built
    /// from fixed text only, never from the document.
    fn rewrite<'a>(&mut self, event: Event<'a>) -> Event<'a> {
        match event {
            Event::Start(Tag::Table(alignments)) => {
                self.alignments = alignments.clone();
                Event::Start(Tag::Table(alignments))
            }
            Event::Start(Tag::TableHead) => {
                self.in_head = true;
                self.column = 0;
                Event::Start(Tag::TableHead)
            }
            Event::End(TagEnd::TableHead) => {
                self.in_head = false;
                Event::End(TagEnd::TableHead)
            }
            Event::Start(Tag::TableRow) => {
                self.column = 0;
                Event::Start(Tag::TableRow)
            }
            Event::Start(Tag::TableCell) => {
                let class = match self.alignments.get(self.column) {
                    Some(Alignment::Left) => " class=\"align-left\"",
                    Some(Alignment::Center) => " class=\"align-center\"",
                    Some(Alignment::Right) => " class=\"align-right\"",
                    Some(Alignment::None) | None => "",
                };
                let open = if self.in_head {
                    format!("<th scope=\"col\"{class}>")
                } else {
                    format!("<td{class}>")
                };
                Event::Html(CowStr::from(open))
            }
            Event::End(TagEnd::TableCell) => {
                self.column += 1;
                Event::Html(CowStr::Borrowed(if self.in_head { "</th>" } else { "</td>" }))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn raw_html_is_escaped() {
        let html = to_html("# Title {#t}\n\n<script>alert(1)</script>\n\nSome <b>bold</b> *this*");
        assert!(html.contains("<h1 id=\"t\">Title</h1>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("Some &lt;b&gt;bold&lt;/b&gt; <em>this</em>"), "{html}");
    }

    #[test]
    fn tables_scope_their_headers_and_align_by_class() {
        let html = to_html(
            "| action | <i>means</i> | n |\n|---|:---:|--:|\n| flag | *later* <b>x</b> | 3 |\n",
        );
        assert!(
            html.contains(
                "<thead><tr><th scope=\"col\">action</th>\
                 <th scope=\"col\" class=\"align-center\">&lt;i&gt;means&lt;/i&gt;</th>\
                 <th scope=\"col\" class=\"align-right\">n</th></tr></thead>"
            ),
            "{html}"
        );
        assert!(
            html.contains(
                "<tr><td>flag</td><td class=\"align-center\"><em>later</em> \
                 &lt;b&gt;x&lt;/b&gt;</td><td class=\"align-right\">3</td></tr>"
            ),
            "{html}"
        );
        assert!(!html.contains("<th>") && !html.contains("style="), "{html}");
        assert!(html.starts_with("<div class=\"table-wrap\">\n<table>"), "{html}");
        assert!(html.trim_end().ends_with("</table>\n</div>"), "{html}");
    }
}
