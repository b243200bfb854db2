//! Outbound PostgreSQL in every generation spin-sdk 3 to 7 imports:
//! `fermyon:spin/postgres@2.0.0`, `spin:postgres@3.0.0` and
//! `spin:postgres@4.2.0` (which also serves 4.0.0 and 4.1.0 imports). One
//! implementation here; `v2`, `v3` and `v4` convert types.
//!
//! A connection string (`host=... port=... user=...` or
//! `postgres://user@host:port/db`) may name only hosts the component's
//! `allowed_outbound_hosts` lists (`postgres://host:port`, 5432 by default);
//! otherwise opening fails with `connection-failed("address ... is not
//! permitted")`, as in Spin. Unix sockets are refused. Each `connection` is
//! one PostgreSQL session (so `SELECT pg_backend_pid()` stays the same on
//! it), over TLS unless `sslmode=disable` (`prefer`, the default, falls back
//! to plain when the server has no TLS); servers are verified against the
//! Mozilla roots, or a root a component gives (`connection-builder`).

mod v2;
mod v3;
mod v4;
pub mod values;

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls};

use super::SpinCtx;
use crate::outbound::{self, Target};
use values::{DataType, Value};

/// How long connecting may take, unless the connection string says.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most a query's rows may take in the host's memory (as in Spin).
const MAX_RESULT_BYTES: usize = 128 << 20;

/// A guest's `connection` resource: one session.
pub struct PgConnection {
    client: Arc<Client>,
}

/// A guest's `connection-builder` resource (spin:postgres@4.1+).
pub struct PgConnectionBuilder {
    address: String,
    ca_root: Option<String>,
}

/// Errors of every generation (the older ones have no structured query errors).
#[derive(Debug)]
pub enum PgError {
    ConnectionFailed(String),
    BadParameter(String),
    QueryFailed(QueryFailure),
    ValueConversionFailed(String),
}

#[derive(Debug)]
pub struct QueryFailure {
    pub text: String,
    pub database: Option<Box<DatabaseError>>,
}

/// An error PostgreSQL reported, as spin:postgres@4 describes it.
#[derive(Debug)]
pub struct DatabaseError {
    pub severity: String,
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub extras: Vec<(String, String)>,
}

type PgResult<T> = Result<T, PgError>;

pub struct Column {
    pub name: String,
    pub data_type: DataType,
}

pub struct RowSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

fn query_failed(error: tokio_postgres::Error) -> PgError {
    let database = error.as_db_error().map(|db| {
        let mut extras = vec![];
        let fields = [
            ("column", db.column()),
            ("constraint", db.constraint()),
            ("routine", db.routine()),
            ("hint", db.hint()),
            ("table", db.table()),
            ("datatype", db.datatype()),
            ("schema", db.schema()),
            ("where_", db.where_()),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                extras.push((name.to_string(), value.to_string()));
            }
        }
        Box::new(DatabaseError {
            severity: db.severity().to_string(),
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            extras,
        })
    });
    PgError::QueryFailed(QueryFailure {
        text: format!("{error:?}"),
        database,
    })
}

/// The connection string's TCP hosts, each with the port it will be
/// reached on, all of which the component must be allowed.
fn check_allowed(ctx: &SpinCtx, config: &Config) -> PgResult<()> {
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        let Host::Tcp(name) = host else {
            return Err(PgError::ConnectionFailed(
                "Unix sockets are not supported".into(),
            ));
        };
        let port = ports.get(i).or(if ports.len() == 1 {
            ports.first()
        } else {
            None
        });
        let host = if name.contains(':') {
            format!("[{name}]")
        } else {
            name.clone()
        };
        let address = match port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        let target = Target::from_url(&address, "postgres")
            .map_err(|e| PgError::ConnectionFailed(e.to_string()))?;
        if !ctx.grants.allowed_outbound_hosts.allows(&target) {
            outbound::warn_denied(&ctx.grants.component_id, "connect to", &target.to_string());
            return Err(PgError::ConnectionFailed(format!(
                "address postgres://{address} is not permitted"
            )));
        }
    }
    Ok(())
}

async fn connect(ctx: &SpinCtx, address: &str, ca_root: Option<&str>) -> PgResult<PgConnection> {
    let mut config: Config = address
        .parse()
        .map_err(|e: tokio_postgres::Error| PgError::ConnectionFailed(e.to_string()))?;
    if config.get_hosts().is_empty() {
        return Err(PgError::ConnectionFailed(
            "the connection string names no host".into(),
        ));
    }
    check_allowed(ctx, &config)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let failed = |e: tokio_postgres::Error| PgError::ConnectionFailed(e.to_string());
    let client = if config.get_ssl_mode() == SslMode::Disable {
        let (client, session) = config.connect(NoTls).await.map_err(failed)?;
        tokio::spawn(drive(session));
        client
    } else {
        let (client, session) = config.connect(tls(ca_root)?).await.map_err(failed)?;
        tokio::spawn(drive(session));
        client
    };
    Ok(PgConnection {
        client: Arc::new(client),
    })
}

