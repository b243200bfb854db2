//! Collections: the contact log's promises to pay and the worklist.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

crate::named! {
    /// How a customer was contacted.
    pub enum Channel {
        Call = "call",
        Email = "email",
        Letter = "letter",
        Visit = "visit",
    }
}

crate::named! {
    pub enum PromiseStatus {
        Open = "open",
        Kept = "kept",
        Broken = "broken",
    }
}

/// A promise to pay `amount` by `due_on`, made on `made_on`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promise {
    pub made_on: NaiveDate,
    pub amount: Decimal,
    pub due_on: NaiveDate,
}

impl Promise {
    /// Kept once the customer has paid the amount between the promise and
    /// its date (`paid` is what counts toward it: see
    /// [`paid_toward_promises`]); broken when the date has passed without that.
    pub fn status(&self, paid: Decimal, as_of: NaiveDate) -> PromiseStatus {
        if paid >= self.amount {
            PromiseStatus::Kept
        } else if as_of > self.due_on {
            PromiseStatus::Broken
        } else {
            PromiseStatus::Open
        }
    }
}

/// A payment received from the customer, as promises to pay see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub received_on: NaiveDate,
    pub amount: Decimal,
}

/// What each promise to pay has been paid as of `as_of` (in the order the
/// promises are given). Payments count toward promises oldest promise first
/// (by the date it was made; promises made the same day in the order
/// given), each promise taking the earliest payments received between the
/// day it was made and its date, and never more than its amount: each
/// amount of a payment is counted once, for one promise. Payments received
/// after `as_of` do not count yet.
pub fn paid_toward_promises(
    promises: &[Promise],
    receipts: &[Receipt],
    as_of: NaiveDate,
) -> Vec<Decimal> {
    let mut receipts: Vec<Receipt> = receipts
        .iter()
        .filter(|r| r.received_on <= as_of && r.amount > Decimal::ZERO)
        .cloned()
        .collect();
    receipts.sort_by_key(|r| r.received_on);
    let mut oldest_first: Vec<usize> = (0..promises.len()).collect();
    oldest_first.sort_by_key(|&i| promises[i].made_on);
    let mut paid = vec![Decimal::ZERO; promises.len()];
    for i in oldest_first {
        let promise = &promises[i];
        let window = promise.made_on..=promise.due_on;
        for receipt in receipts.iter_mut() {
            let needed = promise.amount - paid[i];
            if needed <= Decimal::ZERO {
                break;
            }
            if !window.contains(&receipt.received_on) {
                continue;
            }
            let taken = needed.min(receipt.amount);
            paid[i] += taken;
            receipt.amount -= taken;
        }
    }
    paid
}

/// A customer on the collection worklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorklistEntry {
    pub customer_id: String,
    pub customer_name: String,
    /// Undisputed balance past its due date.
    pub past_due: Decimal,
    pub held_orders_value: Decimal,
    pub oldest_days_past_due: i64,
    pub broken_promises: u32,
    /// Held order value + past-due amount: what is at stake.
    pub priority: Decimal,
}

impl WorklistEntry {
    pub fn new(
        customer_id: String,
        customer_name: String,
        past_due: Decimal,
        held_orders_value: Decimal,
        oldest_days_past_due: i64,
        broken_promises: u32,
    ) -> WorklistEntry {
        WorklistEntry {
            customer_id,
            customer_name,
            past_due,
            held_orders_value,
            oldest_days_past_due,
            broken_promises,
            priority: past_due + held_orders_value,
        }
    }
}

