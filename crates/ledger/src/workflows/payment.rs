//! Posting a payment (R2): it is allocated to the customer's invoices
//! (remittance first, then the oldest due), the rest kept as unapplied
//! cash, short pays with a reason disputed, and the customer's held orders
//! re-checked — all in one transaction.

use credit_core::allocation::{
    self, Allocation, AllocationError, AllocationPlan, RemittanceLine, ShortPay,
};
use credit_core::events::{Cause, EventType};
use credit_core::{Currency, FieldError, OpenInvoice, Policy};

use crate::customers::{self, Customer};
use crate::db::transaction;
use crate::disputes::{self, NewDispute, OpenedDispute};
use crate::events::{self, NewEvent, Trigger};
use crate::orders::{self, Recheck};
use crate::payments::{self, NewPayment, PaymentResult, Posted};
use crate::{Database, LedgerError, Result, Stamp, accounts, invoices};

/// Posts a payment. The same payment posted again gets its first result
/// and changes nothing; another payment under a used id is a conflict.
pub async fn post(
    db: &impl Database,
    payment: &NewPayment,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<Posted> {
    transaction(db, async |db| {
        if let Some(result) = payments::earlier_result(db, payment).await? {
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
        payments::insert(db, payment, &customer, plan.unapplied, stamp).await?;
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
        let said = format!("payment {}", payment.id);
        let trigger = Trigger::new(Cause::Payment, Some(&payment.id), said);
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
        payments::store_result(db, &result).await?;
        let mut data = serde_json::to_value(&result).expect("payment results serialise");
        data["by"] = stamp.by.clone().into();
        let posted = NewEvent {
            kind: EventType::PaymentPosted,
            subject: result.payment_id.clone(),
            data,
        };
        events::record(db, posted, stamp).await?;
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
    let mut invoices = accounts::open_invoices(db, customer).await?;
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
