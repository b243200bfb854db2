//! Disputes through the ledger on a real SQLite database: opening within
//! the open balance, the service level, the states and their history,
//! credits, and the held orders a dispute or a credit releases.

use crate::support::*;
use credit_core::dispute::{DisputeStatus, SlaStatus};
use credit_core::hold::{OrderStatus, ReasonCode};
use ledger::disputes::{self, DisputeChanged, DisputeQuery, DisputeUpdate, StatusFilter};
use ledger::workflows;
use ledger::{LedgerError, orders};

/// Case 7's book: L 50,000; INV-0971 5,000 due 05-15.
fn case_7_books() -> Books {
    let books = Books::new();
    books.customer("C-7", Some("50000.00"));
    books.invoice("INV-0971", "C-7", "2025-05-15", "5000.00");
    books
}

fn change(books: &Books, id: &str, update: DisputeUpdate) -> ledger::Result<DisputeChanged> {
    block_on(workflows::dispute::update(
        &books.db,
        id,
        &update,
        date(AS_OF),
        &books.policy,
        &stamp("bob"),
    ))
}

fn to(status: DisputeStatus) -> DisputeUpdate {
    DisputeUpdate {
        status: Some(status),
        ..DisputeUpdate::default()
    }
}

fn in_review(books: &Books, id: &str) {
    change(books, id, to(DisputeStatus::InReview)).unwrap();
}

#[test]
fn case_7_the_disputed_part_is_not_past_due_but_stays_in_exposure() {
    let books = case_7_books();
    let opened = books.dispute("INV-0971", "1200.00").unwrap();
    assert_eq!(opened.view.dispute.id, "D-1");
    assert_eq!(opened.view.dispute.status, DisputeStatus::Open);
    assert_eq!(opened.view.dispute.opened_on, date(AS_OF));
    // Ten business days after Monday 2025-06-30.
    assert_eq!(opened.view.dispute.sla_due_on, date("2025-07-14"));
    assert_eq!(opened.view.dispute.sla_status, SlaStatus::OnTrack);
    assert_eq!(
        books.balances("INV-0971"),
        ("5000.00".into(), "1200.00".into())
    );

    let order = books.order("SO-7", "C-7", "100.00");
    assert_eq!(order.status, OrderStatus::Held);
    assert_eq!(order.reasons.len(), 1);
    assert_eq!(order.reasons[0].code, ReasonCode::PastDue);
    assert_eq!(order.past_due.to_string(), "3800.00");
    assert_eq!(order.exposure.to_string(), "5100.00");
    let position = books.position("C-7");
    assert_eq!(position.past_due.to_string(), "3800.00");
    assert_eq!(position.open_balance.to_string(), "5000.00");
}

#[test]
fn opening_a_dispute_releases_an_order_held_only_for_it() {
    let books = case_7_books();
    assert_eq!(
        books.order("SO-1", "C-7", "100.00").status,
        OrderStatus::Held
    );
    let opened = books.dispute("INV-0971", "5000.00").unwrap();
    assert_eq!(opened.released_orders, ["SO-1"]);
    let order = block_on(orders::view(&books.db, "SO-1", now())).unwrap();
    assert_eq!(order.status, OrderStatus::Released);
    assert_eq!(
        order.decisions.last().unwrap().trigger,
        "dispute D-1 opened"
    );
}

#[test]
fn disputes_together_may_not_exceed_the_open_balance() {
    let books = case_7_books();
    books.dispute("INV-0971", "3000.00").unwrap();
    let error = books.dispute("INV-0971", "2000.01").unwrap_err();
    let LedgerError::Invalid(errors) = error else {
        panic!("expected invalid input, got {error}");
    };
    assert_eq!(errors[0].field, "amount");
    assert!(
        errors[0].message.contains("at most 2000.00"),
        "{}",
        errors[0].message
    );
    assert_eq!(books.count("disputes"), 1);
    assert_eq!(books.balances("INV-0971").1, "3000.00");
    books.dispute("INV-0971", "2000.00").unwrap();
}

