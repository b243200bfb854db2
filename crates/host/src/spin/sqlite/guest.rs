//! A guest's statements run on a SQLite connection that may not be the
//! guest's own (a write runs on the database's writer connection: see
//! `database`). What SQLite reports of a connection is still the guest's
//! own: the last insert rowid, `changes` and `total_changes`, through the
//! interface and as SQL functions, as on a connection opened for it.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};

/// A connection that runs guests' statements.
pub(super) struct GuestConn {
    conn: Connection,
    /// What the SQL functions `changes()` and `total_changes()` report:
    /// the counts of the guest whose statement is running.
    changes: Arc<AtomicI64>,
    total_changes: Arc<AtomicI64>,
}

/// What a guest's connection reports of its statements so far.
#[derive(Default)]
pub(super) struct Reported {
    pub last_insert_rowid: i64,
    pub changes: u64,
    total_changes: u64,
}

/// A statement's result, independent of the interface generation.
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl GuestConn {
    /// Replaces SQLite's `changes()` and `total_changes()` on `conn` with
    /// the running guest's counts.
    pub fn new(conn: Connection) -> rusqlite::Result<GuestConn> {
        Ok(GuestConn {
            changes: count_function(&conn, "changes")?,
            total_changes: count_function(&conn, "total_changes")?,
            conn,
        })
    }

    /// Runs `sql` as on the guest's own connection, whose counts so far
    /// are `reported`, and brings them up to date.
    pub fn run(
        &self,
        sql: &str,
        parameters: Vec<Value>,
        reported: &mut Reported,
    ) -> rusqlite::Result<Rows> {
        let conn = &self.conn;
        self.changes
            .store(as_sql(reported.changes), Ordering::Relaxed);
        self.total_changes
            .store(as_sql(reported.total_changes), Ordering::Relaxed);
        // SAFETY: the handle is `conn`'s own, open while `conn` is
        // borrowed, and a rusqlite connection is used by one thread at a time.
        unsafe {
            rusqlite::ffi::sqlite3_set_last_insert_rowid(conn.handle(), reported.last_insert_rowid)
        };
        let total_before = conn.total_changes();
        let result = query(conn, sql, parameters);
        reported.last_insert_rowid = conn.last_insert_rowid();
        reported.total_changes += conn.total_changes().saturating_sub(total_before);
        if counts_changes(conn, sql) {
            reported.changes = conn.changes();
        }
        result
    }
}

impl Deref for GuestConn {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Replaces SQLite's function `name()` on `conn` with one that reports the
/// count returned.
fn count_function(conn: &Connection, name: &str) -> rusqlite::Result<Arc<AtomicI64>> {
    let count = Arc::new(AtomicI64::new(0));
    let reported = count.clone();
    conn.create_scalar_function(name, 0, FunctionFlags::SQLITE_UTF8, move |_| {
        Ok(reported.load(Ordering::Relaxed))
    })?;
    Ok(count)
}

fn as_sql(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn query(conn: &Connection, sql: &str, parameters: Vec<Value>) -> rusqlite::Result<Rows> {
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

/// Whether `sql` sets what `changes` reports: an INSERT, UPDATE or DELETE
/// (SQLite leaves the count alone for every other statement).
fn counts_changes(conn: &Connection, sql: &str) -> bool {
    match first_keyword(sql).as_str() {
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" => true,
        "WITH" => conn
            .prepare_cached(sql)
            .is_ok_and(|statement| !statement.readonly()),
        _ => false,
    }
}

/// Whether `sql` may leave state on the connection that runs it (a
/// setting, an attached database, a temporary object), which the guest's
/// later statements must find there.
pub(super) fn may_leave_state(sql: &str) -> bool {
    matches!(
        first_keyword(sql).as_str(),
        "PRAGMA" | "ATTACH" | "DETACH" | "CREATE"
    )
}

/// Whether `sql`, just run on `conn`, left such state there.
pub(super) fn leaves_state(conn: &Connection, sql: &str) -> bool {
    match first_keyword(sql).as_str() {
        "PRAGMA" | "ATTACH" | "DETACH" => true,
        "CREATE" => conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM temp.sqlite_schema)",
                [],
                |row| row.get(0),
            )
            .unwrap_or(true),
        _ => false,
    }
}

/// The statement's first keyword, upper-case, after any comments.
fn first_keyword(sql: &str) -> String {
    keywords(sql).next().unwrap_or_default()
}

/// The statement's leading keywords, upper-case, with the comments and
/// whitespace around them skipped; they end at the first thing that is not
/// a word (`;`, `(`, a quote, a digit).
pub(super) fn keywords(sql: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = sql;
    std::iter::from_fn(move || {
        rest = skip_comments(rest);
        let end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        rest = after;
        (!word.is_empty()).then(|| word.to_ascii_uppercase())
    })
}

fn skip_comments(sql: &str) -> &str {
    let mut rest = sql.trim_start();
    loop {
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return rest;
        }
        rest = rest.trim_start();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest_conn() -> GuestConn {
        let conn = GuestConn::new(Connection::open_in_memory().unwrap()).unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER)").unwrap();
        conn
    }

