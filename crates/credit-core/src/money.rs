//! Money: ISO 4217 currencies with their minor units, amounts as exact
//! decimals, and the conversion to the integer minor units the ledger stores.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy, dec};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount accepted anywhere: a trillion in any currency keeps
/// every sum of minor units far inside an `i64`.
pub const MAX_AMOUNT: Decimal = dec!(1000000000000);

/// An ISO 4217 currency that has minor units (USD 2, JPY 0, KWD 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    iso: iso_currency::Currency,
    minor_units: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("'{0}' is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("{0} has no minor units and cannot be used for invoices")]
    NotACashCurrency(String),
    #[error(
        "'{0}' is not a decimal amount (expected digits with an optional '.', e.g. \"1250.00\")"
    )]
    NotAnAmount(String),
    #[error("{currency} amounts have at most {allowed} decimal places")]
    TooManyDecimals { currency: String, allowed: u32 },
    #[error("amount must not be negative")]
    Negative,
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("amount is larger than the maximum of 1000000000000")]
    TooLarge,
}

impl Currency {
    /// A currency from its upper-case ISO 4217 code.
    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        let is_code = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
        let iso = is_code
            .then(|| iso_currency::Currency::from_code(code))
            .flatten()
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))?;
        let minor_units = iso
            .exponent()
            .ok_or_else(|| MoneyError::NotACashCurrency(code.to_string()))?;
        Ok(Currency {
            iso,
            minor_units: u32::from(minor_units),
        })
    }

    pub fn code(&self) -> &'static str {
        self.iso.code()
    }

    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }

    /// A computed amount rounded half-even to the currency's minor units.
    pub fn round(&self, amount: Decimal) -> Decimal {
        let mut rounded =
            amount.round_dp_with_strategy(self.minor_units, RoundingStrategy::MidpointNearestEven);
        rounded.rescale(self.minor_units);
        rounded
    }

    /// Zero, written with the currency's minor units ("0.00").
    pub fn zero(&self) -> Decimal {
        Decimal::new(0, self.minor_units)
    }

    /// Parses an amount as it comes from outside (the ERP, a person): a plain
    /// decimal, never re-rounded, with no more decimals than the currency has.
    /// Negative amounts are refused; zero is allowed.
    pub fn parse_amount(&self, text: &str) -> Result<Decimal, MoneyError> {
        let not_an_amount = || MoneyError::NotAnAmount(truncate(text));
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let well_formed = !whole.is_empty()
            && digits_only(whole)
            && digits_only(fraction)
            && (fraction.is_empty() != unsigned.contains('.'));
        if !well_formed {
            return Err(not_an_amount());
        }
        if fraction.len() > self.minor_units as usize {
            return Err(MoneyError::TooManyDecimals {
                currency: self.code().to_string(),
                allowed: self.minor_units,
            });
        }
        // 13 whole digits is already past MAX_AMOUNT; longer text is refused
        // before it can overflow the decimal type.
        if whole.trim_start_matches('0').len() > 13 {
            return Err(MoneyError::TooLarge);
        }
        let mut amount = Decimal::from_str(text).map_err(|_| not_an_amount())?;
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative);
        }
        if amount > MAX_AMOUNT {
            return Err(MoneyError::TooLarge);
        }
        amount.set_sign_positive(true);
        amount.rescale(self.minor_units);
        Ok(amount)
    }

    /// Like [`Currency::parse_amount`], and the amount must be above zero.
    pub fn parse_positive_amount(&self, text: &str) -> Result<Decimal, MoneyError> {
        let amount = self.parse_amount(text)?;
        if amount.is_zero() {
            return Err(MoneyError::NotPositive);
        }
        Ok(amount)
    }

    /// The amount in minor units (USD 12.34 is 1234). The amount must
    /// already have no more decimals than the currency allows.
    pub fn to_minor(&self, amount: Decimal) -> i64 {
        let mut scaled = self.round(amount);
        scaled.set_scale(0).expect("scale 0 is always valid");
        i64::try_from(scaled).expect("amounts are bounded by MAX_AMOUNT")
    }

    pub fn from_minor(&self, minor: i64) -> Decimal {
        Decimal::new(minor, self.minor_units)
    }

    /// A sum of many amounts, in minor units. Exact for any sum of amounts
    /// up to [`MAX_AMOUNT`] a database can hold (a decimal keeps 28 digits).
    pub fn from_minor_sum(&self, minor: i128) -> Decimal {
        Decimal::from_i128_with_scale(minor, self.minor_units)
    }
}

