//! SQLite databases: `spin:sqlite@3.1.0` (spin-sdk 5+) and
//! `fermyon:spin/sqlite@2.0.0` (older SDKs). A database is a label the
//! component declares (anything else is `access-denied`); each `connection`
//! it opens behaves as a SQLite connection of its own, and writers take
//! turns on the database's writer connection (`database`, `guest`); the WAL
//! is kept short in the background (`crate::spin::checkpoint`).

mod database;
mod guest;

use std::sync::{Arc, Mutex};

use rusqlite::types::Value;
use wasmtime::component::{Access, Accessor, FutureReader, Resource, StreamReader};

use super::bindings::fermyon::spin::sqlite as v2;
use super::bindings::spin::sqlite::sqlite as v3;
use super::{Spin, SpinCtx, SpinView};
use database::{Checkout, SqlError, SqlResult};
pub use database::{SqlConn, SqlDatabase};
use guest::Rows;

/// A connection to `database`: the component must declare it, and the
/// application configure it.
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
        let result = SqlConn::execute_here(&checkout, &statement, bind(parameters));
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
        let result = match SqlConn::execute(checkout, statement, bind(parameters)).await? {
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
        Ok(SqlConn::last_insert_rowid(&checkout))
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        self_: Resource<SqlConn>,
    ) -> wasmtime::Result<i64> {
        let checkout = v3_checkout(accessor, &self_)?;
        Ok(SqlConn::last_insert_rowid(&checkout))
    }

    fn changes(mut host: Access<'_, T, Self>, self_: Resource<SqlConn>) -> wasmtime::Result<u64> {
        let checkout = checkout_of(host.get().table, &self_)?;
        Ok(SqlConn::changes(&checkout))
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        self_: Resource<SqlConn>,
    ) -> wasmtime::Result<u64> {
        let checkout = v3_checkout(accessor, &self_)?;
        Ok(SqlConn::changes(&checkout))
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
        let result = SqlConn::execute(checkout, statement, bind(parameters)).await?;
        Ok(result.map(Into::into).map_err(Into::into))
    }

    async fn drop(&mut self, rep: Resource<SqlConn>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spin::{Backends, ComponentGrants, test_context};

    fn context(granted: &[&str], db: &Arc<SqlDatabase>) -> SpinCtx {
        let mut backends = Backends::default();
        backends.sqlite.insert("default".into(), db.clone());
        let grants = ComponentGrants {
            sqlite_databases: granted.iter().map(|s| s.to_string()).collect(),
            ..ComponentGrants::default()
        };
        test_context(grants, backends)
    }

    #[test]
    fn a_database_is_opened_only_with_the_grant() {
        let (db, dir) = database::tests::database("sqlite-access");
        let refused = open_connection(&context(&[], &db), "default");
        assert!(matches!(refused, Err(SqlError::AccessDenied)));

        let granted = context(&["default", "reports"], &db);
        assert!(open_connection(&granted, "default").is_ok());
        assert!(matches!(
            open_connection(&granted, "reports"),
            Err(SqlError::NoSuchDatabase)
        ));
        assert!(matches!(
            open_connection(&granted, "other"),
            Err(SqlError::AccessDenied)
        ));
        drop((granted, db));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
