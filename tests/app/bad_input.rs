//! Bad input gets a clear 4xx problem and changes nothing. The tests
//! share one host and its book, which none of them may change, but for
//! the one that saves a policy.

use std::sync::LazyLock;

use crate::common::*;
use e2e::{App, MANAGER, Reply};
use serde_json::{Value, json};

static HOST: LazyLock<&App> = LazyLock::new(|| {
    let app = shared_host();
    book(app);
    app
});

fn book(app: &App) {
    customer(app, "C-100", Some("50000.00"));
    invoice(app, "INV-1", "C-100", "2025-07-10", "15000.00");
}

fn good_order() -> Value {
    json!({"id": "SO-1", "customer_id": "C-100", "amount": "100.00", "currency": "USD", "ordered_on": AS_OF, "as_of": AS_OF})
}

fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut().unwrap().remove(field);
    body
}

/// Nothing was written: no order, and the customer's figures as before.
fn assert_untouched(app: &App) {
    problem(&app.get_as(MANAGER, "/orders/SO-1"), 404);
    let position = get_json(app, &format!("/customers/C-100?as_of={AS_OF}"));
    assert_eq!(position["exposure"], "15000.00");
    assert_eq!(position["released_orders_total"], "0.00");
}

/// (An order for a customer the desk does not know, or in another
/// currency than the customer's, is held, not refused: see `desk.rs`.)
#[test]
fn a_currency_that_is_no_iso_code_is_refused() {
    let app = *HOST;
    let unknown = app.erp(
        "POST",
        "/orders",
        &with(good_order(), "currency", json!("XXY")),
    );
    assert_eq!(problem_fields(&unknown), ["currency"]);
    assert_untouched(app);
}

#[test]
fn bad_amounts_are_refused_with_the_reason() {
    let app = *HOST;
    let cases: [(Value, &str); 8] = [
        (json!("-100.00"), "must not be negative"),
        (json!("100.005"), "at most 2 decimal places"),
        (
            json!("1.123456789012345678901234567890"),
            "at most 2 decimal places",
        ),
        (json!("1e400"), "not a decimal amount"),
        (json!("12,50"), "not a decimal amount"),
        (json!("99999999999999999999"), "larger than the maximum"),
        (json!(100.5), "expected a string"),
        (json!(null), "expected a string"),
    ];
    for (amount, expected) in cases {
        let reply = app.erp(
            "POST",
            "/orders",
            &with(good_order(), "amount", amount.clone()),
        );
        let document = problem(&reply, 422);
        assert_eq!(document["errors"][0]["field"], "amount", "{amount}");
        let message = document["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{amount}: {message}");
    }
    assert_untouched(app);
}

#[test]
fn missing_and_unknown_fields_are_named() {
    let app = *HOST;
    for field in ["id", "customer_id", "amount", "currency", "ordered_on"] {
        let reply = app.erp("POST", "/orders", &without(good_order(), field));
        assert_eq!(problem_fields(&reply), [field]);
    }
    let extra = app.erp(
        "POST",
        "/orders",
        &with(good_order(), "priority", json!("rush")),
    );
    assert_eq!(problem_fields(&extra), ["priority"]);
    assert_untouched(app);
}

#[test]
fn invalid_dates_and_ids_are_named_together() {
    let app = *HOST;
    let mut body = with(good_order(), "ordered_on", json!("2025-02-30"));
    body = with(body, "as_of", json!("yesterday"));
    body = with(body, "id", json!("../../etc/passwd"));
    let reply = app.erp("POST", "/orders", &body);
    assert_eq!(problem_fields(&reply), ["id", "ordered_on", "as_of"]);
    assert_untouched(app);
}

fn raw(app: &App, content_type: &str, body: &[u8]) -> Reply {
    let auth = format!("Bearer {MANAGER}");
    app.send(
        "POST",
        "/orders",
        &[("authorization", &auth), ("content-type", content_type)],
        body,
    )
}

#[test]
fn malformed_json_and_wrong_content_types() {
    let app = *HOST;
    let good = good_order().to_string();
    problem(&raw(app, "application/json", b"{\"id\": \"SO-1\","), 400);
    problem(&raw(app, "application/json", b""), 400);
    problem(
        &raw(app, "application/json", format!("{good} {good}").as_bytes()),
        400,
    );
    let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    assert!(matches!(
        raw(app, "application/json", deep.as_bytes()).status,
        400 | 422
    ));
    problem(&raw(app, "text/plain", good.as_bytes()), 415);
    problem(
        &raw(app, "application/x-www-form-urlencoded", b"id=SO-1"),
        415,
    );
    assert_untouched(app);
}

#[test]
fn bodies_over_one_mebibyte_are_refused() {
    let app = *HOST;
    let padding = "x".repeat(1024 * 1024);
    let body = with(good_order(), "note", json!(padding)).to_string();
    let reply = raw(app, "application/json", body.as_bytes());
    let document = problem(&reply, 413);
    assert!(document["detail"].as_str().unwrap().contains("1048576"));
    assert_untouched(app);
}

