//! Variables: manifest defaults, `SPIN_VARIABLE_*`, `--variable`, required
//! variables, and what a component may read.

use crate::common;
use crate::common::reported_error;
use e2e::{App, Options};

fn variable(app: &App, path: &str) -> String {
    let reply = app.get(path);
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
    reply.json()["value"].as_str().expect("a value").to_string()
}

#[test]
fn defaults_and_templates_resolve() {
    let app = common::start();
    assert_eq!(
        variable(&app, "/probe/var/greeting"),
        "hello from the manifest"
    );
    // `api_key = "key: {{ api_key }}"`, the required variable from the environment.
    assert_eq!(
        variable(&app, "/probe/var/api_key"),
        format!("key: {}", common::API_KEY)
    );
}

#[test]
fn the_environment_overrides_a_default_and_the_command_line_overrides_both() {
    let app =
        App::start_with(common::fixtures().env("SPIN_VARIABLE_GREETING", "from the environment"));
    assert_eq!(
        variable(&app, "/probe/var/greeting"),
        "from the environment"
    );
    drop(app);

    let app = App::start_with(
        common::fixtures()
            .env("SPIN_VARIABLE_GREETING", "from the environment")
            .arg("--variable")
            .arg("greeting=from the command line"),
    );
    assert_eq!(
        variable(&app, "/probe/var/greeting"),
        "from the command line"
    );
}

#[test]
fn a_required_variable_without_a_value_stops_start_up() {
    let Err((error, _)) = App::try_start(Options::fixture("spin.toml")) else {
        panic!("the host started without the required variable api_key");
    };
    assert!(error.contains("api_key"), "{error}");
    assert!(error.contains("SPIN_VARIABLE_API_KEY"), "{error}");
}

#[test]
fn an_unknown_command_line_variable_stops_start_up() {
    let Err((error, _)) = App::try_start(common::fixtures().arg("--variable").arg("gretting=typo"))
    else {
        panic!("the host started with a misspelt --variable");
    };
    assert!(error.contains("gretting"), "{error}");
}

#[test]
fn a_component_reads_only_the_variables_it_declares() {
    let app = common::start();
    let undeclared = reported_error(&app.get("/probe/var/not_declared"));
    assert!(undeclared.starts_with("undefined"), "{undeclared}");

    // Declared by the application and by `probe`, but not by `restricted`.
    let someone_elses = reported_error(&app.get("/restricted/var/greeting"));
    assert!(someone_elses.starts_with("undefined"), "{someone_elses}");
    let someone_elses = reported_error(&app.get("/restricted/var/api_key"));
    assert!(someone_elses.starts_with("undefined"), "{someone_elses}");
    assert!(!someone_elses.contains(common::API_KEY), "{someone_elses}");

    let invalid = reported_error(&app.get("/probe/var/Not-A-Name"));
    assert!(invalid.starts_with("invalid-name"), "{invalid}");
}
