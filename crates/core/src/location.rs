//! Places in policy files, and the diagnostics that point at them.
//!
//! Every problem with a policy is reported as `file:line:column: message`, the form editors
//! and CI logs turn into links. Columns count characters, not bytes, from 1.

use std::fmt;

/// A line and column in a file, both counted from 1; the column counts characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// Line number, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

/// How bad a diagnostic is: errors stop a policy from being used, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The policy cannot be compiled or published until this is fixed.
    Error,
    /// Worth fixing, but the policy still works.
    Warning,
}

/// One problem found in a policy or one of its term files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// The file as the user named it (`policy/policy.md`, `policy/terms/insults.txt`).
    pub file: String,
    /// Where in that file.
    pub position: Position,
    /// Error or warning.
    pub level: Level,
    /// What is wrong, lowercase, without a final period.
    pub message: String,
}

impl Diagnostic {
    /// An error at a position in a file.
    pub fn error(file: &str, position: Position, message: impl Into<String>) -> Diagnostic {
        Diagnostic { file: file.to_owned(), position, level: Level::Error, message: message.into() }
    }

    /// A warning at a position in a file.
    pub fn warning(file: &str, position: Position, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            position,
            level: Level::Warning,
            message: message.into(),
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "",
            Level::Warning => "warning: ",
        };
        write!(
            f,
            "{}:{}:{}: {level}{}",
            self.file, self.position.line, self.position.column, self.message
        )
    }
}

/// Turns byte offsets of one text into line and column positions.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text`.
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        LineIndex { text, line_starts }
    }

    /// The position of a byte offset; offsets past the end or inside a character are clamped.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let column = self.text[self.line_starts[line]..offset].chars().count();
        Position { line: to_u32(line + 1), column: to_u32(column + 1) }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let index = LineIndex::new("ab\nçd\n\nx");
        let at = |offset| {
            let p = index.position(offset);
            format!("{}:{}", p.line, p.column)
        };
        assert_eq!(at(0), "1:1");
        assert_eq!(at(2), "1:3");
        assert_eq!(at(3), "2:1");
        assert_eq!(at(5), "2:2", "ç is two bytes but one column");
        assert_eq!(at(4), "2:1", "an offset inside a character is clamped to its start");
        assert_eq!(at(7), "3:1");
        assert_eq!(at(99), "4:2");
    }

    #[test]
    fn diagnostics_print_like_a_compiler() {
        let d = Diagnostic::error("p.md", Position { line: 3, column: 7 }, "unknown field `x`");
        assert_eq!(d.to_string(), "p.md:3:7: unknown field `x`");
        let w = Diagnostic::warning("t.txt", Position { line: 1, column: 1 }, "duplicate term");
        assert_eq!(w.to_string(), "t.txt:1:1: warning: duplicate term");
    }
}
