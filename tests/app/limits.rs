//! Credit-limit requests over HTTP (R4): what asking and deciding answer,
//! who may decide, refusals named by field, lists and a limit set
//! directly. Worked case 10 and the rules (the lowest limit allowed, one
//! decision, one pending request, the re-check) are the ledger's, tested
//! in crates/ledger/tests/ledger/limits.rs. The tests share one host, each
//! on a case-10 book of its own.

use std::sync::LazyLock;

use crate::common::*;
use e2e::{ASSOCIATE, App, MANAGER, Reply};
use serde_json::{Value, json};

static HOST: LazyLock<&App> = LazyLock::new(shared_host);

/// Another manager, and another associate.
const MIKE: &str = "tok-mike";
const BOB: &str = "tok-bob";

/// Case 10 for customer `C-{tag}`: L 20,000; AR 16,000 current;
/// `SO-{tag}-10` 5,000 (06-20) and `SO-{tag}-11` 6,000 (06-22) held.
fn case_10_book(tag: &str) -> &'static App {
    let app = *HOST;
    let customer_id = format!("C-{tag}");
    customer(app, &customer_id, Some("20000.00"));
    invoice(
        app,
        &format!("AR-{tag}"),
        &customer_id,
        "2025-07-30",
        "16000.00",
    );
    // Delivered newest first: the re-check must go by order date.
    for (number, amount, ordered_on) in [
        ("11", "6000.00", "2025-06-22"),
        ("10", "5000.00", "2025-06-20"),
    ] {
        let reply = order_on(
            app,
            &format!("SO-{tag}-{number}"),
            &customer_id,
            amount,
            ordered_on,
        );
        assert_eq!(reply.json()["status"], "held", "{}", reply.text());
    }
    app
}

fn ask(app: &App, token: &str, customer_id: &str, limit: &str) -> Reply {
    let body = json!({
        "customer_id": customer_id,
        "requested_limit": limit,
        "reason": "Seasonal volume; paid on time for two years",
    });
    app.json_as(token, "POST", "/credit-limit-requests", &body)
}

/// A request that must be accepted; its id.
fn asked(app: &App, token: &str, customer_id: &str, limit: &str) -> String {
    let reply = ask(app, token, customer_id, limit);
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()["id"].as_str().expect("id").to_string()
}

fn decide(app: &App, token: &str, id: &str, body: &Value) -> Reply {
    let path = format!("/credit-limit-requests/{id}/decision");
    app.json_as(token, "POST", &path, body)
}

fn approval(limit: Option<&str>) -> Value {
    json!({
        "decision": "approve",
        "approved_limit": limit,
        "note": "Reviewed the payment history",
        "as_of": AS_OF,
    })
}

fn rejection() -> Value {
    json!({"decision": "reject", "note": "Too much past due elsewhere", "as_of": AS_OF})
}

fn status_of(app: &App, id: &str) -> Value {
    get_json(app, &format!("/credit-limit-requests/{id}"))["status"].clone()
}

#[test]
fn worked_case_10_asked_then_approved_for_less() {
    let app = case_10_book("CASE10");
    let reply = ask(app, ASSOCIATE, "C-CASE10", "30000.00");
    assert_eq!(reply.status, 201, "{}", reply.text());
    let request = reply.json();
    let id = request["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("CLR-"), "{id}");
    assert_eq!(request["status"], "pending");
    assert_eq!(request["customer_id"], "C-CASE10");
    assert_eq!(request["current_limit"], "20000.00");
    assert_eq!(request["requested_limit"], "30000.00");
    assert_eq!(
        request["reason"],
        "Seasonal volume; paid on time for two years"
    );
    assert_eq!(request["requested_by"], "alice");
    assert!(request["requested_at"].as_str().unwrap().ends_with('Z'));

    // Maria approves less than was asked: 25,000.
    let reply = decide(app, MANAGER, &id, &approval(Some("25000.00")));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let decided = reply.json();
    assert_eq!(decided["id"], id.as_str());
    assert_eq!(decided["status"], "approved");
    assert_eq!(decided["credit_limit"], "25000.00");
    assert_eq!(decided["released_orders"], json!(["SO-CASE10-10"]));
    assert_eq!(decided["still_held"], json!(["SO-CASE10-11"]));
    assert_eq!(held_queue(app, "C-CASE10"), ["SO-CASE10-11"]);
    let position = position(app, "C-CASE10");
    assert_eq!(position["credit_limit"], "25000.00");

    let first = get_json(app, &format!("/credit-limit-requests/{id}"));
    assert_eq!(first["status"], "approved");
    assert_eq!(first["approved_limit"], "25000.00");
    assert_eq!(first["requested_limit"], "30000.00");
    assert_eq!(first["decided_by"], "maria");
    assert_eq!(first["note"], "Reviewed the payment history");
    assert_eq!(first["released_orders"], json!(["SO-CASE10-10"]));
}

#[test]
fn a_manager_cannot_approve_their_own_request() {
    let app = case_10_book("OWN");
    let id = asked(app, MANAGER, "C-OWN", "25000.00");
    let refused = problem(&decide(app, MANAGER, &id, &approval(None)), 403);
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot decide their own request"),
        "{detail}"
    );
    assert_eq!(status_of(app, &id), "pending");

    let reply = decide(app, MIKE, &id, &approval(None));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["decided_by"], "mike");
}

