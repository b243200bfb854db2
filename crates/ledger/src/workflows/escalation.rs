//! Escalations: an associate refers an order, a customer or a dispute to
//! the supervisors; a manager answers. Both are audited on the subject.

use credit_core::escalation::{EscalationStatus, SubjectType};
use serde_json::json;

use crate::db::transaction;
use crate::escalations::{self, EscalationView, NewEscalation};
use crate::{Database, LedgerError, Result, Stamp, audit, customers, disputes, orders};

/// Raises an escalation on a subject that exists; one open escalation per
/// subject at a time.
pub async fn raise(
    db: &impl Database,
    subject_type: SubjectType,
    subject_id: &str,
    reason: &str,
    note: &str,
    stamp: &Stamp,
) -> Result<EscalationView> {
    transaction(db, async |db| {
        let customer_id = account_of(db, subject_type, subject_id, stamp).await?;
        if let Some(open) = escalations::open_on(db, subject_type, subject_id).await? {
            return Err(LedgerError::Conflict(format!(
                "{subject_type} '{subject_id}' is escalated already (escalation {}, raised by {}); wait for its answer",
                open.id, open.raised_by
            )));
        }
        let new = NewEscalation {
            subject_type,
            subject_id: subject_id.to_string(),
            customer_id,
            reason: reason.to_string(),
            note: note.to_string(),
        };
        let id = escalations::insert(db, &new, stamp).await?;
        let details = json!({ "escalation_id": id, "reason": reason, "note": note });
        audit::record(db, stamp, "escalate", subject_type.as_str(), subject_id, details).await?;
        found(db, id, stamp).await
    })
    .await
}

/// A manager's answer to an open escalation.
pub async fn resolve(
    db: &impl Database,
    id: i64,
    outcome: &str,
    answer: &str,
    stamp: &Stamp,
) -> Result<EscalationView> {
    transaction(db, async |db| {
        let escalation = escalations::find(db, id)
            .await?
            .ok_or_else(|| LedgerError::not_found("escalation", &id.to_string()))?;
        if escalation.status != EscalationStatus::Open {
            return Err(LedgerError::Conflict(format!(
                "escalation {id} was answered already by {}",
                escalation.resolved_by.as_deref().unwrap_or("a manager")
            )));
        }
        escalations::resolve(db, id, outcome, answer, stamp).await?;
        let details = json!({
            "escalation_id": id,
            "outcome": outcome,
            "answer": answer,
            "raised_by": escalation.raised_by,
        });
        let subject_type = escalation.subject_type.as_str();
        audit::record(
            db,
            stamp,
            "resolve_escalation",
            subject_type,
            &escalation.subject_id,
            details,
        )
        .await?;
        found(db, id, stamp).await
    })
    .await
}

/// The customer whose account the subject is on; not found when the
/// subject does not exist.
async fn account_of(
    db: &impl Database,
    subject_type: SubjectType,
    subject_id: &str,
    stamp: &Stamp,
) -> Result<String> {
    let customer_id = match subject_type {
        SubjectType::Customer => customers::find(db, subject_id).await?.map(|c| c.id),
        SubjectType::Order => orders::customer_of(db, subject_id).await?,
        SubjectType::Dispute => match disputes::get(db, subject_id, stamp.today()).await {
            Ok(dispute) => Some(dispute.customer_id),
            Err(LedgerError::NotFound { .. }) => None,
            Err(other) => return Err(other),
        },
    };
    customer_id.ok_or_else(|| LedgerError::not_found(subject_type.as_str(), subject_id))
}

async fn found(db: &impl Database, id: i64, stamp: &Stamp) -> Result<EscalationView> {
    let escalation = escalations::find(db, id)
        .await?
        .ok_or_else(|| LedgerError::not_found("escalation", &id.to_string()))?;
    Ok(escalation.at(stamp.at))
}
