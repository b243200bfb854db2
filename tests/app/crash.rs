//! Crash safety: the host is killed (SIGKILL) while payments stream in.
//! After a restart every acknowledged payment is there exactly once, no
//! payment is half-applied, and the balances add up to the cent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;
use e2e::{App, Client, MANAGER, Options};
use serde_json::Value;

const INVOICES: usize = 40;
const INVOICE_AMOUNT: &str = "100.00";
const PAYMENT_AMOUNT: &str = "7.50";
const SENDERS: usize = 4;

fn payment(id: &str) -> Value {
    payment_body(id, "C-1", PAYMENT_AMOUNT)
}

/// Posts payments `P-<sender>-<n>` until told to stop or the host dies;
/// returns the ids the host acknowledged with 201.
fn stream_payments(client: Client, sender: usize, stop: Arc<AtomicBool>) -> Vec<String> {
    let auth = format!("Bearer {MANAGER}");
    let mut acknowledged = vec![];
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let id = format!("P-{sender}-{n}");
        let body = payment(&id).to_string();
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        match client.try_send("POST", "/payments", &headers, body.as_bytes()) {
            Ok(reply) if reply.status == 201 => acknowledged.push(id),
            Ok(reply) => panic!("payment {id} refused: {} {}", reply.status, reply.text()),
            Err(_) => break, // the host is gone
        }
    }
    acknowledged
}

fn cents(text: &str) -> i64 {
    let (whole, fraction) = text.split_once('.').expect("two decimals");
    whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

#[test]
fn every_acknowledged_payment_survives_a_kill_exactly_once() {
    let app = App::start();
    customer(&app, "C-1", None);
    for i in 0..INVOICES {
        invoice(
            &app,
            &format!("INV-{i:03}"),
            "C-1",
            "2025-07-31",
            INVOICE_AMOUNT,
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (client, stop) = (app.client(), stop.clone());
            std::thread::spawn(move || stream_payments(client, sender, stop))
        })
        .collect();
    wait_for_payments(&app, 40);
    let state_dir = app.kill();
    stop.store(true, Ordering::Relaxed);
    let by_sender: Vec<Vec<String>> = senders
        .into_iter()
        .map(|sender| sender.join().expect("sender thread"))
        .collect();
    let acknowledged: Vec<String> = by_sender.iter().flatten().cloned().collect();
    // Logged as accepted but not yet heard by its sender: one per sender.
    assert!(
        acknowledged.len() >= 40 - SENDERS,
        "only {} acknowledged",
        acknowledged.len()
    );

    let app = App::start_in(Options::app(), state_dir);
    for id in &acknowledged {
        let stored = app.get_as(MANAGER, &format!("/payments/{id}"));
        assert_eq!(stored.status, 200, "acknowledged payment {id} was lost");
        assert_eq!(stored.json()["amount"], PAYMENT_AMOUNT);
    }
    // Each sender had at most one payment in flight when the host died: it
    // is either wholly there or not at all.
    let in_flight_committed = by_sender
        .iter()
        .enumerate()
        .filter(|(sender, sent)| {
            let id = format!("P-{sender}-{}", sent.len());
            app.get_as(MANAGER, &format!("/payments/{id}")).status == 200
        })
        .count();
    let on_record = (acknowledged.len() + in_flight_committed) as i64;
    assert_eq!(paid_cents(&app), on_record * cents(PAYMENT_AMOUNT));

    // The ERP retries what it never heard back about: acknowledged ones are
    // answered again, nothing is applied twice.
    for id in &acknowledged {
        let again = app.json_as(MANAGER, "POST", "/payments", &payment(id));
        assert_eq!(again.status, 201);
        assert_eq!(again.header("idempotent-replay"), Some("true"), "{id}");
    }
    assert_eq!(paid_cents(&app), on_record * cents(PAYMENT_AMOUNT));
}

/// Waits until the host has logged `count` accepted payments.
fn wait_for_payments(app: &App, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = 0;
    while seen < count {
        assert!(Instant::now() < deadline, "payments did not get through");
        if app
            .wait_for_log("POST /payments payment-intake 201", Duration::from_secs(10))
            .is_some()
        {
            seen += 1;
        }
    }
}

/// What the customer has paid, from its balances: invoiced − open +
/// unapplied cash, in cents.
fn paid_cents(app: &App) -> i64 {
    let position = position(app, "C-1");
    let invoiced = INVOICES as i64 * cents(INVOICE_AMOUNT);
    let text = |field: &str| position[field].as_str().expect("an amount").to_string();
    invoiced - cents(&text("open_balance")) + cents(&text("unapplied_cash"))
}
