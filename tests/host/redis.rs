//! Outbound Redis (`spin:redis@3.0.0` from spin-sdk 7, `fermyon:spin/redis`
//! from spin-sdk 3) against Debian's redis-server, started by the test: the
//! fixtures let `outbound` and `legacy` reach `redis://127.0.0.1:{{ redis_port }}`.

use e2e::servers::{self, TcpEcho};
use e2e::{App, Reply};
use serde_json::json;

use crate::common::{self, reported_error};

fn start_allowing_redis(port: u16) -> App {
    App::start_with(common::fixtures().env("SPIN_VARIABLE_REDIS_PORT", &port.to_string()))
}

fn redis_action(app: &App, prefix: &str, address: &str) -> Reply {
    app.send("POST", &format!("{prefix}/redis"), &[], address.as_bytes())
}

#[test]
fn an_allowed_redis_is_used_from_both_sdk_generations() {
    let redis = servers::redis_server();
    let app = start_allowing_redis(redis.port);

    let reply = redis_action(&app, "/outbound", &redis.redis_url());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({
            "get": "hello",
            "incr": 42,
            "members": ["a", "c"],
            "execute": ["hello, world"],
            "deleted": 3,
        })
    );

    let legacy = redis_action(&app, "/legacy", &redis.redis_url());
    assert_eq!(legacy.status, 200, "{}", legacy.text());
    assert_eq!(
        legacy.json(),
        json!({ "get": "hello", "incr": 10, "deleted": 2 })
    );
}

#[test]
fn other_addresses_and_components_without_the_grant_are_refused() {
    let redis = servers::redis_server();
    let app = start_allowing_redis(redis.port);
    let unlisted = TcpEcho::start();
    let unlisted_url = format!("redis://127.0.0.1:{}", unlisted.address().port());
    let by_name = format!("redis://localhost:{}", redis.port);

    for (prefix, address) in [
        ("/outbound", unlisted_url.as_str()),
        ("/outbound", by_name.as_str()),
        ("/legacy", unlisted_url.as_str()),
        ("/probe", redis.redis_url().as_str()),
        ("/restricted", redis.redis_url().as_str()),
    ] {
        let refused = redis_action(&app, prefix, address);
        assert_eq!(
            reported_error(&refused),
            "Error::InvalidAddress",
            "{prefix} -> {address}"
        );
    }
    assert_eq!(unlisted.connections(), 0, "a refused connection was made");
    assert!(
        app.wait_for_log("may not connect to redis://", common::LOG_WAIT)
            .is_some(),
        "the host says why"
    );
}
