//! Orders the desk cannot check yet: an order before its customer, or in
//! another currency than the customer's, is stored and held with the
//! reason, announced to the ERP, and checked when the customer arrives or
//! changes.

use crate::support::*;
use credit_core::Currency;
use credit_core::hold::{OrderStatus, ReasonCode};
use ledger::events::{self, Cursor};
use ledger::orders::{self, BulkResult, OrderWebhook};
use ledger::workflows;
use ledger::{LedgerError, customers};

fn order_in(id: &str, customer_id: &str, value: &str, currency: &str) -> OrderWebhook {
    OrderWebhook {
        id: id.into(),
        customer_id: customer_id.into(),
        amount: amount(value),
        currency: Currency::parse(currency).unwrap(),
        ordered_on: date(AS_OF),
        requested_ship_on: None,
        as_of: date(AS_OF),
    }
}

fn check(books: &Books, order: &OrderWebhook) -> orders::CheckResult {
    block_on(orders::check(
        &books.db,
        order,
        &books.policy,
        &stamp("erp"),
    ))
    .unwrap()
}

fn codes(result: &orders::CheckResult) -> Vec<ReasonCode> {
    result.reasons.iter().map(|r| r.code).collect()
}

fn held_queue(books: &Books) -> Vec<(String, Vec<ReasonCode>)> {
    let query = orders::QueueQuery::all_held();
    block_on(orders::queue(&books.db, &query, date(AS_OF)))
        .unwrap()
        .into_iter()
        .map(|e| (e.order_id, e.reasons.iter().map(|r| r.code).collect()))
        .collect()
}

#[test]
fn an_order_before_its_customer_is_held_and_checked_when_the_customer_arrives() {
    let books = Books::new();
    let early = order_in("SO-1", "C-NEW", "400.00", "USD");
    let held = check(&books, &early);
    assert_eq!(held.status, OrderStatus::Held);
    assert_eq!(codes(&held), [ReasonCode::UnknownCustomer]);
    assert_eq!(
        held_queue(&books),
        [("SO-1".to_string(), vec![ReasonCode::UnknownCustomer])]
    );
    // The same webhook again changes nothing.
    assert_eq!(check(&books, &early), held);
    assert_eq!(books.count("order_decisions"), 1);

    books.customer("C-NEW", Some("1000.00"));
    let view = block_on(orders::view(&books.db, "SO-1", now())).unwrap();
    assert_eq!(view.status, OrderStatus::Released);
    assert_eq!(
        view.decisions.last().unwrap().trigger,
        "customer master data change"
    );
    assert!(held_queue(&books).is_empty());
    let kinds: Vec<String> = block_on(events::feed(&books.db, Cursor(0), 100, None))
        .unwrap()
        .events
        .iter()
        .map(|e| format!("{} {}", e.kind, e.subject))
        .collect();
    assert_eq!(kinds, ["order.held SO-1", "order.released SO-1"]);
}

#[test]
fn a_customer_arriving_over_its_limit_keeps_the_order_held_for_the_real_reason() {
    let books = Books::new();
    check(&books, &order_in("SO-1", "C-NEW", "4000.00", "USD"));
    books.customer("C-NEW", Some("1000.00"));
    assert_eq!(
        held_queue(&books),
        [("SO-1".to_string(), vec![ReasonCode::CreditLimitExceeded])]
    );
}

#[test]
fn an_order_in_another_currency_is_held_until_the_customer_or_the_order_is_corrected() {
    let books = Books::new();
    books.customer("C-1", Some("1000.00"));
    let euro = order_in("SO-1", "C-1", "100.00", "EUR");
    let held = check(&books, &euro);
    assert_eq!(codes(&held), [ReasonCode::CurrencyMismatch]);
    assert_eq!(
        held.reasons[0].detail,
        "the customer is billed in USD; the order is in EUR"
    );
    let view = block_on(orders::view(&books.db, "SO-1", now())).unwrap();
    assert_eq!(
        view.currency.code(),
        "EUR",
        "kept in the order's own currency"
    );
    assert_eq!(view.amount, amount("100.00"));

    // A payment re-checks the customer's orders: this one stays held as it was.
    books.post(&books.payment("P-1", "C-1", "10.00")).unwrap();
    assert_eq!(
        held_queue(&books),
        [("SO-1".to_string(), vec![ReasonCode::CurrencyMismatch])]
    );

    // The ERP corrects the customer's currency: the order is checked.
    let corrected = customers::CustomerUpdate {
        currency: Currency::parse("EUR").unwrap(),
        ..books.customer_update("C-1", Some("1000.00"))
    };
    // The payment in USD is business in USD: the currency cannot change...
    let refused = block_on(workflows::customer::put(
        &books.db,
        "C-1",
        &corrected,
        &books.policy,
        date(AS_OF),
        &stamp("erp"),
    ));
    assert!(matches!(refused, Err(LedgerError::Conflict(_))));
    // ... so the ERP corrects the order instead.
    let dollars = order_in("SO-1", "C-1", "100.00", "USD");
    assert_eq!(check(&books, &dollars).status, OrderStatus::Released);
}

#[test]
fn a_customer_with_only_mismatched_orders_may_correct_its_currency() {
    let books = Books::new();
    books.customer("C-1", Some("1000.00"));
    check(&books, &order_in("SO-1", "C-1", "100.00", "EUR"));
    let corrected = customers::CustomerUpdate {
        currency: Currency::parse("EUR").unwrap(),
        ..books.customer_update("C-1", Some("1000.00"))
    };
    let put = block_on(workflows::customer::put(
        &books.db,
        "C-1",
        &corrected,
        &books.policy,
        date(AS_OF),
        &stamp("erp"),
    ))
    .unwrap();
    assert_eq!(put.released_orders, ["SO-1"]);
}

#[test]
fn orders_the_desk_cannot_check_cannot_be_released_by_hand_but_can_be_cancelled() {
    let books = Books::new();
    check(&books, &order_in("SO-1", "C-NEW", "400.00", "USD"));
    let policy = books.policy.clone();
    let refused = block_on(orders::release(
        &books.db,
        "SO-1",
        &manual("ship it", &policy, date(AS_OF)),
        &stamp("alice"),
    ));
    match refused {
        Err(LedgerError::Conflict(detail)) => {
            assert!(
                detail.contains("C-NEW") && detail.contains("not known"),
                "{detail}"
            )
        }
        other => panic!("{other:?}"),
    }
    let ids = vec!["SO-1".to_string()];
    let outcomes = block_on(orders::release_many(
        &books.db,
        &ids,
        &manual("ship it", &policy, date(AS_OF)),
        &stamp("alice"),
    ))
    .unwrap();
    assert_eq!(outcomes[0].outcome, BulkResult::CannotRelease);

    let cancelled = block_on(orders::cancel(
        &books.db,
        "SO-1",
        date(AS_OF),
        &policy,
        &stamp("erp"),
    ))
    .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert!(held_queue(&books).is_empty());
}
