//! A realistic book to check orders against: 10,000 customers with 200,000
//! invoices (most paid; the open ones current, past due or disputed) and
//! 20,000 open orders, each with its decision. It is written with the
//! ledger's own migration and SQL (`NativeDb`), so the schema is the real
//! one, in one transaction: a few seconds, not minutes.
//!
//! Paid invoices carry `paid_minor` but no payment rows: the hold check
//! reads only open balances, and the book stays quick to write. A year of
//! the ERP's webhook claims and their stored answers comes with it
//! ([`crate::history`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use ledger::db::native::NativeDb;
use ledger::{Database, Value, params, schema};

/// The date the book and every check are as of.
pub const AS_OF: &str = "2025-06-30";
const AT: &str = "2025-06-30T08:00:00.000Z";

pub const CUSTOMERS: usize = 10_000;
const INVOICES_PER_CUSTOMER: usize = 20;
const ORDERS_PER_CUSTOMER: usize = 2;

/// The id of customer `n`.
pub fn customer_id(n: usize) -> String {
    format!("C-{n:05}")
}

/// Words customers' names are made of, as an ERP's master data has them:
/// some with accents (the search folds them), some sharing their start.
const NAME_WORDS: &[&str] = &[
    "Acme",
    "Atlas",
    "Nordic",
    "Nordstern",
    "Baltic",
    "Alpine",
    "Pacific",
    "Müller",
    "Société",
    "Générale",
    "Zürich",
    "Crown",
    "Summit",
    "Harbor",
    "Meridian",
    "Polar",
    "Sierra",
    "Delta",
    "Orion",
    "Vega",
    "Granite",
    "Cedar",
    "Oak",
    "Maple",
    "River",
    "Lakeside",
    "Eastern",
    "Western",
    "Central",
    "Royal",
];
const TRADE_WORDS: &[&str] = &[
    "Steel",
    "Foods",
    "Logistics",
    "Logic",
    "Textiles",
    "Timber",
    "Chemicals",
    "Plastics",
    "Paper",
    "Glass",
    "Tools",
    "Machines",
    "Motors",
    "Electric",
    "Pharma",
    "Farms",
    "Fisheries",
    "Brewing",
    "Dairy",
    "Optics",
    "Metals",
    "Marine",
    "Freight",
    "Supply",
    "Trading",
];
const LEGAL_FORMS: &[&str] = &[
    "Ltd", "GmbH", "Inc", "SA", "BV", "AB", "Oy", "SpA", "LLC", "AG",
];

/// The name of customer `n`: a place or brand word or two, a trade and a
/// legal form ("Nordic Steel AB", "Müller Alpine Dairy GmbH"), the same
/// every run.
pub fn customer_name(n: usize) -> String {
    let mut dice = Dice::new(n as u64 ^ 0x05ee_d0f4_a3e5);
    let mut pick = |words: &[&'static str]| words[dice.roll(words.len() as u64) as usize];
    let first = pick(NAME_WORDS);
    let second = pick(NAME_WORDS);
    let trade = pick(TRADE_WORDS);
    let form = pick(LEGAL_FORMS);
    if n.is_multiple_of(4) && first != second {
        format!("{first} {second} {trade} {form}")
    } else {
        format!("{first} {trade} {form}")
    }
}

/// Every tenth customer is invoiced in EUR, the others in USD (the load
/// generator's script follows the same rule).
pub fn currency(n: usize) -> &'static str {
    if n.is_multiple_of(10) { "EUR" } else { "USD" }
}

/// A small deterministic generator: the same book every run.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed)
    }

    /// A number in `0..sides`.
    pub fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        low + self.roll((high - low + 1) as u64) as i64
    }
}

/// What was written, and how long it took.
#[cfg_attr(test, derive(Default))]
pub struct Seeded {
    pub customers: usize,
    pub invoices: usize,
    pub open_invoices: usize,
    pub past_due_invoices: usize,
    pub disputed_invoices: usize,
    pub open_orders: usize,
    pub held_orders: usize,
    pub webhooks: crate::history::History,
    pub elapsed: Duration,
}

/// The book's files: the ledger and the key-value store.
pub struct Book {
    pub db: PathBuf,
    pub kv: PathBuf,
}

