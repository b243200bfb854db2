//! accounts: the ERP's master data — customers and invoices — with each
//! customer's credit position; the contact log; the credit policy.

use api::input::{MAX_NAME, MAX_NOTE, path_id};
use api::spin::{Desk, serve};
use api::{Access, Call, Caller, Fields, Problem, Reply, Route, handler, valid};
use chrono::NaiveDate;
use credit_core::Policy;
use credit_core::collections::Channel;
use http::StatusCode;
use ledger::contacts::{self, NewContact, PromiseToPay};
use ledger::customers::{self, CustomerUpdate};
use ledger::invoices::{self, InvoiceFilter, InvoiceUpdate};
use ledger::workflows;
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

const ROUTES: &[Route<Desk>] = &[
    Route::put("/customers/{id}", Access::ERP, handler!(put_customer)),
    Route::get(
        "/customers/{id}",
        Access::ASSOCIATE,
        handler!(show_customer),
    ),
    Route::post(
        "/customers/{id}/contacts",
        Access::ASSOCIATE,
        handler!(add_contact),
    ),
    Route::get(
        "/customers/{id}/contacts",
        Access::ASSOCIATE,
        handler!(list_contacts),
    ),
    Route::get(
        "/customers/{id}/invoices",
        Access::ASSOCIATE,
        handler!(list_invoices),
    ),
    Route::put("/invoices/{id}", Access::ERP, handler!(put_invoice)),
    Route::get("/invoices/{id}", Access::ASSOCIATE, handler!(show_invoice)),
    Route::get("/policy", Access::ASSOCIATE, handler!(show_policy)),
    Route::put("/policy", Access::MANAGER, handler!(put_policy)),
    Route::get("/me", Access::ASSOCIATE, handler!(show_me)),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerBody {
    name: String,
    currency: String,
    credit_limit: Option<String>,
    payment_terms_days: i64,
    grace_days: Option<i64>,
    #[serde(default)]
    on_hold: bool,
    #[serde(default)]
    exempt: bool,
    #[serde(default)]
    dunning_exempt: bool,
}

fn customer_update(body: &CustomerBody) -> Result<CustomerUpdate, Problem> {
    let mut fields = Fields::new();
    let name = fields.text("name", &body.name, MAX_NAME);
    let currency = fields.currency("currency", &body.currency);
    let credit_limit = body
        .credit_limit
        .as_ref()
        .map(|limit| fields.amount("credit_limit", limit, currency));
    let payment_terms_days = fields.days("payment_terms_days", body.payment_terms_days);
    let grace_days = body.grace_days.map(|days| fields.days("grace_days", days));
    fields.finish()?;
    Ok(CustomerUpdate {
        name: valid(name),
        currency: valid(currency),
        credit_limit: credit_limit.map(valid),
        payment_terms_days: valid(payment_terms_days),
        grace_days: grace_days.map(valid),
        on_hold: body.on_hold,
        exempt: body.exempt,
        dunning_exempt: body.dunning_exempt,
    })
}

/// `PUT /customers/{id}?as_of=` (ERP): held orders are re-checked as of
/// `as_of` (today unless given).
async fn put_customer(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("customer", call.param("id"))?;
    desk.once(call, async |db| {
        let update = customer_update(&call.json()?)?;
        let as_of = call.as_of(call.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let stamp = call.stamp();
        let put = workflows::customer::put(db, id, &update, &policy, as_of, &stamp).await?;
        Ok(Reply::ok(&put))
    })
    .await
}

/// `GET /customers/{id}?as_of=`: the customer, its credit position, its
/// escalations and who worked the account when.
async fn show_customer(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("customer", call.param("id"))?;
    let as_of = call.as_of(call.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let position = workflows::customer::position(&desk.db, id, as_of, call.now, &policy).await?;
    Ok(Reply::ok(&position))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoiceBody {
    customer_id: String,
    order_id: Option<String>,
    issued_on: String,
    due_on: String,
    amount: String,
    currency: String,
}

fn invoice_update(body: &InvoiceBody) -> Result<InvoiceUpdate, Problem> {
    let mut fields = Fields::new();
    let customer_id = fields.id("customer_id", &body.customer_id);
    let order_id = body.order_id.as_ref().map(|id| fields.id("order_id", id));
    let issued_on = fields.date("issued_on", &body.issued_on);
    let due_on = fields.date("due_on", &body.due_on);
    let currency = fields.currency("currency", &body.currency);
    let amount = fields.positive_amount("amount", &body.amount, currency);
    fields.finish()?;
    Ok(InvoiceUpdate {
        customer_id: valid(customer_id),
        order_id: order_id.map(valid),
        issued_on: valid(issued_on),
        due_on: valid(due_on),
        amount: valid(amount),
        currency: valid(currency),
    })
}

/// `PUT /invoices/{id}?as_of=` (ERP): 201 when new, 200 when corrected; a
/// lower amount re-checks held orders as of `as_of` (today unless given).
async fn put_invoice(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("invoice", call.param("id"))?;
    desk.once(call, async |db| {
        let update = invoice_update(&call.json()?)?;
        let as_of = call.as_of(call.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let stamp = call.stamp();
        let put = workflows::invoice::put(db, id, &update, &policy, as_of, &stamp).await?;
        let status = if put.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(Reply::json(status, &put))
    })
    .await
}

/// `GET /invoices/{id}`: with payments applied and disputes.
async fn show_invoice(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let view = invoices::view(&desk.db, path_id("invoice", call.param("id"))?).await?;
    Ok(Reply::ok(&view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    channel: String,
    outcome: String,
    note: String,
    contacted_on: Option<String>,
    promise: Option<PromiseBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromiseBody {
    amount: String,
    due_on: String,
}

fn new_contact(
    body: &ContactBody,
    currency: credit_core::Currency,
    today: NaiveDate,
) -> Result<NewContact, Problem> {
    let mut fields = Fields::new();
    let channel = fields.named::<Channel>("channel", &body.channel);
    let outcome = fields.text("outcome", &body.outcome, MAX_NAME);
    let note = fields.text("note", &body.note, MAX_NOTE);
    let contacted_on = match &body.contacted_on {
        Some(text) => fields.date("contacted_on", text),
        None => Some(today),
    };
    let promise = body.promise.as_ref().map(|promise| {
        let amount = fields.positive_amount("promise.amount", &promise.amount, Some(currency));
        let due_on = fields.date("promise.due_on", &promise.due_on);
        (amount, due_on)
    });
    fields.finish()?;
    Ok(NewContact {
        channel: valid(channel),
        outcome: valid(outcome),
        note: valid(note),
        contacted_on: valid(contacted_on),
        promise: promise.map(|(amount, due_on)| PromiseToPay {
            amount: valid(amount),
            due_on: valid(due_on),
        }),
    })
}

/// `POST /customers/{id}/contacts?as_of=` (associate): log a call, email,
/// ...; once per `Idempotency-Key`.
async fn add_contact(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("customer", call.param("id"))?;
    desk.idempotent(call, async |db| {
        let customer = customers::get(db, id).await?;
        let contact = new_contact(&call.json()?, customer.currency, call.today())?;
        let as_of = call.as_of(call.today())?;
        let stamp = call.stamp();
        let added = contacts::add(db, id, &contact, as_of, &stamp).await?;
        Ok(Reply::created(&added))
    })
    .await
}

/// `GET /customers/{id}/contacts?as_of=`: newest first.
async fn list_contacts(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("customer", call.param("id"))?;
    let as_of = call.as_of(call.today())?;
    let log = contacts::list(&desk.db, id, as_of).await?;
    Ok(Reply::ok(&log))
}

/// `GET /customers/{id}/invoices?status=open|all&as_of=`: oldest due
/// first, with days past due as of `as_of`.
async fn list_invoices(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("customer", call.param("id"))?;
    let mut fields = Fields::new();
    let filter = match call.query("status") {
        None => Some(InvoiceFilter::Open),
        Some(text) => fields.named::<InvoiceFilter>("status", text),
    };
    let as_of = call.as_of(call.today());
    fields.finish()?;
    let list = invoices::list_for_customer(&desk.db, id, valid(filter), as_of?).await?;
    Ok(Reply::ok(&list))
}

/// `GET /me`: who the bearer token belongs to, and their role.
async fn show_me(_: &Desk, call: &Call) -> Result<Reply, Problem> {
    let Caller::Person(person) = &call.caller else {
        return Err(Problem::internal());
    };
    Ok(Reply::ok(&serde_json::json!({
        "name": person.name,
        "role": person.role,
    })))
}

/// `GET /policy`.
async fn show_policy(desk: &Desk, _: &Call) -> Result<Reply, Problem> {
    Ok(Reply::ok(&ledger::policy::load(&desk.kv).await?))
}

/// `PUT /policy` (manager): the whole policy; fields left out take defaults.
async fn put_policy(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let policy: Policy = call.json()?;
    policy.validate().map_err(Problem::invalid)?;
    let stamp = call.stamp();
    ledger::policy::save(&desk.kv, &desk.db, &policy, &stamp).await?;
    Ok(Reply::ok(&policy))
}
