//! The host's own end-to-end tests, on the components in `tests/fixtures`:
//! one test binary, one module per concern.

mod common;

mod key_value;
mod lifecycle;
/// Deadlines, slow clients, caps and running out of descriptors (issue 17).
mod limits;
mod mqtt;
mod outbound;
mod postgres;
mod redis;
mod routing;
mod runtime_config;
mod selective;
mod sockets;
mod sqlite;
mod state_dir;
mod variables;
mod wasip2;
