//! The figures as a Markdown section of BENCHMARKS.md, between markers, so
//! each run replaces the previous run's table and leaves the rest alone.

use std::fmt::{Display, Write as _};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::book::Seeded;
use crate::dunning::DunningRun;
use crate::erp::PurgeRun;
use crate::events::OutboxRun;
use crate::load::LoadRun;
use crate::native::NativeRun;
use crate::pages::{CHROMIUM, DashboardRun, QueueRun, SearchRun};
use crate::stats::{Latencies, ms, thousands};

pub const BEGIN: &str =
    "<!-- bench:begin — written by `cargo xtask bench`; edit outside these markers -->";
pub const END: &str = "<!-- bench:end -->";

/// Spawn to the health route answering, and to the first hold check.
#[cfg_attr(test, derive(Default))]
pub struct Start {
    pub serving: Duration,
    pub first: Duration,
}

#[cfg_attr(test, derive(Default))]
pub struct Startup {
    /// Empty compiled-component cache: every component is compiled.
    pub cold: Start,
    /// The cache from the cold start.
    pub warm: Start,
}

#[cfg_attr(test, derive(Default))]
pub struct CheckRun {
    pub run: LoadRun,
    pub host_cpu_per_request: Duration,
}

#[cfg_attr(test, derive(Default))]
pub struct TrivialRun {
    pub name: String,
    pub one: LoadRun,
    pub sixteen: LoadRun,
}

#[cfg_attr(test, derive(Default))]
pub struct Figures {
    pub seeded: Seeded,
    pub startup: Startup,
    /// The hold check with a manager's bearer token.
    pub checks: Vec<CheckRun>,
    pub peak_rss_kib: u64,
    pub native: NativeRun,
    pub trivial: Vec<TrivialRun>,
    /// The hold check through signed webhooks.
    pub signed: Vec<CheckRun>,
    pub purge: PurgeRun,
    pub payments: CheckRun,
    pub queue: Vec<QueueRun>,
    pub dashboard: DashboardRun,
    pub search: Vec<SearchRun>,
    pub outbox: OutboxRun,
    pub dunning: DunningRun,
}

/// The machine the figures come from.
pub struct Machine {
    pub cpus: usize,
    pub model: String,
}

impl Machine {
    pub fn this_one() -> Machine {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|line| line.strip_prefix("model name"))
                    .and_then(|rest| rest.split_once(':'))
                    .map(|(_, model)| model.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        Machine { cpus, model }
    }
}

/// Targets for the two-core machine (issues 7, 12 and 16). The hold
/// check's, bearer token or signed, at 16 connections.
const TARGET_RPS: f64 = 3_000.0;
const TARGET_P99_MICROS: f64 = 10_000.0;
/// The bearer-token hold check against the native checks (issue 16).
const TARGET_NATIVE_SHARE: f64 = 0.60;
const TARGET_STARTUP: Duration = Duration::from_secs(1);
const TARGET_RSS_MB: f64 = 300.0;
/// The hold check while events are pushed, against it without (issue 12: within 10%).
const TARGET_PUSHED_SHARE: f64 = 0.90;
const TARGET_LAG_P99_MICROS: f64 = 1_000_000.0;
/// The dunning proposal over the book, and a statement of 1,000 movements (issue 14).
const TARGET_PROPOSAL_MICROS: f64 = 1_000_000.0;
const TARGET_STATEMENT_MICROS: f64 = 100_000.0;
/// Payments posted by the ERP, at 16 connections.
const TARGET_PAYMENTS: f64 = 1_000.0;
const TARGET_PAYMENTS_P99_MICROS: f64 = 20_000.0;
/// A queue page, and the dashboard's load.
const TARGET_QUEUE_P99_MICROS: f64 = 50_000.0;
const TARGET_DASHBOARD_MICROS: f64 = 1_000_000.0;
/// A customer search on 10,000 customers (issue 13).
const TARGET_SEARCH_P99_MICROS: f64 = 20_000.0;

