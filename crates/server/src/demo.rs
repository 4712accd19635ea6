//! The demo organization `lifeguard demo` starts with: departments, people with managers and
//! every role, accounts on several platforms, and a few hundred archived items written for the
//! demo, each checked by the policy on the way in.
//!
//! Everything here is made up for the demo: the company (Acme, as in the built-in policy), its
//! people, its accounts and every post. The items come from templates filled in by a seeded
//! arithmetic sequence, so the same `now` always gives the same archive.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use lifeguard_core::access::Role;
use lifeguard_core::archive::{AuditRecord, Change, Item};
use lifeguard_core::{AuthorType, ContentKind};
use lifeguard_store::{
    Checked, Department, ErrorKind, NewAccount, NewPerson, Prepared, Store, StoreError,
};

use crate::state::ServedPolicy;

/// Every demo person's password. The demo is for trying Lifeguard on one's own machine; the
/// server prints it at start.
pub const DEMO_PASSWORD: &str = "lifeguard-demo";

/// One sign-in per role, as printed at start: (login, role).
pub const DEMO_LOGINS: [(&str, Role); 6] = [
    ("ada", Role::Admin),
    ("cora", Role::Compliance),
    ("sam", Role::Supervisor),
    ("rey", Role::Reviewer),
    ("eve", Role::Employee),
    ("otto", Role::Auditor),
];

/// What [`seed`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemoReport {
    /// People added.
    pub people: usize,
    /// Accounts added.
    pub accounts: usize,
    /// Items archived.
    pub items: u64,
}

/// Who the audit trail says did the seeding.
const ACTOR: &str = "system";

/// Items per transaction: a few transactions rather than one per item (each commit waits for
/// the disk) or one for all (the demo should show batches in the audit trail).
const BATCH: usize = 100;

/// How far back the demo's items go.
const DAYS: i64 = 45;

/// Writes the demo organization into an empty directory and archive; does nothing if people
/// already exist (so restarting the demo keeps what was done in it).
pub async fn seed(
    store: &dyn Store,
    policy: &ServedPolicy,
    now: Timestamp,
) -> Result<DemoReport, StoreError> {
    if !store.people().await?.is_empty() {
        return Ok(DemoReport::default());
    }
    let mut report = DemoReport::default();
    for (id, name) in DEPARTMENTS {
        let department = Department { id: (*id).to_owned(), name: (*name).to_owned() };
        let audit =
            AuditRecord::new(ACTOR, None, "department.create").on(*id).with("source", "demo");
        store.put_department(&department, &audit, now).await?;
    }

    // Argon2 is slow on purpose: one hash, shared by every demo person, keeps the seeding (and
    // every test that starts from the demo) quick.
    let password_hash = crate::auth::hash_password_blocking(DEMO_PASSWORD.to_owned())
        .await
        .map_err(|err| failure(format!("hashing the demo password: {}", err.message)))?;
    let mut ids: HashMap<&str, i64> = HashMap::new();
    for person in PEOPLE {
        let manager = match person.manager {
            Some(login) => Some(id_of(&ids, login)?),
            None => None,
        };
        let new = NewPerson {
            login: person.login.to_owned(),
            name: person.name.to_owned(),
            email: person.email.to_owned(),
            department: Some(person.department.to_owned()),
            manager,
            role: person.role,
            area: person.area.map(str::to_owned),
            password_hash: Some(password_hash.clone()),
        };
        let audit = AuditRecord::new(ACTOR, None, "person.create")
            .on(person.login)
            .with("role", person.role.name())
            .with("source", "demo");
        let created = store.create_person(&new, &audit, now).await?;
        ids.insert(person.login, created.id);
        report.people += 1;
    }

    for account in ACCOUNTS {
        let new = NewAccount {
            platform: account.platform.to_owned(),
            handle: account.handle.to_owned(),
            name: account.name.to_owned(),
            owner: Some(id_of(&ids, account.owner)?),
            department: account.department.map(str::to_owned),
        };
        let audit = AuditRecord::new(ACTOR, None, "account.create")
            .on(format!("{}:{}", account.platform, account.handle))
            .with("source", "demo");
        store.create_account(&new, &audit, now).await?;
        report.accounts += 1;
    }

    let prepared: Vec<Prepared> = demo_items(now)
        .into_iter()
        .map(|planned| Prepared::new(Checked::new(&policy.engine, planned.item)))
        .collect();
    let batches = prepared.len().div_ceil(BATCH);
    for (n, batch) in prepared.chunks(BATCH).enumerate() {
        let audit = AuditRecord::new(ACTOR, None, "demo.seed")
            .with("batch", n + 1)
            .with("batches", batches)
            .with("items", batch.len());
        let appended = store.append_audited(batch.to_vec(), &audit, now).await?;
        report.items += appended.added;
    }
    Ok(report)
}

fn failure(message: String) -> StoreError {
    StoreError::new(ErrorKind::Database, message)
}

fn id_of(ids: &HashMap<&str, i64>, login: &str) -> Result<i64, StoreError> {
    ids.get(login).copied().ok_or_else(|| {
        StoreError::new(ErrorKind::Invalid, format!("demo: `{login}` is not a demo person"))
    })
}

// ---------------------------------------------------------------------------------------------
// The organization.

