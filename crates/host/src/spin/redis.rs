//! Outbound Redis: `spin:redis/redis@3.0.0` (spin-sdk 5+) and
//! `fermyon:spin/redis@2.0.0` (older SDKs). A connection may be opened only
//! to an address the component's `allowed_outbound_hosts` lists
//! (`redis://host:port`, 6379 when no port is given); any other address is
//! `invalid-address`, as in Spin. Each connection is one multiplexed
//! connection of the `redis` crate, so concurrent commands of an instance
//! share it.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, AsyncConnectionConfig, RedisError as ClientError, Value};
use wasmtime::component::{Accessor, Resource};

use super::bindings::fermyon::spin::redis as v2;
use super::bindings::spin::redis::redis as v3;
use super::{Spin, SpinCtx, SpinView};
use crate::outbound::{self, Target};

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A guest's `connection` resource.
pub struct RedisConnection {
    client: MultiplexedConnection,
}

/// Errors of both generations.
#[derive(Debug)]
pub enum RedisError {
    InvalidAddress,
    TypeError,
    Other(String),
}

type RedisResult<T> = Result<T, RedisError>;

/// An argument of `execute`.
pub enum Argument {
    Int64(i64),
    Binary(Vec<u8>),
}

/// One value of `execute`'s answer: arrays, sets and maps are flattened.
pub enum Reply {
    Nil,
    Status(String),
    Int64(i64),
    Binary(Vec<u8>),
}

fn other(error: ClientError) -> RedisError {
    let wrong_type =
        error.code() == Some("WRONGTYPE") || error.kind() == redis::ErrorKind::UnexpectedReturnType;
    if wrong_type {
        RedisError::TypeError
    } else {
        RedisError::Other(error.to_string())
    }
}

async fn open(ctx: &SpinCtx, address: &str) -> RedisResult<RedisConnection> {
    let target = Target::from_url(address, "redis").map_err(|_| RedisError::InvalidAddress)?;
    if !ctx.grants.allowed_outbound_hosts.allows(&target) {
        outbound::warn_denied(&ctx.grants.component_id, "connect to", &target.to_string());
        return Err(RedisError::InvalidAddress);
    }
    let config = AsyncConnectionConfig::new().set_connection_timeout(Some(CONNECT_TIMEOUT));
    let client = redis::Client::open(address)
        .map_err(|_| RedisError::InvalidAddress)?
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(other)?;
    Ok(RedisConnection { client })
}

/// The commands, on a clone of the connection (clones share it).
mod commands {
    use super::*;

    pub async fn publish(
        mut client: MultiplexedConnection,
        channel: String,
        payload: Vec<u8>,
    ) -> RedisResult<()> {
        client.publish(channel, payload).await.map_err(other)
    }

    pub async fn get(
        mut client: MultiplexedConnection,
        key: String,
    ) -> RedisResult<Option<Vec<u8>>> {
        client.get(key).await.map_err(other)
    }

    pub async fn set(
        mut client: MultiplexedConnection,
        key: String,
        value: Vec<u8>,
    ) -> RedisResult<()> {
        client.set(key, value).await.map_err(other)
    }

    /// `INCR`; a value that is not an integer is a type error, as the
    /// interface describes.
    pub async fn incr(mut client: MultiplexedConnection, key: String) -> RedisResult<i64> {
        client.incr(key, 1).await.map_err(|e| {
            if e.detail().is_some_and(|d| d.contains("not an integer")) {
                RedisError::TypeError
            } else {
                other(e)
            }
        })
    }

    pub async fn del(mut client: MultiplexedConnection, keys: Vec<String>) -> RedisResult<u32> {
        client.del(keys).await.map_err(other)
    }

    pub async fn sadd(
        mut client: MultiplexedConnection,
        key: String,
        values: Vec<String>,
    ) -> RedisResult<u32> {
        client.sadd(key, values).await.map_err(other)
    }

    pub async fn smembers(
        mut client: MultiplexedConnection,
        key: String,
    ) -> RedisResult<Vec<String>> {
        client.smembers(key).await.map_err(other)
    }

    pub async fn srem(
        mut client: MultiplexedConnection,
        key: String,
        values: Vec<String>,
    ) -> RedisResult<u32> {
        client.srem(key, values).await.map_err(other)
    }

    pub async fn execute(
        mut client: MultiplexedConnection,
        command: String,
        arguments: Vec<Argument>,
    ) -> RedisResult<Vec<Reply>> {
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                Argument::Int64(n) => cmd.arg(n),
                Argument::Binary(bytes) => cmd.arg(bytes),
            };
        }
        let value: Value = cmd.query_async(&mut client).await.map_err(other)?;
        let mut replies = vec![];
        flatten(value, &mut replies)?;
        Ok(replies)
    }
}

