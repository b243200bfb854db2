//! Routing and Spin's request headers, as a component sees them.

use crate::common;
use std::net::SocketAddr;

use serde_json::{Value, json};

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
        "/starx",
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
fn root_route_headers() {
    let app = common::start();
    let headers = spin_headers(&app, "/");
    // Spin bases routes by stripping one trailing slash: `/` becomes "".
    assert_eq!(headers["spin-matched-route"], "");
    assert_eq!(headers["spin-raw-component-route"], "/");
    assert_eq!(headers["spin-component-route"], "/");
    assert_eq!(headers["spin-path-info"], "");
}

#[test]
fn a_star_wildcard_route_keeps_its_star_in_the_component_route() {
    let app = common::start();
    let headers = spin_headers(&app, "/star/a/b");
    assert_eq!(headers["spin-matched-route"], "/star/*");
    assert_eq!(headers["spin-raw-component-route"], "/star/*");
    // Spin strips only a trailing `/...`.
    assert_eq!(headers["spin-component-route"], "/star/*");
    assert_eq!(headers["spin-path-info"], "/a/b");
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

/// As in Spin, a client's own `spin-*` headers are not removed: Spin
/// appends its values after them. A name both sent arrives with two values,
/// the client's first (what `HeaderMap::get` answers) and Spin's last.
#[test]
fn spin_headers_sent_by_the_client_come_before_spins_own() {
    let app = common::start();
    let reply = app.send(
        "POST",
        "/routes/exact",
        &[
            ("spin-matched-route", "/forged/..."),
            ("spin-client-addr", "10.0.0.1:1"),
            ("spin-forged", "yes"),
        ],
        b"",
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let echoed = reply.json();
    assert_eq!(echoed["method"], "POST");
    let values = &echoed["header_values"];
    assert_eq!(
        values["spin-matched-route"],
        json!(["/forged/...", "/routes/exact"])
    );
    let client_addr = values["spin-client-addr"].as_array().unwrap();
    assert_eq!(client_addr.len(), 2, "{client_addr:?}");
    assert_eq!(client_addr[0], "10.0.0.1:1");
    assert!(
        client_addr[1].as_str().unwrap().starts_with("127.0.0.1:"),
        "{client_addr:?}"
    );
    assert_eq!(values["spin-forged"], json!(["yes"]));
    // Headers the client did not send have Spin's value alone.
    assert_eq!(values["spin-path-info"], json!([""]));
    assert_eq!(values["spin-component-route"], json!(["/routes/exact"]));
}

/// The probe picks its action from the first `spin-path-info` value, so a
/// client's header steers it, as it would under Spin: a component must not
/// take the first value of a `spin-*` header on trust.
#[test]
fn a_component_reading_the_first_value_sees_the_clients() {
    let app = common::start();
    let reply = app.send(
        "GET",
        "/routes/exact",
        &[("spin-path-info", "/var/greeting")],
        b"",
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["value"], "hello from the manifest");
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
