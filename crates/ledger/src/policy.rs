//! The credit policy, kept in the key-value store under `policy`.

use credit_core::Policy;

use crate::db::{Database, DbError, KeyValue};
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

/// Saves a new policy and records the change in the audit log.
pub async fn save(
    kv: &impl KeyValue,
    db: &impl Database,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<(), DbError> {
    let before = load(kv).await?;
    let json = serde_json::to_vec(policy).expect("a policy always serialises");
    kv.set(KEY, &json).await?;
    let details = serde_json::json!({ "before": before, "after": policy });
    audit::record(db, stamp, "update", "policy", KEY, details).await
}
