//! The injected clock: production reads the system time, tests and simulations set it.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// This clock as a simulated one that people may move forward, if it is one.
    fn simulated(&self) -> Option<&SimulatedClock> {
        None
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved; for tests.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock fixed at `t`.
    pub fn new(t: DateTime<Utc>) -> FixedClock {
        FixedClock(Mutex::new(t))
    }

    /// Moves the clock forward.
    pub fn advance(&self, d: chrono::Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += d;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|e| *e.into_inner())
    }
}

/// The clock of demos and acceptance tests (`serve --simulated-clock`): it runs like the system
/// clock, ahead of it by an offset that an administrator moves forward (never back), so that
/// deadlines can be passed on purpose.
#[derive(Debug, Default)]
pub struct SimulatedClock(Mutex<chrono::Duration>);

impl SimulatedClock {
    /// A clock that starts at the system time.
    pub fn new() -> SimulatedClock {
        SimulatedClock::default()
    }

    /// Moves the clock forward (a negative duration is ignored).
    pub fn advance(&self, d: chrono::Duration) {
        if d > chrono::Duration::zero()
            && let Ok(mut offset) = self.0.lock()
        {
            *offset += d;
        }
    }

    /// How far ahead of the system clock it is.
    pub fn offset(&self) -> chrono::Duration {
        self.0
            .lock()
            .map(|o| *o)
            .unwrap_or_else(|e| *e.into_inner())
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset()
    }

    fn simulated(&self) -> Option<&SimulatedClock> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_simulated_clock_only_moves_forward() {
        let c = SimulatedClock::new();
        assert!(c.simulated().is_some());
        assert!(SystemClock.simulated().is_none());
        let before = c.now();
        c.advance(chrono::Duration::days(3));
        c.advance(chrono::Duration::days(-10));
        assert!(c.now() - before >= chrono::Duration::days(3));
        assert!(c.now() - before < chrono::Duration::days(4));
    }
}
