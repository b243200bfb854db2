//! Orders: the hold check on every order the ERP sends (R1), the decision
//! history behind each order, the held queue, releases and cancellations,
//! and the re-check of held orders after anything that lowers exposure.

use std::sync::LazyLock;

use chrono::NaiveDate;
use credit_core::events::{Cause, EventType};
use credit_core::hold::{self, Decision, HeldOrder, OrderStatus, Reason};
use credit_core::{Account, Currency, Policy};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value as Json, json};

mod queue;

pub use queue::{
    QueueCursor, QueueEntry, QueuePage, QueueQuery, QueueSort, QueueTotal, queue, queue_page,
};

use crate::accounts::{self, Figures, OpenInvoiceRow};
use crate::customers::{self, Customer};
use crate::db::{Columns, Database, DbError, Record, Records, transaction};
use crate::events::{self, NewEvent, Trigger};
use crate::{LedgerError, Result, Stamp, params};

/// An order as the ERP sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderWebhook {
    pub id: String,
    pub customer_id: String,
    pub amount: Decimal,
    pub currency: Currency,
    pub ordered_on: NaiveDate,
    /// When the customer wants the goods, if the ERP says.
    pub requested_ship_on: Option<NaiveDate>,
    /// The date the check is made as of (today unless the ERP says).
    pub as_of: NaiveDate,
}

/// The answer to an order webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub order_id: String,
    pub status: OrderStatus,
    pub reasons: Vec<Reason>,
    pub exposure: Decimal,
    pub credit_limit: Option<Decimal>,
    pub available: Option<Decimal>,
    pub past_due: Decimal,
    pub checked_at: String,
}

impl CheckResult {
    fn new(order_id: &str, decision: Decision, checked_at: String) -> CheckResult {
        CheckResult {
            order_id: order_id.to_string(),
            status: decision.status,
            reasons: decision.reasons,
            exposure: decision.exposure,
            credit_limit: decision.credit_limit,
            available: decision.available,
            past_due: decision.past_due,
            checked_at,
        }
    }
}

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
struct StoredOrder {
    id: String,
    customer_id: String,
    amount_minor: i64,
    ordered_on: NaiveDate,
    requested_ship_on: Option<NaiveDate>,
    status: OrderStatus,
    held_since: Option<String>,
    created_at: String,
    updated_at: String,
}

impl Record for StoredOrder {
    const SELECT: &'static str = "o.id, o.customer_id, o.amount_minor, o.ordered_on, o.requested_ship_on, o.status, o.held_since, o.created_at, o.updated_at";

