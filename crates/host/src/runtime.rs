//! The wasmtime side: one engine, and for each component a pre-instantiated
//! `ProxyPre` behind a `ProxyHandler` that hands requests to instances.
//!
//! As in Spin, WASIp2 components get a fresh instance per request; WASIp3
//! components (spin-sdk 7) are reused for up to 128 requests and dropped
//! after a second idle; an instance takes up to 16 requests at a time
//! (`--max-instance-concurrent-reuse-count`, as in Spin).
//! A trap ends its instance, and so fails the requests that instance was
//! serving at that moment. The limits (deadline, memory, pool) are in
//! `crate::limits::instances`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use wasmtime::component::{Component, GuestTaskId, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Store, StoreContextMut, StoreLimits};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyHandler, ProxyPre, ShouldAccept, WorkerState,
};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::limits::Limits;
use crate::limits::instances::{self, InstanceExpiry, InstanceLimits, InstanceSlot};
use crate::outbound::client::HttpClient;
use crate::outbound::http::OutboundHttp;
use crate::outbound::{self, AppAddress};
use crate::spin::{self, Backends, ComponentGrants, SpinCtx, SpinStoreData, SpinView};

/// Instance reuse limits, Spin's defaults.
#[derive(Clone, Copy, Debug)]
pub struct ReusePolicy {
    pub max_requests: usize,
    pub max_concurrent: usize,
}

impl ReusePolicy {
    pub const WASIP3: ReusePolicy = ReusePolicy {
        max_requests: 128,
        max_concurrent: 16,
    };
    pub const WASIP2: ReusePolicy = ReusePolicy {
        max_requests: 1,
        max_concurrent: 1,
    };
}

/// Everything one instance's `Store` holds.
pub struct StoreData {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: OutboundHttp,
    table: ResourceTable,
    spin: SpinCtx,
    limits: StoreLimits,
}

impl WasiView for StoreData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for StoreData {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        http_view(self)
    }
}

fn http_view(data: &mut StoreData) -> WasiHttpCtxView<'_> {
    WasiHttpCtxView {
        ctx: &mut data.http,
        table: &mut data.table,
        hooks: &mut data.outbound,
    }
}

impl SpinStoreData for StoreData {
    fn spin(&mut self) -> SpinView<'_> {
        SpinView {
            ctx: &self.spin,
            table: &mut self.table,
        }
    }
}

/// Builds the engine: component model with async, epoch interruption (for
/// request deadlines), pooling allocator sized from the limits when the
/// machine allows it.
pub fn engine(limits: &Limits) -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(true);
    config.epoch_interruption(true);
    let mut pooled = config.clone();
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(
        instances::pooling_config(limits),
    ));
    let engine = match Engine::new(&pooled) {
        Ok(engine) => engine,
        Err(e) => {
            tracing::warn!("pooling allocator unavailable ({e}); using on-demand allocation");
            Engine::new(&config).map_err(anyhow::Error::from)?
        }
    };
    instances::start_epoch_ticker(&engine);
    Ok(engine)
}

/// Every host interface a Spin component may import.
pub fn linker(engine: &Engine) -> Result<Linker<StoreData>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    spin::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    Ok(linker)
}

/// Compiles a component, reusing a compiled artifact from `cache_dir` when
/// one exists for exactly these bytes and this engine.
pub fn load_component(engine: &Engine, path: &Path, cache_dir: Option<&Path>) -> Result<Component> {
    let wasm = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let Some(cache_dir) = cache_dir else {
        return compile(engine, &wasm, path);
    };
    let cached = cache_dir.join(format!("{}.cwasm", cache_key(engine, &wasm)));
    if cached.exists() {
        // SAFETY: the file was produced by `Component::serialize` of this
        // host for this engine configuration (its hash is in the name) and
        // lives in the host's own cache directory.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &cached) } {
            return Ok(component);
        }
    }
    let component = compile(engine, &wasm, path)?;
    if let Ok(bytes) = component.serialize() {
        write_atomically(cache_dir, &cached, &bytes);
    }
    Ok(component)
}

fn compile(engine: &Engine, wasm: &[u8], path: &Path) -> Result<Component> {
    Component::new(engine, wasm)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{} is not a valid wasm component", path.display()))
}

fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    wasm.hash(&mut hasher);
    format!("{:016x}-{}", hasher.finish(), wasm.len())
}

/// A failed cache write only costs a recompile next time.
fn write_atomically(dir: &Path, target: &Path, bytes: &[u8]) {
    let temp = dir.join(format!(".{}.tmp", std::process::id()));
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&temp, bytes))
        .and_then(|()| std::fs::rename(&temp, target));
    if let Err(e) = written {
        tracing::debug!("cannot cache compiled component: {e}");
        let _ = std::fs::remove_file(&temp);
    }
}

