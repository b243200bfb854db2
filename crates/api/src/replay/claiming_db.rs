//! The database as the work of a request that runs once sees it. The
//! request's key is claimed by the work's first write: a write transaction
//! claims it as its first statement, so that one commit carries the claim
//! and the work (the single writer's turn is taken once, not twice); a
//! write outside a transaction is preceded by a claim of its own. Work that
//! writes nothing claims nothing; `run_once` claims for it after.
//!
//! When another request holds the key, the write that would claim it fails
//! and the work ends there, its transaction rolled back: nothing it did is
//! kept, and its answer is not the one given.

use std::cell::{Cell, RefCell};

use chrono::{DateTime, Utc};
use ledger::claims::{self, Claim, Ticket};
use ledger::db::is_read;
use ledger::{Database, DbError, Row, Value};

/// Where the request's claim stands.
#[derive(Debug)]
pub(super) enum ClaimState {
    /// Not claimed: nothing written yet, or the transaction that claimed
    /// rolled back.
    Unclaimed,
    /// Claimed in the open transaction; it holds once that commits.
    Pending(Ticket),
    /// This request holds the key.
    Won(Ticket),
    /// Another request holds the key, claimed with this fingerprint.
    Lost { fingerprint: String },
}

/// What a claim is made for.
pub(super) struct ClaimFor<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub now: DateTime<Utc>,
}

/// A [`Database`] that claims a request's key before its first write.
/// Requests that need no claim (a person's request without a key) see the
/// database as it is.
pub struct ClaimingDb<'a, D> {
    db: &'a D,
    claim_for: Option<ClaimFor<'a>>,
    state: RefCell<ClaimState>,
    in_write: Cell<bool>,
}

impl<'a, D: Database> ClaimingDb<'a, D> {
    pub(super) fn new(db: &'a D, claim_for: ClaimFor<'a>) -> Self {
        Self::with(db, Some(claim_for))
    }

    /// The database as it is: nothing is claimed.
    pub(super) fn unclaimed(db: &'a D) -> Self {
        Self::with(db, None)
    }

    fn with(db: &'a D, claim_for: Option<ClaimFor<'a>>) -> Self {
        ClaimingDb {
            db,
            claim_for,
            state: RefCell::new(ClaimState::Unclaimed),
            in_write: Cell::new(false),
        }
    }

    /// Where the claim stands once the work is done.
    pub(super) fn into_state(self) -> ClaimState {
        self.state.into_inner()
    }

    /// Claims the key unless this request holds it already: in the open
    /// write transaction, if there is one. Fails with [`DbError::Claimed`]
    /// when another request holds it.
    pub(super) async fn claim(&self) -> Result<(), DbError> {
        let Some(claim_for) = &self.claim_for else {
            return Ok(());
        };
        if matches!(*self.state.borrow(), ClaimState::Unclaimed) {
            let takeover = chrono::Duration::seconds(super::TAKEOVER_AFTER_SECONDS);
            let claim = claims::claim(
                self.db,
                claim_for.key,
                claim_for.fingerprint,
                claim_for.now,
                takeover,
            )
            .await?;
            *self.state.borrow_mut() = match claim {
                Claim::Won(ticket) if self.in_write.get() => ClaimState::Pending(ticket),
                Claim::Won(ticket) => ClaimState::Won(ticket),
                Claim::Held { fingerprint } => ClaimState::Lost { fingerprint },
            };
        }
        match *self.state.borrow() {
            ClaimState::Lost { .. } => Err(DbError::Claimed(claim_for.key.to_string())),
            _ => Ok(()),
        }
    }
}

impl<D: Database> Database for ClaimingDb<'_, D> {
    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        if !self.in_write.get() && !is_read(sql) {
            self.claim().await?;
        }
        self.db.query(sql, params).await
    }

    async fn begin_write(&self) -> Result<(), DbError> {
        self.db.begin_write().await?;
        self.in_write.set(true);
        if let Err(e) = self.claim().await {
            let _ = self.end_write("ROLLBACK").await;
            return Err(e);
        }
        Ok(())
    }

    async fn end_write(&self, sql: &'static str) -> Result<(), DbError> {
        let ended = self.db.end_write(sql).await;
        self.in_write.set(false);
        let committed = sql == "COMMIT" && ended.is_ok();
        let mut state = self.state.borrow_mut();
        if let ClaimState::Pending(ticket) = &*state {
            *state = if committed {
                ClaimState::Won(ticket.clone())
            } else {
                ClaimState::Unclaimed
            };
        }
        ended
    }
}
