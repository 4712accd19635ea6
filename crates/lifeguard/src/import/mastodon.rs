//! A Mastodon export's `outbox.json`: an ActivityPub `OrderedCollection` whose
//! `orderedItems` are the account's activities.
//!
//! The activities are streamed one at a time. Each becomes an item of platform `mastodon`,
//! written by the organization (author type `corporate`: the export is of its own account):
//!
//! - `Create` of a note: a post, or a reply when it has `inReplyTo` (the parent). Its id is
//!   the object's `id`, its time `published`, its text the `content` HTML as plain text (after
//!   the content warning, `summary`, when there is one), its links the `href`s in the content
//!   other than mentions and hashtags, its media the attachments' URLs and types.
//! - `Update` of a note: the same, as an edit, timed by `updated` when it has one.
//! - `Delete`: a deletion of the object it names, with no text.
//! - `Announce` (a boost): a repost with the activity's `id`, no text, and the boosted
//!   object's id as its one link. `Undo` of an `Announce`: that repost's deletion.
//!
//! Other activities are record errors. The account is the activity's `actor` (else the
//! object's `attributedTo`), the author the object's `attributedTo` (else the actor), and the
//! raw payload the whole activity, exactly as the file holds it.

use std::io::Read;

use html2text::render::TrivialDecorator;
use jiff::Timestamp;
use lifeguard_core::archive::{Change, Item, MAX_TEXT, Media, parse_time};
use lifeguard_core::item::{AuthorType, ContentKind};
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{Elements, ImportError, MapRecord, OnRecord, Stream, field_error, string_field};

/// The platform name of every item read here.
const PLATFORM: &str = "mastodon";

/// Collection types an outbox may declare.
const COLLECTIONS: [&str; 3] = ["OrderedCollection", "Collection", "OrderedCollectionPage"];

/// Object types read as notes: what Mastodon posts, and what other servers federate to it.
const NOTES: [&str; 4] = ["Note", "Article", "Question", "Page"];

pub(super) fn read(
    file: &str,
    reader: impl Read,
    captured_at: Timestamp,
    on_record: &mut OnRecord<'_>,
) -> Result<(), ImportError> {
    let mut map = |value: &Value, raw: &str| item(value, raw, captured_at);
    let map: &mut MapRecord<'_> = &mut map;
    let mut stream = Stream::new(file, map, on_record);
    let reader = stream.counting(reader);
    stream.run(reader, |deserializer, stream| {
        de::Deserializer::deserialize_map(deserializer, Outbox(stream))
    })
}

/// The outbox object: everything but `orderedItems` is skipped, `orderedItems` is streamed.
struct Outbox<'s, 'a>(&'s mut Stream<'a>);

