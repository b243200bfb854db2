//! Load through loopback HTTP with wrk (Debian's `wrk`): a closed loop of
//! `connections` keep-alive connections on one wrk thread, so the load
//! generator takes at most one of the machine's cores. A Lua script makes
//! every hold-check request a new order and counts the outcomes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::stats::Latencies;

const ORDERS_SCRIPT: &str = include_str!("wrk/orders.lua");
const REPLAY_SCRIPT: &str = include_str!("wrk/replay.lua");
const PAGES_SCRIPT: &str = include_str!("wrk/pages.lua");
const REPORT_SCRIPT: &str = include_str!("wrk/report.lua");

/// What one wrk run measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadRun {
    pub connections: usize,
    pub requests: u64,
    pub seconds: f64,
    pub latencies: Latencies,
    /// Hold checks answered `released` (for other routes: every 200).
    pub released: u64,
    pub held: u64,
    /// Answers other than 200.
    pub failed: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
    /// Answers marked `webhook-replay: true`: stored, not worked out now.
    pub replayed: u64,
    /// Whether requests written beforehand ran out before the end.
    pub ran_out: bool,
}

impl LoadRun {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    pub fn clean(&self) -> bool {
        self.failed == 0 && self.socket_errors == 0 && self.replayed == 0
    }

    /// Errors of any kind: answers other than 2xx, socket errors, replays.
    pub fn errors(&self) -> u64 {
        self.failed + self.socket_errors + self.replayed
    }
}

/// wrk and its scripts.
pub struct Wrk {
    program: PathBuf,
    orders_script: PathBuf,
    replay_script: PathBuf,
    pages_script: PathBuf,
    get_script: PathBuf,
}

/// How a hold-check run addresses the book.
pub struct OrderLoad<'a> {
    /// Prefix of the run's order ids, so that no two runs share one.
    pub tag: &'a str,
    pub customers: usize,
    pub token: &'a str,
    pub as_of: &'a str,
}

impl Wrk {
    /// Checks that wrk runs and writes its scripts into `work_dir`.
    pub fn new(program: &Path, work_dir: &Path) -> Result<Wrk> {
        let version = Command::new(program).arg("--version").output();
        // `wrk --version` prints its banner and exits with status 1.
        if version.is_err() {
            bail!(
                "cannot run {}: install wrk (`apt-get install -y --no-install-recommends wrk`)",
                program.display()
            );
        }
        let script = |name: &str, text: &str| -> Result<PathBuf> {
            let path = work_dir.join(name);
            std::fs::write(&path, format!("{text}\n{REPORT_SCRIPT}"))?;
            Ok(path)
        };
        Ok(Wrk {
            program: program.to_path_buf(),
            orders_script: script("orders.lua", ORDERS_SCRIPT)?,
            replay_script: script("replay.lua", REPLAY_SCRIPT)?,
            pages_script: script("pages.lua", PAGES_SCRIPT)?,
            get_script: script("get.lua", "")?,
        })
    }

    /// POST /orders at `base_url` with new orders.
    pub fn orders(
        &self,
        base_url: &str,
        connections: usize,
        duration: Duration,
        load: &OrderLoad,
    ) -> Result<LoadRun> {
        let customers = load.customers.to_string();
        self.run(
            &self.orders_script,
            &format!("{base_url}/orders"),
            connections,
            duration,
            &[load.tag, &customers, load.token, load.as_of],
        )
    }

    /// GET `url` again and again.
    pub fn get(&self, url: &str, connections: usize, duration: Duration) -> Result<LoadRun> {
        self.run(&self.get_script, url, connections, duration, &[])
    }

    /// Sends the requests written in `requests` (see `signed.rs`), in
    /// order, each once. Fails when they run out before the time is up.
    pub fn replay(
        &self,
        base_url: &str,
        connections: usize,
        duration: Duration,
        requests: &Path,
    ) -> Result<LoadRun> {
        let file = requests.to_string_lossy();
        let run = self.run(
            &self.replay_script,
            base_url,
            connections,
            duration,
            &[&file],
        )?;
        if run.ran_out {
            bail!(
                "the {} pre-signed requests in {} ran out before the run's end: sign more",
                run.requests,
                requests.display()
            );
        }
        Ok(run)
    }

    /// GETs `paths` of `base_url` in turn, with a bearer token.
    pub fn pages(
        &self,
        base_url: &str,
        connections: usize,
        duration: Duration,
        token: &str,
        paths: &[String],
    ) -> Result<LoadRun> {
        let mut args = vec![token];
        args.extend(paths.iter().map(String::as_str));
        self.run(&self.pages_script, base_url, connections, duration, &args)
    }

    fn run(
        &self,
        script: &Path,
        url: &str,
        connections: usize,
        duration: Duration,
        args: &[&str],
    ) -> Result<LoadRun> {
        let output = Command::new(&self.program)
            .arg("--threads=1")
            .arg(format!("--connections={connections}"))
            .arg(format!("--duration={}s", duration.as_secs().max(1)))
            .arg("--timeout=10s")
            .arg("--script")
            .arg(script)
            .arg(url)
            .arg("--")
            .args(args)
            .output()
            .with_context(|| format!("cannot run {}", self.program.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wrk failed ({}): {stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        parse(&stdout, connections)
            .with_context(|| format!("unexpected wrk output for {url}:\n{stdout}"))
    }
}

/// Reads the `BENCH key=value ...` line the report script prints.
fn parse(stdout: &str, connections: usize) -> Result<LoadRun> {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("BENCH "))
        .context("no BENCH line")?;
    let field = |name: &str| -> Result<u64> {
        line.split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .with_context(|| format!("no {name}"))?
            .parse()
            .with_context(|| format!("{name} is not a number"))
    };
    Ok(LoadRun {
        connections,
        requests: field("requests")?,
        seconds: field("duration_us")? as f64 / 1e6,
        latencies: Latencies {
            p50: field("p50")? as f64,
            p99: field("p99")? as f64,
            p999: field("p999")? as f64,
        },
        released: field("released")?,
        held: field("held")?,
        failed: field("failed")?,
        socket_errors: field("socket_errors")?,
        replayed: field("replayed")?,
        ran_out: field("exhausted")? > 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_report_line() {
        let stdout = "Running 10s test @ http://127.0.0.1:1/orders\n  1 threads and 16 connections\n\
            BENCH requests=30000 duration_us=10000000 p50=4100 p99=9000 p999=12000 released=20000 held=10000 failed=0 socket_errors=0 replayed=0 exhausted=0\n";
        let run = parse(stdout, 16).unwrap();
        assert_eq!(run.per_second(), 3000.0);
        assert_eq!(run.latencies.p999, 12000.0);
        assert_eq!((run.released, run.held), (20000, 10000));
        assert!(run.clean() && !run.ran_out);
        let replays = stdout.replace("replayed=0 exhausted=0", "replayed=3 exhausted=1");
        let run = parse(&replays, 16).unwrap();
        assert!(!run.clean() && run.ran_out);
        assert_eq!(run.errors(), 3);
        assert!(parse("Running 10s test\n", 16).is_err());
    }
}
