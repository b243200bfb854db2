//! The reports through the ledger on hand-computed books: held orders,
//! aging (now and as of a past date), disputes against their SLAs, the
//! collection worklist and KPIs. Payments, credits and disputes are seeded
//! with SQL where the ledger has no operation the test can date freely.

use crate::support::*;
use credit_core::aging::{Aging, Bucket};
use credit_core::dispute::{DisputeStatus, SlaStatus};
use credit_core::hold::ReasonCode;
use credit_core::metrics::Period;
use ledger::disputes::ACTIVE as ACTIVE_DISPUTES;
use ledger::reports::{self, AgingReport, CustomerAging};
use ledger::workflows;
use ledger::{invoices, params};
use rust_decimal::Decimal;

/// Records a payment applied in full to one invoice on `applied_on`.
fn pay(books: &Books, payment: &str, invoice: &str, value: &str, applied_on: &str) {
    let customer = customer_of(books, invoice);
    let minor = minor(value);
    books.sql(
        "INSERT INTO payments (id, customer_id, amount_minor, received_on, method, unapplied_minor, request, result, posted_at, posted_by)
         VALUES (?, ?, ?, ?, 'ach', 0, '{}', '{}', '2025-06-30T09:00:00.000Z', 'alice')",
        params![payment, customer, minor, applied_on],
    );
    block_on(invoices::apply_payment(
        &books.db,
        invoice,
        payment,
        minor,
        date(applied_on),
    ))
    .unwrap();
}

/// Records a credit (a resolved dispute) on an invoice on `credited_on`.
fn credit(books: &Books, invoice: &str, value: &str, credited_on: &str) {
    let minor = minor(value);
    books.sql(
        "INSERT INTO credits (invoice_id, amount_minor, credited_on) VALUES (?, ?, ?)",
        params![invoice, minor, credited_on],
    );
    books.sql(
        "UPDATE invoices SET credited_minor = credited_minor + ?1, open_minor = open_minor - ?1 WHERE id = ?2",
        params![minor, invoice],
    );
}

/// Records a dispute and, while it is active, its amount on the invoice.
fn dispute(books: &Books, invoice: &str, value: &str, status: &str, opened: &str, due: &str) {
    let customer = customer_of(books, invoice);
    let closed = (!DisputeStatus::parse(status).unwrap().is_active()).then_some(due);
    books.sql(
        "INSERT INTO disputes (invoice_id, customer_id, amount_minor, reason_code, status, opened_on, sla_due_on, closed_on, opened_by, created_at, updated_at)
         VALUES (?, ?, ?, 'PRICING', ?, ?, ?, ?, 'alice', '2025-06-30T09:00:00.000Z', '2025-06-30T09:00:00.000Z')",
        params![invoice, customer, minor(value), status, opened, due, closed],
    );
    if closed.is_none() {
        books.sql(
            "UPDATE invoices SET disputed_minor = disputed_minor + ? WHERE id = ?",
            params![minor(value), invoice],
        );
    }
}

/// A EUR invoice issued 30 days before it is due.
fn euro_invoice(books: &Books, id: &str, customer: &str, due_on: &str, value: &str) {
    let due_on = date(due_on);
    let update = invoices::InvoiceUpdate {
        customer_id: customer.into(),
        order_id: None,
        issued_on: due_on - chrono::Days::new(30),
        due_on,
        amount: amount(value),
        currency: credit_core::Currency::parse("EUR").unwrap(),
    };
    block_on(workflows::invoice::put(
        &books.db,
        id,
        &update,
        &books.policy,
        date(AS_OF),
        &stamp("erp"),
    ))
    .unwrap();
}

fn customer_of(books: &Books, invoice: &str) -> String {
    block_on(invoices::get(&books.db, invoice))
        .unwrap()
        .0
        .customer_id
}

fn minor(value: &str) -> i64 {
    usd().to_minor(amount(value))
}

