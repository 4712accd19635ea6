//! The directory's cases: people, accounts, tokens, sessions, failed sign-ins, settings and
//! the audit trail, written once against `&dyn Store`.

use jiff::{SignedDuration, Timestamp};
use lifeguard_core::access::{Role, TokenScope};
use lifeguard_core::archive::{AuditRecord, EntryKind, Query};
use lifeguard_store::{
    Audience, AuditFilter, Checked, Department, ErrorKind, Filters, Lockout, NewAccount, NewPerson,
    NewSession, NewToken, Person, PersonPatch, SearchRequest, Setting, Store, StoreError, verify,
};
use serde_json::json;

use crate::harness::{Backend, checked, item, key, time};

/// The time `minutes` after the directory's test epoch.
fn at(minutes: i64) -> Timestamp {
    time("2024-05-01T09:00:00Z") + SignedDuration::from_mins(minutes)
}

fn audit(action: &str) -> AuditRecord {
    AuditRecord::new("root", Some("192.0.2.1"), action)
}

fn new_person(login: &str, role: Role) -> NewPerson {
    NewPerson {
        login: login.into(),
        name: format!("{login} Person"),
        email: format!("{login}@acme.example"),
        department: None,
        manager: None,
        role,
        area: None,
        password_hash: Some(format!("$argon2id$v=19$m=19456,t=2,p=1$salt${login}")),
    }
}

async fn head(store: &dyn Store) -> u64 {
    store.head().await.expect("head").map_or(0, |(seq, _)| seq)
}

/// The newest audit entry, which must be `seq` and say `action`.
async fn last_action(store: &dyn Store, seq: u64, action: &str) -> AuditRecord {
    let trail = store
        .audit_trail(&AuditFilter { limit: 1, ..AuditFilter::default() })
        .await
        .expect("audit trail");
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].seq, seq);
    assert_eq!(trail[0].record.action, action);
    trail[0].record.clone()
}

/// Asserts that a call failed as invalid, naming `field`, and wrote nothing.
async fn refused<T: std::fmt::Debug>(
    store: &dyn Store,
    before: u64,
    result: Result<T, StoreError>,
    field: &str,
) {
    let err = result.expect_err(field);
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.to_string().contains(field), "`{field}` not named in: {err}");
    assert_eq!(head(store).await, before, "a refused change writes nothing: {err}");
}

async fn person(store: &dyn Store, login: &str, role: Role, manager: Option<i64>) -> Person {
    let mut new = new_person(login, role);
    new.manager = manager;
    let audited = audit("person.create").on(login);
    store.create_person(&new, &audited, at(0)).await.expect("create person")
}

async fn verify_store(store: &dyn Store) -> lifeguard_store::VerifyReport {
    verify(store, Some(&key().verifying_key()), &mut |_, _| {}).await.expect("verifies")
}

