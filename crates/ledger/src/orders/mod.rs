//! Orders: the hold check on every order the ERP sends (R1), the decision
//! history behind each order, the held queue, releases and cancellations,
//! and the re-check of held orders after anything that lowers exposure.

use chrono::{DateTime, NaiveDate, Utc};
use credit_core::Named;
use credit_core::escalation::SubjectType;
use credit_core::events::{Cause, EventType};
use credit_core::hold::{self, Decision, HeldOrder, OrderStatus};
use credit_core::{Account, Currency, Policy};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value as Json, json};

mod check;
mod queue;
mod release;

pub use check::{CheckResult, OrderWebhook, check};
pub use release::{
    Approval, BulkOutcome, BulkResult, ManualRelease, approve_release, reject_release, release,
    release_many,
};

pub use queue::{
    QueueCursor, QueueEntry, QueuePage, QueueQuery, QueueSort, QueueTotal, queue, queue_page,
};

use crate::accounts;
use crate::customers::{self, Customer};
use crate::db::{Columns, Database, DbError, Record, Records, transaction};
use crate::escalations::{self, EscalationView};
use crate::events::{self, NewEvent, Trigger};
use crate::{LedgerError, Result, Stamp, params};

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
struct StoredOrder {
    id: String,
    customer_id: String,
    /// The order's own currency (`None` for orders stored before orders
    /// kept it: they are in their customer's).
    currency: Option<Currency>,
    amount_minor: i64,
    ordered_on: NaiveDate,
    requested_ship_on: Option<NaiveDate>,
    status: OrderStatus,
    held_since: Option<String>,
    created_at: String,
    updated_at: String,
}

impl Record for StoredOrder {
    const SELECT: &'static str = "o.id, o.customer_id, o.currency, o.amount_minor, o.ordered_on, o.requested_ship_on, o.status, o.held_since, o.created_at, o.updated_at";

    fn read(columns: &mut Columns<'_>) -> Result<StoredOrder, DbError> {
        Ok(StoredOrder {
            id: columns.string()?,
            customer_id: columns.string()?,
            currency: columns.opt_currency()?,
            amount_minor: columns.int()?,
            ordered_on: columns.date()?,
            requested_ship_on: columns.opt_date()?,
            status: columns.named()?,
            held_since: columns.opt_string()?,
            created_at: columns.string()?,
            updated_at: columns.string()?,
        })
    }
}

async fn find(db: &impl Database, id: &str) -> Result<Option<StoredOrder>, DbError> {
    let sql = format!(
        "SELECT {} FROM orders o WHERE o.id = ?",
        StoredOrder::SELECT
    );
    db.record(&sql, params![id]).await
}

async fn get(db: &impl Database, id: &str) -> Result<StoredOrder> {
    find(db, id)
        .await?
        .ok_or_else(|| LedgerError::not_found("order", id))
}

/// The figures and policy a decision was based on, for the audit trail.
fn inputs(account: &Account, order_amount: Decimal, as_of: NaiveDate, policy: &Policy) -> Json {
    json!({
        "as_of": as_of,
        "order_amount": order_amount,
        "open_balance": account.open_balance(),
        "open_invoices": account.invoices.len(),
        "invoices": invoice_inputs(account),
        "unapplied_cash": account.unapplied_cash,
        "released_orders_total": account.released_orders_total,
        "credit_limit": account.credit_limit,
        "on_hold": account.on_hold,
        "exempt": account.exempt,
        "grace_days": account.grace_days(policy),
        "past_due_tolerance": policy.past_due_tolerance,
        "hold_when_no_limit": policy.hold_when_no_limit,
    })
}

/// Each open invoice a decision saw: id, due date, open and disputed amounts.
fn invoice_inputs(account: &Account) -> Json {
    account
        .invoices
        .iter()
        .map(|invoice| {
            json!({
                "id": invoice.id,
                "due_on": invoice.due_on,
                "open": invoice.open,
                "disputed": invoice.disputed,
            })
        })
        .collect()
}

