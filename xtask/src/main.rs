//! Project tasks: `cargo xtask up` runs the app locally, `cargo xtask test`
//! runs every test, `cargo xtask bench` measures the hold check. Each builds
//! what it needs first, the web workspace's assets (`web/`, built with npm)
//! included.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "credit-desk project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the web assets, the components (wasm32-wasip2, release) and the local host.
    Build,
    /// Build, then serve the app on 127.0.0.1:3000 with state under `.spin/`.
    Up {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: String,
        /// Further arguments for `spin-host up` (e.g. --sqlite @seed.sql).
        #[arg(last = true)]
        host_args: Vec<String>,
    },
    /// Build everything the tests need, then run the whole test suite.
    Test {
        /// Arguments passed on to `cargo test` (e.g. a test name filter).
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
    /// Build, then benchmark the hold check through the host (wrk over
    /// loopback HTTP) against a native baseline; figures go to BENCHMARKS.md.
    Bench {
        /// Arguments for the benchmark (e.g. `-- --seconds 5`; `-- --help` lists them).
        #[arg(last = true)]
        bench_args: Vec<String>,
    },
}

/// Credentials `cargo xtask up` uses when none are set, so a fresh checkout
/// runs at once. Real deployments set their own (see README).
const DEV_WEBHOOK_SECRET: &str = "whsec_Y3JlZGl0LWRlc2stbG9jYWwtZGV2ZWxvcG1lbnQ=";
const DEV_API_TOKENS: &str =
    "dev-associate=alex:associate,dev-manager=morgan:manager,dev-scheduler=scheduler:integration";
/// The scheduler's token among the development credentials.
const DEV_SCHEDULER_TOKEN: &str = "dev-scheduler";
/// The components' target.
const WASM_TARGET: &str = "wasm32-wasip2";
/// How often `up` starts an event-delivery run.
const DELIVERY_TICK: std::time::Duration = std::time::Duration::from_millis(500);

