//! Turns a manifest, a state directory and the environment into a runnable
//! application: resolved variables, opened stores, compiled components and
//! the router. Everything that can be wrong is reported here, before the
//! host listens.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail, ensure};

use crate::limits::Limits;
use crate::limits::instances::{InstanceLimits, InstancePool};
use crate::manifest::{self, Manifest, Route, StaticResponse};
use crate::outbound::client::HttpClient;
use crate::outbound::{AllowedHosts, AppAddress};
use crate::router::{Router, Target};
use crate::runtime::{self, ComponentInstances, Handler, Isolation};
use crate::runtime_config::{KeyValueStore, RuntimeConfig};
use crate::spin::key_value::{KvBackend, RedisKv, SqliteKv};
use crate::spin::sqlite::SqlDatabase;
use crate::spin::{Backends, ComponentGrants};
use wasmtime_wasi_http::handler::ProxyPre;

/// Start-up settings, from the command line.
pub struct Settings {
    pub manifest: PathBuf,
    pub state_dir: Option<PathBuf>,
    /// Compiled-component cache (default: `cache` in the state directory).
    pub cache_dir: Option<PathBuf>,
    pub runtime_config: Option<PathBuf>,
    /// `--sqlite` statements: `SQL`, `@file.sql`, optionally `:label` after a file.
    pub sqlite_statements: Vec<String>,
    /// `--key-value key=value`: pairs set in the default store before serving.
    pub key_values: Vec<(String, String)>,
    /// `--variable name=value` values, which win over the environment.
    pub variables: Vec<(String, String)>,
    /// `--env KEY=VALUE` for every component.
    pub environment: Vec<(String, String)>,
    /// `--max-instance-reuse-count`: requests per WASIp3 instance.
    pub max_instance_reuse_count: usize,
    /// `--component-id`: serve only these components and their routes
    /// (empty: every component).
    pub component_ids: Vec<String>,
    pub limits: Limits,
}

pub struct App {
    pub name: String,
    pub router: Router,
    pub components: Vec<Handler>,
    pub statics: Vec<StaticResponse>,
    /// Where the host listens, once it does (for `http://self.alt`).
    pub app_address: Arc<AppAddress>,
    /// The live instances of every component.
    pub instances: Arc<InstancePool>,
}

/// Where the application's files are.
struct Paths {
    app_dir: PathBuf,
    state_dir: PathBuf,
    cache_dir: PathBuf,
}

impl App {
    pub fn load(settings: &Settings) -> Result<App> {
        let manifest = Manifest::load(&settings.manifest)?;
        let paths = Paths::prepare(settings)?;
        let served = ServedComponents::select(&manifest, &settings.component_ids)?;
        let values = resolve_variables(&manifest, &settings.variables)?;
        let runtime_config = RuntimeConfig::load(settings.runtime_config.as_deref())?;
        let seeds_default_store = !settings.key_values.is_empty();
        let backends = open_backends(
            &manifest,
            &served,
            &runtime_config,
            &paths.state_dir,
            seeds_default_store,
        )?;
        run_sqlite_statements(&backends, &settings.sqlite_statements)?;
        seed_default_store(&backends, &settings.key_values)?;

        let app_address = Arc::new(AppAddress::default());
        let loaded = load_components(
            &manifest,
            &served,
            &values,
            &paths,
            &Arc::new(backends),
            &app_address,
            settings,
        )?;
        let (router, statics) = route(&manifest, &served, &loaded.index_of)?;
        Ok(App {
            name: manifest.application.name.clone(),
            router,
            components: loaded.handlers,
            statics,
            app_address,
            instances: loaded.pool,
        })
    }

    pub fn component_id(&self, index: usize) -> &str {
        &self.components[index].state().id
    }
}

impl Paths {
    /// The manifest's directory, and the state directory (created) and
    /// compiled-component cache, by default `.spin` and `.spin/cache` beside it.
    fn prepare(settings: &Settings) -> Result<Paths> {
        let app_dir = settings
            .manifest
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let state_dir = settings
            .state_dir
            .clone()
            .unwrap_or_else(|| app_dir.join(".spin"));
        std::fs::create_dir_all(&state_dir)
            .with_context(|| format!("cannot create state directory {}", state_dir.display()))?;
        let cache_dir = settings
            .cache_dir
            .clone()
            .unwrap_or_else(|| state_dir.join("cache"));
        Ok(Paths {
            app_dir,
            state_dir,
            cache_dir,
        })
    }
}

/// The components this host serves: all of them, or, with `--component-id`,
/// those named that an HTTP trigger routes to (as in `spin up`: their routes
/// are served and nothing else, static responses included).
struct ServedComponents(Option<BTreeSet<String>>);

