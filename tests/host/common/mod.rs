//! What the host tests share: the fixtures app (tests/fixtures/spin.toml)
//! and ways to look at the state files the host writes.

pub mod h2;

use std::path::Path;
use std::time::Duration;

use e2e::{App, Options, Reply};
use serde_json::Value;

/// The value the tests give the manifest's required `api_key` variable.
pub const API_KEY: &str = "s3cret-api-key";

/// How long a test waits for the host to log something.
pub const LOG_WAIT: Duration = Duration::from_secs(10);

/// The fixtures app with its required variable set.
pub fn fixtures() -> Options {
    Options::fixture("spin.toml").env("SPIN_VARIABLE_API_KEY", API_KEY)
}

pub fn start() -> App {
    App::start_with(fixtures())
}

/// Runs one SQL statement through a component's `/sql/<database>` action.
pub fn sql(app: &App, prefix: &str, database: &str, statement: &str) -> Reply {
    app.send(
        "POST",
        &format!("{prefix}/sql/{database}"),
        &[],
        statement.as_bytes(),
    )
}

/// The rows of a successful `/sql/...` action.
pub fn rows(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "SQL failed: {}", reply.text());
    reply.json()["rows"].clone()
}

/// The error a component reported (status 500 with `{"error": ...}`).
pub fn reported_error(reply: &Reply) -> String {
    assert_eq!(
        reply.status,
        500,
        "expected a reported error: {}",
        reply.text()
    );
    reply.json()["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {}", reply.text()))
        .to_string()
}

/// Opens one of the host's SQLite files directly, as another tool would.
pub fn open_state_file(state_dir: &Path, file: &str) -> rusqlite::Connection {
    let path = state_dir.join(file);
    assert!(path.exists(), "{} does not exist", path.display());
    rusqlite::Connection::open(&path).expect("open state file")
}