pub(crate) async fn people_are_created_changed_and_validated(b: &Backend) {
    let store = b.store.as_ref();
    let eng = Department { id: "eng".into(), name: "Engineering".into() };
    store.put_department(&eng, &audit("department.put").on("eng"), at(0)).await.expect("dept");
    assert_eq!(head(store).await, 1);
    let renamed = Department { id: "eng".into(), name: "Engineering & Data".into() };
    store.put_department(&renamed, &audit("department.put"), at(1)).await.expect("rename");
    assert_eq!(store.departments().await.expect("departments"), [renamed]);
    let before = head(store).await;
    let bad = Department { id: "Eng".into(), name: "x".into() };
    refused(store, before, store.put_department(&bad, &audit("d"), at(1)).await, "`department`")
        .await;

    let ada = person(store, "ada", Role::Admin, None).await;
    assert_eq!(ada.created_at, at(0));
    assert!(ada.active);
    let mut new = new_person("bob.b-1_", Role::Employee);
    new.department = Some("eng".into());
    new.manager = Some(ada.id);
    let bob = store.create_person(&new, &audit("person.create"), at(2)).await.expect("bob");
    assert_eq!(store.person(bob.id).await.expect("read"), Some(bob.clone()));
    assert_eq!(store.person_by_login("bob.b-1_").await.expect("read"), Some(bob.clone()));
    assert_eq!(store.person_by_login("nobody").await.expect("read"), None);
    assert_eq!(store.person_by_login("a\0b").await.expect("read"), None);
    assert_eq!(store.person(999).await.expect("read"), None);
    let logins: Vec<String> =
        store.people().await.expect("people").into_iter().map(|p| p.login).collect();
    assert_eq!(logins, ["ada", "bob.b-1_"]);
    assert_eq!(
        store.password_hash(bob.id).await.expect("hash").as_deref(),
        new.password_hash.as_deref()
    );
    let mut unsigned = new_person("cy", Role::Auditor);
    unsigned.password_hash = None;
    let cy = store.create_person(&unsigned, &audit("person.create"), at(2)).await.expect("cy");
    assert_eq!(store.password_hash(cy.id).await.expect("hash"), None);
    assert_eq!(store.password_hash(999).await.expect("hash"), None);

    let before = head(store).await;
    let invalid = |change: fn(&mut NewPerson)| {
        let mut person = new_person("zed", Role::Employee);
        change(&mut person);
        person
    };
    let cases: Vec<(NewPerson, &str)> = vec![
        (invalid(|p| p.login = "Zed".into()), "`login`"),
        (invalid(|p| p.login = String::new()), "`login`"),
        (invalid(|p| p.login = "z d".into()), "`login`"),
        (invalid(|p| p.login = "z".repeat(65)), "`login`"),
        (invalid(|p| p.login = "ada".into()), "`login`: `ada` is taken"),
        (invalid(|p| p.name = " ".into()), "`name`"),
        (invalid(|p| p.name = "x".repeat(257)), "`name`"),
        (invalid(|p| p.name = "a\0b".into()), "`name`"),
        (invalid(|p| p.email = "a\0b".into()), "`email`"),
        (invalid(|p| p.department = Some("sales".into())), "`department`"),
        (invalid(|p| p.department = Some("Sales!".into())), "`department`"),
        (invalid(|p| p.manager = Some(999)), "`manager`"),
        (invalid(|p| p.area = Some("legal".into())), "`area`"),
        (
            invalid(|p| {
                p.role = Role::Reviewer;
                p.area = Some("finance".into());
            }),
            "`area`",
        ),
        (invalid(|p| p.password_hash = Some(String::new())), "`password_hash`"),
    ];
    for (person, field) in cases {
        refused(store, before, store.create_person(&person, &audit("p"), at(3)).await, field).await;
    }
    let before = head(store).await;
    refused(
        store,
        before,
        store
            .create_person(
                &new_person("zed", Role::Employee),
                &AuditRecord::new("", None, "p"),
                at(3),
            )
            .await,
        "`actor`",
    )
    .await;
    let mut reviewer = new_person("rae", Role::Reviewer);
    reviewer.area = Some("legal".into());
    let rae = store.create_person(&reviewer, &audit("person.create"), at(3)).await.expect("rae");
    assert_eq!(rae.area.as_deref(), Some("legal"));

    // Changes.
    let patch = PersonPatch {
        name: Some("Robert B".into()),
        role: Some(Role::Reviewer),
        area: Some(Some("privacy".into())),
        department: Some(None),
        password_hash: Some("$argon2id$new".into()),
        ..PersonPatch::default()
    };
    let changed =
        store.update_person(bob.id, &patch, &audit("person.update"), at(4)).await.expect("update");
    assert_eq!(changed.name, "Robert B");
    assert_eq!((changed.role, changed.area.as_deref()), (Role::Reviewer, Some("privacy")));
    assert_eq!(changed.department, None);
    assert_eq!(changed.manager, Some(ada.id), "untouched fields stay");
    assert_eq!(changed.created_at, bob.created_at);
    assert_eq!(store.person(bob.id).await.expect("read"), Some(changed.clone()));
    assert_eq!(store.password_hash(bob.id).await.expect("hash").as_deref(), Some("$argon2id$new"));
    let same = store
        .update_person(bob.id, &PersonPatch::default(), &audit("person.update"), at(4))
        .await
        .expect("empty patch");
    assert_eq!(same, changed);
    assert_eq!(
        store.password_hash(bob.id).await.expect("hash").as_deref(),
        Some("$argon2id$new"),
        "no new hash keeps the old one"
    );

    let before = head(store).await;
    let update = |patch: PersonPatch| async move {
        store.update_person(bob.id, &patch, &audit("person.update"), at(5)).await
    };
    refused(
        store,
        before,
        update(PersonPatch { role: Some(Role::Employee), ..PersonPatch::default() }).await,
        "`area` is only for reviewers",
    )
    .await;
    refused(
        store,
        before,
        update(PersonPatch { area: Some(Some("finance".into())), ..PersonPatch::default() }).await,
        "`area`",
    )
    .await;
    refused(
        store,
        before,
        update(PersonPatch { department: Some(Some("sales".into())), ..PersonPatch::default() })
            .await,
        "`department`",
    )
    .await;
    refused(
        store,
        before,
        update(PersonPatch { manager: Some(Some(999)), ..PersonPatch::default() }).await,
        "`manager`",
    )
    .await;
    refused(
        store,
        before,
        update(PersonPatch { name: Some(String::new()), ..PersonPatch::default() }).await,
        "`name`",
    )
    .await;
    refused(
        store,
        before,
        store.update_person(999, &PersonPatch::default(), &audit("person.update"), at(5)).await,
        "no person with id 999",
    )
    .await;
    let demoted = update(PersonPatch {
        role: Some(Role::Employee),
        area: Some(None),
        manager: Some(None),
        ..PersonPatch::default()
    })
    .await
    .expect("role and area change together");
    assert_eq!((demoted.role, demoted.area, demoted.manager), (Role::Employee, None, None));
    verify_store(store).await;
}

pub(crate) async fn managers_cannot_loop_and_teams_are_transitive(b: &Backend) {
    let store = b.store.as_ref();
    let ada = person(store, "ada", Role::Supervisor, None).await;
    let bob = person(store, "bob", Role::Supervisor, Some(ada.id)).await;
    let cy = person(store, "cy", Role::Supervisor, Some(bob.id)).await;
    let dan = person(store, "dan", Role::Employee, Some(cy.id)).await;
    let eve = person(store, "eve", Role::Supervisor, Some(ada.id)).await;
    let _solo = person(store, "solo", Role::Employee, None).await;
    let team = |manager: i64| async move {
        let people = store.team(manager).await.expect("team");
        people.into_iter().map(|p| p.login).collect::<Vec<_>>()
    };
    assert_eq!(team(ada.id).await, ["bob", "cy", "dan", "eve"]);
    assert_eq!(team(bob.id).await, ["cy", "dan"]);
    assert!(team(dan.id).await.is_empty());
    assert!(team(999).await.is_empty());

    let before = head(store).await;
    let manage = |id: i64, manager: i64| async move {
        let patch = PersonPatch { manager: Some(Some(manager)), ..PersonPatch::default() };
        store.update_person(id, &patch, &audit("person.update"), at(1)).await
    };
    refused(store, before, manage(ada.id, dan.id).await, "`manager`").await;
    refused(store, before, manage(ada.id, ada.id).await, "own manager").await;
    refused(store, before, manage(bob.id, cy.id).await, "`manager`").await;
    refused(store, before, manage(cy.id, dan.id).await, "`manager`").await;
    // Moving a subtree elsewhere is fine.
    manage(cy.id, eve.id).await.expect("cy moves under eve");
    assert_eq!(team(bob.id).await, Vec::<String>::new());
    assert_eq!(team(eve.id).await, ["cy", "dan"]);
    assert_eq!(team(ada.id).await, ["bob", "cy", "dan", "eve"]);
    refused(store, head(store).await, manage(eve.id, dan.id).await, "`manager`").await;
    manage(ada.id, _solo.id).await.expect("ada reports to solo");
    assert_eq!(team(_solo.id).await, ["ada", "bob", "cy", "dan", "eve"]);
}

