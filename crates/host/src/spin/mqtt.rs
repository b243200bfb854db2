//! Outbound MQTT: `spin:mqtt/mqtt@3.0.0` (spin-sdk 5+) and
//! `fermyon:spin/mqtt@2.0.0` (older SDKs). A connection may be opened only
//! to an address the component's `allowed_outbound_hosts` lists
//! (`mqtt://host:port`, 1883 by default); any other fails with
//! `connection-failed("address ... is not permitted")`, as in Spin. The
//! address names the client: `mqtt://host:port?client_id=...`.
//!
//! The client (rumqttc) connects when the first message is published; a
//! publish returns once the broker has it as the QoS asks: sent (at most
//! once), acknowledged (at least once) or completed (exactly once), within
//! [`PUBLISH_TIMEOUT`].

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, Incoming, MqttOptions, Outgoing, QoS};
use wasmtime::component::{Accessor, Resource};

use super::bindings::fermyon::spin::mqtt as v2;
use super::bindings::spin::mqtt::mqtt as v3;
use super::{Spin, SpinCtx, SpinView};
use crate::outbound::{self, Target};

/// How long a publish may take, connecting included.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages the client queues before `publish` waits.
const QUEUE_CAPACITY: usize = 64;

/// A guest's `connection` resource.
pub struct MqttConnection {
    client: AsyncClient,
    events: Arc<tokio::sync::Mutex<EventLoop>>,
}

/// Errors of both generations.
#[derive(Debug)]
pub enum MqttError {
    InvalidAddress,
    ConnectionFailed(String),
    Other(String),
}

type MqttResult<T> = Result<T, MqttError>;

fn open(
    ctx: &SpinCtx,
    address: &str,
    username: String,
    password: String,
    keep_alive_seconds: u64,
) -> MqttResult<MqttConnection> {
    let target = Target::from_url(address, "mqtt").map_err(|_| MqttError::InvalidAddress)?;
    if !ctx.grants.allowed_outbound_hosts.allows(&target) {
        outbound::warn_denied(&ctx.grants.component_id, "connect to", &target.to_string());
        return Err(MqttError::ConnectionFailed(format!(
            "address {address} is not permitted"
        )));
    }
    let mut options = MqttOptions::parse_url(address).map_err(|_| MqttError::InvalidAddress)?;
    options
        .set_credentials(username, password)
        .set_keep_alive(Duration::from_secs(keep_alive_seconds));
    let (client, events) = AsyncClient::new(options, QUEUE_CAPACITY);
    Ok(MqttConnection {
        client,
        events: Arc::new(tokio::sync::Mutex::new(events)),
    })
}

/// The pieces of a connection a publish needs, taken out of the table.
struct Publisher {
    client: AsyncClient,
    events: Arc<tokio::sync::Mutex<EventLoop>>,
}

impl Publisher {
    async fn publish(self, topic: String, payload: Vec<u8>, qos: QoS) -> MqttResult<()> {
        tokio::time::timeout(PUBLISH_TIMEOUT, self.publish_and_wait(topic, payload, qos))
            .await
            .map_err(|_| {
                MqttError::ConnectionFailed(format!(
                    "the broker did not take the message within {} s",
                    PUBLISH_TIMEOUT.as_secs()
                ))
            })?
    }

    /// Queues the message, then drives the connection until the broker has
    /// it. One publish at a time drives a connection.
    async fn publish_and_wait(&self, topic: String, payload: Vec<u8>, qos: QoS) -> MqttResult<()> {
        let mut events = self.events.lock().await;
        self.client
            .publish(topic, qos, false, payload)
            .await
            .map_err(|e| MqttError::Other(e.to_string()))?;
        loop {
            let event = events
                .poll()
                .await
                .map_err(|e| MqttError::ConnectionFailed(e.to_string()))?;
            let delivered = matches!(
                (qos, event),
                (QoS::AtMostOnce, Event::Outgoing(Outgoing::Publish(_)))
                    | (QoS::AtLeastOnce, Event::Incoming(Incoming::PubAck(_)))
                    | (QoS::ExactlyOnce, Event::Incoming(Incoming::PubComp(_)))
            );
            if delivered {
                return Ok(());
            }
        }
    }
}

