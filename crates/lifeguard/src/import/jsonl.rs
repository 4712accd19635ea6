//! JSON Lines: one item per line in the archive's import shape (`Item::from_json`).
//!
//! Lines are read one at a time, each at most [`MAX_LINE_BYTES`]; a longer line, a line that
//! is not UTF-8 or not JSON, or an object that is not a valid item is a record error and
//! reading goes on at the next line. Blank lines are skipped; a final `\r` is dropped, and so
//! is a byte order mark at the start of the file. An object that names a field twice is a
//! record error too. The item keeps the line as its raw payload
//! when the object carries fields beyond the item format's own (and no `raw` of its own); a line
//! in the item format alone is the item itself.

use std::io::{self, BufReader, Read};

use super::{ImportError, OnRecord, Position, json_message};
use crate::lines::{self, MAX_LINE_BYTES};
use jiff::Timestamp;
use lifeguard_core::archive::{Item, parse_unique_keys};

pub(super) fn read(
    file: &str,
    reader: impl Read,
    captured_at: Timestamp,
    on_record: &mut OnRecord<'_>,
) -> Result<(), ImportError> {
    let mut lines = Lines { input: BufReader::with_capacity(1 << 20, reader), line: Vec::new() };
    let mut number = 0u64;
    let mut record = 0u64;
    loop {
        let read =
            lines.next().map_err(|error| ImportError::Io { file: file.to_owned(), error })?;
        number += 1;
        let result = match read {
            Line::Eof => return Ok(()),
            Line::TooLong => Err((
                1,
                format!("line is longer than the limit of {MAX_LINE_BYTES} bytes; skipped"),
            )),
            Line::Text => {
                let mut bytes = lines.line.strip_suffix(b"\r").unwrap_or(&lines.line);
                if number == 1 {
                    bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
                }
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                item(bytes, captured_at)
            }
        };
        let result = match result {
            Ok(item) => Ok((Position { line: number, column: 1, record }, item)),
            Err((column, message)) => Err(ImportError::Record {
                file: file.to_owned(),
                position: Position { line: number, column, record },
                message,
            }),
        };
        record += 1;
        if on_record(result).is_break() {
            return Ok(());
        }
    }
}

/// One line as an item, or the column (in characters) and message of what is wrong with it.
fn item(bytes: &[u8], captured_at: Timestamp) -> Result<Item, (u64, String)> {
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let at = err.valid_up_to();
        (characters(&bytes[..at]) + 1, format!("invalid UTF-8 at byte {} of the line", at + 1))
    })?;
    let value = parse_unique_keys(text).map_err(|err| {
        // serde_json counts the column in bytes, from 1, at the offending byte.
        let column = characters(&bytes[..err.column().min(bytes.len())]).max(1);
        (column, format!("invalid JSON at column {column}: {}", json_message(&err)))
    })?;
    Item::from_json_text(text, &value, captured_at).map_err(|err| (1, err.to_string()))
}

/// Characters in a run of bytes that is valid UTF-8 or a prefix of it.
fn characters(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte & 0xC0 != 0x80).count() as u64
}

enum Line {
    /// A line is in the buffer, without its newline.
    Text,
    /// The line was longer than the limit and has been skipped.
    TooLong,
    Eof,
}

/// Reads lines into one buffer that never grows past the line limit.
struct Lines<R> {
    input: BufReader<R>,
    line: Vec<u8>,
}

