//! Key-value stores of type "spin", kept as Spin keeps them: a SQLite file
//! with the table `spin_key_value(store, key, value)`, one row per key.
//! Single-key operations read or write one row by its primary key, which
//! takes microseconds, so they run in place; listing a store's keys runs
//! off the executor. As for SQLite databases, the WAL is checkpointed in
//! the background (`crate::spin::checkpoint`), never by a `set` or a
//! `delete`: a checkpoint inside one held every other operation of the
//! store waiting for tens of milliseconds.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension, params};

use super::{KvError, KvResult};
use crate::spin::blocking;
use crate::spin::checkpoint::{Checkpointed, start_checkpointer};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A file holding key-value stores.
pub struct SqliteKv {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// Writes so far: the checkpointer's cue.
    writes: AtomicU64,
}

impl From<rusqlite::Error> for KvError {
    fn from(e: rusqlite::Error) -> Self {
        KvError::Other(e.to_string())
    }
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

impl Checkpointed for SqliteKv {
    fn connect(&self) -> rusqlite::Result<Connection> {
        connect(&self.path)
    }

    fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    fn with_writers_stopped(&self, work: &mut dyn FnMut()) {
        let _writer = self.conn.lock();
        work();
    }
}

impl SqliteKv {
    pub fn open(path: &Path) -> anyhow::Result<Arc<SqliteKv>> {
        let conn = connect(path)
            .with_context(|| format!("cannot open key-value database {}", path.display()))?;
        // WAL with synchronous NORMAL, as for SQLite databases (spin/sqlite).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE IF NOT EXISTS spin_key_value (
                 store TEXT NOT NULL,
                 key   TEXT NOT NULL,
                 value BLOB NOT NULL,
                 PRIMARY KEY (store, key)
             );",
        )
        .with_context(|| format!("cannot prepare key-value database {}", path.display()))?;
        let kv = Arc::new(SqliteKv {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            writes: AtomicU64::new(0),
        });
        start_checkpointer(&kv)
            .with_context(|| format!("cannot open key-value database {}", path.display()))?;
        Ok(kv)
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
        })?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    pub fn delete(&self, store: &str, key: &str) -> KvResult<()> {
        self.with_conn(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute(params![store, key])
                .map(drop)
        })?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
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