impl<'de> Visitor<'de> for Outbox<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an ActivityPub outbox (an OrderedCollection object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "orderedItems" => {
                    map.next_value_seed(Elements {
                        stream: &mut *self.0,
                        expecting: "an array of activities",
                    })?;
                    found = true;
                }
                "type" => {
                    let kind: Value = map.next_value()?;
                    if let Some(kind) = kind.as_str().filter(|kind| !COLLECTIONS.contains(kind)) {
                        return Err(de::Error::custom(format!(
                            "the document's `type` is `{kind}`, not OrderedCollection: not an outbox"
                        )));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if found {
            Ok(())
        } else {
            Err(de::Error::custom("no `orderedItems` array: not an ActivityPub outbox"))
        }
    }
}

/// One activity as an item.
fn item(activity: &Value, raw: &str, captured_at: Timestamp) -> Result<Item, String> {
    let fields = activity.as_object().ok_or("expected an activity (a JSON object)")?;
    let kind =
        string_field(fields, "type", "type")?.ok_or_else(|| field_error("type", "required"))?;
    let actor = id_of(fields.get("actor"), "actor")?;
    let mut item = match kind.as_str() {
        "Create" | "Update" => {
            let object = note(fields)?;
            let mut item = note_item(object, captured_at)?;
            if kind == "Update" {
                item.change = Change::Edit;
                if let Some(updated) = time(object, "updated", "object.updated")? {
                    item.created_at = Some(updated);
                }
            }
            item
        }
        "Announce" => {
            let id = required_id(fields.get("id"), "id")?;
            let boosted = required_id(fields.get("object"), "object")?;
            let mut item = Item::new(PLATFORM, &id, "", captured_at);
            item.kind = ContentKind::Repost;
            item.links.push(boosted);
            item.created_at = time(fields, "published", "published")?;
            item
        }
        "Delete" => {
            let id = required_id(fields.get("object"), "object")?;
            let mut item = Item::new(PLATFORM, &id, "", captured_at);
            item.change = Change::Deletion;
            item.created_at = match time(fields, "published", "published")? {
                Some(time) => Some(time),
                None => match fields.get("object").and_then(Value::as_object) {
                    Some(object) => time(object, "deleted", "object.deleted")?,
                    None => None,
                },
            };
            item
        }
        "Undo" => {
            let undone = fields
                .get("object")
                .and_then(Value::as_object)
                .filter(|object| object.get("type").and_then(Value::as_str) == Some("Announce"))
                .ok_or_else(|| {
                    field_error(
                        "object",
                        "only the undoing of a boost (an `Announce` object) is imported",
                    )
                })?;
            let id = required_id(undone.get("id"), "object.id")?;
            let mut item = Item::new(PLATFORM, &id, "", captured_at);
            item.kind = ContentKind::Repost;
            item.change = Change::Deletion;
            item.links.extend(id_of(undone.get("object"), "object.object")?);
            item.created_at = time(fields, "published", "published")?;
            item
        }
        other => {
            return Err(field_error(
                "type",
                format!(
                    "`{other}` activities are not imported (only Create, Update, Delete, \
                     Announce and the Undo of an Announce)"
                ),
            ));
        }
    };
    item.author_type = AuthorType::Corporate;
    if let Some(actor) = actor {
        if item.author.is_empty() {
            item.author = actor.clone();
        }
        item.account = actor;
    } else {
        item.account = item.author.clone();
    }
    item.raw = Some(raw.to_owned());
    item.validate().map_err(|err| err.to_string())?;
    Ok(item)
}

/// The note a `Create` or `Update` carries.
fn note(activity: &Map<String, Value>) -> Result<&Map<String, Value>, String> {
    let object = activity
        .get("object")
        .and_then(Value::as_object)
        .ok_or_else(|| field_error("object", "expected the posted object"))?;
    match object.get("type").and_then(Value::as_str) {
        Some(kind) if NOTES.contains(&kind) => Ok(object),
        Some(kind) => Err(field_error(
            "object.type",
            format!("`{kind}` objects are not imported (only Note, Article, Question and Page)"),
        )),
        None => Err(field_error("object.type", "required")),
    }
}

fn note_item(object: &Map<String, Value>, captured_at: Timestamp) -> Result<Item, String> {
    let id = required_id(object.get("id"), "object.id")?;
    let html = match string_field(object, "content", "object.content")? {
        Some(html) => html,
        // Servers that only send translations put the text in `contentMap`.
        None => match object.get("contentMap").and_then(Value::as_object) {
            Some(map) => map.values().find_map(Value::as_str).unwrap_or_default().to_owned(),
            None => String::new(),
        },
    };
    let tags = tag_targets(object.get("tag"))?;
    let content = html_text(&html, &tags).map_err(|err| field_error("object.content", err))?;
    let warning = match string_field(object, "summary", "object.summary")? {
        Some(summary) if !summary.trim().is_empty() => {
            html_text(&summary, &tags).map_err(|err| field_error("object.summary", err))?.text
        }
        _ => String::new(),
    };
    let text = match (warning.is_empty(), content.text.is_empty()) {
        (true, _) => content.text,
        (false, true) => warning,
        (false, false) => format!("{warning}\n\n{}", content.text),
    };
    let mut item = Item::new(PLATFORM, &id, &text, captured_at);
    item.links = content.links;
    item.parent = id_of(object.get("inReplyTo"), "object.inReplyTo")?;
    if item.parent.is_some() {
        item.kind = ContentKind::Reply;
    }
    item.created_at = time(object, "published", "object.published")?;
    item.author = id_of(object.get("attributedTo"), "object.attributedTo")?.unwrap_or_default();
    item.media = attachments(object.get("attachment"))?;
    Ok(item)
}

/// The attachments as media: the URL as the name, the media type when given.
fn attachments(value: Option<&Value>) -> Result<Vec<Media>, String> {
    let mut media = Vec::new();
    for (index, attachment) in one_or_many(value).enumerate() {
        let at = format!("object.attachment[{index}]");
        let fields =
            attachment.as_object().ok_or_else(|| field_error(&at, "expected an object"))?;
        let url = match fields.get("url") {
            Some(Value::String(url)) => Some(url.clone()),
            // A Link object, or several: the first one's `href`.
            Some(link) => one_or_many(Some(link))
                .find_map(|link| link.get("href").and_then(Value::as_str))
                .map(str::to_owned),
            None => None,
        };
        let url = url.ok_or_else(|| field_error(&format!("{at}.url"), "required"))?;
        let media_type = string_field(fields, "mediaType", &format!("{at}.mediaType"))?;
        media.push(Media { name: url, media_type, size: None, sha256: None });
    }
    Ok(media)
}

/// The `href`s of the note's tags (mentions, hashtags, custom emoji): links that are not
/// links away from the post.
fn tag_targets(value: Option<&Value>) -> Result<Vec<String>, String> {
    let mut targets = Vec::new();
    for (index, tag) in one_or_many(value).enumerate() {
        let fields = tag
            .as_object()
            .ok_or_else(|| field_error(&format!("object.tag[{index}]"), "expected an object"))?;
        if let Some(href) = fields.get("href").and_then(Value::as_str) {
            targets.push(href.to_owned());
        }
    }
    Ok(targets)
}

/// A value that ActivityPub allows to be one thing or an array of them.
fn one_or_many(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    let values: &[Value] = match value {
        None | Some(Value::Null) => &[],
        Some(Value::Array(values)) => values,
        Some(value) => std::slice::from_ref(value),
    };
    values.iter()
}

fn required_id(value: Option<&Value>, field: &str) -> Result<String, String> {
    id_of(value, field)?.ok_or_else(|| field_error(field, "required"))
}

/// An id given as a URL or as an object with an `id` (or, for links, an `href`).
fn id_of(value: Option<&Value>, field: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(Value::Object(object)) => {
            match object.get("id").or_else(|| object.get("href")).and_then(Value::as_str) {
                Some(id) => Ok(Some(id.to_owned())),
                None => Err(field_error(field, "expected a URL or an object with an `id`")),
            }
        }
        Some(Value::Array(values)) => match values.first() {
            Some(first) => id_of(Some(first), field),
            None => Ok(None),
        },
        Some(_) => Err(field_error(field, "expected a URL or an object with an `id`")),
    }
}

