//! `cargo xtask bench`: how fast the order-hold check is through the host,
//! and what the wasm host and HTTP cost against the same checks run
//! natively. It prints figures and writes them to BENCHMARKS.md; it asserts
//! nothing about time.
//!
//! 1. Seeds a book (10,000 customers, 200,000 invoices, 20,000 open orders).
//! 2. Starts the host on it, cold (compiling) and warm (compiled-component
//!    cache), timing spawn to first answered request.
//! 3. Drives `POST /orders` with wrk at fixed connection counts, every
//!    request a new order; the host's peak RSS afterwards.
//! 4. Runs the same checks natively (rusqlite, no wasm, no HTTP).
//! 5. Measures per-request instantiation on a trivial route: the probe
//!    fixture with and without instance reuse, and the health route.
//! 6. The outbox: the hold check at 16 connections with nobody pushing
//!    events, then while every event is pushed to a local receiver (events
//!    per second delivered, lag from commit to receipt).

mod book;
mod events;
mod host;
mod load;
mod native;
mod report;
mod stats;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

use crate::host::{Host, HostSpec};
use crate::load::{LoadRun, OrderLoad, Wrk};

#[derive(Parser)]
#[command(about = "Hold-check latency and throughput through the host, with a native baseline")]
struct Args {
    /// The host binary.
    #[arg(long, default_value = "target/host/spin-host")]
    host: PathBuf,
    /// The application's manifest.
    #[arg(long, default_value = "spin.toml")]
    manifest: PathBuf,
    /// The host fixtures' manifest (the trivial `probe` component).
    #[arg(long, default_value = "tests/fixtures/spin.toml")]
    fixtures: PathBuf,
    /// The load generator.
    #[arg(long, default_value = "wrk")]
    wrk: PathBuf,
    /// Seconds per measured hold-check run (and for the native run).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connection counts for the hold-check runs.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    connections: Vec<usize>,
    /// Where the book, the hosts' state and logs go.
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    /// The Markdown file whose figures table is replaced.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
    /// Print the figures only; leave the Markdown file alone.
    #[arg(long)]
    no_write: bool,
    /// Run one part only and print its figures (for profiling).
    #[arg(long, value_enum)]
    only: Option<Part>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    /// The hold checks through the host (start-up included).
    Host,
    /// The same checks natively.
    Native,
    /// The trivial routes.
    Trivial,
    /// The hold check with events pushed, and without.
    Outbox,
}

