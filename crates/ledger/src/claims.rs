//! Claims on requests that must run once: an ERP webhook message, or a
//! person's request sent with an `Idempotency-Key`. A delivery claims its
//! key as the first statement of its work's first write transaction (or on
//! its own when the work writes nothing, see `api::replay`); a delivery
//! that finds the key claimed keeps none of its work. The claim's holder
//! stores the answer (in the key-value store, under the same key, which
//! every delivery looks at first) or — on a server error — releases the
//! claim so that a retry runs again.
//!
//! A claim left unanswered for longer than the takeover time belongs to a
//! request that crashed mid-way: the next delivery takes it over and runs
//! the work again (the domain's writes are idempotent by id).

use chrono::{DateTime, Duration, Utc};

use crate::db::{Database, DbError};
use crate::{params, timestamp};

/// What claiming a key gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This request holds the key: it runs the work, then stores the
    /// answer or calls [`release`].
    Won(Ticket),
    /// Another request holds the key, claimed with this fingerprint: it is
    /// running now, or has answered.
    Held { fingerprint: String },
}

/// The claim a request holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    pub key: String,
    /// When this request claimed the key; identifies the holder, so that a
    /// request whose claim was taken over cannot release its successor's.
    claimed_at: String,
    /// Whether an older, unanswered claim was taken over (its holder may
    /// have stored an answer after all: look again before working).
    pub taken_over: bool,
}

/// Claims `key` for a request with `fingerprint`, at `now`. A claim that
/// has been held without an answer for `takeover_after` or longer, made
/// with the same fingerprint, is taken over.
///
/// Every step is one statement, each atomic, so a claim made outside a
/// transaction keeps the other writers waiting only while its insert runs;
/// inside the caller's write transaction it commits with the caller's work.
pub async fn claim(
    db: &impl Database,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
    takeover_after: Duration,
) -> Result<Claim, DbError> {
    let now_text = timestamp(now);
    let stale_before = timestamp(now - takeover_after);
    let won = |taken_over| {
        Claim::Won(Ticket {
            key: key.to_string(),
            claimed_at: now_text.clone(),
            taken_over,
        })
    };
    for _ in 0..CLAIM_ATTEMPTS {
        let inserted = db
            .query(
                "INSERT INTO request_claims (key, fingerprint, claimed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO NOTHING RETURNING key",
                params![key, fingerprint, now_text.as_str()],
            )
            .await?;
        if !inserted.is_empty() {
            return Ok(won(false));
        }
        let Some(row) = db
            .query_row(
                "SELECT fingerprint, claimed_at FROM request_claims WHERE key = ?1",
                params![key],
            )
            .await?
        else {
            continue; // released by its holder meanwhile: claim it afresh
        };
        let held_with = row.string(0)?;
        let claimed_at = row.string(1)?;
        // Instants are stored as fixed-width RFC 3339 UTC: text order is
        // time order. A claim is only asked about when no answer is stored
        // under its key: a stale one is the holder's that crashed.
        if held_with != fingerprint || claimed_at.as_str() > stale_before.as_str() {
            return Ok(Claim::Held {
                fingerprint: held_with,
            });
        }
        // Taken over only if nobody else took it over since it was read.
        let taken = db
            .query(
                "UPDATE request_claims SET claimed_at = ?3 WHERE key = ?1 AND claimed_at = ?2
                 RETURNING key",
                params![key, claimed_at.as_str(), now_text.as_str()],
            )
            .await?;
        if !taken.is_empty() {
            return Ok(won(true));
        }
    }
    Err(DbError::Sql(format!(
        "the claim on {key} changed hands {CLAIM_ATTEMPTS} times while it was claimed"
    )))
}

/// How often a claim is tried while its key changes hands under it.
const CLAIM_ATTEMPTS: usize = 3;

/// The holder gives the key up unanswered (a server error): the next
/// delivery runs again.
pub async fn release(db: &impl Database, ticket: &Ticket) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM request_claims WHERE key = ?1 AND claimed_at = ?2",
        params![ticket.key.as_str(), ticket.claimed_at.as_str()],
    )
    .await
}

