//! The figures as a Markdown section of BENCHMARKS.md, between markers, so
//! each run replaces the previous run's table and leaves the rest alone.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::book::Seeded;
use crate::dunning::DunningRun;
use crate::erp::PurgeRun;
use crate::events::OutboxRun;
use crate::load::LoadRun;
use crate::native::NativeRun;
use crate::pages::{DashboardRun, QueueRun, SearchRun};
use crate::stats::{ms, thousands};

pub const BEGIN: &str =
    "<!-- bench:begin — written by `cargo xtask bench`; edit outside these markers -->";
pub const END: &str = "<!-- bench:end -->";

/// Spawn to the health route answering, and to the first hold check.
pub struct Start {
    pub serving: Duration,
    pub first: Duration,
}

pub struct Startup {
    /// Empty compiled-component cache: every component is compiled.
    pub cold: Start,
    /// The cache from the cold start.
    pub warm: Start,
}

pub struct CheckRun {
    pub run: LoadRun,
    pub host_cpu_per_request: Duration,
}

pub struct TrivialRun {
    pub name: String,
    pub one: LoadRun,
    pub sixteen: LoadRun,
}

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
        let _ = writeln!(
            out,
            "\n**Some requests failed or were replays**: see the host logs in target/bench/."
        );
    }
    out
}

fn header(out: &mut String, s: &Seeded, machine: &Machine) {
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(out, "### Latest run\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| Machine | {} CPUs (nproc), {} |",
        machine.cpus, machine.model
    );
    let _ = writeln!(out, "| Date | {date} |");
    let _ = writeln!(out, "| Command | `cargo xtask bench` |");
    let _ = writeln!(
        out,
        "| Book | {} customers; {} invoices ({} open: {} past due, {} disputed); {} open orders ({} held); \
         {} webhook claims with their stored answers ({} MB), {} of them past the 7-day retention; seeded in {:.1} s |",
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
}

/// A table of hold-check runs, one row per connection count.
fn check_table(out: &mut String, title: &str, runs: &[CheckRun]) {
    let _ = writeln!(out, "\n#### {title}\n");
    let _ = writeln!(
        out,
        "| Connections | Requests/s | p50 | p99 | p99.9 | Released / held | Host CPU per request | Errors |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    for check in runs {
        let r = &check.run;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} / {} | {} | {} |",
            r.connections,
            thousands(r.per_second()),
            ms(r.latencies.p50),
            ms(r.latencies.p99),
            ms(r.latencies.p999),
            thousands(r.released as f64),
            thousands(r.held as f64),
            ms(check.host_cpu_per_request.as_secs_f64() * 1e6),
            r.errors()
        );
    }
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
    let _ = writeln!(
        out,
        "\n#### Native baseline: the same checks through rusqlite, one thread, no wasm, no HTTP\n"
    );
    let _ = writeln!(
        out,
        "| Checks/s | p50 | p99 | p99.9 | Released / held | Host at 16 connections ÷ native |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} / {} | {} |",
        thousands(n.per_second()),
        ms(n.latencies.p50),
        ms(n.latencies.p99),
        ms(n.latencies.p999),
        thousands(n.released as f64),
        thousands(n.held as f64),
        native_share(f).map_or("–".into(), |s| format!("{:.0}%", s * 100.0))
    );
}

fn startup(out: &mut String, f: &Figures) {
    let st = &f.startup;
    let _ = writeln!(out, "\n#### Start-up: spawn to the first answer\n");
    let _ = writeln!(
        out,
        "| | To serving (health route) | To the first hold check |"
    );
    let _ = writeln!(out, "|---|---:|---:|");
    let _ = writeln!(
        out,
        "| Cold: every component compiled | {} | {} |",
        millis(st.cold.serving),
        millis(st.cold.first)
    );
    let _ = writeln!(
        out,
        "| Warm: compiled-component cache | {} | {} |",
        millis(st.warm.serving),
        millis(st.warm.first)
    );
    let _ = writeln!(
        out,
        "\nPeak RSS of the host over the hold-check runs (VmHWM, the largest of the runs): {:.0} MB.",
        megabytes(f.peak_rss_kib)
    );
}

fn trivial(out: &mut String, trivial: &[TrivialRun]) {
    let _ = writeln!(
        out,
        "\n#### Trivial routes: what instantiation costs per request\n"
    );
    let _ = writeln!(
        out,
        "| Route | 1 connection: req/s | p50 | 16 connections: req/s | p50 | p99 |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for t in trivial {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            t.name,
            thousands(t.one.per_second()),
            ms(t.one.latencies.p50),
            thousands(t.sixteen.per_second()),
            ms(t.sixteen.latencies.p50),
            ms(t.sixteen.latencies.p99)
        );
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
        let _ = writeln!(
            out,
            "\nA fresh instance per request adds {:.0} µs to a request's latency (1 connection, p50) \
             and {:.0} µs of machine time per request (16 connections).",
            latency, throughput
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
        let _ = writeln!(
            out,
            "\nAt 16 connections the signed check runs at {:.0}% of the bearer-token check's rate.",
            100.0 * signed.run.per_second() / bearer.run.per_second()
        );
    }
}

