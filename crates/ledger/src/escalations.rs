//! Escalations: an order, a customer or a dispute an associate referred to
//! the supervisors, and their answer. This module reads and writes the
//! escalations table alone; raising one on a subject that exists is
//! [`crate::workflows::escalation`].

use chrono::{DateTime, Utc};
use credit_core::Named;
use credit_core::escalation::{self, EscalationStatus, SubjectType};
use serde::Serialize;

use crate::customers::AssigneeFilter;
use crate::db::{Columns, Database, DbError, Record, Records, Value};
use crate::{Stamp, params, timestamp};

/// An escalation as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub id: i64,
    pub subject_type: SubjectType,
    pub subject_id: String,
    /// Whose account the subject is on.
    pub customer_id: String,
    pub reason: String,
    pub note: String,
    pub status: EscalationStatus,
    pub raised_by: String,
    pub raised_at: String,
    /// The response target: one business day after it was raised.
    pub respond_by: String,
    pub outcome: Option<String>,
    pub answer: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
}

impl Record for Escalation {
    const SELECT: &'static str = "e.id, e.subject_type, e.subject_id, e.customer_id, e.reason, e.note, e.status, e.raised_by, e.raised_at, e.respond_by, e.outcome, e.answer, e.resolved_by, e.resolved_at";

    fn read(columns: &mut Columns<'_>) -> Result<Escalation, DbError> {
        Ok(Escalation {
            id: columns.int()?,
            subject_type: columns.named()?,
            subject_id: columns.string()?,
            customer_id: columns.string()?,
            reason: columns.string()?,
            note: columns.string()?,
            status: columns.named()?,
            raised_by: columns.string()?,
            raised_at: columns.string()?,
            respond_by: columns.string()?,
            outcome: columns.opt_string()?,
            answer: columns.opt_string()?,
            resolved_by: columns.opt_string()?,
            resolved_at: columns.opt_string()?,
        })
    }
}

/// An escalation as people read it at a moment: how old it is, and
/// whether an open one is past its response target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EscalationView {
    #[serde(flatten)]
    pub escalation: Escalation,
    /// Whole hours since it was raised (until it was answered, if it was).
    pub age_hours: i64,
    /// Open and past its response target.
    pub overdue: bool,
}

impl Escalation {
    /// How it stands at `now`.
    pub fn at(self, now: DateTime<Utc>) -> EscalationView {
        let instant = |text: &str| DateTime::parse_from_rfc3339(text).map(|at| at.to_utc());
        let raised_at = instant(&self.raised_at).unwrap_or(now);
        let answered_at = self.resolved_at.as_deref().and_then(|at| instant(at).ok());
        let open = self.status == EscalationStatus::Open;
        let overdue = open
            && instant(&self.respond_by)
                .is_ok_and(|respond_by| escalation::is_overdue(respond_by, now));
        EscalationView {
            age_hours: escalation::age_hours(raised_at, answered_at.unwrap_or(now)),
            overdue,
            escalation: self,
        }
    }
}

/// An escalation to raise, on a subject known to exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEscalation {
    pub subject_type: SubjectType,
    pub subject_id: String,
    pub customer_id: String,
    pub reason: String,
    pub note: String,
}

/// Stores a new open escalation; gives its id.
pub(crate) async fn insert(
    db: &impl Database,
    new: &NewEscalation,
    stamp: &Stamp,
) -> Result<i64, DbError> {
    let row = db.query_row(
        "INSERT INTO escalations (subject_type, subject_id, customer_id, reason, note, status, raised_by, raised_at, respond_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        params![
            new.subject_type.as_str(),
            &new.subject_id,
            &new.customer_id,
            &new.reason,
            &new.note,
            EscalationStatus::Open.as_str(),
            &stamp.by,
            stamp.at_text(),
            timestamp(escalation::respond_by(stamp.at)),
        ],
    )
    .await?
    .ok_or(DbError::Sql("INSERT ... RETURNING gave no row".into()))?;
    row.int(0)
}

/// Records a supervisor's answer to an open escalation; `false` when it
/// is not open (answered already, or no such escalation).
pub(crate) async fn resolve(
    db: &impl Database,
    id: i64,
    outcome: &str,
    answer: &str,
    stamp: &Stamp,
) -> Result<bool, DbError> {
    let answered = db.query_row(
        "UPDATE escalations SET status = ?, outcome = ?, answer = ?, resolved_by = ?, resolved_at = ?
         WHERE id = ? AND status = ? RETURNING id",
        params![
            EscalationStatus::Resolved.as_str(),
            outcome,
            answer,
            &stamp.by,
            stamp.at_text(),
            id,
            EscalationStatus::Open.as_str(),
        ],
    )
    .await?;
    Ok(answered.is_some())
}

