//! The ERP's event feed, a transactional outbox: every change the ERP must
//! know about is recorded here by the workflow that makes it, inside its
//! transaction — no event without its change, no change without its event.
//! Events are read back as CloudEvents 1.0, oldest first, by cursor; and
//! pushed to the ERP (see the `event-delivery` component), each until it is
//! delivered or, after a day of retries, marked failed.

use chrono::{DateTime, Utc};
use credit_core::events::{Cause, EventType};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::db::{Columns, Database, DbError, Record, Records, transaction};
use crate::{Stamp, params, timestamp};

/// The `source` of every event: this desk.
pub const SOURCE: &str = "/credit-desk";

/// An event about to be recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub kind: EventType,
    /// The order, payment, dispute or customer the event is about.
    pub subject: String,
    pub data: Json,
}

/// Records `event` in the caller's transaction, stamped with its time.
pub async fn record(db: &impl Database, event: NewEvent, stamp: &Stamp) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO events (type, subject, time, data) VALUES (?, ?, ?, ?)",
        params![
            event.kind.as_str(),
            event.subject,
            stamp.at_text(),
            event.data.to_string()
        ],
    )
    .await
}

/// What set a change off, as recorded with an order's decision and told
/// in its event: the cause, the payment, dispute, request or order behind
/// it, and the words the decision history has kept for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub cause: Cause,
    pub reference: Option<String>,
    pub text: String,
}

impl Trigger {
    pub fn new(cause: Cause, reference: Option<&str>, text: impl Into<String>) -> Trigger {
        Trigger {
            cause,
            reference: reference.map(str::to_string),
            text: text.into(),
        }
    }
}

/// An event as the ERP reads it: a CloudEvents 1.0 JSON object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    pub specversion: String,
    /// `evt_<n>`: unique, and the same in the feed and in the push.
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub subject: String,
    pub time: String,
    pub datacontenttype: String,
    pub data: Json,
}

/// An event's id from its place in the feed.
pub fn event_id(sequence: i64) -> String {
    format!("evt_{sequence}")
}

/// The place in the feed behind an `evt_<n>` id.
pub fn sequence_of(id: &str) -> Option<i64> {
    let sequence = id
        .strip_prefix("evt_")?
        .parse()
        .ok()
        .filter(|n: &i64| *n > 0)?;
    (event_id(sequence) == id).then_some(sequence)
}

/// A stored event, in feed order.
struct StoredEvent {
    sequence: i64,
    event: CloudEvent,
}

impl Record for StoredEvent {
    const SELECT: &'static str = "e.seq, e.type, e.subject, e.time, e.data";

    fn read(columns: &mut Columns<'_>) -> Result<StoredEvent, DbError> {
        let sequence = columns.int()?;
        Ok(StoredEvent {
            sequence,
            event: CloudEvent {
                specversion: "1.0".into(),
                id: event_id(sequence),
                source: SOURCE.into(),
                kind: columns.named()?,
                subject: columns.string()?,
                time: columns.string()?,
                datacontenttype: "application/json".into(),
                data: columns.json()?,
            },
        })
    }
}

/// Where a reader of the feed is: after the event with this sequence
/// number (0: before the first). Shown to readers as text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    /// A cursor as a reader sends it back: the decimal number of the last
    /// event read.
    pub fn parse(text: &str) -> Option<Cursor> {
        let valid =
            !text.is_empty() && text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| text.parse().ok().map(Cursor)).flatten()
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One page of the feed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Page {
    pub events: Vec<CloudEvent>,
    /// The cursor to read on from: after the last event of the page, or
    /// where the reader was when there is nothing newer yet.
    pub next: String,
}

