//! Disputes over HTTP: DOMAIN.md's worked case 7, the held orders a dispute
//! or a credit releases, states and their history, service levels, lists,
//! and bad input that changes nothing.

use crate::common::*;
use e2e::{App, MANAGER};
use serde_json::{Value, json};

/// Case 7's book: L 50,000; INV-0971 5,000 due 05-15.
fn case_7_book() -> App {
    let app = App::start();
    customer(&app, "C-7", Some("50000.00"));
    invoice(&app, "INV-0971", "C-7", "2025-05-15", "5000.00");
    app
}

fn patch(app: &App, id: &str, body: Value) -> e2e::Reply {
    as_associate(app, "PATCH", &format!("/disputes/{id}"), &body)
}

/// Moves a dispute on as of the worked cases' date; it must be accepted.
fn move_to(app: &App, id: &str, status: &str) -> Value {
    let reply = patch(app, id, json!({"status": status, "as_of": AS_OF}));
    assert_eq!(
        reply.status,
        200,
        "PATCH {id} to {status}: {}",
        reply.text()
    );
    reply.json()
}

/// (open balance, disputed, credited) of an invoice.
fn balances(app: &App, invoice_id: &str) -> (Value, Value, Value) {
    let invoice = get_json(app, &format!("/invoices/{invoice_id}"));
    (
        invoice["open_balance"].clone(),
        invoice["disputed"].clone(),
        invoice["credited"].clone(),
    )
}

fn untouched_invoice(app: &App) {
    assert_eq!(
        balances(app, "INV-0971"),
        (json!("5000.00"), json!("1200.00"), json!("0.00"))
    );
}

#[test]
fn worked_case_7_the_disputed_part_is_not_past_due_but_stays_in_exposure() {
    let app = case_7_book();
    let opened = open_dispute(&app, "INV-0971", "1200.00");
    assert_eq!(opened["id"], "D-1");
    assert_eq!(opened["status"], "open");
    assert_eq!(opened["opened_on"], AS_OF);
    // Ten business days after Monday 2025-06-30.
    assert_eq!(opened["sla_due_on"], "2025-07-14");
    assert_eq!(opened["sla_status"], "on_track");

    let order = decision(&app, "SO-7", "C-7", "100.00");
    assert_eq!(order["status"], "held");
    assert_eq!(codes(&order), ["PAST_DUE"]);
    assert_eq!(order["past_due"], "3800.00");
    assert_eq!(order["exposure"], "5100.00", "the disputed 1,200 counts");
    let position = position(&app, "C-7");
    assert_eq!(position["past_due"], "3800.00");
    assert_eq!(position["open_balance"], "5000.00");
    let invoice = get_json(&app, "/invoices/INV-0971");
    assert_eq!(invoice["disputes"][0]["id"], "D-1");
    assert_eq!(invoice["disputes"][0]["amount"], "1200.00");
}

#[test]
fn a_dispute_releases_an_order_held_for_the_amount_it_disputes() {
    let app = case_7_book();
    assert_eq!(
        codes(&decision(&app, "SO-1", "C-7", "100.00")),
        ["PAST_DUE"]
    );
    let opened = open_dispute(&app, "INV-0971", "5000.00");
    assert_eq!(opened["released_orders"], json!(["SO-1"]));
    assert_eq!(get_json(&app, "/orders/SO-1")["status"], "released");
    assert!(held_queue(&app).is_empty());
}