fn megabytes(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

fn millis(duration: Duration) -> String {
    format!("{} ms", thousands(duration.as_secs_f64() * 1000.0))
}

fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

pub fn render(figures: &Figures, machine: &Machine) -> String {
    let mut out = String::new();
    header(&mut out, &figures.seeded, machine);
    bearer_checks(&mut out, figures);
    startup(&mut out, figures);
    trivial(&mut out, &figures.trivial);
    signed_checks(&mut out, figures);
    purge(&mut out, &figures.purge);
    payments(&mut out, &figures.payments);
    queue(&mut out, &figures.queue);
    dashboard(&mut out, &figures.dashboard);
    search(&mut out, &figures.search);
    outbox(&mut out, &figures.outbox);
    render_dunning(&mut out, &figures.dunning);
    targets(&mut out, figures);
    let all_clean = figures
        .checks
        .iter()
        .chain(&figures.signed)
        .chain([&figures.payments])
        .all(|c| c.run.clean());
    if !all_clean {
        paragraph(
            &mut out,
            "**Some requests failed or were replays**: see the host logs in target/bench/.",
        );
    }
    out
}

/// A Markdown table, written a row at a time: its first `labels` columns
/// name the row (left-aligned), the rest hold figures (right-aligned).
struct Table<'a> {
    out: &'a mut String,
    columns: usize,
}

impl<'a> Table<'a> {
    /// Writes the table's heading (`####`) and its header.
    fn new(out: &'a mut String, title: &str, labels: &[&str], figures: &[&str]) -> Self {
        let _ = writeln!(out, "\n#### {title}\n");
        Table::untitled(out, labels, figures)
    }

    fn untitled(out: &'a mut String, labels: &[&str], figures: &[&str]) -> Self {
        let alignments: Vec<&str> = labels
            .iter()
            .map(|_| "---")
            .chain(figures.iter().map(|_| "---:"))
            .collect();
        let mut table = Table {
            out,
            columns: alignments.len(),
        };
        table.line(labels.iter().chain(figures));
        let _ = writeln!(table.out, "|{}|", alignments.join("|"));
        table
    }

    fn row(&mut self, cells: &[&dyn Display]) {
        assert_eq!(cells.len(), self.columns, "a cell per column");
        self.line(cells);
    }

    fn line<T: Display>(&mut self, cells: impl IntoIterator<Item = T>) {
        for cell in cells {
            let cell = cell.to_string();
            let _ = if cell.is_empty() {
                write!(self.out, "| ")
            } else {
                write!(self.out, "| {cell} ")
            };
        }
        let _ = writeln!(self.out, "|");
    }
}

/// A paragraph after a table.
fn paragraph(out: &mut String, text: &str) {
    let _ = writeln!(out, "\n{text}");
}

fn header(out: &mut String, s: &Seeded, machine: &Machine) {
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(out, "### Latest run\n");
    let mut table = Table::untitled(out, &["", ""], &[]);
    let cpus = format!("{} CPUs (nproc), {}", machine.cpus, machine.model);
    table.row(&[&"Machine", &cpus]);
    table.row(&[&"Date", &date]);
    table.row(&[&"Command", &"`cargo xtask bench`"]);
    let book = format!(
        "{} customers; {} invoices ({} open: {} past due, {} disputed); {} open orders ({} held); \
         {} webhook claims with their stored answers ({} MB), {} of them past the 7-day retention; seeded in {:.1} s",
        thousands(s.customers as f64),
        thousands(s.invoices as f64),
        thousands(s.open_invoices as f64),
        thousands(s.past_due_invoices as f64),
        thousands(s.disputed_invoices as f64),
        thousands(s.open_orders as f64),
        thousands(s.held_orders as f64),
        thousands(s.webhooks.claims as f64),
        thousands(s.webhooks.answer_bytes as f64 / 1e6),
        thousands(s.webhooks.expired as f64),
        s.elapsed.as_secs_f64()
    );
    table.row(&[&"Book", &book]);
}

/// A table of hold-check runs, one row per connection count.
fn check_table(out: &mut String, title: &str, runs: &[CheckRun]) {
    let mut table = Table::new(
        out,
        title,
        &[],
        &[
            "Connections",
            "Requests/s",
            "p50",
            "p99",
            "p99.9",
            "Released / held",
            "Host CPU per request",
            "Errors",
        ],
    );
    for check in runs {
        let r = &check.run;
        table.row(&[
            &r.connections,
            &thousands(r.per_second()),
            &ms(r.latencies.p50),
            &ms(r.latencies.p99),
            &ms(r.latencies.p999),
            &released_and_held(r.released, r.held),
            &ms(check.host_cpu_per_request.as_secs_f64() * 1e6),
            &r.errors(),
        ]);
    }
}

