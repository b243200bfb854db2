//! SQLite databases. Every `connection` a guest opens behaves as a SQLite
//! connection of its own, as on Spin: a transaction a component runs with
//! BEGIN ... COMMIT is isolated from every other request, and what it
//! reads outside one is the last commit. Databases use WAL and a busy
//! timeout.
//!
//! SQLite lets one connection write at a time. Rather than have concurrent
//! writers poll SQLite's lock (the busy handler sleeps 1, 2, 5 ... 100 ms
//! between tries, so a queue of writers waits far longer than the work
//! takes, and unfairly), a connection about to write first waits for the
//! database's writer turn, first come first served, and keeps it until it
//! is back in autocommit mode (COMMIT, ROLLBACK, or the end of an
//! autocommit write). The busy timeout still guards against writers in
//! other processes.
//!
//! The turn comes with the database's one writer connection, and a turn's
//! statements run on it. A SQLite connection drops its page cache whenever
//! it finds another connection's commit, so a writer on a pooled connection
//! would read every page it touches afresh; the writer connection sees only
//! its own commits and keeps its pages (BENCHMARKS.md has what it gains).
//! Other statements run on the guest's own connection, from a small pool,
//! in parallel (one returned in the middle of a transaction is rolled back
//! first). A turn stays on the guest's own connection where the writer
//! connection would not find what the guest left there: when the guest
//! began a transaction before its first write (`BEGIN`, then an `INSERT`),
//! and once it has changed its connection's settings, attached a database
//! or made a temporary object. The one difference a guest could notice
//! from a connection of its own: such state made inside a transaction on
//! the writer connection lasts until the transaction ends (the writer
//! connection is then replaced, so no other guest finds it).
//!
//! This module is the databases themselves (the pool, writer turns and
//! where statements run); `guest` keeps what SQLite reports of a
//! connection (`last_insert_rowid`, `changes`) the guest's own, whichever
//! connection ran its statements; `crate::spin::checkpoint` keeps the WAL
//! short, and `mod.rs` is the interfaces over them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::config::DbConfig;
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode};

use super::guest::{GuestConn, Reported, Rows, keywords, leaves_state, may_leave_state};
use crate::spin::blocking;
use crate::spin::checkpoint::{Checkpointed, start_checkpointer};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_IDLE_CONNECTIONS: usize = 32;
/// Prepared statements kept per connection. The writer connection runs
/// every component's writes, so it keeps more.
const CACHED_STATEMENTS: usize = 64;
const WRITER_CACHED_STATEMENTS: usize = 256;

pub struct SqlDatabase {
    path: PathBuf,
    idle: Mutex<Vec<GuestConn>>,
    /// The writer turn, with the writer connection (see the module
    /// comment); tokio's mutex queues waiters in order.
    writer: Arc<tokio::sync::Mutex<GuestConn>>,
    /// Writer turns ended so far: the checkpointer's cue.
    writes: AtomicU64,
    /// Writers waiting for the turn.
    waiting_writers: AtomicUsize,
}

/// A turn as the database's writer, holding the writer connection.
type WriterTurn = tokio::sync::OwnedMutexGuard<GuestConn>;

/// A guest's `connection` resource.
pub struct SqlConn {
    pub(super) checkout: Arc<Mutex<Checkout>>,
}

/// A pooled connection on loan; returned to its pool when dropped (after
/// which its writer turn, if it has one, ends).
pub(super) struct Checkout {
    db: Arc<SqlDatabase>,
    conn: Option<GuestConn>,
    turn: Option<Turn>,
    /// Whether the guest has left state on its own connection (settings,
    /// attached databases, temporary objects): its turns then stay there.
    state_on_own: bool,
    reported: Reported,
}

struct Turn {
    writer: WriterTurn,
    /// Whether the turn's statements run on the guest's own connection
    /// rather than on the writer connection.
    on_own: bool,
    /// Whether a statement left state on the writer connection, which is
    /// then replaced when the turn ends.
    writer_state_left: bool,
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

impl SqlDatabase {
    pub fn open(path: &Path) -> anyhow::Result<Arc<SqlDatabase>> {
        let opened = || -> anyhow::Result<Arc<SqlDatabase>> {
            let db = Arc::new(SqlDatabase {
                path: path.to_path_buf(),
                idle: Mutex::new(vec![]),
                writer: Arc::new(tokio::sync::Mutex::new(connect_writer(path)?)),
                writes: AtomicU64::new(0),
                waiting_writers: AtomicUsize::new(0),
            });
            start_checkpointer(&db)?;
            Ok(db)
        };
        opened().with_context(|| format!("cannot open SQLite database {}", path.display()))
    }

