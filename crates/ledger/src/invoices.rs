//! Invoices from the ERP, with what was paid, credited and disputed on them.

use chrono::NaiveDate;
use credit_core::Currency;
use credit_core::dispute::DisputeStatus;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::customers::{self, Customer};
use crate::db::{Columns, Database, DbError, Record, Records};
use crate::{LedgerError, Result, Stamp, params};

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

/// An invoice as stored, read with its customer's currency.
struct InvoiceRow(Invoice, Balances);

impl Record for InvoiceRow {
    const SELECT: &'static str = "i.id, i.customer_id, i.order_id, i.issued_on, i.due_on, i.amount_minor, i.paid_minor, i.credited_minor, i.open_minor, i.disputed_minor, i.created_at, i.updated_at, i.updated_by, c.currency";

    fn read(columns: &mut Columns<'_>) -> Result<InvoiceRow, DbError> {
        let (id, customer_id, order_id) =
            (columns.string()?, columns.string()?, columns.opt_string()?);
        let (issued_on, due_on) = (columns.date()?, columns.date()?);
        let balances = Balances {
            amount: columns.int()?,
            paid: columns.int()?,
            credited: columns.int()?,
            open: columns.int()?,
            disputed: columns.int()?,
        };
        let (created_at, updated_at, updated_by) =
            (columns.string()?, columns.string()?, columns.opt_string()?);
        let currency = columns.currency()?;
        let money = |minor| currency.from_minor(minor);
        let invoice = Invoice {
            id,
            customer_id,
            order_id,
            issued_on,
            due_on,
            amount: money(balances.amount),
            currency,
            paid: money(balances.paid),
            credited: money(balances.credited),
            open_balance: money(balances.open),
            disputed: money(balances.disputed),
            created_at,
            updated_at,
            updated_by,
        };
        Ok(InvoiceRow(invoice, balances))
    }
}

/// Invoices `i` with their customer `c`.
const FROM: &str = "FROM invoices i JOIN customers c ON c.id = i.customer_id";

/// The invoice and its minor-unit balances.
pub async fn find(db: &impl Database, id: &str) -> Result<Option<(Invoice, Balances)>, DbError> {
    let sql = format!("SELECT {} {FROM} WHERE i.id = ?", InvoiceRow::SELECT);
    let found: Option<InvoiceRow> = db.record(&sql, params![id]).await?;
    Ok(found.map(|InvoiceRow(invoice, balances)| (invoice, balances)))
}

pub async fn get(db: &impl Database, id: &str) -> Result<(Invoice, Balances)> {
    find(db, id)
        .await?
        .ok_or_else(|| LedgerError::not_found("invoice", id))
}

/// Writes an invoice: new, or a correction that keeps what was paid and
/// credited (see [`check_correction`]).
pub(crate) async fn write(
    db: &impl Database,
    id: &str,
    customer: &Customer,
    update: &InvoiceUpdate,
    stamp: &Stamp,
) -> Result<(), DbError> {
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
            customer.currency.to_minor(update.amount),
            stamp.at_text(),
            &stamp.by,
        ],
    )
    .await
}

/// An invoice the ERP may write for `customer`: in its currency, due no
/// earlier than issued.
pub(crate) fn validate(customer: &Customer, update: &InvoiceUpdate) -> Result<()> {
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
pub(crate) fn check_correction(
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
    pub status: DisputeStatus,
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
                status: row.named(1)?,
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

credit_core::named! {
    /// Which of a customer's invoices [`list_for_customer`] lists.
    #[derive(Default)]
    pub enum InvoiceFilter {
        /// Those with something open.
        #[default]
        Open = "open",
        /// Every invoice, settled ones included.
        All = "all",
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
        "SELECT {} {FROM} WHERE i.customer_id = ?1{open_only} ORDER BY i.due_on, i.issued_on, i.id",
        InvoiceRow::SELECT
    );
    let rows: Vec<InvoiceRow> = db.records(&sql, params![customer_id]).await?;
    Ok(rows
        .into_iter()
        .map(|InvoiceRow(invoice, _)| ListedInvoice {
            days_past_due: credit_core::days_past_due(as_of, invoice.due_on),
            invoice,
        })
        .collect())
}
