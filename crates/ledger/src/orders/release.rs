//! Releases by hand, of one held order or many, each with a note. Where
//! the policy asks for four eyes (`credit_core::release`) an associate's
//! release does not release the order: it waits as `pending_approval`
//! until a manager — never the person who asked — approves or rejects it.

use chrono::NaiveDate;
use credit_core::Policy;
use credit_core::events::Cause;
use credit_core::hold::{self, Decision, OrderStatus};
use credit_core::release::needs_approval;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value as Json, json};

use super::{
    DecisionEntry, DecisionKind, OrderChange, OrderView, StoredOrder, announce, get, inputs,
    latest_decision, latest_of_kind, queue, record, set_status, view,
};
use crate::customers::{self, Customer};
use crate::db::{Database, DbError, transaction};
use crate::events::Trigger;
use crate::{LedgerError, Result, Stamp, accounts, params};

/// A release by hand: why, by whom, as of when.
#[derive(Clone, Copy, Debug)]
pub struct ManualRelease<'a> {
    pub note: &'a str,
    /// A manager's release is never held for approval.
    pub by_manager: bool,
    pub policy: &'a Policy,
    /// The date the account's figures are taken as of.
    pub as_of: NaiveDate,
}

/// What a release by hand did with one order.
enum Outcome {
    Released,
    /// Waiting for a manager, and why.
    PendingApproval(String),
    /// Not held (released, cancelled, invoiced, or waiting for approval).
    NotHeld(String),
    /// Held, but not releasable: the desk cannot check it yet.
    CannotRelease(String),
}

/// Releases one held order (or asks a manager to). An order that is not
/// held, or cannot be released, is a conflict.
pub async fn release(
    db: &impl Database,
    id: &str,
    release: &ManualRelease<'_>,
    stamp: &Stamp,
) -> Result<OrderView> {
    let outcome = transaction(db, async |db| {
        release_one(db, id, release, Cause::ManualRelease, stamp).await
    })
    .await?;
    match outcome {
        Outcome::Released | Outcome::PendingApproval(_) => view(db, id, stamp.at).await,
        Outcome::NotHeld(detail) | Outcome::CannotRelease(detail) => {
            Err(LedgerError::Conflict(detail))
        }
    }
}

credit_core::named! {
    /// What a bulk release did with one order.
    pub enum BulkResult {
        Released = "released",
        /// Waiting for a manager's approval (four eyes).
        PendingApproval = "pending_approval",
        NotFound = "not_found",
        NotHeld = "not_held",
        /// Held for a reason no release clears: its customer is unknown,
        /// or it is in another currency.
        CannotRelease = "cannot_release",
    }
}

/// What happened to one order of a bulk release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BulkOutcome {
    pub order_id: String,
    pub outcome: BulkResult,
    pub detail: String,
}

/// Releases many held orders with one note, in one transaction; orders
/// that are not held (or do not exist) are reported and left alone.
pub async fn release_many(
    db: &impl Database,
    ids: &[String],
    release: &ManualRelease<'_>,
    stamp: &Stamp,
) -> Result<Vec<BulkOutcome>> {
    transaction(db, async |db| {
        let mut outcomes = vec![];
        for id in ids {
            let (outcome, detail) = match release_one(db, id, release, Cause::BulkRelease, stamp)
                .await
            {
                Ok(Outcome::Released) => (BulkResult::Released, format!("order '{id}' released")),
                Ok(Outcome::PendingApproval(why)) => (BulkResult::PendingApproval, why),
                Ok(Outcome::NotHeld(detail)) => (BulkResult::NotHeld, detail),
                Ok(Outcome::CannotRelease(detail)) => (BulkResult::CannotRelease, detail),
                Err(LedgerError::NotFound { .. }) => {
                    (BulkResult::NotFound, format!("order '{id}' does not exist"))
                }
                Err(other) => return Err(other),
            };
            outcomes.push(BulkOutcome {
                order_id: id.clone(),
                outcome,
                detail,
            });
        }
        Ok(outcomes)
    })
    .await
}

