//! `allowed_outbound_hosts`: the addresses a component may reach, in Spin's
//! syntax. Each entry is `scheme://host:port`, where
//!
//! - the scheme is a name (`http`, `redis`, `tcp`, ...) or `*`;
//! - the host is a name, an IP address, `*`, `*.domain` (any subdomain, not
//!   the domain itself), a CIDR range (`10.0.0.0/8`), or `self` for the
//!   application itself (HTTP only);
//! - the port is a number, a range `start..end` (end excluded), `*`, or left
//!   out for the scheme's well-known port (`http` 80, `https` 443, `redis`
//!   6379, `mqtt` 1883, `postgres` 5432, `mysql` 3306);
//! - `{{ name }}` refers to an application variable; an entry that resolves
//!   to nothing (`""`, `http://`, `https://`) is dropped, so a variable can
//!   make an endpoint optional.
//!
//! Addresses are matched as written: `localhost` does not match `127.0.0.1`.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;

use anyhow::{Context, Result, bail, ensure};
use ipnet::IpNet;
use url::Host;

use crate::manifest::expand_template;

/// Every address one component may reach.
#[derive(Clone, Debug, Default)]
pub struct AllowedHosts {
    entries: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// A component's `allowed_outbound_hosts` (and the deprecated
    /// `allowed_http_hosts`), with `{{ name }}` references resolved by
    /// `variable`.
    pub fn resolve(
        outbound_hosts: &[String],
        http_hosts: &[String],
        variable: impl Fn(&str) -> Option<String>,
    ) -> Result<AllowedHosts> {
        if outbound_hosts
            .iter()
            .any(|host| host == "insecure:allow-all")
        {
            bail!(
                "'insecure:allow-all' is not an allowed outbound host; '*://*:*' allows every address"
            );
        }
        let mut entries = vec![];
        for written in outbound_hosts
            .iter()
            .chain(&http_hosts_as_outbound(http_hosts)?)
        {
            let resolved = expand_template(written, &variable)
                .with_context(|| format!("allowed outbound host \"{written}\""))?;
            if matches!(resolved.trim(), "" | "http://" | "https://") {
                continue;
            }
            let entry = AllowedHost::parse(&resolved).with_context(|| {
                format!("invalid allowed outbound host \"{written}\" (resolved: \"{resolved}\")")
            })?;
            entries.push(entry);
        }
        Ok(AllowedHosts { entries })
    }

    pub fn allows(&self, target: &Target) -> bool {
        self.entries.iter().any(|entry| entry.allows(target))
    }

    /// Whether any entry could let a connection with this scheme out
    /// (`tcp`, `udp`): without one, the socket interface is not offered.
    pub fn may_allow_scheme(&self, scheme: &str) -> bool {
        self.entries.iter().any(|entry| entry.scheme.allows(scheme))
    }

    /// Whether requests to the application itself (`http://self`) are allowed.
    pub fn allows_self(&self) -> bool {
        self.entries.iter().any(AllowedHost::allows_self)
    }
}

/// `allowed_http_hosts` (Spin's older field) as `allowed_outbound_hosts`:
/// `host[:port]` allows it over HTTP and HTTPS, `self` the application, and
/// `insecure:allow-all` every HTTP address.
fn http_hosts_as_outbound(http_hosts: &[String]) -> Result<Vec<String>> {
    if http_hosts.iter().any(|host| host == "insecure:allow-all") {
        return Ok(vec![
            "http://*:*".into(),
            "https://*:*".into(),
            "http://self".into(),
        ]);
    }
    let mut converted = vec![];
    for host in http_hosts {
        let without_scheme = host
            .strip_prefix("http://")
            .or_else(|| host.strip_prefix("https://"))
            .unwrap_or(host)
            .trim_end_matches('/');
        ensure!(
            !without_scheme.is_empty() && !without_scheme.contains(['/', '*']),
            "allowed_http_hosts: \"{host}\" is not a host or host:port"
        );
        if without_scheme == "self" {
            converted.push("http://self".into());
        } else {
            converted.push(format!("http://{without_scheme}"));
            converted.push(format!("https://{without_scheme}"));
        }
    }
    Ok(converted)
}

