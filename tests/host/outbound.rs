//! Outgoing HTTP, against a real HTTP server the test starts: a component
//! reaches what its `allowed_outbound_hosts` lists (the fixtures grant
//! `http://127.0.0.1:{{ echo_port }}` and `http://self`), and nothing else;
//! a refused request never leaves the host.

use std::time::{Duration, Instant};

use e2e::servers::{HttpEcho, Silent};
use e2e::{App, Reply};

use crate::common::{self, LOG_WAIT, reported_error};

/// The fixtures app, letting `outbound` and `legacy` reach `port`.
fn start_allowing_port(port: u16) -> App {
    App::start_with(common::fixtures().env("SPIN_VARIABLE_ECHO_PORT", &port.to_string()))
}

fn send_from(app: &App, component_prefix: &str, url: &str) -> Reply {
    app.send(
        "POST",
        &format!("{component_prefix}/outbound"),
        &[],
        url.as_bytes(),
    )
}

#[test]
fn an_allowed_host_is_reached_from_wasip3_and_wasip2_components() {
    let echo = HttpEcho::start();
    let app = start_allowing_port(echo.address().port());

    let reply = send_from(&app, "/outbound", &echo.url("/hello?from=probe"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["status"], 200);
    let echoed: serde_json::Value =
        serde_json::from_str(reply.json()["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["method"], "GET");
    assert_eq!(echoed["path"], "/hello?from=probe");
    assert_eq!(echoed["headers"]["x-probe"], "outbound");
    assert_eq!(echoed["headers"]["host"], echo.address().to_string());

    let legacy = send_from(&app, "/legacy", &echo.url("/from-legacy"));
    assert_eq!(legacy.status, 200, "{}", legacy.text());
    let echoed: serde_json::Value =
        serde_json::from_str(legacy.json()["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["path"], "/from-legacy");
    assert_eq!(echoed["headers"]["x-probe"], "legacy-outbound");
    assert_eq!(echo.received().len(), 2);
}

#[test]
fn an_unlisted_host_is_refused_before_any_connection() {
    let allowed = HttpEcho::start();
    let unlisted = HttpEcho::start();
    let app = start_allowing_port(allowed.address().port());

    for (prefix, url) in [
        ("/outbound", unlisted.url("/")),
        // Names are matched as written: 127.0.0.1 does not grant localhost.
        (
            "/outbound",
            format!("http://localhost:{}/", allowed.address().port()),
        ),
        ("/outbound", allowed.url("/").replace("http://", "https://")),
        ("/legacy", unlisted.url("/")),
    ] {
        let refused = send_from(&app, prefix, &url);
        assert_eq!(
            reported_error(&refused),
            "ErrorCode::HttpRequestDenied",
            "{prefix} -> {url}"
        );
    }
    assert!(unlisted.received().is_empty(), "a refused request went out");
    assert!(allowed.received().is_empty(), "a refused request went out");
    let warning = app
        .wait_for_log("may not send HTTP requests to", LOG_WAIT)
        .expect("the host says why a request was refused");
    assert!(
        warning.contains(&format!(
            "\"http://127.0.0.1:{}\"",
            unlisted.address().port()
        )),
        "the warning names what to allow: {warning}"
    );
}

#[test]
fn a_component_without_the_grant_is_refused() {
    let echo = HttpEcho::start();
    let app = start_allowing_port(echo.address().port());
    for prefix in ["/probe", "/restricted"] {
        let refused = send_from(&app, prefix, &echo.url("/"));
        assert_eq!(reported_error(&refused), "ErrorCode::HttpRequestDenied");
        let to_self = send_from(&app, prefix, "http://self.alt/probe/echo");
        assert_eq!(reported_error(&to_self), "ErrorCode::HttpRequestDenied");
    }
    assert!(echo.received().is_empty(), "a refused request went out");
}

#[test]
fn http_self_reaches_the_application_itself() {
    let app = common::start();
    let reply = send_from(&app, "/outbound", "http://self.alt/routes/exact?via=self");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["status"], 200);
    let echoed: serde_json::Value =
        serde_json::from_str(reply.json()["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["headers"]["spin-matched-route"], "/routes/exact");
    let uri = echoed["uri"].as_str().unwrap();
    assert!(uri.ends_with("/routes/exact?via=self"), "{uri}");
}

#[test]
fn a_request_timeout_set_by_the_component_is_kept() {
    let stuck = Silent::start();
    let app = start_allowing_port(stuck.address().port());
    let started = Instant::now();
    let reply = app.send(
        "POST",
        "/outbound/outbound?timeout_ms=300",
        &[],
        stuck.url("/never").as_bytes(),
    );
    assert_eq!(reported_error(&reply), "ErrorCode::ConnectionReadTimeout");
    // The host's own wait for a first byte is a minute.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}