/// The events after `after`, oldest first, at most `limit`, of one type
/// when `kind` is given. Events are committed in feed order, so re-reading
/// from a cursor gives the same events, with no gaps, whatever is being
/// written meanwhile.
pub async fn feed(
    db: &impl Database,
    after: Cursor,
    limit: u32,
    kind: Option<EventType>,
) -> Result<Page, DbError> {
    let sql = format!(
        "SELECT {} FROM events e WHERE e.seq > ?1 AND (?2 IS NULL OR e.type = ?2) ORDER BY e.seq LIMIT ?3",
        StoredEvent::SELECT
    );
    let stored: Vec<StoredEvent> = db
        .records(&sql, params![after.0, kind.map(EventType::as_str), limit])
        .await?;
    let next = stored.last().map_or(after, |last| Cursor(last.sequence));
    Ok(Page {
        events: stored.into_iter().map(|stored| stored.event).collect(),
        next: next.to_string(),
    })
}

/// An event waiting to be pushed.
#[derive(Clone, Debug, PartialEq)]
pub struct ToPush {
    pub sequence: i64,
    pub event: CloudEvent,
    pub attempts: u32,
    pub first_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl Record for ToPush {
    const SELECT: &'static str = "e.seq, e.type, e.subject, e.time, e.data, e.attempts, e.first_attempt_at, e.next_attempt_at";

    fn read(columns: &mut Columns<'_>) -> Result<ToPush, DbError> {
        let StoredEvent { sequence, event } = columns.record()?;
        Ok(ToPush {
            sequence,
            event,
            attempts: u32::try_from(columns.int()?).unwrap_or(u32::MAX),
            first_attempt_at: instant(columns.opt_string()?)?,
            next_attempt_at: instant(columns.opt_string()?)?,
        })
    }
}

fn instant(text: Option<String>) -> Result<Option<DateTime<Utc>>, DbError> {
    text.map(|text| {
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| DbError::Decode {
                column: 0,
                expected: "an RFC 3339 instant",
            })
    })
    .transpose()
}

/// The events that may be pushed at `now`, oldest first, at most `limit`:
/// due (never tried, or their retry time has come), and each the oldest
/// event of its subject still to push — an event never overtakes its
/// subject's earlier one, and no two of one subject go together.
pub async fn to_push(
    db: &impl Database,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ToPush>, DbError> {
    let sql = format!(
        "SELECT {} FROM events e
         WHERE e.push_status = 'pending' AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= ?1)
           AND NOT EXISTS (SELECT 1 FROM events p
                           WHERE p.subject = e.subject AND p.push_status = 'pending' AND p.seq < e.seq)
         ORDER BY e.seq LIMIT ?2",
        ToPush::SELECT
    );
    db.records(&sql, params![timestamp(now), limit]).await
}

/// What one push of one event gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The ERP answered 2xx.
    Delivered,
    /// Not delivered: try again at `retry_at`, or (`None`) give up.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Records the outcome of a round of pushes, in one transaction (the
/// delivered ones in one statement: a round's write is the pusher's one
/// turn at the database, taken from everyone else's writes).
pub async fn record_outcomes(
    db: &impl Database,
    outcomes: &[(ToPush, Outcome)],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let now = timestamp(now);
    let delivered: Vec<i64> = outcomes
        .iter()
        .filter(|(_, outcome)| *outcome == Outcome::Delivered)
        .map(|(pushed, _)| pushed.sequence)
        .collect();
    transaction(db, async |db| {
        if !delivered.is_empty() {
            db.execute(
                "UPDATE events SET push_status = 'delivered', attempts = attempts + 1,
                     first_attempt_at = COALESCE(first_attempt_at, ?1), last_attempt_at = ?1,
                     next_attempt_at = NULL, delivered_at = ?1
                 WHERE seq IN (SELECT value FROM json_each(?2))",
                params![
                    now.as_str(),
                    serde_json::to_string(&delivered).expect("numbers serialise")
                ],
            )
            .await?;
        }
        for (pushed, outcome) in outcomes {
            let Outcome::Failed { error, retry_at } = outcome else {
                continue;
            };
            let status = if retry_at.is_some() {
                "pending"
            } else {
                "failed"
            };
            db.execute(
                "UPDATE events SET push_status = ?1, attempts = attempts + 1,
                     first_attempt_at = COALESCE(first_attempt_at, ?2), last_attempt_at = ?2,
                     next_attempt_at = ?3, last_error = ?4
                 WHERE seq = ?5",
                params![
                    status,
                    now.as_str(),
                    retry_at.map(timestamp),
                    error.as_str(),
                    pushed.sequence
                ],
            )
            .await?;
        }
        note_run(db, outcomes, &now).await
    })
    .await
}