/// Runs a session's I/O until its client is dropped.
async fn drive<F: Future<Output = Result<(), tokio_postgres::Error>>>(session: F) {
    if let Err(e) = session.await {
        tracing::debug!("PostgreSQL session ended: {e}");
    }
}

/// The certificates of a PEM text (`connection-builder.set-ca-root`).
fn root_certificates(pem: &str) -> PgResult<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let invalid = |e: String| PgError::BadParameter(format!("invalid root certificate: {e}"));
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(e.to_string()))?;
    if certificates.is_empty() {
        return Err(invalid("no PEM certificate".into()));
    }
    Ok(certificates)
}

fn tls(ca_root: Option<&str>) -> PgResult<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = ca_root {
        for certificate in root_certificates(pem)? {
            roots
                .add(certificate)
                .map_err(|e| PgError::BadParameter(format!("invalid root certificate: {e}")))?;
        }
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn parameters(params: &[Value]) -> PgResult<Vec<Box<dyn ToSql + Send + Sync>>> {
    params
        .iter()
        .map(values::parameter)
        .collect::<Result<_, _>>()
        .map_err(PgError::BadParameter)
}

impl PgConnection {
    async fn execute(client: Arc<Client>, statement: String, params: Vec<Value>) -> PgResult<u64> {
        let params = parameters(&params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        client
            .execute(&statement, &refs)
            .await
            .map_err(query_failed)
    }

    async fn query(client: Arc<Client>, statement: String, params: Vec<Value>) -> PgResult<RowSet> {
        use futures::TryStreamExt;
        let params = parameters(&params)?;
        let prepared = client.prepare(&statement).await.map_err(query_failed)?;
        let columns = prepared
            .columns()
            .iter()
            .map(|column| Column {
                name: column.name().to_string(),
                data_type: values::data_type(column.type_()),
            })
            .collect();
        let refs = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync));
        let stream = client
            .query_raw(&prepared, refs)
            .await
            .map_err(query_failed)?;
        let mut stream = std::pin::pin!(stream);
        let (mut rows, mut bytes) = (vec![], 0);
        while let Some(row) = stream.try_next().await.map_err(query_failed)? {
            let values = (0..row.len())
                .map(|i| values::read(&row, i))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PgError::ValueConversionFailed(e.to_string()))?;
            bytes += values.iter().map(Value::size).sum::<usize>();
            if bytes > MAX_RESULT_BYTES {
                return Err(PgError::QueryFailed(QueryFailure {
                    text: format!("the query's result exceeds {MAX_RESULT_BYTES} bytes"),
                    database: None,
                }));
            }
            rows.push(values);
        }
        Ok(RowSet { columns, rows })
    }
}

/// Runs `work` to completion on this thread, for the interface's
/// synchronous functions (the executor is told it may block).
fn block_on<R>(work: impl Future<Output = R>) -> R {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(work))
}

fn client_of(
    table: &wasmtime::component::ResourceTable,
    connection: &wasmtime::component::Resource<PgConnection>,
) -> wasmtime::Result<Arc<Client>> {
    Ok(table.get(connection)?.client.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spin::context_allowing;

    /// Refused before any connection: nothing listens on these ports.
    #[tokio::test]
    async fn every_host_of_a_connection_string_must_be_granted() {
        let ctx = context_allowing(&["postgres://127.0.0.1:1"]);
        let refused = |address: &'static str| {
            let ctx = &ctx;
            async move {
                match connect(ctx, address, None).await {
                    Err(PgError::ConnectionFailed(message)) => message,
                    Err(other) => panic!("{address}: {other:?}"),
                    Ok(_) => panic!("{address} was opened"),
                }
            }
        };
        assert_eq!(
            refused("host=127.0.0.1 port=2 user=u").await,
            "address postgres://127.0.0.1:2 is not permitted"
        );
        assert_eq!(
            refused("host=127.0.0.1,10.0.0.1 port=1 user=u").await,
            "address postgres://10.0.0.1:1 is not permitted"
        );
        assert_eq!(
            refused("postgres://u@127.0.0.1/db").await,
            "address postgres://127.0.0.1:5432 is not permitted",
            "no port: 5432, which is not granted"
        );
        assert!(
            refused("host=/var/run/postgresql user=u")
                .await
                .contains("Unix sockets")
        );
        // Granted: the connection is tried (and fails: no server).
        let tried = refused("host=127.0.0.1 port=1 user=u connect_timeout=2").await;
        assert!(!tried.contains("not permitted"), "{tried}");
    }
}
