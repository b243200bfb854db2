//! Saving the credit policy: the change and its audit row go together.

use crate::support::*;
use credit_core::Policy;
use ledger::db::native::MemoryKv;
use ledger::{Database, DbError, KeyValue, Row, Value, policy};

/// A key-value store that refuses every write.
struct BrokenKv(MemoryKv);

impl KeyValue for BrokenKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, DbError> {
        self.0.get(key).await
    }

    async fn set(&self, _key: &str, _value: &[u8]) -> Result<(), DbError> {
        Err(DbError::KeyValue("the store is unavailable".into()))
    }

    async fn delete(&self, _key: &str) -> Result<(), DbError> {
        Err(DbError::KeyValue("the store is unavailable".into()))
    }
}

/// A database that refuses to write the audit log.
struct NoAudit<'a>(&'a ledger::db::native::NativeDb);

impl Database for NoAudit<'_> {
    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        if sql.contains("INSERT INTO audit_log") {
            return Err(DbError::Sql("disk I/O error".into()));
        }
        self.0.query(sql, params).await
    }
}

fn stricter() -> Policy {
    Policy {
        grace_days: 2,
        ..Policy::default()
    }
}

fn audit_rows(books: &Books) -> i64 {
    let row = block_on(books.db.query_row(
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'policy'",
        vec![],
    ))
    .unwrap()
    .unwrap();
    row.int(0).unwrap()
}

#[test]
fn a_saved_policy_is_audited() {
    let books = Books::new();
    let kv = MemoryKv::default();
    block_on(policy::save(&kv, &books.db, &stricter(), &stamp("maria"))).unwrap();
    assert_eq!(block_on(policy::load(&kv)).unwrap(), stricter());
    assert_eq!(audit_rows(&books), 1);
}

#[test]
fn a_failed_audit_leaves_the_policy_unchanged() {
    let books = Books::new();
    let kv = MemoryKv::default();
    let saved = block_on(policy::save(
        &kv,
        &NoAudit(&books.db),
        &stricter(),
        &stamp("maria"),
    ));
    assert!(saved.is_err());
    assert_eq!(block_on(policy::load(&kv)).unwrap(), Policy::default());
    assert_eq!(audit_rows(&books), 0);
}

#[test]
fn a_failed_store_write_leaves_no_audit_row() {
    let books = Books::new();
    let kv = BrokenKv(MemoryKv::default());
    let saved = block_on(policy::save(&kv, &books.db, &stricter(), &stamp("maria")));
    assert!(saved.is_err());
    assert_eq!(audit_rows(&books), 0);
}