fn main() -> ExitCode {
    match run(Cli::parse().task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(task: Task) -> Result<()> {
    let root = repo_root();
    match task {
        Task::Build => build_app(&root),
        Task::Up { listen, host_args } => {
            build_app(&root)?;
            up(&root, &listen, &host_args)
        }
        Task::Test { cargo_args } => {
            build_app(&root)?;
            build_fixtures(&root)?;
            test(&root, &cargo_args)?;
            schemathesis(&root)?;
            browser_tests(&root)
        }
        Task::Bench { bench_args } => {
            build_app(&root)?;
            build_fixtures(&root)?;
            if Path::new(CHROMIUM).exists() {
                // The dashboard's page is timed in Chromium with the
                // browser tests' playwright-core.
                npm_install(&root.join("tests/browser"))?;
            }
            bench(&root, &bench_args)
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository")
        .to_path_buf()
}

fn host_binary(root: &Path) -> PathBuf {
    root.join("target/host/spin-host")
}

/// The components are every workspace crate under `components/`.
fn component_packages(root: &Path) -> Result<Vec<String>> {
    let mut names = vec![];
    for entry in std::fs::read_dir(root.join("components"))? {
        let manifest = entry?.path().join("Cargo.toml");
        if !manifest.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest)?;
        let name = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("name = "))
            .with_context(|| format!("no package name in {}", manifest.display()))?;
        names.push(name.trim_matches('"').to_string());
    }
    names.sort();
    Ok(names)
}

fn build_app(root: &Path) -> Result<()> {
    build_web(root)?;
    ensure_wasm_target(root)?;
    let mut build = cargo(root);
    build.args(["build", "--release", "--target", WASM_TARGET]);
    for package in component_packages(root)? {
        build.args(["-p", &package]);
    }
    run_command(build, "build the components")?;
    let mut host = cargo(root);
    host.args(["build", "-p", "spin-host", "--profile", "host"]);
    run_command(host, "build the host")
}

/// rustup installs the targets rust-toolchain.toml lists only when it
/// installs the toolchain itself; a machine that already had the pinned
/// toolchain lacks `wasm32-wasip2` until it is added.
fn ensure_wasm_target(root: &Path) -> Result<()> {
    let libdir = Command::new("rustc")
        .current_dir(root)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .context("cannot start rustc")?;
    let libdir = String::from_utf8_lossy(&libdir.stdout);
    if Path::new(libdir.trim()).is_dir() {
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.current_dir(root).args(["target", "add", WASM_TARGET]);
    run_command(add, "add the wasm32-wasip2 target with rustup")
}

/// The web workspace's static files: `web/dist`, which the `web` component
/// serves (spin.toml mounts it), built by `npm run build` in `web/`.
fn build_web(root: &Path) -> Result<()> {
    let web = root.join("web");
    npm_install(&web)?;
    run_command(
        npm(&web, &["run", "build"]),
        "build the web assets (npm run build in web/)",
    )
}

/// `npm ci` in `dir` when `node_modules` is missing or was installed from
/// another `package-lock.json` than the one there now. After each install a
/// copy of the lock file is kept in `node_modules` to compare with.
fn npm_install(dir: &Path) -> Result<()> {
    let lock = std::fs::read(dir.join("package-lock.json"))
        .with_context(|| format!("cannot read {}/package-lock.json", dir.display()))?;
    let stamp = dir.join("node_modules").join(".xtask-package-lock.json");
    if std::fs::read(&stamp).is_ok_and(|installed| installed == lock) {
        return Ok(());
    }
    run_command(
        npm(dir, &["ci", "--no-audit", "--no-fund"]),
        &format!("install the npm packages of {}", dir.display()),
    )?;
    std::fs::write(&stamp, &lock).with_context(|| format!("cannot write {}", stamp.display()))
}

fn npm(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("npm");
    command.current_dir(dir).args(args);
    command
}

/// Debian's Chromium, which the browser tests drive (never a downloaded one).
const CHROMIUM: &str = "/usr/bin/chromium";

/// The web workspace's end-to-end tests in headless Chromium (`tests/browser`,
/// node's test runner with playwright-core). A missing Chromium fails the
/// run, unless `CREDIT_DESK_SKIP_BROWSER=1` asks to skip them.
fn browser_tests(root: &Path) -> Result<()> {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var("CREDIT_DESK_SKIP_BROWSER").as_deref() == Ok("1") {
            eprintln!(
                "xtask: SKIPPING the browser tests: {CHROMIUM} is missing and CREDIT_DESK_SKIP_BROWSER=1"
            );
            return Ok(());
        }
        bail!(
            "the browser tests need Chromium at {CHROMIUM}; install it with \
             `apt-get install -y --no-install-recommends chromium` \
             (or set CREDIT_DESK_SKIP_BROWSER=1 to skip the browser tests)"
        );
    }
    let dir = root.join("tests/browser");
    npm_install(&dir)?;
    let mut tests = npm(&dir, &["test"]);
    tests.env("SPIN_HOST_BIN", host_binary(root));
    run_command(tests, "run the browser tests")
}

/// schemathesis (from PyPI, pinned in tests/schemathesis/requirements.txt
/// and installed into target/schemathesis-venv) against the running app,
/// generating requests from openapi.yaml: no server error, every answer as
/// the document says. See tests/schemathesis/run.py.
fn schemathesis(root: &Path) -> Result<()> {
    if Command::new("python3").arg("--version").output().is_err() {
        bail!("the schemathesis run needs python3 (with its venv module) to install schemathesis");
    }
    let mut run = Command::new("python3");
    run.current_dir(root)
        .arg("tests/schemathesis/run.py")
        .env("SPIN_HOST_BIN", host_binary(root));
    run_command(run, "run schemathesis against the app (tests/schemathesis)")
}

fn build_fixtures(root: &Path) -> Result<()> {
    let mut build = cargo(root);
    build.args([
        "build",
        "--release",
        "--target",
        WASM_TARGET,
        "--manifest-path",
        "tests/fixtures/Cargo.toml",
    ]);
    run_command(build, "build the test fixtures")
}

fn up(root: &Path, listen: &str, host_args: &[String]) -> Result<()> {
    let mut host = Command::new(host_binary(root));
    host.current_dir(root)
        .args(["up", "--from", "spin.toml", "--listen", listen])
        .args(host_args);
    for (variable, dev_value) in [
        ("SPIN_VARIABLE_ERP_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET),
        ("SPIN_VARIABLE_API_TOKENS", DEV_API_TOKENS),
    ] {
        if std::env::var_os(variable).is_none() {
            eprintln!("xtask: {variable} not set; using the local development value");
            host.env(variable, dev_value);
        }
    }
    eprintln!(
        "xtask: development tokens: associate `dev-associate`, manager `dev-manager`, scheduler `dev-scheduler`"
    );
    eprintln!("xtask: the web workspace is at http://{listen}/ (sign in with a token)");
    start_delivery_scheduler(listen);
    run_command(host, "run the host")
}

/// Spin HTTP components have no timers, so a deployment runs a scheduler
/// beside the app that starts event-delivery runs (README, "Decisions back
/// to the ERP"); locally `up` is that scheduler, with the token in
/// `CREDIT_DESK_SCHEDULER_TOKEN` (the development one by default).
fn start_delivery_scheduler(listen: &str) {
    let token = match std::env::var("CREDIT_DESK_SCHEDULER_TOKEN") {
        Ok(token) => token,
        Err(_) if std::env::var_os("SPIN_VARIABLE_API_TOKENS").is_none() => {
            DEV_SCHEDULER_TOKEN.to_string()
        }
        Err(_) => {
            eprintln!(
                "xtask: no CREDIT_DESK_SCHEDULER_TOKEN (an integration token of api_tokens): events are not pushed"
            );
            return;
        }
    };
    let listen = listen.to_string();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(DELIVERY_TICK);
            let _ = start_delivery_run(&listen, &token);
        }
    });
}

