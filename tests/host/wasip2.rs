//! Components of the older generation (spin-sdk 3: WASIp2,
//! `fermyon:spin/*@2.0.0`) run beside spin-sdk 7 ones and share their stores.

use crate::common;
use crate::common::{reported_error, rows, sql};
use e2e::App;
use serde_json::json;

#[test]
fn a_wasip2_component_answers_with_spins_headers() {
    let app = common::start();
    let reply = app.send("PATCH", "/legacy/some/path?x=1", &[], b"");
    assert_eq!(reply.status, 200, "{}", reply.text());
    let echoed = reply.json();
    assert_eq!(echoed["generation"], "wasip2");
    assert_eq!(echoed["method"], "PATCH");
    assert_eq!(
        echoed["uri"],
        format!("{}/legacy/some/path?x=1", app.base_url)
    );
    let headers = &echoed["headers"];
    assert_eq!(
        headers["spin-full-url"],
        format!("{}/legacy/some/path?x=1", app.base_url)
    );
    assert_eq!(headers["spin-path-info"], "/some/path");
    assert_eq!(headers["spin-matched-route"], "/legacy/...");
    assert_eq!(headers["spin-component-route"], "/legacy");
    assert_eq!(headers["spin-raw-component-route"], "/legacy/...");
    assert_eq!(headers["spin-base-path"], "/");
    let client = headers["spin-client-addr"]
        .as_str()
        .expect("spin-client-addr");
    assert!(client.starts_with("127.0.0.1:"), "{client}");
}

/// spin-sdk 3 keeps one value per header name, the last: Spin's own value,
/// which the host appends after anything the client sent.
#[test]
fn a_wasip2_component_sees_spins_value_over_a_clients() {
    let app = common::start();
    let reply = app.send(
        "GET",
        "/legacy/echo",
        &[("spin-path-info", "/var/greeting"), ("spin-forged", "yes")],
        b"",
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let echoed = reply.json();
    assert_eq!(echoed["generation"], "wasip2", "{echoed}");
    assert_eq!(echoed["headers"]["spin-path-info"], "/echo");
    assert_eq!(echoed["headers"]["spin-forged"], "yes");
}

#[test]
fn key_value_is_shared_with_wasip3_components() {
    let app = common::start();
    let put = app.send(
        "PUT",
        "/legacy/kv/default/shared",
        &[],
        b"written by wasip2",
    );
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        app.get("/legacy/kv/default/shared").json()["value"],
        "written by wasip2"
    );
    assert_eq!(
        app.get("/probe/kv/default/shared").json()["value"],
        "written by wasip2"
    );

    app.send("PUT", "/probe/kv/default/shared", &[], b"written by wasip3");
    assert_eq!(
        app.get("/legacy/kv/default/shared").json()["value"],
        "written by wasip3"
    );

    let keys = app.get("/legacy/kv/default").json()["keys"].clone();
    assert_eq!(keys, json!(["shared"]));

    app.send("DELETE", "/legacy/kv/default/shared", &[], b"");
    assert_eq!(
        app.get("/probe/kv/default/shared").json()["value"],
        json!(null)
    );

    let denied = app.get("/legacy/kv/elsewhere/shared");
    assert_eq!(reported_error(&denied), "access-denied");
}

#[test]
fn sqlite_is_shared_with_wasip3_components() {
    let app = common::start();
    let create = "CREATE TABLE visits (who TEXT, n INTEGER, ratio REAL, note TEXT)";
    assert_eq!(rows(&sql(&app, "/legacy", "default", create)), json!([]));
    let insert = "INSERT INTO visits VALUES ('legacy', 2, 0.25, NULL)";
    assert_eq!(rows(&sql(&app, "/legacy", "default", insert)), json!([]));

    let select = "SELECT who, n, ratio, note FROM visits";
    let from_legacy = sql(&app, "/legacy", "default", select);
    assert_eq!(
        from_legacy.json()["columns"],
        json!(["who", "n", "ratio", "note"])
    );
    assert_eq!(rows(&from_legacy), json!([["legacy", 2, 0.25, null]]));
    assert_eq!(
        rows(&sql(&app, "/probe", "default", select)),
        rows(&from_legacy)
    );

    let failing = reported_error(&sql(&app, "/legacy", "default", "SELECT nonsense FROM"));
    assert!(failing.starts_with("io: "), "{failing}");
    let denied = sql(&app, "/legacy", "elsewhere", "SELECT 1");
    assert_eq!(reported_error(&denied), "access-denied");
}

#[test]
fn variables_resolve_for_wasip2_components() {
    let app = App::start_with(common::fixtures().env("SPIN_VARIABLE_GREETING", "hi from env"));
    assert_eq!(
        app.get("/legacy/var/greeting").json()["value"],
        "hi from env"
    );
    // `legacy` does not declare api_key.
    let undeclared = reported_error(&app.get("/legacy/var/api_key"));
    assert!(undeclared.starts_with("undefined"), "{undeclared}");
}

#[test]
fn a_trapping_wasip2_request_fails_alone() {
    let app = common::start();
    let trapped = app.get("/legacy/panic");
    assert_eq!(trapped.status, 500);
    assert!(trapped.body.is_empty(), "{}", trapped.text());
    let next = app.get("/legacy/echo");
    assert_eq!(next.status, 200, "{}", next.text());
    assert_eq!(next.json()["generation"], "wasip2");
}