/// The buckets as text, current first, then the total.
fn buckets(aging: &Aging) -> [String; 7] {
    [
        aging.current,
        aging.days_1_30,
        aging.days_31_60,
        aging.days_61_90,
        aging.days_91_120,
        aging.days_over_120,
        aging.total,
    ]
    .map(|amount| amount.to_string())
}

fn customer<'a>(report: &'a AgingReport, id: &str) -> &'a CustomerAging {
    report
        .customers
        .iter()
        .find(|c| c.customer_id == id)
        .unwrap_or_else(|| panic!("{id} is not in the report"))
}

/// Three customers, two currencies, every bucket; C-4 owes nothing.
fn aging_books() -> Books {
    let books = Books::new();
    books.customer("C-1", Some("50000.00"));
    books.customer("C-2", Some("50000.00"));
    books.customer_in("C-3", "EUR", Some("50000.00"));
    books.customer("C-4", Some("50000.00"));
    books.invoice("INV-A", "C-1", "2025-07-10", "1000.00");
    books.invoice("INV-B", "C-1", "2025-06-30", "200.00"); // due as of: current
    books.invoice("INV-C", "C-1", "2025-06-15", "300.00");
    books.invoice("INV-D", "C-1", "2025-04-30", "400.00"); // 61 dpd
    books.invoice("INV-E", "C-2", "2025-05-31", "500.00"); // 30 dpd
    books.invoice("INV-F", "C-2", "2025-02-28", "50.00"); // 122 dpd
    books.invoice("INV-G", "C-2", "2025-03-02", "70.00"); // 120 dpd
    euro_invoice(&books, "INV-H", "C-3", "2025-05-01", "900.00"); // 60 dpd
    books.invoice_issued("INV-I", "C-1", "2025-07-01", "2025-07-31", "700.00");
    pay(&books, "P-1", "INV-C", "300.00", "2025-06-20");
    pay(&books, "P-2", "INV-A", "400.00", "2025-07-05");
    credit(&books, "INV-D", "100.00", "2025-07-02");
    books
}

#[test]
fn aging_as_of_a_past_date_counts_what_was_issued_and_settled_by_then() {
    let books = aging_books();
    let report = block_on(reports::aging(&books.db, date(AS_OF))).unwrap();
    let ids: Vec<&str> = report
        .customers
        .iter()
        .map(|c| c.customer_id.as_str())
        .collect();
    // EUR before USD; C-4 owes nothing; INV-I was not yet issued.
    assert_eq!(ids, ["C-3", "C-1", "C-2"]);
    // INV-A before its 07-05 payment, INV-C paid 06-20, INV-D before its 07-02 credit.
    assert_eq!(
        buckets(&customer(&report, "C-1").aging),
        [
            "1200.00", "0.00", "0.00", "400.00", "0.00", "0.00", "1600.00"
        ]
    );
    assert_eq!(
        buckets(&customer(&report, "C-2").aging),
        ["0.00", "500.00", "0.00", "0.00", "70.00", "50.00", "620.00"]
    );
    assert_eq!(customer(&report, "C-3").currency.code(), "EUR");
    assert_eq!(
        buckets(&customer(&report, "C-3").aging),
        ["0.00", "0.00", "900.00", "0.00", "0.00", "0.00", "900.00"]
    );
    let totals: Vec<(&str, usize, [String; 7])> = report
        .totals
        .iter()
        .map(|t| (t.currency.code(), t.customers, buckets(&t.aging)))
        .collect();
    assert_eq!(
        totals,
        [
            (
                "EUR",
                1,
                ["0.00", "0.00", "900.00", "0.00", "0.00", "0.00", "900.00"].map(String::from)
            ),
            (
                "USD",
                2,
                [
                    "1200.00", "500.00", "0.00", "400.00", "70.00", "50.00", "2220.00"
                ]
                .map(String::from)
            ),
        ]
    );
}

