//! Builders shared by the unit tests.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::account::{Account, OpenInvoice};
use crate::money::Currency;

pub fn date(text: &str) -> NaiveDate {
    text.parse().expect("a YYYY-MM-DD date")
}

pub fn usd() -> Currency {
    Currency::parse("USD").expect("USD")
}

pub fn usd_account(credit_limit: Option<Decimal>) -> Account {
    Account::new(usd(), credit_limit)
}

/// An undisputed invoice issued 30 days before it is due.
pub fn invoice(id: &str, due_on: &str, open: Decimal) -> OpenInvoice {
    let due_on = date(due_on);
    OpenInvoice {
        id: id.into(),
        issued_on: due_on - chrono::Days::new(30),
        due_on,
        open,
        disputed: Decimal::ZERO,
    }
}

impl OpenInvoice {
    pub fn disputing(mut self, amount: Decimal) -> OpenInvoice {
        self.disputed = amount;
        self
    }
}
