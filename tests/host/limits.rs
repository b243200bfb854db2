//! The host under heavy and hostile load (issue 17): the request deadline,
//! slow clients by the hundred, the caps on connections and on requests in
//! flight, instance memory, and running out of file descriptors. Timeouts
//! are shortened by flags so that each test takes seconds; every timing
//! bound is generous, for a loaded two-core machine.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::h2::{self, H2};
use crate::common::{self, LOG_WAIT};
use e2e::attack::{Swarm, Trickle, cpu_time, median};
use e2e::{App, Client};

const HEALTH: &str = "/.well-known/spin/health";

fn start(flags: &[&str]) -> App {
    let options = flags
        .iter()
        .fold(common::fixtures(), |options, flag| options.arg(flag));
    App::start_with(options)
}

fn secs(n: f64) -> Duration {
    Duration::from_secs_f64(n)
}

/// Sends a raw HTTP/1.1 request on a new connection and reads until the
/// host closes it (or 10 s pass).
fn exchange_and_close(address: &str, request: &str) -> String {
    let mut socket = TcpStream::connect(address).expect("connect");
    socket.write_all(request.as_bytes()).unwrap();
    socket.set_read_timeout(Some(secs(10.0))).unwrap();
    let mut received = vec![];
    let _ = socket.read_to_end(&mut received);
    String::from_utf8_lossy(&received).into_owned()
}

/// Waits until the host closes `socket`; how long that took.
fn time_to_close(socket: &mut TcpStream, started: Instant) -> Duration {
    socket.set_read_timeout(Some(secs(20.0))).unwrap();
    let mut buffer = [0u8; 1024];
    while matches!(socket.read(&mut buffer), Ok(n) if n > 0) {}
    started.elapsed()
}

