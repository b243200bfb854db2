//! The HTTP front: accept connections, route each request, add Spin's
//! request headers, hand it to the component and log the outcome. A failing
//! component (trap, panic, bad response) is a 500 with an empty body for
//! that request only.

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
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::app::App;
use crate::router::{RouteMatch, Target};

type Body = UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

const HEALTH_ROUTE: &str = "/.well-known/spin/health";
const GRACE_PERIOD: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let connections = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |request| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(handle(&app, request, client).await) }
        });
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = connections.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection from {client} ended: {e}");
            }
        });
    }
    eprintln!("Shutting down: waiting for in-flight requests...");
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(GRACE_PERIOD) => eprintln!("Grace period over; closing remaining connections"),
    }
    Ok(())
}

async fn handle(app: &App, request: Request<Incoming>, client: SocketAddr) -> Response<Body> {
    let mut log = RequestLog::start(request.method(), request.uri().path());
    let response = respond(app, request, client, &mut log).await;
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
    app: &App,
    request: Request<Incoming>,
    client: SocketAddr,
    log: &mut RequestLog,
) -> Response<Body> {
    let path = request.uri().path().to_string();
    if path == HEALTH_ROUTE {
        log.handled_by = "(health)".into();
        return text_response(StatusCode::OK, "OK");
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
            let id = app.component_id(index).to_string();
            log.handled_by = id.clone();
            let request = spin_request(request, &route, client);
            match app.components[index].handle((), request).await {
                Ok(response) => response.map(|body| body.boxed_unsync()),
                Err(e) => {
                    eprintln!("component '{id}' failed on {path}: {e:#}");
                    empty_response(StatusCode::INTERNAL_SERVER_ERROR)
                }
            }
        }
    }
}

/// The request as the component sees it: an absolute URI and Spin's headers.
fn spin_request(
    request: Request<Incoming>,
    route: &RouteMatch,
    client: SocketAddr,
) -> Request<wasmtime_wasi_http::WasiBody> {
    let (mut parts, body) = request.into_parts();
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
    Request::from_parts(parts, body.map_err(Into::into).boxed_unsync())
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

fn text_response(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(full(Bytes::from_static(text.as_bytes())));
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
