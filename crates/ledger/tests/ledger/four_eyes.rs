//! Four-eyes releases: above the policy's threshold, or for an account on
//! credit hold, an associate's release waits for a manager, who approves
//! (releasing it) or rejects it (held again). Nobody approves their own.

use crate::support::*;
use credit_core::hold::{OrderStatus, ReasonCode};
use ledger::events::{self, Cursor};
use ledger::orders::{self, Approval, BulkResult, DecisionKind, ManualRelease, OrderView};
use ledger::reports;
use ledger::{LedgerError, customers, workflows};

/// C-1 (limit 1,000) with SO-BIG 30,000 and SO-SMALL 2,000 held over the
/// limit; releases above 25,000.00 USD need a manager.
fn books() -> Books {
    let mut books = Books::new();
    books
        .policy
        .release_approval_thresholds
        .insert("USD".into(), amount("25000.00"));
    books.customer("C-1", Some("1000.00"));
    for (id, value) in [("SO-BIG", "30000.00"), ("SO-SMALL", "2000.00")] {
        assert_eq!(books.order(id, "C-1", value).status, OrderStatus::Held);
    }
    books
}

fn release_by(books: &Books, id: &str, by: &str, by_manager: bool) -> ledger::Result<OrderView> {
    let release = ManualRelease {
        by_manager,
        ..manual("customer called", &books.policy, date(AS_OF))
    };
    block_on(orders::release(&books.db, id, &release, &stamp(by)))
}

fn approve(books: &Books, id: &str, by: &str) -> ledger::Result<OrderView> {
    let approval = Approval {
        note: "agreed",
        policy: &books.policy,
        as_of: date(AS_OF),
    };
    block_on(orders::approve_release(
        &books.db,
        id,
        &approval,
        &stamp(by),
    ))
}

fn event_kinds(books: &Books) -> Vec<String> {
    block_on(events::feed(&books.db, Cursor(0), 100, None))
        .unwrap()
        .events
        .iter()
        .map(|e| format!("{} {}", e.kind, e.subject))
        .collect()
}

#[test]
fn an_associate_releases_below_the_threshold_at_once() {
    let books = books();
    let view = release_by(&books, "SO-SMALL", "alice", false).unwrap();
    assert_eq!(view.status, OrderStatus::Released);
    assert!(view.release_request.is_none());
}

#[test]
fn above_the_threshold_the_release_waits_and_the_order_stays_out_of_exposure() {
    let books = books();
    let view = release_by(&books, "SO-BIG", "alice", false).unwrap();
    assert_eq!(view.status, OrderStatus::PendingApproval);
    let request = view.release_request.expect("the request is shown");
    assert_eq!(request.requested_by, "alice");
    assert_eq!(request.note.as_deref(), Some("customer called"));
    assert_eq!(
        request.needs_approval.as_deref(),
        Some("releases above 25000.00 USD need a manager's approval")
    );
    assert!(view.held_since.is_some(), "the hold keeps its start");
    let position = books.position("C-1");
    assert_eq!(position.released_orders_total, amount("0.00"));
    assert!(
        !event_kinds(&books).contains(&"order.released SO-BIG".to_string()),
        "the ERP hears nothing until a manager approves"
    );
}

#[test]
fn nobody_approves_their_own_release_and_another_manager_releases_it() {
    let books = books();
    release_by(&books, "SO-BIG", "alice", false).unwrap();
    let own = approve(&books, "SO-BIG", "alice");
    assert!(matches!(own, Err(LedgerError::Forbidden(_))), "{own:?}");

    let view = approve(&books, "SO-BIG", "maria").unwrap();
    assert_eq!(view.status, OrderStatus::Released);
    let approved = view.decisions.last().unwrap();
    assert_eq!(approved.kind, DecisionKind::ApprovedRelease);
    assert_eq!(approved.by, "maria");
    assert_eq!(approved.inputs["requested_by"], "alice");
    assert_eq!(
        books.position("C-1").released_orders_total,
        amount("30000.00")
    );
    let events = block_on(events::feed(&books.db, Cursor(0), 100, None)).unwrap();
    let released = events.events.last().unwrap();
    assert_eq!(released.subject, "SO-BIG");
    assert_eq!(released.data["cause"], "approved_release");
    assert_eq!(released.data["by"], "maria");

    let again = approve(&books, "SO-BIG", "maria");
    assert!(matches!(again, Err(LedgerError::Conflict(_))), "{again:?}");
}

