//! The HTTP front: accept connections, route each request, add Spin's
//! request headers, hand it to the component and log the outcome. A failing
//! component (trap, panic, bad response) is a 500 with an empty body. The
//! limits of `crate::limits` are applied here: connection timeouts and caps,
//! the request body's pace, the cap on requests in flight and the request
//! deadline; what the host refuses for load is a 503 with `Retry-After`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulConnection, GracefulShutdown};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use wasmtime_wasi_http::handler::{ExpirationError, InstantiationError};

use crate::app::App;
use crate::limits::Limits;
use crate::limits::accept::Acceptor;
use crate::limits::admission::{Admission, ConnectionSlot, Holding};
use crate::limits::body::{self, MinRate, MinRateBody, Prebuffered, TooSlow};
use crate::limits::connection::{Activity, ConnectionTimeouts, WatchedIo};
use crate::router::{RouteMatch, Target};

type Body = UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

const HEALTH_ROUTE: &str = "/.well-known/spin/health";
const GRACE_PERIOD: Duration = Duration::from_secs(10);
/// How long a connection over the cap is given to send the request that is
/// answered 503.
const REFUSAL_TIME: Duration = Duration::from_secs(2);
/// `Retry-After` (seconds) on the host's own 503s.
const RETRY_AFTER: &str = "1";
/// How long a request's body is waited for before the component is given
/// the request anyway, the rest of the body to follow: it may well answer
/// from the head alone (a caller without credentials, an unknown route).
/// A body sent with its head, as almost all are, is in long before.
const BODY_PATIENCE: Duration = Duration::from_millis(200);

/// The application with the limits it is served under.
struct Host {
    app: Arc<App>,
    admission: Admission,
    body_rate: MinRate,
    request_timeout: Duration,
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let connections = GracefulShutdown::new();
    let builder = http_builder(limits);
    let timeouts = ConnectionTimeouts {
        header_read: limits.http_header_read_timeout,
        keep_alive: limits.http_keep_alive_timeout,
    };
    let host = Arc::new(Host {
        admission: Admission::new(limits, app.instances.clone()),
        app,
        body_rate: MinRate {
            grace: limits.request_body_grace,
            bytes_per_second: limits.min_request_body_rate,
        },
        request_timeout: limits.request_timeout,
    });
    let mut acceptor = Acceptor::new(listener);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            () = &mut shutdown => break,
            accepted = acceptor.accept() => accepted,
        };
        let _ = stream.set_nodelay(true);
        match host.admission.connection() {
            ConnectionSlot::Admitted(slot) => {
                let activity = Activity::new();
                let connection = connection(&host, &builder, stream, client, &activity);
                let connection = connections.watch(connection);
                tokio::spawn(async move {
                    tokio::select! {
                        ended = connection => if let Err(e) = ended {
                            tracing::debug!("connection from {client} ended: {e}");
                        },
                        expired = activity.expired(timeouts) => {
                            tracing::debug!("closing connection from {client}: {expired:?} timeout");
                        }
                    }
                    drop(slot);
                });
            }
            ConnectionSlot::Refused(slot) => {
                tokio::spawn(refuse(builder.clone(), stream, slot));
            }
            ConnectionSlot::Dropped => drop(stream),
        }
    }
    eprintln!("Shutting down: waiting for in-flight requests...");
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(GRACE_PERIOD) => eprintln!("Grace period over; closing remaining connections"),
    }
    Ok(())
}

/// HTTP/1 and HTTP/2 as the limits say. The header-read and keep-alive
/// timeouts are the host's own (`limits::connection`), the same for both.
fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    let mut http1 = builder.http1();
    http1.header_read_timeout(None);
    if let Some(size) = limits.http1_max_buf_size {
        http1.max_buf_size(size);
    }
    builder
        .http2()
        .max_concurrent_streams(limits.http2_max_concurrent_streams);
    builder
}

