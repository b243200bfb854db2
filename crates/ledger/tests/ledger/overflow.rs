//! Sums past 64 bits: a running total that would overflow is refused and
//! changes nothing; sums over many rows are exact however large.

use crate::support::*;
use credit_core::Currency;
use credit_core::hold::OrderStatus;
use credit_core::metrics::Period;
use ledger::orders::{self, OrderWebhook};
use ledger::{LedgerError, Value, params, reports};

fn kwd() -> Currency {
    Currency::parse("KWD").unwrap()
}

/// The largest amount anyone may send, in KWD's minor units (fils).
const MAX_KWD_MINOR: i64 = 1_000_000_000_000_000;

/// More rows of the largest amount than a 64-bit sum can hold.
const ROWS_PAST_I64: i64 = i64::MAX / MAX_KWD_MINOR + 2;

fn kwd_customer(books: &Books, exempt: bool) {
    books.customer_in("C-K", "KWD", None);
    books.sql(
        "UPDATE customers SET exempt = ? WHERE id = 'C-K'",
        params![exempt],
    );
}

#[test]
fn a_payment_that_would_overflow_unapplied_cash_is_refused_and_changes_nothing() {
    let books = Books::new();
    kwd_customer(&books, false);
    books.sql(
        "UPDATE customers SET unapplied_minor = ? WHERE id = 'C-K'",
        params![i64::MAX - MAX_KWD_MINOR / 2],
    );
    let before = books.position("C-K").unapplied_cash;
    let mut payment = books.payment("P-1", "C-K", "1000000000000.000");
    payment.currency = kwd();
    let refused = books.post(&payment).unwrap_err();
    let LedgerError::Invalid(errors) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(errors[0].field, "amount");
    assert!(
        errors[0].message.contains("more unapplied cash"),
        "{errors:?}"
    );
    assert_eq!(books.count("payments"), 0, "nothing was posted");
    assert_eq!(books.position("C-K").unapplied_cash, before);
    // A payment that still fits is taken.
    let mut small = books.payment("P-2", "C-K", "1.000");
    small.currency = kwd();
    books.post(&small).unwrap();
    assert_eq!(
        books.position("C-K").unapplied_cash,
        before + amount("1.000")
    );
}

#[test]
fn released_orders_past_64_bits_still_give_an_exact_exposure() {
    let books = Books::new();
    kwd_customer(&books, true);
    for n in 0..ROWS_PAST_I64 {
        books.sql(
            "INSERT INTO orders (id, customer_id, amount_minor, ordered_on, status, created_at, updated_at)
             VALUES (?, 'C-K', ?, '2025-06-01', 'released', 'x', 'x')",
            params![format!("SO-{n}"), MAX_KWD_MINOR],
        );
    }
    let expected = kwd().from_minor_sum(i128::from(ROWS_PAST_I64) * i128::from(MAX_KWD_MINOR));
    assert_eq!(books.position("C-K").released_orders_total, expected);
    let order = OrderWebhook {
        id: "SO-NEW".into(),
        customer_id: "C-K".into(),
        amount: amount("1.000"),
        currency: kwd(),
        ordered_on: date(AS_OF),
        requested_ship_on: None,
        as_of: date(AS_OF),
    };
    let checked = block_on(orders::check(
        &books.db,
        &order,
        &books.policy,
        &stamp("erp"),
    ))
    .unwrap();
    assert_eq!(checked.status, OrderStatus::Released, "exempt");
    assert_eq!(checked.exposure, expected + amount("1.000"));
}

#[test]
fn receivables_and_sales_past_64_bits_are_summed_exactly() {
    let books = Books::new();
    kwd_customer(&books, false);
    for n in 0..ROWS_PAST_I64 {
        books.sql(
            "INSERT INTO invoices (id, customer_id, issued_on, due_on, amount_minor, open_minor, created_at, updated_at)
             VALUES (?, 'C-K', '2025-06-01', '2025-07-01', ?, ?, 'x', 'x')",
            vec![
                Value::from(format!("INV-{n}")),
                Value::Integer(MAX_KWD_MINOR),
                Value::Integer(MAX_KWD_MINOR),
            ],
        );
    }
    let expected = kwd().from_minor_sum(i128::from(ROWS_PAST_I64) * i128::from(MAX_KWD_MINOR));
    let aging = block_on(reports::aging(&books.db, date(AS_OF))).unwrap();
    assert_eq!(aging.customers[0].aging.total, expected);
    assert_eq!(aging.totals[0].aging.total, expected);
    let period = Period::new(date("2025-06-01"), date(AS_OF)).unwrap();
    let kpis = block_on(reports::kpis(&books.db, period)).unwrap();
    assert_eq!(kpis.currencies[0].figures.credit_sales, expected);
    assert_eq!(books.position("C-K").open_balance, expected);
}