    pub(super) fn checkout(self: &Arc<Self>) -> SqlResult<Checkout> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        Ok(Checkout {
            db: self.clone(),
            conn: Some(conn),
            turn: None,
            state_on_own: false,
            reported: Reported::default(),
        })
    }

    fn checkin(&self, conn: GuestConn) {
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return; // a connection in an unknown state is not reused
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_CONNECTIONS
        {
            idle.push(conn);
        }
    }

    /// Ends a turn: the writer connection is rolled back if a transaction
    /// was left open on it, and replaced if it may hold a guest's state.
    fn end_turn(&self, mut turn: Turn) {
        if !turn.on_own {
            let abandoned = !turn.writer.is_autocommit();
            let rolled_back = abandoned && turn.writer.execute_batch("ROLLBACK").is_ok();
            if turn.writer_state_left || (abandoned && !rolled_back) {
                match connect_writer(&self.path) {
                    Ok(fresh) => *turn.writer = fresh,
                    Err(e) => tracing::warn!("cannot replace the SQLite writer connection: {e}"),
                }
            }
        }
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs SQL statements at start-up (`--sqlite`).
    pub fn execute_batch(self: &Arc<Self>, sql: &str) -> anyhow::Result<()> {
        let checkout = self.checkout().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let conn = checkout.conn.as_ref().expect("checked out");
        conn.execute_batch(sql)?;
        Ok(())
    }
}

/// A connection for guests' statements.
fn connect(path: &Path) -> rusqlite::Result<GuestConn> {
    GuestConn::new(open(path)?)
}

fn connect_writer(path: &Path) -> rusqlite::Result<GuestConn> {
    let writer = connect(path)?;
    writer.set_prepared_statement_cache_capacity(WRITER_CACHED_STATEMENTS);
    Ok(writer)
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // In WAL mode, NORMAL syncs the WAL at checkpoints instead of at
    // every commit: a committed transaction survives the host being
    // killed, and the database stays consistent through a power loss,
    // which may undo the last commits before the checkpoint.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Checkpoints are the checkpointer's (`crate::spin::checkpoint`).
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    // Statements are prepared once per connection and cached. Without
    // the query planner stability guarantee SQLite re-prepares a
    // cached statement with a join or an `ORDER BY` every time it is
    // bound to new values — on the hold check, more work than running it.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    Ok(conn)
}

impl Checkpointed for SqlDatabase {
    fn connect(&self) -> rusqlite::Result<Connection> {
        open(&self.path)
    }

    fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    fn with_writers_stopped(&self, work: &mut dyn FnMut()) {
        let _turn = self.writer.blocking_lock();
        work();
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        // The guest's own connection is rolled back before the turn ends,
        // so the next writer never finds SQLite's lock still taken.
        if let Some(conn) = self.conn.take() {
            self.db.checkin(conn);
        }
        if let Some(turn) = self.turn.take() {
            self.db.end_turn(turn);
        }
    }
}

impl Checkout {
    /// The database whose writer turn to wait for before `sql` runs on
    /// this connection: none when the connection has the turn already or
    /// the statement only reads.
    fn turn_to_wait_for(&self, sql: &str) -> SqlResult<Option<Arc<SqlDatabase>>> {
        let conn = self.conn.as_ref().ok_or(SqlError::InvalidConnection)?;
        if self.turn.is_some() || !writes(conn, sql)? {
            return Ok(None);
        }
        Ok(Some(self.db.clone()))
    }

    /// Runs one statement, beginning a turn with `writer` (if given) that
    /// lasts until the connection running it is back in autocommit mode.
    fn execute(
        &mut self,
        writer: Option<WriterTurn>,
        sql: &str,
        parameters: Vec<Value>,
    ) -> SqlResult<Rows> {
        let own = self.conn.as_ref().ok_or(SqlError::InvalidConnection)?;
        if let Some(writer) = writer {
            let on_own = self.state_on_own || !own.is_autocommit() || may_leave_state(sql);
            self.turn = Some(Turn {
                writer,
                on_own,
                writer_state_left: false,
            });
        }
        let conn = match &self.turn {
            Some(turn) if !turn.on_own => &*turn.writer,
            _ => own,
        };
        let result = conn.run(sql, parameters, &mut self.reported);
        let left_state = leaves_state(conn, sql);
        let back_in_autocommit = conn.is_autocommit();
        match &mut self.turn {
            Some(turn) if !turn.on_own => turn.writer_state_left |= left_state,
            _ => self.state_on_own |= left_state,
        }
        if back_in_autocommit && let Some(turn) = self.turn.take() {
            self.db.end_turn(turn);
        }
        Ok(result?)
    }

