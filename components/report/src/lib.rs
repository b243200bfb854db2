//! report: held orders, aging, disputes against their service levels, the
//! collection worklist, KPIs, credit-limit requests and releases by hand,
//! for associates and managers — as JSON, or as CSV (RFC 4180, header row) with
//! `Accept: text/csv`. See [`tables`] for the CSV layout.

mod tables;
mod trend;

use api::spin::{Desk, NoStore, serve};
use api::{Access, Call, Fields, Incoming, Problem, Reply, Route, Table, handler};
use chrono::NaiveDate;
use credit_core::Named;
use credit_core::dispute::DisputeStatus;
use credit_core::limit::RequestStatus;
use credit_core::metrics::Period;
use ledger::limits::ListQuery;
use ledger::{disputes, reports};
use serde::Serialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open_read_only).await
}

/// The reports read the database alone.
type Reports = Desk<NoStore>;

const ROUTES: &[Route<Reports>] = &[
    Route::get(
        "/reports/held-orders",
        Access::ASSOCIATE,
        handler!(held_orders),
    ),
    Route::get(
        "/reports/held-orders/trend",
        Access::ASSOCIATE,
        handler!(trend::held_orders_trend),
    ),
    Route::get("/reports/dashboard", Access::ASSOCIATE, handler!(dashboard)),
    Route::get("/reports/aging", Access::ASSOCIATE, handler!(aging)),
    Route::get("/reports/disputes", Access::ASSOCIATE, handler!(disputes)),
    Route::get("/reports/worklist", Access::ASSOCIATE, handler!(worklist)),
    Route::get("/reports/kpis", Access::ASSOCIATE, handler!(kpis)),
    Route::get(
        "/reports/credit-limit-requests",
        Access::ASSOCIATE,
        handler!(credit_limit_requests),
    ),
    Route::get("/reports/releases", Access::MANAGER, handler!(releases)),
];

/// The report as the caller asked for it: CSV, or JSON by default.
fn answer<T: Serialize>(request: &Incoming, report: &T, table: fn(&T) -> Table) -> Reply {
    if request.wants_csv() {
        Reply::csv(&table(report))
    } else {
        Reply::ok(report)
    }
}

/// `GET /reports/held-orders?as_of=`: oldest first; days held to `as_of`.
async fn held_orders(desk: &Reports, call: &Call) -> Result<Reply, Problem> {
    let as_of = call.as_of(call.today())?;
    let report = reports::held_orders(&desk.db, as_of).await?;
    Ok(answer(call, &report, tables::held_orders))
}

/// `GET /reports/dashboard?as_of=`: the manager's tiles and aging.
async fn dashboard(desk: &Reports, call: &Call) -> Result<Reply, Problem> {
    let as_of = call.as_of(call.today())?;
    let report = reports::dashboard(&desk.db, as_of).await?;
    Ok(answer(call, &report, tables::dashboard))
}

/// `GET /reports/aging?as_of=`: receivables as they stood on `as_of`.
async fn aging(desk: &Reports, call: &Call) -> Result<Reply, Problem> {
    let as_of = call.as_of(call.today())?;
    let report = reports::aging(&desk.db, as_of).await?;
    Ok(answer(call, &report, tables::aging))
}

/// `GET /reports/disputes?as_of=&status=`: `status` is one status, `active`
/// (open and in review, the default) or `all`.
async fn disputes(desk: &Reports, call: &Call) -> Result<Reply, Problem> {
    let as_of = call.as_of(call.today())?;
    let statuses = match call.query("status") {
        None | Some("active") => disputes::ACTIVE.to_vec(),
        Some("all") => DisputeStatus::ALL.to_vec(),
        Some(text) => vec![DisputeStatus::parse(text).ok_or_else(|| {
            let expected = DisputeStatus::expected_or(&["active", "all"]);
            Problem::invalid_field("status", format!("must be {expected}"))
        })?],
    };
    let report = reports::disputes(&desk.db, as_of, &statuses).await?;
    Ok(answer(call, &report, tables::disputes))
}

/// `GET /reports/worklist?as_of=&assignee=`: who to call first; only the
/// accounts of `assignee` (`me`, `unassigned` or a name) when given.
async fn worklist(desk: &Reports, call: &Call) -> Result<Reply, Problem> {
    let mut fields = Fields::new();
    let assignee = call
        .query("assignee")
        .and_then(|text| fields.assignee("assignee", text, call.caller.name()));
    let as_of = call.as_of(call.today());
    fields.finish()?;
    let report = reports::worklist(&desk.db, as_of?, assignee.as_ref()).await?;
    Ok(answer(call, &report, tables::worklist))
}

/// `GET /reports/kpis?from=&to=`: both dates required, `to` not before `from`.
async fn kpis(desk: &Reports, call: &Call) -> Result<Reply, Problem> {
    let report = reports::kpis(&desk.db, period(call)?).await?;
    Ok(answer(call, &report, tables::kpis))
}

/// `GET /reports/releases?from=&to=&by=` (manager): releases by hand in
/// the period, per person, with the holds they overrode.
async fn releases(desk: &Reports, call: &Call) -> Result<Reply, Problem> {
    let period = period(call)?;
    let mut fields = Fields::new();
    let by = call
        .query("by")
        .and_then(|name| fields.text("by", name, api::input::MAX_NAME));
    fields.finish()?;
    let report = reports::releases(&desk.db, period, by.as_deref()).await?;
    Ok(answer(call, &report, tables::releases))
}

/// `from` and `to`, both required, `to` not before `from`.
fn period(request: &Incoming) -> Result<Period, Problem> {
    let from = required_date(request, "from")?;
    let to = required_date(request, "to")?;
    Period::new(from, to).ok_or_else(|| Problem::invalid_field("to", "must not be before from"))
}

fn required_date(request: &Incoming, name: &str) -> Result<NaiveDate, Problem> {
    request
        .date_param(name)?
        .ok_or_else(|| Problem::invalid_field(name, "is required (YYYY-MM-DD)"))
}

/// `GET /reports/credit-limit-requests?status=&customer_id=`: pending ones
/// unless another status (or `all`) is asked for.
async fn credit_limit_requests(desk: &Reports, call: &Call) -> Result<Reply, Problem> {
    let status = match call.query("status") {
        None => Some(RequestStatus::Pending),
        Some("all") => None,
        Some(text) => Some(RequestStatus::parse(text).ok_or_else(|| {
            let expected = RequestStatus::expected_or(&["all"]);
            Problem::invalid_field("status", format!("must be {expected}"))
        })?),
    };
    let customer_id = call
        .query("customer_id")
        .map(|id| api::input::check_id(id).map(|()| id.to_string()))
        .transpose()
        .map_err(|message| Problem::invalid_field("customer_id", message))?;
    let query = ListQuery {
        status,
        customer_id,
    };
    let report = reports::credit_limit_requests(&desk.db, &query).await?;
    Ok(answer(call, &report, tables::credit_limit_requests))
}
