//! Timeouts for one client connection, the same for HTTP/1 and HTTP/2:
//!
//! - header read: a connection must deliver a request's head within
//!   `--http-header-read-timeout` of opening, or of the first byte it sends
//!   after an idle spell (slow-header clients are cut off);
//! - keep-alive: a connection with no request in flight and nothing sent
//!   is closed after `--http-keep-alive-timeout`.
//!
//! A request counts as in flight from its head to the end of its response
//! body, however long the component or a slow reader takes: those are bounded
//! by the request deadline, not here.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The connection's timeouts.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionTimeouts {
    pub header_read: Duration,
    pub keep_alive: Duration,
}

/// Why an idle connection is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expired {
    HeaderRead,
    KeepAlive,
}

/// What the connection is doing, as far as its timeouts care.
#[derive(Clone, Copy, Debug)]
pub struct ActivityState {
    requests_in_flight: usize,
    /// When the last request ended (or the connection opened).
    idle_since: Instant,
    /// When a request's head began to arrive: the connection opened, or a
    /// byte came in while no request was in flight.
    head_since: Option<Instant>,
}

impl ActivityState {
    fn opened(now: Instant) -> Self {
        ActivityState {
            requests_in_flight: 0,
            idle_since: now,
            head_since: Some(now),
        }
    }

    /// When the connection expires if nothing changes, and why; `None`
    /// while a request is in flight.
    pub fn deadline(&self, timeouts: ConnectionTimeouts) -> Option<(Instant, Expired)> {
        if self.requests_in_flight > 0 {
            return None;
        }
        let keep_alive = (self.idle_since + timeouts.keep_alive, Expired::KeepAlive);
        let header = self
            .head_since
            .map(|since| (since + timeouts.header_read, Expired::HeaderRead));
        Some(match header {
            Some(header) if header.0 <= keep_alive.0 => header,
            _ => keep_alive,
        })
    }

    fn bytes_received(&mut self, now: Instant) -> bool {
        let starts_a_head = self.requests_in_flight == 0 && self.head_since.is_none();
        if starts_a_head {
            self.head_since = Some(now);
        }
        starts_a_head
    }

    fn request_started(&mut self) {
        self.requests_in_flight += 1;
        self.head_since = None;
    }

    fn request_ended(&mut self, now: Instant) {
        self.requests_in_flight -= 1;
        if self.requests_in_flight == 0 {
            self.idle_since = now;
        }
    }
}

/// The shared activity record of one connection.
pub struct Activity {
    state: Mutex<ActivityState>,
    changed: Notify,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            state: Mutex::new(ActivityState::opened(Instant::now())),
            changed: Notify::new(),
        })
    }

    fn update<R>(&self, change: impl FnOnce(&mut ActivityState) -> R) -> R {
        let result = change(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.notify_one();
        result
    }

    /// Marks a request in flight until the returned guard is dropped.
    pub fn request_started(self: &Arc<Self>) -> RequestInFlight {
        self.update(ActivityState::request_started);
        RequestInFlight(self.clone())
    }

    fn bytes_received(&self) {
        let state = &mut self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.bytes_received(Instant::now()) {
            self.changed.notify_one();
        }
    }

    /// Resolves when the connection has been idle, or slow to send a head,
    /// for longer than its timeouts allow.
    pub async fn expired(&self, timeouts: ConnectionTimeouts) -> Expired {
        loop {
            let changed = self.changed.notified();
            let deadline = self
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .deadline(timeouts);
            match deadline {
                Some((at, why)) if at <= Instant::now() => return why,
                Some((at, _)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// A request in flight on its connection; dropped with the response body.
pub struct RequestInFlight(Arc<Activity>);

impl Drop for RequestInFlight {
    fn drop(&mut self) {
        self.0.update(|state| state.request_ended(Instant::now()));
    }
}

/// The connection's socket, noting each read in its [`Activity`].
pub struct WatchedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> WatchedIo<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> Self {
        WatchedIo { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.bytes_received();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: ConnectionTimeouts = ConnectionTimeouts {
        header_read: Duration::from_secs(10),
        keep_alive: Duration::from_secs(30),
    };

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_new_connection_must_send_a_head_within_the_header_timeout() {
        let opened = Instant::now();
        let state = ActivityState::opened(opened);
        assert_eq!(
            state.deadline(TIMEOUTS),
            Some((opened + secs(10), Expired::HeaderRead))
        );
    }

    #[test]
    fn a_request_in_flight_has_no_deadline_and_its_end_starts_the_keep_alive() {
        let opened = Instant::now();
        let mut state = ActivityState::opened(opened);
        state.request_started();
        state.request_started();
        assert_eq!(state.deadline(TIMEOUTS), None);
        state.request_ended(opened + secs(2));
        assert_eq!(state.deadline(TIMEOUTS), None, "one is still in flight");
        state.request_ended(opened + secs(5));
        assert_eq!(
            state.deadline(TIMEOUTS),
            Some((opened + secs(35), Expired::KeepAlive))
        );
    }

    #[test]
    fn a_byte_after_an_idle_spell_starts_the_header_timeout_once() {
        let opened = Instant::now();
        let mut state = ActivityState::opened(opened);
        state.request_started();
        assert!(!state.bytes_received(opened + secs(1)), "body bytes");
        state.request_ended(opened + secs(1));
        assert!(state.bytes_received(opened + secs(25)));
        assert!(!state.bytes_received(opened + secs(30)), "the same head");
        assert_eq!(
            state.deadline(TIMEOUTS),
            Some((opened + secs(31), Expired::KeepAlive)),
            "whichever comes first"
        );
        state.request_started();
        state.request_ended(opened + secs(40));
        assert!(state.bytes_received(opened + secs(41)));
        assert_eq!(
            state.deadline(TIMEOUTS),
            Some((opened + secs(51), Expired::HeaderRead))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_expires_after_its_request_ends() {
        let activity = Activity::new();
        let opened = Instant::now();
        let request = activity.request_started();
        let expiry = tokio::spawn({
            let activity = activity.clone();
            async move { (activity.expired(TIMEOUTS).await, Instant::now()) }
        });
        tokio::time::sleep(secs(100)).await;
        assert!(!expiry.is_finished(), "not while a request is in flight");
        drop(request);
        let (why, when) = expiry.await.unwrap();
        assert_eq!(why, Expired::KeepAlive);
        assert_eq!(when, opened + secs(130));
    }
}
