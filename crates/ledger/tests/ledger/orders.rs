//! Orders through the ledger on a real SQLite database: checks, the
//! decision history, re-deliveries, releases, cancellations and invoicing.

use crate::support::*;
use credit_core::hold::{OrderStatus, ReasonCode};
use ledger::invoices::{self, InvoiceUpdate};
use ledger::orders::{self, CheckResult, QueueQuery};
use ledger::workflows;
use ledger::{LedgerError, customers};

fn case_1_books() -> Books {
    let books = Books::new();
    books.customer("C-100", Some("50000.00"));
    books.invoice("INV-1001", "C-100", "2025-07-10", "15000.00");
    books.order("SO-0", "C-100", "5000.00");
    books
}

fn codes(result: &CheckResult) -> Vec<ReasonCode> {
    result.reasons.iter().map(|r| r.code).collect()
}

fn cancel(books: &Books, order_id: &str) -> orders::Cancelled {
    block_on(orders::cancel(
        &books.db,
        order_id,
        date(AS_OF),
        &books.policy,
        &stamp("erp"),
    ))
    .unwrap()
}

#[test]
fn worked_cases_1_to_3_credit_limit() {
    let books = case_1_books();
    let case_1 = books.order("SO-1", "C-100", "20000.00");
    assert_eq!(case_1.status, OrderStatus::Released);
    assert_eq!(case_1.exposure.to_string(), "40000.00");
    assert_eq!(case_1.available.unwrap().to_string(), "10000.00");
    assert_eq!(case_1.credit_limit.unwrap().to_string(), "50000.00");
    assert!(case_1.reasons.is_empty());

    // Each case on its own: cancel the previous order first.
    cancel(&books, "SO-1");
    let case_2 = books.order("SO-2", "C-100", "31000.00");
    assert_eq!(case_2.status, OrderStatus::Held);
    assert_eq!(codes(&case_2), [ReasonCode::CreditLimitExceeded]);
    assert_eq!(case_2.exposure.to_string(), "51000.00");
    assert_eq!(case_2.reasons[0].amount.unwrap().to_string(), "1000.00");

    let case_3 = books.order("SO-3", "C-100", "30000.00");
    assert_eq!(case_3.status, OrderStatus::Released, "E = L passes");
    assert_eq!(case_3.exposure.to_string(), "50000.00");
    assert_eq!(case_3.available.unwrap().to_string(), "0.00");
}

/// Cases 4–6, each on a fresh case-1 book, as DOMAIN.md states them.
#[test]
fn worked_cases_4_to_6_past_due() {
    let books = case_1_books();
    books.invoice("INV-0990", "C-100", "2025-06-26", "2000.00");
    let case_4 = books.order("SO-4", "C-100", "20000.00");
    assert_eq!(
        case_4.status,
        OrderStatus::Released,
        "4 days past due is within grace"
    );
    assert_eq!(case_4.exposure.to_string(), "42000.00");

    let books = case_1_books();
    books.invoice("INV-0980", "C-100", "2025-06-24", "2000.00");
    let case_5 = books.order("SO-5", "C-100", "20000.00");
    assert_eq!(case_5.status, OrderStatus::Held);
    assert_eq!(codes(&case_5), [ReasonCode::PastDue]);
    assert_eq!(case_5.past_due.to_string(), "2000.00");
    assert_eq!(case_5.reasons[0].amount.unwrap().to_string(), "2000.00");
    assert_eq!(case_5.exposure.to_string(), "42000.00");
    assert_eq!(case_5.available.unwrap().to_string(), "8000.00");

    let books = case_1_books();
    books.invoice("INV-0980", "C-100", "2025-06-24", "2000.00");
    let case_6 = books.order("SO-6", "C-100", "31000.00");
    assert_eq!(case_6.status, OrderStatus::Held);
    assert_eq!(
        codes(&case_6),
        [ReasonCode::CreditLimitExceeded, ReasonCode::PastDue]
    );
    assert_eq!(case_6.exposure.to_string(), "53000.00");
    assert_eq!(case_6.reasons[0].amount.unwrap().to_string(), "3000.00");
    assert_eq!(case_6.past_due.to_string(), "2000.00");
}

