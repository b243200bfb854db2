//! Disputes (R3): amounts a customer contests on an invoice, followed
//! against their service level until resolved or withdrawn. Every change
//! and note is kept as an event; a resolution with a credit lowers the
//! invoice's balance. Opening and changing one, with the re-check of held
//! orders that follows, is [`crate::workflows::dispute`].

use chrono::{DateTime, NaiveDate, Utc};
use credit_core::dispute::{self, DisputeStatus, IllegalTransition, SlaStatus};
use credit_core::events::EventType;
use credit_core::{Currency, Named, Policy};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use credit_core::escalation::SubjectType;

use crate::customers::AssigneeFilter;
use crate::db::{Columns, Database, DbError, Record, Records, Value};
use crate::escalations::{self, EscalationView};
use crate::events::NewEvent;
use crate::invoices::{self, Balances, Invoice, dispute_id};
use crate::{LedgerError, Result, Stamp, params};

/// A dispute to open on an invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDispute {
    pub invoice_id: String,
    pub amount: Decimal,
    pub reason_code: String,
    pub note: String,
    pub opened_on: NaiveDate,
}

/// A change to a dispute: a new status, a note, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisputeUpdate {
    pub status: Option<DisputeStatus>,
    pub note: Option<String>,
    /// Only with `resolved_credit`; the disputed amount when absent.
    pub credit_amount: Option<Decimal>,
}

/// A dispute as listed, with where it stands against its service level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dispute {
    pub id: String,
    pub invoice_id: String,
    pub customer_id: String,
    pub amount: Decimal,
    pub currency: Currency,
    pub reason_code: String,
    pub status: DisputeStatus,
    pub opened_on: NaiveDate,
    pub sla_due_on: NaiveDate,
    pub sla_status: SlaStatus,
    /// The credit issued by a `resolved_credit` resolution.
    pub credited: Option<Decimal>,
    pub closed_on: Option<NaiveDate>,
    pub opened_by: String,
    pub created_at: String,
    pub updated_at: String,
}

credit_core::named! {
    /// What an entry of a dispute's history records.
    pub enum EventKind {
        Opened = "opened",
        StatusChange = "status_change",
        Note = "note",
    }
}

/// One entry of a dispute's history: its opening, a status change or a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisputeEvent {
    pub at: String,
    pub by: String,
    pub kind: EventKind,
    pub from: Option<DisputeStatus>,
    pub to: DisputeStatus,
    pub note: Option<String>,
    pub credit: Option<Decimal>,
}

/// `GET /disputes/{id}`: the dispute and its whole history, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisputeView {
    #[serde(flatten)]
    pub dispute: Dispute,
    /// The date `sla_status` is computed as of.
    pub as_of: NaiveDate,
    pub history: Vec<DisputeEvent>,
    /// Its escalations to the supervisors, the latest first.
    pub escalations: Vec<EscalationView>,
}

/// The answer to opening or changing a dispute: the dispute, and the held
/// orders of the customer a lower past-due or balance released.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisputeChanged {
    #[serde(flatten)]
    pub view: DisputeView,
    pub released_orders: Vec<String>,
    pub still_held: Vec<String>,
}

/// A dispute opened along with something else (a short pay), in brief.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedDispute {
    pub id: String,
    pub invoice_id: String,
    pub amount: Decimal,
    pub reason_code: String,
    pub sla_due_on: NaiveDate,
}

/// The statuses of a dispute whose amount is still disputed.
pub const ACTIVE: &[DisputeStatus] = &[DisputeStatus::Open, DisputeStatus::InReview];

/// Which disputes `GET /disputes` lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisputeQuery {
    pub status: StatusFilter,
    pub customer_id: Option<String>,
    /// Disputes on the accounts of this assignee (or of nobody).
    pub assignee: Option<AssigneeFilter>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatusFilter {
    #[default]
    Any,
    /// Open or in review.
    Active,
    Exactly(DisputeStatus),
}

impl StatusFilter {
    /// `active`, or one status by name.
    pub fn parse(text: &str) -> Option<StatusFilter> {
        match text {
            "active" => Some(StatusFilter::Active),
            _ => DisputeStatus::parse(text).map(StatusFilter::Exactly),
        }
    }

