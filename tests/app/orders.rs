//! The order-hold check over HTTP: the decision an order webhook is
//! answered with, the decision history, re-deliveries, releases,
//! cancellations and invoicing, and who may call what. DOMAIN.md's worked
//! cases and the rules behind each answer are tested in credit-core and
//! the ledger (crates/ledger/tests/ledger/orders.rs); here, the routes,
//! roles, statuses and answers. The tests share one host, each on a case-1
//! book of its own.

use std::sync::LazyLock;

use crate::common::*;
use e2e::{ASSOCIATE, App, MANAGER};
use serde_json::json;

static HOST: LazyLock<&App> = LazyLock::new(shared_host);

/// Case 1's book for customer `C-{tag}`: L 50,000; `INV-{tag}` 15,000
/// due 07-10; a released order `SO-{tag}-0` of 5,000.
fn case_1_book(tag: &str) -> &'static App {
    let app = *HOST;
    let customer_id = format!("C-{tag}");
    customer(app, &customer_id, Some("50000.00"));
    invoice(
        app,
        &format!("INV-{tag}"),
        &customer_id,
        "2025-07-10",
        "15000.00",
    );
    let other = decision(app, &format!("SO-{tag}-0"), &customer_id, "5000.00");
    assert_eq!(other["status"], "released");
    app
}

#[test]
fn a_released_order_is_answered_with_its_figures() {
    let app = case_1_book("CASE1");
    let case_1 = decision(app, "SO-CASE1-1", "C-CASE1", "20000.00");
    assert_eq!(case_1["order_id"], "SO-CASE1-1");
    assert_eq!(case_1["status"], "released");
    assert_eq!(case_1["exposure"], "40000.00");
    assert_eq!(case_1["available"], "10000.00");
    assert_eq!(case_1["credit_limit"], "50000.00");
    assert_eq!(case_1["past_due"], "0.00");
    assert_eq!(case_1["reasons"], json!([]));
}

#[test]
fn a_held_order_is_answered_with_every_failing_reason() {
    let app = case_1_book("CASE6");
    invoice(app, "INV-CASE6-0980", "C-CASE6", "2025-06-24", "2000.00");
    let case_6 = decision(app, "SO-CASE6-6", "C-CASE6", "31000.00");
    assert_eq!(case_6["status"], "held");
    assert_eq!(codes(&case_6), ["CREDIT_LIMIT_EXCEEDED", "PAST_DUE"]);
    assert_eq!(case_6["exposure"], "53000.00");
    assert_eq!(case_6["available"], "-3000.00");
    assert_eq!(case_6["reasons"][0]["amount"], "3000.00");
    assert_eq!(case_6["reasons"][1]["amount"], "2000.00");
    assert!(case_6["reasons"][0]["detail"].is_string());
    assert_eq!(case_6["past_due"], "2000.00");
}

