//! The held queue (and any other list of orders), as associates work it at
//! volume: filtered by reason, currency, amount, days held, customer and
//! assignee; sorted by age, amount, customer, requested ship date or days
//! past due; paged by a cursor that stays put while orders come and go;
//! with the totals of everything that matches, not of the page. One query path
//! serves the queue page, a customer's held orders and the held-orders
//! report.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as CURSOR;
use chrono::{DateTime, NaiveDate};
use credit_core::hold::{Decision, OrderStatus, Reason, ReasonCode};
use credit_core::{Currency, Named};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::customers::AssigneeFilter;
use crate::db::{Columns, Database, DbError, Record, Records, Value, exact_sum};

credit_core::named! {
    /// How a list of orders is sorted; each sort ends with the order id.
    pub enum QueueSort {
        /// Oldest order first (then the longest held).
        Oldest = "oldest",
        /// Largest amount first, within each currency.
        Amount = "amount",
        /// By customer name.
        Customer = "customer",
        /// Soonest requested ship date first; orders without one last.
        ShipDate = "ship_date",
        /// Customers longest past due first.
        DaysPastDue = "days_past_due",
    }
}

/// Which orders a list shows, in what order, from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueQuery {
    pub status: OrderStatus,
    pub customer_id: Option<String>,
    /// Orders of the accounts of this assignee (or of nobody).
    pub assignee: Option<AssigneeFilter>,
    /// Orders whose latest decision has this reason.
    pub reason: Option<ReasonCode>,
    pub currency: Option<Currency>,
    /// Amounts from and to (in `currency`, which an amount range needs).
    pub min_amount: Option<Decimal>,
    pub max_amount: Option<Decimal>,
    /// Held at least this many days by the query date.
    pub min_days_held: Option<u32>,
    pub sort: QueueSort,
    /// Where the previous page ended (cursor paging), ...
    pub after: Option<QueueCursor>,
    /// ... or how many to skip (offset paging, `GET /orders`).
    pub offset: u32,
    pub limit: u32,
}

impl QueueQuery {
    pub const DEFAULT_LIMIT: u32 = 100;
    pub const MAX_LIMIT: u32 = 1000;

    /// Every held order, oldest first, on one page.
    pub fn all_held() -> QueueQuery {
        QueueQuery {
            limit: u32::MAX - 1,
            ..QueueQuery::held()
        }
    }

    /// The held queue, oldest first, first page.
    pub fn held() -> QueueQuery {
        QueueQuery {
            status: OrderStatus::Held,
            customer_id: None,
            assignee: None,
            reason: None,
            currency: None,
            min_amount: None,
            max_amount: None,
            min_days_held: None,
            sort: QueueSort::Oldest,
            after: None,
            offset: 0,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// Where a page ended: the sort key and id of its last order. Shown to
/// clients as an opaque token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueCursor {
    key: String,
    order_id: String,
}

impl QueueCursor {
    pub fn parse(token: &str) -> Option<QueueCursor> {
        let bytes = CURSOR.decode(token).ok()?;
        let (key, order_id): (String, String) = serde_json::from_slice(&bytes).ok()?;
        Some(QueueCursor { key, order_id })
    }

    pub fn token(&self) -> String {
        CURSOR.encode(serde_json::to_vec(&(&self.key, &self.order_id)).expect("a pair of strings"))
    }
}

/// An order in a list, with the reasons of its latest decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueEntry {
    pub order_id: String,
    pub customer_id: String,
    pub customer_name: String,
    /// Who works the customer's account, if anyone.
    pub assignee: Option<String>,
    pub amount: Decimal,
    pub currency: Currency,
    pub ordered_on: NaiveDate,
    pub status: OrderStatus,
    pub held_since: Option<String>,
    /// Whole days since the hold began, as of the query date.
    pub days_held: Option<i64>,
    pub reasons: Vec<Reason>,
    /// When the customer wants the goods, if the ERP said.
    pub requested_ship_on: Option<NaiveDate>,
    /// Days from the query date to the requested ship date (negative: past it).
    pub days_to_ship: Option<i64>,
    /// Held on or after the requested ship date: it will not ship in time.
    pub misses_ship_date: bool,
    /// Days past due of the customer's oldest undisputed open invoice, as
    /// of the query date (0 when nothing is past due).
    pub days_past_due: i64,
}

/// Count and amount of one currency's matching orders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueTotal {
    pub currency: Currency,
    pub orders: u64,
    pub amount: Decimal,
}

/// A page of a list and the totals of everything that matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueuePage {
    pub orders: Vec<QueueEntry>,
    /// Every matching order, not only the page.
    pub total_orders: u64,
    pub totals: Vec<QueueTotal>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<String>,
}

