//! escalations: an associate refers an order, a customer or a dispute to
//! the supervisors; managers work the open ones, oldest first against a
//! one-business-day response target, and answer them.

use api::input::{MAX_NAME, MAX_NOTE};
use api::spin::{Desk, serve};
use api::{Access, Call, Fields, Problem, Reply, Route, handler, valid};
use credit_core::escalation::SubjectType;
use ledger::escalations::{self, EscalationQuery};
use ledger::workflows::escalation;
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

const ROUTES: &[Route<Desk>] = &[
    Route::post("/escalations", Access::ASSOCIATE, handler!(raise)),
    Route::get("/escalations", Access::ASSOCIATE, handler!(list)),
    Route::get("/escalations/{id}", Access::ASSOCIATE, handler!(show)),
    Route::post(
        "/escalations/{id}/resolve",
        Access::MANAGER,
        handler!(resolve),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RaiseBody {
    subject_type: String,
    subject_id: String,
    reason: String,
    note: String,
}

/// `POST /escalations` (associate): 201 with the escalation; once per
/// `Idempotency-Key`.
async fn raise(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    desk.idempotent(call, async |db| {
        let body: RaiseBody = call.json()?;
        let mut fields = Fields::new();
        let subject_type = fields.named::<SubjectType>("subject_type", &body.subject_type);
        let subject_id = fields.id("subject_id", &body.subject_id);
        let reason = fields.text("reason", &body.reason, MAX_NAME);
        let note = fields.text("note", &body.note, MAX_NOTE);
        fields.finish()?;
        let stamp = call.stamp();
        let raised = escalation::raise(
            db,
            valid(subject_type),
            &valid(subject_id),
            &valid(reason),
            &valid(note),
            &stamp,
        )
        .await?;
        Ok(Reply::created(&raised))
    })
    .await
}

/// `GET /escalations?status=&subject_type=&subject_id=&raised_by=&assignee=&limit=&offset=`:
/// oldest first, each with its age and whether it is past its response
/// target.
async fn list(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let mut fields = Fields::new();
    let me = call.caller.name();
    let query = EscalationQuery {
        status: call.query("status").and_then(|t| fields.named("status", t)),
        subject_type: call
            .query("subject_type")
            .and_then(|t| fields.named("subject_type", t)),
        subject_id: call
            .query("subject_id")
            .and_then(|id| fields.id("subject_id", id)),
        raised_by: call.query("raised_by").and_then(|name| match name {
            "me" => Some(me.to_string()),
            name => fields.text("raised_by", name, MAX_NAME),
        }),
        assignee: call
            .query("assignee")
            .and_then(|text| fields.assignee("assignee", text, me)),
        limit: fields
            .number("limit", call.query("limit"), 100, 1..=1000)
            .unwrap_or(100),
        offset: fields
            .number("offset", call.query("offset"), 0, 0..=u32::MAX)
            .unwrap_or(0),
    };
    fields.finish()?;
    let found = escalations::list(&desk.db, &query, call.now).await?;
    Ok(Reply::ok(&found))
}

/// `GET /escalations/{id}`.
async fn show(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = escalation_id(call)?;
    let found = escalations::find(&desk.db, id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("escalation '{id}' does not exist")))?;
    Ok(Reply::ok(&found.at(call.now)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    outcome: String,
    note: String,
}

/// `POST /escalations/{id}/resolve` (manager): the answer.
async fn resolve(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = escalation_id(call)?;
    let body: ResolveBody = call.json()?;
    let mut fields = Fields::new();
    let outcome = fields.text("outcome", &body.outcome, MAX_NAME);
    let note = fields.text("note", &body.note, MAX_NOTE);
    fields.finish()?;
    let stamp = call.stamp();
    let answered = escalation::resolve(&desk.db, id, &valid(outcome), &valid(note), &stamp).await?;
    Ok(Reply::ok(&answered))
}

/// The escalation's number from the path (404 when it is not one).
fn escalation_id(call: &Call) -> Result<i64, Problem> {
    let text = call.param("id");
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Problem::not_found(format!("escalation '{text}' does not exist")))
}