#[test]
fn every_decision_is_kept_with_its_inputs() {
    let app = case_1_book("KEPT");
    decision(app, "SO-KEPT-2", "C-KEPT", "31000.00");
    let order = get_json(app, "/orders/SO-KEPT-2");
    assert_eq!(order["status"], "held");
    assert_eq!(order["customer_id"], "C-KEPT");
    assert_eq!(order["amount"], "31000.00");
    let check = &order["decisions"][0];
    assert_eq!(check["kind"], "check");
    assert_eq!(check["by"], "erp");
    assert_eq!(check["status"], "held");
    assert_eq!(check["inputs"]["as_of"], AS_OF);
    assert!(check["decided_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn a_release_and_a_cancellation_are_made_as_of_the_date_given() {
    let app = case_1_book("ASOF");
    decision(app, "SO-ASOF-2", "C-ASOF", "31000.00");
    let released = as_associate(
        app,
        "POST",
        "/orders/SO-ASOF-2/release?as_of=2025-06-28",
        &json!({"note": "director approved"}),
    );
    assert_eq!(released.status, 200, "{}", released.text());
    let cancel = app.erp(
        "POST",
        "/orders/SO-ASOF-2/cancel?as_of=2025-06-29",
        &json!({}),
    );
    assert_eq!(cancel.status, 200, "{}", cancel.text());
    let decisions = get_json(app, "/orders/SO-ASOF-2")["decisions"].clone();
    assert_eq!(decisions[1]["kind"], "manual_release");
    assert_eq!(decisions[1]["inputs"]["as_of"], "2025-06-28");
    assert_eq!(decisions[2]["kind"], "cancel");
    assert_eq!(decisions[2]["inputs"]["previous_status"], "released");
}

#[test]
fn a_webhook_delivered_twice_is_answered_once() {
    let app = case_1_book("TWICE");
    let body = json!({"id": "SO-TWICE-9", "customer_id": "C-TWICE", "amount": "1.00", "currency": "USD", "ordered_on": AS_OF, "as_of": AS_OF});
    let first = app.erp_with_id("POST", "/orders", &body, "msg_orders_replayed");
    let second = app.erp_with_id("POST", "/orders", &body, "msg_orders_replayed");
    assert_eq!(first.status, 200);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("webhook-replay"), Some("true"));
}

#[test]
fn an_associate_releases_a_held_order_with_a_note() {
    let app = case_1_book("NOTE");
    decision(app, "SO-NOTE-2", "C-NOTE", "31000.00");
    assert_eq!(held_queue(app, "C-NOTE"), ["SO-NOTE-2"]);

    let no_note = as_associate(
        app,
        "POST",
        "/orders/SO-NOTE-2/release",
        &json!({"note": "  "}),
    );
    assert_eq!(problem_fields(&no_note), ["note"]);

    let released = as_associate(
        app,
        "POST",
        "/orders/SO-NOTE-2/release",
        &json!({"note": "Customer confirmed payment run on Friday"}),
    );
    assert_eq!(released.status, 200, "{}", released.text());
    let order = released.json();
    assert_eq!(order["status"], "released");
    let release = &order["decisions"][1];
    assert_eq!(release["kind"], "manual_release");
    assert_eq!(release["by"], "alice");
    assert_eq!(release["note"], "Customer confirmed payment run on Friday");
    assert!(held_queue(app, "C-NOTE").is_empty());

    let again = as_associate(
        app,
        "POST",
        "/orders/SO-NOTE-2/release",
        &json!({"note": "again"}),
    );
    problem(&again, 409);
}

#[test]
fn bulk_release_answers_per_order() {
    let app = case_1_book("BULK");
    decision(app, "SO-BULK-2", "C-BULK", "31000.00");
    decision(app, "SO-BULK-3", "C-BULK", "32000.00");
    let reply = as_associate(
        app,
        "POST",
        "/orders/release",
        &json!({"order_ids": ["SO-BULK-2", "SO-BULK-0", "SO-BULK-404", "SO-BULK-3"], "note": "month-end push"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let outcomes: Vec<(String, String)> = reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["order_id"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("SO-BULK-2", "released"),
        ("SO-BULK-0", "not_held"),
        ("SO-BULK-404", "not_found"),
        ("SO-BULK-3", "released"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(outcomes, expected);
    assert!(held_queue(app, "C-BULK").is_empty());
}

#[test]
fn the_order_lists_filter_by_status_and_customer() {
    let app = case_1_book("LIST");
    customer(app, "C-LIST-2", None);
    order_on(app, "SO-LIST-B", "C-LIST", "40000.00", "2025-06-20");
    order_on(app, "SO-LIST-A", "C-LIST", "45000.00", "2025-06-10");
    order_on(app, "SO-LIST-X", "C-LIST-2", "10.00", "2025-06-15");
    assert_eq!(held_queue(app, "C-LIST"), ["SO-LIST-A", "SO-LIST-B"]);
    let only_second = get_json(app, "/orders?status=held&customer_id=C-LIST-2");
    assert_eq!(only_second[0]["order_id"], "SO-LIST-X");
    assert_eq!(only_second[0]["reasons"][0]["code"], "NO_CREDIT_LIMIT");
    assert_eq!(only_second.as_array().unwrap().len(), 1);
    let released = get_json(app, "/orders?status=released&customer_id=C-LIST");
    assert_eq!(released[0]["order_id"], "SO-LIST-0");
    assert_eq!(released.as_array().unwrap().len(), 1);
}

#[test]
fn cancelling_frees_exposure_for_held_orders() {
    let app = case_1_book("CANCEL");
    decision(app, "SO-CANCEL-2", "C-CANCEL", "31000.00");
    let reply = app.erp(
        "POST",
        &format!("/orders/SO-CANCEL-0/cancel?as_of={AS_OF}"),
        &json!({}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["released_orders"], json!(["SO-CANCEL-2"]));
    assert_eq!(get_json(app, "/orders/SO-CANCEL-0")["status"], "cancelled");
    assert!(held_queue(app, "C-CANCEL").is_empty());
    // A cancelled order cannot come back with another amount.
    problem(&order(app, "SO-CANCEL-0", "C-CANCEL", "6000.00"), 409);
}

#[test]
fn an_invoice_for_an_order_moves_it_to_invoiced() {
    let app = case_1_book("BILLED");
    let reply = app.erp(
        "PUT",
        "/invoices/INV-BILLED-2000",
        &json!({"customer_id": "C-BILLED", "order_id": "SO-BILLED-0", "issued_on": AS_OF, "due_on": "2025-07-30", "amount": "5000.00", "currency": "USD"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["order_invoiced"], true);
    assert_eq!(get_json(app, "/orders/SO-BILLED-0")["status"], "invoiced");
}

#[test]
fn an_invoice_for_a_held_order_takes_it_out_of_the_held_queue() {
    let app = case_1_book("HELDBILL");
    decision(app, "SO-HELDBILL-2", "C-HELDBILL", "31000.00");
    assert_eq!(held_queue(app, "C-HELDBILL"), ["SO-HELDBILL-2"]);
    let reply = app.erp(
        "PUT",
        "/invoices/INV-HELDBILL-2002",
        &json!({"customer_id": "C-HELDBILL", "order_id": "SO-HELDBILL-2", "issued_on": AS_OF, "due_on": "2025-07-30", "amount": "31000.00", "currency": "USD"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["order_invoiced"], true);
    assert_eq!(get_json(app, "/orders/SO-HELDBILL-2")["status"], "invoiced");
    assert!(held_queue(app, "C-HELDBILL").is_empty());
}

#[test]
fn a_lower_invoice_amount_rechecks_held_orders() {
    let app = case_1_book("LOWER");
    decision(app, "SO-LOWER-2", "C-LOWER", "31000.00");
    decision(app, "SO-LOWER-3", "C-LOWER", "30500.00");
    let reply = app.erp(
        "PUT",
        &format!("/invoices/INV-LOWER?as_of={AS_OF}"),
        &json!({"customer_id": "C-LOWER", "issued_on": "2025-06-10", "due_on": "2025-07-10", "amount": "14000.00", "currency": "USD"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let put = reply.json();
    assert_eq!(put["released_orders"], json!(["SO-LOWER-2"]));
    assert_eq!(put["still_held"], json!(["SO-LOWER-3"]));
    assert_eq!(put["updated_by"], "erp");
    assert_eq!(held_queue(app, "C-LOWER"), ["SO-LOWER-3"]);
}

#[test]
fn who_may_call_what() {
    let app = case_1_book("WHO");
    let order = json!({"id": "SO-WHO-5", "customer_id": "C-WHO", "amount": "1.00", "currency": "USD", "ordered_on": AS_OF});
    problem(&app.send("GET", "/orders", &[], b""), 401);
    problem(&app.get_as("not-a-token", "/orders"), 401);
    // ERP endpoints take a signed webhook or a manager, not an associate.
    problem(&app.json_as(ASSOCIATE, "POST", "/orders", &order), 403);
    assert_eq!(app.json_as(MANAGER, "POST", "/orders", &order).status, 200);
    let mut tampered = app.erp("POST", "/orders", &order);
    assert_eq!(tampered.status, 200);
    tampered = app.send(
        "POST",
        "/orders",
        &[
            ("content-type", "application/json"),
            ("webhook-id", "msg_forged"),
            ("webhook-timestamp", "1614265330"),
            (
                "webhook-signature",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            ),
        ],
        order.to_string().as_bytes(),
    );
    let refused = problem(&tampered, 401);
    assert!(refused["detail"].as_str().unwrap().contains("webhook"));
}