/// Orders released and held, as a cell.
fn released_and_held(released: u64, held: u64) -> String {
    format!(
        "{} / {}",
        thousands(released as f64),
        thousands(held as f64)
    )
}

fn at16(runs: &[CheckRun]) -> Option<&CheckRun> {
    runs.iter().find(|c| c.run.connections == 16)
}

fn native_share(f: &Figures) -> Option<f64> {
    at16(&f.checks).map(|c| c.run.per_second() / f.native.per_second())
}

fn bearer_checks(out: &mut String, f: &Figures) {
    check_table(
        out,
        "Hold check: `POST /orders` with a manager's bearer token (wrk, one thread, loopback HTTP, a new order per request)",
        &f.checks,
    );
    let n = &f.native;
    let mut table = Table::new(
        out,
        "Native baseline: the same checks through rusqlite, one thread, no wasm, no HTTP",
        &[],
        &[
            "Checks/s",
            "p50",
            "p99",
            "p99.9",
            "Released / held",
            "Host at 16 connections ÷ native",
        ],
    );
    table.row(&[
        &thousands(n.per_second()),
        &ms(n.latencies.p50),
        &ms(n.latencies.p99),
        &ms(n.latencies.p999),
        &released_and_held(n.released as u64, n.held as u64),
        &native_share(f).map_or("–".into(), |s| format!("{:.0}%", s * 100.0)),
    ]);
}

fn startup(out: &mut String, f: &Figures) {
    let st = &f.startup;
    let mut table = Table::new(
        out,
        "Start-up: spawn to the first answer",
        &[""],
        &["To serving (health route)", "To the first hold check"],
    );
    for (name, start) in [
        ("Cold: every component compiled", &st.cold),
        ("Warm: compiled-component cache", &st.warm),
    ] {
        table.row(&[&name, &millis(start.serving), &millis(start.first)]);
    }
    paragraph(
        out,
        &format!(
            "Peak RSS of the host over the hold-check runs (VmHWM, the largest of the runs): {:.0} MB.",
            megabytes(f.peak_rss_kib)
        ),
    );
}

fn trivial(out: &mut String, trivial: &[TrivialRun]) {
    let mut table = Table::new(
        out,
        "Trivial routes: what instantiation costs per request",
        &["Route"],
        &[
            "1 connection: req/s",
            "p50",
            "16 connections: req/s",
            "p50",
            "p99",
        ],
    );
    for t in trivial {
        table.row(&[
            &t.name,
            &thousands(t.one.per_second()),
            &ms(t.one.latencies.p50),
            &thousands(t.sixteen.per_second()),
            &ms(t.sixteen.latencies.p50),
            &ms(t.sixteen.latencies.p99),
        ]);
    }
    let probe = |reused: bool| {
        trivial
            .iter()
            .find(|t| t.name.contains("probe") && t.name.contains("reused") == reused)
    };
    if let (Some(reused), Some(fresh)) = (probe(true), probe(false)) {
        let latency = fresh.one.latencies.p50 - reused.one.latencies.p50;
        let throughput =
            (1.0 / fresh.sixteen.per_second() - 1.0 / reused.sixteen.per_second()) * 1e6;
        paragraph(
            out,
            &format!(
                "A fresh instance per request adds {latency:.0} µs to a request's latency (1 connection, p50) \
                 and {throughput:.0} µs of machine time per request (16 connections)."
            ),
        );
    }
}

fn signed_checks(out: &mut String, f: &Figures) {
    check_table(
        out,
        "Hold check through signed webhooks: `POST /orders` as the ERP sends it (a new `webhook-id` per request, signed by the load generator)",
        &f.signed,
    );
    if let (Some(signed), Some(bearer)) = (at16(&f.signed), at16(&f.checks)) {
        paragraph(
            out,
            &format!(
                "At 16 connections the signed check runs at {:.0}% of the bearer-token check's rate.",
                100.0 * signed.run.per_second() / bearer.run.per_second()
            ),
        );
    }
}

