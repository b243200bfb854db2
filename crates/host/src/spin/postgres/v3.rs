//! `spin:postgres/postgres@3.0.0` (spin-sdk 3 and 4): the types of 4.x it
//! lacks (UUID, JSON, decimals, ranges, arrays, intervals) read as
//! `unsupported`.

use wasmtime::component::Resource;

use super::values::{DataType, Value};
use super::{Column, PgConnection, PgError, RowSet, client_of, connect};
use crate::spin::SpinView;
use crate::spin::bindings::spin::postgres3_0_0::postgres as v3;

impl From<PgError> for v3::Error {
    fn from(e: PgError) -> Self {
        match e {
            PgError::ConnectionFailed(m) => v3::Error::ConnectionFailed(m),
            PgError::BadParameter(m) => v3::Error::BadParameter(m),
            PgError::QueryFailed(failure) => v3::Error::QueryFailed(failure.text),
            PgError::ValueConversionFailed(m) => v3::Error::ValueConversionFailed(m),
        }
    }
}

impl From<v3::ParameterValue> for Value {
    fn from(value: v3::ParameterValue) -> Self {
        use v3::ParameterValue as P;
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
            P::DbNull => Value::Null,
        }
    }
}

impl From<Value> for v3::DbValue {
    fn from(value: Value) -> Self {
        use v3::DbValue as D;
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
            Value::Null => D::DbNull,
            _ => D::Unsupported,
        }
    }
}

impl From<DataType> for v3::DbDataType {
    fn from(data_type: DataType) -> Self {
        use v3::DbDataType as T;
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
            _ => T::Other,
        }
    }
}

impl From<RowSet> for v3::RowSet {
    fn from(set: RowSet) -> Self {
        v3::RowSet {
            columns: set
                .columns
                .into_iter()
                .map(|Column { name, data_type }| v3::Column {
                    name,
                    data_type: data_type.into(),
                })
                .collect(),
            rows: set
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(Into::into).collect())
                .collect(),
        }
    }
}

fn params(params: Vec<v3::ParameterValue>) -> Vec<Value> {
    params.into_iter().map(Into::into).collect()
}

impl v3::Host for SpinView<'_> {}

impl v3::HostConnection for SpinView<'_> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, v3::Error>> {
        match connect(self.ctx, &address, None).await {
            Ok(connection) => Ok(Ok(self.table.push(connection)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn query(
        &mut self,
        self_: Resource<PgConnection>,
        statement: String,
        params_: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<Result<v3::RowSet, v3::Error>> {
        let client = client_of(self.table, &self_)?;
        let result = PgConnection::query(client, statement, params(params_)).await;
        Ok(result.map(Into::into).map_err(Into::into))
    }

    async fn execute(
        &mut self,
        self_: Resource<PgConnection>,
        statement: String,
        params_: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v3::Error>> {
        let client = client_of(self.table, &self_)?;
        let result = PgConnection::execute(client, statement, params(params_)).await;
        Ok(result.map_err(Into::into))
    }

    async fn drop(&mut self, rep: Resource<PgConnection>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
