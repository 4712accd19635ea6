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
//! An archive lists tweets newest first, so an edited tweet's later versions come before its
//! original. The archive must record them oldest first (the original as the original, each
//! edit revising the version before it), so the versions of an edited tweet are held back
//! until every one its `editTweetIds` names has been read (or the file ends) and then handed
//! on in that list's order. Only these incomplete edit chains are held; every other tweet is
//! handed on as soon as it is read.
//!
//! The archive's tweets do not name their author: account and author stay empty unless the
//! tweet carries `user.screen_name`, and the caller fills them in from the archive's
//! `account.js` or the command line. The raw payload is the array element (`{"tweet": {…}}`),
//! exactly as the file holds it.

use std::collections::HashMap;
use std::io::{self, Read};
use std::ops::ControlFlow;

use jiff::Timestamp;
use lifeguard_core::archive::{Change, Item, Media};
use lifeguard_core::item::{AuthorType, ContentKind};
use serde::de::DeserializeSeed as _;
use serde_json::{Map, Value};

use super::{
    Elements, ImportError, MapRecord, OnRecord, Position, Stream, field_error, string_field,
};

/// The longest prefix accepted before the `=`.
const MAX_PREFIX: usize = 256;

/// The most versions an edit chain may list. X allows five edits, so six versions; the margin
/// is for what X may allow later, and the bound keeps the chains' bookkeeping (linear scans of
/// the list) cheap whatever a file claims.
const MAX_VERSIONS: usize = 100;

pub(super) fn read(
    file: &str,
    reader: impl Read,
    captured_at: Timestamp,
    on_record: &mut OnRecord<'_>,
) -> Result<(), ImportError> {
    let mut broke_off = None;
    read_parts([(file.to_owned(), reader)], captured_at, on_record, &mut |err| {
        broke_off = Some(err);
    });
    broke_off.map_or(Ok(()), Err)
}

/// Reads the files of one archive (its tweets, split into parts when there are many, then its
/// deleted tweets) as one stream, so that the versions of an edited tweet are put in order
/// even when they sit in different parts. A file that cannot be read to its end is reported
/// to `on_file_error` and the next one is read.
pub(super) fn read_parts<R: Read>(
    parts: impl IntoIterator<Item = (String, R)>,
    captured_at: Timestamp,
    on_record: &mut OnRecord<'_>,
    on_file_error: &mut dyn FnMut(ImportError),
) {
    let mut chains = EditChains::default();
    for (file, reader) in parts {
        if chains.stopped {
            break;
        }
        let mut in_order =
            |record: Result<(Position, Tweet), ImportError>| chains.push(record, on_record);
        if let Err(err) = read_tweets(&file, reader, captured_at, &mut in_order) {
            on_file_error(err);
        }
    }
    // What is still held is the chains whose other versions the files do not have, or had
    // after the point where one broke off.
    chains.finish(on_record);
}

