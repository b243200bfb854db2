//! Limits on component instances: the pooling allocator sized from the
//! request cap (so that the cap, not the pool, is what a flood runs into),
//! memory and table limits per store, the request deadline enforced with
//! epoch interruption, and idle instances given back when the pool fills.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use wasmtime::{Engine, PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi_http::handler::{WorkerExpiration, WorkerStatus};

use super::Limits;

/// How often the engine's epoch advances; a guest running wasm yields to
/// the host this often, which is when a stuck one can be stopped (the
/// period `wasmtime serve` uses with a timeout; each yield costs a trip
/// through the executor, so not much oftener).
pub const EPOCH_TICK: Duration = Duration::from_millis(50);

/// Core instances in one component instance: this app's components have
/// three (the program, the WASI adapter and a shim); room for one more.
const CORE_INSTANCES_PER_COMPONENT: u32 = 4;

/// How long a failed instantiation keeps the health route at 503.
const FAILURE_REMEMBERED: Duration = Duration::from_secs(10);

/// After the request deadline, how long an instance stuck in the guest (an
/// endless loop blocks its event loop, so the per-request expiry cannot
/// fire) may run before it is dropped with everything in it.
const STUCK_INSTANCE_GRACE: Duration = Duration::from_millis(500);

/// The pooling allocator's capacity: two instances per request in flight,
/// one serving and one idle or being torn down, so the request cap binds
/// long before the pool does.
pub fn pooling_config(limits: &Limits) -> PoolingAllocationConfig {
    let instances = u32::try_from(2 * limits.max_concurrent_requests).unwrap_or(u32::MAX);
    let mut config = PoolingAllocationConfig::default();
    config
        .total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
        .total_stacks(instances.saturating_mul(2))
        .max_memory_size(limits.max_instance_memory)
        .table_elements(limits.max_instance_table_elements);
    config
}

/// Advances the engine's epoch every [`EPOCH_TICK`] for as long as the
/// engine lives.
pub fn start_epoch_ticker(engine: &Engine) {
    let engine = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(
            "cannot start the epoch ticker, request deadlines will not stop guests: {e}"
        );
    }
}

/// What every instance's store is given: its limits, and a guest that runs
/// wasm yields to the host at every epoch tick, so that its deadline can be
/// enforced even in an endless loop.
pub fn configure_store<T>(store: &mut Store<T>, limits: fn(&mut T) -> &mut StoreLimits) {
    store.limiter(move |data| limits(data) as &mut dyn wasmtime::ResourceLimiter);
    store.epoch_deadline_async_yield_and_update(1);
    store.set_epoch_deadline(1);
}

/// The per-instance settings the runtime applies.
#[derive(Clone)]
pub struct InstanceLimits {
    pub request_timeout: Duration,
    idle_timeout: Duration,
    pub max_concurrent: usize,
    memory: usize,
    table_elements: usize,
    pub pool: Arc<InstancePool>,
}

impl InstanceLimits {
    pub fn new(limits: &Limits, pool: Arc<InstancePool>) -> Self {
        InstanceLimits {
            request_timeout: limits.request_timeout,
            idle_timeout: limits.idle_instance_timeout,
            max_concurrent: limits.max_instance_concurrent_reuse_count,
            memory: limits.max_instance_memory,
            table_elements: limits.max_instance_table_elements,
            pool,
        }
    }

    pub fn store_limits(&self) -> StoreLimits {
        StoreLimitsBuilder::new()
            .memory_size(self.memory)
            .table_elements(self.table_elements)
            .build()
    }

    pub fn expiry(&self) -> InstanceExpiry {
        InstanceExpiry::new(self)
    }
}

/// The live instances, shared by every component.
pub struct InstancePool {
    live: AtomicUsize,
    /// Above this many live instances, idle ones are dropped at once
    /// instead of being kept for reuse.
    shed_above: usize,
    shed: Notify,
    last_failure: Mutex<Option<(Instant, String)>>,
}

impl InstancePool {
    pub fn new(limits: &Limits) -> Self {
        InstancePool {
            live: AtomicUsize::new(0),
            shed_above: limits.max_concurrent_requests,
            shed: Notify::new(),
            last_failure: Mutex::new(None),
        }
    }

    /// Counts an instance as live until the returned slot is dropped; when
    /// that makes the pool crowded, idle instances are told to go.
    pub fn slot(self: &Arc<Self>) -> InstanceSlot {
        let live = self.live.fetch_add(1, Ordering::Relaxed) + 1;
        if live > self.shed_above {
            self.shed.notify_waiters();
        }
        InstanceSlot(self.clone())
    }

    fn crowded(&self) -> bool {
        self.live.load(Ordering::Relaxed) > self.shed_above
    }

