//! Reading JSON Lines input one bounded line at a time: a line longer than the limit is skipped
//! to its end without ever being held whole, so memory stays flat whatever the input holds.

use std::io::{self, BufRead};

/// Longest input line kept, in bytes (`check --jsonl` and `import jsonl`); a longer line gets
/// an error and is skipped without being held in memory, so one bad line cannot exhaust it.
pub(crate) const MAX_LINE_BYTES: usize = 8 << 20;

/// One line read by [`read_line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineEnd {
    /// The line's length in bytes, without its newline, even when it was too long to keep.
    pub(crate) length: usize,
    /// Whether it was longer than [`MAX_LINE_BYTES`], and so not kept.
    pub(crate) too_long: bool,
    /// Whether it ended with a newline (otherwise with the input).
    pub(crate) newline: bool,
}

/// Appends the next line of `input`, without its newline, to `out`; a line longer than
/// [`MAX_LINE_BYTES`] leaves `out` as it was. `None` at the end of the input.
pub(crate) fn read_line(
    input: &mut impl BufRead,
    out: &mut Vec<u8>,
) -> io::Result<Option<LineEnd>> {
    let start = out.len();
    let mut length = 0usize;
    let mut too_long = false;
    loop {
        let buffer = match input.fill_buf() {
            Ok(buffer) => buffer,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if buffer.is_empty() {
            if length == 0 && !too_long {
                return Ok(None);
            }
            return Ok(Some(LineEnd { length, too_long, newline: false }));
        }
        let (take, found) = match memchr::memchr(b'\n', buffer) {
            Some(at) => (at, true),
            None => (buffer.len(), false),
        };
        if !too_long && length + take <= MAX_LINE_BYTES {
            out.extend_from_slice(&buffer[..take]);
        } else if !too_long {
            too_long = true;
            out.truncate(start);
        }
        length += take;
        input.consume(take + usize::from(found));
        if found {
            return Ok(Some(LineEnd { length, too_long, newline: true }));
        }
    }
}
