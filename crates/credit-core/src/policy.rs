//! The credit policy a manager edits: grace days, tolerance, what happens
//! without a limit, dispute service levels, dunning.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, dec};
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::dunning::DunningPolicy;
use crate::money::{Currency, MAX_AMOUNT};

/// Longest grace or service level accepted, in days.
const MAX_DAYS: u32 = 365;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Days after the due date before an invoice counts as past due.
    pub grace_days: u32,
    /// Past-due amounts up to this much do not hold an order.
    #[serde(with = "plain_decimal")]
    pub past_due_tolerance: Decimal,
    /// Hold orders of customers without a credit limit.
    pub hold_when_no_limit: bool,
    /// Business days to resolve a dispute.
    pub dispute_sla_business_days: u32,
    /// Service levels for particular reason codes.
    pub dispute_sla_by_reason: BTreeMap<String, u32>,
    /// Days the ERP's event feed keeps an event (at least 30).
    pub event_retention_days: u32,
    /// Days a webhook message's or an Idempotency-Key's first answer is
    /// kept to answer a retry with.
    pub request_retention_days: u32,
    /// Per currency code: an associate's release by hand of an order above
    /// this amount waits for a manager's approval (none by default).
    #[serde(with = "plain_decimal_map")]
    pub release_approval_thresholds: BTreeMap<String, Decimal>,
    /// Reminder letters: the levels, who signs, how to pay, the paper.
    pub dunning: DunningPolicy,
}

/// The shortest and longest request retention accepted, in days.
const REQUEST_RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=365;

/// The shortest and longest event retention accepted, in days.
const EVENT_RETENTION_DAYS: std::ops::RangeInclusive<u32> = 30..=3650;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            grace_days: 5,
            past_due_tolerance: dec!(0.00),
            hold_when_no_limit: true,
            dispute_sla_business_days: 10,
            dispute_sla_by_reason: BTreeMap::new(),
            event_retention_days: 30,
            request_retention_days: 7,
            release_approval_thresholds: BTreeMap::new(),
            dunning: DunningPolicy::default(),
        }
    }
}

/// An amount written as the API writes amounts: digits with an optional
/// fraction (`"25.00"`), or a negative one (which `validate` refuses), but
/// no `+`, exponent, `_` separators or bare `.` that `Decimal` would also
/// read.
mod plain_decimal {
    use std::str::FromStr;

    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str::serialize(value, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(deserializer)?;
        let unsigned = text.strip_prefix('-').unwrap_or(&text);
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(whole) && digits(fraction)) {
            return Err(de::Error::custom(format!(
                "{text:?} is not a decimal amount (expected digits with an optional '.', e.g. \"25.00\")"
            )));
        }
        let value = Decimal::from_str(&text).map_err(de::Error::custom)?;
        // `Decimal` keeps 28 decimals and rounds the rest away: refuse
        // rather than keep a value other than the one sent.
        if unsigned.contains('.') && value.scale() as usize != fraction.len() {
            return Err(de::Error::custom(format!(
                "{text:?} has more decimals than can be kept exactly"
            )));
        }
        Ok(value)
    }
}

