//! Management reports: held orders, aging, disputes against their service
//! levels, the collection worklist, collection KPIs and releases by hand.
//!
//! The SQL here only selects and sums, and every query is served by an
//! index (`tests/report_plans.rs` checks the plans), so the reports stay
//! quick on a large book. Where each aging bucket ends (the SQL sums per
//! bucket, given credit-core's bounds), ranking and the KPI formulas are
//! credit-core's. Amounts of different currencies are never added up or
//! ranked against each other.

mod releases;

pub use releases::{PersonTotal, ReleaseLine, ReleasesReport, releases};

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use credit_core::aging::{Aging, Bucket};
use credit_core::collections::{PromiseStatus, WorklistEntry, rank_worklist};
use credit_core::dispute::{DisputeStatus, SlaStatus, business_days_between, sla_status};
use credit_core::hold::OrderStatus;
use credit_core::limit::RequestStatus;
use credit_core::metrics::{self, Kpis, Period, PeriodFigures};
use credit_core::{Account, Currency, Named};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::accounts::OpenInvoiceRow;
use crate::contacts;
use crate::customers::{AssigneeFilter, Customer};
use crate::db::{Columns, Database, DbError, Record, Records, Value, exact_sum};
use crate::invoices::dispute_id;
use crate::limits::{self, LimitRequest, ListQuery};
use crate::orders::{self, QueueEntry, QueueQuery};
use crate::params;

/// `GET /reports/held-orders`: every held order, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldOrders {
    /// The date `days_held` counts to.
    pub as_of: NaiveDate,
    pub orders: Vec<QueueEntry>,
}

/// Every held order with the reasons of its latest decision, oldest first;
/// days held counted to `as_of`.
pub async fn held_orders(db: &impl Database, as_of: NaiveDate) -> Result<HeldOrders, DbError> {
    let orders = orders::queue(db, &QueueQuery::all_held(), as_of).await?;
    Ok(HeldOrders { as_of, orders })
}

/// One customer's receivables by age.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomerAging {
    pub customer_id: String,
    pub customer_name: String,
    pub currency: Currency,
    #[serde(flatten)]
    pub aging: Aging,
}

/// The receivables of one currency by age.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CurrencyAging {
    pub currency: Currency,
    /// Customers with receivables in this currency.
    pub customers: usize,
    #[serde(flatten)]
    pub aging: Aging,
}

/// `GET /reports/aging`: receivables open as of a date, per customer and
/// per currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgingReport {
    pub as_of: NaiveDate,
    /// Customers with something open, by currency, then customer id.
    pub customers: Vec<CustomerAging>,
    /// One entry per currency, by currency code.
    pub totals: Vec<CurrencyAging>,
}

/// What each invoice contributes to the receivables open as of `?1`. What
/// was open on a past date is what is open now plus what was paid or
/// credited after it (every write keeps `open_minor` = amount − paid −
/// credited), so the invoices issued by then contribute their open balance
/// — read from the covering index of open invoices — and the payments and
/// credits dated after it are added back; the settled rest of the book is
/// never read. (Invoices issued later contribute 0 through a `CASE`: as a
/// `WHERE` term the issue date would tempt SQLite into its range index,
/// which spans the whole book.) No contribution is negative.
const CONTRIBUTIONS_AS_OF: &str = "
    WITH contributions(customer_id, due_on, amount) AS (
        SELECT customer_id, due_on, CASE WHEN issued_on <= ?1 THEN open_minor ELSE 0 END
          FROM invoices WHERE open_minor > 0
        UNION ALL
        SELECT i.customer_id, i.due_on, a.amount_minor
          FROM allocations a JOIN invoices i ON i.id = a.invoice_id
         WHERE a.applied_on > ?1 AND i.issued_on <= ?1
        UNION ALL
        SELECT i.customer_id, i.due_on, r.amount_minor
          FROM credits r JOIN invoices i ON i.id = r.invoice_id
         WHERE r.credited_on > ?1 AND i.issued_on <= ?1
    )";

