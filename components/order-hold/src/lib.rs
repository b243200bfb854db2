//! order-hold: the ERP's order webhooks get a hold decision (R1) in
//! milliseconds; associates work the held queue, releasing orders one by
//! one or in bulk with a note — beyond the policy's thresholds a manager
//! approves the release; the ERP cancels orders.

use api::input::{MAX_NOTE, path_id};
use api::spin::{Desk, serve};
use api::{Access, Call, Fields, Problem, Reply, Route, handler, valid};
use credit_core::Currency;
use credit_core::hold::OrderStatus;
use http::StatusCode;
use ledger::orders::{
    self, Approval, ManualRelease, OrderView, OrderWebhook, QueueCursor, QueueQuery, QueueSort,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

const ROUTES: &[Route<Desk>] = &[
    Route::post("/orders", Access::ERP, handler!(check_order)),
    Route::get("/orders", Access::ASSOCIATE, handler!(list_orders)),
    Route::get("/orders/queue", Access::ASSOCIATE, handler!(queue)),
    Route::post("/orders/release", Access::ASSOCIATE, handler!(release_many)),
    Route::get("/orders/{id}", Access::ASSOCIATE, handler!(show_order)),
    Route::post("/orders/{id}/release", Access::ASSOCIATE, handler!(release)),
    Route::post(
        "/orders/{id}/approve-release",
        Access::MANAGER,
        handler!(approve_release),
    ),
    Route::post(
        "/orders/{id}/reject-release",
        Access::MANAGER,
        handler!(reject_release),
    ),
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
    requested_ship_on: Option<String>,
    as_of: Option<String>,
}

fn order_webhook(body: &OrderBody, today: chrono::NaiveDate) -> Result<OrderWebhook, Problem> {
    let mut fields = Fields::new();
    let id = fields.id("id", &body.id);
    let customer_id = fields.id("customer_id", &body.customer_id);
    let currency = fields.currency("currency", &body.currency);
    let amount = fields.amount("amount", &body.amount, currency);
    let ordered_on = fields.date("ordered_on", &body.ordered_on);
    let requested_ship_on = body
        .requested_ship_on
        .as_ref()
        .map(|text| fields.date("requested_ship_on", text));
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
        requested_ship_on: requested_ship_on.map(valid),
        as_of: valid(as_of),
    })
}

