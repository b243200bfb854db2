//! The credit policy, kept in the key-value store under `policy`.

use credit_core::Policy;

use crate::db::{Database, DbError, KeyValue, transaction};
use crate::{Stamp, audit};

const KEY: &str = "policy";

/// The stored policy, or the defaults when none was ever saved.
pub async fn load(kv: &impl KeyValue) -> Result<Policy, DbError> {
    match kv.get(KEY).await? {
        None => Ok(Policy::default()),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| DbError::KeyValue(format!("stored policy is unreadable: {e}"))),
    }
}

/// Saves a new policy and records the change in the audit log. The audit
/// row is written first, in a transaction that commits only once the
/// key-value store took the policy: a failed audit leaves the policy as it
/// was, and a failed store write leaves no audit row.
pub async fn save(
    kv: &impl KeyValue,
    db: &impl Database,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let before = load(kv).await?;
    let json = serde_json::to_vec(policy).expect("a policy always serialises");
    let details = serde_json::json!({ "before": before, "after": policy });
    transaction(db, async |db| {
        audit::record(db, stamp, "update", "policy", KEY, details).await?;
        kv.set(KEY, &json).await
    })
    .await
}