/// The aging bucket, by name, that a contribution (`k`, of
/// [`CONTRIBUTIONS_AS_OF`]) falls in by its due date, as SQL. The
/// buckets' earliest due dates are parameters after the date's `?1`
/// ([`as_of_with_bucket_bounds`] gives them all), so where a bucket ends
/// stays credit-core's, and a book is summed per bucket, not per due date.
fn contribution_bucket() -> String {
    let mut param = 2;
    let mut sql = String::from("CASE");
    for bucket in Bucket::ALL {
        if bucket.most_days_past_due().is_some() {
            sql += &format!(" WHEN k.due_on >= ?{param} THEN '{}'", bucket.name());
            param += 1;
        } else {
            sql += &format!(" ELSE '{}'", bucket.name());
        }
    }
    sql + " END"
}

/// The parameters of a statement that sorts [`CONTRIBUTIONS_AS_OF`] into
/// buckets with [`contribution_bucket`]: the date, then the buckets'
/// earliest due dates as of it.
fn as_of_with_bucket_bounds(as_of: NaiveDate) -> Vec<Value> {
    let bounds = Bucket::ALL
        .into_iter()
        .filter(|bucket| bucket.most_days_past_due().is_some())
        .map(|bucket| Value::from(bucket.earliest_due_on(as_of).unwrap_or(NaiveDate::MIN)));
    params![as_of].into_iter().chain(bounds).collect()
}

/// What one customer had open in one aging bucket, summed exactly.
struct Receivable {
    customer_id: String,
    customer_name: String,
    currency: Currency,
    bucket: Bucket,
    open_minor: i128,
}

impl Record for Receivable {
    const SELECT: &'static str = "k.customer_id, c.name, c.currency, bucket, open_high, open_low";

    fn read(columns: &mut Columns<'_>) -> Result<Receivable, DbError> {
        Ok(Receivable {
            customer_id: columns.string()?,
            customer_name: columns.string()?,
            currency: columns.currency()?,
            bucket: columns.named()?,
            open_minor: columns.sum()?,
        })
    }
}

/// Receivables as they stood at the end of `as_of`, per customer (those
/// with something open) and per currency.
pub async fn aging(db: &impl Database, as_of: NaiveDate) -> Result<AgingReport, DbError> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{CONTRIBUTIONS_AS_OF}
             SELECT k.customer_id, c.name, c.currency, {} AS bucket, {}
             FROM contributions k JOIN customers c ON c.id = k.customer_id
             GROUP BY c.currency, k.customer_id, bucket
             ORDER BY c.currency, k.customer_id",
            contribution_bucket(),
            exact_sum("k.amount", "open")
        )
    });
    let rows: Vec<Receivable> = db.records(&SQL, as_of_with_bucket_bounds(as_of)).await?;
    let mut customers: Vec<CustomerAging> = vec![];
    for row in rows {
        if row.open_minor == 0 {
            continue;
        }
        if customers
            .last()
            .is_none_or(|c| c.customer_id != row.customer_id)
        {
            customers.push(CustomerAging {
                customer_id: row.customer_id,
                customer_name: row.customer_name,
                currency: row.currency,
                aging: Aging::zero(row.currency.minor_units()),
            });
        }
        let customer = customers.last_mut().expect("pushed above");
        let amount = row.currency.from_minor_sum(row.open_minor);
        customer.aging.add_to(row.bucket, amount);
    }
    let totals = totals_by_currency(&customers);
    Ok(AgingReport {
        as_of,
        customers,
        totals,
    })
}

