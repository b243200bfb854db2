//! A year of the ERP's webhooks as the desk keeps them: a claim per message
//! in `request_claims` (the database) and its stored answer under the same
//! key in the key-value store, as [`api::replay`] leaves them. Claims are
//! purged after the policy's `request_retention_days` (7 by default) by each
//! event-delivery run; the book holds a whole year, as a desk upgraded to
//! the purge finds it, so the benchmark sees the tables at their largest
//! and the purge with a year of backlog to work through.
//!
//! The rate comes from the book itself: invoices issued over 400 days
//! (500 a day), a payment for seven in ten of them (350 a day), and the
//! orders and master-data changes in between: about 1,000 messages a day.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use ledger::db::native::NativeDb;
use ledger::{Database, Value, params};

use crate::book::{self, Dice};

/// Webhook messages the ERP sends in a day.
pub const WEBHOOKS_PER_DAY: usize = 1_000;
const DAYS: usize = 365;

/// The key-value store the components use (spin.toml's `key_value_stores`).
const STORE: &str = "default";

/// The key-value table as Spin (and the host) keep it.
const KV_TABLE: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key)
)";

/// What was written.
#[derive(Default)]
pub struct History {
    pub claims: usize,
    /// Claims older than the default retention (7 days) when written.
    pub expired: usize,
    /// Bytes of the stored answers.
    pub answer_bytes: usize,
}

/// Writes a year of claims up to `now` into the ledger at `db` and their
/// answers into a new key-value file at `kv_path`.
pub fn seed(db: &NativeDb, kv_path: &Path, now: DateTime<Utc>) -> Result<History> {
    book::remove_database(kv_path);
    let kv = NativeDb::open(kv_path).map_err(anyhow::Error::from)?;
    run(&kv, KV_TABLE, vec![])?;
    // Keys arrive in no order: keep the tables' pages in memory meanwhile.
    for store in [db, &kv] {
        run(store, "PRAGMA cache_size = -262144", vec![])?;
    }
    let mut dice = Dice::new(365);
    let total = WEBHOOKS_PER_DAY * DAYS;
    let step = Duration::days(DAYS as i64) / total as i32;
    let retention = now - Duration::days(7);
    let mut history = History {
        claims: 0,
        expired: 0,
        answer_bytes: 0,
    };
    run(db, "BEGIN", vec![])?;
    run(&kv, "BEGIN", vec![])?;
    for n in 0..total {
        let at = now - step * (total - n) as i32;
        let key = format!("webhook:msg_{:016x}{:08x}", dice.roll(u64::MAX), n);
        let answer = stored_answer(&mut dice, n);
        run(
            db,
            "INSERT INTO request_claims (key, fingerprint, claimed_at) VALUES (?, ?, ?)",
            params![&key, fingerprint(&mut dice), ledger::timestamp(at)],
        )?;
        run(
            &kv,
            "INSERT INTO spin_key_value (store, key, value) VALUES (?, ?, CAST(? AS BLOB))",
            params![STORE, &key, &answer],
        )?;
        history.claims += 1;
        history.expired += usize::from(at < retention);
        history.answer_bytes += answer.len();
    }
    run(&kv, "COMMIT", vec![])?;
    run(db, "COMMIT", vec![])?;
    run(&kv, "PRAGMA wal_checkpoint(TRUNCATE)", vec![])?;
    Ok(history)
}

fn run(db: &NativeDb, sql: &str, params: Vec<Value>) -> Result<()> {
    futures::executor::block_on(db.execute(sql, params))
        .with_context(|| format!("seeding the webhook history: {sql}"))
}

/// A SHA-256 in hex, as `api::replay` keeps a request's fingerprint.
fn fingerprint(dice: &mut Dice) -> String {
    (0..4)
        .map(|_| format!("{:016x}", dice.roll(u64::MAX)))
        .collect()
}

/// An answer as `api::replay` stores it: a hold check's, a payment's or an
/// invoice's JSON with its status, headers and the request's fingerprint.
fn stored_answer(dice: &mut Dice, n: usize) -> String {
    let body = match n % 4 {
        0 => format!(
            r#"{{"invoice_id":"INV-H{n}","customer_id":"C-{:05}","open":"{}.00","status":"open"}}"#,
            dice.roll(10_000),
            dice.between(1_000, 20_000)
        ),
        1 => format!(
            r#"{{"payment_id":"PAY-H{n}","customer_id":"C-{:05}","amount":"{}.00","allocations":[{{"invoice_id":"INV-H{}","amount":"{}.00"}}],"unapplied":"0.00","released_orders":[],"still_held":[]}}"#,
            dice.roll(10_000),
            dice.between(1_000, 20_000),
            n - 1,
            dice.between(1_000, 20_000)
        ),
        _ => format!(
            r#"{{"order_id":"SO-H{n}","status":"released","reasons":[],"exposure":"{}.00","credit_limit":"{}.00","available":"{}.00","past_due":"0.00","checked_at":"2026-01-01T00:00:00.000Z"}}"#,
            dice.between(1_000, 90_000),
            dice.between(100_000, 200_000),
            dice.between(10_000, 100_000)
        ),
    };
    let stored = serde_json::json!({
        "status": 200,
        "headers": [["content-type", "application/json"]],
        "body": body,
        "fingerprint": fingerprint(dice),
    });
    stored.to_string()
}
