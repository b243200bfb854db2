//! Payment intake over HTTP: what posting a payment answers and shows, a
//! short pay's dispute, the same payment posted twice, refusals named by
//! field, and many payments at once for one customer. Allocation, unapplied
//! cash, re-checks and promises to pay are the ledger's rules, tested in
//! crates/ledger/tests/ledger/payments.rs. The tests share one host, each
//! on a case-8 book of its own.

use std::sync::LazyLock;

use crate::common::*;
use e2e::{ASSOCIATE, App, MANAGER};
use serde_json::{Value, json};

static HOST: LazyLock<&App> = LazyLock::new(shared_host);

/// Case 8's book for customer `C-{tag}`: L 40,000; `INV-{tag}-A` 4,000
/// due 05-20, `-B` 6,000 due 06-10, `-C` 8,000 due 07-15; `SO-{tag}-1`
/// 12,000 held for the past-due A and B.
fn case_8_book(tag: &str) -> &'static App {
    let app = *HOST;
    let customer_id = format!("C-{tag}");
    customer(app, &customer_id, Some("40000.00"));
    for (letter, due_on, amount) in [
        ("A", "2025-05-20", "4000.00"),
        ("B", "2025-06-10", "6000.00"),
        ("C", "2025-07-15", "8000.00"),
    ] {
        invoice(
            app,
            &format!("INV-{tag}-{letter}"),
            &customer_id,
            due_on,
            amount,
        );
    }
    let held = decision(app, &format!("SO-{tag}-1"), &customer_id, "12000.00");
    assert_eq!(held["status"], "held");
    assert_eq!(codes(&held), ["PAST_DUE"]);
    app
}

fn open_balance(app: &App, invoice_id: &str) -> Value {
    get_json(app, &format!("/invoices/{invoice_id}"))["open_balance"].clone()
}

#[test]
fn worked_case_8_is_answered_with_its_allocations_and_the_orders_released() {
    let app = case_8_book("CASE8");
    let posted = pay(app, &payment_body("P-CASE8-1", "C-CASE8", "11000.00"));
    assert_eq!(posted["payment_id"], "P-CASE8-1");
    assert_eq!(
        posted["allocations"],
        json!([
            {"invoice_id": "INV-CASE8-A", "amount": "4000.00"},
            {"invoice_id": "INV-CASE8-B", "amount": "6000.00"},
            {"invoice_id": "INV-CASE8-C", "amount": "1000.00"},
        ])
    );
    assert_eq!(posted["unapplied"], "0.00");
    assert_eq!(posted["released_orders"], json!(["SO-CASE8-1"]));
    assert_eq!(posted["still_held"], json!([]));

    assert_eq!(open_balance(app, "INV-CASE8-A"), "0.00");
    assert_eq!(open_balance(app, "INV-CASE8-C"), "7000.00");
    assert_eq!(get_json(app, "/orders/SO-CASE8-1")["status"], "released");
    assert!(held_queue(app, "C-CASE8").is_empty());
}

#[test]
fn a_short_pay_with_a_reason_opens_a_dispute_for_the_residual() {
    let app = case_8_book("SHORT");
    let mut body = payment_body("P-SHORT-3", "C-SHORT", "5500.00");
    body["remittance"] = json!([{"invoice_id": "INV-SHORT-B", "amount": "5500.00"}]);
    body["short_pay_reason"] = json!("DAMAGED");
    let posted = pay(app, &body);
    assert_eq!(
        posted["short_pays"],
        json!([{"invoice_id": "INV-SHORT-B", "residual": "500.00"}])
    );
    let opened = &posted["disputes_opened"][0];
    assert_eq!(opened["invoice_id"], "INV-SHORT-B");
    assert_eq!(opened["amount"], "500.00");
    assert_eq!(opened["reason_code"], "DAMAGED");

    let dispute = get_json(
        app,
        &format!("/disputes/{}", opened["id"].as_str().unwrap()),
    );
    assert_eq!(dispute["status"], "open");
    assert_eq!(dispute["history"][0]["by"], "erp");
}