/// The totals of [`aging`] alone: the same figures, read without a row
/// per customer and due date (on a large book, tens of thousands), for
/// the dashboard and the KPIs, which need no more.
pub async fn aging_totals(
    db: &impl Database,
    as_of: NaiveDate,
) -> Result<Vec<CurrencyAging>, DbError> {
    // A customer owes as of the date when anything of theirs contributes:
    // no contribution is negative, so none cancels another out.
    static OWING: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{CONTRIBUTIONS_AS_OF}
             SELECT c.currency, COUNT(DISTINCT k.customer_id)
             FROM contributions k JOIN customers c ON c.id = k.customer_id
             WHERE k.amount > 0
             GROUP BY c.currency"
        )
    });
    static BY_BUCKET: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{CONTRIBUTIONS_AS_OF}
             SELECT c.currency, {} AS bucket, {}
             FROM contributions k JOIN customers c ON c.id = k.customer_id
             GROUP BY c.currency, bucket",
            contribution_bucket(),
            exact_sum("k.amount", "open")
        )
    });
    let mut totals: BTreeMap<&'static str, CurrencyAging> = BTreeMap::new();
    for row in db.query(&OWING, params![as_of]).await? {
        let currency = row.currency(0)?;
        totals.insert(
            currency.code(),
            CurrencyAging {
                currency,
                customers: usize::try_from(row.int(1)?).unwrap_or(0),
                aging: Aging::zero(currency.minor_units()),
            },
        );
    }
    let buckets: Vec<BucketTotal> = db
        .records(&BY_BUCKET, as_of_with_bucket_bounds(as_of))
        .await?;
    for row in buckets {
        if let Some(total) = totals.get_mut(row.currency.code()) {
            let amount = row.currency.from_minor_sum(row.open_minor);
            total.aging.add_to(row.bucket, amount);
        }
    }
    Ok(totals.into_values().collect())
}

/// The grand totals of [`aging`] alone, per currency: what was open at
/// the end of `as_of`, read in one pass (the KPIs' opening receivables
/// need no more). A currency is there when something in it was open.
pub async fn receivables_total(
    db: &impl Database,
    as_of: NaiveDate,
) -> Result<Vec<(Currency, Decimal)>, DbError> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{CONTRIBUTIONS_AS_OF}
             SELECT c.currency, {}
             FROM contributions k JOIN customers c ON c.id = k.customer_id
             GROUP BY c.currency
             HAVING MAX(k.amount) > 0",
            exact_sum("k.amount", "open")
        )
    });
    let rows: Vec<CurrencyTotal> = db.records(&SQL, params![as_of]).await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.currency, row.currency.from_minor_sum(row.open_minor)))
        .collect())
}

/// What the customers of one currency had open.
struct CurrencyTotal {
    currency: Currency,
    open_minor: i128,
}

impl Record for CurrencyTotal {
    const SELECT: &'static str = "c.currency, open_high, open_low";

    fn read(columns: &mut Columns<'_>) -> Result<CurrencyTotal, DbError> {
        Ok(CurrencyTotal {
            currency: columns.currency()?,
            open_minor: columns.sum()?,
        })
    }
}

/// What the customers of one currency had open in one aging bucket.
struct BucketTotal {
    currency: Currency,
    bucket: Bucket,
    open_minor: i128,
}

impl Record for BucketTotal {
    const SELECT: &'static str = "c.currency, bucket, open_high, open_low";

    fn read(columns: &mut Columns<'_>) -> Result<BucketTotal, DbError> {
        Ok(BucketTotal {
            currency: columns.currency()?,
            bucket: columns.named()?,
            open_minor: columns.sum()?,
        })
    }
}

fn totals_by_currency(customers: &[CustomerAging]) -> Vec<CurrencyAging> {
    let mut totals: BTreeMap<&str, CurrencyAging> = BTreeMap::new();
    for customer in customers {
        let currency = customer.currency;
        let total = totals
            .entry(currency.code())
            .or_insert_with(|| CurrencyAging {
                currency,
                customers: 0,
                aging: Aging::zero(currency.minor_units()),
            });
        total.customers += 1;
        total.aging.merge(&customer.aging);
    }
    totals.into_values().collect()
}

