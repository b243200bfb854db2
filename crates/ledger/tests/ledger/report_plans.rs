//! Every report query is served by an index: each statement a report runs
//! is explained (`EXPLAIN QUERY PLAN`, with its real parameters) and no
//! table may be read in full — in particular never `invoices`, where a
//! range or a partial index applies. A `SCAN` through an ordinary index
//! reads every row too, so only a scan of a partial index (which holds just
//! the open invoices, held orders or promises) is allowed.

use std::cell::RefCell;

use crate::support::*;
use credit_core::dispute::DisputeStatus;
use credit_core::limit::RequestStatus;
use credit_core::metrics::Period;
use ledger::db::native::NativeDb;
use ledger::limits::ListQuery;
use ledger::{Database, DbError, Row, Value, reports};

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
    books.sql(
        "INSERT INTO contacts (customer_id, contacted_on, recorded_at, actor, channel, outcome, note, promise_amount_minor, promise_due_on)
         VALUES ('C-1', '2025-06-01', 'x', 'alice', 'call', 'promised', 'n', 100, '2025-06-20')",
        vec![],
    );
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

/// Lines reading a whole table: a `SCAN` other than of a partial index, of
/// a constant row, or of `k`, the aging query's `contributions`, themselves
/// found by indexes.
fn full_scans(plans: &[(String, Vec<String>)], partial: &[String]) -> Vec<String> {
    let allowed = |line: &str, lines: &[String]| {
        let contributions = line == "SCAN k" && lines.iter().any(|l| l.ends_with(" contributions"));
        // `SELECT EXISTS (...) OR EXISTS (...)` reads no table itself.
        let constant = line == "SCAN CONSTANT ROW";
        contributions
            || constant
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
        ledger::disputes::ACTIVE,
        DisputeStatus::ALL,
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
    let plans = plans_of(&books, async |db| {
        reports::worklist(db, date(AS_OF), None).await
    });
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
fn the_held_queue_and_order_lists_use_an_index_for_every_filter() {
    use credit_core::hold::OrderStatus;
    use ledger::orders::{self, QueueQuery};
    let books = books();
    books.order("SO-2", "C-1", "5000.00"); // held: over the limit
    for (status, customer_id, index) in [
        (OrderStatus::Held, None, "orders_held_by_age"),
        (OrderStatus::Held, Some("C-1"), "orders_by_customer_status"),
        (
            OrderStatus::Released,
            Some("C-1"),
            "orders_by_customer_status",
        ),
        (
            OrderStatus::Invoiced,
            Some("C-1"),
            "orders_by_customer_status",
        ),
    ] {
        let query = QueueQuery {
            status,
            customer_id: customer_id.map(String::from),
            ..QueueQuery::held()
        };
        let plans = plans_of(&books, async |db| {
            orders::queue(db, &query, date(AS_OF)).await
        });
        let name = format!("the {} queue of {customer_id:?}", status.as_str());
        assert_indexed(&books, &name, &plans, &[index]);
    }
}

#[test]
fn the_held_queue_uses_its_index_whatever_the_filter_sort_or_page() {
    use credit_core::hold::ReasonCode;
    use ledger::orders::{self, QueueQuery, QueueSort};
    let books = books();
    books.order("SO-2", "C-1", "5000.00"); // held: over the limit
    for &sort in QueueSort::ALL {
        let query = QueueQuery {
            sort,
            reason: Some(ReasonCode::CreditLimitExceeded),
            currency: Some(usd()),
            min_amount: Some(amount("1.00")),
            max_amount: Some(amount("9000.00")),
            min_days_held: Some(0),
            limit: 1,
            ..QueueQuery::held()
        };
        let first = block_on(orders::queue_page(&books.db, &query, date(AS_OF))).unwrap();
        let query = QueueQuery {
            after: first.next.as_deref().and_then(orders::QueueCursor::parse),
            ..query
        };
        let plans = plans_of(&books, async |db| {
            orders::queue_page(db, &query, date(AS_OF)).await
        });
        let name = format!("the held queue by {}", sort.as_str());
        assert_indexed(&books, &name, &plans, &["orders_held_by_age"]);
    }
}

#[test]
fn the_dispute_list_uses_an_index_for_every_filter() {
    use ledger::disputes::{self, DisputeQuery, StatusFilter};
    let books = books();
    books.dispute("INV-1", "100.00").unwrap();
    for (status, customer_id, index) in [
        (StatusFilter::Active, None, "disputes_by_status"),
        (
            StatusFilter::Exactly(DisputeStatus::Withdrawn),
            None,
            "disputes_by_status",
        ),
        (StatusFilter::Any, None, "disputes_by_status"),
        (StatusFilter::Active, Some("C-1"), "disputes_by_customer"),
        (StatusFilter::Any, Some("C-1"), "disputes_by_customer"),
    ] {
        let query = DisputeQuery {
            status,
            customer_id: customer_id.map(String::from),
            assignee: None,
        };
        let plans = plans_of(&books, async |db| {
            disputes::list(db, &query, date(AS_OF)).await
        });
        let name = format!("disputes {status:?} of {customer_id:?}");
        assert_indexed(&books, &name, &plans, &[index]);
    }
}

#[test]
fn whether_a_customer_has_business_is_answered_by_indexes() {
    let books = books();
    let plans = plans_of(&books, async |db| {
        ledger::customers::has_business(db, "C-2", usd()).await
    });
    assert_indexed(
        &books,
        "has business",
        &plans,
        &["invoices_by_customer", "payments_by_customer"],
    );
}

#[test]
fn a_customer_contact_log_reads_its_promises_and_payments_by_index() {
    let books = books();
    let plans = plans_of(&books, async |db| {
        ledger::contacts::list(db, "C-1", date(AS_OF))
            .await
            .map_err(|e| DbError::Sql(e.to_string()))
    });
    assert_indexed(
        &books,
        "contact log",
        &plans,
        &["contacts_by_customer", "payments_by_customer"],
    );
}

#[test]
fn the_hold_check_reads_only_the_customer_s_open_invoices() {
    use ledger::orders::{self, OrderWebhook};
    let books = books();
    let order = OrderWebhook {
        id: "SO-9".into(),
        customer_id: "C-1".into(),
        amount: amount("1.00"),
        currency: usd(),
        ordered_on: date(AS_OF),
        requested_ship_on: None,
        as_of: date(AS_OF),
    };
    let plans = plans_of(&books, async |db| {
        orders::check(db, &order, &books.policy, &stamp("erp"))
            .await
            .map_err(|e| DbError::Sql(e.to_string()))
    });
    let check = &plans
        .iter()
        .find(|(sql, _)| sql.contains("LEFT JOIN invoices"))
        .expect("the check's statement")
        .1;
    let open_only = |line: &String| {
        line.contains("INDEX invoices_open_by_customer")
            || line.contains("INDEX invoices_by_customer (customer_id=? AND open_minor>?)")
    };
    assert!(check.iter().any(open_only), "{check:#?}");
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
    // Open ones from either index of a customer's invoices; all from the one
    // of every invoice.
    for (filter, indexes) in [
        (InvoiceFilter::Open, &[][..]),
        (InvoiceFilter::All, &["invoices_by_customer"][..]),
    ] {
        let plans = plans_of(&books, async |db| {
            Ok(invoices::list_for_customer(db, "C-1", filter, date(AS_OF))
                .await
                .unwrap())
        });
        assert_indexed(&books, "a customer's invoices", &plans, indexes);
    }
}
