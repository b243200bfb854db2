//! `--runtime-config-file`: stores and databases besides "default", and
//! `--sqlite @file.sql:label` aimed at one of them.

use std::path::{Path, PathBuf};

use crate::common::{open_state_file, reported_error, rows, sql};
use e2e::{App, Options};
use serde_json::json;

/// Writes a runtime config placing `cache` and `reports` in `dir`.
fn runtime_config(dir: &Path) -> PathBuf {
    let path = dir.join("runtime-config.toml");
    let config = format!(
        "[key_value_store.cache]\ntype = \"spin\"\npath = \"{cache}\"\n\n\
         [sqlite_database.reports]\ntype = \"spin\"\npath = \"{reports}\"\n",
        cache = dir.join("cache.db").display(),
        reports = dir.join("reports.db").display(),
    );
    std::fs::write(&path, config).unwrap();
    path
}

fn labelled(config: &Path) -> Options {
    Options::fixture("labelled/spin.toml")
        .arg("--runtime-config-file")
        .arg(&config.display().to_string())
}

#[test]
fn labels_without_configuration_stop_start_up() {
    let Err((error, _)) = App::try_start(Options::fixture("labelled/spin.toml")) else {
        panic!("the host started although 'cache' and 'reports' are not configured");
    };
    assert!(error.contains("'cache'"), "{error}");
    assert!(error.contains("runtime-config-file"), "{error}");
}

#[test]
fn remote_store_types_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(
        &config,
        "[key_value_store.cache]\ntype = \"spin\"\n\n\
         [sqlite_database.reports]\ntype = \"libsql\"\nurl = \"https://db.example.com\"\ntoken = \"t\"\n",
    )
    .unwrap();
    let Err((error, _)) = App::try_start(labelled(&config)) else {
        panic!("the host started with a libSQL database it cannot run");
    };
    assert!(error.contains("libsql"), "{error}");
}

/// `type = "redis"`: the store's keys are Redis keys, as they are, shared by
/// every host pointed at the same Redis and kept across restarts.
#[test]
fn a_redis_key_value_store_keeps_keys_in_redis() {
    let redis = e2e::servers::redis_server();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(
        &config,
        format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
            redis.redis_url()
        ),
    )
    .unwrap();
    let options = crate::common::fixtures()
        .arg("--runtime-config-file")
        .arg(&config.display().to_string());
    let first = App::start_with(options.clone());
    let second = App::start_with(options);

    let put = first.send("PUT", "/probe/kv/default/colour", &[], b"teal");
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(redis.redis_get("colour").as_deref(), Some(&b"teal"[..]));
    // Another host on the same Redis, and a spin-sdk 3 component, see it.
    assert_eq!(
        second.get("/probe/kv/default/colour").json()["value"],
        "teal"
    );
    assert_eq!(
        second.get("/legacy/kv/default/colour").json()["value"],
        "teal"
    );

    second.send("PUT", "/legacy/kv/default/shape", &[], b"round");
    let keys = first.get("/probe/kv/default").json()["keys"].clone();
    assert_eq!(keys, json!(["colour", "shape"]));
    first.send("DELETE", "/probe/kv/default/colour", &[], b"");
    assert_eq!(redis.redis_get("colour"), None);
    let after = second.get("/probe/kv/default/colour").json();
    assert_eq!(
        (after["value"].clone(), after["exists"].clone()),
        (json!(null), json!(false))
    );
    assert!(
        !first.state_dir.path().join("sqlite_key_value.db").exists(),
        "the default store is not a local file"
    );
}

/// A "spin" store takes only `path`: a misspelt key stops start-up instead
/// of leaving the store at the default file.
#[test]
fn a_local_store_with_an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(
        &config,
        "[key_value_store.cache]\ntype = \"spin\"\npaht = \"cache.db\"\n\n\
         [sqlite_database.reports]\ntype = \"spin\"\npath = \"reports.db\"\n",
    )
    .unwrap();
    let Err((error, _)) = App::try_start(labelled(&config)) else {
        panic!("the host started with an unknown key in a spin store");
    };
    assert!(error.contains("[key_value_store.cache]"), "{error}");
    assert!(error.contains("'paht'"), "{error}");
}

#[test]
fn a_labelled_key_value_store_lives_at_its_configured_path() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start_with(labelled(&runtime_config(dir.path())));
    app.send("PUT", "/probe/kv/cache/session", &[], b"cached");
    assert_eq!(app.get("/probe/kv/cache/session").json()["value"], "cached");
    assert_eq!(
        app.get("/probe/kv/default/session").json()["value"],
        json!(null),
        "stores are separate"
    );
    let undeclared = app.get("/probe/kv/sessions/session");
    assert_eq!(reported_error(&undeclared), "access-denied");

    let file = open_state_file(dir.path(), "cache.db");
    let (store, value): (String, Vec<u8>) = file
        .query_row(
            "SELECT store, value FROM spin_key_value WHERE key = 'session'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (store.as_str(), value.as_slice()),
        ("cache", b"cached".as_slice())
    );
}

#[test]
fn sqlite_option_with_a_label_seeds_that_database() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("reports.sql");
    std::fs::write(
        &seed,
        "CREATE TABLE totals (name TEXT, amount INTEGER);\n\
         INSERT INTO totals VALUES ('held', 3);\n",
    )
    .unwrap();
    let options = labelled(&runtime_config(dir.path()))
        .arg("--sqlite")
        .arg(&format!("@{}:reports", seed.display()));
    let app = App::start_with(options);

    let totals = sql(&app, "/probe", "reports", "SELECT name, amount FROM totals");
    assert_eq!(rows(&totals), json!([["held", 3]]));
    let elsewhere = reported_error(&sql(&app, "/probe", "default", "SELECT * FROM totals"));
    assert!(elsewhere.contains("no such table"), "{elsewhere}");

    let file = open_state_file(dir.path(), "reports.db");
    let amount: i64 = file
        .query_row("SELECT amount FROM totals", [], |row| row.get(0))
        .unwrap();
    assert_eq!(amount, 3);
}
