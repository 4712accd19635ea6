//! The cases, written once against `&dyn Store`.

use lifeguard_core::archive::{
    ChainError, Change, Hold, HoldScope, Keep, Query, Retention, RetentionRule, hex,
};
use lifeguard_core::{Action, AuthorType, ContentKind};
use lifeguard_store::{
    Checked, Cursor, Disposal, ErrorKind, Filters, Prepared, SearchRequest, Store, VerifyError,
    verify,
};

use crate::harness::{Backend, checked, item, key, time};

const NOW: &str = "2031-06-01T00:00:00Z";

async fn append(
    store: &dyn Store,
    items: Vec<lifeguard_core::archive::Item>,
) -> lifeguard_store::AppendReport {
    let batch: Vec<Checked> = items.into_iter().map(checked).collect();
    store.append(&batch, time("2024-01-02T00:00:00Z")).await.expect("append")
}

async fn search(store: &dyn Store, query: &str, filters: Filters) -> Vec<String> {
    let mut request = SearchRequest::new(Query::parse(query).expect("query"));
    request.filters = filters;
    request.limit = 100;
    let page = store.search(&request).await.expect("search");
    page.items.into_iter().map(|item| item.external_id).collect()
}

async fn verify_store(store: &dyn Store) -> Result<lifeguard_store::VerifyReport, VerifyError> {
    verify(store, Some(&key().verifying_key()), &mut |_, _| {}).await
}

async fn sign(store: &dyn Store) {
    let (seq, head) = store.head().await.expect("head").expect("a chain");
    let checkpoint = key().checkpoint(seq, head, "2024-01-03T00:00:00.000000Z".into());
    store.add_checkpoint(&checkpoint).await.expect("checkpoint");
}

fn demo() -> Vec<lifeguard_core::archive::Item> {
    let mut reply = item("x", "3", "Call me at 415-555-0132 tonight", "2024-03-01T10:00:00Z");
    reply.kind = ContentKind::Reply;
    reply.parent = Some("1".into());
    reply.author = "sam".into();
    let mut mastodon = item(
        "mastodon",
        "https://social.example/@acme/4",
        "Our café opens at nine",
        "2024-04-01T10:00:00Z",
    );
    mastodon.account = "@acme@social.example".into();
    mastodon.author = "visitor@elsewhere.example".into();
    mastodon.author_type = AuthorType::ThirdParty;
    vec![
        item("x", "1", "Our quarterly invoice is ready for review", "2024-01-01T10:00:00Z"),
        item("x", "2", "This stock has guaranteed returns, buy now", "2024-02-01T10:00:00Z"),
        reply,
        mastodon,
    ]
}

pub(crate) async fn append_archives_items_with_verdicts(b: &Backend) {
    let store = b.store.as_ref();
    let report = append(store, demo()).await;
    assert_eq!((report.added, report.unchanged, report.revisions), (4, 0, 0));
    assert_eq!(report.entries, 8, "each item is followed by its verdict");
    assert_eq!(report.head, Some(8));
    let detail = store.item(3).await.expect("item").expect("exists");
    assert_eq!(detail.summary.external_id, "2");
    assert_eq!(detail.summary.action.as_deref(), Some("require_approval"));
    assert_eq!(detail.entry.seq, 3);
    assert_eq!(detail.verdicts.len(), 1);
    let verdict = detail.verdicts[0].payload.as_ref().expect("verdict payload");
    assert_eq!(verdict["item"], 3);
    assert_eq!(verdict["policy"]["id"], crate::harness::engine().stamp().id.as_str());
    assert_eq!(verdict["policy"]["sha256"], crate::harness::engine().stamp().hash.as_str());
    assert_eq!(verdict["findings"][0]["rule"], "REC-GUARANTEE");
    let payload = detail.payload.expect("item payload");
    assert_eq!(payload["text"], "This stock has guaranteed returns, buy now");
    assert!(store.item(99).await.expect("item").is_none());
    assert!(store.item(4).await.expect("item").is_none(), "entry 4 is a verdict, not an item");
}

pub(crate) async fn append_is_idempotent(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    let head = store.head().await.expect("head");
    let again = append(store, demo()).await;
    assert_eq!((again.added, again.unchanged, again.entries), (0, 4, 0));
    assert_eq!(store.head().await.expect("head"), head);
    // A later capture of the same content, with another raw payload, is still the same version.
    let mut recaptured = demo();
    for item in &mut recaptured {
        item.captured_at = time("2025-01-01T00:00:00Z");
        item.raw = Some("{\"likes\": 12}".into());
    }
    assert_eq!(append(store, recaptured).await.added, 0);
    // Repeats inside one batch count once.
    let twice = vec![
        item("x", "9", "same", "2024-05-01T00:00:00Z"),
        item("x", "9", "same", "2024-05-01T00:00:00Z"),
    ];
    let report = append(store, twice).await;
    assert_eq!((report.added, report.unchanged), (1, 1));
}