/// Amounts by key, each written as [`plain_decimal`] writes one.
mod plain_decimal_map {
    use std::collections::BTreeMap;

    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    struct Plain(#[serde(with = "super::plain_decimal")] Decimal);

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(map.iter().map(|(key, value)| (key, value.to_string())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, Decimal>, D::Error> {
        let map = BTreeMap::<String, Plain>::deserialize(deserializer)?;
        Ok(map
            .into_iter()
            .map(|(key, Plain(value))| (key, value))
            .collect())
    }
}

impl Policy {
    /// Every problem with the policy, each naming its field.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = vec![];
        if self.grace_days > MAX_DAYS {
            errors.push(FieldError::new(
                "grace_days",
                format!("must be at most {MAX_DAYS}"),
            ));
        }
        if self.past_due_tolerance.is_sign_negative() || self.past_due_tolerance > MAX_AMOUNT {
            errors.push(FieldError::new(
                "past_due_tolerance",
                "must be between 0 and 1000000000000",
            ));
        }
        if !(1..=MAX_DAYS).contains(&self.dispute_sla_business_days) {
            errors.push(FieldError::new(
                "dispute_sla_business_days",
                format!("must be between 1 and {MAX_DAYS}"),
            ));
        }
        if !EVENT_RETENTION_DAYS.contains(&self.event_retention_days) {
            errors.push(FieldError::new(
                "event_retention_days",
                format!(
                    "must be between {} and {}",
                    EVENT_RETENTION_DAYS.start(),
                    EVENT_RETENTION_DAYS.end()
                ),
            ));
        }
        if !REQUEST_RETENTION_DAYS.contains(&self.request_retention_days) {
            errors.push(FieldError::new(
                "request_retention_days",
                format!(
                    "must be between {} and {}",
                    REQUEST_RETENTION_DAYS.start(),
                    REQUEST_RETENTION_DAYS.end()
                ),
            ));
        }
        for (reason, days) in &self.dispute_sla_by_reason {
            if !crate::is_valid_code(reason) {
                errors.push(FieldError::new(
                    format!("dispute_sla_by_reason.{reason}"),
                    "reason codes are 1-40 letters, digits, '_' or '-'",
                ));
            } else if !(1..=MAX_DAYS).contains(days) {
                errors.push(FieldError::new(
                    format!("dispute_sla_by_reason.{reason}"),
                    format!("must be between 1 and {MAX_DAYS}"),
                ));
            }
        }
        for (code, threshold) in &self.release_approval_thresholds {
            if let Some(problem) = threshold_problem(code, *threshold) {
                errors.push(FieldError::new(
                    format!("release_approval_thresholds.{code}"),
                    problem,
                ));
            }
        }
        errors.extend(self.dunning.validate());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The amount above which an associate's release in `currency` needs a
    /// manager's approval, if there is one.
    pub fn release_approval_threshold(&self, currency: Currency) -> Option<Decimal> {
        self.release_approval_thresholds
            .get(currency.code())
            .copied()
    }

    /// The service level for a dispute with this reason code.
    pub fn sla_business_days(&self, reason_code: &str) -> u32 {
        self.dispute_sla_by_reason
            .get(reason_code)
            .copied()
            .unwrap_or(self.dispute_sla_business_days)
    }
}

/// What is wrong with a release threshold, if anything.
fn threshold_problem(code: &str, threshold: Decimal) -> Option<String> {
    let currency = match Currency::parse(code) {
        Ok(currency) => currency,
        Err(e) => return Some(e.to_string()),
    };
    if threshold.is_sign_negative() || threshold > MAX_AMOUNT {
        return Some("must be between 0 and 1000000000000".into());
    }
    (threshold.scale() > currency.minor_units()).then(|| {
        format!(
            "{code} amounts have at most {} decimal places",
            currency.minor_units()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let policy = Policy::default();
        assert_eq!(policy.grace_days, 5);
        assert_eq!(policy.past_due_tolerance, dec!(0));
        assert!(policy.hold_when_no_limit);
        assert_eq!(policy.dispute_sla_business_days, 10);
        assert_eq!(policy.event_retention_days, 30);
        assert_eq!(policy.request_retention_days, 7);
        assert!(policy.validate().is_ok());
    }

    #[test]
    fn missing_fields_take_defaults_and_unknown_fields_are_refused() {
        let policy: Policy = serde_json::from_str(r#"{"grace_days": 7}"#).unwrap();
        assert_eq!(policy.grace_days, 7);
        assert_eq!(policy.dispute_sla_business_days, 10);
        assert!(serde_json::from_str::<Policy>(r#"{"grace_dayz": 7}"#).is_err());
    }

    #[test]
    fn tolerance_travels_as_a_string() {
        let json = serde_json::to_value(Policy::default()).unwrap();
        assert_eq!(json["past_due_tolerance"], "0.00");
        let read = |text: &str| {
            serde_json::from_value::<Policy>(serde_json::json!({ "past_due_tolerance": text }))
                .map(|p| p.past_due_tolerance)
        };
        assert_eq!(read("25.50").unwrap(), dec!(25.50));
        assert_eq!(read("7").unwrap(), dec!(7));
        assert_eq!(read("-1").unwrap(), dec!(-1), "validate() names the sign");
        for loose in ["1e2", "+5", ".5", "5.", "1_0", " 5", "", "-"] {
            assert!(read(loose).is_err(), "{loose:?}");
        }
        let stored = serde_json::to_value(Policy {
            past_due_tolerance: dec!(0.0000000000000000000000000001),
            ..Policy::default()
        })
        .unwrap();
        assert!(serde_json::from_value::<Policy>(stored).is_ok());
        // Never rounded: 30 decimals cannot be kept, nor 13 digits and 19 decimals.
        for rounded in [
            "0.000000000000000000000000000001",
            "1.123456789012345678901234567890",
            "1000000000000.1234567890123456789",
        ] {
            assert!(read(rounded).is_err(), "{rounded}");
        }
    }

    #[test]
    fn release_thresholds_travel_as_strings_per_currency() {
        let policy: Policy = serde_json::from_value(serde_json::json!({
            "release_approval_thresholds": { "USD": "25000.00" }
        }))
        .unwrap();
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(policy.release_approval_threshold(usd), Some(dec!(25000.00)));
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(policy.release_approval_threshold(eur), None);
        let json = serde_json::to_value(&policy).unwrap();
        assert_eq!(json["release_approval_thresholds"]["USD"], "25000.00");
        let loose = serde_json::json!({ "release_approval_thresholds": { "USD": 25000 } });
        assert!(serde_json::from_value::<Policy>(loose).is_err());
    }

    #[test]
    fn reason_codes_override_the_service_level() {
        let mut policy = Policy::default();
        policy.dispute_sla_by_reason.insert("PRICING".into(), 3);
        assert_eq!(policy.sla_business_days("PRICING"), 3);
        assert_eq!(policy.sla_business_days("DAMAGED"), 10);
    }

    #[test]
    fn invalid_values_are_named() {
        let mut policy = Policy {
            grace_days: 400,
            past_due_tolerance: dec!(-1),
            dispute_sla_business_days: 0,
            event_retention_days: 29,
            request_retention_days: 0,
            ..Policy::default()
        };
        policy.dispute_sla_by_reason.insert("bad code!".into(), 3);
        policy.dispute_sla_by_reason.insert("LATE".into(), 0);
        let thresholds = &mut policy.release_approval_thresholds;
        thresholds.insert("usd".into(), dec!(1));
        thresholds.insert("EUR".into(), dec!(-1));
        thresholds.insert("JPY".into(), dec!(1.5));
        thresholds.insert("GBP".into(), dec!(25000.00));
        let fields: Vec<String> = policy
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "grace_days",
                "past_due_tolerance",
                "dispute_sla_business_days",
                "event_retention_days",
                "request_retention_days",
                "dispute_sla_by_reason.LATE",
                "dispute_sla_by_reason.bad code!",
                "release_approval_thresholds.EUR",
                "release_approval_thresholds.JPY",
                "release_approval_thresholds.usd",
            ]
        );
    }
}