impl Book {
    /// Copies the book into a host's state directory, as the default
    /// database and key-value store, replacing what was there.
    pub fn install(&self, state_dir: &Path) -> Result<()> {
        std::fs::create_dir_all(state_dir)?;
        for (from, name) in [
            (&self.db, "sqlite_db.db"),
            (&self.kv, "sqlite_key_value.db"),
        ] {
            remove_database(&state_dir.join(name));
            std::fs::copy(from, state_dir.join(name))
                .with_context(|| format!("copying the book into {}", state_dir.display()))?;
        }
        Ok(())
    }
}

/// Deletes a SQLite database with its WAL and shared-memory files, those
/// of them that exist.
pub fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Writes the book into new SQLite files in `dir`.
pub fn seed(dir: &Path) -> Result<(Book, Seeded)> {
    let book = Book {
        db: dir.join("book.db"),
        kv: dir.join("book-kv.db"),
    };
    remove_database(&book.db);
    let started = Instant::now();
    let db = NativeDb::open(&book.db).map_err(anyhow::Error::from)?;
    block(schema::migrate(&db)).context("migrating the book's schema")?;
    let mut seeded = Seeded {
        customers: 0,
        invoices: 0,
        open_invoices: 0,
        past_due_invoices: 0,
        disputed_invoices: 0,
        open_orders: 0,
        held_orders: 0,
        webhooks: crate::history::History::default(),
        elapsed: Duration::ZERO,
    };
    let mut dice = Dice::new(42);
    let as_of: NaiveDate = AS_OF.parse().expect("a date");
    let day = |offset: i64| (as_of + chrono::Duration::days(offset)).to_string();
    run(&db, "BEGIN", vec![])?;
    for n in 0..CUSTOMERS {
        seed_customer(&db, &mut dice, n, &day, &mut seeded)?;
    }
    run(&db, "COMMIT", vec![])?;
    seeded.webhooks = crate::history::seed(&db, &book.kv, chrono::Utc::now())?;
    run(&db, "PRAGMA wal_checkpoint(TRUNCATE)", vec![])?;
    drop(db);
    seeded.elapsed = started.elapsed();
    Ok((book, seeded))
}

fn block<T>(
    future: impl Future<Output = Result<T, ledger::DbError>>,
) -> Result<T, ledger::DbError> {
    futures::executor::block_on(future)
}

fn run(db: &NativeDb, sql: &str, params: Vec<Value>) -> Result<()> {
    block(db.execute(sql, params)).with_context(|| format!("seeding: {sql}"))
}

/// An invoice before it is written.
struct Invoice {
    issued: i64,
    amount: i64,
    paid: i64,
    disputed: i64,
}

