//! A customer's statement of account over a period: the balance it opened
//! with, every invoice, payment, credit and allocation within it, the
//! balance it closed with, the open invoices by age and the open disputes
//! on the last day (credit-core's [`Statement`] orders and totals them).
//!
//! What the customer owed at the end of a day is the invoices issued by
//! then less the payments received and the credits given by then — which
//! is the open invoices less the unapplied cash, as of that day.

use chrono::{Days, NaiveDate};
use credit_core::aging::Aging;
use credit_core::statement::{Heading, Movement, MovementKind, OpenDispute, Statement};
use credit_core::{Currency, days_past_due};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::customers::{self, Customer};
use crate::db::{Database, DbError, exact_sum};
use crate::invoices::dispute_id;
use crate::{Result, params};

/// A statement with the unapplied cash as of its last day: the closing
/// balance is the open invoices (the aging's total) less it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatementOfAccount {
    #[serde(flatten)]
    pub statement: Statement,
    /// Payments received by `to` not applied to any invoice by then.
    pub unapplied_cash: Decimal,
}

/// The customer's statement from `from` to `to`, both days included.
pub async fn statement(
    db: &impl Database,
    customer_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<StatementOfAccount> {
    let customer = customers::get(db, customer_id).await?;
    let opening = owed_before(db, &customer, from).await?;
    let movements = movements(db, &customer, from, to).await?;
    let aging = aging(db, &customer, to).await?;
    let disputes = open_disputes(db, &customer, to).await?;
    let unapplied_cash = unapplied_cash(db, &customer, to).await?;
    let heading = Heading {
        customer_id: customer.id.clone(),
        customer_name: customer.name.clone(),
        currency: customer.currency,
        from,
        to,
    };
    Ok(StatementOfAccount {
        statement: Statement::new(heading, opening, movements, aging, disputes),
        unapplied_cash,
    })
}

/// One exact sum of a customer's rows dated before `?2` (`?1` the customer).
async fn sum(
    db: &impl Database,
    currency: Currency,
    sql: &str,
    from: NaiveDate,
    customer: &str,
) -> Result<Decimal, DbError> {
    let row = db.query_row(sql, params![customer, from]).await?;
    let minor = match row {
        Some(row) => row.columns().sum()?,
        None => 0,
    };
    Ok(currency.from_minor_sum(minor))
}

/// What the customer owed at the end of the day before `from`.
async fn owed_before(
    db: &impl Database,
    customer: &Customer,
    from: NaiveDate,
) -> Result<Decimal, DbError> {
    let invoiced = format!(
        "SELECT {} FROM invoices WHERE customer_id = ?1 AND issued_on < ?2",
        exact_sum("amount_minor", "amount")
    );
    let paid = format!(
        "SELECT {} FROM payments WHERE customer_id = ?1 AND received_on < ?2",
        exact_sum("amount_minor", "amount")
    );
    let credited = format!(
        "SELECT {} FROM credits r JOIN invoices i ON i.id = r.invoice_id
         WHERE i.customer_id = ?1 AND r.credited_on < ?2",
        exact_sum("r.amount_minor", "amount")
    );
    let currency = customer.currency;
    Ok(sum(db, currency, &invoiced, from, &customer.id).await?
        - sum(db, currency, &paid, from, &customer.id).await?
        - sum(db, currency, &credited, from, &customer.id).await?)
}

/// Every movement dated within the period, unordered.
async fn movements(
    db: &impl Database,
    customer: &Customer,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Movement>, DbError> {
    // (kind, SQL giving date, reference, invoice, amount in minor units)
    let statements = [
        (
            MovementKind::Invoice,
            "SELECT issued_on, id, NULL, amount_minor FROM invoices
             WHERE customer_id = ?1 AND issued_on BETWEEN ?2 AND ?3",
        ),
        (
            MovementKind::Payment,
            "SELECT received_on, id, NULL, amount_minor FROM payments
             WHERE customer_id = ?1 AND received_on BETWEEN ?2 AND ?3",
        ),
        (
            MovementKind::Allocation,
            "SELECT a.applied_on, a.payment_id, a.invoice_id, a.amount_minor
             FROM payments p JOIN allocations a ON a.payment_id = p.id
             WHERE p.customer_id = ?1 AND a.applied_on BETWEEN ?2 AND ?3",
        ),
        (
            MovementKind::Credit,
            "SELECT r.credited_on, 'CR-' || r.id, r.invoice_id, r.amount_minor
             FROM invoices i JOIN credits r ON r.invoice_id = i.id
             WHERE i.customer_id = ?1 AND r.credited_on BETWEEN ?2 AND ?3",
        ),
    ];
    let mut movements = vec![];
    for (kind, sql) in statements {
        for row in db.query(sql, params![&customer.id, from, to]).await? {
            movements.push(Movement::new(
                row.date(0)?,
                kind,
                row.string(1)?,
                row.opt_string(2)?,
                customer.money(row.int(3)?),
                customer.currency,
            ));
        }
    }
    Ok(movements)
}

/// The customer's invoices open at the end of `to`, by days past due: the
/// invoices issued by then, with what is open now plus what was paid or
/// credited after `to`.
async fn aging(db: &impl Database, customer: &Customer, to: NaiveDate) -> Result<Aging, DbError> {
    let rows = db
        .query(
            "SELECT i.due_on, i.open_minor
                 + COALESCE((SELECT SUM(a.amount_minor) FROM allocations a WHERE a.invoice_id = i.id AND a.applied_on > ?2), 0)
                 + COALESCE((SELECT SUM(r.amount_minor) FROM credits r WHERE r.invoice_id = i.id AND r.credited_on > ?2), 0)
             FROM invoices i WHERE i.customer_id = ?1 AND i.issued_on <= ?2",
            params![&customer.id, to],
        )
        .await?;
    let mut aging = Aging::zero(customer.currency.minor_units());
    for row in &rows {
        let open = row.int(1)?;
        if open != 0 {
            aging.add(days_past_due(to, row.date(0)?), customer.money(open));
        }
    }
    Ok(aging)
}

/// Payments received by `to` less what of them was applied by `to`.
async fn unapplied_cash(
    db: &impl Database,
    customer: &Customer,
    to: NaiveDate,
) -> Result<Decimal, DbError> {
    let after = to + Days::new(1);
    let received = format!(
        "SELECT {} FROM payments WHERE customer_id = ?1 AND received_on < ?2",
        exact_sum("amount_minor", "amount")
    );
    let applied = format!(
        "SELECT {} FROM payments p JOIN allocations a ON a.payment_id = p.id
         WHERE p.customer_id = ?1 AND p.received_on < ?2 AND a.applied_on < ?2",
        exact_sum("a.amount_minor", "amount")
    );
    let currency = customer.currency;
    Ok(sum(db, currency, &received, after, &customer.id).await?
        - sum(db, currency, &applied, after, &customer.id).await?)
}

/// Disputes opened by `to` and not closed by then.
async fn open_disputes(
    db: &impl Database,
    customer: &Customer,
    to: NaiveDate,
) -> Result<Vec<OpenDispute>, DbError> {
    let rows = db
        .query(
            "SELECT id, invoice_id, amount_minor, reason_code, opened_on FROM disputes
             WHERE customer_id = ?1 AND opened_on <= ?2 AND (closed_on IS NULL OR closed_on > ?2)
             ORDER BY opened_on, id",
            params![&customer.id, to],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(OpenDispute {
                dispute_id: dispute_id(row.int(0)?),
                invoice_id: row.string(1)?,
                amount: customer.money(row.int(2)?),
                reason_code: row.string(3)?,
                opened_on: row.date(4)?,
            })
        })
        .collect()
}
