//! The workflows that change several parts of the ledger at once, each in
//! one transaction and readable top to bottom: putting a customer or an
//! invoice from the ERP, posting a payment, opening and settling disputes,
//! deciding a credit-limit request, raising and answering escalations.
//! Each ends by re-checking the customer's held orders when the change may
//! have freed exposure. And the customer communications: a dunning run,
//! which issues reminder letters, and issuing a statement of account.
//!
//! The modules below them run one way: master data (`customers`,
//! `invoices`) at the bottom, account figures (`accounts`) above, then
//! `orders`; payments, disputes and limit requests keep their own rows.
//! Only the workflows (and the read-only reports) reach across them.

pub mod customer;
pub mod dispute;
pub mod dunning;
pub mod escalation;
pub mod invoice;
pub mod limit;
pub mod payment;
pub mod statement;
