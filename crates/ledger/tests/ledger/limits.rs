//! Credit-limit requests through the ledger (R4): worked case 10, who may
//! decide, the lowest limit allowed, and decisions that cannot be repeated.

use crate::support::*;
use credit_core::hold::OrderStatus;
use credit_core::limit::RequestStatus;
use ledger::limits::{self, Decided, Decision, LimitRequest, ListQuery, NewRequest, Verdict};
use ledger::orders::{self, QueueQuery};
use ledger::workflows;
use ledger::{Database, LedgerError, customers};

/// Case 10: L 20,000; AR 16,000 current; SO-10 5,000 (06-20) and SO-11
/// 6,000 (06-22) held.
fn case_10_books() -> Books {
    let books = Books::new();
    books.customer("C-10", Some("20000.00"));
    books.invoice("AR-1", "C-10", "2025-07-30", "16000.00");
    // Delivered newest first: the re-check must go by order date.
    let so_11 = books.try_order("SO-11", "C-10", "6000.00", "2025-06-22");
    let so_10 = books.try_order("SO-10", "C-10", "5000.00", "2025-06-20");
    assert_eq!(so_11.unwrap().status, OrderStatus::Held);
    assert_eq!(so_10.unwrap().status, OrderStatus::Held);
    books
}

fn request(books: &Books, customer: &str, limit: &str, by: &str) -> ledger::Result<LimitRequest> {
    let new = NewRequest {
        customer_id: customer.into(),
        requested_limit: amount(limit),
        reason: "Seasonal volume; paid on time for two years".into(),
    };
    block_on(limits::create(&books.db, &new, &stamp(by)))
}

fn decide(books: &Books, id: &str, verdict: Verdict, by: &str) -> ledger::Result<Decided> {
    let decision = Decision {
        verdict,
        note: "Reviewed the payment history".into(),
        as_of: date(AS_OF),
    };
    block_on(workflows::limit::decide(
        &books.db,
        id,
        &decision,
        &books.policy,
        &stamp(by),
    ))
}

fn approve(books: &Books, id: &str, limit: Option<&str>, by: &str) -> ledger::Result<Decided> {
    let limit = limit.map(amount);
    decide(books, id, Verdict::Approve { limit }, by)
}

fn limit_of(books: &Books, customer: &str) -> String {
    let customer = block_on(customers::get(&books.db, customer)).unwrap();
    customer.credit_limit.unwrap().to_string()
}

fn latest_decision(books: &Books, order: &str) -> orders::DecisionEntry {
    let view = block_on(orders::view(&books.db, order, now())).unwrap();
    view.decisions.last().unwrap().clone()
}

#[test]
fn worked_case_10_each_approval_releases_what_now_fits_oldest_first() {
    let books = case_10_books();
    let asked = request(&books, "C-10", "30000.00", "alice").unwrap();
    assert_eq!(asked.id, "CLR-1");
    assert_eq!(asked.status, RequestStatus::Pending);
    assert_eq!(asked.current_limit.unwrap().to_string(), "20000.00");
    assert_eq!(asked.requested_limit.to_string(), "30000.00");
    assert_eq!(asked.requested_by, "alice");
    assert_eq!(asked.reason, "Seasonal volume; paid on time for two years");
    assert!(asked.requested_at.ends_with('Z'), "{}", asked.requested_at);

    // The manager approves less than was asked.
    let first = approve(&books, "CLR-1", Some("25000.00"), "maria").unwrap();
    assert_eq!(first.request.status, RequestStatus::Approved);
    assert_eq!(
        first.request.approved_limit.unwrap().to_string(),
        "25000.00"
    );
    assert_eq!(first.credit_limit.unwrap().to_string(), "25000.00");
    assert_eq!(first.request.released_orders, ["SO-10"]);
    assert_eq!(first.request.still_held, ["SO-11"]);
    assert_eq!(first.request.decided_by.as_deref(), Some("maria"));
    let so_10 = latest_decision(&books, "SO-10");
    assert_eq!(so_10.decision.status, OrderStatus::Released);
    assert_eq!(so_10.decision.exposure.to_string(), "21000.00");
    assert_eq!(so_10.trigger, "credit-limit request CLR-1 approved");
    assert_eq!(so_10.by, "maria");
    let so_11 = latest_decision(&books, "SO-11");
    assert_eq!(so_11.decision.status, OrderStatus::Held);
    assert_eq!(so_11.decision.exposure.to_string(), "27000.00");
    assert_eq!(limit_of(&books, "C-10"), "25000.00");
    assert_eq!(books.position("C-10").exposure.to_string(), "21000.00");

    request(&books, "C-10", "30000.00", "alice").unwrap();
    let second = approve(&books, "CLR-2", None, "maria").unwrap();
    assert_eq!(second.credit_limit.unwrap().to_string(), "30000.00");
    assert_eq!(second.request.released_orders, ["SO-11"]);
    assert!(second.request.still_held.is_empty());
    let held = block_on(orders::queue(&books.db, &QueueQuery::held(), date(AS_OF))).unwrap();
    assert!(held.is_empty());
}