    /// [`Checkout::execute`] for a connection with a writer turn, or given
    /// one; also says whether the statement ended the turn while another
    /// writer waited for it.
    fn execute_in_turn(
        &mut self,
        writer: Option<WriterTurn>,
        sql: &str,
        parameters: Vec<Value>,
    ) -> (SqlResult<Rows>, bool) {
        let result = self.execute(writer, sql, parameters);
        let handed_over =
            self.turn.is_none() && self.db.waiting_writers.load(Ordering::Relaxed) > 0;
        (result, handed_over)
    }
}

/// Whether `sql` writes, or begins a transaction that takes the write lock
/// at once (`BEGIN IMMEDIATE` / `EXCLUSIVE`).
fn writes(conn: &Connection, sql: &str) -> SqlResult<bool> {
    let mut words = keywords(sql);
    if words.next().as_deref() == Some("BEGIN") {
        return Ok(matches!(
            words.next().as_deref(),
            Some("IMMEDIATE" | "EXCLUSIVE")
        ));
    }
    Ok(!conn.prepare_cached(sql)?.readonly())
}

impl SqlDatabase {
    /// Waits for the writer turn; after the busy timeout, goes on without
    /// it (SQLite's own busy handling then decides, as it would for another
    /// process).
    async fn take_turn(&self) -> Option<WriterTurn> {
        let _waiting = Waiting::count(&self.waiting_writers);
        tokio::time::timeout(BUSY_TIMEOUT, self.writer.clone().lock_owned())
            .await
            .ok()
    }
}

/// One more writer waiting for the turn, until dropped: also when the
/// wait times out or the request waiting is cancelled.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl SqlConn {
    /// Runs one statement, after waiting for the writer turn when it
    /// writes. A connection that has the turn runs its statements right
    /// here: every other writer waits for it, so its statements must not
    /// queue for a thread, and they never wait for a lock. Other statements
    /// (reads, mostly) run off the executor: a report's query takes a while.
    ///
    /// A statement that hands the turn to a waiting writer then yields.
    /// Ending the turn woke that writer on this thread, and tokio runs a
    /// task woken that way on the same thread only once the running task
    /// gives the thread up, which the guest would do only after it had
    /// answered its request. Meanwhile the turn, which every writer needs,
    /// would stand idle.
    pub(super) async fn execute(
        checkout: Arc<Mutex<Checkout>>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<SqlResult<Rows>> {
        let (result, handed_over) = Self::run(checkout, statement, parameters).await?;
        if handed_over {
            tokio::task::yield_now().await;
        }
        Ok(result)
    }

    /// [`SqlConn::execute`] up to the yield; also says whether the
    /// statement handed the writer turn over.
    async fn run(
        checkout: Arc<Mutex<Checkout>>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<(SqlResult<Rows>, bool)> {
        let to_wait_for = {
            let mut c = match lock(&checkout) {
                Ok(c) => c,
                Err(e) => return Ok((Err(e), false)),
            };
            if c.turn.is_some() {
                return Ok(c.execute_in_turn(None, &statement, parameters));
            }
            match c.turn_to_wait_for(&statement) {
                Ok(db) => db,
                Err(e) => return Ok((Err(e), false)),
            }
        };
        if let Some(db) = to_wait_for
            && let Some(turn) = db.take_turn().await
        {
            return Ok(match lock(&checkout) {
                Ok(mut c) => c.execute_in_turn(Some(turn), &statement, parameters),
                Err(e) => (Err(e), false),
            });
        }
        let result = blocking(move || lock(&checkout)?.execute(None, &statement, parameters));
        Ok((result.await?, false))
    }

    /// The same for the interface's synchronous `execute`: on the current
    /// thread, telling the executor that it may block.
    pub(super) fn execute_here(
        checkout: &Mutex<Checkout>,
        statement: &str,
        parameters: Vec<Value>,
    ) -> SqlResult<Rows> {
        let to_wait_for = {
            let mut c = lock(checkout)?;
            if c.turn.is_some() {
                return c.execute(None, statement, parameters);
            }
            c.turn_to_wait_for(statement)?
        };
        tokio::task::block_in_place(|| {
            let turn = to_wait_for
                .and_then(|db| tokio::runtime::Handle::current().block_on(db.take_turn()));
            lock(checkout)?.execute(turn, statement, parameters)
        })
    }

    /// The rowid of the guest's last successful INSERT on this connection.
    pub(super) fn last_insert_rowid(checkout: &Mutex<Checkout>) -> i64 {
        lock(checkout).map_or(0, |c| c.reported.last_insert_rowid)
    }

    /// The rows the guest's last INSERT, UPDATE or DELETE changed.
    pub(super) fn changes(checkout: &Mutex<Checkout>) -> u64 {
        lock(checkout).map_or(0, |c| c.reported.changes)
    }
}

fn lock(checkout: &Mutex<Checkout>) -> SqlResult<std::sync::MutexGuard<'_, Checkout>> {
    checkout.lock().map_err(|_| SqlError::InvalidConnection)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::spin::checkpoint::tests::wait_for_rows;

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpointer_copies_commits_into_the_database() {
        let (db, dir) = database("checkpoint");
        let conn = connection(&db);
        for n in 0..50 {
            run(&conn, &format!("INSERT INTO t VALUES ({n})")).await;
        }
        wait_for_rows(&dir.join("db.sqlite"), "SELECT count(*) FROM t", 50).await;
        drop((conn, db));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn statements_that_write() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER)").unwrap();
        for sql in [
            "BEGIN IMMEDIATE",
            "begin exclusive;",
            "-- a note\nBEGIN /* why */ IMMEDIATE",
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
        assert!(lock(&first).unwrap().turn.is_none());
        assert!(lock(&second).unwrap().turn.is_none());
        assert_eq!(db.writes.load(Ordering::Relaxed), 2);
        drop((first, second, reader, db));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// On one thread, as when the next writer was woken on the committing
    /// request's thread.
    #[tokio::test(flavor = "current_thread")]
    async fn the_next_writer_goes_on_before_the_one_that_committed() {
        let (db, dir) = database("handover");
        let first = connection(&db);
        let second = connection(&db);
        let order = Arc::new(Mutex::new(vec![]));
        run(&first, "BEGIN IMMEDIATE").await;
        let waiting = tokio::spawn({
            let (second, order) = (second.clone(), order.clone());
            async move {
                run(&second, "BEGIN IMMEDIATE").await;
                order.lock().unwrap().push("the next writer began");
                run(&second, "COMMIT").await;
            }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the next writer waits");

        run(&first, "COMMIT").await;
        order.lock().unwrap().push("the first writer went on");
        waiting.await.unwrap();
        assert_eq!(
            *order.lock().unwrap(),
            ["the next writer began", "the first writer went on"]
        );
        assert_eq!(db.waiting_writers.load(Ordering::Relaxed), 0);
        drop((first, second, db));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A writer that stopped waiting (its request cancelled) is no longer
    /// one to make way for.
    #[tokio::test(flavor = "current_thread")]
    async fn a_writer_nobody_waits_for_goes_on_after_committing() {
        let (db, dir) = database("no-handover");
        let first = connection(&db);
        let gave_up = connection(&db);
        run(&first, "BEGIN IMMEDIATE").await;
        let cancelled = tokio::spawn({
            let gave_up = gave_up.clone();
            async move {
                run(&gave_up, "BEGIN IMMEDIATE").await;
            }
        });
        tokio::task::yield_now().await;
        cancelled.abort();
        assert!(cancelled.await.unwrap_err().is_cancelled());

        let order = Arc::new(Mutex::new(vec![]));
        let other = tokio::spawn({
            let order = order.clone();
            async move { order.lock().unwrap().push("another task ran") }
        });
        run(&first, "COMMIT").await;
        order.lock().unwrap().push("the writer went on");
        other.await.unwrap();
        assert_eq!(
            *order.lock().unwrap(),
            ["the writer went on", "another task ran"]
        );
        drop((first, gave_up, db));
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

    async fn fails(conn: &Arc<Mutex<Checkout>>, sql: &str) -> String {
        match SqlConn::execute(conn.clone(), sql.into(), vec![])
            .await
            .unwrap()
        {
            Ok(_) => panic!("{sql} succeeded"),
            Err(e) => format!("{e:?}"),
        }
    }

    fn reported(conn: &Arc<Mutex<Checkout>>) -> (i64, u64) {
        (SqlConn::last_insert_rowid(conn), SqlConn::changes(conn))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_connection_reports_its_own_last_insert_and_changes() {
        let (db, dir) = database("reported");
        let first = connection(&db);
        let second = connection(&db);
        assert_eq!(reported(&first), (0, 0), "a new connection reports nothing");

        run(&first, "INSERT INTO t VALUES (1)").await;
        run(&second, "INSERT INTO t VALUES (2), (3)").await;
        assert_eq!(reported(&first), (1, 1));
        assert_eq!(reported(&second), (3, 2));

        run(&first, "SELECT n FROM t").await;
        assert_eq!(reported(&first), (1, 1), "a read changes neither");
        run(&first, "UPDATE t SET n = n WHERE n > 1").await;
        assert_eq!(reported(&first), (1, 2));
        run(&first, "DELETE FROM t WHERE n = 99").await;
        assert_eq!(reported(&first), (1, 0), "a write of no rows counts 0");
        assert_eq!(reported(&second), (3, 2));
        drop((first, second, db));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connections_settings_and_temporary_tables_stay_its_own() {
        let (db, dir) = database("state");
        db.execute_batch(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (parent INTEGER REFERENCES parent (id));",
        )
        .unwrap();
        let lax = connection(&db);
        let other = connection(&db);

        // Foreign keys are enforced by default (as on Spin): one connection
        // turns them off for itself.
        run(&lax, "PRAGMA foreign_keys = OFF").await;
        run(&lax, "INSERT INTO child VALUES (7)").await;
        let refused = fails(&other, "INSERT INTO child VALUES (8)").await;
        assert!(refused.contains("FOREIGN KEY"), "{refused}");

        run(&lax, "CREATE TEMP TABLE scratch (n INTEGER)").await;
        run(&lax, "INSERT INTO scratch VALUES (1), (2)").await;
        let rows = run(&lax, "SELECT count(*) FROM scratch").await;
        assert_eq!(rows.rows, [[Value::Integer(2)]]);
        let refused = fails(&other, "INSERT INTO scratch VALUES (3)").await;
        assert!(refused.contains("no such table"), "{refused}");
        drop((lax, other, db));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transaction_that_reads_before_it_writes_stays_whole() {
        let (db, dir) = database("deferred");
        let writer = connection(&db);
        let reader = connection(&db);
        run(&writer, "BEGIN").await;
        run(&writer, "SELECT count(*) FROM t").await;
        run(&writer, "INSERT INTO t VALUES (1)").await;
        run(&writer, "INSERT INTO t VALUES (2)").await;
        let seen = run(&reader, "SELECT count(*) FROM t").await;
        assert_eq!(
            seen.rows,
            [[Value::Integer(0)]],
            "nothing is seen before COMMIT"
        );
        run(&writer, "ROLLBACK").await;
        assert!(
            lock(&writer).unwrap().turn.is_none(),
            "ROLLBACK ends the turn"
        );

        run(&writer, "INSERT INTO t VALUES (3)").await;
        let seen = run(&reader, "SELECT n FROM t").await;
        assert_eq!(
            seen.rows,
            [[Value::Integer(3)]],
            "the rolled back rows are gone"
        );
        drop((writer, reader, db));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_temporary_table_made_in_a_write_transaction_ends_with_it() {
        let (db, dir) = database("writer-state");
        let maker = connection(&db);
        let next = connection(&db);
        run(&maker, "BEGIN IMMEDIATE").await;
        run(&maker, "CREATE TEMP TABLE scratch (n INTEGER)").await;
        run(&maker, "INSERT INTO scratch VALUES (1)").await;
        run(&maker, "INSERT INTO t SELECT n FROM scratch").await;
        run(&maker, "COMMIT").await;

        run(&next, "BEGIN IMMEDIATE").await;
        let refused = fails(&next, "SELECT n FROM scratch").await;
        assert!(refused.contains("no such table"), "{refused}");
        let rows = run(&next, "SELECT n FROM t").await;
        assert_eq!(rows.rows, [[Value::Integer(1)]]);
        run(&next, "COMMIT").await;
        drop((maker, next, db));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
