//! A ledger on an in-memory SQLite database, and builders for the tests.

use chrono::{DateTime, NaiveDate, Utc};
use credit_core::{Currency, Policy};
use ledger::customers::CustomerUpdate;
use ledger::db::native::NativeDb;
use ledger::disputes::{DisputeChanged, NewDispute};
use ledger::invoices::{self, InvoiceUpdate};
use ledger::orders::{self, CheckResult, ManualRelease, OrderWebhook};
use ledger::payments::{NewPayment, Posted};
use ledger::workflows;
use ledger::{Stamp, schema};
use rust_decimal::Decimal;

pub use futures::executor::block_on;

pub const AS_OF: &str = "2025-06-30";

pub fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

pub fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

pub fn amount(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// The instant every test writes at: 09:00 UTC on the worked cases' date.
pub fn now() -> DateTime<Utc> {
    "2025-06-30T09:00:00Z".parse().unwrap()
}

pub fn stamp(by: &str) -> Stamp {
    Stamp::new(by, now())
}

/// A release by hand by an associate.
pub fn manual<'a>(note: &'a str, policy: &'a Policy, as_of: NaiveDate) -> ManualRelease<'a> {
    ManualRelease {
        note,
        by_manager: false,
        policy,
        as_of,
    }
}

pub struct Books {
    pub db: NativeDb,
    pub policy: Policy,
}

impl Books {
    pub fn new() -> Books {
        let db = NativeDb::open_in_memory().unwrap();
        block_on(schema::migrate(&db)).unwrap();
        Books {
            db,
            policy: Policy::default(),
        }
    }

    pub fn customer(&self, id: &str, limit: Option<&str>) {
        self.customer_in(id, "USD", limit);
    }

    /// A USD customer's master data as the ERP sends it.
    pub fn customer_update(&self, id: &str, limit: Option<&str>) -> CustomerUpdate {
        CustomerUpdate {
            name: format!("{id} Ltd"),
            currency: usd(),
            credit_limit: limit.map(amount),
            payment_terms_days: 30,
            grace_days: None,
            on_hold: false,
            exempt: false,
            dunning_exempt: false,
        }
    }

    /// A customer in any currency; `limit` None means no credit limit.
    pub fn customer_in(&self, id: &str, currency: &str, limit: Option<&str>) {
        let update = CustomerUpdate {
            currency: Currency::parse(currency).unwrap(),
            ..self.customer_update(id, limit)
        };
        block_on(workflows::customer::put(
            &self.db,
            id,
            &update,
            &self.policy,
            date(AS_OF),
            &stamp("erp"),
        ))
        .unwrap();
    }

    pub fn invoice(&self, id: &str, customer_id: &str, due_on: &str, value: &str) {
        let due_on = date(due_on);
        let update = InvoiceUpdate {
            customer_id: customer_id.into(),
            order_id: None,
            issued_on: due_on - chrono::Days::new(30),
            due_on,
            amount: amount(value),
            currency: usd(),
        };
        self.put_invoice(id, &update);
    }

    pub fn order(&self, id: &str, customer_id: &str, value: &str) -> CheckResult {
        self.try_order(id, customer_id, value, "2025-06-30")
            .unwrap()
    }

    pub fn try_order(
        &self,
        id: &str,
        customer_id: &str,
        value: &str,
        ordered_on: &str,
    ) -> ledger::Result<CheckResult> {
        let order = OrderWebhook {
            id: id.into(),
            customer_id: customer_id.into(),
            amount: amount(value),
            currency: usd(),
            ordered_on: date(ordered_on),
            requested_ship_on: None,
            as_of: date(AS_OF),
        };
        block_on(orders::check(&self.db, &order, &self.policy, &stamp("erp")))
    }

    /// A USD invoice with its own issue date.
    pub fn invoice_issued(
        &self,
        id: &str,
        customer_id: &str,
        issued_on: &str,
        due_on: &str,
        value: &str,
    ) {
        let update = InvoiceUpdate {
            customer_id: customer_id.into(),
            order_id: None,
            issued_on: date(issued_on),
            due_on: date(due_on),
            amount: amount(value),
            currency: usd(),
        };
        self.put_invoice(id, &update);
    }

    pub fn put_invoice(&self, id: &str, update: &InvoiceUpdate) -> workflows::invoice::PutInvoice {
        block_on(workflows::invoice::put(
            &self.db,
            id,
            update,
            &self.policy,
            date(AS_OF),
            &stamp("erp"),
        ))
        .unwrap()
    }

    /// Runs a statement, for seeding what has no ledger operation yet.
    pub fn sql(&self, sql: &str, params: Vec<ledger::Value>) {
        use ledger::Database;
        block_on(self.db.execute(sql, params)).unwrap();
    }

    /// Runs a statement that may be refused.
    pub fn try_sql(&self, sql: &str) -> Result<(), ledger::DbError> {
        use ledger::Database;
        block_on(self.db.execute(sql, vec![]))
    }

    pub fn count(&self, table: &str) -> i64 {
        use ledger::Database;
        let row = block_on(
            self.db
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), vec![]),
        )
        .unwrap()
        .unwrap();
        row.int(0).unwrap()
    }
}

/// Payments and disputes.
impl Books {
    /// A payment of `value` without remittance, received and re-checked as
    /// of the worked cases' date.
    pub fn payment(&self, id: &str, customer_id: &str, value: &str) -> NewPayment {
        NewPayment {
            id: id.into(),
            customer_id: customer_id.into(),
            amount: amount(value),
            currency: usd(),
            received_on: date(AS_OF),
            method: "ach".into(),
            reference: None,
            remittance: vec![],
            short_pay_reason: None,
            as_of: date(AS_OF),
        }
    }

    pub fn post(&self, payment: &NewPayment) -> ledger::Result<Posted> {
        block_on(workflows::payment::post(
            &self.db,
            payment,
            &self.policy,
            &stamp("alice"),
        ))
    }

    /// A dispute opened by alice on the worked cases' date.
    pub fn dispute(&self, invoice_id: &str, value: &str) -> ledger::Result<DisputeChanged> {
        let new = NewDispute {
            invoice_id: invoice_id.into(),
            amount: amount(value),
            reason_code: "PRICING".into(),
            note: "price differs from the quote".into(),
            opened_on: date(AS_OF),
        };
        block_on(workflows::dispute::open(
            &self.db,
            &new,
            date(AS_OF),
            &self.policy,
            &stamp("alice"),
        ))
    }

    /// (open balance, disputed) of an invoice, as shown.
    pub fn balances(&self, invoice_id: &str) -> (String, String) {
        let (invoice, _) = block_on(invoices::get(&self.db, invoice_id)).unwrap();
        (
            invoice.open_balance.to_string(),
            invoice.disputed.to_string(),
        )
    }

    pub fn position(&self, customer_id: &str) -> workflows::customer::Position {
        block_on(workflows::customer::position(
            &self.db,
            customer_id,
            date(AS_OF),
            now(),
            &self.policy,
        ))
        .unwrap()
    }
}

/// A small deterministic generator for generated books (a linear
/// congruential generator: the same seed gives the same book).
pub struct Dice(pub u64);

impl Dice {
    /// A number below `sides`.
    pub fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }

    /// An amount from `low` up to `high` (exclusive), with cents.
    pub fn amount(&mut self, low: u64, high: u64) -> String {
        let cents = low * 100 + self.roll((high - low) * 100);
        format!("{}.{:02}", cents / 100, cents % 100)
    }
}
