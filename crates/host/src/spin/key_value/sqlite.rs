//! Key-value stores of type "spin", kept as Spin keeps them: a SQLite file
//! with the table `spin_key_value(store, key, value)`, one row per key.
//! Single-key operations read or write one row by its primary key, which
//! takes microseconds, so they run in place; listing a store's keys runs
//! off the executor.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension, params};

use super::{KvError, KvResult};
use crate::spin::blocking;

/// A file holding key-value stores.
pub struct SqliteKv {
    conn: Mutex<Connection>,
}

impl From<rusqlite::Error> for KvError {
    fn from(e: rusqlite::Error) -> Self {
        KvError::Other(e.to_string())
    }
}

impl SqliteKv {
    pub fn open(path: &Path) -> anyhow::Result<Arc<SqliteKv>> {
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open key-value database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL with synchronous NORMAL, as for SQLite databases (spin/sqlite).
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
        Ok(Arc::new(SqliteKv {
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

    /// The store's keys, in order, read off the executor.
    pub async fn keys(self: &Arc<Self>, store: &str) -> KvResult<Vec<String>> {
        let (db, store) = (self.clone(), store.to_string());
        blocking(move || {
            db.with_conn(|c| {
                c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?
                    .query_map(params![store], |row| row.get(0))?
                    .collect()
            })
        })
        .await
        .map_err(|e| KvError::Other(e.to_string()))?
    }
}