    fn read(columns: &mut Columns<'_>) -> Result<StoredOrder, DbError> {
        Ok(StoredOrder {
            id: columns.string()?,
            customer_id: columns.string()?,
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

/// R1: checks a new or changed order and stores the decision. The same
/// order delivered again with the same content changes nothing and gets
/// the current decision back.
pub async fn check(
    db: &impl Database,
    order: &OrderWebhook,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<CheckResult> {
    transaction(db, async |db| {
        let (customer, account, existing) = load_for_check(db, order).await?;
        if order.currency != customer.currency {
            return Err(LedgerError::invalid(
                "currency",
                format!(
                    "customer '{}' is invoiced in {}; the order is in {}",
                    customer.id, customer.currency, order.currency
                ),
            ));
        }
        let said = match &existing {
            None => "order created",
            Some(stored) => {
                if let Some(unchanged) = redelivery(db, stored, order, &customer).await? {
                    return Ok(unchanged);
                }
                "order changed"
            }
        };
        let trigger = Trigger::new(Cause::Check, None, said);
        let decision = hold::check_order(&account, order.amount, order.as_of, policy);
        let held_since = next_held_since(existing.as_ref(), &decision, stamp);
        db.execute(
            "INSERT INTO orders (id, customer_id, currency, amount_minor, ordered_on, requested_ship_on, status, held_since,
                 hold_reasons, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
             ON CONFLICT (id) DO UPDATE SET currency = ?3, amount_minor = ?4, ordered_on = ?5, requested_ship_on = ?6,
                 status = ?7, held_since = ?8, hold_reasons = ?9, updated_at = ?10",
            params![
                &order.id,
                &customer.id,
                order.currency.code(),
                customer.currency.to_minor(order.amount),
                order.ordered_on,
                order.requested_ship_on,
                decision.status.as_str(),
                held_since,
                queue::reasons_column(&decision),
                stamp.at_text(),
            ],
        )
        .await?;
        let entry = DecisionEntry::new(DecisionKind::Check, &trigger.text, &decision, stamp);
        record(db, &order.id, &entry, inputs(&account, order.amount, order.as_of, policy)).await?;
        let change = OrderChange {
            order_id: &order.id,
            customer: &customer,
            amount: order.amount,
            decision: &decision,
            trigger: &trigger,
            note: None,
        };
        announce(db, &change, stamp).await?;
        Ok(CheckResult::new(&order.id, decision, stamp.at_text()))
    })
    .await
}

/// Everything the hold check reads, in one statement, for it runs while
/// every other writer waits: the customer; their account, leaving this
/// order out of the released total; the order as stored, if it is; one row
/// per open invoice (one row without an invoice when there is none).
async fn load_for_check(
    db: &impl Database,
    order: &OrderWebhook,
) -> Result<(Customer, Account, Option<StoredOrder>)> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {}, {}, {}, {}
             FROM customers c
             JOIN {}
             LEFT JOIN orders o ON o.id = ?2
             LEFT JOIN invoices i ON i.customer_id = c.id AND i.open_minor > 0
             WHERE c.id = ?1",
            Customer::SELECT,
            Figures::SELECT,
            StoredOrder::SELECT,
            OpenInvoiceRow::SELECT,
            Figures::subquery(),
        )
    });
    let rows = db
        .query(&SQL, params![&order.customer_id, &order.id])
        .await?;
    let Some(first) = rows.first() else {
        return Err(LedgerError::not_found("customer", &order.customer_id));
    };
    let mut columns = first.columns();
    let customer: Customer = columns.record()?;
    let figures: Figures = columns.record()?;
    let stored: Option<StoredOrder> = columns.optional()?;
    let mut invoices = vec![];
    for row in &rows {
        let mut columns = row.columns();
        columns.skip::<Customer>();
        columns.skip::<Figures>();
        columns.skip::<StoredOrder>();
        if let Some(invoice) = columns.optional::<OpenInvoiceRow>()? {
            invoices.push(invoice.of(&customer));
        }
    }
    let account = accounts::account_of(&customer, &figures, invoices);
    Ok((customer, account, stored))
}

/// For an order seen before: `Some(current decision)` when nothing changed,
/// `None` when it must be checked again, an error when it cannot change.
async fn redelivery(
    db: &impl Database,
    stored: &StoredOrder,
    order: &OrderWebhook,
    customer: &Customer,
) -> Result<Option<CheckResult>> {
    if stored.customer_id != order.customer_id {
        return Err(LedgerError::Conflict(format!(
            "order '{}' belongs to customer '{}'; it cannot move to '{}'",
            stored.id, stored.customer_id, order.customer_id
        )));
    }
    let unchanged = stored.amount_minor == customer.currency.to_minor(order.amount)
        && stored.ordered_on == order.ordered_on
        && stored.requested_ship_on == order.requested_ship_on;
    if unchanged {
        let latest = latest_decision(db, &stored.id).await?;
        return Ok(Some(CheckResult::new(
            &stored.id,
            latest.decision,
            latest.decided_at,
        )));
    }
    if matches!(
        stored.status,
        OrderStatus::Cancelled | OrderStatus::Invoiced
    ) {
        return Err(LedgerError::Conflict(format!(
            "order '{}' is {}; it can no longer change",
            stored.id,
            stored.status.as_str()
        )));
    }
    Ok(None)
}

/// A hold keeps the instant it began while the order stays held.
fn next_held_since(
    existing: Option<&StoredOrder>,
    decision: &Decision,
    stamp: &Stamp,
) -> Option<String> {
    if decision.is_released() {
        return None;
    }
    existing
        .filter(|o| o.status == OrderStatus::Held)
        .and_then(|o| o.held_since.clone())
        .or_else(|| Some(stamp.at_text()))
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

/// `GET /orders/{id}`: the order and every decision on it, oldest first.
#[derive(Debug, Serialize)]
pub struct OrderView {
    pub id: String,
    pub customer_id: String,
    pub amount: Decimal,
    pub currency: Currency,
    pub ordered_on: NaiveDate,
    pub status: OrderStatus,
    pub held_since: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub decisions: Vec<DecisionEntry>,
}

pub async fn view(db: &impl Database, id: &str) -> Result<OrderView> {
    let order = get(db, id).await?;
    let customer = customers::get(db, &order.customer_id).await?;
    let sql = format!(
        "SELECT {} FROM order_decisions od WHERE od.order_id = ? ORDER BY od.id",
        DecisionEntry::SELECT
    );
    let decisions = db.records(&sql, params![id]).await?;
    Ok(OrderView {
        amount: customer.money(order.amount_minor),
        currency: customer.currency,
        id: order.id,
        customer_id: order.customer_id,
        ordered_on: order.ordered_on,
        status: order.status,
        held_since: order.held_since,
        created_at: order.created_at,
        updated_at: order.updated_at,
        decisions,
    })
}

/// A manual release by an associate: the override is recorded with the
/// note, the decision it overrides and the account as it stood as of
/// `as_of` — exposure with this order, limit, available and past due, and
/// the figures behind them — so a manager can see what was overridden.
pub async fn release(
    db: &impl Database,
    id: &str,
    note: &str,
    policy: &Policy,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<OrderView> {
    let release = Release {
        note,
        cause: Cause::ManualRelease,
        policy,
        as_of,
    };
    transaction(db, async |db| release_one(db, id, &release, stamp).await).await?;
    view(db, id).await
}

/// A release by hand, of one order or many.
struct Release<'a> {
    note: &'a str,
    /// [`Cause::ManualRelease`] or [`Cause::BulkRelease`].
    cause: Cause,
    policy: &'a Policy,
    as_of: NaiveDate,
}

async fn release_one(
    db: &impl Database,
    id: &str,
    release: &Release<'_>,
    stamp: &Stamp,
) -> Result<()> {
    let (policy, as_of) = (release.policy, release.as_of);
    let order = get(db, id).await?;
    if order.status != OrderStatus::Held {
        return Err(LedgerError::Conflict(format!(
            "order '{id}' is {}; only held orders can be released",
            order.status.as_str()
        )));
    }
    let customer = customers::get(db, &order.customer_id).await?;
    let account = accounts::account(db, &customer, Some(id)).await?;
    let amount = customer.money(order.amount_minor);
    let standing = hold::check_order(&account, amount, as_of, policy);
    set_status(
        db,
        id,
        OrderStatus::Released,
        &queue::reasons_column(&standing),
        stamp,
    )
    .await?;
    let overridden = latest_decision(db, id).await?;
    let mut decision = overridden.decision;
    decision.status = OrderStatus::Released;
    let mut entry = DecisionEntry::new(
        DecisionKind::ManualRelease,
        "released by hand",
        &decision,
        stamp,
    );
    entry.note = Some(release.note.to_string());
    let mut inputs = inputs(&account, amount, as_of, policy);
    inputs["overrides"] = json!(overridden.decided_at);
    inputs["exposure"] = json!(standing.exposure);
    inputs["available"] = json!(standing.available);
    inputs["past_due"] = json!(standing.past_due);
    inputs["failing_reasons"] = json!(standing.reasons);
    record(db, id, &entry, inputs).await?;
    let trigger = Trigger::new(release.cause, None, entry.trigger.as_str());
    let change = OrderChange {
        order_id: id,
        customer: &customer,
        amount,
        decision: &decision,
        trigger: &trigger,
        note: Some(release.note),
    };
    Ok(announce(db, &change, stamp).await?)
}

credit_core::named! {
    /// What a bulk release did with one order.
    pub enum BulkResult {
        Released = "released",
        NotFound = "not_found",
        NotHeld = "not_held",
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
    note: &str,
    policy: &Policy,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<Vec<BulkOutcome>> {
    let release = Release {
        note,
        cause: Cause::BulkRelease,
        policy,
        as_of,
    };
    transaction(db, async |db| {
        let mut outcomes = vec![];
        for id in ids {
            let (outcome, detail) = match release_one(db, id, &release, stamp).await {
                Ok(()) => (BulkResult::Released, format!("order '{id}' released")),
                Err(LedgerError::NotFound { .. }) => {
                    (BulkResult::NotFound, format!("order '{id}' does not exist"))
                }
                Err(LedgerError::Conflict(detail)) => (BulkResult::NotHeld, detail),
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
        let unchanged = Recheck::default();
        let recheck = match order.status {
            OrderStatus::Cancelled => unchanged,
            OrderStatus::Invoiced => {
                return Err(LedgerError::Conflict(format!(
                    "order '{id}' is invoiced; cancel the invoice in the ERP instead"
                )));
            }
            OrderStatus::Released | OrderStatus::Held | OrderStatus::PendingApproval => {
                set_status(db, id, OrderStatus::Cancelled, NO_REASONS, stamp).await?;
                let customer = customers::get(db, &order.customer_id).await?;
                let change = StatusChange {
                    order: &order,
                    customer: &customer,
                    to: OrderStatus::Cancelled,
                    kind: DecisionKind::Cancel,
                    trigger: "order cancelled",
                    details: json!({ "as_of": as_of }),
                };
                let decision = note_status_change(db, &change, stamp).await?;
                let cancelled = OrderChange {
                    order_id: id,
                    customer: &customer,
                    amount: customer.money(order.amount_minor),
                    decision: &decision,
                    trigger: &Trigger::new(Cause::Cancellation, Some(id), "order cancelled"),
                    note: None,
                };
                announce(db, &cancelled, stamp).await?;
                let trigger = Trigger::new(
                    Cause::Cancellation,
                    Some(id),
                    format!("order {id} cancelled"),
                );
                recheck_held(db, &customer, as_of, policy, &trigger, stamp).await?
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
    let open = matches!(order.status, OrderStatus::Released | OrderStatus::Held);
    if order.customer_id != customer.id || !open {
        return Ok(false);
    }
    set_status(db, order_id, OrderStatus::Invoiced, NO_REASONS, stamp).await?;
    let trigger = format!("invoice {invoice_id} posted");
    let change = StatusChange {
        order: &order,
        customer,
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
    customer: &'a Customer,
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
    let account = accounts::account(db, change.customer, None).await?;
    let mut inputs = json!({
        "order_amount": change.customer.money(change.order.amount_minor),
        "previous_status": change.order.status,
        "account_after": account_figures(&account),
    });
    if let (Some(inputs), Json::Object(details)) = (inputs.as_object_mut(), &change.details) {
        inputs.extend(details.clone());
    }
    record(db, id, &entry, inputs).await?;
    Ok(decision)
}

/// A decision on an order the ERP is told of.
struct OrderChange<'a> {
    order_id: &'a str,
    customer: &'a Customer,
    amount: Decimal,
    decision: &'a Decision,
    trigger: &'a Trigger,
    /// What a person wrote with a release by hand.
    note: Option<&'a str>,
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
        "customer_id": change.customer.id,
        "status": decision.status,
        "amount": change.amount,
        "currency": change.customer.currency,
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

/// Re-checks the customer's held orders oldest first; each release counts
/// toward the next (R2.5). Every re-check is recorded with its trigger.
/// Runs inside the caller's transaction.
pub async fn recheck_held(
    db: &impl Database,
    customer: &Customer,
    as_of: NaiveDate,
    policy: &Policy,
    trigger: &Trigger,
    stamp: &Stamp,
) -> Result<Recheck, DbError> {
    let held = held_orders_oldest_first(db, customer).await?;
    if held.is_empty() {
        return Ok(Recheck::default());
    }
    let account = accounts::account(db, customer, None).await?;
    let mut recheck = Recheck::default();
    let mut running = account.clone();
    for (order, decision) in hold::recheck_held_orders(&account, &held, as_of, policy) {
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
            recheck.still_held.push(order.id.clone());
        }
        let entry = DecisionEntry::new(DecisionKind::Recheck, &trigger.text, &decision, stamp);
        record(
            db,
            &order.id,
            &entry,
            inputs(&running, order.amount, as_of, policy),
        )
        .await?;
        if decision.is_released() {
            let change = OrderChange {
                order_id: &order.id,
                customer,
                amount: order.amount,
                decision: &decision,
                trigger,
                note: None,
            };
            announce(db, &change, stamp).await?;
        }
        if decision.is_released() {
            running.released_orders_total += order.amount;
        }
    }
    Ok(recheck)
}

async fn held_orders_oldest_first(
    db: &impl Database,
    customer: &Customer,
) -> Result<Vec<HeldOrder>, DbError> {
    let rows = db
        .query(
            "SELECT id, amount_minor FROM orders WHERE customer_id = ? AND status = ?
             ORDER BY ordered_on, held_since, id",
            params![&customer.id, OrderStatus::Held.as_str()],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(HeldOrder {
                id: row.string(0)?,
                amount: customer.money(row.int(1)?),
            })
        })
        .collect()
}
