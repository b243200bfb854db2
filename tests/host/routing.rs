//! Routing and Spin's request headers, as a component sees them.

mod common;

use std::net::SocketAddr;

use serde_json::Value;

/// The `spin-*` headers the probe received for `path`.
fn spin_headers(app: &e2e::App, path: &str) -> Value {
    let reply = app.get(path);
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
    reply.json()["headers"].clone()
}

#[test]
fn the_most_specific_route_wins_whatever_the_manifest_order() {
    let app = common::start();
    // (path, route expected to handle it)
    let cases = [
        ("/routes/exact", "/routes/exact"),
        ("/routes/other", "/routes/:name"),
        ("/routes/a/items/b", "/routes/:name/items/:item_id"),
        ("/routes/exact/deeper", "/routes/..."),
        ("/routes/a/items", "/routes/..."),
        ("/routes", "/routes/..."),
    ];
    for (path, route) in cases {
        let headers = spin_headers(&app, path);
        assert_eq!(headers["spin-matched-route"], route, "GET {path}");
    }
}

#[test]
fn unknown_paths_are_404_with_an_empty_body() {
    let app = common::start();
    for path in [
        "/nowhere",
        "/routesx",
        "/",
        "/prob",
        "/.well-known/spin/other",
    ] {
        let reply = app.get(path);
        assert_eq!(reply.status, 404, "GET {path}");
        assert!(reply.body.is_empty(), "GET {path}: {}", reply.text());
    }
}

#[test]
fn exact_route_headers() {
    let app = common::start();
    let headers = spin_headers(&app, "/routes/exact?page=2&q=a%20b");
    let port = app.base_url.rsplit(':').next().unwrap();
    assert_eq!(
        headers["spin-full-url"],
        format!("http://127.0.0.1:{port}/routes/exact?page=2&q=a%20b")
    );
    assert_eq!(headers["spin-path-info"], "");
    assert_eq!(headers["spin-matched-route"], "/routes/exact");
    assert_eq!(headers["spin-component-route"], "/routes/exact");
    assert_eq!(headers["spin-raw-component-route"], "/routes/exact");
    assert_eq!(headers["spin-base-path"], "/");
}

#[test]
fn wildcard_route_headers() {
    let app = common::start();
    let headers = spin_headers(&app, "/routes/a/b/c");
    assert_eq!(headers["spin-path-info"], "/a/b/c");
    assert_eq!(headers["spin-matched-route"], "/routes/...");
    assert_eq!(headers["spin-component-route"], "/routes");
    assert_eq!(headers["spin-raw-component-route"], "/routes/...");

    let headers = spin_headers(&app, "/routes/exact/more/");
    assert_eq!(headers["spin-path-info"], "/exact/more/");
}

#[test]
fn param_values_arrive_as_spin_path_match_headers() {
    let app = common::start();
    let headers = spin_headers(&app, "/routes/SO-1/items/line_7");
    assert_eq!(headers["spin-path-match-name"], "SO-1");
    // Spin spells `:item_id` as `spin-path-match-item-id`.
    assert_eq!(headers["spin-path-match-item-id"], "line_7");
    assert_eq!(
        headers["spin-component-route"],
        "/routes/:name/items/:item_id"
    );
    assert_eq!(headers["spin-path-info"], "");
}

#[test]
fn spin_client_addr_is_the_callers_address() {
    let app = common::start();
    let headers = spin_headers(&app, "/routes/exact");
    let client: SocketAddr = headers["spin-client-addr"]
        .as_str()
        .expect("spin-client-addr")
        .parse()
        .expect("spin-client-addr is ip:port");
    let server: SocketAddr = app.base_url.trim_start_matches("http://").parse().unwrap();
    assert_eq!(client.ip(), server.ip());
    assert_ne!(client.port(), server.port());
    assert_ne!(client.port(), 0);
}

#[test]
fn spin_headers_sent_by_the_client_are_dropped() {
    let app = common::start();
    let reply = app.send(
        "POST",
        "/routes/exact",
        &[
            ("spin-path-info", "/forged"),
            ("spin-matched-route", "/forged/..."),
            ("spin-client-addr", "10.0.0.1:1"),
            ("spin-forged", "yes"),
        ],
        b"",
    );
    let echoed = reply.json();
    assert_eq!(echoed["method"], "POST");
    let headers = echoed["headers"].as_object().unwrap();
    assert_eq!(headers["spin-path-info"], "");
    assert_eq!(headers["spin-matched-route"], "/routes/exact");
    assert!(
        headers["spin-client-addr"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert!(!headers.contains_key("spin-forged"), "{headers:?}");
}

#[test]
fn the_component_sees_the_absolute_request_uri() {
    let app = common::start();
    let echoed = app.send("DELETE", "/routes/x?y=1", &[], b"").json();
    assert_eq!(echoed["method"], "DELETE");
    assert_eq!(echoed["uri"], format!("{}/routes/x?y=1", app.base_url));
}

#[test]
fn health_check_answers_ok() {
    let app = common::start();
    let reply = app.get("/.well-known/spin/health");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "OK");
}

#[test]
fn static_response_routes_answer_without_a_component() {
    let app = common::start();
    let reply = app.get("/static");
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("x-fixture"), Some("static"));
    assert_eq!(reply.header("content-type"), Some("text/plain"));
    assert_eq!(reply.text(), "static body\n");
}
