//! Request bodies that must keep a minimum pace, and that are read ahead
//! (up to a small size) while the request waits to be handed to a
//! component, so that a client trickling its body mostly holds a
//! connection, not an instance.
//!
//! The pace follows Apache's `mod_reqtimeout` (`body=20,MinRate=500`): a
//! grace period, then at least `bytes_per_second` on average since the
//! request's start.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// How much of a body is read before the request is dispatched. This app's
/// bodies are small JSON documents; a larger body streams on from there,
/// still under the pace check.
pub const PREBUFFER_LIMIT: usize = 64 * 1024;

/// The slowest pace a request body may keep.
#[derive(Clone, Copy, Debug)]
pub struct MinRate {
    pub grace: Duration,
    /// 0: no minimum.
    pub bytes_per_second: u64,
}

impl MinRate {
    /// How long after the request's start a body may still have delivered
    /// only `received` bytes: the grace period plus the time those bytes
    /// take at the minimum rate. `None` when there is no minimum.
    pub fn allowed(&self, received: u64) -> Option<Duration> {
        if self.bytes_per_second == 0 {
            return None;
        }
        let nanos = u128::from(received) * 1_000_000_000 / u128::from(self.bytes_per_second);
        let at_rate = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        Some(self.grace.saturating_add(at_rate))
    }
}

/// Set when a body was cut off for being too slow, so that the host can
/// answer 408 whoever was reading it.
#[derive(Clone, Debug, Default)]
pub struct TooSlow(Arc<AtomicBool>);

impl TooSlow {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A body that fails with `ConnectionReadTimeout` once it falls behind its
/// [`MinRate`].
pub struct MinRateBody<B> {
    inner: B,
    rate: MinRate,
    started: Instant,
    received: u64,
    timer: Option<Pin<Box<Sleep>>>,
    too_slow: TooSlow,
}

impl<B> MinRateBody<B> {
    /// `started`: when the request's head arrived.
    pub fn new(inner: B, rate: MinRate, started: Instant) -> Self {
        MinRateBody {
            inner,
            rate,
            started,
            received: 0,
            timer: None,
            too_slow: TooSlow::default(),
        }
    }

    pub fn too_slow(&self) -> TooSlow {
        self.too_slow.clone()
    }

    /// With nothing to read right now: fails if the body is already behind,
    /// else wakes up when it would be.
    fn poll_pace(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(allowed) = self.rate.allowed(self.received) else {
            return Poll::Pending;
        };
        let deadline = self.started + allowed;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        timer.as_mut().poll(cx)
    }
}

impl<B> Body for MinRateBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.too_slow.is_set() {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.poll_pace(cx) {
                Poll::Ready(()) => {
                    this.too_slow.set();
                    Poll::Ready(Some(Err(wasmtime_wasi_http::Error::ConnectionReadTimeout)))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A body whose first frames were read ahead; the rest, if any, follows.
pub struct Prebuffered<B> {
    frames: VecDeque<Frame<Bytes>>,
    /// Data bytes in `frames`.
    buffered: usize,
    rest: Option<B>,
}

impl<B> Prebuffered<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    /// Nothing read yet.
    pub fn new(body: B) -> Self {
        let rest = (!body.is_end_stream()).then_some(body);
        Prebuffered {
            frames: VecDeque::new(),
            buffered: 0,
            rest,
        }
    }

    /// Reads on until the body has ended or `limit` bytes are in. May be
    /// cancelled (dropped) and called again: no frame read is lost.
    pub async fn fill(&mut self, limit: usize) -> Result<(), B::Error> {
        while self.buffered < limit {
            let Some(rest) = self.rest.as_mut() else {
                return Ok(());
            };
            let Some(frame) = rest.frame().await else {
                self.rest = None;
                return Ok(());
            };
            let frame = frame?;
            self.buffered += frame.data_ref().map_or(0, Bytes::len);
            self.frames.push_back(frame);
            if self.rest.as_ref().is_some_and(Body::is_end_stream) {
                self.rest = None;
            }
        }
        Ok(())
    }

    /// Whether all of the body has been read ahead.
    pub fn is_whole(&self) -> bool {
        self.rest.is_none()
    }
}

impl<B> Body for Prebuffered<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        if let Some(frame) = this.frames.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        match this.rest.as_mut() {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_empty() && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let buffered: u64 = self
            .frames
            .iter()
            .filter_map(|frame| frame.data_ref())
            .map(|data| data.len() as u64)
            .sum();
        let rest = self
            .rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint);
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + buffered);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + buffered);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use http_body_util::{Full, StreamBody};
    use std::convert::Infallible;

