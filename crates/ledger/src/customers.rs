//! Customers: master data from the ERP, and their credit position.

use chrono::NaiveDate;
use credit_core::aging::Aging;
use credit_core::allocation;
use credit_core::{Account, Currency, OpenInvoice, Policy};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;

use crate::db::{Database, DbError, Row, transaction};
use crate::orders::{self, Recheck};
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
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, name, currency, credit_limit_minor, payment_terms_days, grace_days, on_hold, exempt, created_at, updated_at";

/// [`COLUMNS`] of customers `c`, for statements that join them.
pub(crate) const C_COLUMNS: &str = "c.id, c.name, c.currency, c.credit_limit_minor, c.payment_terms_days, c.grace_days, c.on_hold, c.exempt, c.created_at, c.updated_at";
pub(crate) const COLUMN_COUNT: usize = 10;

impl Customer {
    /// A customer read with [`COLUMNS`] (or [`C_COLUMNS`]).
    pub(crate) fn from_row(row: &Row) -> Result<Customer, DbError> {
        let currency = Currency::parse(row.text(2)?).map_err(|_| DbError::Decode {
            column: 2,
            expected: "an ISO 4217 currency",
        })?;
        Ok(Customer {
            id: row.string(0)?,
            name: row.string(1)?,
            currency,
            credit_limit: row.opt_int(3)?.map(|minor| currency.from_minor(minor)),
            payment_terms_days: u32::try_from(row.int(4)?).unwrap_or(0),
            grace_days: row.opt_int(5)?.and_then(|d| u32::try_from(d).ok()),
            on_hold: row.bool(6)?,
            exempt: row.bool(7)?,
            created_at: row.string(8)?,
            updated_at: row.string(9)?,
        })
    }

    /// An amount of this customer's, from minor units.
    pub fn money(&self, minor: i64) -> Decimal {
        self.currency.from_minor(minor)
    }
}

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

pub async fn find(db: &impl Database, id: &str) -> Result<Option<Customer>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM customers WHERE id = ?");
    db.query_row(&sql, params![id])
        .await?
        .map(|row| Customer::from_row(&row))
        .transpose()
}

/// The customer, or a not-found error naming it.
pub async fn get(db: &impl Database, id: &str) -> Result<Customer> {
    find(db, id)
        .await?
        .ok_or_else(|| LedgerError::not_found("customer", id))
}

/// Creates or replaces a customer's master data. A customer's currency
/// cannot change once it has business on the books. Held orders are
/// re-checked as of `as_of`, since a new limit or a lifted hold may clear them.
pub async fn put(
    db: &impl Database,
    id: &str,
    update: &CustomerUpdate,
    policy: &Policy,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<PutCustomer> {
    transaction(db, async |db| {
        let before = find(db, id).await?;
        if let Some(before) = &before
            && before.currency != update.currency
            && has_business(db, id).await?
        {
            return Err(LedgerError::Conflict(format!(
                "customer '{id}' has invoices, orders or payments in {}; its currency cannot change to {}",
                before.currency, update.currency
            )));
        }
        write(db, id, update, stamp).await?;
        let customer = get(db, id).await?;
        audit::record(
            db,
            stamp,
            if before.is_some() { "update" } else { "create" },
            "customer",
            id,
            json!({ "before": before, "after": customer }),
        )
        .await?;
        let Recheck { released, .. } = match before {
            Some(_) => {
                let trigger = "customer master data change";
                orders::recheck_held(db, &customer, as_of, policy, trigger, stamp).await?
            }
            None => Recheck::default(),
        };
        Ok(PutCustomer {
            customer,
            released_orders: released,
            created: before.is_none(),
        })
    })
    .await
}

async fn write(
    db: &impl Database,
    id: &str,
    update: &CustomerUpdate,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let limit = update.credit_limit.map(|l| update.currency.to_minor(l));
    db.execute(
        "INSERT INTO customers (id, name, currency, credit_limit_minor, payment_terms_days, grace_days, on_hold, exempt, created_at, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET name = ?2, currency = ?3, credit_limit_minor = ?4, payment_terms_days = ?5,
             grace_days = ?6, on_hold = ?7, exempt = ?8, updated_at = ?9, updated_by = ?10",
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
        ],
    )
    .await
}

/// Whether the customer has invoices, orders or payments on the books.
pub async fn has_business(db: &impl Database, id: &str) -> Result<bool, DbError> {
    let row = db
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM invoices WHERE customer_id = ?1)
                 OR EXISTS (SELECT 1 FROM orders WHERE customer_id = ?1)
                 OR EXISTS (SELECT 1 FROM payments WHERE customer_id = ?1)",
            params![id],
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