/// A dispute with where it stands against its service level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisputeLine {
    /// `D-<n>`.
    pub dispute_id: String,
    pub invoice_id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub currency: Currency,
    pub amount: Decimal,
    pub reason_code: String,
    pub status: DisputeStatus,
    pub opened_on: NaiveDate,
    pub sla_due_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub sla_status: SlaStatus,
    /// While active: business days from the report date to the SLA date
    /// (negative once breached). `None` once closed.
    pub business_days_left: Option<i64>,
}

/// `GET /reports/disputes`: disputes opened by a date, the SLA date first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisputesReport {
    /// The date service levels are measured at.
    pub as_of: NaiveDate,
    pub statuses: Vec<DisputeStatus>,
    pub disputes: Vec<DisputeLine>,
}

/// Disputes in `statuses` opened by `as_of`, with their service level
/// measured at `as_of`. The status is the dispute's current one.
pub async fn disputes(
    db: &impl Database,
    as_of: NaiveDate,
    statuses: &[DisputeStatus],
) -> Result<DisputesReport, DbError> {
    let mut report = DisputesReport {
        as_of,
        statuses: statuses.to_vec(),
        disputes: vec![],
    };
    if statuses.is_empty() {
        return Ok(report);
    }
    // Five slots, one per status there is; fewer statuses are repeated, so
    // one statement (and the status index) serves every filter.
    let wanted: Vec<&str> = statuses
        .iter()
        .cycle()
        .take(DisputeStatus::ALL.len())
        .map(|s| s.as_str())
        .collect();
    let sql = format!(
        "SELECT {} FROM disputes d JOIN customers c ON c.id = d.customer_id
         WHERE d.status IN (?1, ?2, ?3, ?4, ?5) AND d.opened_on <= ?6
         ORDER BY d.sla_due_on, d.id",
        DisputeLine::SELECT
    );
    let params = params![wanted[0], wanted[1], wanted[2], wanted[3], wanted[4], as_of];
    let lines: Vec<DisputeLine> = db.records(&sql, params).await?;
    report.disputes = lines
        .into_iter()
        .map(|line| line.measured_at(as_of))
        .collect();
    Ok(report)
}

/// Read with the service level left to [`DisputeLine::measured_at`].
impl Record for DisputeLine {
    const SELECT: &'static str =
        "d.id, d.invoice_id, d.customer_id, c.name, c.currency, d.amount_minor, d.reason_code,
        d.status, d.opened_on, d.sla_due_on, d.closed_on";

    fn read(columns: &mut Columns<'_>) -> Result<DisputeLine, DbError> {
        let (dispute_id, invoice_id, customer_id, customer_name) = (
            dispute_id(columns.int()?),
            columns.string()?,
            columns.string()?,
            columns.string()?,
        );
        let currency = columns.currency()?;
        Ok(DisputeLine {
            dispute_id,
            invoice_id,
            customer_id,
            customer_name,
            currency,
            amount: currency.from_minor(columns.int()?),
            reason_code: columns.string()?,
            status: columns.named()?,
            opened_on: columns.date()?,
            sla_due_on: columns.date()?,
            closed_on: columns.opt_date()?,
            sla_status: SlaStatus::OnTrack,
            business_days_left: None,
        })
    }
}

impl DisputeLine {
    /// With its service level measured at `as_of`.
    fn measured_at(self, as_of: NaiveDate) -> DisputeLine {
        DisputeLine {
            sla_status: sla_status(self.sla_due_on, as_of, self.closed_on),
            business_days_left: self
                .status
                .is_active()
                .then(|| business_days_between(as_of, self.sla_due_on)),
            ..self
        }
    }
}

/// A customer on the worklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorklistLine {
    /// Place among the customers of the same currency, from 1.
    pub rank: usize,
    pub currency: Currency,
    #[serde(flatten)]
    pub entry: WorklistEntry,
}

/// `GET /reports/worklist`: customers with an undisputed balance past due,
/// most at stake first, per currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Worklist {
    pub as_of: NaiveDate,
    pub customers: Vec<WorklistLine>,
}