    fn one_row(conn: &GuestConn, sql: &str, reported: &mut Reported) -> Vec<Value> {
        let mut rows = conn.run(sql, vec![], reported).unwrap().rows;
        assert_eq!(rows.len(), 1, "{sql}");
        rows.remove(0)
    }

    #[test]
    fn guests_sharing_a_connection_each_see_their_own_counts() {
        let shared = guest_conn();
        let (mut first, mut second) = (Reported::default(), Reported::default());
        shared
            .run("INSERT INTO t VALUES (1)", vec![], &mut first)
            .unwrap();
        shared
            .run("INSERT INTO t VALUES (2), (3)", vec![], &mut second)
            .unwrap();
        shared
            .run("UPDATE t SET n = n WHERE n > 1", vec![], &mut second)
            .unwrap();
        let counts = "SELECT last_insert_rowid(), changes(), total_changes()";
        assert_eq!(
            one_row(&shared, counts, &mut first),
            [Value::Integer(1), Value::Integer(1), Value::Integer(1)]
        );
        assert_eq!(
            one_row(&shared, counts, &mut second),
            [Value::Integer(3), Value::Integer(2), Value::Integer(4)]
        );
        assert_eq!((first.last_insert_rowid, first.changes), (1, 1));

        shared
            .run("DELETE FROM t WHERE n = 99", vec![], &mut first)
            .unwrap();
        assert_eq!(first.changes, 0, "a write of no rows counts 0");
        shared.run("SELECT n FROM t", vec![], &mut second).unwrap();
        assert_eq!(second.changes, 2, "a read leaves the count alone");
    }

    #[test]
    fn first_keywords() {
        for (sql, keyword) in [
            ("insert into t values (1)", "INSERT"),
            ("  -- a note\n  UPDATE t SET n = 1", "UPDATE"),
            ("/* a note */ WITH x AS (SELECT 1) DELETE FROM t", "WITH"),
            ("PRAGMA foreign_keys = ON", "PRAGMA"),
            ("-- only a comment", ""),
        ] {
            assert_eq!(first_keyword(sql), keyword, "{sql}");
        }
    }

    #[test]
    fn leading_keywords_skip_comments_between_words() {
        let words = |sql| keywords(sql).collect::<Vec<_>>();
        assert_eq!(
            words("-- a note\nbegin /* why */ immediate;"),
            ["BEGIN", "IMMEDIATE"]
        );
        assert_eq!(words("BEGIN;"), ["BEGIN"]);
        assert_eq!(words("SELECT 1"), ["SELECT"]);
        assert_eq!(words("  "), Vec::<String>::new());
    }
}