/// Keeps customers with an undisputed past-due balance, most at stake first
/// (then the oldest debt, then the customer id).
pub fn rank_worklist(entries: impl IntoIterator<Item = WorklistEntry>) -> Vec<WorklistEntry> {
    let mut ranked: Vec<WorklistEntry> = entries
        .into_iter()
        .filter(|e| e.past_due > Decimal::ZERO)
        .collect();
    ranked.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(b.oldest_days_past_due.cmp(&a.oldest_days_past_due))
            .then(a.customer_id.cmp(&b.customer_id))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::date;
    use rust_decimal::dec;

    #[test]
    fn a_promise_is_kept_when_paid_in_full_broken_when_the_date_passes() {
        let promise = Promise {
            made_on: date("2025-06-20"),
            amount: dec!(1000),
            due_on: date("2025-06-30"),
        };
        assert_eq!(
            promise.status(dec!(999.99), date("2025-06-30")),
            PromiseStatus::Open
        );
        assert_eq!(
            promise.status(dec!(1000), date("2025-06-25")),
            PromiseStatus::Kept
        );
        assert_eq!(
            promise.status(dec!(1200), date("2025-07-15")),
            PromiseStatus::Kept
        );
        assert_eq!(
            promise.status(dec!(400), date("2025-07-01")),
            PromiseStatus::Broken
        );
    }

    fn promise(made_on: &str, amount: Decimal, due_on: &str) -> Promise {
        Promise {
            made_on: date(made_on),
            amount,
            due_on: date(due_on),
        }
    }

    fn receipt(received_on: &str, amount: Decimal) -> Receipt {
        Receipt {
            received_on: date(received_on),
            amount,
        }
    }

    #[test]
    fn one_payment_keeps_only_the_oldest_of_overlapping_promises() {
        let promises = [
            promise("2025-06-10", dec!(1000), "2025-06-30"),
            promise("2025-06-12", dec!(1000), "2025-06-30"),
        ];
        let receipts = [receipt("2025-06-20", dec!(1000))];
        let as_of = date("2025-07-01");
        let paid = paid_toward_promises(&promises, &receipts, as_of);
        assert_eq!(paid, [dec!(1000), dec!(0)]);
        assert_eq!(promises[0].status(paid[0], as_of), PromiseStatus::Kept);
        assert_eq!(promises[1].status(paid[1], as_of), PromiseStatus::Broken);
    }

    #[test]
    fn the_oldest_promise_comes_first_whatever_order_they_are_given_in() {
        let promises = [
            promise("2025-06-12", dec!(600), "2025-06-30"),
            promise("2025-06-10", dec!(600), "2025-06-30"),
        ];
        let receipts = [receipt("2025-06-20", dec!(1000))];
        let paid = paid_toward_promises(&promises, &receipts, date("2025-06-30"));
        assert_eq!(paid, [dec!(400), dec!(600)]);
    }

    #[test]
    fn what_one_promise_does_not_need_goes_to_the_next() {
        let promises = [
            promise("2025-06-01", dec!(300), "2025-06-15"),
            promise("2025-06-02", dec!(500), "2025-06-30"),
        ];
        let receipts = [
            receipt("2025-06-10", dec!(200)),
            receipt("2025-06-12", dec!(400)),
            receipt("2025-06-25", dec!(200)),
        ];
        let paid = paid_toward_promises(&promises, &receipts, date("2025-06-30"));
        assert_eq!(paid, [dec!(300), dec!(500)]);
    }

    #[test]
    fn payments_outside_a_promise_window_do_not_count_for_it() {
        let promises = [promise("2025-06-10", dec!(500), "2025-06-20")];
        let receipts = [
            receipt("2025-06-09", dec!(500)),
            receipt("2025-06-21", dec!(500)),
        ];
        let paid = paid_toward_promises(&promises, &receipts, date("2025-06-30"));
        assert_eq!(paid, [dec!(0)]);
    }

    #[test]
    fn payments_after_as_of_do_not_count_yet() {
        let promises = [promise("2025-06-10", dec!(500), "2025-06-30")];
        let receipts = [receipt("2025-06-25", dec!(500))];
        let before = date("2025-06-24");
        let paid = paid_toward_promises(&promises, &receipts, before);
        assert_eq!(paid, [dec!(0)]);
        assert_eq!(promises[0].status(paid[0], before), PromiseStatus::Open);
        let paid = paid_toward_promises(&promises, &receipts, date("2025-06-25"));
        assert_eq!(paid, [dec!(500)]);
    }

    #[test]
    fn a_partial_payment_leaves_the_promise_broken_once_its_date_passes() {
        let promises = [promise("2025-06-10", dec!(1000), "2025-06-20")];
        let receipts = [receipt("2025-06-15", dec!(400))];
        let as_of = date("2025-06-21");
        let paid = paid_toward_promises(&promises, &receipts, as_of);
        assert_eq!(paid, [dec!(400)]);
        assert_eq!(promises[0].status(paid[0], as_of), PromiseStatus::Broken);
    }

    #[test]
    fn the_worklist_ranks_by_what_is_at_stake_and_drops_customers_not_past_due() {
        let entry = |id: &str, past_due, held, dpd| {
            WorklistEntry::new(id.into(), format!("{id} Ltd"), past_due, held, dpd, 0)
        };
        let ranked = rank_worklist([
            entry("C-1", dec!(100), dec!(0), 10),
            entry("C-2", dec!(50), dec!(5000), 3),
            entry("C-3", dec!(0), dec!(90000), 0),
            entry("C-4", dec!(100), dec!(0), 40),
        ]);
        let order: Vec<&str> = ranked.iter().map(|e| e.customer_id.as_str()).collect();
        assert_eq!(order, ["C-2", "C-4", "C-1"]);
        assert_eq!(ranked[0].priority, dec!(5050));
    }

    #[test]
    fn channels_round_trip_through_text() {
        for &channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}
