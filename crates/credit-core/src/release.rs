//! Four-eyes releases: a release by hand that a manager must approve. An
//! associate may release an order alone unless its amount is above the
//! policy's threshold for its currency or the account is on credit hold;
//! a manager's own release is immediate.

use rust_decimal::Decimal;

use crate::Currency;
use crate::hold::{Reason, ReasonCode};
use crate::policy::Policy;

/// Why a release by hand waits for a manager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NeedsApproval {
    /// The order is above the threshold for its currency.
    AboveThreshold { threshold: Decimal },
    /// The order is held because the account is on credit hold.
    AccountOnHold,
}

impl NeedsApproval {
    /// A sentence for the person who asked.
    pub fn explain(&self, currency: Currency) -> String {
        match self {
            NeedsApproval::AboveThreshold { threshold } => {
                format!("releases above {threshold} {currency} need a manager's approval")
            }
            NeedsApproval::AccountOnHold => {
                "orders of an account on credit hold need a manager's approval".to_string()
            }
        }
    }
}

/// Whether a release by hand of an order of `amount` in `currency`, held
/// for `reasons`, waits for a manager. `None`: it may go at once.
pub fn needs_approval(
    by_manager: bool,
    amount: Decimal,
    currency: Currency,
    reasons: &[Reason],
    policy: &Policy,
) -> Option<NeedsApproval> {
    if by_manager {
        return None;
    }
    if reasons.iter().any(|r| r.code == ReasonCode::AccountOnHold) {
        return Some(NeedsApproval::AccountOnHold);
    }
    let threshold = policy.release_approval_threshold(currency)?;
    (amount > threshold).then_some(NeedsApproval::AboveThreshold { threshold })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn held_for(code: ReasonCode) -> Vec<Reason> {
        vec![Reason {
            code,
            detail: String::new(),
            amount: None,
        }]
    }

    fn policy_with_usd_threshold(threshold: Decimal) -> Policy {
        let mut policy = Policy::default();
        policy
            .release_approval_thresholds
            .insert("USD".into(), threshold);
        policy
    }

    #[test]
    fn without_thresholds_an_associate_releases_alone() {
        let reasons = held_for(ReasonCode::CreditLimitExceeded);
        let policy = Policy::default();
        assert_eq!(
            needs_approval(false, dec!(1000000), usd(), &reasons, &policy),
            None
        );
    }

    #[test]
    fn above_the_threshold_an_associate_needs_approval_and_at_it_does_not() {
        let policy = policy_with_usd_threshold(dec!(25000.00));
        let reasons = held_for(ReasonCode::PastDue);
        assert_eq!(
            needs_approval(false, dec!(25000.00), usd(), &reasons, &policy),
            None
        );
        let needed = needs_approval(false, dec!(25000.01), usd(), &reasons, &policy);
        assert_eq!(
            needed,
            Some(NeedsApproval::AboveThreshold {
                threshold: dec!(25000.00)
            })
        );
        assert_eq!(
            needed.unwrap().explain(usd()),
            "releases above 25000.00 USD need a manager's approval"
        );
    }

    #[test]
    fn a_threshold_holds_only_for_its_own_currency() {
        let policy = policy_with_usd_threshold(dec!(100));
        let eur = Currency::parse("EUR").unwrap();
        let reasons = held_for(ReasonCode::PastDue);
        assert_eq!(
            needs_approval(false, dec!(5000), eur, &reasons, &policy),
            None
        );
    }

    #[test]
    fn an_account_on_hold_needs_approval_whatever_the_amount() {
        let reasons = held_for(ReasonCode::AccountOnHold);
        assert_eq!(
            needs_approval(false, dec!(1), usd(), &reasons, &Policy::default()),
            Some(NeedsApproval::AccountOnHold)
        );
    }

    #[test]
    fn a_manager_releases_at_once() {
        let policy = policy_with_usd_threshold(dec!(100));
        let reasons = held_for(ReasonCode::AccountOnHold);
        assert_eq!(
            needs_approval(true, dec!(5000), usd(), &reasons, &policy),
            None
        );
    }
}