    /// The (at most two) statuses the filter lets through; `None`: all.
    fn statuses(self) -> Option<(&'static str, &'static str)> {
        match self {
            StatusFilter::Any => None,
            StatusFilter::Active => Some((ACTIVE[0].as_str(), ACTIVE[1].as_str())),
            StatusFilter::Exactly(status) => Some((status.as_str(), status.as_str())),
        }
    }
}

/// A dispute as stored, in minor units.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stored {
    number: i64,
    invoice_id: String,
    customer_id: String,
    currency: Currency,
    amount: i64,
    reason_code: String,
    status: DisputeStatus,
    opened_on: NaiveDate,
    sla_due_on: NaiveDate,
    credited: Option<i64>,
    closed_on: Option<NaiveDate>,
    opened_by: String,
    created_at: String,
    updated_at: String,
}

impl Record for Stored {
    const SELECT: &'static str = "d.id, d.invoice_id, d.customer_id, c.currency, d.amount_minor, d.reason_code, d.status, d.opened_on, d.sla_due_on, d.credited_minor, d.closed_on, d.opened_by, d.created_at, d.updated_at";

    fn read(columns: &mut Columns<'_>) -> Result<Stored, DbError> {
        Ok(Stored {
            number: columns.int()?,
            invoice_id: columns.string()?,
            customer_id: columns.string()?,
            currency: columns.currency()?,
            amount: columns.int()?,
            reason_code: columns.string()?,
            status: columns.named()?,
            opened_on: columns.date()?,
            sla_due_on: columns.date()?,
            credited: columns.opt_int()?,
            closed_on: columns.opt_date()?,
            opened_by: columns.string()?,
            created_at: columns.string()?,
            updated_at: columns.string()?,
        })
    }
}

/// Disputes `d` with their customer `c`.
const FROM: &str = "FROM disputes d JOIN customers c ON c.id = d.customer_id";

impl Stored {
    fn id(&self) -> String {
        dispute_id(self.number)
    }

    fn money(&self, minor: i64) -> Decimal {
        self.currency.from_minor(minor)
    }

    fn to_dispute(&self, as_of: NaiveDate) -> Dispute {
        Dispute {
            id: self.id(),
            invoice_id: self.invoice_id.clone(),
            customer_id: self.customer_id.clone(),
            amount: self.money(self.amount),
            currency: self.currency,
            reason_code: self.reason_code.clone(),
            status: self.status,
            opened_on: self.opened_on,
            sla_due_on: self.sla_due_on,
            sla_status: dispute::sla_status(self.sla_due_on, as_of, self.closed_on),
            credited: self.credited.map(|minor| self.money(minor)),
            closed_on: self.closed_on,
            opened_by: self.opened_by.clone(),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        }
    }
}

/// The number behind a `D-<n>` id.
fn number(id: &str) -> Option<i64> {
    let digits = id.strip_prefix("D-")?;
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    all_digits.then(|| digits.parse().ok()).flatten()
}

async fn find(db: &impl Database, id: &str) -> Result<Option<Stored>, DbError> {
    let Some(number) = number(id) else {
        return Ok(None);
    };
    let sql = format!("SELECT {} {FROM} WHERE d.id = ?", Stored::SELECT);
    db.record(&sql, params![number]).await
}

async fn stored(db: &impl Database, id: &str) -> Result<Stored> {
    find(db, id)
        .await?
        .ok_or_else(|| LedgerError::not_found("dispute", id))
}

/// The dispute, its service level as of `as_of`.
pub async fn get(db: &impl Database, id: &str, as_of: NaiveDate) -> Result<Dispute> {
    Ok(stored(db, id).await?.to_dispute(as_of))
}

