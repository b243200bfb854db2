//! SQLite databases. Every `connection` a guest opens gets a real SQLite
//! connection of its own (from a small pool), so a transaction a component
//! runs with BEGIN ... COMMIT is isolated from every other request. Databases
//! use WAL and a busy timeout; a connection returned to the pool in the
//! middle of a transaction is rolled back first.
//!
//! SQLite lets one connection write at a time. Rather than have concurrent
//! writers poll SQLite's lock (the busy handler sleeps 1, 2, 5 ... 100 ms
//! between tries, so a queue of writers waits far longer than the work
//! takes, and unfairly), a connection about to write first waits for the
//! database's writer turn, first come first served, and keeps it until the
//! connection is back in autocommit mode (COMMIT, ROLLBACK, or the end of
//! an autocommit write). The busy timeout still guards against writers in
//! other processes.
//!
//! This module is the databases themselves (the pool, writer turns and
//! statements); `checkpoint` keeps their WAL short, and `mod.rs` is the
//! interfaces over them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::config::DbConfig;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, ErrorCode, params_from_iter};

use super::checkpoint::start_checkpointer;
use crate::spin::blocking;

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_IDLE_CONNECTIONS: usize = 32;

pub struct SqlDatabase {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// The writer turn (see the module comment); tokio's mutex queues
    /// waiters in order.
    pub(super) writer: Arc<tokio::sync::Mutex<()>>,
    /// Writer turns ended so far: the checkpointer's cue.
    pub(super) writes: AtomicU64,
}

/// A connection's turn as the database's writer.
type WriterTurn = tokio::sync::OwnedMutexGuard<()>;

/// A guest's `connection` resource.
pub struct SqlConn {
    pub(super) checkout: Arc<Mutex<Checkout>>,
}

/// A pooled connection on loan; returned to its pool when dropped (after
/// which its writer turn, if it has one, ends).
pub(super) struct Checkout {
    db: Arc<SqlDatabase>,
    conn: Option<Connection>,
    writer_turn: Option<WriterTurn>,
}

#[derive(Debug)]
pub enum SqlError {
    NoSuchDatabase,
    AccessDenied,
    InvalidConnection,
    DatabaseFull,
    Io(String),
}

impl From<rusqlite::Error> for SqlError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => SqlError::DatabaseFull,
            _ => SqlError::Io(e.to_string()),
        }
    }
}

pub(super) type SqlResult<T> = Result<T, SqlError>;

/// A statement's result, independent of the interface generation.
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl SqlDatabase {
    pub fn open(path: &Path) -> anyhow::Result<Arc<SqlDatabase>> {
        let db = SqlDatabase {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![]),
            writer: Arc::new(tokio::sync::Mutex::new(())),
            writes: AtomicU64::new(0),
        };
        let conn = db
            .connect()
            .with_context(|| format!("cannot open SQLite database {}", path.display()))?;
        db.idle.lock().expect("fresh mutex").push(conn);
        let db = Arc::new(db);
        start_checkpointer(&db)
            .with_context(|| format!("cannot open SQLite database {}", path.display()))?;
        Ok(db)
    }

    pub(super) fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // In WAL mode, NORMAL syncs the WAL at checkpoints instead of at
        // every commit: a committed transaction survives the host being
        // killed, and the database stays consistent through a power loss,
        // which may undo the last commits before the checkpoint.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoints are the checkpointer's (see `start_checkpointer`).
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // Statements are prepared once per connection and cached. Without
        // the query planner stability guarantee SQLite re-prepares a
        // cached statement with a join or an `ORDER BY` every time it is
        // bound to new values — on the hold check, more work than running it.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    pub(super) fn checkout(self: &Arc<Self>) -> SqlResult<Checkout> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => self.connect()?,
        };
        Ok(Checkout {
            db: self.clone(),
            conn: Some(conn),
            writer_turn: None,
        })
    }

    fn checkin(&self, conn: Connection) {
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return; // a connection in an unknown state is not reused
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_CONNECTIONS
        {
            idle.push(conn);
        }
    }

    /// Runs SQL statements at start-up (`--sqlite`).
    pub fn execute_batch(self: &Arc<Self>, sql: &str) -> anyhow::Result<()> {
        let checkout = self.checkout().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let conn = checkout.conn.as_ref().expect("checked out");
        conn.execute_batch(sql)?;
        Ok(())
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.db.checkin(conn);
        }
    }
}