#[test]
fn an_associate_cannot_decide() {
    let app = case_10_book("ASSOC");
    let id = asked(app, ASSOCIATE, "C-ASSOC", "25000.00");
    for token in [ASSOCIATE, BOB] {
        let refused = problem(&decide(app, token, &id, &approval(None)), 403);
        assert!(refused["detail"].as_str().unwrap().contains("manager"));
    }
    problem(
        &app.send(
            "POST",
            &format!("/credit-limit-requests/{id}/decision"),
            &[],
            b"{}",
        ),
        401,
    );
    assert_eq!(status_of(app, &id), "pending");
    assert_eq!(held_queue(app, "C-ASSOC"), ["SO-ASSOC-10", "SO-ASSOC-11"]);
}

#[test]
fn a_limit_below_outstanding_is_refused_naming_the_minimum() {
    let app = case_10_book("LOW");
    // A released, unbilled order counts: outstanding is 16,000 + 1,000.
    assert_eq!(
        decision(app, "SO-LOW-12", "C-LOW", "1000.00")["status"],
        "released"
    );
    let reply = ask(app, ASSOCIATE, "C-LOW", "16999.99");
    assert_eq!(problem_fields(&reply), ["requested_limit"]);
    let message = reply.json()["errors"][0]["message"].clone();
    assert!(
        message
            .as_str()
            .unwrap()
            .contains("the minimum is 17000.00"),
        "{message}"
    );
    let id = asked(app, ASSOCIATE, "C-LOW", "17000.00");
    let reply = decide(app, MANAGER, &id, &approval(Some("16500.00")));
    assert_eq!(problem_fields(&reply), ["approved_limit"]);
    assert!(reply.text().contains("the minimum is 17000.00"));
    assert_eq!(status_of(app, &id), "pending");
}

#[test]
fn a_request_is_decided_once() {
    let app = case_10_book("ONCE");
    let id = asked(app, ASSOCIATE, "C-ONCE", "25000.00");
    assert_eq!(decide(app, MANAGER, &id, &approval(None)).status, 200);
    let again = problem(&decide(app, MIKE, &id, &rejection()), 409);
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("already approved")
    );
    problem(&decide(app, MANAGER, &id, &approval(Some("26000.00"))), 409);
    let request = get_json(app, &format!("/credit-limit-requests/{id}"));
    assert_eq!(request["status"], "approved");
    assert_eq!(request["decided_by"], "maria");
}

#[test]
fn a_rejection_keeps_the_limit_and_the_holds() {
    let app = case_10_book("REJECT");
    let id = asked(app, ASSOCIATE, "C-REJECT", "30000.00");
    let mut with_limit = rejection();
    with_limit["approved_limit"] = json!("30000.00");
    let reply = decide(app, MANAGER, &id, &with_limit);
    assert_eq!(problem_fields(&reply), ["approved_limit"]);

    let reply = decide(app, MANAGER, &id, &rejection());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let rejected = reply.json();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["credit_limit"], "20000.00");
    assert_eq!(rejected["approved_limit"], Value::Null);
    assert_eq!(rejected["released_orders"], json!([]));
    assert_eq!(
        held_queue(app, "C-REJECT"),
        ["SO-REJECT-10", "SO-REJECT-11"]
    );
}