fn time(object: &Map<String, Value>, key: &str, field: &str) -> Result<Option<Timestamp>, String> {
    match string_field(object, key, field)? {
        Some(text) => parse_time(&text).map(Some).map_err(|err| field_error(field, err)),
        None => Ok(None),
    }
}

/// A note's HTML as plain text, with the links in it.
#[derive(Debug, PartialEq, Eq)]
struct HtmlText {
    text: String,
    links: Vec<String>,
}

/// Renders HTML as plain text: tags dropped, entities decoded, paragraphs separated by a blank
/// line and `<br>` by a line break, nothing wrapped. The links are the `href`s of the `<a>`
/// elements that are not mentions or hashtags (by their class, `rel="tag"`, or because the
/// note's tags name them), without repeats.
fn html_text(html: &str, tags: &[String]) -> Result<HtmlText, String> {
    if html.is_empty() {
        return Ok(HtmlText { text: String::new(), links: Vec::new() });
    }
    let config = html2text::config::with_decorator(TrivialDecorator::new()).raw_mode(true);
    let dom = config.parse_html(html.as_bytes()).map_err(|err| err.to_string())?;
    let links = anchors(&dom.document, tags);
    let tree = config.dom_to_render_tree(&dom).map_err(|err| err.to_string())?;
    // Wider than any text the archive takes, so that nothing is wrapped.
    let text = config.render_to_string(tree, MAX_TEXT + 1).map_err(|err| err.to_string())?;
    Ok(HtmlText { text: text.trim_end().to_owned(), links })
}

