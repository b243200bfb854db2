//! payment-intake: payments from the ERP or an associate are allocated to
//! the customer's invoices (R2), the rest kept as unapplied cash, short
//! pays disputed, and the customer's held orders re-checked.

use api::input::path_id;
use api::spin::{Desk, serve};
use api::{Access, Call, Fields, Problem, Reply, Role, Route, handler, valid};
use chrono::NaiveDate;
use credit_core::allocation::RemittanceLine;
use ledger::payments::{self, NewPayment};
use ledger::workflows;
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

/// Payments come from the ERP's webhooks or from an associate.
const ERP_OR_ASSOCIATE: Access = Access::ErpOr(Role::Associate);

const ROUTES: &[Route<Desk>] = &[
    Route::post("/payments", ERP_OR_ASSOCIATE, handler!(post_payment)),
    Route::get("/payments/{id}", Access::ASSOCIATE, handler!(show_payment)),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    id: String,
    customer_id: String,
    amount: String,
    currency: String,
    received_on: String,
    method: String,
    reference: Option<String>,
    remittance: Option<Vec<RemittanceBody>>,
    short_pay_reason: Option<String>,
    as_of: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemittanceBody {
    invoice_id: String,
    amount: String,
}

/// Longest reference kept with a payment.
const MAX_REFERENCE: usize = 200;
/// Most invoices one remittance may name.
const MAX_REMITTANCE: usize = 1000;

fn new_payment(body: &PaymentBody, today: NaiveDate) -> Result<NewPayment, Problem> {
    let mut fields = Fields::new();
    let id = fields.id("id", &body.id);
    let customer_id = fields.id("customer_id", &body.customer_id);
    let currency = fields.currency("currency", &body.currency);
    let amount = fields.positive_amount("amount", &body.amount, currency);
    let received_on = fields.date("received_on", &body.received_on);
    let method = fields.code("method", &body.method);
    let reference = body
        .reference
        .as_ref()
        .map(|text| fields.text("reference", text, MAX_REFERENCE));
    let lines = body.remittance.as_deref().unwrap_or_default();
    fields.check(
        lines.len() <= MAX_REMITTANCE,
        "remittance",
        &format!("must name at most {MAX_REMITTANCE} invoices"),
    );
    let remittance: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let invoice_id = fields.id(&format!("remittance[{i}].invoice_id"), &line.invoice_id);
            let field = format!("remittance[{i}].amount");
            let amount = fields.positive_amount(&field, &line.amount, currency);
            (invoice_id, amount)
        })
        .collect();
    let short_pay_reason = body
        .short_pay_reason
        .as_ref()
        .map(|code| fields.code("short_pay_reason", code));
    let as_of = fields.date_or("as_of", body.as_of.as_deref(), Some(today));
    fields.finish()?;
    Ok(NewPayment {
        id: valid(id),
        customer_id: valid(customer_id),
        amount: valid(amount),
        currency: valid(currency),
        received_on: valid(received_on),
        method: valid(method),
        reference: reference.map(valid),
        remittance: remittance
            .into_iter()
            .map(|(invoice_id, amount)| RemittanceLine {
                invoice_id: valid(invoice_id),
                amount: valid(amount),
            })
            .collect(),
        short_pay_reason: short_pay_reason.map(valid),
        as_of: valid(as_of),
    })
}

/// `POST /payments` (ERP or associate): 201 with the allocation; the same
/// payment posted again gets the first answer, marked `idempotent-replay`.
async fn post_payment(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    desk.once(call, async |db| {
        let payment = new_payment(&call.json()?, call.today())?;
        let policy = ledger::policy::load(&desk.kv).await?;
        let posted = workflows::payment::post(db, &payment, &policy, &call.stamp()).await?;
        let reply = Reply::created(&posted.result);
        Ok(if posted.replayed {
            reply.with_header("idempotent-replay", "true")
        } else {
            reply
        })
    })
    .await
}

/// `GET /payments/{id}`: the payment and its allocations.
async fn show_payment(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let view = payments::view(&desk.db, path_id("payment", call.param("id"))?).await?;
    Ok(Reply::ok(&view))
}
