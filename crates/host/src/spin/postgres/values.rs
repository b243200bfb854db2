//! PostgreSQL values as Spin's interfaces carry them (the richest
//! generation, `spin:postgres@4`, whose types the older ones are subsets
//! of), and their conversion to and from PostgreSQL's binary format.
//!
//! Column types map as in Spin: `bool`, `"char"` (as int8), `int2/4/8`, `float4/8`, `text`,
//! `varchar`, `bpchar`, `bytea`, `date`, `time`, `timestamp` and
//! `timestamptz` (as UTC), `uuid`, `jsonb`, `numeric` (as a decimal
//! string), `int4range`, `int8range`, `numrange`, arrays of `int4`, `int8`,
//! `numeric` and text types, and `interval`; any other type arrives as
//! `unsupported` with its raw bytes.

use std::error::Error;

use bytes::BytesMut;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use postgres_protocol::types::{self as protocol, RangeBound};
use postgres_protocol::{self as protocol_null};
use rust_decimal::Decimal;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

type BoxError = Box<dyn Error + Sync + Send>;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BoundKind {
    Inclusive,
    Exclusive,
}

/// One end of a range; `None` is unbounded.
pub type Bound<T> = Option<(T, BoundKind)>;
pub type Range<T> = (Bound<T>, Bound<T>);

/// (year, month, day)
pub type DateParts = (i32, u8, u8);
/// (hour, minute, second, nanosecond)
pub type TimeParts = (u8, u8, u8, u32);
/// (year, month, day, hour, minute, second, nanosecond)
pub type DatetimeParts = (i32, u8, u8, u8, u8, u8, u32);

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub micros: i64,
    pub days: i32,
    pub months: i32,
}

/// A column's type as the interface names it.
#[derive(Clone, Debug, PartialEq)]
pub enum DataType {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Floating32,
    Floating64,
    Str,
    Binary,
    Date,
    Time,
    Datetime,
    Uuid,
    Jsonb,
    Decimal,
    RangeInt32,
    RangeInt64,
    RangeDecimal,
    ArrayInt32,
    ArrayInt64,
    ArrayDecimal,
    ArrayStr,
    Interval,
    Other(String),
}

/// A value read from a row, or given as a statement parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Floating32(f32),
    Floating64(f64),
    Str(String),
    Binary(Vec<u8>),
    Date(DateParts),
    Time(TimeParts),
    /// UTC.
    Datetime(DatetimeParts),
    /// Seconds since the Unix epoch.
    Timestamp(i64),
    Uuid(String),
    Jsonb(Vec<u8>),
    Decimal(String),
    RangeInt32(Range<i32>),
    RangeInt64(Range<i64>),
    RangeDecimal(Range<String>),
    ArrayInt32(Vec<Option<i32>>),
    ArrayInt64(Vec<Option<i64>>),
    ArrayDecimal(Vec<Option<String>>),
    ArrayStr(Vec<Option<String>>),
    Interval(Interval),
    Null,
    Unsupported(Vec<u8>),
}

impl Value {
    /// Roughly the memory the value takes, to bound a query's result.
    pub fn size(&self) -> usize {
        let heap = match self {
            Value::Str(s) | Value::Uuid(s) | Value::Decimal(s) => s.len(),
            Value::Binary(b) | Value::Jsonb(b) | Value::Unsupported(b) => b.len(),
            Value::ArrayInt32(a) => a.len() * 8,
            Value::ArrayInt64(a) => a.len() * 16,
            Value::ArrayDecimal(a) | Value::ArrayStr(a) => a
                .iter()
                .map(|s| std::mem::size_of::<Option<String>>() + s.as_ref().map_or(0, String::len))
                .sum(),
            Value::RangeDecimal((lower, upper)) => {
                lower.as_ref().map_or(0, |b| b.0.len()) + upper.as_ref().map_or(0, |b| b.0.len())
            }
            _ => 0,
        };
        std::mem::size_of::<Value>() + heap
    }
}

pub fn data_type(ty: &Type) -> DataType {
    match *ty {
        Type::BOOL => DataType::Boolean,
        Type::CHAR => DataType::Int8,
        Type::INT2 => DataType::Int16,
        Type::INT4 => DataType::Int32,
        Type::INT8 => DataType::Int64,
        Type::FLOAT4 => DataType::Floating32,
        Type::FLOAT8 => DataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DataType::Str,
        Type::BYTEA => DataType::Binary,
        Type::DATE => DataType::Date,
        Type::TIME => DataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DataType::Datetime,
        Type::UUID => DataType::Uuid,
        Type::JSONB => DataType::Jsonb,
        Type::NUMERIC => DataType::Decimal,
        Type::INT4_RANGE => DataType::RangeInt32,
        Type::INT8_RANGE => DataType::RangeInt64,
        Type::NUM_RANGE => DataType::RangeDecimal,
        Type::INT4_ARRAY => DataType::ArrayInt32,
        Type::INT8_ARRAY => DataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DataType::ArrayStr,
        Type::INTERVAL => DataType::Interval,
        _ => DataType::Other(ty.name().to_string()),
    }
}

