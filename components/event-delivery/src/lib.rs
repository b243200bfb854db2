//! event-delivery: pushes the event feed to the ERP — each event POSTed to
//! `erp_events_url` as a Standard Webhooks message signed with
//! `erp_events_secret` — and shows managers how delivery stands. Spin
//! components have no timers: a scheduler calls `POST
//! /events/deliveries/run` (every second or so), and each run pushes what
//! is due, then purges events, and webhook and Idempotency-Key answers,
//! past the policy's retention, in small batches.

use api::push::{self, Destination, Message, RunSummary, Sender};
use api::replay;
use api::spin::{Desk, serve, variable};
use api::webhook::WebhookSecret;
use api::{Access, Call, Problem, Reply, Role, Route, handler};
use bytes::Bytes;
use chrono::{Duration, Utc};
use ledger::events::{self, PushHealth};
use serde::{Deserialize, Serialize};
use spin_sdk::http::{FullBody, IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

/// The scheduler that starts runs (or a manager).
const SCHEDULER: Access = Access::Person(Role::Integration);

const ROUTES: &[Route<Desk>] = &[
    Route::get("/events/deliveries", Access::MANAGER, handler!(health)),
    Route::get(
        "/events/deliveries/failed",
        Access::MANAGER,
        handler!(failed),
    ),
    Route::post(
        "/events/deliveries/redeliver",
        Access::MANAGER,
        handler!(redeliver),
    ),
    Route::post("/events/deliveries/run", SCHEDULER, handler!(run)),
];

/// Where events are pushed, when `erp_events_url` is set.
async fn destination() -> Result<Option<Destination>, Problem> {
    let url = variable("erp_events_url").await?;
    if url.trim().is_empty() {
        return Ok(None);
    }
    let secret = WebhookSecret::parse(&variable("erp_events_secret").await?).map_err(|_| {
        eprintln!("error: erp_events_url is set but erp_events_secret is not a whsec_ secret");
        Problem::internal()
    })?;
    Ok(Some(Destination {
        url: url.trim().to_string(),
        secret,
    }))
}

#[derive(Serialize)]
struct Health {
    /// Whether events are pushed (`erp_events_url` is set).
    pushing: bool,
    url: Option<String>,
    #[serde(flatten)]
    health: PushHealth,
}

/// `GET /events/deliveries`: pending, failed, last success and failure.
async fn health(desk: &Desk, _: &Call) -> Result<Reply, Problem> {
    let url = destination().await?.map(|d| d.url);
    let health = events::push_health(&desk.db).await?;
    Ok(Reply::ok(&Health {
        pushing: url.is_some(),
        url,
        health,
    }))
}

/// Most failed events listed at once.
const MAX_FAILED: u32 = 500;

/// `GET /events/deliveries/failed`: the events given up on, oldest first.
async fn failed(desk: &Desk, _: &Call) -> Result<Reply, Problem> {
    let failed = events::failed(&desk.db, MAX_FAILED).await?;
    Ok(Reply::ok(&serde_json::json!({ "events": failed })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedeliverBody {
    /// The failed events to push again; every failed one when left out
    /// (but not when `null`: a list is expected).
    #[serde(default, deserialize_with = "some_list")]
    event_ids: Option<Vec<String>>,
}

fn some_list<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    Vec::deserialize(deserializer).map(Some)
}

/// `POST /events/deliveries/redeliver` (manager): failed events pushed again.
async fn redeliver(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let body: RedeliverBody = call.json()?;
    if let Some(ids) = &body.event_ids
        && let Some(bad) = ids.iter().position(|id| events::sequence_of(id).is_none())
    {
        return Err(Problem::invalid_field(
            &format!("event_ids[{bad}]"),
            "must be an event id, evt_<n>",
        ));
    }
    let again = events::redeliver(&desk.db, body.event_ids.as_deref(), &call.stamp()).await?;
    Ok(Reply::ok(&serde_json::json!({ "redelivered": again })))
}

#[derive(Serialize)]
struct Run {
    pushing: bool,
    #[serde(flatten)]
    summary: RunSummary,
    /// Events purged, past the policy's retention.
    purged: u64,
    /// Webhook messages and Idempotency-Keys forgotten, past the policy's
    /// retention, with their stored answers.
    requests_purged: usize,
}

/// Events purged per run at most: a small batch keeps the writer's turn short.
const PURGE_BATCH: u32 = 500;

/// `POST /events/deliveries/run` (the scheduler): pushes what is due, then
/// purges old events.
async fn run(desk: &Desk, _: &Call) -> Result<Reply, Problem> {
    let destination = destination().await?;
    let summary = match &destination {
        Some(destination) => {
            let holder = run_id();
            push::run(&desk.db, destination, &SpinSender, &holder, Utc::now).await?
        }
        None => RunSummary::default(),
    };
    let policy = ledger::policy::load(&desk.kv).await?;
    let days = |n: u32| Utc::now() - Duration::days(i64::from(n));
    let events_before = days(policy.event_retention_days);
    let purged = events::purge(&desk.db, events_before, PURGE_BATCH, destination.is_some()).await?;
    let requests_before = days(policy.request_retention_days);
    let requests_purged = replay::purge(&desk.db, &desk.kv, requests_before, PURGE_BATCH).await?;
    Ok(Reply::ok(&Run {
        pushing: destination.is_some(),
        summary,
        purged,
        requests_purged,
    }))
}

/// A name for this run in the pusher's lease.
fn run_id() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the host gives random bytes");
    format!("run-{}", u64::from_le_bytes(bytes))
}

/// Sends over Spin's outbound HTTP, all of a round at once.
struct SpinSender;

/// How long a push may take to connect, and to answer.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Sender for SpinSender {
    async fn send_all(&self, messages: Vec<Message>) -> Vec<Result<u16, String>> {
        futures::future::join_all(messages.into_iter().map(send)).await
    }
}

async fn send(message: Message) -> Result<u16, String> {
    let mut request = http::Request::post(&message.url);
    for (name, value) in &message.headers {
        request = request.header(*name, value);
    }
    let mut request = request
        .body(FullBody::new(Bytes::from(message.body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    request.extensions_mut().insert(timeouts());
    let response = spin_sdk::http::send(request)
        .await
        .map_err(|e| format!("no answer from the ERP: {e:?}"))?;
    Ok(response.status().as_u16())
}

fn timeouts() -> spin_sdk::wasip3::http_compat::RequestOptionsExtension {
    let options = spin_sdk::wasip3::http::types::RequestOptions::new();
    let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).ok();
    let _ = options.set_connect_timeout(nanos(CONNECT_TIMEOUT));
    let _ = options.set_first_byte_timeout(nanos(ANSWER_TIMEOUT));
    let _ = options.set_between_bytes_timeout(nanos(ANSWER_TIMEOUT));
    spin_sdk::wasip3::http_compat::RequestOptionsExtension(options)
}
