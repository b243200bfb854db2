//! Customers: master data from the ERP, their unapplied cash and their
//! credit limit. The bottom of the ledger: it reads and writes the
//! customers table alone.

use credit_core::Currency;
use credit_core::events::EventType;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;

use crate::db::{Columns, Database, DbError, Record, Records, Value};
use crate::events::{self, NewEvent, Trigger};
use crate::{LedgerError, Result, Stamp, audit, params};

/// Customer master data as the ERP sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerUpdate {
    pub name: String,
    pub currency: Currency,
    pub credit_limit: Option<Decimal>,
    pub payment_terms_days: u32,
    pub grace_days: Option<u32>,
    pub on_hold: bool,
    pub exempt: bool,
    /// Never sent reminder letters.
    pub dunning_exempt: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub currency: Currency,
    pub credit_limit: Option<Decimal>,
    pub payment_terms_days: u32,
    pub grace_days: Option<u32>,
    pub on_hold: bool,
    pub exempt: bool,
    pub dunning_exempt: bool,
    pub created_at: String,
    pub updated_at: String,
    /// The person who works the account, if anyone.
    pub assignee: Option<String>,
}

impl Record for Customer {
    const SELECT: &'static str = "c.id, c.name, c.currency, c.credit_limit_minor, c.payment_terms_days, c.grace_days, c.on_hold, c.exempt, c.dunning_exempt, c.created_at, c.updated_at, c.assignee";

    fn read(columns: &mut Columns<'_>) -> Result<Customer, DbError> {
        let id = columns.string()?;
        let name = columns.string()?;
        let currency = columns.currency()?;
        Ok(Customer {
            id,
            name,
            currency,
            credit_limit: columns.opt_int()?.map(|minor| currency.from_minor(minor)),
            payment_terms_days: u32::try_from(columns.int()?).unwrap_or(0),
            grace_days: columns.opt_int()?.and_then(|d| u32::try_from(d).ok()),
            on_hold: columns.bool()?,
            exempt: columns.bool()?,
            dunning_exempt: columns.bool()?,
            created_at: columns.string()?,
            updated_at: columns.string()?,
            assignee: columns.opt_string()?,
        })
    }
}

impl Customer {
    /// An amount of this customer's, from minor units.
    pub fn money(&self, minor: i64) -> Decimal {
        self.currency.from_minor(minor)
    }
}

pub async fn find(db: &impl Database, id: &str) -> Result<Option<Customer>, DbError> {
    let sql = format!(
        "SELECT {} FROM customers c WHERE c.id = ?",
        Customer::SELECT
    );
    db.record(&sql, params![id]).await
}

/// The customer, or a not-found error naming it.
pub async fn get(db: &impl Database, id: &str) -> Result<Customer> {
    find(db, id)
        .await?
        .ok_or_else(|| LedgerError::not_found("customer", id))
}

/// Creates or replaces a customer's master data.
pub(crate) async fn write(
    db: &impl Database,
    id: &str,
    update: &CustomerUpdate,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let limit = update.credit_limit.map(|l| update.currency.to_minor(l));
    db.execute(
        "INSERT INTO customers (id, name, currency, credit_limit_minor, payment_terms_days, grace_days, on_hold, exempt, dunning_exempt, created_at, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?11, ?9, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET name = ?2, currency = ?3, credit_limit_minor = ?4, payment_terms_days = ?5,
             grace_days = ?6, on_hold = ?7, exempt = ?8, dunning_exempt = ?11, updated_at = ?9, updated_by = ?10",
        params![
            id,
            &update.name,
            update.currency.code(),
            limit,
            update.payment_terms_days,
            update.grace_days,
            update.on_hold,
            update.exempt,
            stamp.at_text(),
            &stamp.by,
            update.dunning_exempt,
        ],
    )
    .await
}

/// Whether the customer has invoices, payments or orders in `currency`
/// (its currency) on the books. Orders in another currency — held for the
/// mismatch — do not count: correcting the customer's currency clears them.
pub async fn has_business(
    db: &impl Database,
    id: &str,
    currency: Currency,
) -> Result<bool, DbError> {
    let row = db
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM invoices WHERE customer_id = ?1)
                 OR EXISTS (SELECT 1 FROM orders WHERE customer_id = ?1 AND COALESCE(currency, ?2) = ?2)
                 OR EXISTS (SELECT 1 FROM payments WHERE customer_id = ?1)",
            params![id, currency.code()],
        )
        .await?;
    row.map_or(Ok(false), |row| row.bool(0))
}

/// Sets a new credit limit (an approved request), recording who did it.
pub async fn set_credit_limit(
    db: &impl Database,
    customer: &Customer,
    limit: Decimal,
    reason: &str,
    stamp: &Stamp,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE customers SET credit_limit_minor = ?, updated_at = ?, updated_by = ? WHERE id = ?",
        params![
            customer.currency.to_minor(limit),
            stamp.at_text(),
            &stamp.by,
            &customer.id
        ],
    )
    .await?;
    let details = json!({ "before": customer.credit_limit, "after": limit, "reason": reason });
    audit::record(
        db,
        stamp,
        "set_credit_limit",
        "customer",
        &customer.id,
        details,
    )
    .await
}

