//! report: held orders, aging, disputes against their service levels, the
//! collection worklist, KPIs and credit-limit requests, for associates and
//! managers — as JSON, or as CSV (RFC 4180, header row) with
//! `Accept: text/csv`. See [`tables`] for the CSV layout.

mod tables;
mod trend;

use api::spin::{Desk, NoStore, serve};
use api::{Incoming, Problem, Reply, Role, Table};
use chrono::NaiveDate;
use credit_core::dispute::DisputeStatus;
use credit_core::limit::RequestStatus;
use credit_core::metrics::Period;
use http::Method;
use ledger::limits::ListQuery;
use ledger::reports;
use serde::Serialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, route).await
}

async fn route(request: Incoming) -> Result<Reply, Problem> {
    let desk = Desk::open_read_only().await?;
    let segments = request.segments();
    match (&request.method, segments.as_slice()) {
        (&Method::GET, ["reports", "held-orders", "trend"]) => {
            desk.person(&request, Role::Associate)?;
            trend::held_orders_trend(&desk, &request).await
        }
        (_, ["reports", "held-orders", "trend"]) => Err(Problem::method_not_allowed(&["GET"])),
        (&Method::GET, ["reports", name]) => report(&desk, &request, name).await,
        (_, ["reports", _]) => Err(Problem::method_not_allowed(&["GET"])),
        _ => Err(not_found(&request)),
    }
}

fn not_found(request: &Incoming) -> Problem {
    Problem::not_found(format!(
        "no report at {}; there are held-orders, held-orders/trend, aging, disputes, worklist, kpis and credit-limit-requests",
        request.path
    ))
}

async fn report(desk: &Desk<NoStore>, request: &Incoming, name: &str) -> Result<Reply, Problem> {
    desk.person(request, Role::Associate)?;
    match name {
        "held-orders" => held_orders(desk, request).await,
        "aging" => aging(desk, request).await,
        "disputes" => disputes(desk, request).await,
        "worklist" => worklist(desk, request).await,
        "kpis" => kpis(desk, request).await,
        "credit-limit-requests" => credit_limit_requests(desk, request).await,
        _ => Err(not_found(request)),
    }
}

/// The report as the caller asked for it: CSV, or JSON by default.
fn answer<T: Serialize>(request: &Incoming, report: &T, table: fn(&T) -> Table) -> Reply {
    if request.wants_csv() {
        Reply::csv(&table(report))
    } else {
        Reply::ok(report)
    }
}

/// `GET /reports/held-orders?as_of=`: oldest first; days held to `as_of`.
async fn held_orders(desk: &Desk<NoStore>, request: &Incoming) -> Result<Reply, Problem> {
    let as_of = request.as_of(desk.today())?;
    let report = reports::held_orders(&desk.db, as_of).await?;
    Ok(answer(request, &report, tables::held_orders))
}

/// `GET /reports/aging?as_of=`: receivables as they stood on `as_of`.
async fn aging(desk: &Desk<NoStore>, request: &Incoming) -> Result<Reply, Problem> {
    let as_of = request.as_of(desk.today())?;
    let report = reports::aging(&desk.db, as_of).await?;
    Ok(answer(request, &report, tables::aging))
}

/// `GET /reports/disputes?as_of=&status=`: `status` is one status, `active`
/// (open and in review, the default) or `all`.
async fn disputes(desk: &Desk<NoStore>, request: &Incoming) -> Result<Reply, Problem> {
    let as_of = request.as_of(desk.today())?;
    let statuses = match request.query("status") {
        None | Some("active") => reports::ACTIVE_DISPUTES.to_vec(),
        Some("all") => DisputeStatus::ALL.to_vec(),
        Some(text) => vec![DisputeStatus::parse(text).ok_or_else(|| {
            Problem::invalid_field(
                "status",
                "must be active, all, open, in_review, resolved_credit, resolved_rejected or withdrawn",
            )
        })?],
    };
    let report = reports::disputes(&desk.db, as_of, &statuses).await?;
    Ok(answer(request, &report, tables::disputes))
}

/// `GET /reports/worklist?as_of=`: who to call first.
async fn worklist(desk: &Desk<NoStore>, request: &Incoming) -> Result<Reply, Problem> {
    let as_of = request.as_of(desk.today())?;
    let report = reports::worklist(&desk.db, as_of).await?;
    Ok(answer(request, &report, tables::worklist))
}

/// `GET /reports/kpis?from=&to=`: both dates required, `to` not before `from`.
async fn kpis(desk: &Desk<NoStore>, request: &Incoming) -> Result<Reply, Problem> {
    let from = required_date(request, "from")?;
    let to = required_date(request, "to")?;
    let period = Period::new(from, to)
        .ok_or_else(|| Problem::invalid_field("to", "must not be before from"))?;
    let report = reports::kpis(&desk.db, period).await?;
    Ok(answer(request, &report, tables::kpis))
}

fn required_date(request: &Incoming, name: &str) -> Result<NaiveDate, Problem> {
    request
        .date_param(name)?
        .ok_or_else(|| Problem::invalid_field(name, "is required (YYYY-MM-DD)"))
}

/// `GET /reports/credit-limit-requests?status=&customer_id=`: pending ones
/// unless another status (or `all`) is asked for.
async fn credit_limit_requests(desk: &Desk<NoStore>, request: &Incoming) -> Result<Reply, Problem> {
    let status = match request.query("status") {
        None => Some(RequestStatus::Pending),
        Some("all") => None,
        Some(text) => Some(RequestStatus::parse(text).ok_or_else(|| {
            Problem::invalid_field("status", "must be pending, approved, rejected or all")
        })?),
    };
    let customer_id = request
        .query("customer_id")
        .map(|id| api::input::check_id(id).map(|()| id.to_string()))
        .transpose()
        .map_err(|message| Problem::invalid_field("customer_id", message))?;
    let query = ListQuery {
        status,
        customer_id,
    };
    let report = reports::credit_limit_requests(&desk.db, &query).await?;
    Ok(answer(request, &report, tables::credit_limit_requests))
}
