//! An X archive's `data/tweets.js`: `window.YTD.tweets.part0 = [ {"tweet": {…}}, … ]`.
//!
//! The `window.YTD.<name>.part<N> =` prefix is checked and skipped, then the array's elements
//! are streamed one at a time. Each tweet becomes an item of platform `x`, written by the
//! organization (author type `corporate`: the archive is of its own account):
//!
//! - Its id is `id_str`, its time `created_at` (X's `Wed Oct 10 20:19:24 +0000 2018`).
//! - Its text is `full_text` with HTML's `&amp;`, `&lt;` and `&gt;` decoded, each t.co link
//!   the entities expand replaced by its `expanded_url`, and the t.co placeholders of
//!   attached media removed. Its links are the expanded URLs.
//! - Its media come from `extended_entities` (else `entities`): a photo's `media_url_https`,
//!   a video's or GIF's best MP4 variant.
//! - It is a reply (with the replied-to tweet as parent) when `in_reply_to_status_id_str` is
//!   set, and a repost when the text starts with `RT @`, the archive's only sign of a retweet.
//! - A tweet with `edit_info.edit` is an edit of its `initialTweetId`, which becomes the
//!   external id so that every version of a tweet shares one. A tweet with `deleted_at` (as
//!   in `deleted-tweets.js`) is a deletion, timed by `deleted_at`.
//!
//! The archive's tweets do not name their author: account and author stay empty unless the
//! tweet carries `user.screen_name`, and the caller fills them in from the archive's
//! `account.js` or the command line. The raw payload is the `tweet` object as JSON.

use std::io::{self, Read};

use jiff::Timestamp;
use lifeguard_core::archive::{Change, Item, Media};
use lifeguard_core::item::{AuthorType, ContentKind};
use serde::de::DeserializeSeed as _;
use serde_json::{Map, Value};

use super::{Elements, ImportError, MapRecord, OnRecord, Stream, field_error, string_field};

/// The longest prefix accepted before the `=`.
const MAX_PREFIX: usize = 256;

pub(super) fn read(
    file: &str,
    reader: impl Read,
    captured_at: Timestamp,
    on_record: &mut OnRecord<'_>,
) -> Result<(), ImportError> {
    let mut map = |value: &Value| item(value, captured_at);
    let map: &mut MapRecord<'_> = &mut map;
    let mut stream = Stream::new(file, map, on_record);
    let mut reader = stream.counting(reader);
    match skip_prefix(&mut reader) {
        Ok(Ok(())) => {}
        Ok(Err(message)) => return Err(stream.syntax(message)),
        Err(error) => return Err(ImportError::Io { file: file.to_owned(), error }),
    }
    stream.run(reader, |deserializer, stream| {
        Elements { stream, expecting: "an array of tweets" }.deserialize(deserializer)
    })
}