/// An admitted connection: every request goes to [`handle`], and holds its
/// place on the connection (for its timeouts) until its response is sent.
fn connection(
    host: &Arc<Host>,
    builder: &auto::Builder<TokioExecutor>,
    stream: TcpStream,
    client: SocketAddr,
    activity: &Arc<Activity>,
) -> impl GracefulConnection<Error = Box<dyn std::error::Error + Send + Sync>> + Send + 'static {
    let io = TokioIo::new(WatchedIo::new(stream, activity.clone()));
    let service = hyper::service::service_fn({
        let (host, activity) = (host.clone(), activity.clone());
        move |request| {
            let host = host.clone();
            let in_flight = activity.request_started();
            async move {
                let response = handle(&host, request, client).await;
                Ok::<_, Infallible>(response.map(|body| hold(body, in_flight)))
            }
        }
    });
    builder
        .serve_connection_with_upgrades(io, service)
        .into_owned()
}

/// A connection over the cap: every request on it is answered 503, and it
/// is closed.
async fn refuse(builder: auto::Builder<TokioExecutor>, stream: TcpStream, slot: impl Send) {
    let service = hyper::service::service_fn(|request: Request<Incoming>| async move {
        let mut log = RequestLog::start(request.method(), request.uri().path());
        log.handled_by = "(over the connection limit)".into();
        let mut response = unavailable("too many connections");
        response
            .headers_mut()
            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        log.status = Some(response.status());
        Ok::<_, Infallible>(response)
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(REFUSAL_TIME, connection).await;
    drop(slot);
}

fn hold<H: Send + Unpin + 'static>(body: Body, held: H) -> Body {
    Holding::new(body, held).boxed_unsync()
}

async fn handle(host: &Host, request: Request<Incoming>, client: SocketAddr) -> Response<Body> {
    let mut log = RequestLog::start(request.method(), request.uri().path());
    let response = respond(host, request, client, &mut log).await;
    log.status = Some(response.status());
    response
}

/// Status logged for a request whose client went away before the response
/// was ready (nginx's "client closed request").
const CLIENT_CLOSED_REQUEST: u16 = 499;

/// One request-log line, written when the entry is dropped: after the
/// response is ready, or when hyper drops the request because the client
/// hung up, so that every request is logged.
struct RequestLog {
    method: Method,
    path: String,
    handled_by: String,
    status: Option<StatusCode>,
    started: Instant,
}

impl RequestLog {
    fn start(method: &Method, path: &str) -> Self {
        RequestLog {
            method: method.clone(),
            path: path.to_string(),
            handled_by: "(no route)".into(),
            status: None,
            started: Instant::now(),
        }
    }

    fn line(&self, elapsed: Duration) -> String {
        let status = self
            .status
            .map_or(CLIENT_CLOSED_REQUEST, |status| status.as_u16());
        format!(
            "{} {} {} {status} {:.1}ms",
            self.method,
            self.path,
            self.handled_by,
            elapsed.as_secs_f64() * 1000.0
        )
    }
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        eprintln!("{}", self.line(self.started.elapsed()));
    }
}

async fn respond(
    host: &Host,
    request: Request<Incoming>,
    client: SocketAddr,
    log: &mut RequestLog,
) -> Response<Body> {
    let app = &host.app;
    let path = request.uri().path().to_string();
    if path == HEALTH_ROUTE {
        log.handled_by = "(health)".into();
        return health(host);
    }
    let Some(route) = app.router.route(&path) else {
        return empty_response(StatusCode::NOT_FOUND);
    };
    match route.target {
        Target::Static(index) => {
            log.handled_by = "(static)".into();
            static_response(&app.statics[index])
        }
        Target::Component(index) => {
            log.handled_by = app.component_id(index).to_string();
            respond_from_component(host, index, request, &route, client).await
        }
    }
}

/// Spin's health route, 503 while the host cannot take component requests.
fn health(host: &Host) -> Response<Body> {
    match host.admission.health() {
        Ok(()) => text_response(StatusCode::OK, "OK"),
        Err(reason) => unavailable(&reason),
    }
}

