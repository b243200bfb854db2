//! `--component-id` (repeatable), as `spin up -c`: only the named
//! components and their routes are served, so one function can be scaled
//! apart from the rest of the application.

use e2e::{App, Options};

use crate::common;

fn only(ids: &[&str]) -> Options {
    ids.iter().fold(common::fixtures(), |options, id| {
        options.arg("--component-id").arg(id)
    })
}

#[test]
fn only_the_named_components_and_their_routes_are_served() {
    let app = App::start_with(only(&["legacy", "outbound"]));
    assert_eq!(app.get("/legacy/echo").json()["generation"], "wasip2");
    assert_eq!(app.get("/outbound/echo").status, 200);
    for elsewhere in ["/probe/echo", "/routes/exact", "/", "/restricted/echo"] {
        assert_eq!(app.get(elsewhere).status, 404, "{elsewhere}");
    }
    // Static responses belong to no component: not served either, as in Spin.
    assert_eq!(app.get("/static").status, 404);
    assert_eq!(app.get("/.well-known/spin/health").status, 200);

    let announced: Vec<String> = app
        .log_lines()
        .into_iter()
        .filter(|line| line.trim_start().contains(": http://"))
        .collect();
    assert_eq!(announced.len(), 2, "{announced:?}");
    assert!(announced.iter().any(|line| line.contains("legacy:")));
    assert!(announced.iter().any(|line| line.contains("outbound:")));
}

#[test]
fn a_selected_component_keeps_its_stores_and_grants() {
    let app = App::start_with(only(&["legacy"]));
    app.send("PUT", "/legacy/kv/default/seen", &[], b"yes");
    assert_eq!(app.get("/legacy/kv/default/seen").json()["value"], "yes");
    assert_eq!(
        app.get("/legacy/var/greeting").json()["value"],
        "hello from the manifest"
    );
}

#[test]
fn an_unknown_component_id_stops_start_up() {
    let Err((error, _)) = App::try_start(only(&["probe", "nonesuch"])) else {
        panic!("the host started with an unknown --component-id");
    };
    assert!(error.contains("'nonesuch'"), "{error}");
}
