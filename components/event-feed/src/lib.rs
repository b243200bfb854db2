//! event-feed: the ERP (or a manager) reads every credit decision and
//! change the desk made — orders held, released and cancelled, payments,
//! disputes, limits and holds — as CloudEvents, oldest first, by cursor.

use api::spin::{Desk, NoStore, serve};
use api::{Access, Call, Fields, Problem, Reply, Role, Route, handler, valid};
use credit_core::events::EventType;
use ledger::events::{self, Cursor};
use spin_sdk::http::{IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    serve(request, ROUTES, Desk::open_read_only).await
}

/// The ERP's integration (or a manager).
const INTEGRATION: Access = Access::Person(Role::Integration);

const ROUTES: &[Route<Desk<NoStore>>] = &[Route::get("/events", INTEGRATION, handler!(read))];

/// Most events one page holds, and how many unless asked.
const MAX_PAGE: u32 = 1000;
const DEFAULT_PAGE: u32 = 100;

/// `GET /events?after=<cursor>&limit=<n>&type=<type>`: the events after
/// the cursor (from the first without one), oldest first, with the cursor
/// to read on from.
async fn read(desk: &Desk<NoStore>, call: &Call) -> Result<Reply, Problem> {
    let after = match call.query("after") {
        None => Cursor::default(),
        Some(text) => Cursor::parse(text).ok_or_else(|| {
            Problem::bad_request(
                "'after' is not a cursor of this feed: send the 'next' of a page you read (or leave it out to start at the first event)",
            )
        })?,
    };
    let mut fields = Fields::new();
    let limit = fields.number("limit", call.query("limit"), DEFAULT_PAGE, 1..=MAX_PAGE);
    let kind = call
        .query("type")
        .map(|text| fields.named::<EventType>("type", text));
    fields.finish()?;
    let page = events::feed(&desk.db, after, valid(limit), kind.map(valid)).await?;
    Ok(Reply::ok(&page))
}