#[test]
fn a_held_order_is_stored_with_its_reasons_and_inputs() {
    let books = case_1_books();
    let result = books.order("SO-2", "C-100", "31000.00");
    assert_eq!(result.status, OrderStatus::Held);
    assert_eq!(result.exposure.to_string(), "51000.00");
    assert_eq!(result.available.unwrap().to_string(), "-1000.00");

    let view = block_on(orders::view(&books.db, "SO-2", now())).unwrap();
    assert_eq!(view.status, OrderStatus::Held);
    assert_eq!(view.customer_id, "C-100");
    assert_eq!(view.amount.to_string(), "31000.00");
    assert!(view.held_since.is_some());
    let decision = &view.decisions[0];
    assert_eq!(decision.kind.as_str(), "check");
    assert_eq!(decision.by, "erp");
    assert_eq!(decision.decision.status, OrderStatus::Held);
    assert!(
        decision.decided_at.ends_with('Z'),
        "{}",
        decision.decided_at
    );
    assert_eq!(decision.inputs["as_of"], AS_OF);
    assert_eq!(
        decision.decision.reasons[0].code,
        ReasonCode::CreditLimitExceeded
    );
    assert_eq!(decision.inputs["open_balance"], "15000.00");
    assert_eq!(decision.inputs["released_orders_total"], "5000.00");
    assert_eq!(decision.inputs["grace_days"], 5);
}

#[test]
fn redelivering_the_same_order_changes_nothing() {
    let books = case_1_books();
    let first = books.order("SO-1", "C-100", "20000.00");
    let decisions = books.count("order_decisions");
    let again = books.order("SO-1", "C-100", "20000.00");
    assert_eq!(again, first);
    assert_eq!(books.count("order_decisions"), decisions);
}

#[test]
fn a_changed_amount_is_checked_again_without_counting_itself() {
    let books = case_1_books();
    assert_eq!(
        books.order("SO-1", "C-100", "20000.00").status,
        OrderStatus::Released
    );
    // Still 15,000 + 5,000 + the new amount: the old 20,000 is not counted twice.
    let changed = books.order("SO-1", "C-100", "30000.00");
    assert_eq!(changed.status, OrderStatus::Released);
    assert_eq!(changed.exposure.to_string(), "50000.00");
    let changed = books.order("SO-1", "C-100", "30000.01");
    assert_eq!(changed.status, OrderStatus::Held);
    let view = block_on(orders::view(&books.db, "SO-1", now())).unwrap();
    assert_eq!(view.decisions.len(), 3);
    assert_eq!(view.decisions[2].trigger, "order changed");
}

#[test]
fn an_order_cannot_move_to_another_customer() {
    let books = case_1_books();
    books.customer("C-200", Some("1000.00"));
    let error = books
        .try_order("SO-0", "C-200", "5000.00", "2025-06-30")
        .unwrap_err();
    assert!(matches!(error, LedgerError::Conflict(_)), "{error}");
}

#[test]
fn a_manual_release_records_who_and_why() {
    let books = case_1_books();
    books.order("SO-2", "C-100", "31000.00");
    let view = block_on(orders::release(
        &books.db,
        "SO-2",
        &manual(
            "Customer confirmed the payment run",
            &books.policy,
            date(AS_OF),
        ),
        &stamp("alice"),
    ))
    .unwrap();
    assert_eq!(view.status, OrderStatus::Released);
    assert_eq!(view.held_since, None);
    let release = view.decisions.last().unwrap();
    assert_eq!(release.kind.as_str(), "manual_release");
    assert_eq!(release.by, "alice");
    assert_eq!(
        release.note.as_deref(),
        Some("Customer confirmed the payment run")
    );
    // The overridden reasons stay on record.
    assert_eq!(
        release.decision.reasons[0].code,
        ReasonCode::CreditLimitExceeded
    );

    let again = block_on(orders::release(
        &books.db,
        "SO-2",
        &manual("again", &books.policy, date(AS_OF)),
        &stamp("alice"),
    ));
    assert!(matches!(again, Err(LedgerError::Conflict(_))));
}

