//! Payment intake over HTTP: DOMAIN.md's worked cases 8 and 9, short pays,
//! overpayments, repeated payment ids, bad input that changes nothing,
//! promises to pay kept, and many payments at once for one customer.

use crate::common::*;
use e2e::{ASSOCIATE, App, MANAGER};
use serde_json::{Value, json};

/// Case 8's book: L 40,000; INV-A 4,000 due 05-20, INV-B 6,000 due 06-10,
/// INV-C 8,000 due 07-15; SO-1 12,000 held for the past-due A and B.
fn case_8_book() -> App {
    let app = App::start();
    customer(&app, "C-8", Some("40000.00"));
    invoice(&app, "INV-A", "C-8", "2025-05-20", "4000.00");
    invoice(&app, "INV-B", "C-8", "2025-06-10", "6000.00");
    invoice(&app, "INV-C", "C-8", "2025-07-15", "8000.00");
    let held = decision(&app, "SO-1", "C-8", "12000.00");
    assert_eq!(held["status"], "held");
    assert_eq!(codes(&held), ["PAST_DUE"]);
    app
}

fn open_balance(app: &App, invoice_id: &str) -> Value {
    get_json(app, &format!("/invoices/{invoice_id}"))["open_balance"].clone()
}

#[test]
fn worked_case_8_pays_oldest_first_and_releases_the_held_order() {
    let app = case_8_book();
    let posted = pay(&app, &payment_body("P-1", "C-8", "11000.00"));
    assert_eq!(posted["payment_id"], "P-1");
    assert_eq!(
        posted["allocations"],
        json!([
            {"invoice_id": "INV-A", "amount": "4000.00"},
            {"invoice_id": "INV-B", "amount": "6000.00"},
            {"invoice_id": "INV-C", "amount": "1000.00"},
        ])
    );
    assert_eq!(posted["unapplied"], "0.00");
    assert_eq!(posted["released_orders"], json!(["SO-1"]));
    assert_eq!(posted["still_held"], json!([]));

    assert_eq!(open_balance(&app, "INV-A"), "0.00");
    assert_eq!(open_balance(&app, "INV-C"), "7000.00");
    let order = get_json(&app, "/orders/SO-1");
    assert_eq!(order["status"], "released");
    let recheck = order["decisions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(recheck["trigger"], "payment P-1");
    assert_eq!(recheck["exposure"], "19000.00");
    assert!(held_queue(&app).is_empty());
}

#[test]
fn worked_case_9_overpayment_is_unapplied_cash_that_lowers_exposure() {
    let app = App::start();
    customer(&app, "C-9", Some("10000.00"));
    invoice(&app, "INV-D", "C-9", "2025-06-01", "2500.00");
    let posted = pay(&app, &payment_body("P-9", "C-9", "3000.00"));
    assert_eq!(
        posted["allocations"],
        json!([{"invoice_id": "INV-D", "amount": "2500.00"}])
    );
    assert_eq!(posted["unapplied"], "500.00");
    assert_eq!(open_balance(&app, "INV-D"), "0.00");
    assert_eq!(position(&app, "C-9")["unapplied_cash"], "500.00");

    let order = decision(&app, "SO-9", "C-9", "10400.00");
    assert_eq!(order["status"], "released");
    assert_eq!(order["exposure"], "9900.00");
}

#[test]
fn an_overpayment_settles_every_invoice_and_keeps_the_rest() {
    let app = case_8_book();
    let mut body = payment_body("P-2", "C-8", "20000.00");
    // More than INV-C's balance is named: it gets its balance, no more.
    body["remittance"] = json!([{"invoice_id": "INV-C", "amount": "9000.00"}]);
    let posted = pay(&app, &body);
    assert_eq!(
        posted["allocations"],
        json!([
            {"invoice_id": "INV-C", "amount": "8000.00"},
            {"invoice_id": "INV-A", "amount": "4000.00"},
            {"invoice_id": "INV-B", "amount": "6000.00"},
        ])
    );
    assert_eq!(posted["unapplied"], "2000.00");
    let position = position(&app, "C-8");
    assert_eq!(position["open_balance"], "0.00");
    assert_eq!(position["unapplied_cash"], "2000.00");
    assert_eq!(
        position["exposure"], "10000.00",
        "SO-1 released, less the cash"
    );
}

#[test]
fn a_short_pay_with_a_reason_opens_a_dispute_for_the_residual() {
    let app = case_8_book();
    let mut body = payment_body("P-3", "C-8", "5500.00");
    body["remittance"] = json!([{"invoice_id": "INV-B", "amount": "5500.00"}]);
    body["short_pay_reason"] = json!("DAMAGED");
    let posted = pay(&app, &body);
    assert_eq!(
        posted["short_pays"],
        json!([{"invoice_id": "INV-B", "residual": "500.00"}])
    );
    let opened = &posted["disputes_opened"][0];
    assert_eq!(opened["invoice_id"], "INV-B");
    assert_eq!(opened["amount"], "500.00");
    assert_eq!(opened["reason_code"], "DAMAGED");

    let invoice = get_json(&app, "/invoices/INV-B");
    assert_eq!(invoice["open_balance"], "500.00");
    assert_eq!(invoice["disputed"], "500.00");
    let dispute = get_json(
        &app,
        &format!("/disputes/{}", opened["id"].as_str().unwrap()),
    );
    assert_eq!(dispute["status"], "open");
    assert_eq!(dispute["history"][0]["by"], "erp");
}

#[test]
fn a_payment_shows_its_allocations() {
    let app = case_8_book();
    let mut body = payment_body("P-4", "C-8", "4500.00");
    body["reference"] = json!("wire 7781");
    let posted = as_associate(&app, "POST", "/payments", &body);
    assert_eq!(posted.status, 201, "{}", posted.text());
    let payment = get_json(&app, "/payments/P-4");
    assert_eq!(payment["amount"], "4500.00");
    assert_eq!(payment["reference"], "wire 7781");
    assert_eq!(payment["posted_by"], "alice");
    assert_eq!(
        payment["allocations"],
        json!([
            {"invoice_id": "INV-A", "amount": "4000.00"},
            {"invoice_id": "INV-B", "amount": "500.00"},
        ])
    );
    problem(&app.get_as(ASSOCIATE, "/payments/P-404"), 404);
    problem(&app.get("/payments/P-4"), 401);
}

#[test]
fn the_same_payment_posted_twice_is_applied_once() {
    let app = case_8_book();
    let body = payment_body("P-1", "C-8", "11000.00");
    let first = app.erp("POST", "/payments", &body);
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.header("idempotent-replay"), None);
    // A new delivery (new webhook id) and a person posting it again.
    let again = app.erp("POST", "/payments", &body);
    let by_hand = as_associate(&app, "POST", "/payments", &body);
    for reply in [&again, &by_hand] {
        assert_eq!(reply.status, 201, "{}", reply.text());
        assert_eq!(reply.header("idempotent-replay"), Some("true"));
        assert_eq!(reply.json(), first.json());
    }
    assert_eq!(open_balance(&app, "INV-C"), "7000.00");
    let position = position(&app, "C-8");
    assert_eq!(position["open_balance"], "7000.00");
    assert_eq!(position["unapplied_cash"], "0.00");
    let applied = get_json(&app, "/invoices/INV-A")["payments"].clone();
    assert_eq!(applied.as_array().unwrap().len(), 1);
}