#[test]
fn the_aging_totals_read_alone_are_the_reports_totals() {
    let books = aging_books();
    // C-5 owes only what was issued after AS_OF; C-6 paid in full before it.
    books.customer("C-5", Some("50000.00"));
    books.invoice_issued("INV-J", "C-5", "2025-07-01", "2025-07-31", "80.00");
    books.customer("C-6", Some("50000.00"));
    books.invoice("INV-K", "C-6", "2025-06-01", "60.00");
    pay(&books, "P-3", "INV-K", "60.00", "2025-06-10");
    for as_of in ["2025-05-31", AS_OF, "2025-07-03", "2025-07-10"] {
        let report = block_on(reports::aging(&books.db, date(as_of))).unwrap();
        let totals = block_on(reports::aging_totals(&books.db, date(as_of))).unwrap();
        assert_eq!(totals, report.totals, "as of {as_of}");
    }
    // As of 03-31 nothing in EUR was issued yet: EUR is not there.
    for as_of in [
        "2025-03-31",
        "2025-05-31",
        AS_OF,
        "2025-07-03",
        "2025-07-10",
    ] {
        let report = block_on(reports::aging(&books.db, date(as_of))).unwrap();
        let grand_totals: Vec<_> = report
            .totals
            .iter()
            .map(|t| (t.currency, t.aging.total))
            .collect();
        let read_alone = block_on(reports::receivables_total(&books.db, date(as_of))).unwrap();
        assert_eq!(read_alone, grand_totals, "as of {as_of}");
    }
    let totals = block_on(reports::aging_totals(&books.db, date(AS_OF))).unwrap();
    let owing: Vec<(&str, usize)> = totals
        .iter()
        .map(|t| (t.currency.code(), t.customers))
        .collect();
    assert_eq!(owing, [("EUR", 1), ("USD", 2)], "neither C-5 nor C-6 owed");
}

#[test]
fn each_aging_bucket_ends_where_credit_core_ends_it() {
    let books = Books::new();
    let as_of = date(AS_OF);
    // Each side of every bucket's end, one customer each.
    let days_past_due = [-1, 0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 400];
    let id = |dpd: i64| format!("C-{}", dpd + 10);
    for dpd in days_past_due {
        books.customer(&id(dpd), Some("50000.00"));
        let due_on = as_of - chrono::Duration::days(dpd);
        books.invoice(
            &format!("INV-{dpd}"),
            &id(dpd),
            &due_on.to_string(),
            "10.00",
        );
    }
    let report = block_on(reports::aging(&books.db, as_of)).unwrap();
    let mut expected = Aging::zero(2);
    for dpd in days_past_due {
        let aging = &customer(&report, &id(dpd)).aging;
        let bucket = Bucket::for_days_past_due(dpd);
        assert_eq!(aging.get(bucket), amount("10.00"), "{dpd} days past due");
        assert_eq!(aging.total, amount("10.00"), "{dpd} days past due");
        expected.add_to(bucket, amount("10.00"));
    }
    assert_eq!(report.totals[0].aging, expected);
    let totals = block_on(reports::aging_totals(&books.db, as_of)).unwrap();
    assert_eq!(totals, report.totals);
}

#[test]
fn aging_as_of_today_matches_each_customers_position() {
    let books = aging_books();
    let today = date("2025-07-10");
    let report = block_on(reports::aging(&books.db, today)).unwrap();
    // A 600 current, B 200 at 10 dpd, D 300 at 71 dpd, I 700 current.
    assert_eq!(
        buckets(&customer(&report, "C-1").aging),
        [
            "1300.00", "200.00", "0.00", "300.00", "0.00", "0.00", "1800.00"
        ]
    );
    for line in &report.customers {
        let position = block_on(ledger::workflows::customer::position(
            &books.db,
            &line.customer_id,
            today,
            now(),
            &books.policy,
        ))
        .unwrap();
        assert_eq!(line.aging, position.aging, "{}", line.customer_id);
        assert_eq!(line.aging.total, position.open_balance);
    }
}

