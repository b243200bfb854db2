//! The caps on connections and on component requests in flight, and the
//! health they imply. A request over the in-flight cap waits its turn for a
//! short while (`--request-queue-timeout`), then the host answers 503 with
//! `Retry-After` itself, before any instance is involved: a flood is served
//! as fast as the host can, and refused cheaply past that, instead of
//! exhausting the instance pool. At most a quarter of the requests in flight
//! may be ones whose body is still arriving, so that slow bodies never take
//! the slots of requests that are ready.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Limits;
use super::instances::InstancePool;

/// Connections answered 503 at once (beyond the connection cap) before
/// further ones are closed without a word.
const OVERFLOW_CONNECTIONS: usize = 64;

/// The share of the in-flight cap open to requests whose body is still
/// arriving: one in this many.
const STREAMING_SHARE: usize = 4;

pub struct Admission {
    /// Requests whose body is being read ahead (a connection's worth: the
    /// memory they may take is bounded, yet a slow body never keeps a
    /// request on another connection from being read).
    bodies: Arc<Semaphore>,
    requests: Arc<Semaphore>,
    max_requests: usize,
    /// Requests handed to their component before their body has arrived.
    streaming: Arc<Semaphore>,
    queue_timeout: Duration,
    connections: Arc<Semaphore>,
    max_connections: usize,
    overflow: Arc<Semaphore>,
    instances: Arc<InstancePool>,
}

/// What a new connection gets.
pub enum ConnectionSlot {
    /// Served; the permit is released when the connection closes.
    Admitted(OwnedSemaphorePermit),
    /// Over the cap: to be answered 503 and closed.
    Refused(OwnedSemaphorePermit),
    /// Over the cap and the overflow: to be closed at once.
    Dropped,
}

/// A component request in flight; released with its response body.
pub struct InFlight {
    _permit: OwnedSemaphorePermit,
}

impl Admission {
    pub fn new(limits: &Limits, instances: Arc<InstancePool>) -> Self {
        Admission {
            bodies: Arc::new(Semaphore::new(limits.max_concurrent_connections)),
            requests: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            max_requests: limits.max_concurrent_requests,
            streaming: Arc::new(Semaphore::new(
                (limits.max_concurrent_requests / STREAMING_SHARE).max(1),
            )),
            queue_timeout: limits.request_queue_timeout,
            connections: Arc::new(Semaphore::new(limits.max_concurrent_connections)),
            max_connections: limits.max_concurrent_connections,
            overflow: Arc::new(Semaphore::new(OVERFLOW_CONNECTIONS)),
            instances,
        }
    }

    pub fn connection(&self) -> ConnectionSlot {
        if let Ok(permit) = self.connections.clone().try_acquire_owned() {
            ConnectionSlot::Admitted(permit)
        } else if let Ok(permit) = self.overflow.clone().try_acquire_owned() {
            ConnectionSlot::Refused(permit)
        } else {
            ConnectionSlot::Dropped
        }
    }

    /// A slot for reading a request body ahead, or `None` when as many are
    /// being read as there may be connections (HTTP/2 streams can exceed it).
    pub fn body_reader(&self) -> Option<OwnedSemaphorePermit> {
        self.bodies.clone().try_acquire_owned().ok()
    }

    /// A slot for a component request, waiting up to the queue timeout for
    /// one to free up; `None` when none did.
    pub async fn request(&self) -> Option<InFlight> {
        let permit = acquire_within(&self.requests, self.queue_timeout).await?;
        Some(InFlight { _permit: permit })
    }