fn purge(out: &mut String, p: &PurgeRun) {
    let mut table = Table::new(
        out,
        "Retention purge: the signed hold check (16 connections) while delivery runs purge the year of claims back to back",
        &["Run"],
        &["Requests/s", "p50", "p99", "p99.9", "Errors"],
    );
    for (name, r) in [("nobody purging", &p.quiet), ("purging", &p.purging)] {
        table.row(&[
            &name,
            &thousands(r.per_second()),
            &ms(r.latencies.p50),
            &ms(r.latencies.p99),
            &ms(r.latencies.p999),
            &r.errors(),
        ]);
    }
    paragraph(
        out,
        &format!(
            "{} delivery runs purged {} claims and their answers ({} a second); a run took {} at the median, {} at p99.",
            thousands(p.batch_count as f64),
            thousands(p.claims_purged as f64),
            thousands(p.claims_purged as f64 / p.purging.seconds),
            ms(p.batches.p50),
            ms(p.batches.p99)
        ),
    );
}

fn payments(out: &mut String, p: &CheckRun) {
    let r = &p.run;
    let mut table = Table::new(
        out,
        "Payments: `POST /payments` posted by the ERP (signed), allocated to the customer's oldest open invoices, held orders re-checked (16 connections)",
        &[],
        &[
            "Payments/s",
            "p50",
            "p99",
            "p99.9",
            "Host CPU per payment",
            "Errors",
        ],
    );
    table.row(&[
        &thousands(r.per_second()),
        &ms(r.latencies.p50),
        &ms(r.latencies.p99),
        &ms(r.latencies.p999),
        &ms(p.host_cpu_per_request.as_secs_f64() * 1e6),
        &r.errors(),
    ]);
}

fn queue(out: &mut String, runs: &[QueueRun]) {
    let mut table = Table::new(
        out,
        "The held queue: `GET /orders/queue`, 200 a page with the totals of every match (1 connection)",
        &["Filter and sort"],
        &["Matching orders", "Pages/s", "p50", "p99", "Errors"],
    );
    for q in runs {
        table.row(&[
            &q.name,
            &thousands(q.total_orders as f64),
            &thousands(q.run.per_second()),
            &ms(q.run.latencies.p50),
            &ms(q.run.latencies.p99),
            &q.run.errors(),
        ]);
    }
}

fn dashboard(out: &mut String, d: &DashboardRun) {
    let title = format!(
        "The manager's dashboard as the page loads it: `GET /reports/dashboard` and the {}-day held-order trend at once",
        d.trend_days
    );
    loads_table(
        out,
        &title,
        d.count,
        &[
            ("the page's load (both answered)", &d.loads),
            ("`/reports/dashboard`", &d.dashboard),
            ("`/reports/held-orders/trend`", &d.trend),
        ],
    );
    let Some(page) = &d.page else {
        paragraph(
            out,
            &format!("\"Limits & reports\" in Chromium: not timed (no Chromium at {CHROMIUM})."),
        );
        return;
    };
    let title = format!(
        "\"Limits & reports\" in Chromium, from the click on its link ({} requests as it opens; the page's clock at the book's date)",
        page.requests
    );
    loads_table(
        out,
        &title,
        page.count,
        &[
            ("the dashboard's tiles on screen", &page.tiles),
            ("every request of the page answered", &page.answered),
        ],
    );
}

/// A table of `count` timed loads: each row's median and slowest.
fn loads_table(out: &mut String, title: &str, count: usize, rows: &[(&str, &Latencies)]) {
    let slowest = format!("Slowest of {count}");
    let mut table = Table::new(out, title, &[""], &["p50", &slowest]);
    for (name, l) in rows {
        table.row(&[name, &ms(l.p50), &ms(l.p999)]);
    }
}

fn search(out: &mut String, runs: &[SearchRun]) {
    let mut table = Table::new(
        out,
        "Customer search: `GET /customers?q=`, 20 a page with each customer's figures (1 connection)",
        &["What is typed"],
        &["Customers found", "Searches/s", "p50", "p99", "Errors"],
    );
    for s in runs {
        let found = if s.fewest == s.most {
            thousands(s.most as f64)
        } else {
            format!(
                "{}–{}",
                thousands(s.fewest as f64),
                thousands(s.most as f64)
            )
        };
        table.row(&[
            &s.name,
            &found,
            &thousands(s.run.per_second()),
            &ms(s.run.latencies.p50),
            &ms(s.run.latencies.p99),
            &s.run.errors(),
        ]);
    }
}

