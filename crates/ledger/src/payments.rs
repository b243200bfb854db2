//! Payments as received and what posting them did (R2); the posting itself
//! is [`crate::workflows::payment`]. A payment id is posted once.

use chrono::NaiveDate;
use credit_core::Currency;
use credit_core::allocation::{Allocation, RemittanceLine, ShortPay};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::customers::Customer;
use crate::db::{Columns, Database, DbError, Record, Records};
use crate::disputes::OpenedDispute;
use crate::{LedgerError, Result, Stamp, params};

/// A payment received from a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPayment {
    pub id: String,
    pub customer_id: String,
    pub amount: Decimal,
    pub currency: Currency,
    pub received_on: NaiveDate,
    /// How it was paid: a code such as `ach`, `wire`, `check`.
    pub method: String,
    pub reference: Option<String>,
    /// The invoices the customer says the payment is for.
    pub remittance: Vec<RemittanceLine>,
    /// Why the customer paid less than a named invoice's balance; opens a
    /// dispute for what is left.
    pub short_pay_reason: Option<String>,
    /// The date held orders are re-checked as of.
    pub as_of: NaiveDate,
}

/// What posting a payment did: the answer to `POST /payments`, stored and
/// given again when the same payment is posted again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentResult {
    pub payment_id: String,
    pub customer_id: String,
    pub amount: Decimal,
    pub currency: Currency,
    pub received_on: NaiveDate,
    pub allocations: Vec<Allocation>,
    pub unapplied: Decimal,
    pub short_pays: Vec<ShortPay>,
    pub disputes_opened: Vec<OpenedDispute>,
    pub released_orders: Vec<String>,
    pub still_held: Vec<String>,
}

/// A payment's result, and whether it was posted before (nothing applied now).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    pub result: PaymentResult,
    pub replayed: bool,
}

/// What identifies a payment's content, to tell a retry from a clash.
/// `as_of` is left out: a retry on another day is still the same payment.
fn content(payment: &NewPayment) -> String {
    let money = |amount| payment.currency.round(amount);
    let remittance: Vec<_> = payment
        .remittance
        .iter()
        .map(|line| json!({ "invoice_id": line.invoice_id, "amount": money(line.amount) }))
        .collect();
    json!({
        "customer_id": payment.customer_id,
        "amount": money(payment.amount),
        "currency": payment.currency,
        "received_on": payment.received_on,
        "method": payment.method,
        "reference": payment.reference,
        "remittance": remittance,
        "short_pay_reason": payment.short_pay_reason,
    })
    .to_string()
}

/// The stored result when this very payment was posted before.
pub(crate) async fn earlier_result(
    db: &impl Database,
    payment: &NewPayment,
) -> Result<Option<PaymentResult>> {
    let Some(row) = db
        .query_row(
            "SELECT request, result FROM payments WHERE id = ?",
            params![&payment.id],
        )
        .await?
    else {
        return Ok(None);
    };
    if row.text(0)? != content(payment) {
        return Err(LedgerError::Conflict(format!(
            "payment '{}' was already posted with other content; a new payment needs a new id",
            payment.id
        )));
    }
    Ok(Some(row.json(1)?))
}

pub(crate) async fn insert(
    db: &impl Database,
    payment: &NewPayment,
    customer: &Customer,
    unapplied: Decimal,
    stamp: &Stamp,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO payments (id, customer_id, amount_minor, received_on, method, reference, short_pay_reason,
             unapplied_minor, request, result, posted_at, posted_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'null', ?, ?)",
        params![
            &payment.id,
            &customer.id,
            customer.currency.to_minor(payment.amount),
            payment.received_on,
            &payment.method,
            payment.reference.clone(),
            payment.short_pay_reason.clone(),
            customer.currency.to_minor(unapplied),
            content(payment),
            stamp.at_text(),
            &stamp.by,
        ],
    )
    .await
}

pub(crate) async fn store_result(
    db: &impl Database,
    result: &PaymentResult,
) -> Result<(), DbError> {
    let json = serde_json::to_string(result).expect("payment results serialise");
    db.execute(
        "UPDATE payments SET result = ? WHERE id = ?",
        params![json, &result.payment_id],
    )
    .await
}

/// `GET /payments/{id}`: the payment as received and what posting it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentView {
    #[serde(flatten)]
    pub result: PaymentResult,
    pub method: String,
    pub reference: Option<String>,
    pub short_pay_reason: Option<String>,
    pub posted_at: String,
    pub posted_by: String,
}

impl Record for PaymentView {
    const SELECT: &'static str =
        "p.result, p.method, p.reference, p.short_pay_reason, p.posted_at, p.posted_by";

    fn read(columns: &mut Columns<'_>) -> Result<PaymentView, DbError> {
        Ok(PaymentView {
            result: columns.json()?,
            method: columns.string()?,
            reference: columns.opt_string()?,
            short_pay_reason: columns.opt_string()?,
            posted_at: columns.string()?,
            posted_by: columns.string()?,
        })
    }
}

pub async fn view(db: &impl Database, id: &str) -> Result<PaymentView> {
    let sql = format!(
        "SELECT {} FROM payments p WHERE p.id = ?",
        PaymentView::SELECT
    );
    db.record(&sql, params![id])
        .await?
        .ok_or_else(|| LedgerError::not_found("payment", id))
}