fn purge(out: &mut String, p: &PurgeRun) {
    let _ = writeln!(
        out,
        "\n#### Retention purge: the signed hold check (16 connections) while delivery runs purge the year of claims back to back\n"
    );
    let _ = writeln!(out, "| Run | Requests/s | p50 | p99 | p99.9 | Errors |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for (name, r) in [("nobody purging", &p.quiet), ("purging", &p.purging)] {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} |",
            thousands(r.per_second()),
            ms(r.latencies.p50),
            ms(r.latencies.p99),
            ms(r.latencies.p999),
            r.errors()
        );
    }
    let _ = writeln!(
        out,
        "\n{} delivery runs purged {} claims and their answers ({} a second); a run took {} at the median, {} at p99.",
        thousands(p.batch_count as f64),
        thousands(p.claims_purged as f64),
        thousands(p.claims_purged as f64 / p.purging.seconds),
        ms(p.batches.p50),
        ms(p.batches.p99)
    );
}

fn payments(out: &mut String, p: &CheckRun) {
    let r = &p.run;
    let _ = writeln!(
        out,
        "\n#### Payments: `POST /payments` posted by the ERP (signed), allocated to the customer's oldest open invoices, held orders re-checked (16 connections)\n"
    );
    let _ = writeln!(
        out,
        "| Payments/s | p50 | p99 | p99.9 | Host CPU per payment | Errors |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |",
        thousands(r.per_second()),
        ms(r.latencies.p50),
        ms(r.latencies.p99),
        ms(r.latencies.p999),
        ms(p.host_cpu_per_request.as_secs_f64() * 1e6),
        r.errors()
    );
}

fn queue(out: &mut String, runs: &[QueueRun]) {
    let _ = writeln!(
        out,
        "\n#### The held queue: `GET /orders/queue`, 200 a page with the totals of every match (1 connection)\n"
    );
    let _ = writeln!(
        out,
        "| Filter and sort | Matching orders | Pages/s | p50 | p99 | Errors |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for q in runs {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            q.name,
            thousands(q.total_orders as f64),
            thousands(q.run.per_second()),
            ms(q.run.latencies.p50),
            ms(q.run.latencies.p99),
            q.run.errors()
        );
    }
}

fn dashboard(out: &mut String, d: &DashboardRun) {
    let _ = writeln!(
        out,
        "\n#### The manager's dashboard as the page loads it: `GET /reports/dashboard` and the {}-day held-order trend at once\n",
        d.trend_days
    );
    let _ = writeln!(out, "| | p50 | Slowest of {} |", d.count);
    let _ = writeln!(out, "|---|---:|---:|");
    for (name, l) in [
        ("the page's load (both answered)", &d.loads),
        ("`/reports/dashboard`", &d.dashboard),
        ("`/reports/held-orders/trend`", &d.trend),
    ] {
        let _ = writeln!(out, "| {name} | {} | {} |", ms(l.p50), ms(l.p999));
    }
}

fn search(out: &mut String, runs: &[SearchRun]) {
    let _ = writeln!(
        out,
        "\n#### Customer search: `GET /customers?q=`, 20 a page with each customer's figures (1 connection)\n"
    );
    let _ = writeln!(
        out,
        "| What is typed | Customers found | Searches/s | p50 | p99 | Errors |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
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
        let _ = writeln!(
            out,
            "| {} | {found} | {} | {} | {} | {} |",
            s.name,
            thousands(s.run.per_second()),
            ms(s.run.latencies.p50),
            ms(s.run.latencies.p99),
            s.run.errors()
        );
    }
}

fn outbox(out: &mut String, o: &OutboxRun) {
    let _ = writeln!(
        out,
        "\n#### Outbox: the hold check while every event is pushed to a local receiver (16 connections)\n"
    );
    let _ = writeln!(
        out,
        "| Run | Requests/s | p50 | p99 | Events delivered/s | Lag p50 | Lag p99 |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| nobody pushing | {} | {} | {} | | | |",
        thousands(o.quiet.per_second()),
        ms(o.quiet.latencies.p50),
        ms(o.quiet.latencies.p99)
    );
    let _ = writeln!(
        out,
        "| every event pushed | {} | {} | {} | {} | {} | {} |",
        thousands(o.pushing.per_second()),
        ms(o.pushing.latencies.p50),
        ms(o.pushing.latencies.p99),
        thousands(o.delivered_per_second),
        ms(o.lag.p50),
        ms(o.lag.p99)
    );
    let _ = writeln!(
        out,
        "\nEvents still to push when the pushing run ended: {}. Pushing alone (the quiet run's {} events, \
         nothing else running): {} events a second, {} of host CPU per event.",
        thousands(o.left_behind as f64),
        thousands(o.backlog.events as f64),
        thousands(o.backlog.per_second()),
        ms(o.backlog.cpu_per_event.as_secs_f64() * 1e6)
    );
}