#[test]
fn every_limit_change_is_in_the_audit_log() {
    let books = case_10_books();
    request(&books, "C-10", "25000.00", "alice").unwrap();
    approve(&books, "CLR-1", None, "maria").unwrap();
    let row = block_on(books.db.query_row(
        "SELECT actor, details FROM audit_log WHERE action = 'set_credit_limit' AND entity_id = 'C-10'",
        vec![],
    ))
    .unwrap()
    .expect("an audit entry");
    assert_eq!(row.text(0).unwrap(), "maria");
    let details: serde_json::Value = row.json(1).unwrap();
    assert_eq!(details["before"], "20000.00");
    assert_eq!(details["after"], "25000.00");
    assert_eq!(details["reason"], "credit-limit request CLR-1 approved");
}

#[test]
fn a_manager_never_decides_their_own_request() {
    let books = case_10_books();
    request(&books, "C-10", "25000.00", "maria").unwrap();
    let refused = approve(&books, "CLR-1", None, "maria").unwrap_err();
    let LedgerError::Forbidden(message) = refused else {
        panic!("expected Forbidden, got {refused:?}");
    };
    assert!(
        message.contains("cannot decide their own request"),
        "{message}"
    );
    assert_eq!(limit_of(&books, "C-10"), "20000.00");
    let request = block_on(limits::get(&books.db, "CLR-1")).unwrap();
    assert_eq!(request.status, RequestStatus::Pending);

    let decided = approve(&books, "CLR-1", None, "mike").unwrap();
    assert_eq!(decided.request.decided_by.as_deref(), Some("mike"));
}

#[test]
fn a_limit_below_outstanding_is_refused_with_the_minimum() {
    let books = case_10_books();
    // A released, unbilled order counts: outstanding is 16,000 + 1,000.
    assert_eq!(
        books.order("SO-12", "C-10", "1000.00").status,
        OrderStatus::Released
    );
    let refused = request(&books, "C-10", "16999.99", "alice").unwrap_err();
    let LedgerError::Invalid(errors) = refused else {
        panic!("expected Invalid, got {refused:?}");
    };
    assert_eq!(errors[0].field, "requested_limit");
    assert!(
        errors[0].message.contains("the minimum is 17000.00"),
        "{}",
        errors[0].message
    );
    assert_eq!(books.count("credit_limit_requests"), 0);

    request(&books, "C-10", "17000.00", "alice").unwrap();
    let refused = approve(&books, "CLR-1", Some("16500.00"), "maria").unwrap_err();
    let LedgerError::Invalid(errors) = refused else {
        panic!("expected Invalid, got {refused:?}");
    };
    assert_eq!(errors[0].field, "approved_limit");
    assert!(errors[0].message.contains("the minimum is 17000.00"));
    assert_eq!(limit_of(&books, "C-10"), "20000.00");
    let pending = block_on(limits::get(&books.db, "CLR-1")).unwrap();
    assert_eq!(pending.status, RequestStatus::Pending);
}

#[test]
fn a_decided_request_cannot_be_decided_again() {
    let books = case_10_books();
    request(&books, "C-10", "25000.00", "alice").unwrap();
    approve(&books, "CLR-1", None, "maria").unwrap();
    let again = decide(&books, "CLR-1", Verdict::Reject, "mike").unwrap_err();
    assert!(
        matches!(&again, LedgerError::Conflict(m) if m.contains("already approved")),
        "{again:?}"
    );
    let request = block_on(limits::get(&books.db, "CLR-1")).unwrap();
    assert_eq!(request.status, RequestStatus::Approved);
    assert_eq!(request.decided_by.as_deref(), Some("maria"));
}

#[test]
fn a_rejection_keeps_the_limit_and_the_holds() {
    let books = case_10_books();
    request(&books, "C-10", "30000.00", "alice").unwrap();
    let rejected = decide(&books, "CLR-1", Verdict::Reject, "maria").unwrap();
    assert_eq!(rejected.request.status, RequestStatus::Rejected);
    assert_eq!(rejected.request.approved_limit, None);
    assert_eq!(
        rejected.request.note.as_deref(),
        Some("Reviewed the payment history")
    );
    assert_eq!(rejected.credit_limit.unwrap().to_string(), "20000.00");
    assert!(rejected.request.released_orders.is_empty());
    let held = block_on(orders::queue(&books.db, &QueueQuery::held(), date(AS_OF))).unwrap();
    assert_eq!(held.len(), 2);
}