pub(crate) async fn accounts_are_unique_per_platform(b: &Backend) {
    let store = b.store.as_ref();
    let ada = person(store, "ada", Role::Employee, None).await;
    let sales = Department { id: "sales".into(), name: "Sales".into() };
    store.put_department(&sales, &audit("department.put"), at(0)).await.expect("dept");
    let account = |platform: &str, handle: &str| NewAccount {
        platform: platform.into(),
        handle: handle.into(),
        name: "Acme".into(),
        owner: Some(ada.id),
        department: Some("sales".into()),
    };
    let created = store
        .create_account(&account("x", "@acme"), &audit("account.create"), at(1))
        .await
        .expect("account");
    assert_eq!((created.owner, created.created_at), (Some(ada.id), at(1)));
    let before = head(store).await;
    refused(
        store,
        before,
        store.create_account(&account("x", "@acme"), &audit("account.create"), at(2)).await,
        "`handle`",
    )
    .await;
    refused(
        store,
        before,
        store.create_account(&account("X", "@other"), &audit("account.create"), at(2)).await,
        "`platform`",
    )
    .await;
    refused(
        store,
        before,
        store.create_account(&account("x", ""), &audit("account.create"), at(2)).await,
        "`handle`",
    )
    .await;
    let mut orphan = account("x", "@other");
    orphan.owner = Some(999);
    refused(
        store,
        before,
        store.create_account(&orphan, &audit("account.create"), at(2)).await,
        "`owner`",
    )
    .await;
    let mut nowhere = account("x", "@other");
    nowhere.department = Some("legal".into());
    refused(
        store,
        before,
        store.create_account(&nowhere, &audit("account.create"), at(2)).await,
        "`department`",
    )
    .await;
    let mastodon = store
        .create_account(&account("mastodon", "@acme"), &audit("account.create"), at(3))
        .await
        .expect("same handle elsewhere");
    let accounts = store.accounts().await.expect("accounts");
    assert_eq!(accounts, [mastodon, created], "by platform, then handle");
}

fn new_token(id: &str, person: i64, scopes: Vec<TokenScope>) -> NewToken {
    NewToken {
        id: id.into(),
        name: format!("{id} token"),
        person,
        scopes,
        secret_sha256: [id.len() as u8; 32],
        expires_at: None,
    }
}

pub(crate) async fn tokens_are_created_listed_and_revoked(b: &Backend) {
    let store = b.store.as_ref();
    let ada = person(store, "ada", Role::Admin, None).await;
    let bob = person(store, "bob", Role::Employee, None).await;
    let mut first = new_token("a1", bob.id, vec![TokenScope::Check, TokenScope::Ingest]);
    first.scopes.push(TokenScope::Check);
    first.expires_at = Some(at(60));
    let a1 = store.create_token(&first, &audit("token.create").on("a1"), at(1)).await.expect("a1");
    assert_eq!(a1.scopes, [TokenScope::Check, TokenScope::Ingest], "each scope once");
    assert_eq!((a1.created_at, a1.expires_at, a1.revoked_at), (at(1), Some(at(60)), None));
    let b2 = store
        .create_token(
            &new_token("b22", ada.id, vec![TokenScope::Admin]),
            &audit("token.create"),
            at(2),
        )
        .await
        .expect("b22");
    assert_eq!(store.tokens(Some(bob.id)).await.expect("tokens"), std::slice::from_ref(&a1));
    assert_eq!(store.tokens(None).await.expect("tokens"), [a1.clone(), b2.clone()]);
    assert!(store.tokens(Some(999)).await.expect("tokens").is_empty());
    let (token, secret, owner) = store.token_secret("a1").await.expect("read").expect("exists");
    assert_eq!((token, secret, owner), (a1.clone(), [2; 32], bob.clone()));
    assert!(store.token_secret("zz").await.expect("read").is_none());
    assert!(store.token_secret("a\0").await.expect("read").is_none());

    let before = head(store).await;
    let create = |token: NewToken| async move {
        store.create_token(&token, &audit("token.create"), at(3)).await
    };
    refused(
        store,
        before,
        create(new_token("a1", ada.id, vec![TokenScope::Read])).await,
        "`token id`",
    )
    .await;
    refused(
        store,
        before,
        create(new_token("A1", ada.id, vec![TokenScope::Read])).await,
        "`token id`",
    )
    .await;
    refused(
        store,
        before,
        create(new_token("a-1", ada.id, vec![TokenScope::Read])).await,
        "`token id`",
    )
    .await;
    refused(store, before, create(new_token("c3", ada.id, Vec::new())).await, "`scopes`").await;
    refused(store, before, create(new_token("c3", 999, vec![TokenScope::Read])).await, "`person`")
        .await;
    let mut unnamed = new_token("c3", ada.id, vec![TokenScope::Read]);
    unnamed.name = String::new();
    refused(store, before, create(unnamed).await, "`token name`").await;

    let revoked =
        store.revoke_token("a1", &audit("token.revoke").on("a1"), at(5)).await.expect("revoke");
    assert_eq!(revoked.revoked_at, Some(at(5)));
    assert_eq!(store.tokens(Some(bob.id)).await.expect("tokens"), std::slice::from_ref(&revoked));
    let (token, _, _) = store.token_secret("a1").await.expect("read").expect("still there");
    assert_eq!(token.revoked_at, Some(at(5)));
    let before = head(store).await;
    refused(
        store,
        before,
        store.revoke_token("a1", &audit("token.revoke"), at(6)).await,
        "already revoked",
    )
    .await;
    refused(
        store,
        before,
        store.revoke_token("nope", &audit("token.revoke"), at(6)).await,
        "`token id`",
    )
    .await;
    refused(
        store,
        before,
        store.revoke_token("n\0", &audit("token.revoke"), at(6)).await,
        "`token id`",
    )
    .await;
}

fn new_session(n: u8, person: i64, expires_at: Timestamp) -> NewSession {
    NewSession { id_sha256: [n; 32], person, csrf: format!("csrf-{n}"), expires_at }
}

