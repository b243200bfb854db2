//! The reports as CSV tables: one row per line of the report — an order, a
//! customer (aging and worklist, with a currency column), a dispute, a
//! currency (KPIs), a request. Each cell is the line's JSON value, so the
//! CSV carries exactly the figures of the JSON: amounts as decimal text,
//! dates `YYYY-MM-DD`, an empty cell for null, lists (reason codes) joined
//! with `;`. Text cells that a spreadsheet would read as a formula
//! (starting with `=`, `+`, `-`, `@`, tab or CR) get a leading apostrophe;
//! figures are written as they are.
//!
//! Totals are not rows: the aging report's per-currency totals are in its
//! JSON only, and the rows of a CSV add up to them.

use api::Table;
use credit_core::aging::Bucket;
use ledger::reports::{
    AgingReport, Dashboard, DisputesReport, HeldOrders, KpiReport, LimitRequests, ReleasesReport,
    Worklist,
};
use serde::Serialize;
use serde_json::Value;

pub fn held_orders(report: &HeldOrders) -> Table {
    let columns = [
        "order_id",
        "customer_id",
        "customer_name",
        "amount",
        "currency",
        "ordered_on",
        "held_since",
        "days_held",
        "reasons",
    ];
    let figures = ["amount", "ordered_on", "held_since", "days_held"];
    let name = format!("held-orders-{}", report.as_of);
    table(&name, &columns, &figures, &report.orders)
}

pub fn aging(report: &AgingReport) -> Table {
    let buckets = Bucket::ALL.map(Bucket::name);
    let columns: Vec<&str> = ["customer_id", "customer_name", "currency"]
        .into_iter()
        .chain(buckets)
        .chain(["total"])
        .collect();
    let figures: Vec<&str> = buckets.into_iter().chain(["total"]).collect();
    let name = format!("aging-{}", report.as_of);
    table(&name, &columns, &figures, &report.customers)
}

pub fn disputes(report: &DisputesReport) -> Table {
    let columns = [
        "dispute_id",
        "invoice_id",
        "customer_id",
        "customer_name",
        "currency",
        "amount",
        "reason_code",
        "status",
        "opened_on",
        "sla_due_on",
        "closed_on",
        "sla_status",
        "business_days_left",
    ];
    let figures = [
        "amount",
        "opened_on",
        "sla_due_on",
        "closed_on",
        "business_days_left",
    ];
    let name = format!("disputes-{}", report.as_of);
    table(&name, &columns, &figures, &report.disputes)
}

pub fn worklist(report: &Worklist) -> Table {
    let columns = [
        "rank",
        "customer_id",
        "customer_name",
        "currency",
        "past_due",
        "held_orders_value",
        "priority",
        "oldest_days_past_due",
        "broken_promises",
    ];
    let figures = [
        "rank",
        "past_due",
        "held_orders_value",
        "priority",
        "oldest_days_past_due",
        "broken_promises",
    ];
    let name = format!("worklist-{}", report.as_of);
    table(&name, &columns, &figures, &report.customers)
}

pub fn kpis(report: &KpiReport) -> Table {
    let columns = [
        "currency",
        "begin_ar",
        "end_ar",
        "end_current_ar",
        "credit_sales",
        "days",
        "dso",
        "best_possible_dso",
        "average_days_delinquent",
        "cei",
    ];
    // Every column but the currency is a figure (ADD can be negative).
    let name = format!("kpis-{}-{}", report.from, report.to);
    table(&name, &columns, &columns[1..], &report.currencies)
}

/// The dashboard's tiles of each currency (the counts across currencies —
/// disputes breaching their SLA, pending requests — are in its JSON).
pub fn dashboard(report: &Dashboard) -> Table {
    let columns = [
        "currency",
        "held_orders",
        "held_amount",
        "open_receivables",
        "past_due",
        "past_due_share",
        "dso",
        "cei",
    ];
    let name = format!("dashboard-{}", report.as_of);
    table(&name, &columns, &columns[1..], &report.currencies)
}

pub fn credit_limit_requests(report: &LimitRequests) -> Table {
    let columns = [
        "id",
        "customer_id",
        "customer_name",
        "currency",
        "status",
        "current_limit",
        "requested_limit",
        "approved_limit",
        "reason",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "note",
    ];
    let figures = [
        "current_limit",
        "requested_limit",
        "approved_limit",
        "requested_at",
        "decided_at",
    ];
    table(
        "credit-limit-requests",
        &columns,
        &figures,
        &report.requests,
    )
}

/// One row per release by hand (the per-person totals are in its JSON,
/// and the rows add up to them).
pub fn releases(report: &ReleasesReport) -> Table {
    let columns = [
        "released_at",
        "order_id",
        "customer_id",
        "customer_name",
        "amount",
        "currency",
        "person",
        "approved_by",
        "overridden",
        "note",
    ];
    let figures = ["released_at", "amount"];
    let name = format!("releases-{}-{}", report.from, report.to);
    table(&name, &columns, &figures, &report.releases)
}

/// A table of `columns` taken from each line's JSON; `figures` are the
/// columns of amounts, counts and dates, written as they are. The others
/// hold text (names, ids, notes, reasons), which the CSV protects against
/// spreadsheet formula injection (`api::reply::spreadsheet_text`).
fn table<T: Serialize>(name: &str, columns: &[&str], figures: &[&str], lines: &[T]) -> Table {
    let mut table = Table::new(name, columns).with_figures(figures);
    for line in lines {
        let json = serde_json::to_value(line).expect("report lines serialise");
        table.push(columns.iter().map(|column| cell(&json[*column])).collect());
    }
    table
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        // A list of reasons shows their codes.
        Value::Array(items) => items
            .iter()
            .map(|item| cell(item.get("code").unwrap_or(item)))
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    }
}
