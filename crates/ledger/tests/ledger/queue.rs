//! The held queue at volume: totals of everything that matches, server-side
//! sorts and filters, cursors that stay put, ship dates and days past due.

use crate::support::*;
use credit_core::hold::ReasonCode;
use ledger::orders::{self, OrderWebhook, QueuePage, QueueQuery, QueueSort};

fn held_order(
    books: &Books,
    id: &str,
    customer: &str,
    value: &str,
    ordered_on: &str,
    ship_on: Option<&str>,
) {
    let order = OrderWebhook {
        id: id.into(),
        customer_id: customer.into(),
        amount: amount(value),
        currency: usd(),
        ordered_on: date(ordered_on),
        requested_ship_on: ship_on.map(date),
        as_of: date(AS_OF),
    };
    let checked = block_on(orders::check(
        &books.db,
        &order,
        &books.policy,
        &stamp("erp"),
    ))
    .unwrap();
    assert_eq!(checked.status.as_str(), "held", "{id}");
}

/// Three customers with held orders: A over its limit, B past due, C both.
fn queue_books() -> Books {
    let books = Books::new();
    books.customer("C-A", Some("1000.00"));
    books.customer("C-B", Some("100000.00"));
    books.customer("C-C", Some("10.00"));
    books.invoice("INV-B", "C-B", "2025-06-01", "50.00"); // 29 days past due
    books.invoice("INV-C", "C-C", "2025-05-01", "5.00"); // 60 days past due
    held_order(
        &books,
        "SO-1",
        "C-A",
        "5000.00",
        "2025-06-10",
        Some("2025-06-30"),
    );
    held_order(
        &books,
        "SO-2",
        "C-B",
        "20.00",
        "2025-06-11",
        Some("2025-07-15"),
    );
    held_order(&books, "SO-3", "C-C", "700.00", "2025-06-09", None);
    held_order(
        &books,
        "SO-4",
        "C-A",
        "1200.00",
        "2025-06-12",
        Some("2025-06-20"),
    );
    books
}

fn page(books: &Books, query: &QueueQuery) -> QueuePage {
    block_on(orders::queue_page(&books.db, query, date(AS_OF))).unwrap()
}

fn ids(page: &QueuePage) -> Vec<&str> {
    page.orders.iter().map(|o| o.order_id.as_str()).collect()
}

#[test]
fn totals_count_everything_that_matches_not_the_page() {
    let books = queue_books();
    let first = page(
        &books,
        &QueueQuery {
            limit: 2,
            ..QueueQuery::held()
        },
    );
    assert_eq!(ids(&first), ["SO-3", "SO-1"], "oldest first");
    assert_eq!(first.total_orders, 4);
    assert_eq!(first.totals.len(), 1);
    assert_eq!(first.totals[0].orders, 4);
    assert_eq!(first.totals[0].amount.to_string(), "6920.00");
    assert!(first.next.is_some());
}

#[test]
fn every_sort_orders_the_whole_queue() {
    let books = queue_books();
    let sorted = |sort| {
        ids(&page(
            &books,
            &QueueQuery {
                sort,
                ..QueueQuery::held()
            },
        ))
        .join(" ")
    };
    assert_eq!(sorted(QueueSort::Oldest), "SO-3 SO-1 SO-2 SO-4");
    assert_eq!(sorted(QueueSort::Amount), "SO-1 SO-4 SO-3 SO-2");
    assert_eq!(sorted(QueueSort::Customer), "SO-1 SO-4 SO-2 SO-3");
    assert_eq!(
        sorted(QueueSort::ShipDate),
        "SO-4 SO-1 SO-2 SO-3",
        "no ship date last"
    );
    assert_eq!(sorted(QueueSort::DaysPastDue), "SO-3 SO-2 SO-1 SO-4");
}