impl Checkout {
    /// The writer turn to wait for before `sql` runs on this connection:
    /// none when the connection has it already or the statement only reads.
    fn writer_to_wait_for(&self, sql: &str) -> SqlResult<Option<Arc<tokio::sync::Mutex<()>>>> {
        let conn = self.conn.as_ref().ok_or(SqlError::InvalidConnection)?;
        if self.writer_turn.is_some() || !writes(conn, sql)? {
            return Ok(None);
        }
        Ok(Some(self.db.writer.clone()))
    }

    /// Runs one statement, holding `turn` (if given) until the connection
    /// is back in autocommit mode.
    fn execute(
        &mut self,
        turn: Option<WriterTurn>,
        sql: &str,
        parameters: Vec<Value>,
    ) -> SqlResult<Rows> {
        let conn = self.conn.as_ref().ok_or(SqlError::InvalidConnection)?;
        if turn.is_some() {
            self.writer_turn = turn;
        }
        let result = query(conn, sql, parameters);
        if conn.is_autocommit() && self.writer_turn.take().is_some() {
            self.db.writes.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

/// Whether `sql` writes, or begins a transaction that takes the write lock
/// at once (`BEGIN IMMEDIATE` / `EXCLUSIVE`).
fn writes(conn: &Connection, sql: &str) -> SqlResult<bool> {
    let mut words = sql
        .split_whitespace()
        .map(|word| word.trim_end_matches(';').to_ascii_uppercase());
    if words.next().as_deref() == Some("BEGIN") {
        return Ok(matches!(
            words.next().as_deref(),
            Some("IMMEDIATE" | "EXCLUSIVE")
        ));
    }
    Ok(!conn.prepare_cached(sql)?.readonly())
}

/// Waits for the writer turn; after the busy timeout, goes on without it
/// (SQLite's own busy handling then decides, as it would for another process).
async fn take_turn(writer: Arc<tokio::sync::Mutex<()>>) -> Option<WriterTurn> {
    tokio::time::timeout(BUSY_TIMEOUT, writer.lock_owned())
        .await
        .ok()
}

impl SqlConn {
    /// Runs one statement, after waiting for the writer turn when it
    /// writes. A connection that has the turn runs its statements right
    /// here: every other writer waits for it, so its statements must not
    /// queue for a thread, and they never wait for a lock. Other statements
    /// (reads, mostly) run off the executor: a report's query takes a while.
    pub(super) async fn execute(
        checkout: Arc<Mutex<Checkout>>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<SqlResult<Rows>> {
        let writer = {
            let mut c = match lock(&checkout) {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            };
            if c.writer_turn.is_some() {
                return Ok(c.execute(None, &statement, parameters));
            }
            match c.writer_to_wait_for(&statement) {
                Ok(writer) => writer,
                Err(e) => return Ok(Err(e)),
            }
        };
        if let Some(writer) = writer
            && let Some(turn) = take_turn(writer).await
        {
            return Ok(
                lock(&checkout).and_then(|mut c| c.execute(Some(turn), &statement, parameters))
            );
        }
        blocking(move || lock(&checkout)?.execute(None, &statement, parameters)).await
    }

    /// The same for the interface's synchronous `execute`: on the current
    /// thread, telling the executor that it may block.
    pub(super) fn execute_here(
        checkout: &Mutex<Checkout>,
        statement: &str,
        parameters: Vec<Value>,
    ) -> SqlResult<Rows> {
        let writer = {
            let mut c = lock(checkout)?;
            if c.writer_turn.is_some() {
                return c.execute(None, statement, parameters);
            }
            c.writer_to_wait_for(statement)?
        };
        tokio::task::block_in_place(|| {
            let turn = writer
                .and_then(|writer| tokio::runtime::Handle::current().block_on(take_turn(writer)));
            lock(checkout)?.execute(turn, statement, parameters)
        })
    }

    /// Runs `work` on this connection on the current thread, telling the
    /// executor it may block (for the interface's synchronous functions).
    pub(super) fn run_here<R>(
        checkout: &Mutex<Checkout>,
        work: impl FnOnce(&Connection) -> SqlResult<R>,
    ) -> SqlResult<R> {
        tokio::task::block_in_place(|| {
            let guard = checkout.lock().map_err(|_| SqlError::InvalidConnection)?;
            let conn = guard.conn.as_ref().ok_or(SqlError::InvalidConnection)?;
            work(conn)
        })
    }

    /// Runs `work` on this connection off the executor.
    pub(super) async fn run<R: Send + 'static>(
        checkout: Arc<Mutex<Checkout>>,
        work: impl FnOnce(&Connection) -> SqlResult<R> + Send + 'static,
    ) -> wasmtime::Result<SqlResult<R>> {
        blocking(move || {
            let guard = checkout.lock().map_err(|_| SqlError::InvalidConnection)?;
            let conn = guard.conn.as_ref().ok_or(SqlError::InvalidConnection)?;
            work(conn)
        })
        .await
    }
}

fn lock(checkout: &Mutex<Checkout>) -> SqlResult<std::sync::MutexGuard<'_, Checkout>> {
    checkout.lock().map_err(|_| SqlError::InvalidConnection)
}

fn query(conn: &Connection, sql: &str, parameters: Vec<Value>) -> SqlResult<Rows> {
    let mut statement = conn.prepare_cached(sql)?;
    let columns: Vec<String> = statement.column_names().map(String::from).collect();
    let mut cursor = statement.query(params_from_iter(parameters))?;
    let mut rows = vec![];
    while let Some(row) = cursor.next()? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).map(owned_value))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

fn owned_value(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A fresh database file in the system's temporary directory.
    pub(crate) fn database(name: &str) -> (Arc<SqlDatabase>, PathBuf) {
        let dir = std::env::temp_dir().join(format!("spin-host-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite");
        let db = SqlDatabase::open(&path).unwrap();
        db.execute_batch("CREATE TABLE t (n INTEGER)").unwrap();
        (db, dir)
    }

    pub(crate) fn connection(db: &Arc<SqlDatabase>) -> Arc<Mutex<Checkout>> {
        Arc::new(Mutex::new(db.checkout().unwrap()))
    }

    pub(crate) async fn run(conn: &Arc<Mutex<Checkout>>, sql: &str) -> Rows {
        SqlConn::execute(conn.clone(), sql.into(), vec![])
            .await
            .unwrap()
            .unwrap()
    }

    #[test]
    fn statements_that_write() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER)").unwrap();
        for sql in [
            "BEGIN IMMEDIATE",
            "begin exclusive;",
            "INSERT INTO t VALUES (1)",
            "DELETE FROM t",
        ] {
            assert!(writes(&conn, sql).unwrap(), "{sql}");
        }
        for sql in [
            "BEGIN",
            "BEGIN DEFERRED",
            "SELECT n FROM t",
            "COMMIT",
            "ROLLBACK",
        ] {
            assert!(!writes(&conn, sql).unwrap(), "{sql}");
        }
        assert!(writes(&conn, "SELECT nope FROM nowhere").is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_take_turns_in_order_and_readers_do_not_wait() {
        let (db, dir) = database("turns");
        let first = connection(&db);
        let second = connection(&db);
        let reader = connection(&db);
        run(&first, "BEGIN IMMEDIATE").await;
        run(&first, "INSERT INTO t VALUES (1)").await;

        let waiting = tokio::spawn({
            let second = second.clone();
            async move {
                run(&second, "BEGIN IMMEDIATE").await;
                let rows = run(&second, "SELECT count(*) FROM t").await;
                run(&second, "COMMIT").await;
                rows.rows
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !waiting.is_finished(),
            "a second writer waits for the first"
        );
        let read = run(&reader, "SELECT count(*) FROM t").await;
        assert_eq!(
            read.rows,
            [[Value::Integer(0)]],
            "readers see the last commit"
        );

        run(&first, "COMMIT").await;
        assert_eq!(waiting.await.unwrap(), [[Value::Integer(1)]]);
        assert!(lock(&first).unwrap().writer_turn.is_none());
        assert!(lock(&second).unwrap().writer_turn.is_none());
        assert_eq!(db.writes.load(Ordering::Relaxed), 2);
        drop((first, second, reader, db));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_returned_mid_transaction_gives_up_its_turn() {
        let (db, dir) = database("abandoned");
        let abandoned = connection(&db);
        run(&abandoned, "BEGIN IMMEDIATE").await;
        run(&abandoned, "INSERT INTO t VALUES (1)").await;
        drop(abandoned);
        let next = connection(&db);
        run(&next, "INSERT INTO t VALUES (2)").await;
        let rows = run(&next, "SELECT n FROM t").await;
        assert_eq!(
            rows.rows,
            [[Value::Integer(2)]],
            "the abandoned insert was rolled back"
        );
        drop((next, db));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