/// Adds to (or, negative, takes from) the customer's unapplied cash.
pub async fn add_unapplied_cash(
    db: &impl Database,
    customer: &Customer,
    amount: Decimal,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE customers SET unapplied_minor = unapplied_minor + ? WHERE id = ?",
        params![customer.currency.to_minor(amount), &customer.id],
    )
    .await
}

/// An open invoice's columns, for [`open_invoice`].
pub(crate) const OPEN_INVOICE_COLUMNS: &str = "id, issued_on, due_on, open_minor, disputed_minor";
pub(crate) const OPEN_INVOICE_COLUMN_COUNT: usize = 5;

/// An open invoice read with [`OPEN_INVOICE_COLUMNS`].
pub(crate) fn open_invoice(row: &Row, customer: &Customer) -> Result<OpenInvoice, DbError> {
    Ok(OpenInvoice {
        id: row.string(0)?,
        issued_on: row.date(1)?,
        due_on: row.date(2)?,
        open: customer.money(row.int(3)?),
        disputed: customer.money(row.int(4)?),
    })
}

/// Open invoices oldest due first, then by issue date and id: the order
/// payments are applied in (R2.2), and how an account lists them.
pub(crate) fn oldest_due_first(invoices: &mut [OpenInvoice]) {
    invoices.sort_by(allocation::payment_order);
}

/// The customer's open invoices, oldest due first (then by issue date and id).
pub async fn open_invoices(
    db: &impl Database,
    customer: &Customer,
) -> Result<Vec<OpenInvoice>, DbError> {
    let sql = format!(
        "SELECT {OPEN_INVOICE_COLUMNS} FROM invoices WHERE customer_id = ? AND open_minor > 0"
    );
    let rows = db.query(&sql, params![&customer.id]).await?;
    let mut invoices = rows
        .iter()
        .map(|row| open_invoice(row, customer))
        .collect::<Result<Vec<_>, DbError>>()?;
    oldest_due_first(&mut invoices);
    Ok(invoices)
}

/// The customer's unapplied cash and released orders' total (`?1` is the
/// customer, `?2` an order to leave out), as a subquery named `figures`.
pub(crate) const FIGURES: &str = "(SELECT unapplied_minor AS unapplied,
        (SELECT COALESCE(SUM(amount_minor), 0) FROM orders
          WHERE customer_id = ?1 AND status = 'released' AND id IS NOT ?2) AS released
     FROM customers WHERE id = ?1) figures";

/// Everything the credit rules need about the customer. `excluding_order`
/// leaves that order out of the released-orders total (it is the one being
/// checked).
pub async fn account(
    db: &impl Database,
    customer: &Customer,
    excluding_order: Option<&str>,
) -> Result<Account, DbError> {
    let figures = db
        .query_row(
            &format!("SELECT figures.unapplied, figures.released FROM {FIGURES}"),
            params![&customer.id, excluding_order],
        )
        .await?
        .ok_or(DbError::Decode {
            column: 0,
            expected: "the customer's row",
        })?;
    let invoices = open_invoices(db, customer).await?;
    Ok(account_of(
        customer,
        figures.int(0)?,
        figures.int(1)?,
        invoices,
    ))
}

/// The account from what [`account`] reads.
pub(crate) fn account_of(
    customer: &Customer,
    unapplied_minor: i64,
    released_minor: i64,
    mut invoices: Vec<OpenInvoice>,
) -> Account {
    oldest_due_first(&mut invoices);
    Account {
        currency: customer.currency,
        credit_limit: customer.credit_limit,
        on_hold: customer.on_hold,
        exempt: customer.exempt,
        grace_days: customer.grace_days,
        invoices,
        unapplied_cash: customer.money(unapplied_minor),
        released_orders_total: customer.money(released_minor),
    }
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
    pub held_orders: Vec<orders::QueueEntry>,
}

pub async fn position(
    db: &impl Database,
    id: &str,
    as_of: NaiveDate,
    policy: &Policy,
) -> Result<Position> {
    let customer = get(db, id).await?;
    let account = account(db, &customer, None).await?;
    let exposure = account.exposure();
    let grace_days = account.grace_days(policy);
    let query = orders::QueueQuery {
        customer_id: Some(customer.id.clone()),
        ..orders::QueueQuery::held()
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
        customer,
    })
}