/// Redis's answer as the interface's flat list of values.
fn flatten(value: Value, replies: &mut Vec<Reply>) -> RedisResult<()> {
    match value {
        Value::Nil => replies.push(Reply::Nil),
        Value::Int(n) => replies.push(Reply::Int64(n)),
        Value::BulkString(bytes) => replies.push(Reply::Binary(bytes)),
        Value::SimpleString(status) => replies.push(Reply::Status(status)),
        Value::Okay => replies.push(Reply::Status("OK".into())),
        Value::Boolean(b) => replies.push(Reply::Int64(i64::from(b))),
        Value::Double(x) => replies.push(Reply::Binary(x.to_string().into_bytes())),
        Value::VerbatimString { text, .. } => replies.push(Reply::Binary(text.into_bytes())),
        Value::Array(values) | Value::Set(values) => {
            for value in values {
                flatten(value, replies)?;
            }
        }
        Value::Map(pairs) => {
            for (key, value) in pairs {
                flatten(key, replies)?;
                flatten(value, replies)?;
            }
        }
        Value::Attribute { data, .. } => flatten(*data, replies)?,
        Value::ServerError(error) => return Err(RedisError::Other(format!("{error:?}"))),
        other => return Err(RedisError::Other(format!("unsupported reply: {other:?}"))),
    }
    Ok(())
}

/// Generates the conversions between the shared types and one generation's bindings.
macro_rules! conversions {
    ($v:ident) => {
        impl From<RedisError> for $v::Error {
            fn from(e: RedisError) -> Self {
                match e {
                    RedisError::InvalidAddress => $v::Error::InvalidAddress,
                    RedisError::TypeError => $v::Error::TypeError,
                    RedisError::Other(message) => $v::Error::Other(message),
                }
            }
        }

        impl From<$v::RedisParameter> for Argument {
            fn from(parameter: $v::RedisParameter) -> Self {
                match parameter {
                    $v::RedisParameter::Int64(n) => Argument::Int64(n),
                    $v::RedisParameter::Binary(bytes) => Argument::Binary(bytes),
                }
            }
        }

        impl From<Reply> for $v::RedisResult {
            fn from(reply: Reply) -> Self {
                match reply {
                    Reply::Nil => $v::RedisResult::Nil,
                    Reply::Status(status) => $v::RedisResult::Status(status),
                    Reply::Int64(n) => $v::RedisResult::Int64(n),
                    Reply::Binary(bytes) => $v::RedisResult::Binary(bytes),
                }
            }
        }
    };
}

conversions!(v3);
conversions!(v2);

fn client_of(
    table: &wasmtime::component::ResourceTable,
    connection: &Resource<RedisConnection>,
) -> wasmtime::Result<MultiplexedConnection> {
    Ok(table.get(connection)?.client.clone())
}

fn arguments(parameters: Vec<impl Into<Argument>>) -> Vec<Argument> {
    parameters.into_iter().map(Into::into).collect()
}

fn replies<R: From<Reply>>(result: RedisResult<Vec<Reply>>) -> RedisResult<Vec<R>> {
    result.map(|replies| replies.into_iter().map(Into::into).collect())
}

// ---- spin:redis/redis@3.0.0 ----------------------------------------------

impl v3::Host for SpinView<'_> {}
impl v3::HostConnection for SpinView<'_> {}

fn v3_client<T>(
    accessor: &Accessor<T, Spin>,
    connection: &Resource<RedisConnection>,
) -> wasmtime::Result<MultiplexedConnection> {
    accessor.with(|mut access| client_of(access.get().table, connection))
}