pub(crate) async fn edits_and_deletions_are_new_versions(b: &Backend) {
    let store = b.store.as_ref();
    append(store, vec![item("x", "1", "Launch is on Monday", "2024-01-01T10:00:00Z")]).await;
    // The platform shows new text for the same post: an edit, found without being told.
    let report =
        append(store, vec![item("x", "1", "Launch is on Tuesday", "2024-01-01T10:00:00Z")]).await;
    assert_eq!((report.added, report.revisions), (1, 1));
    let mut deletion = item("x", "1", "", "2024-01-01T10:00:00Z");
    deletion.change = Change::Deletion;
    append(store, vec![deletion]).await;
    let original = store.item(1).await.expect("item").expect("original");
    assert_eq!(
        original.versions.iter().map(|v| (v.seq, v.change.as_str())).collect::<Vec<_>>(),
        [(1, "original"), (3, "edit"), (5, "deletion")]
    );
    let edit = store.item(3).await.expect("item").expect("edit");
    assert_eq!(edit.summary.revises, Some(1));
    let deleted = store.item(5).await.expect("item").expect("deletion");
    assert_eq!(deleted.summary.revises, Some(3));
    assert!(deleted.verdicts.is_empty(), "a deletion without text has nothing to check");
    assert_eq!(deleted.summary.action, None);
    // A deletion that carries text the archive never saw (a deleted post in an export) is
    // checked, and this verdict is the only one that text gets.
    let mut risky = item(
        "x",
        "2",
        "Guaranteed returns of 9% a year, totally risk free",
        "2024-01-01T11:00:00Z",
    );
    risky.change = Change::Deletion;
    append(store, vec![risky]).await;
    let deleted = store.item(6).await.expect("item").expect("deletion with text");
    assert_eq!(deleted.summary.change, "deletion");
    assert_eq!(deleted.summary.action.as_deref(), Some("require_approval"));
    assert!(deleted.summary.findings > 0);
    assert_eq!(deleted.verdicts.len(), 1);
    // The reviewed version is never lost.
    assert_eq!(search(store, "monday", Filters::default()).await, ["1"]);
    assert_eq!(search(store, "tuesday", Filters::default()).await, ["1"]);
    verify_store(store).await.expect("verifies");
}

pub(crate) async fn search_finds_words_phrases_and_prefixes(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    let none = Filters::default;
    assert_eq!(search(store, "invoice", none()).await, ["1"]);
    assert_eq!(search(store, "INVOICE", none()).await, ["1"]);
    assert_eq!(search(store, "\"guaranteed returns\"", none()).await, ["2"]);
    assert!(search(store, "\"returns guaranteed\"", none()).await.is_empty());
    assert_eq!(search(store, "guarant*", none()).await, ["2"]);
    assert_eq!(
        search(store, "cafe", none()).await,
        ["https://social.example/@acme/4"],
        "accents fold"
    );
    assert_eq!(search(store, "415", none()).await, ["3"]);
    assert!(search(store, "invoice nine", none()).await.is_empty(), "every term must match");
    assert!(search(store, "nothing", none()).await.is_empty());
    let everything = search(store, "", none()).await;
    assert_eq!(everything, ["https://social.example/@acme/4", "3", "2", "1"], "newest first");
    let page =
        store.search(&SearchRequest::new(Query::parse("our").expect("q"))).await.expect("search");
    let texts: Vec<_> = page.items.iter().map(|i| i.text.clone().unwrap_or_default()).collect();
    assert_eq!(texts, ["Our café opens at nine", "Our quarterly invoice is ready for review"]);
}

pub(crate) async fn search_filters(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    let all = |f: Filters| search(store, "", f);
    assert_eq!(
        all(Filters { platform: Some("Mastodon".into()), ..Filters::default() }).await.len(),
        1
    );
    assert_eq!(
        all(Filters { account: Some("@acme".into()), ..Filters::default() }).await,
        ["3", "2", "1"]
    );
    assert_eq!(all(Filters { author: Some("sam".into()), ..Filters::default() }).await, ["3"]);
    // Handles match whatever their letter case, as legal holds match them.
    assert_eq!(all(Filters { author: Some("SAM".into()), ..Filters::default() }).await, ["3"]);
    assert_eq!(
        all(Filters { account: Some("@ACME".into()), ..Filters::default() }).await,
        ["3", "2", "1"]
    );
    assert!(all(Filters { author: Some("sàm".into()), ..Filters::default() }).await.is_empty());
    assert_eq!(
        all(Filters { author_type: Some(AuthorType::ThirdParty), ..Filters::default() }).await,
        ["https://social.example/@acme/4"]
    );
    assert_eq!(all(Filters { kind: Some(ContentKind::Reply), ..Filters::default() }).await, ["3"]);
    let window = Filters {
        since: Some(time("2024-02-01T10:00:00Z")),
        until: Some(time("2024-04-01T10:00:00Z")),
        ..Filters::default()
    };
    assert_eq!(all(window).await, ["3", "2"], "since is inclusive, until exclusive");
    assert_eq!(all(Filters { action: Some(Action::Block), ..Filters::default() }).await, ["3"]);
    assert_eq!(
        all(Filters { category: Some("recommendation".into()), ..Filters::default() }).await,
        ["2"]
    );
    assert_eq!(all(Filters { rule: Some("PD-CONTACT".into()), ..Filters::default() }).await, ["3"]);
    assert_eq!(all(Filters { has_findings: Some(true), ..Filters::default() }).await, ["3", "2"]);
    assert_eq!(all(Filters { has_findings: Some(false), ..Filters::default() }).await.len(), 2);
    let combined =
        Filters { platform: Some("x".into()), has_findings: Some(true), ..Filters::default() };
    assert_eq!(search(store, "tonight", combined).await, ["3"]);
}

