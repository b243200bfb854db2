//! How long each report takes on a large book: 10,000 customers, 200,000
//! invoices (most paid), 50,000 orders, promises, disputes and requests,
//! in a SQLite file with the settings Spin's host uses. It prints figures;
//! it asserts nothing about time. Run it optimised:
//!
//! ```sh
//! cargo test --release -p ledger --test ledger report_speed -- --ignored --nocapture
//! ```

use std::time::Instant;

use crate::support::*;
use credit_core::dispute::DisputeStatus;
use credit_core::limit::RequestStatus;
use credit_core::metrics::Period;
use ledger::db::native::NativeDb;
use ledger::limits::ListQuery;
use ledger::{Database, Value, params, reports, schema};

const CUSTOMERS: usize = 10_000;
const INVOICES_PER_CUSTOMER: usize = 20;
const ORDERS_PER_CUSTOMER: usize = 5;
const AT: &str = "2025-06-30T09:00:00.000Z";

fn day(offset: i64) -> String {
    (date(AS_OF) + chrono::Duration::days(offset)).to_string()
}

fn run(db: &NativeDb, sql: &str, params: Vec<Value>) {
    block_on(db.execute(sql, params)).unwrap();
}

fn seed(db: &NativeDb) {
    let mut dice = Dice(42);
    run(db, "BEGIN", vec![]);
    for n in 0..CUSTOMERS {
        seed_customer(db, &mut dice, n);
    }
    run(db, "COMMIT", vec![]);
}

fn seed_customer(db: &NativeDb, dice: &mut Dice, n: usize) {
    let id = format!("C-{n:05}");
    let currency = if n.is_multiple_of(10) { "EUR" } else { "USD" };
    run(
        db,
        "INSERT INTO customers (id, name, currency, credit_limit_minor, payment_terms_days, created_at, updated_at, updated_by)
         VALUES (?, ?, ?, 5000000, 30, ?, ?, 'erp')",
        params![&id, format!("Customer {n}"), currency, AT, AT],
    );
    for i in 0..INVOICES_PER_CUSTOMER {
        seed_invoice(db, dice, &id, &format!("INV-{n:05}-{i:02}"));
    }
    for o in 0..ORDERS_PER_CUSTOMER {
        seed_order(db, dice, &id, &format!("SO-{n:05}-{o}"));
    }
    if dice.roll(5) == 0 {
        let due = day(dice.roll(60) as i64 - 30);
        run(
            db,
            "INSERT INTO contacts (customer_id, contacted_on, recorded_at, actor, channel, outcome, note, promise_amount_minor, promise_due_on)
             VALUES (?, ?, ?, 'alice', 'call', 'promised', 'will pay', 50000, ?)",
            params![&id, day(-45), AT, due],
        );
    }
    if n.is_multiple_of(20) {
        run(
            db,
            "INSERT INTO credit_limit_requests (customer_id, requested_minor, previous_minor, reason, status, requested_by, requested_at)
             VALUES (?, 6000000, 5000000, 'growth', ?, 'alice', ?)",
            params![&id, RequestStatus::ALL[n / 20 % 3].as_str(), AT],
        );
    }
}

/// An invoice issued within the last 400 days; four in five are paid.
fn seed_invoice(db: &NativeDb, dice: &mut Dice, customer: &str, id: &str) {
    let issued = -(dice.roll(400) as i64);
    let amount = 10_000 + dice.roll(1_000_000) as i64;
    let paid = if dice.roll(5) == 0 { 0 } else { amount };
    run(
        db,
        "INSERT INTO invoices (id, customer_id, issued_on, due_on, amount_minor, paid_minor, open_minor, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![id, customer, day(issued), day(issued + 30), amount, paid, amount - paid, AT, AT],
    );
    if paid > 0 {
        let on = day((issued + 20 + dice.roll(30) as i64).min(10));
        let payment = format!("P-{id}");
        run(
            db,
            "INSERT INTO payments (id, customer_id, amount_minor, received_on, method, unapplied_minor, request, result, posted_at, posted_by)
             VALUES (?, ?, ?, ?, 'ach', 0, '{}', '{}', ?, 'alice')",
            params![&payment, customer, paid, &on, AT],
        );
        run(
            db,
            "INSERT INTO allocations (payment_id, invoice_id, amount_minor, applied_on) VALUES (?, ?, ?, ?)",
            params![&payment, id, paid, &on],
        );
    } else if dice.roll(10) == 0 {
        seed_dispute(db, dice, customer, id, amount);
    }
}