impl<T> v3::HostConnectionWithStore<T> for Spin {
    async fn drop(
        accessor: &Accessor<T, Self>,
        rep: Resource<RedisConnection>,
    ) -> wasmtime::Result<()> {
        accessor.with(|mut access| access.get().table.delete(rep).map(drop))?;
        Ok(())
    }

    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, v3::Error>> {
        let ctx = accessor.with(|mut access| access.get().ctx.clone());
        let opened = open(&ctx, &address).await;
        accessor.with(|mut access| match opened {
            Ok(connection) => Ok(Ok(access.get().table.push(connection)?)),
            Err(e) => Ok(Err(e.into())),
        })
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        self_: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let client = v3_client(accessor, &self_)?;
        Ok(commands::publish(client, channel, payload)
            .await
            .map_err(Into::into))
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        self_: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, v3::Error>> {
        let client = v3_client(accessor, &self_)?;
        Ok(commands::get(client, key).await.map_err(Into::into))
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        self_: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let client = v3_client(accessor, &self_)?;
        Ok(commands::set(client, key, value).await.map_err(Into::into))
    }

    async fn incr(
        accessor: &Accessor<T, Self>,
        self_: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, v3::Error>> {
        let client = v3_client(accessor, &self_)?;
        Ok(commands::incr(client, key).await.map_err(Into::into))
    }

    async fn del(
        accessor: &Accessor<T, Self>,
        self_: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, v3::Error>> {
        let client = v3_client(accessor, &self_)?;
        Ok(commands::del(client, keys).await.map_err(Into::into))
    }

    async fn sadd(
        accessor: &Accessor<T, Self>,
        self_: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, v3::Error>> {
        let client = v3_client(accessor, &self_)?;
        Ok(commands::sadd(client, key, values)
            .await
            .map_err(Into::into))
    }

    async fn smembers(
        accessor: &Accessor<T, Self>,
        self_: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, v3::Error>> {
        let client = v3_client(accessor, &self_)?;
        Ok(commands::smembers(client, key).await.map_err(Into::into))
    }

    async fn srem(
        accessor: &Accessor<T, Self>,
        self_: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, v3::Error>> {
        let client = v3_client(accessor, &self_)?;
        Ok(commands::srem(client, key, values)
            .await
            .map_err(Into::into))
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        self_: Resource<RedisConnection>,
        command: String,
        parameters: Vec<v3::RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<v3::RedisResult>, v3::Error>> {
        let client = v3_client(accessor, &self_)?;
        let answer = commands::execute(client, command, arguments(parameters)).await;
        Ok(replies(answer).map_err(Into::into))
    }
}

// ---- fermyon:spin/redis@2.0.0 --------------------------------------------

impl v2::Host for SpinView<'_> {}

impl v2::HostConnection for SpinView<'_> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, v2::Error>> {
        match open(self.ctx, &address).await {
            Ok(connection) => Ok(Ok(self.table.push(connection)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn publish(
        &mut self,
        self_: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let client = client_of(self.table, &self_)?;
        Ok(commands::publish(client, channel, payload)
            .await
            .map_err(Into::into))
    }

    async fn get(
        &mut self,
        self_: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, v2::Error>> {
        let client = client_of(self.table, &self_)?;
        Ok(commands::get(client, key).await.map_err(Into::into))
    }

    async fn set(
        &mut self,
        self_: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let client = client_of(self.table, &self_)?;
        Ok(commands::set(client, key, value).await.map_err(Into::into))
    }

    async fn incr(
        &mut self,
        self_: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, v2::Error>> {
        let client = client_of(self.table, &self_)?;
        Ok(commands::incr(client, key).await.map_err(Into::into))
    }

    async fn del(
        &mut self,
        self_: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, v2::Error>> {
        let client = client_of(self.table, &self_)?;
        Ok(commands::del(client, keys).await.map_err(Into::into))
    }

    async fn sadd(
        &mut self,
        self_: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, v2::Error>> {
        let client = client_of(self.table, &self_)?;
        Ok(commands::sadd(client, key, values)
            .await
            .map_err(Into::into))
    }

    async fn smembers(
        &mut self,
        self_: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, v2::Error>> {
        let client = client_of(self.table, &self_)?;
        Ok(commands::smembers(client, key).await.map_err(Into::into))
    }

    async fn srem(
        &mut self,
        self_: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, v2::Error>> {
        let client = client_of(self.table, &self_)?;
        Ok(commands::srem(client, key, values)
            .await
            .map_err(Into::into))
    }

    async fn execute(
        &mut self,
        self_: Resource<RedisConnection>,
        command: String,
        parameters: Vec<v2::RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<v2::RedisResult>, v2::Error>> {
        let client = client_of(self.table, &self_)?;
        let answer = commands::execute(client, command, arguments(parameters)).await;
        Ok(replies(answer).map_err(Into::into))
    }

    async fn drop(&mut self, rep: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(value: Value) -> Vec<String> {
        let mut replies = vec![];
        flatten(value, &mut replies).unwrap();
        replies
            .into_iter()
            .map(|reply| match reply {
                Reply::Nil => "nil".to_string(),
                Reply::Status(s) => format!("status:{s}"),
                Reply::Int64(n) => format!("int:{n}"),
                Reply::Binary(b) => format!("binary:{}", String::from_utf8_lossy(&b)),
            })
            .collect()
    }

    #[test]
    fn answers_are_flattened_into_the_interface_values() {
        assert_eq!(flat(Value::Okay), ["status:OK"]);
        assert_eq!(flat(Value::Nil), ["nil"]);
        let nested = Value::Array(vec![
            Value::BulkString(b"a".to_vec()),
            Value::Array(vec![Value::Int(2), Value::Nil]),
            Value::Map(vec![(
                Value::SimpleString("k".into()),
                Value::Boolean(true),
            )]),
        ]);
        assert_eq!(
            flat(nested),
            ["binary:a", "int:2", "nil", "status:k", "int:1"]
        );
    }
}

#[cfg(test)]
mod access_tests {
    use super::*;
    use crate::spin::context_allowing;

    /// Refused before any connection: nothing listens on these ports.
    #[tokio::test]
    async fn only_granted_addresses_are_opened() {
        let ctx = context_allowing(&["redis://127.0.0.1:1"]);
        for refused in [
            "redis://127.0.0.1:2",
            "redis://localhost:1",
            "redis://10.0.0.1",
        ] {
            assert!(
                matches!(open(&ctx, refused).await, Err(RedisError::InvalidAddress)),
                "{refused}"
            );
        }
        let nothing = context_allowing(&[]);
        assert!(matches!(
            open(&nothing, "redis://127.0.0.1:1").await,
            Err(RedisError::InvalidAddress)
        ));
        // Granted: the connection is tried (and fails: no server).
        assert!(matches!(
            open(&ctx, "redis://127.0.0.1:1").await,
            Err(RedisError::Other(_))
        ));
    }
}
