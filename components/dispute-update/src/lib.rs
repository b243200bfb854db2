//! dispute-update: associates open disputes on invoices (R3), move them
//! through review to a resolution — a credit, a rejection or a withdrawal —
//! with notes, and follow them against their service levels.

use api::input::{MAX_NOTE, check_id, path_id};
use api::spin::{Desk, serve};
use api::{Access, Call, Fields, Problem, Reply, Route, handler, valid};
use chrono::NaiveDate;
use credit_core::Currency;
use credit_core::Named;
use credit_core::dispute::DisputeStatus;
use ledger::disputes::{self, DisputeQuery, DisputeUpdate, NewDispute, StatusFilter};
use ledger::invoices;
use ledger::workflows;
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

const ROUTES: &[Route<Desk>] = &[
    Route::post("/disputes", Access::ASSOCIATE, handler!(open_dispute)),
    Route::get("/disputes", Access::ASSOCIATE, handler!(list_disputes)),
    Route::get("/disputes/{id}", Access::ASSOCIATE, handler!(show_dispute)),
    Route::patch(
        "/disputes/{id}",
        Access::ASSOCIATE,
        handler!(update_dispute),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    invoice_id: String,
    amount: String,
    reason_code: String,
    note: String,
    opened_on: Option<String>,
    as_of: Option<String>,
}

/// The dispute to open, and the date held orders are re-checked as of
/// (today unless given; the dispute is opened on it unless `opened_on` says).
fn new_dispute(
    body: &OpenBody,
    currency: Currency,
    today: NaiveDate,
) -> Result<(NewDispute, NaiveDate), Problem> {
    let mut fields = Fields::new();
    let amount = fields.positive_amount("amount", &body.amount, Some(currency));
    let reason_code = fields.code("reason_code", &body.reason_code);
    let note = fields.text("note", &body.note, MAX_NOTE);
    let as_of = fields.date_or("as_of", body.as_of.as_deref(), Some(today));
    let opened_on = fields.date_or("opened_on", body.opened_on.as_deref(), as_of);
    fields.finish()?;
    let new = NewDispute {
        invoice_id: body.invoice_id.clone(),
        amount: valid(amount),
        reason_code: valid(reason_code),
        note: valid(note),
        opened_on: valid(opened_on),
    };
    Ok((new, valid(as_of)))
}

/// The currency of the invoice a dispute is about (its amounts are in it).
async fn invoice_currency(desk: &Desk, invoice_id: &str) -> Result<Currency, Problem> {
    check_id(invoice_id).map_err(|message| Problem::invalid_field("invoice_id", message))?;
    let (invoice, _) = invoices::get(&desk.db, invoice_id).await?;
    Ok(invoice.currency)
}

/// `POST /disputes` (associate): 201 with the dispute and the held orders
/// the lower past-due amount released; once per `Idempotency-Key`.
async fn open_dispute(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    desk.idempotent(call, async |db| {
        let body: OpenBody = call.json()?;
        let currency = invoice_currency(desk, &body.invoice_id).await?;
        let (new, as_of) = new_dispute(&body, currency, call.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let stamp = call.stamp();
        let opened = workflows::dispute::open(db, &new, as_of, &policy, &stamp).await?;
        Ok(Reply::created(&opened))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    status: Option<String>,
    note: Option<String>,
    credit_amount: Option<String>,
    as_of: Option<String>,
}

fn dispute_update(
    body: &UpdateBody,
    currency: Currency,
    today: NaiveDate,
) -> Result<(DisputeUpdate, NaiveDate), Problem> {
    let mut fields = Fields::new();
    let status = body.status.as_deref().map(|text| {
        DisputeStatus::parse(text).or_else(|| {
            fields.error(
                "status",
                "must be in_review, resolved_credit, resolved_rejected or withdrawn",
            );
            None
        })
    });
    let note = body
        .note
        .as_ref()
        .map(|text| fields.text("note", text, MAX_NOTE));
    let credit_amount = body
        .credit_amount
        .as_ref()
        .map(|text| fields.positive_amount("credit_amount", text, Some(currency)));
    let as_of = fields.date_or("as_of", body.as_of.as_deref(), Some(today));
    fields.finish()?;
    let update = DisputeUpdate {
        status: status.map(valid),
        note: note.map(valid),
        credit_amount: credit_amount.map(valid),
    };
    Ok((update, valid(as_of)))
}

/// `PATCH /disputes/{id}` (associate): a new status, a note, or both.
async fn update_dispute(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("dispute", call.param("id"))?;
    let body: UpdateBody = call.json()?;
    let currency = disputes::get(&desk.db, id, call.today()).await?.currency;
    let (update, as_of) = dispute_update(&body, currency, call.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let stamp = call.stamp();
    let changed = workflows::dispute::update(&desk.db, id, &update, as_of, &policy, &stamp).await?;
    Ok(Reply::ok(&changed))
}

/// `GET /disputes/{id}?as_of=`: the dispute, its history and service level.
async fn show_dispute(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("dispute", call.param("id"))?;
    let as_of = call.as_of(call.today())?;
    let view = disputes::view(&desk.db, id, as_of, call.now).await?;
    Ok(Reply::ok(&view))
}

/// `GET /disputes?status=&customer_id=&assignee=&as_of=`: the nearest due
/// first.
async fn list_disputes(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let mut fields = Fields::new();
    let status = match call.query("status") {
        None => Some(StatusFilter::Any),
        Some(text) => StatusFilter::parse(text).or_else(|| {
            let expected = DisputeStatus::expected_or(&["active"]);
            fields.error("status", format!("must be {expected}"));
            None
        }),
    };
    let customer_id = call
        .query("customer_id")
        .and_then(|id| fields.id("customer_id", id));
    let assignee = call
        .query("assignee")
        .and_then(|text| fields.assignee("assignee", text, call.caller.name()));
    let as_of = call.as_of(call.today());
    fields.finish()?;
    let query = DisputeQuery {
        status: valid(status),
        customer_id,
        assignee,
    };
    let list = disputes::list(&desk.db, &query, as_of?).await?;
    Ok(Reply::ok(&list))
}
