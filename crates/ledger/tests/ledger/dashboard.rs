//! The manager's dashboard: per currency what is held, owed and past due,
//! the month's DSO and CEI, disputes breaching their service level, pending
//! limit requests and the oldest held order.

use crate::support::*;
use ledger::limits::{self, NewRequest};
use ledger::reports;

#[test]
fn the_dashboard_sums_up_the_book_per_currency() {
    let books = Books::new();
    books.customer("C-1", Some("1000.00"));
    books.invoice_issued("INV-OLD", "C-1", "2025-05-01", "2025-06-01", "300.00"); // past due
    books.invoice_issued("INV-NEW", "C-1", "2025-06-10", "2025-07-10", "700.00"); // current
    books
        .try_order("SO-OLD", "C-1", "500.00", "2025-06-02")
        .unwrap();
    books
        .try_order("SO-NEW", "C-1", "250.00", "2025-06-20")
        .unwrap();
    books.dispute("INV-NEW", "100.00").unwrap();
    books.sql("UPDATE disputes SET sla_due_on = '2025-06-15'", vec![]); // breached by 06-30
    let new = NewRequest {
        customer_id: "C-1".into(),
        requested_limit: amount("5000.00"),
        reason: "growth".into(),
    };
    block_on(limits::create(&books.db, &new, &stamp("alice"))).unwrap();

    let dashboard = block_on(reports::dashboard(&books.db, date(AS_OF))).unwrap();
    assert_eq!(dashboard.month_from, date("2025-06-01"));
    assert_eq!(dashboard.held_orders, 2);
    assert_eq!(dashboard.disputes_breaching_sla, 1);
    assert_eq!(dashboard.pending_limit_requests, 1);
    assert_eq!(dashboard.oldest_held.as_ref().unwrap().order_id, "SO-OLD");
    let usd = &dashboard.currencies[0];
    assert_eq!(usd.currency.code(), "USD");
    assert_eq!(
        (usd.held_orders, usd.held_amount.to_string()),
        (2, "750.00".into())
    );
    assert_eq!(usd.open_receivables.to_string(), "1000.00");
    assert_eq!(usd.past_due.to_string(), "300.00");
    assert_eq!(usd.past_due_share.unwrap().to_string(), "30.00");
    assert!(usd.dso.is_some() && usd.cei.is_some(), "{usd:?}");
    assert_eq!(dashboard.aging[0].aging.total.to_string(), "1000.00");
}

#[test]
fn an_empty_book_has_an_empty_dashboard() {
    let books = Books::new();
    let dashboard = block_on(reports::dashboard(&books.db, date(AS_OF))).unwrap();
    assert!(dashboard.currencies.is_empty() && dashboard.aging.is_empty());
    assert_eq!((dashboard.held_orders, dashboard.oldest_held), (0, None));
}