#[test]
fn another_amount_under_a_used_payment_id_is_a_conflict() {
    let app = case_8_book();
    pay(&app, &payment_body("P-1", "C-8", "1000.00"));
    let clash = app.erp("POST", "/payments", &payment_body("P-1", "C-8", "2000.00"));
    let document = problem(&clash, 409);
    assert!(document["detail"].as_str().unwrap().contains("P-1"));
    assert_eq!(open_balance(&app, "INV-A"), "3000.00");
    assert_eq!(get_json(&app, "/payments/P-1")["amount"], "1000.00");
}

/// Nothing was written: no payment P-X, balances and the hold as before.
fn assert_untouched(app: &App) {
    problem(&app.get_as(MANAGER, "/payments/P-X"), 404);
    let position = position(app, "C-8");
    assert_eq!(position["open_balance"], "18000.00");
    assert_eq!(position["unapplied_cash"], "0.00");
    for (id, open) in [
        ("INV-A", "4000.00"),
        ("INV-B", "6000.00"),
        ("INV-C", "8000.00"),
    ] {
        let invoice = get_json(app, &format!("/invoices/{id}"));
        assert_eq!(invoice["open_balance"], open, "{id}");
        assert_eq!(invoice["disputed"], "0.00", "{id}");
    }
    assert_eq!(held_queue(app), ["SO-1"]);
}

fn with_remittance(lines: Value) -> Value {
    let mut body = payment_body("P-X", "C-8", "1000.00");
    body["remittance"] = lines;
    body["short_pay_reason"] = json!("DAMAGED");
    body
}