const DEPARTMENTS: &[(&str, &str)] = &[
    ("communications", "Communications"),
    ("marketing", "Marketing"),
    ("engineering", "Engineering"),
    ("support", "Customer support"),
    ("sales", "Sales"),
    ("legal", "Legal"),
    ("compliance", "Compliance"),
];

struct DemoPerson {
    login: &'static str,
    name: &'static str,
    email: &'static str,
    department: &'static str,
    /// Listed before the people who report to them.
    manager: Option<&'static str>,
    role: Role,
    area: Option<&'static str>,
}

const fn person(
    login: &'static str,
    name: &'static str,
    email: &'static str,
    department: &'static str,
    manager: Option<&'static str>,
    role: Role,
) -> DemoPerson {
    DemoPerson { login, name, email, department, manager, role, area: None }
}

/// Three levels where it matters for supervision: Nadia heads communications, Sam (marketing)
/// reports to her, and Eve, Leo and Priya report to Sam; engineering is Marek, then Jin, then
/// Ola and Farah.
const PEOPLE: &[DemoPerson] = &[
    person(
        "nadia",
        "Nadia Holm",
        "nadia.holm@example.com",
        "communications",
        None,
        Role::Supervisor,
    ),
    person(
        "marek",
        "Marek Novak",
        "marek.novak@example.com",
        "engineering",
        None,
        Role::Supervisor,
    ),
    person(
        "grace",
        "Grace Adeyemi",
        "grace.adeyemi@example.com",
        "support",
        None,
        Role::Supervisor,
    ),
    person("mira", "Mira Solberg", "mira.solberg@example.com", "sales", None, Role::Supervisor),
    person(
        "cora",
        "Cora Bellamy",
        "cora.bellamy@example.com",
        "compliance",
        None,
        Role::Compliance,
    ),
    person(
        "ada",
        "Ada Lindqvist",
        "ada.lindqvist@example.com",
        "engineering",
        Some("marek"),
        Role::Admin,
    ),
    person(
        "otto",
        "Otto Lindgren",
        "otto.lindgren@example.com",
        "compliance",
        Some("cora"),
        Role::Auditor,
    ),
    DemoPerson {
        area: Some("legal"),
        ..person("rey", "Rey Castillo", "rey.castillo@example.com", "legal", None, Role::Reviewer)
    },
    DemoPerson {
        area: Some("privacy"),
        ..person(
            "iris",
            "Iris Bergström",
            "iris.bergstrom@example.com",
            "compliance",
            Some("cora"),
            Role::Reviewer,
        )
    },
    person(
        "sam",
        "Sam Whitfield",
        "sam.whitfield@example.com",
        "marketing",
        Some("nadia"),
        Role::Supervisor,
    ),
    person(
        "tomas",
        "Tomás Rivera",
        "tomas.rivera@example.com",
        "communications",
        Some("nadia"),
        Role::Employee,
    ),
    person(
        "eve",
        "Eve Marchetti",
        "eve.marchetti@example.com",
        "marketing",
        Some("sam"),
        Role::Employee,
    ),
    person("leo", "Leo Brandt", "leo.brandt@example.com", "marketing", Some("sam"), Role::Employee),
    person(
        "priya",
        "Priya Raman",
        "priya.raman@example.com",
        "marketing",
        Some("sam"),
        Role::Employee,
    ),
    person(
        "jin",
        "Jin Park",
        "jin.park@example.com",
        "engineering",
        Some("marek"),
        Role::Supervisor,
    ),
    person(
        "ola",
        "Ola Nilsen",
        "ola.nilsen@example.com",
        "engineering",
        Some("jin"),
        Role::Employee,
    ),
    person(
        "farah",
        "Farah Haddad",
        "farah.haddad@example.com",
        "engineering",
        Some("jin"),
        Role::Employee,
    ),
    person(
        "dan",
        "Dan Kowalski",
        "dan.kowalski@example.com",
        "support",
        Some("grace"),
        Role::Employee,
    ),
    person(
        "lucia",
        "Lucía Romero",
        "lucia.romero@example.com",
        "support",
        Some("grace"),
        Role::Employee,
    ),
    person("ben", "Ben Achebe", "ben.achebe@example.com", "sales", Some("mira"), Role::Employee),
];

struct DemoAccount {
    platform: &'static str,
    handle: &'static str,
    name: &'static str,
    owner: &'static str,
    /// The department a corporate account speaks for; `None` for a person's own account.
    department: Option<&'static str>,
    /// Who writes from it: the owner for a person's own account, the team for a corporate one.
    posters: &'static [&'static str],
}

impl DemoAccount {
    fn corporate(&self) -> bool {
        self.department.is_some()
    }
}

const fn own(
    platform: &'static str,
    handle: &'static str,
    name: &'static str,
    owner: &'static [&'static str; 1],
) -> DemoAccount {
    DemoAccount { platform, handle, name, owner: owner[0], department: None, posters: owner }
}

