//! A concurrency limit that queues instead of blocking, for tasks run on a
//! [`Scheduler`](crate::scheduler::Scheduler): a spawner that is itself one of the
//! scheduler's workers must not block until a task finishes, since that task may be queued
//! behind the spawner on the same worker. Over the limit, `enter` queues the task; a task
//! that ends hands its slot straight to the oldest queued one, which its ending starts.

use ::core::fmt;
use std::collections::VecDeque;

use crate::sync::Mutex;

/// At most `limit` jobs of type `J` running; the rest wait in order.
pub(super) struct Throttle<J> {
    limit: usize,
    /// `(running, waiting)`: one lock, so that a slot freed while a job is being queued is
    /// never missed.
    state: Mutex<(usize, VecDeque<J>)>,
}

impl<J> Throttle<J> {
    /// `limit == 0` counts as 1 (as the blocking limits).
    pub(super) fn new(limit: usize) -> Self {
        Throttle {
            limit: limit.max(1),
            state: Mutex::new((0, VecDeque::new())),
        }
    }

    /// Takes a slot for `job` and hands it back to be started, or queues it (`None`).
    pub(super) fn enter(&self, job: J) -> Option<J> {
        let mut state = self.state.lock();
        if state.0 < self.limit {
            state.0 += 1;
            Some(job)
        } else {
            state.1.push_back(job);
            None
        }
    }

    /// Takes a slot if one is free.
    pub(super) fn try_enter(&self) -> bool {
        let mut state = self.state.lock();
        let free = state.0 < self.limit;
        if free {
            state.0 += 1;
        }
        free
    }

    /// A running job ended: its slot goes to the oldest queued job, returned to be started,
    /// or is freed.
    pub(super) fn leave(&self) -> Option<J> {
        let mut state = self.state.lock();
        let next = state.1.pop_front();
        if next.is_none() {
            state.0 -= 1;
        }
        next
    }
}

impl<J> fmt::Debug for Throttle<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}