/// The account's figures as they stand, for a status change that is not a
/// credit decision (a cancellation, an invoice posted).
fn account_figures(account: &Account) -> Json {
    json!({
        "open_balance": account.open_balance(),
        "unapplied_cash": account.unapplied_cash,
        "released_orders_total": account.released_orders_total,
        "exposure": account.exposure(),
        "credit_limit": account.credit_limit,
    })
}

credit_core::named! {
    /// What made a decision on an order.
    pub enum DecisionKind {
        /// The hold check of an order the ERP sent.
        Check = "check",
        /// A held order checked again after its account changed.
        Recheck = "recheck",
        /// A person released it by hand.
        ManualRelease = "manual_release",
        /// An associate asked for its release; a manager must approve it.
        ReleaseRequested = "release_requested",
        /// A manager approved an associate's release.
        ApprovedRelease = "approved_release",
        /// A manager rejected an associate's release: held again.
        ReleaseRejected = "release_rejected",
        Cancel = "cancel",
        /// An invoice was posted for it.
        Invoiced = "invoiced",
    }
}

/// One entry of an order's decision history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecisionEntry {
    pub decided_at: String,
    pub kind: DecisionKind,
    /// What caused it: the order webhook, a payment, a limit approval...
    pub trigger: String,
    pub by: String,
    pub note: Option<String>,
    #[serde(flatten)]
    pub decision: Decision,
    pub inputs: Json,
}

impl DecisionEntry {
    fn new(kind: DecisionKind, trigger: &str, decision: &Decision, stamp: &Stamp) -> DecisionEntry {
        DecisionEntry {
            decided_at: stamp.at_text(),
            kind,
            trigger: trigger.into(),
            by: stamp.by.clone(),
            note: None,
            decision: decision.clone(),
            inputs: Json::Null,
        }
    }
}

impl Record for DecisionEntry {
    const SELECT: &'static str =
        "od.decided_at, od.kind, od.trigger, od.actor, od.note, od.decision, od.inputs";

    fn read(columns: &mut Columns<'_>) -> Result<DecisionEntry, DbError> {
        Ok(DecisionEntry {
            decided_at: columns.string()?,
            kind: columns.named()?,
            trigger: columns.string()?,
            by: columns.string()?,
            note: columns.opt_string()?,
            decision: columns.json()?,
            inputs: columns.json()?,
        })
    }
}

async fn record(
    db: &impl Database,
    order_id: &str,
    entry: &DecisionEntry,
    inputs: Json,
) -> Result<(), DbError> {
    let decision = serde_json::to_string(&entry.decision).expect("decisions serialise");
    db.execute(
        "INSERT INTO order_decisions (order_id, decided_at, kind, trigger, actor, status, note, decision, inputs)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            order_id,
            &entry.decided_at,
            entry.kind.as_str(),
            &entry.trigger,
            &entry.by,
            entry.decision.status.as_str(),
            entry.note.clone(),
            decision,
            inputs.to_string(),
        ],
    )
    .await
}

async fn latest_decision(db: &impl Database, order_id: &str) -> Result<DecisionEntry, DbError> {
    let sql = format!(
        "SELECT {} FROM order_decisions od WHERE od.order_id = ? ORDER BY od.id DESC LIMIT 1",
        DecisionEntry::SELECT
    );
    db.record(&sql, params![order_id])
        .await?
        .ok_or(DbError::Decode {
            column: 0,
            expected: "a decision for every order",
        })
}

/// The latest decision of one kind on an order, if there is one.
async fn latest_of_kind(
    db: &impl Database,
    order_id: &str,
    kind: DecisionKind,
) -> Result<Option<DecisionEntry>, DbError> {
    let sql = format!(
        "SELECT {} FROM order_decisions od WHERE od.order_id = ? AND od.kind = ? ORDER BY od.id DESC LIMIT 1",
        DecisionEntry::SELECT
    );
    db.record(&sql, params![order_id, kind.as_str()]).await
}