#[test]
fn filters_cut_the_queue_and_its_totals() {
    let books = queue_books();
    let by_reason = page(
        &books,
        &QueueQuery {
            reason: Some(ReasonCode::PastDue),
            ..QueueQuery::held()
        },
    );
    assert_eq!(ids(&by_reason), ["SO-3", "SO-2"]);
    assert_eq!(by_reason.totals[0].amount.to_string(), "720.00");
    let by_amount = page(
        &books,
        &QueueQuery {
            currency: Some(usd()),
            min_amount: Some(amount("700.00")),
            max_amount: Some(amount("1200.00")),
            ..QueueQuery::held()
        },
    );
    assert_eq!(ids(&by_amount), ["SO-3", "SO-4"]);
    let customer = page(
        &books,
        &QueueQuery {
            customer_id: Some("C-A".into()),
            ..QueueQuery::held()
        },
    );
    assert_eq!(ids(&customer), ["SO-1", "SO-4"]);
    assert_eq!(customer.total_orders, 2);
    let none = page(
        &books,
        &QueueQuery {
            currency: Some(credit_core::Currency::parse("EUR").unwrap()),
            ..QueueQuery::held()
        },
    );
    assert!(none.orders.is_empty() && none.totals.is_empty() && none.total_orders == 0);
}

#[test]
fn days_held_filter_counts_from_the_hold() {
    let books = queue_books();
    books.sql(
        "UPDATE orders SET held_since = '2025-06-01T08:00:00.000Z' WHERE id = 'SO-2'",
        vec![],
    );
    let long_held = page(
        &books,
        &QueueQuery {
            min_days_held: Some(20),
            ..QueueQuery::held()
        },
    );
    assert_eq!(ids(&long_held), ["SO-2"]);
    assert_eq!(long_held.orders[0].days_held, Some(29));
}

#[test]
fn ship_dates_and_days_past_due_are_shown() {
    let books = queue_books();
    let all = page(&books, &QueueQuery::held());
    let by_id = |id: &str| {
        all.orders
            .iter()
            .find(|o| o.order_id == id)
            .unwrap()
            .clone()
    };
    let (so1, so2, so3, so4) = (by_id("SO-1"), by_id("SO-2"), by_id("SO-3"), by_id("SO-4"));
    assert_eq!(
        (so1.days_to_ship, so1.misses_ship_date),
        (Some(0), true),
        "due today, held"
    );
    assert_eq!((so2.days_to_ship, so2.misses_ship_date), (Some(15), false));
    assert_eq!((so3.days_to_ship, so3.misses_ship_date), (None, false));
    assert_eq!((so4.days_to_ship, so4.misses_ship_date), (Some(-10), true));
    assert_eq!(
        (so1.days_past_due, so2.days_past_due, so3.days_past_due),
        (0, 29, 60)
    );
}

#[test]
fn a_cursor_stays_put_while_orders_come_and_go() {
    let books = queue_books();
    let query = QueueQuery {
        limit: 2,
        ..QueueQuery::held()
    };
    let first = page(&books, &query);
    assert_eq!(ids(&first), ["SO-3", "SO-1"]);
    // Meanwhile: an older order arrives (before the cursor), and SO-2 is released.
    held_order(&books, "SO-0", "C-A", "9000.00", "2025-06-01", None);
    let ids_to_release = vec!["SO-2".to_string()];
    block_on(orders::release_many(
        &books.db,
        &ids_to_release,
        &manual("ok", &books.policy, date(AS_OF)),
        &stamp("bob"),
    ))
    .unwrap();
    let cursor = orders::QueueCursor::parse(first.next.as_deref().unwrap()).unwrap();
    let second = page(
        &books,
        &QueueQuery {
            after: Some(cursor),
            ..query
        },
    );
    assert_eq!(
        ids(&second),
        ["SO-4"],
        "no order seen twice, none skipped that was there"
    );
    assert!(second.next.is_none());
    assert_eq!(second.total_orders, 4, "totals are of the queue now");
}
