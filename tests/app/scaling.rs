//! Per-function scaling with real parts: order-hold on two host processes,
//! every other component on a third (`--component-id`), behind Debian's
//! nginx routing by path, all sharing one Redis key-value store (Debian's
//! redis-server) and one SQLite database. A concurrent mix of signed order
//! webhooks (each delivered several times at once), payments and manual
//! releases sent through nginx ends with exactly the balances, decisions
//! and claims one process gives for the same requests, and no request
//! fails. SpinKube runs the same split as one SpinApp per component group
//! (README, "Scaling one function").

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use api::webhook::{WebhookSecret, sign};
use e2e::servers::{self, ProxyRoute};
use e2e::{ASSOCIATE, App, Client, MANAGER, Options, Reply, WEBHOOK_SECRET, fresh_webhook_id};
use serde_json::{Value, json};

use crate::common::AS_OF;

/// Customers per group of the workload.
const PER_GROUP: usize = 6;
/// Copies of each order webhook delivered at once.
const COPIES: usize = 3;
/// How long a client keeps retrying a delivery the app answers 409 (the
/// first copy is still running).
const RETRY_FOR: Duration = Duration::from_secs(60);

/// Every component but order-hold: the third host.
const OTHER_COMPONENTS: &[&str] = &[
    "accounts",
    "payment-intake",
    "dispute-update",
    "credit-limit-request",
    "report",
    "web",
];

#[test]
fn order_hold_scaled_apart_behind_nginx_ends_as_one_process_does() {
    let single = App::start();
    let expected = run_workload(&single.client(), || claims(single.state_dir.path()));
    drop(single);

    let redis = servers::redis_server();
    let shared = tempfile::tempdir().unwrap();
    let config = runtime_config(shared.path(), &redis.redis_url());
    let order_hold = [
        App::start_with(host(&config, &["order-hold"])),
        App::start_with(host(&config, &["order-hold"])),
    ];
    let others = App::start_with(host(&config, OTHER_COMPONENTS));
    let proxy = servers::nginx(&[
        ProxyRoute {
            prefix: "/orders",
            backends: &[address(&order_hold[0]), address(&order_hold[1])],
        },
        ProxyRoute {
            prefix: "/",
            backends: &[address(&others)],
        },
    ]);
    let front = Client::for_url(&proxy.http_url());
    let scaled = run_workload(&front, || claims(shared.path()));

    assert_eq!(scaled, expected, "the scaled app ends as one process does");
    for (i, host) in order_hold.iter().enumerate() {
        let served = requests_served(host);
        assert!(
            served.iter().any(|line| line.starts_with("POST /orders")),
            "order-hold host {i} took order webhooks: {served:?}"
        );
        assert!(
            served.iter().all(|line| line.contains(" order-hold ")),
            "order-hold host {i} served only order-hold: {served:?}"
        );
    }
    let served = requests_served(&others);
    assert!(served.iter().any(|line| line.starts_with("POST /payments")));
    assert!(
        !served.iter().any(|line| line.contains(" order-hold ")),
        "the third host serves no orders: {served:?}"
    );
    // The webhooks' answers are in Redis, not in a local file.
    assert!(
        redis.redis_key_count() > 0,
        "the key-value store in use is Redis"
    );
    for host in order_hold.iter().chain([&others]) {
        let local_store = host.state_dir.path().join("sqlite_key_value.db");
        assert!(!local_store.exists(), "{}", local_store.display());
    }
}