/// An order as a list reads it: the order `o`, its customer `c` (missing
/// for an order whose customer the desk does not know yet), the latest
/// decision, the customer's oldest undisputed open due date, and the
/// order's sort key `k`.
struct ListedOrder {
    order_id: String,
    customer_id: String,
    customer_name: Option<String>,
    assignee: Option<String>,
    currency: Currency,
    amount_minor: i64,
    ordered_on: NaiveDate,
    requested_ship_on: Option<NaiveDate>,
    status: OrderStatus,
    held_since: Option<String>,
    decision: Decision,
    oldest_due_on: Option<NaiveDate>,
    key: String,
}

impl Record for ListedOrder {
    const SELECT: &'static str = "q.id, q.customer_id, q.customer_name, q.assignee, q.currency, q.amount_minor, q.ordered_on, q.requested_ship_on, q.status, q.held_since, q.decision, q.oldest_due_on, q.k";

    fn read(columns: &mut Columns<'_>) -> Result<ListedOrder, DbError> {
        Ok(ListedOrder {
            order_id: columns.string()?,
            customer_id: columns.string()?,
            customer_name: columns.opt_string()?,
            assignee: columns.opt_string()?,
            currency: columns.currency()?,
            amount_minor: columns.int()?,
            ordered_on: columns.date()?,
            requested_ship_on: columns.opt_date()?,
            status: columns.named()?,
            held_since: columns.opt_string()?,
            decision: columns.json()?,
            oldest_due_on: columns.opt_date()?,
            key: columns.string()?,
        })
    }
}

impl ListedOrder {
    fn entry(self, as_of: NaiveDate) -> QueueEntry {
        let days_held = self
            .held_since
            .as_deref()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .map(|at| (as_of - at.date_naive()).num_days().max(0));
        let days_to_ship = self.requested_ship_on.map(|on| (on - as_of).num_days());
        let held = self.status == OrderStatus::Held;
        QueueEntry {
            customer_name: self.customer_name.unwrap_or_default(),
            amount: self.currency.from_minor(self.amount_minor),
            days_held,
            reasons: self.decision.reasons,
            misses_ship_date: held && days_to_ship.is_some_and(|days| days <= 0),
            days_to_ship,
            days_past_due: self
                .oldest_due_on
                .map_or(0, |due| credit_core::days_past_due(as_of, due).max(0)),
            order_id: self.order_id,
            customer_id: self.customer_id,
            assignee: self.assignee,
            currency: self.currency,
            ordered_on: self.ordered_on,
            status: self.status,
            held_since: self.held_since,
            requested_ship_on: self.requested_ship_on,
        }
    }
}

/// The sort key of each order, as SQL over the columns of `base` (see
/// [`matching`]): a text that sorts as the list does (then the order id).
fn sort_key(sort: QueueSort) -> &'static str {
    match sort {
        QueueSort::Oldest => "ordered_on || ' ' || COALESCE(held_since, '')",
        // Amounts are at most 10^16 minor units: the complement to 10^17,
        // zero-padded, sorts the largest first, within each currency.
        QueueSort::Amount => "currency || printf('%018d', 100000000000000000 - amount_minor)",
        QueueSort::Customer => "lower(COALESCE(customer_name, '')) || ' ' || customer_id",
        QueueSort::ShipDate => "COALESCE(requested_ship_on, '9999-12-31')",
        QueueSort::DaysPastDue => "COALESCE(oldest_due_on, '9999-12-31')",
    }
}

/// The matching orders as a CTE `q` and the parameters it binds: each
/// filter is a condition on the order, so the status's index (the held
/// queue's partial index, or a customer's orders) serves the set.
fn matching(query: &QueueQuery, as_of: NaiveDate) -> (String, Vec<Value>) {
    let mut found = Conditions::default();
    match (&query.customer_id, query.status) {
        (Some(customer_id), status) => {
            found.bind("o.customer_id = #", customer_id.into());
            found.bind("o.status = #", status.as_str().into());
        }
        // Written out, not bound: a bound status cannot match the partial
        // index's `WHERE`.
        (None, status @ (OrderStatus::Held | OrderStatus::PendingApproval)) => found
            .sql
            .push(format!("o.status = {}", OrderStatus::sql_list(&[status]))),
        (None, status) => found.bind("o.status = #", status.as_str().into()),
    }
    if let Some(assignee) = &query.assignee {
        match assignee.condition("c.assignee", "#") {
            (condition, Some(value)) => found.bind(&condition, value),
            (condition, None) => found.sql.push(condition),
        }
    }
    if let Some(reason) = query.reason {
        found.bind(
            "o.hold_reasons LIKE #",
            format!("% {} %", reason.as_str()).into(),
        );
    }
    if let Some(currency) = query.currency {
        found.bind(
            "COALESCE(o.currency, c.currency) = #",
            currency.code().into(),
        );
        if let Some(min) = query.min_amount {
            found.bind("o.amount_minor >= #", currency.to_minor(min).into());
        }
        if let Some(max) = query.max_amount {
            found.bind("o.amount_minor <= #", currency.to_minor(max).into());
        }
    }
    if let Some(days) = query.min_days_held {
        let latest = as_of - chrono::Days::new(u64::from(days));
        // Held since before the end of that day.
        let end_of_day = (latest + chrono::Days::new(1)).to_string();
        found.bind("o.held_since < #", end_of_day.into());
    }
    let Conditions {
        sql: conditions,
        params,
    } = found;
    let cte = format!(
        "WITH base AS (
            SELECT o.id, o.customer_id, c.name AS customer_name, c.assignee, COALESCE(o.currency, c.currency) AS currency,
                   o.amount_minor, o.ordered_on, o.requested_ship_on, o.status, o.held_since,
                   (SELECT od.decision FROM order_decisions od WHERE od.order_id = o.id ORDER BY od.id DESC LIMIT 1) AS decision,
                   (SELECT MIN(i.due_on) FROM invoices i
                     WHERE i.customer_id = o.customer_id AND i.open_minor > 0 AND i.open_minor > i.disputed_minor) AS oldest_due_on
            FROM orders o LEFT JOIN customers c ON c.id = o.customer_id
            WHERE {conditions}),
         q AS (SELECT base.*, {key} AS k FROM base)",
        key = sort_key(query.sort),
        conditions = conditions.join(" AND "),
    );
    (cte, params)
}

