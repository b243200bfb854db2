//! A ledger on an in-memory SQLite database, and builders for the tests.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use credit_core::{Currency, Policy};
use ledger::customers::{self, CustomerUpdate};
use ledger::db::native::NativeDb;
use ledger::invoices::{self, InvoiceUpdate};
use ledger::orders::{self, CheckResult, OrderWebhook};
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

pub fn stamp(by: &str) -> Stamp {
    let at: DateTime<Utc> = "2025-06-30T09:00:00Z".parse().unwrap();
    Stamp::new(by, at)
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
        let update = CustomerUpdate {
            name: format!("{id} Ltd"),
            currency: usd(),
            credit_limit: limit.map(amount),
            payment_terms_days: 30,
            grace_days: None,
            on_hold: false,
            exempt: false,
        };
        block_on(customers::put(
            &self.db,
            id,
            &update,
            &self.policy,
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
        block_on(invoices::put(&self.db, id, &update, &stamp("erp"))).unwrap();
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
            as_of: date(AS_OF),
        };
        block_on(orders::check(&self.db, &order, &self.policy, &stamp("erp")))
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
