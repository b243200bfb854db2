//! Every report query is served by an index: each statement a report runs
//! is explained (`EXPLAIN QUERY PLAN`, with its real parameters) and no
//! table may be read in full — in particular never `invoices`, where a
//! range or a partial index applies. A `SCAN` through an ordinary index
//! reads every row too, so only a scan of a partial index (which holds just
//! the open invoices, held orders or promises) is allowed.

mod support;

use std::cell::RefCell;

use credit_core::dispute::DisputeStatus;
use credit_core::limit::RequestStatus;
use credit_core::metrics::Period;
use ledger::db::native::NativeDb;
use ledger::limits::ListQuery;
use ledger::{Database, DbError, Row, Value, reports};
use support::*;

/// A database that explains every query before running it.
struct Explaining<'a> {
    db: &'a NativeDb,
    /// (statement, plan lines)
    plans: RefCell<Vec<(String, Vec<String>)>>,
}

/// The names of the schema's partial indexes.
fn partial_indexes(db: &NativeDb) -> Vec<String> {
    let sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'";
    let rows = block_on(db.query(sql, vec![])).unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.string(0).unwrap()).collect();
    assert!(
        names.contains(&"orders_held_by_age".to_string()),
        "{names:?}"
    );
    names
}

impl Database for Explaining<'_> {
    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let plan = self.db.query(&explain, params.clone()).await?;
        let lines = plan
            .iter()
            .map(|row| row.string(3))
            .collect::<Result<_, _>>()?;
        self.plans.borrow_mut().push((sql.to_string(), lines));
        self.db.query(sql, params).await
    }
}

/// A small book with a little of everything, so every query has rows.
fn books() -> Books {
    let books = Books::new();
    books.customer("C-1", Some("1000.00"));
    books.invoice("INV-1", "C-1", "2025-06-01", "500.00");
    books.order("SO-1", "C-1", "900.00");
    books
}

