//! SQLite databases. Every `connection` a guest opens gets a real SQLite
//! connection of its own (from a small pool), so a transaction a component
//! runs with BEGIN ... COMMIT is isolated from every other request. Databases
//! use WAL and a busy timeout; a connection returned to the pool in the
//! middle of a transaction is rolled back first.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, ErrorCode, params_from_iter};
use wasmtime::component::{Access, Accessor, FutureReader, Resource, StreamReader};

use super::bindings::fermyon::spin::sqlite as v2;
use super::bindings::spin::sqlite::sqlite as v3;
use super::{Spin, SpinCtx, SpinView, blocking};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_IDLE_CONNECTIONS: usize = 32;

pub struct SqlDatabase {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// A guest's `connection` resource.
pub struct SqlConn {
    checkout: Arc<Mutex<Checkout>>,
}

/// A pooled connection on loan; returned to its pool when dropped.
struct Checkout {
    db: Arc<SqlDatabase>,
    conn: Option<Connection>,
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

type SqlResult<T> = Result<T, SqlError>;

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
        };
        let conn = db
            .connect()
            .with_context(|| format!("cannot open SQLite database {}", path.display()))?;
        db.idle.lock().expect("fresh mutex").push(conn);
        Ok(Arc::new(db))
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    fn checkout(self: &Arc<Self>) -> SqlResult<Checkout> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => self.connect()?,
        };
        Ok(Checkout {
            db: self.clone(),
            conn: Some(conn),
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

impl SqlConn {
    /// Runs `work` on this connection on the current thread, telling the
    /// executor it may block (for the interface's synchronous functions).
    fn run_here<R>(
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
    async fn run<R: Send + 'static>(
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

fn open_connection(ctx: &SpinCtx, database: &str) -> SqlResult<SqlConn> {
    if !ctx.grants.sqlite_databases.contains(database) {
        return Err(SqlError::AccessDenied);
    }
    let db = ctx
        .backends
        .sqlite
        .get(database)
        .ok_or(SqlError::NoSuchDatabase)?;
    Ok(SqlConn {
        checkout: Arc::new(Mutex::new(db.checkout()?)),
    })
}

fn checkout_of(
    table: &wasmtime::component::ResourceTable,
    conn: &Resource<SqlConn>,
) -> wasmtime::Result<Arc<Mutex<Checkout>>> {
    Ok(table.get(conn)?.checkout.clone())
}

/// Generates the conversions between the shared types and one generation's bindings.
macro_rules! conversions {
    ($v:ident) => {
        impl From<SqlError> for $v::Error {
            fn from(e: SqlError) -> Self {
                match e {
                    SqlError::NoSuchDatabase => $v::Error::NoSuchDatabase,
                    SqlError::AccessDenied => $v::Error::AccessDenied,
                    SqlError::InvalidConnection => $v::Error::InvalidConnection,
                    SqlError::DatabaseFull => $v::Error::DatabaseFull,
                    SqlError::Io(message) => $v::Error::Io(message),
                }
            }
        }

        impl From<$v::Value> for Value {
            fn from(value: $v::Value) -> Self {
                match value {
                    $v::Value::Integer(i) => Value::Integer(i),
                    $v::Value::Real(f) => Value::Real(f),
                    $v::Value::Text(t) => Value::Text(t),
                    $v::Value::Blob(b) => Value::Blob(b),
                    $v::Value::Null => Value::Null,
                }
            }
        }

        impl From<Value> for $v::Value {
            fn from(value: Value) -> Self {
                match value {
                    Value::Integer(i) => $v::Value::Integer(i),
                    Value::Real(f) => $v::Value::Real(f),
                    Value::Text(t) => $v::Value::Text(t),
                    Value::Blob(b) => $v::Value::Blob(b),
                    Value::Null => $v::Value::Null,
                }
            }
        }

        impl From<Vec<Value>> for $v::RowResult {
            fn from(values: Vec<Value>) -> Self {
                $v::RowResult {
                    values: values.into_iter().map(Into::into).collect(),
                }
            }
        }

        impl From<Rows> for $v::QueryResult {
            fn from(result: Rows) -> Self {
                $v::QueryResult {
                    columns: result.columns,
                    rows: result.rows.into_iter().map(Into::into).collect(),
                }
            }
        }
    };
}

conversions!(v3);
conversions!(v2);

fn bind(parameters: Vec<impl Into<Value>>) -> Vec<Value> {
    parameters.into_iter().map(Into::into).collect()
}

// ---- spin:sqlite/sqlite@3.1.0 --------------------------------------------

impl v3::Host for SpinView<'_> {}
impl v3::HostConnection for SpinView<'_> {}

fn v3_checkout<T>(
    accessor: &Accessor<T, Spin>,
    conn: &Resource<SqlConn>,
) -> wasmtime::Result<Arc<Mutex<Checkout>>> {
    accessor.with(|mut access| checkout_of(access.get().table, conn))
}

fn push_connection(
    view: SpinView<'_>,
    database: &str,
) -> wasmtime::Result<SqlResult<Resource<SqlConn>>> {
    match open_connection(view.ctx, database) {
        Ok(conn) => Ok(Ok(view.table.push(conn)?)),
        Err(e) => Ok(Err(e)),
    }
}

impl<T> v3::HostConnectionWithStore<T> for Spin {
    async fn drop(accessor: &Accessor<T, Self>, rep: Resource<SqlConn>) -> wasmtime::Result<()> {
        accessor.with(|mut access| access.get().table.delete(rep).map(drop))?;
        Ok(())
    }

    fn open(
        mut host: Access<'_, T, Self>,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqlConn>, v3::Error>> {
        Ok(push_connection(host.get(), &database)?.map_err(Into::into))
    }

    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqlConn>, v3::Error>> {
        accessor
            .with(|mut access| Ok(push_connection(access.get(), &database)?.map_err(Into::into)))
    }

    fn execute(
        mut host: Access<'_, T, Self>,
        self_: Resource<SqlConn>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> wasmtime::Result<Result<v3::QueryResult, v3::Error>> {
        let checkout = checkout_of(host.get().table, &self_)?;
        let parameters = bind(parameters);
        let result = SqlConn::run_here(&checkout, |c| query(c, &statement, parameters));
        Ok(result.map(Into::into).map_err(Into::into))
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        self_: Resource<SqlConn>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<String>,
                StreamReader<v3::RowResult>,
                FutureReader<Result<(), v3::Error>>,
            ),
            v3::Error,
        >,
    > {
        let checkout = v3_checkout(accessor, &self_)?;
        let parameters = bind(parameters);
        let result = match SqlConn::run(checkout, move |c| query(c, &statement, parameters)).await?
        {
            Ok(result) => result,
            Err(e) => return Ok(Err(e.into())),
        };
        let rows: Vec<v3::RowResult> = result.rows.into_iter().map(Into::into).collect();
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, rows)?;
            let done = FutureReader::new(&mut access, async { wasmtime::error::Ok(Ok(())) })?;
            Ok(Ok((result.columns, rows, done)))
        })
    }

    fn last_insert_rowid(
        mut host: Access<'_, T, Self>,
        self_: Resource<SqlConn>,
    ) -> wasmtime::Result<i64> {
        let checkout = checkout_of(host.get().table, &self_)?;
        Ok(SqlConn::run_here(&checkout, |c| Ok(c.last_insert_rowid())).unwrap_or(0))
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        self_: Resource<SqlConn>,
    ) -> wasmtime::Result<i64> {
        let checkout = v3_checkout(accessor, &self_)?;
        Ok(SqlConn::run(checkout, |c| Ok(c.last_insert_rowid()))
            .await?
            .unwrap_or(0))
    }

    fn changes(mut host: Access<'_, T, Self>, self_: Resource<SqlConn>) -> wasmtime::Result<u64> {
        let checkout = checkout_of(host.get().table, &self_)?;
        Ok(SqlConn::run_here(&checkout, |c| Ok(c.changes())).unwrap_or(0))
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        self_: Resource<SqlConn>,
    ) -> wasmtime::Result<u64> {
        let checkout = v3_checkout(accessor, &self_)?;
        Ok(SqlConn::run(checkout, |c| Ok(c.changes()))
            .await?
            .unwrap_or(0))
    }
}

// ---- fermyon:spin/sqlite@2.0.0 -------------------------------------------

impl v2::Host for SpinView<'_> {}

impl v2::HostConnection for SpinView<'_> {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqlConn>, v2::Error>> {
        let view = SpinView {
            ctx: self.ctx,
            table: self.table,
        };
        Ok(push_connection(view, &database)?.map_err(Into::into))
    }

    async fn execute(
        &mut self,
        self_: Resource<SqlConn>,
        statement: String,
        parameters: Vec<v2::Value>,
    ) -> wasmtime::Result<Result<v2::QueryResult, v2::Error>> {
        let checkout = checkout_of(self.table, &self_)?;
        let parameters = bind(parameters);
        let result = SqlConn::run(checkout, move |c| query(c, &statement, parameters)).await?;
        Ok(result.map(Into::into).map_err(Into::into))
    }

    async fn drop(&mut self, rep: Resource<SqlConn>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
