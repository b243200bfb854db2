//! Escalations: an associate refers an order, a customer or a dispute to
//! the supervisors, who answer within one business day.

use chrono::{DateTime, Utc};

use crate::dispute::add_business_days;

crate::named! {
    /// What an escalation is about.
    pub enum SubjectType {
        Order = "order",
        Customer = "customer",
        Dispute = "dispute",
    }
}

crate::named! {
    pub enum EscalationStatus {
        /// Waiting for a supervisor's answer.
        Open = "open",
        /// Answered.
        Resolved = "resolved",
    }
}

/// Business days a supervisor has to answer.
pub const RESPONSE_BUSINESS_DAYS: u32 = 1;

/// When an escalation raised at `raised_at` should be answered by: the
/// same time of day, one business day (Mon–Fri) later. One raised on a
/// weekend is due on Monday.
pub fn respond_by(raised_at: DateTime<Utc>) -> DateTime<Utc> {
    let due_on = add_business_days(raised_at.date_naive(), RESPONSE_BUSINESS_DAYS);
    due_on.and_time(raised_at.time()).and_utc()
}

/// Whether an open escalation is past its response target at `now`.
pub fn is_overdue(respond_by: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now > respond_by
}

/// Whole hours from `raised_at` to `now`.
pub fn age_hours(raised_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - raised_at).num_hours().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_answer_is_due_one_business_day_later_at_the_same_time() {
        // Tuesday to Wednesday; Friday to Monday; Saturday to Monday.
        assert_eq!(
            respond_by(at("2025-07-01T14:30:00Z")),
            at("2025-07-02T14:30:00Z")
        );
        assert_eq!(
            respond_by(at("2025-07-04T16:00:00Z")),
            at("2025-07-07T16:00:00Z")
        );
        assert_eq!(
            respond_by(at("2025-07-05T09:00:00Z")),
            at("2025-07-07T09:00:00Z")
        );
    }

    #[test]
    fn overdue_only_after_the_target() {
        let due = at("2025-07-02T14:30:00Z");
        assert!(!is_overdue(due, at("2025-07-02T14:30:00Z")));
        assert!(is_overdue(due, at("2025-07-02T14:30:01Z")));
    }

    #[test]
    fn age_is_in_whole_hours() {
        let raised = at("2025-07-01T14:30:00Z");
        assert_eq!(age_hours(raised, at("2025-07-02T14:29:00Z")), 23);
        assert_eq!(age_hours(raised, at("2025-07-01T10:00:00Z")), 0);
    }
}
