//! `wasi:sockets` (WASIp2 and WASIp3) under `allowed_outbound_hosts`: a
//! TCP connection is checked as `tcp://IP:PORT`, a UDP datagram sent or
//! received as `udp://IP:PORT`. Sockets that would accept connections
//! (`bind` to an address of the component's choosing, `listen`) are refused,
//! as in Spin; the bind the system makes before a connection or a first
//! datagram (any address, an ephemeral port) is allowed. Refusals are
//! `access-denied`.
//!
//! A component with no entry that could match `tcp` (or `udp`) gets no TCP
//! (or UDP) sockets at all; name lookup is offered to a component that may
//! use either. Entries are matched against addresses, not names: a
//! component that connects to `db.internal` needs the address it resolves to
//! allowed (a CIDR range suits).

use std::net::SocketAddr;
use std::sync::Arc;

use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::sockets::SocketAddrUse;

use super::{AllowedHosts, Target};

/// Applies the component's grants to its WASI context.
pub fn restrict(wasi: &mut WasiCtxBuilder, component_id: &str, allowed: &Arc<AllowedHosts>) {
    let tcp = allowed.may_allow_scheme("tcp");
    let udp = allowed.may_allow_scheme("udp");
    wasi.allow_tcp(tcp)
        .allow_udp(udp)
        .allow_ip_name_lookup(tcp || udp);
    if tcp || udp {
        let allowed = allowed.clone();
        let component_id = component_id.to_string();
        wasi.socket_addr_check(move |address, usage| {
            let permitted = permits(&allowed, address, usage);
            if !permitted {
                report_denied(&component_id, address, usage);
            }
            Box::pin(async move { permitted })
        });
    }
}

/// Connections and datagrams a component was refused are worth a line on
/// stderr; binds and incoming datagrams are not its doing.
fn report_denied(component_id: &str, address: SocketAddr, usage: SocketAddrUse) {
    let scheme = match usage {
        SocketAddrUse::TcpConnect => "tcp",
        SocketAddrUse::UdpSend => "udp",
        _ => return,
    };
    let destination = Target::from_socket(scheme, address).to_string();
    super::warn_denied(component_id, "connect to", &destination);
}

fn permits(allowed: &AllowedHosts, address: SocketAddr, usage: SocketAddrUse) -> bool {
    match usage {
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => is_any_ephemeral(address),
        SocketAddrUse::TcpConnect => allowed.allows(&Target::from_socket("tcp", address)),
        SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => {
            allowed.allows(&Target::from_socket("udp", address))
        }
        SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => false,
    }
}

/// The address the system binds a socket to before it connects or sends:
/// every local interface, a port of the system's choosing.
fn is_any_ephemeral(address: SocketAddr) -> bool {
    address.ip().is_unspecified() && address.port() == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str]) -> AllowedHosts {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        AllowedHosts::resolve(&entries, &[], |_| None).unwrap()
    }

    fn address(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn connections_and_datagrams_follow_the_grants() {
        let grants = allowed(&["tcp://127.0.0.1:7", "udp://10.0.0.0/8:53"]);
        assert!(permits(
            &grants,
            address("127.0.0.1:7"),
            SocketAddrUse::TcpConnect
        ));
        assert!(!permits(
            &grants,
            address("127.0.0.1:8"),
            SocketAddrUse::TcpConnect
        ));
        assert!(!permits(
            &grants,
            address("127.0.0.1:7"),
            SocketAddrUse::UdpSend
        ));
        assert!(permits(
            &grants,
            address("10.1.1.1:53"),
            SocketAddrUse::UdpSend
        ));
        assert!(permits(
            &grants,
            address("10.1.1.1:53"),
            SocketAddrUse::UdpReceive
        ));
        assert!(!permits(
            &grants,
            address("10.1.1.1:53"),
            SocketAddrUse::TcpConnect
        ));

        let nothing = allowed(&[]);
        let local = address("127.0.0.1:7");
        assert!(!permits(&nothing, local, SocketAddrUse::TcpConnect));
        assert!(!permits(&nothing, local, SocketAddrUse::UdpSend));
        assert!(!nothing.may_allow_scheme("tcp") && !nothing.may_allow_scheme("udp"));
    }

    #[test]
    fn only_the_implicit_bind_is_allowed_and_nothing_listens() {
        let everything = allowed(&["*://*:*"]);
        for implicit in ["0.0.0.0:0", "[::]:0"] {
            assert!(permits(
                &everything,
                address(implicit),
                SocketAddrUse::TcpBind
            ));
            assert!(permits(
                &everything,
                address(implicit),
                SocketAddrUse::UdpBind
            ));
        }
        for chosen in ["0.0.0.0:8080", "127.0.0.1:0"] {
            assert!(!permits(
                &everything,
                address(chosen),
                SocketAddrUse::TcpBind
            ));
            assert!(!permits(
                &everything,
                address(chosen),
                SocketAddrUse::UdpBind
            ));
        }
        assert!(!permits(
            &everything,
            address("0.0.0.0:0"),
            SocketAddrUse::TcpListen
        ));
        assert!(!permits(
            &everything,
            address("127.0.0.1:5"),
            SocketAddrUse::TcpAccept
        ));
    }

    #[test]
    fn sockets_are_offered_only_where_a_grant_could_use_them() {
        assert!(!allowed(&["https://example.com"]).may_allow_scheme("tcp"));
        assert!(allowed(&["*://127.0.0.1:7"]).may_allow_scheme("tcp"));
        assert!(allowed(&["tcp://127.0.0.1:7"]).may_allow_scheme("tcp"));
        assert!(!allowed(&["tcp://127.0.0.1:7"]).may_allow_scheme("udp"));
    }
}
