//! A manager's decision on a credit-limit request (R4): an approval sets
//! the limit, records it in the audit log and re-checks the customer's
//! held orders oldest first — all in one transaction.

use credit_core::Policy;
use credit_core::events::Cause;
use credit_core::limit::{self, RequestStatus};
use rust_decimal::Decimal;

use crate::customers::{self, Customer};
use crate::db::transaction;
use crate::events::Trigger;
use crate::limits::{self, Decided, Decision, LimitRequest, Verdict, refusal};
use crate::orders::{self, Recheck};
use crate::{Database, Result, Stamp, accounts};

/// Decides a pending request. Approval sets the limit (audited) and
/// re-checks the customer's held orders as of `decision.as_of`; a refusal
/// anywhere leaves everything as it was.
pub async fn decide(
    db: &impl Database,
    id: &str,
    decision: &Decision,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<Decided> {
    transaction(db, async |db| {
        let request = limits::get(db, id).await?;
        limit::may_decide(request.status, &request.requested_by, &stamp.by)
            .map_err(|e| refusal(e, "approved_limit"))?;
        let customer = customers::get(db, &request.customer_id).await?;
        let (status, approved, recheck) = match decision.verdict {
            Verdict::Approve { limit } => {
                let limit = limit.unwrap_or(request.requested_limit);
                let recheck =
                    approve(db, &request, &customer, limit, decision, policy, stamp).await?;
                (RequestStatus::Approved, Some(limit), recheck)
            }
            Verdict::Reject => (RequestStatus::Rejected, None, Recheck::default()),
        };
        let minor = approved.map(|limit| customer.currency.to_minor(limit));
        limits::record_decision(
            db,
            &request.id,
            status,
            minor,
            &decision.note,
            &recheck,
            stamp,
        )
        .await?;
        Ok(Decided {
            request: limits::get(db, id).await?,
            credit_limit: customers::get(db, &customer.id).await?.credit_limit,
        })
    })
    .await
}

async fn approve(
    db: &impl Database,
    request: &LimitRequest,
    customer: &Customer,
    limit: Decimal,
    decision: &Decision,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<Recheck> {
    let account = accounts::account(db, customer, None).await?;
    limit::check_new_limit(&account, limit).map_err(|e| refusal(e, "approved_limit"))?;
    let why = format!("credit-limit request {} approved", request.id);
    customers::set_credit_limit(db, customer, limit, &why, stamp).await?;
    let trigger = Trigger::new(Cause::LimitApproval, Some(&request.id), why);
    let before = customer.credit_limit;
    let customer = customers::get(db, &customer.id).await?;
    customers::announce_limit_change(db, &customer, before, &trigger, stamp).await?;
    let recheck =
        orders::recheck_held(db, &customer, decision.as_of, policy, &trigger, stamp).await?;
    Ok(recheck)
}