#[test]
fn aging_totals_add_up_each_currencys_customers() {
    let books = Books::new();
    books.customer("C-1", Some("50000.00"));
    books.customer("C-2", Some("50000.00"));
    books.customer_in("C-3", "EUR", Some("50000.00"));
    books.customer("C-4", Some("50000.00"));
    books.invoice("INV-A", "C-1", "2025-07-10", "1000.00");
    books.invoice("INV-B", "C-1", "2025-06-30", "200.00");
    books.invoice("INV-C", "C-1", "2025-06-15", "300.00"); // 15 dpd
    books.invoice("INV-D", "C-1", "2025-04-30", "400.00"); // 61 dpd
    books.invoice("INV-E", "C-2", "2025-05-31", "500.00"); // 30 dpd
    books.invoice("INV-F", "C-2", "2025-02-28", "50.00"); // 122 dpd
    books.invoice("INV-G", "C-2", "2025-03-02", "70.00"); // 120 dpd
    euro_invoice(&books, "INV-H", "C-3", "2025-05-01", "900.00"); // 60 dpd
    let report = block_on(reports::aging(&books.db, date(AS_OF))).unwrap();
    let ids: Vec<&str> = report
        .customers
        .iter()
        .map(|c| c.customer_id.as_str())
        .collect();
    assert_eq!(ids, ["C-3", "C-1", "C-2"], "EUR first; C-4 owes nothing");
    assert_eq!(
        buckets(&customer(&report, "C-1").aging),
        [
            "1200.00", "300.00", "0.00", "400.00", "0.00", "0.00", "1900.00"
        ]
    );
    assert_eq!(
        buckets(&customer(&report, "C-2").aging),
        ["0.00", "500.00", "0.00", "0.00", "70.00", "50.00", "620.00"]
    );
    let [eur, usd] = &report.totals[..] else {
        panic!("two currencies: {:?}", report.totals);
    };
    assert_eq!(eur.currency.code(), "EUR");
    assert_eq!(eur.aging.total.to_string(), "900.00");
    assert_eq!(usd.currency.code(), "USD");
    assert_eq!(usd.customers, 2);
    assert_eq!(
        buckets(&usd.aging),
        [
            "1200.00", "800.00", "0.00", "400.00", "70.00", "50.00", "2520.00"
        ]
    );
}

#[test]
fn an_empty_book_has_empty_reports() {
    let books = Books::new();
    let held = block_on(reports::held_orders(&books.db, date(AS_OF))).unwrap();
    assert!(held.orders.is_empty());
    let pending = ledger::limits::ListQuery {
        status: Some(credit_core::limit::RequestStatus::Pending),
        customer_id: None,
    };
    let requests = block_on(reports::credit_limit_requests(&books.db, &pending)).unwrap();
    assert!(requests.requests.is_empty());
    let aging = block_on(reports::aging(&books.db, date(AS_OF))).unwrap();
    assert!(aging.customers.is_empty() && aging.totals.is_empty());
}

#[test]
fn held_orders_are_listed_oldest_first_with_reasons_and_days_held() {
    let books = Books::new();
    books.customer("C-1", Some("1000.00"));
    books.customer("C-2", None);
    books
        .try_order("SO-B", "C-1", "2000.00", "2025-06-20")
        .unwrap();
    books
        .try_order("SO-A", "C-2", "10.00", "2025-06-10")
        .unwrap();
    books
        .try_order("SO-OK", "C-1", "5.00", "2025-06-01")
        .unwrap();
    let report = block_on(reports::held_orders(&books.db, date("2025-07-03"))).unwrap();
    let ids: Vec<&str> = report.orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, ["SO-A", "SO-B"]);
    assert_eq!(report.orders[0].reasons[0].code, ReasonCode::NoCreditLimit);
    assert_eq!(
        report.orders[1].reasons[0].code,
        ReasonCode::CreditLimitExceeded
    );
    assert_eq!(report.orders[1].amount.to_string(), "2000.00");
    assert_eq!(report.orders[1].customer_name, "C-1 Ltd");
    // Held at 2025-06-30T09:00Z, three days before the report date.
    assert_eq!(report.orders[1].days_held, Some(3));
}

