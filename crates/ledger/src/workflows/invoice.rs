//! An invoice from the ERP: written, its order marked invoiced, and held
//! orders re-checked when a lower amount frees exposure.

use chrono::NaiveDate;
use credit_core::Policy;
use credit_core::events::Cause;
use serde::Serialize;
use serde_json::json;

use crate::customers;
use crate::db::transaction;
use crate::events::Trigger;
use crate::invoices::{self, Invoice, InvoiceUpdate};
use crate::orders::{self, Recheck};
use crate::{Database, Result, Stamp, audit};

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
        invoices::validate(&customer, update)?;
        let amount = customer.currency.to_minor(update.amount);
        let existing = invoices::find(db, id).await?;
        if let Some((before, balances)) = &existing {
            invoices::check_correction(id, before, balances, update, amount)?;
        }
        invoices::write(db, id, &customer, update, stamp).await?;
        let order_invoiced = match &update.order_id {
            Some(order_id) => orders::mark_invoiced(db, order_id, &customer, id, stamp).await?,
            None => false,
        };
        let (invoice, _) = invoices::get(db, id).await?;
        let before = existing.as_ref().map(|(invoice, _)| invoice);
        let action = if before.is_some() { "update" } else { "create" };
        let details = json!({ "before": before, "after": invoice });
        audit::record(db, stamp, action, "invoice", id, details).await?;
        let lowered = existing
            .as_ref()
            .is_some_and(|(_, balances)| amount < balances.amount);
        let recheck = match lowered {
            true => {
                let said = format!("invoice {id} amount lowered");
                let trigger = Trigger::new(Cause::InvoiceChange, Some(id), said);
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
