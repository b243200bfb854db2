//! credit-limit-request: associates ask for a new credit limit; a manager
//! other than the requester approves it (possibly at another amount) or
//! rejects it. An approval sets the limit and re-checks the customer's held
//! orders oldest first (R4).

use api::input::{MAX_NOTE, path_id};
use api::spin::{Desk, serve};
use api::{Access, Call, Fields, Problem, Reply, Route, handler, valid};
use chrono::NaiveDate;
use credit_core::Currency;
use credit_core::Named;
use credit_core::limit::RequestStatus;
use ledger::customers;
use ledger::limits::{self, Decision, ListQuery, NewRequest, Verdict};
use ledger::workflows;
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

const ROUTES: &[Route<Desk>] = &[
    Route::post(
        "/credit-limit-requests",
        Access::ASSOCIATE,
        handler!(create),
    ),
    Route::get("/credit-limit-requests", Access::ASSOCIATE, handler!(list)),
    Route::get(
        "/credit-limit-requests/{id}",
        Access::ASSOCIATE,
        handler!(show),
    ),
    Route::post(
        "/credit-limit-requests/{id}/decision",
        Access::MANAGER,
        handler!(decide),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    customer_id: String,
    requested_limit: String,
    reason: String,
}

/// `POST /credit-limit-requests` (associate): 201 with the pending request;
/// once per `Idempotency-Key`.
async fn create(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    desk.idempotent(call, async |db| {
        let body: RequestBody = call.json()?;
        let mut fields = Fields::new();
        let customer_id = fields.id("customer_id", &body.customer_id);
        let reason = fields.text("reason", &body.reason, MAX_NOTE);
        fields.finish()?;
        // The amount is read in the customer's currency, so the customer first.
        let customer = customers::get(db, &valid(customer_id)).await?;
        let mut fields = Fields::new();
        let requested_limit = fields.amount(
            "requested_limit",
            &body.requested_limit,
            Some(customer.currency),
        );
        fields.finish()?;
        let new = NewRequest {
            customer_id: customer.id,
            requested_limit: valid(requested_limit),
            reason: valid(reason),
        };
        let stamp = call.stamp();
        let created = limits::create(db, &new, &stamp).await?;
        Ok(Reply::created(&created))
    })
    .await
}

/// `GET /credit-limit-requests?status=&customer_id=`: oldest first; every
/// status unless one (or `all`) is asked for.
async fn list(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let mut fields = Fields::new();
    let status = match call.query("status") {
        None | Some("all") => None,
        Some(text) => RequestStatus::parse(text).or_else(|| {
            let expected = RequestStatus::expected_or(&["all"]);
            fields.error("status", format!("must be {expected}"));
            None
        }),
    };
    let customer_id = call
        .query("customer_id")
        .and_then(|id| fields.id("customer_id", id));
    fields.finish()?;
    let query = ListQuery {
        status,
        customer_id,
    };
    Ok(Reply::ok(&limits::list(&desk.db, &query).await?))
}

/// `GET /credit-limit-requests/{id}`.
async fn show(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("credit-limit request", call.param("id"))?;
    let found = limits::get(&desk.db, id).await?;
    Ok(Reply::ok(&found))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    decision: String,
    approved_limit: Option<String>,
    note: String,
    as_of: Option<String>,
}

fn decision(
    body: &DecisionBody,
    currency: Currency,
    today: NaiveDate,
) -> Result<Decision, Problem> {
    let mut fields = Fields::new();
    let approve = match body.decision.as_str() {
        "approve" => Some(true),
        "reject" => Some(false),
        _ => {
            fields.error("decision", "must be approve or reject");
            None
        }
    };
    let limit = body
        .approved_limit
        .as_ref()
        .map(|limit| fields.amount("approved_limit", limit, Some(currency)));
    if approve == Some(false) && limit.is_some() {
        fields.error("approved_limit", "only an approval sets a limit");
    }
    let note = fields.text("note", &body.note, MAX_NOTE);
    let as_of = match &body.as_of {
        Some(text) => fields.date("as_of", text),
        None => Some(today),
    };
    fields.finish()?;
    let verdict = if valid(approve) {
        Verdict::Approve {
            limit: limit.map(valid),
        }
    } else {
        Verdict::Reject
    };
    Ok(Decision {
        verdict,
        note: valid(note),
        as_of: valid(as_of),
    })
}

/// `POST /credit-limit-requests/{id}/decision` (a manager, not the
/// requester): approve or reject; an approval re-checks held orders as of
/// `as_of` (today by default).
async fn decide(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("credit-limit request", call.param("id"))?;
    let pending = limits::get(&desk.db, id).await?;
    let decision = decision(&call.json()?, pending.currency, call.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let stamp = call.stamp();
    let decided = workflows::limit::decide(&desk.db, id, &decision, &policy, &stamp).await?;
    Ok(Reply::ok(&decided))
}
