//! `spin:postgres/postgres@4.2.0` (spin-sdk 5+; 4.0.0 and 4.1.0 imports are
//! served by it too): its types and the trait impls.

use std::sync::Arc;

use tokio_postgres::Client;
use wasmtime::component::{Access, Accessor, FutureReader, Resource, StreamReader};

use super::values::{BoundKind, DataType, Interval, Range, Value};
use super::{
    Column, PgConnection, PgConnectionBuilder, PgError, PgResult, QueryFailure, RowSet, block_on,
    client_of, connect, root_certificates,
};
use crate::spin::bindings::spin::postgres4_2_0::postgres as v4;
use crate::spin::{Spin, SpinCtx, SpinView};

impl From<PgError> for v4::Error {
    fn from(e: PgError) -> Self {
        match e {
            PgError::ConnectionFailed(m) => v4::Error::ConnectionFailed(m),
            PgError::BadParameter(m) => v4::Error::BadParameter(m),
            PgError::QueryFailed(failure) => v4::Error::QueryFailed(failure.into()),
            PgError::ValueConversionFailed(m) => v4::Error::ValueConversionFailed(m),
        }
    }
}

impl From<QueryFailure> for v4::QueryError {
    fn from(failure: QueryFailure) -> Self {
        match failure.database {
            None => v4::QueryError::Text(failure.text),
            Some(db) => v4::QueryError::DbError(v4::DbError {
                as_text: failure.text,
                severity: db.severity,
                code: db.code,
                message: db.message,
                detail: db.detail,
                extras: db.extras,
            }),
        }
    }
}

fn bound_kind(kind: v4::RangeBoundKind) -> BoundKind {
    match kind {
        v4::RangeBoundKind::Inclusive => BoundKind::Inclusive,
        v4::RangeBoundKind::Exclusive => BoundKind::Exclusive,
    }
}

fn wit_bound_kind(kind: BoundKind) -> v4::RangeBoundKind {
    match kind {
        BoundKind::Inclusive => v4::RangeBoundKind::Inclusive,
        BoundKind::Exclusive => v4::RangeBoundKind::Exclusive,
    }
}

type WitRange<T> = (
    Option<(T, v4::RangeBoundKind)>,
    Option<(T, v4::RangeBoundKind)>,
);

fn range<T>((lower, upper): WitRange<T>) -> Range<T> {
    (
        lower.map(|(v, k)| (v, bound_kind(k))),
        upper.map(|(v, k)| (v, bound_kind(k))),
    )
}

fn wit_range<T>((lower, upper): Range<T>) -> WitRange<T> {
    (
        lower.map(|(v, k)| (v, wit_bound_kind(k))),
        upper.map(|(v, k)| (v, wit_bound_kind(k))),
    )
}

impl From<v4::ParameterValue> for Value {
    fn from(value: v4::ParameterValue) -> Self {
        use v4::ParameterValue as P;
        match value {
            P::Boolean(v) => Value::Boolean(v),
            P::Int8(v) => Value::Int8(v),
            P::Int16(v) => Value::Int16(v),
            P::Int32(v) => Value::Int32(v),
            P::Int64(v) => Value::Int64(v),
            P::Floating32(v) => Value::Floating32(v),
            P::Floating64(v) => Value::Floating64(v),
            P::Str(v) => Value::Str(v),
            P::Binary(v) => Value::Binary(v),
            P::Date(v) => Value::Date(v),
            P::Time(v) => Value::Time(v),
            P::Datetime(v) => Value::Datetime(v),
            P::Timestamp(v) => Value::Timestamp(v),
            P::Uuid(v) => Value::Uuid(v),
            P::Jsonb(v) => Value::Jsonb(v),
            P::Decimal(v) => Value::Decimal(v),
            P::RangeInt32(v) => Value::RangeInt32(range(v)),
            P::RangeInt64(v) => Value::RangeInt64(range(v)),
            P::RangeDecimal(v) => Value::RangeDecimal(range(v)),
            P::ArrayInt32(v) => Value::ArrayInt32(v),
            P::ArrayInt64(v) => Value::ArrayInt64(v),
            P::ArrayDecimal(v) => Value::ArrayDecimal(v),
            P::ArrayStr(v) => Value::ArrayStr(v),
            P::Interval(v) => Value::Interval(Interval {
                micros: v.micros,
                days: v.days,
                months: v.months,
            }),
            P::DbNull => Value::Null,
        }
    }
}

