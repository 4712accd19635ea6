//! Reading export files into archive items: JSON Lines in the archive's own import shape, a
//! Mastodon (ActivityPub) outbox, and the `tweets.js` of an X archive.
//!
//! Every reader streams. JSON Lines is read line by line; the two single-document formats are
//! parsed one array element at a time, each element handed on before the next is read, so
//! memory stays bounded by the largest record whatever the size of the file. The one exception
//! is the versions of an edited tweet, which an X archive lists newest first: they are held
//! until the last of them has been read, then handed on oldest first (see [`x`]).
//!
//! A record that cannot become an item is reported through the callback as
//! [`ImportError::Record`] and reading goes on. A file that cannot be read further (broken
//! JSON, a missing prefix, an I/O error) ends the read with [`ImportError::Syntax`] or
//! [`ImportError::Io`]; the records before it have been delivered. Positions are lines and
//! columns counted from 1, columns in characters, as in policy diagnostics.

mod jsonl;
mod mastodon;
mod x;

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::rc::Rc;

use jiff::Timestamp;
use lifeguard_core::archive::{Item, ItemError};
use serde::Deserialize as _;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// The export formats that can be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// One item per line, in the shape of `Item::from_json`.
    Jsonl,
    /// A Mastodon export's `outbox.json`: an ActivityPub `OrderedCollection` of activities.
    Mastodon,
    /// An X archive's `data/tweets.js` (or another `window.YTD` file of tweets).
    X,
}

/// Where a record sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Position {
    /// Line of the record's first character, from 1 (for JSON Lines: the line).
    pub(crate) line: u64,
    /// Column of the record's first character, in characters from 1. For a record that is not
    /// valid JSON on its own line, the column where the JSON parser stopped.
    pub(crate) column: u64,
    /// The record's index from 0: among the array's elements, or among the non-blank lines.
    /// In a syntax error, the index of the record being read when the file broke off.
    pub(crate) record: u64,
}

/// Why a record or a file could not be imported.
#[derive(Debug)]
pub(crate) enum ImportError {
    /// One record is wrong; it is skipped and reading goes on.
    Record {
        /// The file as the user named it.
        file: String,
        /// Where the record starts.
        position: Position,
        /// What is wrong, lowercase, without a final period.
        message: String,
    },
    /// The file cannot be read further; the records before this point have been delivered.
    Syntax {
        /// The file as the user named it.
        file: String,
        /// Where reading stopped.
        position: Position,
        /// What is wrong, lowercase, without a final period.
        message: String,
    },
    /// Reading the file failed.
    Io {
        /// The file as the user named it.
        file: String,
        /// The error from the reader.
        error: io::Error,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Record { file, position, message } => write!(
                f,
                "{file}:{}:{}: record {}: {message}",
                position.line,
                position.column,
                // Counted from 1, as lines and columns are.
                position.record + 1
            ),
            ImportError::Syntax { file, position, message } => {
                write!(f, "{file}:{}:{}: {message}", position.line, position.column)
            }
            ImportError::Io { file, error } => write!(f, "{file}: {error}"),
        }
    }
}

impl std::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImportError::Io { error, .. } => Some(error),
            ImportError::Record { .. } | ImportError::Syntax { .. } => None,
        }
    }
}

/// Reads `reader`, an export in `format` named `file_name` (used in messages), and hands each
/// record to `on_record` as it is read: an item with its position, or the record's error.
/// `captured_at` is the capture time of every item that does not carry its own.
///
/// `on_record` returning `Break` stops the reading, and the call returns `Ok`. An error
/// returned here (syntax or I/O) means the rest of the file could not be read.
pub(crate) fn read(
    format: Format,
    file_name: &str,
    reader: impl Read,
    captured_at: Timestamp,
    mut on_record: impl FnMut(Result<(Position, Item), ImportError>) -> ControlFlow<()>,
) -> Result<(), ImportError> {
    match format {
        Format::Jsonl => jsonl::read(file_name, reader, captured_at, &mut on_record),
        Format::Mastodon => mastodon::read(file_name, reader, captured_at, &mut on_record),
        Format::X => x::read(file_name, reader, captured_at, &mut on_record),
    }
}