/// Disputes around 2025-06-30, a Monday.
fn dispute_books() -> Books {
    let books = Books::new();
    books.customer("C-1", Some("50000.00"));
    books.invoice("INV-1", "C-1", "2025-07-10", "5000.00");
    dispute(
        &books,
        "INV-1",
        "100.00",
        "open",
        "2025-06-16",
        "2025-06-30",
    );
    dispute(
        &books,
        "INV-1",
        "200.00",
        "in_review",
        "2025-06-02",
        "2025-06-16",
    );
    dispute(
        &books,
        "INV-1",
        "300.00",
        "open",
        "2025-06-25",
        "2025-07-09",
    );
    dispute(
        &books,
        "INV-1",
        "400.00",
        "resolved_credit",
        "2025-06-01",
        "2025-06-13",
    );
    dispute(
        &books,
        "INV-1",
        "500.00",
        "open",
        "2025-07-01",
        "2025-07-15",
    );
    books
}

#[test]
fn active_disputes_by_sla_date_with_business_days_left() {
    let books = dispute_books();
    let report = block_on(reports::disputes(&books.db, date(AS_OF), ACTIVE_DISPUTES)).unwrap();
    let lines: Vec<(&str, String, SlaStatus, Option<i64>)> = report
        .disputes
        .iter()
        .map(|d| {
            let amount = d.amount.to_string();
            (
                d.dispute_id.as_str(),
                amount,
                d.sla_status,
                d.business_days_left,
            )
        })
        .collect();
    // D-5 was opened after the report date.
    let expected = [
        ("D-2", "200.00", SlaStatus::Breached, Some(-10)),
        ("D-1", "100.00", SlaStatus::AtRisk, Some(0)),
        ("D-3", "300.00", SlaStatus::OnTrack, Some(7)),
    ]
    .map(|(id, amount, sla, left)| (id, amount.to_string(), sla, left));
    assert_eq!(lines, expected);
    assert_eq!(report.disputes[0].status, DisputeStatus::InReview);
    assert_eq!(report.disputes[0].customer_name, "C-1 Ltd");
}

#[test]
fn closed_disputes_show_whether_the_sla_was_met() {
    let books = dispute_books();
    let resolved = [DisputeStatus::ResolvedCredit];
    let report = block_on(reports::disputes(&books.db, date(AS_OF), &resolved)).unwrap();
    assert_eq!(report.disputes.len(), 1);
    assert_eq!(report.disputes[0].sla_status, SlaStatus::Met);
    assert_eq!(report.disputes[0].business_days_left, None);
    let all = block_on(reports::disputes(
        &books.db,
        date(AS_OF),
        DisputeStatus::ALL,
    ))
    .unwrap();
    assert_eq!(all.disputes.len(), 4);
}