/// The dispute with its history, its service level as of `as_of`, its
/// escalations as they stand at `now`.
pub async fn view(
    db: &impl Database,
    id: &str,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DisputeView> {
    let stored = stored(db, id).await?;
    let history = history(db, &stored).await?;
    let escalations = escalations::of_subject(db, SubjectType::Dispute, id, now).await?;
    Ok(DisputeView {
        dispute: stored.to_dispute(as_of),
        as_of,
        history,
        escalations,
    })
}

async fn history(db: &impl Database, dispute: &Stored) -> Result<Vec<DisputeEvent>, DbError> {
    let events: Vec<StoredEvent> = db
        .records(
            "SELECT e.at, e.actor, e.from_status, e.to_status, e.note, e.credit_minor
             FROM dispute_events e WHERE e.dispute_id = ? ORDER BY e.id",
            params![dispute.number],
        )
        .await?;
    Ok(events.into_iter().map(|event| event.of(dispute)).collect())
}

/// An entry of `dispute_events`, in minor units.
struct StoredEvent {
    at: String,
    by: String,
    from: Option<DisputeStatus>,
    to: DisputeStatus,
    note: Option<String>,
    credit_minor: Option<i64>,
}

impl Record for StoredEvent {
    const SELECT: &'static str =
        "e.at, e.actor, e.from_status, e.to_status, e.note, e.credit_minor";

    fn read(columns: &mut Columns<'_>) -> Result<StoredEvent, DbError> {
        Ok(StoredEvent {
            at: columns.string()?,
            by: columns.string()?,
            from: columns.opt_named()?,
            to: columns.named()?,
            note: columns.opt_string()?,
            credit_minor: columns.opt_int()?,
        })
    }
}

impl StoredEvent {
    fn of(self, dispute: &Stored) -> DisputeEvent {
        let kind = match self.from {
            None => EventKind::Opened,
            Some(from) if from == self.to => EventKind::Note,
            Some(_) => EventKind::StatusChange,
        };
        DisputeEvent {
            at: self.at,
            by: self.by,
            kind,
            from: self.from,
            to: self.to,
            note: self.note,
            credit: self.credit_minor.map(|minor| dispute.money(minor)),
        }
    }
}

/// Disputes by status, customer and assignee, the nearest service-level
/// date first.
pub async fn list(
    db: &impl Database,
    query: &DisputeQuery,
    as_of: NaiveDate,
) -> Result<Vec<Dispute>, DbError> {
    // Each filter a condition an index serves: a customer's disputes by
    // status, or every customer's by status (all statuses named when the
    // filter lets all through, as the disputes report does).
    let mut conditions: Vec<String> = vec![];
    let mut params: Vec<Value> = vec![];
    if let Some(customer_id) = &query.customer_id {
        conditions.push("d.customer_id = ?".into());
        params.push(customer_id.clone().into());
    }
    match query.status.statuses() {
        Some((first, second)) => {
            conditions.push("d.status IN (?, ?)".into());
            params.extend([first.into(), second.into()]);
        }
        None if query.customer_id.is_none() => conditions.push(format!(
            "d.status IN ({})",
            DisputeStatus::sql_list(DisputeStatus::ALL)
        )),
        None => {}
    }
    if let Some(assignee) = &query.assignee {
        let (condition, value) = assignee.condition("c.assignee", "?");
        conditions.push(condition);
        params.extend(value);
    }
    let sql = format!(
        "SELECT {} {FROM} WHERE {} ORDER BY d.sla_due_on, d.id",
        Stored::SELECT,
        conditions.join(" AND ")
    );
    let rows: Vec<Stored> = db.records(&sql, params).await?;
    Ok(rows.into_iter().map(|row| row.to_dispute(as_of)).collect())
}

/// An opened dispute and whose it is.
pub struct Opened {
    pub summary: OpenedDispute,
    pub customer_id: String,
}

/// Writes a new dispute, its opening event and the invoice's disputed
/// amount, inside the caller's transaction.
pub async fn record_new(
    db: &impl Database,
    new: &NewDispute,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<Opened> {
    let (invoice, balances) = invoices::get(db, &new.invoice_id).await?;
    let amount = invoice.currency.to_minor(new.amount);
    check_disputable(&invoice, &balances, amount)?;
    let sla_due_on =
        dispute::add_business_days(new.opened_on, policy.sla_business_days(&new.reason_code));
    let number = insert(db, &invoice, new, amount, sla_due_on, stamp).await?;
    db.execute(
        "UPDATE invoices SET disputed_minor = disputed_minor + ?, updated_at = ?, updated_by = ? WHERE id = ?",
        params![amount, stamp.at_text(), &stamp.by, &invoice.id],
    )
    .await?;
    let event = Event {
        from: None,
        to: DisputeStatus::Open,
        note: Some(&new.note),
        credit: None,
    };
    record_event(db, number, &event, stamp).await?;
    let summary = OpenedDispute {
        id: dispute_id(number),
        invoice_id: invoice.id,
        amount: invoice.currency.from_minor(amount),
        reason_code: new.reason_code.clone(),
        sla_due_on,
    };
    let data = json!({
        "dispute_id": summary.id,
        "invoice_id": summary.invoice_id,
        "customer_id": invoice.customer_id,
        "amount": summary.amount,
        "currency": invoice.currency,
        "reason_code": summary.reason_code,
        "opened_on": new.opened_on,
        "sla_due_on": sla_due_on,
        "by": stamp.by,
        "why": new.note,
    });
    let opened = NewEvent {
        kind: EventType::DisputeOpened,
        subject: summary.id.clone(),
        data,
    };
    crate::events::record(db, opened, stamp).await?;
    Ok(Opened {
        summary,
        customer_id: invoice.customer_id,
    })
}

/// Tells the ERP a dispute closed: resolved with a credit, rejected, or
/// withdrawn (by hand, or paid by the customer).
async fn announce_closed(
    db: &impl Database,
    dispute: &Stored,
    status: DisputeStatus,
    credit: Option<i64>,
    why: Option<&str>,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let data = json!({
        "dispute_id": dispute.id(),
        "invoice_id": dispute.invoice_id,
        "customer_id": dispute.customer_id,
        "status": status,
        "amount": dispute.money(dispute.amount),
        "currency": dispute.currency,
        "credited": credit.map(|minor| dispute.money(minor)),
        "by": stamp.by,
        "why": why,
    });
    let event = NewEvent {
        kind: EventType::DisputeResolved,
        subject: dispute.id(),
        data,
    };
    crate::events::record(db, event, stamp).await
}

/// The invoice's active disputes together may not exceed its open balance.
fn check_disputable(invoice: &Invoice, balances: &Balances, amount: i64) -> Result<()> {
    let most = (balances.open - balances.disputed).max(0);
    if amount > most {
        let money = |minor| invoice.currency.from_minor(minor);
        return Err(LedgerError::invalid(
            "amount",
            format!(
                "at most {} of invoice '{}' can be disputed (open balance {}, already disputed {})",
                money(most),
                invoice.id,
                money(balances.open),
                money(balances.disputed)
            ),
        ));
    }
    Ok(())
}

async fn insert(
    db: &impl Database,
    invoice: &Invoice,
    new: &NewDispute,
    amount: i64,
    sla_due_on: NaiveDate,
    stamp: &Stamp,
) -> Result<i64, DbError> {
    let row = db
        .query_row(
            "INSERT INTO disputes (invoice_id, customer_id, amount_minor, reason_code, status, opened_on, sla_due_on, opened_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) RETURNING id",
            params![
                &invoice.id,
                &invoice.customer_id,
                amount,
                &new.reason_code,
                DisputeStatus::Open.as_str(),
                new.opened_on,
                sla_due_on,
                &stamp.by,
                stamp.at_text(),
            ],
        )
        .await?
        .ok_or(DbError::Sql("INSERT ... RETURNING gave no row".into()))?;
    row.int(0)
}

/// One entry for `dispute_events`.
struct Event<'a> {
    from: Option<DisputeStatus>,
    to: DisputeStatus,
    note: Option<&'a str>,
    credit: Option<i64>,
}

async fn record_event(
    db: &impl Database,
    number: i64,
    event: &Event<'_>,
    stamp: &Stamp,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO dispute_events (dispute_id, at, actor, from_status, to_status, note, credit_minor)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![
            number,
            stamp.at_text(),
            &stamp.by,
            event.from.map(DisputeStatus::as_str),
            event.to.as_str(),
            event.note,
            event.credit,
        ],
    )
    .await
}