/// `GET /orders/{id}`: the order, every decision on it oldest first, and
/// its escalations.
#[derive(Debug, Serialize)]
pub struct OrderView {
    pub id: String,
    pub customer_id: String,
    pub amount: Decimal,
    pub currency: Currency,
    pub ordered_on: NaiveDate,
    pub requested_ship_on: Option<NaiveDate>,
    pub status: OrderStatus,
    pub held_since: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// For an order `pending_approval`: the release it waits on.
    pub release_request: Option<ReleaseRequest>,
    pub decisions: Vec<DecisionEntry>,
    pub escalations: Vec<EscalationView>,
}

/// An associate's release waiting for a manager.
#[derive(Debug, Serialize)]
pub struct ReleaseRequest {
    pub requested_by: String,
    pub requested_at: String,
    pub note: Option<String>,
    /// Why it needs a manager.
    pub needs_approval: Option<String>,
}

impl ReleaseRequest {
    fn of(entry: &DecisionEntry) -> ReleaseRequest {
        ReleaseRequest {
            requested_by: entry.by.clone(),
            requested_at: entry.decided_at.clone(),
            note: entry.note.clone(),
            needs_approval: entry.inputs["needs_approval"].as_str().map(str::to_string),
        }
    }
}

/// The order as it stands at `now`.
pub async fn view(db: &impl Database, id: &str, now: DateTime<Utc>) -> Result<OrderView> {
    let order = get(db, id).await?;
    let currency = currency_of(db, &order).await?;
    let sql = format!(
        "SELECT {} FROM order_decisions od WHERE od.order_id = ? ORDER BY od.id",
        DecisionEntry::SELECT
    );
    let decisions: Vec<DecisionEntry> = db.records(&sql, params![id]).await?;
    let release_request = (order.status == OrderStatus::PendingApproval)
        .then(|| {
            decisions
                .iter()
                .rfind(|d| d.kind == DecisionKind::ReleaseRequested)
        })
        .flatten()
        .map(ReleaseRequest::of);
    let escalations = escalations::of_subject(db, SubjectType::Order, id, now).await?;
    Ok(OrderView {
        amount: currency.from_minor(order.amount_minor),
        currency,
        id: order.id,
        customer_id: order.customer_id,
        ordered_on: order.ordered_on,
        requested_ship_on: order.requested_ship_on,
        status: order.status,
        held_since: order.held_since,
        created_at: order.created_at,
        updated_at: order.updated_at,
        release_request,
        decisions,
        escalations,
    })
}

/// The order's currency: its own, or (for orders stored before orders
/// kept it) its customer's.
async fn currency_of(db: &impl Database, order: &StoredOrder) -> Result<Currency> {
    match order.currency {
        Some(currency) => Ok(currency),
        None => Ok(customers::get(db, &order.customer_id).await?.currency),
    }
}

/// The answer to a cancellation.
#[derive(Debug, Serialize)]
pub struct Cancelled {
    pub order_id: String,
    pub status: OrderStatus,
    /// Held orders of the customer the freed exposure released.
    pub released_orders: Vec<String>,
    pub still_held: Vec<String>,
}