fn seed_customer(
    db: &NativeDb,
    dice: &mut Dice,
    n: usize,
    day: &impl Fn(i64) -> String,
    seeded: &mut Seeded,
) -> Result<()> {
    let id = customer_id(n);
    // One in four customers pays late: their past-due invoices are not in
    // dispute, so their orders are held for PAST_DUE. Good payers' past-due
    // invoices are disputed in full (still exposure, not past due).
    let slow_payer = dice.roll(4) == 0;
    let invoices: Vec<Invoice> = (0..INVOICES_PER_CUSTOMER)
        .map(|_| invoice(dice, slow_payer))
        .collect();
    let orders: Vec<(i64, bool)> = (0..ORDERS_PER_CUSTOMER)
        .map(|_| (dice.between(100_000, 1_000_000), dice.roll(100) < 15))
        .collect();
    let open: i64 = invoices.iter().map(|i| i.amount - i.paid).sum();
    let released: i64 = orders.iter().filter(|(_, held)| !held).map(|o| o.0).sum();
    let unapplied = if dice.roll(20) == 0 {
        dice.between(10_000, 500_000)
    } else {
        0
    };
    // Headroom under the limit: tight for some customers (orders often
    // exceed it), ample for most.
    let headroom = if dice.roll(100) < 15 {
        dice.between(0, 500_000)
    } else {
        dice.between(2_000_000, 20_000_000)
    };
    let limit = (open + released - unapplied + headroom).max(0) / 100_000 * 100_000 + 100_000;
    let special = dice.roll(100);
    let limit = if special == 1 { None } else { Some(limit) };
    run(
        db,
        "INSERT INTO customers (id, name, currency, credit_limit_minor, payment_terms_days, on_hold, exempt, unapplied_minor, created_at, updated_at, updated_by)
         VALUES (?, ?, ?, ?, 30, ?, ?, ?, ?, ?, 'erp')",
        params![&id, customer_name(n), currency(n), limit, special == 0, special == 2, unapplied, AT, AT],
    )?;
    seeded.customers += 1;
    for (i, invoice) in invoices.iter().enumerate() {
        let invoice_id = format!("INV-{n:05}-{i:02}");
        let open = invoice.amount - invoice.paid;
        run(
            db,
            "INSERT INTO invoices (id, customer_id, issued_on, due_on, amount_minor, paid_minor, open_minor, disputed_minor, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![&invoice_id, &id, day(invoice.issued), day(invoice.issued + 30), invoice.amount, invoice.paid, open, invoice.disputed, AT, AT],
        )?;
        seeded.invoices += 1;
        if open > 0 {
            seeded.open_invoices += 1;
            if invoice.issued + 30 < -5 {
                seeded.past_due_invoices += 1;
            }
        }
        if invoice.disputed > 0 {
            seeded.disputed_invoices += 1;
            let opened = invoice.issued + 35;
            run(
                db,
                "INSERT INTO disputes (invoice_id, customer_id, amount_minor, reason_code, status, opened_on, sla_due_on, opened_by, created_at, updated_at)
                 VALUES (?, ?, ?, 'PRICING', 'open', ?, ?, 'alice', ?, ?)",
                params![&invoice_id, &id, invoice.disputed, day(opened), day(opened + 14), AT, AT],
            )?;
        }
    }
    // Why this customer's orders are held (the rule that fails first).
    let reason = match special {
        0 => "ACCOUNT_ON_HOLD",
        1 => "NO_CREDIT_LIMIT",
        _ if slow_payer => "PAST_DUE",
        _ => "CREDIT_LIMIT_EXCEEDED",
    };
    for (o, (amount, held)) in orders.iter().enumerate() {
        let order_id = format!("SO-{n:05}-{o}");
        let status = if *held { "held" } else { "released" };
        let ordered = -dice.between(0, 20);
        // Held on the day it was ordered; the customer wants the goods
        // within a fortnight, for two orders in three.
        let checked_at = format!("{}T08:00:00.000Z", day(ordered));
        let held_since = held.then_some(checked_at.as_str());
        let ship_on = (dice.roll(3) > 0).then(|| day(ordered + dice.between(3, 14)));
        let reasons = if *held {
            format!(" {reason} ")
        } else {
            " ".into()
        };
        run(
            db,
            "INSERT INTO orders (id, customer_id, currency, amount_minor, ordered_on, requested_ship_on, status, held_since, hold_reasons, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![&order_id, &id, currency(n), *amount, day(ordered), ship_on, status, held_since, reasons, AT, AT],
        )?;
        let listed = if *held {
            format!(r#"{{"code":"{reason}","detail":"seeded"}}"#)
        } else {
            String::new()
        };
        let decision = format!(
            r#"{{"status":"{status}","reasons":[{listed}],"exposure":"0.00","credit_limit":null,"available":null,"past_due":"0.00"}}"#
        );
        run(
            db,
            "INSERT INTO order_decisions (order_id, decided_at, kind, trigger, actor, status, decision, inputs)
             VALUES (?, ?, 'check', 'order created', 'erp', ?, ?, '{}')",
            params![&order_id, &checked_at, status, decision],
        )?;
        seeded.open_orders += 1;
        seeded.held_orders += usize::from(*held);
    }
    Ok(())
}

/// Seven in ten invoices are paid; the open ones are current (two in
/// three) or past due (one in three).
fn invoice(dice: &mut Dice, slow_payer: bool) -> Invoice {
    let amount = dice.between(100_000, 2_000_000);
    let kind = dice.roll(100);
    let (issued, paid, disputed) = if kind < 70 {
        (-dice.between(40, 400), amount, 0)
    } else if kind < 90 {
        (-dice.between(0, 25), 0, 0)
    } else if !slow_payer {
        (-dice.between(40, 120), 0, amount)
    } else if dice.roll(10) < 3 {
        (-dice.between(40, 120), 0, amount / 2)
    } else {
        (-dice.between(40, 120), 0, 0)
    };
    Invoice {
        issued,
        amount,
        paid,
        disputed,
    }
}
