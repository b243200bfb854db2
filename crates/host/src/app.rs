//! Turns a manifest, a state directory and the environment into a runnable
//! application: resolved variables, opened stores, compiled components and
//! the router. Everything that can be wrong is reported here, before the
//! host listens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::limits::Limits;
use crate::limits::instances::{InstanceLimits, InstancePool};
use crate::manifest::{self, Manifest, Route, StaticResponse};
use crate::router::{Router, Target};
use crate::runtime::{self, ComponentInstances, Handler, Isolation};
use crate::runtime_config::RuntimeConfig;
use crate::spin::key_value::KvDatabase;
use crate::spin::sqlite::SqlDatabase;
use crate::spin::{Backends, ComponentGrants};

/// Start-up settings, from the command line.
pub struct Settings {
    pub manifest: PathBuf,
    pub state_dir: Option<PathBuf>,
    /// Compiled-component cache (default: `cache` in the state directory).
    pub cache_dir: Option<PathBuf>,
    pub runtime_config: Option<PathBuf>,
    /// `--sqlite` statements: `SQL`, `@file.sql`, optionally `:label` after a file.
    pub sqlite_statements: Vec<String>,
    /// `--variable name=value` values, which win over the environment.
    pub variables: Vec<(String, String)>,
    /// `--env KEY=VALUE` for every component.
    pub environment: Vec<(String, String)>,
    /// `--max-instance-reuse-count`: requests per WASIp3 instance.
    pub max_instance_reuse_count: usize,
    pub limits: Limits,
}

pub struct App {
    pub name: String,
    pub router: Router,
    pub components: Vec<Handler>,
    pub statics: Vec<StaticResponse>,
    /// The live instances of every component.
    pub instances: Arc<InstancePool>,
}

impl App {
    pub fn load(settings: &Settings) -> Result<App> {
        let manifest = Manifest::load(&settings.manifest)?;
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

        let values = resolve_variables(&manifest, &settings.variables)?;
        let runtime_config = RuntimeConfig::load(settings.runtime_config.as_deref())?;
        let backends = Arc::new(open_backends(&manifest, &runtime_config, &state_dir)?);
        run_sqlite_statements(&backends, &settings.sqlite_statements)?;

        let engine = runtime::engine(&settings.limits)?;
        let pool = Arc::new(InstancePool::new(&settings.limits));
        let instance_limits = InstanceLimits::new(&settings.limits, pool.clone());
        let linker = runtime::linker(&engine)?;
        let cache_dir = settings
            .cache_dir
            .clone()
            .unwrap_or_else(|| state_dir.join("cache"));
        let mut components = vec![];
        let mut index_of = BTreeMap::new();
        for (id, component) in &manifest.component {
            let grants = Arc::new(grants(id, component, &values)?);
            if !component.allowed_outbound_hosts.is_empty() {
                tracing::warn!(
                    "component '{id}' declares allowed_outbound_hosts; outgoing requests are not available in this host"
                );
            }
            let path = component.source_path(&app_dir);
            if !path.exists() {
                bail!(
                    "component '{id}': source {} does not exist (build the app first: `cargo xtask build` or `spin build`)",
                    path.display()
                );
            }
            let compiled = runtime::load_component(&engine, &path, Some(&cache_dir))
                .with_context(|| format!("component '{id}'"))?;
            let files = component
                .file_mounts(&app_dir)
                .with_context(|| format!("component '{id}'"))?;
            let pre = runtime::proxy_pre(&linker, &compiled)
                .with_context(|| format!("component '{id}'"))?;
            let environment = component
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain(settings.environment.iter().cloned())
                .collect();
            let instances = ComponentInstances::new(
                engine.clone(),
                pre,
                grants,
                backends.clone(),
                Isolation { environment, files },
                settings.max_instance_reuse_count,
                instance_limits.clone(),
            );
            index_of.insert(id.clone(), components.len());
            components.push(Handler::new(instances));
        }

        let mut statics = vec![];
        let mut routes = vec![];
        for trigger in &manifest.trigger.http {
            let Route::Path(route) = &trigger.route else {
                continue; // private: reachable only through service chaining
            };
            let target = match (&trigger.component, &trigger.static_response) {
                (Some(id), _) => Target::Component(index_of[id]),
                (None, Some(response)) => {
                    statics.push(response.clone());
                    Target::Static(statics.len() - 1)
                }
                (None, None) => unreachable!("rejected by manifest validation"),
            };
            routes.push((route.as_str(), target));
        }
        let router = Router::build(routes)?;
        Ok(App {
            name: manifest.application.name.clone(),
            router,
            components,
            statics,
            instances: pool,
        })
    }

    pub fn component_id(&self, index: usize) -> &str {
        &self.components[index].state().id
    }
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
    Ok(ComponentGrants {
        component_id: id.to_string(),
        key_value_stores: component.key_value_stores.iter().cloned().collect(),
        sqlite_databases: component.sqlite_databases.iter().cloned().collect(),
        variables,
    })
}

/// Opens every store and database a component names. Labels other than
/// "default" must be configured in the runtime config, as in Spin.
fn open_backends(
    manifest: &Manifest,
    config: &RuntimeConfig,
    state_dir: &Path,
) -> Result<Backends> {
    let mut backends = Backends::default();
    for (id, component) in &manifest.component {
        for label in &component.key_value_stores {
            if backends.key_value.contains_key(label) {
                continue;
            }
            let path = config
                .key_value_path(label, state_dir)
                .with_context(|| format!("component '{id}' uses key-value store '{label}'"))?;
            backends
                .key_value
                .insert(label.clone(), KvDatabase::open(&path)?);
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