#[test]
fn bulk_release_reports_each_order() {
    let books = case_1_books();
    books.order("SO-2", "C-100", "31000.00");
    books.order("SO-3", "C-100", "40000.00");
    let ids = ["SO-2", "SO-0", "SO-404", "SO-3"].map(String::from);
    let outcomes = block_on(orders::release_many(
        &books.db,
        &ids,
        &manual("month end", &books.policy, date(AS_OF)),
        &stamp("bob"),
    ))
    .unwrap();
    let summary: Vec<(&str, &str)> = outcomes
        .iter()
        .map(|o| (o.order_id.as_str(), o.outcome.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("SO-2", "released"),
            ("SO-0", "not_held"),
            ("SO-404", "not_found"),
            ("SO-3", "released")
        ]
    );
    let held = block_on(orders::queue(&books.db, &QueueQuery::held(), date(AS_OF))).unwrap();
    assert!(held.is_empty());
}

#[test]
fn the_held_queue_is_oldest_first_with_reasons() {
    let books = case_1_books();
    books
        .try_order("SO-B", "C-100", "40000.00", "2025-06-20")
        .unwrap();
    books
        .try_order("SO-A", "C-100", "45000.00", "2025-06-10")
        .unwrap();
    books.order("SO-OK", "C-100", "1.00");
    let held = block_on(orders::queue(
        &books.db,
        &QueueQuery::held(),
        date("2025-07-03"),
    ))
    .unwrap();
    let ids: Vec<&str> = held.iter().map(|e| e.order_id.as_str()).collect();
    assert_eq!(ids, ["SO-A", "SO-B"]);
    assert_eq!(held[0].customer_name, "C-100 Ltd");
    assert_eq!(held[0].days_held, Some(3));
    assert_eq!(held[0].reasons[0].code, ReasonCode::CreditLimitExceeded);
}

#[test]
fn the_held_queue_goes_by_order_date_across_customers_and_filters_by_customer() {
    let books = case_1_books();
    books.customer("C-200", None);
    for (id, customer, value, ordered_on) in [
        ("SO-B", "C-100", "40000.00", "2025-06-20"),
        ("SO-A", "C-100", "45000.00", "2025-06-10"),
        ("SO-X", "C-200", "10.00", "2025-06-15"),
    ] {
        books.try_order(id, customer, value, ordered_on).unwrap();
    }
    let queue = |query: &QueueQuery| -> Vec<String> {
        block_on(orders::queue(&books.db, query, date(AS_OF)))
            .unwrap()
            .into_iter()
            .map(|e| e.order_id)
            .collect()
    };
    assert_eq!(queue(&QueueQuery::held()), ["SO-A", "SO-X", "SO-B"]);
    let only_c200 = QueueQuery {
        customer_id: Some("C-200".into()),
        ..QueueQuery::held()
    };
    assert_eq!(queue(&only_c200), ["SO-X"]);
    let entries = block_on(orders::queue(&books.db, &only_c200, date(AS_OF))).unwrap();
    assert_eq!(entries[0].reasons[0].code, ReasonCode::NoCreditLimit);
    let released = QueueQuery {
        status: OrderStatus::Released,
        ..QueueQuery::held()
    };
    assert_eq!(queue(&released), ["SO-0"]);
}

