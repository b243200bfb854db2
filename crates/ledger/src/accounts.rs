//! A customer's account: the figures the credit rules work on — open
//! invoices, unapplied cash, released orders not yet invoiced — read from
//! the tables as they stand, above the master data and below orders.

use credit_core::Named;
use credit_core::allocation;
use credit_core::hold::OrderStatus;
use credit_core::{Account, OpenInvoice};

use crate::customers::Customer;
use crate::db::{Columns, Database, DbError, Record, Records, exact_sum};
use crate::params;

/// An open invoice as stored, in minor units of its customer's currency.
pub(crate) struct OpenInvoiceRow {
    id: String,
    issued_on: chrono::NaiveDate,
    due_on: chrono::NaiveDate,
    open_minor: i64,
    disputed_minor: i64,
}

impl Record for OpenInvoiceRow {
    const SELECT: &'static str = "i.id, i.issued_on, i.due_on, i.open_minor, i.disputed_minor";

    fn read(columns: &mut Columns<'_>) -> Result<OpenInvoiceRow, DbError> {
        Ok(OpenInvoiceRow {
            id: columns.string()?,
            issued_on: columns.date()?,
            due_on: columns.date()?,
            open_minor: columns.int()?,
            disputed_minor: columns.int()?,
        })
    }
}

impl OpenInvoiceRow {
    pub(crate) fn of(self, customer: &Customer) -> OpenInvoice {
        OpenInvoice {
            id: self.id,
            issued_on: self.issued_on,
            due_on: self.due_on,
            open: customer.money(self.open_minor),
            disputed: customer.money(self.disputed_minor),
        }
    }
}

/// The customer's open invoices, oldest due first (then by issue date and
/// id): the order payments are applied in (R2.2), and how an account lists
/// them.
pub async fn open_invoices(
    db: &impl Database,
    customer: &Customer,
) -> Result<Vec<OpenInvoice>, DbError> {
    let sql = format!(
        "SELECT {} FROM invoices i WHERE i.customer_id = ? AND i.open_minor > 0",
        OpenInvoiceRow::SELECT
    );
    let rows: Vec<OpenInvoiceRow> = db.records(&sql, params![&customer.id]).await?;
    let mut invoices: Vec<OpenInvoice> = rows.into_iter().map(|row| row.of(customer)).collect();
    invoices.sort_by(allocation::payment_order);
    Ok(invoices)
}

/// The customer's unapplied cash and the exact total of its released
/// orders, in minor units.
pub(crate) struct Figures {
    unapplied_minor: i64,
    released_minor: i128,
}

impl Record for Figures {
    const SELECT: &'static str = "figures.unapplied, figures.released_high, figures.released_low";

    fn read(columns: &mut Columns<'_>) -> Result<Figures, DbError> {
        Ok(Figures {
            unapplied_minor: columns.int()?,
            released_minor: columns.sum()?,
        })
    }
}

impl Figures {
    /// The subquery [`Figures`] reads, named `figures`: `?1` is the
    /// customer, `?2` an order to leave out of the released total.
    pub(crate) fn subquery() -> String {
        format!(
            "(SELECT c2.unapplied_minor AS unapplied, r.released_high, r.released_low
              FROM customers c2,
                   (SELECT {} FROM orders
                     WHERE customer_id = ?1 AND status = {} AND id IS NOT ?2) r
              WHERE c2.id = ?1) figures",
            exact_sum("amount_minor", "released"),
            OrderStatus::sql_list(&[OrderStatus::Released]),
        )
    }
}

/// Everything the credit rules need about the customer. `excluding_order`
/// leaves that order out of the released-orders total (it is the one being
/// checked).
pub async fn account(
    db: &impl Database,
    customer: &Customer,
    excluding_order: Option<&str>,
) -> Result<Account, DbError> {
    let sql = format!("SELECT {} FROM {}", Figures::SELECT, Figures::subquery());
    let figures: Figures = db
        .record(&sql, params![&customer.id, excluding_order])
        .await?
        .ok_or(DbError::Decode {
            column: 0,
            expected: "the customer's row",
        })?;
    let invoices = open_invoices(db, customer).await?;
    Ok(account_of(customer, &figures, invoices))
}

/// The account from what [`account`] reads.
pub(crate) fn account_of(
    customer: &Customer,
    figures: &Figures,
    mut invoices: Vec<OpenInvoice>,
) -> Account {
    invoices.sort_by(allocation::payment_order);
    Account {
        currency: customer.currency,
        credit_limit: customer.credit_limit,
        on_hold: customer.on_hold,
        exempt: customer.exempt,
        grace_days: customer.grace_days,
        invoices,
        unapplied_cash: customer.money(figures.unapplied_minor),
        released_orders_total: customer.currency.from_minor_sum(figures.released_minor),
    }
}