/// The runtime config the three hosts share: the default key-value store in
/// Redis, the default database one SQLite file.
fn runtime_config(dir: &Path, redis_url: &str) -> String {
    let path = dir.join("runtime-config.toml");
    let database = dir.join("sqlite_db.db");
    std::fs::write(
        &path,
        format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"{redis_url}\"\n\n\
             [sqlite_database.default]\ntype = \"spin\"\npath = \"{}\"\n",
            database.display()
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn host(runtime_config: &str, components: &[&str]) -> Options {
    let options = Options::app()
        .arg("--runtime-config-file")
        .arg(runtime_config);
    components
        .iter()
        .fold(options, |options, id| options.arg("--component-id").arg(id))
}

fn address(app: &App) -> SocketAddr {
    app.address().parse().expect("the host's address")
}

/// The request-log lines of a host (method, path, component, status).
fn requests_served(app: &App) -> Vec<String> {
    app.log_lines()
        .into_iter()
        .filter(|line| line.starts_with(['G', 'P', 'D']) && line.ends_with("ms"))
        .collect()
}

/// The webhook and Idempotency-Key claims in a host's database.
fn claims(state_dir: &Path) -> i64 {
    let connection = rusqlite::Connection::open(state_dir.join("sqlite_db.db")).unwrap();
    connection
        .query_row("SELECT count(*) FROM request_claims", [], |row| row.get(0))
        .unwrap()
}

/// What the workload leaves: every customer's position and every order's
/// status and decisions (without times), and the number of claims.
#[derive(Debug, PartialEq)]
struct Outcome {
    positions: BTreeMap<String, Value>,
    orders: BTreeMap<String, Value>,
    claims: i64,
}

fn customer_id(i: usize) -> String {
    format!("C-{i}")
}

/// Seeds a book, runs the concurrent mix through `client`, and reads back
/// what it left.
fn run_workload(client: &Client, claims: impl Fn() -> i64) -> Outcome {
    seed(client);
    let before = claims();
    let webhooks = concurrent_mix(client);
    let outcome = read_outcome(client, claims());
    assert_eq!(
        outcome.claims - before,
        webhooks,
        "one claim per webhook message, whatever its copies"
    );
    outcome
}

/// Customers with a 10,000.00 limit and a 6,000.00 invoice not yet due;
/// customers of the second and third groups also have a held order of
/// 5,000.00 (exposure 11,000.00).
fn seed(client: &Client) {
    for i in 0..3 * PER_GROUP {
        let id = customer_id(i);
        let customer = json!({"name": format!("{id} Ltd"), "currency": "USD", "credit_limit": "10000.00", "payment_terms_days": 30});
        expect(
            &signed(
                client,
                "PUT",
                &format!("/customers/{id}"),
                &customer,
                &fresh_webhook_id(),
            ),
            &[200, 201],
        );
        let invoice = json!({"customer_id": id, "issued_on": "2025-06-10", "due_on": "2025-07-10", "amount": "6000.00", "currency": "USD"});
        expect(
            &signed(
                client,
                "PUT",
                &format!("/invoices/INV-{i}"),
                &invoice,
                &fresh_webhook_id(),
            ),
            &[201],
        );
        if i >= PER_GROUP {
            let held = signed(
                client,
                "POST",
                "/orders",
                &order_body(i, 0, "5000.00"),
                &fresh_webhook_id(),
            );
            expect(&held, &[200]);
            assert_eq!(held.json()["status"], "held", "{}", held.text());
        }
    }
}

fn order_body(customer: usize, n: usize, amount: &str) -> Value {
    json!({
        "id": format!("SO-{customer}-{n}"),
        "customer_id": customer_id(customer),
        "amount": amount,
        "currency": "USD",
        "ordered_on": AS_OF,
        "as_of": AS_OF,
    })
}

/// A request of the mix and the statuses its final answer may have.
struct Job {
    method: &'static str,
    path: String,
    body: Value,
    /// Signed as the ERP with this webhook id, or sent as an associate.
    webhook_id: Option<String>,
    copies: usize,
    ok: &'static [u16],
}

/// All at once through `client`: each customer of the first group gets an
/// order webhook (released when it fits the limit, held otherwise), each
/// delivered `COPIES` times at once; the second group a payment (delivered
/// twice) that clears its held order; the third group's held orders are
/// released by hand. Returns the number of webhook messages sent.
fn concurrent_mix(client: &Client) -> i64 {
    let mut jobs = vec![];
    for i in 0..PER_GROUP {
        let amount = if i % 2 == 0 { "3000.00" } else { "4500.00" };
        jobs.push(Job {
            method: "POST",
            path: "/orders".into(),
            body: order_body(i, 1, amount),
            webhook_id: Some(fresh_webhook_id()),
            copies: COPIES,
            ok: &[200],
        });
    }
    for i in PER_GROUP..2 * PER_GROUP {
        let payment = json!({"id": format!("PAY-{i}"), "customer_id": customer_id(i), "amount": "2000.00", "currency": "USD", "received_on": AS_OF, "method": "ach", "as_of": AS_OF});
        jobs.push(Job {
            method: "POST",
            path: "/payments".into(),
            body: payment,
            webhook_id: Some(fresh_webhook_id()),
            copies: 2,
            ok: &[201],
        });
    }
    for i in 2 * PER_GROUP..3 * PER_GROUP {
        jobs.push(Job {
            method: "POST",
            path: format!("/orders/SO-{i}-0/release?as_of={AS_OF}"),
            body: json!({"note": "cleared by phone with the customer"}),
            webhook_id: None,
            copies: 1,
            ok: &[200],
        });
    }
    let webhooks = jobs.iter().filter(|job| job.webhook_id.is_some()).count() as i64;
    let deliveries: Vec<(&Job, usize)> = jobs
        .iter()
        .flat_map(|job| (0..job.copies).map(move |copy| (job, copy)))
        .collect();
    let barrier = std::sync::Barrier::new(deliveries.len());
    std::thread::scope(|scope| {
        let threads: Vec<_> = deliveries
            .iter()
            .map(|(job, copy)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    (job, *copy, deliver(client, job))
                })
            })
            .collect();
        let mut first_answers: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for thread in threads {
            let (job, copy, reply) = thread.join().expect("a delivery thread");
            expect(&reply, job.ok);
            // Every copy of a message gets the first copy's answer.
            let answer = first_answers.entry(job.path.clone() + &job.body.to_string());
            let first = answer.or_insert_with(|| reply.body.clone());
            assert_eq!(
                *first, reply.body,
                "copy {copy} of {} {}",
                job.method, job.path
            );
        }
    });
    webhooks
}

