//! `--runtime-config-file`: where stores and databases live. Key-value
//! stores are local SQLite files (type "spin") or Redis databases (type
//! "redis", with `url`); SQLite databases are local files. The other remote
//! types Spin supports (libSQL, Azure Cosmos DB, DynamoDB) are recognised
//! and refused with a pointer to real Spin, so the same file can be used
//! there. A store takes only its type's keys (`path`, `url`): another key is
//! an error (Spin refuses one for a database and ignores it for a key-value
//! store; here a misspelt `path` must not quietly fall back to the default
//! file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(default)]
    key_value_store: BTreeMap<String, StoreConfig>,
    #[serde(default)]
    sqlite_database: BTreeMap<String, StoreConfig>,
    #[serde(skip)]
    base_dir: PathBuf,
}

#[derive(Debug, Deserialize)]
pub struct StoreConfig {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    path: Option<PathBuf>,
    /// Keys besides `type` and `path`: a remote type's settings.
    #[serde(flatten)]
    other: toml::Table,
}

/// Types Spin has that this host does not run.
const REMOTE_KINDS: &[&str] = &["azure_cosmos", "aws_dynamo", "libsql"];

/// Where one key-value store lives.
#[derive(Debug, PartialEq)]
pub enum KeyValueStore {
    Sqlite(PathBuf),
    Redis { url: String },
}

