//! Test harness: start the host on a `spin.toml` with a fresh state directory
//! and talk HTTP to it, the way a user (or the ERP) would.
//!
//! `cargo xtask test` builds the components and the host first and tells the
//! tests where the host binary is through `SPIN_HOST_BIN`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::Duration;

use serde_json::Value;

pub mod attack;
pub mod servers;

/// The repository root (the workspace containing this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The host binary built by `cargo xtask test` (or `cargo xtask build`).
pub fn host_bin() -> PathBuf {
    match std::env::var_os("SPIN_HOST_BIN") {
        Some(path) => PathBuf::from(path),
        None => repo_root().join("target/host/spin-host"),
    }
}

/// How to start the host.
#[derive(Clone, Debug)]
pub struct Options {
    pub manifest: PathBuf,
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
}

impl Options {
    /// The real app: the repository's `spin.toml`, with test credentials.
    pub fn app() -> Self {
        Options {
            manifest: repo_root().join("spin.toml"),
            env: vec![
                (
                    "SPIN_VARIABLE_ERP_WEBHOOK_SECRET".into(),
                    WEBHOOK_SECRET.into(),
                ),
                ("SPIN_VARIABLE_API_TOKENS".into(), API_TOKENS.into()),
            ],
            args: vec![],
        }
    }

    /// A manifest under `tests/fixtures/`.
    pub fn fixture(manifest: &str) -> Self {
        Options {
            manifest: repo_root().join("tests/fixtures").join(manifest),
            env: vec![],
            args: vec![],
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.into());
        self
    }
}

/// Webhook secret the tests configure (Standard Webhooks format).
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Bearer tokens the tests configure: `token=name:role`.
pub const API_TOKENS: &str = "tok-alice=alice:associate,tok-bob=bob:associate,tok-maria=maria:manager,tok-mike=mike:manager,tok-erp=erp-feed:integration";
pub const ASSOCIATE: &str = "tok-alice";
pub const MANAGER: &str = "tok-maria";
/// The ERP's integration: reads the event feed, runs event delivery.
pub const INTEGRATION: &str = "tok-erp";

/// A running host; killed when dropped (or, kept with
/// [`App::until_exit`], when the test binary exits).
pub struct App {
    child: Child,
    pub base_url: String,
    pub state_dir: tempfile::TempDir,
    agent: ureq::Agent,
    /// Behind a lock so that tests on several threads can share a host.
    log: Mutex<mpsc::Receiver<String>>,
}