impl From<Value> for v4::DbValue {
    fn from(value: Value) -> Self {
        use v4::DbValue as D;
        match value {
            Value::Boolean(v) => D::Boolean(v),
            Value::Int8(v) => D::Int8(v),
            Value::Int16(v) => D::Int16(v),
            Value::Int32(v) => D::Int32(v),
            Value::Int64(v) => D::Int64(v),
            Value::Floating32(v) => D::Floating32(v),
            Value::Floating64(v) => D::Floating64(v),
            Value::Str(v) => D::Str(v),
            Value::Binary(v) => D::Binary(v),
            Value::Date(v) => D::Date(v),
            Value::Time(v) => D::Time(v),
            Value::Datetime(v) => D::Datetime(v),
            Value::Timestamp(v) => D::Timestamp(v),
            Value::Uuid(v) => D::Uuid(v),
            Value::Jsonb(v) => D::Jsonb(v),
            Value::Decimal(v) => D::Decimal(v),
            Value::RangeInt32(v) => D::RangeInt32(wit_range(v)),
            Value::RangeInt64(v) => D::RangeInt64(wit_range(v)),
            Value::RangeDecimal(v) => D::RangeDecimal(wit_range(v)),
            Value::ArrayInt32(v) => D::ArrayInt32(v),
            Value::ArrayInt64(v) => D::ArrayInt64(v),
            Value::ArrayDecimal(v) => D::ArrayDecimal(v),
            Value::ArrayStr(v) => D::ArrayStr(v),
            Value::Interval(v) => D::Interval(v4::Interval {
                micros: v.micros,
                days: v.days,
                months: v.months,
            }),
            Value::Null => D::DbNull,
            Value::Unsupported(v) => D::Unsupported(v),
        }
    }
}

impl From<DataType> for v4::DbDataType {
    fn from(data_type: DataType) -> Self {
        use v4::DbDataType as T;
        match data_type {
            DataType::Boolean => T::Boolean,
            DataType::Int8 => T::Int8,
            DataType::Int16 => T::Int16,
            DataType::Int32 => T::Int32,
            DataType::Int64 => T::Int64,
            DataType::Floating32 => T::Floating32,
            DataType::Floating64 => T::Floating64,
            DataType::Str => T::Str,
            DataType::Binary => T::Binary,
            DataType::Date => T::Date,
            DataType::Time => T::Time,
            DataType::Datetime => T::Datetime,
            DataType::Uuid => T::Uuid,
            DataType::Jsonb => T::Jsonb,
            DataType::Decimal => T::Decimal,
            DataType::RangeInt32 => T::RangeInt32,
            DataType::RangeInt64 => T::RangeInt64,
            DataType::RangeDecimal => T::RangeDecimal,
            DataType::ArrayInt32 => T::ArrayInt32,
            DataType::ArrayInt64 => T::ArrayInt64,
            DataType::ArrayDecimal => T::ArrayDecimal,
            DataType::ArrayStr => T::ArrayStr,
            DataType::Interval => T::Interval,
            DataType::Other(name) => T::Other(name),
        }
    }
}

impl From<Column> for v4::Column {
    fn from(column: Column) -> Self {
        v4::Column {
            name: column.name,
            data_type: column.data_type.into(),
        }
    }
}

fn wit_rows(rows: Vec<Vec<Value>>) -> Vec<v4::Row> {
    rows.into_iter()
        .map(|row| row.into_iter().map(Into::into).collect())
        .collect()
}

impl From<RowSet> for v4::RowSet {
    fn from(set: RowSet) -> Self {
        v4::RowSet {
            columns: set.columns.into_iter().map(Into::into).collect(),
            rows: wit_rows(set.rows),
        }
    }
}

fn params(params: Vec<v4::ParameterValue>) -> Vec<Value> {
    params.into_iter().map(Into::into).collect()
}

fn push_connection(
    view: SpinView<'_>,
    opened: PgResult<PgConnection>,
) -> wasmtime::Result<Result<Resource<PgConnection>, v4::Error>> {
    match opened {
        Ok(connection) => Ok(Ok(view.table.push(connection)?)),
        Err(e) => Ok(Err(e.into())),
    }
}

fn builder_parts(
    view: &SpinView<'_>,
    builder: &Resource<PgConnectionBuilder>,
) -> wasmtime::Result<(SpinCtx, String, Option<String>)> {
    let builder = view.table.get(builder)?;
    Ok((
        view.ctx.clone(),
        builder.address.clone(),
        builder.ca_root.clone(),
    ))
}

fn v4_client<T>(
    accessor: &Accessor<T, Spin>,
    connection: &Resource<PgConnection>,
) -> wasmtime::Result<Arc<Client>> {
    accessor.with(|mut access| client_of(access.get().table, connection))
}

