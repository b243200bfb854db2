//! The native baseline: the same hold checks the order-hold component runs
//! — policy load, `ledger::orders::check` (credit-core's rules and the
//! ledger's SQL in one transaction) — through rusqlite, on one thread,
//! without wasm or HTTP.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{NaiveDate, Utc};
use credit_core::Currency;
use ledger::Stamp;
use ledger::db::native::{MemoryKv, NativeDb};
use ledger::orders::{self, OrderWebhook};
use rust_decimal::Decimal;

use crate::book::{self, Dice};
use crate::stats::Latencies;

/// What a native run measured.
#[cfg_attr(test, derive(Default))]
pub struct NativeRun {
    pub checks: usize,
    pub elapsed: Duration,
    pub released: usize,
    pub held: usize,
    pub latencies: Latencies,
}

impl NativeRun {
    pub fn per_second(&self) -> f64 {
        self.checks as f64 / self.elapsed.as_secs_f64()
    }
}

/// Checks new orders for random customers of the book at `path` for
/// `duration`, one after the other.
pub fn run(path: &Path, duration: Duration) -> Result<NativeRun> {
    let db = NativeDb::open(path)?;
    let kv = MemoryKv::default();
    let as_of: NaiveDate = book::AS_OF.parse()?;
    let mut dice = Dice::new(7);
    let mut latencies = Vec::new();
    let (mut released, mut held) = (0, 0);
    let started = Instant::now();
    while started.elapsed() < duration {
        let order = next_order(&mut dice, latencies.len(), as_of);
        let began = Instant::now();
        let result = futures::executor::block_on(async {
            let policy = ledger::policy::load(&kv).await?;
            let stamp = Stamp::new("bench", Utc::now());
            orders::check(&db, &order, &policy, &stamp).await
        })?;
        latencies.push(began.elapsed());
        if result.status == credit_core::hold::OrderStatus::Held {
            held += 1;
        } else {
            released += 1;
        }
    }
    Ok(NativeRun {
        checks: latencies.len(),
        elapsed: started.elapsed(),
        released,
        held,
        latencies: Latencies::from_durations(latencies),
    })
}

/// A new order as the load generator sends them: a random customer, 500.00
/// to 5,000.99 in the customer's currency.
fn next_order(dice: &mut Dice, n: usize, as_of: NaiveDate) -> OrderWebhook {
    let customer = dice.roll(book::CUSTOMERS as u64) as usize;
    let currency = Currency::parse(book::currency(customer)).expect("a currency");
    let cents = dice.between(50_000, 500_099);
    OrderWebhook {
        id: format!("NATIVE-{n}"),
        customer_id: book::customer_id(customer),
        amount: Decimal::new(cents, 2),
        currency,
        ordered_on: as_of,
        requested_ship_on: None,
        as_of,
    }
}