fn target(out: &mut String, what: &str, figure: String, ok: bool) {
    let _ = writeln!(out, "| {what} | {figure} | {} |", met(ok));
}

fn targets(out: &mut String, f: &Figures) {
    let _ = writeln!(
        out,
        "\n#### Targets (two cores shared by wrk and the host)\n"
    );
    let _ = writeln!(out, "| Target | Figure | Met |");
    let _ = writeln!(out, "|---|---:|---|");
    for (name, runs) in [("bearer token", &f.checks), ("signed webhooks", &f.signed)] {
        let Some(c) = at16(runs) else { continue };
        let (rps, p99) = (c.run.per_second(), c.run.latencies.p99);
        target(
            out,
            &format!(
                "hold check, {name}: ≥ {} requests/s at 16 connections",
                thousands(TARGET_RPS)
            ),
            thousands(rps),
            rps >= TARGET_RPS,
        );
        target(
            out,
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
            out,
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
        out,
        &format!("payments ≥ {} a second", thousands(TARGET_PAYMENTS)),
        thousands(pay.per_second()),
        pay.per_second() >= TARGET_PAYMENTS,
    );
    target(
        out,
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
        out,
        &format!(
            "queue page p99 ≤ {} (the slowest filter and sort)",
            ms(TARGET_QUEUE_P99_MICROS)
        ),
        ms(worst_queue),
        worst_queue <= TARGET_QUEUE_P99_MICROS,
    );
    let slowest_load = f.dashboard.loads.p999;
    target(
        out,
        &format!(
            "dashboard loads in ≤ {} (the slowest load)",
            ms(TARGET_DASHBOARD_MICROS)
        ),
        ms(slowest_load),
        slowest_load <= TARGET_DASHBOARD_MICROS,
    );
    let worst_search = f
        .search
        .iter()
        .map(|s| s.run.latencies.p99)
        .fold(0.0, f64::max);
    target(
        out,
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
        out,
        &format!(
            "hold check with events pushed ≥ {:.0}% of it without",
            TARGET_PUSHED_SHARE * 100.0
        ),
        format!("{:.0}%", pushed_share * 100.0),
        pushed_share >= TARGET_PUSHED_SHARE,
    );
    target(
        out,
        &format!("event lag p99 ≤ {}", ms(TARGET_LAG_P99_MICROS)),
        ms(o.lag.p99),
        o.lag.p99 <= TARGET_LAG_P99_MICROS,
    );
    let d = &f.dunning;
    let proposal = d.proposal.p99.max(d.proposal_after.p99);
    target(
        out,
        &format!(
            "dunning proposal over the book ≤ {} (slowest of 20)",
            ms(TARGET_PROPOSAL_MICROS)
        ),
        ms(proposal),
        proposal <= TARGET_PROPOSAL_MICROS,
    );
    target(
        out,
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
        out,
        &format!(
            "start-up ≤ {} (warm, to the first hold check)",
            millis(TARGET_STARTUP)
        ),
        millis(st.warm.first),
        st.warm.first <= TARGET_STARTUP,
    );
    let rss = megabytes(f.peak_rss_kib);
    target(
        out,
        &format!("peak RSS ≤ {TARGET_RSS_MB:.0} MB"),
        format!("{rss:.0} MB"),
        rss <= TARGET_RSS_MB,
    );
}

/// Customer communications: the dunning proposal and run, a statement.
fn render_dunning(out: &mut String, d: &DunningRun) {
    let _ = writeln!(
        out,
        "\n#### Customer communications through the host (one request at a time, 20 timed each)\n"
    );
    let _ = writeln!(out, "| Request | p50 | Slowest |");
    let _ = writeln!(out, "|---|---:|---:|");
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
        let _ = writeln!(
            out,
            "| {what} | {} | {} |",
            ms(latencies.p50),
            ms(latencies.p99)
        );
    }
    let _ = writeln!(
        out,
        "\n`POST /dunning-runs` for every customer issued {} letters (each its own transaction with its contact and event) in {:.1} s.",
        thousands(d.issued as f64),
        d.run.as_secs_f64()
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