pub(crate) async fn refreshing_statistics_changes_no_answer_and_no_entry(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    let head = store.head().await.expect("head");
    let window = || Filters {
        since: Some(time("2024-02-01T10:00:00Z")),
        until: Some(time("2024-04-01T10:00:00Z")),
        ..Filters::default()
    };
    let before =
        (search(store, "", window()).await, search(store, "tonight", Filters::default()).await);
    store.refresh_statistics().await.expect("refresh the statistics");
    let after =
        (search(store, "", window()).await, search(store, "tonight", Filters::default()).await);
    assert_eq!(before, after);
    assert_eq!(before.0, ["3", "2"]);
    assert_eq!(store.head().await.expect("head"), head, "refreshing statistics appends nothing");
}

pub(crate) async fn search_pages_with_a_cursor(b: &Backend) {
    let store = b.store.as_ref();
    // Two items share each time, so the cursor must break ties by entry.
    let items = (0..25)
        .map(|i| {
            item(
                "x",
                &format!("{i:02}"),
                &format!("update number {i}"),
                &format!("2024-01-{:02}T00:00:00Z", 1 + i / 2),
            )
        })
        .collect();
    append(store, items).await;
    let mut request = SearchRequest::new(Query::parse("update").expect("q"));
    request.limit = 10;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.search(&request).await.expect("search");
        pages += 1;
        seen.extend(page.items.iter().map(|i| i.external_id.clone()));
        match page.next {
            Some(next) => request.cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected: Vec<String> = (0..25).map(|i| format!("{i:02}")).collect();
    expected.reverse();
    assert_eq!(seen, expected);
    let token = Cursor { sort_at: 5, seq: 7 }.token();
    assert_eq!(Cursor::parse(&token).expect("cursor"), Cursor { sort_at: 5, seq: 7 });
    assert!(Cursor::parse("nonsense").is_err());
}

pub(crate) async fn a_final_sigma_is_found_either_way_it_was_written(b: &Backend) {
    let store = b.store.as_ref();
    append(
        store,
        vec![
            item("x", "capitals", "Ο ΣΊΣΥΦΟΣ ήταν εδώ", "2024-01-01T10:00:00Z"),
            item("x", "lower", "ο σίσυφος ήταν εδώ", "2024-01-02T10:00:00Z"),
        ],
    )
    .await;
    for query in ["σισυφος", "ΣΙΣΥΦΟΣ", "\"ο σισυφος\"", "σισυφο*"] {
        assert_eq!(
            search(store, query, Filters::default()).await,
            ["lower", "capitals"],
            "{query} on {}",
            b.name()
        );
    }
}

pub(crate) async fn search_rejects_bad_limits(b: &Backend) {
    let mut request = SearchRequest::new(Query::default());
    request.limit = 0;
    let err = b.store.search(&request).await.expect_err("limit 0");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    request.limit = 1_001;
    assert!(b.store.search(&request).await.is_err());
}

pub(crate) async fn bad_items_are_rejected_whole(b: &Backend) {
    let store = b.store.as_ref();
    let mut bad = item("x", "2", "fine", "2024-01-01T00:00:00Z");
    bad.external_id = String::new();
    let batch = vec![checked(item("x", "1", "fine", "2024-01-01T00:00:00Z")), checked(bad)];
    let err = store.append(&batch, time("2024-01-02T00:00:00Z")).await.expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.to_string().contains("item 2 of the batch: field `external_id`"), "{err}");
    assert_eq!(store.head().await.expect("head"), None, "nothing half-way");
    let too_many: Vec<Checked> = (0..=lifeguard_store::MAX_BATCH)
        .map(|i| checked(item("x", &i.to_string(), "", "2024-01-01T00:00:00Z")))
        .collect();
    assert!(store.append(&too_many, time("2024-01-02T00:00:00Z")).await.is_err());
}

/// PostgreSQL text cannot hold NUL; both databases refuse it in the same places, before
/// anything is written, so an archive can move between them.
pub(crate) async fn nul_characters_are_refused_alike(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;

    let mut bad = item("x", "9", "fine", "2024-01-01T00:00:00Z");
    bad.author = "da\0na".into();
    let err = store.append(&[checked(bad)], time("2024-01-02T00:00:00Z")).await.expect_err("NUL");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.to_string().contains("field `author`"), "{err}");
    // The text is kept inside the entry's JSON payload, where NUL is escaped, so it is fine.
    let nul_text = item("x", "10", "before\0after", "2024-01-01T00:00:00Z");
    store.append(&[checked(nul_text)], time("2024-01-02T00:00:00Z")).await.expect("NUL in text");
    let head = store.head().await.expect("head");
    assert!(head.is_some());

    let hold = |id: &str, reason: &str| Hold {
        id: id.into(),
        reason: reason.into(),
        owner: "legal@acme".into(),
        scope: HoldScope { authors: vec!["sam".into()], ..HoldScope::default() },
    };
    let mut backwards = hold("matter-8", "Matter 8");
    backwards.scope.from = Some(time("2024-03-01T00:00:00Z"));
    backwards.scope.until = Some(time("2024-01-01T00:00:00Z"));
    let err = store.place_hold(&backwards, time("2024-01-06T00:00:00Z")).await.expect_err("dates");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.to_string().contains("dates cover nothing"), "{err}");
    for (bad, what) in
        [(hold("matter\0-7", "Matter 7"), "id"), (hold("matter-7", "Mat\0ter"), "reason")]
    {
        let err = store.place_hold(&bad, time("2024-01-06T00:00:00Z")).await.expect_err(what);
        assert_eq!(err.kind(), ErrorKind::Invalid, "{what}");
        assert!(err.to_string().contains("NUL"), "{what}: {err}");
    }
    let err = store.release_hold("matter\0-7", "done", "legal", time("2024-01-06T00:00:00Z")).await;
    assert_eq!(err.expect_err("no such hold").kind(), ErrorKind::Invalid);
    let mut rule = six_years();
    rule.id = "six\0years".into();
    let err = store.set_retention(&rule, "records@acme", time("2024-01-05T00:00:00Z")).await;
    assert_eq!(err.expect_err("rule id").kind(), ErrorKind::Invalid);
    let err = store.set_retention(&six_years(), "rec\0ords", time("2024-01-05T00:00:00Z")).await;
    assert_eq!(err.expect_err("who").kind(), ErrorKind::Invalid);

    let (seq, hash) = head.expect("a chain");
    let mut checkpoint = key().checkpoint(seq, hash, "2024-01-03T00:00:00.000000Z".into());
    checkpoint.key_id.push('\0');
    assert_eq!(
        store.add_checkpoint(&checkpoint).await.expect_err("key id").kind(),
        ErrorKind::Invalid
    );
    assert_eq!(store.head().await.expect("head"), head, "nothing was written");
    assert!(store.checkpoints().await.expect("checkpoints").is_empty());
}

