//! What people read at volume, through the host: the held queue with the
//! totals of every match (`GET /orders/queue`, as the web workspace asks
//! for it, under a few filters and sorts), the manager's dashboard as the
//! page loads it (its two requests at once, and the whole page in
//! Chromium), and customer search (`GET /customers?q=`) as an associate on
//! the phone types.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

use crate::host;
use crate::load::{LoadRun, Wrk};
use crate::stats::Latencies;

/// One way of cutting the queue, as the workspace's filters send it.
pub struct QueueMix {
    pub name: &'static str,
    pub query: &'static str,
}

/// The workspace asks for 200 held orders a page (web/src/queue.ts).
pub const QUEUE_MIXES: &[QueueMix] = &[
    QueueMix {
        name: "as it opens: oldest first",
        query: "status=held&limit=200",
    },
    QueueMix {
        name: "USD, largest first",
        query: "status=held&currency=USD&sort=amount&limit=200",
    },
    QueueMix {
        name: "past due, longest past due first",
        query: "status=held&reason=PAST_DUE&sort=days_past_due&limit=200",
    },
    QueueMix {
        name: "EUR 2,000–8,000, by customer",
        query: "status=held&currency=EUR&min_amount=2000.00&max_amount=8000.00&sort=customer&limit=200",
    },
    QueueMix {
        name: "held 10+ days, soonest ship date",
        query: "status=held&min_days_held=10&sort=ship_date&limit=200",
    },
];

/// The queue under one mix, and the totals it showed.
#[cfg_attr(test, derive(Default))]
pub struct QueueRun {
    pub name: String,
    pub run: LoadRun,
    pub total_orders: u64,
}

/// Each mix for `duration` at `connections`; the second page of the
/// first mix (by its cursor) too.
pub fn queue(
    wrk: &Wrk,
    addr: SocketAddr,
    token: &str,
    connections: usize,
    duration: Duration,
) -> Result<Vec<QueueRun>> {
    let base = format!("http://{addr}");
    let mut runs = vec![];
    let mut pages: Vec<(String, String)> = QUEUE_MIXES
        .iter()
        .map(|mix| (mix.name.to_string(), format!("/orders/queue?{}", mix.query)))
        .collect();
    let (_, first) = read_page(addr, token, &pages[0].1)?;
    let next = first["next"]
        .as_str()
        .context("the first page has no next")?;
    pages.insert(
        1,
        (
            "as it opens: the second page".into(),
            format!("/orders/queue?{}&after={next}", QUEUE_MIXES[0].query),
        ),
    );
    for (name, path) in pages {
        let (total_orders, _) = read_page(addr, token, &path)?;
        let run = wrk.pages(&base, connections, duration, token, &[path])?;
        crate::print_run(&format!("GET queue, {name}"), &run);
        runs.push(QueueRun {
            name,
            run,
            total_orders,
        });
    }
    Ok(runs)
}

/// One kind of search, as an associate types it: a few texts of the kind,
/// asked for in turn (spaces as `%20`).
pub struct SearchMix {
    pub name: &'static str,
    pub texts: &'static [&'static str],
}

/// From the narrowest search to the widest. Names are made of a word or
/// two, a trade and a legal form (book.rs); each legal form is on about a
/// tenth of the customers, each trade on a 25th.
pub const SEARCH_MIXES: &[SearchMix] = &[
    SearchMix {
        name: "a whole id",
        texts: &["C-04711", "C-00042", "C-09999", "C-01234"],
    },
    SearchMix {
        name: "an id's start (100 ids)",
        texts: &["C-047", "C-012", "C-099", "C-050"],
    },
    SearchMix {
        name: "a word of the name, accents folded",
        texts: &["steel", "zurich", "muller", "dairy"],
    },
    SearchMix {
        name: "a word's start",
        texts: &["nor", "log", "ma", "pha"],
    },
    SearchMix {
        name: "a whole name (any of its words)",
        texts: &[
            "Nordic%20Steel%20AB",
            "Acme%20Foods%20GmbH",
            "Royal%20Dairy%20Inc",
            "Polar%20Marine%20Oy",
        ],
    },
    SearchMix {
        name: "the first letter of every id",
        texts: &["C", "c"],
    },
];

/// Searches under one mix, and how many customers its texts found.
#[cfg_attr(test, derive(Default))]
pub struct SearchRun {
    pub name: String,
    pub run: LoadRun,
    pub fewest: u64,
    pub most: u64,
}

/// Each mix for `duration` at `connections`, a page of 20 (the default)
/// with the figures as of `as_of`.
pub fn search(
    wrk: &Wrk,
    addr: SocketAddr,
    token: &str,
    as_of: &str,
    connections: usize,
    duration: Duration,
) -> Result<Vec<SearchRun>> {
    let base = format!("http://{addr}");
    let mut runs = vec![];
    for mix in SEARCH_MIXES {
        let paths: Vec<String> = mix
            .texts
            .iter()
            .map(|text| format!("/customers?q={text}&as_of={as_of}"))
            .collect();
        let mut found = vec![];
        for path in &paths {
            let total = get_json(addr, token, path)?["total"]
                .as_u64()
                .with_context(|| format!("{path}: no total"))?;
            ensure!(total > 0, "{path} found nobody");
            found.push(total);
        }
        let run = wrk.pages(&base, connections, duration, token, &paths)?;
        crate::print_run(&format!("GET /customers, {}", mix.name), &run);
        runs.push(SearchRun {
            name: mix.name.to_string(),
            run,
            fewest: found.iter().copied().min().unwrap_or(0),
            most: found.iter().copied().max().unwrap_or(0),
        });
    }
    Ok(runs)
}