#[test]
fn a_customer_has_one_pending_request_at_a_time() {
    let books = case_10_books();
    request(&books, "C-10", "25000.00", "alice").unwrap();
    let second = request(&books, "C-10", "26000.00", "bob").unwrap_err();
    assert!(
        matches!(&second, LedgerError::Conflict(m) if m.contains("CLR-1")),
        "{second:?}"
    );
    approve(&books, "CLR-1", None, "maria").unwrap();
    assert_eq!(
        request(&books, "C-10", "26000.00", "bob").unwrap().id,
        "CLR-2"
    );
}

#[test]
fn lists_filter_by_status_and_customer_oldest_first() {
    let books = case_10_books();
    books.customer("C-20", Some("1000.00"));
    request(&books, "C-10", "25000.00", "alice").unwrap();
    request(&books, "C-20", "2000.00", "bob").unwrap();
    approve(&books, "CLR-1", None, "maria").unwrap();
    request(&books, "C-10", "30000.00", "alice").unwrap();
    let ids = |status, customer: Option<&str>| -> Vec<String> {
        let query = ListQuery {
            status,
            customer_id: customer.map(String::from),
        };
        let list = block_on(limits::list(&books.db, &query)).unwrap();
        list.into_iter().map(|r| r.id).collect()
    };
    assert_eq!(ids(None, None), ["CLR-1", "CLR-2", "CLR-3"]);
    assert_eq!(ids(Some(RequestStatus::Pending), None), ["CLR-2", "CLR-3"]);
    assert_eq!(ids(None, Some("C-10")), ["CLR-1", "CLR-3"]);
    assert_eq!(ids(Some(RequestStatus::Approved), Some("C-20")), [""; 0]);
}

#[test]
fn unknown_requests_and_customers_are_not_found() {
    let books = case_10_books();
    for id in ["CLR-9", "CLR-x", "9"] {
        let error = block_on(limits::get(&books.db, id)).unwrap_err();
        assert!(matches!(error, LedgerError::NotFound { .. }), "{id}");
    }
    let error = request(&books, "C-404", "1.00", "alice").unwrap_err();
    assert!(matches!(
        error,
        LedgerError::NotFound {
            what: "customer",
            ..
        }
    ));
}

#[test]
fn a_limit_set_directly_supersedes_the_pending_request() {
    let books = case_10_books();
    let asked = request(&books, "C-10", "30000.00", "alice").unwrap();
    // The same limit again is no change: the request stays pending.
    books.customer("C-10", Some("20000.00"));
    assert_eq!(
        block_on(limits::get(&books.db, &asked.id)).unwrap().status,
        RequestStatus::Pending
    );

    let mut update = books.customer_update("C-10", Some("26000.00"));
    update.name = "C-10 Holdings".into();
    let put = block_on(workflows::customer::put(
        &books.db,
        "C-10",
        &update,
        &books.policy,
        date(AS_OF),
        &stamp("maria"),
    ))
    .unwrap();
    assert_eq!(put.released_orders, ["SO-10"]);
    let superseded = block_on(limits::get(&books.db, &asked.id)).unwrap();
    assert_eq!(superseded.status, RequestStatus::Superseded);
    assert_eq!(superseded.decided_by.as_deref(), Some("maria"));
    assert!(superseded.decided_at.is_some());
    assert_eq!(
        superseded.note.as_deref(),
        Some("superseded: the credit limit was set directly from 20000.00 to 26000.00 USD")
    );
    assert_eq!(superseded.approved_limit, None);
    // It can no longer be decided, and a new request may be made.
    let late = approve(&books, &asked.id, None, "mike").unwrap_err();
    assert!(matches!(late, LedgerError::Conflict(_)), "{late:?}");
    assert_eq!(limit_of(&books, "C-10"), "26000.00");
    request(&books, "C-10", "32000.00", "alice").unwrap();
    let pending = ListQuery {
        status: Some(RequestStatus::Superseded),
        customer_id: None,
    };
    assert_eq!(
        block_on(limits::list(&books.db, &pending)).unwrap().len(),
        1
    );
    let audit = block_on(books.db.query(
        "SELECT actor FROM audit_log WHERE action = 'supersede' AND entity_id = ?",
        ledger::params![&asked.id],
    ))
    .unwrap();
    assert_eq!(audit.len(), 1);
}
