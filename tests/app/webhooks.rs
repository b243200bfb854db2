//! Who may call, and requests that run once, over HTTP: the ERP's signed
//! webhooks (signatures, timestamps, roles), a webhook delivered twice —
//! also at the same time — and people's `Idempotency-Key`s. The tests
//! share one host, each with customers of its own.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::common::*;
use api::webhook::{WebhookSecret, sign};
use e2e::{ASSOCIATE, App, Client, Reply, WEBHOOK_SECRET, fresh_webhook_id};
use serde_json::{Value, json};

/// One host for the module: each test has customers of its own.
static HOST: LazyLock<&App> = LazyLock::new(shared_host);

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn secret() -> WebhookSecret {
    WebhookSecret::parse(WEBHOOK_SECRET).unwrap()
}

/// The Standard Webhooks headers of a message, with any signature header.
fn webhook_headers(id: &str, timestamp: i64, signature: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), timestamp.to_string()),
        ("webhook-signature".into(), signature.into()),
    ]
}

fn send(app: &App, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Reply {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.send(method, path, &headers, body)
}

/// A customer body the ERP sends.
fn customer_body(name: &str) -> Value {
    json!({"name": name, "currency": "USD", "credit_limit": "5000.00", "payment_terms_days": 30})
}

/// `PUT /customers/{customer_id}` signed at `timestamp` with
/// `signature(id, body)`.
fn put_customer_at(
    app: &App,
    customer_id: &str,
    timestamp: i64,
    signature: impl Fn(&str, &[u8]) -> String,
) -> Reply {
    let id = fresh_webhook_id();
    let body = customer_body("Signed Ltd").to_string();
    let headers = webhook_headers(&id, timestamp, &signature(&id, body.as_bytes()));
    let path = format!("/customers/{customer_id}");
    send(app, "PUT", &path, &headers, body.as_bytes())
}

fn genuine(timestamp: i64) -> impl Fn(&str, &[u8]) -> String {
    move |id, body| sign(&secret(), id, timestamp, body)
}

#[test]
fn a_fresh_timestamp_with_a_bad_signature_is_refused() {
    let app = *HOST;
    let forged = |_: &str, _: &[u8]| "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=".to_string();
    let reply = put_customer_at(app, "C-SIG", now(), forged);
    let document = problem(&reply, 401);
    assert!(document["detail"].as_str().unwrap().contains("signature"));
    // Signed for another body: refused too.
    let other_body = |id: &str, _: &[u8]| sign(&secret(), id, now(), b"{}");
    problem(&put_customer_at(app, "C-SIG", now(), other_body), 401);
    // Nothing was written.
    problem(&app.get_as(ASSOCIATE, "/customers/C-SIG"), 404);
}

#[test]
fn timestamps_six_minutes_off_are_refused_within_five_accepted() {
    let app = *HOST;
    for offset in [-360, 360] {
        let at = now() + offset;
        let reply = put_customer_at(app, "C-TIME", at, genuine(at));
        let document = problem(&reply, 401);
        assert!(
            document["detail"].as_str().unwrap().contains("5 minutes"),
            "{offset}: {document}"
        );
    }
    problem(&app.get_as(ASSOCIATE, "/customers/C-TIME"), 404);
    // At the edge of the tolerance: 5 minutes ahead, and just under 5
    // minutes behind (the request itself takes a moment).
    for offset in [300, -298] {
        let at = now() + offset;
        let reply = put_customer_at(app, "C-TIME", at, genuine(at));
        assert_eq!(reply.status, 200, "{offset}: {}", reply.text());
    }
}

#[test]
fn one_valid_signature_among_several_is_enough() {
    let app = *HOST;
    let at = now();
    let several = |id: &str, body: &[u8]| {
        format!(
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {}",
            sign(&secret(), id, at, body)
        )
    };
    let reply = put_customer_at(app, "C-SEVERAL", at, several);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(get_json(app, "/customers/C-SEVERAL")["name"], "Signed Ltd");
}

#[test]
fn missing_webhook_headers_are_refused() {
    let app = *HOST;
    let body = customer_body("Unsigned Ltd").to_string();
    let id = fresh_webhook_id();
    let at = now();
    let signature = sign(&secret(), &id, at, body.as_bytes());
    let complete = webhook_headers(&id, at, &signature);
    // No credentials at all: a bearer token is asked for.
    let bare = [("content-type".to_string(), "application/json".to_string())];
    let reply = send(app, "PUT", "/customers/C-HEADERS", &bare, body.as_bytes());
    problem(&reply, 401);
    assert!(reply.header("www-authenticate").is_some());
    // A signature without its id or timestamp.
    for missing in ["webhook-id", "webhook-timestamp"] {
        let headers: Vec<_> = complete
            .iter()
            .filter(|(name, _)| name != missing)
            .cloned()
            .collect();
        let reply = send(
            app,
            "PUT",
            "/customers/C-HEADERS",
            &headers,
            body.as_bytes(),
        );
        problem(&reply, 401);
    }
    // An empty signature header.
    let mut empty = complete.clone();
    empty[3].1 = String::new();
    problem(
        &send(app, "PUT", "/customers/C-HEADERS", &empty, body.as_bytes()),
        401,
    );
    problem(&app.get_as(ASSOCIATE, "/customers/C-HEADERS"), 404);
    // The complete message is taken.
    let reply = send(
        app,
        "PUT",
        "/customers/C-HEADERS",
        &complete,
        body.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn an_associate_token_on_an_erp_endpoint_is_forbidden() {
    let app = *HOST;
    customer(app, "C-ROLE", Some("5000.00"));
    let erp_calls = [
        ("PUT", "/customers/C-ROLE", customer_body("Renamed")),
        (
            "PUT",
            "/invoices/INV-ROLE",
            json!({"customer_id": "C-ROLE", "issued_on": "2025-06-01", "due_on": "2025-07-01", "amount": "10.00", "currency": "USD"}),
        ),
        (
            "POST",
            "/orders",
            json!({"id": "SO-ROLE", "customer_id": "C-ROLE", "amount": "1.00", "currency": "USD", "ordered_on": AS_OF}),
        ),
        ("POST", "/orders/SO-ROLE/cancel", json!({})),
    ];
    for (method, path, body) in erp_calls {
        let reply = as_associate(app, method, path, &body);
        let document = problem(&reply, 403);
        assert!(
            document["detail"].as_str().unwrap().contains("manager"),
            "{method} {path}: {document}"
        );
    }
    assert_eq!(get_json(app, "/customers/C-ROLE")["name"], "C-ROLE Ltd");
    problem(&app.get_as(ASSOCIATE, "/invoices/INV-ROLE"), 404);
}

/// One signed message, sent from several threads at once.
fn deliver_together(client: &Client, path: &str, body: &Value, copies: usize) -> Vec<Reply> {
    let id = fresh_webhook_id();
    let body = body.to_string();
    let at = now();
    let headers = webhook_headers(&id, at, &sign(&secret(), &id, at, body.as_bytes()));
    let barrier = std::sync::Barrier::new(copies);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..copies)
            .map(|_| {
                scope.spawn(|| {
                    let headers: Vec<(&str, &str)> = headers
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    barrier.wait();
                    client.send("PUT", path, &headers, body.as_bytes())
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

#[test]
fn a_webhook_delivered_twice_at_once_is_processed_once() {
    let app = *HOST;
    customer(app, "C-TOGETHER", Some("500000.00"));
    let client = app.client();
    let mut told_to_retry = 0;
    for n in 0..8 {
        let path = format!("/invoices/INV-TOGETHER-{n}");
        let body = json!({"customer_id": "C-TOGETHER", "issued_on": "2025-06-01", "due_on": "2025-07-01", "amount": "100.00", "currency": "USD"});
        let replies = deliver_together(&client, &path, &body, 4);
        let mut by_kind: BTreeMap<&str, Vec<&Reply>> = BTreeMap::new();
        for reply in &replies {
            let kind = match (reply.status, reply.header("webhook-replay")) {
                (201, None) => "processed",
                (201, Some("true")) => "replayed",
                (409, _) => "retry",
                _ => panic!("{path}: unexpected {} {}", reply.status, reply.text()),
            };
            by_kind.entry(kind).or_default().push(reply);
        }
        // Processed again, the invoice would exist: 200, not 201.
        assert_eq!(by_kind["processed"].len(), 1, "{path}: {by_kind:?}");
        let first = by_kind["processed"][0];
        for replayed in by_kind.get("replayed").into_iter().flatten() {
            assert_eq!(replayed.body, first.body, "{path}");
        }
        for retry in by_kind.get("retry").into_iter().flatten() {
            problem(retry, 409);
            assert_eq!(retry.header("retry-after"), Some("1"), "{path}");
            told_to_retry += 1;
        }
        assert_eq!(get_json(app, &path)["amount"], "100.00");
    }
    eprintln!("deliveries told to retry: {told_to_retry}");
    // Every invoice once: the customer owes 8 × 100.00.
    assert_eq!(position(app, "C-TOGETHER")["open_balance"], "800.00");
}

#[test]
fn a_webhook_redelivered_after_the_state_changed_gets_its_first_answer() {
    let app = *HOST;
    let first_body = customer_body("First Name Ltd");
    let first = app.erp_with_id("PUT", "/customers/C-REDO", &first_body, "msg_first");
    assert_eq!(first.status, 200, "{}", first.text());
    // The state changes under another message.
    let renamed = app.erp(
        "PUT",
        "/customers/C-REDO",
        &customer_body("Second Name Ltd"),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let again = app.erp_with_id("PUT", "/customers/C-REDO", &first_body, "msg_first");
    assert_eq!(again.status, 200);
    assert_eq!(again.header("webhook-replay"), Some("true"));
    assert_eq!(again.body, first.body, "the first body");
    assert_eq!(again.json()["name"], "First Name Ltd");
    assert_eq!(
        get_json(app, "/customers/C-REDO")["name"],
        "Second Name Ltd",
        "nothing changed"
    );

    // An order decided, then cancelled: its first decision replays, and
    // the order stays cancelled.
    let order = json!({"id": "SO-REDO", "customer_id": "C-REDO", "amount": "100.00", "currency": "USD", "ordered_on": AS_OF, "as_of": AS_OF});
    let decided = app.erp_with_id("POST", "/orders", &order, "msg_order");
    assert_eq!(decided.json()["status"], "released");
    let cancelled = app.erp("POST", "/orders/SO-REDO/cancel", &json!({}));
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    let replayed = app.erp_with_id("POST", "/orders", &order, "msg_order");
    assert_eq!(replayed.header("webhook-replay"), Some("true"));
    assert_eq!(replayed.body, decided.body);
    let now = get_json(app, "/orders/SO-REDO");
    assert_eq!(now["status"], "cancelled");
    let kinds: Vec<&str> = now["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["check", "cancel"], "no check again: {now}");
}

fn keyed(app: &App, token: &str, key: &str, path: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    app.send(
        "POST",
        path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
        body.to_string().as_bytes(),
    )
}

/// Customer `C-{tag}` with an invoice `INV-{tag}`.
fn idempotency_book(tag: &str) -> &'static App {
    let app = *HOST;
    customer(app, &format!("C-{tag}"), Some("5000.00"));
    invoice(
        app,
        &format!("INV-{tag}"),
        &format!("C-{tag}"),
        "2025-07-10",
        "1000.00",
    );
    app
}

#[test]
fn a_request_retried_with_its_idempotency_key_is_done_once() {
    let app = idempotency_book("KEYS");
    let posts = [
        (
            "/disputes",
            json!({"invoice_id": "INV-KEYS", "amount": "10.00", "reason_code": "PRICING", "note": "quote differs", "as_of": AS_OF}),
            "/disputes?customer_id=C-KEYS",
        ),
        (
            "/customers/C-KEYS/contacts",
            json!({"channel": "call", "outcome": "reached", "note": "will pay Friday"}),
            "/customers/C-KEYS/contacts",
        ),
        (
            "/credit-limit-requests",
            json!({"customer_id": "C-KEYS", "requested_limit": "9000.00", "reason": "seasonal"}),
            "/credit-limit-requests?customer_id=C-KEYS",
        ),
    ];
    for (path, body, list) in posts {
        let key = format!("\"key-{path}\"");
        let first = keyed(app, ASSOCIATE, &key, path, &body);
        assert_eq!(first.status, 201, "{path}: {}", first.text());
        assert_eq!(first.header("idempotent-replay"), None);
        let retry = keyed(app, ASSOCIATE, &key, path, &body);
        assert_eq!(retry.status, 201, "{path}: {}", retry.text());
        assert_eq!(retry.header("idempotent-replay"), Some("true"), "{path}");
        assert_eq!(retry.body, first.body, "{path}");
        assert_eq!(get_json(app, list).as_array().unwrap().len(), 1, "{path}");
        // The key with another body: 422, nothing done.
        let mut other = body.clone();
        other[if path == "/credit-limit-requests" {
            "reason"
        } else {
            "note"
        }] = json!("another");
        let reused = keyed(app, ASSOCIATE, &key, path, &other);
        let document = problem(&reused, 422);
        assert_eq!(document["type"], "/problems/idempotency-key-reused");
        assert_eq!(get_json(app, list).as_array().unwrap().len(), 1, "{path}");
        // Another person's key is their own; without a key, every request
        // counts. (A customer has one pending limit request at a time: the
        // second is a conflict, not the first answer.)
        let (again, listed) = if path == "/credit-limit-requests" {
            (409, 1)
        } else {
            (201, 3)
        };
        let bob = keyed(app, "tok-bob", &key, path, &body);
        assert_eq!(
            (bob.status, bob.header("idempotent-replay")),
            (again, None),
            "{path}"
        );
        let unkeyed = as_associate(app, "POST", path, &body);
        assert_eq!(unkeyed.status, again, "{path}: {}", unkeyed.text());
        assert_eq!(
            get_json(app, list).as_array().unwrap().len(),
            listed,
            "{path}"
        );
    }
}

#[test]
fn a_malformed_idempotency_key_is_a_bad_request() {
    let app = idempotency_book("MALFORMED");
    let body = json!({"channel": "call", "outcome": "reached", "note": "x"});
    let long = "k".repeat(256);
    for key in ["", "\"\"", "two words", "\"unterminated", long.as_str()] {
        let reply = keyed(
            app,
            ASSOCIATE,
            key,
            "/customers/C-MALFORMED/contacts",
            &body,
        );
        let document = problem(&reply, 400);
        assert!(
            document["detail"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{key:?}: {document}"
        );
    }
    assert_eq!(get_json(app, "/customers/C-MALFORMED/contacts"), json!([]));
}

#[test]
fn an_idempotency_key_sent_several_times_at_once_is_done_once() {
    let app = idempotency_book("KEYTOGETHER");
    let client = app.client();
    let body = json!({"channel": "visit", "outcome": "met", "note": "on site"}).to_string();
    let auth = format!("Bearer {ASSOCIATE}");
    let barrier = std::sync::Barrier::new(4);
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let headers = [
                        ("authorization", auth.as_str()),
                        ("content-type", "application/json"),
                        ("idempotency-key", "together"),
                    ];
                    barrier.wait();
                    client.send(
                        "POST",
                        "/customers/C-KEYTOGETHER/contacts",
                        &headers,
                        body.as_bytes(),
                    )
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let created: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == 201 && r.header("idempotent-replay").is_none())
        .collect();
    assert_eq!(created.len(), 1, "{replies:?}");
    for reply in &replies {
        match reply.status {
            201 => assert_eq!(reply.body, created[0].body),
            409 => assert_eq!(reply.header("retry-after"), Some("1")),
            other => panic!("unexpected {other}: {}", reply.text()),
        }
    }
    let listed = get_json(app, "/customers/C-KEYTOGETHER/contacts");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}