const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        platform: "x",
        handle: "acme",
        name: "Acme",
        owner: "nadia",
        department: Some("communications"),
        posters: &["nadia", "tomas"],
    },
    DemoAccount {
        platform: "mastodon",
        handle: "acme@social.example",
        name: "Acme",
        owner: "nadia",
        department: Some("communications"),
        posters: &["tomas"],
    },
    DemoAccount {
        platform: "linkedin",
        handle: "acme-inc",
        name: "Acme Inc.",
        owner: "nadia",
        department: Some("communications"),
        posters: &["nadia", "tomas", "sam"],
    },
    DemoAccount {
        platform: "facebook",
        handle: "AcmeHQ",
        name: "Acme",
        owner: "nadia",
        department: Some("communications"),
        posters: &["tomas"],
    },
    DemoAccount {
        platform: "instagram",
        handle: "acme.studio",
        name: "Acme Studio",
        owner: "sam",
        department: Some("marketing"),
        posters: &["priya", "leo"],
    },
    DemoAccount {
        platform: "x",
        handle: "acme_support",
        name: "Acme Support",
        owner: "grace",
        department: Some("support"),
        posters: &["grace", "dan", "lucia"],
    },
    DemoAccount {
        platform: "mastodon",
        handle: "acme_eng@social.example",
        name: "Acme Engineering",
        owner: "marek",
        department: Some("engineering"),
        posters: &["jin", "farah", "ola"],
    },
    own("x", "eve_marchetti", "Eve Marchetti", &["eve"]),
    own("instagram", "eve.outdoors", "Eve outdoors", &["eve"]),
    own("linkedin", "leo-brandt", "Leo Brandt", &["leo"]),
    own("x", "leobrandt", "Leo Brandt", &["leo"]),
    own("instagram", "priya.draws", "Priya Raman", &["priya"]),
    own("linkedin", "sam-whitfield", "Sam Whitfield", &["sam"]),
    own("linkedin", "tomas-rivera", "Tomás Rivera", &["tomas"]),
    own("mastodon", "jin@social.example", "Jin Park", &["jin"]),
    own("x", "farah_builds", "Farah Haddad", &["farah"]),
    own("mastodon", "ola@social.example", "Ola Nilsen", &["ola"]),
    own("facebook", "dan.kowalski", "Dan Kowalski", &["dan"]),
    own("instagram", "lucia.romero", "Lucía Romero", &["lucia"]),
    own("linkedin", "ben-achebe", "Ben Achebe", &["ben"]),
    own("linkedin", "mira-solberg", "Mira Solberg", &["mira"]),
];

/// Who writes on their own accounts, Eve twice as often so her own view is not empty.
const EMPLOYEE_AUTHORS: &[&str] = &[
    "eve", "leo", "priya", "eve", "farah", "ola", "dan", "tomas", "lucia", "ben", "sam", "jin",
    "mira",
];

/// People outside Acme who reply on its pages.
const THIRD_PARTIES: &[&str] = &[
    "river_kwan",
    "m_osei",
    "bytebaker",
    "tallulah.j",
    "northpaw",
    "quietloop",
    "harbourlights",
    "dev_ines",
    "kofi.writes",
    "jb_makes",
    "saltmarsh_sue",
    "pixelfern",
];

// ---------------------------------------------------------------------------------------------
// The words. Placeholders: {product} {feature} {city} {event} {gadget} {n} {big} {third} {mail}.

const PRODUCTS: &[&str] = &["Acme Desk", "Acme Flow", "Acme Beacon", "Acme Cloud", "Acme Pulse"];
const FEATURES: &[&str] = &[
    "offline mode",
    "dark mode",
    "shared calendars",
    "audit exports",
    "single sign-on",
    "bulk import",
    "keyboard shortcuts",
    "faster search",
    "recurring tasks",
];
const CITIES: &[&str] =
    &["Lisbon", "Leeds", "Toronto", "Austin", "Utrecht", "Kraków", "Melbourne", "Nairobi"];
const EVENTS: &[&str] = &[
    "BuildConf",
    "the Northern Makers Meetup",
    "DevDays Utrecht",
    "the Acme Customer Summit",
    "Design Week Lisbon",
];
const GADGETS: &[&str] = &["headphones", "desk lamp", "backpack", "water bottle", "keyboard"];

const CORPORATE_POSTS: &[&str] = &[
    "{product} now supports {feature}. Update today and tell us what you think: https://acme.example/blog",
    "We're hiring in {city}: engineers, designers and support specialists. Open roles at https://acme.example/careers",
    "This week our {city} office hosted {n} students for a coding workshop. Thank you for all the great questions!",
    "Scheduled maintenance for {product} on Sunday from 02:00 to 04:00 UTC. Live updates at https://status.acme.example",
    "Meet us at {event}: stand 14, with live demos of {product} every hour.",
    "Tip of the week: press the question mark key in {product} to see every keyboard shortcut.",
    "Thanks to everyone who joined yesterday's webinar on {feature}. The recording is up at https://acme.example/webinars",
    "Happy Friday from the {city} team! ☀️",
    "New guide: five ways to get more out of {feature} in {product}. https://acme.example/guides",
    "Customer story: how a {n}-person design studio in {city} plans its week with {product}.",
    "Our volunteers planted {big} trees along the river in {city} last weekend. Thank you to everyone who brought a shovel!",
    "Resolved: some {product} users in Europe saw slow sync this morning. Thanks for your patience while we fixed it.",
    "Behind the scenes at our {city} studio, where the next version of {product} is taking shape 📸",
    "Join our free community workshop on {feature} next Thursday in {city}. Seats are limited: https://acme.example/events",
    "Accessibility matters: {product} now works with every major screen reader. Tell us where we can do better.",
    "Ten years of Acme in {city}! Cake in the lobby at three, everyone welcome 🎂",
    "Your feedback shaped this one: {feature} lands in {product} today.",
    "Our team will be speaking about {feature} at {event}. Come say hello after the talk.",
];

