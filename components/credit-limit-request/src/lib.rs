//! credit-limit-request: associates ask for a new credit limit; a manager
//! other than the requester approves it (possibly at another amount) or
//! rejects it. An approval sets the limit and re-checks the customer's held
//! orders oldest first (R4).

use api::input::path_id;
use api::spin::{Desk, serve};
use api::{Fields, Incoming, Problem, Reply, Role, valid};
use chrono::NaiveDate;
use credit_core::Currency;
use credit_core::limit::RequestStatus;
use http::Method;
use ledger::customers;
use ledger::limits::{self, Decision, ListQuery, NewRequest, Verdict};
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, route).await
}

async fn route(request: Incoming) -> Result<Reply, Problem> {
    let desk = Desk::open_for_people().await?;
    let segments = request.segments();
    match (&request.method, segments.as_slice()) {
        (&Method::POST, ["credit-limit-requests"]) => create(&desk, &request).await,
        (&Method::GET, ["credit-limit-requests"]) => list(&desk, &request).await,
        (_, ["credit-limit-requests"]) => Err(Problem::method_not_allowed(&["GET", "POST"])),
        (&Method::GET, ["credit-limit-requests", id]) => show(&desk, &request, id).await,
        (_, ["credit-limit-requests", _]) => Err(Problem::method_not_allowed(&["GET"])),
        (&Method::POST, ["credit-limit-requests", id, "decision"]) => {
            decide(&desk, &request, id).await
        }
        (_, ["credit-limit-requests", _, "decision"]) => {
            Err(Problem::method_not_allowed(&["POST"]))
        }
        _ => Err(Problem::not_found(format!(
            "no resource at {}",
            request.path
        ))),
    }
}

/// Longest reason or note kept.
const MAX_TEXT: usize = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    customer_id: String,
    requested_limit: String,
    reason: String,
}

/// `POST /credit-limit-requests` (associate): 201 with the pending request;
/// once per `Idempotency-Key`.
async fn create(desk: &Desk, request: &Incoming) -> Result<Reply, Problem> {
    let caller = desk.person(request, Role::Associate)?;
    desk.idempotent(&caller, request, async || {
        let body: RequestBody = request.json()?;
        let mut fields = Fields::new();
        let customer_id = fields.id("customer_id", &body.customer_id);
        let reason = fields.text("reason", &body.reason, MAX_TEXT);
        fields.finish()?;
        // The amount is read in the customer's currency, so the customer first.
        let customer = customers::get(&desk.db, &valid(customer_id)).await?;
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
        let stamp = desk.stamp(&caller);
        let created = limits::create(&desk.db, &new, &stamp).await?;
        Ok(Reply::created(&created))
    })
    .await
}

/// `GET /credit-limit-requests?status=&customer_id=`: oldest first; every
/// status unless one (or `all`) is asked for.
async fn list(desk: &Desk, request: &Incoming) -> Result<Reply, Problem> {
    desk.person(request, Role::Associate)?;
    let mut fields = Fields::new();
    let status = match request.query("status") {
        None | Some("all") => None,
        Some(text) => RequestStatus::parse(text).or_else(|| {
            fields.error("status", "must be pending, approved, rejected or all");
            None
        }),
    };
    let customer_id = request
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
async fn show(desk: &Desk, request: &Incoming, id: &str) -> Result<Reply, Problem> {
    desk.person(request, Role::Associate)?;
    let found = limits::get(&desk.db, path_id("credit-limit request", id)?).await?;
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
    let note = fields.text("note", &body.note, MAX_TEXT);
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
async fn decide(desk: &Desk, request: &Incoming, id: &str) -> Result<Reply, Problem> {
    let caller = desk.person(request, Role::Manager)?;
    let id = path_id("credit-limit request", id)?;
    let pending = limits::get(&desk.db, id).await?;
    let decision = decision(&request.json()?, pending.currency, desk.today())?;
    let policy = ledger::policy::load(&desk.kv).await?;
    let stamp = desk.stamp(&caller);
    let decided = limits::decide(&desk.db, id, &decision, &policy, &stamp).await?;
    Ok(Reply::ok(&decided))
}