/// Releases a held order, or puts it up for approval. The override is
/// recorded with the note, the decision it overrides and the account as
/// it stood as of the release's date — exposure with this order, limit,
/// available and past due, and the figures behind them — so a manager can
/// see what was overridden.
async fn release_one(
    db: &impl Database,
    id: &str,
    release: &ManualRelease<'_>,
    cause: Cause,
    stamp: &Stamp,
) -> Result<Outcome> {
    let order = get(db, id).await?;
    if order.status != OrderStatus::Held {
        return Ok(Outcome::NotHeld(format!(
            "order '{id}' is {}; only held orders can be released",
            order.status.as_str()
        )));
    }
    let Some(customer) = releasable_customer(db, &order).await? else {
        return Ok(Outcome::CannotRelease(format!(
            "order '{id}' cannot be released: {}",
            latest_decision(db, id)
                .await?
                .decision
                .reasons
                .first()
                .map_or("it cannot be checked", |r| &r.detail)
        )));
    };
    let standing = Standing::of(db, &order, &customer, release.as_of, release.policy).await?;
    let amount = standing.amount;
    let wait = needs_approval(
        release.by_manager,
        amount,
        customer.currency,
        &standing.decision.reasons,
        release.policy,
    );
    if let Some(why) = wait {
        let why = why.explain(customer.currency);
        ask_for_approval(db, &order, &standing, release, &why, stamp).await?;
        return Ok(Outcome::PendingApproval(format!(
            "order '{id}' waits for a manager's approval: {why}"
        )));
    }
    let done = Done {
        kind: DecisionKind::ManualRelease,
        trigger: "released by hand",
        cause,
        note: release.note,
        more: json!({}),
    };
    release_now(db, &order, &customer, &standing, &done, stamp).await?;
    Ok(Outcome::Released)
}

/// The order's customer when the order can be released: known, and billed
/// in the order's currency.
async fn releasable_customer(db: &impl Database, order: &StoredOrder) -> Result<Option<Customer>> {
    let customer = customers::find(db, &order.customer_id).await?;
    Ok(customer.filter(|c| order.currency.is_none_or(|currency| currency == c.currency)))
}

/// Where a held order stands as of a date: the check it would get now,
/// and the inputs to record with a release of it — the account, the
/// policy, and the figures and reasons the release overrides.
struct Standing {
    amount: Decimal,
    decision: Decision,
    inputs: Json,
}

impl Standing {
    async fn of(
        db: &impl Database,
        order: &StoredOrder,
        customer: &Customer,
        as_of: NaiveDate,
        policy: &Policy,
    ) -> Result<Standing, DbError> {
        let account = accounts::account(db, customer, Some(&order.id)).await?;
        let amount = customer.money(order.amount_minor);
        let decision = hold::check_order(&account, amount, as_of, policy);
        let mut inputs = inputs(&account, amount, as_of, policy);
        inputs["exposure"] = json!(decision.exposure);
        inputs["available"] = json!(decision.available);
        inputs["past_due"] = json!(decision.past_due);
        inputs["failing_reasons"] = json!(decision.reasons);
        Ok(Standing {
            amount,
            decision,
            inputs,
        })
    }
}

/// A release about to be recorded.
struct Done<'a> {
    kind: DecisionKind,
    trigger: &'a str,
    cause: Cause,
    note: &'a str,
    /// More inputs to record (who asked for an approved release).
    more: Json,
}

async fn release_now(
    db: &impl Database,
    order: &StoredOrder,
    customer: &Customer,
    standing: &Standing,
    done: &Done<'_>,
    stamp: &Stamp,
) -> Result<()> {
    let id = &order.id;
    let reasons = queue::reasons_column(&standing.decision);
    set_status(db, id, OrderStatus::Released, &reasons, stamp).await?;
    let overridden = latest_decision(db, id).await?;
    let mut decision = overridden.decision;
    decision.status = OrderStatus::Released;
    let mut entry = DecisionEntry::new(done.kind, done.trigger, &decision, stamp);
    entry.note = Some(done.note.to_string());
    let mut inputs = standing.inputs.clone();
    inputs["overrides"] = json!(overridden.decided_at);
    if let (Some(inputs), Json::Object(more)) = (inputs.as_object_mut(), &done.more) {
        inputs.extend(more.clone());
    }
    record(db, id, &entry, inputs).await?;
    let trigger = Trigger::new(done.cause, None, done.trigger);
    let amount = customer.money(order.amount_minor);
    let mut change = OrderChange::new(id, customer, amount, &decision, &trigger);
    change.note = Some(done.note);
    Ok(announce(db, &change, stamp).await?)
}