#[test]
fn a_payment_shows_its_allocations() {
    let app = case_8_book("SHOW");
    let mut body = payment_body("P-SHOW-4", "C-SHOW", "4500.00");
    body["reference"] = json!("wire 7781");
    let posted = as_associate(app, "POST", "/payments", &body);
    assert_eq!(posted.status, 201, "{}", posted.text());
    let payment = get_json(app, "/payments/P-SHOW-4");
    assert_eq!(payment["amount"], "4500.00");
    assert_eq!(payment["reference"], "wire 7781");
    assert_eq!(payment["posted_by"], "alice");
    assert_eq!(
        payment["allocations"],
        json!([
            {"invoice_id": "INV-SHOW-A", "amount": "4000.00"},
            {"invoice_id": "INV-SHOW-B", "amount": "500.00"},
        ])
    );
    problem(&app.get_as(ASSOCIATE, "/payments/P-SHOW-404"), 404);
    problem(&app.get("/payments/P-SHOW-4"), 401);
}

#[test]
fn the_same_payment_posted_twice_is_applied_once() {
    let app = case_8_book("AGAIN");
    let body = payment_body("P-AGAIN-1", "C-AGAIN", "11000.00");
    let first = app.erp("POST", "/payments", &body);
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.header("idempotent-replay"), None);
    // A new delivery (new webhook id) and a person posting it again.
    let again = app.erp("POST", "/payments", &body);
    let by_hand = as_associate(app, "POST", "/payments", &body);
    for reply in [&again, &by_hand] {
        assert_eq!(reply.status, 201, "{}", reply.text());
        assert_eq!(reply.header("idempotent-replay"), Some("true"));
        assert_eq!(reply.json(), first.json());
    }
    assert_eq!(open_balance(app, "INV-AGAIN-C"), "7000.00");
    let applied = get_json(app, "/invoices/INV-AGAIN-A")["payments"].clone();
    assert_eq!(applied.as_array().unwrap().len(), 1);
}

#[test]
fn another_amount_under_a_used_payment_id_is_a_conflict() {
    let app = case_8_book("CLASH");
    pay(app, &payment_body("P-CLASH-1", "C-CLASH", "1000.00"));
    let clash = app.erp(
        "POST",
        "/payments",
        &payment_body("P-CLASH-1", "C-CLASH", "2000.00"),
    );
    let document = problem(&clash, 409);
    assert!(document["detail"].as_str().unwrap().contains("P-CLASH-1"));
    assert_eq!(get_json(app, "/payments/P-CLASH-1")["amount"], "1000.00");
}

/// Nothing was written: no payment P-X of `tag`, and the hold as before.
fn assert_untouched(app: &App, tag: &str) {
    problem(&app.get_as(MANAGER, &format!("/payments/P-{tag}-X")), 404);
    assert_eq!(open_balance(app, &format!("INV-{tag}-A")), "4000.00");
    assert_eq!(
        held_queue(app, &format!("C-{tag}")),
        [format!("SO-{tag}-1")]
    );
}

fn with_remittance(tag: &str, lines: Value) -> Value {
    let mut body = payment_body(&format!("P-{tag}-X"), &format!("C-{tag}"), "1000.00");
    body["remittance"] = lines;
    body["short_pay_reason"] = json!("DAMAGED");
    body
}

#[test]
fn refused_remittances_name_the_line_at_fault() {
    let app = case_8_book("REMIT");
    customer(app, "C-REMIT-OTHER", Some("100.00"));
    invoice(app, "INV-REMIT-X", "C-REMIT-OTHER", "2025-06-01", "50.00");
    let unknown = app.erp(
        "POST",
        "/payments",
        &with_remittance(
            "REMIT",
            json!([
                {"invoice_id": "INV-REMIT-A", "amount": "100.00"},
                {"invoice_id": "INV-REMIT-404", "amount": "100.00"},
            ]),
        ),
    );
    assert_eq!(problem_fields(&unknown), ["remittance[1].invoice_id"]);
    assert!(unknown.text().contains("INV-REMIT-404"));
    let foreign = app.erp(
        "POST",
        "/payments",
        &with_remittance(
            "REMIT",
            json!([{"invoice_id": "INV-REMIT-X", "amount": "50.00"}]),
        ),
    );
    assert_eq!(problem_fields(&foreign), ["remittance[0].invoice_id"]);
    let above = app.erp(
        "POST",
        "/payments",
        &with_remittance(
            "REMIT",
            json!([
                {"invoice_id": "INV-REMIT-A", "amount": "600.00"},
                {"invoice_id": "INV-REMIT-B", "amount": "600.00"},
            ]),
        ),
    );
    assert_eq!(problem_fields(&above), ["remittance"]);
    assert!(above.text().contains("1200.00"), "{}", above.text());
    assert_eq!(open_balance(app, "INV-REMIT-X"), "50.00");
    assert_untouched(app, "REMIT");
}