#[test]
fn the_worklist_ranks_undisputed_past_due_plus_held_orders_per_currency() {
    let books = Books::new();
    for id in ["W-1", "W-3", "W-4", "W-5"] {
        books.customer(id, Some("50000.00"));
    }
    books.customer("W-2", Some("1000.00"));
    books.customer_in("W-6", "EUR", Some("50000.00"));
    books.invoice("INV-W1", "W-1", "2025-06-20", "1000.00"); // 10 dpd
    books.invoice("INV-W2", "W-2", "2025-06-29", "100.00"); // 1 dpd
    books.order("SO-W2", "W-2", "5000.00"); // held: over the limit
    books.invoice("INV-W3", "W-3", "2025-07-15", "100.00"); // not yet due
    books.order("SO-W3", "W-3", "60000.00"); // held, but nothing past due
    books.invoice("INV-W4A", "W-4", "2025-05-01", "2000.00");
    dispute(
        &books,
        "INV-W4A",
        "2000.00",
        "open",
        "2025-06-02",
        "2025-06-16",
    );
    books.invoice("INV-W4B", "W-4", "2025-06-25", "300.00"); // 5 dpd
    books.invoice("INV-W5", "W-5", "2025-04-01", "600.00"); // 90 dpd
    pay(&books, "P-W5", "INV-W5", "100.00", "2025-06-10");
    dispute(
        &books,
        "INV-W5",
        "200.00",
        "open",
        "2025-06-20",
        "2025-07-04",
    );
    euro_invoice(&books, "INV-W6", "W-6", "2025-06-01", "700.00"); // 29 dpd
    // W-5 promised 300 by 06-15 and paid 100: broken. 50 by 06-20: broken
    // too, for the 100 counts once, toward the older promise (made the same
    // day, recorded first). 100 by 07-05: not due yet.
    for (amount, due) in [
        (30000, "2025-06-15"),
        (5000, "2025-06-20"),
        (10000, "2025-07-05"),
    ] {
        books.sql(
            "INSERT INTO contacts (customer_id, contacted_on, recorded_at, actor, channel, outcome, note, promise_amount_minor, promise_due_on)
             VALUES ('W-5', '2025-06-01', 'x', 'alice', 'call', 'promised', 'n', ?, ?)",
            params![amount as i64, due],
        );
    }

    let report = block_on(reports::worklist(&books.db, date(AS_OF), None)).unwrap();
    let lines: Vec<String> = report
        .customers
        .iter()
        .map(|l| {
            let e = &l.entry;
            format!(
                "{} {} {}: past due {}, held {}, priority {}, {} dpd, {} broken",
                l.rank,
                l.currency,
                e.customer_id,
                e.past_due,
                e.held_orders_value,
                e.priority,
                e.oldest_days_past_due,
                e.broken_promises
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "1 EUR W-6: past due 700.00, held 0.00, priority 700.00, 29 dpd, 0 broken",
            "1 USD W-2: past due 100.00, held 5000.00, priority 5100.00, 1 dpd, 0 broken",
            "2 USD W-1: past due 1000.00, held 0.00, priority 1000.00, 10 dpd, 0 broken",
            // W-5 and W-4 tie at 300: the older debt first.
            "3 USD W-5: past due 300.00, held 0.00, priority 300.00, 90 dpd, 2 broken",
            "4 USD W-4: past due 300.00, held 0.00, priority 300.00, 5 dpd, 0 broken",
        ]
    );
}

/// A June in USD (figures in thousands): begin AR 13; sales 14; collected
/// 10 + 3 and credited 0.5 in June; end AR 13.5 of which 9 current.
fn kpi_books() -> Books {
    let books = Books::new();
    books.customer("K", Some("1000000.00"));
    books.invoice_issued("K1", "K", "2025-05-01", "2025-05-31", "10000.00");
    books.invoice_issued("K2", "K", "2025-05-15", "2025-06-14", "5000.00");
    books.invoice_issued("K3", "K", "2025-06-05", "2025-07-05", "8000.00");
    books.invoice_issued("K4", "K", "2025-06-20", "2025-07-20", "4000.00");
    books.invoice_issued("K5", "K", "2025-06-01", "2025-06-15", "2000.00");
    books.invoice_issued("K6", "K", "2025-07-01", "2025-07-31", "4444.00");
    pay(&books, "P-1", "K2", "2000.00", "2025-05-20");
    pay(&books, "P-2", "K1", "10000.00", "2025-06-10");
    pay(&books, "P-3", "K3", "3000.00", "2025-06-25");
    credit(&books, "K5", "500.00", "2025-06-28");
    pay(&books, "P-4", "K4", "1000.00", "2025-07-03"); // after the period
    books.customer_in("E", "EUR", Some("1000000.00"));
    euro_invoice(&books, "E1", "E", "2025-07-10", "1000.00"); // issued 06-10
    books
}

#[test]
fn kpis_of_a_hand_computed_month() {
    let books = kpi_books();
    let june = Period::new(date("2025-06-01"), date("2025-06-30")).unwrap();
    let report = block_on(reports::kpis(&books.db, june)).unwrap();
    assert_eq!(report.opening_date, date("2025-05-31"));
    let [eur, usd] = &report.currencies[..] else {
        panic!("two currencies: {report:?}");
    };
    let text = |d: Decimal| d.to_string();
    let usd_figures = &usd.figures;
    assert_eq!(usd.currency.code(), "USD");
    assert_eq!(text(usd_figures.begin_ar), "13000.00");
    assert_eq!(text(usd_figures.credit_sales), "14000.00");
    assert_eq!(text(usd_figures.end_ar), "13500.00");
    assert_eq!(text(usd_figures.end_current_ar), "9000.00");
    assert_eq!(usd_figures.days, 30);
    // 13,500 / 14,000 × 30 = 28.93; 9,000 / 14,000 × 30 = 19.29;
    // ADD 9.64; CEI (13,000 + 14,000 − 13,500) / (27,000 − 9,000) = 75%.
    let kpis = &usd.kpis;
    assert_eq!(kpis.dso.map(text).as_deref(), Some("28.93"));
    assert_eq!(kpis.best_possible_dso.map(text).as_deref(), Some("19.29"));
    assert_eq!(
        kpis.average_days_delinquent.map(text).as_deref(),
        Some("9.64")
    );
    assert_eq!(kpis.cei.map(text).as_deref(), Some("75.00"));
    // EUR: one invoice, nothing collected, nothing overdue.
    assert_eq!(text(eur.figures.begin_ar), "0.00");
    assert_eq!(eur.kpis.dso.map(text).as_deref(), Some("30.00"));
    assert_eq!(eur.kpis.cei, None, "0 / 0 is no CEI");
}

/// June in USD (thousands): begin AR 10 (K1); sales 10 (K3 8, K5 2); end
/// AR 20 of which 8 (K3) not yet due; K6 is July's.
#[test]
fn kpis_of_a_month_without_collections_then_with_one() {
    let books = Books::new();
    books.customer("K", Some("1000000.00"));
    books.invoice_issued("K1", "K", "2025-05-01", "2025-05-31", "10000.00");
    books.invoice_issued("K3", "K", "2025-06-05", "2025-07-05", "8000.00");
    books.invoice_issued("K5", "K", "2025-06-01", "2025-06-15", "2000.00");
    books.invoice_issued("K6", "K", "2025-07-01", "2025-07-31", "4444.00");
    let june = Period::new(date("2025-06-01"), date("2025-06-30")).unwrap();
    let usd = || {
        let report = block_on(reports::kpis(&books.db, june)).unwrap();
        assert_eq!(report.opening_date, date("2025-05-31"));
        let [usd] = &report.currencies[..] else {
            panic!("one currency: {report:?}");
        };
        usd.clone()
    };
    let text = |d: Option<Decimal>| d.map(|d| d.to_string());
    let june_kpis = usd();
    let figures = &june_kpis.figures;
    assert_eq!(figures.begin_ar.to_string(), "10000.00");
    assert_eq!(figures.credit_sales.to_string(), "10000.00");
    assert_eq!(figures.end_ar.to_string(), "20000.00");
    assert_eq!(figures.end_current_ar.to_string(), "8000.00");
    assert_eq!(figures.days, 30);
    // DSO 20,000 / 10,000 × 30; BPDSO 8,000 / 10,000 × 30; nothing
    // collected: CEI (10,000 + 10,000 − 20,000) / (20,000 − 8,000) = 0.
    let kpis = &june_kpis.kpis;
    assert_eq!(text(kpis.dso).as_deref(), Some("60.00"));
    assert_eq!(text(kpis.best_possible_dso).as_deref(), Some("24.00"));
    assert_eq!(text(kpis.average_days_delinquent).as_deref(), Some("36.00"));
    assert_eq!(text(kpis.cei).as_deref(), Some("0.00"));

    // K1 paid on 06-10: end AR 10,000; CEI 10,000 / 12,000 = 83.33%.
    pay(&books, "P-1", "K1", "10000.00", "2025-06-10");
    let paid = usd();
    assert_eq!(
        paid.figures.begin_ar.to_string(),
        "10000.00",
        "paid after the opening date"
    );
    assert_eq!(paid.figures.end_ar.to_string(), "10000.00");
    assert_eq!(text(paid.kpis.dso).as_deref(), Some("30.00"));
    assert_eq!(text(paid.kpis.cei).as_deref(), Some("83.33"));
}
