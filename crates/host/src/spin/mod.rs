//! Spin's platform interfaces — key-value, SQLite, variables, outbound
//! Redis, MQTT and PostgreSQL — in both generations: `spin:*@3` (spin-sdk
//! 5+) and `fermyon:spin@2.0.0` (older SDKs).
//!
//! Each interface has one implementation of its semantics (`key_value`,
//! `sqlite`, `variables`); the generation-specific trait impls only convert
//! types. Blocking SQLite work runs on tokio's blocking pool so that a
//! request waiting on a database lock never stalls other requests.

pub mod checkpoint;
pub mod key_value;
pub mod mqtt;
pub mod postgres;
pub mod redis;
pub mod sqlite;
pub mod variables;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use wasmtime::component::{HasData, ResourceTable};

use crate::outbound::AllowedHosts;

pub use key_value::KvStore;
pub use sqlite::SqlConn;

pub mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "spin-platform",
        imports: {
            "spin:key-value/key-value": async | store | trappable,
            "spin:sqlite/sqlite": async | store | trappable,
            // The interface's synchronous functions.
            "spin:sqlite/sqlite.[static]connection.open": store | trappable,
            "spin:sqlite/sqlite.[method]connection.execute": store | trappable,
            "spin:sqlite/sqlite.[method]connection.last-insert-rowid": store | trappable,
            "spin:sqlite/sqlite.[method]connection.changes": store | trappable,
            "spin:variables/variables": async | store | trappable,
            "spin:redis/redis": async | store | trappable,
            "spin:mqtt/mqtt": async | store | trappable,
            "spin:postgres/postgres@4.2.0": async | store | trappable,
            // The interface's synchronous functions.
            "spin:postgres/postgres@4.2.0.[static]connection.open": store | trappable,
            "spin:postgres/postgres@4.2.0.[method]connection.query": store | trappable,
            "spin:postgres/postgres@4.2.0.[method]connection.execute": store | trappable,
            "spin:postgres/postgres@4.2.0.[constructor]connection-builder": store | trappable,
            "spin:postgres/postgres@4.2.0.[method]connection-builder.set-ca-root": store | trappable,
            "spin:postgres/postgres@4.2.0.[method]connection-builder.build": store | trappable,
            default: async | trappable,
        },
        with: {
            "spin:key-value/key-value.store": crate::spin::KvStore,
            "spin:sqlite/sqlite.connection": crate::spin::SqlConn,
            "fermyon:spin/key-value.store": crate::spin::KvStore,
            "fermyon:spin/sqlite.connection": crate::spin::SqlConn,
            "spin:redis/redis.connection": crate::spin::redis::RedisConnection,
            "fermyon:spin/redis.connection": crate::spin::redis::RedisConnection,
            "spin:mqtt/mqtt.connection": crate::spin::mqtt::MqttConnection,
            "fermyon:spin/mqtt.connection": crate::spin::mqtt::MqttConnection,
            "spin:postgres/postgres@4.2.0.connection": crate::spin::postgres::PgConnection,
            "spin:postgres/postgres@4.2.0.connection-builder": crate::spin::postgres::PgConnectionBuilder,
            "spin:postgres/postgres@3.0.0.connection": crate::spin::postgres::PgConnection,
            "fermyon:spin/postgres.connection": crate::spin::postgres::PgConnection,
        },
    });
}

/// What one component may use, as declared in its manifest section.
#[derive(Debug, Default)]
pub struct ComponentGrants {
    pub component_id: String,
    pub key_value_stores: BTreeSet<String>,
    pub sqlite_databases: BTreeSet<String>,
    /// Component variables with their templates already resolved.
    pub variables: BTreeMap<String, String>,
    /// Where the component may connect (HTTP, sockets, Redis, ...).
    pub allowed_outbound_hosts: Arc<AllowedHosts>,
}

/// The stores and databases of the whole application, by label.
#[derive(Default)]
pub struct Backends {
    pub key_value: BTreeMap<String, Arc<key_value::KvBackend>>,
    pub sqlite: BTreeMap<String, Arc<sqlite::SqlDatabase>>,
}

/// Per-instance Spin state, kept in the wasmtime `Store`.
#[derive(Clone)]
pub struct SpinCtx {
    pub grants: Arc<ComponentGrants>,
    pub backends: Arc<Backends>,
}

/// A borrowed view of the Spin state and the instance's resource table.
pub struct SpinView<'a> {
    pub ctx: &'a SpinCtx,
    pub table: &'a mut ResourceTable,
}

/// Marker type the generated bindings are implemented on.
pub struct Spin;

impl HasData for Spin {
    type Data<'a> = SpinView<'a>;
}

/// Implemented by the store data so the linker can reach the Spin state.
pub trait SpinStoreData: Send + 'static {
    fn spin(&mut self) -> SpinView<'_>;
}

pub fn add_to_linker<T: SpinStoreData>(
    linker: &mut wasmtime::component::Linker<T>,
) -> wasmtime::Result<()> {
    bindings::SpinPlatform::add_to_linker::<T, Spin>(linker, T::spin)
}

/// Runs blocking work (SQLite I/O) off the async executor.
async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> wasmtime::Result<R> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| wasmtime::format_err!("blocking task failed: {e}"))
}

/// Component `c` with `grants` (its id set here) in an app with
/// `backends`, for the interfaces' in-process tests.
#[cfg(test)]
pub(crate) fn test_context(grants: ComponentGrants, backends: Backends) -> SpinCtx {
    SpinCtx {
        grants: Arc::new(ComponentGrants {
            component_id: "c".into(),
            ..grants
        }),
        backends: Arc::new(backends),
    }
}

/// A component allowed to reach `hosts` and nothing else, for the
/// interfaces' in-process tests.
#[cfg(test)]
pub(crate) fn context_allowing(hosts: &[&str]) -> SpinCtx {
    let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
    let grants = ComponentGrants {
        allowed_outbound_hosts: Arc::new(AllowedHosts::resolve(&hosts, &[], |_| None).unwrap()),
        ..ComponentGrants::default()
    };
    test_context(grants, Backends::default())
}
