//! Requests that run once. A webhook delivered again (same `webhook-id`)
//! gets the first answer, marked `webhook-replay: true`, and is not
//! processed again; a person's request sent again with the same
//! `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header) gets
//! its first answer, marked `idempotent-replay: true`.
//!
//! Exactly once, also when two deliveries arrive together: the request
//! claims its key in the ledger's `request_claims` table ([`ledger::claims`])
//! before anything it does is kept. The claim is the first statement of the
//! work's first write transaction ([`ClaimingDb`]), so one commit carries
//! the claim and the work; work that writes nothing claims after it is
//! done. Only the claimer's work is kept; it stores the answer in the
//! key-value store (where API.md keeps webhook answers), where every
//! delivery looks first. A delivery that finds the key claimed and no
//! answer stored yet is told to retry: 409 with `Retry-After` (Standard
//! Webhooks senders retry; so do the draft's clients). A claim left
//! unanswered for [`TAKEOVER_AFTER_SECONDS`] belongs to a request that
//! crashed between its commit and its answer: the next delivery takes it
//! over and works again (the domain's writes are idempotent by id).
//!
//! Server errors are not remembered: the claim is released (or was never
//! committed), so the ERP's retry runs again.

use chrono::{DateTime, Utc};
use http::StatusCode;
use ledger::claims;
use ledger::{Database, KeyValue};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::caller::Caller;
use crate::problem::Problem;
use crate::reply::Reply;
use crate::request::Incoming;

mod claiming_db;

pub use claiming_db::ClaimingDb;
use claiming_db::{ClaimFor, ClaimState};

/// How long a claim may stay unanswered before another delivery takes it
/// over. Requests take milliseconds; the host gives up on them long before.
pub const TAKEOVER_AFTER_SECONDS: i64 = 30;

/// What a delivery that finds its key claimed is told to wait.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// Longest `Idempotency-Key` accepted, as sent.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// An answer as kept in the key-value store.
#[derive(Serialize, Deserialize)]
struct Stored {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    /// The request's fingerprint (answers stored before it was kept have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
}

/// One key and what a repeated request must match.
struct Scope {
    /// The key in the key-value store and in `request_claims`.
    key: String,
    fingerprint: String,
    /// Whether another request under the key is refused (Idempotency-Key)
    /// or answered the first answer all the same (a webhook message id
    /// names one message, whatever was sent with it again).
    strict: bool,
    /// The header that marks a replayed answer.
    replay_header: &'static str,
}

impl Scope {
    /// 422 when the key was used for another request (Idempotency-Key only).
    fn matches(&self, fingerprint: Option<&str>) -> Result<(), Problem> {
        match fingerprint {
            Some(used) if self.strict && used != self.fingerprint => Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "this Idempotency-Key was used for another request (another body, method or path); send a new key",
            )),
            _ => Ok(()),
        }
    }
}

