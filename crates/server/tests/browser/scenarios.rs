//! What a person does in the web interface, and what they must see. Each scenario starts from
//! a signed-out browser at the desktop size, so one failing leaves the next unaffected.

use std::collections::BTreeSet;

use fantoccini::key::Key;
use lifeguard_core::item::{AuthorType, ContentKind, Post};
use lifeguard_core::verdict::Action;
use lifeguard_server::demo::DEMO_PASSWORD;
use serde_json::{Value, json};

use super::harness::{Browser, DESKTOP, PHONE};
use crate::common::{self, TestApp};

/// What the scenarios share: the server and the browser.
pub(crate) struct Ctx {
    pub(crate) app: TestApp,
    pub(crate) browser: Browser,
}

/// Every scenario, in the order they run.
pub(crate) const SCENARIOS: [&str; 9] = [
    "employee signs in",
    "employee checks a draft",
    "compliance searches the archive",
    "refusals",
    "wrong password and sign-out",
    "keyboard sign-in",
    "pages on a phone",
    "drafts cannot run script",
    "administrator's pages",
];

/// Runs one scenario by name.
pub(crate) async fn run(name: &str, ctx: &Ctx) {
    match name {
        "employee signs in" => employee_signs_in(ctx).await,
        "employee checks a draft" => employee_checks_a_draft(ctx).await,
        "compliance searches the archive" => compliance_searches_the_archive(ctx).await,
        "refusals" => refusals(ctx).await,
        "wrong password and sign-out" => wrong_password_and_sign_out(ctx).await,
        "keyboard sign-in" => keyboard_sign_in(ctx).await,
        "pages on a phone" => mobile_pages(ctx).await,
        "drafts cannot run script" => drafts_cannot_run_script(ctx).await,
        "administrator's pages" => administrators_pages(ctx).await,
        other => panic!("no scenario `{other}`"),
    }
}

/// The links of the signed-in navigation.
const NAV: [&str; 8] =
    ["/", "/check", "/archive", "/policy", "/people", "/accounts", "/tokens", "/audit"];

impl Ctx {
    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    /// A signed-out browser at the desktop size, on one of our pages.
    async fn fresh(&self) {
        let b = &self.browser;
        b.window(DESKTOP).await;
        b.goto(&self.url("/healthz")).await;
        b.forget_cookies().await;
    }

    /// Signs in through the form, as a person would, and lands on the dashboard.
    async fn sign_in(&self, login: &str) {
        self.fresh().await;
        let b = &self.browser;
        b.goto(&self.url("/login")).await;
        b.fill("#login", login).await;
        b.fill("#password", DEMO_PASSWORD).await;
        b.click_and_wait("#sign-in").await;
        assert_eq!(b.path().await, "/", "signed in as {login}, the dashboard is shown");
        b.find("#sign-out").await;
    }

    /// The navigation's links.
    async fn nav_links(&self) -> BTreeSet<String> {
        let links = self
            .browser
            .js("return Array.from(document.querySelectorAll('nav a'))\
                 .map(a => a.getAttribute('href'))")
            .await;
        strings(&links).into_iter().collect()
    }

    /// Opens a page through its navigation link, as a person would.
    async fn open_from_nav(&self, path: &str) {
        let b = &self.browser;
        let link = format!("nav a[href=\"{path}\"]");
        b.find("nav").await;
        b.click_and_wait(&link).await;
        assert_eq!(b.path().await, path, "the navigation's link to {path}");
    }