pub(crate) async fn sessions_start_end_and_expire(b: &Backend) {
    let store = b.store.as_ref();
    let bob = person(store, "bob", Role::Employee, None).await;
    store
        .create_session(&new_session(1, bob.id, at(60)), &audit("login").on("bob"), at(0))
        .await
        .expect("session");
    let session = store.session(&[1; 32], at(59)).await.expect("read").expect("live");
    assert_eq!(session.person, bob);
    assert_eq!(
        (session.csrf.as_str(), session.created_at, session.expires_at),
        ("csrf-1", at(0), at(60))
    );
    assert!(store.session(&[1; 32], at(60)).await.expect("read").is_none(), "ended at expiry");
    assert!(store.session(&[9; 32], at(1)).await.expect("read").is_none());

    let before = head(store).await;
    refused(
        store,
        before,
        store.create_session(&new_session(2, 999, at(60)), &audit("login"), at(0)).await,
        "`person`",
    )
    .await;
    refused(
        store,
        before,
        store.create_session(&new_session(2, bob.id, at(0)), &audit("login"), at(0)).await,
        "`expires_at`",
    )
    .await;
    let mut no_csrf = new_session(2, bob.id, at(60));
    no_csrf.csrf = String::new();
    refused(store, before, store.create_session(&no_csrf, &audit("login"), at(0)).await, "`csrf`")
        .await;

    store.end_session(&[1; 32], &audit("logout").on("bob"), at(5)).await.expect("sign out");
    assert!(store.session(&[1; 32], at(6)).await.expect("read").is_none());
    let before = head(store).await;
    store.end_session(&[1; 32], &audit("logout"), at(6)).await.expect("again is harmless");
    assert_eq!(head(store).await, before + 1, "and still recorded");

    for (n, ends) in [(3, 10), (4, 20), (5, 30)] {
        store
            .create_session(&new_session(n, bob.id, at(ends)), &audit("login"), at(0))
            .await
            .expect("session");
    }
    let before = head(store).await;
    assert_eq!(store.expire_sessions(at(20)).await.expect("expire"), 2);
    assert_eq!(store.expire_sessions(at(20)).await.expect("expire"), 0);
    assert_eq!(head(store).await, before, "expiry is housekeeping, not an action");
    assert!(store.session(&[5; 32], at(21)).await.expect("read").is_some());
}

pub(crate) async fn deactivation_ends_sessions_and_revokes_tokens(b: &Backend) {
    let store = b.store.as_ref();
    let bob = person(store, "bob", Role::Employee, None).await;
    let ada = person(store, "ada", Role::Employee, None).await;
    for n in [1, 2] {
        store
            .create_session(&new_session(n, bob.id, at(600)), &audit("login"), at(0))
            .await
            .expect("session");
    }
    store
        .create_session(&new_session(3, ada.id, at(600)), &audit("login"), at(0))
        .await
        .expect("ada's session");
    let live = new_token("live", bob.id, vec![TokenScope::Check]);
    let mut expired = new_token("old", bob.id, vec![TokenScope::Check]);
    expired.expires_at = Some(at(5));
    let revoked = new_token("gone", bob.id, vec![TokenScope::Check]);
    for token in [&live, &expired, &revoked] {
        store.create_token(token, &audit("token.create"), at(1)).await.expect("token");
    }
    store.revoke_token("gone", &audit("token.revoke"), at(2)).await.expect("revoke");
    let ada_token = new_token("adas", ada.id, vec![TokenScope::Check]);
    store.create_token(&ada_token, &audit("token.create"), at(1)).await.expect("token");

    let before = head(store).await;
    let off = PersonPatch { active: Some(false), ..PersonPatch::default() };
    let inactive = store
        .update_person(bob.id, &off, &audit("person.deactivate").on("bob"), at(10))
        .await
        .expect("deactivate");
    assert!(!inactive.active);
    assert_eq!(head(store).await, before + 1, "one transaction, one entry");
    for n in [1, 2] {
        assert!(store.session(&[n; 32], at(11)).await.expect("read").is_none());
    }
    assert!(store.session(&[3; 32], at(11)).await.expect("read").is_some(), "others stay");
    let revoked_at: Vec<(String, Option<Timestamp>)> = store
        .tokens(Some(bob.id))
        .await
        .expect("tokens")
        .into_iter()
        .map(|t| (t.id, t.revoked_at))
        .collect();
    assert_eq!(
        revoked_at,
        [
            ("gone".to_owned(), Some(at(2))),
            ("live".to_owned(), Some(at(10))),
            ("old".to_owned(), None),
        ],
        "live tokens revoked now; earlier revocations and expiries kept"
    );
    assert_eq!(store.tokens(Some(ada.id)).await.expect("tokens")[0].revoked_at, None);

    let before = head(store).await;
    refused(
        store,
        before,
        store.create_session(&new_session(4, bob.id, at(600)), &audit("login"), at(11)).await,
        "not active",
    )
    .await;
    refused(
        store,
        before,
        store
            .create_token(&new_token("new", bob.id, vec![TokenScope::Read]), &audit("t"), at(11))
            .await,
        "not active",
    )
    .await;

    // A session that survived somehow is still refused while its person is inactive.
    let on = PersonPatch { active: Some(true), ..PersonPatch::default() };
    store.update_person(bob.id, &on, &audit("person.activate"), at(12)).await.expect("on");
    store
        .create_session(&new_session(5, bob.id, at(600)), &audit("login"), at(13))
        .await
        .expect("session");
    assert!(store.session(&[1; 32], at(14)).await.expect("read").is_none(), "ended for good");
    b.exec("UPDATE people SET active = FALSE WHERE login = 'bob'").await.expect("raw change");
    assert!(store.session(&[5; 32], at(14)).await.expect("read").is_none());
}

