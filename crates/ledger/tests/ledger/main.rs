//! The ledger's tests: every rule as stored, on an in-memory (or, for the
//! report plans and timings, a file) SQLite database. One test binary, one
//! module per concern.

mod support;

mod dashboard;
mod desk;
mod disputes;
mod dunning;
mod events;
mod four_eyes;
mod invoices;
mod limits;
mod orders;
mod overflow;
mod payments;
mod policy;
mod queue;
mod report_plans;
mod report_speed;
mod reports;
mod unchecked;
