//! A customer's invoices: oldest due first, the open ones or all of them,
//! with what was paid, credited and disputed and how late each is.

use crate::support::*;
use credit_core::dispute::DisputeStatus;
use ledger::disputes::DisputeUpdate;
use ledger::invoices::{self, InvoiceFilter};
use ledger::workflows;

/// (id, open balance, disputed, days past due) of each listed invoice.
fn listed(books: &Books, filter: InvoiceFilter, as_of: &str) -> Vec<(String, String, String, i64)> {
    block_on(invoices::list_for_customer(
        &books.db,
        "C-1",
        filter,
        date(as_of),
    ))
    .unwrap()
    .into_iter()
    .map(|i| {
        let invoice = i.invoice;
        (
            invoice.id,
            invoice.open_balance.to_string(),
            invoice.disputed.to_string(),
            i.days_past_due,
        )
    })
    .collect()
}

fn row(id: &str, open: &str, disputed: &str, days_past_due: i64) -> (String, String, String, i64) {
    (id.into(), open.into(), disputed.into(), days_past_due)
}

fn resolve_with_credit(books: &Books, dispute_id: &str, credit: &str) {
    for update in [
        DisputeUpdate {
            status: Some(DisputeStatus::InReview),
            ..DisputeUpdate::default()
        },
        DisputeUpdate {
            status: Some(DisputeStatus::ResolvedCredit),
            credit_amount: Some(amount(credit)),
            ..DisputeUpdate::default()
        },
    ] {
        block_on(workflows::dispute::update(
            &books.db,
            dispute_id,
            &update,
            date(AS_OF),
            &books.policy,
            &stamp("alice"),
        ))
        .unwrap();
    }
}

#[test]
fn a_customers_invoices_oldest_due_first_open_or_all_with_days_past_due() {
    let books = Books::new();
    books.customer("C-1", Some("10000.00"));
    books.customer("C-2", Some("10000.00"));
    books.invoice("INV-A", "C-1", "2025-06-10", "500.00");
    books.invoice("INV-B", "C-1", "2025-07-15", "300.00");
    books.invoice("INV-C", "C-1", "2025-05-20", "200.00");
    books.invoice("INV-D", "C-1", "2025-06-01", "50.00");
    books.invoice("INV-OTHER", "C-2", "2025-06-01", "70.00");
    // Oldest due first: settles INV-C and nothing else.
    books
        .post(&books.payment("PAY-1", "C-1", "200.00"))
        .unwrap();
    books.dispute("INV-A", "100.00").unwrap();
    // INV-D is credited in full through a dispute.
    let credited = books.dispute("INV-D", "50.00").unwrap();
    resolve_with_credit(&books, &credited.view.dispute.id, "50.00");

    let open = listed(&books, InvoiceFilter::Open, AS_OF);
    assert_eq!(
        open,
        [
            row("INV-A", "500.00", "100.00", 20),
            row("INV-B", "300.00", "0.00", -15),
        ]
    );
    assert_eq!(
        listed(&books, InvoiceFilter::All, AS_OF),
        [
            row("INV-C", "0.00", "0.00", 41),
            row("INV-D", "0.00", "0.00", 29),
            row("INV-A", "500.00", "100.00", 20),
            row("INV-B", "300.00", "0.00", -15),
        ]
    );
    let all = block_on(invoices::list_for_customer(
        &books.db,
        "C-1",
        InvoiceFilter::All,
        date("2025-07-01"),
    ))
    .unwrap();
    assert_eq!(all[0].invoice.paid.to_string(), "200.00");
    assert_eq!(all[1].invoice.credited.to_string(), "50.00");
    assert_eq!(all[3].days_past_due, -14);
    let missing = block_on(invoices::list_for_customer(
        &books.db,
        "NOPE",
        InvoiceFilter::Open,
        date(AS_OF),
    ));
    assert!(
        matches!(
            missing,
            Err(ledger::LedgerError::NotFound {
                what: "customer",
                ..
            })
        ),
        "{missing:?}"
    );
}
