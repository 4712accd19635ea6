//! How the templates escape what they print. Askama's own HTML escaper writes numeric
//! references (`&#60;`); this one writes the named ones (`&lt;`), which read better in a page's
//! source and are what our tests and anyone auditing a page look for. Both are equally safe:
//! the five characters that can open markup or end an attribute are always replaced.

use std::fmt::{self, Write};

use askama::filters::Escaper;

/// The escaper of every `.html` template (see `templates/askama.toml`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Html;

impl Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, string: &str) -> fmt::Result {
        let mut written = 0;
        for (at, byte) in string.bytes().enumerate() {
            let entity = match byte {
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'&' => "&amp;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&string[written..at])?;
            dest.write_str(entity)?;
            written = at + 1;
        }
        dest.write_str(&string[written..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_characters_are_replaced() {
        let mut out = String::new();
        Html.write_escaped_str(&mut out, "<a href=\"x\" title='y'>Tom & Jérôme</a>")
            .expect("write");
        assert_eq!(out, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jérôme&lt;/a&gt;");
        let mut out = String::new();
        Html.write_escaped_char(&mut out, '<').expect("write");
        assert_eq!(out, "&lt;");
    }
}
