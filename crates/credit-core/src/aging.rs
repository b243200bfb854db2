//! Aging: open balances sorted into buckets by days past due.

use rust_decimal::Decimal;
use serde::Serialize;

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

    pub fn for_days_past_due(dpd: i64) -> Bucket {
        match dpd {
            ..=0 => Bucket::Current,
            1..=30 => Bucket::Days1To30,
            31..=60 => Bucket::Days31To60,
            61..=90 => Bucket::Days61To90,
            91..=120 => Bucket::Days91To120,
            _ => Bucket::Over120,
        }
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
        *self.bucket_mut(Bucket::for_days_past_due(dpd)) += amount;
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
