//! The browser harness: a chromedriver of our own on a free 127.0.0.1 port, one headless
//! Chromium session with a throw-away profile, and the waits, checks and screenshots the
//! scenarios share. Everything started here is ended when the [`Browser`] is dropped, also
//! when a scenario panics.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The browser the tests drive (Debian's `chromium` package).
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
/// Its WebDriver (Debian's `chromium-driver` package).
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The usual desktop window.
pub(crate) const DESKTOP: (u32, u32) = (1280, 900);
/// A phone's window.
pub(crate) const PHONE: (u32, u32) = (390, 844);

/// How long any one wait may take before the scenario fails.
pub(crate) const WAIT: Duration = Duration::from_secs(15);
/// The tallest screenshot, in pixels.
const MAX_SHOT_HEIGHT: u32 = 4_000;
/// How often waits look again.
const POLL: Duration = Duration::from_millis(50);

/// Whether both programs are installed; the tests pass (saying so) when they are not.
pub(crate) fn installed() -> bool {
    Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file()
}

/// Where this run's screenshots go: `target/screenshots/{backend}/`, emptied first.
pub(crate) fn screenshot_dir(backend: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        |dir| {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(dir) }
        },
    );
    let dir = target.join("screenshots").join(backend);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the screenshot folder");
    dir.canonicalize().unwrap_or(dir)
}

