//! `wasi:sockets` under `allowed_outbound_hosts`, against TCP and UDP echo
//! servers the test starts: the fixtures let `outbound` reach
//! `tcp://127.0.0.0/8:{{ tcp_echo_port }}` and
//! `udp://127.0.0.1:{{ udp_echo_port }}`, and nothing else.

use std::net::Ipv4Addr;

use e2e::servers::{TcpEcho, UdpEcho};
use e2e::{App, Reply};

use crate::common::{self, reported_error};

fn start_allowing(tcp: &TcpEcho, udp: &UdpEcho) -> App {
    App::start_with(
        common::fixtures()
            .env(
                "SPIN_VARIABLE_TCP_ECHO_PORT",
                &tcp.address().port().to_string(),
            )
            .env(
                "SPIN_VARIABLE_UDP_ECHO_PORT",
                &udp.address().port().to_string(),
            ),
    )
}

fn socket_action(app: &App, prefix: &str, action: &str, address: &str, message: &str) -> Reply {
    app.send(
        "POST",
        &format!("{prefix}/{action}/{address}"),
        &[],
        message.as_bytes(),
    )
}

#[test]
fn tcp_connections_reach_allowed_addresses_only() {
    // 127.0.0.2 is allowed by the grant's network, 127.0.0.0/8, alone.
    let allowed = TcpEcho::start_on(Ipv4Addr::new(127, 0, 0, 2));
    let (unlisted, udp) = (TcpEcho::start(), UdpEcho::start());
    let app = start_allowing(&allowed, &udp);
    let address = allowed.address().to_string();

    let echoed = socket_action(&app, "/outbound", "tcp", &address, "So rested he");
    assert_eq!(echoed.status, 200, "{}", echoed.text());
    assert_eq!(echoed.json()["echoed"], "So rested he");
    let p3 = socket_action(&app, "/outbound", "tcp-p3", &address, "in a rest");
    assert_eq!(p3.status, 200, "{}", p3.text());
    assert_eq!(p3.json()["echoed"], "in a rest");
    // Each echo was answered, so the server had accepted both connections.
    assert_eq!(allowed.connections(), 2);

    let other_port = unlisted.address().to_string();
    let refused = socket_action(&app, "/outbound", "tcp", &other_port, "hello");
    assert!(
        reported_error(&refused).starts_with("PermissionDenied"),
        "{}",
        refused.text()
    );
    let refused_p3 = socket_action(&app, "/outbound", "tcp-p3", &other_port, "");
    assert_eq!(reported_error(&refused_p3), "ErrorCode::AccessDenied");
    assert_eq!(unlisted.connections(), 0, "a refused connection was made");
}

#[test]
fn a_component_without_socket_grants_gets_no_connection() {
    let (tcp, udp) = (TcpEcho::start(), UdpEcho::start());
    let app = start_allowing(&tcp, &udp);
    let tcp_address = tcp.address().to_string();
    let udp_address = udp.address().to_string();
    for prefix in ["/probe", "/restricted"] {
        let refused = socket_action(&app, prefix, "tcp", &tcp_address, "hello");
        assert!(
            reported_error(&refused).starts_with("PermissionDenied"),
            "{}",
            refused.text()
        );
        let refused_p3 = socket_action(&app, prefix, "tcp-p3", &tcp_address, "");
        assert_eq!(reported_error(&refused_p3), "ErrorCode::AccessDenied");
        let refused_udp = socket_action(&app, prefix, "udp", &udp_address, "hello");
        assert!(
            reported_error(&refused_udp).starts_with("PermissionDenied"),
            "{}",
            refused_udp.text()
        );
    }
    assert_eq!(tcp.connections(), 0);
    assert_eq!(udp.datagrams(), 0);
}

#[test]
fn udp_datagrams_go_to_allowed_addresses_only() {
    let (tcp, allowed, unlisted) = (TcpEcho::start(), UdpEcho::start(), UdpEcho::start());
    let app = start_allowing(&tcp, &allowed);

    let address = allowed.address().to_string();
    let echoed = socket_action(&app, "/outbound", "udp", &address, "one datagram");
    assert_eq!(echoed.status, 200, "{}", echoed.text());
    assert_eq!(echoed.json()["echoed"], "one datagram");
    assert_eq!(allowed.datagrams(), 1);

    let other = unlisted.address().to_string();
    let refused = socket_action(&app, "/outbound", "udp", &other, "hello");
    assert!(
        reported_error(&refused).starts_with("PermissionDenied"),
        "{}",
        refused.text()
    );
    assert_eq!(unlisted.datagrams(), 0, "a refused datagram was sent");
}
