//! The account clock: the time the emulated account lives in.
//!
//! Builds and packages take realistic account time (minutes), and billing accrues on the
//! same clock, but account time passes `scale` times faster than real time, so a test can
//! watch a 3-minute build finish in a fraction of a second. The clock does not run while the
//! emulator is stopped: a restarted emulator resumes from the account time it saved, so a
//! month's charges only grow while the account is actually "up".

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

/// Account time that runs `scale` times faster than real time.
#[derive(Debug, Clone)]
pub struct AccountClock {
    scale: f64,
    anchor_real: Instant,
    anchor_account: DateTime<Utc>,
}

impl AccountClock {
    /// A clock that reads `start` now and runs `scale` times faster than real time
    /// (a scale ≤ 0 is treated as 1).
    pub fn new(start: DateTime<Utc>, scale: f64) -> Self {
        AccountClock {
            scale: if scale > 0.0 && scale.is_finite() {
                scale
            } else {
                1.0
            },
            anchor_real: Instant::now(),
            anchor_account: start,
        }
    }

    /// The scale factor.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The current account time.
    pub fn now(&self) -> DateTime<Utc> {
        let real = self.anchor_real.elapsed().as_secs_f64() * self.scale;
        self.anchor_account + TimeDelta::microseconds((real * 1e6) as i64)
    }

    /// How much real time `account` takes on this clock.
    pub fn real_duration(&self, account: TimeDelta) -> Duration {
        let secs = account.num_milliseconds().max(0) as f64 / 1000.0 / self.scale;
        Duration::from_secs_f64(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_time_runs_faster() {
        let start = Utc::now();
        let clock = AccountClock::new(start, 600.0);
        std::thread::sleep(Duration::from_millis(20));
        let passed = clock.now() - start;
        assert!(passed >= TimeDelta::seconds(11), "{passed}");
        assert_eq!(
            clock.real_duration(TimeDelta::minutes(10)),
            Duration::from_secs(1)
        );
    }
}
