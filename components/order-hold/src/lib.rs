//! order-hold: the ERP's order webhooks get a hold decision (R1) in
//! milliseconds; associates work the held queue, releasing orders one by
//! one or in bulk with a note; the ERP cancels orders.

use api::input::{MAX_NOTE, path_id};
use api::spin::{Desk, serve};
use api::{Access, Call, Fields, Problem, Reply, Route, handler, valid};
use credit_core::hold::OrderStatus;
use ledger::orders::{self, OrderWebhook, QueueQuery};
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

const ROUTES: &[Route<Desk>] = &[
    Route::post("/orders", Access::ERP, handler!(check_order)),
    Route::get("/orders", Access::ASSOCIATE, handler!(list_orders)),
    Route::post("/orders/release", Access::ASSOCIATE, handler!(release_many)),
    Route::get("/orders/{id}", Access::ASSOCIATE, handler!(show_order)),
    Route::post("/orders/{id}/release", Access::ASSOCIATE, handler!(release)),
    Route::post("/orders/{id}/cancel", Access::ERP, handler!(cancel)),
];

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
async fn check_order(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    desk.once(call, async || {
        let order = order_webhook(&call.json()?, call.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let result = orders::check(&desk.db, &order, &policy, &call.stamp()).await?;
        Ok(Reply::ok(&result))
    })
    .await
}

/// `GET /orders?status=held&customer_id=`: oldest first.
async fn list_orders(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let mut fields = Fields::new();
    let status = match call.query("status") {
        None => Some(OrderStatus::Held),
        Some(text) => fields.named::<OrderStatus>("status", text),
    };
    let customer_id = call
        .query("customer_id")
        .and_then(|id| fields.id("customer_id", id));
    let limit = fields.number(
        "limit",
        call.query("limit"),
        QueueQuery::DEFAULT_LIMIT,
        1..=QueueQuery::MAX_LIMIT,
    );
    let offset = fields.number("offset", call.query("offset"), 0, 0..=u32::MAX);
    let as_of = call.as_of(call.today());
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

/// `GET /orders/{id}`: the order with its decision history.
async fn show_order(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let view = orders::view(&desk.db, path_id("order", call.param("id"))?).await?;
    Ok(Reply::ok(&view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    note: String,
}

/// `POST /orders/{id}/release?as_of=` (associate): a manual release with a
/// note; the account's figures as of `as_of` (today unless given) are kept
/// with it.
async fn release(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("order", call.param("id"))?;
    let body: ReleaseBody = call.json()?;
    let mut fields = Fields::new();
    let note = fields.text("note", &body.note, MAX_NOTE);
    fields.finish()?;
    let as_of = call.as_of(call.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let stamp = call.stamp();
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
async fn release_many(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let body: BulkReleaseBody = call.json()?;
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
    let as_of = call.as_of(call.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let stamp = call.stamp();
    let note = valid(note);
    let outcomes =
        orders::release_many(&desk.db, &body.order_ids, &note, &policy, as_of, &stamp).await?;
    Ok(Reply::ok(&serde_json::json!({ "results": outcomes })))
}

/// `POST /orders/{id}/cancel` (ERP): frees the order's exposure.
async fn cancel(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("order", call.param("id"))?;
    desk.once(call, async || {
        let as_of = call.as_of(call.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let cancelled = orders::cancel(&desk.db, id, as_of, &policy, &call.stamp()).await?;
        Ok(Reply::ok(&cancelled))
    })
    .await
}