/// Error messages quote what was sent, but never at unbounded length.
fn truncate(text: &str) -> String {
    const LIMIT: usize = 40;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::parse(code)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn currencies_know_their_minor_units() {
        assert_eq!(usd().minor_units(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
    }

    #[test]
    fn unknown_and_non_cash_currencies_are_refused() {
        for code in ["usd", "US", "USDX", "ZZZ", ""] {
            assert!(matches!(
                Currency::parse(code),
                Err(MoneyError::UnknownCurrency(_))
            ));
        }
        assert!(matches!(
            Currency::parse("XAU"),
            Err(MoneyError::NotACashCurrency(_))
        ));
    }

    #[test]
    fn amounts_keep_their_value_and_gain_the_currency_scale() {
        assert_eq!(usd().parse_amount("1250").unwrap().to_string(), "1250.00");
        assert_eq!(usd().parse_amount("0.5").unwrap().to_string(), "0.50");
        assert_eq!(usd().parse_amount("-0").unwrap().to_string(), "0.00");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.parse_amount("1500").unwrap().to_string(), "1500");
    }

    #[test]
    fn more_decimals_than_the_currency_has_are_refused_not_rounded() {
        assert_eq!(
            usd().parse_amount("10.005"),
            Err(MoneyError::TooManyDecimals {
                currency: "USD".into(),
                allowed: 2
            })
        );
        let jpy = Currency::parse("JPY").unwrap();
        assert!(matches!(
            jpy.parse_amount("10.5"),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        let thirty_places = format!("1.{}", "1".repeat(30));
        assert!(matches!(
            usd().parse_amount(&thirty_places),
            Err(MoneyError::TooManyDecimals { .. })
        ));
    }

    #[test]
    fn malformed_negative_and_absurd_amounts_are_refused() {
        for text in [
            "", "abc", "1e400", "1e3", "+5", " 5", "5 ", "1,000.00", "1.", ".5", "0x10", "NaN",
            "1.2.3", "--1",
        ] {
            assert!(
                matches!(usd().parse_amount(text), Err(MoneyError::NotAnAmount(_))),
                "{text:?}"
            );
        }
        assert_eq!(usd().parse_amount("-1.00"), Err(MoneyError::Negative));
        assert_eq!(
            usd().parse_amount(&"9".repeat(400)),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            usd().parse_amount("1000000000000.01"),
            Err(MoneyError::TooLarge)
        );
        assert!(usd().parse_amount("1000000000000.00").is_ok());
        assert_eq!(
            usd().parse_positive_amount("0.00"),
            Err(MoneyError::NotPositive)
        );
    }

    #[test]
    fn error_messages_do_not_echo_huge_input() {
        let error = usd().parse_amount(&"x".repeat(10_000)).unwrap_err();
        assert!(error.to_string().len() < 200);
    }

    #[test]
    fn rounding_is_half_even_to_minor_units() {
        assert_eq!(usd().round(dec!(2.345)), dec!(2.34));
        assert_eq!(usd().round(dec!(2.355)), dec!(2.36));
        assert_eq!(usd().round(dec!(-2.345)), dec!(-2.34));
        assert_eq!(usd().round(dec!(7)).to_string(), "7.00");
    }

    #[test]
    fn minor_units_round_trip() {
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(kwd.to_minor(dec!(12.345)), 12345);
        assert_eq!(kwd.from_minor(12345), dec!(12.345));
        assert_eq!(usd().to_minor(dec!(0.07)), 7);
        assert_eq!(usd().from_minor(-150).to_string(), "-1.50");
        assert_eq!(usd().to_minor(MAX_AMOUNT), 100_000_000_000_000);
    }
}
