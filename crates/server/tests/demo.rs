//! The demo organization: every role, a hierarchy of managers, accounts, a few hundred items of
//! which a good share are flagged, all written once and the same for the same time.

use std::collections::BTreeSet;
use std::path::Path;

use jiff::Timestamp;
use lifeguard_core::access::Role;
use lifeguard_core::archive::Query;
use lifeguard_server::{ServedPolicy, demo};
use lifeguard_store::{Audience, Filters, ItemSummary, Location, MAX_LIMIT, SearchRequest, Store};

fn now() -> Timestamp {
    "2026-03-02T12:34:56.789Z".parse().expect("a time")
}

async fn open(dir: &Path) -> Box<dyn Store> {
    lifeguard_store::open(&Location::DataDir(dir.to_owned())).await.expect("open the archive")
}

/// Every item the filters allow (the demo has fewer than one page's worth).
async fn items(store: &dyn Store, filters: Filters) -> Vec<ItemSummary> {
    let request =
        SearchRequest { query: Query::default(), filters, limit: MAX_LIMIT, cursor: None };
    let page = store.search(&request).await.expect("search");
    assert!(page.items.len() < MAX_LIMIT as usize, "one page holds it all");
    page.items
}

async fn person(store: &dyn Store, login: &str) -> lifeguard_store::Person {
    store
        .person_by_login(login)
        .await
        .expect("read a person")
        .unwrap_or_else(|| panic!("no demo person `{login}`"))
}