/// A customer with something past due, and their name.
struct Debtor {
    name: String,
    account: Account,
}

/// Customers with an undisputed amount past due on `as_of` (balances as
/// they stand), ranked per currency by held-order value + past due; only
/// the accounts of `assignee` when one is given.
pub async fn worklist(
    db: &impl Database,
    as_of: NaiveDate,
    assignee: Option<&AssigneeFilter>,
) -> Result<Worklist, DbError> {
    let debtors = debtors(db, as_of, assignee).await?;
    let held = held_value_by_customer(db).await?;
    let broken = broken_promises_by_customer(db, as_of, &debtors).await?;
    let mut entries = vec![];
    for (id, debtor) in debtors {
        let currency = debtor.account.currency;
        let entry = WorklistEntry::new(
            id.clone(),
            debtor.name,
            debtor.account.past_due(as_of, 0),
            currency.from_minor_sum(held.get(&id).copied().unwrap_or(0)),
            debtor.account.oldest_days_past_due(as_of),
            broken.get(&id).copied().unwrap_or(0),
        );
        entries.push((currency, entry));
    }
    Ok(Worklist {
        as_of,
        customers: rank_per_currency(entries),
    })
}

/// Ranks each currency's customers on their own, currencies in code order.
fn rank_per_currency(entries: Vec<(Currency, WorklistEntry)>) -> Vec<WorklistLine> {
    let mut by_currency: BTreeMap<&str, (Currency, Vec<WorklistEntry>)> = BTreeMap::new();
    for (currency, entry) in entries {
        let slot = by_currency
            .entry(currency.code())
            .or_insert((currency, vec![]));
        slot.1.push(entry);
    }
    by_currency
        .into_values()
        .flat_map(|(currency, entries)| {
            rank_worklist(entries)
                .into_iter()
                .enumerate()
                .map(move |(place, entry)| WorklistLine {
                    rank: place + 1,
                    currency,
                    entry,
                })
        })
        .collect()
}

/// Customers with an undisputed open amount due before `as_of`, with
/// those invoices (balances as they stand).
async fn debtors(
    db: &impl Database,
    as_of: NaiveDate,
    assignee: Option<&AssigneeFilter>,
) -> Result<BTreeMap<String, Debtor>, DbError> {
    let sql = format!(
        "SELECT {}, {} FROM invoices i JOIN customers c ON c.id = i.customer_id
         WHERE i.open_minor > 0 AND i.due_on < ?1 AND i.open_minor > i.disputed_minor",
        Customer::SELECT,
        OpenInvoiceRow::SELECT
    );
    let rows = db.query(&sql, params![as_of]).await?;
    let mut debtors = BTreeMap::new();
    for row in &rows {
        let mut columns = row.columns();
        let customer: Customer = columns.record()?;
        if assignee.is_some_and(|filter| !filter.matches(customer.assignee.as_deref())) {
            continue;
        }
        let invoice: OpenInvoiceRow = columns.record()?;
        let invoice = invoice.of(&customer);
        let debtor = match debtors.entry(customer.id) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(Debtor {
                name: customer.name,
                account: Account::new(customer.currency, None),
            }),
        };
        debtor.account.invoices.push(invoice);
    }
    Ok(debtors)
}

/// Minor units of held orders per customer.
async fn held_value_by_customer(db: &impl Database) -> Result<HashMap<String, i128>, DbError> {
    // Summed here rather than in SQL: a GROUP BY would trade the partial
    // index of held orders for a scan of every order.
    let sql = format!(
        "SELECT customer_id, amount_minor FROM orders WHERE status = {}",
        OrderStatus::sql_list(&[OrderStatus::Held])
    );
    let rows = db.query(&sql, vec![]).await?;
    let mut held = HashMap::new();
    for row in &rows {
        *held.entry(row.string(0)?).or_insert(0) += i128::from(row.int(1)?);
    }
    Ok(held)
}

