//! The ledger in a Spin component: Spin's SQLite database and key-value
//! store, through spin-sdk.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use spin_sdk::key_value::Store;
use spin_sdk::sqlite::Value as SpinValue;
// The bindings of `spin:sqlite/sqlite@3.1.0` that spin-sdk generates. The
// SDK's `Connection::execute` is the interface's `execute-async`, which
// streams rows back through a component-model stream and future, each read
// a trip through the host's event loop; the interface's synchronous
// `execute` returns them in one call. A write transaction's statements run
// while every other writer waits, so they take the synchronous call; so do
// reads, which never wait. A write outside a transaction waits for the
// write lock: it is awaited, so that the instance's other requests (one of
// which may hold the lock) go on meanwhile.
use spin_sdk::sqlite::wit::sqlite::Connection;

use super::{Database, DbError, KeyValue, Row, Value, is_read};

pub struct SpinDb {
    conn: Connection,
    /// Inside a write transaction: this connection holds the write lock.
    in_write: Cell<bool>,
}

impl SpinDb {
    /// The application's default database (`sqlite_databases = ["default"]`).
    pub async fn open_default() -> Result<SpinDb, DbError> {
        let conn = Connection::open_async("default".into())
            .await
            .map_err(|e| DbError::Sql(format!("cannot open the default database: {e:?}")))?;
        Ok(SpinDb {
            conn,
            in_write: Cell::new(false),
        })
    }
}

impl Database for SpinDb {
    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        let params: Vec<SpinValue> = params.into_iter().map(to_spin).collect();
        if !self.in_write.get() && !is_read(sql) {
            return self.awaited(sql, params).await;
        }
        let result = self
            .conn
            .execute(sql, &params)
            .map_err(|e| DbError::Sql(format!("{e:?}")))?;
        Ok(rows(result.rows))
    }

    /// Waiting for the write lock is a transaction's one wait, so `BEGIN`
    /// is awaited (`execute-async`): the instance waits without holding up
    /// a thread of the host.
    async fn begin_write(&self) -> Result<(), DbError> {
        self.awaited("BEGIN IMMEDIATE", vec![]).await?;
        self.in_write.set(true);
        Ok(())
    }

    /// The end of a transaction is awaited too. `COMMIT` hands the write
    /// lock to the next waiting transaction; an awaited call lets the host
    /// run that one before this request goes on to answer. Called
    /// synchronously, the lock stood idle until this request had answered:
    /// a quarter of the time between two transactions under load.
    async fn end_write(&self, sql: &'static str) -> Result<(), DbError> {
        let ended = self.awaited(sql, vec![]).await;
        // After COMMIT or ROLLBACK, even a failed one, SQLite has left the
        // transaction (or the caller rolls it back next).
        self.in_write.set(false);
        ended.map(drop)
    }
}

impl SpinDb {
    /// One statement through the interface's `execute-async`.
    async fn awaited(&self, sql: &str, params: Vec<SpinValue>) -> Result<Vec<Row>, DbError> {
        let sql_error = |e| DbError::Sql(format!("{e:?}"));
        let (_, found, done) = self
            .conn
            .execute_async(sql.into(), params)
            .await
            .map_err(sql_error)?;
        let found = found.collect().await;
        done.await.map_err(sql_error)?;
        Ok(rows(found))
    }
}

fn rows(rows: Vec<spin_sdk::sqlite::wit::sqlite::RowResult>) -> Vec<Row> {
    rows.into_iter()
        .map(|row| Row::new(row.values.into_iter().map(from_spin).collect()))
        .collect()
}

fn to_spin(value: Value) -> SpinValue {
    match value {
        Value::Null => SpinValue::Null,
        Value::Integer(i) => SpinValue::Integer(i),
        Value::Real(f) => SpinValue::Real(f),
        Value::Text(t) => SpinValue::Text(t),
    }
}

fn from_spin(value: SpinValue) -> Value {
    match value {
        SpinValue::Null => Value::Null,
        SpinValue::Integer(i) => Value::Integer(i),
        SpinValue::Real(f) => Value::Real(f),
        SpinValue::Text(t) => Value::Text(t),
        SpinValue::Blob(b) => Value::Text(String::from_utf8_lossy(&b).into_owned()),
    }
}

#[derive(Clone)]
pub struct SpinKv {
    store: Rc<Store>,
}

impl SpinKv {
    /// The application's default store (`key_value_stores = ["default"]`),
    /// opened once per instance: a store handle carries no request state,
    /// so the requests an instance serves share it.
    pub async fn open_default() -> Result<SpinKv, DbError> {
        thread_local! {
            static DEFAULT: RefCell<Option<Rc<Store>>> = const { RefCell::new(None) };
        }
        if let Some(store) = DEFAULT.with_borrow(Clone::clone) {
            return Ok(SpinKv { store });
        }
        let store = Store::open_default()
            .await
            .map_err(|e| DbError::KeyValue(format!("cannot open the default store: {e:?}")))?;
        let store = Rc::new(store);
        DEFAULT.with_borrow_mut(|default| *default = Some(store.clone()));
        Ok(SpinKv { store })
    }
}

impl KeyValue for SpinKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, DbError> {
        self.store
            .get(key)
            .await
            .map_err(|e| DbError::KeyValue(format!("{e:?}")))
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), DbError> {
        self.store
            .set(key, value)
            .await
            .map_err(|e| DbError::KeyValue(format!("{e:?}")))
    }

    async fn delete(&self, key: &str) -> Result<(), DbError> {
        self.store
            .delete(key)
            .await
            .map_err(|e| DbError::KeyValue(format!("{e:?}")))
    }
}

/// The default database, its schema brought up to date once per instance.
pub async fn open_ledger() -> Result<SpinDb, DbError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    static MIGRATED: AtomicBool = AtomicBool::new(false);
    let db = SpinDb::open_default().await?;
    if !MIGRATED.load(Ordering::Relaxed) {
        crate::schema::migrate(&db).await?;
        MIGRATED.store(true, Ordering::Relaxed);
    }
    Ok(db)
}