/// Reads column `index` of `row`.
pub fn read(row: &Row, index: usize) -> Result<Value, BoxError> {
    fn get<'a, T: FromSql<'a>>(
        row: &'a Row,
        index: usize,
        wrap: impl FnOnce(T) -> Result<Value, BoxError>,
    ) -> Result<Value, BoxError> {
        match row.try_get::<_, Option<T>>(index)? {
            Some(value) => wrap(value),
            None => Ok(Value::Null),
        }
    }
    let ok = |value| Ok(value);
    match *row.columns()[index].type_() {
        Type::BOOL => get(row, index, |v| ok(Value::Boolean(v))),
        Type::CHAR => get(row, index, |v| ok(Value::Int8(v))),
        Type::INT2 => get(row, index, |v| ok(Value::Int16(v))),
        Type::INT4 => get(row, index, |v| ok(Value::Int32(v))),
        Type::INT8 => get(row, index, |v| ok(Value::Int64(v))),
        Type::FLOAT4 => get(row, index, |v| ok(Value::Floating32(v))),
        Type::FLOAT8 => get(row, index, |v| ok(Value::Floating64(v))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => get(row, index, |v| ok(Value::Str(v))),
        Type::BYTEA => get(row, index, |v| ok(Value::Binary(v))),
        Type::DATE => get(row, index, |v: NaiveDate| Ok(Value::Date(date_parts(v)?))),
        Type::TIME => get(row, index, |v: NaiveTime| Ok(Value::Time(time_parts(v)?))),
        Type::TIMESTAMP => get(row, index, |v: NaiveDateTime| {
            Ok(Value::Datetime(datetime_parts(v)?))
        }),
        Type::TIMESTAMPTZ => get(row, index, |v: DateTime<Utc>| {
            Ok(Value::Datetime(datetime_parts(v.naive_utc())?))
        }),
        Type::UUID => get(row, index, |v: uuid::Uuid| ok(Value::Uuid(v.to_string()))),
        Type::JSONB => get(row, index, |v: serde_json::Value| {
            Ok(Value::Jsonb(serde_json::to_vec(&v)?))
        }),
        Type::NUMERIC => get(row, index, |v: Decimal| ok(Value::Decimal(v.to_string()))),
        Type::INT4_RANGE => get(row, index, |v: RangeSql<i32>| ok(Value::RangeInt32(v.0))),
        Type::INT8_RANGE => get(row, index, |v: RangeSql<i64>| ok(Value::RangeInt64(v.0))),
        Type::NUM_RANGE => get(row, index, |v: RangeSql<Decimal>| {
            ok(Value::RangeDecimal(map_range(v.0, |d| d.to_string())))
        }),
        Type::INT4_ARRAY => get(row, index, |v| ok(Value::ArrayInt32(v))),
        Type::INT8_ARRAY => get(row, index, |v| ok(Value::ArrayInt64(v))),
        Type::NUMERIC_ARRAY => get(row, index, |v: Vec<Option<Decimal>>| {
            let strings = v.into_iter().map(|d| d.map(|d| d.to_string())).collect();
            ok(Value::ArrayDecimal(strings))
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get(row, index, |v| ok(Value::ArrayStr(v)))
        }
        Type::INTERVAL => get(row, index, |v: IntervalSql| ok(Value::Interval(v.0))),
        _ => get(row, index, |v: RawSql| ok(Value::Unsupported(v.0))),
    }
}

/// A statement parameter, ready for the driver.
pub fn parameter(value: &Value) -> Result<Box<dyn ToSql + Send + Sync>, String> {
    Ok(match value {
        Value::Boolean(v) => Box::new(*v),
        Value::Int8(v) => Box::new(*v),
        Value::Int16(v) => Box::new(*v),
        Value::Int32(v) => Box::new(*v),
        Value::Int64(v) => Box::new(*v),
        Value::Floating32(v) => Box::new(*v),
        Value::Floating64(v) => Box::new(*v),
        Value::Str(v) => Box::new(v.clone()),
        Value::Binary(v) => Box::new(v.clone()),
        Value::Date(v) => Box::new(date(*v)?),
        Value::Time(v) => Box::new(time(*v)?),
        Value::Datetime(v) => Box::new(DatetimeSql(datetime(*v)?)),
        Value::Timestamp(seconds) => Box::new(
            DateTime::<Utc>::from_timestamp(*seconds, 0)
                .ok_or_else(|| format!("invalid Unix timestamp {seconds}"))?,
        ),
        Value::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).map_err(|e| format!("invalid UUID {v}: {e}"))?)
        }
        Value::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(v)
                .map_err(|e| format!("invalid JSON {}: {e}", String::from_utf8_lossy(v)))?,
        ),
        Value::Decimal(v) => Box::new(decimal(v)?),
        Value::RangeInt32(v) => Box::new(RangeSql(*v)),
        Value::RangeInt64(v) => Box::new(RangeSql(*v)),
        Value::RangeDecimal((lower, upper)) => {
            let bound = |b: &Bound<String>| -> Result<Bound<Decimal>, String> {
                b.as_ref()
                    .map(|(d, kind)| Ok((decimal(d)?, *kind)))
                    .transpose()
            };
            Box::new(RangeSql((bound(lower)?, bound(upper)?)))
        }
        Value::ArrayInt32(v) => Box::new(v.clone()),
        Value::ArrayInt64(v) => Box::new(v.clone()),
        Value::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| d.as_deref().map(decimal).transpose())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Value::ArrayStr(v) => Box::new(v.clone()),
        Value::Interval(v) => Box::new(IntervalSql(*v)),
        Value::Null => Box::new(NullSql),
        Value::Unsupported(_) => return Err("an unsupported value cannot be a parameter".into()),
    })
}