    /// Leave to hand a request to its component while its body is still
    /// arriving (on top of its in-flight slot), once one is free.
    pub async fn streaming_body(&self) -> OwnedSemaphorePermit {
        self.streaming
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// As [`Admission::streaming_body`], waiting no longer than the queue
    /// timeout.
    pub async fn streaming_body_in_turn(&self) -> Option<OwnedSemaphorePermit> {
        acquire_within(&self.streaming, self.queue_timeout).await
    }

    /// `Err(reason)` when the host cannot take component requests now.
    pub fn health(&self) -> Result<(), String> {
        if self.requests.available_permits() == 0 {
            return Err(format!(
                "{} requests in flight, the limit",
                self.max_requests
            ));
        }
        if self.connections.available_permits() == 0 {
            return Err(format!(
                "{} connections open, the limit",
                self.max_connections
            ));
        }
        if let Some(error) = self.instances.failing() {
            return Err(format!("cannot create instances: {error}"));
        }
        Ok(())
    }
}

async fn acquire_within(
    semaphore: &Arc<Semaphore>,
    timeout: Duration,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = semaphore.clone().try_acquire_owned() {
        return Some(permit);
    }
    let waiting = semaphore.clone().acquire_owned();
    tokio::time::timeout(timeout, waiting).await.ok()?.ok()
}

/// A response body that holds what its request holds (its in-flight slot,
/// its place on the connection) until it has been sent or dropped.
pub struct Holding<B, H> {
    body: B,
    _held: H,
}

impl<B, H> Holding<B, H> {
    pub fn new(body: B, held: H) -> Self {
        Holding { body, _held: held }
    }
}

impl<B, H> Body for Holding<B, H>
where
    B: Body<Data = Bytes> + Unpin,
    H: Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::tests::defaults;

    fn admission(requests: usize, connections: usize) -> Admission {
        let limits = Limits {
            max_concurrent_requests: requests,
            max_concurrent_connections: connections,
            request_queue_timeout: Duration::from_secs(1),
            ..defaults()
        };
        Admission::new(&limits, Arc::new(InstancePool::new(&limits)))
    }

    #[tokio::test(start_paused = true)]
    async fn requests_beyond_the_cap_wait_their_turn_then_are_refused() {
        let admission = Arc::new(admission(2, 10));
        assert_eq!(admission.health(), Ok(()));
        let first = admission.request().await.expect("first");
        let _second = admission.request().await.expect("second");
        assert!(admission.health().unwrap_err().contains("2 requests"));

        let waited = tokio::time::Instant::now();
        assert!(admission.request().await.is_none(), "over the cap");
        assert_eq!(waited.elapsed(), Duration::from_secs(1), "after waiting");

        let third = tokio::spawn({
            let admission = admission.clone();
            async move { admission.request().await.is_some() }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(first);
        assert!(third.await.unwrap(), "a slot freed goes to the one waiting");
    }

    #[tokio::test(start_paused = true)]
    async fn a_quarter_of_the_slots_go_to_requests_whose_body_is_arriving() {
        let admission = admission(8, 10);
        let early = [
            admission.streaming_body().await,
            admission.streaming_body().await,
        ];
        let waited = tokio::time::Instant::now();
        assert!(admission.streaming_body_in_turn().await.is_none());
        assert_eq!(waited.elapsed(), Duration::from_secs(1), "after waiting");
        drop(early);
        assert!(admission.streaming_body_in_turn().await.is_some());
        assert_eq!(waited.elapsed(), Duration::from_secs(1), "at once");
    }

    #[test]
    fn connections_beyond_the_cap_are_refused_then_dropped() {
        let admission = admission(2, 1);
        let ConnectionSlot::Admitted(_first) = admission.connection() else {
            panic!("the first connection is admitted");
        };
        let refused: Vec<_> = (0..OVERFLOW_CONNECTIONS)
            .map(|_| match admission.connection() {
                ConnectionSlot::Refused(permit) => permit,
                _ => panic!("answered 503"),
            })
            .collect();
        assert!(matches!(admission.connection(), ConnectionSlot::Dropped));
        assert!(admission.health().unwrap_err().contains("1 connections"));
        drop(refused);
        assert!(matches!(admission.connection(), ConnectionSlot::Refused(_)));
    }
}
