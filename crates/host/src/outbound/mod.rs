//! What a component may reach outside the host, as Spin grants it: every
//! outbound interface checks the component's `allowed_outbound_hosts`
//! (`allowed_hosts`) before it connects. Outgoing HTTP is in `http`,
//! `wasi:sockets` in `sockets`; Redis, MQTT and PostgreSQL in `crate::spin`.

pub mod allowed_hosts;
pub mod http;
pub mod sockets;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;

pub use allowed_hosts::{AllowedHosts, Target};

/// Says on stderr that a component was refused `destination`, and what
/// would allow it (`action` reads "may not {action} {destination}").
pub fn warn_denied(component_id: &str, action: &str, destination: &str) {
    tracing::warn!(
        "component '{component_id}' may not {action} {destination}; to allow it, add \"{destination}\" to its allowed_outbound_hosts"
    );
}

/// Where the application itself listens, for requests a component sends to
/// `http://self.alt` (allowed by `http://self`). Set once the host listens.
#[derive(Debug, Default)]
pub struct AppAddress(OnceLock<SocketAddr>);

impl AppAddress {
    /// Records the listening address; an unspecified one (`0.0.0.0`, `::`)
    /// is reached through loopback.
    pub fn set(&self, listening: SocketAddr) {
        let ip = match listening.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let _ = self.0.set(SocketAddr::new(ip, listening.port()));
    }

    pub fn get(&self) -> Option<SocketAddr> {
        self.0.get().copied()
    }
}
