//! Key-value stores: `spin:key-value@3.0.0` (spin-sdk 5+) and
//! `fermyon:spin/key-value@2.0.0` (older SDKs). A store is a label the
//! component declares; the runtime config says what keeps it: a SQLite file
//! (type "spin", the default; `sqlite.rs`) or a Redis database (type
//! "redis"; `redis.rs`). A label the component does not declare is
//! `access-denied`.

mod redis;
mod sqlite;

use std::sync::Arc;

use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

pub use self::redis::RedisKv;
pub use self::sqlite::SqliteKv;
use super::bindings::fermyon::spin::key_value as v2;
use super::bindings::spin::key_value::key_value as v3;
use super::{Spin, SpinCtx, SpinView};

/// What keeps one configured store.
pub enum KvBackend {
    Sqlite(Arc<SqliteKv>),
    Redis(Box<RedisKv>),
}

/// An open store: the guest's `store` resource.
pub struct KvStore {
    label: String,
    backend: Arc<KvBackend>,
}

/// Errors shared by both interface generations.
#[derive(Debug, PartialEq)]
pub enum KvError {
    NoSuchStore,
    AccessDenied,
    Other(String),
}

type KvResult<T> = Result<T, KvError>;

/// The operations on a store; `label` tells the stores of one SQLite file
/// apart (a Redis database holds one store's keys as they are).
impl KvBackend {
    pub async fn get(&self, label: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        match self {
            KvBackend::Sqlite(db) => db.get(label, key),
            KvBackend::Redis(redis) => redis.get(key).await,
        }
    }

    pub async fn set(&self, label: &str, key: &str, value: &[u8]) -> KvResult<()> {
        match self {
            KvBackend::Sqlite(db) => db.set(label, key, value),
            KvBackend::Redis(redis) => redis.set(key, value).await,
        }
    }

    pub async fn delete(&self, label: &str, key: &str) -> KvResult<()> {
        match self {
            KvBackend::Sqlite(db) => db.delete(label, key),
            KvBackend::Redis(redis) => redis.delete(key).await,
        }
    }

    pub async fn exists(&self, label: &str, key: &str) -> KvResult<bool> {
        match self {
            KvBackend::Sqlite(db) => db.exists(label, key),
            KvBackend::Redis(redis) => redis.exists(key).await,
        }
    }

    pub async fn keys(&self, label: &str) -> KvResult<Vec<String>> {
        match self {
            KvBackend::Sqlite(db) => db.keys(label).await,
            KvBackend::Redis(redis) => redis.keys().await,
        }
    }
}

/// The store `label`: the component must declare it, and the application
/// configure it.
fn open_store(ctx: &SpinCtx, label: &str) -> KvResult<KvStore> {
    if !ctx.grants.key_value_stores.contains(label) {
        return Err(KvError::AccessDenied);
    }
    let backend = ctx
        .backends
        .key_value
        .get(label)
        .ok_or(KvError::NoSuchStore)?;
    Ok(KvStore {
        label: label.to_string(),
        backend: backend.clone(),
    })
}

/// The label and backend of an open store, to use outside the table.
fn handle(
    table: &wasmtime::component::ResourceTable,
    store: &Resource<KvStore>,
) -> wasmtime::Result<(String, Arc<KvBackend>)> {
    let store = table.get(store)?;
    Ok((store.label.clone(), store.backend.clone()))
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
) -> wasmtime::Result<(String, Arc<KvBackend>)> {
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
        let (label, backend) = v3_handle(accessor, &self_)?;
        Ok(backend.get(&label, &key).await.map_err(Into::into))
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        self_: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let (label, backend) = v3_handle(accessor, &self_)?;
        Ok(backend.set(&label, &key, &value).await.map_err(Into::into))
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let (label, backend) = v3_handle(accessor, &self_)?;
        Ok(backend.delete(&label, &key).await.map_err(Into::into))
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, v3::Error>> {
        let (label, backend) = v3_handle(accessor, &self_)?;
        Ok(backend.exists(&label, &key).await.map_err(Into::into))
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        self_: Resource<KvStore>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), v3::Error>>)> {
        let (label, backend) = v3_handle(accessor, &self_)?;
        let listed = backend.keys(&label).await;
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
        let (label, backend) = handle(self.table, &self_)?;
        Ok(backend.get(&label, &key).await.map_err(Into::into))
    }

    async fn set(
        &mut self,
        self_: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let (label, backend) = handle(self.table, &self_)?;
        Ok(backend.set(&label, &key, &value).await.map_err(Into::into))
    }

    async fn delete(
        &mut self,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let (label, backend) = handle(self.table, &self_)?;
        Ok(backend.delete(&label, &key).await.map_err(Into::into))
    }

    async fn exists(
        &mut self,
        self_: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, v2::Error>> {
        let (label, backend) = handle(self.table, &self_)?;
        Ok(backend.exists(&label, &key).await.map_err(Into::into))
    }

    async fn get_keys(
        &mut self,
        self_: Resource<KvStore>,
    ) -> wasmtime::Result<Result<Vec<String>, v2::Error>> {
        let (label, backend) = handle(self.table, &self_)?;
        Ok(backend.keys(&label).await.map_err(Into::into))
    }

    async fn drop(&mut self, rep: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spin::{Backends, ComponentGrants, test_context};

    /// A component granted `granted`, in an app whose configured stores are
    /// `configured` (SQLite files in a temporary directory).
    fn context(granted: &[&str], configured: &[&str], dir: &std::path::Path) -> SpinCtx {
        let mut backends = Backends::default();
        let file = SqliteKv::open(&dir.join("kv.db")).unwrap();
        for label in configured {
            let backend = Arc::new(KvBackend::Sqlite(file.clone()));
            backends.key_value.insert(label.to_string(), backend);
        }
        let grants = ComponentGrants {
            key_value_stores: granted.iter().map(|s| s.to_string()).collect(),
            ..ComponentGrants::default()
        };
        test_context(grants, backends)
    }

    #[test]
    fn a_store_is_opened_only_with_the_grant() {
        let dir = tempfile_dir("kv-access");
        let ungranted = context(&[], &["default"], &dir);
        assert_eq!(
            open_store(&ungranted, "default").err(),
            Some(KvError::AccessDenied)
        );

        let granted = context(&["default", "cache"], &["default"], &dir);
        assert!(open_store(&granted, "default").is_ok());
        assert_eq!(
            open_store(&granted, "cache").err(),
            Some(KvError::NoSuchStore)
        );
        assert_eq!(
            open_store(&granted, "other").err(),
            Some(KvError::AccessDenied)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn labels_of_one_file_keep_their_keys_apart() {
        let dir = tempfile_dir("kv-labels");
        let ctx = context(&["a", "b"], &["a", "b"], &dir);
        let (a, b) = (
            open_store(&ctx, "a").unwrap(),
            open_store(&ctx, "b").unwrap(),
        );
        a.backend.set("a", "k", b"in a").await.unwrap();
        assert_eq!(
            a.backend.get("a", "k").await.unwrap(),
            Some(b"in a".to_vec())
        );
        assert_eq!(b.backend.get("b", "k").await.unwrap(), None);
        assert_eq!(b.backend.keys("b").await.unwrap(), Vec::<String>::new());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("spin-host-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
