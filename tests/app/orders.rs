//! The order-hold check over HTTP: DOMAIN.md's worked cases 1–6 (4–6 each
//! on a fresh case-1 book, as DOMAIN.md states them; case 7 needs a
//! dispute: see disputes.rs), the decision history with its inputs,
//! re-deliveries, releases, cancellations and invoicing.

use crate::common::*;
use e2e::{ASSOCIATE, App, MANAGER};
use serde_json::json;

/// Case 1's book: L 50,000; INV-1001 15,000 due 07-10; a released order of 5,000.
fn case_1_book() -> App {
    let app = App::start();
    customer(&app, "C-100", Some("50000.00"));
    invoice(&app, "INV-1001", "C-100", "2025-07-10", "15000.00");
    let other = decision(&app, "SO-0", "C-100", "5000.00");
    assert_eq!(other["status"], "released");
    app
}

#[test]
fn worked_cases_1_to_3_credit_limit() {
    let app = case_1_book();
    let case_1 = decision(&app, "SO-1", "C-100", "20000.00");
    assert_eq!(case_1["status"], "released");
    assert_eq!(case_1["exposure"], "40000.00");
    assert_eq!(case_1["available"], "10000.00");
    assert_eq!(case_1["credit_limit"], "50000.00");
    assert_eq!(case_1["reasons"], json!([]));

    // Each case on its own: cancel the previous order first.
    let cancel = app.erp("POST", "/orders/SO-1/cancel", &json!({}));
    assert_eq!(cancel.status, 200, "{}", cancel.text());
    let case_2 = decision(&app, "SO-2", "C-100", "31000.00");
    assert_eq!(case_2["status"], "held");
    assert_eq!(codes(&case_2), ["CREDIT_LIMIT_EXCEEDED"]);
    assert_eq!(case_2["exposure"], "51000.00");
    assert_eq!(case_2["reasons"][0]["amount"], "1000.00");

    let case_3 = decision(&app, "SO-3", "C-100", "30000.00");
    assert_eq!(case_3["status"], "released", "E = L passes");
    assert_eq!(case_3["exposure"], "50000.00");
    assert_eq!(case_3["available"], "0.00");
}

#[test]
fn worked_case_4_past_due_within_grace() {
    let app = case_1_book();
    invoice(&app, "INV-0990", "C-100", "2025-06-26", "2000.00");
    let case_4 = decision(&app, "SO-4", "C-100", "20000.00");
    assert_eq!(
        case_4["status"], "released",
        "4 days past due is within grace"
    );
    assert_eq!(case_4["exposure"], "42000.00");
}

#[test]
fn worked_case_5_past_due_beyond_grace() {
    let app = case_1_book();
    invoice(&app, "INV-0980", "C-100", "2025-06-24", "2000.00");
    let case_5 = decision(&app, "SO-5", "C-100", "20000.00");
    assert_eq!(case_5["status"], "held");
    assert_eq!(codes(&case_5), ["PAST_DUE"]);
    assert_eq!(case_5["past_due"], "2000.00");
    assert_eq!(case_5["reasons"][0]["amount"], "2000.00");
    assert_eq!(case_5["exposure"], "42000.00");
    assert_eq!(case_5["available"], "8000.00");
}

#[test]
fn worked_case_6_every_failing_reason() {
    let app = case_1_book();
    invoice(&app, "INV-0980", "C-100", "2025-06-24", "2000.00");
    let case_6 = decision(&app, "SO-6", "C-100", "31000.00");
    assert_eq!(case_6["status"], "held");
    assert_eq!(codes(&case_6), ["CREDIT_LIMIT_EXCEEDED", "PAST_DUE"]);
    assert_eq!(case_6["exposure"], "53000.00");
    assert_eq!(case_6["reasons"][0]["amount"], "3000.00");
    assert_eq!(case_6["past_due"], "2000.00");
}