const EMPLOYEE_POSTS: &[&str] = &[
    "First month at Acme done! Huge thanks to the {city} team for the warm welcome.",
    "Spent the afternoon pairing on {feature} for {product}. Can't wait for you all to try it.",
    "Proud of our team's talk at {event} today. Slides are at https://acme.example/talks",
    "Ran 10k before work this morning. Slowly getting there 🏃",
    "Weekend reading: three books on product design. Recommendations welcome!",
    "Our volunteering day at the {city} food bank was the best day of the quarter.",
    "Good documentation is a feature. That's the post.",
    "Working from the {city} office this week, say hi if you're around!",
    "Tried {feature} in {product} on a real project today. Very smooth.",
    "Coffee, a whiteboard and a hard problem. Good Tuesday.",
    "Mentoring two interns this summer and learning as much as they are.",
    "Gardening update: the tomatoes survived the heatwave 🍅",
    "Heading to {event} next week. Who else is going?",
    "Note to self: write the tests first. Every time.",
    "Sunset over {city} after a long day of user interviews. Worth it.",
    "Three years at Acme today. Still learning something new every week.",
];

const REPOSTS: &[&str] = &[
    "Proud of the team behind this one 👇",
    "This was months of work. Go try it!",
    "Great write-up from our comms team.",
    "Sharing because I worked on it 😊",
];

/// What people outside ask or say on our pages, and how the account answers when it does.
const THIRD_PARTY_REPLIES: &[(&str, &str)] = &[
    ("Love the new {feature}! Been waiting for this one.", "Glad to hear it, {third}! 💙"),
    (
        "Does {product} work offline yet?",
        "Not yet, {third}, but it's on our roadmap: https://acme.example/roadmap",
    ),
    (
        "Any chance of a meetup in {city} this year?",
        "We'd love that too. Keep an eye on https://acme.example/events",
    ),
    (
        "Thanks for the quick fix, your support team was great.",
        "Thanks for the kind words, {third}. We'll share them with the team.",
    ),
    (
        "Is there a student discount for {product}?",
        "There is! Students get {product} free for a year: https://acme.example/students",
    ),
    (
        "Since the last update my sync is stuck at 99%. Anyone else?",
        "Sorry about that, {third}. Please write to support@acme.example and we'll sort it out.",
    ),
    ("Congrats to the whole team 🎉", "Thank you, {third}! 🎉"),
    (
        "How do I export my data from {product}?",
        "Settings, then Data, then Export. The full guide is at https://acme.example/help/export",
    ),
    (
        "Will {feature} come to the mobile app too?",
        "It's on the way, {third}. We'll post here when it lands.",
    ),
    ("Great talk at {event} yesterday!", "Thanks for coming, {third}!"),
    (
        "Switched my whole team to {product} last month and we're not going back.",
        "Welcome aboard, {third}! Tell us how it goes.",
    ),
    (
        "Is the {city} office open to visitors?",
        "Only for events, {third}. The next one in {city} is listed at https://acme.example/events",
    ),
    (
        "The help page at https://acme.example/help answered my question, thanks!",
        "Glad it helped! 💙",
    ),
    ("Still waiting for dark mode on Android 🙏", "Soon, {third}! It's in testing right now."),
];

/// What clean posts sometimes get when their author edits them.
const CORRECTIONS: &[&str] = &[
    "Edit: Thursday, not Wednesday!",
    "Edit: fixed the link.",
    "Edit: thanks for all the replies, I'll answer everyone tomorrow.",
    "Edit: typo.",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// An employee on one of their own accounts.
    Employee,
    /// Someone on a corporate account.
    Corporate,
    /// Someone outside, replying on a corporate account.
    ThirdParty,
}