/// Reads the data files of one X archive, in the order given (`tweets.js`, `tweets-part1.js`,
/// …, then the deleted tweets), as [`read`] reads one, except that the versions of an edited
/// tweet are put in order across the files and a file that breaks off is handed to
/// `on_file_error` while the next one is read.
pub(crate) fn read_x_parts<R: Read>(
    parts: impl IntoIterator<Item = (String, R)>,
    captured_at: Timestamp,
    mut on_record: impl FnMut(Result<(Position, Item), ImportError>) -> ControlFlow<()>,
    mut on_file_error: impl FnMut(ImportError),
) {
    x::read_parts(parts, captured_at, &mut on_record, &mut on_file_error);
}

/// The account an X archive is of, from its `data/account.js`.
pub(crate) fn x_account(file_name: &str, reader: impl Read) -> Result<Option<String>, ImportError> {
    x::account_username(file_name, reader)
}

/// The callback as the format readers take it. A reader may map its records to something
/// more than an item (`T`) for its own use before handing items on.
type OnRecord<'a, T = Item> = dyn FnMut(Result<(Position, T), ImportError>) -> ControlFlow<()> + 'a;

/// Turns one array element into an item (or a `T`), or says (as a message) why it cannot. It is
/// given the element parsed and its text exactly as the file holds it, the item's raw payload.
type MapRecord<'a, T = Item> = dyn FnMut(&Value, &str) -> Result<T, String> + 'a;

/// A field error in the form the archive's own errors take: "field `x`: message".
fn field_error(field: &str, message: impl fmt::Display) -> String {
    ItemError { field: field.to_owned(), message: message.to_string() }.to_string()
}

/// The position of the last character read, and of the next one.
#[derive(Debug, Clone, Copy)]
struct Spot {
    line: u64,
    column: u64,
    next_line: u64,
    next_column: u64,
}

impl Default for Spot {
    fn default() -> Spot {
        Spot { line: 1, column: 1, next_line: 1, next_column: 1 }
    }
}

/// A reader that keeps the line and column of the last character read up to date.
///
/// `serde_json` reads a stream one byte at a time and looks ahead at most one byte, so when it
/// starts an array element the last byte it read is the element's first: the spot then is
/// where the record starts, and on an error it is where the parser stopped.
struct Counting<R> {
    inner: R,
    spot: Rc<Cell<Spot>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        let mut spot = self.spot.get();
        for &byte in buf.iter().take(read) {
            // UTF-8 continuation bytes belong to the character before them.
            if byte & 0xC0 == 0x80 {
                continue;
            }
            spot.line = spot.next_line;
            spot.column = spot.next_column;
            if byte == b'\n' {
                spot.next_line += 1;
                spot.next_column = 1;
            } else {
                spot.next_column += 1;
            }
        }
        self.spot.set(spot);
        Ok(read)
    }
}

/// The state of reading one JSON document whose records are the elements of an array in it.
struct Stream<'a, T = Item> {
    file: &'a str,
    spot: Rc<Cell<Spot>>,
    map: &'a mut MapRecord<'a, T>,
    on_record: &'a mut OnRecord<'a, T>,
    /// Index of the next record.
    record: u64,
    /// The callback asked to stop; the error that unwinds the parser is not a real one.
    stopped: bool,
}

impl<'a, T> Stream<'a, T> {
    fn new(
        file: &'a str,
        map: &'a mut MapRecord<'a, T>,
        on_record: &'a mut OnRecord<'a, T>,
    ) -> Self {
        Stream { file, spot: Rc::default(), map, on_record, record: 0, stopped: false }
    }

    /// Wraps the file's reader so that the stream knows where it is. Buffered, because the
    /// parser asks for one byte at a time.
    fn counting<R: Read>(&self, reader: R) -> Counting<io::BufReader<R>> {
        Counting { inner: io::BufReader::with_capacity(64 << 10, reader), spot: self.spot.clone() }
    }

