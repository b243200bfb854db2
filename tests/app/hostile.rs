//! Hostile callers: SQL injection in every kind of string field and query
//! parameter, and secrets that must never reach a log line or a response.

mod common;

use common::*;
use e2e::{API_TOKENS, App, MANAGER, WEBHOOK_SECRET};
use serde_json::{Value, json};

const INJECTIONS: [&str; 5] = [
    "x'; DROP TABLE invoices; --",
    "\" OR \"1\"=\"1",
    "1; DELETE FROM customers",
    "') UNION SELECT id, name FROM customers --",
    "%27%20OR%201=1",
];

/// The book the attacks run against; it must come through unchanged.
fn book() -> App {
    let app = App::start();
    customer(&app, "C-1", Some("5000.00"));
    invoice(&app, "INV-1", "C-1", "2025-07-10", "1000.00");
    decision(&app, "SO-1", "C-1", "100.00");
    app
}

fn assert_book_intact(app: &App) {
    let position = position(app, "C-1");
    assert_eq!(position["open_balance"], "1000.00");
    assert_eq!(position["released_orders_total"], "100.00");
    assert_eq!(get_json(app, "/invoices/INV-1")["amount"], "1000.00");
}

/// Whatever the attack, the answer is never a server error.
fn assert_no_server_error(reply: &e2e::Reply, what: &str) {
    assert!(
        reply.status < 500,
        "{what}: server error {} {}",
        reply.status,
        reply.text()
    );
}

#[test]
fn injection_in_body_fields_is_refused_or_kept_as_text() {
    let app = book();
    for attack in INJECTIONS {
        let attacks: [(&str, &str, Value); 6] = [
            (
                "POST",
                "/orders",
                json!({"id": attack, "customer_id": "C-1", "amount": "1.00", "currency": "USD", "ordered_on": AS_OF}),
            ),
            (
                "POST",
                "/orders",
                json!({"id": "SO-9", "customer_id": attack, "amount": "1.00", "currency": "USD", "ordered_on": AS_OF}),
            ),
            (
                "POST",
                "/orders",
                json!({"id": "SO-9", "customer_id": "C-1", "amount": attack, "currency": attack, "ordered_on": attack}),
            ),
            (
                "POST",
                "/payments",
                json!({"id": "P-1", "customer_id": "C-1", "amount": "1.00", "currency": "USD", "received_on": AS_OF, "method": attack, "reference": attack}),
            ),
            (
                "POST",
                "/disputes",
                json!({"invoice_id": attack, "amount": "1.00", "reason_code": attack, "note": attack}),
            ),
            (
                "POST",
                "/credit-limit-requests",
                json!({"customer_id": attack, "requested_limit": "9000.00", "reason": attack}),
            ),
        ];
        for (method, path, body) in attacks {
            let reply = app.json_as(MANAGER, method, path, &body);
            assert_no_server_error(&reply, &format!("{method} {path} {body}"));
        }
        let contact = as_associate(
            &app,
            "POST",
            "/customers/C-1/contacts",
            &json!({"channel": "call", "outcome": attack, "note": attack}),
        );
        assert_eq!(contact.status, 201, "{}", contact.text());
        assert_eq!(contact.json()["note"], attack, "stored as text");
    }
    assert_book_intact(&app);
}

#[test]
fn injection_in_query_parameters_and_paths_is_refused() {
    let app = book();
    for attack in INJECTIONS {
        let encoded: String = attack.bytes().map(|b| format!("%{b:02X}")).collect();
        for path in [
            format!("/orders?status=held&customer_id={encoded}"),
            format!("/orders?status={encoded}"),
            format!("/orders?limit={encoded}"),
            format!("/customers/C-1?as_of={encoded}"),
            format!("/disputes?customer_id={encoded}"),
            format!("/reports/aging?as_of={encoded}"),
            format!("/reports/kpis?from={encoded}&to=2025-06-30"),
            format!("/orders/{encoded}"),
            format!("/customers/{encoded}"),
            format!("/payments/{encoded}"),
        ] {
            let reply = app.get_as(MANAGER, &path);
            assert!(
                (400..500).contains(&reply.status),
                "{path}: {} {}",
                reply.status,
                reply.text()
            );
        }
    }
    assert_book_intact(&app);
}

#[test]
fn secrets_never_reach_logs_or_responses() {
    let app = book();
    let forged = app.send(
        "POST",
        "/orders",
        &[
            ("content-type", "application/json"),
            ("webhook-id", "msg_forged"),
            ("webhook-timestamp", "1"),
            ("webhook-signature", "v1,AAAA"),
        ],
        b"{}",
    );
    let answers = [
        app.get_as("tok-alice", "/orders").text(),
        app.get_as("tok-wrong", "/orders").text(),
        app.get_as(MANAGER, "/policy").text(),
        forged.text(),
    ];
    let bearer_secret = &WEBHOOK_SECRET["whsec_".len()..];
    let tokens: Vec<&str> = API_TOKENS
        .split(',')
        .map(|entry| entry.split('=').next().unwrap())
        .collect();
    let log = app.log_lines().join("\n");
    for text in answers.iter().chain(std::iter::once(&log)) {
        assert!(
            !text.contains(bearer_secret),
            "webhook secret leaked: {text}"
        );
        for token in &tokens {
            assert!(!text.contains(token), "token {token} leaked: {text}");
        }
    }
    assert!(
        log.contains("GET /orders"),
        "the request log was read: {log}"
    );
}