pub(crate) async fn failed_logins_lock_and_success_clears(b: &Backend) {
    let store = b.store.as_ref();
    let lockout = Lockout { max_failures: 3, lock_for: SignedDuration::from_mins(15) };
    let fail = |login: &'static str, minute: i64| async move {
        store
            .login_failed(login, lockout, &audit("login.failed").on(login), at(minute))
            .await
            .expect("recorded")
    };
    let before = head(store).await;
    assert_eq!((fail("ghost", 0).await.failures, fail("ghost", 1).await.failures), (1, 2));
    assert_eq!(head(store).await, before + 2, "each failure is an action entry");
    assert_eq!(store.locked_until("ghost", at(1)).await.expect("read"), None);
    let third = fail("ghost", 2).await;
    assert_eq!((third.failures, third.locked_until), (3, Some(at(17))));
    assert_eq!(store.locked_until("ghost", at(10)).await.expect("read"), Some(at(17)));
    assert_eq!(store.locked_until("ghost", at(17)).await.expect("read"), None, "over at its end");
    assert_eq!(store.locked_until("GHOST", at(10)).await.expect("read"), None);
    assert_eq!(store.locked_until("a\0", at(10)).await.expect("read"), None);
    // Failing while locked extends the lock: no more guesses than the limit allows.
    let fourth = fail("ghost", 5).await;
    assert_eq!((fourth.failures, fourth.locked_until), (4, Some(at(20))));
    // Right after the lock ends, one more failure locks again.
    assert_eq!(store.locked_until("ghost", at(20)).await.expect("read"), None);
    let fifth = fail("ghost", 20).await;
    assert_eq!((fifth.failures, fifth.locked_until), (5, Some(at(35))));
    // Failures further apart than the lock do not count as in a row.
    let later = fail("ghost", 60).await;
    assert_eq!((later.failures, later.locked_until), (1, None));
    assert_eq!(store.locked_until("ghost", at(60)).await.expect("read"), None);

    // A successful sign-in clears the count.
    let bob = person(store, "bob", Role::Employee, None).await;
    fail("bob", 0).await;
    assert_eq!(fail("bob", 1).await.failures, 2);
    store
        .create_session(&new_session(1, bob.id, at(60)), &audit("login").on("bob"), at(2))
        .await
        .expect("sign in");
    assert_eq!(fail("bob", 3).await.failures, 1);

    let before = head(store).await;
    let never = Lockout { max_failures: 0, lock_for: SignedDuration::from_mins(15) };
    refused(
        store,
        before,
        store.login_failed("bob", never, &audit("login.failed"), at(4)).await,
        "`max_failures`",
    )
    .await;
    let instant = Lockout { max_failures: 3, lock_for: SignedDuration::ZERO };
    refused(
        store,
        before,
        store.login_failed("bob", instant, &audit("login.failed"), at(4)).await,
        "`lock_for`",
    )
    .await;
    refused(
        store,
        before,
        store.login_failed("", lockout, &audit("login.failed"), at(4)).await,
        "`login`",
    )
    .await;
    refused(
        store,
        before,
        store.login_failed("b\0b", lockout, &audit("login.failed"), at(4)).await,
        "`login`",
    )
    .await;
    let failed = store
        .audit_trail(&AuditFilter {
            action: Some("login.failed".into()),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .expect("trail");
    assert_eq!(failed.len(), 9, "six for ghost, three for bob");
}

pub(crate) async fn settings_are_set_and_replaced(b: &Backend) {
    let store = b.store.as_ref();
    assert!(store.settings().await.expect("settings").is_empty());
    let set = |key: &str, value: &str| Setting { key: key.into(), value: value.into() };
    store.set_setting(&set("site.name", "Acme"), &audit("setting.set"), at(0)).await.expect("set");
    store.set_setting(&set("lock_minutes", "15"), &audit("setting.set"), at(1)).await.expect("set");
    store
        .set_setting(&set("site.name", "Acme Corp"), &audit("setting.set"), at(2))
        .await
        .expect("set");
    store.set_setting(&set("banner", ""), &audit("setting.set"), at(3)).await.expect("empty value");
    assert_eq!(
        store.settings().await.expect("settings"),
        [set("banner", ""), set("lock_minutes", "15"), set("site.name", "Acme Corp")]
    );
    let before = head(store).await;
    refused(
        store,
        before,
        store.set_setting(&set("Site", "x"), &audit("s"), at(4)).await,
        "`setting key`",
    )
    .await;
    refused(
        store,
        before,
        store.set_setting(&set("", "x"), &audit("s"), at(4)).await,
        "`setting key`",
    )
    .await;
    refused(
        store,
        before,
        store.set_setting(&set("k", "a\0"), &audit("s"), at(4)).await,
        "`setting value`",
    )
    .await;
    assert_eq!(head(store).await, 4);
}

pub(crate) async fn audit_trail_filters_and_orders(b: &Backend) {
    let store = b.store.as_ref();
    // Items in between: the trail lists only actions.
    let batch: Vec<Checked> = vec![checked(item("x", "1", "hello", "2024-01-01T00:00:00Z"))];
    store.append(&batch, time("2024-01-02T00:00:00Z")).await.expect("append");
    let records = [
        ("ada", "login", Some("ada"), 0),
        ("anonymous", "login.failed", Some("ada"), 1),
        ("ada", "token.create", Some("t1"), 2),
        ("bob", "login", Some("bob"), 3),
        ("ada", "loginx", None, 4),
        ("bob", "logout", Some("bob"), 5),
        ("system", "login.failed.twice", Some("bob"), 6),
    ];
    let mut seqs = Vec::new();
    for (actor, action, target, minute) in records {
        let mut record = AuditRecord::new(actor, Some("198.51.100.7"), action)
            .with("n", minute)
            .with("nested", json!({"b": [1, 2], "a": "x"}));
        record.target = target.map(str::to_owned);
        seqs.push(store.record_action(&record, at(minute)).await.expect("record"));
    }
    assert_eq!(seqs, [3, 4, 5, 6, 7, 8, 9], "after the item and its verdict");
    let trail = |filter: AuditFilter| async move {
        let entries = store.audit_trail(&filter).await.expect("trail");
        entries.into_iter().map(|e| e.seq).collect::<Vec<_>>()
    };
    let all = AuditFilter { limit: 100, ..AuditFilter::default() };
    assert_eq!(trail(all.clone()).await, [9, 8, 7, 6, 5, 4, 3], "newest first");
    let full = store.audit_trail(&all).await.expect("trail");
    let first = full.last().expect("entries");
    assert_eq!(first.recorded_at, at(0));
    assert_eq!(first.record.actor, "ada");
    assert_eq!(first.record.from.as_deref(), Some("198.51.100.7"));
    assert_eq!(first.record.target.as_deref(), Some("ada"));
    assert_eq!(first.record.details["nested"], json!({"a": "x", "b": [1, 2]}));
    assert_eq!(first.record.details["n"], 0);

    let only = |change: fn(&mut AuditFilter)| {
        let mut filter = all.clone();
        change(&mut filter);
        filter
    };
    assert_eq!(trail(only(|f| f.actor = Some("ada".into()))).await, [7, 5, 3]);
    assert_eq!(
        trail(only(|f| f.action = Some("login".into()))).await,
        [9, 6, 4, 3],
        "the family, not `loginx` or `logout`"
    );
    assert_eq!(trail(only(|f| f.action = Some("login.failed".into()))).await, [9, 4]);
    assert_eq!(trail(only(|f| f.action = Some("log".into()))).await, Vec::<u64>::new());
    assert_eq!(trail(only(|f| f.target = Some("bob".into()))).await, [9, 8, 6]);
    assert_eq!(
        trail(only(|f| {
            f.since = Some(at(2));
            f.until = Some(at(5));
        }))
        .await,
        [7, 6, 5],
        "since inclusive, until exclusive"
    );
    assert_eq!(trail(only(|f| f.before = Some(6))).await, [5, 4, 3]);
    assert_eq!(trail(only(|f| f.before = Some(0))).await, Vec::<u64>::new());
    assert_eq!(
        trail(only(|f| {
            f.actor = Some("bob".into());
            f.action = Some("login".into());
        }))
        .await,
        [6]
    );
    assert_eq!(trail(only(|f| f.actor = Some("a\0".into()))).await, Vec::<u64>::new());
    assert_eq!(trail(only(|f| f.limit = 2)).await, [9, 8]);
    assert_eq!(trail(only(|f| f.limit = 0)).await, [9], "at least one");
    assert_eq!(trail(only(|f| f.limit = 50_000)).await.len(), 7, "at most 1,000");

    // Paging with the cursor.
    let mut pages = Vec::new();
    let mut filter = AuditFilter { limit: 3, ..AuditFilter::default() };
    loop {
        let page = store.audit_trail(&filter).await.expect("page");
        let Some(last) = page.last() else { break };
        filter.before = Some(last.seq);
        pages.push(page.iter().map(|e| e.seq).collect::<Vec<_>>());
    }
    assert_eq!(pages, [vec![9, 8, 7], vec![6, 5, 4], vec![3]]);

    let entries = store.entries(3, 100).await.expect("entries");
    assert!(entries.iter().all(|e| e.kind == EntryKind::Action));
    assert_eq!(
        entries[0].payload.as_deref(),
        Some(full.last().expect("first").record.payload().as_str())
    );
}

pub(crate) async fn every_change_writes_one_action_entry(b: &Backend) {
    let store = b.store.as_ref();
    let mut expected = 0;
    let mut step = |action: &'static str| {
        expected += 1;
        (expected, audit(action).with("step", expected))
    };
    async fn check(store: &dyn Store, (seq, record): (u64, AuditRecord)) {
        assert_eq!(head(store).await, seq, "{}", record.action);
        assert_eq!(last_action(store, seq, &record.action).await, record);
    }
    let dept = Department { id: "eng".into(), name: "Engineering".into() };
    let s = step("department.put");
    store.put_department(&dept, &s.1, at(1)).await.expect("dept");
    check(store, s).await;
    let s = step("person.create");
    let ada = store.create_person(&new_person("ada", Role::Admin), &s.1, at(1)).await.expect("ada");
    check(store, s).await;
    let s = step("person.update");
    let patch = PersonPatch { department: Some(Some("eng".into())), ..PersonPatch::default() };
    store.update_person(ada.id, &patch, &s.1, at(1)).await.expect("update");
    check(store, s).await;
    let s = step("account.create");
    let account = NewAccount {
        platform: "x".into(),
        handle: "@ada".into(),
        name: "Ada".into(),
        owner: Some(ada.id),
        department: None,
    };
    store.create_account(&account, &s.1, at(1)).await.expect("account");
    check(store, s).await;
    let s = step("token.create");
    store
        .create_token(&new_token("t1", ada.id, vec![TokenScope::Read]), &s.1, at(1))
        .await
        .expect("t");
    check(store, s).await;
    let s = step("token.revoke");
    store.revoke_token("t1", &s.1, at(1)).await.expect("revoke");
    check(store, s).await;
    let lockout = Lockout { max_failures: 5, lock_for: SignedDuration::from_mins(5) };
    let s = step("login.failed");
    store.login_failed("ada", lockout, &s.1, at(1)).await.expect("failed");
    check(store, s).await;
    let s = step("login");
    store.create_session(&new_session(1, ada.id, at(60)), &s.1, at(1)).await.expect("session");
    check(store, s).await;
    let s = step("logout");
    store.end_session(&[1; 32], &s.1, at(1)).await.expect("end");
    check(store, s).await;
    let s = step("setting.set");
    store
        .set_setting(&Setting { key: "k".into(), value: "v".into() }, &s.1, at(1))
        .await
        .expect("set");
    check(store, s).await;
    let s = step("export.refused");
    assert_eq!(store.record_action(&s.1, at(1)).await.expect("record"), s.0);
    check(store, s).await;

    let (seq, hash) = store.head().await.expect("head").expect("a chain");
    let checkpoint = key().checkpoint(seq, hash, "2024-05-02T00:00:00.000000Z".into());
    store.add_checkpoint(&checkpoint).await.expect("checkpoint");
    let report = verify_store(store).await;
    assert_eq!((report.entries, report.items, report.checkpoints), (expected, 0, 1));
}