/// The keys of claims made before `cutoff`, oldest first, at most `limit`:
/// requests old enough that no sender retries them any more.
pub async fn expired(
    db: &impl Database,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<String>, DbError> {
    let rows = db
        .query(
            "SELECT key FROM request_claims WHERE claimed_at < ? ORDER BY claimed_at LIMIT ?",
            params![timestamp(cutoff), limit],
        )
        .await?;
    rows.iter().map(|row| row.string(0)).collect()
}

/// Claims forgotten per statement: each statement holds the writer turn
/// while it runs, and deleting a claim touches a page of the key index
/// wherever its (random) key falls, about 10 µs a claim. Fifty keep a
/// turn near half a millisecond, the length of a few hold checks.
const FORGET_PER_STATEMENT: usize = 50;

/// Forgets the claims on `keys` (after their answers are gone), a few at a
/// time, each few in a statement of its own: other writers go in between.
pub async fn forget(db: &impl Database, keys: &[String]) -> Result<(), DbError> {
    for few in keys.chunks(FORGET_PER_STATEMENT) {
        let few = serde_json::to_string(few).expect("strings serialise");
        db.execute(
            "DELETE FROM request_claims WHERE key IN (SELECT value FROM json_each(?))",
            params![few],
        )
        .await?;
    }
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::db::native::NativeDb;
    use futures::executor::block_on;

    fn db() -> NativeDb {
        let db = NativeDb::open_in_memory().unwrap();
        block_on(crate::schema::migrate(&db)).unwrap();
        db
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000 + seconds, 0).unwrap()
    }

    const TAKEOVER: Duration = Duration::seconds(30);

    fn won(claim: Claim) -> Ticket {
        match claim {
            Claim::Won(ticket) => ticket,
            held => panic!("expected to win, got {held:?}"),
        }
    }

    #[test]
    fn the_first_claim_wins_and_the_next_finds_it_held() {
        let db = db();
        let ticket = won(block_on(claim(&db, "webhook:a", "f1", at(0), TAKEOVER)).unwrap());
        assert!(!ticket.taken_over);
        for (fingerprint, when) in [("f1", at(1)), ("f2", at(2)), ("f1", at(29))] {
            assert_eq!(
                block_on(claim(&db, "webhook:a", fingerprint, when, TAKEOVER)).unwrap(),
                Claim::Held {
                    fingerprint: "f1".into()
                }
            );
        }
        let other = won(block_on(claim(&db, "webhook:b", "f1", at(1), TAKEOVER)).unwrap());
        assert_eq!(other.key, "webhook:b");
    }

    #[test]
    fn a_stale_unanswered_claim_is_taken_over_with_the_same_fingerprint_only() {
        let db = db();
        let first = won(block_on(claim(&db, "k", "f1", at(0), TAKEOVER)).unwrap());
        let held = block_on(claim(&db, "k", "f2", at(31), TAKEOVER)).unwrap();
        assert!(
            matches!(held, Claim::Held { .. }),
            "another body never takes over"
        );
        let second = won(block_on(claim(&db, "k", "f1", at(30), TAKEOVER)).unwrap());
        assert!(second.taken_over);
        // The crashed first holder cannot release its successor's claim.
        block_on(release(&db, &first)).unwrap();
        assert!(matches!(
            block_on(claim(&db, "k", "f1", at(31), TAKEOVER)).unwrap(),
            Claim::Held { .. }
        ));
    }

    #[test]
    fn expired_claims_are_forgotten_oldest_first_and_only_those() {
        let db = db();
        for (key, when) in [("old-2", at(2)), ("old-1", at(1)), ("new", at(100))] {
            won(block_on(claim(&db, key, "f", when, TAKEOVER)).unwrap());
        }
        let expired = block_on(expired(&db, at(50), 10)).unwrap();
        assert_eq!(expired, ["old-1", "old-2"]);
        block_on(forget(&db, &expired[..1])).unwrap();
        block_on(forget(&db, &[])).unwrap();
        assert_eq!(
            block_on(super::expired(&db, at(50), 10)).unwrap(),
            ["old-2"]
        );
        let again = won(block_on(claim(&db, "old-1", "f", at(101), TAKEOVER)).unwrap());
        assert!(!again.taken_over, "a forgotten key is new");
        // (Another fingerprint: a stale claim is never taken over with one.)
        for held in ["old-2", "new"] {
            assert!(matches!(
                block_on(claim(&db, held, "g", at(101), TAKEOVER)).unwrap(),
                Claim::Held { .. }
            ));
        }
    }

    #[test]
    fn a_batch_longer_than_one_statement_is_forgotten_whole() {
        let db = db();
        let keys: Vec<String> = (0..FORGET_PER_STATEMENT * 2 + 7)
            .map(|n| format!("k{n}"))
            .collect();
        for key in &keys {
            won(block_on(claim(&db, key, "f", at(0), TAKEOVER)).unwrap());
        }
        won(block_on(claim(&db, "kept", "f", at(0), TAKEOVER)).unwrap());
        block_on(forget(&db, &keys)).unwrap();
        assert_eq!(block_on(expired(&db, at(50), 1000)).unwrap(), ["kept"]);
    }

    #[test]
    fn a_released_claim_is_claimed_afresh() {
        let db = db();
        let ticket = won(block_on(claim(&db, "k", "f", at(0), TAKEOVER)).unwrap());
        block_on(release(&db, &ticket)).unwrap();
        let again = won(block_on(claim(&db, "k", "f", at(1), TAKEOVER)).unwrap());
        assert!(!again.taken_over, "nobody held it");
        assert!(matches!(
            block_on(claim(&db, "k", "f", at(2), TAKEOVER)).unwrap(),
            Claim::Held { .. }
        ));
    }
}