    const RATE: MinRate = MinRate {
        grace: Duration::from_secs(10),
        bytes_per_second: 1024,
    };

    #[test]
    fn the_allowance_is_the_grace_period_plus_the_bytes_at_the_rate() {
        assert_eq!(RATE.allowed(0), Some(Duration::from_secs(10)));
        assert_eq!(RATE.allowed(512), Some(Duration::from_millis(10_500)));
        assert_eq!(RATE.allowed(10 * 1024), Some(Duration::from_secs(20)));
        let off = MinRate {
            bytes_per_second: 0,
            ..RATE
        };
        assert_eq!(off.allowed(0), None);
        assert!(RATE.allowed(u64::MAX).is_some(), "no overflow");
    }

    /// A body that sends `chunks`, one `every` apart, and stays open.
    fn trickle(
        chunks: usize,
        every: Duration,
    ) -> StreamBody<impl futures::Stream<Item = Result<Frame<Bytes>, Infallible>> + Unpin> {
        let stream = futures::stream::unfold(0, move |sent| async move {
            tokio::time::sleep(every).await;
            if sent == chunks {
                std::future::pending::<()>().await;
            }
            Some((Ok(Frame::data(Bytes::from_static(b"x"))), sent + 1))
        });
        StreamBody::new(Box::pin(stream))
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_one_byte_every_five_seconds_is_cut_after_the_grace_period() {
        let started = Instant::now();
        let body = MinRateBody::new(trickle(usize::MAX, Duration::from_secs(5)), RATE, started);
        let too_slow = body.too_slow();
        let error = body.collect().await.expect_err("the body is cut off");
        assert!(
            matches!(error, wasmtime_wasi_http::Error::ConnectionReadTimeout),
            "{error}"
        );
        assert!(too_slow.is_set());
        let cut_after = started.elapsed();
        assert!(
            cut_after >= Duration::from_secs(10) && cut_after < Duration::from_secs(11),
            "{cut_after:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_cut_after_the_grace_period() {
        let started = Instant::now();
        let body = MinRateBody::new(trickle(0, Duration::ZERO), RATE, started);
        assert!(body.collect().await.is_err());
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_at_the_pace_is_read_whole() {
        // 8 KiB per second for 30 seconds, ending: well above the minimum.
        let chunk = Bytes::from(vec![b'x'; 8 * 1024]);
        let stream = futures::stream::iter(0..30).then(move |_| {
            let chunk = chunk.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, Infallible>(Frame::data(chunk))
            }
        });
        let body = MinRateBody::new(StreamBody::new(Box::pin(stream)), RATE, Instant::now());
        let too_slow = body.too_slow();
        let bytes = body.collect().await.expect("read whole").to_bytes();
        assert_eq!(bytes.len(), 30 * 8 * 1024);
        assert!(!too_slow.is_set());
    }

    #[tokio::test]
    async fn prebuffering_reads_a_small_body_whole() {
        let mut body = Prebuffered::new(Full::new(Bytes::from_static(b"{\"id\":1}")));
        body.fill(1024).await.unwrap();
        assert!(body.is_whole());
        assert_eq!(body.size_hint().exact(), Some(8));
        assert_eq!(body.collect().await.unwrap().to_bytes(), &b"{\"id\":1}"[..]);
    }

    #[tokio::test]
    async fn prebuffering_stops_at_the_limit_and_the_rest_follows() {
        let chunks = (0..10).map(|i| Ok::<_, Infallible>(Frame::data(Bytes::from(vec![i; 100]))));
        let mut body = Prebuffered::new(StreamBody::new(futures::stream::iter(chunks)));
        body.fill(250).await.unwrap();
        assert_eq!(body.frames.len(), 3, "read until 250 bytes were in");
        assert!(!body.is_whole());
        let all = body.collect().await.unwrap().to_bytes();
        assert_eq!(all.len(), 1000);
        assert!(
            all.chunks(100)
                .enumerate()
                .all(|(i, c)| c == vec![i as u8; 100])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn prebuffering_given_up_on_and_resumed_loses_nothing() {
        // Six bytes a second apart, then nothing more (the body stays open).
        let mut body = Prebuffered::new(trickle(6, Duration::from_secs(1)));
        let first = tokio::time::timeout(Duration::from_millis(3_500), body.fill(1024)).await;
        assert!(first.is_err(), "still arriving");
        assert_eq!(body.buffered, 3);
        let second = tokio::time::timeout(Duration::from_secs(5), body.fill(1024)).await;
        assert!(second.is_err(), "still open");
        assert_eq!(body.buffered, 6, "no byte lost or read twice");
        assert_eq!(body.frames.len(), 6);
        assert!(!body.is_whole());
    }
}
