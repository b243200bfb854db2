//! HTTP plumbing shared by the credit-desk components: who is calling
//! (bearer tokens, signed ERP webhooks), request bodies and input checks,
//! RFC 9457 problem details, JSON and CSV replies, and webhook replays.
//!
//! Everything but [`spin`] is plain Rust over the `http` types and is
//! tested natively; [`spin`] connects it to spin-sdk in a component (it
//! compiles natively too, but only runs inside Spin).

pub mod auth;
pub mod caller;
pub mod input;
mod objects;
pub mod problem;
pub mod push;
pub mod replay;
pub mod reply;
pub mod request;
pub mod router;
pub mod spin;
pub mod webhook;

pub use auth::{Person, Role};
pub use caller::{Caller, Credentials};
pub use input::{Fields, valid};
pub use problem::Problem;
pub use reply::{Reply, Table};
pub use request::Incoming;
pub use router::{Access, Call, Handled, Route};