pub(crate) async fn verify_accepts_an_untouched_archive(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    sign(store).await;
    let report = verify_store(store).await.expect("verifies");
    assert_eq!((report.entries, report.items, report.checkpoints), (8, 4, 1));
    assert_eq!(report.head.map(|(seq, _)| seq), Some(8));
    let other = lifeguard_core::archive::SigningKey::from_seed(&[8; 32]).verifying_key();
    let err = verify(store, Some(&other), &mut |_, _| {}).await.expect_err("another key");
    assert!(err.to_string().contains("signed by key"), "{err}");
}

pub(crate) async fn checkpoints_must_match_the_chain(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    let wrong = key().checkpoint(2, [1; 32], "2024-01-03T00:00:00.000000Z".into());
    assert_eq!(
        store.add_checkpoint(&wrong).await.expect_err("wrong head").kind(),
        ErrorKind::Invalid
    );
    let beyond = key().checkpoint(50, [1; 32], "2024-01-03T00:00:00.000000Z".into());
    assert!(store.add_checkpoint(&beyond).await.is_err());
    sign(store).await;
    sign(store).await; // the same checkpoint twice is harmless
    assert_eq!(store.checkpoints().await.expect("checkpoints").len(), 1);
}

pub(crate) async fn a_batch_can_be_signed_in_its_own_transaction(b: &Backend) {
    let store = b.store.as_ref();
    let prepare = |items: Vec<lifeguard_core::archive::Item>| -> Vec<Prepared> {
        items.into_iter().map(|item| Prepared::new(checked(item))).collect()
    };
    let at = time("2024-01-02T00:00:00Z");
    let report = store.append_prepared(prepare(demo()), at, Some(&key())).await.expect("append");
    let head = store.head().await.expect("head").expect("a chain");
    assert_eq!(report.head, Some(head.0));
    let checkpoints = store.checkpoints().await.expect("checkpoints");
    assert_eq!(checkpoints.len(), 1, "signed with the batch");
    assert_eq!((checkpoints[0].seq, checkpoints[0].head), head);
    let report = verify_store(store).await.expect("verifies");
    assert_eq!((report.checkpoints, report.unsigned), (1, 0));

    // A batch that adds nothing signs nothing; an unsigned batch leaves the head unsigned.
    store.append_prepared(prepare(demo()), at, Some(&key())).await.expect("append again");
    assert_eq!(store.checkpoints().await.expect("checkpoints").len(), 1);
    let more = vec![item("x", "9", "One more post", "2024-05-01T10:00:00Z")];
    store.append_prepared(prepare(more), at, None).await.expect("append unsigned");
    assert_eq!(store.checkpoints().await.expect("checkpoints").len(), 1);
    assert!(verify_store(store).await.expect("verifies").unsigned > 0);
}