/// One `allowed_outbound_hosts` entry.
#[derive(Clone, Debug)]
struct AllowedHost {
    scheme: SchemePattern,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Clone, Debug, PartialEq)]
enum SchemePattern {
    Any,
    Exactly(String),
}

#[derive(Clone, Debug, PartialEq)]
enum HostPattern {
    Any,
    /// `*.example.com`, kept as `.example.com`.
    AnySubdomainOf(String),
    /// The application itself.
    ToSelf,
    Exactly(Host),
    Network(IpNet),
}

#[derive(Clone, Debug, PartialEq)]
enum PortPattern {
    Any,
    Exactly(u16),
    /// `start..end`, the end excluded.
    Range(Range<u16>),
}

impl AllowedHost {
    fn parse(entry: &str) -> Result<AllowedHost> {
        let entry = entry.trim();
        let Some((scheme, rest)) = entry.split_once("://") else {
            bail!(
                "\"{entry}\" has no scheme: write scheme://host[:port], with '*' for any scheme, host or port ('*://*:*' allows everything)"
            );
        };
        let (host, port) = split_host_and_port(rest)?;
        Ok(AllowedHost {
            port: PortPattern::parse(port, scheme)?,
            scheme: SchemePattern::parse(scheme)?,
            host: HostPattern::parse(host)?,
        })
    }

    fn allows(&self, target: &Target) -> bool {
        self.scheme.allows(&target.scheme)
            && self.host.allows(&target.host)
            && self.port.allows(target.port, &target.scheme)
    }

    fn allows_self(&self) -> bool {
        (self.scheme.allows("http") || self.scheme.allows("https"))
            && matches!(self.host, HostPattern::Any | HostPattern::ToSelf)
    }
}

/// Splits `host[:port][/]`. A colon may belong to the host (an IPv6
/// address or network), so the part after the last colon is a port only
/// when the whole is not a valid host.
fn split_host_and_port(rest: &str) -> Result<(&str, &str)> {
    match rest.rsplit_once(':') {
        None => Ok((rest, "")),
        Some((host, "")) => Ok((host, "")),
        Some(_) if HostPattern::parse(rest).is_ok() => Ok((rest, "")),
        Some((host, tail)) => {
            let port = match tail.split_once('/') {
                Some((port, "")) => port,
                Some(_) => bail!("\"{rest}\" has a path; give only a host and a port"),
                None => tail,
            };
            Ok((host, port))
        }
    }
}

impl SchemePattern {
    fn parse(scheme: &str) -> Result<SchemePattern> {
        if scheme == "*" {
            return Ok(SchemePattern::Any);
        }
        ensure!(
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphabetic()),
            "scheme \"{scheme}\" must be letters only, or '*' (lists are not supported)"
        );
        Ok(SchemePattern::Exactly(scheme.to_ascii_lowercase()))
    }

    fn allows(&self, scheme: &str) -> bool {
        match self {
            SchemePattern::Any => true,
            SchemePattern::Exactly(allowed) => allowed.eq_ignore_ascii_case(scheme),
        }
    }
}

impl HostPattern {
    fn parse(host: &str) -> Result<HostPattern> {
        let host = host.trim();
        match host {
            "*" => return Ok(HostPattern::Any),
            "self" | "self.alt" => return Ok(HostPattern::ToSelf),
            _ => {}
        }
        ensure!(!host.starts_with('{'), "host lists are not supported");
        if let Ok(network) = host.parse::<IpNet>() {
            return Ok(HostPattern::Network(network.trunc()));
        }
        let host = host.strip_suffix('/').unwrap_or(host);
        ensure!(!host.contains('/'), "\"{host}\" must not have a path");
        if let Some(domain) = host.strip_prefix("*.") {
            ensure!(
                !domain.contains('*'),
                "'*' is allowed only as the first label (*.example.com)"
            );
            let Ok(Host::Domain(domain)) = Host::parse(domain) else {
                bail!("\"*.{domain}\": a wildcard needs a domain name after it");
            };
            return Ok(HostPattern::AnySubdomainOf(format!(".{domain}")));
        }
        ensure!(
            !host.contains('*'),
            "'*' is allowed only alone or as the first label (*.example.com)"
        );
        let parsed = Host::parse(host).with_context(|| format!("\"{host}\" is not a host"))?;
        Ok(HostPattern::Exactly(parsed))
    }