/// A queue page: the count of every match, and the page.
fn read_page(addr: SocketAddr, token: &str, path: &str) -> Result<(u64, serde_json::Value)> {
    let page = get_json(addr, token, path)?;
    let total = page["total_orders"]
        .as_u64()
        .with_context(|| format!("{path}: no total_orders"))?;
    Ok((total, page))
}

fn get_json(addr: SocketAddr, token: &str, path: &str) -> Result<serde_json::Value> {
    let auth = format!("Bearer {token}");
    let (status, body) = host::send(addr, "GET", path, &[("authorization", &auth)], "")?;
    if status != 200 {
        bail!("GET {path} answered {status}: {body}");
    }
    serde_json::from_str(&body).with_context(|| format!("GET {path}: not JSON"))
}

/// The dashboard's loads: each the time until both of its requests
/// have answered, as the page waits for them.
#[cfg_attr(test, derive(Default))]
pub struct DashboardRun {
    pub loads: Latencies,
    pub dashboard: Latencies,
    pub trend: Latencies,
    pub count: usize,
    /// Days in the trend's answer.
    pub trend_days: usize,
    /// The page the manager opens, in Chromium (`None` without Chromium).
    pub page: Option<PageRun>,
}

/// "Limits & reports" opened in Chromium, from the click on its link.
#[cfg_attr(test, derive(Default))]
pub struct PageRun {
    /// Until the dashboard's tiles are on screen.
    pub tiles: Latencies,
    /// Until the last of the page's requests has answered.
    pub answered: Latencies,
    pub count: usize,
    /// Requests the page makes as it opens.
    pub requests: usize,
}

/// Loads the dashboard `count` times (after two loads not counted), as
/// web/src/dashboard.ts does: the tiles as of a day and the held-order
/// trend over the 30 days up to it, asked for at once.
pub fn dashboard(addr: SocketAddr, token: &str, as_of: &str, count: usize) -> Result<DashboardRun> {
    let to: chrono::NaiveDate = as_of.parse()?;
    let from = to - chrono::Duration::days(29);
    let tiles = format!("/reports/dashboard?as_of={as_of}");
    let trend = format!("/reports/held-orders/trend?from={from}&to={to}");
    let trend_days = get_json(addr, token, &trend)?["days"]
        .as_array()
        .map_or(0, Vec::len);
    ensure!(trend_days == 30, "the trend has {trend_days} days, not 30");
    let (mut loads, mut tile_times, mut trend_times) = (vec![], vec![], vec![]);
    for n in 0..count + 2 {
        let started = Instant::now();
        let (tiles_took, trend_took) = std::thread::scope(|scope| {
            let tiles = scope.spawn(|| timed_get(addr, token, &tiles));
            let trend = scope.spawn(|| timed_get(addr, token, &trend));
            (tiles.join(), trend.join())
        });
        let (tiles_took, trend_took) = (
            tiles_took.expect("no panic")?,
            trend_took.expect("no panic")?,
        );
        if n >= 2 {
            loads.push(started.elapsed());
            tile_times.push(tiles_took);
            trend_times.push(trend_took);
        }
    }
    Ok(DashboardRun {
        loads: Latencies::from_durations(loads),
        dashboard: Latencies::from_durations(tile_times),
        trend: Latencies::from_durations(trend_times),
        count,
        trend_days,
        page: None,
    })
}

/// Debian's Chromium, as the browser tests drive it.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Opens the page in Chromium and prints a line of JSON per load.
const PAGE_TIMER: &str = "tests/browser/time-dashboard.mjs";

/// Opens "Limits & reports" `count` times in Chromium, signed in with
/// `token`, the page's clock at `as_of` (tests/browser/time-dashboard.mjs).
/// `None` when there is no Chromium to open it in.
pub fn dashboard_page(
    base_url: &str,
    token: &str,
    as_of: &str,
    count: usize,
) -> Result<Option<PageRun>> {
    if !Path::new(CHROMIUM).exists() {
        return Ok(None);
    }
    let output = Command::new("node")
        .args([PAGE_TIMER, base_url, token, as_of, &count.to_string()])
        .output()
        .with_context(|| format!("cannot run node {PAGE_TIMER}"))?;
    ensure!(
        output.status.success(),
        "node {PAGE_TIMER} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let loads = page_loads(&String::from_utf8_lossy(&output.stdout))?;
    ensure!(
        loads.len() == count,
        "{PAGE_TIMER} timed {} loads, not {count}",
        loads.len()
    );
    Ok(Some(PageRun {
        tiles: Latencies::from_durations(loads.iter().map(|l| l.tiles()).collect()),
        answered: Latencies::from_durations(loads.iter().map(|l| l.answered()).collect()),
        count,
        requests: loads.iter().map(|l| l.requests).max().unwrap_or(0),
    }))
}

/// One load, as the page timer prints it.
#[derive(Deserialize)]
struct PageLoad {
    tiles_ms: f64,
    answered_ms: f64,
    requests: usize,
}

impl PageLoad {
    fn tiles(&self) -> Duration {
        Duration::from_secs_f64(self.tiles_ms / 1000.0)
    }

    fn answered(&self) -> Duration {
        Duration::from_secs_f64(self.answered_ms / 1000.0)
    }
}

fn page_loads(printed: &str) -> Result<Vec<PageLoad>> {
    printed
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).with_context(|| format!("not a page load: {line}")))
        .collect()
}

fn timed_get(addr: SocketAddr, token: &str, path: &str) -> Result<Duration> {
    let started = Instant::now();
    let auth = format!("Bearer {token}");
    let (status, body) = host::send(addr, "GET", path, &[("authorization", &auth)], "")?;
    ensure!(status == 200, "GET {path} answered {status}: {body}");
    Ok(started.elapsed())
}