/// Promises to pay broken by `as_of`, per customer on the worklist.
async fn broken_promises_by_customer(
    db: &impl Database,
    as_of: NaiveDate,
    debtors: &BTreeMap<String, Debtor>,
) -> Result<HashMap<String, u32>, DbError> {
    let mut broken = HashMap::new();
    for paid in contacts::paid_promises(db, None, as_of).await? {
        if !debtors.contains_key(&paid.customer_id) {
            continue;
        }
        let status = paid.promise.status(Decimal::from(paid.paid_minor), as_of);
        if status == PromiseStatus::Broken {
            *broken.entry(paid.customer_id).or_insert(0) += 1;
        }
    }
    Ok(broken)
}

/// The KPIs of one currency with the figures behind them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CurrencyKpis {
    pub currency: Currency,
    #[serde(flatten)]
    pub figures: PeriodFigures,
    #[serde(flatten)]
    pub kpis: Kpis,
}

/// `GET /reports/kpis`: DSO, best possible DSO, ADD and CEI per currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KpiReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `begin_ar` is the receivables open as of this date, the day before `from`.
    pub opening_date: NaiveDate,
    pub currencies: Vec<CurrencyKpis>,
}

/// The KPIs of `period` per currency: receivables at its opening date and
/// at its end, and the invoices issued within it.
pub async fn kpis(db: &impl Database, period: Period) -> Result<KpiReport, DbError> {
    let closing = aging_totals(db, period.to).await?;
    kpis_closing_with(db, period, &closing).await
}

/// [`kpis`], with the receivables at the period's end already read.
async fn kpis_closing_with(
    db: &impl Database,
    period: Period,
    closing: &[CurrencyAging],
) -> Result<KpiReport, DbError> {
    let mut figures: BTreeMap<&'static str, (Currency, PeriodFigures)> = BTreeMap::new();
    for (currency, total) in receivables_total(db, period.opening_date()).await? {
        figures_of(&mut figures, currency, period).begin_ar = total;
    }
    for total in closing {
        let closing = figures_of(&mut figures, total.currency, period);
        closing.end_ar = total.aging.total;
        closing.end_current_ar = total.aging.current;
    }
    for (currency, sales) in credit_sales(db, period).await? {
        figures_of(&mut figures, currency, period).credit_sales = sales;
    }
    let currencies = figures
        .into_values()
        .map(|(currency, figures)| CurrencyKpis {
            currency,
            kpis: metrics::kpis(&figures),
            figures,
        })
        .collect();
    Ok(KpiReport {
        from: period.from,
        to: period.to,
        opening_date: period.opening_date(),
        currencies,
    })
}

/// The figures of `currency`, zero until filled in.
fn figures_of<'a>(
    figures: &'a mut BTreeMap<&'static str, (Currency, PeriodFigures)>,
    currency: Currency,
    period: Period,
) -> &'a mut PeriodFigures {
    let zero = currency.zero();
    let slot = figures.entry(currency.code()).or_insert_with(|| {
        let empty = PeriodFigures {
            begin_ar: zero,
            end_ar: zero,
            end_current_ar: zero,
            credit_sales: zero,
            days: period.days(),
        };
        (currency, empty)
    });
    &mut slot.1
}

/// Invoices issued in the period, per currency.
async fn credit_sales(
    db: &impl Database,
    period: Period,
) -> Result<Vec<(Currency, Decimal)>, DbError> {
    let sql = format!(
        "SELECT c.currency, {}
         FROM invoices i JOIN customers c ON c.id = i.customer_id
         WHERE i.issued_on BETWEEN ?1 AND ?2
         GROUP BY c.currency",
        exact_sum("i.amount_minor", "sales")
    );
    let rows = db.query(&sql, params![period.from, period.to]).await?;
    rows.iter()
        .map(|row| {
            let mut columns = row.columns();
            let currency = columns.currency()?;
            Ok((currency, currency.from_minor_sum(columns.sum()?)))
        })
        .collect()
}

