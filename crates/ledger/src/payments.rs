//! Payment intake (R2): a payment is allocated to the customer's invoices
//! (remittance first, then the oldest due), the rest kept as unapplied
//! cash, short pays with a reason disputed, and the customer's held orders
//! re-checked — all in one transaction. A payment id is posted once.

use chrono::NaiveDate;
use credit_core::allocation::{
    self, Allocation, AllocationError, AllocationPlan, RemittanceLine, ShortPay,
};
use credit_core::{Currency, FieldError, OpenInvoice, Policy};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::customers::{self, Customer};
use crate::db::{Database, DbError, transaction};
use crate::disputes::{self, NewDispute, OpenedDispute};
use crate::invoices;
use crate::orders::{self, Recheck};
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

/// Posts a payment. The same payment posted again gets its first result
/// and changes nothing; another payment under a used id is a conflict.
pub async fn post(
    db: &impl Database,
    payment: &NewPayment,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<Posted> {
    transaction(db, async |db| {
        if let Some(result) = earlier_result(db, payment).await? {
            return Ok(Posted {
                result,
                replayed: true,
            });
        }
        let customer = customers::get(db, &payment.customer_id).await?;
        check_currency(&customer, payment)?;
        let invoices = invoices_to_allocate(db, &customer, &payment.remittance).await?;
        let plan = allocation::allocate(payment.amount, &payment.remittance, &invoices)
            .map_err(|e| remittance_error(e, &payment.remittance))?;
        let plan = in_currency(plan, customer.currency);
        insert(db, payment, &customer, plan.unapplied, stamp).await?;
        for line in &plan.allocations {
            let amount = customer.currency.to_minor(line.amount);
            invoices::apply_payment(
                db,
                &line.invoice_id,
                &payment.id,
                amount,
                payment.received_on,
            )
            .await?;
            disputes::payment_applied(
                db,
                &line.invoice_id,
                &payment.id,
                payment.received_on,
                stamp,
            )
            .await?;
        }
        customers::add_unapplied_cash(db, &customer, plan.unapplied).await?;
        let disputes_opened =
            dispute_short_pays(db, payment, &plan.short_pays, policy, stamp).await?;
        let trigger = format!("payment {}", payment.id);
        let Recheck {
            released,
            still_held,
        } = orders::recheck_held(db, &customer, payment.as_of, policy, &trigger, stamp).await?;
        let result = PaymentResult {
            payment_id: payment.id.clone(),
            customer_id: customer.id.clone(),
            amount: customer.currency.round(payment.amount),
            currency: customer.currency,
            received_on: payment.received_on,
            allocations: plan.allocations,
            unapplied: plan.unapplied,
            short_pays: plan.short_pays,
            disputes_opened,
            released_orders: released,
            still_held,
        };
        store_result(db, &result).await?;
        Ok(Posted {
            result,
            replayed: false,
        })
    })
    .await
}

/// The plan's amounts written with the currency's minor units ("500.00").
fn in_currency(plan: AllocationPlan, currency: Currency) -> AllocationPlan {
    AllocationPlan {
        allocations: plan
            .allocations
            .into_iter()
            .map(|a| Allocation {
                amount: currency.round(a.amount),
                ..a
            })
            .collect(),
        unapplied: currency.round(plan.unapplied),
        short_pays: plan
            .short_pays
            .into_iter()
            .map(|s| ShortPay {
                residual: currency.round(s.residual),
                ..s
            })
            .collect(),
    }
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
async fn earlier_result(db: &impl Database, payment: &NewPayment) -> Result<Option<PaymentResult>> {
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

fn check_currency(customer: &Customer, payment: &NewPayment) -> Result<()> {
    if payment.currency == customer.currency {
        return Ok(());
    }
    Err(LedgerError::invalid(
        "currency",
        format!(
            "customer '{}' pays in {}; the payment is in {}",
            customer.id, customer.currency, payment.currency
        ),
    ))
}

/// The customer's open invoices, plus any the remittance names that are
/// already settled. A named invoice that is unknown, or another
/// customer's, is refused naming its remittance line.
async fn invoices_to_allocate(
    db: &impl Database,
    customer: &Customer,
    remittance: &[RemittanceLine],
) -> Result<Vec<OpenInvoice>> {
    let mut invoices = customers::open_invoices(db, customer).await?;
    let mut errors = vec![];
    for (i, line) in remittance.iter().enumerate() {
        let field = format!("remittance[{i}].invoice_id");
        match invoices::find(db, &line.invoice_id).await? {
            None => errors.push(FieldError::new(
                field,
                format!("invoice '{}' does not exist", line.invoice_id),
            )),
            Some((invoice, _)) if invoice.customer_id != customer.id => {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "invoice '{}' is not an invoice of customer '{}'",
                        line.invoice_id, customer.id
                    ),
                ))
            }
            Some((invoice, balances)) if balances.open <= 0 => invoices.push(OpenInvoice {
                id: invoice.id,
                issued_on: invoice.issued_on,
                due_on: invoice.due_on,
                open: invoice.open_balance,
                disputed: invoice.disputed,
            }),
            Some(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(invoices)
    } else {
        Err(LedgerError::Invalid(errors))
    }
}

/// The allocation rule's refusal, naming the remittance line at fault.
fn remittance_error(error: AllocationError, remittance: &[RemittanceLine]) -> LedgerError {
    let line_of = |id: &str| remittance.iter().rposition(|l| l.invoice_id == id);
    let field = match &error {
        AllocationError::UnknownInvoice(id) | AllocationError::DuplicateInvoice(id) => line_of(id)
            .map_or("remittance".to_string(), |i| {
                format!("remittance[{i}].invoice_id")
            }),
        AllocationError::RemittanceExceedsPayment { .. } => "remittance".to_string(),
    };
    LedgerError::invalid(&field, error.to_string())
}

async fn insert(
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

async fn store_result(db: &impl Database, result: &PaymentResult) -> Result<(), DbError> {
    let json = serde_json::to_string(result).expect("payment results serialise");
    db.execute(
        "UPDATE payments SET result = ? WHERE id = ?",
        params![json, &result.payment_id],
    )
    .await
}

/// With a reason code, each short-paid invoice gets a dispute for what is
/// left open and not disputed already.
async fn dispute_short_pays(
    db: &impl Database,
    payment: &NewPayment,
    short_pays: &[ShortPay],
    policy: &Policy,
    stamp: &Stamp,
) -> Result<Vec<OpenedDispute>> {
    let Some(reason_code) = &payment.short_pay_reason else {
        return Ok(vec![]);
    };
    let mut opened = vec![];
    for short_pay in short_pays {
        let (invoice, balances) = invoices::get(db, &short_pay.invoice_id).await?;
        let undisputed = balances.open - balances.disputed;
        if undisputed <= 0 {
            continue;
        }
        let new = NewDispute {
            invoice_id: invoice.id,
            amount: invoice.currency.from_minor(undisputed),
            reason_code: reason_code.clone(),
            note: format!(
                "short pay on payment {}: {} left open",
                payment.id, short_pay.residual
            ),
            opened_on: payment.received_on,
        };
        opened.push(disputes::record_new(db, &new, policy, stamp).await?.summary);
    }
    Ok(opened)
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

pub async fn view(db: &impl Database, id: &str) -> Result<PaymentView> {
    let row = db
        .query_row(
            "SELECT result, method, reference, short_pay_reason, posted_at, posted_by FROM payments WHERE id = ?",
            params![id],
        )
        .await?
        .ok_or_else(|| LedgerError::not_found("payment", id))?;
    Ok(PaymentView {
        result: row.json(0)?,
        method: row.string(1)?,
        reference: row.opt_string(2)?,
        short_pay_reason: row.opt_string(3)?,
        posted_at: row.string(4)?,
        posted_by: row.string(5)?,
    })
}
