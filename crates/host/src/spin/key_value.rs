//! Key-value stores, kept as Spin keeps them: a SQLite file with the table
//! `spin_key_value(store, key, value)`, one row per key.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension, params};
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::bindings::fermyon::spin::key_value as v2;
use super::bindings::spin::key_value::key_value as v3;
use super::{Spin, SpinCtx, SpinView, blocking};

/// A file holding key-value stores.
pub struct KvDatabase {
    conn: Mutex<Connection>,
}

/// An open store: the guest's `store` resource.
pub struct KvStore {
    label: String,
    db: Arc<KvDatabase>,
}

/// Errors shared by both interface generations.
#[derive(Debug)]
pub enum KvError {
    NoSuchStore,
    AccessDenied,
    Other(String),
}

impl From<rusqlite::Error> for KvError {
    fn from(e: rusqlite::Error) -> Self {
        KvError::Other(e.to_string())
    }
}

type KvResult<T> = Result<T, KvError>;

impl KvDatabase {
    pub fn open(path: &Path) -> anyhow::Result<Arc<KvDatabase>> {
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open key-value database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL with synchronous NORMAL, as for SQLite databases (sqlite.rs).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS spin_key_value (
                 store TEXT NOT NULL,
                 key   TEXT NOT NULL,
                 value BLOB NOT NULL,
                 PRIMARY KEY (store, key)
             );",
        )
        .with_context(|| format!("cannot prepare key-value database {}", path.display()))?;
        Ok(Arc::new(KvDatabase {
            conn: Mutex::new(conn),
        }))
    }

    fn with_conn<R>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> KvResult<R> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| KvError::Other("key-value database lock poisoned".into()))?;
        Ok(work(&conn)?)
    }

    pub fn get(&self, store: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.with_conn(|c| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![store, key], |row| row.get(0))
                .optional()
        })
    }

    pub fn set(&self, store: &str, key: &str, value: &[u8]) -> KvResult<()> {
        self.with_conn(|c| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, value])
            .map(drop)
        })
    }

    pub fn delete(&self, store: &str, key: &str) -> KvResult<()> {
        self.with_conn(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute(params![store, key])
                .map(drop)
        })
    }

    pub fn exists(&self, store: &str, key: &str) -> KvResult<bool> {
        self.with_conn(|c| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .exists(params![store, key])
        })
    }

    pub fn keys(&self, store: &str) -> KvResult<Vec<String>> {
        self.with_conn(|c| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?
                .query_map(params![store], |row| row.get(0))?
                .collect()
        })
    }
}

fn open_store(ctx: &SpinCtx, label: &str) -> KvResult<KvStore> {
    if !ctx.grants.key_value_stores.contains(label) {
        return Err(KvError::AccessDenied);
    }
    let db = ctx
        .backends
        .key_value
        .get(label)
        .ok_or(KvError::NoSuchStore)?;
    Ok(KvStore {
        label: label.to_string(),
        db: db.clone(),
    })
}

/// A single-key operation on an open store, run in place: it reads or
/// writes one row by its primary key, which takes microseconds — less than
/// handing it to another thread and back.
fn run_here<R>(
    store: (String, Arc<KvDatabase>),
    op: impl FnOnce(&KvDatabase, &str) -> KvResult<R>,
) -> KvResult<R> {
    let (label, db) = store;
    op(&db, &label)
}

/// An operation over a whole store (listing its keys), run off the executor.
async fn run<R: Send + 'static>(
    store: (String, Arc<KvDatabase>),
    op: impl FnOnce(&KvDatabase, &str) -> KvResult<R> + Send + 'static,
) -> wasmtime::Result<KvResult<R>> {
    let (label, db) = store;
    blocking(move || op(&db, &label)).await
}

fn handle(
    table: &wasmtime::component::ResourceTable,
    store: &Resource<KvStore>,
) -> wasmtime::Result<(String, Arc<KvDatabase>)> {
    let store = table.get(store)?;
    Ok((store.label.clone(), store.db.clone()))
}

// ---- spin:key-value/key-value@3.0.0 -------------------------------------

