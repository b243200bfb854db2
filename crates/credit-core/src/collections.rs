//! Collections: the contact log's promises to pay and the worklist.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Call,
    Email,
    Letter,
    Visit,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Call,
        Channel::Email,
        Channel::Letter,
        Channel::Visit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Call => "call",
            Channel::Email => "email",
            Channel::Letter => "letter",
            Channel::Visit => "visit",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromiseStatus {
    Open,
    Kept,
    Broken,
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
    /// its date (`paid` is what was received in that window); broken when
    /// the date has passed without that.
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
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}