#[test]
fn every_decision_is_kept_with_its_inputs() {
    let app = case_1_book();
    decision(&app, "SO-2", "C-100", "31000.00");
    let order = get_json(&app, "/orders/SO-2");
    assert_eq!(order["status"], "held");
    assert_eq!(order["customer_id"], "C-100");
    assert_eq!(order["amount"], "31000.00");
    let check = &order["decisions"][0];
    assert_eq!(check["kind"], "check");
    assert_eq!(check["by"], "erp");
    assert_eq!(check["status"], "held");
    assert_eq!(check["inputs"]["open_balance"], "15000.00");
    assert_eq!(check["inputs"]["released_orders_total"], "5000.00");
    assert_eq!(check["inputs"]["as_of"], AS_OF);
    assert!(check["decided_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(check["inputs"]["open_invoices"], 1);
    assert_eq!(
        check["inputs"]["invoices"],
        json!([{"id": "INV-1001", "due_on": "2025-07-10", "open": "15000.00", "disputed": "0.00"}])
    );
}

#[test]
fn a_release_and_a_cancellation_keep_the_figures_they_were_made_on() {
    let app = case_1_book();
    invoice(&app, "INV-0980", "C-100", "2025-06-24", "2000.00");
    decision(&app, "SO-6", "C-100", "31000.00");
    let released = as_associate(
        &app,
        "POST",
        &format!("/orders/SO-6/release?as_of={AS_OF}"),
        &json!({"note": "director approved"}),
    );
    assert_eq!(released.status, 200, "{}", released.text());
    let order = get_json(&app, "/orders/SO-6");
    let release = &order["decisions"][1];
    assert_eq!(release["kind"], "manual_release");
    let inputs = &release["inputs"];
    assert_eq!(inputs["overrides"], order["decisions"][0]["decided_at"]);
    assert_eq!(inputs["as_of"], AS_OF);
    assert_eq!(inputs["exposure"], "53000.00");
    assert_eq!(inputs["credit_limit"], "50000.00");
    assert_eq!(inputs["available"], "-3000.00");
    assert_eq!(inputs["past_due"], "2000.00");
    assert_eq!(inputs["invoices"][0]["id"], "INV-0980");
    assert_eq!(inputs["failing_reasons"][1]["code"], "PAST_DUE");

    let cancel = app.erp(
        "POST",
        &format!("/orders/SO-6/cancel?as_of={AS_OF}"),
        &json!({}),
    );
    assert_eq!(cancel.status, 200, "{}", cancel.text());
    let order = get_json(&app, "/orders/SO-6");
    let cancelled = &order["decisions"][2];
    assert_eq!(cancelled["kind"], "cancel");
    assert_eq!(cancelled["inputs"]["previous_status"], "released");
    assert_eq!(cancelled["inputs"]["order_amount"], "31000.00");
    assert_eq!(cancelled["inputs"]["account_after"]["exposure"], "22000.00");
}

#[test]
fn the_same_order_delivered_again_changes_nothing() {
    let app = case_1_book();
    let first = decision(&app, "SO-1", "C-100", "20000.00");
    let again = decision(&app, "SO-1", "C-100", "20000.00");
    assert_eq!(again, first);
    let order = get_json(&app, "/orders/SO-1");
    assert_eq!(order["decisions"].as_array().unwrap().len(), 1);
}

#[test]
fn a_changed_amount_is_checked_again() {
    let app = case_1_book();
    assert_eq!(
        decision(&app, "SO-1", "C-100", "20000.00")["status"],
        "released"
    );
    let changed = decision(&app, "SO-1", "C-100", "35000.00");
    assert_eq!(changed["status"], "held");
    assert_eq!(
        changed["exposure"], "55000.00",
        "the old amount is not counted twice"
    );
    let order = get_json(&app, "/orders/SO-1");
    assert_eq!(order["decisions"][1]["trigger"], "order changed");
    assert_eq!(held_queue(&app), ["SO-1"]);
}

#[test]
fn a_webhook_delivered_twice_is_answered_once() {
    let app = case_1_book();
    let body = json!({"id": "SO-9", "customer_id": "C-100", "amount": "1.00", "currency": "USD", "ordered_on": AS_OF, "as_of": AS_OF});
    let first = app.erp_with_id("POST", "/orders", &body, "msg_replayed");
    let second = app.erp_with_id("POST", "/orders", &body, "msg_replayed");
    assert_eq!(first.status, 200);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("webhook-replay"), Some("true"));
}

#[test]
fn an_associate_releases_a_held_order_with_a_note() {
    let app = case_1_book();
    decision(&app, "SO-2", "C-100", "31000.00");
    assert_eq!(held_queue(&app), ["SO-2"]);

    let no_note = as_associate(&app, "POST", "/orders/SO-2/release", &json!({"note": "  "}));
    assert_eq!(problem_fields(&no_note), ["note"]);

    let released = as_associate(
        &app,
        "POST",
        "/orders/SO-2/release",
        &json!({"note": "Customer confirmed payment run on Friday"}),
    );
    assert_eq!(released.status, 200, "{}", released.text());
    let order = released.json();
    assert_eq!(order["status"], "released");
    let release = &order["decisions"][1];
    assert_eq!(release["kind"], "manual_release");
    assert_eq!(release["by"], "alice");
    assert_eq!(release["note"], "Customer confirmed payment run on Friday");
    assert!(held_queue(&app).is_empty());

    let again = as_associate(
        &app,
        "POST",
        "/orders/SO-2/release",
        &json!({"note": "again"}),
    );
    problem(&again, 409);
}

#[test]
fn bulk_release_answers_per_order() {
    let app = case_1_book();
    decision(&app, "SO-2", "C-100", "31000.00");
    decision(&app, "SO-3", "C-100", "32000.00");
    let reply = as_associate(
        &app,
        "POST",
        "/orders/release",
        &json!({"order_ids": ["SO-2", "SO-0", "SO-404", "SO-3"], "note": "month-end push"}),
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
        ("SO-2", "released"),
        ("SO-0", "not_held"),
        ("SO-404", "not_found"),
        ("SO-3", "released"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(outcomes, expected);
    assert!(held_queue(&app).is_empty());
}

#[test]
fn the_held_queue_is_oldest_first_and_filters_by_customer() {
    let app = case_1_book();
    customer(&app, "C-200", None);
    order_on(&app, "SO-B", "C-100", "40000.00", "2025-06-20");
    order_on(&app, "SO-A", "C-100", "45000.00", "2025-06-10");
    order_on(&app, "SO-X", "C-200", "10.00", "2025-06-15");
    assert_eq!(held_queue(&app), ["SO-A", "SO-X", "SO-B"]);
    let only_c200 = get_json(&app, "/orders?status=held&customer_id=C-200");
    assert_eq!(only_c200[0]["order_id"], "SO-X");
    assert_eq!(only_c200[0]["reasons"][0]["code"], "NO_CREDIT_LIMIT");
    assert_eq!(only_c200.as_array().unwrap().len(), 1);
    let released = get_json(&app, "/orders?status=released");
    assert_eq!(released[0]["order_id"], "SO-0");
}

#[test]
fn cancelling_frees_exposure_for_held_orders() {
    let app = case_1_book();
    decision(&app, "SO-2", "C-100", "31000.00");
    let reply = app.erp(
        "POST",
        &format!("/orders/SO-0/cancel?as_of={AS_OF}"),
        &json!({}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["released_orders"], json!(["SO-2"]));
    assert_eq!(get_json(&app, "/orders/SO-0")["status"], "cancelled");
    assert!(held_queue(&app).is_empty());
    // A cancelled order cannot come back with another amount.
    problem(&order(&app, "SO-0", "C-100", "6000.00"), 409);
}

#[test]
fn an_invoice_for_an_order_moves_it_to_invoiced() {
    let app = case_1_book();
    let reply = app.erp(
        "PUT",
        "/invoices/INV-2000",
        &json!({"customer_id": "C-100", "order_id": "SO-0", "issued_on": AS_OF, "due_on": "2025-07-30", "amount": "5000.00", "currency": "USD"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["order_invoiced"], true);
    assert_eq!(get_json(&app, "/orders/SO-0")["status"], "invoiced");
    let position = get_json(&app, &format!("/customers/C-100?as_of={AS_OF}"));
    assert_eq!(position["released_orders_total"], "0.00");
    assert_eq!(position["open_balance"], "20000.00");
    assert_eq!(position["exposure"], "20000.00");
}

#[test]
fn an_invoice_for_a_held_order_takes_it_out_of_the_held_queue() {
    let app = case_1_book();
    decision(&app, "SO-2", "C-100", "31000.00");
    assert_eq!(held_queue(&app), ["SO-2"]);
    let reply = app.erp(
        "PUT",
        "/invoices/INV-2002",
        &json!({"customer_id": "C-100", "order_id": "SO-2", "issued_on": AS_OF, "due_on": "2025-07-30", "amount": "31000.00", "currency": "USD"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["order_invoiced"], true);
    let order = get_json(&app, "/orders/SO-2");
    assert_eq!(order["status"], "invoiced");
    assert_eq!(order["held_since"], json!(null));
    let invoiced = order["decisions"].as_array().unwrap().last().unwrap();
    assert_eq!(invoiced["kind"], "invoiced");
    assert_eq!(invoiced["inputs"]["invoice_id"], "INV-2002");
    assert_eq!(invoiced["inputs"]["previous_status"], "held");
    assert!(held_queue(&app).is_empty());
    let position = position(&app, "C-100");
    assert_eq!(position["held_orders"], json!([]));
    assert_eq!(position["open_balance"], "46000.00");
}

#[test]
fn a_lower_invoice_amount_rechecks_held_orders() {
    let app = case_1_book();
    decision(&app, "SO-2", "C-100", "31000.00");
    decision(&app, "SO-3", "C-100", "30500.00");
    assert_eq!(held_queue(&app), ["SO-2", "SO-3"]);
    let reply = app.erp(
        "PUT",
        &format!("/invoices/INV-1001?as_of={AS_OF}"),
        &json!({"customer_id": "C-100", "issued_on": "2025-06-10", "due_on": "2025-07-10", "amount": "14000.00", "currency": "USD"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let put = reply.json();
    assert_eq!(put["released_orders"], json!(["SO-2"]));
    assert_eq!(put["still_held"], json!(["SO-3"]));
    assert_eq!(put["updated_by"], "erp");
    let recheck = get_json(&app, "/orders/SO-2")["decisions"][1].clone();
    assert_eq!(recheck["kind"], "recheck");
    assert_eq!(recheck["trigger"], "invoice INV-1001 amount lowered");
    assert_eq!(recheck["exposure"], "50000.00");
    assert_eq!(held_queue(&app), ["SO-3"]);
}

#[test]
fn who_may_call_what() {
    let app = case_1_book();
    let order = json!({"id": "SO-5", "customer_id": "C-100", "amount": "1.00", "currency": "USD", "ordered_on": AS_OF});
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