/// `GET /reports/credit-limit-requests`: requests in a status, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LimitRequests {
    /// `None`: every status.
    pub status: Option<RequestStatus>,
    pub requests: Vec<LimitRequest>,
}

/// The requests `query` asks for, oldest first.
pub async fn credit_limit_requests(
    db: &impl Database,
    query: &ListQuery,
) -> Result<LimitRequests, DbError> {
    Ok(LimitRequests {
        status: query.status,
        requests: limits::list(db, query).await?,
    })
}

/// `GET /reports/held-orders/trend`: the orders held at the end of each day
/// of a period, per currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldOrdersTrend {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: Vec<credit_core::trend::HeldDay>,
}

/// Replays the decision history: the orders decided on since the period
/// began, with their whole history (which tells how they stood when it
/// began), and the orders held now that nothing has touched since, held
/// throughout. A day ends at midnight UTC, as decisions are stamped. A held
/// order counts with the amount its holding decision checked.
pub async fn held_orders_trend(
    db: &impl Database,
    period: Period,
) -> Result<HeldOrdersTrend, DbError> {
    use credit_core::trend::{HeldAtStart, HoldEvent, held_trend};
    use std::collections::HashSet;

    let rows = db
        .query(
            "SELECT od.order_id, od.decided_at, od.status, od.inputs, o.amount_minor, c.currency
             FROM order_decisions od
             JOIN orders o ON o.id = od.order_id
             JOIN customers c ON c.id = o.customer_id
             WHERE od.order_id IN (SELECT order_id FROM order_decisions WHERE decided_at >= ?1)
             ORDER BY od.order_id, od.id",
            params![period.from],
        )
        .await?;
    let mut touched = HashSet::new();
    let mut events = vec![];
    for row in &rows {
        let order_id = row.string(0)?;
        let decided_at = row.text(1)?;
        let on = chrono::DateTime::parse_from_rfc3339(decided_at)
            .map_err(|_| DbError::Decode {
                column: 1,
                expected: "an RFC 3339 instant",
            })?
            .with_timezone(&chrono::Utc)
            .date_naive();
        let currency = row.currency(5)?;
        let stored = currency.from_minor(row.int(4)?);
        let held = match row.named(2)? {
            OrderStatus::Held => {
                let inputs: serde_json::Value = row.json(3)?;
                let checked = inputs["order_amount"]
                    .as_str()
                    .and_then(|text| text.parse::<Decimal>().ok());
                Some(checked.unwrap_or(stored))
            }
            _ => None,
        };
        touched.insert(order_id.clone());
        events.push(HoldEvent {
            order_id,
            on,
            currency,
            held,
        });
    }
    let sql = format!(
        "SELECT o.id, o.amount_minor, c.currency
         FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.status = {}",
        OrderStatus::sql_list(&[OrderStatus::Held])
    );
    let rows = db.query(&sql, vec![]).await?;
    let mut held_at_start = vec![];
    for row in &rows {
        let order_id = row.string(0)?;
        if touched.contains(&order_id) {
            continue;
        }
        let currency = row.currency(2)?;
        held_at_start.push(HeldAtStart {
            order_id,
            currency,
            amount: currency.from_minor(row.int(1)?),
        });
    }
    Ok(HeldOrdersTrend {
        from: period.from,
        to: period.to,
        days: held_trend(period, &held_at_start, &events),
    })
}

/// `GET /reports/dashboard`: what a manager sees first — per currency the
/// held orders, receivables and how much is past due, DSO and CEI for the
/// month to date; the disputes breaching their service level, the pending
/// limit requests and the oldest held order; and the aging per currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    pub as_of: NaiveDate,
    /// The first day of the month the KPIs cover (to `as_of`).
    pub month_from: NaiveDate,
    pub currencies: Vec<CurrencyTiles>,
    pub held_orders: u64,
    pub disputes_breaching_sla: u64,
    pub pending_limit_requests: u64,
    pub oldest_held: Option<QueueEntry>,
    /// Receivables by age as of `as_of`, per currency.
    pub aging: Vec<CurrencyAging>,
}