pub(crate) async fn append_audited_is_one_transaction(b: &Backend) {
    let store = b.store.as_ref();
    let batch: Vec<Checked> = vec![
        checked(item("x", "1", "Our quarterly invoice is ready", "2024-01-01T10:00:00Z")),
        checked(item("x", "2", "This stock has guaranteed returns", "2024-02-01T10:00:00Z")),
    ];
    let prepared: Vec<lifeguard_store::Prepared> =
        batch.iter().cloned().map(lifeguard_store::Prepared::new).collect();
    let ingest = AuditRecord::new("token:t1", Some("203.0.113.9"), "items.ingest").with("items", 2);
    let report = store.append_audited(prepared.clone(), &ingest, at(0)).await.expect("append");
    assert_eq!((report.added, report.entries, report.head), (2, 5, Some(5)));
    assert_eq!(last_action(store, 5, "items.ingest").await, ingest);
    let entries = store.entries(1, 10).await.expect("entries");
    let kinds: Vec<EntryKind> = entries.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::Item,
            EntryKind::Verdict,
            EntryKind::Item,
            EntryKind::Verdict,
            EntryKind::Action
        ]
    );
    // Nothing new still records who sent it.
    let again = store.append_audited(prepared, &ingest, at(1)).await.expect("again");
    assert_eq!((again.added, again.unchanged, again.entries, again.head), (0, 2, 1, Some(6)));

    let mut bad = item("x", "3", "fine", "2024-01-01T00:00:00Z");
    bad.external_id = String::new();
    let broken: Vec<lifeguard_store::Prepared> = vec![
        lifeguard_store::Prepared::new(checked(item("x", "4", "fine", "2024-01-01T00:00:00Z"))),
        lifeguard_store::Prepared::new(checked(bad)),
    ];
    let err = store.append_audited(broken, &ingest, at(2)).await.expect_err("bad item");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(head(store).await, 6, "neither the items nor the action");
    let fine: Vec<lifeguard_store::Prepared> = vec![lifeguard_store::Prepared::new(checked(item(
        "x",
        "5",
        "fine",
        "2024-01-01T00:00:00Z",
    )))];
    let nobody = AuditRecord::new("", None, "items.ingest");
    let err = store.append_audited(fine, &nobody, at(2)).await.expect_err("bad audit");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(head(store).await, 6, "a bad audit record keeps the items out too");
    let page =
        store.search(&SearchRequest::new(Query::parse("fine").expect("q"))).await.expect("search");
    assert!(page.items.is_empty());
    let report = verify_store(store).await;
    assert_eq!((report.entries, report.items), (6, 2));
}

