//! The contact log: calls, emails, letters and visits, with promises to pay.

use chrono::NaiveDate;
use credit_core::collections::{Channel, Promise, PromiseStatus};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::customers::{self, Customer};
use crate::db::{Database, DbError, Row};
use crate::{LedgerError, Result, Stamp, params};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewContact {
    pub channel: Channel,
    pub outcome: String,
    pub note: String,
    pub contacted_on: NaiveDate,
    pub promise: Option<PromiseToPay>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromiseToPay {
    pub amount: Decimal,
    pub due_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PromiseView {
    pub amount: Decimal,
    pub due_on: NaiveDate,
    /// What the customer paid between the contact and the promised date.
    pub paid: Decimal,
    pub status: PromiseStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub id: i64,
    pub customer_id: String,
    pub contacted_on: NaiveDate,
    pub recorded_at: String,
    pub by: String,
    pub channel: Channel,
    pub outcome: String,
    pub note: String,
    pub promise: Option<PromiseView>,
}

/// Logs a contact with the customer.
pub async fn add(
    db: &impl Database,
    customer_id: &str,
    contact: &NewContact,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<Contact> {
    let customer = customers::get(db, customer_id).await?;
    if let Some(promise) = &contact.promise
        && promise.due_on < contact.contacted_on
    {
        return Err(LedgerError::invalid(
            "promise.due_on",
            "a promise to pay cannot be due before the contact",
        ));
    }
    let promise = contact.promise.as_ref();
    let row = db
        .query_row(
            "INSERT INTO contacts (customer_id, contacted_on, recorded_at, actor, channel, outcome, note, promise_amount_minor, promise_due_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            params![
                customer_id,
                contact.contacted_on,
                stamp.at_text(),
                &stamp.by,
                contact.channel.as_str(),
                &contact.outcome,
                &contact.note,
                promise.map(|p| customer.currency.to_minor(p.amount)),
                promise.map(|p| p.due_on),
            ],
        )
        .await?
        .ok_or(DbError::Sql("INSERT ... RETURNING gave no row".into()))?;
    let id = row.int(0)?;
    let contacts = select(db, &customer, Some(id), as_of).await?;
    Ok(contacts
        .into_iter()
        .next()
        .expect("the contact just written"))
}

/// The customer's contact log, newest first, with each promise's status.
pub async fn list(db: &impl Database, customer_id: &str, as_of: NaiveDate) -> Result<Vec<Contact>> {
    let customer = customers::get(db, customer_id).await?;
    select(db, &customer, None, as_of).await
}

/// What the customer paid toward a promise: payments received from the
/// contact up to the promised date. A column of a query `FROM contacts`.
pub(crate) const PROMISE_PAID: &str = "(SELECT COALESCE(SUM(p.amount_minor), 0) FROM payments p
      WHERE p.customer_id = contacts.customer_id AND p.received_on BETWEEN contacts.contacted_on AND contacts.promise_due_on)";

/// The customer's contacts (or just contact `only`), newest first.
async fn select(
    db: &impl Database,
    customer: &Customer,
    only: Option<i64>,
    as_of: NaiveDate,
) -> Result<Vec<Contact>> {
    let sql = format!(
        "SELECT id, customer_id, contacted_on, recorded_at, actor, channel, outcome, note, promise_amount_minor, promise_due_on,
                {PROMISE_PAID}
         FROM contacts WHERE customer_id = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY id DESC"
    );
    let rows = db.query(&sql, params![&customer.id, only]).await?;
    rows.iter()
        .map(|row| contact(row, customer, as_of))
        .collect::<Result<_, DbError>>()
        .map_err(LedgerError::from)
}

fn contact(row: &Row, customer: &Customer, as_of: NaiveDate) -> Result<Contact, DbError> {
    let contacted_on = row.date(2)?;
    let promise = match (row.opt_int(8)?, row.opt_date(9)?) {
        (Some(amount), Some(due_on)) => {
            let promise = Promise {
                made_on: contacted_on,
                amount: customer.money(amount),
                due_on,
            };
            let paid = customer.money(row.int(10)?);
            Some(PromiseView {
                status: promise.status(paid, as_of),
                amount: promise.amount,
                due_on,
                paid,
            })
        }
        _ => None,
    };
    Ok(Contact {
        id: row.int(0)?,
        customer_id: row.string(1)?,
        contacted_on,
        recorded_at: row.string(3)?,
        by: row.string(4)?,
        channel: Channel::parse(row.text(5)?).ok_or(DbError::Decode {
            column: 5,
            expected: "a contact channel",
        })?,
        outcome: row.string(6)?,
        note: row.string(7)?,
        promise,
    })
}
