//! The Spin side of a component: read the request (up to the size limit),
//! run the handler, answer. Compiled for wasm32 only.

use std::future::Future;
use std::sync::OnceLock;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Limited};
use ledger::db::spin::{SpinDb, SpinKv};
use spin_sdk::http::{FullBody, Request, Response};

use crate::auth::Role;
use crate::caller::{Caller, Credentials};
use crate::problem::Problem;
use crate::reply::Reply;
use crate::request::{Incoming, MAX_BODY_BYTES};

/// Serves one request with `handler`; problems become problem responses.
pub async fn serve<F, Fut>(request: Request, handler: F) -> Response<FullBody<Bytes>>
where
    F: FnOnce(Incoming) -> Fut,
    Fut: Future<Output = Result<Reply, Problem>>,
{
    let reply = match read(request).await {
        Ok(incoming) => handler(incoming).await,
        Err(problem) => Err(problem),
    };
    respond(reply.unwrap_or_else(Problem::into_reply))
}

async fn read(request: Request) -> Result<Incoming, Problem> {
    let (parts, body) = request.into_parts();
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
        })?
        .to_bytes();
    Ok(Incoming::new(
        parts.method,
        &parts.uri,
        parts.headers,
        body.to_vec(),
    ))
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

/// What every handler works with: the stores, the configured credentials
/// and the time the request arrived. A component opens only what spin.toml
/// grants it: [`Desk::open`] for components with ERP endpoints,
/// [`Desk::open_for_people`] for those only people call, and
/// [`Desk::open_read_only`] (no key-value store, `Desk<NoStore>`) for the
/// reports.
pub struct Desk<Kv = SpinKv> {
    pub db: SpinDb,
    pub kv: Kv,
    pub credentials: &'static Credentials,
    pub now: DateTime<Utc>,
}

/// A desk without the key-value store.
pub struct NoStore;

impl Desk {
    /// The database, the key-value store, people's tokens and the ERP's
    /// webhook secret.
    pub async fn open() -> Result<Desk, Problem> {
        Desk::with_store(Webhooks::Signed).await
    }

    /// The database, the key-value store and people's tokens: no webhook
    /// secret (the component declares no `erp_webhook_secret`).
    pub async fn open_for_people() -> Result<Desk, Problem> {
        Desk::with_store(Webhooks::None).await
    }

    async fn with_store(webhooks: Webhooks) -> Result<Desk, Problem> {
        Ok(Desk {
            db: ledger::db::spin::open_ledger().await?,
            kv: SpinKv::open_default().await?,
            credentials: credentials(webhooks).await?,
            now: Utc::now(),
        })
    }

    /// Runs `work` once per webhook message (see [`crate::replay::once`]).
    pub async fn once(
        &self,
        caller: &Caller,
        request: &Incoming,
        work: impl AsyncFnOnce() -> Result<Reply, Problem>,
    ) -> Result<Reply, Problem> {
        crate::replay::once(&self.db, &self.kv, self.now, caller, request, work).await
    }

    /// Runs `work` once per webhook message and once per person's
    /// `Idempotency-Key` (see [`crate::replay::idempotent`]).
    pub async fn idempotent(
        &self,
        caller: &Caller,
        request: &Incoming,
        work: impl AsyncFnOnce() -> Result<Reply, Problem>,
    ) -> Result<Reply, Problem> {
        crate::replay::idempotent(&self.db, &self.kv, self.now, caller, request, work).await
    }
}

impl Desk<NoStore> {
    /// The database and people's tokens only.
    pub async fn open_read_only() -> Result<Desk<NoStore>, Problem> {
        Ok(Desk {
            db: ledger::db::spin::open_ledger().await?,
            kv: NoStore,
            credentials: credentials(Webhooks::None).await?,
            now: Utc::now(),
        })
    }
}

impl<Kv> Desk<Kv> {
    /// A person with at least `role` (401/403 otherwise).
    pub fn person(&self, request: &Incoming, role: Role) -> Result<Caller, Problem> {
        self.credentials.person(request, role).map(Caller::Person)
    }

    /// The ERP with a signed webhook, or a person with at least `role`.
    pub fn erp_or(&self, request: &Incoming, role: Role) -> Result<Caller, Problem> {
        self.credentials.erp_or(request, role, self.now.timestamp())
    }

    /// Who is writing and when, for the ledger.
    pub fn stamp(&self, caller: &Caller) -> ledger::Stamp {
        ledger::Stamp::new(caller.name(), self.now)
    }

    pub fn today(&self) -> chrono::NaiveDate {
        self.now.date_naive()
    }
}

/// Whether a component takes the ERP's signed webhooks.
#[derive(Clone, Copy)]
enum Webhooks {
    Signed,
    None,
}

/// The credentials from the application's variables, read and parsed once
/// per instance: Spin resolves an application's variables when it starts,
/// so they cannot change while an instance lives, and parsing them hashes
/// every token. A component always opens the same kind of desk, so the
/// first request decides `webhooks` for the instance.
async fn credentials(webhooks: Webhooks) -> Result<&'static Credentials, Problem> {
    static CREDENTIALS: OnceLock<Credentials> = OnceLock::new();
    if let Some(credentials) = CREDENTIALS.get() {
        return Ok(credentials);
    }
    let credentials = read_credentials(webhooks).await?;
    Ok(CREDENTIALS.get_or_init(|| credentials))
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

async fn variable(name: &str) -> Result<String, Problem> {
    spin_sdk::variables::get(name).await.map_err(|e| {
        eprintln!("error: variable {name}: {e:?}");
        Problem::internal()
    })
}