#[test]
fn remittances_naming_unknown_or_foreign_invoices_are_refused() {
    let app = case_8_book();
    customer(&app, "C-OTHER", Some("100.00"));
    invoice(&app, "INV-X", "C-OTHER", "2025-06-01", "50.00");
    let unknown = app.erp(
        "POST",
        "/payments",
        &with_remittance(json!([
            {"invoice_id": "INV-A", "amount": "100.00"},
            {"invoice_id": "INV-404", "amount": "100.00"},
        ])),
    );
    assert_eq!(problem_fields(&unknown), ["remittance[1].invoice_id"]);
    assert!(unknown.text().contains("INV-404"));
    let foreign = app.erp(
        "POST",
        "/payments",
        &with_remittance(json!([{"invoice_id": "INV-X", "amount": "50.00"}])),
    );
    assert_eq!(problem_fields(&foreign), ["remittance[0].invoice_id"]);
    assert_eq!(open_balance(&app, "INV-X"), "50.00");
    assert_untouched(&app);
}

#[test]
fn remittances_above_the_payment_are_refused() {
    let app = case_8_book();
    let reply = app.erp(
        "POST",
        "/payments",
        &with_remittance(json!([
            {"invoice_id": "INV-A", "amount": "600.00"},
            {"invoice_id": "INV-B", "amount": "600.00"},
        ])),
    );
    assert_eq!(problem_fields(&reply), ["remittance"]);
    assert!(reply.text().contains("1200.00"), "{}", reply.text());
    assert_untouched(&app);
}

#[test]
fn malformed_amounts_and_fields_are_named() {
    let app = case_8_book();
    let cases: [(&str, Value, &str); 6] = [
        ("amount", json!("0.00"), "greater than zero"),
        ("amount", json!("-5.00"), "must not be negative"),
        ("amount", json!("10.001"), "at most 2 decimal places"),
        ("amount", json!(10.5), "expected a string"),
        ("received_on", json!("2025-02-30"), "calendar date"),
        ("method", json!("wire transfer!"), "letters, digits"),
    ];
    for (field, value, expected) in cases {
        let mut body = payment_body("P-X", "C-8", "1000.00");
        body[field] = value.clone();
        let document = problem(&app.erp("POST", "/payments", &body), 422);
        assert_eq!(document["errors"][0]["field"], field, "{value}");
        let message = document["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{value}: {message}");
    }
    let bad_line = app.erp(
        "POST",
        "/payments",
        &with_remittance(json!([{"invoice_id": "INV-A", "amount": "1,000.00"}])),
    );
    assert_eq!(problem_fields(&bad_line), ["remittance[0].amount"]);
    let mut euro = payment_body("P-X", "C-8", "1000.00");
    euro["currency"] = json!("EUR");
    assert_eq!(
        problem_fields(&app.erp("POST", "/payments", &euro)),
        ["currency"]
    );
    let nobody = app.erp("POST", "/payments", &payment_body("P-X", "C-404", "1.00"));
    problem(&nobody, 404);
    assert_untouched(&app);
}

#[test]
fn a_promise_to_pay_is_kept_by_a_payment_in_time() {
    let app = case_8_book();
    let logged = as_associate(
        &app,
        "POST",
        &format!("/customers/C-8/contacts?as_of={AS_OF}"),
        &json!({
            "channel": "call",
            "outcome": "reached AP",
            "note": "will pay the May invoice",
            "contacted_on": "2025-06-25",
            "promise": {"amount": "4000.00", "due_on": "2025-07-05"}
        }),
    );
    assert_eq!(logged.status, 201, "{}", logged.text());
    assert_eq!(logged.json()["promise"]["status"], "open");

    let mut body = payment_body("P-5", "C-8", "4000.00");
    body["received_on"] = json!("2025-07-01");
    pay(&app, &body);
    let log = get_json(&app, "/customers/C-8/contacts?as_of=2025-07-10");
    assert_eq!(log[0]["promise"]["status"], "kept");
    assert_eq!(log[0]["promise"]["paid"], "4000.00");
}