/// A running chromedriver, in a process group of its own so that the browser it starts ends
/// with it.
struct Driver {
    child: Child,
    profile: tempfile::TempDir,
    log: PathBuf,
    port: u16,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers; tries a few ports in case
    /// another process takes the one we picked between our check and its bind.
    async fn start() -> Driver {
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let profile = tempfile::Builder::new()
                .prefix("lifeguard-browser-")
                .tempdir()
                .expect("temporary profile folder");
            let log = profile.path().join("chromedriver.log");
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(
                    File::create(profile.path().join("chromedriver.stderr"))
                        .map_or_else(|_| Stdio::null(), Stdio::from),
                )
                .process_group(0)
                .spawn()
                .expect("start chromedriver");
            let mut driver = Driver { child, profile, log, port };
            match driver.wait_ready().await {
                Ok(()) => return driver,
                Err(why) => last = why,
            }
        }
        panic!("chromedriver did not start: {last}");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("chromedriver exited with {status}: {}", self.log_tail()));
            }
            if let Ok(answer) = client.get(format!("{}/status", self.url())).send().await
                && let Ok(body) = answer.json::<Value>().await
                && body["value"]["ready"] == json!(true)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("no answer on port {}: {}", self.port, self.log_tail()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(2_000);
        let start = (start..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text[start..].to_owned()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The process group holds chromedriver and the browser it started (whose own helper
        // processes stay in the group). Then look for any browser process still using our
        // profile folder (a helper that left the group) and end it by its id.
        let group = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in processes_mentioning(self.profile.path()) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Process ids whose command line names `path` (our own profile folder, so our own browser).
fn processes_mentioning(path: &Path) -> Vec<u32> {
    let needle = path.as_os_str().as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != std::process::id())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}

fn free_port() -> u16 {
    let listener =
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// One headless Chromium session, its chromedriver, and where its screenshots go.
pub(crate) struct Browser {
    /// The WebDriver session.
    pub(crate) client: Client,
    /// `target/screenshots/{backend}`.
    pub(crate) shots: PathBuf,
    _driver: Driver,
}

impl Browser {
    /// Starts chromedriver and opens a session with a fresh profile.
    pub(crate) async fn start(backend: &str) -> Browser {
        let driver = Driver::start().await;
        let profile = driver.profile.path().join("profile");
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities
            .insert("goog:chromeOptions".into(), json!({ "binary": CHROMIUM, "args": args }));
        let client = ClientBuilder::rustls()
            .expect("TLS set-up for the WebDriver client (rustls wants CA certificates: ca-certificates)")
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|err| {
                panic!("no Chromium session: {err}\nchromedriver log: {}", driver.log_tail())
            });
        let timeouts = fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(10)),
            Some(Duration::from_secs(30)),
            Some(Duration::ZERO),
        );
        client.update_timeouts(timeouts).await.expect("set the session's time limits");
        Browser { client, shots: screenshot_dir(backend), _driver: driver }
    }

    /// Ends the session, so the browser quits; chromedriver ends when the `Browser` is
    /// dropped (which also ends the browser if this was never called, as after a panic).
    pub(crate) async fn close(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
    }

    /// Opens a URL and waits until the document has loaded.
    pub(crate) async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|err| panic!("open {url}: {err}"));
        self.wait_loaded().await;
    }

    /// The path of the current page.
    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.expect("current URL").path().to_owned()
    }

    /// Waits for an element, failing with where we were and what the page said.
    pub(crate) async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(WAIT).every(POLL).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(err) => panic!("no `{css}` on the page: {err}\n{}", self.describe().await),
        }
    }

    /// Every element matching now (no wait).
    pub(crate) async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_default()
    }

    /// Whether an element matches now (no wait).
    pub(crate) async fn exists(&self, css: &str) -> bool {
        !self.all(css).await.is_empty()
    }

    /// The visible text of an element, waiting for it.
    pub(crate) async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_else(|err| panic!("text of `{css}`: {err}"))
    }

    /// Runs a script in the page and returns its value.
    pub(crate) async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|err| panic!("{script}: {err}"))
    }

    /// Clicks something that loads another page (a link, a submit button) and waits until the
    /// new document has replaced this one, even when its address is the same.
    pub(crate) async fn click_and_wait(&self, css: &str) {
        let element = self.find(css).await;
        self.mark_document().await;
        element.click().await.unwrap_or_else(|err| panic!("click `{css}`: {err}"));
        self.wait_new_document(css).await;
    }

    /// Types into a field (after clearing it).
    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap_or_else(|err| panic!("clear `{css}`: {err}"));
        field.send_keys(text).await.unwrap_or_else(|err| panic!("type into `{css}`: {err}"));
    }

    /// Marks the current document so [`Browser::wait_new_document`] can tell it was replaced.
    pub(crate) async fn mark_document(&self) {
        self.js("document.documentElement.dataset.lgPrevious = '1'; return true").await;
    }

    /// Waits until the marked document was replaced by a loaded one.
    pub(crate) async fn wait_new_document(&self, after: &str) {
        let script = "return document.readyState === 'complete' \
                      && document.documentElement.dataset.lgPrevious === undefined";
        let deadline = Instant::now() + WAIT;
        loop {
            // While the page changes, a script may fail because its context went away.
            if let Ok(Value::Bool(true)) = self.client.execute(script, Vec::new()).await {
                return;
            }
            if Instant::now() > deadline {
                panic!("no new page after `{after}`\n{}", self.describe().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the document has finished loading.
    pub(crate) async fn wait_loaded(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Value::Bool(true)) =
                self.client.execute("return document.readyState === 'complete'", Vec::new()).await
            {
                return;
            }
            if Instant::now() > deadline {
                panic!("the page did not finish loading\n{}", self.describe().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Where the browser is and the start of what it shows, for failure messages.
    pub(crate) async fn describe(&self) -> String {
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let text = self
            .client
            .execute("return document.body ? document.body.innerText : ''", Vec::new())
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let shown: String = text.chars().take(1_500).collect();
        format!("at {url}, the page reads:\n{shown}")
    }

    /// Writes a PNG of the whole page (up to a limit) to `NN-name.png` in the screenshot folder:
    /// the window grows to the page's height for the picture, then returns to its size.
    pub(crate) async fn screenshot(&self, name: &str) {
        // (The window's own size, not `window.outerWidth`, which says 500 on a narrower window.)
        let sizes =
            self.js("return [document.documentElement.scrollHeight, window.innerHeight]").await;
        let size = |i: usize| sizes[i].as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        let (page, inner) = (size(0), size(1));
        let (width, outer) = self.client.get_window_size().await.unwrap_or_default();
        let (width, outer) = (u32::try_from(width).unwrap_or(0), u32::try_from(outer).unwrap_or(0));
        let grow = page > inner && width > 0 && outer >= inner;
        if grow {
            self.window((width, (page + (outer - inner)).min(MAX_SHOT_HEIGHT))).await;
        }
        let png = self.client.screenshot().await;
        if grow {
            self.window((width, outer)).await;
        }
        let png = png.unwrap_or_else(|err| panic!("screenshot: {err}"));
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
    }

    /// A picture of the window as it is, for a failed scenario; never fails itself.
    pub(crate) async fn failure_screenshot(&self, name: &str) {
        let shot = tokio::time::timeout(Duration::from_secs(10), self.client.screenshot()).await;
        if let Ok(Ok(png)) = shot {
            let _ = std::fs::write(self.shots.join(format!("failed-{name}.png")), png);
        }
    }

    /// The checks every visited page must pass, then its screenshot: no inline script (the
    /// content security policy would refuse it anyway, so one would be a broken page), and
    /// nothing has run that a draft or an archived post smuggled in.
    pub(crate) async fn visited(&self, name: &str) {
        self.wait_loaded().await;
        let inline = self
            .js("return Array.from(document.scripts).filter(s => !s.src)\
                 .map(s => s.outerHTML.slice(0, 120))")
            .await;
        assert_eq!(inline, json!([]), "inline <script> on `{name}` ({})", self.path().await);
        let handlers = self
            .js("return Array.from(document.querySelectorAll('*')).flatMap(e => \
                 Array.from(e.attributes).filter(a => a.name.startsWith('on')) \
                 .map(a => e.tagName + ' ' + a.name))")
            .await;
        assert_eq!(handlers, json!([]), "inline event handlers on `{name}`");
        let title = self.client.title().await.unwrap_or_default();
        assert_ne!(title, "pwned", "a script injected through content ran on `{name}`");
        self.screenshot(name).await;
    }

    /// Resizes the window.
    pub(crate) async fn window(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|err| panic!("resize to {width}x{height}: {err}"));
    }

    /// Forgets every cookie of the site (signs out without the button).
    pub(crate) async fn forget_cookies(&self) {
        self.client.delete_all_cookies().await.expect("delete cookies");
    }
}
