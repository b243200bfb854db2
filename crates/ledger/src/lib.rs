//! credit-desk's system of record. Every SQL statement of the application
//! lives here, once; the credit rules live in `credit-core`. Each public
//! operation loads what the rules need, applies them and stores the
//! outcome — multi-statement writes in one transaction.
//!
//! The same code runs in Spin components (`db::spin`, feature `spin`) and
//! natively over rusqlite (`db::native`) for tests and benchmarks.
//!
//! Modules depend one way: master data (`customers`, `invoices`) at the
//! bottom; a customer's account figures (`accounts`) above it; `orders`
//! above that; the rows of payments, disputes, contacts and limit requests
//! beside; and at the top the [`workflows`] that change several at once,
//! and the read-only `reports` and customer `search`.

pub mod accounts;
pub mod claims;
pub mod contacts;
pub mod customers;
pub mod db;
pub mod disputes;
pub mod dunning;
pub mod escalations;
pub mod events;
pub mod invoices;
pub mod limits;
pub mod orders;
pub mod payments;
pub mod policy;
pub mod reports;
pub mod schema;
pub mod search;
pub mod statements;
pub mod workflows;

mod audit;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use credit_core::FieldError;

pub use db::{Database, DbError, KeyValue, Record, Records, Row, Value, transaction};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{what} '{id}' does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("invalid input: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this, whatever their role (deciding their own
    /// credit-limit request).
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl LedgerError {
    pub fn not_found(what: &'static str, id: &str) -> LedgerError {
        LedgerError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> LedgerError {
        LedgerError::Invalid(vec![FieldError::new(field, message)])
    }
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// Who is writing, and when: recorded with every change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// A person's name, or `erp` for the ERP's webhooks.
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Stamp {
    pub fn new(by: impl Into<String>, at: DateTime<Utc>) -> Stamp {
        Stamp { by: by.into(), at }
    }

    /// The instant as stored: RFC 3339 UTC with milliseconds.
    pub fn at_text(&self) -> String {
        timestamp(self.at)
    }

    pub fn today(&self) -> NaiveDate {
        self.at.date_naive()
    }
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
