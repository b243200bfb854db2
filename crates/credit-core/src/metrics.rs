//! Collection KPIs over a period: DSO, best possible DSO, average days
//! delinquent and the collection effectiveness index.

use chrono::{Days, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy, dec};
use serde::Serialize;

/// A reporting period, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `None` when the period would end before it starts.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Option<Period> {
        (from <= to).then_some(Period { from, to })
    }

    /// Days in the period, counting both ends (a one-day period has 1).
    pub fn days(&self) -> u32 {
        u32::try_from((self.to - self.from).num_days() + 1).unwrap_or(u32::MAX)
    }

    /// The date opening balances are taken as of: the day before `from`,
    /// so what happens on `from` belongs to the period.
    pub fn opening_date(&self) -> NaiveDate {
        self.from - Days::new(1)
    }
}

/// The receivables figures of one period, in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeriodFigures {
    /// Open receivables at the start of the period.
    pub begin_ar: Decimal,
    /// Open receivables at the end of the period.
    pub end_ar: Decimal,
    /// The part of `end_ar` not yet past due at the end of the period.
    pub end_current_ar: Decimal,
    /// Invoices issued in the period.
    pub credit_sales: Decimal,
    /// Length of the period in days.
    pub days: u32,
}

/// The KPIs; `None` where a formula would divide by zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Kpis {
    /// Days sales outstanding: AR / credit sales × days.
    pub dso: Option<Decimal>,
    /// Best possible DSO: current AR / credit sales × days.
    pub best_possible_dso: Option<Decimal>,
    /// Average days delinquent: DSO − best possible DSO.
    pub average_days_delinquent: Option<Decimal>,
    /// Collection effectiveness index, in percent.
    pub cei: Option<Decimal>,
}

/// KPI figures are shown with two decimals.
fn round(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    rounded.rescale(2);
    rounded
}

fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    numerator.checked_div(denominator)
}

pub fn kpis(figures: &PeriodFigures) -> Kpis {
    let days = Decimal::from(figures.days);
    let dso = ratio(figures.end_ar, figures.credit_sales).map(|r| r * days);
    let best = ratio(figures.end_current_ar, figures.credit_sales).map(|r| r * days);
    let collectible = figures.begin_ar + figures.credit_sales;
    let cei = ratio(
        collectible - figures.end_ar,
        collectible - figures.end_current_ar,
    )
    .map(|r| r * dec!(100));
    Kpis {
        dso: dso.map(round),
        best_possible_dso: best.map(round),
        average_days_delinquent: dso.zip(best).map(|(dso, best)| round(dso - best)),
        cei: cei.map(round),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::date;

    #[test]
    fn a_period_counts_both_ends_and_opens_the_day_before() {
        let june = Period::new(date("2025-06-01"), date("2025-06-30")).unwrap();
        assert_eq!(june.days(), 30);
        assert_eq!(june.opening_date(), date("2025-05-31"));
        let one_day = Period::new(date("2025-03-01"), date("2025-03-01")).unwrap();
        assert_eq!(one_day.days(), 1);
        assert_eq!(one_day.opening_date(), date("2025-02-28"));
        assert_eq!(Period::new(date("2025-06-02"), date("2025-06-01")), None);
    }

    #[test]
    fn hand_computed_figures() {
        let figures = PeriodFigures {
            begin_ar: dec!(100000),
            end_ar: dec!(90000),
            end_current_ar: dec!(50000),
            credit_sales: dec!(60000),
            days: 30,
        };
        let kpis = kpis(&figures);
        assert_eq!(kpis.dso, Some(dec!(45.00)));
        assert_eq!(kpis.best_possible_dso, Some(dec!(25.00)));
        assert_eq!(kpis.average_days_delinquent, Some(dec!(20.00)));
        // 70,000 / 110,000 × 100 = 63.6363...
        assert_eq!(kpis.cei, Some(dec!(63.64)));
        assert_eq!(kpis.cei.unwrap().to_string(), "63.64");
    }

    #[test]
    fn a_quarter_with_uneven_figures() {
        let figures = PeriodFigures {
            begin_ar: dec!(12500.00),
            end_ar: dec!(15320.40),
            end_current_ar: dec!(11000.00),
            credit_sales: dec!(41000.00),
            days: 91,
        };
        let kpis = kpis(&figures);
        // 15320.40 / 41000 × 91 = 34.0035...; 11000 / 41000 × 91 = 24.4146...
        assert_eq!(kpis.dso, Some(dec!(34.00)));
        assert_eq!(kpis.best_possible_dso, Some(dec!(24.41)));
        assert_eq!(kpis.average_days_delinquent, Some(dec!(9.59)));
        // (53500 − 15320.40) / (53500 − 11000) × 100 = 89.8343...
        assert_eq!(kpis.cei, Some(dec!(89.83)));
    }

    #[test]
    fn no_sales_means_no_dso_rather_than_a_division_by_zero() {
        let figures = PeriodFigures {
            begin_ar: dec!(0),
            end_ar: dec!(0),
            end_current_ar: dec!(0),
            credit_sales: dec!(0),
            days: 30,
        };
        let kpis = kpis(&figures);
        assert_eq!(kpis.dso, None);
        assert_eq!(kpis.average_days_delinquent, None);
        assert_eq!(kpis.cei, None);
    }
}