/// One `POST /events/deliveries/run`, its answer read and dropped.
fn start_delivery_run(listen: &str, token: &str) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(listen)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    write!(
        stream,
        "POST /events/deliveries/run HTTP/1.1\r\nhost: {listen}\r\nauthorization: Bearer {token}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )?;
    stream.read_to_end(&mut vec![])?;
    Ok(())
}

/// The host's own unit tests run with the `host` profile, reusing the
/// wasmtime build from `build_app` instead of compiling it a second time.
/// Components are wasm-only libraries (their tests are the end-to-end
/// tests), so the native test run leaves them out.
fn test(root: &Path, cargo_args: &[String]) -> Result<()> {
    let mut host = cargo(root);
    host.args(["test", "-p", "spin-host", "--profile", "host"])
        .args(cargo_args);
    run_command(host, "run the host's unit tests")?;
    let mut rest = cargo(root);
    rest.args(["test", "--workspace", "--exclude", "spin-host"]);
    for component in component_packages(root)? {
        rest.args(["--exclude", &component]);
    }
    rest.args(cargo_args)
        .env("SPIN_HOST_BIN", host_binary(root));
    run_command(rest, "run the tests")
}

/// The benchmark (`crates/bench`), built with the host's profile (fully
/// optimised, as the host is) and run from the repository root. The load
/// comes from Debian's `wrk`, never from a downloaded tool.
fn bench(root: &Path, bench_args: &[String]) -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!(
            "the benchmark drives the host with wrk; install it with \
             `apt-get install -y --no-install-recommends wrk`"
        );
    }
    let mut bench = cargo(root);
    bench
        .args(["run", "--quiet", "-p", "bench", "--profile", "host", "--"])
        .args(bench_args);
    run_command(bench, "run the benchmark")
}

fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root);
    command
}

fn run_command(mut command: Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;
    if !status.success() {
        bail!("failed to {what} ({status})");
    }
    Ok(())
}
