//! The Spin side of a component: find the request's route, check who is
//! calling from the headers alone, read the body (up to the size limit),
//! run the handler, answer. Compiled for wasm32 only.

use std::sync::OnceLock;

use bytes::Bytes;
use chrono::Utc;
use http_body_util::{BodyExt, Limited};
use ledger::db::spin::{SpinDb, SpinKv};
use spin_sdk::http::{FullBody, Request, Response};

use crate::caller::Credentials;
use crate::problem::Problem;
use crate::replay::ClaimingDb;
use crate::reply::Reply;
use crate::request::{Incoming, MAX_BODY_BYTES};
use crate::router::{self, Call, Route};

/// Serves one request with `routes`; `open` opens the stores the handlers
/// work on. Problems become problem responses.
pub async fn serve<D>(
    request: Request,
    routes: &'static [Route<D>],
    open: impl AsyncFnOnce() -> Result<D, Problem>,
) -> Response<FullBody<Bytes>> {
    let reply = answer(request, routes, open).await;
    respond(reply.unwrap_or_else(Problem::into_reply).for_the_wire())
}

/// Nobody is kept waiting on a body before the route and the caller's
/// credentials are known to be good: an unknown path, a wrong method or a
/// missing token is answered at once, and the body is never read.
async fn answer<D>(
    request: Request,
    routes: &'static [Route<D>],
    open: impl AsyncFnOnce() -> Result<D, Problem>,
) -> Result<Reply, Problem> {
    let now = Utc::now();
    let (parts, body) = request.into_parts();
    let mut incoming = Incoming::new(parts.method, &parts.uri, parts.headers, vec![]);
    let (route, params) = router::find(routes, &incoming)?;
    let credentials = credentials(Webhooks::taken_by(routes)).await?;
    let admitted = credentials.admit(&incoming, route.access, now.timestamp())?;
    incoming.body = read_body(body).await?;
    let caller = credentials.confirm(admitted, &incoming, now.timestamp())?;
    let stores = open().await?;
    let call = Call::new(incoming, caller, now, params);
    (route.handler)(&stores, &call).await
}

async fn read_body<B>(body: B) -> Result<Vec<u8>, Problem>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // Reading stops one byte past the limit, whatever Content-Length says.
    let body = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                Problem::too_large(MAX_BODY_BYTES)
            } else {
                Problem::bad_request("the request body could not be read")
            }
        })?;
    Ok(body.to_bytes().to_vec())
}

fn respond(reply: Reply) -> Response<FullBody<Bytes>> {
    let mut response = Response::new(FullBody::new(Bytes::from(reply.body)));
    *response.status_mut() = reply.status;
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::try_from(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// The stores a handler works with. A component opens only what spin.toml
/// grants it: [`Desk::open`] the database and the key-value store,
/// [`Desk::open_read_only`] (`Desk<NoStore>`) the database alone.
pub struct Desk<Kv = SpinKv> {
    pub db: SpinDb,
    pub kv: Kv,
}

/// A desk without the key-value store.
pub struct NoStore;

impl Desk {
    /// The database and the key-value store.
    pub async fn open() -> Result<Desk, Problem> {
        Ok(Desk {
            db: ledger::db::spin::open_ledger().await?,
            kv: SpinKv::open_default().await?,
        })
    }

    /// Runs `work` once per webhook message (see [`crate::replay::once`]).
    /// The work writes through the database it is given, never through
    /// `self.db`: that one claims the message with the work's first write.
    pub async fn once(
        &self,
        call: &Call,
        work: impl AsyncFnOnce(&ClaimingDb<'_, SpinDb>) -> Result<Reply, Problem>,
    ) -> Result<Reply, Problem> {
        crate::replay::once(&self.db, &self.kv, call.now, &call.caller, call, work).await
    }

    /// Runs `work` once per webhook message and once per person's
    /// `Idempotency-Key` (see [`crate::replay::idempotent`]), writing
    /// through the database it is given as [`Desk::once`] does.
    pub async fn idempotent(
        &self,
        call: &Call,
        work: impl AsyncFnOnce(&ClaimingDb<'_, SpinDb>) -> Result<Reply, Problem>,
    ) -> Result<Reply, Problem> {
        crate::replay::idempotent(&self.db, &self.kv, call.now, &call.caller, call, work).await
    }
}

impl Desk<NoStore> {
    /// The database only.
    pub async fn open_read_only() -> Result<Desk<NoStore>, Problem> {
        Ok(Desk {
            db: ledger::db::spin::open_ledger().await?,
            kv: NoStore,
        })
    }
}

/// Whether a component takes the ERP's signed webhooks, and so reads the
/// webhook secret (only components whose routes take them are granted it).
#[derive(Clone, Copy)]
enum Webhooks {
    Signed,
    None,
}

impl Webhooks {
    fn taken_by<D>(routes: &[Route<D>]) -> Webhooks {
        if routes.iter().any(|route| route.access.takes_webhooks()) {
            Webhooks::Signed
        } else {
            Webhooks::None
        }
    }
}

/// The credentials from the application's variables, read and parsed once
/// per instance: Spin resolves an application's variables when it starts,
/// so they cannot change while an instance lives, and parsing them hashes
/// every token.
async fn credentials(webhooks: Webhooks) -> Result<&'static Credentials, Problem> {
    static SIGNED: OnceLock<Credentials> = OnceLock::new();
    static PEOPLE_ONLY: OnceLock<Credentials> = OnceLock::new();
    let cell = match webhooks {
        Webhooks::Signed => &SIGNED,
        Webhooks::None => &PEOPLE_ONLY,
    };
    if let Some(credentials) = cell.get() {
        return Ok(credentials);
    }
    let credentials = read_credentials(webhooks).await?;
    Ok(cell.get_or_init(|| credentials))
}

async fn read_credentials(webhooks: Webhooks) -> Result<Credentials, Problem> {
    let tokens = variable("api_tokens").await?;
    let secret = match webhooks {
        Webhooks::Signed => Some(variable("erp_webhook_secret").await?),
        Webhooks::None => None,
    };
    Credentials::new(&tokens, secret.as_deref()).map_err(|e| {
        eprintln!("error: {e}");
        Problem::internal()
    })
}

/// Everyone named in `api_tokens`, once each, by name.
pub async fn people() -> Result<Vec<crate::Person>, Problem> {
    Ok(credentials(Webhooks::None).await?.people())
}

/// An application variable granted to the component (500 when it is not).
pub async fn variable(name: &str) -> Result<String, Problem> {
    spin_sdk::variables::get(name).await.map_err(|e| {
        eprintln!("error: variable {name}: {e:?}");
        Problem::internal()
    })
}
