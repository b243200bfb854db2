//! The contact log: calls, emails, letters and visits, with promises to pay.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use credit_core::collections::{Channel, Promise, PromiseStatus, Receipt, paid_toward_promises};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::customers::{self, Customer};
use crate::db::{Columns, Database, DbError, Record, Records};
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
    /// What counts toward the promise as of the query date: payments
    /// received between the contact and the promised date, oldest promise
    /// first, each payment counted for one promise only (never more than
    /// the promised amount).
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
    let id = insert(db, &customer, contact, stamp).await?;
    let contacts = select(db, &customer, Some(id), as_of).await?;
    Ok(contacts
        .into_iter()
        .next()
        .expect("the contact just written"))
}

/// Writes a contact into the log; gives its id.
pub(crate) async fn insert(
    db: &impl Database,
    customer: &Customer,
    contact: &NewContact,
    stamp: &Stamp,
) -> Result<i64, DbError> {
    let promise = contact.promise.as_ref();
    let row = db
        .query_row(
            "INSERT INTO contacts (customer_id, contacted_on, recorded_at, actor, channel, outcome, note, promise_amount_minor, promise_due_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            params![
                &customer.id,
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
    row.int(0)
}

/// The customer's contact log, newest first, with each promise's status.
pub async fn list(db: &impl Database, customer_id: &str, as_of: NaiveDate) -> Result<Vec<Contact>> {
    let customer = customers::get(db, customer_id).await?;
    select(db, &customer, None, as_of).await
}

/// A promise to pay as stored, with what counts toward it as of a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PaidPromise {
    pub contact_id: i64,
    pub customer_id: String,
    /// Its amount in minor units (the matching needs no currency).
    pub promise: Promise,
    /// Minor units: the payments counted toward this promise.
    pub paid_minor: i64,
}

/// The promises to pay made by `as_of` — of one customer, or of every
/// customer — each with what was paid toward it as of `as_of`: payments
/// count oldest promise first, each amount once (credit-core's
/// [`paid_toward_promises`]), received by `as_of`.
pub(crate) async fn paid_promises(
    db: &impl Database,
    customer_id: Option<&str>,
    as_of: NaiveDate,
) -> Result<Vec<PaidPromise>, DbError> {
    // One statement per filter, so each is served by its index: a
    // customer's contacts, or the partial index of promises.
    const COLUMNS: &str =
        "SELECT id, customer_id, contacted_on, promise_amount_minor, promise_due_on FROM contacts";
    let rows = match customer_id {
        Some(id) => {
            let sql = format!(
                "{COLUMNS} WHERE customer_id = ?1 AND promise_amount_minor IS NOT NULL AND contacted_on <= ?2 ORDER BY id"
            );
            db.query(&sql, params![id, as_of]).await?
        }
        None => {
            let sql =
                format!("{COLUMNS} WHERE promise_amount_minor IS NOT NULL AND contacted_on <= ?1");
            db.query(&sql, params![as_of]).await?
        }
    };
    let mut by_customer: BTreeMap<String, Vec<(i64, Promise)>> = BTreeMap::new();
    for row in &rows {
        let promise = Promise {
            made_on: row.date(2)?,
            amount: Decimal::from(row.int(3)?),
            due_on: row.date(4)?,
        };
        by_customer
            .entry(row.string(1)?)
            .or_default()
            .push((row.int(0)?, promise));
    }
    let mut receipts = receipts_toward(db, &by_customer, customer_id, as_of).await?;
    let mut paid = vec![];
    for (customer_id, mut promises) in by_customer {
        promises.sort_by_key(|(id, _)| *id);
        let terms: Vec<Promise> = promises.iter().map(|(_, p)| p.clone()).collect();
        let received = receipts.remove(&customer_id).unwrap_or_default();
        let amounts = paid_toward_promises(&terms, &received, as_of);
        for ((contact_id, promise), amount) in promises.into_iter().zip(amounts) {
            paid.push(PaidPromise {
                contact_id,
                customer_id: customer_id.clone(),
                paid_minor: amount.to_i64().unwrap_or(i64::MAX),
                promise,
            });
        }
    }
    Ok(paid)
}

