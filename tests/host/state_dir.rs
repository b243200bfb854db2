//! Started as `spin up` is, without --state-dir: the state lives in `.spin`
//! beside the manifest. And `--listen` takes a host name.

use std::path::Path;

use crate::common::{open_state_file, rows, sql};
use e2e::{App, Options, repo_root};
use serde_json::json;

/// Lays the `in-place` fixture app out in a fresh folder: its manifest and
/// the probe it names.
fn app_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = repo_root().join("tests/fixtures");
    std::fs::copy(
        fixtures.join("in-place/spin.toml"),
        dir.path().join("spin.toml"),
    )
    .unwrap();
    std::fs::copy(
        fixtures.join("target/wasm32-wasip2/release/probe.wasm"),
        dir.path().join("probe.wasm"),
    )
    .expect("the fixtures are built (cargo xtask build)");
    dir
}

fn in_place(dir: &Path) -> Options {
    Options {
        manifest: dir.join("spin.toml"),
        env: vec![],
        args: vec![],
    }
}

#[test]
fn without_a_state_dir_the_state_lives_in_dot_spin_beside_the_manifest() {
    let dir = app_folder();
    let options = in_place(dir.path());
    let app = App::start_in_place(options, "127.0.0.1:0", dir);
    for statement in [
        "CREATE TABLE notes (body TEXT)",
        "INSERT INTO notes VALUES ('kept')",
    ] {
        assert_eq!(rows(&sql(&app, "/probe", "default", statement)), json!([]));
    }
    let put = app.send("PUT", "/probe/kv/default/greeting", &[], b"hello");
    assert_eq!(put.status, 200, "{}", put.text());

    let (status, dir) = app.interrupt();
    assert!(status.success());
    let state = dir.path().join(".spin");
    let database = open_state_file(&state, "sqlite_db.db");
    let body: String = database
        .query_row("SELECT body FROM notes", [], |row| row.get(0))
        .unwrap();
    assert_eq!(body, "kept");
    let store = open_state_file(&state, "sqlite_key_value.db");
    let value: Vec<u8> = store
        .query_row(
            "SELECT value FROM spin_key_value WHERE store = 'default' AND key = 'greeting'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(value, b"hello");
}

#[test]
fn listen_takes_a_host_name() {
    let dir = app_folder();
    let options = in_place(dir.path());
    let app = App::start_in_place(options, "localhost:0", dir);
    // `localhost` resolves to 127.0.0.1 first, as in Spin.
    assert!(
        app.base_url.starts_with("http://127.0.0.1:"),
        "{}",
        app.base_url
    );
    let reply = app.get("/probe/echo");
    assert_eq!(reply.status, 200, "{}", reply.text());
}