/// Runs `work` once per webhook message (ERP endpoints). People's requests
/// always run. The work writes through the database it is given, which
/// claims the message before its first write.
pub async fn once<D: Database>(
    db: &D,
    kv: &impl KeyValue,
    now: DateTime<Utc>,
    caller: &Caller,
    request: &Incoming,
    work: impl AsyncFnOnce(&ClaimingDb<'_, D>) -> Result<Reply, Problem>,
) -> Result<Reply, Problem> {
    let Some(webhook_id) = caller.webhook_id() else {
        return work(&ClaimingDb::unclaimed(db)).await;
    };
    let scope = Scope {
        key: format!("webhook:{webhook_id}"),
        fingerprint: fingerprint(request),
        strict: false,
        replay_header: "webhook-replay",
    };
    run_once(db, kv, now, &scope, work).await
}

/// Runs `work` once per webhook message, and once per `Idempotency-Key` a
/// person sends: the same key from the same person with the same request
/// gets the first answer, with another request 422. Without the header a
/// person's request always runs.
pub async fn idempotent<D: Database>(
    db: &D,
    kv: &impl KeyValue,
    now: DateTime<Utc>,
    caller: &Caller,
    request: &Incoming,
    work: impl AsyncFnOnce(&ClaimingDb<'_, D>) -> Result<Reply, Problem>,
) -> Result<Reply, Problem> {
    let person = match caller {
        Caller::Erp { .. } => return once(db, kv, now, caller, request, work).await,
        Caller::Person(person) => person,
    };
    let Some(key) = idempotency_key(request)? else {
        return work(&ClaimingDb::unclaimed(db)).await;
    };
    let scope = Scope {
        // The name's length keeps `a` + `b:c` apart from `a:b` + `c`.
        key: format!("idempotency:{}:{}:{key}", person.name.len(), person.name),
        fingerprint: fingerprint(request),
        strict: true,
        replay_header: "idempotent-replay",
    };
    run_once(db, kv, now, &scope, work).await
}

/// Forgets requests claimed before `cutoff` — each claim and its stored
/// answer — oldest first, at most `batch`; gives how many. The answer goes
/// first: a crash in between leaves a claim without an answer, which the
/// next purge takes.
pub async fn purge(
    db: &impl Database,
    kv: &impl KeyValue,
    cutoff: DateTime<Utc>,
    batch: u32,
) -> Result<usize, ledger::DbError> {
    let keys = claims::expired(db, cutoff, batch).await?;
    for key in &keys {
        kv.delete(key).await?;
    }
    claims::forget(db, &keys).await?;
    Ok(keys.len())
}

/// The `Idempotency-Key` header: 1-255 visible ASCII characters, as a
/// Structured Field string (`"..."`, the draft's form) or bare. Anything
/// else is 400.
pub fn idempotency_key(request: &Incoming) -> Result<Option<String>, Problem> {
    let Some(raw) = request.raw_header("idempotency-key") else {
        return Ok(None);
    };
    let visible =
        |bytes: &[u8]| !bytes.is_empty() && bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    let inner = match raw.strip_prefix(b"\"") {
        // An unterminated string leaves nothing, which is refused.
        Some(rest) => rest.strip_suffix(b"\"").unwrap_or_default(),
        None => raw,
    };
    if raw.len() > MAX_IDEMPOTENCY_KEY || !visible(raw) || !visible(inner) {
        return Err(Problem::bad_request(format!(
            "Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} visible ASCII characters, e.g. \"8e03978e-40d5-43e8-bc93-6894a57f9324\""
        )));
    }
    Ok(Some(String::from_utf8_lossy(inner).into_owned()))
}

/// SHA-256 of the method, path, query and body: a repeated request is the
/// same request when these are.
fn fingerprint(request: &Incoming) -> String {
    let mut hash = Sha256::new();
    hash.update(request.method.as_str());
    hash.update(b" ");
    hash.update(&request.path);
    for (name, value) in request.query_pairs() {
        // Lengths first, so that no two queries hash alike.
        hash.update(format!("\n{}:{name}{}:{value}", name.len(), value.len()));
    }
    hash.update(b"\n\n");
    hash.update(&request.body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn run_once<D: Database>(
    db: &D,
    kv: &impl KeyValue,
    now: DateTime<Utc>,
    scope: &Scope,
    work: impl AsyncFnOnce(&ClaimingDb<'_, D>) -> Result<Reply, Problem>,
) -> Result<Reply, Problem> {
    if let Some(reply) = stored_answer(kv, scope).await? {
        return Ok(reply);
    }
    let claim_for = ClaimFor {
        key: &scope.key,
        fingerprint: &scope.fingerprint,
        now,
    };
    let claiming = ClaimingDb::new(db, claim_for);
    let reply = work(&claiming).await.unwrap_or_else(Problem::into_reply);
    if !reply.status.is_server_error() {
        // Work that wrote nothing, or whose writes rolled back: its answer
        // is remembered all the same, under a claim of its own.
        match claiming.claim().await {
            Ok(()) | Err(ledger::DbError::Claimed(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let ticket = match claiming.into_state() {
        ClaimState::Won(ticket) => ticket,
        ClaimState::Lost { fingerprint } => return held_answer(kv, scope, &fingerprint).await,
        // A server error before anything was committed: nothing is kept,
        // and an error is not remembered.
        ClaimState::Unclaimed | ClaimState::Pending(_) => return Ok(reply),
    };
    // A claim taken over from a holder that seemed to have crashed: if it
    // answered after all, its answer stands (the work, idempotent by id,
    // changed nothing more).
    if ticket.taken_over
        && let Some(reply) = stored_answer(kv, scope).await?
    {
        return Ok(reply);
    }
    if reply.status.is_server_error() {
        if let Err(e) = claims::release(db, &ticket).await {
            // The claim is taken over once it is stale.
            eprintln!("error: releasing the claim on {}: {e}", scope.key);
        }
        return Ok(reply);
    }
    let stored = Stored {
        status: reply.status.as_u16(),
        headers: reply.headers.clone(),
        body: String::from_utf8_lossy(&reply.body).into_owned(),
        fingerprint: Some(scope.fingerprint.clone()),
    };
    let json = serde_json::to_vec(&stored).expect("stored replies serialise");
    if let Err(e) = kv.set(&scope.key, &json).await {
        let _ = claims::release(db, &ticket).await;
        return Err(e.into());
    }
    Ok(reply)
}

/// The answer for a request whose key another request holds: the holder's
/// answer once stored, until then 409 (retry); 422 when the key was used
/// for another request.
async fn held_answer(
    kv: &impl KeyValue,
    scope: &Scope,
    fingerprint: &str,
) -> Result<Reply, Problem> {
    scope.matches(Some(fingerprint))?;
    match stored_answer(kv, scope).await? {
        Some(reply) => Ok(reply),
        None => Err(in_flight()),
    }
}

fn in_flight() -> Problem {
    let mut problem = Problem::conflict(
        "a request with this webhook-id or Idempotency-Key is being processed; retry after a moment for its answer",
    );
    problem.header = Some(("retry-after", RETRY_AFTER_SECONDS.to_string()));
    problem
}

/// The first answer under the scope's key, marked as a replay.
async fn stored_answer(kv: &impl KeyValue, scope: &Scope) -> Result<Option<Reply>, Problem> {
    let Some(bytes) = kv.get(&scope.key).await? else {
        return Ok(None);
    };
    let stored: Stored = serde_json::from_slice(&bytes).map_err(|e| {
        ledger::DbError::KeyValue(format!(
            "stored answer under {} is unreadable: {e}",
            scope.key
        ))
    })?;
    scope.matches(stored.fingerprint.as_deref())?;
    let reply = Reply {
        status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
        headers: stored.headers,
        body: stored.body.into_bytes(),
    };
    Ok(Some(if reply.header(scope.replay_header).is_some() {
        reply
    } else {
        reply.with_header(scope.replay_header, "true")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Person, Role};
    use futures::executor::block_on;
    use http::{HeaderMap, Method};
    use ledger::claims::Claim;
    use ledger::db::native::{MemoryKv, NativeDb};
    use std::cell::Cell;

    type Db<'a> = ClaimingDb<'a, NativeDb>;

    struct Stores {
        db: NativeDb,
        kv: MemoryKv,
    }

    fn stores() -> Stores {
        let db = NativeDb::open_in_memory().unwrap();
        block_on(ledger::schema::migrate(&db)).unwrap();
        block_on(db.execute("CREATE TABLE work (what TEXT)", vec![])).unwrap();
        Stores {
            db,
            kv: MemoryKv::default(),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).unwrap()
    }

    fn erp(id: &str) -> Caller {
        Caller::Erp {
            webhook_id: id.into(),
        }
    }

    fn person(name: &str) -> Caller {
        Caller::Person(Person {
            name: name.into(),
            role: Role::Associate,
        })
    }

    fn request(path: &str, headers: &[(&str, &str)], body: &str) -> Incoming {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
            );
        }
        Incoming::new(Method::POST, &path.parse().unwrap(), map, body.into())
    }

    fn posted(body: &str) -> Incoming {
        request("/orders", &[], body)
    }

    /// Work that writes: one row in a transaction of its own.
    async fn record_work(db: &impl Database, what: &str) -> Result<(), Problem> {
        ledger::transaction(db, async |db| {
            db.execute("INSERT INTO work (what) VALUES (?)", ledger::params![what])
                .await
                .map_err(Problem::from)
        })
        .await
    }

    impl Stores {
        fn once(
            &self,
            caller: &Caller,
            request: &Incoming,
            work: impl AsyncFnOnce(&Db<'_>) -> Result<Reply, Problem>,
        ) -> Reply {
            self.once_at(now(), caller, request, work)
        }

        fn once_at(
            &self,
            at: DateTime<Utc>,
            caller: &Caller,
            request: &Incoming,
            work: impl AsyncFnOnce(&Db<'_>) -> Result<Reply, Problem>,
        ) -> Reply {
            block_on(once(&self.db, &self.kv, at, caller, request, work))
                .unwrap_or_else(Problem::into_reply)
        }

        fn idempotent(
            &self,
            caller: &Caller,
            request: &Incoming,
            work: impl AsyncFnOnce(&Db<'_>) -> Result<Reply, Problem>,
        ) -> Reply {
            block_on(idempotent(&self.db, &self.kv, now(), caller, request, work))
                .unwrap_or_else(Problem::into_reply)
        }

        /// What the work wrote to the test's `work` table, in order.
        fn work_done(&self) -> Vec<String> {
            let rows = block_on(
                self.db
                    .query("SELECT what FROM work ORDER BY rowid", vec![]),
            );
            rows.unwrap()
                .iter()
                .map(|row| row.string(0).unwrap())
                .collect()
        }

        fn claims(&self) -> i64 {
            let row = block_on(
                self.db
                    .query_row("SELECT COUNT(*) FROM request_claims", vec![]),
            );
            row.unwrap().unwrap().int(0).unwrap()
        }
    }

    #[test]
    fn a_webhook_runs_once_and_is_answered_the_same_again() {
        let stores = stores();
        let runs = Cell::new(0);
        let erp = erp("msg_1");
        let work = async |_: &Db<'_>| {
            runs.set(runs.get() + 1);
            Ok(Reply::ok(&serde_json::json!({ "run": runs.get() })))
        };
        let first = stores.once(&erp, &posted("{}"), work);
        let second = stores.once(&erp, &posted("{}"), work);
        assert_eq!(runs.get(), 1);
        assert_eq!(first.body, second.body);
        assert_eq!(first.header("webhook-replay"), None);
        assert_eq!(second.header("webhook-replay"), Some("true"));
        assert_eq!(second.content_type(), "application/json");
        // A message id names one message, whatever comes with it again.
        let third = stores.once(&erp, &posted(r#"{"other": 1}"#), work);
        assert_eq!((runs.get(), third.body), (1, first.body));
    }

    #[test]
    fn answers_past_their_retention_are_forgotten_oldest_first() {
        let stores = stores();
        let runs = Cell::new(0);
        let work = async |_: &Db<'_>| {
            runs.set(runs.get() + 1);
            Ok(Reply::ok(&runs.get()))
        };
        let day = chrono::Duration::days(1);
        stores.once_at(now() - day * 10, &erp("old-1"), &posted("{}"), work);
        stores.once_at(now() - day * 9, &erp("old-2"), &posted("{}"), work);
        stores.once_at(now(), &erp("new"), &posted("{}"), work);
        let cutoff = now() - day * 7;
        assert_eq!(
            block_on(purge(&stores.db, &stores.kv, cutoff, 1)).unwrap(),
            1
        );
        assert_eq!(stores.claims(), 2, "a small batch, the oldest");
        assert_eq!(
            block_on(purge(&stores.db, &stores.kv, cutoff, 10)).unwrap(),
            1
        );
        assert_eq!(
            block_on(purge(&stores.db, &stores.kv, cutoff, 10)).unwrap(),
            0
        );
        assert_eq!(stores.claims(), 1);
        assert!(block_on(stores.kv.get("webhook:old-1")).unwrap().is_none());
        assert!(block_on(stores.kv.get("webhook:new")).unwrap().is_some());
        let replayed = stores.once(&erp("new"), &posted("{}"), work);
        assert_eq!(
            replayed.header("webhook-replay"),
            Some("true"),
            "the recent one is kept"
        );
        stores.once(&erp("old-1"), &posted("{}"), work);
        assert_eq!(
            runs.get(),
            4,
            "a message older than the retention runs again"
        );
    }

    #[test]
    fn client_errors_are_remembered_server_errors_are_not() {
        let stores = stores();
        let runs = Cell::new(0);
        let failing = async |_: &Db<'_>| {
            runs.set(runs.get() + 1);
            Err(Problem::internal())
        };
        assert_eq!(stores.once(&erp("a"), &posted("{}"), failing).status, 500);
        assert_eq!(stores.claims(), 0, "the claim is released");
        stores.once(&erp("a"), &posted("{}"), failing);
        assert_eq!(runs.get(), 2);
        let refused = async |_: &Db<'_>| Err(Problem::not_found("no such customer"));
        let first = stores.once(&erp("b"), &posted("{}"), refused);
        assert_eq!(first.status, 404);
        let ok = async |_: &Db<'_>| Ok(Reply::ok(&1));
        assert_eq!(stores.once(&erp("b"), &posted("{}"), ok).status, 404);
    }

    #[test]
    fn a_delivery_while_the_first_still_works_is_told_to_retry() {
        let stores = stores();
        let erp = erp("msg_race");
        let runs = Cell::new(0);
        let mut during = None;
        let first = stores.once(&erp, &posted("{}"), async |db: &Db<'_>| {
            runs.set(runs.get() + 1);
            record_work(db, "first").await?;
            // The same message arrives again after the first's commit,
            // before its answer is stored.
            let again = posted("{}");
            let second = once(&stores.db, &stores.kv, now(), &erp, &again, async |db| {
                runs.set(runs.get() + 1);
                record_work(db, "second").await?;
                Ok(Reply::ok(&"second"))
            });
            during = Some(second.await.unwrap_or_else(Problem::into_reply));
            Ok(Reply::created(&"first"))
        });
        assert_eq!(runs.get(), 2, "both worked");
        assert_eq!(
            stores.work_done(),
            ["first"],
            "only the claimer's work is kept"
        );
        let during = during.unwrap();
        assert_eq!(during.status, 409);
        assert_eq!(during.header("retry-after"), Some("1"));
        assert_eq!(during.content_type(), crate::problem::CONTENT_TYPE);
        // Once answered, the retry gets the first answer, not its own.
        let retry = stores.once(&erp, &posted("{}"), async |_: &Db<'_>| {
            Ok(Reply::ok(&"third"))
        });
        assert_eq!((retry.status, &retry.body), (first.status, &first.body));
        assert_eq!(retry.header("webhook-replay"), Some("true"));
        assert_eq!(runs.get(), 2);
    }

    #[test]
    fn the_claim_commits_with_the_works_transaction() {
        let stores = stores();
        let reply = stores.once(&erp("m"), &posted("{}"), async |db: &Db<'_>| {
            record_work(db, "done").await?;
            // The work's transaction is over: its commit carried the claim.
            let claims = "SELECT COUNT(*) FROM request_claims";
            let row = stores.db.query_row(claims, vec![]).await?.unwrap();
            assert_eq!(row.int(0)?, 1);
            Ok(Reply::created(&"done"))
        });
        assert_eq!(reply.status, 201);
        assert_eq!(stores.work_done(), ["done"]);
        // A server error after the commit gives the claim up: a retry runs.
        let failed = stores.once(&erp("n"), &posted("{}"), async |db: &Db<'_>| {
            record_work(db, "n").await?;
            Err(Problem::internal())
        });
        assert_eq!(failed.status, 500);
        assert_eq!(stores.claims(), 1, "only m's claim is kept");
        // A transaction that fails (a crash before its commit, too) leaves
        // no claim behind: the retry runs at once, not after the takeover.
        let crashed = stores.once(&erp("o"), &posted("{}"), async |db: &Db<'_>| {
            ledger::transaction(db, async |db| {
                db.execute("INSERT INTO work (what) VALUES ('o')", vec![])
                    .await?;
                db.execute("INSERT INTO no_such_table VALUES (1)", vec![])
                    .await
            })
            .await?;
            Ok(Reply::created(&"unreachable"))
        });
        assert_eq!(crashed.status, 500);
        assert_eq!(stores.claims(), 1, "no claim for o");
        let retried = stores.once(&erp("o"), &posted("{}"), async |db: &Db<'_>| {
            record_work(db, "o").await?;
            Ok(Reply::created(&"o"))
        });
        assert_eq!(retried.status, 201);
        assert_eq!(stores.work_done(), ["done", "n", "o"]);
    }

    #[test]
    fn a_delivery_that_finds_the_key_held_keeps_none_of_its_writes() {
        let stores = stores();
        let request = posted("{}");
        let held = block_on(claims::claim(
            &stores.db,
            "webhook:m",
            &fingerprint(&request),
            now(),
            chrono::Duration::seconds(TAKEOVER_AFTER_SECONDS),
        ));
        assert!(matches!(held.unwrap(), Claim::Won(_)));
        let in_transaction = stores.once(&erp("m"), &request, async |db: &Db<'_>| {
            record_work(db, "in a transaction").await?;
            Ok(Reply::created(&"kept?"))
        });
        assert_eq!(in_transaction.status, 409);
        let on_its_own = stores.once(&erp("m"), &request, async |db: &Db<'_>| {
            db.execute("INSERT INTO work (what) VALUES ('on its own')", vec![])
                .await?;
            Ok(Reply::created(&"kept?"))
        });
        assert_eq!(on_its_own.status, 409);
        assert!(stores.work_done().is_empty());
        assert_eq!(stores.claims(), 1);
    }

    #[test]
    fn a_refusal_whose_writes_rolled_back_is_remembered() {
        let stores = stores();
        let runs = Cell::new(0);
        let work = async |db: &Db<'_>| {
            runs.set(runs.get() + 1);
            ledger::transaction(db, async |db| {
                db.execute("INSERT INTO work (what) VALUES ('undone')", vec![])
                    .await?;
                Err::<(), _>(Problem::not_found("no such customer"))
            })
            .await?;
            Ok(Reply::ok(&"unreachable"))
        };
        assert_eq!(stores.once(&erp("r"), &posted("{}"), work).status, 404);
        assert!(stores.work_done().is_empty());
        let again = stores.once(&erp("r"), &posted("{}"), work);
        assert_eq!(again.status, 404);
        assert_eq!(again.header("webhook-replay"), Some("true"));
        assert_eq!((runs.get(), stores.claims()), (1, 1));
    }

    #[test]
    fn a_claim_whose_holder_crashed_is_taken_over_when_stale() {
        let stores = stores();
        let erp = erp("msg_crashed");
        let request = posted("{}");
        // The first delivery claimed the message and never answered.
        let crashed_at = now() - chrono::Duration::seconds(TAKEOVER_AFTER_SECONDS + 1);
        let claim = block_on(claims::claim(
            &stores.db,
            "webhook:msg_crashed",
            &fingerprint(&request),
            crashed_at,
            chrono::Duration::seconds(TAKEOVER_AFTER_SECONDS),
        ));
        assert!(matches!(claim.unwrap(), Claim::Won(_)));
        let soon = crashed_at + chrono::Duration::seconds(5);
        let waiting = stores.once_at(soon, &erp, &request, async |_: &Db<'_>| {
            Ok(Reply::ok(&"early"))
        });
        assert_eq!(waiting.status, 409);
        let taken = stores.once(&erp, &request, async |_: &Db<'_>| {
            Ok(Reply::ok(&"taken over"))
        });
        assert_eq!(
            (taken.status, taken.body.as_slice()),
            (StatusCode::OK, &b"\"taken over\""[..])
        );
        let replayed = stores.once(&erp, &request, async |_: &Db<'_>| Ok(Reply::ok(&"again")));
        assert_eq!(replayed.body, b"\"taken over\"");
    }

    #[test]
    fn answers_stored_before_claims_existed_are_replayed() {
        let stores = stores();
        let old = br#"{"status":201,"headers":[["content-type","application/json"]],"body":"{\"id\":\"x\"}"}"#;
        block_on(stores.kv.set("webhook:msg_old", old)).unwrap();
        let reply = stores.once(&erp("msg_old"), &posted("{}"), async |_: &Db<'_>| {
            Ok(Reply::ok(&"new"))
        });
        assert_eq!(reply.status, 201);
        assert_eq!(reply.body, br#"{"id":"x"}"#);
        assert_eq!(stores.claims(), 0);
    }

    #[test]
    fn people_without_a_key_always_run() {
        let stores = stores();
        let runs = Cell::new(0);
        let work = async |_: &Db<'_>| {
            runs.set(runs.get() + 1);
            Ok(Reply::created(&runs.get()))
        };
        stores.once(&person("alice"), &posted("{}"), work);
        stores.idempotent(&person("alice"), &posted("{}"), work);
        stores.idempotent(&person("alice"), &posted("{}"), work);
        assert_eq!(runs.get(), 3);
        assert_eq!(stores.claims(), 0);
    }

    #[test]
    fn the_same_key_and_request_get_the_first_answer() {
        let stores = stores();
        let runs = Cell::new(0);
        let work = async |_: &Db<'_>| {
            runs.set(runs.get() + 1);
            Ok(Reply::created(&runs.get()))
        };
        let keyed = |key: &str, body: &str| request("/disputes", &[("idempotency-key", key)], body);
        let first = stores.idempotent(&person("alice"), &keyed("\"k-1\"", "{}"), work);
        let again = stores.idempotent(&person("alice"), &keyed("k-1", "{}"), work);
        assert_eq!(runs.get(), 1, "quoted or bare, the same key");
        assert_eq!(again.status, 201);
        assert_eq!(again.body, first.body);
        assert_eq!(first.header("idempotent-replay"), None);
        assert_eq!(again.header("idempotent-replay"), Some("true"));
        // Another body under the key is refused, and changes nothing.
        let reused = stores.idempotent(&person("alice"), &keyed("k-1", r#"{"x":1}"#), work);
        assert_eq!(reused.status, 422);
        let problem: serde_json::Value = serde_json::from_slice(&reused.body).unwrap();
        assert_eq!(problem["type"], "/problems/idempotency-key-reused");
        let elsewhere = request(
            "/credit-limit-requests",
            &[("idempotency-key", "k-1")],
            "{}",
        );
        assert_eq!(
            stores.idempotent(&person("alice"), &elsewhere, work).status,
            422
        );
        let other_query = request(
            "/disputes?as_of=2025-06-30",
            &[("idempotency-key", "k-1")],
            "{}",
        );
        assert_eq!(
            stores
                .idempotent(&person("alice"), &other_query, work)
                .status,
            422
        );
        // Keys are the caller's own.
        let bob = stores.idempotent(&person("bob"), &keyed("k-1", "{}"), work);
        assert_eq!((bob.status, runs.get()), (StatusCode::CREATED, 2));
        assert_eq!(bob.header("idempotent-replay"), None);
    }

    #[test]
    fn a_key_reused_while_the_first_request_runs_is_409_or_422() {
        let stores = stores();
        let alice = person("alice");
        let keyed = |body: &str| request("/disputes", &[("idempotency-key", "k")], body);
        let mut during = vec![];
        stores.idempotent(&alice, &keyed("{}"), async |db: &Db<'_>| {
            record_work(db, "first").await?;
            for (body, answer) in [("{}", 2), ("[]", 3)] {
                let request = keyed(body);
                let again = idempotent(
                    &stores.db,
                    &stores.kv,
                    now(),
                    &alice,
                    &request,
                    async |_: &Db<'_>| Ok(Reply::ok(&answer)),
                );
                during.push(again.await.unwrap_or_else(Problem::into_reply));
            }
            Ok(Reply::created(&1))
        });
        assert_eq!(during[0].status, 409);
        assert_eq!(during[0].header("retry-after"), Some("1"));
        assert_eq!(during[1].status, 422);
    }

    #[test]
    fn malformed_keys_are_bad_requests() {
        let stores = stores();
        let long = "k".repeat(MAX_IDEMPOTENCY_KEY + 1);
        for key in [
            "",
            "\"\"",
            "a b",
            "caf\u{e9}",
            long.as_str(),
            "\"",
            "tab\there",
        ] {
            let keyed = request("/disputes", &[("idempotency-key", key)], "{}");
            let reply = stores.idempotent(&person("alice"), &keyed, async |_: &Db<'_>| {
                Ok(Reply::ok(&1))
            });
            assert_eq!(reply.status, 400, "{key:?}");
        }
        let longest = "k".repeat(MAX_IDEMPOTENCY_KEY);
        let keyed = request("/disputes", &[("idempotency-key", &longest)], "{}");
        let reply = stores.idempotent(&person("alice"), &keyed, async |_: &Db<'_>| {
            Ok(Reply::ok(&1))
        });
        assert_eq!(reply.status, 200);
    }

    #[test]
    fn the_erp_is_held_to_its_webhook_id_not_to_a_key() {
        let stores = stores();
        let runs = Cell::new(0);
        let work = async |_: &Db<'_>| {
            runs.set(runs.get() + 1);
            Ok(Reply::created(&runs.get()))
        };
        let keyed = request("/disputes", &[("idempotency-key", "k")], "{}");
        stores.idempotent(&erp("m1"), &keyed, work);
        let again = stores.idempotent(&erp("m1"), &keyed, work);
        assert_eq!(runs.get(), 1);
        assert_eq!(again.header("webhook-replay"), Some("true"));
    }
}
