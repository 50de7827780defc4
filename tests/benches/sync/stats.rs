//! Percentiles of latency samples.

use std::time::Duration;

/// Latency samples, sorted.
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self(samples)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile (nearest rank), or zero without samples.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    /// "p50 1.23 ms, p99 4.56 ms, max 7.89 ms".
    pub fn summary(&self) -> String {
        format!(
            "p50 {}, p99 {}, max {}",
            ms(self.percentile(50.0)),
            ms(self.percentile(99.0)),
            ms(self.percentile(100.0))
        )
    }
}

/// A duration in milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
