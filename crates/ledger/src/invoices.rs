//! Invoices from the ERP, with what was paid, credited and disputed on them.

use chrono::NaiveDate;
use credit_core::{Currency, Policy};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;

use crate::customers::{self, Customer};
use crate::db::{Database, DbError, Row, transaction};
use crate::orders::{self, Recheck};
use crate::{LedgerError, Result, Stamp, audit, params};

/// An invoice as the ERP sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceUpdate {
    pub customer_id: String,
    pub order_id: Option<String>,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Decimal,
    pub currency: Currency,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invoice {
    pub id: String,
    pub customer_id: String,
    pub order_id: Option<String>,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Decimal,
    pub currency: Currency,
    pub paid: Decimal,
    pub credited: Decimal,
    pub open_balance: Decimal,
    /// The part of the open balance under active disputes.
    pub disputed: Decimal,
    pub created_at: String,
    pub updated_at: String,
    /// Who last wrote the invoice (`erp`, or a person); `None` for
    /// invoices last written before this was recorded.
    pub updated_by: Option<String>,
}

/// Minor-unit figures of a stored invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balances {
    pub amount: i64,
    pub paid: i64,
    pub credited: i64,
    pub open: i64,
    pub disputed: i64,
}

const COLUMNS: &str = "i.id, i.customer_id, i.order_id, i.issued_on, i.due_on, i.amount_minor, i.paid_minor, i.credited_minor, i.open_minor, i.disputed_minor, i.created_at, i.updated_at, c.currency, i.updated_by";

fn from_row(row: &Row) -> Result<(Invoice, Balances), DbError> {
    let currency = Currency::parse(row.text(12)?).map_err(|_| DbError::Decode {
        column: 12,
        expected: "an ISO 4217 currency",
    })?;
    let balances = Balances {
        amount: row.int(5)?,
        paid: row.int(6)?,
        credited: row.int(7)?,
        open: row.int(8)?,
        disputed: row.int(9)?,
    };
    let money = |minor| currency.from_minor(minor);
    let invoice = Invoice {
        id: row.string(0)?,
        customer_id: row.string(1)?,
        order_id: row.opt_string(2)?,
        issued_on: row.date(3)?,
        due_on: row.date(4)?,
        amount: money(balances.amount),
        currency,
        paid: money(balances.paid),
        credited: money(balances.credited),
        open_balance: money(balances.open),
        disputed: money(balances.disputed),
        created_at: row.string(10)?,
        updated_at: row.string(11)?,
        updated_by: row.opt_string(13)?,
    };
    Ok((invoice, balances))
}

/// The invoice and its minor-unit balances.
pub async fn find(db: &impl Database, id: &str) -> Result<Option<(Invoice, Balances)>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE i.id = ?"
    );
    db.query_row(&sql, params![id])
        .await?
        .map(|row| from_row(&row))
        .transpose()
}

pub async fn get(db: &impl Database, id: &str) -> Result<(Invoice, Balances)> {
    find(db, id)
        .await?
        .ok_or_else(|| LedgerError::not_found("invoice", id))
}

/// The answer to `PUT /invoices/{id}`.
#[derive(Debug, Serialize)]
pub struct PutInvoice {
    #[serde(flatten)]
    pub invoice: Invoice,
    /// Whether the order named by `order_id` moved to `invoiced`.
    pub order_invoiced: bool,
    /// Held orders of the customer a lower amount released (re-checked
    /// oldest first, as after a payment), and those still held.
    pub released_orders: Vec<String>,
    pub still_held: Vec<String>,
    #[serde(skip)]
    pub created: bool,
}