    fn allows(&self, host: &Host) -> bool {
        match (self, host) {
            (HostPattern::Any, _) => true,
            (HostPattern::AnySubdomainOf(suffix), Host::Domain(domain)) => domain.ends_with(suffix),
            (HostPattern::Exactly(allowed), host) => allowed == host,
            (HostPattern::Network(network), Host::Ipv4(ip)) => {
                network.contains(&std::net::IpAddr::V4(*ip))
            }
            (HostPattern::Network(network), Host::Ipv6(ip)) => {
                network.contains(&std::net::IpAddr::V6(*ip))
            }
            _ => false,
        }
    }
}

impl PortPattern {
    fn parse(port: &str, scheme: &str) -> Result<PortPattern> {
        match port {
            "" => well_known_port(scheme)
                .map(PortPattern::Exactly)
                .with_context(|| {
                    format!("no port given, and scheme \"{scheme}\" has no well-known port")
                }),
            "*" => Ok(PortPattern::Any),
            _ if port.starts_with('{') => bail!("port lists are not supported"),
            _ => match port.split_once("..") {
                Some((start, end)) => {
                    let number = |text: &str| {
                        text.parse::<u16>()
                            .with_context(|| format!("port range \"{port}\" is not two numbers"))
                    };
                    Ok(PortPattern::Range(number(start)?..number(end)?))
                }
                None => port
                    .parse()
                    .map(PortPattern::Exactly)
                    .with_context(|| format!("port \"{port}\" is not a number")),
            },
        }
    }

    fn allows(&self, port: Option<u16>, scheme: &str) -> bool {
        let Some(port) = port.or_else(|| well_known_port(scheme)) else {
            return matches!(self, PortPattern::Any);
        };
        match self {
            PortPattern::Any => true,
            PortPattern::Exactly(allowed) => *allowed == port,
            PortPattern::Range(range) => range.contains(&port),
        }
    }
}

fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        _ => None,
    }
}

/// An address a component tries to reach.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    scheme: String,
    host: Host,
    port: Option<u16>,
}

impl Target {
    /// An address as a guest gives it (`redis://host:port/0`,
    /// `mqtt://host?client_id=x`, or `host:port`, which is read with
    /// `default_scheme`). It is parsed as the clients parse it (the `url`
    /// crate), so that the host checked is the host connected to.
    pub fn from_url(address: &str, default_scheme: &str) -> Result<Target> {
        let url = if address.contains("://") {
            url::Url::parse(address)
        } else {
            url::Url::parse(&format!("{default_scheme}://{address}"))
        }
        .with_context(|| format!("\"{address}\" is not an address"))?;
        let host = url
            .host_str()
            .with_context(|| format!("\"{address}\" has no host"))?;
        Ok(Target {
            scheme: url.scheme().to_string(),
            host: Host::parse(host).with_context(|| format!("\"{host}\" is not a host"))?,
            port: url.port(),
        })
    }

