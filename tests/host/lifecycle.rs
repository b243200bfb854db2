//! Start-up checks, failing components, instance reuse, the request log and
//! graceful shutdown.

use crate::common;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::LOG_WAIT;
use e2e::{App, Options};

fn refusal(options: Options) -> String {
    match App::try_start(options) {
        Ok(_) => panic!("the host started on a manifest it should refuse"),
        Err((output, _)) => output,
    }
}

#[test]
fn a_manifest_with_an_unknown_key_is_refused() {
    let error = refusal(Options::fixture("invalid/unknown-key.toml"));
    assert!(error.contains("unknown-key.toml"), "{error}");
    assert!(error.contains("sorce"), "{error}");
}

#[test]
fn a_trigger_naming_a_missing_component_is_refused() {
    let error = refusal(Options::fixture("invalid/missing-component.toml"));
    assert!(error.contains("missing-component.toml"), "{error}");
    assert!(error.contains("'ghost'"), "{error}");
}

#[test]
fn a_component_whose_file_is_missing_is_refused() {
    let app_dir = tempfile::tempdir().unwrap();
    let manifest = app_dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        r#"
spin_manifest_version = 2
[application]
name = "unbuilt"
[[trigger.http]]
route = "/..."
component = "unbuilt"
[component.unbuilt]
source = "target/unbuilt.wasm"
"#,
    )
    .unwrap();
    let options = Options {
        manifest,
        env: vec![],
        args: vec![],
    };
    let error = refusal(options);
    assert!(error.contains("'unbuilt'"), "{error}");
    assert!(error.contains("target/unbuilt.wasm"), "{error}");
}

#[test]
fn a_trapping_request_fails_alone() {
    let app = common::start();
    let echo = |app: &App| {
        let reply = app.get("/probe/echo");
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["instance_requests"].as_u64().unwrap()
    };
    assert_eq!(echo(&app), 1);
    assert_eq!(echo(&app), 2, "a WASIp3 instance is reused");

    let trapped = app.get("/probe/panic");
    assert_eq!(trapped.status, 500);
    assert!(trapped.body.is_empty(), "{}", trapped.text());
    assert!(
        app.wait_for_log("component 'probe' failed", LOG_WAIT)
            .is_some()
    );

    assert_eq!(echo(&app), 1, "the trapped instance is not reused");
    assert_eq!(app.get("/restricted/echo").status, 200);
}

#[test]
fn a_wasip3_instance_serves_at_most_128_requests() {
    let app = common::start();
    let counts: Vec<u64> = (0..130)
        .map(|_| {
            app.get("/probe/echo").json()["instance_requests"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let most = counts.iter().max().copied().unwrap();
    assert!(most > 1, "instances are reused: {counts:?}");
    assert!(most <= 128, "an instance served {most} requests");
}

#[test]
fn max_instance_reuse_count_limits_requests_per_instance() {
    let fresh = App::start_with(
        common::fixtures()
            .arg("--max-instance-reuse-count")
            .arg("1"),
    );
    for _ in 0..3 {
        let reply = fresh.get("/probe/echo");
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["instance_requests"], 1);
    }
    let three = App::start_with(
        common::fixtures()
            .arg("--max-instance-reuse-count")
            .arg("3"),
    );
    let counts: Vec<u64> = (0..7)
        .map(|_| {
            three.get("/probe/echo").json()["instance_requests"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(counts, [1, 2, 3, 1, 2, 3, 1]);
    let error = refusal(
        common::fixtures()
            .arg("--max-instance-reuse-count")
            .arg("0"),
    );
    assert!(error.contains("max-instance-reuse-count"), "{error}");
}

#[test]
fn a_wasip2_component_gets_a_fresh_instance_per_request() {
    let app = common::start();
    for _ in 0..3 {
        let reply = app.get("/legacy/echo");
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["instance_requests"], 1);
    }
}

#[test]
fn every_request_is_logged_on_stderr() {
    let app = common::start();
    app.get("/probe/echo?with=query");
    app.send("PUT", "/probe/kv/default/k", &[], b"v");
    app.get("/probe/panic");
    app.get("/nowhere");
    app.get("/static");

    // method, path, who answered, status, duration
    let expected = [
        ("GET", "/probe/echo", "probe", "200"),
        ("PUT", "/probe/kv/default/k", "probe", "200"),
        ("GET", "/probe/panic", "probe", "500"),
        ("GET", "/nowhere", "(no route)", "404"),
        ("GET", "/static", "(static)", "201"),
    ];
    for (method, path, handler, status) in expected {
        let prefix = format!("{method} {path} ");
        let line = app
            .wait_for_log(&prefix, LOG_WAIT)
            .unwrap_or_else(|| panic!("no log line for {method} {path}"));
        let (request, outcome) = line.split_at(prefix.len());
        assert_eq!(request, prefix, "{line}");
        // The handler name may contain a space ("(no route)").
        let (who, result) = outcome.rsplit_once(&format!(" {status} ")).expect(status);
        assert_eq!(who, handler, "{line}");
        let millis = result.strip_suffix("ms").expect("duration in ms");
        assert!(millis.parse::<f64>().is_ok(), "{line}");
    }
}

#[test]
fn a_request_the_client_abandons_is_still_logged() {
    let app = common::start();
    let address = app.base_url.trim_start_matches("http://");
    let mut connection = TcpStream::connect(address).unwrap();
    connection
        .write_all(b"GET /probe/sleep/800 HTTP/1.1\r\nhost: test\r\n\r\n")
        .unwrap();
    assert!(
        app.wait_for_log("probe: sleeping 800 ms", LOG_WAIT)
            .is_some()
    );
    drop(connection);

    let line = app
        .wait_for_log("GET /probe/sleep/800 ", LOG_WAIT)
        .expect("a log line for the abandoned request");
    assert!(line.contains(" probe 499 "), "{line}");
    assert_eq!(app.get("/probe/echo").status, 200);
}

/// Starts a slow request, stops the host with `stop` once the request is in
/// flight, and checks that the request still completes.
fn in_flight_request_completes(stop: impl FnOnce(App) -> std::process::ExitStatus) {
    let app = common::start();
    let client = app.client();
    let slow = std::thread::spawn(move || client.get("/probe/sleep/1500"));
    assert!(
        app.wait_for_log("probe: sleeping 1500 ms", LOG_WAIT)
            .is_some(),
        "the slow request never started"
    );

    let stopping = Instant::now();
    let status = stop(app);
    assert!(status.success(), "the host exited with {status}");
    let reply = slow.join().unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["slept_ms"], 1500);
    assert!(
        stopping.elapsed() >= Duration::from_millis(500),
        "the host exited before the request could finish"
    );
}

#[test]
fn ctrl_c_lets_in_flight_requests_finish() {
    in_flight_request_completes(|app| app.interrupt().0);
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    in_flight_request_completes(|app| app.terminate().0);
}

#[test]
fn an_idle_host_stops_promptly() {
    let app = common::start();
    assert_eq!(app.get("/probe/echo").status, 200);
    let stopping = Instant::now();
    let (status, _) = app.interrupt();
    assert!(status.success(), "the host exited with {status}");
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "stopping took {:?}",
        stopping.elapsed()
    );
}