/// Creates or corrects an invoice. What was paid and credited stays; the
/// amount cannot go below it, nor the invoice move to another customer
/// once anything was applied to it. The write is audited with who made
/// it; a lower amount frees exposure, so the customer's held orders are
/// re-checked as of `as_of`, oldest first.
pub async fn put(
    db: &impl Database,
    id: &str,
    update: &InvoiceUpdate,
    policy: &Policy,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<PutInvoice> {
    transaction(db, async |db| {
        let customer = customers::get(db, &update.customer_id).await?;
        validate(&customer, update)?;
        let amount = customer.currency.to_minor(update.amount);
        let existing = find(db, id).await?;
        if let Some((before, balances)) = &existing {
            check_correction(id, before, balances, update, amount)?;
        }
        db.execute(
            "INSERT INTO invoices (id, customer_id, order_id, issued_on, due_on, amount_minor, open_minor, created_at, updated_at, updated_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET customer_id = ?2, order_id = ?3, issued_on = ?4, due_on = ?5,
                 amount_minor = ?6, open_minor = ?6 - paid_minor - credited_minor, updated_at = ?7, updated_by = ?8",
            params![
                id,
                &customer.id,
                update.order_id.clone(),
                update.issued_on,
                update.due_on,
                amount,
                stamp.at_text(),
                &stamp.by,
            ],
        )
        .await?;
        let order_invoiced = match &update.order_id {
            Some(order_id) => orders::mark_invoiced(db, order_id, &customer, id, stamp).await?,
            None => false,
        };
        let (invoice, _) = get(db, id).await?;
        let before = existing.as_ref().map(|(invoice, _)| invoice);
        audit::record(
            db,
            stamp,
            if before.is_some() { "update" } else { "create" },
            "invoice",
            id,
            json!({ "before": before, "after": invoice }),
        )
        .await?;
        let lowered = existing
            .as_ref()
            .is_some_and(|(_, balances)| amount < balances.amount);
        let recheck = match lowered {
            true => {
                let trigger = format!("invoice {id} amount lowered");
                orders::recheck_held(db, &customer, as_of, policy, &trigger, stamp).await?
            }
            false => Recheck::default(),
        };
        Ok(PutInvoice {
            invoice,
            order_invoiced,
            released_orders: recheck.released,
            still_held: recheck.still_held,
            created: existing.is_none(),
        })
    })
    .await
}

fn validate(customer: &Customer, update: &InvoiceUpdate) -> Result<()> {
    if update.currency != customer.currency {
        return Err(LedgerError::invalid(
            "currency",
            format!(
                "customer '{}' is invoiced in {}; the invoice is in {}",
                customer.id, customer.currency, update.currency
            ),
        ));
    }
    if update.due_on < update.issued_on {
        return Err(LedgerError::invalid(
            "due_on",
            "must not be before issued_on",
        ));
    }
    Ok(())
}

/// A correction keeps what was paid and credited, and what is disputed
/// stays within the open balance (R3: disputed ≤ open): the disputed part
/// is part of the open balance, so the new amount must cover paid +
/// credited + disputed — disputed counted once, as part of what stays open.
fn check_correction(
    id: &str,
    before: &Invoice,
    balances: &Balances,
    update: &InvoiceUpdate,
    amount: i64,
) -> Result<()> {
    let touched = balances.paid + balances.credited + balances.disputed > 0;
    if before.customer_id != update.customer_id && touched {
        return Err(LedgerError::Conflict(format!(
            "invoice '{id}' has payments, credits or disputes for customer '{}'; it cannot move to '{}'",
            before.customer_id, update.customer_id
        )));
    }
    let disputed = balances.disputed.min(balances.open.max(0));
    let least = balances.paid + balances.credited + disputed;
    if amount < least {
        let money = |minor| before.currency.from_minor(minor);
        return Err(LedgerError::Conflict(format!(
            "invoice '{id}' has {} paid, {} credited and {} of its open balance disputed; its amount cannot be {} (at least {})",
            money(balances.paid),
            money(balances.credited),
            money(disputed),
            update.amount,
            money(least)
        )));
    }
    Ok(())
}

/// A payment applied to an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppliedPayment {
    pub payment_id: String,
    pub amount: Decimal,
    pub applied_on: NaiveDate,
}