#[tokio::test]
async fn the_demo_has_every_role_a_hierarchy_accounts_and_flagged_items() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open(dir.path()).await;
    let store = store.as_ref();
    let policy = ServedPolicy::builtin();
    let report = demo::seed(store, &policy, now()).await.expect("seed the demo");
    assert!(report.people >= 16, "{report:?}");
    assert!(report.accounts >= 10, "{report:?}");
    assert!((300..=400).contains(&report.items), "{report:?}");

    // Every printed login signs in with the printed password, with its role.
    for (login, role) in demo::DEMO_LOGINS {
        let person = person(store, login).await;
        assert_eq!(person.role, role, "{login}");
        assert!(person.active, "{login}");
        assert!(store.password_hash(person.id).await.expect("hash").is_some(), "{login}");
    }
    let eve = person(store, "eve").await;
    let hash = store.password_hash(eve.id).await.expect("hash").expect("eve has a password");
    let verified = tokio::task::spawn_blocking(move || {
        lifeguard_server::auth::verify_password(&hash, demo::DEMO_PASSWORD)
    })
    .await
    .expect("hashing thread");
    assert!(verified, "eve signs in with the demo password");
    assert_eq!(person(store, "rey").await.area.as_deref(), Some("legal"));

    // Managers form a hierarchy at least three levels deep: eve → sam → sam's manager.
    let people = store.people().await.expect("people");
    let ids: BTreeSet<i64> = people.iter().map(|p| p.id).collect();
    assert!(people.iter().filter_map(|p| p.manager).all(|m| ids.contains(&m)));
    let sam = person(store, "sam").await;
    assert_eq!(sam.role, Role::Supervisor);
    assert_eq!(eve.manager, Some(sam.id), "eve reports to sam");
    let top = sam.manager.expect("sam has a manager");
    let team: Vec<String> =
        store.team(top).await.expect("team").into_iter().map(|p| p.login).collect();
    assert!(team.contains(&"sam".to_owned()) && team.contains(&"eve".to_owned()), "{team:?}");
    let sams: Vec<String> =
        store.team(sam.id).await.expect("team").into_iter().map(|p| p.login).collect();
    assert!(sams.len() >= 3, "sam supervises a team: {sams:?}");
    let departments = store.departments().await.expect("departments");
    assert!(departments.len() >= 6, "{departments:?}");
    assert!(people.iter().all(|p| p.department.is_some()));

    // Accounts on every platform; eve and everyone in sam's team own one.
    let accounts = store.accounts().await.expect("accounts");
    let platforms: BTreeSet<&str> = accounts.iter().map(|a| a.platform.as_str()).collect();
    for platform in ["x", "mastodon", "linkedin", "instagram", "facebook"] {
        assert!(platforms.contains(platform), "no {platform} account");
    }
    for login in sams.iter().chain(["eve".to_owned()].iter()) {
        let id = person(store, login).await.id;
        assert!(accounts.iter().any(|a| a.owner == Some(id)), "{login} owns no account");
    }

    // The archive holds what was reported, with findings of many categories.
    let stats = store.stats().await.expect("stats");
    assert_eq!(stats.items, report.items);
    for category in [
        "personal_data",
        "secrets",
        "offensive",
        "disclosure",
        "links",
        "confidential",
        "recommendation",
        "approval",
    ] {
        let found =
            items(store, Filters { category: Some(category.to_owned()), ..Filters::default() })
                .await;
        assert!(!found.is_empty(), "no item with a finding of category {category}");
    }
    let flagged = items(store, Filters { has_findings: Some(true), ..Filters::default() }).await;
    let clean = items(store, Filters { has_findings: Some(false), ..Filters::default() }).await;
    assert!(flagged.len() >= 30, "{} flagged", flagged.len());
    assert!(clean.len() > 4 * flagged.len(), "{} clean, {} flagged", clean.len(), flagged.len());
    let all = items(store, Filters::default()).await;
    for change in ["original", "edit", "deletion"] {
        assert!(all.iter().any(|i| i.change == change), "no {change}");
    }
    for author_type in ["employee", "corporate", "third_party"] {
        assert!(all.iter().any(|i| i.author_type == author_type), "no {author_type} item");
    }

    // Supervisors see their team's items; employees see their own, flagged ones included.
    let audience = |person: lifeguard_store::Person| async move {
        lifeguard_server::access::audience(store, &person)
            .await
            .expect("audience")
            .expect("supervisors and employees see a part of the archive")
    };
    let seen = |audience: Audience| async move {
        items(store, Filters { audience: Some(audience), ..Filters::default() }).await
    };
    let sam_sees = seen(audience(sam.clone()).await).await;
    let authors: BTreeSet<&str> = sam_sees.iter().map(|i| i.author.as_str()).collect();
    for login in ["eve", "leo", "priya"] {
        assert!(authors.contains(login), "sam sees nothing of {login}: {authors:?}");
    }
    assert!(!authors.contains("jin"), "sam sees engineering's items: {authors:?}");
    let eve_sees = seen(audience(eve.clone()).await).await;
    assert!(eve_sees.iter().any(|i| i.author == "eve" && i.findings > 0), "eve has flagged items");
    assert!(eve_sees.iter().any(|i| i.author_type == "third_party"), "replies on eve's accounts");

    // Seeding again adds nothing.
    let again = demo::seed(store, &policy, Timestamp::now()).await.expect("seed again");
    assert_eq!(again, demo::DemoReport::default());
    assert_eq!(store.stats().await.expect("stats"), stats);
    assert_eq!(store.people().await.expect("people").len(), people.len());

    // And the chain verifies.
    let key = lifeguard_store::load_or_create_key(dir.path()).expect("signing key");
    let verified = lifeguard_store::verify(store, Some(&key.verifying_key()), &mut |_, _| {})
        .await
        .expect("the demo archive verifies");
    assert_eq!(verified.items, report.items);
}

#[tokio::test]
async fn the_same_time_seeds_the_same_items() {
    let policy = ServedPolicy::builtin();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = open(dir.path()).await;
        demo::seed(store.as_ref(), &policy, now()).await.expect("seed the demo");
        let summary: Vec<_> = items(store.as_ref(), Filters::default())
            .await
            .into_iter()
            .map(|i| (i.platform, i.external_id, i.author, i.change, i.text, i.action, i.findings))
            .collect();
        runs.push(summary);
    }
    assert_eq!(runs[0], runs[1]);
}
