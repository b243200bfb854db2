//! `allowed_outbound_hosts`: a component that declares it starts, but this
//! host makes no outgoing requests: every one is denied.

use crate::common;
use crate::common::{LOG_WAIT, reported_error};

#[test]
fn a_component_allowed_outbound_hosts_starts_and_its_requests_are_denied() {
    let app = common::start();
    assert!(
        app.wait_for_log("allowed_outbound_hosts", LOG_WAIT)
            .is_some(),
        "the host warns that it does not make outgoing requests"
    );
    // An address the manifest allows: the host itself.
    let allowed = app.url("/probe/echo");
    let denied = app.send("POST", "/outbound/outbound", &[], allowed.as_bytes());
    assert_eq!(reported_error(&denied), "ErrorCode::HttpRequestDenied");

    // The same for a component that declares no outbound hosts.
    let undeclared = app.send("POST", "/probe/outbound", &[], allowed.as_bytes());
    assert_eq!(reported_error(&undeclared), "ErrorCode::HttpRequestDenied");

    // Nothing reached the host's own route on the probe's behalf.
    assert!(
        app.log_lines()
            .iter()
            .all(|line| !line.starts_with("GET /probe/echo")),
        "an outgoing request went out"
    );
}
