//! How long to wait before the next connection attempt.

use std::time::Duration;

/// Capped exponential back-off with jitter: 1 s, 2 s, 4 s … up to `max`, each wait spread by
/// ±20 % so that a farm's printers that dropped together (a Wi-Fi outage, a printdesk
/// restart) do not all reconnect in the same instant.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl Backoff {
    /// Starts at `first`, doubling up to `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            attempt: 0,
        }
    }

    /// The wait before the next attempt (and counts the attempt).
    pub fn next_wait(&mut self) -> Duration {
        let base = self
            .first
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        // 0.8 … 1.2 of the base.
        base.mul_f64(0.8 + fastrand::f64() * 0.4)
    }

    /// A connection worked: the next failure starts from `first` again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_jitter() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let waits: Vec<f64> = (0..6).map(|_| backoff.next_wait().as_secs_f64()).collect();
        for (wait, base) in waits.iter().zip([1.0, 2.0, 4.0, 8.0, 8.0, 8.0]) {
            assert!(
                (base * 0.8..=base * 1.2).contains(wait),
                "{wait} s is not within 20 % of {base} s"
            );
        }
    }

    #[test]
    fn reset_starts_over() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..5 {
            backoff.next_wait();
        }
        backoff.reset();
        assert!(backoff.next_wait() <= Duration::from_millis(1200));
    }

    #[test]
    fn jitter_spreads_printers_apart() {
        let waits: std::collections::BTreeSet<u128> = (0..20)
            .map(|_| Backoff::default().next_wait().as_millis())
            .collect();
        assert!(
            waits.len() > 5,
            "20 printers got only {} distinct waits",
            waits.len()
        );
    }
}
