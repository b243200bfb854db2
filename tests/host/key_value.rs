//! The key-value store: Spin's file and table, persistence, permissions.

use crate::common;
use crate::common::{open_state_file, reported_error};
use e2e::{App, Reply};
use serde_json::{Value, json};

const STORE_FILE: &str = "sqlite_key_value.db";

fn value(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["value"].clone()
}

#[test]
fn set_get_and_delete() {
    let app = common::start();
    assert_eq!(value(&app.get("/probe/kv/default/colour")), Value::Null);

    let put = app.send("PUT", "/probe/kv/default/colour", &[], b"teal");
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(value(&app.get("/probe/kv/default/colour")), "teal");

    app.send("PUT", "/probe/kv/default/colour", &[], b"amber");
    assert_eq!(value(&app.get("/probe/kv/default/colour")), "amber");

    let delete = app.send("DELETE", "/probe/kv/default/colour", &[], b"");
    assert_eq!(delete.status, 200, "{}", delete.text());
    let after = app.get("/probe/kv/default/colour").json();
    assert_eq!(
        (after["value"].clone(), after["exists"].clone()),
        (Value::Null, json!(false))
    );
}

#[test]
fn exists_and_keys_see_only_their_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = rusqlite::Connection::open(dir.path().join(STORE_FILE)).unwrap();
    file.execute_batch(
        "CREATE TABLE spin_key_value (
             store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
             PRIMARY KEY (store, key)
         );
         INSERT INTO spin_key_value VALUES ('other', 'foreign', x'00');",
    )
    .unwrap();
    drop(file);
    let app = App::start_in(common::fixtures(), dir);
    for key in ["b", "a", "c"] {
        app.send("PUT", &format!("/probe/kv/default/{key}"), &[], b"x");
    }
    let listed = app.get("/probe/kv/default");
    assert_eq!(listed.status, 200, "{}", listed.text());
    let mut keys: Vec<String> = serde_json::from_value(listed.json()["keys"].clone()).unwrap();
    keys.sort();
    assert_eq!(keys, ["a", "b", "c"]);
    assert_eq!(app.get("/probe/kv/default/a").json()["exists"], true);
    assert_eq!(app.get("/probe/kv/default/foreign").json()["exists"], false);
}

#[test]
fn values_live_in_spins_table_and_survive_a_restart() {
    let app = common::start();
    app.send("PUT", "/probe/kv/default/policy", &[], b"strict");
    // An abrupt stop: what was acknowledged must already be on disk.
    let state_dir = app.kill();

    let file = open_state_file(state_dir.path(), STORE_FILE);
    let (store, key, stored): (String, String, Vec<u8>) = file
        .query_row("SELECT store, key, value FROM spin_key_value", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .expect("one row in spin_key_value");
    assert_eq!(
        (store.as_str(), key.as_str(), stored.as_slice()),
        ("default", "policy", b"strict".as_slice())
    );
    drop(file);

    let app = App::start_in(common::fixtures(), state_dir);
    assert_eq!(value(&app.get("/probe/kv/default/policy")), "strict");
}

#[test]
fn a_store_file_written_by_spin_is_read_as_is() {
    let state_dir = tempfile::tempdir().unwrap();
    let file = rusqlite::Connection::open(state_dir.path().join(STORE_FILE)).unwrap();
    // The schema Spin's default store creates.
    file.execute_batch(
        "CREATE TABLE spin_key_value (
             store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
             PRIMARY KEY (store, key)
         );
         INSERT INTO spin_key_value VALUES ('default', 'seeded', CAST('from spin' AS BLOB));
         INSERT INTO spin_key_value VALUES ('other', 'seeded', CAST('not this one' AS BLOB));",
    )
    .unwrap();
    drop(file);

    let app = App::start_in(common::fixtures(), state_dir);
    assert_eq!(value(&app.get("/probe/kv/default/seeded")), "from spin");
}

#[test]
fn a_store_the_component_does_not_declare_is_access_denied() {
    let app = common::start();
    app.send("PUT", "/probe/kv/default/secret", &[], b"for probe only");

    // `restricted` declares no store, though `default` exists for others.
    let denied = app.get("/restricted/kv/default/secret");
    assert_eq!(reported_error(&denied), "access-denied");
    let denied = app.send("PUT", "/restricted/kv/default/secret", &[], b"overwritten");
    assert_eq!(reported_error(&denied), "access-denied");

    // A label no component declares.
    let denied = app.get("/probe/kv/elsewhere/secret");
    assert_eq!(reported_error(&denied), "access-denied");

    assert_eq!(
        value(&app.get("/probe/kv/default/secret")),
        "for probe only"
    );
}

/// `--key-value key=value` sets keys in the default store before the first
/// request, as `spin up` does; a value may hold `=`.
#[test]
fn key_value_options_seed_the_default_store() {
    let app = App::start_with(
        common::fixtures()
            .arg("--key-value")
            .arg("greeting=hello")
            .arg("--key-value")
            .arg("formula=a=b"),
    );
    assert_eq!(value(&app.get("/probe/kv/default/greeting")), "hello");
    assert_eq!(value(&app.get("/probe/kv/default/formula")), "a=b");
    assert_eq!(value(&app.get("/legacy/kv/default/greeting")), "hello");

    let Err((error, _)) = App::try_start(common::fixtures().arg("--key-value").arg("no-equals"))
    else {
        panic!("the host started with a --key-value that is not KEY=VALUE");
    };
    assert!(
        error.contains("KEY=VALUE") || error.contains("NAME=VALUE"),
        "{error}"
    );
}
