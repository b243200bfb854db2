//! R1, the order-hold check: every check is evaluated and every failing
//! reason returned, with the figures behind the decision.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Currency;
use crate::account::Account;
use crate::policy::Policy;

crate::named! {
    pub enum ReasonCode {
        AccountOnHold = "ACCOUNT_ON_HOLD",
        NoCreditLimit = "NO_CREDIT_LIMIT",
        CreditLimitExceeded = "CREDIT_LIMIT_EXCEEDED",
        PastDue = "PAST_DUE",
        /// Not a failure: the customer is exempt and was released regardless.
        Exempt = "EXEMPT",
        /// The desk does not know the customer yet: the order waits for it.
        UnknownCustomer = "UNKNOWN_CUSTOMER",
        /// The order is not in the currency the customer is billed in.
        CurrencyMismatch = "CURRENCY_MISMATCH",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
}

crate::named! {
    pub enum OrderStatus {
        Released = "released",
        Held = "held",
        Cancelled = "cancelled",
        Invoiced = "invoiced",
        /// Released by an associate beyond what they may release alone:
        /// held until a manager approves (or rejects) the release.
        PendingApproval = "pending_approval",
    }
}

/// The outcome of a hold check and the figures it was based on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// `Released` or `Held`.
    pub status: OrderStatus,
    pub reasons: Vec<Reason>,
    /// Exposure including the order checked.
    pub exposure: Decimal,
    pub credit_limit: Option<Decimal>,
    /// Limit − exposure; `None` without a limit.
    pub available: Option<Decimal>,
    /// Undisputed balance past the grace days.
    pub past_due: Decimal,
}

impl Decision {
    pub fn is_released(&self) -> bool {
        self.status == OrderStatus::Released
    }
}

/// Checks a new or changed order of `amount` against the account.
pub fn check_order(
    account: &Account,
    amount: Decimal,
    as_of: NaiveDate,
    policy: &Policy,
) -> Decision {
    let exposure = account.exposure() + amount;
    let grace_days = account.grace_days(policy);
    let past_due = account.past_due(as_of, grace_days);
    let available = account.credit_limit.map(|limit| limit - exposure);
    let reasons = if account.exempt {
        vec![Reason {
            code: ReasonCode::Exempt,
            detail: "customer is exempt from credit checks (prepaid or cash); released".into(),
            amount: None,
        }]
    } else {
        failing_reasons(account, exposure, past_due, grace_days, policy)
    };
    let held = reasons.iter().any(|r| r.code != ReasonCode::Exempt);
    Decision {
        status: if held {
            OrderStatus::Held
        } else {
            OrderStatus::Released
        },
        reasons,
        exposure,
        credit_limit: account.credit_limit,
        available,
        past_due,
    }
}

fn failing_reasons(
    account: &Account,
    exposure: Decimal,
    past_due: Decimal,
    grace_days: u32,
    policy: &Policy,
) -> Vec<Reason> {
    let mut reasons = vec![];
    if account.on_hold {
        reasons.push(Reason {
            code: ReasonCode::AccountOnHold,
            detail: "the account is on credit hold".into(),
            amount: None,
        });
    }
    match account.credit_limit {
        None if policy.hold_when_no_limit => reasons.push(Reason {
            code: ReasonCode::NoCreditLimit,
            detail: "no credit limit is set for this customer".into(),
            amount: None,
        }),
        Some(limit) if exposure > limit => reasons.push(Reason {
            code: ReasonCode::CreditLimitExceeded,
            detail: format!(
                "exposure {exposure} exceeds the credit limit {limit} by {}",
                exposure - limit
            ),
            amount: Some(exposure - limit),
        }),
        _ => {}
    }
    if past_due > policy.past_due_tolerance {
        reasons.push(Reason {
            code: ReasonCode::PastDue,
            detail: format!(
                "{past_due} is more than {grace_days} days past due (tolerance {})",
                policy.past_due_tolerance
            ),
            amount: Some(past_due),
        });
    }
    reasons
}

/// The hold on an order the desk cannot check: its customer is unknown.
/// It is checked when the customer arrives.
pub fn unknown_customer(customer_id: &str) -> Decision {
    cannot_check(Reason {
        code: ReasonCode::UnknownCustomer,
        detail: format!(
            "customer '{customer_id}' is not known to credit yet; the order is checked when it arrives"
        ),
        amount: None,
    })
}

/// The hold on an order in another currency than its customer's. It is
/// checked again when the order or the customer changes.
pub fn currency_mismatch(customer_currency: Currency, order_currency: Currency) -> Decision {
    cannot_check(Reason {
        code: ReasonCode::CurrencyMismatch,
        detail: format!(
            "the customer is billed in {customer_currency}; the order is in {order_currency}"
        ),
        amount: None,
    })
}

