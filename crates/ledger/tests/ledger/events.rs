//! The event feed: each change the ERP must know of is an event, written
//! with the change or not at all; read back in order by cursor; pushed,
//! retried, given up on, redelivered and purged.

use crate::support::*;
use chrono::{Duration, Utc};
use credit_core::events::EventType;
use ledger::events::{self, CloudEvent, Cursor, Outcome};
use ledger::limits::{self, Decision, NewRequest, Verdict};
use ledger::orders;
use ledger::workflows;
use serde_json::json;

fn all_events(books: &Books) -> Vec<CloudEvent> {
    block_on(events::feed(&books.db, Cursor(0), 1000, None))
        .unwrap()
        .events
}

/// (type, subject) of every event, in feed order.
fn kinds(books: &Books) -> Vec<(String, String)> {
    all_events(books)
        .iter()
        .map(|e| (e.kind.as_str().to_string(), e.subject.clone()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Case 8: SO-1 held for what is past due, released by a payment.
fn held_then_paid() -> Books {
    let books = Books::new();
    books.customer("C-8", Some("40000.00"));
    books.invoice("INV-A", "C-8", "2025-05-20", "4000.00");
    books.invoice("INV-B", "C-8", "2025-06-10", "6000.00");
    books.order("SO-1", "C-8", "12000.00");
    books
        .post(&books.payment("PAY-1", "C-8", "11000.00"))
        .unwrap();
    books
}

#[test]
fn an_order_held_then_released_by_a_payment_is_told_in_order_with_its_cause() {
    let books = held_then_paid();
    assert_eq!(
        kinds(&books),
        pairs(&[
            ("order.held", "SO-1"),
            ("order.released", "SO-1"),
            ("payment.posted", "PAY-1"),
        ])
    );
    let events = all_events(&books);
    let held = &events[0];
    assert_eq!(held.specversion, "1.0");
    assert_eq!(held.id, "evt_1");
    assert_eq!(held.source, "/credit-desk");
    assert_eq!(held.datacontenttype, "application/json");
    assert_eq!(held.time, "2025-06-30T09:00:00.000Z");
    assert_eq!(held.data["status"], "held");
    assert_eq!(held.data["customer_id"], "C-8");
    assert_eq!(held.data["amount"], "12000.00");
    assert_eq!(held.data["reasons"][0]["code"], "PAST_DUE");
    assert_eq!(held.data["cause"], "check");
    assert_eq!(held.data["by"], "erp");
    let released = &events[1];
    assert_eq!(released.data["cause"], "payment");
    assert_eq!(released.data["cause_id"], "PAY-1");
    assert_eq!(released.data["by"], "alice");
    assert_eq!(released.data["exposure"], "11000.00", "1,000.00 unapplied");
    let posted = &events[2];
    assert_eq!(posted.data["allocations"][0]["invoice_id"], "INV-A");
    assert_eq!(posted.data["released_orders"], json!(["SO-1"]));
}

#[test]
fn a_refused_change_leaves_no_event() {
    let books = held_then_paid();
    let before = kinds(&books);
    let mut clash = books.payment("PAY-1", "C-8", "5.00");
    clash.reference = Some("another payment".into());
    books.post(&clash).unwrap_err();
    let mut unknown = books.payment("PAY-2", "C-NOBODY", "5.00");
    unknown.reference = None;
    books.post(&unknown).unwrap_err();
    books
        .post(&books.payment("PAY-1", "C-8", "11000.00"))
        .unwrap();
    assert_eq!(
        kinds(&books),
        before,
        "refusals and a replay record nothing"
    );
}

#[test]
fn releases_cancellations_disputes_limits_and_holds_are_all_told() {
    let books = Books::new();
    books.customer("C-1", Some("1000.00"));
    books.invoice("INV-1", "C-1", "2025-07-30", "900.00");
    books.order("SO-1", "C-1", "500.00");
    books.order("SO-2", "C-1", "400.00");
    books.order("SO-3", "C-1", "300.00");
    let policy = books.policy.clone();
    let as_of = date(AS_OF);
    block_on(orders::release(
        &books.db,
        "SO-1",
        &manual("known customer", &policy, as_of),
        &stamp("alice"),
    ))
    .unwrap();
    let ids = vec!["SO-2".to_string()];
    block_on(orders::release_many(
        &books.db,
        &ids,
        &manual("month end", &policy, as_of),
        &stamp("bob"),
    ))
    .unwrap();
    block_on(orders::cancel(
        &books.db,
        "SO-1",
        as_of,
        &policy,
        &stamp("erp"),
    ))
    .unwrap();
    books.dispute("INV-1", "100.00").unwrap();
    let change = ledger::disputes::DisputeUpdate {
        status: Some(credit_core::dispute::DisputeStatus::InReview),
        ..Default::default()
    };
    block_on(workflows::dispute::update(
        &books.db,
        "D-1",
        &change,
        as_of,
        &policy,
        &stamp("alice"),
    ))
    .unwrap();
    let resolve = ledger::disputes::DisputeUpdate {
        status: Some(credit_core::dispute::DisputeStatus::ResolvedCredit),
        note: Some("price corrected".into()),
        credit_amount: None,
    };
    block_on(workflows::dispute::update(
        &books.db,
        "D-1",
        &resolve,
        as_of,
        &policy,
        &stamp("alice"),
    ))
    .unwrap();
    let new = NewRequest {
        customer_id: "C-1".into(),
        requested_limit: amount("3000.00"),
        reason: "growth".into(),
    };
    let asked = block_on(limits::create(&books.db, &new, &stamp("alice"))).unwrap();
    let approve = Decision {
        verdict: Verdict::Approve { limit: None },
        note: "ok".into(),
        as_of,
    };
    block_on(workflows::limit::decide(
        &books.db,
        &asked.id,
        &approve,
        &policy,
        &stamp("maria"),
    ))
    .unwrap();
    let mut on_hold = books.customer_update("C-1", Some("3000.00"));
    on_hold.on_hold = true;
    block_on(workflows::customer::put(
        &books.db,
        "C-1",
        &on_hold,
        &policy,
        as_of,
        &stamp("erp"),
    ))
    .unwrap();

    let seen = kinds(&books);
    let after_checks = &seen[3..];
    assert_eq!(
        after_checks,
        pairs(&[
            ("order.released", "SO-1"),
            ("order.released", "SO-2"),
            ("order.cancelled", "SO-1"),
            ("dispute.opened", "D-1"),
            ("dispute.resolved", "D-1"),
            ("credit_limit.changed", "C-1"),
            ("order.released", "SO-3"),
            ("account_hold.changed", "C-1"),
        ])
        .as_slice()
    );
    let events = all_events(&books);
    let by_subject_and_cause: Vec<(String, String)> = [3, 4, 5, 9]
        .iter()
        .map(|&i| &events[i])
        .map(|e| {
            (
                e.subject.clone(),
                e.data["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        by_subject_and_cause,
        pairs(&[
            ("SO-1", "manual_release"),
            ("SO-2", "bulk_release"),
            ("SO-1", "cancellation"),
            ("SO-3", "limit_approval"),
        ])
    );
    assert_eq!(events[3].data["note"], "known customer");
    assert_eq!(events[7].data["status"], "resolved_credit");
    assert_eq!(events[7].data["credited"], "100.00");
    assert_eq!(events[8].data["credit_limit"], "3000.00");
    assert_eq!(events[8].data["previous_limit"], "1000.00");
    assert_eq!(events[8].data["cause"], "limit_approval");
    assert_eq!(events[8].data["by"], "maria");
    assert_eq!(events[9].data["cause_id"], "CLR-1");
    assert_eq!(events[10].data["on_hold"], true);
}

#[test]
fn the_feed_pages_by_cursor_and_filters_by_type() {
    let books = held_then_paid();
    let first = block_on(events::feed(&books.db, Cursor(0), 2, None)).unwrap();
    assert_eq!(first.events.len(), 2);
    assert_eq!(first.next, "2");
    let rest = block_on(events::feed(
        &books.db,
        Cursor::parse(&first.next).unwrap(),
        2,
        None,
    ))
    .unwrap();
    assert_eq!(rest.events.len(), 1);
    assert_eq!(rest.events[0].id, "evt_3");
    let end = block_on(events::feed(
        &books.db,
        Cursor::parse(&rest.next).unwrap(),
        2,
        None,
    ))
    .unwrap();
    assert!(end.events.is_empty());
    assert_eq!(end.next, "3", "a reader at the end stays where it is");
    let payments = block_on(events::feed(
        &books.db,
        Cursor(0),
        10,
        Some(EventType::PaymentPosted),
    ))
    .unwrap();
    assert_eq!(payments.events.len(), 1);
    assert_eq!(payments.next, "3");
    assert_eq!(
        block_on(events::feed(&books.db, Cursor(0), 10, None)).unwrap(),
        block_on(events::feed(&books.db, Cursor(0), 10, None)).unwrap(),
        "re-read the same"
    );
}

#[test]
fn pushing_delivers_retries_gives_up_and_redelivers() {
    let books = held_then_paid();
    let now = Utc::now();
    let later = now + Duration::hours(1);
    let ids = |pushable: &[events::ToPush]| -> Vec<String> {
        pushable.iter().map(|p| p.event.id.clone()).collect()
    };
    let first = block_on(events::to_push(&books.db, now, 10)).unwrap();
    assert_eq!(ids(&first), ["evt_1", "evt_3"], "evt_2 waits behind evt_1");
    let failed_once = Outcome::Failed {
        error: "HTTP 500".into(),
        retry_at: Some(now + Duration::seconds(5)),
    };
    let outcomes = vec![
        (first[0].clone(), Outcome::Delivered),
        (first[1].clone(), failed_once),
    ];
    block_on(events::record_outcomes(&books.db, &outcomes, now)).unwrap();
    assert_eq!(
        ids(&block_on(events::to_push(&books.db, now, 10)).unwrap()),
        ["evt_2"]
    );
    let second = block_on(events::to_push(&books.db, later, 10)).unwrap();
    assert_eq!(ids(&second), ["evt_2", "evt_3"]);
    assert_eq!(second[1].attempts, 1);
    assert!(second[1].next_attempt_at.is_some() && second[1].first_attempt_at.is_some());
    let gave_up = Outcome::Failed {
        error: "HTTP 410".into(),
        retry_at: None,
    };
    block_on(events::record_outcomes(
        &books.db,
        &[(second[0].clone(), gave_up)],
        later,
    ))
    .unwrap();
    let health = block_on(events::push_health(&books.db)).unwrap();
    assert_eq!((health.pending, health.failed), (1, 1));
    assert_eq!(health.last_error.as_deref(), Some("HTTP 410"));
    assert!(health.last_success_at.is_some() && health.last_failure_at.is_some());
    let failed = block_on(events::failed(&books.db, 10)).unwrap();
    assert_eq!(failed[0].event.id, "evt_2");
    assert_eq!(failed[0].last_error.as_deref(), Some("HTTP 410"));
    let again = block_on(events::redeliver(&books.db, None, &stamp("maria"))).unwrap();
    assert_eq!(again, ["evt_2"]);
    let health = block_on(events::push_health(&books.db)).unwrap();
    assert_eq!((health.pending, health.failed), (2, 0));
}

#[test]
fn one_pusher_holds_the_lease_until_it_expires() {
    let books = Books::new();
    let now = Utc::now();
    let soon = now + Duration::seconds(30);
    assert!(block_on(events::take_lease(&books.db, "run-a", now, soon)).unwrap());
    assert!(!block_on(events::take_lease(&books.db, "run-b", now, soon)).unwrap());
    assert!(
        block_on(events::take_lease(&books.db, "run-a", now, soon)).unwrap(),
        "renewed"
    );
    assert!(
        block_on(events::take_lease(
            &books.db,
            "run-b",
            soon,
            soon + Duration::seconds(30)
        ))
        .unwrap(),
        "expired: taken over"
    );
    block_on(events::release_lease(&books.db, "run-a")).unwrap();
    assert!(
        !block_on(events::take_lease(&books.db, "run-a", soon, soon)).unwrap(),
        "not a's to give up"
    );
    block_on(events::release_lease(&books.db, "run-b")).unwrap();
    assert!(block_on(events::take_lease(&books.db, "run-a", soon, soon)).unwrap());
}

#[test]
fn old_events_are_purged_oldest_first_but_never_before_they_are_pushed() {
    let books = held_then_paid();
    let later = Utc::now() + Duration::days(400);
    assert_eq!(
        block_on(events::purge(&books.db, later, 2, true)).unwrap(),
        0,
        "all still to push"
    );
    let pending = block_on(events::to_push(
        &books.db,
        Utc::now() + Duration::hours(1),
        10,
    ))
    .unwrap();
    let delivered: Vec<_> = pending
        .into_iter()
        .take(2)
        .map(|p| (p, Outcome::Delivered))
        .collect();
    block_on(events::record_outcomes(&books.db, &delivered, Utc::now())).unwrap();
    assert_eq!(
        block_on(events::purge(&books.db, later, 1, true)).unwrap(),
        1
    );
    assert_eq!(all_events(&books)[0].id, "evt_2", "the oldest went first");
    assert_eq!(
        block_on(events::purge(&books.db, later, 10, true)).unwrap(),
        1
    );
    assert_eq!(
        block_on(events::purge(&books.db, later, 10, false)).unwrap(),
        1,
        "not pushing: age alone"
    );
    assert!(all_events(&books).is_empty());
}

#[test]
fn an_event_waits_behind_its_subjects_earlier_one_and_goes_alone() {
    let books = held_then_paid();
    books.order("SO-2", "C-8", "1.00");
    // evt_1 SO-1 held, evt_2 SO-1 released, evt_3 PAY-1, evt_4 SO-2.
    let later = Utc::now() + Duration::hours(1);
    let ids = |pushable: Vec<events::ToPush>| -> Vec<String> {
        pushable.into_iter().map(|p| p.event.id).collect()
    };
    let first = block_on(events::to_push(&books.db, later, 10)).unwrap();
    assert_eq!(
        ids(first.clone()),
        ["evt_1", "evt_3", "evt_4"],
        "SO-1 one at a time"
    );
    let retry = Outcome::Failed {
        error: "timeout".into(),
        retry_at: Some(later + Duration::minutes(5)),
    };
    let outcomes = vec![
        (first[0].clone(), retry),
        (first[1].clone(), Outcome::Delivered),
    ];
    block_on(events::record_outcomes(&books.db, &outcomes, Utc::now())).unwrap();
    let next = block_on(events::to_push(&books.db, later, 10)).unwrap();
    assert_eq!(ids(next), ["evt_4"], "evt_2 waits for evt_1's retry");
    let after_retry =
        block_on(events::to_push(&books.db, later + Duration::minutes(6), 10)).unwrap();
    assert_eq!(ids(after_retry), ["evt_1", "evt_4"]);
}
