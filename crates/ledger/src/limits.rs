//! R4, credit-limit requests: an associate asks for a new limit; a manager
//! other than the requester approves it (possibly at another amount) or
//! rejects it — the decision is [`crate::workflows::limit`].

use chrono::NaiveDate;
use credit_core::limit::{self, LimitError, RequestStatus};
use credit_core::{Currency, Named};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::customers::{self, Customer};
use crate::db::{Columns, Database, DbError, Record, Records, transaction};
use crate::orders::Recheck;
use crate::{LedgerError, Result, Stamp, accounts, params};

/// A request as an associate makes it; the amount is in the customer's
/// currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRequest {
    pub customer_id: String,
    pub requested_limit: Decimal,
    pub reason: String,
}

/// What a manager decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Approve at `limit`, or at the requested limit when `None`.
    Approve {
        limit: Option<Decimal>,
    },
    Reject,
}

/// A manager's decision on a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub note: String,
    /// The date held orders are re-checked as of.
    pub as_of: NaiveDate,
}

/// A credit-limit request as stored, with its customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LimitRequest {
    /// `CLR-<n>`.
    pub id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub currency: Currency,
    pub status: RequestStatus,
    /// The customer's limit when the request was made (`None`: no limit).
    pub current_limit: Option<Decimal>,
    pub requested_limit: Decimal,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The limit an approval set.
    pub approved_limit: Option<Decimal>,
    /// The decider's note.
    pub note: Option<String>,
    /// Held orders the approval's re-check released, oldest first.
    pub released_orders: Vec<String>,
    /// Held orders it left held.
    pub still_held: Vec<String>,
}

/// The answer to a decision: the request as decided and the customer's
/// limit now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decided {
    #[serde(flatten)]
    pub request: LimitRequest,
    pub credit_limit: Option<Decimal>,
}

impl Record for LimitRequest {
    const SELECT: &'static str = "r.id, r.customer_id, c.name, c.currency, r.status, r.previous_minor, r.requested_minor, r.reason,
        r.requested_by, r.requested_at, r.decided_by, r.decided_at, r.approved_minor, r.note, r.released_orders, r.still_held";

    fn read(columns: &mut Columns<'_>) -> Result<LimitRequest, DbError> {
        let (id, customer_id, customer_name) = (
            request_id(columns.int()?),
            columns.string()?,
            columns.string()?,
        );
        let currency = columns.currency()?;
        let money = |minor: i64| currency.from_minor(minor);
        Ok(LimitRequest {
            id,
            customer_id,
            customer_name,
            currency,
            status: columns.named()?,
            current_limit: columns.opt_int()?.map(money),
            requested_limit: money(columns.int()?),
            reason: columns.string()?,
            requested_by: columns.string()?,
            requested_at: columns.string()?,
            decided_by: columns.opt_string()?,
            decided_at: columns.opt_string()?,
            approved_limit: columns.opt_int()?.map(money),
            note: columns.opt_string()?,
            released_orders: columns.json()?,
            still_held: columns.json()?,
        })
    }
}

/// Requests `r` with their customer `c`.
const FROM: &str = "FROM credit_limit_requests r JOIN customers c ON c.id = r.customer_id";

/// Requests are numbered by the database and shown as `CLR-<n>`.
pub fn request_id(number: i64) -> String {
    format!("CLR-{number}")
}

/// The number behind `CLR-<n>`; `None` for anything else.
fn request_number(id: &str) -> Option<i64> {
    let number = id.strip_prefix("CLR-")?.parse().ok()?;
    (request_id(number) == id).then_some(number)
}

/// The request with id `CLR-<n>`, if there is one.
pub async fn find(db: &impl Database, id: &str) -> Result<Option<LimitRequest>, DbError> {
    let Some(number) = request_number(id) else {
        return Ok(None);
    };
    let sql = format!("SELECT {} {FROM} WHERE r.id = ?", LimitRequest::SELECT);
    db.record(&sql, params![number]).await
}

/// The request, or a not-found error naming it.
pub async fn get(db: &impl Database, id: &str) -> Result<LimitRequest> {
    find(db, id)
        .await?
        .ok_or_else(|| LedgerError::not_found("credit-limit request", id))
}

/// Records a pending request. The requested limit may not be below what
/// the customer already has outstanding, and a customer has at most one
/// pending request.
pub async fn create(db: &impl Database, new: &NewRequest, stamp: &Stamp) -> Result<LimitRequest> {
    transaction(db, async |db| {
        let customer = customers::get(db, &new.customer_id).await?;
        if let Some(pending) = pending_for(db, &customer.id).await? {
            return Err(LedgerError::Conflict(format!(
                "customer '{}' already has a pending credit-limit request, {pending}; it must be decided first",
                customer.id
            )));
        }
        let account = accounts::account(db, &customer, None).await?;
        limit::check_new_limit(&account, new.requested_limit)
            .map_err(|e| refusal(e, "requested_limit"))?;
        let number = insert(db, &customer, new, stamp).await?;
        get(db, &request_id(number)).await
    })
    .await
}