#[test]
fn the_service_level_counts_business_days_per_reason() {
    let mut books = case_7_books();
    books
        .policy
        .dispute_sla_by_reason
        .insert("PRICING".into(), 3);
    let opened = books.dispute("INV-0971", "100.00").unwrap();
    // Opened Monday 2025-06-30: three business days later is Thursday.
    assert_eq!(opened.view.dispute.sla_due_on, date("2025-07-03"));
    assert_eq!(opened.view.dispute.sla_status, SlaStatus::OnTrack);
    let sla_on = |day: &str| {
        block_on(disputes::get(&books.db, "D-1", date(day)))
            .unwrap()
            .sla_status
    };
    assert_eq!(sla_on("2025-07-01"), SlaStatus::AtRisk);
    assert_eq!(sla_on("2025-07-03"), SlaStatus::AtRisk);
    assert_eq!(sla_on("2025-07-04"), SlaStatus::Breached);
}

#[test]
fn states_move_only_as_the_rules_allow() {
    let books = case_7_books();
    books.dispute("INV-0971", "1200.00").unwrap();
    let error = change(&books, "D-1", to(DisputeStatus::ResolvedCredit)).unwrap_err();
    assert!(
        matches!(error, LedgerError::Conflict(ref d) if d.contains("from open to resolved_credit")),
        "{error}"
    );
    in_review(&books, "D-1");
    change(&books, "D-1", to(DisputeStatus::ResolvedRejected)).unwrap();
    let error = change(&books, "D-1", to(DisputeStatus::Withdrawn)).unwrap_err();
    assert!(matches!(error, LedgerError::Conflict(_)));
    let missing = change(&books, "D-9", to(DisputeStatus::InReview)).unwrap_err();
    assert!(matches!(
        missing,
        LedgerError::NotFound {
            what: "dispute",
            ..
        }
    ));
}

#[test]
fn a_credit_lowers_the_balance_and_every_step_is_kept() {
    let books = case_7_books();
    books.dispute("INV-0971", "1200.00").unwrap();
    let noted = DisputeUpdate {
        note: Some("asked sales for the quote".into()),
        ..DisputeUpdate::default()
    };
    change(&books, "D-1", noted).unwrap();
    in_review(&books, "D-1");
    let resolved = change(&books, "D-1", to(DisputeStatus::ResolvedCredit)).unwrap();
    let dispute = &resolved.view.dispute;
    assert_eq!(dispute.status, DisputeStatus::ResolvedCredit);
    assert_eq!(dispute.credited.unwrap().to_string(), "1200.00");
    assert_eq!(dispute.closed_on, Some(date(AS_OF)));
    assert_eq!(dispute.sla_status, SlaStatus::Met);
    assert_eq!(
        books.balances("INV-0971"),
        ("3800.00".into(), "0.00".into())
    );
    assert_eq!(books.count("credits"), 1);

    let kinds: Vec<(&str, Option<DisputeStatus>, DisputeStatus)> = resolved
        .view
        .history
        .iter()
        .map(|e| (e.kind.as_str(), e.from, e.to))
        .collect();
    use DisputeStatus::*;
    assert_eq!(
        kinds,
        [
            ("opened", None, Open),
            ("note", Some(Open), Open),
            ("status_change", Some(Open), InReview),
            ("status_change", Some(InReview), ResolvedCredit),
        ]
    );
    assert_eq!(resolved.view.history[1].by, "bob");
    assert_eq!(
        resolved.view.history[3].credit.unwrap().to_string(),
        "1200.00"
    );
}

#[test]
fn a_credit_is_at_most_the_disputed_amount() {
    let books = case_7_books();
    books.dispute("INV-0971", "1200.00").unwrap();
    in_review(&books, "D-1");
    let too_much = DisputeUpdate {
        credit_amount: Some(amount("1200.01")),
        ..to(DisputeStatus::ResolvedCredit)
    };
    let error = change(&books, "D-1", too_much).unwrap_err();
    assert!(
        matches!(error, LedgerError::Invalid(ref e) if e[0].field == "credit_amount" && e[0].message.contains("at most 1200.00")),
        "{error}"
    );
    assert_eq!(books.count("credits"), 0);
    assert_eq!(
        books.balances("INV-0971"),
        ("5000.00".into(), "1200.00".into())
    );

    let part = DisputeUpdate {
        credit_amount: Some(amount("200.00")),
        ..to(DisputeStatus::ResolvedCredit)
    };
    change(&books, "D-1", part).unwrap();
    assert_eq!(
        books.balances("INV-0971"),
        ("4800.00".into(), "0.00".into())
    );
}

