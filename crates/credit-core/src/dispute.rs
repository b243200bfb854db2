//! R3, disputes: their states and service levels in business days.

use chrono::{Datelike, Days, NaiveDate, Weekday};

crate::named! {
    pub enum DisputeStatus {
        Open = "open",
        InReview = "in_review",
        ResolvedCredit = "resolved_credit",
        ResolvedRejected = "resolved_rejected",
        Withdrawn = "withdrawn",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a dispute cannot move from {} to {}", .from.as_str(), .to.as_str())]
pub struct IllegalTransition {
    pub from: DisputeStatus,
    pub to: DisputeStatus,
}

impl DisputeStatus {
    /// Open or in review: the amount is still disputed.
    pub fn is_active(self) -> bool {
        matches!(self, DisputeStatus::Open | DisputeStatus::InReview)
    }

    /// open → in_review → resolved_credit | resolved_rejected, and an active
    /// dispute may be withdrawn.
    pub fn can_move_to(self, next: DisputeStatus) -> bool {
        use DisputeStatus::*;
        matches!(
            (self, next),
            (Open, InReview)
                | (Open, Withdrawn)
                | (InReview, ResolvedCredit)
                | (InReview, ResolvedRejected)
                | (InReview, Withdrawn)
        )
    }

    pub fn move_to(self, next: DisputeStatus) -> Result<DisputeStatus, IllegalTransition> {
        if self.can_move_to(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                from: self,
                to: next,
            })
        }
    }
}

fn is_business_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The date `days` business days (Mon–Fri) after `start`.
pub fn add_business_days(start: NaiveDate, days: u32) -> NaiveDate {
    let mut date = start;
    let mut left = days;
    while left > 0 {
        date = date + Days::new(1);
        if is_business_day(date) {
            left -= 1;
        }
    }
    date
}

/// Business days after `from` up to and including `to`; negative when `to`
/// is before `from`.
pub fn business_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return -business_days_between(to, from);
    }
    let whole_weeks = (to - from).num_days() / 7;
    let mut count = whole_weeks * 5;
    let mut date = from + Days::new(whole_weeks as u64 * 7);
    while date < to {
        date = date + Days::new(1);
        if is_business_day(date) {
            count += 1;
        }
    }
    count
}

crate::named! {
    /// Where a dispute stands against its service level.
    pub enum SlaStatus {
        /// Active, more than two business days left.
        OnTrack = "on_track",
        /// Active, two business days or fewer left.
        AtRisk = "at_risk",
        /// Active and past its due date.
        Breached = "breached",
        /// Closed by its due date.
        Met = "met",
        /// Closed after its due date.
        Missed = "missed",
    }
}

/// Business days left at which an active dispute is at risk.
pub const AT_RISK_BUSINESS_DAYS: i64 = 2;

pub fn sla_status(due_on: NaiveDate, as_of: NaiveDate, closed_on: Option<NaiveDate>) -> SlaStatus {
    match closed_on {
        Some(closed) if closed <= due_on => SlaStatus::Met,
        Some(_) => SlaStatus::Missed,
        None if as_of > due_on => SlaStatus::Breached,
        None if business_days_between(as_of, due_on) <= AT_RISK_BUSINESS_DAYS => SlaStatus::AtRisk,
        None => SlaStatus::OnTrack,
    }
}

/// A payment applied into an invoice's disputed part (a remittance naming
/// a disputed invoice): the customer paid what it disputed, so the disputed
/// amount may not stay above the open balance (R3). Given the invoice's
/// active disputes' amounts, oldest first, and what the invoice's disputed
/// total now exceeds its open balance by, how much each dispute gives up:
/// the oldest first, each at most its whole amount. A dispute that gives up
/// all of its amount is settled by the payment.
pub fn conceded_by_payment<T>(active_oldest_first: &[T], excess: T) -> Vec<T>
where
    T: Copy + Ord + Default + std::ops::Sub<Output = T>,
{
    let mut left = excess.max(T::default());
    active_oldest_first
        .iter()
        .map(|&amount| {
            let given_up = left.min(amount.max(T::default()));
            left = left - given_up;
            given_up
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::date;

    #[test]
    fn a_payment_into_disputed_amounts_takes_from_the_oldest_dispute_first() {
        assert_eq!(conceded_by_payment(&[300, 500], 400), [300, 100]);
        assert_eq!(conceded_by_payment(&[300, 500], 0), [0, 0]);
        assert_eq!(conceded_by_payment(&[300, 500], -5), [0, 0]);
        assert_eq!(
            conceded_by_payment(&[300, 500], 2000),
            [300, 500],
            "never more than a dispute's amount"
        );
    }

    #[test]
    fn only_the_documented_moves_are_allowed() {
        use DisputeStatus::*;
        let allowed = [
            (Open, InReview),
            (Open, Withdrawn),
            (InReview, ResolvedCredit),
            (InReview, ResolvedRejected),
            (InReview, Withdrawn),
        ];
        for &from in DisputeStatus::ALL {
            for &to in DisputeStatus::ALL {
                assert_eq!(
                    from.move_to(to).is_ok(),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
        let error = Open.move_to(ResolvedCredit).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a dispute cannot move from open to resolved_credit"
        );
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for &status in DisputeStatus::ALL {
            assert_eq!(DisputeStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DisputeStatus::parse("closed"), None);
    }

    #[test]
    fn business_days_skip_weekends() {
        // 2025-06-30 is a Monday.
        assert_eq!(
            add_business_days(date("2025-06-30"), 10),
            date("2025-07-14")
        );
        assert_eq!(add_business_days(date("2025-07-04"), 1), date("2025-07-07"));
        assert_eq!(add_business_days(date("2025-07-05"), 1), date("2025-07-07"));
        assert_eq!(add_business_days(date("2025-07-05"), 0), date("2025-07-05"));
    }

    #[test]
    fn counting_business_days_inverts_adding_them() {
        let start = date("2025-06-27");
        for days in 0..40 {
            let due = add_business_days(start, days);
            assert_eq!(business_days_between(start, due), i64::from(days));
            assert_eq!(business_days_between(due, start), -i64::from(days));
        }
        assert_eq!(
            business_days_between(date("2025-07-05"), date("2025-07-06")),
            0
        );
    }

    #[test]
    fn sla_status_by_business_days_left() {
        let due = date("2025-07-14"); // a Monday
        assert_eq!(
            sla_status(due, date("2025-07-09"), None),
            SlaStatus::OnTrack
        );
        assert_eq!(sla_status(due, date("2025-07-10"), None), SlaStatus::AtRisk);
        assert_eq!(sla_status(due, date("2025-07-14"), None), SlaStatus::AtRisk);
        assert_eq!(
            sla_status(due, date("2025-07-15"), None),
            SlaStatus::Breached
        );
        let closed_late = Some(date("2025-07-15"));
        assert_eq!(
            sla_status(due, date("2025-08-01"), closed_late),
            SlaStatus::Missed
        );
        let closed_on_time = Some(date("2025-07-14"));
        assert_eq!(
            sla_status(due, date("2025-08-01"), closed_on_time),
            SlaStatus::Met
        );
    }
}
