//! Decisions back to the ERP: the kinds of event the desk publishes, what
//! caused a change, and the retry schedule of pushing events out and when
//! to give up. (Which events may go now — never before an earlier one of
//! their subject — is the ledger's `events::to_push` query.)

use chrono::{DateTime, Duration, Utc};

crate::named! {
    /// What an event tells the ERP.
    pub enum EventType {
        OrderHeld = "order.held",
        OrderReleased = "order.released",
        OrderCancelled = "order.cancelled",
        PaymentPosted = "payment.posted",
        DisputeOpened = "dispute.opened",
        DisputeResolved = "dispute.resolved",
        CreditLimitChanged = "credit_limit.changed",
        AccountHoldChanged = "account_hold.changed",
        /// A reminder letter was issued, with its text and HTML.
        DunningLetterIssued = "dunning.letter_issued",
        /// A statement of account was issued, with its text and HTML.
        StatementIssued = "statement.issued",
    }
}

crate::named! {
    /// What made an order's status change.
    pub enum Cause {
        /// The hold check of an order the ERP sent (new or changed).
        Check = "check",
        Payment = "payment",
        /// A dispute took its amount out of what is past due.
        DisputeOpened = "dispute_opened",
        /// A dispute resolved with a credit lowered the balance.
        DisputeCredit = "dispute_credit",
        LimitApproval = "limit_approval",
        /// The customer's master data changed (a limit, a hold lifted).
        CustomerChange = "customer_change",
        /// An invoice's amount was lowered.
        InvoiceChange = "invoice_change",
        /// Another order of the customer was cancelled.
        Cancellation = "cancellation",
        ManualRelease = "manual_release",
        BulkRelease = "bulk_release",
        /// A manager approved an associate's release (four eyes).
        ApprovedRelease = "approved_release",
    }
}

/// How long a pushed event is retried before it is marked failed.
pub const GIVE_UP_AFTER: Duration = Duration::hours(24);

/// The first retry waits this long; each next one twice as long as the one
/// before, up to [`MAX_RETRY_DELAY`].
pub const FIRST_RETRY_DELAY: Duration = Duration::seconds(5);

/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::hours(1);

/// After `attempts` failed attempts of an event first tried at `first`:
/// when to try again, or `None` to give up (the next attempt would come
/// more than [`GIVE_UP_AFTER`] after the first). 5 s, 10 s, 20 s, ... one
/// hour, then hourly: about 33 attempts in 24 hours.
pub fn next_attempt(
    first: DateTime<Utc>,
    attempts: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let doublings = attempts.saturating_sub(1).min(20);
    let delay = (FIRST_RETRY_DELAY * 2i32.pow(doublings)).min(MAX_RETRY_DELAY);
    let next = now + delay;
    (next - first <= GIVE_UP_AFTER).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn retries_back_off_from_five_seconds_to_hourly_and_stop_after_a_day() {
        let first = at("2025-06-30T09:00:00Z");
        assert_eq!(
            next_attempt(first, 1, first),
            Some(at("2025-06-30T09:00:05Z"))
        );
        assert_eq!(
            next_attempt(first, 2, first),
            Some(at("2025-06-30T09:00:10Z"))
        );
        assert_eq!(
            next_attempt(first, 3, first),
            Some(at("2025-06-30T09:00:20Z"))
        );
        let late = at("2025-06-30T20:00:00Z");
        assert_eq!(
            next_attempt(first, 12, late),
            Some(at("2025-06-30T21:00:00Z")),
            "hourly at most"
        );
        assert_eq!(
            next_attempt(first, 40, at("2025-07-01T08:00:00Z")),
            Some(at("2025-07-01T09:00:00Z")),
            "the last attempt is 24 hours after the first"
        );
        assert_eq!(next_attempt(first, 41, at("2025-07-01T08:00:01Z")), None);
    }

    #[test]
    fn a_day_of_failures_is_about_thirty_attempts() {
        let first = at("2025-06-30T09:00:00Z");
        let (mut now, mut attempts) = (first, 1);
        while let Some(next) = next_attempt(first, attempts, now) {
            now = next;
            attempts += 1;
        }
        assert!((30..=40).contains(&attempts), "{attempts}");
        assert!(now - first <= GIVE_UP_AFTER);
    }

    #[test]
    fn event_types_have_the_names_the_erp_subscribes_to() {
        assert_eq!(EventType::OrderReleased.as_str(), "order.released");
        assert_eq!(
            EventType::parse("credit_limit.changed"),
            Some(EventType::CreditLimitChanged)
        );
        assert_eq!(EventType::ALL.len(), 10);
    }
}