/// Keeps when pushing last succeeded and last failed, and why.
async fn note_run(
    db: &impl Database,
    outcomes: &[(ToPush, Outcome)],
    now: &str,
) -> Result<(), DbError> {
    let succeeded = outcomes
        .iter()
        .any(|(_, outcome)| *outcome == Outcome::Delivered);
    let error = outcomes
        .iter()
        .rev()
        .find_map(|(_, outcome)| match outcome {
            Outcome::Failed { error, .. } => Some(error.as_str()),
            Outcome::Delivered => None,
        });
    db.execute(
        "UPDATE event_push_state SET last_run_at = ?1,
             last_success_at = CASE WHEN ?2 THEN ?1 ELSE last_success_at END,
             last_failure_at = CASE WHEN ?3 IS NULL THEN last_failure_at ELSE ?1 END,
             last_error = COALESCE(?3, last_error)
         WHERE id = 1",
        params![now, succeeded, error],
    )
    .await
}

/// Takes the pusher's lease for `holder` until `until`, unless another
/// holder's lease has not expired by `now`. Renewing one's own lease works.
pub async fn take_lease(
    db: &impl Database,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbError> {
    let taken = db
        .query_row(
            "INSERT INTO event_push_lease (id, holder, expires_at) VALUES (1, ?1, ?3)
             ON CONFLICT (id) DO UPDATE SET holder = ?1, expires_at = ?3
                 WHERE event_push_lease.holder = ?1 OR event_push_lease.expires_at <= ?2
             RETURNING holder",
            params![holder, timestamp(now), timestamp(until)],
        )
        .await?;
    Ok(taken.is_some())
}

/// Gives the lease up, if `holder` still has it.
pub async fn release_lease(db: &impl Database, holder: &str) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM event_push_lease WHERE id = 1 AND holder = ?",
        params![holder],
    )
    .await
}

/// How pushing stands, for a manager.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PushHealth {
    /// Events not yet delivered, retries included.
    pub pending: i64,
    /// Events given up on after a day of retries.
    pub failed: i64,
    /// The oldest event still pending, if any.
    pub oldest_pending_at: Option<String>,
    pub last_run_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_failure_at: Option<String>,
    pub last_error: Option<String>,
}

pub async fn push_health(db: &impl Database) -> Result<PushHealth, DbError> {
    let row = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM events WHERE push_status = 'pending'),
                    (SELECT COUNT(*) FROM events WHERE push_status = 'failed'),
                    (SELECT time FROM events WHERE push_status = 'pending' ORDER BY seq LIMIT 1),
                    s.last_run_at, s.last_success_at, s.last_failure_at, s.last_error
             FROM event_push_state s WHERE s.id = 1",
            vec![],
        )
        .await?
        .ok_or(DbError::Decode {
            column: 0,
            expected: "the push state row",
        })?;
    let mut columns = row.columns();
    Ok(PushHealth {
        pending: columns.int()?,
        failed: columns.int()?,
        oldest_pending_at: columns.opt_string()?,
        last_run_at: columns.opt_string()?,
        last_success_at: columns.opt_string()?,
        last_failure_at: columns.opt_string()?,
        last_error: columns.opt_string()?,
    })
}

