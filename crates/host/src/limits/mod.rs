//! What keeps the host serving under heavy or hostile load: a deadline per
//! request, timeouts for slow clients, caps on connections and on requests
//! in flight, per-instance memory and table limits, and an accept loop that
//! backs off when the process runs out of file descriptors.
//!
//! Every limit is a `spin-host up` flag ([`Limits`]). Where Spin or
//! `wasmtime serve` has the same knob, the flag has its name.

pub mod accept;
pub mod admission;
pub mod body;
pub mod connection;
pub mod instances;

use std::time::Duration;

use clap::builder::RangedU64ValueParser;

const MIB: usize = 1 << 20;

/// The limits, as `spin-host up` flags. Durations are written as in Spin:
/// a number of seconds, or a number with `s`, `ms`, `us` or `ns`.
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Limits")]
pub struct Limits {
    /// Deadline for a component to answer a request, from the moment the
    /// host hands it over. Past it the client gets 503 and a guest still
    /// running (even in an endless loop) is stopped; a guest still sending
    /// a response body is given as long again.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Component requests in flight at once, across all components. Beyond
    /// it a request waits (see --request-queue-timeout), and the health
    /// route answers 503. Sizes the instance pool (twice this many
    /// instances).
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = at_least_one())]
    pub max_concurrent_requests: usize,

    /// How long a request over --max-concurrent-requests waits for a slot
    /// before it is answered 503 with `Retry-After`.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub request_queue_timeout: Duration,

    /// Open client connections. A connection beyond it is answered 503 with
    /// `Retry-After` and closed.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = at_least_one())]
    pub max_concurrent_connections: usize,

    /// Time a client has to send a request's head (request line and
    /// headers, or HTTP/2 frames), counted from the connection's opening or
    /// from the first byte after an idle spell. Past it the connection is
    /// closed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub http_header_read_timeout: Duration,

    /// Time a kept-alive connection (HTTP/1 or HTTP/2) may stay open with no
    /// request in flight and nothing sent.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub http_keep_alive_timeout: Duration,

    /// Concurrent streams one HTTP/2 connection may open.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = RangedU64ValueParser::<u32>::new().range(1..))]
    pub http2_max_concurrent_streams: u32,

    /// Maximum buffer size (bytes) of an HTTP/1 connection, which bounds a
    /// request's head; at least 8192 (default: hyper's, about 400 KiB).
    #[arg(long, env = "SPIN_HTTP1_MAX_BUF_SIZE", value_name = "BYTES", value_parser = RangedU64ValueParser::<usize>::new().range(8192..))]
    pub http1_max_buf_size: Option<usize>,

    /// Slowest request body accepted, in bytes per second, once the grace
    /// period is over: a body behind that pace is cut off with 408 and the
    /// connection closed. 0 turns the check off.
    #[arg(long, value_name = "BYTES_PER_SECOND", default_value_t = 1024)]
    pub min_request_body_rate: u64,

    /// Time a request body may take before `--min-request-body-rate`
    /// applies; the pace is measured from the request's start.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub request_body_grace: Duration,

    /// Largest linear memory (bytes) one component instance may grow to, as
    /// in Spin; a guest asking for more gets an allocation failure.
    #[arg(long, env = "SPIN_MAX_INSTANCE_MEMORY", value_name = "BYTES", default_value_t = 256 * MIB, value_parser = RangedU64ValueParser::<usize>::new().range(65536..=(4 << 30)))]
    pub max_instance_memory: usize,

    /// Largest table (elements) one component instance may have or grow to.
    #[arg(long, value_name = "N", default_value_t = 20_000, value_parser = at_least_one())]
    pub max_instance_table_elements: usize,

    /// Requests one WASIp3 instance serves at the same time, as in Spin
    /// (WASIp2 instances always take one). Requests sharing an instance
    /// also share its blocking calls (see README).
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::runtime::ReusePolicy::WASIP3.max_concurrent,
        value_parser = at_least_one()
    )]
    pub max_instance_concurrent_reuse_count: usize,

    /// Time an idle WASIp3 instance is kept for reuse, as in Spin.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub idle_instance_timeout: Duration,
}

fn at_least_one() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::<usize>::new().range(1..)
}

/// A duration as Spin's flags take it: `5` (seconds), `5s`, `250ms`,
/// `10us` (or `10μs`), `100ns`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = || format!("expected a duration such as 30, 30s or 500ms; got {text:?}");
    type Unit = fn(u64) -> Duration;
    let units: [(&str, Unit); 5] = [
        ("ms", Duration::from_millis),
        ("us", Duration::from_micros),
        ("μs", Duration::from_micros),
        ("ns", Duration::from_nanos),
        ("s", Duration::from_secs),
    ];
    let (number, unit): (&str, Unit) = units
        .iter()
        .find_map(|(suffix, unit)| text.strip_suffix(suffix).map(|n| (n, *unit)))
        .unwrap_or((text, Duration::from_secs));
    number.parse().map(unit).map_err(|_| expected())
}

/// Raises the soft open-file limit to the hard one, as Go programs and many
/// servers do: the usual soft limit (1024) is below what the connection cap
/// and the databases need. Returns the limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(limit.rlim_cur)
}

impl Limits {
    /// File descriptors the caps may need at once: a socket per connection,
    /// a few database files per request, and the host's own.
    pub fn descriptors_needed(&self) -> u64 {
        const PER_REQUEST: usize = 3;
        const HOST_OWN: usize = 64;
        (self.max_concurrent_connections + PER_REQUEST * self.max_concurrent_requests + HOST_OWN)
            as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_spin_reads_them() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_duration("10μs"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_duration("100ns"), Ok(Duration::from_nanos(100)));
        for wrong in ["", "s", "1.5s", "-1s", "10m", "1..8s"] {
            assert!(parse_duration(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn the_descriptor_need_covers_connections_and_requests() {
        let limits = defaults();
        assert!(limits.descriptors_needed() > limits.max_concurrent_connections as u64);
        assert!(limits.descriptors_needed() > 3 * limits.max_concurrent_requests as u64);
    }

    /// The limits `spin-host up` uses when given no flags.
    pub fn defaults() -> Limits {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            limits: Limits,
        }
        <Only as clap::Parser>::parse_from(["spin-host"]).limits
    }

    #[test]
    fn defaults_are_as_documented() {
        let limits = defaults();
        assert_eq!(limits.request_timeout, Duration::from_secs(60));
        assert_eq!(limits.max_concurrent_requests, 256);
        assert_eq!(limits.request_queue_timeout, Duration::from_secs(1));
        assert_eq!(limits.max_concurrent_connections, 1024);
        assert_eq!(limits.http_header_read_timeout, Duration::from_secs(10));
        assert_eq!(limits.http_keep_alive_timeout, Duration::from_secs(30));
        assert_eq!(limits.min_request_body_rate, 1024);
        assert_eq!(limits.request_body_grace, Duration::from_secs(10));
        assert_eq!(limits.max_instance_memory, 256 << 20);
        assert_eq!(limits.max_instance_concurrent_reuse_count, 16);
        assert_eq!(limits.idle_instance_timeout, Duration::from_secs(1));
    }
}
