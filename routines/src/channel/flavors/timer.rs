//! Receiver-only flavors that deliver `Instant`s: [`at`](crate::channel::at) / `after` (one
//! delivery at a deadline), [`tick`](crate::channel::tick) (one delivery per period), and
//! [`never()`](crate::channel::never) (no delivery at all). No thread and no timer wheel: the
//! receiver computes what is due when it looks, and a blocking receive sleeps until the next
//! delivery (or its own deadline). These channels never disconnect.

use std::time::{Duration, Instant};

use crate::sync::Mutex;

/// The schedule of an `at` or `tick` channel.
pub(crate) struct Timer {
    /// The next delivery time; `None` once an `at` channel has delivered.
    next: Mutex<Option<Instant>>,
    /// `Some` for `tick`: after a delivery at `now`, the next is due at `now + period`.
    period: Option<Duration>,
}

impl Timer {
    pub(crate) fn at(when: Instant) -> Self {
        Self {
            next: Mutex::new(Some(when)),
            period: None,
        }
    }

    /// A tick channel whose first delivery is due one `period` from now (never, if that is
    /// not representable).
    pub(crate) fn tick(period: Duration) -> Self {
        Self {
            next: Mutex::new(Instant::now().checked_add(period)),
            period: Some(period),
        }
    }

    /// Takes the delivery due at `now`, if any: returns its scheduled time.
    pub(crate) fn try_take(&self, now: Instant) -> Option<Instant> {
        let mut next = self.next.lock();
        let due = (*next).filter(|&t| now >= t)?;
        // A slow receiver does not get a burst of missed ticks: the next one is a full
        // period after this delivery.
        *next = self.period.and_then(|p| now.checked_add(p));
        Some(due)
    }

    /// `true` if a delivery is due at `now`.
    pub(crate) fn is_due(&self, now: Instant) -> bool {
        (*self.next.lock()).is_some_and(|t| now >= t)
    }

    /// The next delivery time, if there will be one.
    pub(crate) fn next(&self) -> Option<Instant> {
        *self.next.lock()
    }

    /// Waits until a delivery can be taken or `deadline` passes.
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Option<Instant> {
        loop {
            let now = Instant::now();
            if let Some(due) = self.try_take(now) {
                return Some(due);
            }
            if deadline.is_some_and(|d| now >= d) {
                return None;
            }
            let wake = match (self.next(), deadline) {
                (Some(n), Some(d)) => Some(n.min(d)),
                (n, d) => n.or(d),
            };
            sleep_until(wake);
        }
    }
}

/// Sleeps until `deadline`; forever if `None`.
pub(crate) fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => {
            let now = Instant::now();
            if d > now {
                std::thread::sleep(d - now);
            }
        }
        // Nothing will ever unpark this thread; a spurious wake-up just parks again.
        None => loop {
            std::thread::park();
        },
    }
}