#[test]
fn sql_in_strings_is_just_text() {
    let app = *HOST;
    let name = "Robert'); DROP TABLE customers;--";
    let reply = app.erp(
        "PUT",
        "/customers/C-200",
        &json!({"name": name, "currency": "USD", "credit_limit": "1.00", "payment_terms_days": 30}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(get_json(app, "/customers/C-200")["name"], name);
    let injected_id = app.erp(
        "POST",
        "/orders",
        &with(good_order(), "id", json!("SO-1' OR '1'='1")),
    );
    assert_eq!(problem_fields(&injected_id), ["id"]);
    let in_query = app.get_as(
        MANAGER,
        "/orders?status=held&customer_id=C-100'%20OR%201=1--",
    );
    assert_eq!(problem_fields(&in_query), ["customer_id"]);
    assert_eq!(get_json(app, "/customers/C-100")["name"], "C-100 Ltd");
}

#[test]
fn paths_that_are_not_ids_are_bad_requests() {
    let app = *HOST;
    problem(&app.get_as(MANAGER, "/orders/SO%2F..%2F1"), 400);
    problem(&app.get_as(MANAGER, "/customers/..%2Fpolicy"), 400);
    problem(&app.get_as(MANAGER, "/orders?limit=0"), 422);
    problem(&app.get_as(MANAGER, "/orders?status=lost"), 422);
    problem(&app.send("DELETE", "/orders/SO-1", &[], b""), 405);
    problem(&app.get_as(MANAGER, "/orders/SO-1/shipments"), 404);
}

#[test]
fn ids_in_the_path_may_be_percent_encoded() {
    // The web workspace encodes path segments (encodeURIComponent), so an
    // id with ':' arrives as %3A and must name the same customer.
    let app = *HOST;
    customer(app, "ACME:EU", Some("1000.00"));
    invoice(app, "INV:7", "ACME:EU", "2025-07-10", "10.00");
    assert_eq!(get_json(app, "/customers/ACME%3AEU")["id"], "ACME:EU");
    assert_eq!(get_json(app, "/customers/ACME%3aEU/contacts"), json!([]));
    assert_eq!(get_json(app, "/invoices/INV%3A7")["customer_id"], "ACME:EU");
    problem(&app.get_as(MANAGER, "/customers/ACME%3AUS"), 404);
    problem(&app.get_as(MANAGER, "/customers/ACME%FF"), 400);
}

#[test]
fn a_refused_method_is_told_the_methods_that_are_allowed() {
    let app = *HOST;
    let allowed = |method: &str, path: &str| -> String {
        let reply = app.send(method, path, &[], b"");
        problem(&reply, 405);
        reply.header("allow").unwrap_or_default().to_string()
    };
    assert_eq!(allowed("DELETE", "/orders"), "GET, POST");
    assert_eq!(allowed("GET", "/orders/release"), "POST");
    assert_eq!(allowed("POST", "/orders/SO-1"), "GET");
    assert_eq!(allowed("GET", "/orders/SO-1/release"), "POST");
    assert_eq!(allowed("PUT", "/orders/SO-1/cancel"), "POST");
}

#[test]
fn dates_far_from_today_are_refused() {
    // A dispute opened on 9999-12-31 was due on "+10000-01-14", and a KPI
    // period from 0000-01-01 opened on "-0001-12-31": not YYYY-MM-DD.
    let app = *HOST;
    let dispute = as_manager(
        app,
        "POST",
        "/disputes",
        &json!({"invoice_id": "INV-1", "amount": "1.00", "reason_code": "PRICING", "note": "n", "opened_on": "9999-12-31"}),
    );
    assert_eq!(problem_fields(&dispute), ["opened_on"]);
    let kpis = app.get_as(MANAGER, "/reports/kpis?from=0000-01-01&to=2025-06-30");
    assert_eq!(problem_fields(&kpis), ["from"]);
    let order = app.erp(
        "POST",
        "/orders",
        &with(good_order(), "ordered_on", json!("1899-12-31")),
    );
    assert_eq!(problem_fields(&order), ["ordered_on"]);
    assert_untouched(app);
    assert_eq!(get_json(app, "/disputes?customer_id=C-100"), json!([]));
}

#[test]
fn arrays_are_not_taken_for_objects() {
    // serde would read a struct's fields in order from an array: `[]` was a
    // policy of all defaults, `[7]` one with 7 grace days.
    let app = &App::start();
    book(app);
    let strict = json!({"grace_days": 9, "hold_when_no_limit": false});
    assert_eq!(as_manager(app, "PUT", "/policy", &strict).status, 200);
    for body in [json!([]), json!([7])] {
        let reply = as_manager(app, "PUT", "/policy", &body);
        assert!(
            problem(&reply, 422)["detail"]
                .as_str()
                .unwrap()
                .contains("sequence")
        );
    }
    assert_eq!(get_json(app, "/policy")["grace_days"], 9);
    let customer = json!(["Array Corp", "USD", "100.00", 30, null, false, false]);
    problem(&app.erp("PUT", "/customers/C-9", &customer), 422);
    let contact =
        json!({"channel": "call", "outcome": "x", "note": "y", "promise": ["1.00", "2025-07-04"]});
    let reply = as_manager(app, "POST", "/customers/C-100/contacts", &contact);
    assert_eq!(problem_fields(&reply), ["promise"]);
    assert_eq!(get_json(app, "/customers/C-100/contacts"), json!([]));
}