#[test]
fn a_credited_dispute_releases_an_order_over_the_limit() {
    let books = Books::new();
    books.customer("C-1", Some("10000.00"));
    books.invoice("INV-1", "C-1", "2025-07-20", "9000.00");
    books.dispute("INV-1", "2000.00").unwrap();
    let held = books.order("SO-1", "C-1", "2500.00");
    assert_eq!(held.reasons[0].code, ReasonCode::CreditLimitExceeded);
    in_review(&books, "D-1");
    let resolved = change(&books, "D-1", to(DisputeStatus::ResolvedCredit)).unwrap();
    assert_eq!(resolved.released_orders, ["SO-1"]);
    let order = block_on(orders::view(&books.db, "SO-1", now())).unwrap();
    assert_eq!(
        order
            .decisions
            .last()
            .unwrap()
            .decision
            .exposure
            .to_string(),
        "9500.00"
    );
}

#[test]
fn withdrawing_puts_the_amount_back_into_past_due() {
    let books = case_7_books();
    books.dispute("INV-0971", "5000.00").unwrap();
    let withdrawn = change(&books, "D-1", to(DisputeStatus::Withdrawn)).unwrap();
    assert_eq!(withdrawn.view.dispute.closed_on, Some(date(AS_OF)));
    assert_eq!(withdrawn.view.dispute.credited, None);
    assert!(withdrawn.released_orders.is_empty());
    assert_eq!(
        books.balances("INV-0971"),
        ("5000.00".into(), "0.00".into())
    );
    assert_eq!(books.position("C-7").past_due.to_string(), "5000.00");
}

#[test]
fn changes_need_a_status_or_a_note_and_credits_need_resolved_credit() {
    let books = case_7_books();
    books.dispute("INV-0971", "1200.00").unwrap();
    let empty = change(&books, "D-1", DisputeUpdate::default()).unwrap_err();
    assert!(matches!(empty, LedgerError::Invalid(ref e) if e[0].field == "status"));
    let stray_credit = DisputeUpdate {
        credit_amount: Some(amount("1.00")),
        ..to(DisputeStatus::InReview)
    };
    let error = change(&books, "D-1", stray_credit).unwrap_err();
    assert!(matches!(error, LedgerError::Invalid(ref e) if e[0].field == "credit_amount"));
    assert_eq!(books.count("dispute_events"), 1);
}

#[test]
fn lists_filter_by_status_and_customer() {
    let books = case_7_books();
    books.customer("C-2", Some("100.00"));
    books.invoice("INV-2", "C-2", "2025-06-01", "100.00");
    books.dispute("INV-0971", "100.00").unwrap();
    books.dispute("INV-0971", "200.00").unwrap();
    books.dispute("INV-2", "50.00").unwrap();
    in_review(&books, "D-2");
    let ids = |status: StatusFilter, customer_id: Option<&str>| -> Vec<String> {
        let query = DisputeQuery {
            status,
            customer_id: customer_id.map(String::from),
            assignee: None,
        };
        block_on(disputes::list(&books.db, &query, date(AS_OF)))
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect()
    };
    assert_eq!(ids(StatusFilter::Any, None), ["D-1", "D-2", "D-3"]);
    assert_eq!(
        ids(StatusFilter::Exactly(DisputeStatus::Open), None),
        ["D-1", "D-3"]
    );
    assert_eq!(ids(StatusFilter::Active, Some("C-7")), ["D-1", "D-2"]);
    assert_eq!(
        ids(StatusFilter::Exactly(DisputeStatus::InReview), Some("C-2")),
        Vec::<String>::new()
    );
}
