//! `cargo xtask bench`: how fast the desk is on its real paths through the
//! host, and what the wasm host and HTTP cost against the same checks run
//! natively. It prints figures and writes them to BENCHMARKS.md; it asserts
//! nothing about time. Every part runs on a fresh copy of the same book.
//!
//! 1. Seeds a book (10,000 customers, 200,000 invoices, 20,000 open orders,
//!    a year of the ERP's webhook claims and stored answers).
//! 2. Starts the host on it, cold (compiling) and warm (compiled-component
//!    cache), timing spawn to first answered request.
//! 3. Drives `POST /orders` with wrk at fixed connection counts, every
//!    request a new order, with a manager's bearer token; the host's peak
//!    RSS afterwards.
//! 4. Runs the same checks natively (rusqlite, no wasm, no HTTP).
//! 5. Measures per-request instantiation on a trivial route: the probe
//!    fixture with and without instance reuse, and the health route.
//! 6. The ERP's real path: the hold check through signed webhooks at the
//!    same connection counts; the same while delivery runs purge the year
//!    of claims; payments posted by the ERP.
//! 7. What people read: the held queue under a few filters and sorts, the
//!    manager's dashboard as the page loads it, and customer search.
//! 8. The outbox: the hold check at 16 connections with nobody pushing
//!    events, then while every event is pushed to a local receiver (events
//!    per second delivered, lag from commit to receipt).
//! 9. Customer communications: the dunning proposal over the whole book, a
//!    run issuing every letter due, and a statement of 1,000 movements.

mod book;
mod dunning;
mod erp;
mod events;
mod history;
mod host;
mod load;
mod native;
mod pages;
mod report;
mod signed;
mod stats;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

use crate::book::Book;
use crate::host::{Host, HostSpec};
use crate::load::{LoadRun, OrderLoad, Wrk};

#[derive(Parser)]
#[command(about = "The desk's real paths through the host, with a native baseline")]
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
    /// The hold checks through the host with a bearer token (start-up included).
    Host,
    /// The same checks natively.
    Native,
    /// The trivial routes.
    Trivial,
    /// The hold check through signed webhooks.
    Signed,
    /// The signed hold check while the year of claims is purged, and without.
    Purge,
    /// Payments posted by the ERP.
    Payments,
    /// The held queue's pages.
    Queue,
    /// The manager's dashboard.
    Dashboard,
    /// Customer search.
    Search,
    /// The hold check with events pushed, and without.
    Outbox,
    /// The dunning proposal and run, and a statement of account.
    Dunning,
}

/// The bearer token of the manager the load generator calls as.
const TOKEN: &str = "bench-manager-token";
/// The ERP's webhook secret (`erp_webhook_secret`).
const ERP_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const APP_ENV: &[(&str, &str)] = &[
    (
        "SPIN_VARIABLE_API_TOKENS",
        "bench-manager-token=bench:manager",
    ),
    ("SPIN_VARIABLE_ERP_WEBHOOK_SECRET", ERP_SECRET),
];
const FIXTURE_ENV: &[(&str, &str)] = &[("SPIN_VARIABLE_API_KEY", "bench")];
const SERVE_TIMEOUT: Duration = Duration::from_secs(120);
/// Load before each measured run, not counted.
const WARM_UP: Duration = Duration::from_secs(3);
/// Dashboard loads measured.
const DASHBOARD_LOADS: usize = 10;

/// What every part works with.
pub struct Bench {
    args: Args,
    wrk: Wrk,
    /// Where the book, the hosts' state and logs go.
    work: PathBuf,
    book: Book,
    seconds: Duration,
}

impl Bench {
    /// Starts a host on a fresh copy of the book, in a state directory
    /// and with a log named `name`; `env` adds to the app's.
    fn start_host(&self, name: &str, env: &[(&str, &str)]) -> Result<Host> {
        self.start_host_with(name, env, |_| Ok(()))
    }