fn outbox(out: &mut String, o: &OutboxRun) {
    let mut table = Table::new(
        out,
        "Outbox: the hold check while every event is pushed to a local receiver (16 connections)",
        &["Run"],
        &[
            "Requests/s",
            "p50",
            "p99",
            "Events delivered/s",
            "Lag p50",
            "Lag p99",
        ],
    );
    table.row(&[
        &"nobody pushing",
        &thousands(o.quiet.per_second()),
        &ms(o.quiet.latencies.p50),
        &ms(o.quiet.latencies.p99),
        &"",
        &"",
        &"",
    ]);
    table.row(&[
        &"every event pushed",
        &thousands(o.pushing.per_second()),
        &ms(o.pushing.latencies.p50),
        &ms(o.pushing.latencies.p99),
        &thousands(o.delivered_per_second),
        &ms(o.lag.p50),
        &ms(o.lag.p99),
    ]);
    paragraph(
        out,
        &format!(
            "Events still to push when the pushing run ended: {}. Pushing alone (the quiet run's {} events, \
             nothing else running): {} events a second, {} of host CPU per event.",
            thousands(o.left_behind as f64),
            thousands(o.backlog.events as f64),
            thousands(o.backlog.per_second()),
            ms(o.backlog.cpu_per_event.as_secs_f64() * 1e6)
        ),
    );
}

fn target(table: &mut Table, what: &str, figure: String, ok: bool) {
    table.row(&[&what, &figure, &met(ok)]);
}

fn targets(out: &mut String, f: &Figures) {
    let table = &mut Table::new(
        out,
        "Targets (two cores shared by wrk and the host)",
        &["Target"],
        &["Figure", "Met"],
    );
    for (name, runs) in [("bearer token", &f.checks), ("signed webhooks", &f.signed)] {
        let Some(c) = at16(runs) else { continue };
        let (rps, p99) = (c.run.per_second(), c.run.latencies.p99);
        target(
            table,
            &format!(
                "hold check, {name}: ≥ {} requests/s at 16 connections",
                thousands(TARGET_RPS)
            ),
            thousands(rps),
            rps >= TARGET_RPS,
        );
        target(
            table,
            &format!(
                "hold check, {name}: p99 ≤ {} at 16 connections",
                ms(TARGET_P99_MICROS)
            ),
            ms(p99),
            p99 <= TARGET_P99_MICROS,
        );
    }
    if let Some(share) = native_share(f) {
        target(
            table,
            &format!(
                "bearer-token hold check ≥ {:.0}% of native checks/s",
                TARGET_NATIVE_SHARE * 100.0
            ),
            format!("{:.0}%", share * 100.0),
            share >= TARGET_NATIVE_SHARE,
        );
    }
    let pay = &f.payments.run;
    target(
        table,
        &format!("payments ≥ {} a second", thousands(TARGET_PAYMENTS)),
        thousands(pay.per_second()),
        pay.per_second() >= TARGET_PAYMENTS,
    );
    target(
        table,
        &format!("payments p99 ≤ {}", ms(TARGET_PAYMENTS_P99_MICROS)),
        ms(pay.latencies.p99),
        pay.latencies.p99 <= TARGET_PAYMENTS_P99_MICROS,
    );
    let worst_queue = f
        .queue
        .iter()
        .map(|q| q.run.latencies.p99)
        .fold(0.0, f64::max);
    target(
        table,
        &format!(
            "queue page p99 ≤ {} (the slowest filter and sort)",
            ms(TARGET_QUEUE_P99_MICROS)
        ),
        ms(worst_queue),
        worst_queue <= TARGET_QUEUE_P99_MICROS,
    );
    let slowest_load = f.dashboard.loads.p999;
    target(
        table,
        &format!(
            "dashboard loads in ≤ {} (the slowest load)",
            ms(TARGET_DASHBOARD_MICROS)
        ),
        ms(slowest_load),
        slowest_load <= TARGET_DASHBOARD_MICROS,
    );
    let what = format!(
        "dashboard's tiles on screen in ≤ {} in Chromium (the slowest load)",
        ms(TARGET_DASHBOARD_MICROS)
    );
    match &f.dashboard.page {
        Some(page) => target(
            table,
            &what,
            ms(page.tiles.p999),
            page.tiles.p999 <= TARGET_DASHBOARD_MICROS,
        ),
        None => table.row(&[&what, &"not timed", &"—"]),
    }
    let worst_search = f
        .search
        .iter()
        .map(|s| s.run.latencies.p99)
        .fold(0.0, f64::max);
    target(
        table,
        &format!(
            "customer search p99 ≤ {} (the slowest kind of search)",
            ms(TARGET_SEARCH_P99_MICROS)
        ),
        ms(worst_search),
        worst_search <= TARGET_SEARCH_P99_MICROS,
    );
    let o = &f.outbox;
    let pushed_share = o.pushing.per_second() / o.quiet.per_second();
    target(
        table,
        &format!(
            "hold check with events pushed ≥ {:.0}% of it without",
            TARGET_PUSHED_SHARE * 100.0
        ),
        format!("{:.0}%", pushed_share * 100.0),
        pushed_share >= TARGET_PUSHED_SHARE,
    );
    target(
        table,
        &format!("event lag p99 ≤ {}", ms(TARGET_LAG_P99_MICROS)),
        ms(o.lag.p99),
        o.lag.p99 <= TARGET_LAG_P99_MICROS,
    );
    let d = &f.dunning;
    let proposal = d.proposal.p99.max(d.proposal_after.p99);
    target(
        table,
        &format!(
            "dunning proposal over the book ≤ {} (slowest of 20)",
            ms(TARGET_PROPOSAL_MICROS)
        ),
        ms(proposal),
        proposal <= TARGET_PROPOSAL_MICROS,
    );
    target(
        table,
        &format!(
            "statement of {} movements ≤ {} (slowest, JSON)",
            thousands(d.statement_movements as f64),
            ms(TARGET_STATEMENT_MICROS)
        ),
        ms(d.statement_json.p99),
        d.statement_json.p99 <= TARGET_STATEMENT_MICROS,
    );
    let st = &f.startup;
    target(
        table,
        &format!(
            "start-up ≤ {} (warm, to the first hold check)",
            millis(TARGET_STARTUP)
        ),
        millis(st.warm.first),
        st.warm.first <= TARGET_STARTUP,
    );
    let rss = megabytes(f.peak_rss_kib);
    target(
        table,
        &format!("peak RSS ≤ {TARGET_RSS_MB:.0} MB"),
        format!("{rss:.0} MB"),
        rss <= TARGET_RSS_MB,
    );
}