/// A failed event, for a manager to look at and push again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailedEvent {
    #[serde(flatten)]
    pub event: CloudEvent,
    pub attempts: u32,
    pub first_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

impl Record for FailedEvent {
    const SELECT: &'static str = "e.seq, e.type, e.subject, e.time, e.data, e.attempts, e.first_attempt_at, e.last_attempt_at, e.last_error";

    fn read(columns: &mut Columns<'_>) -> Result<FailedEvent, DbError> {
        let StoredEvent { event, .. } = columns.record()?;
        Ok(FailedEvent {
            event,
            attempts: u32::try_from(columns.int()?).unwrap_or(u32::MAX),
            first_attempt_at: columns.opt_string()?,
            last_attempt_at: columns.opt_string()?,
            last_error: columns.opt_string()?,
        })
    }
}

/// The failed events, oldest first, at most `limit`.
pub async fn failed(db: &impl Database, limit: u32) -> Result<Vec<FailedEvent>, DbError> {
    let sql = format!(
        "SELECT {} FROM events e WHERE e.push_status = 'failed' ORDER BY e.seq LIMIT ?",
        FailedEvent::SELECT
    );
    db.records(&sql, params![limit]).await
}

/// Puts failed events back in line to be pushed, as new: every failed one,
/// or those of `ids` that failed. Gives the ids put back.
pub async fn redeliver(
    db: &impl Database,
    ids: Option<&[String]>,
    stamp: &Stamp,
) -> Result<Vec<String>, DbError> {
    transaction(db, async |db| {
        let failed: Vec<i64> = db
            .query(
                "SELECT seq FROM events WHERE push_status = 'failed' ORDER BY seq",
                vec![],
            )
            .await?
            .iter()
            .map(|row| row.int(0))
            .collect::<Result<_, _>>()?;
        let wanted = |sequence: &i64| {
            ids.is_none_or(|ids| ids.iter().any(|id| sequence_of(id) == Some(*sequence)))
        };
        let mut again = vec![];
        for sequence in failed.into_iter().filter(wanted) {
            db.execute(
                "UPDATE events SET push_status = 'pending', attempts = 0, first_attempt_at = NULL,
                     next_attempt_at = NULL WHERE seq = ?",
                params![sequence],
            )
            .await?;
            again.push(event_id(sequence));
        }
        if !again.is_empty() {
            let details = serde_json::json!({ "events": again });
            crate::audit::record(db, stamp, "redeliver", "events", "push", details).await?;
        }
        Ok(again)
    })
    .await
}

/// Deletes up to `batch` events recorded before `cutoff`, oldest first;
/// events still to be pushed stay unless `pushing` is off. Gives how many
/// went. Small batches keep each writer's turn short.
pub async fn purge(
    db: &impl Database,
    cutoff: DateTime<Utc>,
    batch: u32,
    pushing: bool,
) -> Result<u64, DbError> {
    let deleted = db
        .query(
            "DELETE FROM events WHERE seq IN (
                 SELECT seq FROM events WHERE time < ?1 AND (?2 = 0 OR push_status <> 'pending')
                 ORDER BY time LIMIT ?3)
             RETURNING seq",
            params![timestamp(cutoff), pushing, batch],
        )
        .await?;
    Ok(deleted.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_and_cursors_are_read_back_exactly() {
        assert_eq!(event_id(42), "evt_42");
        assert_eq!(sequence_of("evt_42"), Some(42));
        for bad in ["evt_", "evt_042", "evt_-1", "42", "evt_1x"] {
            assert_eq!(sequence_of(bad), None, "{bad}");
        }
        assert_eq!(Cursor::parse("0"), Some(Cursor(0)));
        assert_eq!(Cursor::parse("1234"), Some(Cursor(1234)));
        for bad in ["", "-1", "1.5", "abc", "9999999999999999999", " 1"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
        assert_eq!(Cursor(17).to_string(), "17");
    }
}