fn decimal(text: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(text).map_err(|e| format!("invalid decimal {text}: {e}"))
}

fn map_range<T, U>((lower, upper): Range<T>, f: impl Fn(T) -> U) -> Range<U> {
    (
        lower.map(|(v, kind)| (f(v), kind)),
        upper.map(|(v, kind)| (f(v), kind)),
    )
}

fn date((year, month, day): DateParts) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(year, month.into(), day.into())
        .ok_or_else(|| format!("invalid date {year}-{month}-{day}"))
}

fn time((hour, minute, second, nanos): TimeParts) -> Result<NaiveTime, String> {
    NaiveTime::from_hms_nano_opt(hour.into(), minute.into(), second.into(), nanos)
        .ok_or_else(|| format!("invalid time {hour}:{minute}:{second}.{nanos:09}"))
}

fn datetime(
    (year, month, day, hour, minute, second, nanos): DatetimeParts,
) -> Result<NaiveDateTime, String> {
    Ok(NaiveDateTime::new(
        date((year, month, day))?,
        time((hour, minute, second, nanos))?,
    ))
}

fn date_parts(date: NaiveDate) -> Result<DateParts, BoxError> {
    Ok((
        date.year(),
        date.month().try_into()?,
        date.day().try_into()?,
    ))
}

fn time_parts(time: NaiveTime) -> Result<TimeParts, BoxError> {
    Ok((
        time.hour().try_into()?,
        time.minute().try_into()?,
        time.second().try_into()?,
        time.nanosecond(),
    ))
}

fn datetime_parts(at: NaiveDateTime) -> Result<DatetimeParts, BoxError> {
    let (year, month, day) = date_parts(at.date())?;
    let (hour, minute, second, nanos) = time_parts(at.time())?;
    Ok((year, month, day, hour, minute, second, nanos))
}

/// A date-time parameter for a `timestamp` column, or a `timestamptz`
/// column as UTC.
#[derive(Debug)]
struct DatetimeSql(NaiveDateTime);

impl ToSql for DatetimeSql {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if *ty == Type::TIMESTAMPTZ {
            self.0.and_utc().to_sql(ty, out)
        } else {
            self.0.to_sql(ty, out)
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::TIMESTAMP | Type::TIMESTAMPTZ)
    }

    to_sql_checked!();
}

/// `interval`: microseconds, days and months, in that order on the wire.
#[derive(Debug)]
struct IntervalSql(Interval);