/// Reads one response to a `GET /static` (its body has a known length).
fn read_static_response(socket: &mut TcpStream) -> String {
    let expected = "static body\n";
    let mut received = vec![];
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&received).ends_with(expected) {
        let n = socket.read(&mut buffer).expect("a response");
        assert!(
            n > 0,
            "closed early: {}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[test]
fn a_guest_in_an_endless_loop_is_stopped_at_the_request_deadline() {
    let app = start(&["--request-timeout", "3s"]);
    let client = app.client();
    let sent = Instant::now();
    let looping = std::thread::spawn(move || (client.get("/probe/loop"), sent.elapsed()));
    assert!(
        app.wait_for_log("probe: spinning forever", LOG_WAIT)
            .is_some()
    );

    // While it spins: the same component, another one, a static route.
    let meanwhile = Instant::now();
    assert_eq!(app.get("/probe/echo").status, 200);
    assert_eq!(app.get("/legacy/echo").status, 200);
    assert_eq!(app.get("/static").status, 201);
    assert_eq!(app.get("/probe/sleep/200").status, 200);
    assert!(
        meanwhile.elapsed() < secs(1.5),
        "other requests waited {:?}",
        meanwhile.elapsed()
    );

    let (reply, took) = looping.join().unwrap();
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(
        took >= secs(3.0) && took < secs(6.0),
        "answered after {took:?}"
    );
    assert!(
        app.wait_for_log(
            "did not answer /probe/loop within the request deadline",
            LOG_WAIT
        )
        .is_some()
    );

    // The guest is stopped, not left spinning: the host's CPU goes quiet.
    std::thread::sleep(secs(1.0));
    let before = cpu_time(app.pid());
    std::thread::sleep(secs(2.0));
    let used = cpu_time(app.pid()) - before;
    assert!(used < secs(0.5), "the host used {used:?} of CPU in 2 s");
    assert_eq!(app.get("/probe/echo").status, 200);
}

#[test]
fn a_wasip2_guest_in_an_endless_loop_is_stopped_too() {
    let app = start(&["--request-timeout", "2s"]);
    let sent = Instant::now();
    let reply = app.get("/legacy/loop");
    let took = sent.elapsed();
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert!(
        took >= secs(2.0) && took < secs(5.0),
        "answered after {took:?}"
    );
    assert_eq!(app.get("/legacy/echo").status, 200);
}

#[test]
fn a_wasip3_instance_serves_requests_side_by_side_unless_told_not_to() {
    let app = common::start();
    // Sleepers keep instances busy waiting; an instance waiting on all of
    // its requests takes another (up to 16, as in Spin). On a loaded
    // machine a request may still land on a fresh instance when it arrives
    // before a sleeper's instance has been polled into its wait, so echoes
    // are tried a tenth of a second apart while the sleepers sleep.
    let sleepers: Vec<_> = (0..2)
        .map(|_| {
            let client = app.client();
            let sleeper = std::thread::spawn(move || client.get("/probe/sleep/4000"));
            assert!(
                app.wait_for_log("probe: sleeping 4000 ms", LOG_WAIT)
                    .is_some()
            );
            sleeper
        })
        .collect();
    let joined = (0..30).any(|_| {
        let in_flight = app.get("/probe/echo").json()["in_flight"].as_u64();
        let beside_a_sleeper = in_flight.is_some_and(|count| count >= 2);
        if !beside_a_sleeper {
            std::thread::sleep(Duration::from_millis(100));
        }
        beside_a_sleeper
    });
    assert!(joined, "no echo ran beside a sleeper in its instance");
    for sleeper in sleepers {
        assert_eq!(sleeper.join().unwrap().status, 200);
    }

    let one_at_a_time = start(&["--max-instance-concurrent-reuse-count", "1"]);
    let client = one_at_a_time.client();
    let sleeper = std::thread::spawn(move || client.get("/probe/sleep/1000"));
    assert!(
        one_at_a_time
            .wait_for_log("probe: sleeping 1000 ms", LOG_WAIT)
            .is_some()
    );
    let echo = one_at_a_time.get("/probe/echo").json();
    assert_eq!(echo["instance_requests"], 1, "an instance of its own");
    assert_eq!(echo["in_flight"], 1);
    assert_eq!(sleeper.join().unwrap().status, 200);
}

#[test]
fn an_instance_cannot_grow_its_memory_past_the_limit() {
    let allocated = |app: &App, mib: u32| {
        let reply = app.get(&format!("/probe/alloc/{mib}"));
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["allocated"].as_bool().unwrap()
    };
    let limited = start(&["--max-instance-memory", &(32u32 << 20).to_string()]);
    assert!(allocated(&limited, 8));
    assert!(!allocated(&limited, 64), "64 MiB is past a 32 MiB limit");
    assert!(allocated(&limited, 8), "the instance still serves");

    let default = common::start();
    assert!(allocated(&default, 64), "the default limit is 256 MiB");
}

#[test]
fn requests_beyond_the_in_flight_cap_get_503_and_the_health_route_says_so() {
    let app = start(&["--max-concurrent-requests", "2"]);
    let health = app.get(HEALTH);
    assert_eq!((health.status, health.text().as_str()), (200, "OK"));

    let sleepers: Vec<_> = (0..2)
        .map(|_| {
            let client = app.client();
            std::thread::spawn(move || client.get("/probe/sleep/3000"))
        })
        .collect();
    for _ in 0..2 {
        assert!(
            app.wait_for_log("probe: sleeping 3000 ms", LOG_WAIT)
                .is_some()
        );
    }

    for path in ["/probe/echo", "/legacy/echo"] {
        let refused = app.get(path);
        assert_eq!(refused.status, 503, "{path}: {}", refused.text());
        assert_eq!(refused.header("retry-after"), Some("1"));
    }
    let health = app.get(HEALTH);
    assert_eq!(health.status, 503, "{}", health.text());
    assert_eq!(health.header("retry-after"), Some("1"));
    assert!(
        health.text().contains("2 requests in flight"),
        "{}",
        health.text()
    );
    assert_eq!(app.get("/static").status, 201, "static routes take no slot");

    for sleeper in sleepers {
        assert_eq!(sleeper.join().unwrap().status, 200);
    }
    assert_eq!(app.get("/probe/echo").status, 200);
    assert_eq!(app.get(HEALTH).status, 200);
}

#[test]
fn connections_beyond_the_cap_get_503_and_are_closed() {
    let app = start(&["--max-concurrent-connections", "3"]);
    let held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(app.address()).unwrap())
        .collect();
    std::thread::sleep(secs(0.5));

    let answer = exchange_and_close(
        app.address(),
        "GET /probe/echo HTTP/1.1\r\nhost: test\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let answer = answer.to_ascii_lowercase();
    assert!(answer.contains("retry-after: 1\r\n"), "{answer}");
    assert!(answer.contains("connection: close\r\n"), "{answer}");
    assert_eq!(app.get(HEALTH).status, 503, "a full house is not healthy");

    drop(held);
    let deadline = Instant::now() + secs(10.0);
    while app.get("/probe/echo").status != 200 {
        assert!(Instant::now() < deadline, "connections were not given back");
        std::thread::sleep(secs(0.1));
    }
    assert_eq!(app.get(HEALTH).status, 200);
}

#[test]
fn silent_slow_and_idle_connections_are_closed() {
    let app = start(&[
        "--http-header-read-timeout",
        "1s",
        "--http-keep-alive-timeout",
        "3s",
    ]);
    let address = app.address().to_string();

    let silent = std::thread::spawn({
        let address = address.clone();
        move || {
            let started = Instant::now();
            time_to_close(&mut TcpStream::connect(&address).unwrap(), started)
        }
    });
    let slow_head = std::thread::spawn({
        let address = address.clone();
        move || {
            let started = Instant::now();
            let mut socket = TcpStream::connect(&address).unwrap();
            socket.write_all(b"GET /static HTTP/1.1\r\n").unwrap();
            for _ in 0..20 {
                std::thread::sleep(secs(0.2));
                if socket.write_all(b"x-slow: 1\r\n").is_err() {
                    break;
                }
            }
            time_to_close(&mut socket, started)
        }
    });

    // A kept-alive connection serves several requests, then is closed once
    // it has been idle for the keep-alive timeout.
    let mut kept = TcpStream::connect(&address).unwrap();
    for pause in [0.0, 2.0] {
        std::thread::sleep(secs(pause));
        kept.write_all(b"GET /static HTTP/1.1\r\nhost: test\r\n\r\n")
            .unwrap();
        let answer = read_static_response(&mut kept);
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    }
    let idle = time_to_close(&mut kept, Instant::now());

    let silent = silent.join().unwrap();
    let slow_head = slow_head.join().unwrap();
    assert!(
        silent >= secs(0.9) && silent < secs(4.0),
        "silent: {silent:?}"
    );
    assert!(
        slow_head >= secs(0.9) && slow_head < secs(4.0),
        "slow head: {slow_head:?}"
    );
    assert!(idle >= secs(2.5) && idle < secs(7.0), "idle: {idle:?}");
}

/// Latencies of a normal client's requests, a pause apart, sent until
/// `until`; reads and writes in turn.
fn normal_client(client: &Client, until: Instant, pause: Duration) -> Vec<Duration> {
    let mut latencies = vec![];
    while Instant::now() < until {
        std::thread::sleep(pause);
        let sent = Instant::now();
        let reply = if latencies.len() % 2 == 0 {
            client.get("/probe/echo")
        } else {
            client.send("PUT", "/probe/kv/default/normal", &[], b"a normal body")
        };
        assert_eq!(reply.status, 200, "{}", reply.text());
        latencies.push(sent.elapsed());
    }
    latencies
}

#[test]
fn hundreds_of_slow_clients_do_not_slow_a_normal_one() {
    let app = start(&[
        "--request-body-grace",
        "4s",
        "--http-header-read-timeout",
        "4s",
    ]);
    let client = app.client();
    let before = normal_client(&client, Instant::now() + secs(1.0), secs(0.02));

    let attack_started = Instant::now();
    let heads = Swarm::start(app.address(), Trickle::Headers, 200, secs(1.0));
    let bodies = Swarm::start(
        app.address(),
        Trickle::body("PUT", "/probe/kv/default/slow", 100_000),
        200,
        secs(1.0),
    );
    // Until the slow clients are cut off, 4 s after they started.
    let during = normal_client(&client, attack_started + secs(3.0), secs(0.1));
    assert!(during.len() >= 5, "{during:?}");
    assert_eq!(
        app.get(HEALTH).status,
        200,
        "slow bodies take a quarter of the request slots at most"
    );
    std::thread::sleep(secs(7.0).saturating_sub(attack_started.elapsed()));
    let heads = heads.stop();
    let bodies = bodies.stop();

    let (usual, loaded) = (median(&before), median(&during));
    assert!(
        loaded <= usual * 5 + secs(0.1),
        "median latency {usual:?} before the attack, {loaded:?} during it"
    );
    assert!(
        during.iter().all(|&latency| latency < secs(2.0)),
        "{during:?}"
    );
    for fate in &bodies {
        assert_eq!(fate.status(), Some(408), "{fate:?}");
        let closed = fate.closed_after.expect("closed after the 408");
        assert!(closed >= secs(3.5) && closed < secs(7.0), "{closed:?}");
    }
    for fate in &heads {
        let closed = fate.closed_after.expect("closed for a slow head");
        assert!(closed >= secs(3.5) && closed < secs(7.0), "{closed:?}");
    }
    assert_eq!(app.get("/probe/kv/default/slow").json()["exists"], false);
}

/// Sends a request's head announcing a large body, and a few bytes of it;
/// what the host answers (within 10 s) and when.
fn promise_a_body(address: &str, method_and_path: &str) -> (String, Duration) {
    let mut socket = TcpStream::connect(address).expect("connect");
    let sent = Instant::now();
    let head =
        format!("{method_and_path} HTTP/1.1\r\nhost: test\r\ncontent-length: 100000\r\n\r\n{{");
    socket.write_all(head.as_bytes()).unwrap();
    socket.set_read_timeout(Some(secs(10.0))).unwrap();
    let mut answer = vec![0; 4096];
    let read = socket.read(&mut answer).unwrap_or(0);
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    (answer, sent.elapsed())
}

#[test]
fn a_component_may_answer_before_the_body_has_arrived() {
    let app = common::start();
    // The echo does not read the body; the body's grace period is 10 s.
    let (answer, after) = promise_a_body(app.address(), "POST /probe/echo");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(after < secs(3.0), "answered after {after:?}");
    assert_eq!(app.get("/probe/echo").status, 200);
}

#[test]
fn slow_bodies_take_at_most_a_quarter_of_the_request_slots() {
    let app = start(&["--max-concurrent-requests", "8"]);
    // The sleep route answers without reading the body; a quarter of 8
    // such requests are handed over while their body is still arriving.
    let slow = Swarm::start(
        app.address(),
        Trickle::body("POST", "/probe/sleep/3000", 100_000),
        6,
        secs(1.0),
    );
    for _ in 0..2 {
        assert!(
            app.wait_for_log("probe: sleeping 3000 ms", LOG_WAIT)
                .is_some()
        );
    }
    // The other six slots are left to requests that are ready.
    let ready: Vec<_> = (0..6)
        .map(|_| {
            let client = app.client();
            std::thread::spawn(move || client.get("/probe/sleep/1000"))
        })
        .collect();
    for request in ready {
        let reply = request.join().unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    // The two handed over are answered; the next two are then let in.
    for _ in 0..2 {
        let answered = app.wait_for_log("POST /probe/sleep/3000 probe 200", LOG_WAIT);
        assert!(answered.is_some());
    }
    std::thread::sleep(secs(0.5));
    let fates = slow.stop();
    let answered = fates.iter().filter(|fate| fate.status() == Some(200));
    assert_eq!(answered.count(), 2, "{fates:?}");
}

#[test]
fn http2_streams_are_capped_per_connection_and_slow_ones_cut_off() {
    let app = start(&[
        "--http2-max-concurrent-streams",
        "20",
        "--request-body-grace",
        "2s",
    ]);
    let default_host = common::start();
    let (_, defaults) = H2::connect(default_host.address());
    assert_eq!(
        defaults.get(&h2::SETTINGS_MAX_CONCURRENT_STREAMS),
        Some(&100),
        "the default cap"
    );
    let (mut connection, settings) = H2::connect(app.address());
    assert_eq!(
        settings.get(&h2::SETTINGS_MAX_CONCURRENT_STREAMS),
        Some(&20)
    );

    let streams: Vec<u32> = (0..25)
        .map(|_| {
            connection.request(
                "PUT",
                "/probe/kv/default/h2",
                &[("content-length", "100000")],
            )
        })
        .collect();
    let started = Instant::now();
    let mut statuses: BTreeMap<u32, u16> = BTreeMap::new();
    let mut resets: BTreeMap<u32, u32> = BTreeMap::new();
    let mut last_drip = Instant::now();
    while statuses.len() + resets.len() < streams.len() && started.elapsed() < secs(10.0) {
        if last_drip.elapsed() >= secs(0.5) {
            last_drip = Instant::now();
            for stream in &streams {
                if !statuses.contains_key(stream) && !resets.contains_key(stream) {
                    connection.data(*stream, b"{", false);
                }
            }
        }
        let Some(frame) = connection.read(secs(0.1)) else {
            continue;
        };
        match frame.kind {
            h2::HEADERS => {
                statuses.insert(frame.stream, h2::status(&frame.payload).unwrap_or(0));
            }
            h2::RST_STREAM if !statuses.contains_key(&frame.stream) => {
                let code = u32::from_be_bytes(frame.payload[..4].try_into().unwrap());
                resets.entry(frame.stream).or_insert(code);
            }
            h2::GOAWAY => panic!("the connection was closed"),
            _ => {}
        }
    }
    let cut_after = started.elapsed();

    assert_eq!(resets.len(), 5, "streams past the cap: {resets:?}");
    assert!(
        resets.values().all(|&code| code == h2::REFUSED_STREAM),
        "{resets:?}"
    );
    assert_eq!(statuses.len(), 20, "{statuses:?}");
    assert!(
        statuses.values().all(|&status| status == 408),
        "{statuses:?}"
    );
    assert!(
        cut_after >= secs(1.5) && cut_after < secs(6.0),
        "{cut_after:?}"
    );
    assert_eq!(app.get("/probe/echo").status, 200);
}

#[test]
fn an_idle_http2_connection_is_closed_after_the_keep_alive_timeout() {
    let app = start(&["--http-keep-alive-timeout", "2s"]);
    let (mut connection, _) = H2::connect(app.address());
    let stream = connection.request("GET", "/static", &[]);
    connection.data(stream, b"", true);
    let answered = loop {
        let frame = connection.read(secs(10.0)).expect("an answer");
        if frame.kind == h2::HEADERS && frame.stream == stream {
            break h2::status(&frame.payload);
        }
    };
    assert_eq!(answered, Some(201));
    let idle = Instant::now();
    assert!(!connection.closed_within(secs(1.5)), "closed too early");
    assert!(connection.closed_within(secs(5.0)), "still open when idle");
    assert!(idle.elapsed() < secs(6.0), "{:?}", idle.elapsed());
}

#[test]
fn a_component_that_cannot_be_instantiated_gets_503_and_an_unhealthy_host() {
    // The probe with a directory mounted: each new instance opens it, so
    // once it is gone no instance can be created.
    let app_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(app_dir.path().join("assets")).unwrap();
    let probe = e2e::repo_root().join("tests/fixtures/target/wasm32-wasip2/release/probe.wasm");
    let manifest = app_dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"
spin_manifest_version = 2
[application]
name = "mounted"
[[trigger.http]]
route = "/..."
component = "probe"
[component.probe]
source = "{}"
files = [{{ source = "assets", destination = "/assets" }}]
"#,
            probe.display()
        ),
    )
    .unwrap();
    let options = e2e::Options {
        manifest,
        env: vec![],
        args: vec!["--max-instance-reuse-count".into(), "1".into()],
    };
    let app = App::start_with(options);
    assert_eq!(app.get("/echo").status, 200);

    let assets = app_dir.path().join("assets");
    std::fs::rename(&assets, app_dir.path().join("gone")).unwrap();
    let reply = app.get("/echo");
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(
        app.wait_for_log("component 'probe': cannot create an instance", LOG_WAIT)
            .is_some()
    );
    let health = app.get(HEALTH);
    assert_eq!(health.status, 503);
    assert!(
        health.text().contains("cannot create instances"),
        "{}",
        health.text()
    );

    std::fs::rename(app_dir.path().join("gone"), &assets).unwrap();
    assert_eq!(app.get("/echo").status, 200);
    assert_eq!(app.get(HEALTH).status, 200, "healthy again");
}

#[test]
fn running_out_of_file_descriptors_neither_floods_the_log_nor_spins() {
    let app = common::start();
    let pid = app.pid();
    assert_eq!(app.get("/probe/echo").status, 200);
    let in_use = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let limit = format!("--nofile={0}:{0}", in_use + 8);
    let limited = std::process::Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &limit])
        .status()
        .expect("run prlimit (util-linux)");
    assert!(limited.success());
    let _ = app.log_lines();

    let connections: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(app.address()).unwrap())
        .collect();
    let cpu_before = cpu_time(pid);
    std::thread::sleep(secs(3.0));
    let cpu = cpu_time(pid) - cpu_before;
    let lines = app.log_lines();
    let failures = lines
        .iter()
        .filter(|line| line.contains("accepting a connection failed"))
        .count();
    assert!(failures >= 1, "EMFILE was not provoked: {lines:#?}");
    assert!(failures <= 5, "{failures} accept failures logged in 3 s");
    assert!(lines.len() <= 20, "the log grew: {lines:#?}");
    assert!(cpu < secs(0.6), "the host used {cpu:?} of CPU in 3 s");

    drop(connections);
    let recovering = Instant::now();
    let reply = app.get("/probe/echo");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        recovering.elapsed() < secs(15.0),
        "recovered after {:?}",
        recovering.elapsed()
    );
}
