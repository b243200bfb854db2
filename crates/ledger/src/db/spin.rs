//! The ledger in a Spin component: Spin's SQLite database and key-value
//! store, through spin-sdk.

use spin_sdk::key_value::Store;
use spin_sdk::sqlite::{Connection, Value as SpinValue};

use super::{Database, DbError, KeyValue, Row, Value};

pub struct SpinDb {
    conn: Connection,
}

impl SpinDb {
    /// The application's default database (`sqlite_databases = ["default"]`).
    pub async fn open_default() -> Result<SpinDb, DbError> {
        let conn = Connection::open_default()
            .await
            .map_err(|e| DbError::Sql(format!("cannot open the default database: {e:?}")))?;
        Ok(SpinDb { conn })
    }
}

impl Database for SpinDb {
    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        let result = self
            .conn
            .execute(sql, params.into_iter().map(to_spin))
            .await
            .map_err(|e| DbError::Sql(format!("{e:?}")))?;
        let rows = result
            .collect()
            .await
            .map_err(|e| DbError::Sql(format!("{e:?}")))?;
        Ok(rows
            .into_iter()
            .map(|row| Row::new(row.values.into_iter().map(from_spin).collect()))
            .collect())
    }
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

pub struct SpinKv {
    store: Store,
}

impl SpinKv {
    /// The application's default store (`key_value_stores = ["default"]`).
    pub async fn open_default() -> Result<SpinKv, DbError> {
        let store = Store::open_default()
            .await
            .map_err(|e| DbError::KeyValue(format!("cannot open the default store: {e:?}")))?;
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
