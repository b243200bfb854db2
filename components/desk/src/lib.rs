//! desk: who works which customer's account — managers assign customers
//! to the people named in `api_tokens`, one or many at once — and finding
//! a customer by id or name, with the figures an associate needs on the
//! phone.

use api::input::MAX_NAME;
use api::spin::{Desk, people, serve};
use api::{Access, Call, Fields, Person, Problem, Reply, Role, Route, handler, valid};
use ledger::customers;
use ledger::search::{self, Search};
use ledger::workflows;
use serde::Deserialize;
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open).await
}

const ROUTES: &[Route<Desk>] = &[
    Route::get("/customers", Access::ASSOCIATE, handler!(find_customers)),
    Route::put(
        "/customers/{id}/assignee",
        Access::MANAGER,
        handler!(assign_customer),
    ),
    Route::post("/assignments", Access::MANAGER, handler!(assign_customers)),
    Route::get("/people", Access::ASSOCIATE, handler!(list_people)),
];

/// The most customers one search page or one assignment takes.
const MAX_PAGE: u32 = 100;
const MAX_ASSIGNED: usize = 1000;
/// The longest search text.
const MAX_QUERY: usize = 100;

/// `GET /customers?q=&limit=&offset=&as_of=`: customers whose id starts
/// with `q` or whose name has its words, best first, with key figures.
async fn find_customers(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let mut fields = Fields::new();
    let text = fields.text("q", call.query("q").unwrap_or(""), MAX_QUERY);
    let limit = fields.number("limit", call.query("limit"), 20, 1..=MAX_PAGE);
    let offset = fields.number("offset", call.query("offset"), 0, 0..=100_000);
    let as_of = call.as_of(call.today());
    fields.finish()?;
    let text = valid(text);
    let search = Search {
        text: &text,
        limit: valid(limit),
        offset: valid(offset),
        as_of: as_of?,
    };
    let policy = ledger::policy::load(&desk.kv).await?;
    let page = search::customers(&desk.db, &search, &policy).await?;
    Ok(Reply::ok(&page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssigneeBody {
    /// Required, and `null` for nobody.
    #[serde(deserialize_with = "Option::deserialize")]
    assignee: Option<String>,
}

/// `PUT /customers/{id}/assignee` (manager): `{"assignee": "ana"}`, or
/// `null` for nobody.
async fn assign_customer(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let id = api::input::path_id("customer", call.param("id"))?;
    let body: AssigneeBody = call.json()?;
    let assignee = assignee(body.assignee.as_deref()).await?;
    customers::get(&desk.db, id).await?;
    let ids = [id.to_string()];
    let stamp = call.stamp();
    let mut assigned = workflows::customer::assign(&desk.db, &ids, assignee, &stamp).await?;
    Ok(Reply::ok(&assigned.remove(0)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentsBody {
    customer_ids: Vec<String>,
    #[serde(deserialize_with = "Option::deserialize")]
    assignee: Option<String>,
}

/// `POST /assignments` (manager): many customers to one person (or to
/// nobody), all or none.
async fn assign_customers(desk: &Desk, call: &Call) -> Result<Reply, Problem> {
    let body: AssignmentsBody = call.json()?;
    let mut fields = Fields::new();
    fields.check(
        (1..=MAX_ASSIGNED).contains(&body.customer_ids.len()),
        "customer_ids",
        &format!("must list 1 to {MAX_ASSIGNED} customers"),
    );
    for (i, id) in body.customer_ids.iter().enumerate() {
        fields.id(&format!("customer_ids[{i}]"), id);
    }
    fields.finish()?;
    let assignee = assignee(body.assignee.as_deref()).await?;
    let stamp = call.stamp();
    let assigned =
        workflows::customer::assign(&desk.db, &body.customer_ids, assignee, &stamp).await?;
    Ok(Reply::ok(&serde_json::json!({
        "assignee": assignee,
        "customers": assigned,
    })))
}

/// An assignee must be a person on the desk: an associate or a manager
/// named in `api_tokens`.
async fn assignee(name: Option<&str>) -> Result<Option<&str>, Problem> {
    let Some(name) = name else {
        return Ok(None);
    };
    let mut fields = Fields::new();
    fields.text("assignee", name, MAX_NAME);
    fields.finish()?;
    let on_the_desk = |p: &Person| p.name == name && p.role != Role::Integration;
    if people().await?.iter().any(on_the_desk) {
        return Ok(Some(name));
    }
    Err(Problem::invalid_field(
        "assignee",
        format!("'{name}' is not an associate or manager named in api_tokens"),
    ))
}

/// `GET /people`: the associates and managers, by name.
async fn list_people(_: &Desk, _: &Call) -> Result<Reply, Problem> {
    let people: Vec<serde_json::Value> = people()
        .await?
        .into_iter()
        .filter(|p| p.role != Role::Integration)
        .map(|p| serde_json::json!({ "name": p.name, "role": p.role }))
        .collect();
    Ok(Reply::ok(&people))
}
