//! A webhook delivered again (same `webhook-id`) gets the first answer and
//! is not processed again. Answers are kept in the key-value store.

use http::StatusCode;
use ledger::KeyValue;
use serde::{Deserialize, Serialize};

use crate::caller::Caller;
use crate::problem::Problem;
use crate::reply::Reply;

#[derive(Serialize, Deserialize)]
struct Stored {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn key(webhook_id: &str) -> String {
    format!("webhook:{webhook_id}")
}

/// Runs `work` once per webhook message. People's requests always run.
/// Server errors are not remembered, so the ERP's retry runs again.
pub async fn once(
    kv: &impl KeyValue,
    caller: &Caller,
    work: impl AsyncFnOnce() -> Result<Reply, Problem>,
) -> Result<Reply, Problem> {
    let Some(webhook_id) = caller.webhook_id() else {
        return work().await;
    };
    if let Some(bytes) = kv.get(&key(webhook_id)).await? {
        return Ok(replay(&bytes)?);
    }
    let reply = work().await.unwrap_or_else(Problem::into_reply);
    if !reply.status.is_server_error() {
        let stored = Stored {
            status: reply.status.as_u16(),
            headers: reply.headers.clone(),
            body: String::from_utf8_lossy(&reply.body).into_owned(),
        };
        let json = serde_json::to_vec(&stored).expect("stored replies serialise");
        kv.set(&key(webhook_id), &json).await?;
    }
    Ok(reply)
}

fn replay(bytes: &[u8]) -> Result<Reply, ledger::DbError> {
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| {
        ledger::DbError::KeyValue(format!("stored webhook answer is unreadable: {e}"))
    })?;
    Ok(Reply {
        status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
        headers: stored.headers,
        body: stored.body.into_bytes(),
    }
    .with_header("webhook-replay", "true"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use ledger::db::native::MemoryKv;
    use std::cell::Cell;

    #[test]
    fn a_webhook_runs_once_and_is_answered_the_same_again() {
        let kv = MemoryKv::default();
        let runs = Cell::new(0);
        let erp = Caller::Erp {
            webhook_id: "msg_1".into(),
        };
        let work = async || {
            runs.set(runs.get() + 1);
            Ok(Reply::ok(&serde_json::json!({ "run": runs.get() })))
        };
        let first = block_on(once(&kv, &erp, work)).unwrap();
        let second = block_on(once(&kv, &erp, work)).unwrap();
        assert_eq!(runs.get(), 1);
        assert_eq!(first.body, second.body);
        assert_eq!(second.header("webhook-replay"), Some("true"));
        assert_eq!(second.content_type(), "application/json");
    }

    #[test]
    fn client_errors_are_remembered_server_errors_are_not() {
        let kv = MemoryKv::default();
        let erp = |id: &str| Caller::Erp {
            webhook_id: id.into(),
        };
        let runs = Cell::new(0);
        let failing = async || {
            runs.set(runs.get() + 1);
            Err(Problem::internal())
        };
        block_on(once(&kv, &erp("a"), failing)).unwrap();
        block_on(once(&kv, &erp("a"), failing)).unwrap();
        assert_eq!(runs.get(), 2);
        let refused = async || Err(Problem::not_found("no such customer"));
        let first = block_on(once(&kv, &erp("b"), refused)).unwrap();
        assert_eq!(first.status, 404);
        let ok = async || Ok(Reply::ok(&1));
        assert_eq!(block_on(once(&kv, &erp("b"), ok)).unwrap().status, 404);
    }
}