    /// A socket address, for a `tcp` or `udp` connection.
    pub fn from_socket(scheme: &str, address: SocketAddr) -> Target {
        let host = match address {
            SocketAddr::V4(v4) => Host::Ipv4(*v4.ip()),
            SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
                Some(v4) => Host::Ipv4(v4),
                None => Host::Ipv6(*v6.ip()),
            },
        };
        Target {
            scheme: scheme.to_string(),
            host,
            port: Some(address.port()),
        }
    }

    /// The target of an outgoing HTTP request's absolute URI.
    pub fn from_uri(uri: &http::Uri) -> Option<Target> {
        let authority = uri.authority()?;
        Some(Target {
            scheme: uri.scheme_str().unwrap_or("https").to_ascii_lowercase(),
            host: Host::parse(authority.host()).ok()?,
            port: authority.port_u16(),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match &self.host {
            Host::Ipv6(ip) => format!("[{ip}]"),
            host => host.to_string(),
        };
        match self.port.or_else(|| well_known_port(&self.scheme)) {
            Some(port) => write!(f, "{}://{host}:{port}", self.scheme),
            None => write!(f, "{}://{host}", self.scheme),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        AllowedHosts::resolve(&entries, &[], |_| None).unwrap()
    }

    fn url(address: &str) -> Target {
        Target::from_uri(&address.parse().unwrap()).unwrap()
    }

    #[test]
    fn schemes_hosts_and_ports_must_all_match() {
        let allowed = hosts(&["http://example.com:8080", "redis://cache.internal"]);
        assert!(allowed.allows(&url("http://example.com:8080/path?q")));
        assert!(!allowed.allows(&url("https://example.com:8080")));
        assert!(!allowed.allows(&url("http://example.com:8081")));
        assert!(!allowed.allows(&url("http://other.com:8080")));
        // No port: the scheme's well-known port, on both sides.
        assert!(allowed.allows(&url("redis://cache.internal")));
        assert!(allowed.allows(&url("redis://cache.internal:6379/0")));
        assert!(!allowed.allows(&url("redis://cache.internal:6380")));
        assert!(!hosts(&["http://example.com"]).allows(&url("http://example.com:8080")));
        assert!(hosts(&["http://example.com"]).allows(&url("http://example.com:80")));
    }

    #[test]
    fn wildcards() {
        let any = hosts(&["*://*:*"]);
        assert!(any.allows(&url("postgres://db:1")));
        assert!(any.allows_self());

        let subdomains = hosts(&["https://*.example.com"]);
        assert!(subdomains.allows(&url("https://api.example.com")));
        assert!(subdomains.allows(&url("https://a.b.example.com")));
        assert!(!subdomains.allows(&url("https://example.com")));
        assert!(!subdomains.allows(&url("https://badexample.com")));

        let any_scheme = hosts(&["*://127.0.0.1:7"]);
        assert!(any_scheme.allows(&url("tcp://127.0.0.1:7")));
        assert!(any_scheme.allows(&url("udp://127.0.0.1:7")));
        assert!(!any_scheme.allows(&url("tcp://127.0.0.1:8")));

        let port_range = hosts(&["http://localhost:8000..8010"]);
        assert!(port_range.allows(&url("http://localhost:8000")));
        assert!(port_range.allows(&url("http://localhost:8009")));
        assert!(!port_range.allows(&url("http://localhost:8010")));
    }

    #[test]
    fn cidr_ranges_match_addresses_not_names() {
        let network = hosts(&["*://127.0.0.0/24:7", "tcp://fd00::/8:*"]);
        let socket = |addr: &str| url(&format!("tcp://{addr}"));
        assert!(network.allows(&socket("127.0.0.1:7")));
        assert!(network.allows(&socket("127.0.0.254:7")));
        assert!(!network.allows(&socket("127.0.1.1:7")));
        assert!(!network.allows(&socket("127.0.0.1:8")));
        assert!(network.allows(&socket("[fd12::1]:9")));
        let mapped = Target::from_socket("tcp", "[::ffff:127.0.0.1]:7".parse().unwrap());
        assert!(
            network.allows(&mapped),
            "an IPv4-mapped address is its IPv4 address"
        );
        assert!(!network.allows(&url("http://localhost:7")));
        // Host bits in the network are ignored, as in Spin.
        assert!(hosts(&["tcp://127.0.0.9/24:7"]).allows(&socket("127.0.0.1:7")));
    }

    #[test]
    fn ipv6_hosts() {
        let allowed = hosts(&["http://[::1]:8080", "http://[::2]"]);
        assert!(allowed.allows(&url("http://[::1]:8080")));
        assert!(!allowed.allows(&url("http://[::1]:8081")));
        assert!(allowed.allows(&url("http://[::2]")));
    }

    #[test]
    fn self_is_the_application_only() {
        for entry in ["http://self", "http://self.alt", "*://self:*"] {
            let allowed = hosts(&[entry]);
            assert!(allowed.allows_self(), "{entry}");
            assert!(!allowed.allows(&url("http://self")), "{entry}");
        }
        assert!(!hosts(&["http://example.com"]).allows_self());
        assert!(!hosts(&["redis://self:6379"]).allows_self());
    }

    #[test]
    fn addresses_without_a_scheme_take_the_default_one() {
        let read = |address: &str, scheme: &str| Target::from_url(address, scheme).unwrap();
        assert_eq!(
            read("localhost:6379", "redis"),
            read("redis://localhost:6379", "redis")
        );
        assert_eq!(read("127.0.0.1:7", "tcp").to_string(), "tcp://127.0.0.1:7");
        assert_eq!(
            read("mqtt://broker?client_id=x", "mqtt").to_string(),
            "mqtt://broker:1883"
        );
        let with_password = read("redis://user:secret@cache:6380/0", "redis");
        assert_eq!(with_password.to_string(), "redis://cache:6380");
        // An `@` after the host is not user information: the host checked
        // is the one a client connects to.
        let tricky = read("redis://evil/@cache:6380", "redis");
        assert_eq!(tricky.to_string(), "redis://evil:6379");
        assert!(Target::from_url("redis://", "redis").is_err());
    }

    #[test]
    fn templates_resolve_from_variables() {
        let variables = |name: &str| match name {
            "host" => Some("db.internal".to_string()),
            "prefix" => Some("10.0.0.0".to_string()),
            "empty" => Some(String::new()),
            _ => None,
        };
        let entries = [
            "postgres://{{ host }}".to_string(),
            "*://{{ prefix }}/8:*".to_string(),
            "{{ empty }}".to_string(),
            "https://{{empty}}".to_string(),
        ];
        let allowed = AllowedHosts::resolve(&entries, &[], variables).unwrap();
        assert!(allowed.allows(&url("postgres://db.internal")));
        assert!(allowed.allows(&url("tcp://10.1.2.3:99")));
        assert_eq!(
            allowed.entries.len(),
            2,
            "entries resolving to nothing are dropped"
        );

        let unknown = ["http://{{ nowhere }}".to_string()];
        assert!(AllowedHosts::resolve(&unknown, &[], variables).is_err());
    }

    #[test]
    fn invalid_entries_are_errors() {
        for entry in [
            "example.com",
            "*",
            "http://example.com/path",
            "http://exa*mple.com",
            "http://*.*.com",
            "ht-tp://example.com",
            "{http,https}://example.com",
            "tcp://example.com",
            "http://example.com:port",
            "http://example.com:1..x",
            "http://{a,b}.com",
        ] {
            let result = AllowedHosts::resolve(&[entry.to_string()], &[], |_| None);
            assert!(result.is_err(), "{entry} should be refused");
        }
        let allow_all = AllowedHosts::resolve(&["insecure:allow-all".to_string()], &[], |_| None);
        assert!(allow_all.unwrap_err().to_string().contains("*://*:*"));
    }

    #[test]
    fn allowed_http_hosts_are_converted() {
        let http = ["example.com:8080".to_string(), "self".to_string()];
        let allowed = AllowedHosts::resolve(&[], &http, |_| None).unwrap();
        assert!(allowed.allows(&url("http://example.com:8080")));
        assert!(allowed.allows(&url("https://example.com:8080")));
        assert!(!allowed.allows(&url("https://example.com")));
        assert!(allowed.allows_self());

        let all =
            AllowedHosts::resolve(&[], &["insecure:allow-all".to_string()], |_| None).unwrap();
        assert!(all.allows(&url("https://anything.example")));
        assert!(!all.allows(&url("redis://cache")));
    }
}