pub(crate) async fn search_by_audience(b: &Backend) {
    let store = b.store.as_ref();
    let mut reply = item("x", "3", "Call me tonight", "2024-03-01T10:00:00Z");
    reply.author = "sam".into();
    let mut mastodon = item("mastodon", "4", "Our café opens at nine", "2024-04-01T10:00:00Z");
    mastodon.account = "@acme@social.example".into();
    mastodon.author = "visitor".into();
    let mut other = item("x", "5", "Another account tonight", "2024-05-01T10:00:00Z");
    other.account = "@other".into();
    other.author = "lee".into();
    let batch: Vec<Checked> = vec![
        checked(item("x", "1", "Our invoice is ready", "2024-01-01T10:00:00Z")),
        checked(item("x", "2", "Guaranteed returns tonight", "2024-02-01T10:00:00Z")),
        checked(reply),
        checked(mastodon),
        checked(other),
    ];
    store.append(&batch, time("2024-06-01T00:00:00Z")).await.expect("append");
    let find = |query: &'static str, filters: Filters| async move {
        let mut request = SearchRequest::new(Query::parse(query).expect("query"));
        request.filters = filters;
        request.limit = 100;
        let page = store.search(&request).await.expect("search");
        page.items.into_iter().map(|i| i.external_id).collect::<Vec<_>>()
    };
    let seeing = |authors: &[&str], accounts: &[&str]| Filters {
        audience: Some(Audience {
            authors: authors.iter().map(|a| (*a).to_owned()).collect(),
            accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
        }),
        ..Filters::default()
    };
    assert_eq!(find("", Filters::default()).await, ["5", "4", "3", "2", "1"]);
    assert_eq!(find("", seeing(&["sam"], &[])).await, ["3"]);
    assert_eq!(find("", seeing(&["Sam"], &["@ACME@social.example"])).await, ["4", "3"]);
    assert_eq!(find("", seeing(&[], &["@acme@social.example"])).await, ["4"]);
    assert_eq!(find("", seeing(&["sam", "lee"], &["@acme@social.example"])).await, ["5", "4", "3"]);
    assert_eq!(
        find("", seeing(&["dana"], &["@other"])).await,
        ["5", "2", "1"],
        "author or account"
    );
    assert!(find("", seeing(&[], &[])).await.is_empty(), "no one to see: nothing");
    assert!(find("", seeing(&["nobody"], &[])).await.is_empty());
    assert!(find("", seeing(&["s\0m"], &[])).await.is_empty());
    assert_eq!(find("", seeing(&["s\0m", "sam"], &[])).await, ["3"]);
    assert_eq!(find("tonight", seeing(&["dana", "sam"], &[])).await, ["3", "2"]);
    let mut narrowed = seeing(&["dana"], &["@other"]);
    narrowed.has_findings = Some(true);
    assert_eq!(find("", narrowed).await, ["2"], "with the other filters");
    let mut request = SearchRequest::new(Query::default());
    let crowd: Vec<String> = (0..20_001).map(|i| format!("p{i}")).collect();
    request.filters = Filters {
        audience: Some(Audience { authors: crowd, accounts: Vec::new() }),
        ..Filters::default()
    };
    assert_eq!(store.search(&request).await.expect_err("too many").kind(), ErrorKind::Invalid);
    let mut request = SearchRequest::new(Query::default());
    let crowd: Vec<String> = (0..10_000).map(|i| format!("p{i}")).chain(["sam".into()]).collect();
    request.filters = Filters {
        audience: Some(Audience { authors: crowd, accounts: Vec::new() }),
        ..Filters::default()
    };
    let page = store.search(&request).await.expect("a large team");
    assert_eq!(page.items.len(), 1);
}