#[derive(Debug, Clone, Copy)]
enum Then {
    /// Left as it is.
    Stays,
    /// Edited by its author into this text, which triggers these rules.
    Edit(&'static str, &'static [&'static str]),
    /// Deleted on the platform.
    Delete,
}

/// A post that the built-in policy stops, and what its author does about it afterwards.
struct Problem {
    who: Who,
    kind: ContentKind,
    text: &'static str,
    /// The rules it triggers.
    expect: &'static [&'static str],
    then: Then,
}

const fn problem(who: Who, text: &'static str, expect: &'static [&'static str]) -> Problem {
    Problem { who, kind: ContentKind::Post, text, expect, then: Then::Stays }
}

const PROBLEMS: &[Problem] = &[
    Problem {
        then: Then::Edit(
            "#ad Loving my gifted {gadget} from Brightloom, it goes everywhere with me now!",
            &[],
        ),
        ..problem(
            Who::Employee,
            "Loving my gifted {gadget} from Brightloom, it goes everywhere with me now!",
            &["DISC-ENDORSE"],
        )
    },
    problem(
        Who::ThirdParty,
        "Your app billed my card 4111 1111 1111 1111 two times this month. Refund please!",
        &["THIRD-PD"],
    ),
    Problem {
        then: Then::Edit(
            "Acme Ledger savers: see how savings pots work at https://acme.example/ledger",
            &[],
        ),
        ..problem(
            Who::Corporate,
            "Acme Ledger savers: guaranteed returns of 8% a year on every savings pot!",
            &["REC-GUARANTEE"],
        )
    },
    Problem {
        then: Then::Edit("Anyone going to {event}? Send me a message here and let's meet up", &[]),
        ..problem(
            Who::Employee,
            "Anyone going to {event}? Email me at {mail} and let's meet up",
            &["PD-CONTACT"],
        )
    },
    problem(
        Who::ThirdParty,
        "Free followers for your page: bit.ly/grow-fast-now",
        &["LINK-HIDDEN", "THIRD-LINKS"],
    ),
    Problem {
        then: Then::Delete,
        ..problem(
            Who::Employee,
            "Can someone cover my lunch order? Card is 4111 1111 1111 1111, I'll pay you back tomorrow",
            &["PD-CARD"],
        )
    },
    problem(
        Who::Employee,
        "Unboxing day! #gifted by the lovely people at Brightloom, this {gadget} is a game changer for my home office #wfh #setup",
        &["DISC-ENDORSE"],
    ),
    Problem {
        then: Then::Delete,
        ..problem(
            Who::Employee,
            // An access key made up for the demo, in pieces so that secret scanners run on
            // this repository do not take it for a real one.
            concat!(
                "Quick fix for the staging demo: set ACME_KEY=",
                "AKIA",
                "Z3DEMOKEY7LG2Q9X and restart"
            ),
            &["SEC-CREDENTIALS"],
        )
    },
    problem(Who::ThirdParty, "What the fuck, my order is three weeks late", &["OFF-PROFANITY"]),
    problem(Who::Employee, "Honestly this release is a total sh1t show", &["OFF-PROFANITY"]),
    Problem {
        kind: ContentKind::Bio,
        ..problem(
            Who::Corporate,
            "Acme: tools for teams that build. Support replies 9 to 5, Monday to Friday.",
            &["APPROVAL-STATIC"],
        )
    },
    problem(Who::Employee, "Damn, the train is late again. Third time this week.", &["OFF-MILD"]),
    Problem {
        then: Then::Delete,
        ..problem(
            Who::Employee,
            "Selling two spare tickets for {event}, call me on (415) 555-0148 after six",
            &["PD-CONTACT"],
        )
    },
    problem(
        Who::ThirdParty,
        "I've been waiting for days, call me back on (212) 555-0199",
        &["THIRD-PD"],
    ),
    Problem {
        then: Then::Edit(
            "Our field notes from {event}, all in one place: https://acme.example/field-notes",
            &[],
        ),
        ..problem(
            Who::Employee,
            "Our field notes from {event}, all in one place: bit.ly/acme-field-notes",
            &["LINK-HIDDEN"],
        )
    },
    problem(
        Who::Employee,
        "Word in the hallway is that bookings hit $12.4M this quarter 👀",
        &["CONF-FIGURES"],
    ),
    problem(
        Who::Corporate,
        "A risk-free way to grow your team's savings with Acme Ledger",
        &["REC-HYPE"],
    ),
    problem(
        Who::Employee,
        "Can't share details, it's under NDA, but the next {product} release is huge",
        &["CONF-MARKING"],
    ),
    problem(
        Who::ThirdParty,
        "Best prices on refurbished laptops at https://cheap-laptops.example/deals",
        &["THIRD-LINKS"],
    ),
    Problem {
        then: Then::Delete,
        ..problem(
            Who::Employee,
            "Sneak peek at Project KESTREL, coming soon to a screen near you",
            &["CONF-CODENAME"],
        )
    },
    problem(
        Who::Employee,
        "Rumour has it there's a hiring freeze coming in engineering",
        &["CONF-EVENTS"],
    ),
    problem(Who::ThirdParty, "Your support agents are useless idiots", &["OFF-INSULT"]),
    problem(Who::Employee, "Whoever designed this parking garage is an idiot", &["OFF-INSULT"]),
    Problem {
        kind: ContentKind::Pinned,
        ..problem(
            Who::Corporate,
            "Welcome to Acme's official account! New here? Start with https://acme.example/start",
            &["APPROVAL-STATIC"],
        )
    },
    problem(
        Who::Employee,
        "For anyone on the {product} beta: test login is demo, password: Tulip!Harbor7",
        &["SEC-CREDENTIALS"],
    ),
    problem(
        Who::ThirdParty,
        "My ticket is still open, reach me at river.k@mailbox.example",
        &["THIRD-PD"],
    ),
    problem(
        Who::Employee,
        "build07.corp.acme.example is down again, anyone know why?",
        &["SEC-HOSTS"],
    ),
    problem(
        Who::Corporate,
        "Our new Pulse wellness add-on prevents migraines during long screen days",
        &["REC-HEALTH"],
    ),
    problem(
        Who::Employee,
        "Sending love to my teammate, who starts medical leave on Monday 💐",
        &["PD-HEALTH"],
    ),
    problem(
        Who::ThirdParty,
        "Earn guaranteed profits every week with my trading signals, DM me",
        &["REC-GUARANTEE"],
    ),
    problem(
        Who::Employee,
        "Anyone else unable to reach 10.14.2.31 from the office VPN?",
        &["PD-IP"],
    ),
    problem(
        Who::Corporate,
        "Say goodbye to context switching: {product} is clinically proven to keep you focused",
        &["REC-CLAIMS"],
    ),
    problem(
        Who::Employee,
        "Our team partnered with Brightloom to bring standing desks to every floor, check them out!",
        &["DISC-ENDORSE"],
    ),
    problem(Who::ThirdParty, "Acme support? You're frauds, plain and simple.", &["OFF-NAMECALL"]),
];

// ---------------------------------------------------------------------------------------------
// The items.

/// An item and the rules the built-in policy should find in it (tested below).
struct Planned {
    item: Item,
    expect: &'static [&'static str],
}

/// A small linear congruential generator: the demo's variety without randomness.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        // Both sides fit: n is a list's length, and the result is below it.
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices.get(self.below(choices.len())).copied().unwrap_or_default()
    }
}