/// Reads the body ahead (unless the client waits for `100 Continue`), takes
/// a slot among the requests in flight, and hands the request to the
/// component under the request deadline. The slot is held until the
/// response body is sent.
async fn respond_from_component(
    host: &Host,
    index: usize,
    request: Request<Incoming>,
    route: &RouteMatch,
    client: SocketAddr,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let read = if expects_continue(&parts.headers) {
        left_unread(host, body).await
    } else {
        read_ahead(host, body).await
    };
    let read = match read {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let Some(in_flight) = host.admission.request().await else {
        return unavailable("too many requests in flight");
    };
    drop(read.reading);
    let request = spin_request(parts, read.body, route, client);
    let response = dispatch(host, index, request).await;
    if read.too_slow.is_set() {
        return body_too_slow();
    }
    response.map(|body| hold(body, (in_flight, read.streaming)))
}

/// A request body read ahead.
struct ReadAhead {
    body: wasmtime_wasi_http::WasiBody,
    /// Set if the rest of the body, read by the component, falls behind.
    too_slow: TooSlow,
    /// Bodies read ahead are held in memory until their request is in
    /// flight: as many at once as there may be connections.
    reading: Option<OwnedSemaphorePermit>,
    /// Leave to be in flight before the body has all arrived.
    streaming: Option<OwnedSemaphorePermit>,
}

/// Reads the body ahead at its minimum pace: the whole of it when it comes
/// within [`BODY_PATIENCE`], else what has come by the time the request may
/// go on without the rest (see [`await_body`]). The answer instead when the
/// body is too slow or cannot be read, or the host is too busy.
async fn read_ahead(host: &Host, body: Incoming) -> Result<ReadAhead, Response<Body>> {
    let body = MinRateBody::new(body, host.body_rate, tokio::time::Instant::now());
    let too_slow = body.too_slow();
    let mut body = Prebuffered::new(body);
    let (mut reading, mut streaming) = (None, None);
    if !body.is_whole() {
        let Some(permit) = host.admission.body_reader() else {
            return Err(unavailable("too many request bodies being received"));
        };
        reading = Some(permit);
        streaming = await_body(host, &mut body, &too_slow).await?;
    }
    Ok(ReadAhead {
        body: body.boxed_unsync(),
        too_slow,
        reading,
        streaming,
    })
}

/// Whether the client waits for `100 Continue` before sending its body.
fn expects_continue(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::EXPECT)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// A body whose client waits for `100 Continue`: not read ahead, so that
/// the `100` goes out only when the component reads the body — after it has
/// checked the caller's credentials, and never to a caller it refuses from
/// the head alone. The request goes on as a body still arriving does: with
/// leave to (one in-flight slot in four), at its minimum pace.
async fn left_unread(host: &Host, body: Incoming) -> Result<ReadAhead, Response<Body>> {
    let Some(streaming) = host.admission.streaming_body_in_turn().await else {
        return Err(unavailable("too many requests in flight"));
    };
    let body = MinRateBody::new(body, host.body_rate, tokio::time::Instant::now());
    Ok(ReadAhead {
        too_slow: body.too_slow(),
        body: body.boxed_unsync(),
        reading: None,
        streaming: Some(streaming),
    })
}

/// Reads a body ahead until it is whole, or, past [`BODY_PATIENCE`], until
/// the request gets leave to go on without the rest; a body over
/// [`body::PREBUFFER_LIMIT`] waits its turn for that leave as a request
/// waits for a slot. The leave, if the request needs one.
async fn await_body<B>(
    host: &Host,
    body: &mut Prebuffered<B>,
    too_slow: &TooSlow,
) -> Result<Option<OwnedSemaphorePermit>, Response<Body>>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    let limit = body::PREBUFFER_LIMIT;
    let filled = match tokio::time::timeout(BODY_PATIENCE, body.fill(limit)).await {
        Ok(filled) => filled,
        Err(_still_arriving) => tokio::select! {
            filled = body.fill(limit) => filled,
            leave = host.admission.streaming_body() => return Ok(Some(leave)),
        },
    };
    if filled.is_err() {
        return Err(if too_slow.is_set() {
            body_too_slow()
        } else {
            closing(empty_response(StatusCode::BAD_REQUEST))
        });
    }
    if body.is_whole() {
        return Ok(None);
    }
    match host.admission.streaming_body_in_turn().await {
        Some(leave) => Ok(Some(leave)),
        None => Err(unavailable("too many requests in flight")),
    }
}