/// Moves a dispute on and/or adds a note, inside the caller's transaction.
/// Closing it (resolved or withdrawn) takes its amount out of the
/// invoice's disputed amount on `as_of`; `resolved_credit` also issues the
/// credit. Returns the dispute as it was and the credit issued, if any.
pub async fn change(
    db: &impl Database,
    id: &str,
    change: &DisputeUpdate,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<(Dispute, Option<i64>)> {
    check_update(change)?;
    let dispute = stored(db, id).await?;
    let next = match change.status {
        Some(to) => Some(dispute.status.move_to(to).map_err(illegal)?),
        None => None,
    };
    let credit = match next {
        Some(to) => close_or_move(db, &dispute, to, change.credit_amount, as_of, stamp).await?,
        None => None,
    };
    let event = Event {
        from: Some(dispute.status),
        to: next.unwrap_or(dispute.status),
        note: change.note.as_deref(),
        credit,
    };
    record_event(db, dispute.number, &event, stamp).await?;
    if let Some(closed) = next.filter(|to| !to.is_active()) {
        announce_closed(db, &dispute, closed, credit, change.note.as_deref(), stamp).await?;
    }
    Ok((dispute.to_dispute(as_of), credit))
}

/// A change needs a status or a note; a credit goes only with `resolved_credit`.
fn check_update(change: &DisputeUpdate) -> Result<()> {
    if change.status.is_none() && change.note.is_none() {
        return Err(LedgerError::invalid(
            "status",
            "send a new status, a note, or both",
        ));
    }
    if change.credit_amount.is_some() && change.status != Some(DisputeStatus::ResolvedCredit) {
        return Err(LedgerError::invalid(
            "credit_amount",
            "a credit is only issued with status resolved_credit",
        ));
    }
    Ok(())
}

fn illegal(error: IllegalTransition) -> LedgerError {
    LedgerError::Conflict(error.to_string())
}

/// Stores the new status; closing also settles the invoice. Returns the
/// credit issued, if any.
async fn close_or_move(
    db: &impl Database,
    dispute: &Stored,
    to: DisputeStatus,
    credit_amount: Option<Decimal>,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<Option<i64>> {
    if to.is_active() {
        db.execute(
            "UPDATE disputes SET status = ?, updated_at = ? WHERE id = ?",
            params![to.as_str(), stamp.at_text(), dispute.number],
        )
        .await?;
        return Ok(None);
    }
    if as_of < dispute.opened_on {
        return Err(LedgerError::invalid(
            "as_of",
            format!(
                "a dispute opened on {} cannot close before then",
                dispute.opened_on
            ),
        ));
    }
    let credit = match to {
        DisputeStatus::ResolvedCredit => Some(credit(db, dispute, credit_amount).await?),
        _ => None,
    };
    db.execute(
        "UPDATE disputes SET status = ?, credited_minor = ?, closed_on = ?, updated_at = ? WHERE id = ?",
        params![to.as_str(), credit, as_of, stamp.at_text(), dispute.number],
    )
    .await?;
    settle_invoice(db, dispute, credit.unwrap_or(0), as_of, stamp).await?;
    Ok(credit)
}

/// The credit to issue: as asked, or the disputed amount; never more than
/// the disputed amount nor what is still open on the invoice.
async fn credit(db: &impl Database, dispute: &Stored, asked: Option<Decimal>) -> Result<i64> {
    let (_, balances) = invoices::get(db, &dispute.invoice_id).await?;
    let most = dispute.amount.min(balances.open);
    if most <= 0 {
        return Err(LedgerError::Conflict(format!(
            "invoice '{}' has nothing open to credit; resolve {} as resolved_rejected or withdraw it",
            dispute.invoice_id,
            dispute.id()
        )));
    }
    let credit = asked.map_or(most, |amount| dispute.currency.to_minor(amount));
    if credit > most {
        return Err(LedgerError::invalid(
            "credit_amount",
            format!(
                "at most {} can be credited (disputed {}, open on invoice '{}' {})",
                dispute.money(most),
                dispute.money(dispute.amount),
                dispute.invoice_id,
                dispute.money(balances.open)
            ),
        ));
    }
    Ok(credit)
}

/// The dispute's amount is no longer disputed; a credit lowers the balance.
async fn settle_invoice(
    db: &impl Database,
    dispute: &Stored,
    credit: i64,
    credited_on: NaiveDate,
    stamp: &Stamp,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE invoices SET disputed_minor = disputed_minor - ?1, credited_minor = credited_minor + ?2,
             open_minor = open_minor - ?2, updated_at = ?3, updated_by = ?4 WHERE id = ?5",
        params![dispute.amount, credit, stamp.at_text(), &stamp.by, &dispute.invoice_id],
    )
    .await?;
    if credit == 0 {
        return Ok(());
    }
    db.execute(
        "INSERT INTO credits (invoice_id, dispute_id, amount_minor, credited_on) VALUES (?, ?, ?, ?)",
        params![&dispute.invoice_id, dispute.number, credit, credited_on],
    )
    .await
}

/// After a payment was applied to an invoice: a payment into the disputed
/// part (a remittance naming a disputed invoice) pays what was disputed,
/// so the disputed amount never stays above the open balance (R3). The
/// invoice's active disputes give up the excess oldest first; one that
/// gives up all of its amount is withdrawn, paid. Each change is kept as
/// an event. Runs inside the caller's transaction.
pub(crate) async fn payment_applied(
    db: &impl Database,
    invoice_id: &str,
    payment_id: &str,
    paid_on: NaiveDate,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let Some((invoice, balances)) = invoices::find(db, invoice_id).await? else {
        return Ok(());
    };
    let excess = balances.disputed - balances.open.max(0);
    if excess <= 0 {
        return Ok(());
    }
    let sql = format!(
        "SELECT {} {FROM} WHERE d.invoice_id = ? AND d.status IN ({}) ORDER BY d.id",
        Stored::SELECT,
        DisputeStatus::sql_list(ACTIVE)
    );
    let active: Vec<Stored> = db.records(&sql, params![invoice_id]).await?;
    let amounts: Vec<i64> = active.iter().map(|d| d.amount).collect();
    let given_up = dispute::conceded_by_payment(&amounts, excess);
    let money = |minor| invoice.currency.from_minor(minor);
    for (dispute, given_up) in active.iter().zip(given_up) {
        if given_up == 0 {
            continue;
        }
        let (to, note) = if given_up == dispute.amount {
            let closed_on = paid_on.max(dispute.opened_on);
            db.execute(
                "UPDATE disputes SET status = ?, closed_on = ?, updated_at = ? WHERE id = ?",
                params![
                    DisputeStatus::Withdrawn.as_str(),
                    closed_on,
                    stamp.at_text(),
                    dispute.number
                ],
            )
            .await?;
            let note = format!(
                "payment {payment_id} paid the disputed {}; withdrawn",
                money(given_up)
            );
            let withdrawn = DisputeStatus::Withdrawn;
            announce_closed(db, dispute, withdrawn, None, Some(&note), stamp).await?;
            (withdrawn, note)
        } else {
            db.execute(
                "UPDATE disputes SET amount_minor = amount_minor - ?, updated_at = ? WHERE id = ?",
                params![given_up, stamp.at_text(), dispute.number],
            )
            .await?;
            let note = format!(
                "payment {payment_id} paid {} of the disputed amount; {} still disputed",
                money(given_up),
                money(dispute.amount - given_up)
            );
            (dispute.status, note)
        };
        let event = Event {
            from: Some(dispute.status),
            to,
            note: Some(&note),
            credit: None,
        };
        record_event(db, dispute.number, &event, stamp).await?;
    }
    db.execute(
        "UPDATE invoices SET disputed_minor = MAX(disputed_minor - ?1, 0), updated_at = ?2, updated_by = ?3 WHERE id = ?4",
        params![excess, stamp.at_text(), &stamp.by, invoice_id],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispute_ids_are_d_and_a_number() {
        assert_eq!(number("D-12"), Some(12));
        for bad in [
            "D-",
            "D12",
            "d-1",
            "D-1x",
            "D--1",
            "D-+1",
            "12",
            "D-99999999999999999999",
        ] {
            assert_eq!(number(bad), None, "{bad}");
        }
    }

    #[test]
    fn status_filters() {
        assert_eq!(StatusFilter::parse("active"), Some(StatusFilter::Active));
        assert_eq!(
            StatusFilter::parse("open"),
            Some(StatusFilter::Exactly(DisputeStatus::Open))
        );
        assert_eq!(StatusFilter::parse("closed"), None);
        assert_eq!(StatusFilter::Any.statuses(), None);
        assert_eq!(StatusFilter::Active.statuses(), Some(("open", "in_review")));
    }
}