#[test]
fn cancelling_frees_exposure_and_rechecks_held_orders() {
    let books = case_1_books();
    books.order("SO-2", "C-100", "31000.00");
    let cancelled = block_on(orders::cancel(
        &books.db,
        "SO-0",
        date(AS_OF),
        &books.policy,
        &stamp("erp"),
    ))
    .unwrap();
    assert_eq!(cancelled.released_orders, ["SO-2"]);
    let view = block_on(orders::view(&books.db, "SO-2", now())).unwrap();
    assert_eq!(view.status, OrderStatus::Released);
    assert_eq!(
        view.decisions.last().unwrap().trigger,
        "order SO-0 cancelled"
    );
    // Cancelling again is harmless; a cancelled order cannot change.
    assert!(
        block_on(orders::cancel(
            &books.db,
            "SO-0",
            date(AS_OF),
            &books.policy,
            &stamp("erp")
        ))
        .is_ok()
    );
    let error = books
        .try_order("SO-0", "C-100", "6000.00", "2025-06-30")
        .unwrap_err();
    assert!(matches!(error, LedgerError::Conflict(_)));
}

#[test]
fn an_invoice_for_an_order_moves_its_exposure_into_ar() {
    let books = case_1_books();
    let update = InvoiceUpdate {
        customer_id: "C-100".into(),
        order_id: Some("SO-0".into()),
        issued_on: date(AS_OF),
        due_on: date("2025-07-30"),
        amount: amount("5000.00"),
        currency: usd(),
    };
    let put = books.put_invoice("INV-2000", &update);
    assert!(put.created && put.order_invoiced);
    let view = block_on(orders::view(&books.db, "SO-0", now())).unwrap();
    assert_eq!(view.status, OrderStatus::Invoiced);
    let position = block_on(workflows::customer::position(
        &books.db,
        "C-100",
        date(AS_OF),
        now(),
        &books.policy,
    ))
    .unwrap();
    assert_eq!(position.released_orders_total.to_string(), "0.00");
    assert_eq!(position.open_balance.to_string(), "20000.00");
    assert_eq!(position.exposure.to_string(), "20000.00");
}

#[test]
fn raising_the_limit_in_master_data_releases_what_now_fits() {
    let books = case_1_books();
    books.order("SO-2", "C-100", "31000.00");
    let update = customers::CustomerUpdate {
        name: "Acme".into(),
        currency: usd(),
        credit_limit: Some(amount("60000.00")),
        payment_terms_days: 30,
        grace_days: None,
        on_hold: false,
        exempt: false,
        dunning_exempt: false,
    };
    let put = block_on(workflows::customer::put(
        &books.db,
        "C-100",
        &update,
        &books.policy,
        date(AS_OF),
        &stamp("erp"),
    ))
    .unwrap();
    assert_eq!(put.released_orders, ["SO-2"]);
}

#[test]
fn a_customer_with_business_cannot_change_currency() {
    let books = case_1_books();
    let update = customers::CustomerUpdate {
        name: "Acme".into(),
        currency: credit_core::Currency::parse("EUR").unwrap(),
        credit_limit: None,
        payment_terms_days: 30,
        grace_days: None,
        on_hold: false,
        exempt: false,
        dunning_exempt: false,
    };
    let error = block_on(workflows::customer::put(
        &books.db,
        "C-100",
        &update,
        &books.policy,
        date(AS_OF),
        &stamp("erp"),
    ))
    .unwrap_err();
    assert!(matches!(error, LedgerError::Conflict(_)));
}

#[test]
fn held_and_cancelled_orders_are_not_counted_in_released_orders() {
    let books = case_1_books();
    assert_eq!(
        books.order("SO-H", "C-100", "40000.00").status,
        OrderStatus::Held
    );
    books.order("SO-C", "C-100", "1000.00");
    block_on(orders::cancel(
        &books.db,
        "SO-C",
        date(AS_OF),
        &books.policy,
        &stamp("erp"),
    ))
    .unwrap();
    let position = books.position("C-100");
    assert_eq!(position.released_orders_total.to_string(), "5000.00");
    assert_eq!(position.exposure.to_string(), "20000.00");
    // The next check counts only SO-0 too.
    let next = books.order("SO-N", "C-100", "100.00");
    assert_eq!(next.exposure.to_string(), "20100.00");
}

