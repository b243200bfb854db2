//! Payment intake through the ledger on a real SQLite database: allocation,
//! unapplied cash, short pays, re-checks of held orders, repeated payment
//! ids, refusals that change nothing, and promises to pay kept.

use crate::support::*;
use credit_core::allocation::RemittanceLine;
use credit_core::collections::{Channel, PromiseStatus};
use credit_core::hold::{OrderStatus, ReasonCode};
use ledger::contacts::{self, NewContact, PromiseToPay};
use ledger::{Database, LedgerError, orders, payments};

fn line(invoice_id: &str, value: &str) -> RemittanceLine {
    RemittanceLine {
        invoice_id: invoice_id.into(),
        amount: amount(value),
    }
}

/// Case 8's book: L 40,000; A 4,000 due 05-20, B 6,000 due 06-10, C 8,000
/// due 07-15; SO-1 12,000 held for the past-due A and B.
fn case_8_books() -> Books {
    let books = Books::new();
    books.customer("C-8", Some("40000.00"));
    books.invoice("INV-A", "C-8", "2025-05-20", "4000.00");
    books.invoice("INV-B", "C-8", "2025-06-10", "6000.00");
    books.invoice("INV-C", "C-8", "2025-07-15", "8000.00");
    let held = books.order("SO-1", "C-8", "12000.00");
    assert_eq!(held.status, OrderStatus::Held);
    assert_eq!(held.reasons[0].code, ReasonCode::PastDue);
    books
}

