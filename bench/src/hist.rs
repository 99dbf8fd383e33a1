//! A lock-free log-linear latency histogram (about 1.6 % relative precision).
//!
//! Buckets are atomic counters so every task of the load generator records
//! into one shared histogram without locks; values are nanoseconds.

use std::sync::atomic::{AtomicU64, Ordering};

/// Sub-buckets per power of two (6 bits of mantissa).
const SUB_BITS: u32 = 6;
const SUB: usize = 1 << SUB_BITS;
/// Values below this are counted exactly.
const LINEAR: u64 = 2 * SUB as u64;
const BUCKETS: usize = LINEAR as usize + (64 - (SUB_BITS + 1) as usize) * SUB;

/// A histogram of nanosecond values.
#[derive(Debug)]
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }
}

fn index(value: u64) -> usize {
    if value < LINEAR {
        return value as usize;
    }
    let exponent = 63 - value.leading_zeros(); // >= SUB_BITS + 1
    let mantissa = (value >> (exponent - SUB_BITS)) as usize & (SUB - 1);
    LINEAR as usize + (exponent - SUB_BITS - 1) as usize * SUB + mantissa
}

/// The middle of bucket `index`.
fn value_at(index: usize) -> u64 {
    if index < LINEAR as usize {
        return index as u64;
    }
    let offset = index - LINEAR as usize;
    let exponent = (offset / SUB) as u32 + SUB_BITS + 1;
    let mantissa = (offset % SUB) as u64;
    let low = (1u64 << exponent) | (mantissa << (exponent - SUB_BITS));
    low + (1u64 << (exponent - SUB_BITS)) / 2
}

impl Histogram {
    /// Counts one value.
    pub fn record(&self, nanos: u64) {
        self.buckets[index(nanos)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(nanos, Ordering::Relaxed);
        self.max.fetch_max(nanos, Ordering::Relaxed);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The largest value recorded.
    pub fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    /// The mean, or 0 when empty.
    pub fn mean(&self) -> u64 {
        self.sum.load(Ordering::Relaxed) / self.count().max(1)
    }

    /// The value at quantile `q` (0..=1), or 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let count = self.count();
        if count == 0 {
            return 0;
        }
        let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
        let mut seen = 0;
        for (index, bucket) in self.buckets.iter().enumerate() {
            seen += bucket.load(Ordering::Relaxed);
            if seen >= rank {
                return value_at(index).min(self.max());
            }
        }
        self.max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_precise_to_two_percent() {
        for value in [
            0u64,
            1,
            127,
            128,
            129,
            1000,
            65_432,
            1_000_000,
            123_456_789_012,
        ] {
            let back = value_at(index(value));
            let error = back.abs_diff(value) as f64 / value.max(1) as f64;
            assert!(error <= 0.016, "{value} -> {back}");
        }
        assert!(index(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles() {
        let histogram = Histogram::default();
        for value in 1..=1000u64 {
            histogram.record(value * 1000);
        }
        let p50 = histogram.quantile(0.5);
        assert!((490_000..=510_000).contains(&p50), "{p50}");
        assert_eq!(histogram.quantile(1.0), 1_000_000);
        assert_eq!(histogram.count(), 1000);
    }
}
