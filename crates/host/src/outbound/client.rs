//! The application's outgoing HTTP connections, shared by every instance of
//! every component and kept open between requests: a pool per origin
//! (scheme, host and port), as Spin's outbound HTTP keeps them. A component
//! that sends request after request to one place — the event pusher's
//! rounds to the ERP — reuses connections instead of opening one (and for
//! HTTPS, handshaking) per request. HTTP/1.1, plain or over TLS (rustls
//! with the webpki roots, built once).
//!
//! Each request brings its own timeouts: the connect timeout reaches the
//! connector through a task-local, as only a new connection needs it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::uri::Scheme;
use http::{Request, Response, Uri};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use wasmtime_wasi_http::{Error, WasiBody};

/// How long an unused connection stays open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Timeouts of one request, each already defaulted by the caller.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub between_bytes: Duration,
}

tokio::task_local! {
    /// The connect timeout of the request being sent, for the connector.
    static CONNECT_TIMEOUT: Duration;
}

/// The pools, one per origin.
pub struct HttpClient {
    client: Client<Connector, WasiBody>,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    pub fn new() -> HttpClient {
        let connector = Connector {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls_config())),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .build(connector);
        HttpClient { client }
    }

    /// Sends `request` (its URI absolute) on a pooled connection, or a new
    /// one. Its status and headers must come within `first_byte` (connecting
    /// included); its body may stall for `between_bytes` at most.
    pub async fn send(
        &self,
        request: Request<WasiBody>,
        timeouts: Timeouts,
    ) -> Result<Response<WasiBody>, Error> {
        let sent = CONNECT_TIMEOUT.scope(timeouts.connect, self.client.request(request));
        let response = tokio::time::timeout(timeouts.first_byte, sent)
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(|e| request_error(&e))?;
        Ok(response.map(|body| BetweenBytes::new(body, timeouts.between_bytes).boxed_unsync()))
    }
}

fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// Why no response came, as `wasi:http` tells it: the connector's own
/// error, or what hyper reports.
fn request_error(e: &hyper_util::client::legacy::Error) -> Error {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(failed) = cause.downcast_ref::<ConnectError>() {
            return failed.to_wasi();
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            return hyper_error(hyper);
        }
        source = cause.source();
    }
    Error::InternalError(Some(e.to_string()))
}

fn hyper_error(e: &hyper::Error) -> Error {
    if e.is_timeout() {
        Error::HttpResponseTimeout
    } else if e.is_incomplete_message() {
        Error::HttpResponseIncomplete
    } else if e.is_closed() || e.is_canceled() {
        Error::ConnectionTerminated
    } else {
        Error::HttpProtocolError
    }
}

/// Opens connections: TCP, and TLS for `https`.
#[derive(Clone)]
struct Connector {
    tls: tokio_rustls::TlsConnector,
}

/// Why a connection could not be made.
#[derive(Debug, thiserror::Error)]
enum ConnectError {
    #[error("connection timed out")]
    Timeout,
    #[error("{0}")]
    Io(io::Error),
    #[error("TLS: {0}")]
    Tls(io::Error),
    #[error("not a host name or address: {0}")]
    BadName(String),
}

impl ConnectError {
    fn to_wasi(&self) -> Error {
        match self {
            ConnectError::Timeout => Error::ConnectionTimeout,
            ConnectError::Io(e) => Error::Connect(io::Error::new(e.kind(), e.to_string())),
            ConnectError::Tls(e) => Error::Tls(io::Error::new(e.kind(), e.to_string())),
            ConnectError::BadName(_) => Error::HttpRequestUriInvalid,
        }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        // Read here, inside the request's scope: the connection may be
        // finished by a task of its own.
        let timeout = CONNECT_TIMEOUT
            .try_with(|timeout| *timeout)
            .unwrap_or(super::http::CONNECT_TIMEOUT);
        let tls = self.tls.clone();
        Box::pin(async move {
            tokio::time::timeout(timeout, connect(uri, tls))
                .await
                .map_err(|_| ConnectError::Timeout)?
                .map(TokioIo::new)
        })
    }
}

async fn connect(uri: Uri, tls: tokio_rustls::TlsConnector) -> Result<Stream, ConnectError> {
    let secure = uri.scheme() == Some(&Scheme::HTTPS);
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(ConnectError::Io)?;
    let _ = tcp.set_nodelay(true);
    if !secure {
        return Ok(Stream::Plain(tcp));
    }
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| ConnectError::BadName(host.to_string()))?;
    let stream = tls.connect(name, tcp).await.map_err(ConnectError::Tls)?;
    Ok(Stream::Tls(Box::new(stream)))
}

/// A connection, plain or over TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A response body that fails when it stalls between two frames for
/// longer than its timeout.
struct BetweenBytes {
    body: hyper::body::Incoming,
    timeout: Duration,
    stall: Pin<Box<tokio::time::Sleep>>,
}

impl BetweenBytes {
    fn new(body: hyper::body::Incoming, timeout: Duration) -> BetweenBytes {
        BetweenBytes {
            body,
            timeout,
            stall: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl Body for BetweenBytes {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.as_mut().get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = tokio::time::Instant::now() + this.timeout;
                this.stall.as_mut().reset(deadline);
                Poll::Ready(frame.map(|f| f.map_err(|e| hyper_error(&e))))
            }
            Poll::Pending => {
                ready!(this.stall.as_mut().poll(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
