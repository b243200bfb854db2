//! Decisions back to the ERP over HTTP: the event feed by cursor, and
//! events pushed to a real local receiver as signed Standard Webhooks —
//! through failures, a killed host and concurrent writers, nothing lost,
//! nothing reordered for a subject.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;
use api::webhook::{WebhookHeaders, WebhookSecret, verify};
use e2e::servers::HttpEcho;
use e2e::{ASSOCIATE, App, INTEGRATION, MANAGER, Options};
use serde_json::{Value, json};

/// The secret pushed events are signed with, as the ERP keeps it.
const EVENTS_SECRET: &str = "whsec_ZXJwLWV2ZW50cy1zZWNyZXQtZm9yLXRlc3Rz";

fn pushing_to(erp: &HttpEcho) -> Options {
    Options::app()
        .env("SPIN_VARIABLE_ERP_EVENTS_URL", &erp.url("/credit-events"))
        .env(
            "SPIN_VARIABLE_ERP_EVENTS_HOST",
            &format!("http://{}", erp.address()),
        )
        .env("SPIN_VARIABLE_ERP_EVENTS_SECRET", EVENTS_SECRET)
}

/// One event-delivery run, as the scheduler starts it.
fn run_delivery(app: &App) -> Value {
    let reply = app.json_as(INTEGRATION, "POST", "/events/deliveries/run", &json!({}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// What a manager reads at `path`.
fn manager_reads(app: &App, path: &str) -> Value {
    let reply = app.get_as(MANAGER, path);
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
    reply.json()
}

fn delivery_health(app: &App) -> Value {
    manager_reads(app, "/events/deliveries")
}

/// A pushed message as the ERP checks it: signature verified, then read.
#[derive(Debug, Clone)]
struct Pushed {
    webhook_id: String,
    status_answered: u16,
    event: Value,
}

fn pushed(erp: &HttpEcho, answered: &BTreeMap<usize, u16>) -> Vec<Pushed> {
    let secret = WebhookSecret::parse(EVENTS_SECRET).unwrap();
    erp.received()
        .iter()
        .enumerate()
        .map(|(n, request)| {
            assert_eq!(request["path"], "/credit-events");
            let header = |name: &str| request["headers"][name].as_str().unwrap().to_string();
            let (id, timestamp, signature) = (
                header("webhook-id"),
                header("webhook-timestamp"),
                header("webhook-signature"),
            );
            let body = request["body"].as_str().unwrap();
            let headers = WebhookHeaders {
                id: &id,
                timestamp: &timestamp,
                signature: &signature,
            };
            let now = timestamp.parse().unwrap();
            assert_eq!(
                verify(&secret, &headers, body.as_bytes(), now),
                Ok(()),
                "{id}"
            );
            let event: Value = serde_json::from_str(body).unwrap();
            assert_eq!(event["id"], id.as_str(), "webhook-id is the event id");
            Pushed {
                webhook_id: id,
                status_answered: answered.range(..=n).next_back().map_or(200, |(_, s)| *s),
                event,
            }
        })
        .collect()
}

/// As if the waits before the pending events' next attempts had passed.
fn make_retries_due(app: &App) {
    let db = rusqlite::Connection::open(app.state_dir.path().join("sqlite_db.db")).unwrap();
    let due = db
        .execute(
            "UPDATE events SET next_attempt_at = '2000-01-01T00:00:00.000Z'
             WHERE push_status = 'pending' AND next_attempt_at IS NOT NULL",
            [],
        )
        .unwrap();
    assert!(due > 0, "no retry was waiting");
}

/// Runs delivery until nothing is pending (or the deadline passes).
fn deliver_everything(app: &App) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while delivery_health(app)["pending"] != 0 {
        assert!(Instant::now() < deadline, "{}", delivery_health(app));
        run_delivery(app);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_hold_then_a_release_by_payment_reach_the_erp_signed_and_in_order_through_failures() {
    let erp = HttpEcho::start();
    let app = App::start_with(pushing_to(&erp));
    customer(&app, "C-8", Some("40000.00"));
    invoice(&app, "INV-A", "C-8", "2025-05-20", "4000.00");
    invoice(&app, "INV-B", "C-8", "2025-06-10", "6000.00");
    assert_eq!(decision(&app, "SO-1", "C-8", "12000.00")["status"], "held");
    let first = run_delivery(&app);
    assert_eq!(first["delivered"], 1, "{first}");

    let mut answered = BTreeMap::new();
    answered.insert(erp.received().len(), 500);
    erp.answer(500);
    let payment = payment_body("PAY-1", "C-8", "11000.00");
    let posted = app.json_as(ASSOCIATE, "POST", "/payments", &payment);
    assert_eq!(posted.json()["released_orders"], json!(["SO-1"]));
    let failing = run_delivery(&app);
    assert_eq!(failing["retrying"], 2, "{failing}");
    let health = delivery_health(&app);
    assert_eq!(health["pending"], 2);
    assert_eq!(health["last_error"], "the ERP answered HTTP 500");

    answered.insert(erp.received().len(), 200);
    erp.answer(200);
    // The first retry waits 5 s (credit-core's `next_attempt`); the ledger
    // tests that nothing is pushed before it is due. Make it due now.
    make_retries_due(&app);
    deliver_everything(&app);
    let pushed = pushed(&erp, &answered);
    // In feed order for each subject (subjects may interleave).
    let mut accepted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in pushed.iter().filter(|p| p.status_answered == 200) {
        let subject = p.event["subject"].as_str().unwrap().to_string();
        let kind = p.event["type"].as_str().unwrap().to_string();
        accepted.entry(subject).or_default().push(kind);
    }
    assert_eq!(accepted["SO-1"], ["order.held", "order.released"]);
    assert_eq!(accepted["PAY-1"], ["payment.posted"]);
    assert_eq!(accepted.len(), 2);
    let released = pushed
        .iter()
        .rev()
        .find(|p| p.event["type"] == "order.released")
        .unwrap();
    assert_eq!(released.event["data"]["cause"], "payment");
    assert_eq!(released.event["data"]["cause_id"], "PAY-1");
    let refused_ids: BTreeSet<&str> = pushed
        .iter()
        .filter(|p| p.status_answered == 500)
        .map(|p| p.webhook_id.as_str())
        .collect();
    let retried_ids: BTreeSet<&str> = pushed[3..].iter().map(|p| p.webhook_id.as_str()).collect();
    assert!(!refused_ids.is_empty());
    assert_eq!(
        refused_ids, retried_ids,
        "the same webhook-ids again, nothing new"
    );
    let health = delivery_health(&app);
    assert_eq!(
        (health["pending"].clone(), health["failed"].clone()),
        (json!(0), json!(0))
    );
    assert!(health["last_success_at"].is_string());
}

#[test]
fn after_a_kill_every_committed_change_has_its_event_and_is_delivered() {
    let erp = HttpEcho::start();
    let app = App::start_with(pushing_to(&erp));
    for c in 0..4 {
        customer(&app, &format!("C-{c}"), Some("5000.00"));
        invoice(
            &app,
            &format!("INV-{c}"),
            &format!("C-{c}"),
            "2025-07-31",
            "4000.00",
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|c| {
            let (client, stop) = (app.client(), stop.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let (customer, id) = (format!("C-{c}"), format!("{c}-{n}"));
                    let order = json!({"id": format!("SO-{id}"), "customer_id": customer, "amount": "300.00",
                        "currency": "USD", "ordered_on": AS_OF, "as_of": AS_OF});
                    let payment = payment_body(&format!("PAY-{id}"), &customer, "10.00");
                    for (path, body) in [("/orders", order), ("/payments", payment)] {
                        let auth = format!("Bearer {MANAGER}");
                        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
                        if client.try_send("POST", path, &headers, body.to_string().as_bytes()).is_err() {
                            return; // the host is gone
                        }
                    }
                }
            })
        })
        .collect();
    let runs = {
        let (client, stop) = (app.client(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let auth = format!("Bearer {INTEGRATION}");
                let _ = client.try_send(
                    "POST",
                    "/events/deliveries/run",
                    &[("authorization", &auth)],
                    b"",
                );
            }
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let state_dir = app.kill();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    runs.join().unwrap();
    expire_the_pushers_lease(&state_dir);

    let app = App::start_in(pushing_to(&erp), state_dir);
    deliver_everything(&app);
    let db = rusqlite::Connection::open(app.state_dir.path().join("sqlite_db.db")).unwrap();
    let rows = |sql: &str| -> BTreeSet<(String, String)> {
        let mut statement = db.prepare(sql).unwrap();
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let orders = rows("SELECT id, status FROM orders");
    let payments = rows("SELECT id, customer_id FROM payments");
    assert!(
        orders.len() >= 8 && payments.len() >= 4,
        "{} {}",
        orders.len(),
        payments.len()
    );

    let feed = read_whole_feed(&app, 50);
    let mut last_order_status = BTreeMap::new();
    let mut posted = BTreeSet::new();
    for event in &feed {
        let subject = event["subject"].as_str().unwrap().to_string();
        match event["type"].as_str().unwrap() {
            "order.held" | "order.released" => {
                last_order_status.insert(
                    subject,
                    event["data"]["status"].as_str().unwrap().to_string(),
                );
            }
            "payment.posted" => {
                posted.insert(subject);
            }
            other => panic!("unexpected {other}"),
        }
    }
    let committed_orders: BTreeSet<(String, String)> = last_order_status.into_iter().collect();
    assert_eq!(
        committed_orders, orders,
        "each order's last event tells its status, and no more"
    );
    let committed_payments: BTreeSet<String> = payments.into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        posted, committed_payments,
        "a payment.posted for each payment, and no more"
    );
    let delivered: BTreeSet<String> = erp
        .received()
        .iter()
        .map(|r| r["headers"]["webhook-id"].as_str().unwrap().to_string())
        .collect();
    let ids: BTreeSet<String> = feed
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(delivered, ids, "every event pushed, none made up");
}

/// A run killed while pushing leaves its lease behind, which lapses 20 s
/// on (`api::push::LEASE_FOR`); the ledger tests that a lapsed lease is
/// taken over. As if those 20 s had passed.
fn expire_the_pushers_lease(state_dir: &tempfile::TempDir) {
    let db = rusqlite::Connection::open(state_dir.path().join("sqlite_db.db")).unwrap();
    db.execute(
        "UPDATE event_push_lease SET expires_at = '2000-01-01T00:00:00.000Z'",
        [],
    )
    .unwrap();
}

/// The whole feed from the start, `page` events at a time.
fn read_whole_feed(app: &App, page: usize) -> Vec<Value> {
    let mut events = vec![];
    let mut cursor = "0".to_string();
    loop {
        let reply = app.get_as(INTEGRATION, &format!("/events?after={cursor}&limit={page}"));
        assert_eq!(reply.status, 200, "{}", reply.text());
        let body = reply.json();
        let batch = body["events"].as_array().unwrap().clone();
        cursor = body["next"].as_str().unwrap().to_string();
        if batch.is_empty() {
            return events;
        }
        events.extend(batch);
    }
}

#[test]
fn paging_the_feed_while_writers_are_busy_never_skips_an_event() {
    let app = App::start();
    customer(&app, "C-1", Some("1000000.00"));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let client = app.client();
            std::thread::spawn(move || {
                let auth = format!("Bearer {MANAGER}");
                let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
                for n in 0..60 {
                    let order = json!({"id": format!("SO-{w}-{n}"), "customer_id": "C-1", "amount": "1.00",
                        "currency": "USD", "ordered_on": AS_OF, "as_of": AS_OF});
                    let reply = client.send("POST", "/orders", &headers, order.to_string().as_bytes());
                    assert_eq!(reply.status, 200);
                }
            })
        })
        .collect();
    let reader = {
        let (client, stop) = (app.client(), stop.clone());
        std::thread::spawn(move || {
            let auth = format!("Bearer {INTEGRATION}");
            let (mut seen, mut cursor) = (vec![], "0".to_string());
            loop {
                let done = stop.load(Ordering::SeqCst);
                let reply = client.send(
                    "GET",
                    &format!("/events?after={cursor}&limit=7"),
                    &[("authorization", &auth)],
                    b"",
                );
                let body = reply.json();
                let batch = body["events"].as_array().unwrap().clone();
                cursor = body["next"].as_str().unwrap().to_string();
                seen.extend(batch.iter().map(|e| e["id"].as_str().unwrap().to_string()));
                if done && batch.is_empty() {
                    return seen;
                }
            }
        })
    };
    for writer in writers {
        writer.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let seen = reader.join().unwrap();
    let expected: Vec<String> = (1..=180).map(|n| format!("evt_{n}")).collect();
    assert_eq!(seen, expected, "every event once, in order, none skipped");
}

#[test]
fn the_feed_is_for_the_integration_and_managers_and_refuses_bad_cursors() {
    let app = App::start();
    customer(&app, "C-1", Some("1000.00"));
    decision(&app, "SO-1", "C-1", "5000.00");
    let feed = app.get_as(INTEGRATION, "/events").json();
    assert_eq!(feed["events"][0]["type"], "order.held");
    assert_eq!(feed["events"][0]["specversion"], "1.0");
    assert_eq!(feed["next"], "1");
    assert_eq!(
        manager_reads(&app, "/events?type=order.held")["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        manager_reads(&app, "/events?type=payment.posted")["events"],
        json!([])
    );
    problem(&app.get_as(ASSOCIATE, "/events"), 403);
    problem(&app.get("/events"), 401);
    problem(&app.get_as(INTEGRATION, "/orders"), 403);
    problem(&app.get_as(INTEGRATION, "/customers/C-1"), 403);
    problem(&app.get_as(INTEGRATION, "/events/deliveries"), 403);
    for bad in ["abc", "-1", "evt_1", "1.5", "99999999999999999999"] {
        let reply = problem(
            &app.get_as(INTEGRATION, &format!("/events?after={bad}")),
            400,
        );
        assert!(
            reply["detail"].as_str().unwrap().contains("cursor"),
            "{bad}"
        );
    }
    assert_eq!(
        problem_fields(&app.get_as(INTEGRATION, "/events?type=order.lost")),
        ["type"]
    );
    assert_eq!(
        problem_fields(&app.get_as(INTEGRATION, "/events?limit=0")),
        ["limit"]
    );
}

#[test]
fn a_manager_sees_delivery_health_and_redelivers_failed_events() {
    let erp = HttpEcho::start();
    let app = App::start_with(pushing_to(&erp));
    customer(&app, "C-1", Some("1000.00"));
    decision(&app, "SO-1", "C-1", "5000.00");
    decision(&app, "SO-2", "C-1", "6000.00");
    // As if a day of retries had failed.
    let db = rusqlite::Connection::open(app.state_dir.path().join("sqlite_db.db")).unwrap();
    db.execute(
        "UPDATE events SET push_status = 'failed', attempts = 33, last_error = 'the ERP answered HTTP 503'",
        [],
    )
    .unwrap();
    let health = delivery_health(&app);
    assert_eq!(health["pushing"], true);
    assert_eq!(
        (health["pending"].clone(), health["failed"].clone()),
        (json!(0), json!(2))
    );
    let failed = manager_reads(&app, "/events/deliveries/failed");
    assert_eq!(
        failed["events"][1]["last_error"],
        "the ERP answered HTTP 503"
    );
    assert_eq!(
        run_delivery(&app)["delivered"],
        0,
        "failed events are not retried on their own"
    );
    problem(
        &app.json_as(
            ASSOCIATE,
            "POST",
            "/events/deliveries/redeliver",
            &json!({}),
        ),
        403,
    );
    assert_eq!(
        problem_fields(&app.json_as(
            MANAGER,
            "POST",
            "/events/deliveries/redeliver",
            &json!({"event_ids": ["x"]})
        )),
        ["event_ids[0]"]
    );
    let null = app.json_as(
        MANAGER,
        "POST",
        "/events/deliveries/redeliver",
        &json!({"event_ids": null}),
    );
    assert_eq!(null.status, 422, "null is not every event: {}", null.text());
    let again = app.json_as(
        MANAGER,
        "POST",
        "/events/deliveries/redeliver",
        &json!({"event_ids": ["evt_2"]}),
    );
    assert_eq!(again.json()["redelivered"], json!(["evt_2"]));
    assert_eq!(run_delivery(&app)["delivered"], 1);
    let all = app.json_as(MANAGER, "POST", "/events/deliveries/redeliver", &json!({}));
    assert_eq!(all.json()["redelivered"], json!(["evt_1"]));
    deliver_everything(&app);
    let ids: Vec<String> = erp
        .received()
        .iter()
        .map(|r| r["headers"]["webhook-id"].as_str().unwrap().into())
        .collect();
    assert_eq!(ids, ["evt_2", "evt_1"]);
}

#[test]
fn without_an_erp_url_nothing_is_pushed_and_the_feed_still_fills() {
    let app = App::start();
    customer(&app, "C-1", Some("1000.00"));
    decision(&app, "SO-1", "C-1", "5000.00");
    let run = run_delivery(&app);
    assert_eq!(run["pushing"], false);
    assert_eq!(delivery_health(&app)["pushing"], false);
    assert_eq!(
        manager_reads(&app, "/events")["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
