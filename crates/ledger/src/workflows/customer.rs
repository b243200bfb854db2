//! A customer from the ERP, and where its account stands.

use chrono::{DateTime, NaiveDate, Utc};
use credit_core::aging::Aging;
use credit_core::events::Cause;
use credit_core::{FieldError, Policy};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;

use crate::customers::{self, Assignment, Customer, CustomerUpdate};
use crate::db::transaction;
use crate::escalations::{self, EscalationView};
use crate::events::Trigger;
use crate::orders::{self, QueueEntry, QueueQuery, Recheck};
use crate::{Database, LedgerError, Result, Stamp, accounts, audit, limits};

/// The answer to `PUT /customers/{id}`.
#[derive(Debug, Serialize)]
pub struct PutCustomer {
    #[serde(flatten)]
    pub customer: Customer,
    /// Held orders the change released (a higher limit, hold lifted, ...).
    pub released_orders: Vec<String>,
    #[serde(skip)]
    pub created: bool,
}

/// Creates or replaces a customer's master data. A customer's currency
/// cannot change once it has business on the books. A new limit
/// supersedes a pending credit-limit request. Held orders are re-checked
/// as of `as_of`, since a new limit or a lifted hold may clear them — and
/// a new customer's orders that arrived before it are checked now.
pub async fn put(
    db: &impl Database,
    id: &str,
    update: &CustomerUpdate,
    policy: &Policy,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<PutCustomer> {
    transaction(db, async |db| {
        let before = customers::find(db, id).await?;
        if let Some(before) = &before
            && before.currency != update.currency
            && customers::has_business(db, id, before.currency).await?
        {
            return Err(LedgerError::Conflict(format!(
                "customer '{id}' has invoices, orders or payments in {}; its currency cannot change to {}",
                before.currency, update.currency
            )));
        }
        customers::write(db, id, update, stamp).await?;
        let customer = customers::get(db, id).await?;
        let action = if before.is_some() { "update" } else { "create" };
        let details = json!({ "before": before, "after": customer });
        audit::record(db, stamp, action, "customer", id, details).await?;
        let trigger = Trigger::new(Cause::CustomerChange, Some(id), "customer master data change");
        if let Some(before) = &before {
            if before.credit_limit != customer.credit_limit {
                limits::supersede_pending(db, &customer, before.credit_limit, stamp).await?;
                customers::announce_limit_change(db, &customer, before.credit_limit, &trigger, stamp)
                    .await?;
            }
            if before.on_hold != customer.on_hold {
                customers::announce_hold_change(db, &customer, stamp).await?;
            }
        }
        let Recheck { released, .. } =
            orders::recheck_held(db, &customer, as_of, policy, &trigger, stamp).await?;
        Ok(PutCustomer {
            customer,
            released_orders: released,
            created: before.is_none(),
        })
    })
    .await
}

/// `GET /customers/{id}`: master data and the credit position as of a date.
#[derive(Debug, Serialize)]
pub struct Position {
    #[serde(flatten)]
    pub customer: Customer,
    pub as_of: NaiveDate,
    pub open_balance: Decimal,
    pub unapplied_cash: Decimal,
    pub released_orders_total: Decimal,
    pub exposure: Decimal,
    pub available: Option<Decimal>,
    pub past_due: Decimal,
    pub grace_days_applied: u32,
    pub aging: Aging,
    pub held_orders: Vec<QueueEntry>,
    /// Escalations on the account (the customer, its orders and disputes),
    /// the latest first.
    pub escalations: Vec<EscalationView>,
    /// Who worked the account when, the latest change first.
    pub assignments: Vec<Assignment>,
}

/// Where the account stands as of `as_of`; escalations as they stand at
/// `now`.
pub async fn position(
    db: &impl Database,
    id: &str,
    as_of: NaiveDate,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<Position> {
    let customer = customers::get(db, id).await?;
    let account = accounts::account(db, &customer, None).await?;
    let exposure = account.exposure();
    let grace_days = account.grace_days(policy);
    let query = QueueQuery {
        customer_id: Some(customer.id.clone()),
        ..QueueQuery::held()
    };
    Ok(Position {
        as_of,
        open_balance: account.open_balance(),
        unapplied_cash: account.unapplied_cash,
        released_orders_total: account.released_orders_total,
        exposure,
        available: account.credit_limit.map(|limit| limit - exposure),
        past_due: account.past_due(as_of, grace_days),
        grace_days_applied: grace_days,
        aging: account.aging(as_of),
        held_orders: orders::queue(db, &query, as_of).await?,
        escalations: escalations::of_customer(db, id, now).await?,
        assignments: customers::assignment_history(db, id).await?,
        customer,
    })
}

/// Assigns customers to a person, or to nobody, all or none: an unknown
/// customer id is named and nothing changes. Each change is audited.
pub async fn assign(
    db: &impl Database,
    ids: &[String],
    assignee: Option<&str>,
    stamp: &Stamp,
) -> Result<Vec<Customer>> {
    transaction(db, async |db| {
        let mut found = vec![];
        let mut unknown = vec![];
        for (index, id) in ids.iter().enumerate() {
            match customers::find(db, id).await? {
                Some(customer) => found.push(customer),
                None => unknown.push(FieldError::new(
                    format!("customer_ids[{index}]"),
                    format!("customer '{id}' does not exist"),
                )),
            }
        }
        if !unknown.is_empty() {
            return Err(LedgerError::Invalid(unknown));
        }
        let mut assigned = vec![];
        for customer in found {
            customers::set_assignee(db, &customer, assignee, stamp).await?;
            assigned.push(customers::get(db, &customer.id).await?);
        }
        Ok(assigned)
    })
    .await
}