/// Cancels an order, freeing its exposure, and re-checks the customer's
/// held orders. Cancelling a cancelled order again changes nothing.
pub async fn cancel(
    db: &impl Database,
    id: &str,
    as_of: NaiveDate,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<Cancelled> {
    transaction(db, async |db| {
        let order = get(db, id).await?;
        let recheck = match order.status {
            OrderStatus::Cancelled => Recheck::default(),
            OrderStatus::Invoiced => {
                return Err(LedgerError::Conflict(format!(
                    "order '{id}' is invoiced; cancel the invoice in the ERP instead"
                )));
            }
            OrderStatus::Released | OrderStatus::Held | OrderStatus::PendingApproval => {
                cancel_open(db, &order, as_of, policy, stamp).await?
            }
        };
        Ok(Cancelled {
            order_id: id.to_string(),
            status: OrderStatus::Cancelled,
            released_orders: recheck.released,
            still_held: recheck.still_held,
        })
    })
    .await
}

/// Cancels an order that is not closed yet, tells the ERP, and re-checks
/// the customer's held orders (if the desk knows the customer).
async fn cancel_open(
    db: &impl Database,
    order: &StoredOrder,
    as_of: NaiveDate,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<Recheck> {
    let id = &order.id;
    set_status(db, id, OrderStatus::Cancelled, NO_REASONS, stamp).await?;
    let customer = customers::find(db, &order.customer_id).await?;
    let change = StatusChange {
        order,
        customer: customer.as_ref(),
        to: OrderStatus::Cancelled,
        kind: DecisionKind::Cancel,
        trigger: "order cancelled",
        details: json!({ "as_of": as_of }),
    };
    let decision = note_status_change(db, &change, stamp).await?;
    let currency = currency_of(db, order).await?;
    let trigger = Trigger::new(Cause::Cancellation, Some(id), "order cancelled");
    let cancelled = OrderChange {
        order_id: id,
        customer_id: &order.customer_id,
        currency,
        amount: currency.from_minor(order.amount_minor),
        decision: &decision,
        trigger: &trigger,
        note: None,
    };
    announce(db, &cancelled, stamp).await?;
    let Some(customer) = customer else {
        return Ok(Recheck::default());
    };
    let trigger = Trigger::new(
        Cause::Cancellation,
        Some(id),
        format!("order {id} cancelled"),
    );
    Ok(recheck_held(db, &customer, as_of, policy, &trigger, stamp).await?)
}

/// An invoice posted for an order: the order's exposure now lives in the
/// invoice. Orders of another customer, or already closed, are left alone.
pub async fn mark_invoiced(
    db: &impl Database,
    order_id: &str,
    customer: &Customer,
    invoice_id: &str,
    stamp: &Stamp,
) -> Result<bool, DbError> {
    let Some(order) = find(db, order_id).await? else {
        return Ok(false);
    };
    let open = matches!(
        order.status,
        OrderStatus::Released | OrderStatus::Held | OrderStatus::PendingApproval
    );
    if order.customer_id != customer.id || !open {
        return Ok(false);
    }
    set_status(db, order_id, OrderStatus::Invoiced, NO_REASONS, stamp).await?;
    let trigger = format!("invoice {invoice_id} posted");
    let change = StatusChange {
        order: &order,
        customer: Some(customer),
        to: OrderStatus::Invoiced,
        kind: DecisionKind::Invoiced,
        trigger: &trigger,
        details: json!({ "invoice_id": invoice_id }),
    };
    note_status_change(db, &change, stamp).await?;
    Ok(true)
}

/// The reasons column of an order no longer held for any reason.
const NO_REASONS: &str = " ";

/// Moves an order to `status`; `reasons` are its latest decision's (see
/// [`queue::reasons_column`]). Only a check or a re-check starts a hold.
async fn set_status(
    db: &impl Database,
    id: &str,
    status: OrderStatus,
    reasons: &str,
    stamp: &Stamp,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE orders SET status = ?, held_since = NULL, hold_reasons = ?, updated_at = ? WHERE id = ?",
        params![status.as_str(), reasons, stamp.at_text(), id],
    )
    .await
}

/// A status change that is not a credit decision.
struct StatusChange<'a> {
    /// The order as it was before the change.
    order: &'a StoredOrder,
    /// Its customer, when the desk knows it.
    customer: Option<&'a Customer>,
    to: OrderStatus,
    kind: DecisionKind,
    trigger: &'a str,
    /// More inputs to record (the invoice posted, the date).
    details: Json,
}