/// Pre-instantiates a component as either a WASIp3 or a WASIp2 HTTP handler.
pub fn proxy_pre(linker: &Linker<StoreData>, component: &Component) -> Result<ProxyPre<StoreData>> {
    let pre = linker
        .instantiate_pre(component)
        .map_err(anyhow::Error::from)
        .context("the component imports something this host does not provide")?;
    if let Ok(p3) = wasmtime_wasi_http::p3::bindings::ServicePre::new(pre.clone()) {
        return Ok(ProxyPre::P3(p3));
    }
    let p2 = wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre)
        .map_err(anyhow::Error::from)
        .context("the component exports neither wasi:http/handler@0.3 nor wasi:http/incoming-handler@0.2")?;
    Ok(ProxyPre::P2(p2))
}

/// Creates instances of one component on demand.
pub struct ComponentInstances {
    pub id: String,
    engine: Engine,
    pre: ProxyPre<StoreData>,
    grants: Arc<ComponentGrants>,
    backends: Arc<Backends>,
    isolation: Isolation,
    reuse: ReusePolicy,
    limits: InstanceLimits,
}

/// What a component sees of the machine: its environment variables,
/// read-only directories (`files` in the manifest), the application's
/// own address (for requests to `http://self.alt`) and its outgoing HTTP
/// connections (shared by the whole application).
pub struct Isolation {
    pub environment: Vec<(String, String)>,
    pub files: Vec<(PathBuf, String)>,
    pub app_address: Arc<AppAddress>,
    pub http_client: Arc<HttpClient>,
}

impl ComponentInstances {
    pub fn new(
        engine: Engine,
        pre: ProxyPre<StoreData>,
        grants: Arc<ComponentGrants>,
        backends: Arc<Backends>,
        isolation: Isolation,
        max_reuse_count: usize,
        limits: InstanceLimits,
    ) -> Self {
        let reuse = match pre {
            ProxyPre::P3(_) => ReusePolicy {
                max_requests: max_reuse_count.max(1),
                max_concurrent: limits.max_concurrent.max(1),
            },
            ProxyPre::P2(_) => ReusePolicy::WASIP2,
        };
        ComponentInstances {
            id: grants.component_id.clone(),
            engine,
            pre,
            grants,
            backends,
            isolation,
            reuse,
            limits,
        }
    }

    fn new_store(&self) -> wasmtime::Result<Store<StoreData>> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.inherit_stdout()
            .inherit_stderr()
            .envs(&self.isolation.environment);
        for (host_path, guest_path) in &self.isolation.files {
            wasi.preopened_dir(host_path, guest_path, wasmtime_wasi::FsPerms::ReadOnly)?;
        }
        outbound::sockets::restrict(&mut wasi, &self.id, &self.grants.allowed_outbound_hosts);
        let data = StoreData {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            outbound: OutboundHttp::new(
                self.id.as_str().into(),
                self.grants.allowed_outbound_hosts.clone(),
                self.isolation.app_address.clone(),
                self.isolation.http_client.clone(),
            ),
            table: ResourceTable::new(),
            spin: SpinCtx {
                grants: self.grants.clone(),
                backends: self.backends.clone(),
            },
            limits: self.limits.store_limits(),
        };
        let mut store = Store::new(&self.engine, data);
        instances::configure_store(&mut store, |data| &mut data.limits);
        Ok(store)
    }
}

impl HandlerState for ComponentInstances {
    type StoreData = StoreData;
    type WorkerExpiration = InstanceExpiry;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<StoreData, InstanceExpiry, Worker>> {
        let slot = self.limits.pool.slot();
        let instance = self.instantiate_in(slot).await;
        self.limits.pool.instantiated(&instance);
        instance
    }
}

impl ComponentInstances {
    async fn instantiate_in(
        &self,
        slot: InstanceSlot,
    ) -> wasmtime::Result<Instance<StoreData, InstanceExpiry, Worker>> {
        let mut store = self.new_store()?;
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            proxy,
            view: http_view,
            expiration: self.limits.expiry(),
            state: Worker {
                component_id: self.id.clone(),
                reuse: self.reuse,
                request_timeout: self.limits.request_timeout,
                _slot: slot,
            },
        })
    }
}

/// Decides how many requests one instance takes.
pub struct Worker {
    component_id: String,
    reuse: ReusePolicy,
    request_timeout: Duration,
    _slot: InstanceSlot,
}

impl WorkerState for Worker {
    type StoreData = StoreData;
    type RequestData = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.reuse.max_requests {
            ShouldAccept::Never
        } else if concurrent >= self.reuse.max_concurrent {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, StoreData>,
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        // The request expires at its deadline if the guest is waiting (on
        // I/O, a timer); a guest stuck in wasm is stopped by InstanceExpiry.
        Box::pin(tokio::time::sleep(self.request_timeout))
    }

    fn drop(&self, _store: Store<StoreData>, result: wasmtime::Result<()>) {
        if let Err(e) = result {
            tracing::debug!(component = %self.component_id, "instance ended: {e:?}");
        }
    }
}

pub type Handler = ProxyHandler<ComponentInstances>;