/// The bearer token of the manager the load generator calls as.
const TOKEN: &str = "bench-manager-token";
const APP_ENV: &[(&str, &str)] = &[
    (
        "SPIN_VARIABLE_API_TOKENS",
        "bench-manager-token=bench:manager",
    ),
    (
        "SPIN_VARIABLE_ERP_WEBHOOK_SECRET",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ),
];
const FIXTURE_ENV: &[(&str, &str)] = &[("SPIN_VARIABLE_API_KEY", "bench")];
const SERVE_TIMEOUT: Duration = Duration::from_secs(120);
/// Load before each measured run, not counted.
const WARM_UP: Duration = Duration::from_secs(3);

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("bench: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    for path in [&args.host, &args.manifest, &args.fixtures] {
        if !path.exists() {
            bail!(
                "{} does not exist (run through `cargo xtask bench`, which builds it)",
                path.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&args.work_dir);
    std::fs::create_dir_all(&args.work_dir)?;
    let work = args.work_dir.canonicalize()?;
    let wrk = Wrk::new(&args.wrk, &work)?;
    let seconds = Duration::from_secs(args.seconds);

    let book_path = work.join("book.db");
    let seeded = book::seed(&book_path)?;
    println!(
        "seeded {} customers, {} invoices ({} open: {} past due, {} disputed), {} open orders in {:.1} s",
        seeded.customers,
        seeded.invoices,
        seeded.open_invoices,
        seeded.past_due_invoices,
        seeded.disputed_invoices,
        seeded.open_orders,
        seeded.elapsed.as_secs_f64()
    );

    match args.only {
        Some(Part::Host) => return hold_checks(&args, &wrk, &work, &book_path, seconds).map(drop),
        Some(Part::Native) => return native_checks(&work, &book_path, seconds).map(drop),
        Some(Part::Trivial) => return trivial_routes(&args, &wrk, &work, seconds).map(drop),
        Some(Part::Outbox) => return outbox(&args, &wrk, &work, &book_path, seconds).map(drop),
        None => {}
    }
    let (startup, checks, rss) = hold_checks(&args, &wrk, &work, &book_path, seconds)?;
    let native = native_checks(&work, &book_path, seconds)?;
    let trivial = trivial_routes(&args, &wrk, &work, seconds / 2)?;
    let outbox = outbox(&args, &wrk, &work, &book_path, seconds)?;

    let figures = report::Figures {
        seeded,
        startup,
        checks,
        peak_rss_kib: rss,
        native,
        trivial,
        outbox,
    };
    let table = report::render(&figures, &report::Machine::this_one());
    println!("\n{table}");
    if !args.no_write {
        report::write(&args.out, &table)?;
        println!("wrote {}", args.out.display());
    }
    Ok(())
}

/// The same checks natively, on a copy of the book.
fn native_checks(work: &Path, book_path: &Path, seconds: Duration) -> Result<native::NativeRun> {
    let native_db = work.join("native.db");
    std::fs::copy(book_path, &native_db)?;
    let native = native::run(&native_db, seconds)?;
    println!(
        "native: {:.0} checks/s ({} released, {} held), p50 {}, p99 {}, p99.9 {}",
        native.per_second(),
        native.released,
        native.held,
        stats::ms(native.latencies.p50),
        stats::ms(native.latencies.p99),
        stats::ms(native.latencies.p999)
    );
    Ok(native)
}

/// Start-up times, the hold-check runs and the host's peak RSS. Each
/// connection count gets a host of its own on a fresh copy of the book
/// (sharing the compiled-component cache), so that no run measures a book
/// the previous one grew.
fn hold_checks(
    args: &Args,
    wrk: &Wrk,
    work: &Path,
    book_path: &Path,
    seconds: Duration,
) -> Result<(report::Startup, Vec<report::CheckRun>, u64)> {
    let state = work.join("app");
    let manifest = args.manifest.canonicalize()?;
    let fresh_host = |log: &str| -> Result<Host> {
        std::fs::create_dir_all(&state)?;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(state.join(format!("sqlite_db.db{suffix}")));
        }
        std::fs::copy(book_path, state.join("sqlite_db.db"))?;
        Host::start(&HostSpec {
            binary: &args.host,
            manifest: &manifest,
            state_dir: &state,
            env: APP_ENV,
            args: &[],
            log: work.join(log),
        })
    };

    // The first start compiles every component; the second finds them in
    // the cache. Each host stops at the end of its block.
    let cold = startup(&mut fresh_host("host-cold.log")?, "cold")?;
    let warm = startup(&mut fresh_host("host-warm.log")?, "warm")?;
    println!(
        "start-up: cold {} ms to serving, {} ms to the first hold check; warm {} ms / {} ms",
        cold.serving.as_millis(),
        cold.first.as_millis(),
        warm.serving.as_millis(),
        warm.first.as_millis()
    );

    fn load(tag: &str) -> OrderLoad<'_> {
        OrderLoad {
            tag,
            customers: book::CUSTOMERS,
            token: TOKEN,
            as_of: book::AS_OF,
        }
    }
    let mut runs = vec![];
    let mut peak_rss = 0;
    for &connections in &args.connections {
        let mut host = fresh_host(&format!("host-c{connections}.log"))?;
        host.wait_until_serving(SERVE_TIMEOUT)?;
        // Warm-up: instances, connections, the OS's page cache.
        let warmup = format!("w{connections}");
        wrk.orders(&host.base_url(), connections, WARM_UP, &load(&warmup))?;
        let tag = format!("c{connections}");
        let cpu_before = cpu_ticks(&host)?;
        let run = wrk.orders(&host.base_url(), connections, seconds, &load(&tag))?;
        let cpu = cpu_ticks(&host)? - cpu_before;
        print_run("POST /orders", &run);
        runs.push(report::CheckRun {
            host_cpu_per_request: Duration::from_millis(cpu * 10) / run.requests.max(1) as u32,
            run,
        });
        peak_rss = peak_rss.max(host.peak_rss_kib()?);
        drop(host);
    }
    println!("host peak RSS: {} MiB", peak_rss / 1024);
    Ok((report::Startup { cold, warm }, runs, peak_rss))
}

/// The secret pushed events are signed with (the receiver does not check).
const EVENTS_SECRET: &str = "whsec_YmVuY2gtZXZlbnRzLXNlY3JldA==";