/// Records a status change that is not a credit decision, keeping the
/// figures of the latest decision for reference; its inputs are the
/// order's amount and former status, and the account's figures after the
/// change. Gives the decision recorded.
async fn note_status_change(
    db: &impl Database,
    change: &StatusChange<'_>,
    stamp: &Stamp,
) -> Result<Decision, DbError> {
    let id = &change.order.id;
    let mut decision = latest_decision(db, id).await?.decision;
    decision.status = change.to;
    let entry = DecisionEntry::new(change.kind, change.trigger, &decision, stamp);
    let mut inputs = json!({
        "order_amount_minor": change.order.amount_minor,
        "previous_status": change.order.status,
    });
    if let Some(customer) = change.customer {
        let account = accounts::account(db, customer, None).await?;
        inputs["order_amount"] = json!(customer.money(change.order.amount_minor));
        inputs["account_after"] = account_figures(&account);
    }
    if let (Some(inputs), Json::Object(details)) = (inputs.as_object_mut(), &change.details) {
        inputs.extend(details.clone());
    }
    record(db, id, &entry, inputs).await?;
    Ok(decision)
}

/// A decision on an order the ERP is told of.
struct OrderChange<'a> {
    order_id: &'a str,
    customer_id: &'a str,
    currency: Currency,
    amount: Decimal,
    decision: &'a Decision,
    trigger: &'a Trigger,
    /// What a person wrote with a release by hand.
    note: Option<&'a str>,
}

impl<'a> OrderChange<'a> {
    /// A decision on an order of a customer the desk knows, in the
    /// customer's currency.
    fn new(
        order_id: &'a str,
        customer: &'a Customer,
        amount: Decimal,
        decision: &'a Decision,
        trigger: &'a Trigger,
    ) -> OrderChange<'a> {
        OrderChange {
            order_id,
            customer_id: &customer.id,
            currency: customer.currency,
            amount,
            decision,
            trigger,
            note: None,
        }
    }
}

/// Records the event of an order held, released or cancelled: the
/// decision with its reasons and figures, what caused it, who and why.
async fn announce(
    db: &impl Database,
    change: &OrderChange<'_>,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let decision = change.decision;
    let kind = match decision.status {
        OrderStatus::Held => EventType::OrderHeld,
        OrderStatus::Released => EventType::OrderReleased,
        OrderStatus::Cancelled => EventType::OrderCancelled,
        OrderStatus::Invoiced | OrderStatus::PendingApproval => return Ok(()),
    };
    let data = json!({
        "order_id": change.order_id,
        "customer_id": change.customer_id,
        "status": decision.status,
        "amount": change.amount,
        "currency": change.currency,
        "reasons": decision.reasons,
        "exposure": decision.exposure,
        "credit_limit": decision.credit_limit,
        "available": decision.available,
        "past_due": decision.past_due,
        "cause": change.trigger.cause,
        "cause_id": change.trigger.reference,
        "by": stamp.by,
        "why": change.trigger.text,
        "note": change.note,
    });
    let event = NewEvent {
        kind,
        subject: change.order_id.to_string(),
        data,
    };
    events::record(db, event, stamp).await
}

/// Held orders a re-check released, and those it left held.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Recheck {
    pub released: Vec<String>,
    pub still_held: Vec<String>,
}