impl From<KvError> for v3::Error {
    fn from(e: KvError) -> Self {
        match e {
            KvError::NoSuchStore => v3::Error::NoSuchStore,
            KvError::AccessDenied => v3::Error::AccessDenied,
            KvError::Other(message) => v3::Error::Other(message),
        }
    }
}

impl v3::Host for SpinView<'_> {}
impl v3::HostStore for SpinView<'_> {}

fn v3_handle<T>(
    accessor: &Accessor<T, Spin>,
    store: &Resource<KvStore>,
) -> wasmtime::Result<(String, Arc<KvDatabase>)> {
    accessor.with(|mut access| handle(access.get().table, store))
}

impl<T> v3::HostStoreWithStore<T> for Spin {
    async fn drop(accessor: &Accessor<T, Self>, rep: Resource<KvStore>) -> wasmtime::Result<()> {
        accessor.with(|mut access| access.get().table.delete(rep).map(drop))?;
        Ok(())
    }

    async fn open(
        accessor: &Accessor<T, Self>,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvStore>, v3::Error>> {
        accessor.with(|mut access| {
            let view = access.get();
            match open_store(view.ctx, &label) {
                Ok(store) => Ok(Ok(view.table.push(store)?)),
                Err(e) => Ok(Err(e.into())),
            }
        })
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, v3::Error>> {
        let store = v3_handle(accessor, &self_)?;
        Ok(run_here(store, |db, label| db.get(label, &key)).map_err(Into::into))
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        self_: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let store = v3_handle(accessor, &self_)?;
        Ok(run_here(store, |db, label| db.set(label, &key, &value)).map_err(Into::into))
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let store = v3_handle(accessor, &self_)?;
        Ok(run_here(store, |db, label| db.delete(label, &key)).map_err(Into::into))
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, v3::Error>> {
        let store = v3_handle(accessor, &self_)?;
        Ok(run_here(store, |db, label| db.exists(label, &key)).map_err(Into::into))
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        self_: Resource<KvStore>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), v3::Error>>)> {
        let store = v3_handle(accessor, &self_)?;
        let listed = run(store, |db, label| db.keys(label)).await?;
        let (keys, outcome) = match listed {
            Ok(keys) => (keys, Ok(())),
            Err(e) => (vec![], Err(v3::Error::from(e))),
        };
        accessor.with(|mut access| {
            let keys = StreamReader::new(&mut access, keys)?;
            let outcome =
                FutureReader::new(&mut access, async move { wasmtime::error::Ok(outcome) })?;
            Ok((keys, outcome))
        })
    }
}

// ---- fermyon:spin/key-value@2.0.0 ----------------------------------------

impl From<KvError> for v2::Error {
    fn from(e: KvError) -> Self {
        match e {
            KvError::NoSuchStore => v2::Error::NoSuchStore,
            KvError::AccessDenied => v2::Error::AccessDenied,
            KvError::Other(message) => v2::Error::Other(message),
        }
    }
}

impl v2::Host for SpinView<'_> {}

impl v2::HostStore for SpinView<'_> {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvStore>, v2::Error>> {
        match open_store(self.ctx, &label) {
            Ok(store) => Ok(Ok(self.table.push(store)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn get(
        &mut self,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, v2::Error>> {
        let store = handle(self.table, &self_)?;
        Ok(run_here(store, |db, label| db.get(label, &key)).map_err(Into::into))
    }

    async fn set(
        &mut self,
        self_: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let store = handle(self.table, &self_)?;
        Ok(run_here(store, |db, label| db.set(label, &key, &value)).map_err(Into::into))
    }

    async fn delete(
        &mut self,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let store = handle(self.table, &self_)?;
        Ok(run_here(store, |db, label| db.delete(label, &key)).map_err(Into::into))
    }

    async fn exists(
        &mut self,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, v2::Error>> {
        let store = handle(self.table, &self_)?;
        Ok(run_here(store, |db, label| db.exists(label, &key)).map_err(Into::into))
    }

    async fn get_keys(
        &mut self,
        self_: Resource<KvStore>,
    ) -> wasmtime::Result<Result<Vec<String>, v2::Error>> {
        let store = handle(self.table, &self_)?;
        Ok(run(store, |db, label| db.keys(label))
            .await?
            .map_err(Into::into))
    }

    async fn drop(&mut self, rep: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
