//! The credit rules of credit-desk, free of I/O: money and currencies, a
//! customer's exposure and aging, the order-hold check (R1), payment
//! allocation (R2), disputes and their service levels (R3), credit-limit
//! requests (R4), four-eyes releases, escalations, collections and KPIs;
//! dunning, reminder letters and statements of account. See
//! `shared/design/DOMAIN.md`.
//!
//! Every computation that depends on "today" takes an `as_of` date.

pub mod account;
pub mod aging;
pub mod allocation;
pub mod collections;
pub mod dispute;
pub mod dunning;
pub mod escalation;
pub mod events;
pub mod hold;
pub mod letters;
pub mod limit;
pub mod metrics;
pub mod money;
pub mod named;
pub mod policy;
pub mod print;
pub mod release;
pub mod statement;
pub mod trend;

#[cfg(test)]
mod testing;

pub use account::{Account, OpenInvoice, days_past_due};
pub use money::{Currency, MoneyError};
pub use named::Named;
pub use policy::Policy;

/// A problem with one field of some input, for the caller to fix.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's name or path (`remittance[2].amount`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Codes (reason codes, methods) are 1–40 ASCII letters, digits, `_` or `-`.
pub fn is_valid_code(code: &str) -> bool {
    (1..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