/// Runs a report and returns the plans of its statements.
fn plans_of<T>(
    books: &Books,
    report: impl AsyncFnOnce(&Explaining<'_>) -> Result<T, DbError>,
) -> Vec<(String, Vec<String>)> {
    let explaining = Explaining {
        db: &books.db,
        plans: RefCell::new(vec![]),
    };
    block_on(report(&explaining)).unwrap();
    explaining.plans.into_inner()
}

/// Lines reading a whole table: a `SCAN` other than of a partial index, or
/// of `k`, the aging query's `contributions`, themselves found by indexes.
fn full_scans(plans: &[(String, Vec<String>)], partial: &[String]) -> Vec<String> {
    let allowed = |line: &str, lines: &[String]| {
        let contributions = line == "SCAN k" && lines.iter().any(|l| l.ends_with(" contributions"));
        contributions
            || partial
                .iter()
                .any(|index| line.ends_with(&format!(" INDEX {index}")))
    };
    plans
        .iter()
        .flat_map(|(sql, lines)| {
            lines
                .iter()
                .filter(|line| line.starts_with("SCAN ") && !allowed(line, lines))
                .map(move |line| format!("{line}\n  plan: {lines:#?}\n  of: {}", sql.trim()))
        })
        .collect()
}

/// Asserts no full scan and that each of `indexes` serves some statement.
fn assert_indexed(books: &Books, name: &str, plans: &[(String, Vec<String>)], indexes: &[&str]) {
    assert!(!plans.is_empty(), "{name} ran no query");
    let scans = full_scans(plans, &partial_indexes(&books.db));
    assert!(
        scans.is_empty(),
        "{name} reads whole tables:\n{}",
        scans.join("\n")
    );
    let all: Vec<&str> = plans
        .iter()
        .flat_map(|(_, l)| l)
        .map(String::as_str)
        .collect();
    for index in indexes {
        let used = all
            .iter()
            .any(|line| line.contains(&format!("INDEX {index}")));
        assert!(used, "{name} does not use {index}:\n{}", all.join("\n"));
    }
}

#[test]
fn held_orders_use_the_partial_index_of_held_orders() {
    let books = books();
    let plans = plans_of(&books, async |db| {
        reports::held_orders(db, date(AS_OF)).await
    });
    assert_indexed(
        &books,
        "held orders",
        &plans,
        &["orders_held_by_age", "order_decisions_by_order"],
    );
}

#[test]
fn aging_reads_only_open_or_later_settled_invoices() {
    let books = books();
    let plans = plans_of(&books, async |db| reports::aging(db, date(AS_OF)).await);
    assert_indexed(
        &books,
        "aging",
        &plans,
        &[
            "invoices_open_by_due",
            "allocations_by_date",
            "credits_by_date",
        ],
    );
    let lines = &plans[0].1;
    let open_invoices = "SCAN invoices USING COVERING INDEX invoices_open_by_due";
    assert!(lines.iter().any(|l| l == open_invoices), "{lines:#?}");
}

#[test]
fn disputes_use_the_status_index_for_every_filter() {
    let books = books();
    for statuses in [
        &reports::ACTIVE_DISPUTES[..],
        &DisputeStatus::ALL,
        &[DisputeStatus::Withdrawn],
    ] {
        let plans = plans_of(&books, async |db| {
            reports::disputes(db, date(AS_OF), statuses).await
        });
        assert_indexed(&books, "disputes", &plans, &["disputes_by_status"]);
    }
}

#[test]
fn the_worklist_reads_past_due_invoices_held_orders_and_due_promises_by_index() {
    let books = books();
    let plans = plans_of(&books, async |db| reports::worklist(db, date(AS_OF)).await);
    assert_indexed(
        &books,
        "worklist",
        &plans,
        &[
            "invoices_open_by_due",
            "orders_held_by_age",
            "contacts_promises_by_due",
            "payments_by_customer",
        ],
    );
}

#[test]
fn kpis_read_sales_by_issue_date() {
    let books = books();
    let june = Period::new(date("2025-06-01"), date("2025-06-30")).unwrap();
    let plans = plans_of(&books, async |db| reports::kpis(db, june).await);
    assert_indexed(
        &books,
        "kpis",
        &plans,
        &["invoices_by_issue_date", "allocations_by_date"],
    );
}

#[test]
fn credit_limit_requests_use_the_status_index() {
    let books = books();
    for status in [Some(RequestStatus::Pending), None] {
        let query = ListQuery {
            status,
            customer_id: None,
        };
        let plans = plans_of(&books, async |db| {
            reports::credit_limit_requests(db, &query).await
        });
        assert_indexed(
            &books,
            "credit-limit requests",
            &plans,
            &["credit_limit_requests_by_status"],
        );
    }
}

#[test]
fn the_held_order_trend_finds_recent_decisions_and_held_orders_by_index() {
    let books = books();
    books.order("SO-2", "C-1", "50.00");
    let june = Period::new(date("2025-06-01"), date("2025-06-30")).unwrap();
    let plans = plans_of(&books, async |db| {
        reports::held_orders_trend(db, june).await
    });
    assert_indexed(
        &books,
        "held-order trend",
        &plans,
        &[
            "order_decisions_by_time",
            "order_decisions_by_order",
            "orders_held_by_age",
        ],
    );
}

#[test]
fn a_customers_invoices_are_found_by_index_settled_ones_too() {
    use ledger::invoices::{self, InvoiceFilter};
    let books = books();
    books.invoice("INV-2", "C-1", "2025-05-01", "20.00");
    books.post(&books.payment("PAY-1", "C-1", "20.00")).unwrap();
    for filter in [InvoiceFilter::Open, InvoiceFilter::All] {
        let plans = plans_of(&books, async |db| {
            Ok(invoices::list_for_customer(db, "C-1", filter, date(AS_OF))
                .await
                .unwrap())
        });
        assert_indexed(
            &books,
            "a customer's invoices",
            &plans,
            &["invoices_open_by_customer"],
        );
    }
}