/// Puts a held order up for a manager's approval: it stays on hold (and
/// out of exposure) as `pending_approval`, its hold's start kept.
async fn ask_for_approval(
    db: &impl Database,
    order: &StoredOrder,
    standing: &Standing,
    release: &ManualRelease<'_>,
    why: &str,
    stamp: &Stamp,
) -> Result<()> {
    let id = &order.id;
    move_between_held_and_pending(db, id, OrderStatus::PendingApproval, stamp).await?;
    let mut decision = latest_decision(db, id).await?.decision;
    decision.status = OrderStatus::PendingApproval;
    let mut entry = DecisionEntry::new(
        DecisionKind::ReleaseRequested,
        "release asked for",
        &decision,
        stamp,
    );
    entry.note = Some(release.note.to_string());
    let mut inputs = standing.inputs.clone();
    inputs["needs_approval"] = json!(why);
    Ok(record(db, id, &entry, inputs).await?)
}

/// `held` <-> `pending_approval`: the hold, its start and reasons stay.
async fn move_between_held_and_pending(
    db: &impl Database,
    id: &str,
    to: OrderStatus,
    stamp: &Stamp,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?",
        params![to.as_str(), stamp.at_text(), id],
    )
    .await
}

/// A manager's answer to a release waiting for approval.
#[derive(Clone, Copy, Debug)]
pub struct Approval<'a> {
    pub note: &'a str,
    pub policy: &'a Policy,
    pub as_of: NaiveDate,
}

/// Approves a release waiting for approval: the order is released, as the
/// person who asked would have released it, with both names recorded.
/// Nobody approves their own request.
pub async fn approve_release(
    db: &impl Database,
    id: &str,
    approval: &Approval<'_>,
    stamp: &Stamp,
) -> Result<OrderView> {
    transaction(db, async |db| {
        let (order, request) = pending_request(db, id).await?;
        if request.by == stamp.by {
            return Err(LedgerError::Forbidden(format!(
                "{} asked for the release of order '{id}'; another manager must approve it",
                request.by
            )));
        }
        let Some(customer) = releasable_customer(db, &order).await? else {
            return Err(LedgerError::Conflict(format!(
                "order '{id}' can no longer be released: its customer or currency changed"
            )));
        };
        let standing = Standing::of(db, &order, &customer, approval.as_of, approval.policy).await?;
        let done = Done {
            kind: DecisionKind::ApprovedRelease,
            trigger: "release approved",
            cause: Cause::ApprovedRelease,
            note: approval.note,
            more: json!({
                "requested_by": request.by,
                "requested_at": request.decided_at,
                "request_note": request.note,
            }),
        };
        release_now(db, &order, &customer, &standing, &done, stamp).await
    })
    .await?;
    view(db, id, stamp.at).await
}

/// Rejects a release waiting for approval: the order is held again, as
/// it was, with the manager's note.
pub async fn reject_release(
    db: &impl Database,
    id: &str,
    note: &str,
    stamp: &Stamp,
) -> Result<OrderView> {
    transaction(db, async |db| {
        let (order, request) = pending_request(db, id).await?;
        move_between_held_and_pending(db, &order.id, OrderStatus::Held, stamp).await?;
        let mut decision = latest_decision(db, id).await?.decision;
        decision.status = OrderStatus::Held;
        let mut entry = DecisionEntry::new(
            DecisionKind::ReleaseRejected,
            "release rejected",
            &decision,
            stamp,
        );
        entry.note = Some(note.to_string());
        let inputs = json!({
            "requested_by": request.by,
            "requested_at": request.decided_at,
            "request_note": request.note,
        });
        Ok::<_, LedgerError>(record(db, id, &entry, inputs).await?)
    })
    .await?;
    view(db, id, stamp.at).await
}

/// An order waiting for approval and the request it waits on.
async fn pending_request(db: &impl Database, id: &str) -> Result<(StoredOrder, DecisionEntry)> {
    let order = get(db, id).await?;
    if order.status != OrderStatus::PendingApproval {
        return Err(LedgerError::Conflict(format!(
            "order '{id}' is {}; only releases waiting for approval can be approved or rejected",
            order.status.as_str()
        )));
    }
    let request = latest_of_kind(db, id, DecisionKind::ReleaseRequested)
        .await?
        .ok_or_else(|| LedgerError::Conflict(format!("order '{id}' has no release request")))?;
    Ok((order, request))
}