impl<R: Read> Lines<R> {
    fn next(&mut self) -> io::Result<Line> {
        self.line.clear();
        Ok(match lines::read_line(&mut self.input, &mut self.line)? {
            None => Line::Eof,
            Some(end) if end.too_long => Line::TooLong,
            Some(_) => Line::Text,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use lifeguard_core::archive::{Change, MAX_RAW};
    use serde_json::Value;

    use super::super::testing::{self, Records, captured, collect};
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        testing::fixture(&format!("jsonl/{name}"))
    }

    fn import(input: impl Read) -> (Records, Result<(), ImportError>) {
        collect(|on_record| read("items.jsonl", input, captured(), on_record))
    }

    /// One line per record: `line:column kind change id "text"`, or the error.
    fn render(records: &[Result<(Position, Item), ImportError>]) -> String {
        testing::render(records, |item| {
            format!(
                "{}/{} {} {} {:?}",
                item.platform,
                item.external_id,
                item.kind,
                item.change.name(),
                item.text.chars().take(30).collect::<String>()
            )
        })
    }

    #[test]
    fn the_fixture_reads_every_line_as_an_item() {
        let (records, end) = import(&fixture("items.jsonl")[..]);
        end.unwrap();
        assert_eq!(records.len(), 24);
        let items: Vec<&Item> = records.iter().map(|r| &r.as_ref().unwrap().1).collect();
        assert!(items.iter().all(|item| item.validate().is_ok()));

        let edit = items.iter().find(|item| item.change == Change::Edit).unwrap();
        assert_eq!(edit.external_id, "urn:li:share:7160000000000000102");
        assert!(edit.text.contains("guaranteed"), "{}", edit.text);
        let deletion = items.iter().find(|item| item.change == Change::Deletion).unwrap();
        assert_eq!(deletion.platform, "x");

        let reply = items.iter().find(|item| item.parent.is_some()).unwrap();
        assert_eq!(reply.kind.name(), "reply");
        assert_eq!(reply.parent.as_deref(), Some("1755000000000000100"));

        let with_media = items.iter().find(|item| !item.media.is_empty()).unwrap();
        assert_eq!(with_media.media[0].media_type.as_deref(), Some("image/jpeg"));
        assert_eq!(with_media.media[0].size, Some(482_113));

        // A line with fields beyond the item format keeps the line exactly as it was as its
        // raw payload; a line in the item format alone is the item and keeps none.
        let text = String::from_utf8(fixture("items.jsonl")).unwrap();
        for (line, item) in text.lines().filter(|l| !l.trim().is_empty()).zip(&items) {
            let object: Value = serde_json::from_str(line).unwrap();
            let extra = object
                .as_object()
                .unwrap()
                .keys()
                .any(|k| !lifeguard_core::archive::ITEM_FIELDS.contains(&k.as_str()));
            let own_raw = object.get("raw").is_some();
            match (extra, own_raw) {
                (_, true) => assert_eq!(item.raw.as_deref(), object["raw"].as_str()),
                (true, false) => assert_eq!(item.raw.as_deref(), Some(line)),
                (false, false) => assert_eq!(item.raw, None),
            }
        }
        assert_eq!(items[0].captured_at, captured(), "no capture time in the line: the import's");
        assert!(items.iter().any(|item| item.captured_at != captured()));
        assert!(items.iter().any(|item| item.text.contains("🚲")));
    }

    #[test]
    fn an_object_that_names_a_field_twice_is_a_record_error() {
        let input = concat!(
            "{\"platform\":\"x\",\"external_id\":\"1\",\"text\":\"hello\",\"text\":\"bye\"}\n",
            "{\"platform\":\"x\",\"external_id\":\"2\",\"media\":[{\"name\":\"a\",\"name\":\"b\"}]}\n",
            "{\"platform\":\"x\",\"external_id\":\"3\",\"text\":\"after\"}\n",
        );
        let (records, end) = import(input.as_bytes());
        end.unwrap();
        assert_eq!(
            render(&records),
            concat!(
                "items.jsonl:1:55: record 1: invalid JSON at column 55: the key `text` appears twice\n",
                "items.jsonl:2:61: record 2: invalid JSON at column 61: the key `name` appears twice\n",
                "3:1 #2 x/3 post original \"after\"\n",
            )
        );
    }

    #[test]
    fn bad_lines_are_reported_where_they_are_and_the_rest_is_read() {
        let (records, end) = import(&fixture("bad.jsonl")[..]);
        end.unwrap();
        assert_eq!(
            render(&records),
            concat!(
                "1:1 #0 mastodon/https://social.example/users/brightwater/statuses/1 post original \"Morning, everyone ☀\\u{fe0f}\"\n",
                "items.jsonl:2:1: record 2: field `platform`: required\n",
                "items.jsonl:4:28: record 3: invalid JSON at column 28: expected `,` or `}`\n",
                "items.jsonl:5:1: record 4: field `created_at`: not an RFC 3339 time (failed to parse four digit integer as year: invalid digit, expected 0-9 but got y)\n",
                "items.jsonl:6:1: record 5: field `kind`: unknown kind `tweet` (expected one of: post, reply, comment, message, repost, story, profile, bio, banner, pinned)\n",
                "items.jsonl:7:1: record 6: field `(line)`: expected a JSON object\n",
                "9:1 #6 x/1755000000000000999 reply original \"Still here after the bad ones\"\n",
            )
        );
    }

    #[test]
    fn invalid_utf8_names_the_byte_and_reading_goes_on() {
        let mut input =
            b"{\"platform\":\"x\",\"external_id\":\"1\",\"text\":\"caf\xc3\xa9 \xff\"}\n".to_vec();
        input.extend_from_slice(b"{\"platform\":\"x\",\"external_id\":\"2\",\"text\":\"ok\"}\r\n");
        let (records, end) = import(&input[..]);
        end.unwrap();
        assert_eq!(
            render(&records),
            // `é` is two bytes: byte 49 is the 48th character.
            "items.jsonl:1:48: record 1: invalid UTF-8 at byte 49 of the line\n2:1 #1 x/2 post original \"ok\"\n"
        );
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_and_the_next_one_read() {
        let mut input = Vec::with_capacity(MAX_LINE_BYTES + 200);
        input.extend_from_slice(b"{\"platform\":\"x\",\"external_id\":\"1\",\"text\":\"");
        input.resize(MAX_LINE_BYTES + 10, b'a');
        input.extend_from_slice(
            b"\"}\n{\"platform\":\"x\",\"external_id\":\"2\",\"text\":\"next\"}",
        );
        let (records, end) = import(&input[..]);
        end.unwrap();
        assert_eq!(
            render(&records),
            format!(
                "items.jsonl:1:1: record 1: line is longer than the limit of {MAX_LINE_BYTES} \
                 bytes; skipped\n2:1 #1 x/2 post original \"next\"\n"
            )
        );
        // A line of exactly the limit is still read (and then fails on its own merits).
        let mut input =
            b"{\"platform\":\"x\",\"external_id\":\"1\",\"raw\":\"r\",\"text\":\"".to_vec();
        input.resize(MAX_LINE_BYTES - 2, b'a');
        input.extend_from_slice(b"\"}");
        let (records, _) = import(&input[..]);
        assert_eq!(
            render(&records),
            "items.jsonl:1:1: record 1: field `text`: longer than 1048576 bytes\n"
        );
    }

    #[test]
    fn a_long_line_without_raw_of_its_own_cannot_be_kept_whole() {
        // Fields the import shape does not know are ignored, but they are part of the line.
        let mut input =
            b"{\"platform\":\"x\",\"external_id\":\"1\",\"text\":\"t\",\"extra\":\"".to_vec();
        input.resize(MAX_RAW + 100, b'b');
        input.extend_from_slice(b"\"}");
        let (records, end) = import(&input[..]);
        end.unwrap();
        let message = render(&records);
        assert!(message.contains("the most the archive keeps as the raw payload"), "{message}");
    }

    #[test]
    fn the_callback_can_stop_the_reading() {
        let mut seen = 0;
        read("items.jsonl", &fixture("items.jsonl")[..], captured(), &mut |_| {
            seen += 1;
            if seen == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .unwrap();
        assert_eq!(seen, 3);
    }

    #[test]
    fn a_read_error_ends_the_import() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk gone"));
                }
                self.0 -= 1;
                let line = b"{\"platform\":\"x\",\"external_id\":\"1\",\"text\":\"a\"}\n";
                buf[..line.len()].copy_from_slice(line);
                Ok(line.len())
            }
        }
        let (records, end) = import(Failing(2));
        assert_eq!(records.len(), 2);
        assert_eq!(end.unwrap_err().to_string(), "items.jsonl: disk gone");
    }
}