/// The targets of the document's outgoing links, in document order.
fn anchors(document: &html2text::Handle, tags: &[String]) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    // Depth first without recursion: HTML can nest deeper than the stack.
    let mut pending = vec![document.clone()];
    while let Some(node) = pending.pop() {
        if let html2text::Element { name, attrs, .. } = &node.data
            && &*name.local == "a"
        {
            let attrs = attrs.borrow();
            let attr = |wanted: &str| {
                attrs.iter().find(|a| &*a.name.local == wanted).map(|a| a.value.to_string())
            };
            let class = attr("class").unwrap_or_default();
            let rel = attr("rel").unwrap_or_default();
            let is_tag = class.split_ascii_whitespace().any(|c| c == "mention" || c == "hashtag")
                || rel.split_ascii_whitespace().any(|r| r == "tag");
            if let Some(href) = attr("href").map(|href| href.trim().to_owned())
                && !href.is_empty()
                && !is_tag
                && !tags.contains(&href)
                && !links.contains(&href)
            {
                links.push(href);
            }
        }
        pending.extend(node.children.borrow().iter().rev().cloned());
    }
    links
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::ops::ControlFlow;

    use super::super::Position;
    use super::super::testing::{self, Records, captured, collect};
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        testing::fixture(&format!("mastodon/{name}"))
    }

    fn import(input: impl Read) -> (Records, Result<(), ImportError>) {
        collect(|on_record| read("outbox.json", input, captured(), on_record))
    }

    /// One line per record: position, kind, change, the id's last part and the text's start.
    fn render(records: &[Result<(Position, Item), ImportError>]) -> String {
        testing::render(records, |item| {
            format!(
                "{} {} {} {:?}",
                item.kind,
                item.change.name(),
                item.external_id.rsplit('/').next().unwrap_or_default(),
                item.text.chars().take(24).collect::<String>(),
            )
        })
    }

    fn items(records: &Records) -> Vec<&Item> {
        records.iter().map(|record| &record.as_ref().unwrap().1).collect()
    }

    #[test]
    fn the_fixture_outbox_reads_every_activity() {
        let (records, end) = import(&fixture("outbox.json")[..]);
        end.unwrap();
        let items = items(&records);
        assert_eq!(items.len(), 22);
        let count = |kind: ContentKind| items.iter().filter(|item| item.kind == kind).count();
        assert_eq!(count(ContentKind::Repost), 3);
        assert_eq!(count(ContentKind::Reply), 3);
        assert_eq!(items.iter().filter(|item| item.change == Change::Edit).count(), 1);
        assert_eq!(items.iter().filter(|item| item.change == Change::Deletion).count(), 2);
        for item in &items {
            assert_eq!(item.platform, "mastodon");
            assert_eq!(item.account, "https://social.example/users/brightwater");
            assert_eq!(item.author_type, AuthorType::Corporate);
            assert!(item.raw.as_deref().is_some_and(|raw| raw.starts_with('{')));
        }
    }

    #[test]
    fn the_raw_payload_is_the_activity_exactly_as_the_file_holds_it() {
        // Key order, spacing, escapes and a fractional number as written, none of which a
        // parsed and re-encoded activity would keep.
        let activity = r#"{ "type":"Create",  "actor":"https://social.example/users/a",
            "object":{"type":"Note","id":"https://social.example/n/1","content":"<p>caf\u00e9</p>",
            "published":"2024-01-02T03:04:05Z","attachment":[{"type":"Document","url":"https://m.example/1.jpg","mediaType":"image/jpeg","meta":{"aspect":1.7778}}]},
            "id":"https://social.example/n/1/activity" }"#;
        let outbox = format!(r#"{{"type":"OrderedCollection","orderedItems":[ {activity} ]}}"#);
        let (records, end) = import(outbox.as_bytes());
        end.unwrap();
        let items = items(&records);
        assert_eq!(items[0].raw.as_deref(), Some(activity));
        assert_eq!(items[0].text, "café");
    }

    #[test]
    fn a_note_maps_text_links_media_and_times() {
        let (records, _) = import(&fixture("outbox.json")[..]);
        let items = items(&records);
        let first = items[0];
        assert_eq!(
            first.external_id,
            "https://social.example/users/brightwater/statuses/111765246720372817"
        );
        assert_eq!(first.author, "https://social.example/users/brightwater");
        assert_eq!(first.created_at, Some("2024-01-09T09:12:44Z".parse().unwrap()));
        assert_eq!(first.captured_at, captured());
        assert_eq!(first.kind, ContentKind::Post);

        let launch = items.iter().find(|item| item.text.contains("community solar")).unwrap();
        assert_eq!(
            launch.text,
            "Our community solar programme opens today in Leeds & Bradford 🌞\n\nDetails and the \
             sign-up form: https://brightwater.example/solar/community?ref=mastodon\n\n@greenleeds \
             #CommunitySolar"
        );
        assert_eq!(launch.links, ["https://brightwater.example/solar/community?ref=mastodon"]);
        assert_eq!(launch.media.len(), 1);
        assert_eq!(
            launch.media[0].name,
            "https://files.social.example/media_attachments/files/111/790/412/original/5c1e0b1a2f.jpg"
        );
        assert_eq!(launch.media[0].media_type.as_deref(), Some("image/jpeg"));
        assert_eq!(launch.media[0].size, None);

        let reply = items.iter().find(|item| item.kind == ContentKind::Reply).unwrap();
        assert!(reply.parent.as_deref().is_some_and(|parent| parent.starts_with("https://")));

        let boost = items.iter().find(|item| item.kind == ContentKind::Repost).unwrap();
        assert_eq!(boost.text, "");
        assert_eq!(boost.links.len(), 1);
        assert!(boost.external_id.ends_with("/activity"), "{}", boost.external_id);

        let warned = items.iter().find(|item| item.text.starts_with("Investment talk")).unwrap();
        assert!(warned.text.contains("\n\nGuaranteed returns"), "{}", warned.text);

        let edit = items.iter().find(|item| item.change == Change::Edit).unwrap();
        assert_eq!(edit.created_at, Some("2024-02-02T16:40:00Z".parse().unwrap()));
        let original = items
            .iter()
            .find(|item| item.external_id == edit.external_id && item.change == Change::Original);
        assert!(original.is_some(), "the edit revises a note of the same outbox");

        assert!(items.iter().any(|item| item.text.contains("ありがとう")));
        assert!(items.iter().any(|item| item.text.contains("+44 113 496 0321")));
    }

    #[test]
    fn records_are_positioned_where_they_start() {
        let (records, end) = import(&fixture("outbox.json")[..]);
        end.unwrap();
        let text = String::from_utf8(fixture("outbox.json")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for record in &records {
            let (at, _) = record.as_ref().unwrap();
            let line = lines[at.line as usize - 1];
            let column = at.column as usize;
            assert_eq!(line.chars().nth(column - 1), Some('{'), "{at:?}: {line}");
            assert!(line[..column - 1].trim().is_empty(), "{at:?}: {line}");
        }
    }

    #[test]
    fn a_bad_activity_is_reported_and_the_next_ones_read() {
        let (records, end) = import(&fixture("bad-record.json")[..]);
        end.unwrap();
        assert_eq!(
            render(&records),
            concat!(
                "6:5 #0 post original 1001 \"First.\"\n",
                "outbox.json:17:5: record 2: field `object.published`: not an RFC 3339 time (failed to parse four digit integer as year: invalid digit, expected 0-9 but got l)\n",
                "outbox.json:28:5: record 3: field `type`: `Like` activities are not imported (only Create, Update, Delete, Announce and the Undo of an Announce)\n",
                "outbox.json:34:5: record 4: field `object.type`: `Person` objects are not imported (only Note, Article, Question and Page)\n",
                "44:5 #4 post original 1004 \"Last.\"\n",
            )
        );
    }

    #[test]
    fn a_truncated_outbox_delivers_what_came_before_and_says_where_it_broke() {
        let whole = fixture("outbox.json");
        let text = String::from_utf8(whole.clone()).unwrap();
        // Cut in the middle of the fifth activity.
        let cut = text.match_indices("\n    {").nth(4).unwrap().0 + 40;
        let (records, end) = import(&whole[..cut]);
        assert_eq!(records.len(), 4);
        assert!(records.iter().all(Result::is_ok));
        let err = end.unwrap_err();
        let line = text[..cut].lines().count();
        let ImportError::Syntax { position, .. } = &err else { panic!("{err}") };
        assert_eq!((position.line as usize, position.record), (line, 4));
        assert!(err.to_string().starts_with(&format!("outbox.json:{line}:")), "{err}");
        assert!(err.to_string().ends_with("EOF while parsing a string"), "{err}");
    }

    #[test]
    fn documents_that_are_not_outboxes_are_syntax_errors() {
        for (input, message) in [
            ("", "outbox.json:1:1: EOF while parsing a value"),
            (
                "[]",
                "outbox.json:1:1: invalid type: sequence, expected an ActivityPub outbox (an OrderedCollection object)",
            ),
            (
                r#"{"type":"Person","orderedItems":[]}"#,
                "outbox.json:1:17: the document's `type` is `Person`, not OrderedCollection: not an outbox",
            ),
            (
                r#"{"type":"OrderedCollection","totalItems":0}"#,
                "outbox.json:1:43: no `orderedItems` array: not an ActivityPub outbox",
            ),
            (
                r#"{"orderedItems":{}}"#,
                "outbox.json:1:17: invalid type: map, expected an array of activities",
            ),
            (r#"{"orderedItems":[]} x"#, "outbox.json:1:21: trailing characters"),
        ] {
            let (records, end) = import(input.as_bytes());
            assert!(records.is_empty());
            assert_eq!(end.unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn html_becomes_text_and_outgoing_links() {
        let html = concat!(
            r#"<p>Hi <span class="h-card"><a href="https://social.example/@ana" class="u-url mention">@<span>ana</span></a></span> &amp; "#,
            r#"<a href="https://other.example/users/bo">@bo</a>, see <a href="https://example.com/a?x=1&amp;y=2" rel="nofollow noopener" target="_blank">"#,
            r#"<span class="invisible">https://</span><span class="ellipsis">example.com/a?x=1&amp;y</span><span class="invisible">=2</span></a> "#,
            r#"<a href="https://social.example/tags/solar" class="mention hashtag" rel="tag">#<span>solar</span></a></p>"#,
            r#"<p>Line one<br>line two &lt;3 &#39;quoted&#39; &#x1F600; &#233;t&eacute;</p>"#,
            r#"<p><a href="https://example.com/a?x=1&amp;y=2">again</a></p>"#,
        );
        let tags = vec!["https://other.example/users/bo".to_owned()];
        let out = html_text(html, &tags).unwrap();
        assert_eq!(
            out.text,
            "Hi @ana & @bo, see https://example.com/a?x=1&y=2 #solar\n\nLine one\nline two <3 'quoted' 😀 été\n\nagain"
        );
        assert_eq!(out.links, ["https://example.com/a?x=1&y=2"]);
        assert_eq!(html_text("plain, no tags", &[]).unwrap().text, "plain, no tags");
        assert_eq!(
            html_text("", &[]).unwrap(),
            HtmlText { text: String::new(), links: Vec::new() }
        );
    }

    #[test]
    fn deeply_nested_html_does_not_exhaust_the_stack() {
        let html = format!("{}deep{}", "<span>".repeat(50_000), "</span>".repeat(50_000));
        let out = html_text(&html, &[]).unwrap();
        assert_eq!(out.text, "deep");
    }

    /// Generates an outbox of `activities` activities on the fly, never holding more than one:
    /// boosts, with a note every thousandth (notes cost an HTML parse each, and tests run
    /// unoptimized).
    struct Generated {
        activities: u64,
        next: u64,
        pending: Vec<u8>,
        offset: usize,
    }

    impl Generated {
        fn new(activities: u64) -> Generated {
            let head = concat!(
                r#"{"@context":"https://www.w3.org/ns/activitystreams","id":"outbox.json","#,
                r#""type":"OrderedCollection","orderedItems":["#
            );
            Generated { activities, next: 0, pending: head.as_bytes().to_vec(), offset: 0 }
        }

        fn refill(&mut self) {
            self.pending.clear();
            self.offset = 0;
            let n = self.next;
            self.next += 1;
            let actor = "https://social.example/users/brightwater";
            let activity = match n {
                n if n == self.activities => "]}\n".to_owned(),
                n if n > self.activities => return,
                n if n % 1000 == 999 => format!(
                    concat!(
                        r#"{{"id":"{actor}/statuses/{n}/activity","type":"Create","actor":"{actor}","#,
                        r#""object":{{"id":"{actor}/statuses/{n}","type":"Note","#,
                        r#""published":"2024-01-01T00:00:00Z","attributedTo":"{actor}","#,
                        r#""content":"<p>Note {n}, see <a href=\"https://example.com/{n}\">this</a></p>"}}}}"#
                    ),
                    actor = actor,
                    n = n
                ),
                n => format!(
                    concat!(
                        r#"{{"id":"{actor}/statuses/{n}/activity","type":"Announce","actor":"{actor}","#,
                        r#""published":"2024-01-01T00:00:00Z","object":"https://example.com/{n}"}}"#
                    ),
                    actor = actor,
                    n = n
                ),
            };
            if n > 0 && n < self.activities {
                self.pending.push(b',');
            }
            self.pending.push(b'\n');
            self.pending.extend_from_slice(activity.as_bytes());
        }
    }

    impl Read for Generated {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.offset == self.pending.len() {
                self.refill();
            }
            let available = &self.pending[self.offset..];
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            self.offset += n;
            Ok(n)
        }
    }

    #[test]
    fn a_large_outbox_streams_one_activity_at_a_time() {
        const ACTIVITIES: u64 = 200_000;
        let mut count = 0u64;
        let mut notes = 0u64;
        let mut last = Vec::new();
        read("outbox.json", Generated::new(ACTIVITIES), captured(), &mut |record| {
            let (at, item) = record.unwrap();
            assert_eq!(at.record, count);
            // Each generated activity starts a line of its own.
            assert_eq!((at.line, at.column), (count + 2, 1));
            count += 1;
            notes += u64::from(item.kind == ContentKind::Post);
            last = item.links;
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!((count, notes), (ACTIVITIES, ACTIVITIES / 1000));
        assert_eq!(last, [format!("https://example.com/{}", ACTIVITIES - 1)]);
    }

    #[test]
    fn the_callback_can_stop_the_reading() {
        let mut seen = 0;
        read("outbox.json", Generated::new(1_000), captured(), &mut |_| {
            seen += 1;
            if seen == 10 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .unwrap();
        assert_eq!(seen, 10);
    }
}
