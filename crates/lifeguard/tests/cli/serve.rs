//! `lifeguard serve` and `lifeguard demo`: the real binary on 127.0.0.1 with a port of its own,
//! health over a hand-written HTTP request, a clean stop on SIGTERM, a demo seeded once, and
//! clear refusals (a taken port, a broken policy, an archive that is not the demo's).
#![cfg(unix)]

use std::fs;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::{binary, import, minimal_policy, path, run_command, stats, with_data};

/// How long a debug build may take to start (migrations, the demo's password hash and items).
const START: Duration = Duration::from_secs(120);
/// How long a stop may take once SIGTERM is sent.
const STOP: Duration = Duration::from_secs(30);

/// A running `lifeguard serve` or `lifeguard demo`, killed if a test fails before stopping it.
struct Server {
    child: Child,
    /// `127.0.0.1:PORT`, as the server printed it.
    address: String,
    /// Standard output so far.
    stdout: String,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

/// How a server ended.
struct Stopped {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Server {
    /// Starts `lifeguard ARGS` and waits for the line naming the address it listens on.
    fn start(args: &[&str]) -> Server {
        let mut command = binary();
        command
            .args(args)
            .env_remove("LIFEGUARD_LISTEN")
            .env_remove("LIFEGUARD_POLICY")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        // Read stderr all along, so that logging never blocks on a full pipe.
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut server = Server {
            child,
            address: String::new(),
            stdout: String::new(),
            lines,
            stderr: Some(stderr),
        };
        let started = Instant::now();
        while server.address.is_empty() {
            let left = START.saturating_sub(started.elapsed());
            match server.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(address) = line.strip_prefix("Lifeguard listening on http://") {
                        server.address = address.trim().to_owned();
                    }
                    server.stdout.push_str(&line);
                    server.stdout.push('\n');
                }
                Err(_) => {
                    let _ = server.child.kill();
                    let stopped = server.finish();
                    panic!(
                        "lifeguard {args:?} printed no address ({}):\n{}\n{}",
                        stopped.status, stopped.stdout, stopped.stderr
                    );
                }
            }
        }
        server
    }

    /// Sends SIGTERM and waits for the exit.
    fn terminate(mut self) -> Stopped {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(kill.success(), "kill -TERM {pid}");
        let started = Instant::now();
        while started.elapsed() < STOP {
            if self.child.try_wait().expect("wait").is_some() {
                return self.finish();
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let stopped = self.finish();
        panic!("no exit {STOP:?} after SIGTERM:\n{}\n{}", stopped.stdout, stopped.stderr);
    }

    /// Waits for the process and collects what it printed.
    fn finish(&mut self) -> Stopped {
        let status = self.child.wait().expect("wait");
        let mut stdout = std::mem::take(&mut self.stdout);
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            stdout.push_str(&line);
            stdout.push('\n');
        }
        let stderr =
            self.stderr.take().map(|t| t.join().expect("stderr reader")).unwrap_or_default();
        Stopped { status, stdout, stderr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` over a plain socket: (status, body).
fn get(address: &str, path: &str) -> (u16, String) {
    let mut stream =
        TcpStream::connect(address).unwrap_or_else(|err| panic!("connect {address}: {err}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_owned();
    (status, body)
}

fn assert_healthy(server: &Server) {
    assert_eq!(get(&server.address, "/healthz"), (200, "ok\n".to_owned()));
    assert_eq!(get(&server.address, "/readyz"), (200, "ready\n".to_owned()));
}

#[test]
fn the_demo_prints_its_address_and_logins_serves_and_stops_on_sigterm_seeded_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = ["demo", "--listen", "127.0.0.1:0", "--data", path(&data)];

    let server = Server::start(&args);
    assert!(!server.address.ends_with(":0"), "the real port is printed: {}", server.address);
    assert_healthy(&server);
    let first = server.terminate();
    assert_eq!(first.status.code(), Some(0), "{}\n{}", first.stdout, first.stderr);
    assert!(first.stdout.contains("Seeded the demo organization"), "{}", first.stdout);
    for login in ["ada", "cora", "sam", "rey", "eve", "otto"] {
        assert!(
            first.stdout.lines().any(|l| l.split_whitespace().next() == Some(login)),
            "no `{login}` in the logins:\n{}",
            first.stdout
        );
    }
    assert!(first.stdout.contains("lifeguard-demo"), "{}", first.stdout);
    assert!(first.stderr.contains("draining"), "the drain is logged:\n{}", first.stderr);
    let seeded = stats(&data);
    let items = seeded["items"].as_u64().unwrap();
    assert!((300..=400).contains(&items), "{seeded}");

    // A second start keeps the demo as it is.
    let server = Server::start(&args);
    assert_healthy(&server);
    let second = server.terminate();
    assert_eq!(second.status.code(), Some(0), "{}\n{}", second.stdout, second.stderr);
    assert!(second.stdout.contains("already exists"), "{}", second.stdout);
    assert!(!second.stdout.contains("Seeded"), "{}", second.stdout);
    assert_eq!(stats(&data)["items"], seeded["items"]);
    assert_eq!(stats(&data)["entries"], seeded["entries"]);

    // The demo's archive is signed and verifies like any other.
    let verify = with_data(&data, &["archive", "verify"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(verify.stdout.contains("1 signed checkpoint"), "{}", verify.stdout);
}

#[test]
fn serve_answers_with_a_policy_of_its_own_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let policy = minimal_policy();
    let server = Server::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        path(&data),
        "--policy",
        &policy,
        "--request-timeout",
        "5",
    ]);
    assert_healthy(&server);
    let stopped = server.terminate();
    assert_eq!(stopped.status.code(), Some(0), "{}\n{}", stopped.stdout, stopped.stderr);
    assert!(stopped.stderr.contains("no one can sign in"), "{}", stopped.stderr);
}

#[test]
fn a_taken_address_exits_2_naming_it() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for command in ["serve", "demo"] {
        let mut run = binary();
        run.args([command, "--listen", &address, "--data", path(&data)]);
        let run = run_command(run, "");
        assert_eq!(run.code, 2, "{command}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!("cannot listen on {address}")),
            "{command}: {}",
            run.stderr
        );
        assert!(!run.stdout.contains("listening"), "{command}: {}", run.stdout);
    }
    // Both stopped before opening the archive.
    assert!(!data.exists());
}

#[test]
fn serve_refuses_a_broken_policy_with_its_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.md");
    fs::write(
        &policy,
        "# Broken\n\n## Words {#words}\n\n```rules\n[[rule]]\nid = \"W-1\"\ncategory = \"offensive\"\nseverity = \"high\"\naction = \"flag\"\nmessage = \"m\"\nregex = '(unclosed'\n```\n",
    )
    .unwrap();
    let mut run = binary();
    run.args(["serve", "--listen", "127.0.0.1:0", "--data", path(&dir.path().join("data"))])
        .args(["--policy", path(&policy)]);
    let run = run_command(run, "");
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("policy.md:"), "diagnostics name the file: {}", run.stderr);
    assert!(run.stderr.contains("the policy has errors"), "{}", run.stderr);
    assert!(!run.stdout.contains("listening"), "{}", run.stdout);
}

#[test]
fn the_demo_refuses_an_archive_that_is_not_the_demos() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import(&data, "jsonl", "imports/jsonl/items.jsonl", &[]);
    let before = stats(&data);
    let mut run = binary();
    run.args(["demo", "--listen", "127.0.0.1:0", "--data", path(&data)]);
    let run = run_command(run, "");
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("without the demo organization"), "{}", run.stderr);
    assert_eq!(stats(&data), before, "nothing was added");
}
