//! Migrations: the schema is created and upgraded by the first request
//! that finds it behind, inside one transaction, so concurrent instances
//! never apply a migration twice.

use crate::db::{Database, DbError, transaction};
use crate::params;

/// (version, statements). Append only: never edit a released migration.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_initial.sql")),
    (
        2,
        include_str!("../migrations/0002_orders_covering_index.sql"),
    ),
    (
        3,
        include_str!("../migrations/0003_invoice_actor_and_lookup_indexes.sql"),
    ),
    (4, include_str!("../migrations/0004_request_claims.sql")),
    (
        5,
        include_str!("../migrations/0005_order_decisions_by_time.sql"),
    ),
    (
        6,
        include_str!("../migrations/0006_superseded_limit_requests.sql"),
    ),
    (7, include_str!("../migrations/0007_events.sql")),
    (8, include_str!("../migrations/0008_orders_at_volume.sql")),
    (9, include_str!("../migrations/0009_claims_by_time.sql")),
    (10, include_str!("../migrations/0010_desk.sql")),
    // 11 is kept for issue 13.
    (12, include_str!("../migrations/0012_dunning.sql")),
];

pub const LATEST_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Brings the schema up to date. A schema that is up to date is only read:
/// every new instance checks, and a write would queue behind every other.
pub async fn migrate(db: &impl Database) -> Result<(), DbError> {
    // Before the first migration there is no table to read the version from.
    if current_version(db).await.is_ok_and(|v| v >= LATEST_VERSION) {
        return Ok(());
    }
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        vec![],
    )
    .await?;
    transaction(db, async |db| {
        let current = current_version(db).await?;
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            for statement in statements(sql) {
                db.execute(&statement, vec![]).await?;
            }
            db.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, datetime('now'))",
                params![*version],
            )
            .await?;
        }
        Ok(())
    })
    .await
}

async fn current_version(db: &impl Database) -> Result<i64, DbError> {
    let row = db
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            vec![],
        )
        .await?;
    row.map_or(Ok(0), |row| row.int(0))
}

/// Splits a migration into statements: comments (`--` to the end of the
/// line) dropped, then split at `;`, except inside a trigger's
/// `BEGIN ... END`. Our DDL has no `;` or `--` in literals.
fn statements(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    let mut statements: Vec<String> = vec![];
    let mut trigger: Option<String> = None;
    for piece in without_comments.split(';').map(str::trim) {
        if let Some(body) = trigger.as_mut() {
            body.push_str(";\n");
            body.push_str(piece);
        } else if piece.starts_with("CREATE TRIGGER") {
            trigger = Some(piece.to_string());
        } else if !piece.is_empty() {
            statements.push(piece.to_string());
        }
        if trigger.as_deref().is_some_and(|body| body.ends_with("END")) {
            statements.extend(trigger.take());
        }
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_split_without_comments() {
        let sql = "-- heading; with a semicolon\nCREATE TABLE a (x INTEGER); -- trailing\n\nCREATE INDEX i ON a(x);\n";
        assert_eq!(
            statements(sql),
            ["CREATE TABLE a (x INTEGER)", "CREATE INDEX i ON a(x)"]
        );
    }

    #[test]
    fn a_trigger_is_one_statement() {
        let sql = "CREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b VALUES (1);\n  DELETE FROM c;\nEND;\nCREATE INDEX i ON a(x);";
        assert_eq!(
            statements(sql),
            [
                "CREATE TABLE a (x)",
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b VALUES (1);\nDELETE FROM c;\nEND",
                "CREATE INDEX i ON a(x)",
            ]
        );
    }

    #[test]
    fn the_initial_migration_has_every_table() {
        let creates: Vec<String> = statements(MIGRATIONS[0].1)
            .into_iter()
            .filter(|s| s.starts_with("CREATE TABLE"))
            .collect();
        assert_eq!(creates.len(), 12, "{creates:#?}");
    }
}