/// Sends one copy of a job; a 409 (another copy of the message is running)
/// is retried after the `Retry-After` the app gives, as the ERP does.
fn deliver(client: &Client, job: &Job) -> Reply {
    let started = Instant::now();
    loop {
        let reply = match &job.webhook_id {
            Some(id) => signed(client, job.method, &job.path, &job.body, id),
            None => as_person(client, ASSOCIATE, job.method, &job.path, &job.body),
        };
        if reply.status != 409 || started.elapsed() > RETRY_FOR {
            return reply;
        }
        let wait: u64 = reply
            .header("retry-after")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        std::thread::sleep(Duration::from_secs(wait));
    }
}

fn signed(client: &Client, method: &str, path: &str, body: &Value, webhook_id: &str) -> Reply {
    let body = body.to_string();
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    let signature = sign(&secret, webhook_id, timestamp, body.as_bytes());
    let timestamp = timestamp.to_string();
    let headers = [
        ("content-type", "application/json"),
        ("webhook-id", webhook_id),
        ("webhook-timestamp", timestamp.as_str()),
        ("webhook-signature", signature.as_str()),
    ];
    sent(
        client.try_send(method, path, &headers, body.as_bytes()),
        method,
        path,
    )
}

fn as_person(client: &Client, token: &str, method: &str, path: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = body.to_string();
    sent(
        client.try_send(method, path, &headers, body.as_bytes()),
        method,
        path,
    )
}

/// A request that reached an answer: a failed exchange fails the test.
fn sent(reply: Result<Reply, String>, method: &str, path: &str) -> Reply {
    reply.unwrap_or_else(|e| panic!("{method} {path} failed: {e}"))
}

fn expect(reply: &Reply, statuses: &[u16]) {
    assert!(
        statuses.contains(&reply.status),
        "expected {statuses:?}, got {}: {}",
        reply.status,
        reply.text()
    );
}

/// Positions and orders as one would compare them across runs: times left out.
fn read_outcome(client: &Client, claims: i64) -> Outcome {
    let mut positions = BTreeMap::new();
    let mut orders = BTreeMap::new();
    for i in 0..3 * PER_GROUP {
        let id = customer_id(i);
        let position = get(client, &format!("/customers/{id}?as_of={AS_OF}"));
        let held: Vec<Value> = position["held_orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["order_id"].clone())
            .collect();
        positions.insert(
            id,
            json!({
                "open_balance": position["open_balance"],
                "unapplied_cash": position["unapplied_cash"],
                "released_orders_total": position["released_orders_total"],
                "exposure": position["exposure"],
                "available": position["available"],
                "past_due": position["past_due"],
                "held_orders": held,
            }),
        );
        for n in 0..2 {
            let order_id = format!("SO-{i}-{n}");
            let reply = as_person(
                client,
                MANAGER,
                "GET",
                &format!("/orders/{order_id}"),
                &json!({}),
            );
            if reply.status == 404 {
                continue;
            }
            expect(&reply, &[200]);
            orders.insert(order_id, without_times(&reply.json()));
        }
    }
    let outcome = Outcome {
        positions,
        orders,
        claims,
    };
    assert_meaningful(&outcome);
    outcome
}

fn get(client: &Client, path: &str) -> Value {
    let reply = as_person(client, ASSOCIATE, "GET", path, &json!({}));
    expect(&reply, &[200]);
    reply.json()
}

fn without_times(order: &Value) -> Value {
    let decisions: Vec<Value> = order["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            json!({
                "kind": d["kind"],
                "trigger": d["trigger"],
                "by": d["by"],
                "status": d["status"],
                "reasons": d["reasons"],
                "exposure": d["exposure"],
                "available": d["available"],
            })
        })
        .collect();
    json!({"status": order["status"], "amount": order["amount"], "decisions": decisions})
}

/// The workload did what it was meant to: fitting orders released, the
/// others held, payments and people released what was held.
fn assert_meaningful(outcome: &Outcome) {
    let status = |order: &str| outcome.orders[order]["status"].clone();
    for i in 0..PER_GROUP {
        let expected = if i % 2 == 0 { "released" } else { "held" };
        assert_eq!(status(&format!("SO-{i}-1")), expected, "SO-{i}-1");
    }
    for i in PER_GROUP..3 * PER_GROUP {
        assert_eq!(status(&format!("SO-{i}-0")), "released", "SO-{i}-0");
    }
    let kinds = |order: &str| -> Vec<Value> {
        let decisions = outcome.orders[order]["decisions"].as_array().unwrap();
        decisions.iter().map(|d| d["kind"].clone()).collect()
    };
    assert_eq!(
        kinds(&format!("SO-{PER_GROUP}-0")),
        [json!("check"), json!("recheck")]
    );
    assert_eq!(
        kinds(&format!("SO-{}-0", 2 * PER_GROUP)),
        [json!("check"), json!("manual_release")]
    );
    assert_eq!(
        outcome.positions[&customer_id(PER_GROUP)]["open_balance"],
        "4000.00",
        "the payment applied once"
    );
}