fn publisher_of(
    table: &wasmtime::component::ResourceTable,
    connection: &Resource<MqttConnection>,
) -> wasmtime::Result<Publisher> {
    let connection = table.get(connection)?;
    Ok(Publisher {
        client: connection.client.clone(),
        events: connection.events.clone(),
    })
}

/// Generates the conversions between the shared types and one generation's bindings.
macro_rules! conversions {
    ($v:ident) => {
        impl From<MqttError> for $v::Error {
            fn from(e: MqttError) -> Self {
                match e {
                    MqttError::InvalidAddress => $v::Error::InvalidAddress,
                    MqttError::ConnectionFailed(message) => $v::Error::ConnectionFailed(message),
                    MqttError::Other(message) => $v::Error::Other(message),
                }
            }
        }

        impl From<$v::Qos> for QoS {
            fn from(qos: $v::Qos) -> Self {
                match qos {
                    $v::Qos::AtMostOnce => QoS::AtMostOnce,
                    $v::Qos::AtLeastOnce => QoS::AtLeastOnce,
                    $v::Qos::ExactlyOnce => QoS::ExactlyOnce,
                }
            }
        }
    };
}

conversions!(v3);
conversions!(v2);

// ---- spin:mqtt/mqtt@3.0.0 ------------------------------------------------

impl v3::Host for SpinView<'_> {}
impl v3::HostConnection for SpinView<'_> {}

impl<T> v3::HostConnectionWithStore<T> for Spin {
    async fn drop(
        accessor: &Accessor<T, Self>,
        rep: Resource<MqttConnection>,
    ) -> wasmtime::Result<()> {
        accessor.with(|mut access| access.get().table.delete(rep).map(drop))?;
        Ok(())
    }

    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, v3::Error>> {
        accessor.with(|mut access| {
            let view = access.get();
            let opened = open(
                view.ctx,
                &address,
                username,
                password,
                keep_alive_interval_in_secs,
            );
            match opened {
                Ok(connection) => Ok(Ok(view.table.push(connection)?)),
                Err(e) => Ok(Err(e.into())),
            }
        })
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        self_: Resource<MqttConnection>,
        topic: String,
        payload: Vec<u8>,
        qos: v3::Qos,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let publisher = accessor.with(|mut access| publisher_of(access.get().table, &self_))?;
        Ok(publisher
            .publish(topic, payload, qos.into())
            .await
            .map_err(Into::into))
    }
}

// ---- fermyon:spin/mqtt@2.0.0 ---------------------------------------------

impl v2::Host for SpinView<'_> {}

impl v2::HostConnection for SpinView<'_> {
    async fn open(
        &mut self,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, v2::Error>> {
        let opened = open(
            self.ctx,
            &address,
            username,
            password,
            keep_alive_interval_in_secs,
        );
        match opened {
            Ok(connection) => Ok(Ok(self.table.push(connection)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn publish(
        &mut self,
        self_: Resource<MqttConnection>,
        topic: String,
        payload: Vec<u8>,
        qos: v2::Qos,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let publisher = publisher_of(self.table, &self_)?;
        Ok(publisher
            .publish(topic, payload, qos.into())
            .await
            .map_err(Into::into))
    }

    async fn drop(&mut self, rep: Resource<MqttConnection>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spin::context_allowing;

    #[test]
    fn only_granted_brokers_are_opened() {
        let ctx = context_allowing(&["mqtt://broker.internal"]);
        let opened = |ctx: &SpinCtx, address: &str| open(ctx, address, "u".into(), "p".into(), 30);
        assert!(opened(&ctx, "mqtt://broker.internal?client_id=a").is_ok());
        assert!(opened(&ctx, "mqtt://broker.internal:1883?client_id=a").is_ok());
        let refused = "mqtt://broker.internal:8883?client_id=a";
        let Err(MqttError::ConnectionFailed(message)) = opened(&ctx, refused) else {
            panic!("{refused} was opened");
        };
        assert_eq!(message, format!("address {refused} is not permitted"));
        assert!(matches!(
            opened(&context_allowing(&[]), "mqtt://broker.internal?client_id=a"),
            Err(MqttError::ConnectionFailed(_))
        ));
        // The client needs its id.
        assert!(matches!(
            opened(&ctx, "mqtt://broker.internal"),
            Err(MqttError::InvalidAddress)
        ));
    }
}
