//! Rows read as records. A record type names its columns once, as the
//! SELECT list a statement uses (with the alias every statement gives its
//! table: `c` customers, `i` invoices, `o` orders, `d` disputes), and reads
//! them in that order. A statement that joins several records reads them
//! one after the other from the same row.

use chrono::NaiveDate;
use credit_core::Currency;

use super::{Database, DbError, Row, Value};

/// A value read from a row's columns.
pub trait Record: Sized {
    /// The columns as a SELECT list names them: `c.id, c.name, ...`.
    const SELECT: &'static str;

    /// Reads the record from [`Self::SELECT`]'s columns, in order.
    fn read(columns: &mut Columns<'_>) -> Result<Self, DbError>;

    /// How many columns [`Self::SELECT`] names.
    fn width() -> usize {
        width(Self::SELECT)
    }
}

/// The number of columns of a SELECT list: its commas outside parentheses.
fn width(select: &str) -> usize {
    let mut depth = 0i32;
    let mut columns = 1;
    for byte in select.bytes() {
        match byte {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => columns += 1,
            _ => {}
        }
    }
    columns
}

/// A row read from left to right.
pub struct Columns<'r> {
    row: &'r Row,
    next: usize,
}

impl Row {
    /// The row's columns, to read from the first.
    pub fn columns(&self) -> Columns<'_> {
        Columns { row: self, next: 0 }
    }

    /// The record in the row's first columns.
    pub fn record<R: Record>(&self) -> Result<R, DbError> {
        R::read(&mut self.columns())
    }
}

impl Columns<'_> {
    fn advance(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    pub fn int(&mut self) -> Result<i64, DbError> {
        self.row.int(self.advance())
    }

    pub fn opt_int(&mut self) -> Result<Option<i64>, DbError> {
        self.row.opt_int(self.advance())
    }

    pub fn bool(&mut self) -> Result<bool, DbError> {
        self.row.bool(self.advance())
    }

    pub fn string(&mut self) -> Result<String, DbError> {
        self.row.string(self.advance())
    }

    pub fn opt_string(&mut self) -> Result<Option<String>, DbError> {
        self.row.opt_string(self.advance())
    }

    pub fn date(&mut self) -> Result<NaiveDate, DbError> {
        self.row.date(self.advance())
    }

    pub fn opt_date(&mut self) -> Result<Option<NaiveDate>, DbError> {
        self.row.opt_date(self.advance())
    }

    pub fn currency(&mut self) -> Result<Currency, DbError> {
        self.row.currency(self.advance())
    }

    pub fn opt_currency(&mut self) -> Result<Option<Currency>, DbError> {
        self.row.opt_currency(self.advance())
    }

    /// A named value (a status, a kind) stored by its name.
    pub fn named<T: credit_core::Named>(&mut self) -> Result<T, DbError> {
        self.row.named(self.advance())
    }

    pub fn opt_named<T: credit_core::Named>(&mut self) -> Result<Option<T>, DbError> {
        let column = self.advance();
        match self.row.opt_text(column)? {
            Some(_) => self.row.named(column).map(Some),
            None => Ok(None),
        }
    }

    /// A JSON document stored as text.
    pub fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, DbError> {
        self.row.json(self.advance())
    }

    /// An exact sum over many rows, read from the two columns of
    /// [`exact_sum`].
    pub fn sum(&mut self) -> Result<i128, DbError> {
        let high = self.opt_int()?.unwrap_or(0);
        let low = self.opt_int()?.unwrap_or(0);
        Ok(i128::from(high) * i128::from(SUM_SPLIT) + i128::from(low))
    }

    pub fn record<R: Record>(&mut self) -> Result<R, DbError> {
        R::read(self)
    }

    /// Passes over a record's columns without reading them.
    pub fn skip<R: Record>(&mut self) {
        self.next += R::width();
    }

    /// The record on the optional side of a LEFT JOIN: `None` when all of
    /// its columns are NULL.
    pub fn optional<R: Record>(&mut self) -> Result<Option<R>, DbError> {
        let columns = self.next..self.next + R::width();
        if columns.clone().all(|column| self.row.is_null(column)) {
            self.next = columns.end;
            return Ok(None);
        }
        R::read(self).map(Some)
    }
}

/// What a sum is split at (see [`exact_sum`]).
const SUM_SPLIT: i64 = 1_000_000_000;

/// The two SELECT-list columns, `{name}_high` and `{name}_low`, of an
/// exact `SUM(expression)` that never overflows: SQLite sums 64-bit
/// integers, and a sum of many amounts in minor units may not fit. Summed
/// as whole billions and what is left (each well inside 64 bits for any
/// number of rows a database can hold), the two are added up in 128 bits
/// by [`Columns::sum`]. Works alike on SQLite and libSQL.
pub fn exact_sum(expression: &str, name: &str) -> String {
    format!(
        "SUM(({expression}) / {SUM_SPLIT}) AS {name}_high, SUM(({expression}) % {SUM_SPLIT}) AS {name}_low"
    )
}

/// Reading records straight from a statement.
#[allow(async_fn_in_trait)]
pub trait Records: Database {
    /// Every row as a record.
    async fn records<R: Record>(&self, sql: &str, params: Vec<Value>) -> Result<Vec<R>, DbError> {
        self.query(sql, params)
            .await?
            .iter()
            .map(Row::record)
            .collect()
    }

    /// The first row as a record, if any.
    async fn record<R: Record>(&self, sql: &str, params: Vec<Value>) -> Result<Option<R>, DbError> {
        self.query_row(sql, params)
            .await?
            .map(|row| row.record())
            .transpose()
    }
}

impl<D: Database> Records for D {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Pair {
        id: String,
        amount: i64,
    }

    impl Record for Pair {
        const SELECT: &'static str = "p.id, COALESCE(p.amount, 0)";

        fn read(columns: &mut Columns<'_>) -> Result<Pair, DbError> {
            Ok(Pair {
                id: columns.string()?,
                amount: columns.int()?,
            })
        }
    }

    #[test]
    fn a_select_list_is_counted_outside_parentheses() {
        assert_eq!(Pair::width(), 2);
        assert_eq!(width("a"), 1);
        assert_eq!(width("SUM((x) / 10), SUM((x) % 10), y"), 3);
    }

    #[test]
    fn records_are_read_one_after_the_other() {
        let row = Row::new(vec![
            Value::from("P-1"),
            Value::Integer(5),
            Value::Null,
            Value::Null,
            Value::Integer(7),
        ]);
        let mut columns = row.columns();
        assert_eq!(
            columns.record::<Pair>().unwrap(),
            Pair {
                id: "P-1".into(),
                amount: 5
            }
        );
        assert_eq!(
            columns.optional::<Pair>().unwrap(),
            None,
            "a missing LEFT JOIN side"
        );
        assert_eq!(columns.int().unwrap(), 7);
    }

    #[test]
    fn an_exact_sum_is_put_back_together() {
        let total = i128::from(i64::MAX) * 3 + 17;
        let high = i64::try_from(total / 1_000_000_000).unwrap();
        let low = i64::try_from(total % 1_000_000_000).unwrap();
        let row = Row::new(vec![Value::Integer(high), Value::Integer(low)]);
        assert_eq!(row.columns().sum().unwrap(), total);
        let empty = Row::new(vec![Value::Null, Value::Null]);
        assert_eq!(empty.columns().sum().unwrap(), 0, "SUM over no rows");
    }
}
