//! The ERP's real path through the host: signed webhooks with their
//! exactly-once claims (`POST /orders` at each connection count, and
//! `POST /payments`), and the retention purge of a year of claims running
//! while the ERP sends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::events::Scheduler;
use crate::host::Host;
use crate::load::LoadRun;
use crate::signed::{ErpSigner, Message};
use crate::{Bench, WARM_UP, cpu_ticks, print_run, report};

/// Signs a run of `message`s just before it and sends them at
/// `connections`; the host's CPU per request with it.
pub fn signed_run(
    bench: &Bench,
    host: &Host,
    message: Message,
    tag: &str,
    connections: usize,
    duration: Duration,
) -> Result<report::CheckRun> {
    let file = sign(bench, host, message, tag, duration)?;
    send(bench, host, &file, connections, duration)
}

/// Signs enough `message`s for `duration` into a file of their own.
fn sign(
    bench: &Bench,
    host: &Host,
    message: Message,
    tag: &str,
    duration: Duration,
) -> Result<PathBuf> {
    let signer = ErpSigner::new(crate::ERP_SECRET)?;
    let file = bench.work.join(format!("signed-{tag}.req"));
    crate::signed::write_run(&file, host.addr, message, tag, duration, &signer)?;
    Ok(file)
}

/// Sends the signed requests of `file` (and removes it).
fn send(
    bench: &Bench,
    host: &Host,
    file: &Path,
    connections: usize,
    duration: Duration,
) -> Result<report::CheckRun> {
    let cpu_before = cpu_ticks(host)?;
    let run = bench
        .wrk
        .replay(&host.base_url(), connections, duration, file)?;
    let cpu = cpu_ticks(host)? - cpu_before;
    let _ = std::fs::remove_file(file);
    Ok(report::CheckRun {
        host_cpu_per_request: Duration::from_millis(cpu * 10) / run.requests.max(1) as u32,
        run,
    })
}

/// The hold check through signed webhooks at each connection count, each
/// on a host of its own with a fresh copy of the book.
pub fn signed_checks(bench: &Bench) -> Result<Vec<report::CheckRun>> {
    let mut runs = vec![];
    for &connections in &bench.args.connections {
        let host = bench.host(&format!("signed-c{connections}"), &[])?;
        signed_run(
            bench,
            &host,
            Message::Order,
            &format!("sw{connections}-"),
            connections,
            WARM_UP,
        )?;
        let check = signed_run(
            bench,
            &host,
            Message::Order,
            &format!("sc{connections}-"),
            connections,
            bench.seconds,
        )?;
        print_run("POST /orders, signed", &check.run);
        runs.push(check);
    }
    Ok(runs)
}

/// Payments posted by the ERP (signed), at 16 connections.
pub fn payments(bench: &Bench) -> Result<report::CheckRun> {
    const CONNECTIONS: usize = 16;
    let host = bench.host("payments", &[])?;
    signed_run(bench, &host, Message::Payment, "pw-", CONNECTIONS, WARM_UP)?;
    let posted = signed_run(
        bench,
        &host,
        Message::Payment,
        "pc-",
        CONNECTIONS,
        bench.seconds,
    )?;
    print_run("POST /payments, signed", &posted.run);
    Ok(posted)
}

/// Between delivery runs, as `cargo xtask up` schedules them.
const SCHEDULER_PAUSE: Duration = Duration::from_millis(500);

/// The signed hold check at 16 connections with nobody purging, then
/// while delivery runs purge the year of claims, one every half second
/// (each purges up to 500 claims and their answers).
#[cfg_attr(test, derive(Default))]
pub struct PurgeRun {
    pub quiet: LoadRun,
    pub purging: LoadRun,
    /// Delivery runs during the purging run: each one's time.
    pub batches: crate::stats::Latencies,
    pub batch_count: usize,
    /// Claims (and their answers) purged during the purging run.
    pub claims_purged: u64,
}

pub fn purge(bench: &Bench) -> Result<PurgeRun> {
    const CONNECTIONS: usize = 16;
    let host = bench.host("purge", &[])?;
    let run = |tag: &str, duration| {
        signed_run(bench, &host, Message::Order, tag, CONNECTIONS, duration).map(|c| c.run)
    };
    run("uw-", WARM_UP)?;
    let quiet = run("uq-", bench.seconds)?;
    print_run("POST /orders, signed, nobody purging", &quiet);
    // Signed first, so that only the load runs beside the purge.
    let file = sign(bench, &host, Message::Order, "up-", bench.seconds)?;
    let scheduler = Scheduler::start(host.addr, crate::TOKEN, Some(SCHEDULER_PAUSE));
    let purging = send(bench, &host, &file, CONNECTIONS, bench.seconds)?.run;
    let runs = scheduler.stop();
    print_run("POST /orders, signed, claims purged", &purging);
    let purge = PurgeRun {
        quiet,
        purging,
        batches: crate::stats::Latencies::from_durations(runs.iter().map(|r| r.took).collect()),
        batch_count: runs.len(),
        claims_purged: runs.iter().map(|r| r.requests_purged).sum(),
    };
    println!(
        "purge: {} runs, {} claims purged, a run p50 {}, p99 {}",
        purge.batch_count,
        purge.claims_purged,
        crate::stats::ms(purge.batches.p50),
        crate::stats::ms(purge.batches.p99)
    );
    Ok(purge)
}