/// Customer communications: the dunning proposal and run, a statement.
fn render_dunning(out: &mut String, d: &DunningRun) {
    let mut table = Table::new(
        out,
        "Customer communications through the host (one request at a time, 20 timed each)",
        &["Request"],
        &["p50", "Slowest"],
    );
    let rows = [
        (
            format!(
                "`GET /reports/dunning`: {} customers with something overdue, {} letters due",
                thousands(d.customers as f64),
                thousands(d.letters_due as f64)
            ),
            d.proposal,
        ),
        (
            format!(
                "`GET /reports/dunning` with the run's {} letters on the books",
                thousands(d.issued as f64)
            ),
            d.proposal_after,
        ),
        (
            format!(
                "`GET /customers/{{id}}/statement`, {} movements, JSON",
                thousands(d.statement_movements as f64)
            ),
            d.statement_json,
        ),
        (
            "the same statement as print HTML".to_string(),
            d.statement_html,
        ),
    ];
    for (what, latencies) in rows {
        table.row(&[&what, &ms(latencies.p50), &ms(latencies.p99)]);
    }
    paragraph(
        out,
        &format!(
            "`POST /dunning-runs` for every customer issued {} letters (each its own transaction with its contact and event) in {:.1} s.",
            thousands(d.issued as f64),
            d.run.as_secs_f64()
        ),
    );
}