pub(crate) async fn the_audit_trail_is_append_only(b: &Backend) {
    let store = b.store.as_ref();
    store.record_action(&audit("login").on("ada"), at(0)).await.expect("record");
    store.record_action(&audit("logout").on("ada"), at(1)).await.expect("record");
    let mut refused = vec![
        "UPDATE actions SET actor = 'someone else' WHERE seq = 1",
        "UPDATE actions SET recorded_at = 0",
        "DELETE FROM actions WHERE seq = 2",
        "DELETE FROM actions",
        "DELETE FROM entries WHERE seq = 2",
    ];
    if b.name() == "postgres" {
        refused.push("TRUNCATE actions");
    }
    for sql in refused {
        let err = b.exec(sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{}: {sql}: {err}", b.name());
    }
    let trail = store
        .audit_trail(&AuditFilter { limit: 10, ..AuditFilter::default() })
        .await
        .expect("trail");
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[1].record.actor, "root");
    verify_store(store).await;
}

pub(crate) async fn altered_audit_trail_is_caught(b: &Backend) {
    let store = b.store.as_ref();
    let batch = vec![checked(item("x", "1", "hello", "2024-01-01T00:00:00Z"))];
    store.append(&batch, time("2024-01-02T00:00:00Z")).await.expect("append");
    for (n, action) in ["login", "token.create", "logout"].into_iter().enumerate() {
        let minute = i64::try_from(n).expect("small");
        store.record_action(&audit(action).on("ada"), at(minute)).await.expect("record");
    }
    assert_eq!(verify_store(store).await.entries, 5);
    b.drop_guards().await;

    // A row renamed to hide an action from a filter.
    b.exec("UPDATE actions SET actor = 'nobody' WHERE seq = 4").await.expect("tamper");
    let all = AuditFilter { limit: 10, ..AuditFilter::default() };
    let err = store.audit_trail(&all).await.expect_err("a lying row");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    let err =
        verify(store, Some(&key().verifying_key()), &mut |_, _| {}).await.expect_err("caught");
    assert!(err.to_string().contains("entry 4: the audit trail's `actor` differs"), "{err}");
    b.exec("UPDATE actions SET actor = 'root' WHERE seq = 4").await.expect("put back");
    verify_store(store).await;

    // A row removed, so the action would never be listed.
    b.exec("DELETE FROM actions WHERE seq = 5").await.expect("tamper");
    let err =
        verify(store, Some(&key().verifying_key()), &mut |_, _| {}).await.expect_err("caught");
    assert!(
        matches!(&err, lifeguard_store::VerifyError::Projection { seq: 5, message }
            if message.contains("no row in the audit trail")),
        "{err}"
    );

    // A row for an entry that is not an action.
    b.exec("INSERT INTO actions (seq, recorded_at, actor, action) VALUES (2, 0, 'x', 'y')")
        .await
        .expect("tamper");
    let err =
        verify(store, Some(&key().verifying_key()), &mut |_, _| {}).await.expect_err("caught");
    assert!(err.to_string().contains("entry 2"), "{err}");
    b.exec("DELETE FROM actions WHERE seq = 2").await.expect("put back");

    // A row put back with other words.
    b.exec("INSERT INTO actions (seq, recorded_at, actor, action) VALUES (5, 0, 'root', 'y')")
        .await
        .expect("put back, wrongly");
    let err =
        verify(store, Some(&key().verifying_key()), &mut |_, _| {}).await.expect_err("caught");
    assert!(err.to_string().contains("entry 5: the audit trail's `action` differs"), "{err}");
}

pub(crate) async fn verify_runs_while_actions_are_written(b: &Backend) {
    let store = b.store.as_ref();
    let writing = async {
        for i in 0..80 {
            store.record_action(&audit("login").with("i", i), at(i)).await.expect("record");
            if i % 8 == 0 {
                let batch = vec![checked(item("x", &i.to_string(), "hi", "2024-01-01T00:00:00Z"))];
                store.append(&batch, at(i)).await.expect("append");
            }
        }
    };
    let verifying = async {
        for _ in 0..20 {
            verify(store, Some(&key().verifying_key()), &mut |_, _| {})
                .await
                .expect("verifies while being written");
        }
    };
    tokio::join!(writing, verifying);
    assert_eq!(verify_store(store).await.entries, 80 + 2 * 10);
}

/// Audited appends made at once (the server's concurrent ingest requests, which SQLite writes
/// as one group commit) each get their own report and audit entry, and repeats within the
/// group are recognized as repeats.
pub(crate) async fn concurrent_audited_appends_each_get_their_report(b: &Backend) {
    let store = b.store.as_ref();
    let batch = |writer: usize| -> Vec<lifeguard_store::Prepared> {
        (0..30)
            .map(|i| {
                // Writers 0 and 1 send the same items: one adds them, the other finds them.
                let id = format!("{}-{i}", writer.max(1));
                lifeguard_store::Prepared::new(checked(item(
                    "x",
                    &id,
                    "sent at once",
                    "2024-01-01T00:00:00Z",
                )))
            })
            .collect()
    };
    let batches: Vec<_> = (0..6).map(batch).collect();
    let reports = std::sync::Mutex::new(Vec::new());
    let calls = batches.iter().enumerate().map(|(writer, prepared)| {
        let reports = &reports;
        async move {
            let audit =
                AuditRecord::new("ingest", None, "items.ingest").on(format!("writer-{writer}"));
            let report =
                store.append_audited(prepared.clone(), &audit, at(0)).await.expect("append");
            reports.lock().expect("reports").push(report);
        }
    });
    crate::cases::futures_join(calls).await;
    let reports = reports.into_inner().expect("reports");
    let added: u64 = reports.iter().map(|r| r.added).sum();
    let unchanged: u64 = reports.iter().map(|r| r.unchanged).sum();
    assert_eq!((added, unchanged), (150, 30), "{reports:?}");
    for report in &reports {
        assert_eq!(report.added + report.unchanged, 30);
        assert_eq!(report.entries, report.added * 2 + 1);
    }
    let filter =
        AuditFilter { action: Some("items.ingest".into()), limit: 100, ..AuditFilter::default() };
    let trail = store.audit_trail(&filter).await.expect("trail");
    let mut targets: Vec<_> = trail.iter().filter_map(|e| e.record.target.clone()).collect();
    targets.sort();
    assert_eq!(targets, (0..6).map(|w| format!("writer-{w}")).collect::<Vec<_>>());
    let report = verify_store(store).await;
    assert_eq!((report.entries, report.items), (150 * 2 + 6, 150));
}
