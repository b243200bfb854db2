//! What the application's end-to-end tests share: loading customers,
//! invoices and orders the way the ERP does, and reading answers.

use e2e::{ASSOCIATE, App, MANAGER, Reply};
use serde_json::{Value, json};

/// A host for the tests of a module to share, for those that need no fresh
/// book: each names its own customers, invoices and orders, and reads lists
/// of its own customers only. A module keeps it in a
/// `static HOST: LazyLock<&App> = LazyLock::new(shared_host)`.
pub fn shared_host() -> &'static App {
    App::start().until_exit()
}

/// The date the worked cases of DOMAIN.md are computed as of.
pub const AS_OF: &str = "2025-06-30";

/// A USD customer; `limit` None means no credit limit.
pub fn customer(app: &App, id: &str, limit: Option<&str>) -> Value {
    let reply = app.erp(
        "PUT",
        &format!("/customers/{id}"),
        &json!({
            "name": format!("{id} Ltd"),
            "currency": "USD",
            "credit_limit": limit,
            "payment_terms_days": 30,
        }),
    );
    assert_eq!(reply.status, 200, "PUT customer: {}", reply.text());
    reply.json()
}

/// A USD invoice issued 30 days before it is due.
pub fn invoice(app: &App, id: &str, customer_id: &str, due_on: &str, amount: &str) -> Value {
    let due: chrono::NaiveDate = due_on.parse().expect("YYYY-MM-DD");
    let reply = app.erp(
        "PUT",
        &format!("/invoices/{id}"),
        &json!({
            "customer_id": customer_id,
            "issued_on": (due - chrono::Days::new(30)).to_string(),
            "due_on": due_on,
            "amount": amount,
            "currency": "USD",
        }),
    );
    assert!(
        reply.status == 201 || reply.status == 200,
        "PUT invoice: {}",
        reply.text()
    );
    reply.json()
}

/// The ERP's order webhook, checked as of the worked cases' date.
pub fn order(app: &App, id: &str, customer_id: &str, amount: &str) -> Reply {
    order_on(app, id, customer_id, amount, AS_OF)
}

pub fn order_on(app: &App, id: &str, customer_id: &str, amount: &str, ordered_on: &str) -> Reply {
    app.erp(
        "POST",
        "/orders",
        &json!({
            "id": id,
            "customer_id": customer_id,
            "amount": amount,
            "currency": "USD",
            "ordered_on": ordered_on,
            "as_of": AS_OF,
        }),
    )
}

/// The decision of an order webhook that must succeed.
pub fn decision(app: &App, id: &str, customer_id: &str, amount: &str) -> Value {
    let reply = order(app, id, customer_id, amount);
    assert_eq!(reply.status, 200, "POST /orders: {}", reply.text());
    reply.json()
}

/// The reason codes of a decision, in order.
pub fn codes(decision: &Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().expect("code").to_string())
        .collect()
}

pub fn get_json(app: &App, path: &str) -> Value {
    let reply = app.get_as(ASSOCIATE, path);
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
    reply.json()
}

pub fn as_associate(app: &App, method: &str, path: &str, body: &Value) -> Reply {
    app.json_as(ASSOCIATE, method, path, body)
}

pub fn as_manager(app: &App, method: &str, path: &str, body: &Value) -> Reply {
    app.json_as(MANAGER, method, path, body)
}

/// The ids of a customer's orders in the held queue, oldest first.
pub fn held_queue(app: &App, customer_id: &str) -> Vec<String> {
    let path = format!("/orders?status=held&customer_id={customer_id}&as_of={AS_OF}");
    get_json(app, &path)
        .as_array()
        .expect("a list")
        .iter()
        .map(|o| o["order_id"].as_str().expect("order_id").to_string())
        .collect()
}

/// Asserts an RFC 9457 problem with this status; returns its document.
pub fn problem(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{}",
        reply.text()
    );
    let document = reply.json();
    assert_eq!(document["status"], status);
    assert!(document["title"].is_string() && document["detail"].is_string());
    document
}

/// The names of the fields a 422 problem complains about.
pub fn problem_fields(reply: &Reply) -> Vec<String> {
    problem(reply, 422)["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_string())
        .collect()
}

/// The customer's credit position as of the worked cases' date.
pub fn position(app: &App, customer_id: &str) -> Value {
    get_json(app, &format!("/customers/{customer_id}?as_of={AS_OF}"))
}

/// A payment without remittance, received and re-checked as of the worked
/// cases' date; add fields with `body["remittance"] = ...`.
pub fn payment_body(id: &str, customer_id: &str, amount: &str) -> Value {
    json!({
        "id": id,
        "customer_id": customer_id,
        "amount": amount,
        "currency": "USD",
        "received_on": AS_OF,
        "method": "ach",
        "as_of": AS_OF,
    })
}

/// Posts a payment as the ERP; it must be accepted.
pub fn pay(app: &App, body: &Value) -> Value {
    let reply = app.erp("POST", "/payments", body);
    assert_eq!(reply.status, 201, "POST /payments: {}", reply.text());
    reply.json()
}

/// Opens a dispute as an associate on the worked cases' date; it must be
/// accepted.
pub fn open_dispute(app: &App, invoice_id: &str, amount: &str) -> Value {
    let reply = as_associate(
        app,
        "POST",
        "/disputes",
        &json!({
            "invoice_id": invoice_id,
            "amount": amount,
            "reason_code": "PRICING",
            "note": "price differs from the quote",
            "as_of": AS_OF,
        }),
    );
    assert_eq!(reply.status, 201, "POST /disputes: {}", reply.text());
    reply.json()
}