#[test]
fn a_check_keeps_each_open_invoice_it_saw() {
    let books = case_1_books();
    books.invoice("INV-0980", "C-100", "2025-06-24", "2000.00");
    books.dispute("INV-0980", "500.00").unwrap();
    books.order("SO-2", "C-100", "31000.00");
    let view = block_on(orders::view(&books.db, "SO-2", now())).unwrap();
    let inputs = &view.decisions[0].inputs;
    assert_eq!(inputs["open_invoices"], 2, "the count stays");
    assert_eq!(
        inputs["invoices"],
        serde_json::json!([
            {"id": "INV-0980", "due_on": "2025-06-24", "open": "2000.00", "disputed": "500.00"},
            {"id": "INV-1001", "due_on": "2025-07-10", "open": "15000.00", "disputed": "0.00"},
        ])
    );
}

#[test]
fn a_release_keeps_the_account_as_it_stood_and_status_changes_their_inputs() {
    let books = case_1_books();
    books.invoice("INV-0980", "C-100", "2025-06-24", "2000.00");
    books.order("SO-2", "C-100", "31000.00");
    let view = block_on(orders::release(
        &books.db,
        "SO-2",
        &manual("director approved", &books.policy, date(AS_OF)),
        &stamp("alice"),
    ))
    .unwrap();
    let release = view.decisions.last().unwrap();
    let inputs = &release.inputs;
    assert_eq!(inputs["overrides"], view.decisions[0].decided_at.as_str());
    assert_eq!(inputs["exposure"], "53000.00");
    assert_eq!(inputs["credit_limit"], "50000.00");
    assert_eq!(inputs["available"], "-3000.00");
    assert_eq!(inputs["past_due"], "2000.00");
    assert_eq!(inputs["as_of"], AS_OF);
    assert_eq!(inputs["invoices"][0]["id"], "INV-0980");
    let codes: Vec<&str> = inputs["failing_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["CREDIT_LIMIT_EXCEEDED", "PAST_DUE"]);

    let cancelled = block_on(orders::cancel(
        &books.db,
        "SO-2",
        date(AS_OF),
        &books.policy,
        &stamp("erp"),
    ))
    .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let view = block_on(orders::view(&books.db, "SO-2", now())).unwrap();
    let cancel = view.decisions.last().unwrap();
    assert_eq!(cancel.kind.as_str(), "cancel");
    assert_eq!(cancel.inputs["previous_status"], "released");
    assert_eq!(cancel.inputs["order_amount"], "31000.00");
    assert_eq!(cancel.inputs["account_after"]["exposure"], "22000.00");

    let update = InvoiceUpdate {
        customer_id: "C-100".into(),
        order_id: Some("SO-0".into()),
        issued_on: date(AS_OF),
        due_on: date("2025-07-30"),
        amount: amount("5000.00"),
        currency: usd(),
    };
    books.put_invoice("INV-2000", &update);
    let view = block_on(orders::view(&books.db, "SO-0", now())).unwrap();
    let invoiced = view.decisions.last().unwrap();
    assert_eq!(invoiced.kind.as_str(), "invoiced");
    assert_eq!(invoiced.inputs["invoice_id"], "INV-2000");
    assert_eq!(invoiced.inputs["previous_status"], "released");
    assert_eq!(
        invoiced.inputs["account_after"]["released_orders_total"],
        "0.00"
    );
}

#[test]
fn an_invoice_for_a_held_order_takes_it_out_of_the_held_queue() {
    let books = case_1_books();
    books.order("SO-2", "C-100", "31000.00");
    let update = InvoiceUpdate {
        customer_id: "C-100".into(),
        order_id: Some("SO-2".into()),
        issued_on: date(AS_OF),
        due_on: date("2025-07-30"),
        amount: amount("31000.00"),
        currency: usd(),
    };
    let put = books.put_invoice("INV-2002", &update);
    assert!(put.created && put.order_invoiced);
    let view = block_on(orders::view(&books.db, "SO-2", now())).unwrap();
    assert_eq!(view.status, OrderStatus::Invoiced);
    assert_eq!(view.held_since, None);
    let invoiced = view.decisions.last().unwrap();
    assert_eq!(invoiced.kind.as_str(), "invoiced");
    assert_eq!(invoiced.inputs["invoice_id"], "INV-2002");
    assert_eq!(invoiced.inputs["previous_status"], "held");
    let held = block_on(orders::queue(&books.db, &QueueQuery::held(), date(AS_OF))).unwrap();
    assert!(held.is_empty());
    let position = books.position("C-100");
    assert!(position.held_orders.is_empty());
    assert_eq!(position.open_balance.to_string(), "46000.00");
}

#[test]
fn a_lower_invoice_amount_rechecks_held_orders_oldest_first() {
    let books = case_1_books();
    books.order("SO-2", "C-100", "31000.00");
    books.order("SO-3", "C-100", "30500.00");
    let lower = InvoiceUpdate {
        customer_id: "C-100".into(),
        order_id: None,
        issued_on: date("2025-06-10"),
        due_on: date("2025-07-10"),
        amount: amount("14000.00"),
        currency: usd(),
    };
    let put = books.put_invoice("INV-1001", &lower);
    assert_eq!(put.released_orders, ["SO-2"]);
    assert_eq!(put.still_held, ["SO-3"]);
    let view = block_on(orders::view(&books.db, "SO-2", now())).unwrap();
    let recheck = view.decisions.last().unwrap();
    assert_eq!(recheck.kind.as_str(), "recheck");
    assert_eq!(recheck.trigger, "invoice INV-1001 amount lowered");
    assert_eq!(recheck.decision.exposure.to_string(), "50000.00");
    let held = block_on(orders::queue(&books.db, &QueueQuery::held(), date(AS_OF))).unwrap();
    assert_eq!(held[0].order_id, "SO-3");
    assert_eq!(held.len(), 1);
    // The same amount again re-checks nothing.
    let again = books.put_invoice("INV-1001", &lower);
    assert!(again.released_orders.is_empty() && again.still_held.is_empty());
}

#[test]
fn invoice_writes_are_audited_with_who_made_them() {
    use ledger::Database;
    let books = case_1_books();
    let lower = InvoiceUpdate {
        customer_id: "C-100".into(),
        order_id: None,
        issued_on: date("2025-06-10"),
        due_on: date("2025-07-10"),
        amount: amount("14000.00"),
        currency: usd(),
    };
    block_on(workflows::invoice::put(
        &books.db,
        "INV-1001",
        &lower,
        &books.policy,
        date(AS_OF),
        &stamp("mary"),
    ))
    .unwrap();
    let (invoice, _) = block_on(invoices::get(&books.db, "INV-1001")).unwrap();
    assert_eq!(invoice.updated_by.as_deref(), Some("mary"));
    let rows = block_on(books.db.query(
        "SELECT actor, action, details FROM audit_log WHERE entity = 'invoice' AND entity_id = 'INV-1001' ORDER BY id",
        vec![],
    ))
    .unwrap();
    let entries: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.string(0).unwrap(), r.string(1).unwrap()))
        .collect();
    assert_eq!(
        entries,
        [
            ("erp".to_string(), "create".to_string()),
            ("mary".to_string(), "update".to_string())
        ]
    );
    let details: serde_json::Value = rows[1].json(2).unwrap();
    assert_eq!(details["before"]["amount"], "15000.00");
    assert_eq!(details["after"]["amount"], "14000.00");
}