    /// Where reading is now, for a syntax error.
    fn position(&self) -> Position {
        let spot = self.spot.get();
        Position { line: spot.line, column: spot.column, record: self.record }
    }

    fn syntax(&self, message: impl Into<String>) -> ImportError {
        ImportError::Syntax {
            file: self.file.to_owned(),
            position: self.position(),
            message: message.into(),
        }
    }

    /// Maps one element and hands it on.
    fn deliver(&mut self, start: Spot, raw: &RawValue) -> ControlFlow<()> {
        let position = Position { line: start.line, column: start.column, record: self.record };
        self.record += 1;
        // The text was just read as one JSON value; an error here would still be the record's.
        let mapped = serde_json::from_str::<Value>(raw.get())
            .map_err(|err| json_message(&err))
            .and_then(|value| (self.map)(&value, raw.get()));
        let result = match mapped {
            Ok(item) => Ok((position, item)),
            Err(message) => {
                Err(ImportError::Record { file: self.file.to_owned(), position, message })
            }
        };
        (self.on_record)(result)
    }

    /// Runs `root` over the document (whose reader came from [`Stream::counting`]) and checks
    /// that nothing but whitespace follows it.
    fn run<R: Read>(
        &mut self,
        reader: Counting<R>,
        root: impl FnOnce(
            &mut serde_json::Deserializer<serde_json::de::IoRead<Counting<R>>>,
            &mut Stream<'a, T>,
        ) -> serde_json::Result<()>,
    ) -> Result<(), ImportError> {
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        match root(&mut deserializer, self).and_then(|()| deserializer.end()) {
            Ok(()) => Ok(()),
            Err(_) if self.stopped => Ok(()),
            Err(err) if err.is_io() => {
                Err(ImportError::Io { file: self.file.to_owned(), error: err.into() })
            }
            Err(err) => Err(self.syntax(json_message(&err))),
        }
    }
}

/// serde_json's message without the position it appends: positions are reported separately.
fn json_message(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match message.strip_suffix(&suffix) {
        Some(message) => message.to_owned(),
        None => message,
    }
}

/// Deserializes an array by handing each element to the stream as soon as it is parsed; the
/// array itself is never built.
struct Elements<'s, 'a, T = Item> {
    stream: &'s mut Stream<'a, T>,
    /// What the array should contain, for the message when it is not an array.
    expecting: &'static str,
}

impl<'de, T> DeserializeSeed<'de> for Elements<'_, '_, T> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T> Visitor<'de> for Elements<'_, '_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some((start, raw)) = seq.next_element_seed(Start(&self.stream.spot))? {
            if self.stream.deliver(start, &raw).is_break() {
                self.stream.stopped = true;
                return Err(de::Error::custom("stopped by the caller"));
            }
        }
        Ok(())
    }
}

/// One array element, with the spot where it starts.
struct Start<'s>(&'s Cell<Spot>);

impl<'de> DeserializeSeed<'de> for Start<'_> {
    type Value = (Spot, Box<RawValue>);

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        // The parser has looked at the element's first byte and not yet consumed it.
        let start = self.0.get();
        Ok((start, Box::<RawValue>::deserialize(deserializer)?))
    }
}

/// A string field, or a number given for it (platforms hand out numeric ids).
fn string_field(
    object: &serde_json::Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<String>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(number)) if number.is_u64() || number.is_i64() => {
            Ok(Some(number.to_string()))
        }
        Some(_) => Err(field_error(field, "expected a string")),
    }
}

/// What the readers' tests share: fixtures, a capture time and a callback that keeps every
/// record.
#[cfg(test)]
mod testing {
    use std::ops::ControlFlow;

    use jiff::Timestamp;
    use lifeguard_core::archive::Item;

    use super::{ImportError, OnRecord, Position};

    pub(super) type Records = Vec<Result<(Position, Item), ImportError>>;