/// Assigns the customer to a person, or to nobody, recording the change
/// in the audit log. Assigning to whoever has it already changes nothing.
pub async fn set_assignee(
    db: &impl Database,
    customer: &Customer,
    assignee: Option<&str>,
    stamp: &Stamp,
) -> Result<(), DbError> {
    if customer.assignee.as_deref() == assignee {
        return Ok(());
    }
    db.execute(
        "UPDATE customers SET assignee = ? WHERE id = ?",
        params![assignee, &customer.id],
    )
    .await?;
    let details = json!({ "before": customer.assignee, "after": assignee });
    audit::record(db, stamp, ASSIGN, "customer", &customer.id, details).await
}

/// Whose accounts a list shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// The accounts assigned to this person.
    Person(String),
    /// The accounts assigned to nobody (and orders of customers the desk
    /// does not know yet).
    Unassigned,
}

impl AssigneeFilter {
    /// The condition on the assignee `column`, with `placeholder` standing
    /// for the value it binds, if any.
    pub fn condition(&self, column: &str, placeholder: &str) -> (String, Option<Value>) {
        match self {
            AssigneeFilter::Person(name) => (
                format!("{column} = {placeholder}"),
                Some(name.clone().into()),
            ),
            AssigneeFilter::Unassigned => (format!("{column} IS NULL"), None),
        }
    }

    /// Whether an account assigned to `assignee` passes.
    pub fn matches(&self, assignee: Option<&str>) -> bool {
        match self {
            AssigneeFilter::Person(name) => assignee == Some(name.as_str()),
            AssigneeFilter::Unassigned => assignee.is_none(),
        }
    }
}

/// The audit log's action for a change of assignee.
const ASSIGN: &str = "assign";

/// One change of a customer's assignee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub at: String,
    pub by: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Record for Assignment {
    const SELECT: &'static str =
        "a.at, a.actor, json_extract(a.details, '$.before'), json_extract(a.details, '$.after')";

    fn read(columns: &mut Columns<'_>) -> Result<Assignment, DbError> {
        Ok(Assignment {
            at: columns.string()?,
            by: columns.string()?,
            from: columns.opt_string()?,
            to: columns.opt_string()?,
        })
    }
}

/// Who worked the customer's account when: its latest 50 changes of
/// assignee, the latest first.
pub async fn assignment_history(db: &impl Database, id: &str) -> Result<Vec<Assignment>, DbError> {
    let sql = format!(
        "SELECT {} FROM audit_log a
         WHERE a.entity = 'customer' AND a.entity_id = ? AND a.action = ?
         ORDER BY a.id DESC LIMIT 50",
        Assignment::SELECT
    );
    db.records(&sql, params![id, ASSIGN]).await
}

/// Adds to the customer's unapplied cash. The total is kept exactly, in
/// the minor units of the customer's currency; a payment that would take
/// it past what the ledger can hold is refused (and, inside the payment's
/// transaction, changes nothing).
pub async fn add_unapplied_cash(
    db: &impl Database,
    customer: &Customer,
    amount: Decimal,
) -> Result<()> {
    let row = db
        .query_row(
            "SELECT unapplied_minor FROM customers WHERE id = ?",
            params![&customer.id],
        )
        .await?
        .ok_or_else(|| LedgerError::not_found("customer", &customer.id))?;
    let total = row
        .int(0)?
        .checked_add(customer.currency.to_minor(amount))
        .ok_or_else(|| too_much_unapplied_cash(customer))?;
    db.execute(
        "UPDATE customers SET unapplied_minor = ? WHERE id = ?",
        params![total, &customer.id],
    )
    .await?;
    Ok(())
}

/// Tells the ERP the customer's credit limit changed, and why.
pub async fn announce_limit_change(
    db: &impl Database,
    customer: &Customer,
    before: Option<Decimal>,
    trigger: &Trigger,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let data = json!({
        "customer_id": customer.id,
        "currency": customer.currency,
        "credit_limit": customer.credit_limit,
        "previous_limit": before,
        "cause": trigger.cause,
        "cause_id": trigger.reference,
        "by": stamp.by,
        "why": trigger.text,
    });
    let event = NewEvent {
        kind: EventType::CreditLimitChanged,
        subject: customer.id.clone(),
        data,
    };
    events::record(db, event, stamp).await
}

/// Tells the ERP the customer's account went on or came off credit hold.
pub async fn announce_hold_change(
    db: &impl Database,
    customer: &Customer,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let data = json!({
        "customer_id": customer.id,
        "on_hold": customer.on_hold,
        "by": stamp.by,
        "why": "customer master data change",
    });
    let event = NewEvent {
        kind: EventType::AccountHoldChanged,
        subject: customer.id.clone(),
        data,
    };
    events::record(db, event, stamp).await
}

fn too_much_unapplied_cash(customer: &Customer) -> LedgerError {
    LedgerError::invalid(
        "amount",
        format!(
            "customer '{}' would hold more unapplied cash than the ledger can keep ({} {}); apply cash to invoices first",
            customer.id,
            customer.money(i64::MAX),
            customer.currency
        ),
    )
}