impl ServedComponents {
    fn select(manifest: &Manifest, component_ids: &[String]) -> Result<ServedComponents> {
        if component_ids.is_empty() {
            return Ok(ServedComponents(None));
        }
        for id in component_ids {
            ensure!(
                manifest.component.contains_key(id),
                "--component-id {id}: the manifest has no component '{id}'"
            );
        }
        let routed: BTreeSet<String> = manifest
            .trigger
            .http
            .iter()
            .filter_map(|trigger| trigger.component.clone())
            .filter(|id| component_ids.contains(id))
            .collect();
        ensure!(
            !routed.is_empty(),
            "--component-id: no HTTP trigger routes to {}",
            component_ids.join(", ")
        );
        Ok(ServedComponents(Some(routed)))
    }

    fn serves(&self, id: &str) -> bool {
        self.0.as_ref().is_none_or(|ids| ids.contains(id))
    }

    /// The served components of the manifest, in its order.
    fn of<'m>(
        &self,
        manifest: &'m Manifest,
    ) -> impl Iterator<Item = (&'m String, &'m manifest::Component)> {
        manifest.component.iter().filter(|(id, _)| self.serves(id))
    }
}

/// The served components, instantiable, where each is in `handlers`, and
/// the pool their instances share.
struct LoadedComponents {
    handlers: Vec<Handler>,
    index_of: BTreeMap<String, usize>,
    pool: Arc<InstancePool>,
}

fn load_components(
    manifest: &Manifest,
    served: &ServedComponents,
    values: &BTreeMap<String, String>,
    paths: &Paths,
    backends: &Arc<Backends>,
    app_address: &Arc<AppAddress>,
    settings: &Settings,
) -> Result<LoadedComponents> {
    let engine = runtime::engine(&settings.limits)?;
    let linker = runtime::linker(&engine)?;
    let http_client = Arc::new(HttpClient::new());
    let pool = Arc::new(InstancePool::new(&settings.limits));
    let instance_limits = InstanceLimits::new(&settings.limits, pool.clone());
    let mut loaded = LoadedComponents {
        handlers: vec![],
        index_of: BTreeMap::new(),
        pool,
    };
    for (id, component) in served.of(manifest) {
        let grants = Arc::new(grants(id, component, values)?);
        let pre = compile(&engine, &linker, id, component, paths)
            .with_context(|| format!("component '{id}'"))?;
        let isolation = Isolation {
            environment: component
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain(settings.environment.iter().cloned())
                .collect(),
            files: component
                .file_mounts(&paths.app_dir)
                .with_context(|| format!("component '{id}'"))?,
            app_address: app_address.clone(),
            http_client: http_client.clone(),
        };
        let instances = ComponentInstances::new(
            engine.clone(),
            pre,
            grants,
            backends.clone(),
            isolation,
            settings.max_instance_reuse_count,
            instance_limits.clone(),
        );
        loaded.index_of.insert(id.clone(), loaded.handlers.len());
        loaded.handlers.push(Handler::new(instances));
    }
    Ok(loaded)
}

/// Compiles (or takes from the cache) and pre-instantiates a component.
fn compile(
    engine: &wasmtime::Engine,
    linker: &wasmtime::component::Linker<runtime::StoreData>,
    id: &str,
    component: &manifest::Component,
    paths: &Paths,
) -> Result<ProxyPre<runtime::StoreData>> {
    let path = component.source_path(&paths.app_dir);
    if !path.exists() {
        bail!(
            "source {} does not exist (build the app first: `cargo xtask build` or `spin build`)",
            path.display()
        );
    }
    let compiled = runtime::load_component(engine, &path, Some(&paths.cache_dir))?;
    tracing::debug!(component = id, "compiled {}", path.display());
    runtime::proxy_pre(linker, &compiled)
}

/// The router over the served components' routes and, when every component
/// is served, the static responses.
fn route(
    manifest: &Manifest,
    served: &ServedComponents,
    index_of: &BTreeMap<String, usize>,
) -> Result<(Router, Vec<StaticResponse>)> {
    let mut statics = vec![];
    let mut routes = vec![];
    for trigger in &manifest.trigger.http {
        let Route::Path(route) = &trigger.route else {
            continue; // private: reachable only through service chaining
        };
        let target = match (&trigger.component, &trigger.static_response) {
            (Some(id), _) if served.serves(id) => Target::Component(index_of[id]),
            (Some(_), _) => continue,
            (None, Some(response)) if served.0.is_none() => {
                statics.push(response.clone());
                Target::Static(statics.len() - 1)
            }
            (None, Some(_)) => continue,
            (None, None) => unreachable!("rejected by manifest validation"),
        };
        routes.push((route.as_str(), target));
    }
    Ok((Router::build(routes)?, statics))
}