/// A dispute on an invoice, in brief.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisputeSummary {
    pub id: String,
    pub status: String,
    pub amount: Decimal,
    pub reason_code: String,
}

/// `GET /invoices/{id}`.
#[derive(Debug, Serialize)]
pub struct InvoiceView {
    #[serde(flatten)]
    pub invoice: Invoice,
    pub payments: Vec<AppliedPayment>,
    pub disputes: Vec<DisputeSummary>,
}

pub async fn view(db: &impl Database, id: &str) -> Result<InvoiceView> {
    let (invoice, _) = get(db, id).await?;
    let money = |minor| invoice.currency.from_minor(minor);
    let payments = db
        .query(
            "SELECT payment_id, amount_minor, applied_on FROM allocations WHERE invoice_id = ? ORDER BY applied_on, payment_id",
            params![id],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(AppliedPayment {
                payment_id: row.string(0)?,
                amount: money(row.int(1)?),
                applied_on: row.date(2)?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    let disputes = db
        .query(
            "SELECT id, status, amount_minor, reason_code FROM disputes WHERE invoice_id = ? ORDER BY id",
            params![id],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(DisputeSummary {
                id: dispute_id(row.int(0)?),
                status: row.string(1)?,
                amount: money(row.int(2)?),
                reason_code: row.string(3)?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    Ok(InvoiceView {
        invoice,
        payments,
        disputes,
    })
}

/// Disputes are numbered by the database and shown as `D-<n>`.
pub fn dispute_id(number: i64) -> String {
    format!("D-{number}")
}

/// Applies `amount` (minor units) of a payment to an invoice.
pub async fn apply_payment(
    db: &impl Database,
    invoice_id: &str,
    payment_id: &str,
    amount: i64,
    applied_on: NaiveDate,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE invoices SET paid_minor = paid_minor + ?1, open_minor = open_minor - ?1 WHERE id = ?2",
        params![amount, invoice_id],
    )
    .await?;
    db.execute(
        "INSERT INTO allocations (payment_id, invoice_id, amount_minor, applied_on) VALUES (?, ?, ?, ?)",
        params![payment_id, invoice_id, amount, applied_on],
    )
    .await
}

/// Which of a customer's invoices [`list_for_customer`] lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InvoiceFilter {
    /// Those with something open.
    #[default]
    Open,
    /// Every invoice, settled ones included.
    All,
}

impl InvoiceFilter {
    pub fn parse(text: &str) -> Option<InvoiceFilter> {
        match text {
            "open" => Some(InvoiceFilter::Open),
            "all" => Some(InvoiceFilter::All),
            _ => None,
        }
    }
}

/// An invoice in a customer's list, with how late it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListedInvoice {
    #[serde(flatten)]
    pub invoice: Invoice,
    /// `as_of` − `due_on`: negative while not yet due.
    pub days_past_due: i64,
}

/// The customer's invoices, oldest due first (then by issue date and id),
/// with days past due as of `as_of`: the open ones through the partial
/// index of open invoices, all of them through `invoices_by_customer`.
pub async fn list_for_customer(
    db: &impl Database,
    customer_id: &str,
    filter: InvoiceFilter,
    as_of: NaiveDate,
) -> Result<Vec<ListedInvoice>> {
    customers::get(db, customer_id).await?;
    let open_only = match filter {
        InvoiceFilter::Open => " AND i.open_minor > 0",
        InvoiceFilter::All => "",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM invoices i JOIN customers c ON c.id = i.customer_id
         WHERE i.customer_id = ?1{open_only}
         ORDER BY i.due_on, i.issued_on, i.id"
    );
    let rows = db.query(&sql, params![customer_id]).await?;
    rows.iter()
        .map(|row| {
            let (invoice, _) = from_row(row)?;
            Ok(ListedInvoice {
                days_past_due: credit_core::days_past_due(as_of, invoice.due_on),
                invoice,
            })
        })
        .collect()
}
