//! The application under hostile load (issue 17): the ERP's hold checks go
//! on while hundreds of clients trickle their requests, and a flood of
//! requests is served, or refused with 503, never failed with 500.

use std::time::{Duration, Instant};

use crate::common::*;
use e2e::attack::{Swarm, Trickle, median};
use e2e::{ASSOCIATE, App, MANAGER, Options};

fn secs(n: f64) -> Duration {
    Duration::from_secs_f64(n)
}

/// Hold checks as the ERP sends them, a pause apart, until `until`; each
/// must be decided. Returns their latencies.
fn hold_checks(app: &App, tag: &str, until: Instant, pause: Duration) -> Vec<Duration> {
    let mut latencies = vec![];
    while Instant::now() < until {
        std::thread::sleep(pause);
        let id = format!("SO-{tag}-{}", latencies.len());
        let sent = Instant::now();
        let reply = order(app, &id, "C-1", "100.00");
        assert_eq!(reply.status, 200, "hold check {id}: {}", reply.text());
        assert!(reply.json()["status"].is_string(), "{}", reply.text());
        latencies.push(sent.elapsed());
    }
    latencies
}

#[test]
fn hold_checks_keep_succeeding_while_hundreds_of_clients_trickle() {
    let app = App::start_with(
        Options::app()
            .arg("--request-body-grace")
            .arg("4s")
            .arg("--http-header-read-timeout")
            .arg("4s"),
    );
    customer(&app, "C-1", Some("5000.00"));
    invoice(&app, "INV-1", "C-1", "2025-07-10", "1000.00");
    let before = hold_checks(&app, "before", Instant::now() + secs(1.0), secs(0.02));

    let attack_started = Instant::now();
    // Without a token: refused from the head, before the body.
    let anonymous = Swarm::start(
        app.address(),
        Trickle::body("POST", "/payments", 100_000),
        100,
        secs(1.0),
    );
    // With one: the component waits for a body that never arrives. These
    // hold their leave to go on with a body still arriving until they are
    // cut off, so there are fewer of them than such leaves (a quarter of the
    // default 256 requests in flight); more would keep the anonymous ones
    // waiting until they too are cut off, in whatever order they came.
    let bearer = format!("Bearer {ASSOCIATE}");
    let signed_in = Swarm::start(
        app.address(),
        Trickle::body("POST", "/payments", 100_000).with_header("authorization", &bearer),
        48,
        secs(1.0),
    );
    let heads = Swarm::start(app.address(), Trickle::Headers, 200, secs(1.0));
    // Until the slow clients are cut off, 4 s after they started.
    let during = hold_checks(&app, "during", attack_started + secs(3.0), secs(0.15));
    assert!(during.len() >= 5, "{during:?}");
    std::thread::sleep(secs(7.0).saturating_sub(attack_started.elapsed()));
    let anonymous = anonymous.stop();
    let signed_in = signed_in.stop();
    let heads = heads.stop();

    let (usual, loaded) = (median(&before), median(&during));
    assert!(
        loaded <= usual * 5 + secs(0.1),
        "median hold check {usual:?} before the attack, {loaded:?} during it"
    );
    for fate in &anonymous {
        assert_eq!(fate.status(), Some(401), "{fate:?}");
        let closed = fate.closed_after.expect("closed after the 401");
        assert!(closed < secs(3.0), "{closed:?}");
    }
    assert!(signed_in.iter().all(|fate| fate.status() == Some(408)));
    assert!(heads.iter().all(|fate| fate.closed_after.is_some()));
    assert_eq!(position(&app, "C-1")["open_balance"], "1000.00");
}

#[test]
fn a_flood_of_requests_is_served_never_failed_with_500() {
    let app = App::start();
    let flooders = 400;
    let flood_for = secs(3.0);
    let threads: Vec<_> = (0..flooders)
        .map(|_| {
            let client = app.client();
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let auth = format!("Bearer {MANAGER}");
                    let until = Instant::now() + flood_for;
                    let mut statuses = vec![];
                    while Instant::now() < until {
                        let reply = client.try_send("GET", "/me", &[("authorization", &auth)], b"");
                        statuses.push(match reply {
                            Ok(reply) if reply.status == 503 => {
                                assert_eq!(reply.header("retry-after"), Some("1"));
                                503
                            }
                            Ok(reply) => reply.status,
                            Err(e) => panic!("the exchange failed: {e}"),
                        });
                    }
                    statuses
                })
                .expect("a flooding thread")
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .flat_map(|thread| thread.join().expect("a flooder"))
        .collect();

    let answered = statuses.iter().filter(|&&s| s == 200).count();
    let refused = statuses.iter().filter(|&&s| s == 503).count();
    assert_eq!(
        answered + refused,
        statuses.len(),
        "only 200 and 503: {:?}",
        statuses
            .iter()
            .filter(|&&s| s != 200 && s != 503)
            .collect::<Vec<_>>()
    );
    // Over the in-flight cap a request waits its turn (a second at most),
    // so the flood is served, not refused.
    assert!(
        answered >= statuses.len() * 9 / 10,
        "{answered} answered, {refused} refused"
    );
    assert_eq!(app.get("/.well-known/spin/health").status, 200);
    customer(&app, "C-1", Some("5000.00"));
    assert_eq!(
        decision(&app, "SO-1", "C-1", "100.00")["status"],
        "released"
    );
}
