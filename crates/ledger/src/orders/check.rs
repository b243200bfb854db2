//! R1 on every order the ERP sends: the hold check, stored with its inputs.
//! An order the desk cannot check yet — its customer is unknown, or it is
//! in another currency than the customer's — is stored and held with that
//! reason, and checked when the customer arrives or changes.

use std::sync::LazyLock;

use chrono::NaiveDate;
use credit_core::events::Cause;
use credit_core::hold::{self, Decision, OrderStatus, Reason};
use credit_core::{Account, Currency, Policy};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;

use super::{
    DecisionEntry, DecisionKind, OrderChange, StoredOrder, announce, find, inputs, latest_decision,
    queue, record,
};
use crate::accounts::{self, Figures, OpenInvoiceRow};
use crate::customers::Customer;
use crate::db::{Database, Record, transaction};
use crate::events::Trigger;
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
        let Some((customer, account, existing)) = load_for_check(db, order).await? else {
            let decision = hold::unknown_customer(&order.customer_id);
            return hold_unchecked(db, order, None, decision, stamp).await;
        };
        if order.currency != customer.currency {
            let decision = hold::currency_mismatch(customer.currency, order.currency);
            return hold_unchecked(db, order, Some(&customer), decision, stamp).await;
        }
        let said = match &existing {
            None => "order created",
            Some(stored) => {
                if let Some(unchanged) =
                    redelivery(db, stored, order, Some(customer.currency)).await?
                {
                    return Ok(unchanged);
                }
                "order changed"
            }
        };
        let decision = hold::check_order(&account, order.amount, order.as_of, policy);
        store(db, order, existing.as_ref(), &decision, stamp).await?;
        let entry = DecisionEntry::new(DecisionKind::Check, said, &decision, stamp);
        let inputs = inputs(&account, order.amount, order.as_of, policy);
        record(db, &order.id, &entry, inputs).await?;
        let trigger = Trigger::new(Cause::Check, None, said);
        let change = OrderChange::new(&order.id, &customer, order.amount, &decision, &trigger);
        announce(db, &change, stamp).await?;
        Ok(CheckResult::new(&order.id, decision, stamp.at_text()))
    })
    .await
}

/// Stores and holds an order the desk cannot check yet (`decision` says
/// why: its `customer` is unknown, or in another currency), unless it was
/// delivered before with the same content.
async fn hold_unchecked(
    db: &impl Database,
    order: &OrderWebhook,
    customer: Option<&Customer>,
    decision: Decision,
    stamp: &Stamp,
) -> Result<CheckResult> {
    let existing = find(db, &order.id).await?;
    let customer_currency = customer.map(|c| c.currency);
    if let Some(stored) = &existing
        && let Some(unchanged) = redelivery(db, stored, order, customer_currency).await?
    {
        return Ok(unchanged);
    }
    let said = match existing {
        None => "order created",
        Some(_) => "order changed",
    };
    store(db, order, existing.as_ref(), &decision, stamp).await?;
    let entry = DecisionEntry::new(DecisionKind::Check, said, &decision, stamp);
    let inputs = json!({
        "as_of": order.as_of,
        "order_amount": order.amount,
        "order_currency": order.currency,
    });
    record(db, &order.id, &entry, inputs).await?;
    let trigger = Trigger::new(Cause::Check, None, said);
    let change = OrderChange {
        order_id: &order.id,
        customer_id: &order.customer_id,
        currency: order.currency,
        amount: order.amount,
        decision: &decision,
        trigger: &trigger,
        note: None,
    };
    announce(db, &change, stamp).await?;
    Ok(CheckResult::new(&order.id, decision, stamp.at_text()))
}

/// Creates or replaces the order's row with its latest decision.
async fn store(
    db: &impl Database,
    order: &OrderWebhook,
    existing: Option<&StoredOrder>,
    decision: &Decision,
    stamp: &Stamp,
) -> Result<()> {
    let held_since = next_held_since(existing, decision, stamp);
    db.execute(
        "INSERT INTO orders (id, customer_id, currency, amount_minor, ordered_on, requested_ship_on, status, held_since,
             hold_reasons, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
         ON CONFLICT (id) DO UPDATE SET currency = ?3, amount_minor = ?4, ordered_on = ?5, requested_ship_on = ?6,
             status = ?7, held_since = ?8, hold_reasons = ?9, updated_at = ?10",
        params![
            &order.id,
            &order.customer_id,
            order.currency.code(),
            order.currency.to_minor(order.amount),
            order.ordered_on,
            order.requested_ship_on,
            decision.status.as_str(),
            held_since,
            queue::reasons_column(decision),
            stamp.at_text(),
        ],
    )
    .await?;
    Ok(())
}

/// Everything the hold check reads, in one statement, for it runs while
/// every other writer waits: the customer; their account, leaving this
/// order out of the released total; the order as stored, if it is; one row
/// per open invoice (one row without an invoice when there is none).
/// `None` when the desk does not know the customer.
async fn load_for_check(
    db: &impl Database,
    order: &OrderWebhook,
) -> Result<Option<(Customer, Account, Option<StoredOrder>)>> {
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
        return Ok(None);
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
    Ok(Some((customer, account, stored)))
}

/// For an order seen before: `Some(current decision)` when nothing changed,
/// `None` when it must be checked again, an error when it cannot change.
/// (Orders stored before orders kept their own currency are in their
/// customer's, `customer_currency`.)
async fn redelivery(
    db: &impl Database,
    stored: &StoredOrder,
    order: &OrderWebhook,
    customer_currency: Option<Currency>,
) -> Result<Option<CheckResult>> {
    if stored.customer_id != order.customer_id {
        return Err(LedgerError::Conflict(format!(
            "order '{}' belongs to customer '{}'; it cannot move to '{}'",
            stored.id, stored.customer_id, order.customer_id
        )));
    }
    let unchanged = stored.currency.or(customer_currency) == Some(order.currency)
        && stored.amount_minor == order.currency.to_minor(order.amount)
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
        .filter(|o| matches!(o.status, OrderStatus::Held | OrderStatus::PendingApproval))
        .and_then(|o| o.held_since.clone())
        .or_else(|| Some(stamp.at_text()))
}
