//! communications: what the desk sends customers — the dunning proposal,
//! dunning runs that issue reminder letters, each letter downloadable
//! exactly as issued, a letter template's live preview for managers, and
//! statements of account (JSON, CSV, printable HTML or plain text) and
//! their issue to the ERP's event feed.

mod tables;

use api::input::path_id;
use api::spin::{Desk, serve};
use api::{Access, Call, Caller, Fields, Incoming, Problem, Reply, Route, handler, valid};
use chrono::NaiveDate;
use credit_core::dunning::{DunningLevel, DunningPolicy};
use credit_core::letters::{Letter, Template};
use credit_core::print::Paper;
use http::StatusCode;
use ledger::customers::AssigneeFilter;
use ledger::dunning::{self, Scope};
use ledger::workflows::dunning::RunRequest;
use ledger::{statements, workflows};
use serde::{Deserialize, Serialize};
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

const ROUTES: &[Route<Desk>] = &[
    Route::get("/reports/dunning", Access::ASSOCIATE, handler!(proposal)),
    Route::post("/dunning-runs", Access::ASSOCIATE, handler!(run_dunning)),
    Route::get("/dunning-runs/{id}", Access::ASSOCIATE, handler!(show_run)),
    Route::post(
        "/dunning-letters/preview",
        Access::MANAGER,
        handler!(preview_letter),
    ),
    Route::get(
        "/customers/{id}/dunning",
        Access::ASSOCIATE,
        handler!(customer_dunning),
    ),
    Route::get(
        "/customers/{id}/dunning/letters/{letter}",
        Access::ASSOCIATE,
        handler!(show_letter),
    ),
    Route::get(
        "/customers/{id}/statement",
        Access::ASSOCIATE,
        handler!(show_statement),
    ),
    Route::post(
        "/customers/{id}/statement",
        Access::ASSOCIATE,
        handler!(issue_statement),
    ),
];

/// The dunning part of the stored policy.
async fn dunning_policy(desk: &Desk) -> Result<DunningPolicy, Problem> {
    Ok(ledger::policy::load(&desk.kv).await?.dunning)
}

/// Whose accounts an associate may dun: their own. A manager may dun
/// anyone's, or everyone's.
fn scope_for(caller: &Caller, asked: Option<AssigneeFilter>) -> Result<Scope, Problem> {
    if caller.is_manager() {
        return Ok(asked.map_or(Scope::All, Scope::Assigned));
    }
    let own = AssigneeFilter::Person(caller.name().to_string());
    match asked {
        None => Ok(Scope::Assigned(own)),
        Some(filter) if filter == own => Ok(Scope::Assigned(own)),
        Some(_) => Err(Problem::forbidden(format!(
            "an associate duns their own accounts; {} is not asking for theirs",
            caller.name()
        ))),
    }
}

/// `GET /reports/dunning?as_of=&assignee=`: per customer with something
/// overdue, the letter due and its invoices, or why none; JSON or CSV. An
/// associate sees their own accounts; a manager everyone's, or those of
/// `assignee` (`me`, `unassigned` or a name).
async fn proposal(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let mut fields = Fields::new();
    let assignee = call
        .query("assignee")
        .and_then(|text| fields.assignee("assignee", text, call.caller.name()));
    let as_of = call.as_of(call.today());
    fields.finish()?;
    let scope = scope_for(&call.caller, assignee)?;
    let policy = dunning_policy(desk).await?;
    let report = dunning::proposal(&desk.db, &policy, &scope, as_of?).await?;
    if call.wants_csv() {
        return Ok(Reply::csv(&tables::proposal(&report)));
    }
    Ok(Reply::ok(&report))
}

/// The most letters one run issues, and the default.
const MAX_LETTERS: u32 = 5000;
const DEFAULT_LETTERS: u32 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    as_of: Option<String>,
    customer_ids: Option<Vec<String>>,
    assignee: Option<String>,
    limit: Option<i64>,
}