/// Reads up to and including the `=` of `window.YTD.<name>.part<N> =`; the inner error says
/// what is wrong with the prefix.
fn skip_prefix(reader: &mut impl Read) -> io::Result<Result<(), String>> {
    const EXPECTED: &str =
        "expected the `window.YTD.<name>.part<N> = ` prefix of an X archive's data file";
    let mut prefix = Vec::new();
    let mut byte = [0u8];
    loop {
        match reader.read(&mut byte) {
            Ok(0) => return Ok(Err(format!("{EXPECTED}, found the end of the file"))),
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
        match byte[0] {
            b'=' => break,
            b'[' | b'{' => return Ok(Err(format!("{EXPECTED}, found JSON"))),
            other if prefix.len() < MAX_PREFIX => prefix.push(other),
            _ => return Ok(Err(EXPECTED.to_owned())),
        }
    }
    let prefix = String::from_utf8_lossy(&prefix);
    let prefix = prefix.trim_start_matches('\u{feff}').trim();
    let valid = prefix
        .strip_prefix("window.YTD.")
        .and_then(|rest| rest.rsplit_once(".part"))
        .is_some_and(|(name, part)| {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
        });
    Ok(if valid { Ok(()) } else { Err(format!("{EXPECTED}, found `{prefix} =`")) })
}

/// One element of the array (`{"tweet": {…}}`, or a bare tweet as older archives have it).
fn item(element: &Value, captured_at: Timestamp) -> Result<Item, String> {
    let (tweet, at) = match element.get("tweet") {
        Some(tweet) => (tweet, "tweet."),
        None => (element, ""),
    };
    let fields = tweet.as_object().ok_or("expected a tweet (a JSON object)")?;
    let name = |field: &str| format!("{at}{field}");
    let id = match string_field(fields, "id_str", &name("id_str"))? {
        Some(id) => id,
        None => string_field(fields, "id", &name("id"))?
            .ok_or_else(|| field_error(&name("id_str"), "required"))?,
    };
    let full_text = match string_field(fields, "full_text", &name("full_text"))? {
        Some(text) => text,
        None => string_field(fields, "text", &name("text"))?.unwrap_or_default(),
    };

    // Decoded first: the expanded URLs that replace t.co links are not escaped.
    let mut text = unescape(&full_text);
    let mut links = Vec::new();
    let entities = fields.get("entities");
    for (index, url) in array(entities, "urls", &name("entities.urls"))?.iter().enumerate() {
        let at = name(&format!("entities.urls[{index}]"));
        let url = url.as_object().ok_or_else(|| field_error(&at, "expected an object"))?;
        let short = string_field(url, "url", &format!("{at}.url"))?;
        let expanded = string_field(url, "expanded_url", &format!("{at}.expanded_url"))?;
        if let (Some(short), Some(expanded)) = (&short, &expanded)
            && !short.is_empty()
        {
            text = text.replace(short.as_str(), expanded);
        }
        if let Some(link) = expanded.or(short).filter(|link| !link.is_empty())
            && !links.contains(&link)
        {
            links.push(link);
        }
    }

    let extended = fields.get("extended_entities");
    let media_field = if extended.is_some_and(|e| e.get("media").is_some()) {
        "extended_entities.media"
    } else {
        "entities.media"
    };
    let media_source = if media_field == "extended_entities.media" { extended } else { entities };
    let mut media = Vec::new();
    for (index, entry) in array(media_source, "media", &name(media_field))?.iter().enumerate() {
        let at = name(&format!("{media_field}[{index}]"));
        let entry = entry.as_object().ok_or_else(|| field_error(&at, "expected an object"))?;
        // The media's t.co link stands for the attachment: the attachment is kept instead.
        if let Some(short) = string_field(entry, "url", &format!("{at}.url"))?
            && !short.is_empty()
        {
            text = text.replace(short.as_str(), "");
        }
        media.push(media_of(entry, &at)?);
    }
    let text = text.trim_end();

    let mut item = Item::new("x", &id, text, captured_at);
    item.author_type = AuthorType::Corporate;
    item.links = links;
    item.media = media;
    item.created_at = time(fields, "created_at", &name("created_at"))?;
    item.parent =
        string_field(fields, "in_reply_to_status_id_str", &name("in_reply_to_status_id_str"))?;
    if item.parent.is_none() {
        item.parent =
            string_field(fields, "in_reply_to_status_id", &name("in_reply_to_status_id"))?;
    }
    if item.parent.is_some() {
        item.kind = ContentKind::Reply;
    } else if item.text.starts_with("RT @") {
        item.kind = ContentKind::Repost;
    }
    if let Some(edit) = fields.get("edit_info").and_then(|info| info.get("edit")) {
        let edit = edit
            .as_object()
            .ok_or_else(|| field_error(&name("edit_info.edit"), "expected an object"))?;
        let field = name("edit_info.edit.initialTweetId");
        let initial = string_field(edit, "initialTweetId", &field)?
            .ok_or_else(|| field_error(&field, "required"))?;
        if initial != id {
            item.external_id = initial;
            item.change = Change::Edit;
        }
    }
    if let Some(deleted) = time(fields, "deleted_at", &name("deleted_at"))? {
        item.change = Change::Deletion;
        item.created_at = Some(deleted);
    }
    if let Some(user) = fields.get("user").and_then(Value::as_object)
        && let Some(screen_name) = string_field(user, "screen_name", &name("user.screen_name"))?
    {
        item.account.clone_from(&screen_name);
        item.author = screen_name;
    }
    item.raw = Some(serde_json::to_string(tweet).map_err(|err| err.to_string())?);
    item.validate().map_err(|err| err.to_string())?;
    Ok(item)
}

/// One media entity: a photo's image, or a video's (or GIF's) best MP4.
fn media_of(entry: &Map<String, Value>, at: &str) -> Result<Media, String> {
    let image = match string_field(entry, "media_url_https", &format!("{at}.media_url_https"))? {
        Some(url) => Some(url),
        None => string_field(entry, "media_url", &format!("{at}.media_url"))?,
    };
    let video = entry
        .get("video_info")
        .and_then(|info| info.get("variants"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|variant| variant.get("content_type").and_then(Value::as_str) == Some("video/mp4"))
        .filter_map(|variant| {
            let url = variant.get("url").and_then(Value::as_str)?;
            let bitrate = match variant.get("bitrate") {
                Some(Value::String(text)) => text.parse().unwrap_or(0),
                Some(Value::Number(number)) => number.as_u64().unwrap_or(0),
                _ => 0,
            };
            Some((bitrate, url))
        })
        .max_by_key(|&(bitrate, _)| bitrate);
    if let Some((_, url)) = video {
        return Ok(Media {
            name: url.to_owned(),
            media_type: Some("video/mp4".into()),
            ..Media::default()
        });
    }
    let name = image.ok_or_else(|| field_error(&format!("{at}.media_url_https"), "required"))?;
    let media_type = image_type(&name).map(str::to_owned);
    Ok(Media { name, media_type, ..Media::default() })
}

/// The type of an image, from its URL's extension.
fn image_type(url: &str) -> Option<&'static str> {
    let extension = url.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => return None,
    })
}

