//! The application's end-to-end tests, on the repository's `spin.toml`:
//! one test binary, one module per concern.

mod common;

mod accounts;
mod bad_input;
mod crash;
/// Assignment, search, escalations, four-eyes releases, unchecked orders.
mod desk;
mod disputes;
/// Customer communications: dunning runs, letters, statements.
mod dunning;
/// Decisions back to the ERP: the event feed and pushed webhooks.
mod events;
mod hostile;
mod limits;
/// Hold checks under slow clients by the hundred, and a flood (issue 17).
mod load;
/// spin.toml's build commands and sources against the component crates.
mod manifest;
mod openapi;
mod orders;
mod payments;
/// The held queue at volume.
mod queue;
mod reports;
/// Order-hold on two hosts, the rest on a third, behind nginx, sharing
/// Redis and SQLite: the same end state as one process.
mod scaling;
/// The web workspace's files (the `web` component).
mod web;
/// Signed webhooks and roles over HTTP; webhooks and Idempotency-Keys that
/// run once, also when delivered at the same time.
mod webhooks;