#[test]
fn many_payments_at_once_end_with_exact_balances() {
    let app = App::start();
    customer(&app, "C-50", Some("100000.00"));
    for (id, due_on) in [
        ("INV-1", "2025-04-01"),
        ("INV-2", "2025-05-01"),
        ("INV-3", "2025-06-01"),
        ("INV-4", "2025-07-01"),
    ] {
        invoice(&app, id, "C-50", due_on, "1000.00");
    }
    // Payment i is 100.00 + i cents: 40 of them come to 4,008.20.
    let threads: Vec<_> = (1..=40)
        .map(|i| {
            let client = app.client();
            std::thread::spawn(move || {
                let body = payment_body(&format!("P-{i}"), "C-50", &format!("100.{i:02}"));
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
    for id in ["INV-1", "INV-2", "INV-3", "INV-4"] {
        let invoice = get_json(&app, &format!("/invoices/{id}"));
        assert_eq!(invoice["open_balance"], "0.00", "{id}");
        assert_eq!(invoice["paid"], "1000.00", "{id}");
    }
    let position = position(&app, "C-50");
    assert_eq!(position["open_balance"], "0.00");
    assert_eq!(
        position["unapplied_cash"], "8.20",
        "4,008.20 paid on 4,000.00"
    );
    assert_eq!(position["exposure"], "-8.20");
}

/// Logs a promise to pay for C-8 made on `made_on`.
fn promise(app: &App, made_on: &str, amount: &str, due_on: &str) {
    let logged = as_associate(
        app,
        "POST",
        &format!("/customers/C-8/contacts?as_of={AS_OF}"),
        &json!({
            "channel": "call", "outcome": "reached AP", "note": "will pay",
            "contacted_on": made_on,
            "promise": {"amount": amount, "due_on": due_on}
        }),
    );
    assert_eq!(logged.status, 201, "{}", logged.text());
}

/// (status, paid) of C-8's promises as of a date, oldest first.
fn promises(app: &App, as_of: &str) -> Vec<(String, String)> {
    let log = get_json(app, &format!("/customers/C-8/contacts?as_of={as_of}"));
    let mut promises: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let p = &c["promise"];
            (
                p["status"].as_str().unwrap().into(),
                p["paid"].as_str().unwrap().into(),
            )
        })
        .collect();
    promises.reverse();
    promises
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn one_payment_keeps_only_the_first_of_two_overlapping_promises() {
    let app = case_8_book();
    promise(&app, "2025-06-20", "3000.00", "2025-07-05");
    promise(&app, "2025-06-24", "3000.00", "2025-07-05");
    let mut body = payment_body("P-6", "C-8", "3000.00");
    body["received_on"] = json!("2025-07-01");
    pay(&app, &body);
    assert_eq!(
        promises(&app, "2025-07-10"),
        pairs(&[("kept", "3000.00"), ("broken", "0.00")])
    );
    // As of a date before the payment, neither is kept yet.
    assert_eq!(
        promises(&app, "2025-06-30"),
        pairs(&[("open", "0.00"), ("open", "0.00")])
    );
}

#[test]
fn a_partial_payment_leaves_a_promise_broken_once_its_date_passes() {
    let app = case_8_book();
    promise(&app, "2025-06-20", "3000.00", "2025-07-05");
    let mut body = payment_body("P-7", "C-8", "1000.00");
    body["received_on"] = json!("2025-07-01");
    pay(&app, &body);
    assert_eq!(promises(&app, "2025-07-05"), pairs(&[("open", "1000.00")]));
    assert_eq!(
        promises(&app, "2025-07-06"),
        pairs(&[("broken", "1000.00")])
    );
}

#[test]
fn a_short_pay_without_a_reason_opens_no_dispute() {
    let app = case_8_book();
    let mut body = payment_body("P-8", "C-8", "5500.00");
    body["remittance"] = json!([{"invoice_id": "INV-B", "amount": "5500.00"}]);
    let posted = pay(&app, &body);
    assert_eq!(
        posted["short_pays"],
        json!([{"invoice_id": "INV-B", "residual": "500.00"}])
    );
    assert_eq!(posted["disputes_opened"], json!([]));
    let invoice = get_json(&app, "/invoices/INV-B");
    assert_eq!(invoice["open_balance"], "500.00");
    assert_eq!(invoice["disputed"], "0.00");
    assert_eq!(invoice["disputes"], json!([]));
    assert_eq!(get_json(&app, "/disputes?customer_id=C-8"), json!([]));
}

#[test]
fn paying_a_disputed_invoice_by_name_keeps_disputed_within_the_open_balance() {
    let app = case_8_book();
    open_dispute(&app, "INV-B", "600.00");
    let mut body = payment_body("P-9", "C-8", "5700.00");
    body["remittance"] = json!([{"invoice_id": "INV-B", "amount": "5700.00"}]);
    pay(&app, &body);
    let invoice = get_json(&app, "/invoices/INV-B");
    assert_eq!(invoice["open_balance"], "300.00");
    assert_eq!(invoice["disputed"], "300.00");
    let dispute = get_json(&app, &format!("/disputes/D-1?as_of={AS_OF}"));
    assert_eq!(dispute["amount"], "300.00");
    assert_eq!(dispute["status"], "open");
    let note = dispute["history"].as_array().unwrap().last().unwrap()["note"].clone();
    assert!(note.as_str().unwrap().contains("P-9"), "{note}");
}
