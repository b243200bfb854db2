//! Pushing the event feed to the ERP as Standard Webhooks messages: each
//! event is POSTed to `erp_events_url`, signed with `erp_events_secret`,
//! with `webhook-id` the event's id. At least once, and in feed order for
//! each subject: an event whose subject has an earlier event still waiting
//! for its retry waits behind it. A 2xx ends an event; anything else is
//! retried on credit-desk's schedule and, after a day, marked failed.
//!
//! Spin components have no timers: a run is started from outside (the
//! `event-delivery` component's `POST /events/deliveries/run`, called by a
//! scheduler). One run pushes at a time (a lease in the ledger); a run
//! goes on while there is something due, for at most [`RUN_FOR`].

use chrono::{DateTime, Duration, Utc};
use credit_core::events::next_attempt;
use ledger::events::{self, CloudEvent, Outcome, ToPush};
use ledger::{Database, DbError};
use serde::Serialize;

use crate::webhook::{WebhookSecret, sign};

/// Where events go, and the key they are signed with.
#[derive(Clone)]
pub struct Destination {
    pub url: String,
    pub secret: WebhookSecret,
}

/// One signed message, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Destination {
    /// The Standard Webhooks message of `event`, signed at `now`.
    pub fn message(&self, event: &CloudEvent, now: DateTime<Utc>) -> Message {
        let body = serde_json::to_vec(event).expect("events serialise");
        let timestamp = now.timestamp();
        let signature = sign(&self.secret, &event.id, timestamp, &body);
        Message {
            url: self.url.clone(),
            headers: vec![
                ("content-type", "application/json".into()),
                ("webhook-id", event.id.clone()),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", signature),
            ],
            body,
        }
    }
}

/// Sends messages: over Spin's outbound HTTP in a component, anything
/// natively in tests.
#[allow(async_fn_in_trait)]
pub trait Sender {
    /// Sends every message at once; for each, the HTTP status, or why no
    /// answer came.
    async fn send_all(&self, messages: Vec<Message>) -> Vec<Result<u16, String>>;
}

/// How long one run goes on pushing while there is more to push.
pub const RUN_FOR: Duration = Duration::seconds(5);

/// How long a run's lease lasts unless renewed: longer than a round of
/// sends may take (5 s to connect and 10 s to answer, all at once), short
/// enough that pushing goes on soon after a crashed run.
pub const LEASE_FOR: Duration = Duration::seconds(20);

/// Most events sent at once in a round.
pub const ROUND_SIZE: u32 = 64;

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// Whether this run pushed (`false`: another run holds the lease).
    pub ran: bool,
    pub delivered: u32,
    /// Attempts that failed and will be retried.
    pub retrying: u32,
    /// Events given up on in this run.
    pub failed: u32,
}

/// Pushes what is due, round after round, while there is something due
/// and [`RUN_FOR`] has not passed. `clock` tells the time (a run is long
/// enough for it to matter); `holder` names this run in the lease.
pub async fn run(
    db: &impl Database,
    destination: &Destination,
    sender: &impl Sender,
    holder: &str,
    clock: impl Fn() -> DateTime<Utc>,
) -> Result<RunSummary, DbError> {
    let started = clock();
    if !events::take_lease(db, holder, started, started + LEASE_FOR).await? {
        return Ok(RunSummary::default());
    }
    let mut summary = RunSummary {
        ran: true,
        ..RunSummary::default()
    };
    let outcome = async {
        while clock() - started < RUN_FOR {
            let now = clock();
            let due = due(db, now).await?;
            if due.is_empty() {
                break;
            }
            round(db, destination, sender, due, &clock, &mut summary).await?;
            events::take_lease(db, holder, clock(), clock() + LEASE_FOR).await?;
        }
        Ok(())
    }
    .await;
    events::release_lease(db, holder).await?;
    outcome.map(|()| summary)
}

/// The events that may go now (see [`events::to_push`]).
async fn due(db: &impl Database, now: DateTime<Utc>) -> Result<Vec<ToPush>, DbError> {
    events::to_push(db, now, ROUND_SIZE).await
}