fn seed_dispute(db: &NativeDb, dice: &mut Dice, customer: &str, invoice: &str, amount: i64) {
    let opened = -(dice.roll(20) as i64);
    run(
        db,
        "INSERT INTO disputes (invoice_id, customer_id, amount_minor, reason_code, status, opened_on, sla_due_on, opened_by, created_at, updated_at)
         VALUES (?, ?, ?, 'PRICING', ?, ?, ?, 'alice', ?, ?)",
        params![invoice, customer, amount / 2, DisputeStatus::Open.as_str(), day(opened), day(opened + 14), AT, AT],
    );
    run(
        db,
        "UPDATE invoices SET disputed_minor = ? WHERE id = ?",
        params![amount / 2, invoice],
    );
}

/// An order; one in twenty-five is held, the rest released or invoiced.
fn seed_order(db: &NativeDb, dice: &mut Dice, customer: &str, id: &str) {
    let status = match dice.roll(25) {
        0 => "held",
        1..=5 => "released",
        _ => "invoiced",
    };
    let held_since = (status == "held").then_some(AT);
    run(
        db,
        "INSERT INTO orders (id, customer_id, amount_minor, ordered_on, status, held_since, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![id, customer, 100_000 + dice.roll(500_000) as i64, day(-(dice.roll(60) as i64)), status, held_since, AT, AT],
    );
    let decision = format!(
        r#"{{"status":"{status}","reasons":[{{"code":"CREDIT_LIMIT_EXCEEDED","detail":"over","amount":"1.00"}}],"exposure":"1.00","credit_limit":"1.00","available":"0.00","past_due":"0.00"}}"#
    );
    run(
        db,
        "INSERT INTO order_decisions (order_id, decided_at, kind, trigger, actor, status, decision, inputs)
         VALUES (?, ?, 'check', 'order created', 'erp', ?, ?, '{}')",
        params![id, AT, status, decision],
    );
}

/// Runs `report` and prints how long it took and how many lines it had.
fn time<T>(
    name: &str,
    report: impl AsyncFnOnce() -> Result<T, ledger::DbError>,
    lines: impl Fn(&T) -> usize,
) {
    let started = Instant::now();
    let result = block_on(report()).unwrap();
    let elapsed = started.elapsed();
    println!(
        "{name:<40} {:>8.1} ms  {:>6} lines",
        elapsed.as_secs_f64() * 1000.0,
        lines(&result)
    );
}

#[test]
#[ignore = "a benchmark: seeds 200,000 invoices and prints timings"]
fn report_timings_on_a_large_book() {
    let path = std::env::temp_dir().join(format!("credit-desk-bench-{}.db", std::process::id()));
    let db = NativeDb::open(&path).unwrap();
    block_on(schema::migrate(&db)).unwrap();
    let started = Instant::now();
    seed(&db);
    println!(
        "seeded {CUSTOMERS} customers, {} invoices, {} orders in {:.1} s",
        CUSTOMERS * INVOICES_PER_CUSTOMER,
        CUSTOMERS * ORDERS_PER_CUSTOMER,
        started.elapsed().as_secs_f64()
    );
    let as_of = date(AS_OF);
    let quarter = Period::new(date("2025-04-01"), date("2025-06-30")).unwrap();
    time(
        "held orders",
        async || reports::held_orders(&db, as_of).await,
        |r| r.orders.len(),
    );
    time(
        "aging as of today",
        async || reports::aging(&db, as_of).await,
        |r| r.customers.len(),
    );
    time(
        "aging as of 30 days ago",
        async || reports::aging(&db, date("2025-05-31")).await,
        |r| r.customers.len(),
    );
    time(
        "disputes (active)",
        async || reports::disputes(&db, as_of, ledger::disputes::ACTIVE).await,
        |r| r.disputes.len(),
    );
    time(
        "worklist",
        async || reports::worklist(&db, as_of, None).await,
        |r| r.customers.len(),
    );
    time(
        "kpis over a quarter",
        async || reports::kpis(&db, quarter).await,
        |r| r.currencies.len(),
    );
    // Every seeded decision falls in this month: the trend replays them all.
    let june = Period::new(date("2025-06-01"), date("2025-06-30")).unwrap();
    time(
        "held-order trend over a month",
        async || reports::held_orders_trend(&db, june).await,
        |r| r.days.len(),
    );
    let pending = ListQuery {
        status: Some(RequestStatus::Pending),
        customer_id: None,
    };
    time(
        "credit-limit requests (pending)",
        async || reports::credit_limit_requests(&db, &pending).await,
        |r| r.requests.len(),
    );
    let dunning = credit_core::dunning::DunningPolicy::default();
    time(
        "dunning proposal",
        async || {
            ledger::dunning::proposal(&db, &dunning, &ledger::dunning::Scope::All, as_of).await
        },
        |r| r.customers.len(),
    );
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