#[test]
fn malformed_amounts_and_fields_are_named() {
    let app = case_8_book("BAD");
    let cases: [(&str, Value, &str); 6] = [
        ("amount", json!("0.00"), "greater than zero"),
        ("amount", json!("-5.00"), "must not be negative"),
        ("amount", json!("10.001"), "at most 2 decimal places"),
        ("amount", json!(10.5), "expected a string"),
        ("received_on", json!("2025-02-30"), "calendar date"),
        ("method", json!("wire transfer!"), "letters, digits"),
    ];
    for (field, value, expected) in cases {
        let mut body = payment_body("P-BAD-X", "C-BAD", "1000.00");
        body[field] = value.clone();
        let document = problem(&app.erp("POST", "/payments", &body), 422);
        assert_eq!(document["errors"][0]["field"], field, "{value}");
        let message = document["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{value}: {message}");
    }
    let bad_line = app.erp(
        "POST",
        "/payments",
        &with_remittance(
            "BAD",
            json!([{"invoice_id": "INV-BAD-A", "amount": "1,000.00"}]),
        ),
    );
    assert_eq!(problem_fields(&bad_line), ["remittance[0].amount"]);
    let mut euro = payment_body("P-BAD-X", "C-BAD", "1000.00");
    euro["currency"] = json!("EUR");
    assert_eq!(
        problem_fields(&app.erp("POST", "/payments", &euro)),
        ["currency"]
    );
    let nobody = app.erp(
        "POST",
        "/payments",
        &payment_body("P-BAD-X", "C-BAD-404", "1.00"),
    );
    problem(&nobody, 404);
    assert_untouched(app, "BAD");
}

#[test]
fn many_payments_at_once_end_with_exact_balances() {
    let app = *HOST;
    customer(app, "C-MANY", Some("100000.00"));
    for (id, due_on) in [
        ("INV-MANY-1", "2025-04-01"),
        ("INV-MANY-2", "2025-05-01"),
        ("INV-MANY-3", "2025-06-01"),
        ("INV-MANY-4", "2025-07-01"),
    ] {
        invoice(app, id, "C-MANY", due_on, "1000.00");
    }
    // Payment i is 100.00 + i cents: 40 of them come to 4,008.20.
    let threads: Vec<_> = (1..=40)
        .map(|i| {
            let client = app.client();
            std::thread::spawn(move || {
                let body = payment_body(&format!("P-MANY-{i}"), "C-MANY", &format!("100.{i:02}"));
                let auth = format!("Bearer {ASSOCIATE}");
                let headers = [
                    ("authorization", auth.as_str()),
                    ("content-type", "application/json"),
                ];
                let bytes = body.to_string().into_bytes();
                let first = client.send("POST", "/payments", &headers, &bytes);
                let again = client.send("POST", "/payments", &headers, &bytes);
                (first, again)
            })
        })
        .collect();
    for thread in threads {
        let (first, again) = thread.join().unwrap();
        assert_eq!(first.status, 201, "{}", first.text());
        assert_eq!(first.header("idempotent-replay"), None);
        assert_eq!(again.header("idempotent-replay"), Some("true"));
        assert_eq!(again.body, first.body);
    }
    for id in ["INV-MANY-1", "INV-MANY-2", "INV-MANY-3", "INV-MANY-4"] {
        let invoice = get_json(app, &format!("/invoices/{id}"));
        assert_eq!(invoice["open_balance"], "0.00", "{id}");
        assert_eq!(invoice["paid"], "1000.00", "{id}");
    }
    let position = position(app, "C-MANY");
    assert_eq!(position["open_balance"], "0.00");
    assert_eq!(
        position["unapplied_cash"], "8.20",
        "4,008.20 paid on 4,000.00"
    );
    assert_eq!(position["exposure"], "-8.20");
}