fn run_request(body: &RunBody, caller: &Caller, today: NaiveDate) -> Result<RunRequest, Problem> {
    let mut fields = Fields::new();
    let assignee = body
        .assignee
        .as_deref()
        .and_then(|text| fields.assignee("assignee", text, caller.name()));
    if body.assignee.is_some() && body.customer_ids.is_some() {
        fields.error("assignee", "name customers or an assignee, not both");
    }
    let as_of = fields.date_or("as_of", body.as_of.as_deref(), Some(today));
    let ids = body.customer_ids.as_ref().map(|ids| {
        ids.iter()
            .enumerate()
            .map(|(i, id)| fields.id(&format!("customer_ids[{i}]"), id))
            .collect::<Vec<_>>()
    });
    if ids.as_ref().is_some_and(Vec::is_empty) {
        fields.error(
            "customer_ids",
            "name at least one customer, or leave it out for all",
        );
    }
    let limit = match body.limit {
        None => Some(DEFAULT_LETTERS),
        Some(n) => {
            let limit = u32::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_LETTERS).contains(n));
            fields.check(
                limit.is_some(),
                "limit",
                &format!("must be a whole number from 1 to {MAX_LETTERS}"),
            );
            limit
        }
    };
    fields.finish()?;
    let scope = match ids {
        Some(ids) => Scope::Only(ids.into_iter().map(valid).collect()),
        None => scope_for(caller, assignee)?,
    };
    Ok(RunRequest {
        as_of: valid(as_of),
        scope,
        limit: valid(limit) as usize,
    })
}

/// `POST /dunning-runs`: issues the letters due as of `as_of` — to the
/// customers named, or to every customer of the assignee (an associate's
/// own), or (a manager's run) to every customer. An associate names only
/// customers assigned to them.
async fn run_dunning(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let request = run_request(&call.json()?, &call.caller, call.today())?;
    if let (Scope::Only(ids), false) = (&request.scope, call.caller.is_manager()) {
        let others = dunning::not_assigned_to(&desk.db, ids, call.caller.name()).await?;
        if !others.is_empty() {
            return Err(Problem::forbidden(format!(
                "an associate duns their own accounts; not assigned to {}: {}",
                call.caller.name(),
                others.join(", ")
            )));
        }
    }
    let policy = dunning_policy(desk).await?;
    let result = workflows::dunning::run(&desk.db, &policy, &request, &call.stamp()).await?;
    Ok(Reply::created(&result).with_header("location", format!("/dunning-runs/{}", result.run_id)))
}

/// `GET /dunning-runs/{id}`: a run and the letters it issued.
async fn show_run(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let run = dunning::run(&desk.db, call.param("id")).await?;
    Ok(Reply::ok(&run))
}

/// `GET /customers/{id}/dunning?as_of=`: the letter due now, or why none;
/// every letter issued, newest first.
async fn customer_dunning(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("customer", call.param("id"))?;
    let as_of = call.as_of(call.today())?;
    let policy = dunning_policy(desk).await?;
    let view = workflows::dunning::customer(&desk.db, &policy, id, as_of).await?;
    Ok(Reply::ok(&view))
}

/// `GET /customers/{id}/dunning/letters/{letter}`: the letter exactly as
/// issued — its HTML (`Accept: text/html`), its text (`text/plain`), or
/// both with what it covered as JSON.
async fn show_letter(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("customer", call.param("id"))?;
    let document = dunning::letter(&desk.db, id, call.param("letter")).await?;
    let name = &document.letter.letter_id;
    if call.wants("text/html") {
        return Ok(document_reply(
            "text/html; charset=utf-8",
            document.html.into_bytes(),
            &format!("{name}.html"),
        ));
    }
    if call.wants("text/plain") {
        return Ok(document_reply(
            "text/plain; charset=utf-8",
            document.text.into_bytes(),
            &format!("{name}.txt"),
        ));
    }
    Ok(Reply::ok(&document))
}