/// What fills a template's placeholders.
struct Fill {
    product: &'static str,
    feature: &'static str,
    city: &'static str,
    event: &'static str,
    gadget: &'static str,
    n: u64,
    big: u64,
    third: String,
    mail: String,
}

impl Fill {
    fn new(seq: &mut Sequence, author: &str) -> Fill {
        Fill {
            product: seq.pick(PRODUCTS),
            feature: seq.pick(FEATURES),
            city: seq.pick(CITIES),
            event: seq.pick(EVENTS),
            gadget: seq.pick(GADGETS),
            n: 3 + seq.next() % 58,
            big: 100 + seq.next() % 800,
            third: String::new(),
            mail: format!("{}.home@mailbox.example", author.replace('_', ".")),
        }
    }

    fn apply(&self, template: &str) -> String {
        template
            .replace("{product}", self.product)
            .replace("{feature}", self.feature)
            .replace("{city}", self.city)
            .replace("{event}", self.event)
            .replace("{gadget}", self.gadget)
            .replace("{n}", &self.n.to_string())
            .replace("{big}", &self.big.to_string())
            .replace("{third}", &self.third)
            .replace("{mail}", &self.mail)
    }
}

/// A post already made, that later items may reply to or repost.
#[derive(Clone, Copy)]
struct Made {
    index: usize,
    account: usize,
}

/// What happens to an item after it was archived.
enum Revision {
    /// Its author edits it into this text, which triggers these rules.
    Edit(String, &'static [&'static str]),
    /// It is deleted on the platform.
    Delete,
}

/// Where and when an item is made.
struct Slot {
    account: usize,
    created: Timestamp,
    captured: Timestamp,
    /// Makes its platform id unique.
    number: u64,
}

fn minutes(time: Timestamp, minutes: i64) -> Timestamp {
    time.checked_add(SignedDuration::from_mins(minutes)).unwrap_or(time)
}

/// How platforms name replies: a reply on microblogs, a comment elsewhere.
fn reply_kind(platform: &str) -> ContentKind {
    match platform {
        "x" | "mastodon" => ContentKind::Reply,
        _ => ContentKind::Comment,
    }
}

/// An id in the platform's own style, unique for `n`.
fn external_id(platform: &str, author: &str, n: u64) -> String {
    match platform {
        "x" => format!("18{:017}", 52_370_000_000_000 + n * 104_729),
        "mastodon" => {
            let user = author.split('@').next().unwrap_or(author);
            format!("https://social.example/@{user}/{}", 112_400_000_000_000 + n * 7_919)
        }
        "linkedin" => format!("urn:li:activity:{}", 7_200_000_000_000_000_000 + n * 1_009),
        "instagram" => format!("17{:016}", 8_410_000_000_000 + n * 3_571),
        _ => format!("{}_{}", 100_000_000 + n % 7, 900_000_000 + n * 613),
    }
}

/// The links in a text, as importers list them.
fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|word| word.contains("://") || word.starts_with("bit.ly/"))
        .map(|word| word.trim_end_matches(['.', ',', '!', '?', ')']).to_owned())
        .collect()
}

/// An item on an account at a slot; the author type follows from who wrote it and where.
fn make(
    slot: &Slot,
    author: &str,
    kind: ContentKind,
    text: String,
    parent: Option<String>,
) -> Item {
    let account = &ACCOUNTS[slot.account];
    let author_type = if !is_person(author) {
        AuthorType::ThirdParty
    } else if account.corporate() {
        AuthorType::Corporate
    } else {
        AuthorType::Employee
    };
    let id = external_id(account.platform, author, slot.number);
    let mut item = Item::new(account.platform, &id, &text, slot.captured);
    item.account = account.handle.to_owned();
    item.author = author.to_owned();
    item.author_type = author_type;
    item.kind = kind;
    item.created_at = Some(slot.created);
    item.parent = parent;
    item.links = links_in(&text);
    item
}

fn is_person(login: &str) -> bool {
    PEOPLE.iter().any(|p| p.login == login)
}

/// One of a person's own accounts.
fn own_account(seq: &mut Sequence, login: &str) -> usize {
    let theirs: Vec<usize> = (0..ACCOUNTS.len())
        .filter(|&i| !ACCOUNTS[i].corporate() && ACCOUNTS[i].owner == login)
        .collect();
    theirs.get(seq.below(theirs.len())).copied().unwrap_or(0)
}

