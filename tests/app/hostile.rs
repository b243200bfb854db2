//! Hostile callers: SQL injection in every kind of string field and query
//! parameter, and secrets that must never reach a log line or a response.
//! The tests that leave the book as it was share one host and its book;
//! those that count every table's rows while others write, or write what
//! others count, have hosts of their own.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use crate::common::*;
use e2e::{API_TOKENS, ASSOCIATE, App, MANAGER, WEBHOOK_SECRET};
use serde_json::{Value, json};

static HOST: LazyLock<&App> = LazyLock::new(|| {
    let app = shared_host();
    book(app);
    app
});

const INJECTIONS: [&str; 5] = [
    "x'; DROP TABLE invoices; --",
    "\" OR \"1\"=\"1",
    "1; DELETE FROM customers",
    "') UNION SELECT id, name FROM customers --",
    "%27%20OR%201=1",
];

/// The book the attacks run against; it must come through unchanged.
fn book(app: &App) {
    customer(app, "C-1", Some("5000.00"));
    invoice(app, "INV-1", "C-1", "2025-07-10", "1000.00");
    decision(app, "SO-1", "C-1", "100.00");
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
    let app = *HOST;
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
            app,
            "POST",
            "/customers/C-1/contacts",
            &json!({"channel": "call", "outcome": attack, "note": attack}),
        );
        assert_eq!(contact.status, 201, "{}", contact.text());
        assert_eq!(contact.json()["note"], attack, "stored as text");
    }
    assert_book_intact(app);
}

#[test]
fn injection_in_query_parameters_and_paths_is_refused() {
    let app = *HOST;
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
    assert_book_intact(app);
}

#[test]
fn secrets_never_reach_logs_or_responses() {
    let app = *HOST;
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
    let log = log_until(app, "GET /orders").join("\n");
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

/// The host's log lines so far, waiting (a while) for one with `needle`:
/// a request is logged just after it is answered.
fn log_until(app: &App, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut lines = app.log_lines();
    while !lines.iter().any(|line| line.contains(needle)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        lines.extend(app.log_lines());
    }
    lines
}

/// Path traversal and other strings that must never reach a file, a key
/// or a statement as anything but text.
const TRAVERSALS: [&str; 6] = [
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "C-1/../C-2",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "\u{0}",
    "C-1\r\nX-Injected: yes",
];

fn attacks() -> impl Iterator<Item = &'static str> {
    INJECTIONS.into_iter().chain(TRAVERSALS)
}

/// Every byte percent-encoded: the attack arrives as one path segment or
/// query value, exactly as written.
fn encoded(attack: &str) -> String {
    attack.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// A book with something of every kind for the attacks to aim at: C-1 as
/// in `book`, and C-2 with an invoice, a held order, an open dispute and a
/// pending limit request.
fn full_book() -> App {
    let app = App::start();
    book(&app);
    customer(&app, "C-2", Some("100.00"));
    invoice(&app, "INV-2", "C-2", "2025-07-10", "50.00");
    assert_eq!(decision(&app, "SO-H", "C-2", "500.00")["status"], "held");
    assert_eq!(open_dispute(&app, "INV-2", "5.00")["id"], "D-1");
    let request = as_associate(
        &app,
        "POST",
        "/credit-limit-requests",
        &json!({"customer_id": "C-2", "requested_limit": "900.00", "reason": "seasonal"}),
    );
    assert_eq!(request.status, 201, "{}", request.text());
    app
}

/// The JSON pointers of every string in `value`.
fn string_leaves(value: &Value, at: String, found: &mut Vec<String>) {
    match value {
        Value::String(_) => found.push(at),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                string_leaves(item, format!("{at}/{i}"), found);
            }
        }
        Value::Object(fields) => {
            for (name, field) in fields {
                string_leaves(field, format!("{at}/{name}"), found);
            }
        }
        _ => {}
    }
}

