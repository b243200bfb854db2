//! The stores the ledger works on. In a Spin component they are Spin's
//! SQLite database and key-value store (`db::spin`); natively — tests and
//! benchmarks — the same SQL runs through rusqlite (`db::native`).

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
mod record;
#[cfg(feature = "spin")]
pub mod spin;

pub use record::{Columns, Record, Records, exact_sum};

use chrono::NaiveDate;

/// A value bound to a statement or read from a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Integer(value)
    }
}

impl From<u32> for Value {
    fn from(value: u32) -> Self {
        Value::Integer(i64::from(value))
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Integer(i64::from(value))
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_string())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

impl From<&String> for Value {
    fn from(value: &String) -> Self {
        Value::Text(value.clone())
    }
}

/// Dates are stored as `YYYY-MM-DD` text, which sorts by date.
impl From<NaiveDate> for Value {
    fn from(value: NaiveDate) -> Self {
        Value::Text(value.format("%Y-%m-%d").to_string())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

/// Statement parameters: `params![id, amount, as_of]`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::db::Value::from($value)),*]
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sql(String),
    #[error("key-value store error: {0}")]
    KeyValue(String),
    /// A request that runs once found its key claimed by another delivery
    /// (`api::replay`): its work stops, and nothing it did is kept.
    #[error("{0} is claimed by another delivery of the request")]
    Claimed(String),
    #[error("unexpected value in column {column}: expected {expected}")]
    Decode {
        column: usize,
        expected: &'static str,
    },
}

/// One result row; getters name what they expect so a schema mismatch is
/// reported, never silently defaulted.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    pub fn new(values: Vec<Value>) -> Row {
        Row { values }
    }

    /// Whether the value in `column` is NULL.
    pub fn is_null(&self, column: usize) -> bool {
        *self.value(column) == Value::Null
    }

    fn value(&self, column: usize) -> &Value {
        self.values.get(column).unwrap_or(&Value::Null)
    }

    fn decode_error(column: usize, expected: &'static str) -> DbError {
        DbError::Decode { column, expected }
    }

    pub fn int(&self, column: usize) -> Result<i64, DbError> {
        self.opt_int(column)?
            .ok_or_else(|| Self::decode_error(column, "an integer"))
    }

    pub fn opt_int(&self, column: usize) -> Result<Option<i64>, DbError> {
        match self.value(column) {
            Value::Integer(i) => Ok(Some(*i)),
            Value::Null => Ok(None),
            _ => Err(Self::decode_error(column, "an integer")),
        }
    }

    pub fn bool(&self, column: usize) -> Result<bool, DbError> {
        Ok(self.int(column)? != 0)
    }

    pub fn text(&self, column: usize) -> Result<&str, DbError> {
        self.opt_text(column)?
            .ok_or_else(|| Self::decode_error(column, "text"))
    }

    pub fn opt_text(&self, column: usize) -> Result<Option<&str>, DbError> {
        match self.value(column) {
            Value::Text(text) => Ok(Some(text)),
            Value::Null => Ok(None),
            _ => Err(Self::decode_error(column, "text")),
        }
    }

    pub fn string(&self, column: usize) -> Result<String, DbError> {
        self.text(column).map(str::to_string)
    }

    pub fn opt_string(&self, column: usize) -> Result<Option<String>, DbError> {
        Ok(self.opt_text(column)?.map(str::to_string))
    }

    pub fn date(&self, column: usize) -> Result<NaiveDate, DbError> {
        self.opt_date(column)?
            .ok_or_else(|| Self::decode_error(column, "a date"))
    }

    pub fn opt_date(&self, column: usize) -> Result<Option<NaiveDate>, DbError> {
        self.opt_text(column)?
            .map(|text| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| Self::decode_error(column, "a YYYY-MM-DD date"))
            })
            .transpose()
    }

    /// An ISO 4217 currency code.
    pub fn currency(&self, column: usize) -> Result<credit_core::Currency, DbError> {
        self.opt_currency(column)?
            .ok_or_else(|| Self::decode_error(column, "an ISO 4217 currency"))
    }

    pub fn opt_currency(&self, column: usize) -> Result<Option<credit_core::Currency>, DbError> {
        self.opt_text(column)?
            .map(|code| {
                credit_core::Currency::parse(code)
                    .map_err(|_| Self::decode_error(column, "an ISO 4217 currency"))
            })
            .transpose()
    }

    /// A named value (a status, a kind), stored by its name.
    pub fn named<T: credit_core::Named>(&self, column: usize) -> Result<T, DbError> {
        T::from_name(self.text(column)?).ok_or(Self::decode_error(column, "a known name"))
    }

    /// A JSON document stored as text.
    pub fn json<T: serde::de::DeserializeOwned>(&self, column: usize) -> Result<T, DbError> {
        serde_json::from_str(self.text(column)?)
            .map_err(|_| Self::decode_error(column, "a JSON document"))
    }
}

/// A SQLite connection: Spin's, or rusqlite's natively.
#[allow(async_fn_in_trait)]
pub trait Database {
    /// Runs one statement with bound parameters and returns its rows.
    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError>;

    /// Runs a statement whose rows (if any) are not needed.
    async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<(), DbError> {
        self.query(sql, params).await.map(drop)
    }

    /// The first row, if any.
    async fn query_row(&self, sql: &str, params: Vec<Value>) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Begins a write transaction, taking the write lock at once.
    async fn begin_write(&self) -> Result<(), DbError> {
        self.execute("BEGIN IMMEDIATE", vec![]).await
    }

    /// Ends a write transaction with `COMMIT` or `ROLLBACK`.
    async fn end_write(&self, sql: &'static str) -> Result<(), DbError> {
        self.execute(sql, vec![]).await
    }
}

/// Whether a statement only reads (ours start with `SELECT`, `WITH ...
/// SELECT` or `EXPLAIN`), and so never waits for the write lock.
pub fn is_read(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or("");
    ["SELECT", "WITH", "EXPLAIN"]
        .iter()
        .any(|read| first.eq_ignore_ascii_case(read))
}

/// A key-value store: Spin's, or an in-memory map natively.
#[allow(async_fn_in_trait)]
pub trait KeyValue {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, DbError>;
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), DbError>;
    /// Deletes `key`; deleting a missing key is no error.
    async fn delete(&self, key: &str) -> Result<(), DbError>;
}

/// Runs `work` in one write transaction: all of it is committed, or — on an
/// error — none of it. `BEGIN IMMEDIATE` takes the write lock up front, so
/// two transactions never deadlock upgrading a read lock.
pub async fn transaction<D, T, E>(
    db: &D,
    work: impl AsyncFnOnce(&D) -> Result<T, E>,
) -> Result<T, E>
where
    D: Database,
    E: From<DbError>,
{
    db.begin_write().await?;
    let outcome = work(db).await;
    let finish = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    match db.end_write(finish).await {
        Ok(()) => outcome,
        Err(e) => {
            let _ = db.end_write("ROLLBACK").await;
            Err(outcome.err().unwrap_or_else(|| e.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_values_are_read_by_name() {
        use credit_core::hold::OrderStatus;
        let row = Row::new(vec![Value::from("held"), Value::from("lost"), Value::Null]);
        assert_eq!(row.named::<OrderStatus>(0).unwrap(), OrderStatus::Held);
        assert!(row.named::<OrderStatus>(1).is_err());
        assert!(row.is_null(2) && !row.is_null(0));
    }
}