impl ToSql for IntervalSql {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.extend_from_slice(&self.0.micros.to_be_bytes());
        out.extend_from_slice(&self.0.days.to_be_bytes());
        out.extend_from_slice(&self.0.months.to_be_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for IntervalSql {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let raw: &[u8; 16] = raw.try_into().map_err(|_| "an interval is 16 bytes")?;
        let (micros, rest) = raw.split_at(8);
        let (days, months) = rest.split_at(4);
        Ok(IntervalSql(Interval {
            micros: i64::from_be_bytes(micros.try_into()?),
            days: i32::from_be_bytes(days.try_into()?),
            months: i32::from_be_bytes(months.try_into()?),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// A range of `T`; an empty range reads as unbounded at both ends, as in
/// Spin (the interface has no empty range).
#[derive(Debug)]
struct RangeSql<T>(Range<T>);

fn member_type(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(member) => Some(member),
        _ => None,
    }
}

impl<T: ToSql> ToSql for RangeSql<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let member = member_type(ty).ok_or("not a range type")?;
        let write = |bound: &Bound<T>, out: &mut BytesMut| {
            let mut value = |value: &T| -> Result<protocol_null::IsNull, BoxError> {
                Ok(match value.to_sql(member, out)? {
                    IsNull::Yes => protocol_null::IsNull::Yes,
                    IsNull::No => protocol_null::IsNull::No,
                })
            };
            Ok(match bound {
                None => RangeBound::Unbounded,
                Some((v, BoundKind::Inclusive)) => RangeBound::Inclusive(value(v)?),
                Some((v, BoundKind::Exclusive)) => RangeBound::Exclusive(value(v)?),
            })
        };
        let (lower, upper) = &self.0;
        protocol::range_to_sql(|out| write(lower, out), |out| write(upper, out), out)?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        member_type(ty).is_some_and(T::accepts)
    }

    to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for RangeSql<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let member = member_type(ty).ok_or("not a range type")?;
        let read = |bound: RangeBound<Option<&'a [u8]>>| -> Result<Bound<T>, BoxError> {
            let value =
                |raw: Option<&'a [u8]>| T::from_sql(member, raw.ok_or("a null range bound")?);
            Ok(match bound {
                RangeBound::Unbounded => None,
                RangeBound::Inclusive(raw) => Some((value(raw)?, BoundKind::Inclusive)),
                RangeBound::Exclusive(raw) => Some((value(raw)?, BoundKind::Exclusive)),
            })
        };
        match protocol::range_from_sql(raw)? {
            protocol::Range::Empty => Ok(RangeSql((None, None))),
            protocol::Range::Nonempty(lower, upper) => Ok(RangeSql((read(lower)?, read(upper)?))),
        }
    }

    fn accepts(ty: &Type) -> bool {
        member_type(ty).is_some_and(T::accepts)
    }
}

/// A column of a type the interface has no case for: its raw bytes.
struct RawSql(Vec<u8>);

impl<'a> FromSql<'a> for RawSql {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawSql(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// NULL, for a parameter of any type.
#[derive(Debug)]
struct NullSql;

impl ToSql for NullSql {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(value: &Value, ty: &Type) -> BytesMut {
        let mut out = BytesMut::new();
        parameter(value)
            .unwrap()
            .to_sql_checked(ty, &mut out)
            .unwrap();
        out
    }

    #[test]
    fn intervals_round_trip() {
        let interval = Interval {
            micros: 123_456,
            days: -3,
            months: 200,
        };
        let bytes = encode(&Value::Interval(interval), &Type::INTERVAL);
        assert_eq!(bytes.len(), 16);
        assert_eq!(
            IntervalSql::from_sql(&Type::INTERVAL, &bytes).unwrap().0,
            interval
        );
    }

    #[test]
    fn ranges_round_trip() {
        let range = (Some((30, BoundKind::Exclusive)), None);
        let bytes = encode(&Value::RangeInt32(range), &Type::INT4_RANGE);
        assert_eq!(
            RangeSql::<i32>::from_sql(&Type::INT4_RANGE, &bytes)
                .unwrap()
                .0,
            range
        );

        let decimals = (
            Some(("1234.56".to_string(), BoundKind::Exclusive)),
            Some(("456789012345.789123".to_string(), BoundKind::Inclusive)),
        );
        let bytes = encode(&Value::RangeDecimal(decimals.clone()), &Type::NUM_RANGE);
        let read = RangeSql::<Decimal>::from_sql(&Type::NUM_RANGE, &bytes).unwrap();
        assert_eq!(map_range(read.0, |d| d.to_string()), decimals);
    }

    #[test]
    fn parameters_refuse_invalid_values() {
        for invalid in [
            Value::Date((2025, 2, 30)),
            Value::Time((24, 0, 0, 0)),
            Value::Uuid("not-a-uuid".into()),
            Value::Jsonb(b"{".to_vec()),
            Value::Decimal("1.2.3".into()),
            Value::Unsupported(vec![]),
        ] {
            assert!(parameter(&invalid).is_err(), "{invalid:?}");
        }
    }

    #[test]
    fn datetimes_suit_both_timestamp_types() {
        let value = Value::Datetime((1999, 7, 12, 4, 3, 2, 1_000_000));
        assert_eq!(
            encode(&value, &Type::TIMESTAMP),
            encode(&value, &Type::TIMESTAMPTZ)
        );
        assert!(!DatetimeSql::accepts(&Type::DATE));
    }
}