    /// A file below `fixtures/imports/`.
    pub(super) fn fixture(path: &str) -> Vec<u8> {
        let path = format!("{}/../../fixtures/imports/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
    }

    pub(super) fn captured() -> Timestamp {
        "2024-03-01T12:00:00Z".parse().unwrap()
    }

    /// One line per record: its position (`line:column #record`) then `describe`'s account of
    /// the item, or the error.
    pub(super) fn render(
        records: &[Result<(Position, Item), ImportError>],
        describe: impl Fn(&Item) -> String,
    ) -> String {
        let mut out = String::new();
        for record in records {
            let line = match record {
                Ok((at, item)) => {
                    format!("{}:{} #{} {}", at.line, at.column, at.record, describe(item))
                }
                Err(err) => err.to_string(),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// Runs a reader to its end, returning what the callback saw and how the read ended.
    pub(super) fn collect(
        reader: impl FnOnce(&mut OnRecord<'_>) -> Result<(), ImportError>,
    ) -> (Records, Result<(), ImportError>) {
        let mut records = Vec::new();
        let end = reader(&mut |record| {
            records.push(record);
            ControlFlow::Continue(())
        });
        (records, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per call, the worst case for the counting reader.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((&byte, rest)), Some(slot)) => {
                    *slot = byte;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn the_counting_reader_counts_characters_not_bytes() {
        let spot = Rc::new(Cell::new(Spot::default()));
        let mut reader =
            Counting { inner: Trickle("é\n😀x\r\nab".as_bytes()), spot: spot.clone() };
        let mut seen = Vec::new();
        let mut byte = [0u8];
        while reader.read(&mut byte).unwrap() == 1 {
            let at = spot.get();
            seen.push(format!("{}:{}", at.line, at.column));
        }
        // é is two bytes, 😀 four; each byte reports its character's position.
        assert_eq!(seen.join(" "), "1:1 1:1 1:2 2:1 2:1 2:1 2:1 2:2 2:3 2:4 3:1 3:2");
    }

    #[test]
    fn errors_read_as_file_line_column() {
        let position = Position { line: 12, column: 5, record: 3 };
        let record = ImportError::Record {
            file: "outbox.json".into(),
            position,
            message: field_error("object.published", "not an RFC 3339 time"),
        };
        assert_eq!(
            record.to_string(),
            "outbox.json:12:5: record 4: field `object.published`: not an RFC 3339 time"
        );
        let syntax = ImportError::Syntax {
            file: "tweets.js".into(),
            position,
            message: "EOF while parsing a list".into(),
        };
        assert_eq!(syntax.to_string(), "tweets.js:12:5: EOF while parsing a list");
        let io = ImportError::Io { file: "items.jsonl".into(), error: io::Error::other("gone") };
        assert_eq!(io.to_string(), "items.jsonl: gone");
        assert!(std::error::Error::source(&io).is_some());
    }

    #[test]
    fn every_format_reads_through_the_one_entry_point() {
        let captured: Timestamp = "2024-03-01T00:00:00Z".parse().unwrap();
        let inputs: [(Format, &str); 3] = [
            (Format::Jsonl, r#"{"platform":"x","external_id":"1","text":"hi"}"#),
            (
                Format::Mastodon,
                r#"{"type":"OrderedCollection","orderedItems":[{"type":"Create","actor":"https://s.example/users/a","object":{"id":"https://s.example/users/a/statuses/1","type":"Note","content":"<p>hi</p>"}}]}"#,
            ),
            (Format::X, r#"window.YTD.tweets.part0 = [{"tweet":{"id_str":"1","full_text":"hi"}}]"#),
        ];
        for (format, input) in inputs {
            let mut texts = Vec::new();
            read(format, "f", input.as_bytes(), captured, |record| {
                texts.push(record.map(|(_, item)| item.text).unwrap_or_else(|e| e.to_string()));
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(texts, ["hi"], "{format:?}");
        }
    }
}