/// Conditions of a `WHERE` and the parameters they bind, numbered as added.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    params: Vec<Value>,
}

impl Conditions {
    /// Adds `condition`, its `#` standing for `value`.
    fn bind(&mut self, condition: &str, value: Value) {
        self.params.push(value);
        let placeholder = format!("?{}", self.params.len());
        self.sql.push(condition.replace('#', &placeholder));
    }
}

/// A page of the orders `query` asks for, with the totals of all that match.
pub async fn queue_page(
    db: &impl Database,
    query: &QueueQuery,
    as_of: NaiveDate,
) -> Result<QueuePage, DbError> {
    let (orders, next) = page(db, query, as_of).await?;
    let (total_orders, totals) = totals(db, query, as_of).await?;
    Ok(QueuePage {
        orders,
        total_orders,
        totals,
        next,
    })
}

/// The orders `query` asks for (one page, no totals).
pub async fn queue(
    db: &impl Database,
    query: &QueueQuery,
    as_of: NaiveDate,
) -> Result<Vec<QueueEntry>, DbError> {
    Ok(page(db, query, as_of).await?.0)
}

async fn page(
    db: &impl Database,
    query: &QueueQuery,
    as_of: NaiveDate,
) -> Result<(Vec<QueueEntry>, Option<String>), DbError> {
    let (cte, mut params) = matching(query, as_of);
    let mut after = String::new();
    if let Some(cursor) = &query.after {
        params.extend([cursor.key.clone().into(), cursor.order_id.clone().into()]);
        let (k, id) = (params.len() - 1, params.len());
        after = format!("WHERE q.k > ?{k} OR (q.k = ?{k} AND q.id > ?{id})");
    }
    params.extend([
        Value::from(query.limit.saturating_add(1)),
        Value::from(query.offset),
    ]);
    let (limit, offset) = (params.len() - 1, params.len());
    let sql = format!(
        "{cte} SELECT {} FROM q {after} ORDER BY q.k, q.id LIMIT ?{limit} OFFSET ?{offset}",
        ListedOrder::SELECT
    );
    let mut rows: Vec<ListedOrder> = db.records(&sql, params).await?;
    let more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let next = more.then(|| rows.last()).flatten().map(|last| {
        QueueCursor {
            key: last.key.clone(),
            order_id: last.order_id.clone(),
        }
        .token()
    });
    Ok((rows.into_iter().map(|row| row.entry(as_of)).collect(), next))
}

/// How many orders match, and their count and amount per currency.
async fn totals(
    db: &impl Database,
    query: &QueueQuery,
    as_of: NaiveDate,
) -> Result<(u64, Vec<QueueTotal>), DbError> {
    let (cte, params) = matching(query, as_of);
    let sql = format!(
        "{cte} SELECT q.currency, COUNT(*), {} FROM q GROUP BY q.currency ORDER BY q.currency",
        exact_sum("q.amount_minor", "amount")
    );
    let mut totals = vec![];
    for row in db.query(&sql, params).await? {
        let mut columns = row.columns();
        let currency = columns.currency()?;
        let orders = u64::try_from(columns.int()?).unwrap_or(0);
        totals.push(QueueTotal {
            currency,
            orders,
            amount: currency.from_minor_sum(columns.sum()?),
        });
    }
    Ok((totals.iter().map(|t| t.orders).sum(), totals))
}

/// The reason codes of a decision as the orders table keeps them, each
/// between spaces, for [`QueueQuery::reason`].
pub(crate) fn reasons_column(decision: &Decision) -> String {
    let codes: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_str()).collect();
    format!(" {} ", codes.join(" "))
}