/// Replaces the section between the markers in `path` (creating the file,
/// or appending the section, when there is none).
pub fn write(path: &Path, table: &str) -> Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{BEGIN}\n{table}{END}");
    let updated = match (existing.find(BEGIN), existing.find(END)) {
        (Some(begin), Some(end)) if begin < end => format!(
            "{}{section}{}",
            &existing[..begin],
            &existing[end + END.len()..]
        ),
        _ if existing.is_empty() => format!("# Benchmarks\n\n{section}\n"),
        _ => format!("{}\n{section}\n", existing.trim_end()),
    };
    std::fs::write(path, updated).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Backlog;
    use crate::history::History;
    use crate::pages::PageRun;

    fn latencies(p50_ms: f64, p99_ms: f64) -> Latencies {
        Latencies {
            p50: p50_ms * 1000.0,
            p99: p99_ms * 1000.0,
            p999: p99_ms * 2000.0,
        }
    }

    /// `per_second` requests a second for 10 s, with these latencies.
    fn load(connections: usize, per_second: u64, p50_ms: f64, p99_ms: f64) -> LoadRun {
        LoadRun {
            connections,
            requests: per_second * 10,
            seconds: 10.0,
            latencies: latencies(p50_ms, p99_ms),
            released: per_second * 7,
            held: per_second * 3,
            ..LoadRun::default()
        }
    }

    fn checks(per_second_at_16: u64, p99_ms: f64) -> Vec<CheckRun> {
        [
            (1, per_second_at_16 / 3),
            (16, per_second_at_16),
            (64, per_second_at_16),
        ]
        .into_iter()
        .map(|(connections, per_second)| CheckRun {
            run: load(connections, per_second, p99_ms / 3.0, p99_ms),
            host_cpu_per_request: Duration::from_micros(400),
        })
        .collect()
    }

    /// A run's figures: every target met but the signed check's rate.
    fn figures() -> Figures {
        Figures {
            seeded: Seeded {
                customers: 10_000,
                invoices: 200_000,
                open_invoices: 60_000,
                held_orders: 3_000,
                webhooks: History {
                    claims: 365_000,
                    expired: 358_000,
                    answer_bytes: 170_000_000,
                },
                ..Seeded::default()
            },
            startup: Startup {
                cold: Start {
                    serving: Duration::from_millis(9_000),
                    first: Duration::from_millis(9_100),
                },
                warm: Start {
                    serving: Duration::from_millis(10),
                    first: Duration::from_millis(15),
                },
            },
            checks: checks(3_600, 9.0),
            peak_rss_kib: 150_000,
            native: NativeRun {
                checks: 50_000,
                elapsed: Duration::from_secs(10),
                latencies: latencies(0.1, 0.3),
                ..NativeRun::default()
            },
            trivial: vec![
                TrivialRun {
                    name: "probe, reused".into(),
                    one: load(1, 5_000, 0.2, 0.4),
                    sixteen: load(16, 20_000, 0.8, 2.0),
                },
                TrivialRun {
                    name: "probe, fresh".into(),
                    one: load(1, 4_000, 0.25, 0.5),
                    sixteen: load(16, 15_000, 1.0, 2.5),
                },
            ],
            signed: checks(2_800, 9.5),
            purge: PurgeRun {
                quiet: load(16, 2_800, 5.0, 12.0),
                purging: load(16, 2_700, 5.0, 13.0),
                batches: latencies(20.0, 40.0),
                batch_count: 50,
                claims_purged: 358_000,
            },
            payments: CheckRun {
                run: load(16, 2_500, 6.0, 19.0),
                host_cpu_per_request: Duration::from_micros(570),
            },
            queue: vec![QueueRun {
                name: "oldest first".into(),
                run: load(1, 100, 9.0, 14.0),
                total_orders: 3_000,
            }],
            dashboard: DashboardRun {
                loads: latencies(300.0, 380.0),
                dashboard: latencies(280.0, 360.0),
                trend: latencies(20.0, 30.0),
                count: 20,
                trend_days: 30,
                page: Some(PageRun {
                    tiles: latencies(300.0, 400.0),
                    answered: latencies(800.0, 1_200.0),
                    count: 10,
                    requests: 12,
                }),
            },
            search: vec![SearchRun {
                name: "a word of the name".into(),
                run: load(1, 200, 4.0, 11.0),
                fewest: 1,
                most: 40,
            }],
            outbox: OutboxRun {
                quiet: load(16, 3_000, 5.0, 10.0),
                pushing: load(16, 3_000, 5.0, 10.5),
                delivered_per_second: 3_000.0,
                lag: latencies(20.0, 44.0),
                left_behind: 0,
                backlog: Backlog {
                    events: 30_000,
                    took: Duration::from_secs(5),
                    cpu_per_event: Duration::from_micros(100),
                },
            },
            dunning: DunningRun {
                customers: 2_000,
                letters_due: 1_500,
                proposal: latencies(80.0, 81.0),
                issued: 1_500,
                run: Duration::from_secs(12),
                proposal_after: latencies(80.0, 82.0),
                statement_movements: 200,
                statement_json: latencies(3.0, 3.1),
                statement_html: latencies(3.5, 3.8),
            },
        }
    }

    fn machine() -> Machine {
        Machine {
            cpus: 2,
            model: "a test machine".into(),
        }
    }

    /// The row of the targets table that starts with `what`.
    fn target_row<'a>(report: &'a str, what: &str) -> &'a str {
        report
            .lines()
            .find(|line| line.starts_with(&format!("| {what}")))
            .unwrap_or_else(|| panic!("no target {what:?} in\n{report}"))
    }

    #[test]
    fn every_row_of_a_table_has_a_cell_for_each_column() {
        let report = render(&figures(), &machine());
        let tables: Vec<Vec<&str>> = report
            .split("\n\n")
            .map(|block| block.lines().filter(|l| l.starts_with('|')).collect())
            .filter(|rows: &Vec<&str>| !rows.is_empty())
            .collect();
        assert_eq!(tables.len(), 15, "{report}");
        for rows in tables {
            let columns = rows[0].matches('|').count();
            assert!(rows[1].starts_with("|---"), "{rows:#?}");
            for row in &rows {
                assert_eq!(row.matches('|').count(), columns, "{rows:#?}");
            }
        }
    }

    #[test]
    fn a_missed_target_says_so_and_a_met_one_does_not() {
        let report = render(&figures(), &machine());
        let signed = target_row(&report, "hold check, signed webhooks: ≥ 3,000");
        assert!(signed.ends_with("| 2,800 | **no** |"), "{signed}");
        let bearer = target_row(&report, "hold check, bearer token: ≥ 3,000");
        assert!(bearer.ends_with("| 3,600 | yes |"), "{bearer}");
        let native = target_row(&report, "bearer-token hold check ≥ 60% of native");
        assert!(native.ends_with("| 72% | yes |"), "{native}");
        assert!(!report.contains("Some requests failed"));
    }

    #[test]
    fn the_dashboard_page_is_held_to_its_target_or_said_to_be_untimed() {
        let mut figures = figures();
        let report = render(&figures, &machine());
        let page = target_row(&report, "dashboard's tiles on screen in ≤ 1000.00 ms");
        assert!(page.ends_with("| 800.00 ms | yes |"), "{page}");
        assert!(report.contains("| the dashboard's tiles on screen | 300.00 ms | 800.00 ms |"));

        figures.dashboard.page.as_mut().unwrap().tiles = latencies(600.0, 700.0);
        let report = render(&figures, &machine());
        let page = target_row(&report, "dashboard's tiles on screen");
        assert!(page.ends_with("| 1400.00 ms | **no** |"), "{page}");

        figures.dashboard.page = None;
        let report = render(&figures, &machine());
        let page = target_row(&report, "dashboard's tiles on screen");
        assert!(page.ends_with("| not timed | — |"), "{page}");
        assert!(report.contains("in Chromium: not timed (no Chromium at /usr/bin/chromium)"));
    }

    #[test]
    fn failed_requests_are_counted_and_called_out() {
        let mut figures = figures();
        figures.payments.run.failed = 3;
        let report = render(&figures, &machine());
        assert!(report.contains("| 2,500 | 6.00 ms | 19.00 ms | 38.00 ms | 0.57 ms | 3 |"));
        assert!(report.contains("**Some requests failed or were replays**"));
    }

    #[test]
    fn a_run_replaces_only_the_previous_table() {
        let dir = std::env::temp_dir().join(format!("bench-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("BENCHMARKS.md");
        write(&path, "first\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Benchmarks\n\n"));
        std::fs::write(
            &path,
            text.replace("# Benchmarks", "# Benchmarks\n\nIntro.") + "\nNotes.\n",
        )
        .unwrap();
        write(&path, "second\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("Intro.") && text.contains("Notes.") && text.contains("second"));
        assert!(!text.contains("first"));
        assert_eq!(text.matches(BEGIN).count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
