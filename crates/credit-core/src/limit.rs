//! R4, credit-limit requests: who may decide, and how low a limit may go.

use rust_decimal::Decimal;

use crate::account::Account;

crate::named! {
    pub enum RequestStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        /// Left undecided: the limit was set directly (a manager or the
        /// ERP put the customer with another limit) while it was pending.
        Superseded = "superseded",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("this request was already {}", .0.as_str())]
    AlreadyDecided(RequestStatus),
    #[error("a manager cannot decide their own request")]
    OwnRequest,
    #[error(
        "a credit limit of {limit} is below the customer's outstanding {minimum} (open AR plus released, unbilled orders); the minimum is {minimum}"
    )]
    BelowOutstanding { limit: Decimal, minimum: Decimal },
}

/// Checks that `decider` may decide a request in `status` made by `requester`.
pub fn may_decide(status: RequestStatus, requester: &str, decider: &str) -> Result<(), LimitError> {
    if status != RequestStatus::Pending {
        return Err(LimitError::AlreadyDecided(status));
    }
    if requester == decider {
        return Err(LimitError::OwnRequest);
    }
    Ok(())
}

/// A new limit may not be below what the customer already has outstanding.
pub fn check_new_limit(account: &Account, limit: Decimal) -> Result<(), LimitError> {
    let minimum = account.outstanding();
    if limit < minimum {
        return Err(LimitError::BelowOutstanding { limit, minimum });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{invoice, usd_account};
    use rust_decimal::dec;

    #[test]
    fn only_someone_else_decides_a_pending_request() {
        assert_eq!(may_decide(RequestStatus::Pending, "alice", "maria"), Ok(()));
        assert_eq!(
            may_decide(RequestStatus::Pending, "maria", "maria"),
            Err(LimitError::OwnRequest)
        );
        assert_eq!(
            may_decide(RequestStatus::Approved, "alice", "maria"),
            Err(LimitError::AlreadyDecided(RequestStatus::Approved))
        );
    }

    #[test]
    fn a_limit_below_outstanding_is_refused_naming_the_minimum() {
        let mut account = usd_account(Some(dec!(20000)));
        account.invoices = vec![invoice("AR", "2025-07-30", dec!(16000))];
        account.released_orders_total = dec!(3000);
        account.unapplied_cash = dec!(500);
        assert_eq!(check_new_limit(&account, dec!(19000)), Ok(()));
        let error = check_new_limit(&account, dec!(18999.99)).unwrap_err();
        assert_eq!(
            error,
            LimitError::BelowOutstanding {
                limit: dec!(18999.99),
                minimum: dec!(19000)
            }
        );
        assert!(error.to_string().contains("the minimum is 19000"));
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for &status in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(status.as_str()), Some(status));
        }
    }
}