pub(crate) async fn database_refuses_changes(b: &Backend) {
    append(b.store.as_ref(), demo()).await;
    for sql in [
        "UPDATE entries SET payload = 'x' WHERE seq = 1",
        "UPDATE entries SET payload = NULL WHERE seq = 1",
        "DELETE FROM entries WHERE seq = 8",
        "UPDATE items SET author = 'someone else' WHERE seq = 1",
        "DELETE FROM items WHERE seq = 7",
        "UPDATE verdicts SET item = 1 WHERE seq = 4",
        "DELETE FROM findings",
    ] {
        let err = b.exec(sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{}: {sql}: {err}", b.name());
    }
    verify_store(b.store.as_ref()).await.expect("nothing changed");
}

pub(crate) async fn altered_payload_is_caught(b: &Backend) {
    append(b.store.as_ref(), demo()).await;
    b.drop_guards().await;
    b.exec("UPDATE entries SET payload = replace(payload, 'guaranteed', 'promised') WHERE seq = 3")
        .await
        .expect("tamper");
    let err = verify_store(b.store.as_ref()).await.expect_err("caught");
    assert!(matches!(err, VerifyError::Chain(ChainError::Payload { seq: 3 })), "{err}");
}

pub(crate) async fn altered_search_row_is_caught(b: &Backend) {
    append(b.store.as_ref(), demo()).await;
    b.drop_guards().await;
    b.exec("UPDATE items SET author = 'nobody' WHERE seq = 5").await.expect("tamper");
    let err = verify_store(b.store.as_ref()).await.expect_err("caught");
    assert!(
        matches!(&err, VerifyError::Projection { seq: 5, message } if message.contains("author")),
        "{err}"
    );
}

/// Expects verification to fail on a projection row of entry `seq`, naming `what`.
async fn assert_projection_caught(b: &Backend, seq: u64, what: &str) {
    let err = verify_store(b.store.as_ref()).await.expect_err("caught");
    assert!(
        matches!(&err, VerifyError::Projection { seq: s, message } if *s == seq && message.contains(what)),
        "{err}"
    );
}

pub(crate) async fn altered_verdict_rows_are_caught(b: &Backend) {
    // Item 3 ("guaranteed returns") has findings; verdict entry 4 judged it.
    let tampers = [
        ("UPDATE items SET action = 'allow', findings = 0 WHERE seq = 3", 3, "verdict columns"),
        ("DELETE FROM findings WHERE verdict = 4", 4, "`findings` rows"),
        ("UPDATE findings SET rule = 'OTHER' WHERE verdict = 4", 4, "`findings` rows"),
        (
            "DELETE FROM findings WHERE verdict = 4; DELETE FROM verdicts WHERE seq = 4",
            4,
            "no row in `verdicts`",
        ),
        ("UPDATE verdicts SET item = 1 WHERE seq = 4", 4, "another item"),
        (
            "INSERT INTO findings (item, verdict, category, rule) VALUES (1, 3, 'offensive', 'X')",
            3,
            "`findings`",
        ),
        ("UPDATE items SET action = 'block', findings = 1 WHERE seq = 1", 1, "verdict columns"),
        ("UPDATE items SET sort_at = 0 WHERE seq = 5", 5, "sort_at"),
    ];
    for (tamper, seq, what) in tampers {
        let fresh = b.fresh().await;
        append(fresh.store.as_ref(), demo()).await;
        fresh.drop_guards().await;
        fresh.exec(tamper).await.expect("tamper");
        assert_projection_caught(&fresh, seq, what).await;
        fresh.cleanup().await;
    }
}

pub(crate) async fn forged_hold_and_retention_rows_are_caught(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    let (rule, placed) = six_years_and_matter_seven(store).await;
    verify_store(store).await.expect("untouched");
    b.drop_guards().await;
    // A release no one recorded, borrowing the retention rule's entry number: reads of the
    // holds in force would take the hold as released.
    b.exec(&format!("INSERT INTO hold_releases (seq, id) VALUES ({rule}, 'matter-7')"))
        .await
        .expect("tamper");
    assert_projection_caught(b, rule, "hold_releases").await;
    b.exec(&format!("DELETE FROM hold_releases WHERE seq = {rule}")).await.expect("undo");
    b.exec(&format!("UPDATE holds SET id = 'matter-8' WHERE seq = {placed}"))
        .await
        .expect("tamper");
    assert_projection_caught(b, placed, "id differs").await;
    b.exec(&format!("DELETE FROM holds WHERE seq = {placed}")).await.expect("tamper");
    assert_projection_caught(b, placed, "no row").await;
}

pub(crate) async fn unindexed_item_is_caught(b: &Backend) {
    append(b.store.as_ref(), demo()).await;
    if !b.is_postgres() {
        // SQLite's full-text table keeps no copy of an item's words to compare.
        return;
    }
    b.drop_guards().await;
    b.exec("UPDATE items SET tsv = NULL WHERE seq = 5").await.expect("tamper");
    assert_projection_caught(b, 5, "search index").await;
}

pub(crate) async fn deleted_entry_is_caught(b: &Backend) {
    append(b.store.as_ref(), demo()).await;
    b.drop_guards().await;
    b.exec("DELETE FROM findings WHERE verdict = 4; DELETE FROM verdicts WHERE seq = 4; DELETE FROM entries WHERE seq = 4")
        .await
        .expect("tamper");
    let err = verify_store(b.store.as_ref()).await.expect_err("caught");
    assert!(
        matches!(err, VerifyError::Chain(ChainError::Sequence { expected: 4, found: 5 })),
        "{err}"
    );
}

pub(crate) async fn reordered_entries_are_caught(b: &Backend) {
    append(b.store.as_ref(), demo()).await;
    b.drop_guards().await;
    // Swap the contents of entries 5 and 7 (two items), keeping the numbers in order.
    let swap = "UPDATE entries SET payload = CASE seq WHEN 5 THEN (SELECT payload FROM entries WHERE seq = 7) \
                ELSE (SELECT payload FROM entries WHERE seq = 5) END, \
                hash = CASE seq WHEN 5 THEN (SELECT hash FROM entries WHERE seq = 7) \
                ELSE (SELECT hash FROM entries WHERE seq = 5) END, \
                payload_sha256 = CASE seq WHEN 5 THEN (SELECT payload_sha256 FROM entries WHERE seq = 7) \
                ELSE (SELECT payload_sha256 FROM entries WHERE seq = 5) END WHERE seq IN (5, 7)";
    b.exec(swap).await.expect("tamper");
    let err = verify_store(b.store.as_ref()).await.expect_err("caught");
    assert!(matches!(err, VerifyError::Chain(ChainError::Hash { seq: 5 })), "{err}");
}

pub(crate) async fn truncated_chain_is_caught(b: &Backend) {
    append(b.store.as_ref(), demo()).await;
    sign(b.store.as_ref()).await;
    b.drop_guards().await;
    b.exec("DELETE FROM findings WHERE verdict = 8; DELETE FROM verdicts WHERE seq = 8; DELETE FROM entries WHERE seq = 8")
        .await
        .expect("tamper");
    let err = verify_store(b.store.as_ref()).await.expect_err("caught");
    assert!(
        matches!(err, VerifyError::Chain(ChainError::Truncated { last: 7, expected: 8 })),
        "{err}"
    );
}

fn six_years() -> RetentionRule {
    RetentionRule {
        id: "six-years".into(),
        kinds: Vec::new(),
        platforms: Vec::new(),
        author_types: Vec::new(),
        keep: Keep::parse("6y").expect("keep"),
    }
}

/// Sets [`six_years`], as `records@acme`: its entry.
async fn set_six_years(store: &dyn Store) -> u64 {
    store
        .set_retention(&six_years(), "records@acme", time("2024-01-05T00:00:00Z"))
        .await
        .expect("rule")
}

/// A litigation hold on everything the author `sam` wrote.
fn matter_seven() -> Hold {
    Hold {
        id: "matter-7".into(),
        reason: "Litigation hold for matter 7".into(),
        owner: "legal@acme".into(),
        scope: HoldScope { authors: vec!["sam".into()], ..HoldScope::default() },
    }
}

/// Sets the six-year rule and places [`matter_seven`]: their entries.
async fn six_years_and_matter_seven(store: &dyn Store) -> (u64, u64) {
    let rule = set_six_years(store).await;
    (rule, store.place_hold(&matter_seven(), time("2024-01-06T00:00:00Z")).await.expect("hold"))
}

async fn dispose_all(store: &dyn Store, now: &str) -> Vec<(u64, Disposal)> {
    let now = time(now);
    let mut done = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let candidates =
            store.disposal_candidates(now, after.as_deref(), 2).await.expect("candidates");
        let Some(last) = candidates.last() else { break };
        after = Some(last.key.clone());
        for candidate in &candidates {
            let outcome = store.dispose(candidate, now, now).await.expect("dispose");
            done.push((candidate.versions[0].0, outcome));
        }
    }
    done
}