async fn pending_for(db: &impl Database, customer_id: &str) -> Result<Option<String>, DbError> {
    let row = db
        .query_row(
            "SELECT id FROM credit_limit_requests WHERE customer_id = ? AND status = ? LIMIT 1",
            params![customer_id, RequestStatus::Pending.as_str()],
        )
        .await?;
    row.map(|row| row.int(0).map(request_id)).transpose()
}

async fn insert(
    db: &impl Database,
    customer: &Customer,
    new: &NewRequest,
    stamp: &Stamp,
) -> Result<i64, DbError> {
    let minor = |amount| customer.currency.to_minor(amount);
    let row = db
        .query_row(
            "INSERT INTO credit_limit_requests (customer_id, requested_minor, previous_minor, reason, status, requested_by, requested_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            params![
                &customer.id,
                minor(new.requested_limit),
                customer.credit_limit.map(minor),
                &new.reason,
                RequestStatus::Pending.as_str(),
                &stamp.by,
                stamp.at_text(),
            ],
        )
        .await?
        .ok_or(DbError::Sql("INSERT ... RETURNING gave no row".into()))?;
    row.int(0)
}

/// A rule of R4 broken: which error the caller gets.
pub(crate) fn refusal(error: LimitError, amount_field: &str) -> LedgerError {
    match error {
        LimitError::AlreadyDecided(_) => LedgerError::Conflict(error.to_string()),
        LimitError::OwnRequest => {
            LedgerError::Forbidden(format!("{error}; another manager must decide it"))
        }
        LimitError::BelowOutstanding { .. } => {
            LedgerError::invalid(amount_field, error.to_string())
        }
    }
}

/// Records a decision on the request.
pub(crate) async fn record_decision(
    db: &impl Database,
    id: &str,
    status: RequestStatus,
    approved_minor: Option<i64>,
    note: &str,
    recheck: &Recheck,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let ids = |list: &Vec<String>| serde_json::to_string(list).expect("ids serialise");
    db.execute(
        "UPDATE credit_limit_requests SET status = ?, decided_by = ?, decided_at = ?, approved_minor = ?, note = ?,
             released_orders = ?, still_held = ?
         WHERE id = ?",
        params![
            status.as_str(),
            &stamp.by,
            stamp.at_text(),
            approved_minor,
            note,
            ids(&recheck.released),
            ids(&recheck.still_held),
            request_number(id),
        ],
    )
    .await
}

/// A limit set directly (the customer put with another limit) supersedes
/// the customer's pending request: it is closed as `superseded`, with who
/// set the limit, when, and to what, and the closing is audited.
pub async fn supersede_pending(
    db: &impl Database,
    customer: &Customer,
    before: Option<Decimal>,
    stamp: &Stamp,
) -> Result<Option<String>, DbError> {
    let Some(id) = pending_for(db, &customer.id).await? else {
        return Ok(None);
    };
    let shown = |limit: Option<Decimal>| limit.map_or("none".to_string(), |l| l.to_string());
    let note = format!(
        "superseded: the credit limit was set directly from {} to {} {}",
        shown(before),
        shown(customer.credit_limit),
        customer.currency
    );
    db.execute(
        "UPDATE credit_limit_requests SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ?",
        params![
            RequestStatus::Superseded.as_str(),
            &stamp.by,
            stamp.at_text(),
            &note,
            request_number(&id),
        ],
    )
    .await?;
    let details = serde_json::json!({ "customer_id": customer.id, "note": note });
    crate::audit::record(db, stamp, "supersede", "credit_limit_request", &id, details).await?;
    Ok(Some(id))
}

/// Which requests a list shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// `None`: every status.
    pub status: Option<RequestStatus>,
    pub customer_id: Option<String>,
}

/// Requests in a status (all by default), oldest first.
pub async fn list(db: &impl Database, query: &ListQuery) -> Result<Vec<LimitRequest>, DbError> {
    // Every status is named so the status index serves all lists.
    let statuses = match query.status {
        Some(status) => RequestStatus::sql_list(&[status]),
        None => RequestStatus::sql_list(RequestStatus::ALL),
    };
    let sql = format!(
        "SELECT {} {FROM} WHERE r.status IN ({statuses}) AND (?1 IS NULL OR r.customer_id = ?1) ORDER BY r.id",
        LimitRequest::SELECT
    );
    db.records(&sql, params![query.customer_id.clone()]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_round_trip_and_nothing_else_parses() {
        assert_eq!(request_id(12), "CLR-12");
        assert_eq!(request_number("CLR-12"), Some(12));
        for other in ["CLR-", "CLR-012", "CLR-+1", "clr-1", "12", "CLR-1x", "D-1"] {
            assert_eq!(request_number(other), None, "{other}");
        }
    }
}