/// One of the last few posts made on a corporate account (or on a person's own).
fn recent(seq: &mut Sequence, made: &[Made], corporate: bool) -> Option<Made> {
    let candidates: Vec<Made> = made
        .iter()
        .rev()
        .filter(|m| ACCOUNTS[m.account].corporate() == corporate)
        .take(8)
        .copied()
        .collect();
    candidates.get(seq.below(candidates.len())).copied()
}

/// Builds every demo item in the order the archive would have received them: about 45 days
/// of posts, replies, reposts, edits and deletions before `now`.
fn demo_items(now: Timestamp) -> Vec<Planned> {
    // Whole minutes, so the archive's times look like a platform's.
    let end = Timestamp::from_second(now.as_second().div_euclid(60) * 60).unwrap_or(now);
    let latest = minutes(end, -1);
    // Midnight (UTC) DAYS days ago, so that posts fall in working hours; the last day is
    // yesterday.
    let midnight =
        Timestamp::from_second(now.as_second().div_euclid(86_400) * 86_400).unwrap_or(end);
    let start = minutes(midnight, -DAYS * 24 * 60);
    let corporate: Vec<usize> = (0..ACCOUNTS.len()).filter(|&i| ACCOUNTS[i].corporate()).collect();
    let mut seq = Sequence(0x5eed_1ead_2026_0001);
    let mut planned: Vec<Planned> = Vec::new();
    let mut made: Vec<Made> = Vec::new();
    let mut revisions: Vec<(usize, Revision)> = Vec::new();
    let mut number = 0u64;
    let mut problem_turn = 0usize;
    let mut author_turn = 0usize;
    let mut next_author = || {
        author_turn += 1;
        EMPLOYEE_AUTHORS[(author_turn - 1) % EMPLOYEE_AUTHORS.len()]
    };

    for day in 0..DAYS {
        let count = 5 + seq.below(4);
        let mut times: Vec<i64> = (0..count).map(|_| 7 * 60 + seq.below(13 * 60) as i64).collect();
        times.sort_unstable();
        for time in times {
            let created = minutes(start, day * 24 * 60 + time);
            number += 1;
            let mut slot = Slot {
                account: 0,
                created,
                captured: minutes(created, 1 + seq.below(20) as i64).min(latest),
                number,
            };
            let roll = seq.below(100);
            if roll < 16 {
                // A post the policy stops, in turn, so that every kind of problem shows up.
                let problem = &PROBLEMS[problem_turn % PROBLEMS.len()];
                problem_turn += 1;
                let (author, parent) = match problem.who {
                    Who::Employee => {
                        let author = next_author();
                        slot.account = own_account(&mut seq, author);
                        (author, None)
                    }
                    Who::Corporate => {
                        slot.account = corporate[seq.below(corporate.len())];
                        (seq.pick(ACCOUNTS[slot.account].posters), None)
                    }
                    Who::ThirdParty => {
                        let target = recent(&mut seq, &made, true);
                        slot.account = target.map_or(corporate[0], |t| t.account);
                        let parent = target.map(|t| planned[t.index].item.external_id.clone());
                        (seq.pick(THIRD_PARTIES), parent)
                    }
                };
                let kind = match problem.who {
                    Who::ThirdParty => reply_kind(ACCOUNTS[slot.account].platform),
                    _ => problem.kind,
                };
                let fill = Fill::new(&mut seq, author);
                let item = make(&slot, author, kind, fill.apply(problem.text), parent);
                planned.push(Planned { item, expect: problem.expect });
                let index = planned.len() - 1;
                match problem.then {
                    Then::Stays => {}
                    Then::Edit(text, expect) => {
                        revisions.push((index, Revision::Edit(fill.apply(text), expect)));
                    }
                    Then::Delete => revisions.push((index, Revision::Delete)),
                }
            } else if roll < 44 {
                slot.account = corporate[seq.below(corporate.len())];
                let author = seq.pick(ACCOUNTS[slot.account].posters);
                let fill = Fill::new(&mut seq, author);
                let text = fill.apply(seq.pick(CORPORATE_POSTS));
                let kind = if ACCOUNTS[slot.account].platform == "instagram" && seq.below(4) == 0 {
                    ContentKind::Story
                } else {
                    ContentKind::Post
                };
                planned.push(Planned { item: make(&slot, author, kind, text, None), expect: &[] });
                made.push(Made { index: planned.len() - 1, account: slot.account });
                revise_sometimes(&mut seq, &planned, &mut revisions);
            } else if roll < 70 {
                let author = next_author();
                slot.account = own_account(&mut seq, author);
                let fill = Fill::new(&mut seq, author);
                let shared = if seq.below(6) == 0 { recent(&mut seq, &made, true) } else { None };
                let item = match shared {
                    Some(original) => {
                        let parent = planned[original.index].item.external_id.clone();
                        let text = seq.pick(REPOSTS).to_owned();
                        make(&slot, author, ContentKind::Repost, text, Some(parent))
                    }
                    None => {
                        let text = fill.apply(seq.pick(EMPLOYEE_POSTS));
                        make(&slot, author, ContentKind::Post, text, None)
                    }
                };
                planned.push(Planned { item, expect: &[] });
                made.push(Made { index: planned.len() - 1, account: slot.account });
                revise_sometimes(&mut seq, &planned, &mut revisions);
            } else {
                // Someone outside replies to a recent post, mostly on a corporate account.
                let on_corporate = seq.below(10) < 7;
                let Some(target) = recent(&mut seq, &made, on_corporate) else { continue };
                slot.account = target.account;
                let author = seq.pick(THIRD_PARTIES);
                let mut fill = Fill::new(&mut seq, author);
                let account = &ACCOUNTS[target.account];
                let parent = planned[target.index].item.external_id.clone();
                let (asked, answered) = THIRD_PARTY_REPLIES[seq.below(THIRD_PARTY_REPLIES.len())];
                let kind = reply_kind(account.platform);
                let question = make(&slot, author, kind, fill.apply(asked), Some(parent));
                let question_id = question.external_id.clone();
                planned.push(Planned { item: question, expect: &[] });
                if account.corporate() && seq.below(2) == 0 {
                    // The account answers a little later.
                    let responder = seq.pick(account.posters);
                    fill.third = format!("@{author}");
                    number += 1;
                    let created = minutes(created, 15 + seq.below(165) as i64).min(latest);
                    let later = Slot {
                        account: target.account,
                        created,
                        captured: minutes(created, 1).min(latest),
                        number,
                    };
                    let text = fill.apply(answered);
                    let item = make(&later, responder, kind, text, Some(question_id));
                    planned.push(Planned { item, expect: &[] });
                }
            }
        }
    }

    for (index, revision) in revisions {
        let mut item = planned[index].item.clone();
        let expect = match revision {
            Revision::Edit(text, expect) => {
                let delay = 10 + seq.below(290) as i64;
                item.captured_at = minutes(item.captured_at, delay).min(latest);
                item.text = text;
                item.change = Change::Edit;
                expect
            }
            Revision::Delete => {
                let delay = 30 + seq.below(570) as i64;
                item.captured_at = minutes(item.captured_at, delay).min(latest);
                item.text = String::new();
                item.change = Change::Deletion;
                &[]
            }
        };
        item.links = links_in(&item.text);
        planned.push(Planned { item, expect });
    }
    // Stable: a revision captured in the same minute as its original stays after it.
    planned.sort_by_key(|p| p.item.captured_at);
    planned
}