#[test]
fn a_rejected_release_is_held_again_as_it_was() {
    let books = books();
    let before = block_on(orders::view(&books.db, "SO-BIG", now())).unwrap();
    release_by(&books, "SO-BIG", "alice", false).unwrap();
    let view = block_on(orders::reject_release(
        &books.db,
        "SO-BIG",
        "not without a deposit",
        &stamp("maria"),
    ))
    .unwrap();
    assert_eq!(view.status, OrderStatus::Held);
    assert_eq!(view.held_since, before.held_since);
    let rejected = view.decisions.last().unwrap();
    assert_eq!(rejected.kind, DecisionKind::ReleaseRejected);
    assert_eq!(rejected.note.as_deref(), Some("not without a deposit"));
    let reasons: Vec<ReasonCode> = view.decisions[0]
        .decision
        .reasons
        .iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(reasons, [ReasonCode::CreditLimitExceeded]);
}

#[test]
fn a_managers_own_release_is_immediate() {
    let books = books();
    let view = release_by(&books, "SO-BIG", "maria", true).unwrap();
    assert_eq!(view.status, OrderStatus::Released);
}

#[test]
fn an_account_on_hold_needs_approval_whatever_the_amount() {
    let books = Books::new();
    books.customer("C-2", Some("100000.00"));
    let on_hold = customers::CustomerUpdate {
        on_hold: true,
        ..books.customer_update("C-2", Some("100000.00"))
    };
    block_on(workflows::customer::put(
        &books.db,
        "C-2",
        &on_hold,
        &books.policy,
        date(AS_OF),
        &stamp("erp"),
    ))
    .unwrap();
    books.order("SO-1", "C-2", "1.00");
    let view = release_by(&books, "SO-1", "alice", false).unwrap();
    assert_eq!(view.status, OrderStatus::PendingApproval);
}

#[test]
fn a_bulk_release_of_a_mix_says_what_happened_to_each_order() {
    let books = books();
    let ids: Vec<String> = ["SO-BIG", "SO-SMALL", "SO-NONE"].map(String::from).to_vec();
    let outcomes = block_on(orders::release_many(
        &books.db,
        &ids,
        &manual("month end", &books.policy, date(AS_OF)),
        &stamp("alice"),
    ))
    .unwrap();
    let results: Vec<BulkResult> = outcomes.iter().map(|o| o.outcome).collect();
    assert_eq!(
        results,
        [
            BulkResult::PendingApproval,
            BulkResult::Released,
            BulkResult::NotFound
        ]
    );
    assert!(
        outcomes[0].detail.contains("25000.00 USD"),
        "{:?}",
        outcomes[0]
    );
    // Released again in bulk, the waiting one is reported, not released.
    let again = block_on(orders::release_many(
        &books.db,
        &ids[..1],
        &manual("again", &books.policy, date(AS_OF)),
        &stamp("alice"),
    ))
    .unwrap();
    assert_eq!(again[0].outcome, BulkResult::NotHeld);
}

#[test]
fn a_higher_limit_releases_a_waiting_order_without_approval() {
    let books = books();
    release_by(&books, "SO-BIG", "alice", false).unwrap();
    let raised = customers::CustomerUpdate {
        credit_limit: Some(amount("100000.00")),
        ..books.customer_update("C-1", Some("1000.00"))
    };
    let put = block_on(workflows::customer::put(
        &books.db,
        "C-1",
        &raised,
        &books.policy,
        date(AS_OF),
        &stamp("erp"),
    ))
    .unwrap();
    assert_eq!(put.released_orders, ["SO-BIG", "SO-SMALL"]);
}

#[test]
fn the_releases_report_shows_who_overrode_what_and_who_approved_it() {
    let books = books();
    release_by(&books, "SO-SMALL", "alice", false).unwrap();
    release_by(&books, "SO-BIG", "alice", false).unwrap();
    approve(&books, "SO-BIG", "maria").unwrap();
    let period = credit_core::metrics::Period::new(date(AS_OF), date(AS_OF)).unwrap();
    let report = block_on(reports::releases(&books.db, period, None)).unwrap();
    let lines: Vec<(&str, &str, Option<&str>)> = report
        .releases
        .iter()
        .map(|l| {
            (
                l.order_id.as_str(),
                l.person.as_str(),
                l.approved_by.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("SO-SMALL", "alice", None),
            ("SO-BIG", "alice", Some("maria"))
        ]
    );
    assert_eq!(
        report.releases[0].overridden[0].code,
        ReasonCode::CreditLimitExceeded
    );
    assert_eq!(report.people.len(), 1);
    assert_eq!(report.people[0].releases, 2);
    assert_eq!(report.people[0].approved, 1);
    assert_eq!(report.people[0].amount, amount("32000.00"));

    let nobody = block_on(reports::releases(&books.db, period, Some("bob"))).unwrap();
    assert!(nobody.releases.is_empty());
    let next_day = date(AS_OF) + chrono::Days::new(1);
    let later = credit_core::metrics::Period::new(next_day, next_day).unwrap();
    let none = block_on(reports::releases(&books.db, later, None)).unwrap();
    assert!(none.releases.is_empty());
}
