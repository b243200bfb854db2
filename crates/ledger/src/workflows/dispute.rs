//! Opening and changing a dispute (R3), and the re-check of the customer's
//! held orders that follows when less is past due or owed.

use chrono::NaiveDate;
use credit_core::Policy;
use credit_core::events::Cause;

use crate::customers;
use crate::db::transaction;
use crate::disputes::{self, DisputeChanged, DisputeUpdate, NewDispute};
use crate::events::Trigger;
use crate::orders::{self, Recheck};
use crate::{Database, LedgerError, Result, Stamp};

/// Opens a dispute and re-checks the customer's held orders as of
/// `as_of`: the disputed amount no longer counts as past due.
pub async fn open(
    db: &impl Database,
    new: &NewDispute,
    as_of: NaiveDate,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<DisputeChanged> {
    let (id, recheck) = transaction(db, async |db| {
        let opened = disputes::record_new(db, new, policy, stamp).await?;
        let id = opened.summary.id;
        let trigger = Trigger::new(
            Cause::DisputeOpened,
            Some(&id),
            format!("dispute {id} opened"),
        );
        let recheck = recheck(db, &opened.customer_id, as_of, policy, &trigger, stamp).await?;
        Ok::<_, LedgerError>((id, recheck))
    })
    .await?;
    changed(db, &id, as_of, recheck, stamp).await
}

/// Moves a dispute on and/or adds a note; a resolution with a credit
/// lowers the invoice's balance and re-checks the customer's held orders.
pub async fn update(
    db: &impl Database,
    id: &str,
    change: &DisputeUpdate,
    as_of: NaiveDate,
    policy: &Policy,
    stamp: &Stamp,
) -> Result<DisputeChanged> {
    let recheck = transaction(db, async |db| {
        let (dispute, credit) = disputes::change(db, id, change, as_of, stamp).await?;
        match credit {
            Some(_) => {
                let said = format!("dispute {id} resolved with a credit");
                let trigger = Trigger::new(Cause::DisputeCredit, Some(id), said);
                recheck(db, &dispute.customer_id, as_of, policy, &trigger, stamp).await
            }
            None => Ok(Recheck::default()),
        }
    })
    .await?;
    changed(db, id, as_of, recheck, stamp).await
}

async fn recheck(
    db: &impl Database,
    customer_id: &str,
    as_of: NaiveDate,
    policy: &Policy,
    trigger: &Trigger,
    stamp: &Stamp,
) -> Result<Recheck> {
    let customer = customers::get(db, customer_id).await?;
    Ok(orders::recheck_held(db, &customer, as_of, policy, trigger, stamp).await?)
}

async fn changed(
    db: &impl Database,
    id: &str,
    as_of: NaiveDate,
    recheck: Recheck,
    stamp: &Stamp,
) -> Result<DisputeChanged> {
    Ok(DisputeChanged {
        view: disputes::view(db, id, as_of, stamp.at).await?,
        released_orders: recheck.released,
        still_held: recheck.still_held,
    })
}