fn document_reply(content_type: &str, body: Vec<u8>, file_name: &str) -> Reply {
    Reply::new(StatusCode::OK, content_type, body)
        .with_header(
            "content-disposition",
            format!("inline; filename=\"{file_name}\""),
        )
        // The HTML is our own and static: no script of any origin runs in it.
        .with_header(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    level: DunningLevel,
    sender: Option<String>,
    payment_instructions: Option<String>,
    paper: Option<Paper>,
}

#[derive(Serialize)]
struct Preview {
    subject: String,
    text: String,
    html: String,
}

/// `POST /dunning-letters/preview` (manager): a level's letter rendered
/// with sample figures, or 422 naming what the policy would refuse.
async fn preview_letter(_: &Desk, call: &Call) -> Result<Reply, Problem> {
    let body: PreviewBody = call.json()?;
    let defaults = DunningPolicy::default();
    let policy = DunningPolicy {
        levels: vec![body.level],
        sender: body.sender.unwrap_or(defaults.sender),
        payment_instructions: body
            .payment_instructions
            .unwrap_or(defaults.payment_instructions),
        paper: body.paper.unwrap_or(defaults.paper),
    };
    let errors: Vec<_> = policy
        .validate()
        .into_iter()
        .map(|mut e| {
            e.field = e
                .field
                .replace("dunning.levels[0]", "level")
                .replace("dunning.", "");
            e
        })
        .collect();
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let level = &policy.levels[0];
    let letter = Letter::sample(
        &level.name,
        &policy.sender,
        &policy.payment_instructions,
        call.today(),
        level.pay_within_days,
    );
    let subject = Template::parse_subject(&level.subject)
        .map_err(|e| Problem::invalid_field("level.subject", e.to_string()))?;
    let body = Template::parse(&level.template)
        .map_err(|e| Problem::invalid_field("level.template", e.to_string()))?;
    let subject = subject.render_line(&letter);
    Ok(Reply::ok(&Preview {
        text: body.render_text(&letter),
        html: body.render_html(&letter, &subject, policy.paper),
        subject,
    }))
}

/// `from` and `to` of a statement: both required, `to` not before `from`.
fn period(request: &Incoming) -> Result<(NaiveDate, NaiveDate), Problem> {
    let required = |name: &str| {
        request
            .date_param(name)?
            .ok_or_else(|| Problem::invalid_field(name, "is required (YYYY-MM-DD)"))
    };
    let (from, to) = (required("from")?, required("to")?);
    if to < from {
        return Err(Problem::invalid_field("to", "must not be before from"));
    }
    Ok((from, to))
}

/// `GET /customers/{id}/statement?from=&to=`: JSON, CSV (`text/csv`),
/// printable HTML (`text/html`) or plain text (`text/plain`).
async fn show_statement(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("customer", call.param("id"))?;
    let (from, to) = period(call)?;
    let statement = statements::statement(&desk.db, id, from, to).await?;
    let name = format!("statement-{id}-{from}-{to}");
    if call.wants_csv() {
        return Ok(Reply::csv(&tables::statement(&name, &statement)));
    }
    if call.wants("text/html") || call.wants("text/plain") {
        let policy = dunning_policy(desk).await?;
        let paper = match call.query("paper") {
            None => policy.paper,
            Some(text) => Paper::parse(text)
                .ok_or_else(|| Problem::invalid_field("paper", "must be a4 or letter"))?,
        };
        return Ok(if call.wants("text/html") {
            let html = statement.statement.render_html(&policy.sender, paper);
            document_reply(
                "text/html; charset=utf-8",
                html.into_bytes(),
                &format!("{name}.html"),
            )
        } else {
            let text = statement.statement.render_text(&policy.sender);
            document_reply(
                "text/plain; charset=utf-8",
                text.into_bytes(),
                &format!("{name}.txt"),
            )
        });
    }
    Ok(Reply::ok(&statement))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    from: String,
    to: String,
}

/// `POST /customers/{id}/statement`: issues the statement — logged as a
/// letter, and sent through the event feed as `statement.issued` with its
/// text and HTML.
async fn issue_statement(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = path_id("customer", call.param("id"))?;
    let body: IssueBody = call.json()?;
    let mut fields = Fields::new();
    let from = fields.date("from", &body.from);
    let to = fields.date("to", &body.to);
    if let (Some(from), Some(to)) = (from, to) {
        fields.check(to >= from, "to", "must not be before from");
    }
    fields.finish()?;
    let policy = dunning_policy(desk).await?;
    let issued =
        workflows::statement::issue(&desk.db, id, valid(from), valid(to), &policy, &call.stamp())
            .await?;
    Ok(Reply::created(&issued))
}