    /// Records the outcome of an instantiation, for the health route.
    pub fn instantiated<T>(&self, outcome: &wasmtime::Result<T>) {
        let mut last_failure = self.last_failure.lock().unwrap_or_else(|e| e.into_inner());
        *last_failure = match outcome {
            Ok(_) => None,
            Err(e) => Some((Instant::now(), format!("{e:#}"))),
        };
    }

    /// The error of the last instantiation, if it failed recently.
    pub fn failing(&self) -> Option<String> {
        let last_failure = self.last_failure.lock().unwrap_or_else(|e| e.into_inner());
        last_failure
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FAILURE_REMEMBERED)
            .map(|(_, error)| error.clone())
    }
}

/// One live instance; dropped with the instance.
pub struct InstanceSlot(Arc<InstancePool>);

impl Drop for InstanceSlot {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Relaxed);
    }
}

type Signal = Pin<Box<dyn Future<Output = ()> + Send + Sync>>;

/// When an instance ends: idle for the idle timeout (at once when the pool
/// is crowded), or busy past the request deadline (a stuck guest).
pub struct InstanceExpiry {
    idle_timeout: Duration,
    busy_timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    pool: Arc<InstancePool>,
    shed: Signal,
}

fn shed_signal(pool: Arc<InstancePool>) -> Signal {
    Box::pin(async move { pool.shed.notified().await })
}

impl InstanceExpiry {
    fn new(limits: &InstanceLimits) -> Self {
        InstanceExpiry {
            idle_timeout: limits.idle_timeout,
            busy_timeout: limits.request_timeout + STUCK_INSTANCE_GRACE,
            sleep: Box::pin(tokio::time::sleep(limits.idle_timeout)),
            pool: limits.pool.clone(),
            shed: shed_signal(limits.pool.clone()),
        }
    }

    /// An idle instance goes when the pool is crowded; until then it is
    /// woken if that happens.
    fn poll_shed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.pool.crowded() {
            return Poll::Ready(());
        }
        while self.shed.as_mut().poll(cx).is_ready() {
            self.shed = shed_signal(self.pool.clone());
            if self.pool.crowded() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

impl WorkerExpiration for InstanceExpiry {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        since: Instant,
    ) -> Poll<()> {
        let this = self.get_mut();
        let timeout = match status {
            WorkerStatus::Idle => {
                if this.poll_shed(cx).is_ready() {
                    return Poll::Ready(());
                }
                this.idle_timeout
            }
            WorkerStatus::Requests | WorkerStatus::PostReturn => this.busy_timeout,
        };
        let Some(deadline) = since.checked_add(timeout) else {
            return Poll::Pending;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if this.sleep.deadline() != deadline {
            this.sleep.as_mut().reset(deadline);
        }
        this.sleep.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::tests::defaults;

    #[test]
    fn the_pool_holds_two_instances_per_request_in_flight() {
        let limits = Limits {
            max_concurrent_requests: 100,
            ..defaults()
        };
        let config = format!("{:?}", pooling_config(&limits));
        for expected in [
            "total_component_instances: 200",
            "total_core_instances: 800",
            "total_memories: 400",
            "total_stacks: 400",
        ] {
            assert!(config.contains(expected), "{expected} in {config}");
        }
    }

    #[test]
    fn a_crowded_pool_sheds_idle_instances() {
        let limits = Limits {
            max_concurrent_requests: 2,
            ..defaults()
        };
        let pool = Arc::new(InstancePool::new(&limits));
        let slots: Vec<_> = (0..2).map(|_| pool.slot()).collect();
        assert!(!pool.crowded());
        let third = pool.slot();
        assert!(pool.crowded());
        drop(third);
        drop(slots);
        assert!(!pool.crowded());
    }

    #[test]
    fn a_failed_instantiation_is_reported_until_one_succeeds() {
        let pool = InstancePool::new(&defaults());
        assert_eq!(pool.failing(), None);
        pool.instantiated::<()>(&Err(wasmtime::format_err!("pool exhausted")));
        assert_eq!(pool.failing().as_deref(), Some("pool exhausted"));
        pool.instantiated(&Ok(()));
        assert_eq!(pool.failing(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_instance_is_woken_and_expires_when_the_pool_fills() {
        let limits = Limits {
            max_concurrent_requests: 1,
            idle_instance_timeout: Duration::from_secs(3600),
            ..defaults()
        };
        let pool = Arc::new(InstancePool::new(&limits));
        let _idle = pool.slot();
        let mut expiry = Box::pin(InstanceLimits::new(&limits, pool.clone()).expiry());
        let since = Instant::now();
        let expired = tokio::spawn(async move {
            std::future::poll_fn(|cx| expiry.as_mut().poll(cx, WorkerStatus::Idle, since)).await
        });
        tokio::task::yield_now().await;
        assert!(!expired.is_finished());
        let _new = pool.slot();
        tokio::time::timeout(Duration::from_secs(1), expired)
            .await
            .expect("the idle instance expires at once")
            .unwrap();
    }
}
