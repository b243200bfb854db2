//! `fermyon:spin/postgres@2.0.0` with `rdbms-types` (spin-sdk 2 and 3):
//! numbers, text and bytes; other column types read as `unsupported`, and
//! the unsigned parameters (which PostgreSQL has no type for) are refused.

use wasmtime::component::Resource;

use super::values::{DataType, Value};
use super::{Column, PgConnection, PgError, PgResult, RowSet, client_of, connect};
use crate::spin::SpinView;
use crate::spin::bindings::fermyon::spin::postgres as v2;
use crate::spin::bindings::fermyon::spin::rdbms_types as types;

impl From<PgError> for types::Error {
    fn from(e: PgError) -> Self {
        match e {
            PgError::ConnectionFailed(m) => types::Error::ConnectionFailed(m),
            PgError::BadParameter(m) => types::Error::BadParameter(m),
            PgError::QueryFailed(failure) => types::Error::QueryFailed(failure.text),
            PgError::ValueConversionFailed(m) => types::Error::ValueConversionFailed(m),
        }
    }
}

fn value(parameter: types::ParameterValue) -> PgResult<Value> {
    use types::ParameterValue as P;
    Ok(match parameter {
        P::Boolean(v) => Value::Boolean(v),
        P::Int8(v) => Value::Int8(v),
        P::Int16(v) => Value::Int16(v),
        P::Int32(v) => Value::Int32(v),
        P::Int64(v) => Value::Int64(v),
        P::Floating32(v) => Value::Floating32(v),
        P::Floating64(v) => Value::Floating64(v),
        P::Str(v) => Value::Str(v),
        P::Binary(v) => Value::Binary(v),
        P::DbNull => Value::Null,
        P::Uint8(_) | P::Uint16(_) | P::Uint32(_) | P::Uint64(_) => {
            return Err(PgError::ValueConversionFailed(
                "PostgreSQL has no unsigned integer types".into(),
            ));
        }
    })
}

impl From<Value> for types::DbValue {
    fn from(value: Value) -> Self {
        use types::DbValue as D;
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
            Value::Null => D::DbNull,
            _ => D::Unsupported,
        }
    }
}

impl From<DataType> for types::DbDataType {
    fn from(data_type: DataType) -> Self {
        use types::DbDataType as T;
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
            _ => T::Other,
        }
    }
}

impl From<RowSet> for types::RowSet {
    fn from(set: RowSet) -> Self {
        types::RowSet {
            columns: set
                .columns
                .into_iter()
                .map(|Column { name, data_type }| types::Column {
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

fn params(params: Vec<types::ParameterValue>) -> PgResult<Vec<Value>> {
    params.into_iter().map(value).collect()
}

impl types::Host for SpinView<'_> {}
impl v2::Host for SpinView<'_> {}

impl v2::HostConnection for SpinView<'_> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, types::Error>> {
        match connect(self.ctx, &address, None).await {
            Ok(connection) => Ok(Ok(self.table.push(connection)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn query(
        &mut self,
        self_: Resource<PgConnection>,
        statement: String,
        params_: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<types::RowSet, types::Error>> {
        let client = client_of(self.table, &self_)?;
        let result = match params(params_) {
            Ok(params) => PgConnection::query(client, statement, params).await,
            Err(e) => Err(e),
        };
        Ok(result.map(Into::into).map_err(Into::into))
    }

    async fn execute(
        &mut self,
        self_: Resource<PgConnection>,
        statement: String,
        params_: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, types::Error>> {
        let client = client_of(self.table, &self_)?;
        let result = match params(params_) {
            Ok(params) => PgConnection::execute(client, statement, params).await,
            Err(e) => Err(e),
        };
        Ok(result.map_err(Into::into))
    }

    async fn drop(&mut self, rep: Resource<PgConnection>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