/// The database's tables, and how many customers and invoices it holds.
fn database_shape(app: &App) -> (Vec<String>, i64, i64) {
    let file = app.state_dir.path().join("sqlite_db.db");
    let db =
        rusqlite::Connection::open_with_flags(&file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let mut statement = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables = statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<Vec<String>, _>>()
        .unwrap();
    let count = |table: &str| -> i64 {
        db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .unwrap()
    };
    (tables, count("customers"), count("invoices"))
}

/// A clear client error (a problem document) or a normal JSON answer.
fn assert_handled(reply: &e2e::Reply, what: &str) {
    assert_no_server_error(reply, what);
    let kind = reply.header("content-type").unwrap_or_default();
    if reply.status >= 400 {
        assert_eq!(kind, "application/problem+json", "{what}: {}", reply.text());
    } else {
        assert!(kind.starts_with("application/json"), "{what}: {kind}");
    }
}

#[test]
fn injection_in_every_string_field_of_every_body_is_refused_or_kept_as_text() {
    let app = full_book();
    let before = database_shape(&app);
    let default_policy = json!({"grace_days": 5, "past_due_tolerance": "0.00", "hold_when_no_limit": true, "dispute_sla_business_days": 10, "dispute_sla_by_reason": {}});
    let templates: Vec<(&str, &str, &str, Value)> = vec![
        (
            MANAGER,
            "PUT",
            "/customers/C-1",
            json!({"name": "C-1 Ltd", "currency": "USD", "credit_limit": "5000.00", "payment_terms_days": 30}),
        ),
        (
            MANAGER,
            "PUT",
            "/invoices/INV-1",
            json!({"customer_id": "C-1", "order_id": "SO-1", "issued_on": "2025-06-10", "due_on": "2025-07-10", "amount": "1000.00", "currency": "USD"}),
        ),
        (
            MANAGER,
            "POST",
            "/orders",
            json!({"id": "SO-1", "customer_id": "C-1", "amount": "100.00", "currency": "USD", "ordered_on": AS_OF, "as_of": AS_OF}),
        ),
        (
            ASSOCIATE,
            "POST",
            "/orders/SO-H/release",
            json!({"note": "customer called"}),
        ),
        (
            ASSOCIATE,
            "POST",
            "/orders/release",
            json!({"order_ids": ["SO-H", "SO-1"], "note": "bulk"}),
        ),
        (
            ASSOCIATE,
            "POST",
            "/payments",
            json!({"id": "P-9", "customer_id": "C-2", "amount": "1.00", "currency": "USD", "received_on": AS_OF, "method": "ach", "reference": "r", "remittance": [{"invoice_id": "INV-2", "amount": "1.00"}], "short_pay_reason": "PRICING", "as_of": AS_OF}),
        ),
        (
            ASSOCIATE,
            "POST",
            "/disputes",
            json!({"invoice_id": "INV-2", "amount": "0.01", "reason_code": "PRICING", "note": "n", "as_of": AS_OF}),
        ),
        (
            ASSOCIATE,
            "PATCH",
            "/disputes/D-1",
            json!({"status": "in_review", "note": "n", "as_of": AS_OF}),
        ),
        (
            ASSOCIATE,
            "PATCH",
            "/disputes/D-1",
            json!({"status": "resolved_credit", "credit_amount": "0.01", "note": "n"}),
        ),
        (
            ASSOCIATE,
            "POST",
            "/credit-limit-requests",
            json!({"customer_id": "C-2", "requested_limit": "900.00", "reason": "r"}),
        ),
        (
            MANAGER,
            "POST",
            "/credit-limit-requests/CLR-1/decision",
            json!({"decision": "approve", "approved_limit": "900.00", "note": "n"}),
        ),
        (
            MANAGER,
            "POST",
            "/credit-limit-requests/CLR-1/decision",
            json!({"decision": "reject", "note": "n"}),
        ),
        (
            ASSOCIATE,
            "POST",
            "/customers/C-1/contacts",
            json!({"channel": "call", "outcome": "o", "note": "n", "contacted_on": AS_OF, "promise": {"amount": "1.00", "due_on": "2025-07-04"}}),
        ),
        (MANAGER, "PUT", "/policy", default_policy.clone()),
    ];
    let mut sent = 0;
    for (token, method, path, template) in &templates {
        let mut leaves = vec![];
        string_leaves(template, String::new(), &mut leaves);
        assert!(!leaves.is_empty(), "{method} {path}");
        for leaf in &leaves {
            for attack in attacks() {
                let mut body = template.clone();
                *body.pointer_mut(leaf).unwrap() = json!(attack);
                let reply = app.json_as(token, method, path, &body);
                assert_handled(&reply, &format!("{method} {path} {leaf}={attack:?}"));
                sent += 1;
            }
        }
    }
    // Object keys are input too: a reason code of the policy.
    for attack in attacks() {
        let mut policy = default_policy.clone();
        policy["dispute_sla_by_reason"] = json!({ attack: 5 });
        let reply = app.json_as(MANAGER, "PUT", "/policy", &policy);
        assert_eq!(reply.status, 422, "{attack:?}: {}", reply.text());
    }
    app.json_as(MANAGER, "PUT", "/policy", &default_policy);
    assert!(sent > 300, "{sent} attacks");
    assert_book_intact(&app);
    assert_eq!(
        database_shape(&app),
        before,
        "tables intact, no customer or invoice made"
    );
}

#[test]
fn injection_in_every_query_parameter_and_path_id_is_refused() {
    let app = full_book();
    let before = database_shape(&app);
    let queries = [
        "/orders?status={}",
        "/orders?customer_id={}",
        "/orders?limit={}",
        "/orders?offset={}",
        "/orders?as_of={}",
        "/customers/C-1?as_of={}",
        "/customers/C-1/contacts?as_of={}",
        "/disputes?status={}",
        "/disputes?customer_id={}",
        "/disputes?as_of={}",
        "/credit-limit-requests?status={}",
        "/credit-limit-requests?customer_id={}",
        "/reports/held-orders?as_of={}",
        "/reports/aging?as_of={}",
        "/reports/disputes?status={}",
        "/reports/disputes?as_of={}",
        "/reports/worklist?as_of={}",
        "/reports/kpis?from={}&to=2025-06-30",
        "/reports/kpis?from=2025-06-01&to={}",
        "/reports/credit-limit-requests?status={}",
        "/reports/credit-limit-requests?customer_id={}",
    ];
    let gets = [
        "/invoices/{}",
        "/disputes/{}",
        "/credit-limit-requests/{}",
        "/orders/{}",
        "/customers/{}",
        "/customers/{}/contacts",
        "/payments/{}",
    ];
    let writes = [
        (
            "PUT",
            "/customers/{}",
            json!({"name": "X", "currency": "USD", "credit_limit": null, "payment_terms_days": 30}),
        ),
        (
            "PUT",
            "/invoices/{}",
            json!({"customer_id": "C-1", "issued_on": "2025-06-10", "due_on": "2025-07-10", "amount": "1.00", "currency": "USD"}),
        ),
        ("POST", "/orders/{}/release", json!({"note": "n"})),
        ("POST", "/orders/{}/cancel", json!({})),
        ("PATCH", "/disputes/{}", json!({"note": "n"})),
        (
            "POST",
            "/credit-limit-requests/{}/decision",
            json!({"decision": "reject", "note": "n"}),
        ),
        (
            "POST",
            "/customers/{}/contacts",
            json!({"channel": "call", "outcome": "o", "note": "n"}),
        ),
    ];
    for attack in attacks() {
        let attack = encoded(attack);
        for query in queries {
            let path = query.replace("{}", &attack);
            let reply = app.get_as(MANAGER, &path);
            assert_handled(&reply, &path);
        }
        for get in gets {
            let path = get.replace("{}", &attack);
            let reply = app.get_as(MANAGER, &path);
            assert_eq!(
                problem(&reply, 400)["type"],
                "/problems/bad-request",
                "{path}"
            );
        }
        for (method, template, body) in &writes {
            let path = template.replace("{}", &attack);
            let reply = app.json_as(MANAGER, method, &path, body);
            assert_eq!(
                problem(&reply, 400)["type"],
                "/problems/bad-request",
                "{method} {path}"
            );
        }
    }
    assert_book_intact(&app);
    assert_eq!(database_shape(&app), before);
}

#[test]
fn json_numbers_where_text_or_small_numbers_belong_are_refused() {
    let app = *HOST;
    let before = database_shape(app);
    let raw = |method: &str, path: &str, body: &str| {
        let auth = format!("Bearer {MANAGER}");
        app.send(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.as_bytes(),
        )
    };
    let huge_terms = raw(
        "PUT",
        "/customers/C-9",
        r#"{"name": "Huge", "currency": "USD", "credit_limit": null, "payment_terms_days": 1e400}"#,
    );
    let status = huge_terms.status;
    assert!(
        status == 400 || status == 422,
        "{status} {}",
        huge_terms.text()
    );
    problem(&huge_terms, status);
    let numeric_amounts = [
        (
            "POST",
            "/orders",
            r#"{"id": "SO-9", "customer_id": "C-1", "amount": 100.00, "currency": "USD", "ordered_on": "2025-06-30"}"#,
            "amount",
        ),
        (
            "PUT",
            "/invoices/INV-9",
            r#"{"customer_id": "C-1", "issued_on": "2025-06-10", "due_on": "2025-07-10", "amount": 1000, "currency": "USD"}"#,
            "amount",
        ),
        (
            "PUT",
            "/customers/C-9",
            r#"{"name": "N", "currency": "USD", "credit_limit": 5e3, "payment_terms_days": 30}"#,
            "credit_limit",
        ),
        (
            "PUT",
            "/customers/C-9",
            r#"{"name": "N", "currency": "USD", "credit_limit": null, "payment_terms_days": 30.5}"#,
            "payment_terms_days",
        ),
        (
            "PUT",
            "/customers/C-9",
            r#"{"name": "N", "currency": "USD", "credit_limit": null, "payment_terms_days": 99999999999999999999}"#,
            "payment_terms_days",
        ),
        (
            "PUT",
            "/policy",
            r#"{"past_due_tolerance": 0.5}"#,
            "past_due_tolerance",
        ),
    ];
    for (method, path, body, field) in numeric_amounts {
        let reply = raw(method, path, body);
        assert_eq!(problem_fields(&reply), [field], "{method} {path} {body}");
    }
    // More decimals than any currency has, or than a decimal can hold.
    for tolerance in [
        "0.000000000000000000000000000001",
        "1.123456789012345678901234567890",
    ] {
        let body = format!(r#"{{"past_due_tolerance": "{tolerance}"}}"#);
        let reply = raw("PUT", "/policy", &body);
        assert_eq!(
            problem_fields(&reply),
            ["past_due_tolerance"],
            "{tolerance}: {}",
            reply.text()
        );
    }
    assert_eq!(get_json(app, "/policy")["past_due_tolerance"], "0.00");
    problem(&app.get_as(MANAGER, "/customers/C-9"), 404);
    assert_book_intact(app);
    assert_eq!(database_shape(app), before);
}

/// A raw connection to the app (for requests the HTTP client will not
/// send), with its address for the `host` header.
fn connect(app: &App) -> (std::net::TcpStream, &str) {
    let address = app.address();
    let stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    (stream, address)
}

/// What the app has sent so far, up to 4 KiB (waiting up to 10 s).
fn first_answer(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut answer = vec![0; 4096];
    let read = stream.read(&mut answer).expect("an answer");
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

/// Sends the head of a request that promises a large body, and only a few
/// bytes of it; the answer to read back, or what went wrong.
fn promise_a_body(app: &App, head: &str) -> String {
    use std::io::Write;
    let (mut stream, address) = connect(app);
    let request = format!(
        "{head}\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{{\"id\":"
    );
    stream.write_all(request.as_bytes()).unwrap();
    first_answer(&mut stream)
}

#[test]
fn callers_are_refused_before_their_body_is_read() {
    let app = *HOST;
    let anonymous = promise_a_body(app, "POST /payments HTTP/1.1");
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    let associate = promise_a_body(
        app,
        &format!("PUT /policy HTTP/1.1\r\nauthorization: Bearer {ASSOCIATE}"),
    );
    assert!(associate.starts_with("HTTP/1.1 403"), "{associate}");
    let stale_webhook = promise_a_body(
        app,
        "POST /orders HTTP/1.1\r\nwebhook-id: msg_1\r\nwebhook-timestamp: 1000000000\r\nwebhook-signature: v1,AAAA",
    );
    assert!(stale_webhook.starts_with("HTTP/1.1 401"), "{stale_webhook}");
    assert!(
        stale_webhook.contains("webhook-timestamp"),
        "{stale_webhook}"
    );
    let unknown = promise_a_body(app, "POST /orders/SO-1/refund HTTP/1.1");
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
}

/// Sends a request's head with `Expect: 100-continue` and what the server
/// answers to it alone; with `then_body`, sends the body after a `100` and
/// adds the final answer.
fn expect_continue(app: &App, head: &str, then_body: Option<&str>) -> String {
    use std::io::{Read, Write};
    let (mut stream, address) = connect(app);
    let length = then_body.map_or(100_000, str::len);
    let request = format!(
        "{head}\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = first_answer(&mut stream);
    if let Some(body) = then_body.filter(|_| answer.starts_with("HTTP/1.1 100")) {
        stream.write_all(body.as_bytes()).unwrap();
        let mut rest = String::new();
        let _ = stream.read_to_string(&mut rest);
        answer.push_str(&rest);
    }
    answer
}

#[test]
fn a_client_that_waits_to_send_its_body_is_refused_before_it_is_invited_to() {
    let app = &App::start();
    book(app);
    let anonymous = expect_continue(app, "POST /payments HTTP/1.1", None);
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    let associate = expect_continue(
        app,
        &format!("PUT /policy HTTP/1.1\r\nauthorization: Bearer {ASSOCIATE}"),
        None,
    );
    assert!(associate.starts_with("HTTP/1.1 403"), "{associate}");
    // A caller the desk accepts is invited to send the body, and answered.
    let manager = expect_continue(
        app,
        &format!("POST /customers/C-1/contacts HTTP/1.1\r\nauthorization: Bearer {MANAGER}"),
        Some(r#"{"channel":"call","outcome":"left a message","note":"about INV-1"}"#),
    );
    assert!(manager.starts_with("HTTP/1.1 100"), "{manager}");
    assert!(manager.contains("HTTP/1.1 201"), "{manager}");
    let contacts = get_json(app, "/customers/C-1/contacts");
    assert_eq!(contacts.as_array().map(Vec::len), Some(1), "{contacts}");
}

#[test]
fn answers_are_never_cached_nor_sniffed() {
    let app = *HOST;
    let replies = [
        app.get_as(MANAGER, "/customers/C-1"),
        app.send(
            "GET",
            "/reports/aging",
            &[
                ("authorization", &format!("Bearer {MANAGER}")),
                ("accept", "text/csv"),
            ],
            b"",
        ),
        app.get("/customers/C-1"),
        app.get_as(MANAGER, "/orders/nope/refund"),
        // Delivered again: the same decision, nothing changed.
        order(app, "SO-1", "C-1", "100.00"),
    ];
    for reply in replies {
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{reply:?}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{reply:?}"
        );
    }
}

#[test]
fn a_payment_that_would_overflow_a_customer_is_refused_and_the_customer_stays_usable() {
    let app = App::start();
    let put = app.erp(
        "PUT",
        "/customers/C-K",
        &json!({"name": "Kuwait Traders", "currency": "KWD", "credit_limit": "5000.000", "payment_terms_days": 30}),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    // As if thousands of payments of the largest amount had come before.
    let db = rusqlite::Connection::open(app.state_dir.path().join("sqlite_db.db")).unwrap();
    db.execute(
        "UPDATE customers SET unapplied_minor = ?1 WHERE id = 'C-K'",
        [i64::MAX - 500_000_000_000_000],
    )
    .unwrap();
    let payment = json!({
        "id": "P-BIG", "customer_id": "C-K", "amount": "1000000000000.000", "currency": "KWD",
        "received_on": AS_OF, "method": "wire",
    });
    let refused = app.json_as(ASSOCIATE, "POST", "/payments", &payment);
    assert_eq!(problem_fields(&refused), ["amount"], "{}", refused.text());
    problem(&app.get_as(MANAGER, "/payments/P-BIG"), 404);
    let position = get_json(&app, "/customers/C-K");
    assert_eq!(
        position["unapplied_cash"], "9222872036854775.807",
        "unchanged"
    );
    let checked = app.erp(
        "POST",
        "/orders",
        &json!({"id": "SO-K", "customer_id": "C-K", "amount": "10.000", "currency": "KWD", "ordered_on": AS_OF, "as_of": AS_OF}),
    );
    assert_eq!(checked.status, 200, "{}", checked.text());
}