    /// Opens a page by address and expects the refusal page.
    async fn expect_forbidden(&self, path: &str, who: &str) {
        let b = &self.browser;
        b.goto(&self.url(path)).await;
        let heading = b.text("h1#forbidden").await;
        assert!(!heading.trim().is_empty(), "{who} on {path}: the refusal says something");
        assert!(!b.exists("table#audit").await, "{who} on {path}: no audit table behind a refusal");
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Scenario 1: Eve signs in through the form; she sees the dashboard and only her links.
async fn employee_signs_in(ctx: &Ctx) {
    ctx.fresh().await;
    let b = &ctx.browser;
    b.goto(&ctx.url("/login")).await;
    b.find("#login").await;
    b.find("#password").await;
    b.find("#sign-in").await;
    b.visited("01-login").await;

    b.fill("#login", "eve").await;
    b.fill("#password", DEMO_PASSWORD).await;
    b.click_and_wait("#sign-in").await;
    assert_eq!(b.path().await, "/", "eve lands on the dashboard");
    b.find("svg#items-per-day").await;
    let counts = b.text("#open-counts").await;
    assert!(counts.chars().any(|c| c.is_ascii_digit()), "open counts show numbers: {counts:?}");
    b.find("#latest-flagged").await;

    let links = ctx.nav_links().await;
    for wanted in ["/", "/check"] {
        assert!(links.contains(wanted), "eve's navigation has {wanted}: {links:?}");
    }
    for hidden in ["/people", "/tokens", "/audit"] {
        assert!(!links.contains(hidden), "eve's navigation hides {hidden}: {links:?}");
    }
    b.find("#sign-out").await;
    b.visited("02-dashboard").await;
}

/// The draft of scenario 2: an undisclosed gift, a phone number and an e-mail address.
const DRAFT: &str = "So excited about these shoes I was #gifted — \
                     call me at +1 415 555 0134 or mail jane.doe@example.com";

/// Scenario 2: Eve checks a draft the policy flags: she sees the verdict, the matched words marked
/// in her text, and for each finding the clause and what to do.
async fn employee_checks_a_draft(ctx: &Ctx) {
    ctx.sign_in("eve").await;
    let b = &ctx.browser;
    ctx.open_from_nav("/check").await;
    b.fill("textarea#text", DRAFT).await;
    let platform = choose(b, "select#platform", &["instagram", "x", "linkedin"]).await;
    let kind = choose(b, "select#kind", &["post"]).await;
    let author = choose(b, "select#author_type", &["employee"]).await;
    b.click_and_wait("#check-submit").await;

    // What the built-in policy says about this draft, computed here with the same engine.
    let kind: ContentKind = kind.parse().unwrap_or_else(|_| panic!("unknown kind `{kind}`"));
    let author: AuthorType = author.parse().unwrap_or_else(|_| panic!("unknown author `{author}`"));
    let platform = (!platform.is_empty()).then_some(platform.as_str());
    let expected = ctx.app.state.policy.engine.check(&Post { text: DRAFT, kind, author, platform });
    assert_eq!(expected.action, Action::Block, "the draft is blocked by the built-in policy");
    assert!(!expected.findings.is_empty());

    let verdict = b.text("#verdict").await;
    assert!(
        verdict.to_lowercase().contains("block"),
        "the verdict says it is blocked: {verdict:?}"
    );
    assert!(!verdict.to_lowercase().contains("allow"), "the verdict is not allow: {verdict:?}");

    // Every mark is a finding's exact span; the e-mail address and the phone are marked.
    let marks = b
        .js("return Array.from(document.querySelectorAll('mark.finding[data-rule]'))\
             .map(m => [m.dataset.rule, m.textContent])")
        .await;
    let marks: Vec<(String, String)> = marks
        .as_array()
        .expect("marks")
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap_or_default().to_owned(),
                pair[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        !marks.is_empty(),
        "the draft is shown with its findings marked\n{}",
        b.describe().await
    );
    for (rule, text) in &marks {
        let found = expected
            .findings
            .iter()
            .any(|f| f.matched == *text && rule.split([' ', ',']).any(|r| r == f.rule.id));
        assert!(found, "mark `{text}` ({rule}) is the span of a finding of that rule: {marks:?}");
    }
    for wanted in ["jane.doe@example.com", "+1 415 555 0134"] {
        assert!(marks.iter().any(|(_, text)| text == wanted), "`{wanted}` is marked: {marks:?}");
    }

    // One line per finding, with the clause's title and the rule's message.
    // (textContent: a style may show a title in capitals, but the words are the clause's.)
    let items = strings(
        &b.js("return Array.from(document.querySelectorAll('ol#findings li'))\
               .map(li => li.textContent.replace(/\\s+/g, ' '))")
            .await,
    );
    assert_eq!(items.len(), expected.findings.len(), "one line per finding: {items:#?}");
    for finding in &expected.findings {
        let rule = &finding.rule;
        assert!(
            items.iter().any(|li| li.contains(&rule.clause_title) && li.contains(&rule.message)),
            "a finding of {} shows its clause `{}` and message `{}`: {items:#?}",
            rule.id,
            rule.clause_title,
            rule.message
        );
    }
    b.visited("03-check-result").await;
}

/// Selects the first of `preferred` values the select offers, or else its first non-empty
/// option; returns the value chosen.
async fn choose(b: &Browser, css: &str, preferred: &[&str]) -> String {
    let select = b.find(css).await;
    let values = strings(
        &b.js(&format!(
            "return Array.from(document.querySelectorAll('{css} option')).map(o => o.value)"
        ))
        .await,
    );
    let value = preferred
        .iter()
        .find(|p| values.iter().any(|v| v == *p))
        .map(|p| (*p).to_owned())
        .or_else(|| values.iter().find(|v| !v.is_empty()).cloned())
        .unwrap_or_else(|| panic!("`{css}` has options: {values:?}"));
    select
        .select_by_value(&value)
        .await
        .unwrap_or_else(|err| panic!("select {value} in {css}: {err}"));
    value
}

/// The word scenario 3 searches for: the demo has undisclosed `#gifted` posts.
const SEARCHED: &str = "gifted";

/// Scenario 3: Cora searches the archive, sees highlighted results, and opens one.
async fn compliance_searches_the_archive(ctx: &Ctx) {
    ctx.sign_in("cora").await;
    let b = &ctx.browser;
    ctx.open_from_nav("/archive").await;
    b.fill("input#q", SEARCHED).await;
    b.click_and_wait("#search-submit").await;

    let results = b.all("ol#results li a[href^=\"/items/\"]").await;
    assert!(!results.is_empty(), "results for `{SEARCHED}`\n{}", b.describe().await);
    let marks = strings(
        &b.js("return Array.from(document.querySelectorAll('ol#results mark'))\
               .map(m => m.textContent)")
            .await,
    );
    assert!(!marks.is_empty(), "the searched word is highlighted in the results");
    for mark in &marks {
        assert!(mark.to_lowercase().contains(SEARCHED), "highlight `{mark}` is the searched word");
    }
    b.visited("05-archive-results").await;

    let href = results[0].attr("href").await.expect("href").expect("the result links somewhere");
    b.click_and_wait("ol#results li a[href^=\"/items/\"]").await;
    let path = b.path().await;
    assert_eq!(path, href.split(['?', '#']).next().unwrap_or_default(), "the first result opens");
    assert!(path.starts_with("/items/"), "an item page: {path}");
    let heading = b.text("h1").await;
    assert!(!heading.trim().is_empty(), "the item page has a heading");
    for part in ["#versions", "#verdicts", "#chain"] {
        let text = b.text(part).await;
        assert!(!text.trim().is_empty(), "the item page's {part} shows something");
    }
    let chain = b.text("#chain").await;
    let hashes =
        chain.split(|c: char| !c.is_ascii_hexdigit()).filter(|word| word.len() == 64).count();
    assert!(hashes >= 3, "the chain shows the entry's hashes: {chain}");
    let page = b.js("return document.body.innerText.toLowerCase()").await;
    assert!(
        page.as_str().unwrap_or_default().contains(SEARCHED),
        "the item found by `{SEARCHED}` shows that word"
    );
    b.visited("06-item").await;
}

/// Scenario 4: Pages a role may not see are refused (with 403), and unknown pages say so.
async fn refusals(ctx: &Ctx) {
    ctx.sign_in("eve").await;
    let b = &ctx.browser;
    ctx.expect_forbidden("/audit", "eve").await;
    b.visited("07-forbidden").await;
    ctx.expect_forbidden("/people", "eve").await;

    // The browser cannot see statuses: ask the same pages over HTTP.
    let (client, _) = common::sign_in(&ctx.app, "eve").await;
    for path in ["/audit", "/people", "/tokens"] {
        let answer = client.get(ctx.url(path)).send().await.expect("GET");
        assert_eq!(answer.status(), 403, "eve on {path}");
    }

    ctx.sign_in("otto").await;
    ctx.open_from_nav("/audit").await;
    let rows = b.all("table#audit tbody tr").await;
    assert!(!rows.is_empty(), "the auditor sees the audit trail\n{}", b.describe().await);
    let trail = b.text("table#audit").await;
    assert!(trail.contains("otto"), "the audit trail shows otto's own sign-in");
    ctx.expect_forbidden("/tokens", "otto").await;

    b.goto(&ctx.url("/no-such-page")).await;
    let heading = b.text("h1#not-found").await;
    assert!(!heading.trim().is_empty(), "the unknown page says so");
    b.visited("08-not-found").await;
}

/// Scenario 5: A wrong password is refused with an alert; signing out ends the session.
async fn wrong_password_and_sign_out(ctx: &Ctx) {
    ctx.fresh().await;
    let b = &ctx.browser;
    b.goto(&ctx.url("/login")).await;
    b.fill("#login", "rey").await;
    b.fill("#password", "not the password").await;
    b.click_and_wait("#sign-in").await;
    let alert = b.find("[role=\"alert\"]").await;
    let said = alert.text().await.expect("alert text");
    assert!(!said.trim().is_empty(), "the alert says why");
    assert!(alert.is_displayed().await.expect("visible"), "the alert is visible");
    assert_eq!(b.path().await, "/login", "still on the sign-in page");
    b.find("#login").await;
    b.visited("09-login-refused").await;

    ctx.sign_in("rey").await;
    b.click_and_wait("#sign-out").await;
    assert_eq!(b.path().await, "/login", "signing out shows the sign-in page");
    b.find("#login").await;
    b.goto(&ctx.url("/")).await;
    assert_eq!(b.path().await, "/login", "after signing out, the dashboard asks to sign in");
    b.find("#sign-in").await;
}

/// The id of the focused element.
async fn focused(b: &Browser) -> String {
    b.js("return document.activeElement ? document.activeElement.id : ''")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Presses keys on whatever has the focus.
async fn press(b: &Browser, keys: &str) {
    let active = b.client.active_element().await.expect("a focused element");
    active.send_keys(keys).await.expect("press keys");
}

/// Scenario 6: The sign-in form works from the keyboard alone.
async fn keyboard_sign_in(ctx: &Ctx) {
    ctx.fresh().await;
    let b = &ctx.browser;
    b.goto(&ctx.url("/login")).await;
    b.find("#login").await.click().await.expect("focus the login field");
    assert_eq!(focused(b).await, "login");
    press(b, "eve").await;
    press(b, &Key::Tab.to_string()).await;
    assert_eq!(focused(b).await, "password", "Tab goes from the login to the password");
    press(b, DEMO_PASSWORD).await;
    let mut reached = Vec::new();
    for _ in 0..3 {
        press(b, &Key::Tab.to_string()).await;
        let id = focused(b).await;
        reached.push(id.clone());
        if id == "sign-in" {
            break;
        }
    }
    assert_eq!(
        reached.last().map(String::as_str),
        Some("sign-in"),
        "Tab reaches the button: {reached:?}"
    );
    assert_eq!(reached.len(), 1, "the button comes right after the password: {reached:?}");

    b.js("document.getElementById('password').focus(); return true").await;
    b.mark_document().await;
    press(b, &Key::Enter.to_string()).await;
    b.wait_new_document("Enter in the password").await;
    assert_eq!(b.path().await, "/", "Enter signs in");
    b.find("#sign-out").await;
}

/// Scenario 7: On a phone-sized window the pages do not scroll sideways (wide tables scroll inside
/// their own box).
async fn mobile_pages(ctx: &Ctx) {
    ctx.sign_in("cora").await;
    let b = &ctx.browser;
    b.window(PHONE).await;
    b.goto(&ctx.url("/")).await;
    b.find("svg#items-per-day").await;
    let inner = b.js("return window.innerWidth").await;
    assert!(inner.as_u64().is_some_and(|w| w <= 400), "the window is phone-sized: {inner}");
    no_sideways_scroll(b, "the dashboard").await;
    b.visited("10-mobile-dashboard").await;

    b.goto(&ctx.url("/check")).await;
    b.fill("textarea#text", DRAFT).await;
    b.click_and_wait("#check-submit").await;
    b.find("#verdict").await;
    no_sideways_scroll(b, "a checked draft").await;
    b.visited("11-mobile-check").await;

    b.goto(&ctx.url(&format!("/archive?q={SEARCHED}"))).await;
    b.find("ol#results li").await;
    no_sideways_scroll(b, "the archive").await;
    b.click_and_wait("ol#results li a[href^=\"/items/\"]").await;
    b.find("#chain").await;
    no_sideways_scroll(b, "an item").await;
    b.visited("12-mobile-item").await;
    b.window(DESKTOP).await;
}

/// Asserts the page is no wider than the window, naming what sticks out if it is.
async fn no_sideways_scroll(b: &Browser, what: &str) {
    let size = b.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    let (scroll, inner) = (size[0].as_u64().unwrap_or(u64::MAX), size[1].as_u64().unwrap_or(0));
    if scroll > inner {
        let wide = b
            .js("return Array.from(document.querySelectorAll('body *')).filter(e => \
                 e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8)\
                 .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + \
                 (typeof e.className === 'string' && e.className ? '.' + e.className : ''))")
            .await;
        panic!("{what} scrolls sideways on a phone ({scroll} > {inner} pixels); too wide: {wide}");
    }
}

/// Scenario 8: A draft carrying markup is shown as text, and the content security policy refuses
/// inline script even when it gets into the page.
async fn drafts_cannot_run_script(ctx: &Ctx) {
    ctx.sign_in("eve").await;
    let b = &ctx.browser;
    let hostile = "<img src=x onerror=\"document.title='pwned'\"> \
                   <script>document.title='pwned'</script> #gifted";
    b.goto(&ctx.url("/check")).await;
    b.fill("textarea#text", hostile).await;
    b.click_and_wait("#check-submit").await;
    b.find("#verdict").await;
    assert_ne!(b.client.title().await.expect("title"), "pwned", "the draft's markup did not run");
    let injected =
        b.js("return document.querySelectorAll('img[src=\"x\"], img[onerror]').length").await;
    assert_eq!(injected, json!(0), "the draft's <img> is not an element");
    let page = b.js("return document.body.innerText").await;
    assert!(
        page.as_str().unwrap_or_default().contains("<img src=x onerror="),
        "the draft is shown as text\n{}",
        b.describe().await
    );
    b.visited("04-check-escaped").await;

    // Even script that gets into the page cannot run inline.
    let ran = b
        .js("const s = document.createElement('script'); \
             s.textContent = \"document.title = 'inline ran'\"; \
             document.body.appendChild(s); return document.title")
        .await;
    assert_ne!(ran, json!("inline ran"), "the content security policy refuses inline script");

    // And the policy is the one the server promises, on pages and on the sign-in page alike.
    let client = common::client();
    for path in ["/login", "/check"] {
        let answer = client.get(ctx.url(path)).send().await.expect("GET");
        let csp = answer
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(csp.contains("script-src 'self'"), "{path}: CSP `{csp}`");
        assert!(!csp.contains("unsafe-inline"), "{path}: CSP `{csp}`");
    }
}

/// Scenario 9: The administrator sees every page but the audit trail (administrators are audited,
/// they do not audit), and creating a token shows it once; compliance then sees that on the trail.
async fn administrators_pages(ctx: &Ctx) {
    ctx.sign_in("ada").await;
    let b = &ctx.browser;
    let links = ctx.nav_links().await;
    for link in NAV.iter().filter(|link| **link != "/audit") {
        assert!(links.contains(*link), "the administrator's navigation has {link}: {links:?}");
    }
    assert!(!links.contains("/audit"), "the administrator's navigation hides /audit: {links:?}");

    ctx.open_from_nav("/policy").await;
    let policy = &ctx.app.state.policy.policy;
    let page = b.text("main").await;
    assert!(page.contains(&policy.meta.title), "the policy page names the policy");
    let rule = policy.rules.first().expect("the built-in policy has rules");
    assert!(page.contains(&rule.message), "the policy page explains its rules");
    b.visited("13-policy").await;

    ctx.open_from_nav("/people").await;
    let page = b.text("main").await;
    for (login, _) in lifeguard_server::demo::DEMO_LOGINS {
        assert!(page.contains(login), "the people page lists {login}");
    }
    b.visited("14-people").await;

    ctx.open_from_nav("/accounts").await;
    let page = b.text("main").await;
    assert!(!page.trim().is_empty(), "the accounts page shows the accounts");
    b.visited("15-accounts").await;

    ctx.open_from_nav("/tokens").await;
    b.find("table#tokens").await;
    b.visited("16-tokens").await;
    b.fill("#token-name", "browser test").await;
    let people = b.find("select#token-person").await;
    let ada = b
        .js("const o = Array.from(document.querySelectorAll('select#token-person option'))\
             .find(o => o.value && o.textContent.includes('ada')); return o ? o.value : null")
        .await;
    let ada = ada.as_str().expect("ada can be chosen as the token's person").to_owned();
    people.select_by_value(&ada).await.expect("choose ada");
    let scope = b.find("input[type=\"checkbox\"][id^=\"scope-\"]").await;
    if !scope.is_selected().await.expect("checkbox state") {
        scope.click().await.expect("tick a scope");
    }
    b.click_and_wait("#create-token").await;
    let token = b.text("#new-token").await;
    assert!(token.contains("lgt_"), "the new token is shown: {token:?}");
    b.visited("17-token-created").await;

    ctx.expect_forbidden("/audit", "ada").await;

    ctx.sign_in("cora").await;
    ctx.open_from_nav("/audit").await;
    let made = b
        .js("return Array.from(document.querySelectorAll('table#audit tbody tr')).some(tr => \
             Array.from(tr.cells).some(td => td.textContent.trim() === 'ada') && \
             Array.from(tr.cells).some(td => td.textContent.trim() === 'token.create'))")
        .await;
    assert_eq!(
        made,
        json!(true),
        "the audit trail shows ada making the token\n{}",
        b.describe().await
    );
    b.visited("18-audit").await;
}
