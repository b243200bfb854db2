//! The outbox under load: the hold check at 16 connections while every
//! event it writes is pushed to a local receiver, against the same run
//! with nobody pushing. The receiver counts what arrives and how long after
//! its commit (the event's `time`, stamped by the request that wrote it).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::host;
use crate::load::LoadRun;
use crate::stats::Latencies;

/// An HTTP receiver on loopback answering 204 to every event, keeping when
/// each arrived against when it was committed.
pub struct Receiver {
    pub addr: SocketAddr,
    lags: Arc<Mutex<Vec<Duration>>>,
}

impl Receiver {
    pub fn start() -> Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let lags = Arc::new(Mutex::new(vec![]));
        let kept = lags.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || serve(stream, &kept));
            }
        });
        Ok(Receiver { addr, lags })
    }

    /// Forgets what arrived so far.
    pub fn reset(&self) {
        self.lags.lock().unwrap().clear();
    }

    /// How many events arrived, and their lags.
    pub fn arrived(&self) -> (usize, Latencies) {
        let lags = self.lags.lock().unwrap().clone();
        (lags.len(), Latencies::from_durations(lags))
    }
}

fn serve(stream: TcpStream, lags: &Mutex<Vec<Duration>>) {
    let mut reader = BufReader::new(&stream);
    while let Some(body) = read_request(&mut reader) {
        let arrived = Utc::now();
        if let Some(lag) = lag(&body, arrived) {
            lags.lock().unwrap().push(lag);
        }
        if (&stream)
            .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

/// The body of one request (head read and dropped; sent with a length or
/// in chunks); `None` at the end of the connection.
fn read_request(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let (mut length, mut chunked) = (0, false);
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    if !chunked {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        return Some(body);
    }
    let mut body = vec![];
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let size = usize::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2]; // the chunk and its CRLF
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// From the event's `time` to `arrived`.
fn lag(body: &[u8], arrived: DateTime<Utc>) -> Option<Duration> {
    let event: serde_json::Value = serde_json::from_slice(body).ok()?;
    let committed: DateTime<Utc> = event["time"].as_str()?.parse().ok()?;
    (arrived - committed).to_std().ok()
}

/// Starts delivery runs, as a deployment's scheduler does, until
/// stopped; keeps what each run took and purged.
pub struct Scheduler {
    stop: Arc<AtomicBool>,
    runs: std::thread::JoinHandle<Vec<DeliveryRun>>,
}

/// One `POST /events/deliveries/run` as the scheduler saw it.
pub struct DeliveryRun {
    pub took: Duration,
    /// Webhook and Idempotency-Key claims forgotten by the run.
    pub requests_purged: u64,
}

impl Scheduler {
    /// A run `pause` after the end of the one before (`cargo xtask up`
    /// pauses half a second); with no pause, back to back, as while a
    /// backlog is pushed (a run pushes for up to five seconds).
    pub fn start(addr: SocketAddr, token: &'static str, pause: Option<Duration>) -> Scheduler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let runs = std::thread::spawn(move || {
            let auth = format!("Bearer {token}");
            let mut runs = vec![];
            while !stopped.load(Ordering::Relaxed) {
                let started = Instant::now();
                let answer = host::send(
                    addr,
                    "POST",
                    "/events/deliveries/run",
                    &[("authorization", &auth)],
                    "",
                );
                let took = started.elapsed();
                if let Ok((200, body)) = answer {
                    let summary: serde_json::Value =
                        serde_json::from_str(&body).unwrap_or_default();
                    runs.push(DeliveryRun {
                        took,
                        requests_purged: summary["requests_purged"].as_u64().unwrap_or(0),
                    });
                }
                match pause {
                    Some(pause) => std::thread::sleep(pause),
                    // A run that found nothing to do ends at once: breathe a little.
                    None if took < Duration::from_millis(20) => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    None => {}
                }
            }
            runs
        });
        Scheduler { stop, runs }
    }

    /// Stops after the run under way; the runs made.
    pub fn stop(self) -> Vec<DeliveryRun> {
        self.stop.store(true, Ordering::Relaxed);
        self.runs.join().unwrap_or_default()
    }
}

/// The outbox figures of one run.
#[cfg_attr(test, derive(Default))]
pub struct OutboxRun {
    /// The hold check with nobody pushing.
    pub quiet: LoadRun,
    /// The hold check while every event is pushed.
    pub pushing: LoadRun,
    /// Events that reached the receiver during the pushing run, per second.
    pub delivered_per_second: f64,
    /// From commit to receipt.
    pub lag: Latencies,
    /// Events still to push when the pushing run ended.
    pub left_behind: u64,
    /// The quiet run's events, pushed with nothing else running.
    pub backlog: Backlog,
}

/// Pushing alone: the backlog of the quiet run delivered.
#[cfg_attr(test, derive(Default))]
pub struct Backlog {
    pub events: u64,
    pub took: Duration,
    /// The host's CPU time over it, per event.
    pub cpu_per_event: Duration,
}

impl Backlog {
    pub fn per_second(&self) -> f64 {
        self.events as f64 / self.took.as_secs_f64()
    }
}

/// Reads `pending` from the delivery health, as a manager would.
pub fn pending(addr: SocketAddr, token: &str) -> Result<u64> {
    let auth = format!("Bearer {token}");
    let (status, body) = host::send(
        addr,
        "GET",
        "/events/deliveries",
        &[("authorization", &auth)],
        "",
    )?;
    anyhow::ensure!(status == 200, "delivery health answered {status}: {body}");
    let health: serde_json::Value = serde_json::from_str(&body)?;
    health["pending"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no pending count in {body}"))
}