fn cannot_check(reason: Reason) -> Decision {
    Decision {
        status: OrderStatus::Held,
        reasons: vec![reason],
        exposure: Decimal::ZERO,
        credit_limit: None,
        available: None,
        past_due: Decimal::ZERO,
    }
}

/// A held order waiting for a re-check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldOrder {
    pub id: String,
    pub amount: Decimal,
}

/// Re-checks held orders oldest first (as given). Each order released in
/// the pass counts in the exposure of the next, as SAP's RVKRED06 does.
pub fn recheck_held_orders(
    account: &Account,
    held_oldest_first: &[HeldOrder],
    as_of: NaiveDate,
    policy: &Policy,
) -> Vec<(HeldOrder, Decision)> {
    let mut account = account.clone();
    held_oldest_first
        .iter()
        .map(|order| {
            let decision = check_order(&account, order.amount, as_of, policy);
            if decision.is_released() {
                account.released_orders_total += order.amount;
            }
            (order.clone(), decision)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{date, invoice, usd_account};
    use rust_decimal::dec;

    const AS_OF: &str = "2025-06-30";

    fn codes(decision: &Decision) -> Vec<ReasonCode> {
        decision.reasons.iter().map(|r| r.code).collect()
    }

    /// Case 1's account: L 50,000; INV-1001 15,000 due 07-10; another
    /// released order of 5,000.
    fn case_1_account() -> Account {
        let mut account = usd_account(Some(dec!(50000)));
        account.invoices = vec![invoice("INV-1001", "2025-07-10", dec!(15000))];
        account.released_orders_total = dec!(5000);
        account
    }

    fn check(account: &Account, amount: Decimal) -> Decision {
        check_order(account, amount, date(AS_OF), &Policy::default())
    }

    #[test]
    fn case_1_within_the_limit_is_released() {
        let decision = check(&case_1_account(), dec!(20000));
        assert_eq!(decision.status, OrderStatus::Released);
        assert!(decision.reasons.is_empty());
        assert_eq!(decision.exposure, dec!(40000));
        assert_eq!(decision.available, Some(dec!(10000)));
        assert_eq!(decision.past_due, dec!(0));
    }

    #[test]
    fn case_2_over_the_limit_is_held() {
        let decision = check(&case_1_account(), dec!(31000));
        assert_eq!(decision.status, OrderStatus::Held);
        assert_eq!(codes(&decision), [ReasonCode::CreditLimitExceeded]);
        assert_eq!(decision.exposure, dec!(51000));
        assert_eq!(decision.available, Some(dec!(-1000)));
        assert_eq!(decision.reasons[0].amount, Some(dec!(1000)));
    }

    #[test]
    fn case_3_exposure_equal_to_the_limit_passes() {
        let decision = check(&case_1_account(), dec!(30000));
        assert_eq!(decision.status, OrderStatus::Released);
        assert_eq!(decision.exposure, dec!(50000));
        assert_eq!(decision.available, Some(dec!(0)));
    }

    #[test]
    fn case_4_past_due_within_grace_is_released() {
        let mut account = case_1_account();
        account
            .invoices
            .push(invoice("INV-0990", "2025-06-26", dec!(2000)));
        let decision = check(&account, dec!(20000));
        assert_eq!(decision.status, OrderStatus::Released);
        assert_eq!(decision.exposure, dec!(42000));
    }

    #[test]
    fn case_5_past_due_beyond_grace_is_held() {
        let mut account = case_1_account();
        account
            .invoices
            .push(invoice("INV-0980", "2025-06-24", dec!(2000)));
        let decision = check(&account, dec!(20000));
        assert_eq!(decision.status, OrderStatus::Held);
        assert_eq!(codes(&decision), [ReasonCode::PastDue]);
        assert_eq!(decision.past_due, dec!(2000));
        assert_eq!(decision.reasons[0].amount, Some(dec!(2000)));
    }

    #[test]
    fn case_6_every_failing_reason_is_returned() {
        let mut account = case_1_account();
        account
            .invoices
            .push(invoice("INV-0980", "2025-06-24", dec!(2000)));
        let decision = check(&account, dec!(31000));
        assert_eq!(
            codes(&decision),
            [ReasonCode::CreditLimitExceeded, ReasonCode::PastDue]
        );
    }

    #[test]
    fn case_7_disputed_part_is_not_past_due() {
        let mut account = usd_account(Some(dec!(50000)));
        account.invoices =
            vec![invoice("INV-0971", "2025-05-15", dec!(5000)).disputing(dec!(1200))];
        let decision = check(&account, dec!(100));
        assert_eq!(codes(&decision), [ReasonCode::PastDue]);
        assert_eq!(decision.past_due, dec!(3800));
        assert_eq!(decision.exposure, dec!(5100), "disputed stays in exposure");
    }

    #[test]
    fn due_exactly_grace_days_ago_is_not_past_due() {
        let mut account = usd_account(Some(dec!(50000)));
        account.invoices = vec![invoice("X", "2025-06-25", dec!(10))];
        assert_eq!(check(&account, dec!(1)).status, OrderStatus::Released);
    }

    #[test]
    fn past_due_up_to_the_tolerance_passes() {
        let mut account = usd_account(Some(dec!(50000)));
        account.invoices = vec![invoice("X", "2025-06-01", dec!(50))];
        let policy = Policy {
            past_due_tolerance: dec!(50),
            ..Policy::default()
        };
        let decision = check_order(&account, dec!(1), date(AS_OF), &policy);
        assert_eq!(decision.status, OrderStatus::Released);
        assert_eq!(decision.past_due, dec!(50));
        account.invoices[0].open = dec!(50.01);
        let decision = check_order(&account, dec!(1), date(AS_OF), &policy);
        assert_eq!(codes(&decision), [ReasonCode::PastDue]);
    }

    #[test]
    fn unapplied_cash_lowers_exposure() {
        let mut account = usd_account(Some(dec!(10000)));
        account.unapplied_cash = dec!(500);
        let decision = check(&account, dec!(10400));
        assert_eq!(decision.status, OrderStatus::Released);
        assert_eq!(decision.exposure, dec!(9900));
    }

    #[test]
    fn account_on_hold_is_held_whatever_the_figures() {
        let mut account = usd_account(Some(dec!(50000)));
        account.on_hold = true;
        assert_eq!(
            codes(&check(&account, dec!(1))),
            [ReasonCode::AccountOnHold]
        );
    }

    #[test]
    fn no_limit_holds_only_when_the_policy_says_so() {
        let account = usd_account(None);
        let decision = check(&account, dec!(1));
        assert_eq!(codes(&decision), [ReasonCode::NoCreditLimit]);
        assert_eq!(decision.available, None);
        let lenient = Policy {
            hold_when_no_limit: false,
            ..Policy::default()
        };
        let decision = check_order(&account, dec!(1_000_000), date(AS_OF), &lenient);
        assert_eq!(decision.status, OrderStatus::Released);
    }

    #[test]
    fn customer_grace_days_override_the_policy() {
        let mut account = case_1_account();
        account
            .invoices
            .push(invoice("INV-0990", "2025-06-26", dec!(2000)));
        account.grace_days = Some(2);
        assert_eq!(codes(&check(&account, dec!(1))), [ReasonCode::PastDue]);
    }

    #[test]
    fn exempt_customers_are_released_with_the_reason_recorded() {
        let mut account = usd_account(Some(dec!(10)));
        account.exempt = true;
        account.on_hold = true;
        account
            .invoices
            .push(invoice("OLD", "2024-01-01", dec!(2000)));
        let decision = check(&account, dec!(5000));
        assert_eq!(decision.status, OrderStatus::Released);
        assert_eq!(codes(&decision), [ReasonCode::Exempt]);
        assert_eq!(decision.exposure, dec!(7000));
    }

    #[test]
    fn case_10_recheck_counts_each_release_for_the_next_order() {
        let mut account = usd_account(Some(dec!(25000)));
        account.invoices = vec![invoice("AR", "2025-07-30", dec!(16000))];
        let held = [
            HeldOrder {
                id: "SO-10".into(),
                amount: dec!(5000),
            },
            HeldOrder {
                id: "SO-11".into(),
                amount: dec!(6000),
            },
        ];
        let results = recheck_held_orders(&account, &held, date(AS_OF), &Policy::default());
        assert_eq!(results[0].1.status, OrderStatus::Released);
        assert_eq!(results[0].1.exposure, dec!(21000));
        assert_eq!(results[1].1.status, OrderStatus::Held);
        assert_eq!(results[1].1.exposure, dec!(27000));

        account.credit_limit = Some(dec!(30000));
        let results = recheck_held_orders(&account, &held, date(AS_OF), &Policy::default());
        assert!(results.iter().all(|(_, d)| d.is_released()));
    }

    #[test]
    fn orders_the_desk_cannot_check_are_held_with_their_reason() {
        let decision = unknown_customer("C-404");
        assert_eq!(decision.status, OrderStatus::Held);
        assert_eq!(codes(&decision), [ReasonCode::UnknownCustomer]);
        assert!(decision.reasons[0].detail.contains("C-404"));
        let usd = Currency::parse("USD").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let decision = currency_mismatch(usd, eur);
        assert_eq!(codes(&decision), [ReasonCode::CurrencyMismatch]);
        assert_eq!(
            decision.reasons[0].detail,
            "the customer is billed in USD; the order is in EUR"
        );
    }

    #[test]
    fn decisions_serialise_with_string_amounts_and_screaming_codes() {
        let json = serde_json::to_value(check(&case_1_account(), dec!(31000))).unwrap();
        assert_eq!(json["status"], "held");
        assert_eq!(json["reasons"][0]["code"], "CREDIT_LIMIT_EXCEEDED");
        assert_eq!(json["exposure"], "51000");
    }
}