    /// As [`Bench::start_host`], with `add` writing more into the copy of
    /// the book (in the state directory) before the host starts.
    fn start_host_with(
        &self,
        name: &str,
        env: &[(&str, &str)],
        add: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<Host> {
        let state = self.work.join(name);
        self.book.install(&state)?;
        add(&state)?;
        let mut all_env = APP_ENV.to_vec();
        all_env.extend_from_slice(env);
        // One compiled-component cache for every host: the first start
        // (the cold one) fills it.
        let cache = self.work.join("cache");
        Host::start(&HostSpec {
            binary: &self.args.host,
            manifest: &self.args.manifest.canonicalize()?,
            state_dir: &state,
            env: &all_env,
            args: &["--cache-dir", &cache.to_string_lossy()],
            log: self.work.join(format!("host-{name}.log")),
        })
    }

    /// A host as [`Bench::start_host`] starts it, serving.
    fn host(&self, name: &str, env: &[(&str, &str)]) -> Result<Host> {
        let mut host = self.start_host(name, env)?;
        host.wait_until_serving(SERVE_TIMEOUT)?;
        Ok(host)
    }
}

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
    let (book, seeded) = book::seed(&work)?;
    print_seeded(&seeded);
    let bench = Bench {
        args,
        wrk,
        work,
        book,
        seconds,
    };
    if let Some(part) = bench.args.only {
        return run_part(&bench, part);
    }
    let (startup, checks, rss) = hold_checks(&bench)?;
    let native = native_checks(&bench)?;
    let trivial = trivial_routes(&bench, seconds / 2)?;
    let signed = erp::signed_checks(&bench)?;
    let purge = erp::purge(&bench)?;
    let payments = erp::payments(&bench)?;
    let reads = reading(&bench, &[Part::Queue, Part::Dashboard, Part::Search])?;
    let outbox = outbox(&bench)?;
    let dunning = communications(&bench)?;

    let figures = report::Figures {
        seeded,
        startup,
        checks,
        peak_rss_kib: rss,
        native,
        trivial,
        signed,
        purge,
        payments,
        queue: reads.queue,
        dashboard: reads.dashboard.context("no dashboard figures")?,
        search: reads.search,
        outbox,
        dunning,
    };
    let table = report::render(&figures, &report::Machine::this_one());
    println!("\n{table}");
    if !bench.args.no_write {
        report::write(&bench.args.out, &table)?;
        println!("wrote {}", bench.args.out.display());
    }
    Ok(())
}

/// One part, printed only.
fn run_part(bench: &Bench, part: Part) -> Result<()> {
    match part {
        Part::Host => hold_checks(bench).map(drop),
        Part::Native => native_checks(bench).map(drop),
        Part::Trivial => trivial_routes(bench, bench.seconds).map(drop),
        Part::Signed => erp::signed_checks(bench).map(drop),
        Part::Purge => erp::purge(bench).map(drop),
        Part::Payments => erp::payments(bench).map(drop),
        Part::Queue | Part::Dashboard | Part::Search => reading(bench, &[part]).map(drop),
        Part::Outbox => outbox(bench).map(drop),
        Part::Dunning => communications(bench).map(drop),
    }
}

fn print_seeded(seeded: &book::Seeded) {
    println!(
        "seeded {} customers, {} invoices ({} open: {} past due, {} disputed), {} open orders ({} held), \
         {} webhook claims ({} past retention) in {:.1} s",
        seeded.customers,
        seeded.invoices,
        seeded.open_invoices,
        seeded.past_due_invoices,
        seeded.disputed_invoices,
        seeded.open_orders,
        seeded.held_orders,
        seeded.webhooks.claims,
        seeded.webhooks.expired,
        seeded.elapsed.as_secs_f64()
    );
}

/// The same checks natively, on a copy of the book.
fn native_checks(bench: &Bench) -> Result<native::NativeRun> {
    let native_db = bench.work.join("native.db");
    std::fs::copy(&bench.book.db, &native_db)?;
    let native = native::run(&native_db, bench.seconds);
    // Deleted before the next part, as a host's state is (`Host`'s drop).
    book::remove_database(&native_db);
    let native = native?;
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

fn bearer_load(tag: &str) -> OrderLoad<'_> {
    OrderLoad {
        tag,
        customers: book::CUSTOMERS,
        token: TOKEN,
        as_of: book::AS_OF,
    }
}

