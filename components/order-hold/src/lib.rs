//! order-hold: the ERP's order webhooks get a hold decision (R1) in
//! milliseconds; associates work the held queue, releasing orders one by
//! one or in bulk with a note; the ERP cancels orders.

use api::input::path_id;
use api::spin::{Desk, serve};
use api::{Fields, Incoming, Problem, Reply, Role, valid};
use credit_core::hold::OrderStatus;
use http::Method;
use ledger::orders::{self, OrderWebhook, QueueQuery};
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, route).await
}

async fn route(request: Incoming) -> Result<Reply, Problem> {
    let desk = Desk::open().await?;
    let segments = request.segments();
    match (&request.method, segments.as_slice()) {
        (&Method::POST, ["orders"]) => check_order(&desk, &request).await,
        (&Method::GET, ["orders"]) => list_orders(&desk, &request).await,
        (_, ["orders"]) => Err(Problem::method_not_allowed(&["GET", "POST"])),
        (&Method::POST, ["orders", "release"]) => release_many(&desk, &request).await,
        (_, ["orders", "release"]) => Err(Problem::method_not_allowed(&["POST"])),
        (&Method::GET, ["orders", id]) => show_order(&desk, &request, id).await,
        (_, ["orders", _]) => Err(Problem::method_not_allowed(&["GET"])),
        (&Method::POST, ["orders", id, "release"]) => release(&desk, &request, id).await,
        (&Method::POST, ["orders", id, "cancel"]) => cancel(&desk, &request, id).await,
        (_, ["orders", _, "release" | "cancel"]) => Err(Problem::method_not_allowed(&["POST"])),
        _ => Err(Problem::not_found(format!(
            "no resource at {}",
            request.path
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderBody {
    id: String,
    customer_id: String,
    amount: String,
    currency: String,
    ordered_on: String,
    as_of: Option<String>,
}

fn order_webhook(body: &OrderBody, today: chrono::NaiveDate) -> Result<OrderWebhook, Problem> {
    let mut fields = Fields::new();
    let id = fields.id("id", &body.id);
    let customer_id = fields.id("customer_id", &body.customer_id);
    let currency = fields.currency("currency", &body.currency);
    let amount = fields.amount("amount", &body.amount, currency);
    let ordered_on = fields.date("ordered_on", &body.ordered_on);
    let as_of = match &body.as_of {
        Some(text) => fields.date("as_of", text),
        None => Some(today),
    };
    fields.finish()?;
    Ok(OrderWebhook {
        id: valid(id),
        customer_id: valid(customer_id),
        amount: valid(amount),
        currency: valid(currency),
        ordered_on: valid(ordered_on),
        as_of: valid(as_of),
    })
}

/// `POST /orders` (ERP): the hold check.
async fn check_order(desk: &Desk, request: &Incoming) -> Result<Reply, Problem> {
    let caller = desk.erp_or(request, Role::Manager)?;
    desk.once(&caller, request, async || {
        let order = order_webhook(&request.json()?, desk.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let result = orders::check(&desk.db, &order, &policy, &desk.stamp(&caller)).await?;
        Ok(Reply::ok(&result))
    })
    .await
}

/// `GET /orders?status=held&customer_id=`: oldest first.
async fn list_orders(desk: &Desk, request: &Incoming) -> Result<Reply, Problem> {
    desk.person(request, Role::Associate)?;
    let mut fields = Fields::new();
    let status = match request.query("status") {
        None => Some(OrderStatus::Held),
        Some(text) => OrderStatus::parse(text).or_else(|| {
            fields.error("status", "must be held, released, cancelled or invoiced");
            None
        }),
    };
    let customer_id = request
        .query("customer_id")
        .and_then(|id| fields.id("customer_id", id));
    let limit = number(
        &mut fields,
        request,
        "limit",
        QueueQuery::DEFAULT_LIMIT,
        1..=QueueQuery::MAX_LIMIT,
    );
    let offset = number(&mut fields, request, "offset", 0, 0..=u32::MAX);
    let as_of = request.as_of(desk.today());
    fields.finish()?;
    let query = QueueQuery {
        status: valid(status),
        customer_id,
        limit: valid(limit),
        offset: valid(offset),
    };
    let entries = orders::queue(&desk.db, &query, as_of?).await?;
    Ok(Reply::ok(&entries))
}

fn number(
    fields: &mut Fields,
    request: &Incoming,
    name: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Option<u32> {
    let Some(text) = request.query(name) else {
        return Some(default);
    };
    let parsed = text.parse::<u32>().ok().filter(|n| range.contains(n));
    if parsed.is_none() {
        fields.error(
            name,
            format!(
                "must be a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        );
    }
    parsed
}

/// `GET /orders/{id}`: the order with its decision history.
async fn show_order(desk: &Desk, request: &Incoming, id: &str) -> Result<Reply, Problem> {
    desk.person(request, Role::Associate)?;
    let view = orders::view(&desk.db, path_id("order", id)?).await?;
    Ok(Reply::ok(&view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    note: String,
}

/// Longest note kept with a release.
const MAX_NOTE: usize = 2000;

/// `POST /orders/{id}/release?as_of=` (associate): a manual release with a
/// note; the account's figures as of `as_of` (today unless given) are kept
/// with it.
async fn release(desk: &Desk, request: &Incoming, id: &str) -> Result<Reply, Problem> {
    let caller = desk.person(request, Role::Associate)?;
    let id = path_id("order", id)?;
    let body: ReleaseBody = request.json()?;
    let mut fields = Fields::new();
    let note = fields.text("note", &body.note, MAX_NOTE);
    fields.finish()?;
    let as_of = request.as_of(desk.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let stamp = desk.stamp(&caller);
    let view = orders::release(&desk.db, id, &valid(note), &policy, as_of, &stamp).await?;
    Ok(Reply::ok(&view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkReleaseBody {
    order_ids: Vec<String>,
    note: String,
}

/// Most orders one bulk release takes.
const MAX_BULK: usize = 500;

/// `POST /orders/release?as_of=` (associate): many held orders, one note.
async fn release_many(desk: &Desk, request: &Incoming) -> Result<Reply, Problem> {
    let caller = desk.person(request, Role::Associate)?;
    let body: BulkReleaseBody = request.json()?;
    let mut fields = Fields::new();
    let note = fields.text("note", &body.note, MAX_NOTE);
    fields.check(
        (1..=MAX_BULK).contains(&body.order_ids.len()),
        "order_ids",
        &format!("must list 1 to {MAX_BULK} orders"),
    );
    for (i, id) in body.order_ids.iter().enumerate() {
        fields.id(&format!("order_ids[{i}]"), id);
    }
    fields.finish()?;
    let as_of = request.as_of(desk.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let stamp = desk.stamp(&caller);
    let note = valid(note);
    let outcomes =
        orders::release_many(&desk.db, &body.order_ids, &note, &policy, as_of, &stamp).await?;
    Ok(Reply::ok(&serde_json::json!({ "results": outcomes })))
}

/// `POST /orders/{id}/cancel` (ERP): frees the order's exposure.
async fn cancel(desk: &Desk, request: &Incoming, id: &str) -> Result<Reply, Problem> {
    let caller = desk.erp_or(request, Role::Manager)?;
    let id = path_id("order", id)?;
    desk.once(&caller, request, async || {
        let as_of = request.as_of(desk.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let cancelled = orders::cancel(&desk.db, id, as_of, &policy, &desk.stamp(&caller)).await?;
        Ok(Reply::ok(&cancelled))
    })
    .await
}