impl RuntimeConfig {
    pub fn load(path: Option<&Path>) -> Result<RuntimeConfig> {
        let Some(path) = path else {
            return Ok(RuntimeConfig::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read runtime config {}", path.display()))?;
        let mut config = RuntimeConfig::parse(&text)
            .with_context(|| format!("invalid runtime config {}", path.display()))?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(config)
    }

    fn parse(text: &str) -> Result<RuntimeConfig> {
        let config: RuntimeConfig = toml::from_str(text)?;
        config.check_local_stores()?;
        Ok(config)
    }

    /// Every "spin" store or database names no key but `path`, and every
    /// Redis store a `url` and nothing else.
    fn check_local_stores(&self) -> Result<()> {
        let sections = [
            ("key_value_store", &self.key_value_store),
            ("sqlite_database", &self.sqlite_database),
        ];
        for (section, stores) in sections {
            for (label, store) in stores {
                if store.kind == "spin"
                    && let Some(key) = store.other.keys().next()
                {
                    bail!(
                        "[{section}.{label}] has unknown key '{key}' (type \"spin\" takes only `path`)"
                    );
                }
            }
        }
        for (label, store) in &self.key_value_store {
            if store.kind == "redis" {
                store.redis_url(label)?;
            }
        }
        Ok(())
    }

    pub fn key_value_store(&self, label: &str, state_dir: &Path) -> Result<KeyValueStore> {
        if let Some(store) = self.key_value_store.get(label)
            && store.kind == "redis"
        {
            let url = store.redis_url(label)?;
            return Ok(KeyValueStore::Redis { url });
        }
        let path = self.local_path(
            &self.key_value_store,
            label,
            state_dir,
            "sqlite_key_value.db",
        )?;
        Ok(KeyValueStore::Sqlite(path))
    }

    pub fn sqlite_path(&self, label: &str, state_dir: &Path) -> Result<PathBuf> {
        self.local_path(&self.sqlite_database, label, state_dir, "sqlite_db.db")
    }

    fn local_path(
        &self,
        configured: &BTreeMap<String, StoreConfig>,
        label: &str,
        state_dir: &Path,
        default_file: &str,
    ) -> Result<PathBuf> {
        match configured.get(label) {
            None if label == "default" => Ok(state_dir.join(default_file)),
            None => bail!("'{label}' is not configured; add it to a --runtime-config-file"),
            Some(store) if store.kind == "spin" => Ok(match &store.path {
                Some(path) => self.base_dir.join(path),
                None => state_dir.join(default_file),
            }),
            Some(store) if REMOTE_KINDS.contains(&store.kind.as_str()) => bail!(
                "'{label}' has type \"{}\", which this local host does not run; use real Spin or SpinKube for it",
                store.kind
            ),
            Some(store) => bail!("'{label}' has unknown type \"{}\"", store.kind),
        }
    }
}

impl StoreConfig {
    /// A Redis store's `url`, its only key.
    fn redis_url(&self, label: &str) -> Result<String> {
        let section = format!("[key_value_store.{label}]");
        ensure!(
            self.path.is_none(),
            "{section} has unknown key 'path' (type \"redis\" takes only `url`)"
        );
        if let Some(key) = self.other.keys().find(|key| *key != "url") {
            bail!("{section} has unknown key '{key}' (type \"redis\" takes only `url`)");
        }
        let url = self
            .other
            .get("url")
            .with_context(|| format!("{section} needs a `url` (redis://host:port/db)"))?;
        let url = url
            .as_str()
            .with_context(|| format!("{section}: `url` must be a string"))?;
        Ok(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_labels_live_in_the_state_dir() {
        let config = RuntimeConfig::default();
        let state = Path::new("/state");
        assert_eq!(
            config.key_value_store("default", state).unwrap(),
            KeyValueStore::Sqlite(state.join("sqlite_key_value.db"))
        );
        assert_eq!(
            config.sqlite_path("default", state).unwrap(),
            state.join("sqlite_db.db")
        );
        assert!(config.sqlite_path("other", state).is_err());
    }

    #[test]
    fn configured_labels_and_remote_kinds() {
        let mut config: RuntimeConfig = toml::from_str(
            r#"
            [key_value_store.cache]
            type = "spin"
            path = "cache.db"
            [sqlite_database.default]
            type = "libsql"
            url = "https://example.invalid"
            token = "t"
            "#,
        )
        .unwrap();
        config.base_dir = PathBuf::from("/rc");
        let state = Path::new("/state");
        assert_eq!(
            config.key_value_store("cache", state).unwrap(),
            KeyValueStore::Sqlite(PathBuf::from("/rc/cache.db"))
        );
        let error = config
            .sqlite_path("default", state)
            .unwrap_err()
            .to_string();
        assert!(error.contains("libsql"), "{error}");
    }

    #[test]
    fn local_stores_take_only_a_path() {
        for section in ["key_value_store", "sqlite_database"] {
            let typo = format!("[{section}.extra]\ntype = \"spin\"\npth = \"typo.db\"\n");
            let error = RuntimeConfig::parse(&typo).unwrap_err().to_string();
            assert!(error.contains(&format!("[{section}.extra]")), "{error}");
            assert!(error.contains("'pth'"), "{error}");

            let good = format!("[{section}.extra]\ntype = \"spin\"\npath = \"x.db\"\n");
            assert!(RuntimeConfig::parse(&good).is_ok());
        }
        // A type this host does not run: its keys are left for real Spin.
        let libsql =
            "[sqlite_database.db]\ntype = \"libsql\"\nurl = \"https://x\"\ntoken = \"t\"\n";
        assert!(RuntimeConfig::parse(libsql).is_ok());
    }

    #[test]
    fn redis_key_value_stores_take_a_url() {
        let config = RuntimeConfig::parse(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://cache:6379/1\"\n",
        )
        .unwrap();
        assert_eq!(
            config
                .key_value_store("default", Path::new("/state"))
                .unwrap(),
            KeyValueStore::Redis {
                url: "redis://cache:6379/1".into()
            }
        );
        for (bad, expected) in [
            ("type = \"redis\"\n", "needs a `url`"),
            (
                "type = \"redis\"\nurl = \"redis://x\"\nurll = \"y\"\n",
                "'urll'",
            ),
            ("type = \"redis\"\nurl = 6379\n", "must be a string"),
        ] {
            let error = RuntimeConfig::parse(&format!("[key_value_store.cache]\n{bad}"))
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{bad}: {error}");
        }
        // Redis keeps key-value stores, not SQLite databases.
        let database =
            RuntimeConfig::parse("[sqlite_database.db]\ntype = \"redis\"\nurl = \"redis://x\"\n")
                .unwrap();
        let error = database
            .sqlite_path("db", Path::new("/state"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown type \"redis\""), "{error}");
    }

    #[test]
    fn unknown_sections_are_errors() {
        assert!(toml::from_str::<RuntimeConfig>("[bogus]\nx = 1\n").is_err());
    }
}