/// Re-checks the customer's held orders — and releases waiting for
/// approval — oldest first; each release counts toward the next (R2.5).
/// Orders in another currency than the customer's stay held for that.
/// Every re-check is recorded with its trigger. Runs inside the caller's
/// transaction.
pub async fn recheck_held(
    db: &impl Database,
    customer: &Customer,
    as_of: NaiveDate,
    policy: &Policy,
    trigger: &Trigger,
    stamp: &Stamp,
) -> Result<Recheck, DbError> {
    let waiting = waiting_orders_oldest_first(db, customer).await?;
    let mut recheck = Recheck::default();
    let (checkable, mismatched): (Vec<Waiting>, Vec<Waiting>) = waiting
        .into_iter()
        .partition(|order| order.currency.is_none_or(|c| c == customer.currency));
    for order in &mismatched {
        hold_for_mismatch(db, order, customer, trigger, stamp).await?;
        recheck.still_held.push(order.id.clone());
    }
    if checkable.is_empty() {
        return Ok(recheck);
    }
    let account = accounts::account(db, customer, None).await?;
    let held: Vec<HeldOrder> = checkable.iter().map(|o| o.held(customer)).collect();
    let mut running = account.clone();
    let decisions = hold::recheck_held_orders(&account, &held, as_of, policy);
    for ((order, mut decision), waiting) in decisions.into_iter().zip(&checkable) {
        let reasons = queue::reasons_column(&decision);
        if decision.is_released() {
            set_status(db, &order.id, OrderStatus::Released, &reasons, stamp).await?;
            recheck.released.push(order.id.clone());
        } else {
            db.execute(
                "UPDATE orders SET hold_reasons = ? WHERE id = ?",
                params![reasons, &order.id],
            )
            .await?;
            // A release waiting for approval keeps waiting.
            decision.status = waiting.status;
            recheck.still_held.push(order.id.clone());
        }
        let entry = DecisionEntry::new(DecisionKind::Recheck, &trigger.text, &decision, stamp);
        let inputs = inputs(&running, order.amount, as_of, policy);
        record(db, &order.id, &entry, inputs).await?;
        if decision.is_released() {
            let change = OrderChange::new(&order.id, customer, order.amount, &decision, trigger);
            announce(db, &change, stamp).await?;
            running.released_orders_total += order.amount;
        }
    }
    Ok(recheck)
}

/// An order waiting on credit: held, or its release waiting for approval.
struct Waiting {
    id: String,
    currency: Option<Currency>,
    amount_minor: i64,
    status: OrderStatus,
    hold_reasons: String,
}

impl Record for Waiting {
    const SELECT: &'static str = "o.id, o.currency, o.amount_minor, o.status, o.hold_reasons";

    fn read(columns: &mut Columns<'_>) -> Result<Waiting, DbError> {
        Ok(Waiting {
            id: columns.string()?,
            currency: columns.opt_currency()?,
            amount_minor: columns.int()?,
            status: columns.named()?,
            hold_reasons: columns.string()?,
        })
    }
}

impl Waiting {
    fn held(&self, customer: &Customer) -> HeldOrder {
        HeldOrder {
            id: self.id.clone(),
            amount: customer.money(self.amount_minor),
        }
    }
}

async fn waiting_orders_oldest_first(
    db: &impl Database,
    customer: &Customer,
) -> Result<Vec<Waiting>, DbError> {
    let sql = format!(
        "SELECT {} FROM orders o WHERE o.customer_id = ? AND o.status IN ({})
         ORDER BY o.ordered_on, o.held_since, o.id",
        Waiting::SELECT,
        OrderStatus::sql_list(&[OrderStatus::Held, OrderStatus::PendingApproval]),
    );
    db.records(&sql, params![&customer.id]).await
}

/// Holds an order in another currency than its customer's for that, if
/// it was held for something else (its customer unknown, say).
async fn hold_for_mismatch(
    db: &impl Database,
    order: &Waiting,
    customer: &Customer,
    trigger: &Trigger,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let currency = order.currency.unwrap_or(customer.currency);
    let decision = hold::currency_mismatch(customer.currency, currency);
    let reasons = queue::reasons_column(&decision);
    if order.hold_reasons == reasons {
        return Ok(());
    }
    db.execute(
        "UPDATE orders SET hold_reasons = ? WHERE id = ?",
        params![&reasons, &order.id],
    )
    .await?;
    let entry = DecisionEntry::new(DecisionKind::Recheck, &trigger.text, &decision, stamp);
    let inputs = json!({ "order_currency": currency, "customer_currency": customer.currency });
    record(db, &order.id, &entry, inputs).await
}

/// The customer an order is for, if the order exists.
pub async fn customer_of(db: &impl Database, id: &str) -> Result<Option<String>, DbError> {
    Ok(find(db, id).await?.map(|order| order.customer_id))
}
