//! Disputes over HTTP: what opening and moving a dispute answers, its
//! history, lists by status, customer and date, refusals named by field,
//! and who may work them. Worked case 7 and the rules (the open balance,
//! service levels, state changes, credits, releases) are the ledger's,
//! tested in crates/ledger/tests/ledger/disputes.rs. The tests share one
//! host, each on a case-7 book of its own, but for the one that changes
//! the policy.

use std::sync::LazyLock;

use crate::common::*;
use e2e::{App, MANAGER};
use serde_json::{Value, json};

static HOST: LazyLock<&App> = LazyLock::new(shared_host);

/// Case 7's book for customer `C-{tag}`: L 50,000; `INV-{tag}` 5,000 due
/// 05-15.
fn case_7_book(app: &App, tag: &str) {
    customer(app, &format!("C-{tag}"), Some("50000.00"));
    invoice(
        app,
        &format!("INV-{tag}"),
        &format!("C-{tag}"),
        "2025-05-15",
        "5000.00",
    );
}

/// Opens a dispute on `invoice_id`; its id.
fn opened(app: &App, invoice_id: &str, amount: &str) -> String {
    let dispute = open_dispute(app, invoice_id, amount);
    dispute["id"].as_str().expect("id").to_string()
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

fn untouched_invoice(app: &App, invoice_id: &str) {
    assert_eq!(
        balances(app, invoice_id),
        (json!("5000.00"), json!("1200.00"), json!("0.00"))
    );
}

#[test]
fn an_opened_dispute_is_answered_and_shown_on_its_invoice() {
    let app = *HOST;
    case_7_book(app, "CASE7");
    let opened = open_dispute(app, "INV-CASE7", "1200.00");
    let id = opened["id"].as_str().unwrap();
    assert!(id.starts_with("D-"), "{id}");
    assert_eq!(opened["invoice_id"], "INV-CASE7");
    assert_eq!(opened["customer_id"], "C-CASE7");
    assert_eq!(opened["amount"], "1200.00");
    assert_eq!(opened["status"], "open");
    assert_eq!(opened["opened_on"], AS_OF);
    assert_eq!(opened["sla_due_on"], "2025-07-14");
    assert_eq!(opened["sla_status"], "on_track");
    assert_eq!(opened["released_orders"], json!([]));

    let invoice = get_json(app, "/invoices/INV-CASE7");
    assert_eq!(invoice["disputed"], "1200.00");
    assert_eq!(invoice["disputes"][0]["id"], id);
    assert_eq!(invoice["disputes"][0]["amount"], "1200.00");
}

#[test]
fn a_dispute_answers_with_the_orders_it_releases() {
    let app = *HOST;
    case_7_book(app, "FREE");
    assert_eq!(
        codes(&decision(app, "SO-FREE-1", "C-FREE", "100.00")),
        ["PAST_DUE"]
    );
    let opened = open_dispute(app, "INV-FREE", "5000.00");
    assert_eq!(opened["released_orders"], json!(["SO-FREE-1"]));
    assert!(held_queue(app, "C-FREE").is_empty());
}

#[test]
fn a_dispute_moved_to_a_credit_answers_and_keeps_its_history() {
    let app = *HOST;
    customer(app, "C-CREDIT", Some("10000.00"));
    invoice(app, "INV-CREDIT", "C-CREDIT", "2025-07-20", "9000.00");
    let id = opened(app, "INV-CREDIT", "2000.00");
    let held = decision(app, "SO-CREDIT-1", "C-CREDIT", "2500.00");
    assert_eq!(codes(&held), ["CREDIT_LIMIT_EXCEEDED"]);

    let noted = patch(
        app,
        &id,
        json!({"note": "sales confirms the quote was lower"}),
    );
    assert_eq!(noted.status, 200, "{}", noted.text());
    move_to(app, &id, "in_review");
    let resolved = move_to(app, &id, "resolved_credit");
    assert_eq!(resolved["status"], "resolved_credit");
    assert_eq!(resolved["credited"], "2000.00");
    assert_eq!(resolved["closed_on"], AS_OF);
    assert_eq!(resolved["sla_status"], "met");
    assert_eq!(resolved["released_orders"], json!(["SO-CREDIT-1"]));
    assert_eq!(
        balances(app, "INV-CREDIT"),
        (json!("7000.00"), json!("0.00"), json!("2000.00"))
    );

    let dispute = get_json(app, &format!("/disputes/{id}?as_of={AS_OF}"));
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
    let app = *HOST;
    case_7_book(app, "PART");
    let first = opened(app, "INV-PART", "1200.00");
    let second = opened(app, "INV-PART", "300.00");
    move_to(app, &first, "in_review");
    let partial = patch(
        app,
        &first,
        json!({"status": "resolved_credit", "credit_amount": "200.00", "as_of": AS_OF}),
    );
    assert_eq!(partial.status, 200, "{}", partial.text());
    assert_eq!(partial.json()["credited"], "200.00");
    let withdrawn = move_to(app, &second, "withdrawn");
    assert_eq!(withdrawn["credited"], Value::Null);
    assert_eq!(
        balances(app, "INV-PART"),
        (json!("4800.00"), json!("0.00"), json!("200.00"))
    );
}

#[test]
fn illegal_state_changes_are_conflicts_that_change_nothing() {
    let app = *HOST;
    case_7_book(app, "ILLEGAL");
    let id = opened(app, "INV-ILLEGAL", "1200.00");
    let reply = patch(
        app,
        &id,
        json!({"status": "resolved_credit", "note": "skip review"}),
    );
    let document = problem(&reply, 409);
    let detail = document["detail"].as_str().unwrap();
    assert!(detail.contains("from open to resolved_credit"), "{detail}");
    let dispute = get_json(app, &format!("/disputes/{id}"));
    assert_eq!(dispute["status"], "open");
    assert_eq!(dispute["history"].as_array().unwrap().len(), 1);
    untouched_invoice(app, "INV-ILLEGAL");

    move_to(app, &id, "withdrawn");
    problem(&patch(app, &id, json!({"status": "in_review"})), 409);
    problem(&patch(app, "D-999999", json!({"status": "in_review"})), 404);
}

#[test]
fn disputes_above_the_open_balance_are_refused_with_the_maximum() {
    let app = *HOST;
    case_7_book(app, "ABOVE");
    opened(app, "INV-ABOVE", "1200.00");
    let reply = as_associate(
        app,
        "POST",
        "/disputes",
        &json!({"invoice_id": "INV-ABOVE", "amount": "3800.01", "reason_code": "PRICING", "note": "x"}),
    );
    let document = problem(&reply, 422);
    assert_eq!(document["errors"][0]["field"], "amount");
    let message = document["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("at most 3800.00"), "{message}");
    untouched_invoice(app, "INV-ABOVE");
}

#[test]
fn bad_input_is_named_and_changes_nothing() {
    let app = *HOST;
    case_7_book(app, "BAD");
    let id = opened(app, "INV-BAD", "1200.00");
    let open = |body: Value| as_associate(app, "POST", "/disputes", &body);
    let malformed = open(
        json!({"invoice_id": "INV-BAD", "amount": "12.345", "reason_code": "bad code", "note": " "}),
    );
    assert_eq!(
        problem_fields(&malformed),
        ["amount", "reason_code", "note"]
    );
    let negative =
        open(json!({"invoice_id": "INV-BAD", "amount": "-1.00", "reason_code": "X", "note": "x"}));
    assert_eq!(problem_fields(&negative), ["amount"]);
    let unknown = open(
        json!({"invoice_id": "INV-BAD-404", "amount": "1.00", "reason_code": "X", "note": "x"}),
    );
    problem(&unknown, 404);

    move_to(app, &id, "in_review");
    let too_much = patch(
        app,
        &id,
        json!({"status": "resolved_credit", "credit_amount": "1200.01"}),
    );
    assert_eq!(problem_fields(&too_much), ["credit_amount"]);
    let unknown_status = patch(app, &id, json!({"status": "closed"}));
    assert_eq!(problem_fields(&unknown_status), ["status"]);
    let stray_credit = patch(app, &id, json!({"note": "x", "credit_amount": "1.00"}));
    assert_eq!(problem_fields(&stray_credit), ["credit_amount"]);
    assert_eq!(problem_fields(&patch(app, &id, json!({}))), ["status"]);

    let dispute = get_json(app, &format!("/disputes/{id}"));
    assert_eq!(dispute["status"], "in_review");
    assert_eq!(dispute["history"].as_array().unwrap().len(), 2);
    untouched_invoice(app, "INV-BAD");
    let listed = get_json(app, "/disputes?customer_id=C-BAD");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

#[test]
fn lists_filter_by_status_customer_and_date() {
    let app = *HOST;
    case_7_book(app, "LIST");
    customer(app, "C-LIST-2", Some("100.00"));
    invoice(app, "INV-LIST-2", "C-LIST-2", "2025-06-01", "100.00");
    let first = opened(app, "INV-LIST", "100.00");
    let second = opened(app, "INV-LIST", "200.00");
    let other = opened(app, "INV-LIST-2", "50.00");
    move_to(app, &second, "in_review");
    let ids = |query: &str| -> Vec<String> {
        get_json(app, &format!("/disputes?{query}"))
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids("status=open&customer_id=C-LIST"), vec![first.clone()]);
    assert_eq!(ids("status=open&customer_id=C-LIST-2"), vec![other.clone()]);
    assert_eq!(
        ids("status=active&customer_id=C-LIST"),
        [first.clone(), second.clone()]
    );
    assert_eq!(
        ids("status=in_review&customer_id=C-LIST"),
        vec![second.clone()]
    );
    assert_eq!(ids("customer_id=C-LIST"), [first, second]);

    let late = get_json(app, "/disputes?customer_id=C-LIST-2&as_of=2025-07-15");
    assert_eq!(late[0]["sla_status"], "breached");
    let near = get_json(app, "/disputes?customer_id=C-LIST-2&as_of=2025-07-10");
    assert_eq!(near[0]["sla_status"], "at_risk");
    problem(&app.get_as(MANAGER, "/disputes?status=lost"), 422);
}

#[test]
fn only_people_may_work_disputes() {
    let app = *HOST;
    case_7_book(app, "WHO");
    let body = json!({"invoice_id": "INV-WHO", "amount": "1.00", "reason_code": "X", "note": "x"});
    problem(&app.erp("POST", "/disputes", &body), 401);
    problem(&app.get("/disputes"), 401);
    problem(&app.send("DELETE", "/disputes/D-1", &[], b""), 405);
    assert_eq!(as_manager(app, "POST", "/disputes", &body).status, 201);
}

/// The policy is read by every component: a host of its own.
#[test]
fn a_per_reason_service_level_in_the_policy_sets_the_due_date() {
    let app = &App::start();
    case_7_book(app, "POLICY");
    let policy = json!({"grace_days": 5, "past_due_tolerance": "0.00", "hold_when_no_limit": true, "dispute_sla_business_days": 10, "dispute_sla_by_reason": {"PRICING": 3}});
    let saved = as_manager(app, "PUT", "/policy", &policy);
    assert_eq!(saved.status, 200, "{}", saved.text());
    // PRICING: 3 business days after Monday 2025-06-30.
    let pricing = open_dispute(app, "INV-POLICY", "100.00");
    assert_eq!(pricing["sla_due_on"], "2025-07-03");
    // Any other reason: the policy's 10.
    let reply = as_associate(
        app,
        "POST",
        "/disputes",
        &json!({"invoice_id": "INV-POLICY", "amount": "100.00", "reason_code": "DAMAGED", "note": "broken on arrival", "as_of": AS_OF}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["sla_due_on"], "2025-07-14");
}