#[test]
fn a_credited_dispute_lowers_the_balance_and_releases_an_order() {
    let app = App::start();
    customer(&app, "C-1", Some("10000.00"));
    invoice(&app, "INV-1", "C-1", "2025-07-20", "9000.00");
    open_dispute(&app, "INV-1", "2000.00");
    let held = decision(&app, "SO-1", "C-1", "2500.00");
    assert_eq!(codes(&held), ["CREDIT_LIMIT_EXCEEDED"]);

    let noted = patch(
        &app,
        "D-1",
        json!({"note": "sales confirms the quote was lower"}),
    );
    assert_eq!(noted.status, 200, "{}", noted.text());
    move_to(&app, "D-1", "in_review");
    let resolved = move_to(&app, "D-1", "resolved_credit");
    assert_eq!(resolved["status"], "resolved_credit");
    assert_eq!(resolved["credited"], "2000.00");
    assert_eq!(resolved["closed_on"], AS_OF);
    assert_eq!(resolved["sla_status"], "met");
    assert_eq!(resolved["released_orders"], json!(["SO-1"]));
    assert_eq!(
        balances(&app, "INV-1"),
        (json!("7000.00"), json!("0.00"), json!("2000.00"))
    );
    assert_eq!(get_json(&app, "/orders/SO-1")["status"], "released");

    let dispute = get_json(&app, &format!("/disputes/D-1?as_of={AS_OF}"));
    let history: Vec<(Value, Value, Value)> = dispute["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].clone(), e["to"].clone(), e["by"].clone()))
        .collect();
    assert_eq!(
        history,
        [
            (json!("opened"), json!("open"), json!("alice")),
            (json!("note"), json!("open"), json!("alice")),
            (json!("status_change"), json!("in_review"), json!("alice")),
            (
                json!("status_change"),
                json!("resolved_credit"),
                json!("alice")
            ),
        ]
    );
    assert_eq!(
        dispute["history"][1]["note"],
        "sales confirms the quote was lower"
    );
    assert_eq!(dispute["history"][3]["credit"], "2000.00");
}

#[test]
fn a_partial_credit_and_a_withdrawal() {
    let app = case_7_book();
    open_dispute(&app, "INV-0971", "1200.00");
    open_dispute(&app, "INV-0971", "300.00");
    move_to(&app, "D-1", "in_review");
    let partial = patch(
        &app,
        "D-1",
        json!({"status": "resolved_credit", "credit_amount": "200.00", "as_of": AS_OF}),
    );
    assert_eq!(partial.status, 200, "{}", partial.text());
    let withdrawn = move_to(&app, "D-2", "withdrawn");
    assert_eq!(withdrawn["credited"], Value::Null);
    assert_eq!(
        balances(&app, "INV-0971"),
        (json!("4800.00"), json!("0.00"), json!("200.00"))
    );
    assert_eq!(position(&app, "C-7")["past_due"], "4800.00");
}

#[test]
fn illegal_state_changes_are_conflicts_that_change_nothing() {
    let app = case_7_book();
    open_dispute(&app, "INV-0971", "1200.00");
    let reply = patch(
        &app,
        "D-1",
        json!({"status": "resolved_credit", "note": "skip review"}),
    );
    let document = problem(&reply, 409);
    let detail = document["detail"].as_str().unwrap();
    assert!(detail.contains("from open to resolved_credit"), "{detail}");
    let dispute = get_json(&app, "/disputes/D-1");
    assert_eq!(dispute["status"], "open");
    assert_eq!(dispute["history"].as_array().unwrap().len(), 1);
    untouched_invoice(&app);

    move_to(&app, "D-1", "withdrawn");
    problem(&patch(&app, "D-1", json!({"status": "in_review"})), 409);
    problem(&patch(&app, "D-9", json!({"status": "in_review"})), 404);
}

#[test]
fn disputes_above_the_open_balance_are_refused_with_the_maximum() {
    let app = case_7_book();
    open_dispute(&app, "INV-0971", "1200.00");
    let reply = as_associate(
        &app,
        "POST",
        "/disputes",
        &json!({"invoice_id": "INV-0971", "amount": "3800.01", "reason_code": "PRICING", "note": "x"}),
    );
    let document = problem(&reply, 422);
    assert_eq!(document["errors"][0]["field"], "amount");
    let message = document["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("at most 3800.00"), "{message}");
    problem(&app.get_as(MANAGER, "/disputes/D-2"), 404);
    untouched_invoice(&app);
}

#[test]
fn bad_input_is_named_and_changes_nothing() {
    let app = case_7_book();
    open_dispute(&app, "INV-0971", "1200.00");
    let open = |body: Value| as_associate(&app, "POST", "/disputes", &body);
    let malformed = open(
        json!({"invoice_id": "INV-0971", "amount": "12.345", "reason_code": "bad code", "note": " "}),
    );
    assert_eq!(
        problem_fields(&malformed),
        ["amount", "reason_code", "note"]
    );
    let negative =
        open(json!({"invoice_id": "INV-0971", "amount": "-1.00", "reason_code": "X", "note": "x"}));
    assert_eq!(problem_fields(&negative), ["amount"]);
    let unknown =
        open(json!({"invoice_id": "INV-404", "amount": "1.00", "reason_code": "X", "note": "x"}));
    problem(&unknown, 404);

    move_to(&app, "D-1", "in_review");
    let too_much = patch(
        &app,
        "D-1",
        json!({"status": "resolved_credit", "credit_amount": "1200.01"}),
    );
    assert_eq!(problem_fields(&too_much), ["credit_amount"]);
    let unknown_status = patch(&app, "D-1", json!({"status": "closed"}));
    assert_eq!(problem_fields(&unknown_status), ["status"]);
    let stray_credit = patch(&app, "D-1", json!({"note": "x", "credit_amount": "1.00"}));
    assert_eq!(problem_fields(&stray_credit), ["credit_amount"]);
    assert_eq!(problem_fields(&patch(&app, "D-1", json!({}))), ["status"]);

    let dispute = get_json(&app, "/disputes/D-1");
    assert_eq!(dispute["status"], "in_review");
    assert_eq!(dispute["history"].as_array().unwrap().len(), 2);
    untouched_invoice(&app);
    problem(&app.get_as(MANAGER, "/disputes/D-2"), 404);
}

#[test]
fn lists_filter_by_status_and_customer_with_service_levels() {
    let app = case_7_book();
    customer(&app, "C-2", Some("100.00"));
    invoice(&app, "INV-2", "C-2", "2025-06-01", "100.00");
    open_dispute(&app, "INV-0971", "100.00");
    open_dispute(&app, "INV-0971", "200.00");
    open_dispute(&app, "INV-2", "50.00");
    move_to(&app, "D-2", "in_review");
    let ids = |query: &str| -> Vec<String> {
        get_json(&app, &format!("/disputes?{query}"))
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids("status=open"), ["D-1", "D-3"]);
    assert_eq!(ids("status=active&customer_id=C-7"), ["D-1", "D-2"]);
    assert_eq!(ids("status=in_review"), ["D-2"]);
    assert_eq!(ids(""), ["D-1", "D-2", "D-3"]);

    let late = get_json(&app, "/disputes?status=open&as_of=2025-07-15");
    assert_eq!(late[0]["sla_status"], "breached");
    let near = get_json(&app, "/disputes?status=open&as_of=2025-07-10");
    assert_eq!(near[0]["sla_status"], "at_risk");
    problem(&app.get_as(MANAGER, "/disputes?status=lost"), 422);
}

#[test]
fn only_people_may_work_disputes() {
    let app = case_7_book();
    let body = json!({"invoice_id": "INV-0971", "amount": "1.00", "reason_code": "X", "note": "x"});
    problem(&app.erp("POST", "/disputes", &body), 401);
    problem(&app.get("/disputes"), 401);
    problem(&app.send("DELETE", "/disputes/D-1", &[], b""), 405);
    assert_eq!(as_manager(&app, "POST", "/disputes", &body).status, 201);
}

#[test]
fn a_per_reason_service_level_in_the_policy_sets_the_due_date() {
    let app = case_7_book();
    let policy = json!({"grace_days": 5, "past_due_tolerance": "0.00", "hold_when_no_limit": true, "dispute_sla_business_days": 10, "dispute_sla_by_reason": {"PRICING": 3}});
    let saved = as_manager(&app, "PUT", "/policy", &policy);
    assert_eq!(saved.status, 200, "{}", saved.text());
    // PRICING: 3 business days after Monday 2025-06-30.
    let pricing = open_dispute(&app, "INV-0971", "100.00");
    assert_eq!(pricing["sla_due_on"], "2025-07-03");
    // Any other reason: the policy's 10.
    let reply = as_associate(
        &app,
        "POST",
        "/disputes",
        &json!({"invoice_id": "INV-0971", "amount": "100.00", "reason_code": "DAMAGED", "note": "broken on arrival", "as_of": AS_OF}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["sla_due_on"], "2025-07-14");
}
