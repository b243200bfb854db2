//! Outbound MQTT (`spin:mqtt@3.0.0` from spin-sdk 7, `fermyon:spin/mqtt`
//! from spin-sdk 3) against Debian's mosquitto, started by the test, with a
//! subscriber that sees what reached the broker: the fixtures let
//! `outbound` and `legacy` reach `mqtt://127.0.0.1:{{ mqtt_port }}`.

use e2e::servers::{self, MqttSubscriber, TcpEcho};
use e2e::{App, Reply};

use crate::common::{self, reported_error};

fn start_allowing_broker(port: u16) -> App {
    App::start_with(common::fixtures().env("SPIN_VARIABLE_MQTT_PORT", &port.to_string()))
}

fn publish(app: &App, action: &str, address: &str) -> Reply {
    app.send("POST", action, &[], address.as_bytes())
}

fn address(port: u16, client: &str) -> String {
    format!("mqtt://127.0.0.1:{port}?client_id={client}")
}

#[test]
fn messages_reach_an_allowed_broker_at_every_qos() {
    let broker = servers::mosquitto();
    let mut subscriber = MqttSubscriber::subscribe(broker.port, "#");
    let app = start_allowing_broker(broker.port);

    for qos in ["0", "1", "2"] {
        let reply = publish(
            &app,
            &format!("/outbound/mqtt/{qos}"),
            &address(broker.port, &format!("probe-{qos}")),
        );
        assert_eq!(reply.status, 200, "QoS {qos}: {}", reply.text());
        let (topic, payload) = subscriber.next_message().expect("the message arrives");
        assert_eq!(topic, format!("probe/{qos}"));
        assert_eq!(payload, b"hello from the probe");
    }

    let legacy = publish(&app, "/legacy/mqtt", &address(broker.port, "legacy"));
    assert_eq!(legacy.status, 200, "{}", legacy.text());
    let (topic, payload) = subscriber.next_message().expect("the message arrives");
    assert_eq!(
        (topic.as_str(), payload.as_slice()),
        ("legacy/1", &b"hello from legacy"[..])
    );
}

#[test]
fn other_brokers_and_components_without_the_grant_are_refused() {
    let broker = servers::mosquitto();
    let app = start_allowing_broker(broker.port);
    let unlisted = TcpEcho::start();
    let unlisted_address = address(unlisted.address().port(), "x");
    let granted_address = address(broker.port, "x");

    for (action, address) in [
        ("/outbound/mqtt/1", &unlisted_address),
        ("/legacy/mqtt", &unlisted_address),
        ("/probe/mqtt/1", &granted_address),
        ("/restricted/mqtt/1", &granted_address),
    ] {
        let refused = publish(&app, action, address);
        assert_eq!(
            reported_error(&refused),
            format!("Error::ConnectionFailed(\"address {address} is not permitted\")"),
            "{action}"
        );
    }
    assert_eq!(unlisted.connections(), 0, "a refused connection was made");
}
