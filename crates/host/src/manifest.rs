//! The Spin application manifest, version 2 (`spin.toml`), as far as an HTTP
//! application uses it. Unknown keys are errors, as they are in Spin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

// Fields this host accepts for compatibility with Spin but has no use for
// are kept so that `deny_unknown_fields` still catches typos.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub trigger: Option<toml::Table>,
}

/// An application variable: either required or with a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Variable {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct HttpTrigger {
    #[serde(default)]
    pub id: Option<String>,
    pub route: Route,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub static_response: Option<StaticResponse>,
    #[serde(default)]
    pub executor: Option<toml::Table>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Route {
    Path(String),
    Private { private: bool },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticResponse {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Component {
    pub source: Source,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub allowed_http_hosts: Vec<String>,
    #[serde(default)]
    pub files: Vec<FileMount>,
    #[serde(default)]
    pub exclude_files: Vec<String>,
    #[serde(default)]
    pub ai_models: Vec<String>,
    #[serde(default)]
    pub build: Option<toml::Table>,
    #[serde(default)]
    pub tool: Option<toml::Table>,
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
    #[serde(default)]
    pub dependencies: Option<toml::Table>,
}

/// Static files a component reads through WASI, read-only.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FileMount {
    /// A directory relative to the manifest, seen at the same path under `/`.
    Path(String),
    /// A directory seen at `destination`.
    Mapping { source: String, destination: String },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum Source {
    Local(String),
    Remote(toml::Table),
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let manifest: Manifest = toml::from_str(&text)
            .with_context(|| format!("invalid manifest {}", path.display()))?;
        manifest
            .validate()
            .with_context(|| format!("invalid manifest {}", path.display()))?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<()> {
        ensure!(
            self.spin_manifest_version == 2,
            "spin_manifest_version must be 2 (found {})",
            self.spin_manifest_version
        );
        for (name, variable) in &self.variables {
            validate_variable_name(name)?;
            ensure!(
                !(variable.required && variable.default.is_some()),
                "variable '{name}' cannot be both required and have a default"
            );
            ensure!(
                variable.required || variable.default.is_some(),
                "variable '{name}' must be required or have a default"
            );
        }
        self.validate_base()?;
        for (id, component) in &self.component {
            self.validate_component(id, component)?;
        }
        for trigger in &self.trigger.http {
            self.validate_trigger(trigger)?;
        }
        Ok(())
    }

    fn validate_component(&self, id: &str, component: &Component) -> Result<()> {
        if let Source::Remote(_) = component.source {
            bail!("component '{id}': only local `source` files are supported by this host");
        }
        if !component.ai_models.is_empty() {
            bail!("component '{id}': `ai_models` are not supported by this host");
        }
        for (name, template) in &component.variables {
            validate_variable_name(name).with_context(|| format!("component '{id}'"))?;
            for reference in template_references(template)? {
                ensure!(
                    self.variables.contains_key(reference),
                    "component '{id}' variable '{name}' refers to undefined application variable '{reference}'"
                );
            }
        }
        for host in &component.allowed_outbound_hosts {
            for reference in template_references(host)? {
                ensure!(
                    self.variables.contains_key(reference),
                    "component '{id}' allowed outbound host \"{host}\" refers to undefined application variable '{reference}'"
                );
            }
        }
        Ok(())
    }

    fn validate_trigger(&self, trigger: &HttpTrigger) -> Result<()> {
        let route = match &trigger.route {
            Route::Path(route) => route,
            Route::Private { private: true } => "(private)",
            Route::Private { private: false } => bail!("route {{ private = false }} is not valid"),
        };
        match (&trigger.component, &trigger.static_response) {
            (Some(id), None) => ensure!(
                self.component.contains_key(id),
                "trigger for route '{route}' refers to component '{id}', which is not defined"
            ),
            (None, Some(_)) => {}
            (Some(_), Some(_)) => {
                bail!("trigger for route '{route}' has both a component and a static_response")
            }
            (None, None) => bail!("trigger for route '{route}' needs a component"),
        }
        if let Some(executor) = &trigger.executor {
            let kind = executor.get("type").and_then(|t| t.as_str());
            ensure!(
                kind == Some("spin"),
                "trigger for route '{route}': only the \"spin\" executor is supported"
            );
        }
        Ok(())
    }

    /// Spin 3+ only accepts the deprecated `[application.trigger.http] base`
    /// when it is "/"; routes carry their full path.
    fn validate_base(&self) -> Result<()> {
        let base = self
            .application
            .trigger
            .as_ref()
            .and_then(|t| t.get("http"))
            .and_then(|http| http.get("base"));
        match base {
            None => Ok(()),
            Some(base) if base.as_str() == Some("/") => Ok(()),
            Some(_) => bail!(
                "the deprecated trigger 'base' is not supported; prepend it to each [[trigger.http]] route"
            ),
        }
    }
}

impl Component {
    /// The component's wasm file, relative paths being relative to the manifest.
    pub fn source_path(&self, app_dir: &Path) -> PathBuf {
        match &self.source {
            Source::Local(path) => app_dir.join(path),
            Source::Remote(_) => unreachable!("rejected by validation"),
        }
    }

    /// Host directories and the guest paths they appear at. This host mounts
    /// whole directories; Spin's glob patterns are refused with a hint.
    pub fn file_mounts(&self, app_dir: &Path) -> Result<Vec<(PathBuf, String)>> {
        self.files
            .iter()
            .map(|mount| {
                let (source, destination) = match mount {
                    FileMount::Path(path) => (path.as_str(), format!("/{}", path.trim_start_matches('/'))),
                    FileMount::Mapping { source, destination } => (source.as_str(), destination.clone()),
                };
                ensure!(
                    !source.contains(['*', '?', '[']),
                    "files: glob pattern '{source}' is not supported by this host; mount a directory with {{ source = \"dir\", destination = \"/path\" }}"
                );
                let host_path = app_dir.join(source);
                ensure!(
                    host_path.is_dir(),
                    "files: '{}' is not a directory",
                    host_path.display()
                );
                Ok((host_path, destination))
            })
            .collect()
    }
}

/// Spin variable names: lower-case ASCII letters, digits and underscores,
/// starting with a letter.
pub fn validate_variable_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_');
    ensure!(
        valid,
        "invalid variable name '{name}': use lower-case letters, digits and single underscores, starting with a letter"
    );
    Ok(())
}

/// The application variables a component variable template such as
/// `"Bearer {{ token }}"` refers to.
pub fn template_references(template: &str) -> Result<Vec<&str>> {
    let mut references = vec![];
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .with_context(|| format!("unclosed '{{{{' in template \"{template}\""))?;
        references.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(references)
}

/// Expands `{{ name }}` references in a component variable template.
pub fn expand_template(template: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String> {
    let mut expanded = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        expanded.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .with_context(|| format!("unclosed '{{{{' in template \"{template}\""))?;
        let name = after[..end].trim();
        let value = lookup(name).with_context(|| format!("no value for variable '{name}'"))?;
        expanded.push_str(&value);
        rest = &after[end + 2..];
    }
    expanded.push_str(rest);
    Ok(expanded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_templates() {
        let lookup = |name: &str| (name == "token").then(|| "s3cret".to_string());
        assert_eq!(
            expand_template("Bearer {{ token }}!", lookup).unwrap(),
            "Bearer s3cret!"
        );
        assert_eq!(expand_template("plain", lookup).unwrap(), "plain");
        assert!(expand_template("{{ other }}", lookup).is_err());
        assert!(expand_template("{{ token", lookup).is_err());
    }

    #[test]
    fn variable_names_follow_spin_rules() {
        assert!(validate_variable_name("api_tokens").is_ok());
        assert!(validate_variable_name("a1").is_ok());
        for bad in ["", "Api", "1a", "a-b", "a__b", "a_"] {
            assert!(validate_variable_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn allowed_outbound_hosts_refer_to_defined_variables() {
        let manifest = |host: &str| {
            format!(
                r#"
                spin_manifest_version = 2
                [application]
                name = "x"
                [variables]
                redis_host = {{ default = "localhost" }}
                [component.c]
                source = "c.wasm"
                allowed_outbound_hosts = ["{host}"]
                "#
            )
        };
        let defined: Manifest = toml::from_str(&manifest("redis://{{ redis_host }}")).unwrap();
        assert!(defined.validate().is_ok());
        let undefined: Manifest = toml::from_str(&manifest("redis://{{ other }}")).unwrap();
        let error = undefined.validate().unwrap_err().to_string();
        assert!(error.contains("'other'"), "{error}");
    }

    #[test]
    fn rejects_unknown_keys_and_dangling_components() {
        let unknown = "spin_manifest_version = 2\n[application]\nname = \"x\"\nbogus = 1\n";
        assert!(toml::from_str::<Manifest>(unknown).is_err());

        let dangling = r#"
            spin_manifest_version = 2
            [application]
            name = "x"
            [[trigger.http]]
            route = "/..."
            component = "missing"
        "#;
        let manifest: Manifest = toml::from_str(dangling).unwrap();
        let error = manifest.validate().unwrap_err().to_string();
        assert!(error.contains("'missing'"), "{error}");
    }
}