/// The handle of the account an archive is of, from its `data/account.js`
/// (`window.YTD.account.part0 = [{"account": {"username": …}}]`), if the file names one.
pub(super) fn account_username(
    file: &str,
    reader: impl Read,
) -> Result<Option<String>, ImportError> {
    let mut username = None;
    let mut map = |value: &Value, _raw: &str| {
        Ok(value.pointer("/account/username").and_then(Value::as_str).map(str::to_owned))
    };
    let map: &mut MapRecord<'_, Option<String>> = &mut map;
    let mut on_account = |record: Result<(Position, Option<String>), ImportError>| match record {
        Ok((_, Some(name))) if !name.is_empty() => {
            username = Some(name);
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    };
    read_data_file(file, reader, map, &mut on_account, "an array holding the account")?;
    Ok(username)
}

/// Reads the file's tweets in file order.
fn read_tweets(
    file: &str,
    reader: impl Read,
    captured_at: Timestamp,
    on_tweet: &mut OnRecord<'_, Tweet>,
) -> Result<(), ImportError> {
    let mut map = |value: &Value, raw: &str| tweet(value, raw, captured_at);
    read_data_file(file, reader, &mut map, on_tweet, "an array of tweets")
}

/// Reads a `window.YTD.<name>.part<N> = [ … ]` file, each element mapped by `map` and handed
/// to `on_record`; `expecting` says what the array should hold.
fn read_data_file<T>(
    file: &str,
    reader: impl Read,
    map: &mut MapRecord<'_, T>,
    on_record: &mut OnRecord<'_, T>,
    expecting: &'static str,
) -> Result<(), ImportError> {
    let mut stream = Stream::new(file, map, on_record);
    let mut reader = stream.counting(reader);
    match skip_prefix(&mut reader) {
        Ok(Ok(())) => {}
        Ok(Err(message)) => return Err(stream.syntax(message)),
        Err(error) => return Err(ImportError::Io { file: file.to_owned(), error }),
    }
    stream.run(reader, |deserializer, stream| {
        Elements { stream, expecting }.deserialize(deserializer)
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

/// A tweet as read, before its edit chain is put in order.
struct Tweet {
    item: Item,
    /// The tweet's own id (an edit's item has its initial tweet's).
    id: String,
    /// The ids of every version of the tweet, oldest first, as far as this record knows them:
    /// its own id alone (or nothing) when it has not been edited.
    versions: Vec<String>,
}

/// One element of the array (`{"tweet": {…}}`, or a bare tweet as older archives have it).
fn tweet(element: &Value, raw: &str, captured_at: Timestamp) -> Result<Tweet, String> {
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
    let edit_info = fields.get("edit_info");
    // The original (or an unedited tweet) lists its versions in `initial`.
    let mut versions = match edit_info.and_then(|info| info.get("initial")) {
        Some(initial) => {
            tweet_ids(initial.get("editTweetIds"), &name("edit_info.initial.editTweetIds"))?
        }
        None => Vec::new(),
    };
    if let Some(edit) = edit_info.and_then(|info| info.get("edit")) {
        let edit = edit
            .as_object()
            .ok_or_else(|| field_error(&name("edit_info.edit"), "expected an object"))?;
        let field = name("edit_info.edit.initialTweetId");
        let initial = string_field(edit, "initialTweetId", &field)?
            .ok_or_else(|| field_error(&field, "required"))?;
        // X's archives nest a later version's list in `editControlInitial`.
        versions = match edit.get("editControlInitial") {
            Some(control) => tweet_ids(
                control.get("editTweetIds"),
                &name("edit_info.edit.editControlInitial.editTweetIds"),
            )?,
            None => tweet_ids(edit.get("editTweetIds"), &name("edit_info.edit.editTweetIds"))?,
        };
        // Without a list, the initial tweet and this one are the versions known to exist.
        if !versions.contains(&initial) {
            versions.insert(0, initial.clone());
        }
        if !versions.contains(&id) {
            versions.push(id.clone());
        }
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
    item.raw = Some(raw.to_owned());
    item.validate().map_err(|err| err.to_string())?;
    Ok(Tweet { item, id, versions })
}

/// A list of tweet ids, empty when absent.
fn tweet_ids(list: Option<&Value>, field: &str) -> Result<Vec<String>, String> {
    let ids = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(ids)) if ids.len() <= MAX_VERSIONS => ids,
        Some(Value::Array(_)) => {
            return Err(field_error(field, format!("more than {MAX_VERSIONS} tweet ids")));
        }
        Some(_) => return Err(field_error(field, "expected an array of tweet ids")),
    };
    ids.iter()
        .enumerate()
        .map(|(index, id)| match id {
            Value::String(id) => Ok(id.clone()),
            Value::Number(number) if number.is_u64() => Ok(number.to_string()),
            _ => Err(field_error(&format!("{field}[{index}]"), "expected a tweet id")),
        })
        .collect()
}

/// Hands tweets on with the versions of each edited tweet oldest first, holding back only
/// those of edit chains not yet complete.
#[derive(Default)]
struct EditChains {
    /// The chains some of whose versions have been read and some not, by the initial
    /// tweet's id (the items' external id).
    pending: HashMap<String, EditChain>,
    /// The caller asked to stop: nothing more is handed on.
    stopped: bool,
}

#[derive(Default)]
struct EditChain {
    /// The ids of every version known so far, oldest first.
    versions: Vec<String>,
    /// The versions read, in file order, with their own ids.
    read: Vec<(String, Position, Item)>,
}

impl EditChains {
    /// Takes the next record in file order, handing on what can go on now.
    fn push(
        &mut self,
        record: Result<(Position, Tweet), ImportError>,
        on_record: &mut OnRecord<'_>,
    ) -> ControlFlow<()> {
        let (position, Tweet { item, id, versions }) = match record {
            Ok(read) => read,
            Err(err) => return self.hand_on(Err(err), on_record),
        };
        let key = item.external_id.clone();
        if versions.len() < 2 && !self.pending.contains_key(&key) {
            return self.hand_on(Ok((position, item)), on_record);
        }
        let chain = self.pending.entry(key.clone()).or_default();
        chain.learn(&versions);
        chain.learn(std::slice::from_ref(&id));
        chain.read.push((id, position, item));
        if !chain.is_complete() {
            return ControlFlow::Continue(());
        }
        match self.pending.remove(&key) {
            Some(chain) => self.hand_on_chain(chain, on_record),
            None => ControlFlow::Continue(()),
        }
    }

    /// Hands on the chains still held at the end of the file, each oldest first, the chains
    /// in the order of their first record in the file.
    fn finish(&mut self, on_record: &mut OnRecord<'_>) {
        let mut chains: Vec<EditChain> = self.pending.drain().map(|(_, chain)| chain).collect();
        chains.sort_by_key(|chain| chain.read.first().map(|(_, position, _)| position.record));
        for chain in chains {
            if self.hand_on_chain(chain, on_record).is_break() {
                return;
            }
        }
    }

    fn hand_on_chain(&mut self, chain: EditChain, on_record: &mut OnRecord<'_>) -> ControlFlow<()> {
        for (position, item) in chain.oldest_first() {
            self.hand_on(Ok((position, item)), on_record)?;
        }
        ControlFlow::Continue(())
    }

    fn hand_on(
        &mut self,
        record: Result<(Position, Item), ImportError>,
        on_record: &mut OnRecord<'_>,
    ) -> ControlFlow<()> {
        if self.stopped {
            return ControlFlow::Break(());
        }
        let flow = on_record(record);
        self.stopped = flow.is_break();
        flow
    }
}

impl EditChain {
    /// Adds the ids of a record's list to those known.
    fn learn(&mut self, ids: &[String]) {
        // The lists of one chain agree but for the versions made after each was written down,
        // so the longest is the most complete; ids only the others have go after it.
        let (mut longest, other) = if ids.len() > self.versions.len() {
            (ids.to_vec(), std::mem::take(&mut self.versions))
        } else {
            (std::mem::take(&mut self.versions), ids.to_vec())
        };
        for id in other {
            if !longest.contains(&id) {
                longest.push(id);
            }
        }
        self.versions = longest;
    }

    /// Whether every version known has been read.
    fn is_complete(&self) -> bool {
        self.versions.iter().all(|id| self.read.iter().any(|(read, _, _)| read == id))
    }

    fn oldest_first(mut self) -> impl Iterator<Item = (Position, Item)> {
        let versions = self.versions;
        // Stable: a version the file lists twice keeps its file order.
        self.read.sort_by_key(|(id, _, _)| versions.iter().position(|known| known == id));
        self.read.into_iter().map(|(_, position, item)| (position, item))
    }
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
        // Each raw payload is its element of the file, byte for byte.
        let file = String::from_utf8(fixture("data/tweets.js")).unwrap();
        for item in &items {
            let raw = item.raw.as_deref().unwrap();
            assert!(raw.starts_with("{") && file.contains(raw), "{raw}");
        }

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

    /// A newest-first file: a tweet edited twice, with an unrelated tweet between its versions
    /// and one after them.
    #[test]
    fn the_account_handle_is_read_from_account_js() {
        let account = r#"window.YTD.account.part0 = [ { "account" : { "username" : "harbour", "accountId" : "1" } } ]"#;
        assert_eq!(
            account_username("account.js", account.as_bytes()).unwrap().as_deref(),
            Some("harbour")
        );
        let nameless = r#"window.YTD.account.part0 = [ { "account" : { "accountId" : "1" } } ]"#;
        assert_eq!(account_username("account.js", nameless.as_bytes()).unwrap(), None);
        let broken = account_username("account.js", b"[ {} ]".as_slice()).unwrap_err();
        assert!(broken.to_string().starts_with("account.js:1:"), "{broken}");
    }

    const EDITED_NEWEST_FIRST: &str = r#"window.YTD.tweets.part0 = [
  {"tweet": {"id_str": "30", "full_text": "Third.", "edit_info": {"edit": {"initialTweetId": "10", "editControlInitial": {"editTweetIds": ["10", "20", "30"]}}}}},
  {"tweet": {"id_str": "25", "full_text": "Between."}},
  {"tweet": {"id_str": "20", "full_text": "Second.", "edit_info": {"edit": {"initialTweetId": "10", "editControlInitial": {"editTweetIds": ["10", "20"]}}}}},
  {"tweet": {"id_str": "10", "full_text": "First.", "edit_info": {"initial": {"editTweetIds": ["10", "20", "30"]}}}},
  {"tweet": {"id_str": "5", "full_text": "Before."}}
]"#;

    #[test]
    fn an_edited_tweets_versions_are_handed_on_oldest_first_once_all_are_read() {
        let (records, end) = import(EDITED_NEWEST_FIRST.as_bytes());
        end.unwrap();
        // Each keeps its own position; the chain goes on when its original, the last of its
        // versions in the file, has been read, and nothing else waits for it.
        assert_eq!(
            render(&records),
            concat!(
                "3:3 #1 post original 25 \"Between.\"\n",
                "5:3 #3 post original 10 \"First.\"\n",
                "4:3 #2 post edit 10 \"Second.\"\n",
                "2:3 #0 post edit 10 \"Third.\"\n",
                "6:3 #4 post original 5 \"Before.\"\n",
            )
        );
    }

    #[test]
    fn versions_the_file_lacks_hold_a_chain_only_to_the_end_of_the_file() {
        let input = r#"window.YTD.tweets.part0 = [
  {"tweet": {"id_str": "42", "full_text": "Edit of a tweet not in the file.", "edit_info": {"edit": {"initialTweetId": "41"}}}},
  {"tweet": {"id_str": "31", "full_text": "Its edit is gone.", "edit_info": {"initial": {"editTweetIds": ["31", "32"]}}}},
  {"tweet": {"id_str": "40", "full_text": "Unedited."}}
]"#;
        let (records, end) = import(input.as_bytes());
        end.unwrap();
        assert_eq!(
            render(&records),
            concat!(
                "4:3 #2 post original 40 \"Unedited.\"\n",
                "2:3 #0 post edit 41 \"Edit of a tweet not in t\"\n",
                "3:3 #1 post original 31 \"Its edit is gone.\"\n",
            )
        );

        // A file that breaks off hands on what it holds before the error.
        let cut = EDITED_NEWEST_FIRST.find("{\"tweet\": {\"id_str\": \"10\"").unwrap() + 20;
        let (records, end) = import(&EDITED_NEWEST_FIRST.as_bytes()[..cut]);
        assert!(matches!(end, Err(ImportError::Syntax { .. })), "{end:?}");
        assert_eq!(
            render(&records),
            concat!(
                "3:3 #1 post original 25 \"Between.\"\n",
                "4:3 #2 post edit 10 \"Second.\"\n",
                "2:3 #0 post edit 10 \"Third.\"\n",
            )
        );
    }

    #[test]
    fn edit_lists_must_be_lists_of_a_few_tweet_ids() {
        let many: Vec<String> = (0..=MAX_VERSIONS).map(|id| format!("\"{id}\"")).collect();
        let input = format!(
            r#"window.YTD.tweets.part0 = [
  {{"tweet": {{"id_str": "1", "edit_info": {{"initial": {{"editTweetIds": "1"}}}}}}}},
  {{"tweet": {{"id_str": "2", "edit_info": {{"edit": {{"initialTweetId": "1", "editTweetIds": ["1", true]}}}}}}}},
  {{"tweet": {{"id_str": "3", "edit_info": {{"initial": {{"editTweetIds": [{}]}}}}}}}}
]"#,
            many.join(", ")
        );
        let (records, end) = import(input.as_bytes());
        end.unwrap();
        assert_eq!(
            render(&records),
            concat!(
                "tweets.js:2:3: record 1: field `tweet.edit_info.initial.editTweetIds`: expected an array of tweet ids\n",
                "tweets.js:3:3: record 2: field `tweet.edit_info.edit.editTweetIds[1]`: expected a tweet id\n",
                "tweets.js:4:3: record 3: field `tweet.edit_info.initial.editTweetIds`: more than 100 tweet ids\n",
            )
        );
    }

    #[test]
    fn a_caller_that_stops_inside_a_chain_gets_nothing_more() {
        let mut texts = Vec::new();
        let end = read("tweets.js", EDITED_NEWEST_FIRST.as_bytes(), captured(), &mut |record| {
            texts.push(record.unwrap().1.text);
            if texts.len() == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        end.unwrap();
        assert_eq!(texts, ["Between.", "First."]);
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
                "tweets.js:9:3: record 2: field `tweet.created_at`: not a time like `Wed Oct 10 20:19:24 +0000 2018` (strptime parsing failed: %a failed: expected to find weekday abbreviation)\n",
                "tweets.js:16:3: record 3: field `tweet.id_str`: required\n",
                "tweets.js:22:3: record 4: expected a tweet (a JSON object)\n",
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