pub(crate) async fn versions_archived_after_a_disposal_are_disposed_in_turn(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    set_six_years(store).await;
    let first = dispose_all(store, NOW).await;
    assert!(first.iter().all(|(_, d)| matches!(d, Disposal::Disposed { .. })), "{first:?}");
    // An old edit of item x/1 turns up after its content was disposed of: it is past retention
    // too, so it goes the same way, and only it (the disposed version is not touched again).
    let mut late = item("x", "1", "Our quarterly invoice, corrected", "2024-01-15T10:00:00Z");
    late.change = Change::Edit;
    append(store, vec![late]).await;
    let second = dispose_all(store, NOW).await;
    assert_eq!(second.len(), 1, "{second:?}");
    assert!(matches!(second[0].1, Disposal::Disposed { .. }), "{second:?}");
    assert!(dispose_all(store, NOW).await.is_empty(), "nothing is left to dispose of");
    sign(store).await;
    verify_store(store).await.expect("still verifies");
}

pub(crate) async fn holds_and_retention_decide_disposal(b: &Backend) {
    let store = b.store.as_ref();
    let mut recent = item("x", "new", "Posted last year about the invoice", "2030-01-01T00:00:00Z");
    recent.captured_at = time("2030-01-01T00:00:00Z");
    let mut items = demo();
    items.push(recent);
    append(store, items).await;
    six_years_and_matter_seven(store).await;
    assert_eq!(
        store
            .place_hold(&matter_seven(), time("2024-01-06T00:00:00Z"))
            .await
            .expect_err("twice")
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(store.retention_rules().await.expect("rules"), [six_years()]);

    let done = dispose_all(store, NOW).await;
    let mut disposed: Vec<u64> = done
        .iter()
        .filter(|(_, d)| matches!(d, Disposal::Disposed { .. }))
        .map(|(s, _)| *s)
        .collect();
    disposed.sort_unstable();
    assert_eq!(disposed, [1, 3, 7], "old items without a hold go");
    assert!(done.iter().any(|(seq, d)| *seq == 5
        && matches!(d, Disposal::Kept(Retention::Held { hold }) if hold == "matter-7")));
    assert!(
        done.iter()
            .any(|(seq, d)| *seq == 9 && matches!(d, Disposal::Kept(Retention::Within { .. }))),
        "the recent item is within retention"
    );

    let gone = store.item(3).await.expect("item").expect("still listed");
    assert!(gone.payload.is_none() && gone.summary.text.is_none());
    assert!(
        gone.verdicts.iter().all(|v| v.payload.is_none()),
        "the verdict's matched text goes too"
    );
    assert!(gone.disposed_by.is_some());
    assert!(
        search(store, "guaranteed", Filters::default()).await.is_empty(),
        "disposed words leave the index"
    );
    assert_eq!(
        search(store, "tonight", Filters::default()).await,
        ["3"],
        "the held item stays searchable"
    );
    assert_eq!(search(store, "invoice", Filters::default()).await, ["new"]);
    let report = verify_store(store).await.expect("the chain still verifies");
    assert_eq!(report.disposed, 6);
    assert!(
        dispose_all(store, NOW).await.iter().all(|(_, d)| !matches!(d, Disposal::Disposed { .. }))
    );
    // Removing the only rule keeps everything left.
    store
        .remove_retention("six-years", "records@acme", time("2024-01-07T00:00:00Z"))
        .await
        .expect("remove");
    assert!(store.retention_rules().await.expect("rules").is_empty());
    assert!(
        store
            .remove_retention("six-years", "records@acme", time("2024-01-07T00:00:00Z"))
            .await
            .is_err()
    );
}

pub(crate) async fn dispose_rechecks_holds_in_its_transaction(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    set_six_years(store).await;
    let candidates = store.disposal_candidates(time(NOW), None, 10).await.expect("candidates");
    assert_eq!(candidates.len(), 4);
    // A hold placed after the candidates were listed must still stop the disposal.
    let hold = Hold {
        id: "late".into(),
        reason: "Regulator request".into(),
        owner: "legal@acme".into(),
        scope: HoldScope {
            query: Some(Query::parse("invoice").expect("q")),
            ..HoldScope::default()
        },
    };
    store.place_hold(&hold, time("2024-01-06T00:00:00Z")).await.expect("hold");
    let invoice =
        candidates.iter().find(|c| c.versions[0].1.external_id == "1").expect("candidate");
    let outcome = store.dispose(invoice, time(NOW), time(NOW)).await.expect("dispose");
    assert_eq!(outcome, Disposal::Kept(Retention::Held { hold: "late".into() }));
    assert!(store.item(1).await.expect("item").expect("item").payload.is_some());
}

pub(crate) async fn released_hold_lets_content_go(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    set_six_years(store).await;
    let hold = Hold {
        id: "all".into(),
        reason: "Audit".into(),
        owner: "legal@acme".into(),
        scope: HoldScope::default(),
    };
    store.place_hold(&hold, time("2024-01-06T00:00:00Z")).await.expect("hold");
    assert!(
        dispose_all(store, NOW)
            .await
            .iter()
            .all(|(_, d)| matches!(d, Disposal::Kept(Retention::Held { .. })))
    );
    assert!(store.release_hold("nope", "x", "y", time("2024-01-07T00:00:00Z")).await.is_err());
    store
        .release_hold("all", "Audit closed", "legal@acme", time("2024-01-07T00:00:00Z"))
        .await
        .expect("release");
    let holds = store.holds().await.expect("holds");
    assert_eq!(holds.len(), 1);
    let (_, reason, by) = holds[0].released.clone().expect("released");
    assert_eq!((reason.as_str(), by.as_str()), ("Audit closed", "legal@acme"));
    assert_eq!(dispose_all(store, NOW).await.len(), 4);
    // Before the period ends nothing goes.
    assert!(
        store
            .disposal_candidates(time("2029-01-01T00:00:00Z"), None, 10)
            .await
            .expect("none")
            .is_empty()
    );
    verify_store(store).await.expect("verifies");
}

pub(crate) async fn concurrent_writers_keep_one_chain(b: &Backend) {
    let store = b.store.as_ref();
    let writers = (0..4).map(|w| async move {
        for round in 0..5 {
            let items = (0..20)
                .map(|i| {
                    item(
                        "x",
                        &format!("{w}-{round}-{i}"),
                        "parallel writer",
                        "2024-01-01T00:00:00Z",
                    )
                })
                .collect();
            append(store, items).await;
        }
    });
    futures_join(writers).await;
    let report = verify_store(store).await.expect("one unbroken chain");
    assert_eq!(report.items, 400);
    assert_eq!(report.entries, 800);
}

pub(crate) async fn futures_join<F: std::future::Future<Output = ()>>(
    futures: impl Iterator<Item = F>,
) {
    let mut set = Vec::new();
    for future in futures {
        set.push(future);
    }
    // Poll them together on this task: the store's pool gives each its own connection.
    let mut pinned: Vec<_> = set.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        pinned.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if pinned.is_empty() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
}

pub(crate) async fn stats_count_everything(b: &Backend) {
    let store = b.store.as_ref();
    append(store, demo()).await;
    sign(store).await;
    let stats = store.stats().await.expect("stats");
    assert_eq!((stats.entries, stats.items, stats.verdicts, stats.disposed), (8, 4, 4, 0));
    assert_eq!(stats.by_platform, [("x".to_owned(), 3), ("mastodon".to_owned(), 1)]);
    assert_eq!(stats.checkpoints, 1);
    assert_eq!(stats.last_checkpoint, Some(8));
    let (seq, head) = stats.head.expect("head");
    assert_eq!(seq, 8);
    assert_eq!(hex(&head).len(), 64);
    assert_eq!(stats.span, Some((time("2024-01-01T10:00:00Z"), time("2024-04-01T10:00:00Z"))));
}

pub(crate) async fn common_words_page_exactly_across_blocks(b: &Backend) {
    let store = b.store.as_ref();
    // More items hold "update" than a rare word's list allows, spread over many blocks of
    // entries, with times that do not follow the order of archiving.
    let count = 6_000u64;
    let time_of = |i: u64| (i * 7_919) % count;
    let mut batch = Vec::new();
    for i in 0..count {
        let minutes = time_of(i);
        let created = format!(
            "2024-01-{:02}T{:02}:{:02}:00Z",
            1 + minutes / 1440,
            (minutes / 60) % 24,
            minutes % 60
        );
        let text = if i % 3 == 0 { "update on the rollout" } else { "update" };
        batch.push(item("x", &format!("c{i}"), text, &created));
        if batch.len() == 2_000 {
            append(store, std::mem::take(&mut batch)).await;
        }
    }
    let mut request = SearchRequest::new(Query::parse("update").expect("query"));
    request.filters.since = Some(time("2024-01-02T00:00:00Z"));
    request.filters.until = Some(time("2024-01-04T12:00:00Z"));
    request.limit = 250;
    let mut seen = Vec::new();
    loop {
        let page = store.search(&request).await.expect("search");
        seen.extend(page.items.iter().map(|i| i.external_id.clone()));
        match page.next {
            Some(next) => request.cursor = Some(next),
            None => break,
        }
    }
    // Every item in the window, newest first (ties: later entry first).
    let (from, to) = (1_440, 3 * 1_440 + 720);
    let mut expected: Vec<(u64, u64)> =
        (0..count).filter(|i| (from..to).contains(&time_of(*i))).map(|i| (time_of(i), i)).collect();
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected.into_iter().map(|(_, i)| format!("c{i}")).collect();
    assert_eq!(seen.len(), expected.len());
    assert_eq!(seen, expected);
    let page = store
        .search(&SearchRequest::new(Query::parse("rollout").expect("q")))
        .await
        .expect("search");
    assert_eq!(page.items.len(), 20);
    assert!(
        page.items
            .windows(2)
            .all(|w| (w[0].cursor.sort_at, w[0].seq) > (w[1].cursor.sort_at, w[1].seq))
    );
}

/// A small deterministic generator, so the randomized case below repeats exactly.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

pub(crate) async fn nothing_held_or_within_retention_is_ever_disposed(b: &Backend) {
    let store = b.store.as_ref();
    let mut random = Lcg(0x5eed);
    let authors = ["ana", "ben", "chi", "dev"];
    let platforms = ["x", "mastodon"];
    let words = ["invoice", "launch", "storm", "refund", "hello"];
    let mut disposed = 0;
    for round in 0..8 {
        // Items made and captured at random times over ten years, some with edits.
        let mut batch = Vec::new();
        for i in 0..25 {
            let year = 2015 + random.below(10);
            let made =
                format!("{year}-{:02}-{:02}T00:00:00Z", 1 + random.below(12), 1 + random.below(28));
            let text =
                format!("{} {}", words[random.below(5) as usize], words[random.below(5) as usize]);
            let mut it =
                item(platforms[random.below(2) as usize], &format!("r{round}-{i}"), &text, &made);
            it.author = authors[random.below(4) as usize].into();
            it.captured_at = time(&made);
            if random.below(4) == 0 {
                let mut edit = it.clone();
                edit.text = format!("{text} edited");
                edit.captured_at = time(&format!("{}-06-01T00:00:00Z", year + random.below(3)));
                batch.push(it);
                batch.push(edit);
            } else {
                batch.push(it);
            }
        }
        append(store, batch).await;
        let rule = RetentionRule {
            id: format!("rule-{}", random.below(2)),
            kinds: Vec::new(),
            platforms: if random.below(2) == 0 {
                Vec::new()
            } else {
                vec![platforms[random.below(2) as usize].into()]
            },
            author_types: Vec::new(),
            keep: Keep::parse(&format!("{}y", 1 + random.below(6))).expect("keep"),
        };
        store.set_retention(&rule, "records", time("2025-01-01T00:00:00Z")).await.expect("rule");
        if random.below(2) == 0 {
            let hold = Hold {
                id: format!("hold-{round}"),
                reason: "matter".into(),
                owner: "legal".into(),
                scope: HoldScope {
                    authors: if random.below(2) == 0 {
                        vec![authors[random.below(4) as usize].into()]
                    } else {
                        Vec::new()
                    },
                    query: (random.below(2) == 0)
                        .then(|| Query::parse(words[random.below(5) as usize]).expect("q")),
                    from: Some(time(&format!("{}-01-01T00:00:00Z", 2015 + random.below(10)))),
                    ..HoldScope::default()
                },
            };
            store.place_hold(&hold, time("2025-01-02T00:00:00Z")).await.expect("hold");
        }
        let now = time(&format!("{}-01-01T00:00:00Z", 2020 + random.below(8)));
        let rules = store.retention_rules().await.expect("rules");
        let holds: Vec<Hold> = store
            .holds()
            .await
            .expect("holds")
            .into_iter()
            .filter(|h| h.released.is_none())
            .map(|h| h.hold)
            .collect();
        let mut after: Option<String> = None;
        loop {
            let candidates =
                store.disposal_candidates(now, after.as_deref(), 7).await.expect("candidates");
            let Some(last) = candidates.last() else { break };
            after = Some(last.key.clone());
            for candidate in &candidates {
                let outcome = store.dispose(candidate, now, now).await.expect("dispose");
                if !matches!(outcome, Disposal::Disposed { .. }) {
                    continue;
                }
                disposed += 1;
                // The property, checked from its definition: no hold covers any version, and
                // every rule covering a version has run out for it.
                for (_, version) in &candidate.versions {
                    let facts = lifeguard_core::archive::ItemFacts {
                        platform: &version.platform,
                        account: &version.account,
                        author: &version.author,
                        author_type: version.author_type,
                        kind: version.kind,
                        text: &version.text,
                        created_at: version.created_at,
                        captured_at: version.captured_at,
                    };
                    assert!(
                        holds.iter().all(|h| !h.covers(&facts)),
                        "round {round}: disposed a held item"
                    );
                    let start = version
                        .created_at
                        .map_or(version.captured_at, |c| c.max(version.captured_at));
                    let covering: Vec<_> = rules.iter().filter(|r| r.covers(&facts)).collect();
                    assert!(!covering.is_empty(), "round {round}: disposed an item no rule covers");
                    for rule in covering {
                        assert!(
                            rule.keep.expires(start).expect("expiry") <= now,
                            "round {round}: disposed within retention"
                        );
                    }
                }
            }
        }
    }
    assert!(disposed > 10, "the rounds must dispose of something to show anything ({disposed})");
    verify_store(store).await.expect("the chain verifies after every disposal");
}