fn allocations(posted: &payments::Posted) -> Vec<(String, String)> {
    posted
        .result
        .allocations
        .iter()
        .map(|a| (a.invoice_id.clone(), a.amount.to_string()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn case_8_pays_oldest_first_and_releases_the_held_order() {
    let books = case_8_books();
    let posted = books
        .post(&books.payment("P-1", "C-8", "11000.00"))
        .unwrap();
    assert!(!posted.replayed);
    assert_eq!(
        allocations(&posted),
        pairs(&[
            ("INV-A", "4000.00"),
            ("INV-B", "6000.00"),
            ("INV-C", "1000.00")
        ])
    );
    assert_eq!(posted.result.unapplied.to_string(), "0.00");
    assert_eq!(posted.result.released_orders, ["SO-1"]);
    assert!(posted.result.still_held.is_empty());
    assert_eq!(books.balances("INV-A").0, "0.00");
    assert_eq!(books.balances("INV-C").0, "7000.00");

    let order = block_on(orders::view(&books.db, "SO-1", now())).unwrap();
    assert_eq!(order.status, OrderStatus::Released);
    let recheck = order.decisions.last().unwrap();
    assert_eq!(recheck.kind.as_str(), "recheck");
    assert_eq!(recheck.trigger, "payment P-1");
    assert_eq!(recheck.decision.exposure.to_string(), "19000.00");
}

#[test]
fn case_9_overpayment_becomes_unapplied_cash_that_lowers_exposure() {
    let books = Books::new();
    books.customer("C-9", Some("10000.00"));
    books.invoice("INV-D", "C-9", "2025-06-01", "2500.00");
    let posted = books.post(&books.payment("P-9", "C-9", "3000.00")).unwrap();
    assert_eq!(allocations(&posted), pairs(&[("INV-D", "2500.00")]));
    assert_eq!(posted.result.unapplied.to_string(), "500.00");
    let position = books.position("C-9");
    assert_eq!(position.open_balance.to_string(), "0.00");
    assert_eq!(position.unapplied_cash.to_string(), "500.00");

    let order = books.order("SO-9", "C-9", "10400.00");
    assert_eq!(order.status, OrderStatus::Released);
    assert_eq!(order.exposure.to_string(), "9900.00");
}

#[test]
fn an_overpayment_settles_every_invoice_and_keeps_the_rest() {
    let books = case_8_books();
    let mut payment = books.payment("P-2", "C-8", "20000.00");
    // More than INV-C's balance is named: it gets its balance, no more.
    payment.remittance = vec![line("INV-C", "9000.00")];
    let posted = books.post(&payment).unwrap();
    assert_eq!(
        allocations(&posted),
        pairs(&[
            ("INV-C", "8000.00"),
            ("INV-A", "4000.00"),
            ("INV-B", "6000.00")
        ])
    );
    assert_eq!(posted.result.unapplied.to_string(), "2000.00");
    let position = books.position("C-8");
    assert_eq!(position.open_balance.to_string(), "0.00");
    assert_eq!(position.unapplied_cash.to_string(), "2000.00");
    assert_eq!(
        position.exposure.to_string(),
        "10000.00",
        "SO-1 released, less the cash"
    );
}

#[test]
fn a_short_pay_with_a_reason_disputes_the_residual() {
    let books = case_8_books();
    let mut payment = books.payment("P-2", "C-8", "5500.00");
    payment.remittance = vec![line("INV-B", "5500.00")];
    payment.short_pay_reason = Some("DAMAGED".into());
    let posted = books.post(&payment).unwrap();
    assert_eq!(allocations(&posted), pairs(&[("INV-B", "5500.00")]));
    assert_eq!(posted.result.short_pays[0].residual.to_string(), "500.00");
    let opened = &posted.result.disputes_opened[0];
    assert_eq!(opened.invoice_id, "INV-B");
    assert_eq!(opened.amount.to_string(), "500.00");
    assert_eq!(opened.reason_code, "DAMAGED");
    assert_eq!(books.balances("INV-B"), ("500.00".into(), "500.00".into()));

    let dispute = block_on(ledger::disputes::view(
        &books.db,
        &opened.id,
        date(AS_OF),
        now(),
    ))
    .unwrap();
    assert_eq!(dispute.history[0].by, "alice");
    assert!(dispute.history[0].note.as_deref().unwrap().contains("P-2"));
}

#[test]
fn a_short_pay_without_a_reason_leaves_the_residual_open_undisputed() {
    let books = case_8_books();
    let mut payment = books.payment("P-3", "C-8", "5500.00");
    payment.remittance = vec![line("INV-B", "5500.00")];
    let posted = books.post(&payment).unwrap();
    assert_eq!(posted.result.short_pays.len(), 1);
    assert!(posted.result.disputes_opened.is_empty());
    assert_eq!(books.balances("INV-B"), ("500.00".into(), "0.00".into()));
    assert_eq!(books.count("disputes"), 0);
}

#[test]
fn a_short_pay_on_an_invoice_already_disputed_only_disputes_the_rest() {
    let books = case_8_books();
    books.dispute("INV-B", "300.00").unwrap();
    let mut payment = books.payment("P-4", "C-8", "5500.00");
    payment.remittance = vec![line("INV-B", "5500.00")];
    payment.short_pay_reason = Some("DAMAGED".into());
    let posted = books.post(&payment).unwrap();
    assert_eq!(
        posted.result.disputes_opened[0].amount.to_string(),
        "200.00"
    );
    assert_eq!(books.balances("INV-B"), ("500.00".into(), "500.00".into()));
}

#[test]
fn the_same_payment_posted_again_is_applied_once() {
    let books = case_8_books();
    let payment = books.payment("P-1", "C-8", "11000.00");
    let first = books.post(&payment).unwrap();
    let mut retry = payment.clone();
    retry.amount = amount("11000"); // the same amount, written differently
    retry.as_of = date("2025-07-01"); // retried a day later
    let again = books.post(&retry).unwrap();
    assert!(again.replayed);
    assert_eq!(again.result, first.result);
    assert_eq!(books.count("payments"), 1);
    assert_eq!(books.count("allocations"), 3);
    assert_eq!(books.balances("INV-C").0, "7000.00");
    assert_eq!(books.position("C-8").unapplied_cash.to_string(), "0.00");
}

#[test]
fn another_payment_under_a_used_id_is_a_conflict() {
    let books = case_8_books();
    books.post(&books.payment("P-1", "C-8", "100.00")).unwrap();
    let error = books
        .post(&books.payment("P-1", "C-8", "200.00"))
        .unwrap_err();
    assert!(
        matches!(error, LedgerError::Conflict(ref d) if d.contains("P-1")),
        "{error}"
    );
    assert_eq!(books.balances("INV-A").0, "3900.00");
}

/// Every refusal leaves the books exactly as they were.
fn assert_untouched(books: &Books) {
    assert_eq!(books.count("payments"), 0);
    assert_eq!(books.count("allocations"), 0);
    assert_eq!(books.count("disputes"), 0);
    let position = books.position("C-8");
    assert_eq!(position.open_balance.to_string(), "18000.00");
    assert_eq!(position.unapplied_cash.to_string(), "0.00");
    let order = block_on(orders::view(&books.db, "SO-1", now())).unwrap();
    assert_eq!(order.status, OrderStatus::Held);
}

fn refused_fields(books: &Books, payment: &payments::NewPayment) -> Vec<String> {
    match books.post(payment) {
        Err(LedgerError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[test]
fn remittances_naming_unknown_or_foreign_invoices_are_refused() {
    let books = case_8_books();
    books.customer("C-OTHER", Some("100.00"));
    books.invoice("INV-X", "C-OTHER", "2025-06-01", "50.00");
    let mut payment = books.payment("P-5", "C-8", "1000.00");
    payment.remittance = vec![
        line("INV-A", "100.00"),
        line("INV-404", "100.00"),
        line("INV-X", "50.00"),
    ];
    assert_eq!(
        refused_fields(&books, &payment),
        ["remittance[1].invoice_id", "remittance[2].invoice_id"]
    );
    assert_untouched(&books);
}

#[test]
fn remittances_above_the_payment_or_naming_an_invoice_twice_are_refused() {
    let books = case_8_books();
    let mut payment = books.payment("P-6", "C-8", "1000.00");
    payment.remittance = vec![line("INV-A", "600.00"), line("INV-B", "600.00")];
    let Err(LedgerError::Invalid(errors)) = books.post(&payment) else {
        panic!("a remittance above the payment was taken");
    };
    assert_eq!(errors[0].field, "remittance");
    assert!(errors[0].message.contains("1200.00"), "{errors:?}");
    payment.remittance = vec![line("INV-A", "100.00"), line("INV-A", "100.00")];
    assert_eq!(
        refused_fields(&books, &payment),
        ["remittance[1].invoice_id"]
    );
    assert_untouched(&books);
}

#[test]
fn a_payment_in_another_currency_or_for_nobody_is_refused() {
    let books = case_8_books();
    let mut payment = books.payment("P-7", "C-8", "1000.00");
    payment.currency = credit_core::Currency::parse("EUR").unwrap();
    assert_eq!(refused_fields(&books, &payment), ["currency"]);
    let error = books
        .post(&books.payment("P-7", "C-404", "1.00"))
        .unwrap_err();
    assert!(matches!(
        error,
        LedgerError::NotFound {
            what: "customer",
            ..
        }
    ));
    assert_untouched(&books);
}

#[test]
fn a_failure_at_the_last_step_leaves_no_trace() {
    let books = case_8_books();
    block_on(books.db.execute(
        "CREATE TRIGGER fail_rechecks BEFORE INSERT ON order_decisions WHEN NEW.kind = 'recheck'
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        vec![],
    ))
    .unwrap();
    let mut payment = books.payment("P-8", "C-8", "20000.00");
    payment.remittance = vec![line("INV-B", "5000.00")];
    payment.short_pay_reason = Some("DAMAGED".into());
    let error = books.post(&payment).unwrap_err();
    assert!(matches!(error, LedgerError::Db(_)), "{error}");
    assert_untouched(&books);
}

#[test]
fn a_payment_shows_what_posting_it_did() {
    let books = case_8_books();
    let mut payment = books.payment("P-1", "C-8", "11000.00");
    payment.reference = Some("wire 7781".into());
    books.post(&payment).unwrap();
    let view = block_on(payments::view(&books.db, "P-1")).unwrap();
    assert_eq!(view.result.payment_id, "P-1");
    assert_eq!(view.result.allocations.len(), 3);
    assert_eq!(view.method, "ach");
    assert_eq!(view.reference.as_deref(), Some("wire 7781"));
    assert_eq!(view.posted_by, "alice");
    let missing = block_on(payments::view(&books.db, "P-404")).unwrap_err();
    assert!(matches!(
        missing,
        LedgerError::NotFound {
            what: "payment",
            ..
        }
    ));
}

#[test]
fn a_promise_to_pay_is_kept_by_a_payment_in_time() {
    let books = case_8_books();
    let contact = NewContact {
        channel: Channel::Call,
        outcome: "reached AP".into(),
        note: "promised the May invoice".into(),
        contacted_on: date("2025-06-25"),
        promise: Some(PromiseToPay {
            amount: amount("4000.00"),
            due_on: date("2025-07-05"),
        }),
    };
    let logged = block_on(contacts::add(
        &books.db,
        "C-8",
        &contact,
        date(AS_OF),
        &stamp("alice"),
    ))
    .unwrap();
    assert_eq!(logged.promise.unwrap().status, PromiseStatus::Open);

    let mut payment = books.payment("P-10", "C-8", "4000.00");
    payment.received_on = date("2025-07-01");
    books.post(&payment).unwrap();
    let log = block_on(contacts::list(&books.db, "C-8", date("2025-07-10"))).unwrap();
    let promise = log[0].promise.as_ref().unwrap();
    assert_eq!(promise.status, PromiseStatus::Kept);
    assert_eq!(promise.paid.to_string(), "4000.00");
}

/// (status, paid) of C-8's promises as of a date, oldest first.
fn promises(books: &Books, as_of: &str) -> Vec<(PromiseStatus, String)> {
    block_on(contacts::list(&books.db, "C-8", date(as_of)))
        .unwrap()
        .iter()
        .rev()
        .map(|c| {
            let p = c.promise.as_ref().unwrap();
            (p.status, p.paid.to_string())
        })
        .collect()
}

fn promise(books: &Books, made_on: &str, value: &str, due_on: &str) {
    let contact = NewContact {
        channel: Channel::Call,
        outcome: "reached AP".into(),
        note: "will pay".into(),
        contacted_on: date(made_on),
        promise: Some(PromiseToPay {
            amount: amount(value),
            due_on: date(due_on),
        }),
    };
    block_on(contacts::add(
        &books.db,
        "C-8",
        &contact,
        date(AS_OF),
        &stamp("alice"),
    ))
    .unwrap();
}

#[test]
fn a_partial_payment_leaves_a_promise_open_until_its_date_then_broken() {
    let books = case_8_books();
    promise(&books, "2025-06-20", "3000.00", "2025-07-05");
    let mut payment = books.payment("P-7", "C-8", "1000.00");
    payment.received_on = date("2025-07-01");
    books.post(&payment).unwrap();
    assert_eq!(
        promises(&books, "2025-07-05"),
        [(PromiseStatus::Open, "1000.00".into())]
    );
    assert_eq!(
        promises(&books, "2025-07-06"),
        [(PromiseStatus::Broken, "1000.00".into())]
    );
}

#[test]
fn one_payment_keeps_only_the_first_of_two_equal_overlapping_promises() {
    let books = case_8_books();
    promise(&books, "2025-06-20", "3000.00", "2025-07-05");
    promise(&books, "2025-06-24", "3000.00", "2025-07-05");
    let mut payment = books.payment("P-6", "C-8", "3000.00");
    payment.received_on = date("2025-07-01");
    books.post(&payment).unwrap();
    assert_eq!(
        promises(&books, "2025-07-10"),
        [
            (PromiseStatus::Kept, "3000.00".into()),
            (PromiseStatus::Broken, "0.00".into())
        ]
    );
    // As of a date before the payment, neither is kept yet.
    assert_eq!(
        promises(&books, "2025-06-30"),
        [
            (PromiseStatus::Open, "0.00".into()),
            (PromiseStatus::Open, "0.00".into())
        ]
    );
}

#[test]
fn overlapping_promises_share_a_payment_once_and_only_as_of_its_date() {
    let books = case_8_books();
    for (on, value) in [("2025-06-20", "4000.00"), ("2025-06-22", "4000.00")] {
        let contact = NewContact {
            channel: Channel::Call,
            outcome: "reached AP".into(),
            note: "promised".into(),
            contacted_on: date(on),
            promise: Some(PromiseToPay {
                amount: amount(value),
                due_on: date("2025-07-05"),
            }),
        };
        block_on(contacts::add(
            &books.db,
            "C-8",
            &contact,
            date(AS_OF),
            &stamp("alice"),
        ))
        .unwrap();
    }
    let mut payment = books.payment("P-11", "C-8", "5000.00");
    payment.received_on = date("2025-07-01");
    books.post(&payment).unwrap();
    let statuses = |as_of: &str| -> Vec<(PromiseStatus, String)> {
        block_on(contacts::list(&books.db, "C-8", date(as_of)))
            .unwrap()
            .iter()
            .rev() // oldest first
            .map(|c| {
                let p = c.promise.as_ref().unwrap();
                (p.status, p.paid.to_string())
            })
            .collect()
    };
    assert_eq!(
        statuses("2025-07-10"),
        [
            (PromiseStatus::Kept, "4000.00".into()),
            (PromiseStatus::Broken, "1000.00".into())
        ]
    );
    assert_eq!(
        statuses("2025-06-30"),
        [
            (PromiseStatus::Open, "0.00".into()),
            (PromiseStatus::Open, "0.00".into())
        ],
        "the payment of 07-01 does not count as of 06-30"
    );
}

#[test]
fn paying_a_disputed_invoice_in_full_settles_its_dispute() {
    let books = case_8_books();
    let opened = books.dispute("INV-B", "600.00").unwrap();
    let mut payment = books.payment("P-12", "C-8", "6000.00");
    payment.remittance = vec![line("INV-B", "6000.00")];
    let posted = books.post(&payment).unwrap();
    assert_eq!(allocations(&posted), pairs(&[("INV-B", "6000.00")]));
    assert_eq!(books.balances("INV-B"), ("0.00".into(), "0.00".into()));
    let id = &opened.view.dispute.id;
    let dispute = block_on(ledger::disputes::view(&books.db, id, date(AS_OF), now())).unwrap();
    assert_eq!(
        dispute.dispute.status,
        credit_core::dispute::DisputeStatus::Withdrawn
    );
    assert_eq!(dispute.dispute.closed_on, Some(date(AS_OF)));
    let last = dispute.history.last().unwrap();
    assert!(last.note.as_deref().unwrap().contains("P-12"), "{last:?}");
    // The ERP sending the invoice again is no correction below what is settled.
    books.invoice("INV-B", "C-8", "2025-06-10", "6000.00");
    assert_eq!(books.balances("INV-B"), ("0.00".into(), "0.00".into()));
}

#[test]
fn paying_a_disputed_invoice_by_name_leaves_its_dispute_open_for_what_is_left() {
    let books = case_8_books();
    let opened = books.dispute("INV-B", "600.00").unwrap();
    let mut payment = books.payment("P-9", "C-8", "5700.00");
    payment.remittance = vec![line("INV-B", "5700.00")];
    books.post(&payment).unwrap();
    assert_eq!(books.balances("INV-B"), ("300.00".into(), "300.00".into()));
    let id = &opened.view.dispute.id;
    let dispute = block_on(ledger::disputes::view(&books.db, id, date(AS_OF), now())).unwrap();
    assert_eq!(dispute.dispute.amount.to_string(), "300.00");
    assert_eq!(
        dispute.dispute.status,
        credit_core::dispute::DisputeStatus::Open
    );
    let last = dispute.history.last().unwrap();
    assert!(last.note.as_deref().unwrap().contains("P-9"), "{last:?}");
}

#[test]
fn paying_into_part_of_a_disputed_amount_keeps_disputed_within_the_open_balance() {
    let books = case_8_books();
    let older = books.dispute("INV-B", "300.00").unwrap();
    let newer = books.dispute("INV-B", "500.00").unwrap();
    let mut payment = books.payment("P-13", "C-8", "5600.00");
    payment.remittance = vec![line("INV-B", "5600.00")];
    books.post(&payment).unwrap();
    // 400 left open, 800 was disputed: the oldest dispute gives up 300 (and
    // is withdrawn), the next 100.
    assert_eq!(books.balances("INV-B"), ("400.00".into(), "400.00".into()));
    let view =
        |id: &str| block_on(ledger::disputes::view(&books.db, id, date(AS_OF), now())).unwrap();
    let older = view(&older.view.dispute.id);
    assert_eq!(
        older.dispute.status,
        credit_core::dispute::DisputeStatus::Withdrawn
    );
    let newer = view(&newer.view.dispute.id);
    assert_eq!(
        newer.dispute.status,
        credit_core::dispute::DisputeStatus::Open
    );
    assert_eq!(newer.dispute.amount.to_string(), "400.00");
    // A correction may not take the amount below paid + what is disputed.
    let update = ledger::invoices::InvoiceUpdate {
        customer_id: "C-8".into(),
        order_id: None,
        issued_on: date("2025-05-11"),
        due_on: date("2025-06-10"),
        amount: amount("5999.99"),
        currency: usd(),
    };
    let refused = block_on(ledger::workflows::invoice::put(
        &books.db,
        "INV-B",
        &update,
        &books.policy,
        date(AS_OF),
        &stamp("erp"),
    ));
    assert!(
        matches!(refused, Err(LedgerError::Conflict(_))),
        "{refused:?}"
    );
}