/// Start-up times, the hold-check runs and the host's peak RSS. Each
/// connection count gets a host of its own on a fresh copy of the book
/// (sharing the compiled-component cache), so that no run measures a book
/// the previous one grew.
fn hold_checks(bench: &Bench) -> Result<(report::Startup, Vec<report::CheckRun>, u64)> {
    // The first start compiles every component; the second finds them in
    // the cache. Each host stops at the end of its block.
    let cold = startup(&mut bench.start_host("cold", &[])?, "cold")?;
    let warm = startup(&mut bench.start_host("warm", &[])?, "warm")?;
    println!(
        "start-up: cold {} ms to serving, {} ms to the first hold check; warm {} ms / {} ms",
        cold.serving.as_millis(),
        cold.first.as_millis(),
        warm.serving.as_millis(),
        warm.first.as_millis()
    );
    let mut runs = vec![];
    let mut peak_rss = 0;
    for &connections in &bench.args.connections {
        let host = bench.host(&format!("c{connections}"), &[])?;
        let url = host.base_url();
        // Warm-up: instances, connections, the OS's page cache.
        let warmup = format!("w{connections}");
        bench
            .wrk
            .orders(&url, connections, WARM_UP, &bearer_load(&warmup))?;
        let tag = format!("c{connections}");
        let cpu_before = cpu_ticks(&host)?;
        let run = bench
            .wrk
            .orders(&url, connections, bench.seconds, &bearer_load(&tag))?;
        let cpu = cpu_ticks(&host)? - cpu_before;
        print_run("POST /orders", &run);
        runs.push(report::CheckRun {
            host_cpu_per_request: Duration::from_millis(cpu * 10) / run.requests.max(1) as u32,
            run,
        });
        peak_rss = peak_rss.max(host.peak_rss_kib()?);
    }
    println!("host peak RSS: {} MiB", peak_rss / 1024);
    Ok((report::Startup { cold, warm }, runs, peak_rss))
}

/// What [`reading`] measured.
struct Reads {
    queue: Vec<pages::QueueRun>,
    dashboard: Option<pages::DashboardRun>,
    search: Vec<pages::SearchRun>,
}

/// The queue's pages, the dashboard's loads and customer search (those of
/// `parts`), on one host: they only read.
fn reading(bench: &Bench, parts: &[Part]) -> Result<Reads> {
    let host = bench.host("reading", &[])?;
    let mut reads = Reads {
        queue: vec![],
        dashboard: None,
        search: vec![],
    };
    // One person at a time: each page's own time, not the machine's
    // throughput.
    let (connections, duration) = (1, bench.seconds / 2);
    if parts.contains(&Part::Queue) {
        reads.queue = pages::queue(&bench.wrk, host.addr, TOKEN, connections, duration)?;
    }
    if parts.contains(&Part::Dashboard) {
        let mut d = pages::dashboard(host.addr, TOKEN, book::AS_OF, DASHBOARD_LOADS)?;
        println!(
            "dashboard: {} loads, p50 {}, slowest {} (tiles p50 {}, trend p50 {})",
            d.count,
            stats::ms(d.loads.p50),
            stats::ms(d.loads.p999),
            stats::ms(d.dashboard.p50),
            stats::ms(d.trend.p50)
        );
        d.page = pages::dashboard_page(&host.base_url(), TOKEN, book::AS_OF, DASHBOARD_LOADS)?;
        match &d.page {
            Some(page) => println!(
                "dashboard page in Chromium: {} loads, tiles p50 {}, slowest {}; {} requests answered p50 {}",
                page.count,
                stats::ms(page.tiles.p50),
                stats::ms(page.tiles.p999),
                page.requests,
                stats::ms(page.answered.p50)
            ),
            None => println!(
                "dashboard page: not timed (no Chromium at {})",
                pages::CHROMIUM
            ),
        }
        reads.dashboard = Some(d);
    }
    if parts.contains(&Part::Search) {
        reads.search = pages::search(
            &bench.wrk,
            host.addr,
            TOKEN,
            book::AS_OF,
            connections,
            duration,
        )?;
    }
    Ok(reads)
}

/// The secret pushed events are signed with (the receiver does not check).
const EVENTS_SECRET: &str = "whsec_YmVuY2gtZXZlbnRzLXNlY3JldA==";

