//! The ledger natively: rusqlite for the database, a map for key-value.
//! Used by tests and the native benchmark baseline, never by components.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params_from_iter};

use super::{Database, DbError, KeyValue, Row, Value};

pub struct NativeDb {
    conn: Connection,
}

impl NativeDb {
    /// Opens (creating) a database file with the settings Spin's host uses.
    pub fn open(path: &Path) -> Result<NativeDb, DbError> {
        let conn = Connection::open(path).map_err(sql_error)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sql_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql_error)?;
        stable_plans(&conn)?;
        Ok(NativeDb { conn })
    }

    pub fn open_in_memory() -> Result<NativeDb, DbError> {
        let conn = Connection::open_in_memory().map_err(sql_error)?;
        stable_plans(&conn)?;
        Ok(NativeDb { conn })
    }
}

/// Query plans that do not depend on bound values, as in the host: without
/// this, SQLite re-prepares a cached statement with a join or an `ORDER BY`
/// each time it is bound to new values.
fn stable_plans(conn: &Connection) -> Result<(), DbError> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map(drop)
        .map_err(sql_error)
}

fn sql_error(e: rusqlite::Error) -> DbError {
    DbError::Sql(e.to_string())
}

impl Database for NativeDb {
    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(sql_error)?;
        let columns = statement.column_count();
        let mut cursor = statement
            .query(params_from_iter(params.into_iter().map(to_sql)))
            .map_err(sql_error)?;
        let mut rows = vec![];
        while let Some(row) = cursor.next().map_err(sql_error)? {
            let values = (0..columns)
                .map(|i| row.get_ref(i).map(from_sql))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql_error)?;
            rows.push(Row::new(values));
        }
        Ok(rows)
    }
}

fn to_sql(value: Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    match value {
        Value::Null => Sql::Null,
        Value::Integer(i) => Sql::Integer(i),
        Value::Real(f) => Sql::Real(f),
        Value::Text(t) => Sql::Text(t),
    }
}

fn from_sql(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

/// A key-value store in memory.
#[derive(Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, Vec<u8>>>,
}

impl KeyValue for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, DbError> {
        Ok(self.entries.borrow().get(key).cloned())
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), DbError> {
        self.entries
            .borrow_mut()
            .insert(key.to_string(), value.to_vec());
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), DbError> {
        self.entries.borrow_mut().remove(key);
        Ok(())
    }
}
