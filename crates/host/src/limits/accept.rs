//! Accepting connections without spinning: when `accept` fails (out of file
//! descriptors, EMFILE, is the common case) the loop sleeps, longer each
//! time the failure repeats, and logs at most once a second.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

/// Growing delay between retries of an operation that keeps failing.
#[derive(Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            next: initial,
        }
    }

    /// The delay before the next attempt; each call doubles the one after.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// After a success, the next failure waits the initial delay again.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// Lets a message through at most once per interval and counts the ones it
/// holds back, so that a repeating error cannot flood the log.
#[derive(Debug)]
pub struct RateLimitedLog {
    interval: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    pub fn new(interval: Duration) -> Self {
        RateLimitedLog {
            interval,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(n)` when the message should be written now, `n` being how many
    /// were held back since the last one written; `None` to hold it back.
    pub fn admit(&mut self, now: Instant) -> Option<u64> {
        let due = self
            .last
            .is_none_or(|last| now.duration_since(last) >= self.interval);
        if due {
            self.last = Some(now);
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }
}

/// The listener with its failure handling.
pub struct Acceptor {
    listener: TcpListener,
    backoff: Backoff,
    log: RateLimitedLog,
}

impl Acceptor {
    pub fn new(listener: TcpListener) -> Self {
        Acceptor {
            listener,
            backoff: Backoff::new(Duration::from_millis(5), Duration::from_secs(1)),
            log: RateLimitedLog::new(Duration::from_secs(1)),
        }
    }

    /// The next connection. A failed `accept` is logged (rate-limited) and
    /// retried after a growing pause: the kernel keeps the waiting
    /// connection in the backlog, and retrying at once would fail the same
    /// way while descriptors are short.
    pub async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.listener.accept().await {
                Ok(accepted) => {
                    self.backoff.reset();
                    return accepted;
                }
                Err(e) => {
                    let delay = self.backoff.next_delay();
                    if let Some(suppressed) = self.log.admit(Instant::now()) {
                        let repeats = match suppressed {
                            0 => String::new(),
                            n => format!(" ({n} more failures in the last second not shown)"),
                        };
                        tracing::warn!(
                            "accepting a connection failed: {e}; retrying in {delay:?}{repeats}"
                        );
                    }
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_maximum_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(5), Duration::from_millis(30));
        let delays: Vec<u128> = (0..5).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, [5, 10, 20, 30, 30]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(5));
    }

    #[test]
    fn the_log_admits_one_message_per_interval_and_counts_the_rest() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut log = RateLimitedLog::new(Duration::from_secs(1));
        assert_eq!(log.admit(at(0)), Some(0), "the first message is written");
        assert_eq!(log.admit(at(1)), None);
        assert_eq!(log.admit(at(500)), None);
        assert_eq!(log.admit(at(999)), None);
        assert_eq!(
            log.admit(at(1000)),
            Some(3),
            "a second later, with the count held back"
        );
        assert_eq!(log.admit(at(1500)), None);
        assert_eq!(log.admit(at(5000)), Some(1));
        assert_eq!(log.admit(at(9000)), Some(0));
    }

    #[test]
    fn a_flood_of_failures_writes_one_line_a_second() {
        let start = Instant::now();
        let mut log = RateLimitedLog::new(Duration::from_secs(1));
        // 12 seconds of failures every 100 µs, as a spinning accept loop
        // would produce them.
        let written = (0..120_000u64)
            .filter(|i| log.admit(start + Duration::from_micros(i * 100)).is_some())
            .count();
        assert_eq!(written, 12);
    }
}
