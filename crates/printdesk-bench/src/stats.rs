//! Small helpers: latency percentiles and `key=value` lines.

use std::{collections::HashMap, time::Duration};

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latencies {
    /// Median.
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
}

impl Latencies {
    /// Percentiles of `samples` (sorted in place); zeros when there are none.
    pub fn from_samples(samples: &mut [Duration]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[rank - 1].as_micros() as u64
        };
        Self {
            p50_us: at(0.50),
            p99_us: at(0.99),
            p999_us: at(0.999),
        }
    }
}

/// `a=1 b=two` → {a: 1, b: two}.
pub fn key_values(line: &str) -> HashMap<&str, &str> {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect()
}

/// Microseconds as milliseconds with two decimals.
pub fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=1000).map(Duration::from_micros).collect();
        let l = Latencies::from_samples(&mut samples);
        assert_eq!((l.p50_us, l.p99_us, l.p999_us), (500, 990, 999));
        assert_eq!(Latencies::from_samples(&mut []), Latencies::default());
    }

    #[test]
    fn key_values_split() {
        let kv = key_values("X a=1 b=two");
        assert_eq!(kv["a"], "1");
        assert_eq!(kv["b"], "two");
        assert_eq!(ms(1234), "1.23");
    }
}