/// The payments (minor units) each customer made within the window of one
/// of their promises (from the contact to the promised date), by `as_of`.
async fn receipts_toward(
    db: &impl Database,
    promises: &BTreeMap<String, Vec<(i64, Promise)>>,
    customer_id: Option<&str>,
    as_of: NaiveDate,
) -> Result<HashMap<String, Vec<Receipt>>, DbError> {
    let rows = match customer_id {
        Some(id) => {
            let Some(promises) = promises.get(id) else {
                return Ok(HashMap::new());
            };
            let first = promises.iter().map(|(_, p)| p.made_on).min();
            let last = promises.iter().map(|(_, p)| p.due_on).max();
            let last = last.map(|last| last.min(as_of));
            db.query(
                "SELECT customer_id, id, received_on, amount_minor FROM payments
                 WHERE customer_id = ?1 AND received_on BETWEEN ?2 AND ?3",
                params![id, first, last],
            )
            .await?
        }
        None => {
            if promises.is_empty() {
                return Ok(HashMap::new());
            }
            // Each promise's window, read through the partial index of
            // promises; a payment in several windows is read once.
            db.query(
                "SELECT DISTINCT p.customer_id, p.id, p.received_on, p.amount_minor
                 FROM contacts k JOIN payments p
                   ON p.customer_id = k.customer_id
                  AND p.received_on BETWEEN k.contacted_on AND MIN(k.promise_due_on, ?1)
                 WHERE k.promise_amount_minor IS NOT NULL AND k.contacted_on <= ?1",
                params![as_of],
            )
            .await?
        }
    };
    let mut receipts: HashMap<String, Vec<Receipt>> = HashMap::new();
    for row in &rows {
        receipts.entry(row.string(0)?).or_default().push(Receipt {
            received_on: row.date(2)?,
            amount: Decimal::from(row.int(3)?),
        });
    }
    Ok(receipts)
}

/// The customer's contacts (or just contact `only`), newest first.
async fn select(
    db: &impl Database,
    customer: &Customer,
    only: Option<i64>,
    as_of: NaiveDate,
) -> Result<Vec<Contact>> {
    let select = format!("SELECT {} FROM contacts k", StoredContact::SELECT);
    let rows: Vec<StoredContact> = match only {
        Some(id) => {
            let sql = format!("{select} WHERE k.customer_id = ?1 AND k.id = ?2");
            db.records(&sql, params![&customer.id, id]).await?
        }
        None => {
            let sql = format!("{select} WHERE k.customer_id = ?1 ORDER BY k.id DESC");
            db.records(&sql, params![&customer.id]).await?
        }
    };
    let paid: HashMap<i64, i64> = paid_promises(db, Some(&customer.id), as_of)
        .await?
        .into_iter()
        .map(|p| (p.contact_id, p.paid_minor))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| row.view(customer, &paid, as_of))
        .collect())
}

/// A contact as stored, its promise in minor units.
struct StoredContact {
    id: i64,
    customer_id: String,
    contacted_on: NaiveDate,
    recorded_at: String,
    by: String,
    channel: Channel,
    outcome: String,
    note: String,
    promise_amount_minor: Option<i64>,
    promise_due_on: Option<NaiveDate>,
}

impl Record for StoredContact {
    const SELECT: &'static str = "k.id, k.customer_id, k.contacted_on, k.recorded_at, k.actor, k.channel, k.outcome, k.note, k.promise_amount_minor, k.promise_due_on";

    fn read(columns: &mut Columns<'_>) -> Result<StoredContact, DbError> {
        Ok(StoredContact {
            id: columns.int()?,
            customer_id: columns.string()?,
            contacted_on: columns.date()?,
            recorded_at: columns.string()?,
            by: columns.string()?,
            channel: columns.named()?,
            outcome: columns.string()?,
            note: columns.string()?,
            promise_amount_minor: columns.opt_int()?,
            promise_due_on: columns.opt_date()?,
        })
    }
}

impl StoredContact {
    /// The contact as shown, its promise's standing as of `as_of` given
    /// what was `paid` toward each promise.
    fn view(self, customer: &Customer, paid: &HashMap<i64, i64>, as_of: NaiveDate) -> Contact {
        let promise = match (self.promise_amount_minor, self.promise_due_on) {
            (Some(amount), Some(due_on)) => {
                let promise = Promise {
                    made_on: self.contacted_on,
                    amount: customer.money(amount),
                    due_on,
                };
                // A promise made after `as_of` has nothing counted toward it yet.
                let paid = customer.money(paid.get(&self.id).copied().unwrap_or(0));
                Some(PromiseView {
                    status: promise.status(paid, as_of),
                    amount: promise.amount,
                    due_on,
                    paid,
                })
            }
            _ => None,
        };
        Contact {
            id: self.id,
            customer_id: self.customer_id,
            contacted_on: self.contacted_on,
            recorded_at: self.recorded_at,
            by: self.by,
            channel: self.channel,
            outcome: self.outcome,
            note: self.note,
            promise,
        }
    }
}