pub async fn find(db: &impl Database, id: i64) -> Result<Option<Escalation>, DbError> {
    let sql = format!(
        "SELECT {} FROM escalations e WHERE e.id = ?",
        Escalation::SELECT
    );
    db.record(&sql, params![id]).await
}

/// The open escalation of a subject, if there is one.
pub async fn open_on(
    db: &impl Database,
    subject_type: SubjectType,
    subject_id: &str,
) -> Result<Option<Escalation>, DbError> {
    let sql = format!(
        "SELECT {} FROM escalations e
         WHERE e.subject_type = ? AND e.subject_id = ? AND e.status = ?
         ORDER BY e.id LIMIT 1",
        Escalation::SELECT
    );
    let open = EscalationStatus::Open.as_str();
    db.record(&sql, params![subject_type.as_str(), subject_id, open])
        .await
}

/// A subject's escalations, the latest first, as they stand at `now`.
pub async fn of_subject(
    db: &impl Database,
    subject_type: SubjectType,
    subject_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<EscalationView>, DbError> {
    let sql = format!(
        "SELECT {} FROM escalations e WHERE e.subject_type = ? AND e.subject_id = ? ORDER BY e.id DESC",
        Escalation::SELECT
    );
    let rows: Vec<Escalation> = db
        .records(&sql, params![subject_type.as_str(), subject_id])
        .await?;
    Ok(rows.into_iter().map(|e| e.at(now)).collect())
}

/// Every escalation on a customer's account (the customer, its orders and
/// its disputes), the latest first, as they stand at `now`.
pub async fn of_customer(
    db: &impl Database,
    customer_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<EscalationView>, DbError> {
    let sql = format!(
        "SELECT {} FROM escalations e WHERE e.customer_id = ? ORDER BY e.id DESC LIMIT 100",
        Escalation::SELECT
    );
    let rows: Vec<Escalation> = db.records(&sql, params![customer_id]).await?;
    Ok(rows.into_iter().map(|e| e.at(now)).collect())
}

/// Which escalations a list shows: oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EscalationQuery {
    pub status: Option<EscalationStatus>,
    pub subject_type: Option<SubjectType>,
    pub subject_id: Option<String>,
    pub raised_by: Option<String>,
    /// Escalations on the accounts of this assignee (or of nobody).
    pub assignee: Option<AssigneeFilter>,
    pub offset: u32,
    pub limit: u32,
}

/// The escalations `query` asks for, oldest first, as they stand at `now`.
pub async fn list(
    db: &impl Database,
    query: &EscalationQuery,
    now: DateTime<Utc>,
) -> Result<Vec<EscalationView>, DbError> {
    let mut conditions = vec!["1 = 1".to_string()];
    let mut params: Vec<Value> = vec![];
    if let Some(status) = query.status {
        // Written out: the open escalations' partial index needs the literal.
        conditions.push(format!(
            "e.status = {}",
            EscalationStatus::sql_list(&[status])
        ));
    }
    if let Some(subject_type) = query.subject_type {
        conditions.push("e.subject_type = ?".into());
        params.push(subject_type.as_str().into());
    }
    if let Some(subject_id) = &query.subject_id {
        conditions.push("e.subject_id = ?".into());
        params.push(subject_id.clone().into());
    }
    if let Some(raised_by) = &query.raised_by {
        conditions.push("e.raised_by = ?".into());
        params.push(raised_by.clone().into());
    }
    if let Some(assignee) = &query.assignee {
        let (condition, value) = assignee.condition("c.assignee", "?");
        conditions.push(condition);
        params.extend(value);
    }
    params.extend([Value::from(query.limit), Value::from(query.offset)]);
    let sql = format!(
        "SELECT {} FROM escalations e LEFT JOIN customers c ON c.id = e.customer_id
         WHERE {} ORDER BY e.raised_at, e.id LIMIT ? OFFSET ?",
        Escalation::SELECT,
        conditions.join(" AND ")
    );
    let rows: Vec<Escalation> = db.records(&sql, params).await?;
    Ok(rows.into_iter().map(|e| e.at(now)).collect())
}