/// Sends one round and records what each send gave.
async fn round(
    db: &impl Database,
    destination: &Destination,
    sender: &impl Sender,
    due: Vec<ToPush>,
    clock: &impl Fn() -> DateTime<Utc>,
    summary: &mut RunSummary,
) -> Result<(), DbError> {
    let now = clock();
    let messages = due
        .iter()
        .map(|event| destination.message(&event.event, now))
        .collect();
    let answers = sender.send_all(messages).await;
    let now = clock();
    let outcomes: Vec<(ToPush, Outcome)> = due
        .into_iter()
        .zip(answers)
        .map(|(event, answer)| {
            let outcome = outcome(&event, answer, now);
            match &outcome {
                Outcome::Delivered => summary.delivered += 1,
                Outcome::Failed {
                    retry_at: Some(_), ..
                } => summary.retrying += 1,
                Outcome::Failed { retry_at: None, .. } => summary.failed += 1,
            }
            (event, outcome)
        })
        .collect();
    events::record_outcomes(db, &outcomes, now).await
}

/// A 2xx delivers; anything else is retried, or given up on after a day.
fn outcome(event: &ToPush, answer: Result<u16, String>, now: DateTime<Utc>) -> Outcome {
    let error = match answer {
        Ok(status) if (200..300).contains(&status) => return Outcome::Delivered,
        Ok(status) => format!("the ERP answered HTTP {status}"),
        Err(error) => error,
    };
    let first = event.first_attempt_at.unwrap_or(now);
    Outcome::Failed {
        error,
        retry_at: next_attempt(first, event.attempts + 1, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    use chrono::TimeZone;
    use credit_core::events::EventType;
    use ledger::db::native::NativeDb;
    use ledger::events::{Cursor, NewEvent};
    use ledger::{Stamp, schema, transaction};

    use crate::webhook::{WebhookHeaders, verify};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        futures::executor::block_on(future)
    }

    fn books(subjects: &[&str]) -> NativeDb {
        let db = NativeDb::open_in_memory().unwrap();
        block_on(schema::migrate(&db)).unwrap();
        let stamp = Stamp::new("erp", Utc.with_ymd_and_hms(2025, 6, 30, 9, 0, 0).unwrap());
        for subject in subjects {
            let event = NewEvent {
                kind: EventType::OrderHeld,
                subject: subject.to_string(),
                data: serde_json::json!({ "order_id": subject }),
            };
            block_on(transaction(&db, async |db| {
                events::record(db, event, &stamp).await
            }))
            .unwrap();
        }
        db
    }

    fn destination() -> Destination {
        Destination {
            url: "http://erp.test/credit-events".into(),
            secret: WebhookSecret::parse(SECRET).unwrap(),
        }
    }

    /// A receiver that answers from a script, and keeps what it was sent.
    struct Script {
        answers: RefCell<Vec<Result<u16, String>>>,
        received: RefCell<Vec<Message>>,
    }

    impl Script {
        fn answering(answers: Vec<Result<u16, String>>) -> Script {
            Script {
                answers: RefCell::new(answers),
                received: RefCell::new(vec![]),
            }
        }

        fn ids(&self) -> Vec<String> {
            self.received
                .borrow()
                .iter()
                .map(|m| {
                    m.headers
                        .iter()
                        .find(|(n, _)| *n == "webhook-id")
                        .unwrap()
                        .1
                        .clone()
                })
                .collect()
        }
    }

    impl Sender for Script {
        async fn send_all(&self, messages: Vec<Message>) -> Vec<Result<u16, String>> {
            let answers = messages
                .iter()
                .map(|_| {
                    let mut answers = self.answers.borrow_mut();
                    if answers.is_empty() {
                        Ok(204)
                    } else {
                        answers.remove(0)
                    }
                })
                .collect();
            self.received.borrow_mut().extend(messages);
            answers
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 30, 9, 0, 0).unwrap() + Duration::seconds(seconds)
    }

    /// A clock that moves a tenth of a second each time it is read.
    fn ticking(from: i64) -> impl Fn() -> DateTime<Utc> {
        let tick = RefCell::new(from * 10);
        move || {
            *tick.borrow_mut() += 1;
            at(0) + Duration::milliseconds(100 * *tick.borrow())
        }
    }

    #[test]
    fn every_event_is_sent_signed_once_it_is_due() {
        let db = books(&["SO-1", "SO-2"]);
        let erp = Script::answering(vec![]);
        let summary = block_on(run(&db, &destination(), &erp, "run-1", ticking(0))).unwrap();
        assert_eq!(summary.delivered, 2);
        assert_eq!(erp.ids(), ["evt_1", "evt_2"]);
        let message = erp.received.borrow()[0].clone();
        let header = |name: &str| {
            message
                .headers
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1
                .clone()
        };
        let headers = WebhookHeaders {
            id: &header("webhook-id"),
            timestamp: &header("webhook-timestamp"),
            signature: &header("webhook-signature"),
        };
        let secret = WebhookSecret::parse(SECRET).unwrap();
        let now = header("webhook-timestamp").parse().unwrap();
        assert_eq!(verify(&secret, &headers, &message.body, now), Ok(()));
        let event: CloudEvent = serde_json::from_slice(&message.body).unwrap();
        assert_eq!(event.id, "evt_1");
        assert_eq!(message.url, "http://erp.test/credit-events");
        let again = block_on(run(&db, &destination(), &erp, "run-2", ticking(10))).unwrap();
        assert_eq!(again.delivered, 0, "nothing sent twice");
    }

    #[test]
    fn a_failed_event_is_retried_later_and_its_subject_waits_behind_it() {
        let db = books(&["SO-1", "SO-2", "SO-1"]);
        let erp = Script::answering(vec![Err("connection refused".into()), Ok(200)]);
        let first = block_on(run(&db, &destination(), &erp, "run-1", ticking(0))).unwrap();
        assert_eq!((first.delivered, first.retrying), (1, 1));
        assert_eq!(erp.ids(), ["evt_1", "evt_2"], "evt_3 waits behind evt_1");
        let early = block_on(run(&db, &destination(), &erp, "run-2", ticking(1))).unwrap();
        assert_eq!(early.delivered, 0, "not due yet");
        let later = block_on(run(&db, &destination(), &erp, "run-3", ticking(60))).unwrap();
        assert_eq!(later.delivered, 2);
        assert_eq!(
            erp.ids(),
            ["evt_1", "evt_2", "evt_1", "evt_3"],
            "in order, same id again"
        );
        let health = block_on(events::push_health(&db)).unwrap();
        assert_eq!((health.pending, health.failed), (0, 0));
    }

    #[test]
    fn after_a_day_of_failures_an_event_is_failed_and_its_subject_moves_on() {
        let db = books(&["SO-1", "SO-1"]);
        let erp = Script::answering((0..1000).map(|_| Ok(500)).collect());
        let mut clock = 0;
        while block_on(events::push_health(&db)).unwrap().failed == 0 {
            block_on(run(&db, &destination(), &erp, "run", ticking(clock))).unwrap();
            clock += 3601;
            assert!(clock < 3 * 24 * 3600, "never gave up");
        }
        let sent = erp.ids();
        let (last, before) = sent.split_last().unwrap();
        assert!(
            before.iter().all(|id| id == "evt_1"),
            "evt_2 waited: {sent:?}"
        );
        assert_eq!(last, "evt_2", "the subject moved on once evt_1 failed");
        assert!((20..=40).contains(&before.len()), "{}", before.len());
        let failed = block_on(events::failed(&db, 10)).unwrap();
        assert_eq!(failed[0].event.id, "evt_1");
        assert_eq!(
            failed[0].last_error.as_deref(),
            Some("the ERP answered HTTP 500")
        );
    }

    #[test]
    fn only_one_run_pushes_at_a_time() {
        let db = books(&["SO-1"]);
        let now = at(0);
        assert!(block_on(events::take_lease(&db, "other", now, now + LEASE_FOR)).unwrap());
        let erp = Script::answering(vec![]);
        let summary = block_on(run(&db, &destination(), &erp, "run-1", ticking(0))).unwrap();
        assert!(!summary.ran);
        assert!(erp.ids().is_empty());
        let page = block_on(events::feed(&db, Cursor(0), 10, None)).unwrap();
        assert_eq!(page.events.len(), 1, "still there to push");
    }
}