impl v4::Host for SpinView<'_> {}
impl v4::HostConnection for SpinView<'_> {}
impl v4::HostConnectionBuilder for SpinView<'_> {}

impl<T> v4::HostConnectionWithStore<T> for Spin {
    async fn drop(
        accessor: &Accessor<T, Self>,
        rep: Resource<PgConnection>,
    ) -> wasmtime::Result<()> {
        accessor.with(|mut access| access.get().table.delete(rep).map(drop))?;
        Ok(())
    }

    fn open(
        mut host: Access<'_, T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, v4::Error>> {
        let ctx = host.get().ctx.clone();
        let opened = block_on(connect(&ctx, &address, None));
        push_connection(host.get(), opened)
    }

    async fn open_async(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, v4::Error>> {
        let ctx = accessor.with(|mut access| access.get().ctx.clone());
        let opened = connect(&ctx, &address, None).await;
        accessor.with(|mut access| push_connection(access.get(), opened))
    }

    fn query(
        mut host: Access<'_, T, Self>,
        self_: Resource<PgConnection>,
        statement: String,
        params_: Vec<v4::ParameterValue>,
    ) -> wasmtime::Result<Result<v4::RowSet, v4::Error>> {
        let client = client_of(host.get().table, &self_)?;
        let result = block_on(PgConnection::query(client, statement, params(params_)));
        Ok(result.map(Into::into).map_err(Into::into))
    }

    async fn query_async(
        accessor: &Accessor<T, Self>,
        self_: Resource<PgConnection>,
        statement: String,
        params_: Vec<v4::ParameterValue>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<v4::Column>,
                StreamReader<v4::Row>,
                FutureReader<Result<(), v4::Error>>,
            ),
            v4::Error,
        >,
    > {
        let client = v4_client(accessor, &self_)?;
        let set = match PgConnection::query(client, statement, params(params_)).await {
            Ok(set) => set,
            Err(e) => return Ok(Err(e.into())),
        };
        let columns = set.columns.into_iter().map(Into::into).collect();
        let rows = wit_rows(set.rows);
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, rows)?;
            let done = FutureReader::new(&mut access, async { wasmtime::error::Ok(Ok(())) })?;
            Ok(Ok((columns, rows, done)))
        })
    }

    fn execute(
        mut host: Access<'_, T, Self>,
        self_: Resource<PgConnection>,
        statement: String,
        params_: Vec<v4::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v4::Error>> {
        let client = client_of(host.get().table, &self_)?;
        let result = block_on(PgConnection::execute(client, statement, params(params_)));
        Ok(result.map_err(Into::into))
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        self_: Resource<PgConnection>,
        statement: String,
        params_: Vec<v4::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v4::Error>> {
        let client = v4_client(accessor, &self_)?;
        let result = PgConnection::execute(client, statement, params(params_)).await;
        Ok(result.map_err(Into::into))
    }
}

impl<T> v4::HostConnectionBuilderWithStore<T> for Spin {
    async fn drop(
        accessor: &Accessor<T, Self>,
        rep: Resource<PgConnectionBuilder>,
    ) -> wasmtime::Result<()> {
        accessor.with(|mut access| access.get().table.delete(rep).map(drop))?;
        Ok(())
    }

    fn new(
        mut host: Access<'_, T, Self>,
        address: String,
    ) -> wasmtime::Result<Resource<PgConnectionBuilder>> {
        let builder = PgConnectionBuilder {
            address,
            ca_root: None,
        };
        Ok(host.get().table.push(builder)?)
    }

    fn set_ca_root(
        mut host: Access<'_, T, Self>,
        self_: Resource<PgConnectionBuilder>,
        certificate: String,
    ) -> wasmtime::Result<Result<(), v4::Error>> {
        if let Err(e) = root_certificates(&certificate) {
            return Ok(Err(e.into()));
        }
        host.get().table.get_mut(&self_)?.ca_root = Some(certificate);
        Ok(Ok(()))
    }

    fn build(
        mut host: Access<'_, T, Self>,
        self_: Resource<PgConnectionBuilder>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, v4::Error>> {
        let (ctx, address, ca_root) = builder_parts(&host.get(), &self_)?;
        let opened = block_on(connect(&ctx, &address, ca_root.as_deref()));
        push_connection(host.get(), opened)
    }

    async fn build_async(
        accessor: &Accessor<T, Self>,
        self_: Resource<PgConnectionBuilder>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, v4::Error>> {
        let (ctx, address, ca_root) =
            accessor.with(|mut access| builder_parts(&access.get(), &self_))?;
        let opened = connect(&ctx, &address, ca_root.as_deref()).await;
        accessor.with(|mut access| push_connection(access.get(), opened))
    }
}