/// A finished HTTP exchange.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl App {
    /// Start the real app with test credentials on a fresh state directory.
    pub fn start() -> App {
        App::start_with(Options::app())
    }

    pub fn start_with(options: Options) -> App {
        let state_dir = tempfile::tempdir().expect("temp state dir");
        App::start_in(options, state_dir)
    }

    /// Start on an existing state directory (to test restarts).
    pub fn start_in(options: Options, state_dir: tempfile::TempDir) -> App {
        App::try_start_in(options, state_dir).unwrap_or_else(|(e, _)| panic!("{e}"))
    }

    /// Start, or return the host's error output when it refuses to start.
    pub fn try_start(options: Options) -> Result<App, (String, tempfile::TempDir)> {
        App::try_start_in(options, tempfile::tempdir().expect("temp state dir"))
    }

    fn try_start_in(
        options: Options,
        state_dir: tempfile::TempDir,
    ) -> Result<App, (String, tempfile::TempDir)> {
        let state = state_dir.path().to_path_buf();
        App::spawn(options, "127.0.0.1:0", Some(&state), state_dir)
    }

    /// Starts the host; `state_dir` is the `--state-dir` (none: `.spin`
    /// beside the manifest, as for `spin up`), and `keep` lives as long as
    /// the host. On failure: what the host printed, and `keep`.
    fn spawn(
        options: Options,
        listen: &str,
        state_dir: Option<&Path>,
        keep: tempfile::TempDir,
    ) -> Result<App, (String, tempfile::TempDir)> {
        let mut command = Command::new(host_bin());
        command
            .arg("up")
            .arg("--from")
            .arg(&options.manifest)
            .arg("--listen")
            .arg(listen);
        if let Some(state_dir) = state_dir {
            command.arg("--state-dir").arg(state_dir);
        }
        command
            .args(&options.args)
            .env_remove("RUST_LOG")
            // Every test starts a fresh state directory; compiled components
            // are shared so each test does not compile them again.
            .env(
                "SPIN_HOST_CACHE_DIR",
                repo_root().join("target/spin-host-cache"),
            )
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", host_bin().display()));
        let (tx, log) = mpsc::channel();
        forward_lines(child.stderr.take().expect("stderr"), tx.clone());
        let stdout = child.stdout.take().expect("stdout");
        match wait_for_listening(stdout, tx) {
            Some(base_url) => Ok(App {
                child,
                base_url,
                state_dir: keep,
                agent: agent(),
                log: Mutex::new(log),
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                // The exited host's stderr may still be on its way through
                // the forwarding thread: read until it is done.
                let output: Vec<String> =
                    std::iter::from_fn(|| log.recv_timeout(Duration::from_secs(10)).ok()).collect();
                Err((output.join("\n"), keep))
            }
        }
    }

    /// The host's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The `host:port` the host listens on.
    pub fn address(&self) -> &str {
        self.base_url.trim_start_matches("http://")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Send a request with any method, headers and body.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut request = http::Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.to_vec()).expect("valid request");
        let response = self
            .agent
            .run(request)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = response
            .into_body()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .expect("read body");
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], b"")
    }

    /// GET as a person with a bearer token.
    pub fn get_as(&self, token: &str, path: &str) -> Reply {
        let auth = format!("Bearer {token}");
        self.send("GET", path, &[("authorization", &auth)], b"")
    }

    /// Send JSON as a person with a bearer token.
    pub fn json_as(&self, token: &str, method: &str, path: &str, body: &Value) -> Reply {
        let auth = format!("Bearer {token}");
        self.send(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
    }

    /// Send JSON as the ERP: a Standard Webhooks message signed with the
    /// test secret, with a fresh `webhook-id`.
    pub fn erp(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.erp_with_id(method, path, body, &fresh_webhook_id())
    }

    /// Send JSON as the ERP with a given `webhook-id` (to test replays).
    pub fn erp_with_id(&self, method: &str, path: &str, body: &Value, webhook_id: &str) -> Reply {
        let body = body.to_string();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64;
        let secret = api::webhook::WebhookSecret::parse(WEBHOOK_SECRET).expect("test secret");
        let signature = api::webhook::sign(&secret, webhook_id, timestamp, body.as_bytes());
        self.send(
            method,
            path,
            &[
                ("content-type", "application/json"),
                ("webhook-id", webhook_id),
                ("webhook-timestamp", &timestamp.to_string()),
                ("webhook-signature", &signature),
            ],
            body.as_bytes(),
        )
    }

    /// Lines the host has written to stderr so far (request log, errors).
    pub fn log_lines(&self) -> Vec<String> {
        self.log().try_iter().collect()
    }

    fn log(&self) -> std::sync::MutexGuard<'_, mpsc::Receiver<String>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stop the host the way Ctrl-C would and wait for it to exit.
    pub fn interrupt(mut self) -> (std::process::ExitStatus, tempfile::TempDir) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let status = self.child.wait().expect("host exits");
        let state_dir = std::mem::replace(&mut self.state_dir, tempfile::tempdir().unwrap());
        (status, state_dir)
    }

    /// Kill the host abruptly (SIGKILL), keeping its state directory.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.state_dir, tempfile::tempdir().unwrap())
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A webhook id no other message of this test run has.
pub fn fresh_webhook_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!(
        "msg_{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// Reads the host's stdout until it announces `Serving http://ADDR`, then
/// keeps draining it in the background.
fn wait_for_listening(stdout: ChildStdout, log: mpsc::Sender<String>) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut announced = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !announced && let Some(url) = line.trim().strip_prefix("Serving ") {
                announced = true;
                let _ = tx.send(url.trim_end_matches('/').to_string());
            }
            let _ = log.send(line);
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).ok()
}