/// The hold check at 16 connections with nobody pushing events (they pile
/// up in the outbox), then — once that backlog is delivered — while a
/// scheduler pushes every event to a local receiver.
fn outbox(bench: &Bench) -> Result<events::OutboxRun> {
    const CONNECTIONS: usize = 16;
    let receiver = events::Receiver::start()?;
    let url = format!("http://{}/credit-events", receiver.addr);
    let origin = format!("http://{}", receiver.addr);
    let host = bench.host(
        "outbox",
        &[
            ("SPIN_VARIABLE_ERP_EVENTS_URL", url.as_str()),
            ("SPIN_VARIABLE_ERP_EVENTS_HOST", origin.as_str()),
            ("SPIN_VARIABLE_ERP_EVENTS_SECRET", EVENTS_SECRET),
        ],
    )?;
    let wrk = &bench.wrk;
    let url = host.base_url();
    wrk.orders(&url, CONNECTIONS, WARM_UP, &bearer_load("ow"))?;
    let quiet = wrk.orders(&url, CONNECTIONS, bench.seconds, &bearer_load("oq"))?;
    print_run("POST /orders, nobody pushing", &quiet);

    let scheduler = events::Scheduler::start(host.addr, TOKEN, None);
    let backlog = deliver_backlog(&host)?;
    println!(
        "backlog: {} events pushed in {:.1} s ({:.0}/s), host CPU {} per event",
        backlog.events,
        backlog.took.as_secs_f64(),
        backlog.per_second(),
        stats::ms(backlog.cpu_per_event.as_secs_f64() * 1e6)
    );
    receiver.reset();
    let pushing = wrk.orders(&url, CONNECTIONS, bench.seconds, &bearer_load("op"))?;
    let (arrived, lag) = receiver.arrived();
    let left_behind = events::pending(host.addr, TOKEN)?;
    scheduler.stop();
    print_run("POST /orders, every event pushed", &pushing);
    let run = events::OutboxRun {
        delivered_per_second: arrived as f64 / pushing.seconds,
        quiet,
        pushing,
        lag,
        left_behind,
        backlog,
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

/// The dunning proposal and run and a statement, through a host on a copy
/// of the book with the statement's customer added.
fn communications(bench: &Bench) -> Result<dunning::DunningRun> {
    let mut host = bench.start_host_with("dunning", &[], |state| {
        dunning::add_statement_customer(&state.join("sqlite_db.db"))
    })?;
    host.wait_until_serving(SERVE_TIMEOUT)?;
    let run = dunning::measure(host.addr, TOKEN)?;
    println!(
        "dunning: proposal over {} customers ({} letters due) p50 {}, slowest {}; a run issued {} letters in {:.1} s; the proposal after it p50 {}",
        run.customers,
        run.letters_due,
        stats::ms(run.proposal.p50),
        stats::ms(run.proposal.p99),
        run.issued,
        run.run.as_secs_f64(),
        stats::ms(run.proposal_after.p50),
    );
    println!(
        "statement of {} movements: JSON p50 {}, slowest {}; print HTML p50 {}, slowest {}",
        run.statement_movements,
        stats::ms(run.statement_json.p50),
        stats::ms(run.statement_json.p99),
        stats::ms(run.statement_html.p50),
        stats::ms(run.statement_html.p99),
    );
    Ok(run)
}

/// Waits until the events written so far are pushed (a scheduler is
/// running), timing it.
fn deliver_backlog(host: &Host) -> Result<events::Backlog> {
    let started = std::time::Instant::now();
    let cpu_before = cpu_ticks(host)?;
    let events = events::pending(host.addr, TOKEN)?;
    while events::pending(host.addr, TOKEN)? > 0 {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "the backlog was not delivered"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = started.elapsed();
    let cpu = Duration::from_millis((cpu_ticks(host)? - cpu_before) * 10);
    Ok(events::Backlog {
        events,
        took,
        cpu_per_event: cpu / events.max(1) as u32,
    })
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
fn trivial_routes(bench: &Bench, seconds: Duration) -> Result<Vec<report::TrivialRun>> {
    let (args, wrk, work) = (&bench.args, &bench.wrk, &bench.work);
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
        "{what} c={}: {:.0} req/s, p50 {}, p99 {}, p99.9 {} ({} released, {} held, {} failed, {} socket errors, {} replayed)",
        run.connections,
        run.per_second(),
        stats::ms(run.latencies.p50),
        stats::ms(run.latencies.p99),
        stats::ms(run.latencies.p999),
        run.released,
        run.held,
        run.failed,
        run.socket_errors,
        run.replayed
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
