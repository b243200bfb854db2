//! The held-order trend: how many orders, and how much of each currency,
//! were held at the end of each day of a period, replayed from the orders'
//! decision history. Amounts of different currencies are never added up.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::Currency;
use crate::metrics::Period;

/// The longest period a trend covers, in days.
pub const MAX_TREND_DAYS: u32 = 366;

/// A decision on an order as far as holds go: on `on` the order became (or
/// stayed) held for `held`, or, with `None`, stopped being held (released,
/// cancelled or invoiced).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldEvent {
    pub order_id: String,
    pub on: NaiveDate,
    pub currency: Currency,
    pub held: Option<Decimal>,
}

/// An order held when the period begins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldAtStart {
    pub order_id: String,
    pub currency: Currency,
    pub amount: Decimal,
}

/// The orders of one currency held at the end of a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldValue {
    pub currency: Currency,
    pub orders: usize,
    pub value: Decimal,
}

/// The orders held at the end of one day: in all, and per currency (every
/// currency with held orders on some day of the period, zero included, by
/// currency code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldDay {
    pub date: NaiveDate,
    pub orders: usize,
    pub currencies: Vec<HeldValue>,
}

/// The orders held at the end of each day of `period`. `held_at_start` are
/// held before any of `events`; `events` are applied in the order given
/// within a day (their history order), those dated before the period first,
/// those after it not at all.
pub fn held_trend(
    period: Period,
    held_at_start: &[HeldAtStart],
    events: &[HoldEvent],
) -> Vec<HeldDay> {
    let mut held: BTreeMap<&str, (Currency, Decimal)> = held_at_start
        .iter()
        .map(|order| (order.order_id.as_str(), (order.currency, order.amount)))
        .collect();
    let mut events: Vec<&HoldEvent> = events.iter().filter(|e| e.on <= period.to).collect();
    // Stable: the history order stays within a day.
    events.sort_by_key(|event| event.on);
    let mut pending = events.into_iter().peekable();
    let mut days = vec![];
    for date in period.from.iter_days().take(period.days() as usize) {
        while let Some(event) = pending.next_if(|event| event.on <= date) {
            match event.held {
                Some(amount) => held.insert(&event.order_id, (event.currency, amount)),
                None => held.remove(event.order_id.as_str()),
            };
        }
        let mut by_currency: BTreeMap<&'static str, HeldValue> = BTreeMap::new();
        for (currency, amount) in held.values() {
            let line = by_currency
                .entry(currency.code())
                .or_insert_with(|| HeldValue {
                    currency: *currency,
                    orders: 0,
                    value: currency.zero(),
                });
            line.orders += 1;
            line.value += *amount;
        }
        days.push(HeldDay {
            date,
            orders: held.len(),
            currencies: by_currency.into_values().collect(),
        });
    }
    fill_currencies(&mut days);
    days
}

/// Gives every day a line for each currency held on some day, so each
/// currency's series has a figure for every day.
fn fill_currencies(days: &mut [HeldDay]) {
    let currencies: BTreeMap<&'static str, Currency> = days
        .iter()
        .flat_map(|day| {
            day.currencies
                .iter()
                .map(|l| (l.currency.code(), l.currency))
        })
        .collect();
    for day in days.iter_mut() {
        let mut lines: BTreeMap<&'static str, HeldValue> = std::mem::take(&mut day.currencies)
            .into_iter()
            .map(|line| (line.currency.code(), line))
            .collect();
        day.currencies = currencies
            .iter()
            .map(|(code, currency)| {
                lines.remove(code).unwrap_or(HeldValue {
                    currency: *currency,
                    orders: 0,
                    value: currency.zero(),
                })
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn event(order: &str, on: &str, code: &str, held: Option<&str>) -> HoldEvent {
        HoldEvent {
            order_id: order.into(),
            on: date(on),
            currency: currency(code),
            held: held.map(|a| a.parse().unwrap()),
        }
    }

    /// (date, orders, [(currency, orders, value)]).
    type Figures = (String, usize, Vec<(String, usize, String)>);

    fn figures(days: &[HeldDay]) -> Vec<Figures> {
        days.iter()
            .map(|d| {
                let lines = d
                    .currencies
                    .iter()
                    .map(|l| (l.currency.to_string(), l.orders, l.value.to_string()))
                    .collect();
                (d.date.to_string(), d.orders, lines)
            })
            .collect()
    }

    fn line(code: &str, orders: usize, value: &str) -> (String, usize, String) {
        (code.into(), orders, value.into())
    }

    #[test]
    fn each_day_counts_what_is_held_at_its_end() {
        let period = Period::new(date("2025-06-02"), date("2025-06-05")).unwrap();
        let start = [HeldAtStart {
            order_id: "SO-0".into(),
            currency: currency("USD"),
            amount: "100.00".parse().unwrap(),
        }];
        let events = [
            // Held and released before the period: not held at its start.
            event("SO-9", "2025-05-30", "USD", Some("999.00")),
            event("SO-9", "2025-06-01", "USD", None),
            event("SO-1", "2025-06-02", "USD", Some("250.00")),
            event("SO-2", "2025-06-03", "JPY", Some("5000")),
            // Held and released the same day: not held at its end.
            event("SO-3", "2025-06-03", "USD", Some("40.00")),
            event("SO-3", "2025-06-03", "USD", None),
            // A changed amount, re-checked and still held.
            event("SO-1", "2025-06-04", "USD", Some("300.00")),
            event("SO-0", "2025-06-05", "USD", None),
            // After the period: ignored.
            event("SO-1", "2025-06-06", "USD", None),
        ];
        let days = held_trend(period, &start, &events);
        assert_eq!(
            figures(&days),
            vec![
                (
                    "2025-06-02".into(),
                    2,
                    vec![line("JPY", 0, "0"), line("USD", 2, "350.00")]
                ),
                (
                    "2025-06-03".into(),
                    3,
                    vec![line("JPY", 1, "5000"), line("USD", 2, "350.00")]
                ),
                (
                    "2025-06-04".into(),
                    3,
                    vec![line("JPY", 1, "5000"), line("USD", 2, "400.00")]
                ),
                (
                    "2025-06-05".into(),
                    2,
                    vec![line("JPY", 1, "5000"), line("USD", 1, "300.00")]
                ),
            ]
        );
    }

    #[test]
    fn a_quiet_period_has_a_day_for_every_date_and_no_currencies() {
        let period = Period::new(date("2025-02-27"), date("2025-03-01")).unwrap();
        let days = held_trend(period, &[], &[]);
        let dates: Vec<String> = days.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(dates, ["2025-02-27", "2025-02-28", "2025-03-01"]);
        assert!(
            days.iter()
                .all(|d| d.orders == 0 && d.currencies.is_empty())
        );
    }
}