fn forward_lines(stream: impl std::io::Read + Send + 'static, log: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            eprintln!("[host] {line}");
            let _ = log.send(line);
        }
    });
}

/// Sends requests to a running host from any thread (an `App` itself stays
/// on the test's thread), e.g. to have many requests in flight at once.
#[derive(Clone)]
pub struct Client {
    pub base_url: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for any server (a proxy in front of hosts, say).
    pub fn for_url(base_url: &str) -> Client {
        Client {
            base_url: base_url.trim_end_matches('/').to_string(),
            agent: agent(),
        }
    }

    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        self.try_send(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Like [`Client::send`], but a failed exchange (the host went away
    /// mid-request) is an error rather than a panic.
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, String> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base_url, path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.to_vec()).expect("valid request");
        let response = self.agent.run(request).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = response
            .into_body()
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], b"")
    }
}

impl App {
    /// A client for this host that can be moved to other threads.
    pub fn client(&self) -> Client {
        Client {
            base_url: self.base_url.clone(),
            agent: agent(),
        }
    }

    /// Waits until the host writes a line (stderr, or a component's stdout)
    /// containing `needle` and returns it. Lines read while waiting are
    /// consumed, as with [`App::log_lines`].
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        let log = self.log();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Some(line),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Stop the host with SIGTERM, as a service manager would, and wait for
    /// it to exit.
    pub fn terminate(mut self) -> (std::process::ExitStatus, tempfile::TempDir) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().expect("host exits");
        let state_dir = std::mem::replace(&mut self.state_dir, tempfile::tempdir().unwrap());
        (status, state_dir)
    }
}

impl App {
    /// Starts the host as `spin up` is run in an application's folder: no
    /// `--state-dir`, so the state goes to `.spin` beside the manifest, and
    /// `--listen` as given (e.g. `localhost:0`). `app_dir` (the folder the
    /// test laid the application out in) lives as long as the host, as its
    /// `state_dir`.
    pub fn start_in_place(options: Options, listen: &str, app_dir: tempfile::TempDir) -> App {
        App::spawn(options, listen, None, app_dir)
            .unwrap_or_else(|(output, _)| panic!("the host did not start:\n{output}"))
    }
}

impl App {
    /// Keeps this host running for the rest of the test binary's run, for
    /// tests that share it. Nothing static is ever dropped, so the host is
    /// killed, and its state directory removed, when the binary exits.
    pub fn until_exit(self) -> &'static App {
        stop_at_exit(self.child.id(), self.state_dir.path().to_path_buf());
        Box::leak(Box::new(self))
    }
}

/// Hosts kept until the test binary exits: process id and state directory.
static KEPT: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

fn stop_at_exit(pid: u32, state_dir: PathBuf) {
    static REGISTER: std::sync::Once = std::sync::Once::new();
    // SAFETY: `atexit` only stores the address of a function that lives as
    // long as the program.
    REGISTER.call_once(|| unsafe {
        atexit(stop_kept_hosts);
    });
    KEPT.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((pid, state_dir));
}

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
    fn kill(pid: std::ffi::c_int, signal: std::ffi::c_int) -> std::ffi::c_int;
}

const SIGKILL: std::ffi::c_int = 9;

/// Runs as the test binary exits, on the thread that ends it.
extern "C" fn stop_kept_hosts() {
    let kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    for (pid, state_dir) in kept.iter() {
        // SAFETY: `kill` takes plain integers; the pid is our own child's,
        // which stays a zombie (its pid not reused) until we exit.
        unsafe {
            kill(*pid as std::ffi::c_int, SIGKILL);
        }
        let _ = std::fs::remove_dir_all(state_dir);
    }
}