/// The hold check at 16 connections with nobody pushing events (they pile
/// up in the outbox), then — once that backlog is delivered — while a
/// scheduler pushes every event to a local receiver.
fn outbox(
    args: &Args,
    wrk: &Wrk,
    work: &Path,
    book_path: &Path,
    seconds: Duration,
) -> Result<events::OutboxRun> {
    const CONNECTIONS: usize = 16;
    let receiver = events::Receiver::start()?;
    let state = work.join("outbox");
    std::fs::create_dir_all(&state)?;
    std::fs::copy(book_path, state.join("sqlite_db.db"))?;
    let url = format!("http://{}/credit-events", receiver.addr);
    let origin = format!("http://{}", receiver.addr);
    let mut env: Vec<(&str, &str)> = APP_ENV.to_vec();
    env.extend([
        ("SPIN_VARIABLE_ERP_EVENTS_URL", url.as_str()),
        ("SPIN_VARIABLE_ERP_EVENTS_HOST", origin.as_str()),
        ("SPIN_VARIABLE_ERP_EVENTS_SECRET", EVENTS_SECRET),
    ]);
    let mut host = Host::start(&HostSpec {
        binary: &args.host,
        manifest: &args.manifest.canonicalize()?,
        state_dir: &state,
        env: &env,
        args: &[],
        log: work.join("host-outbox.log"),
    })?;
    host.wait_until_serving(SERVE_TIMEOUT)?;
    let load = |tag| OrderLoad {
        tag,
        customers: book::CUSTOMERS,
        token: TOKEN,
        as_of: book::AS_OF,
    };
    wrk.orders(&host.base_url(), CONNECTIONS, WARM_UP, &load("ow"))?;
    let quiet = wrk.orders(&host.base_url(), CONNECTIONS, seconds, &load("oq"))?;
    print_run("POST /orders, nobody pushing", &quiet);

    let stop = events::scheduler(host.addr, TOKEN);
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    while events::pending(host.addr, TOKEN)? > 0 {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the backlog was not delivered"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    receiver.reset();
    let pushing = wrk.orders(&host.base_url(), CONNECTIONS, seconds, &load("op"))?;
    let (arrived, lag) = receiver.arrived();
    let left_behind = events::pending(host.addr, TOKEN)?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    print_run("POST /orders, every event pushed", &pushing);
    let run = events::OutboxRun {
        delivered_per_second: arrived as f64 / pushing.seconds,
        quiet,
        pushing,
        lag,
        left_behind,
    };
    println!(
        "outbox: {:.0} events/s delivered, lag p50 {}, p99 {}; {} left to push at the end; hold check {:.0}% of the quiet run",
        run.delivered_per_second,
        stats::ms(run.lag.p50),
        stats::ms(run.lag.p99),
        run.left_behind,
        100.0 * run.pushing.per_second() / run.quiet.per_second()
    );
    Ok(run)
}

/// Times a host just started to serving and to the first hold check.
fn startup(host: &mut Host, tag: &str) -> Result<report::Start> {
    let serving = host.wait_until_serving(SERVE_TIMEOUT)?;
    let first = first_order(host, tag)?;
    Ok(report::Start { serving, first })
}

/// One hold check on a fresh connection; the time since the host was spawned.
fn first_order(host: &Host, tag: &str) -> Result<Duration> {
    let body = format!(
        r#"{{"id":"FIRST-{tag}","customer_id":"C-00001","amount":"100.00","currency":"USD","ordered_on":"{0}","as_of":"{0}"}}"#,
        book::AS_OF
    );
    let auth = format!("Bearer {TOKEN}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let (status, answer) = host::send(host.addr, "POST", "/orders", &headers, &body)
        .context("the first hold check")?;
    if status != 200 {
        bail!("the first hold check answered {status}: {answer}");
    }
    Ok(host.since_spawn())
}

/// The trivial routes: health (no wasm), the probe with instance reuse and
/// with a fresh instance per request.
fn trivial_routes(
    args: &Args,
    wrk: &Wrk,
    work: &Path,
    seconds: Duration,
) -> Result<Vec<report::TrivialRun>> {
    let seconds = seconds.max(Duration::from_secs(3));
    let manifest = args.fixtures.canonicalize()?;
    let state = work.join("probe");
    let mut runs = vec![];
    for (reuse, extra) in [
        (true, &[][..]),
        (false, &["--max-instance-reuse-count", "1"][..]),
    ] {
        let host_args: Vec<&str> = extra.to_vec();
        let mut host = Host::start(&HostSpec {
            binary: &args.host,
            manifest: &manifest,
            state_dir: &state,
            env: FIXTURE_ENV,
            args: &host_args,
            log: work.join(if reuse {
                "probe.log"
            } else {
                "probe-fresh.log"
            }),
        })?;
        host.wait_until_serving(SERVE_TIMEOUT)?;
        let routes: &[(&str, &str)] = if reuse {
            &[
                ("health (no wasm)", "/.well-known/spin/health"),
                ("probe, instance reused", "/probe/bench"),
            ]
        } else {
            &[("probe, fresh instance per request", "/probe/bench")]
        };
        for (name, path) in routes {
            let url = format!("{}{path}", host.base_url());
            // A short warm-up, then each connection count.
            wrk.get(&url, 16, Duration::from_secs(1))?;
            let one = wrk.get(&url, 1, seconds)?;
            let sixteen = wrk.get(&url, 16, seconds)?;
            print_run(&format!("GET {name}"), &one);
            print_run(&format!("GET {name}"), &sixteen);
            runs.push(report::TrivialRun {
                name: name.to_string(),
                one,
                sixteen,
            });
        }
    }
    Ok(runs)
}

fn print_run(what: &str, run: &LoadRun) {
    println!(
        "{what} c={}: {:.0} req/s, p50 {}, p99 {}, p99.9 {} ({} released, {} held, {} failed, {} socket errors)",
        run.connections,
        run.per_second(),
        stats::ms(run.latencies.p50),
        stats::ms(run.latencies.p99),
        stats::ms(run.latencies.p999),
        run.released,
        run.held,
        run.failed,
        run.socket_errors
    );
}

/// The host's CPU time so far (user + system), in clock ticks of 10 ms.
fn cpu_ticks(host: &Host) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", host.pid()))?;
    // Fields after the command name, which is in parentheses.
    let after = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}
