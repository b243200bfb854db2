//! The audit log of master-data and limit changes.

use serde_json::Value as Json;

use crate::db::{Database, DbError};
use crate::{Stamp, params};

pub async fn record(
    db: &impl Database,
    stamp: &Stamp,
    action: &str,
    entity: &str,
    entity_id: &str,
    details: Json,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, details) VALUES (?, ?, ?, ?, ?, ?)",
        params![stamp.at_text(), &stamp.by, action, entity, entity_id, details.to_string()],
    )
    .await
}