async fn dispatch(
    host: &Host,
    index: usize,
    request: Request<wasmtime_wasi_http::WasiBody>,
) -> Response<Body> {
    let id = host.app.component_id(index);
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let handled = tokio::time::timeout(
        host.request_timeout,
        host.app.components[index].handle((), request),
    )
    .await;
    let error = match handled {
        Ok(Ok(response)) => return response.map(|body| body.boxed_unsync()),
        Ok(Err(e)) => e,
        Err(_) => wasmtime::Error::new(ExpirationError),
    };
    if error.is::<ExpirationError>() || started.elapsed() >= host.request_timeout {
        eprintln!(
            "component '{id}' did not answer {path} within the request deadline ({:?})",
            host.request_timeout
        );
        unavailable("the request deadline passed")
    } else if let Some(failed) = error.downcast_ref::<InstantiationError<()>>() {
        eprintln!("component '{id}': cannot create an instance for {path}: {failed}");
        unavailable("cannot create an instance")
    } else {
        eprintln!("component '{id}' failed on {path}: {error:#}");
        empty_response(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The request as the component sees it: an absolute URI and Spin's headers.
fn spin_request(
    mut parts: http::request::Parts,
    body: wasmtime_wasi_http::WasiBody,
    route: &RouteMatch,
    client: SocketAddr,
) -> Request<wasmtime_wasi_http::WasiBody> {
    let authority = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into());
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let full_url = format!("http://{authority}{path_and_query}");
    if let Ok(uri) = full_url.parse() {
        parts.uri = uri;
    }
    // As in Spin, the client's headers all reach the component, `spin-*`
    // ones included, and Spin's own are appended after them: a name the
    // client also sent then has the client's value first and Spin's last.
    let headers = &mut parts.headers;
    let mut add = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.to_ascii_lowercase()),
            HeaderValue::try_from(value),
        ) {
            headers.append(name, value);
        }
    };
    add("spin-path-info", &route.path_info);
    add("spin-full-url", &full_url);
    add("spin-matched-route", &route.matched_route);
    add("spin-base-path", "/");
    add("spin-raw-component-route", &route.raw_route);
    add("spin-component-route", &route.component_route);
    add("spin-client-addr", &client.to_string());
    for (name, value) in &route.params {
        add(
            &format!("spin-path-match-{}", name.replace('_', "-")),
            value,
        );
    }
    Request::from_parts(parts, body)
}

fn static_response(response: &crate::manifest::StaticResponse) -> Response<Body> {
    let mut builder = Response::builder().status(response.status.unwrap_or(200));
    for (name, value) in &response.headers {
        builder = builder.header(name, value);
    }
    let body = response.body.clone().unwrap_or_default();
    builder
        .body(full(Bytes::from(body)))
        .unwrap_or_else(|_| empty_response(StatusCode::INTERNAL_SERVER_ERROR))
}

/// The host's 503: the reason as text, and when to try again.
fn unavailable(reason: &str) -> Response<Body> {
    let mut response = text_response(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("Service Unavailable: {reason}\n"),
    );
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER),
    );
    response
}

/// 408 for a body behind its minimum pace; the connection is closed, as
/// the rest of the body will not be read.
fn body_too_slow() -> Response<Body> {
    closing(text_response(
        StatusCode::REQUEST_TIMEOUT,
        "Request Timeout: the request body arrived too slowly\n",
    ))
}

fn closing(mut response: Response<Body>) -> Response<Body> {
    response
        .headers_mut()
        .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn text_response(status: StatusCode, text: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(text.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    response
}

fn empty_response(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = status;
    response
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_log_lines() {
        let mut log = RequestLog::start(&Method::POST, "/orders");
        log.handled_by = "order-hold".into();
        log.status = Some(StatusCode::CREATED);
        assert_eq!(
            log.line(Duration::from_micros(2_340)),
            "POST /orders order-hold 201 2.3ms"
        );

        let unrouted = RequestLog::start(&Method::GET, "/nowhere");
        assert_eq!(
            unrouted.line(Duration::ZERO),
            "GET /nowhere (no route) 499 0.0ms",
            "a request dropped before its response is logged as 499"
        );
    }
}
