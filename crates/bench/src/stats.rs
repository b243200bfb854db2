//! Latency percentiles, and how figures are shown.

use std::time::Duration;

/// Latency percentiles in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Latencies {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
}

impl Latencies {
    /// Nearest-rank percentiles of the samples.
    pub fn from_durations(mut samples: Vec<Duration>) -> Latencies {
        samples.sort_unstable();
        let at = |p: f64| {
            if samples.is_empty() {
                return 0.0;
            }
            // (less a hair, so that 99.9% of 1,000 is rank 999 despite rounding)
            let rank = ((p / 100.0) * samples.len() as f64 - 1e-9).ceil() as usize;
            samples[rank.clamp(1, samples.len()) - 1].as_nanos() as f64 / 1e3
        };
        Latencies {
            p50: at(50.0),
            p99: at(99.0),
            p999: at(99.9),
        }
    }
}

/// Microseconds as milliseconds with two decimals: `1.23 ms`.
pub fn ms(micros: f64) -> String {
    format!("{:.2} ms", micros / 1000.0)
}

/// A whole number with thousands separators: `12,345`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples = (1..=1000).map(Duration::from_micros).collect();
        let l = Latencies::from_durations(samples);
        assert_eq!((l.p50, l.p99, l.p999), (500.0, 990.0, 999.0));
        let one = Latencies::from_durations(vec![Duration::from_micros(7)]);
        assert_eq!((one.p50, one.p999), (7.0, 7.0));
        assert_eq!(Latencies::from_durations(vec![]).p99, 0.0);
    }

    #[test]
    fn figures_read_well() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(ms(1234.0), "1.23 ms");
    }
}