/// Application variable values: `--variable`, then `SPIN_VARIABLE_<NAME>`,
/// then the manifest default. Required variables without a value are all
/// named in one error.
fn resolve_variables(
    manifest: &Manifest,
    overrides: &[(String, String)],
) -> Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    let mut missing = vec![];
    for (name, variable) in &manifest.variables {
        let env_name = format!("SPIN_VARIABLE_{}", name.to_uppercase());
        let value = overrides
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(&env_name).ok())
            .or_else(|| variable.default.clone());
        match value {
            Some(value) => {
                values.insert(name.clone(), value);
            }
            None => missing.push(format!("{name} (set {env_name})")),
        }
    }
    if !missing.is_empty() {
        bail!("required variables have no value: {}", missing.join(", "));
    }
    for (name, _) in overrides {
        if !manifest.variables.contains_key(name) {
            bail!("--variable {name}: the manifest declares no such variable");
        }
    }
    Ok(values)
}

fn grants(
    id: &str,
    component: &manifest::Component,
    values: &BTreeMap<String, String>,
) -> Result<ComponentGrants> {
    let mut variables = BTreeMap::new();
    for (name, template) in &component.variables {
        let value = manifest::expand_template(template, |reference| values.get(reference).cloned())
            .with_context(|| format!("component '{id}' variable '{name}'"))?;
        variables.insert(name.clone(), value);
    }
    let allowed_outbound_hosts = AllowedHosts::resolve(
        &component.allowed_outbound_hosts,
        &component.allowed_http_hosts,
        |reference| values.get(reference).cloned(),
    )
    .with_context(|| format!("component '{id}'"))?;
    Ok(ComponentGrants {
        component_id: id.to_string(),
        key_value_stores: component.key_value_stores.iter().cloned().collect(),
        sqlite_databases: component.sqlite_databases.iter().cloned().collect(),
        variables,
        allowed_outbound_hosts: Arc::new(allowed_outbound_hosts),
    })
}

/// Opens every store and database a served component names (and the
/// default key-value store when `--key-value` seeds it). Labels other than
/// "default" must be configured in the runtime config, as in Spin.
fn open_backends(
    manifest: &Manifest,
    served: &ServedComponents,
    config: &RuntimeConfig,
    state_dir: &Path,
    open_default_store: bool,
) -> Result<Backends> {
    let mut backends = Backends::default();
    if open_default_store {
        let store = open_key_value_store(config, "default", state_dir)
            .context("--key-value: the default key-value store")?;
        backends.key_value.insert("default".into(), store);
    }
    for (id, component) in served.of(manifest) {
        for label in &component.key_value_stores {
            if backends.key_value.contains_key(label) {
                continue;
            }
            let store = open_key_value_store(config, label, state_dir)
                .with_context(|| format!("component '{id}' uses key-value store '{label}'"))?;
            backends.key_value.insert(label.clone(), store);
        }
        for label in &component.sqlite_databases {
            if backends.sqlite.contains_key(label) {
                continue;
            }
            let path = config
                .sqlite_path(label, state_dir)
                .with_context(|| format!("component '{id}' uses SQLite database '{label}'"))?;
            backends
                .sqlite
                .insert(label.clone(), SqlDatabase::open(&path)?);
        }
    }
    Ok(backends)
}

fn open_key_value_store(
    config: &RuntimeConfig,
    label: &str,
    state_dir: &Path,
) -> Result<Arc<KvBackend>> {
    let backend = match config.key_value_store(label, state_dir)? {
        KeyValueStore::Sqlite(path) => KvBackend::Sqlite(SqliteKv::open(&path)?),
        KeyValueStore::Redis { url } => KvBackend::Redis(Box::new(RedisKv::new(&url)?)),
    };
    Ok(Arc::new(backend))
}

/// `--key-value key=value`: sets each pair in the default store, as
/// `spin up` does, before the first request.
fn seed_default_store(backends: &Backends, pairs: &[(String, String)]) -> Result<()> {
    let Some(store) = backends.key_value.get("default") else {
        return Ok(());
    };
    let seeding = async {
        for (key, value) in pairs {
            store
                .set("default", key, value.as_bytes())
                .await
                .map_err(|e| anyhow::anyhow!("--key-value {key}: {e:?}"))?;
        }
        anyhow::Ok(())
    };
    tokio::runtime::Handle::current().block_on(seeding)
}

/// `--sqlite "SQL"`, `--sqlite @file.sql` and `--sqlite @file.sql:label`.
fn run_sqlite_statements(backends: &Backends, statements: &[String]) -> Result<()> {
    for statement in statements {
        let (sql, label) = match statement.strip_prefix('@') {
            Some(file) => {
                let (path, label) = match file.rsplit_once(':') {
                    Some((path, label)) if !label.contains('/') => (path, label),
                    _ => (file, "default"),
                };
                let sql = std::fs::read_to_string(path)
                    .with_context(|| format!("--sqlite: cannot read {path}"))?;
                (sql, label)
            }
            None => (statement.clone(), "default"),
        };
        let database = backends.sqlite.get(label).with_context(|| {
            format!("--sqlite: no component uses a SQLite database labelled '{label}'")
        })?;
        database
            .execute_batch(&sql)
            .with_context(|| format!("--sqlite: statements for database '{label}' failed"))?;
    }
    Ok(())
}