/// Now and then an author fixes the post just made, or takes it down.
fn revise_sometimes(
    seq: &mut Sequence,
    planned: &[Planned],
    revisions: &mut Vec<(usize, Revision)>,
) {
    let index = planned.len() - 1;
    let Some(last) = planned.last() else { return };
    match seq.below(100) {
        0..4 => {
            let text = format!("{}\n\n{}", last.item.text, seq.pick(CORRECTIONS));
            revisions.push((index, Revision::Edit(text, last.expect)));
        }
        4..6 => revisions.push((index, Revision::Delete)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn now() -> Timestamp {
        "2026-03-02T12:34:56.789Z".parse().expect("a time")
    }

    #[test]
    fn every_item_triggers_exactly_the_rules_it_was_written_for() {
        let policy = ServedPolicy::builtin();
        let mut wrong = Vec::new();
        for planned in demo_items(now()) {
            let item = &planned.item;
            assert!(item.validate().is_ok(), "{item:?}");
            if item.change == Change::Deletion {
                continue;
            }
            let verdict = policy.engine.check(&item.post());
            let found: BTreeSet<&str> =
                verdict.findings.iter().map(|f| f.rule.id.as_str()).collect();
            let expected: BTreeSet<&str> = planned.expect.iter().copied().collect();
            if found != expected {
                wrong.push(format!(
                    "{:?} {:?}: {found:?}, expected {expected:?}",
                    item.author_type, item.text
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn the_items_cover_every_problem_kind_and_time_and_revision() {
        let items = demo_items(now());
        assert!((300..=400).contains(&items.len()), "{} items", items.len());
        for problem in PROBLEMS {
            let fragment = problem.text.split('{').next().unwrap_or_default();
            assert!(
                items
                    .iter()
                    .any(|p| p.expect == problem.expect && p.item.text.starts_with(fragment)),
                "never used: {}",
                problem.text
            );
        }
        let mut changes = BTreeMap::new();
        for planned in &items {
            *changes.entry(planned.item.change.name()).or_insert(0) += 1;
            let created = planned.item.created_at.expect("a platform time");
            assert!(created <= planned.item.captured_at, "{:?}", planned.item);
            assert!(planned.item.captured_at < now(), "{:?}", planned.item);
            assert!(created > now() - SignedDuration::from_hours(24 * 46), "{:?}", planned.item);
        }
        assert!(changes["edit"] >= 8, "{changes:?}");
        assert!(changes["deletion"] >= 5, "{changes:?}");
        let captured: Vec<Timestamp> = items.iter().map(|p| p.item.captured_at).collect();
        assert!(captured.is_sorted());
    }

    #[test]
    fn the_same_time_gives_the_same_items() {
        let texts = |items: Vec<Planned>| -> Vec<String> {
            items.into_iter().map(|p| p.item.payload()).collect()
        };
        assert_eq!(texts(demo_items(now())), texts(demo_items(now())));
    }
}