/// `POST /orders` (ERP): the hold check.
async fn check_order(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    desk.once(call, async |db| {
        let order = order_webhook(&call.json()?, call.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let result = orders::check(db, &order, &policy, &call.stamp()).await?;
        Ok(Reply::ok(&result))
    })
    .await
}

/// `GET /orders?status=held&customer_id=&limit=&offset=`: oldest first.
async fn list_orders(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let mut fields = Fields::new();
    let query = list_query(&mut fields, call);
    let offset = fields.number("offset", call.query("offset"), 0, 0..=u32::MAX);
    let as_of = call.as_of(call.today());
    fields.finish()?;
    let query = QueueQuery {
        offset: valid(offset),
        ..query
    };
    let entries = orders::queue(&desk.db, &query, as_of?).await?;
    Ok(Reply::ok(&entries))
}

/// `GET /orders/queue?...`: a page of the held queue (or of another
/// status) as associates work it, filtered and sorted, with the totals of
/// everything that matches and the cursor of the next page.
async fn queue(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let mut fields = Fields::new();
    let mut query = list_query(&mut fields, call);
    query.reason = call.query("reason").and_then(|t| fields.named("reason", t));
    query.currency = call
        .query("currency")
        .and_then(|t| fields.currency("currency", t));
    query.min_amount = amount_bound(&mut fields, call, "min_amount", query.currency);
    query.max_amount = amount_bound(&mut fields, call, "max_amount", query.currency);
    query.min_days_held = call
        .query("min_days_held")
        .and_then(|text| fields.number("min_days_held", Some(text), 0, 0..=MAX_DAYS));
    query.sort = call
        .query("sort")
        .map_or(Some(QueueSort::Oldest), |text| fields.named("sort", text))
        .unwrap_or(QueueSort::Oldest);
    query.after = call.query("after").and_then(|token| {
        let cursor = QueueCursor::parse(token);
        if cursor.is_none() {
            fields.error(
                "after",
                "is not a cursor of this list: send the 'next' of a page you read",
            );
        }
        cursor
    });
    let as_of = call.as_of(call.today());
    fields.finish()?;
    let page = orders::queue_page(&desk.db, &query, as_of?).await?;
    Ok(Reply::ok(&page))
}

/// The longest hold a filter may ask about, in days.
const MAX_DAYS: u32 = 36_500;

/// An amount bound of the queue: in the currency asked for, which it needs
/// (amounts of different currencies are never compared).
fn amount_bound(
    fields: &mut Fields,
    call: &Call,
    field: &str,
    currency: Option<Currency>,
) -> Option<Decimal> {
    let text = call.query(field)?;
    if currency.is_none() && call.query("currency").is_none() {
        fields.error(
            field,
            "needs a currency: amounts of different currencies are not compared",
        );
        return None;
    }
    fields.amount(field, text, currency)
}

/// What both lists read: status (held by default), customer, assignee
/// (`me`, `unassigned` or a name) and page size.
fn list_query(fields: &mut Fields, call: &Call) -> QueueQuery {
    let status = match call.query("status") {
        None => Some(OrderStatus::Held),
        Some(text) => fields.named("status", text),
    };
    let customer_id = call
        .query("customer_id")
        .and_then(|id| fields.id("customer_id", id));
    let assignee = call
        .query("assignee")
        .and_then(|text| fields.assignee("assignee", text, call.caller.name()));
    let limit = fields.number(
        "limit",
        call.query("limit"),
        QueueQuery::DEFAULT_LIMIT,
        1..=QueueQuery::MAX_LIMIT,
    );
    QueueQuery {
        status: status.unwrap_or(OrderStatus::Held),
        customer_id,
        assignee,
        limit: limit.unwrap_or(QueueQuery::DEFAULT_LIMIT),
        ..QueueQuery::held()
    }
}

/// `GET /orders/{id}`: the order with its decision history and escalations.
async fn show_order(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("order", call.param("id"))?;
    let view = orders::view(&desk.db, id, call.now).await?;
    Ok(Reply::ok(&view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    note: String,
}

/// `POST /orders/{id}/release?as_of=` (associate): a manual release with a
/// note; the account's figures as of `as_of` (today unless given) are kept
/// with it. 202 when the release waits for a manager's approval.
async fn release(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("order", call.param("id"))?;
    let body: ReleaseBody = call.json()?;
    let note = note(&body.note)?;
    let as_of = call.as_of(call.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let release = ManualRelease {
        note: &note,
        by_manager: call.caller.is_manager(),
        policy: &policy,
        as_of,
    };
    let view = orders::release(&desk.db, id, &release, &call.stamp()).await?;
    Ok(released(&view))
}

/// 200 with the order released; 202 with it waiting for approval.
fn released(view: &OrderView) -> Reply {
    match view.status {
        OrderStatus::PendingApproval => Reply::json(StatusCode::ACCEPTED, view),
        _ => Reply::ok(view),
    }
}

fn note(text: &str) -> Result<String, Problem> {
    let mut fields = Fields::new();
    let note = fields.text("note", text, MAX_NOTE);
    fields.finish()?;
    Ok(valid(note))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalBody {
    note: Option<String>,
}

/// `POST /orders/{id}/approve-release?as_of=` (manager): releases an order
/// an associate asked to release; never by the one who asked. The body,
/// `{"note": ...}`, may be left out.
async fn approve_release(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("order", call.param("id"))?;
    let body: ApprovalBody = match call.body.iter().all(u8::is_ascii_whitespace) {
        true => ApprovalBody { note: None },
        false => call.json()?,
    };
    let note = note(body.note.as_deref().unwrap_or("approved"))?;
    let as_of = call.as_of(call.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let approval = Approval {
        note: &note,
        policy: &policy,
        as_of,
    };
    let view = orders::approve_release(&desk.db, id, &approval, &call.stamp()).await?;
    Ok(Reply::ok(&view))
}

/// `POST /orders/{id}/reject-release` (manager): held again, with the note.
async fn reject_release(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("order", call.param("id"))?;
    let body: ReleaseBody = call.json()?;
    let note = note(&body.note)?;
    let view = orders::reject_release(&desk.db, id, &note, &call.stamp()).await?;
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

/// `POST /orders/release?as_of=` (associate): many held orders, one note;
/// what happened to each (released, waiting for approval, or why not).
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
    let note = valid(note);
    let release = ManualRelease {
        note: &note,
        by_manager: call.caller.is_manager(),
        policy: &policy,
        as_of,
    };
    let outcomes = orders::release_many(&desk.db, &body.order_ids, &release, &call.stamp()).await?;
    Ok(Reply::ok(&serde_json::json!({ "results": outcomes })))
}

/// `POST /orders/{id}/cancel` (ERP): frees the order's exposure.
async fn cancel(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("order", call.param("id"))?;
    desk.once(call, async |db| {
        let as_of = call.as_of(call.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let cancelled = orders::cancel(db, id, as_of, &policy, &call.stamp()).await?;
        Ok(Reply::ok(&cancelled))
    })
    .await
}