/// The array `key` of an entities object, empty when absent.
fn array<'v>(object: Option<&'v Value>, key: &str, field: &str) -> Result<&'v [Value], String> {
    match object.and_then(|object| object.get(key)) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(values)) => Ok(values),
        Some(_) => Err(field_error(field, "expected an array")),
    }
}

/// X's time format: `Wed Oct 10 20:19:24 +0000 2018`.
fn time(object: &Map<String, Value>, key: &str, field: &str) -> Result<Option<Timestamp>, String> {
    let Some(text) = string_field(object, key, field)? else { return Ok(None) };
    jiff::fmt::strtime::parse("%a %b %d %H:%M:%S %z %Y", &text)
        .and_then(|time| time.to_timestamp())
        .map(Some)
        .map_err(|err| {
            field_error(field, format!("not a time like `Wed Oct 10 20:19:24 +0000 2018` ({err})"))
        })
}

/// Decodes the three entities X escapes in tweet text.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (decoded, length) = if rest.starts_with("&amp;") {
            ('&', 5)
        } else if rest.starts_with("&lt;") {
            ('<', 4)
        } else if rest.starts_with("&gt;") {
            ('>', 4)
        } else {
            ('&', 1)
        };
        out.push(decoded);
        rest = &rest[length..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {

    use super::super::Position;
    use super::super::testing::{self, Records, captured, collect};
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        testing::fixture(&format!("x/{name}"))
    }

    fn import(input: impl Read) -> (Records, Result<(), ImportError>) {
        collect(|on_record| read("tweets.js", input, captured(), on_record))
    }

    /// One line per record: position, kind, change, id and the text's start.
    fn render(records: &[Result<(Position, Item), ImportError>]) -> String {
        testing::render(records, |item| {
            format!(
                "{} {} {} {:?}",
                item.kind,
                item.change.name(),
                item.external_id,
                item.text.chars().take(24).collect::<String>(),
            )
        })
    }

    fn items(records: &Records) -> Vec<&Item> {
        records.iter().map(|record| &record.as_ref().unwrap().1).collect()
    }

    #[test]
    fn the_fixture_archive_reads_every_tweet() {
        let (records, end) = import(&fixture("data/tweets.js")[..]);
        end.unwrap();
        let items = items(&records);
        assert_eq!(items.len(), 22);
        let count = |kind: ContentKind| items.iter().filter(|item| item.kind == kind).count();
        assert_eq!(count(ContentKind::Reply), 4);
        assert_eq!(count(ContentKind::Repost), 2);
        assert_eq!(items.iter().filter(|item| item.change == Change::Edit).count(), 1);
        for item in &items {
            assert_eq!(item.platform, "x");
            assert_eq!(item.author_type, AuthorType::Corporate);
            assert!(item.created_at.is_some());
            assert!(!item.text.contains("https://t.co/"), "{}", item.text);
        }
    }

    #[test]
    fn a_tweet_maps_text_links_media_and_times() {
        let (records, _) = import(&fixture("data/tweets.js")[..]);
        let items = items(&records);
        let first = items[0];
        assert_eq!(first.external_id, "1762512345678901248");
        assert_eq!(first.created_at, Some("2024-02-27T16:05:12Z".parse().unwrap()));
        assert_eq!(first.account, "");

        let linked = items.iter().find(|item| item.text.contains("heat pump")).unwrap();
        assert_eq!(
            linked.text,
            "Thinking about a heat pump? Our guide covers costs, grants & installers: https://brightwater.example/guides/heat-pumps?utm_source=x"
        );
        assert_eq!(linked.links, ["https://brightwater.example/guides/heat-pumps?utm_source=x"]);

        let photo = items.iter().find(|item| item.media.len() == 2).unwrap();
        assert_eq!(photo.media[0].media_type.as_deref(), Some("image/jpeg"));
        assert!(photo.media[0].name.starts_with("https://pbs.twimg.com/media/"));
        let video = items
            .iter()
            .find(|item| item.media.iter().any(|m| m.media_type.as_deref() == Some("video/mp4")))
            .unwrap();
        assert!(
            video.media[0].name.contains("1280x720"),
            "the best variant: {}",
            video.media[0].name
        );

        let reply = items.iter().find(|item| item.kind == ContentKind::Reply).unwrap();
        assert!(reply.parent.is_some());

        let edit = items.iter().find(|item| item.change == Change::Edit).unwrap();
        assert!(items.iter().any(|item| item.change == Change::Original && item.external_id == edit.external_id));
        assert!(edit.raw.as_deref().is_some_and(|raw| raw.contains("\"initialTweetId\"")));

        assert!(items.iter().any(|item| item.text.contains("<3") && item.text.contains("Q&A")));
        assert!(items.iter().any(|item| item.text.contains("0113 496 0321")));
        assert!(items.iter().any(|item| item.text.contains("👩\u{200d}🔧")));
    }

    #[test]
    fn deleted_tweets_are_deletions_timed_when_deleted() {
        let (records, end) = import(&fixture("data/deleted-tweets.js")[..]);
        end.unwrap();
        let items = items(&records);
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|item| item.change == Change::Deletion));
        assert_eq!(items[0].created_at, Some("2024-02-20T08:31:00Z".parse().unwrap()));
    }

    #[test]
    fn records_are_positioned_where_they_start() {
        let (records, _) = import(&fixture("data/tweets.js")[..]);
        let text = String::from_utf8(fixture("data/tweets.js")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for record in &records {
            let (at, _) = record.as_ref().unwrap();
            assert_eq!((at.column, lines[at.line as usize - 1]), (3, "  {"), "{at:?}");
        }
    }

    #[test]
    fn a_bad_tweet_is_reported_and_the_next_ones_read() {
        let (records, end) = import(&fixture("data/bad-record.js")[..]);
        end.unwrap();
        assert_eq!(
            render(&records),
            concat!(
                "2:3 #0 post original 1760000000000000001 \"First.\"\n",
                "tweets.js:9:3: record 1: field `tweet.created_at`: not a time like `Wed Oct 10 20:19:24 +0000 2018` (strptime parsing failed: %a failed: expected to find weekday abbreviation)\n",
                "tweets.js:16:3: record 2: field `tweet.id_str`: required\n",
                "tweets.js:22:3: record 3: expected a tweet (a JSON object)\n",
                "23:3 #4 post original 1760000000000000004 \"Last.\"\n",
            )
        );
    }

    #[test]
    fn a_truncated_archive_delivers_what_came_before_and_says_where_it_broke() {
        let whole = fixture("data/tweets.js");
        let text = String::from_utf8(whole.clone()).unwrap();
        let cut = text.match_indices("\n  {").nth(3).unwrap().0 + 60;
        let (records, end) = import(&whole[..cut]);
        assert_eq!(records.len(), 3);
        let err = end.unwrap_err();
        let ImportError::Syntax { position, .. } = &err else { panic!("{err}") };
        assert_eq!((position.line as usize, position.record), (text[..cut].lines().count(), 3));
    }

    #[test]
    fn the_prefix_is_required() {
        for (input, message) in [
            (
                "[]",
                "tweets.js:1:1: expected the `window.YTD.<name>.part<N> = ` prefix of an X archive's data file, found JSON",
            ),
            (
                "",
                "tweets.js:1:1: expected the `window.YTD.<name>.part<N> = ` prefix of an X archive's data file, found the end of the file",
            ),
            (
                "var tweets = []",
                "tweets.js:1:12: expected the `window.YTD.<name>.part<N> = ` prefix of an X archive's data file, found `var tweets =`",
            ),
            (
                "window.YTD.tweets.partA = []",
                "tweets.js:1:25: expected the `window.YTD.<name>.part<N> = ` prefix of an X archive's data file, found `window.YTD.tweets.partA =`",
            ),
            (
                "window.YTD.tweets.part0 = {}",
                "tweets.js:1:27: invalid type: map, expected an array of tweets",
            ),
        ] {
            let (records, end) = import(input.as_bytes());
            assert!(records.is_empty());
            assert_eq!(end.unwrap_err().to_string(), message, "{input}");
        }
        let (records, end) = import("\u{feff}window.YTD.deleted_tweets.part12 =\n[ ]\n".as_bytes());
        assert!(records.is_empty());
        end.unwrap();
    }

    #[test]
    fn x_times_and_escapes() {
        let fields: Map<String, Value> = serde_json::from_str(
            r#"{"a":"Wed Oct 10 20:19:24 +0000 2018","b":"Wed Oct 10 22:19:24 +0200 2018"}"#,
        )
        .unwrap();
        let expected: Timestamp = "2018-10-10T20:19:24Z".parse().unwrap();
        assert_eq!(time(&fields, "a", "a").unwrap(), Some(expected));
        assert_eq!(time(&fields, "b", "b").unwrap(), Some(expected));
        assert_eq!(unescape("a &amp;lt; b &lt;3 &gt; &c &amp;"), "a &lt; b <3 > &c &");
    }
}