/// One currency's tiles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CurrencyTiles {
    pub currency: Currency,
    pub held_orders: u64,
    pub held_amount: Decimal,
    pub open_receivables: Decimal,
    /// Receivables past their due date.
    pub past_due: Decimal,
    /// Past due as a share of receivables, in percent (none without receivables).
    pub past_due_share: Option<Decimal>,
    pub dso: Option<Decimal>,
    pub cei: Option<Decimal>,
}

pub async fn dashboard(db: &impl Database, as_of: NaiveDate) -> Result<Dashboard, DbError> {
    let month_from = as_of.with_day(1).unwrap_or(as_of);
    let month = Period::new(month_from, as_of).expect("the first of a month is not after it");
    let receivables = aging_totals(db, as_of).await?;
    let kpis = kpis_closing_with(db, month, &receivables).await?;
    let held = orders::queue_page(
        db,
        &QueueQuery {
            limit: 1,
            ..QueueQuery::held()
        },
        as_of,
    )
    .await?;
    let mut tiles: BTreeMap<&'static str, CurrencyTiles> = BTreeMap::new();
    for total in &held.totals {
        let entry = tiles
            .entry(total.currency.code())
            .or_insert_with(|| empty_tiles(total.currency));
        entry.held_orders = total.orders;
        entry.held_amount = total.amount;
    }
    for total in &receivables {
        let entry = tiles
            .entry(total.currency.code())
            .or_insert_with(|| empty_tiles(total.currency));
        entry.open_receivables = total.aging.total;
        entry.past_due = total.aging.total - total.aging.current;
        entry.past_due_share = percent(entry.past_due, entry.open_receivables);
    }
    for currency in &kpis.currencies {
        let entry = tiles
            .entry(currency.currency.code())
            .or_insert_with(|| empty_tiles(currency.currency));
        entry.dso = currency.kpis.dso;
        entry.cei = currency.kpis.cei;
    }
    Ok(Dashboard {
        as_of,
        month_from,
        currencies: tiles.into_values().collect(),
        held_orders: held.total_orders,
        disputes_breaching_sla: count(db, &breaching_sla(), params![as_of]).await?,
        pending_limit_requests: count(db, &pending_requests(), vec![]).await?,
        oldest_held: held.orders.into_iter().next(),
        aging: receivables,
    })
}

fn empty_tiles(currency: Currency) -> CurrencyTiles {
    let zero = currency.zero();
    CurrencyTiles {
        currency,
        held_orders: 0,
        held_amount: zero,
        open_receivables: zero,
        past_due: zero,
        past_due_share: None,
        dso: None,
        cei: None,
    }
}

/// `part` as a percentage of `whole`, with two decimals; none of nothing.
fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (!whole.is_zero()).then(|| {
        let mut share = (part * Decimal::ONE_HUNDRED / whole).round_dp(2);
        share.rescale(2);
        share
    })
}

/// Active disputes past their service-level date, by the status index.
fn breaching_sla() -> String {
    format!(
        "SELECT COUNT(*) FROM disputes WHERE status IN ({}) AND sla_due_on < ?1",
        DisputeStatus::sql_list(crate::disputes::ACTIVE)
    )
}

/// Credit-limit requests waiting for a decision, by the status index.
fn pending_requests() -> String {
    format!(
        "SELECT COUNT(*) FROM credit_limit_requests WHERE status = {}",
        RequestStatus::sql_list(&[RequestStatus::Pending])
    )
}

async fn count(db: &impl Database, sql: &str, params: Vec<Value>) -> Result<u64, DbError> {
    let row = db.query_row(sql, params).await?;
    let count = row.map_or(Ok(0), |row| row.int(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}