#[test]
fn one_pending_request_per_customer_and_lists_filter() {
    let app = case_10_book("LISTS");
    customer(app, "C-LISTS-2", Some("1000.00"));
    let first = asked(app, ASSOCIATE, "C-LISTS", "25000.00");
    let twice = problem(&ask(app, BOB, "C-LISTS", "26000.00"), 409);
    assert!(twice["detail"].as_str().unwrap().contains(&first));
    let other = asked(app, BOB, "C-LISTS-2", "2000.00");
    decide(app, MANAGER, &first, &approval(None));
    let third = asked(app, ASSOCIATE, "C-LISTS", "30000.00");

    let ids = |path: &str| -> Vec<String> {
        get_json(app, path)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids("/credit-limit-requests?customer_id=C-LISTS"),
        [first.clone(), third.clone()]
    );
    assert_eq!(
        ids("/credit-limit-requests?status=pending&customer_id=C-LISTS"),
        [third]
    );
    assert_eq!(
        ids("/credit-limit-requests?status=pending&customer_id=C-LISTS-2"),
        [other]
    );
    let pending = ids("/credit-limit-requests?status=pending");
    assert!(!pending.contains(&first), "{pending:?}");
    let bad = app.get_as(MANAGER, "/credit-limit-requests?status=maybe");
    assert_eq!(problem_fields(&bad), ["status"]);
}

#[test]
fn bad_requests_are_named_and_change_nothing() {
    let app = case_10_book("BAD");
    problem(&ask(app, ASSOCIATE, "C-BAD-404", "1.00"), 404);
    assert_eq!(
        problem_fields(&ask(app, ASSOCIATE, "C-BAD", "25000.001")),
        ["requested_limit"]
    );
    let no_reason = json!({"customer_id": "C-BAD", "requested_limit": "1.00", "reason": " "});
    let reply = as_associate(app, "POST", "/credit-limit-requests", &no_reason);
    assert_eq!(problem_fields(&reply), ["reason"]);
    let id = asked(app, ASSOCIATE, "C-BAD", "25000.00");
    let mut maybe = approval(None);
    maybe["decision"] = json!("maybe");
    assert_eq!(
        problem_fields(&decide(app, MANAGER, &id, &maybe)),
        ["decision"]
    );
    for unknown in ["CLR-999999", "CLR-x"] {
        problem(&decide(app, MANAGER, unknown, &approval(None)), 404);
        problem(
            &app.get_as(ASSOCIATE, &format!("/credit-limit-requests/{unknown}")),
            404,
        );
    }
    problem(&app.get("/credit-limit-requests"), 401);
    problem(
        &app.json_as(
            MANAGER,
            "DELETE",
            &format!("/credit-limit-requests/{id}"),
            &json!({}),
        ),
        405,
    );
    assert_eq!(status_of(app, &id), "pending");
}

#[test]
fn a_manager_setting_the_limit_directly_supersedes_the_pending_request() {
    let app = case_10_book("DIRECT");
    let id = asked(app, ASSOCIATE, "C-DIRECT", "30000.00");
    let put = app.json_as(
        MANAGER,
        "PUT",
        "/customers/C-DIRECT",
        &json!({"name": "C-DIRECT Ltd", "currency": "USD", "credit_limit": "26000.00", "payment_terms_days": 30}),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    let request = get_json(app, &format!("/credit-limit-requests/{id}"));
    assert_eq!(request["status"], "superseded");
    assert_eq!(request["decided_by"], "maria");
    assert!(
        request["note"]
            .as_str()
            .unwrap()
            .contains("from 20000.00 to 26000.00 USD"),
        "{request}"
    );
    let pending = get_json(app, "/reports/credit-limit-requests?customer_id=C-DIRECT");
    assert_eq!(pending["requests"], json!([]), "no longer pending");
    let late = app.json_as(
        MIKE,
        "POST",
        &format!("/credit-limit-requests/{id}/decision"),
        &json!({"decision": "approve", "note": "too late"}),
    );
    problem(&late, 409);
}
