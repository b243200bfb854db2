//! Aging: open balances sorted into buckets by days past due.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::Named;

/// The six aging buckets, by days past due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Not yet due, or due today (dpd ≤ 0).
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Days91To120,
    Over120,
}

impl Bucket {
    pub const ALL: [Bucket; 6] = [
        Bucket::Current,
        Bucket::Days1To30,
        Bucket::Days31To60,
        Bucket::Days61To90,
        Bucket::Days91To120,
        Bucket::Over120,
    ];

    /// The most days past due the bucket holds; the last one holds any
    /// number more.
    pub fn most_days_past_due(self) -> Option<i64> {
        match self {
            Bucket::Current => Some(0),
            Bucket::Days1To30 => Some(30),
            Bucket::Days31To60 => Some(60),
            Bucket::Days61To90 => Some(90),
            Bucket::Days91To120 => Some(120),
            Bucket::Over120 => None,
        }
    }

    pub fn for_days_past_due(dpd: i64) -> Bucket {
        Bucket::ALL
            .into_iter()
            .find(|bucket| bucket.most_days_past_due().is_none_or(|most| dpd <= most))
            .unwrap_or(Bucket::Over120)
    }

    /// The earliest due date the bucket holds as of `as_of` (the last one
    /// holds every earlier date): a balance due on `due_on` is in the
    /// first bucket whose earliest due date is on or before it.
    pub fn earliest_due_on(self, as_of: NaiveDate) -> Option<NaiveDate> {
        let most = u64::try_from(self.most_days_past_due()?).ok()?;
        as_of.checked_sub_days(Days::new(most))
    }

    /// The bucket's field name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Current => "current",
            Bucket::Days1To30 => "days_1_30",
            Bucket::Days31To60 => "days_31_60",
            Bucket::Days61To90 => "days_61_90",
            Bucket::Days91To120 => "days_91_120",
            Bucket::Over120 => "days_over_120",
        }
    }
}

impl Named for Bucket {
    const ALL: &'static [Bucket] = &Bucket::ALL;

    fn name(self) -> &'static str {
        Bucket::name(self)
    }
}

/// Amounts per bucket; `total` is always their sum.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Aging {
    pub current: Decimal,
    pub days_1_30: Decimal,
    pub days_31_60: Decimal,
    pub days_61_90: Decimal,
    pub days_91_120: Decimal,
    pub days_over_120: Decimal,
    pub total: Decimal,
}

impl Aging {
    /// An empty aging with amounts written at `scale` decimals ("0.00").
    pub fn zero(scale: u32) -> Aging {
        let zero = Decimal::new(0, scale);
        Aging {
            current: zero,
            days_1_30: zero,
            days_31_60: zero,
            days_61_90: zero,
            days_91_120: zero,
            days_over_120: zero,
            total: zero,
        }
    }

    pub fn add(&mut self, dpd: i64, amount: Decimal) {
        self.add_to(Bucket::for_days_past_due(dpd), amount);
    }

    pub fn add_to(&mut self, bucket: Bucket, amount: Decimal) {
        *self.bucket_mut(bucket) += amount;
        self.total += amount;
    }

    pub fn merge(&mut self, other: &Aging) {
        for bucket in Bucket::ALL {
            *self.bucket_mut(bucket) += other.get(bucket);
        }
        self.total += other.total;
    }

    pub fn get(&self, bucket: Bucket) -> Decimal {
        match bucket {
            Bucket::Current => self.current,
            Bucket::Days1To30 => self.days_1_30,
            Bucket::Days31To60 => self.days_31_60,
            Bucket::Days61To90 => self.days_61_90,
            Bucket::Days91To120 => self.days_91_120,
            Bucket::Over120 => self.days_over_120,
        }
    }

    fn bucket_mut(&mut self, bucket: Bucket) -> &mut Decimal {
        match bucket {
            Bucket::Current => &mut self.current,
            Bucket::Days1To30 => &mut self.days_1_30,
            Bucket::Days31To60 => &mut self.days_31_60,
            Bucket::Days61To90 => &mut self.days_61_90,
            Bucket::Days91To120 => &mut self.days_91_120,
            Bucket::Over120 => &mut self.days_over_120,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn bucket_boundaries() {
        let cases = [
            (-10, Bucket::Current),
            (0, Bucket::Current),
            (1, Bucket::Days1To30),
            (30, Bucket::Days1To30),
            (31, Bucket::Days31To60),
            (60, Bucket::Days31To60),
            (61, Bucket::Days61To90),
            (90, Bucket::Days61To90),
            (91, Bucket::Days91To120),
            (120, Bucket::Days91To120),
            (121, Bucket::Over120),
            (5000, Bucket::Over120),
        ];
        for (dpd, bucket) in cases {
            assert_eq!(Bucket::for_days_past_due(dpd), bucket, "dpd {dpd}");
        }
    }

    #[test]
    fn a_due_date_falls_in_the_first_bucket_whose_earliest_due_date_it_is_not_before() {
        let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
        for dpd in -10..=400 {
            let due_on = as_of - chrono::Duration::days(dpd);
            let by_date = Bucket::ALL
                .into_iter()
                .find(|bucket| {
                    bucket
                        .earliest_due_on(as_of)
                        .is_none_or(|earliest| due_on >= earliest)
                })
                .unwrap();
            assert_eq!(by_date, Bucket::for_days_past_due(dpd), "dpd {dpd}");
        }
        assert_eq!(
            Bucket::Days1To30.earliest_due_on(as_of),
            NaiveDate::from_ymd_opt(2025, 5, 31)
        );
        assert_eq!(Bucket::Over120.earliest_due_on(as_of), None);
    }

    #[test]
    fn buckets_are_read_back_by_name() {
        for bucket in Bucket::ALL {
            assert_eq!(<Bucket as Named>::from_name(bucket.name()), Some(bucket));
        }
    }

    #[test]
    fn totals_are_the_sum_of_buckets() {
        let mut aging = Aging::zero(2);
        aging.add(0, dec!(100.00));
        aging.add(45, dec!(20.50));
        aging.add(200, dec!(3.25));
        assert_eq!(aging.current, dec!(100.00));
        assert_eq!(aging.days_31_60, dec!(20.50));
        assert_eq!(aging.days_over_120, dec!(3.25));
        assert_eq!(aging.total, dec!(123.75));
        let mut merged = Aging::zero(2);
        merged.merge(&aging);
        merged.merge(&aging);
        assert_eq!(merged.total, dec!(247.50));
        assert_eq!(merged.days_31_60, dec!(41.00));
    }

    #[test]
    fn serialises_buckets_as_strings_with_their_names() {
        let json = serde_json::to_value(Aging::zero(2)).unwrap();
        for bucket in Bucket::ALL {
            assert_eq!(json[bucket.name()], "0.00");
        }
        assert_eq!(json["total"], "0.00");
    }
}
