//! `TaskGroup`: result-returning tasks on OS threads, joined in spawn order or as they
//! finish, under the same failure policies and limits as a scope.
//!
//! Each task runs under `catch_unwind` on its own thread and, as its last act, sends
//! `(index, outcome)` into the group's channel (after cancelling the group's token if it
//! failed under fail-fast). The group keeps one slot per spawned task; `join_next` fills
//! slots in arrival order, `join` / `join_all` wait for every slot. Dropping a group cancels
//! its token and joins its threads, so no task outlives its group.
//!
//! On a scheduler ([`TaskGroup::with_scheduler`]) each task is a fire-and-forget job of
//! that scheduler instead of a thread; the limit then queues tasks instead of blocking the
//! spawner, and dropping the group waits for every outstanding report.

use ::core::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::cancel::CancelToken;
use super::scope::{Failure, TaskContext};
use super::throttle::Throttle;
use crate::channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use crate::core::deadline_after;
use crate::future::Panic;
use crate::scheduler::{Scheduler, SpawnHandle};
use crate::sync::Semaphore;

type Report<T, E> = (usize, Result<T, Failure<E>>);

/// A task of a group on a scheduler, boxed while it waits for a slot under the limit.
type GroupJob = Box<dyn FnOnce() + Send + 'static>;

/// Where a group's tasks run.
#[derive(Debug)]
enum Runner {
    /// One OS thread per task; the limit blocks `spawn`.
    Threads {
        limit: Option<Arc<Semaphore>>,
        threads: Vec<JoinHandle<()>>,
    },
    /// Fire-and-forget jobs of a scheduler; the limit queues tasks.
    Scheduler {
        handle: SpawnHandle,
        throttle: Option<Arc<Throttle<GroupJob>>>,
    },
}

/// A group of tasks returning `Result<T, E>`, each on its own OS thread (`'static`
/// closures; use [`scope`](fn@super::scope) to borrow). **Fail-fast** by default: the first
/// failure cancels the group's token, which every task sees in its [`TaskContext`];
/// [`supervised`](TaskGroup::supervised) groups cancel nothing.
///
/// # Examples
/// ```
/// use routines::structured::TaskGroup;
/// let mut group = TaskGroup::<u64, String>::new();
/// for i in 0..4 {
///     group.spawn(move |_| Ok(i * i));
/// }
/// assert_eq!(group.join(), Ok(vec![0, 1, 4, 9])); // spawn order
/// ```
pub struct TaskGroup<T, E> {
    token: CancelToken,
    fail_fast: bool,
    /// The concurrency limit, if any (kept to rebuild the runner's when it changes).
    limit: Option<usize>,
    runner: Runner,
    /// One slot per spawned task: `Some` once its report arrived.
    slots: Vec<Option<Result<T, Failure<E>>>>,
    /// Reports not yet taken out of the channel.
    outstanding: usize,
    /// The index of the first failure to arrive, if any.
    first_failure: Option<usize>,
    reports: Receiver<Report<T, E>>,
    sender: Sender<Report<T, E>>,
}

impl<T: Send + 'static, E: Send + 'static> TaskGroup<T, E> {
    /// An empty fail-fast group without limit or deadline.
    ///
    /// # Examples
    /// ```
    /// let g = routines::structured::TaskGroup::<(), ()>::new();
    /// assert_eq!(g.len(), 0);
    /// ```
    pub fn new() -> Self {
        let (sender, reports) = unbounded();
        Self {
            token: CancelToken::new(),
            fail_fast: true,
            limit: None,
            runner: Runner::Threads {
                limit: None,
                threads: Vec::new(),
            },
            slots: Vec::new(),
            outstanding: 0,
            first_failure: None,
            reports,
            sender,
        }
    }

    /// An empty supervised group: failures cancel nothing.
    ///
    /// # Examples
    /// ```
    /// use routines::structured::TaskGroup;
    /// let mut g = TaskGroup::<u8, &str>::supervised();
    /// g.spawn(|_| Err("a"));
    /// g.spawn(|_| Ok(2));
    /// let all = g.join_all();
    /// assert!(all[0].is_err() && matches!(all[1], Ok(2)));
    /// ```
    pub fn supervised() -> Self {
        let mut group = Self::new();
        group.fail_fast = false;
        group
    }

    /// At most `n` tasks run at once (`n == 0` counts as 1): `spawn` blocks at the limit,
    /// `try_spawn` gives the task back.
    ///
    /// # Examples
    /// ```
    /// let g = routines::structured::TaskGroup::<(), ()>::new().with_limit(2);
    /// # drop(g);
    /// ```
    pub fn with_limit(mut self, n: usize) -> Self {
        self.limit = Some(n.max(1));
        self.rebuild_limit();
        self
    }

    /// Runs the group's tasks as jobs of `scheduler` instead of one OS thread each. Over
    /// the limit, [`spawn`](Self::spawn) then queues a task instead of blocking (it starts
    /// when a running one ends). The group keeps the scheduler's workers running until it
    /// is dropped. Call before spawning. `join`, `join_next` and dropping the group block
    /// the calling thread: from inside one of the same scheduler's jobs that needs another
    /// worker free to run the tasks.
    ///
    /// # Examples
    /// ```
    /// use routines::scheduler::Scheduler;
    /// use routines::structured::TaskGroup;
    /// let sched = Scheduler::new(2);
    /// let mut g = TaskGroup::<usize, ()>::new().with_scheduler(&sched).with_limit(1);
    /// for i in 0..4 {
    ///     g.spawn(move |_| Ok(i * 2)); // never blocks: queued over the limit
    /// }
    /// assert_eq!(g.join(), Ok(vec![0, 2, 4, 6]));
    /// ```
    pub fn with_scheduler(mut self, scheduler: &Scheduler) -> Self {
        self.runner = Runner::Scheduler {
            handle: scheduler.spawn_handle(),
            throttle: None,
        };
        self.rebuild_limit();
        self
    }

    fn rebuild_limit(&mut self) {
        let n = self.limit;
        match &mut self.runner {
            Runner::Threads { limit, .. } => *limit = n.map(|n| Arc::new(Semaphore::new(n))),
            Runner::Scheduler { throttle, .. } => *throttle = n.map(|n| Arc::new(Throttle::new(n))),
        }
    }

    /// Makes the group's token a child of `parent`, cancelled at `deadline` if given.
    /// Call before spawning: tasks already spawned keep the old token.
    ///
    /// # Examples
    /// ```
    /// use std::time::{Duration, Instant};
    /// use routines::structured::{CancelToken, TaskGroup};
    /// let parent = CancelToken::new();
    /// let g = TaskGroup::<(), ()>::new()
    ///     .with_token(&parent, Some(Instant::now() + Duration::from_secs(5)));
    /// assert!(g.token().deadline().is_some());
    /// ```
    pub fn with_token(mut self, parent: &CancelToken, deadline: Option<Instant>) -> Self {
        self.token = match deadline {
            Some(d) => parent.with_deadline(d),
            None => parent.child(),
        };
        self
    }

    /// Cancels the group's token after `timeout` (`Duration::MAX`: never).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let g = routines::structured::TaskGroup::<(), ()>::new().with_timeout(Duration::ZERO);
    /// assert!(g.token().is_cancelled());
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        if let Some(d) = deadline_after(timeout) {
            self.token = self.token.with_deadline(d);
        }
        self
    }

    /// The group's token.
    ///
    /// # Examples
    /// ```
    /// let g = routines::structured::TaskGroup::<(), ()>::new();
    /// assert!(!g.token().is_cancelled());
    /// ```
    pub fn token(&self) -> &CancelToken {
        &self.token
    }

    /// Tasks spawned so far.
    ///
    /// # Examples
    /// ```
    /// let mut g = routines::structured::TaskGroup::<(), ()>::new();
    /// g.spawn(|_| Ok(()));
    /// assert_eq!(g.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// `true` if nothing was spawned.
    ///
    /// # Examples
    /// ```
    /// assert!(routines::structured::TaskGroup::<(), ()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Spawns a task on a new OS thread (blocking while the limit is reached); its index.
    ///
    /// # Panics
    /// If the OS cannot create a thread (as `std::thread::spawn`).
    ///
    /// # Examples
    /// ```
    /// let mut g = routines::structured::TaskGroup::<u8, ()>::new();
    /// assert_eq!(g.spawn(|cx| Ok(cx.index() as u8)), 0);
    /// ```
    pub fn spawn<F>(&mut self, task: F) -> usize
    where
        F: FnOnce(&TaskContext) -> Result<T, E> + Send + 'static,
    {
        let index = self.slots.len();
        let run = self.runner_for(task, index);
        match &mut self.runner {
            Runner::Threads { limit, threads } => {
                if let Some(limit) = limit {
                    limit.acquire().forget(); // given back below, when the task ends
                }
                threads.push(std::thread::spawn(run));
            }
            Runner::Scheduler { handle, throttle } => match throttle {
                None => handle.spawn(run),
                Some(t) => {
                    if let Some(job) = t.enter(Box::new(run)) {
                        handle.spawn(job);
                    }
                }
            },
        }
        index
    }

    /// Spawns a task unless the limit is reached; then gives it back.
    ///
    /// # Errors
    /// `Err(task)` while `limit` tasks are running.
    ///
    /// # Examples
    /// ```
    /// let mut g = routines::structured::TaskGroup::<(), ()>::new().with_limit(1);
    /// let gate = routines::structured::CancelToken::new();
    /// let g2 = gate.clone();
    /// g.spawn(move |_| { g2.wait(); Ok(()) });
    /// assert!(g.try_spawn(|_| Ok(())).is_err());
    /// gate.cancel();
    /// ```
    pub fn try_spawn<F>(&mut self, task: F) -> Result<usize, F>
    where
        F: FnOnce(&TaskContext) -> Result<T, E> + Send + 'static,
    {
        let index = self.slots.len();
        match &mut self.runner {
            Runner::Threads { limit, .. } => {
                if let Some(limit) = limit {
                    match limit.try_acquire() {
                        Some(permit) => permit.forget(), // given back when the task ends
                        None => return Err(task),
                    }
                }
            }
            Runner::Scheduler { throttle, .. } => {
                if throttle.as_ref().is_some_and(|t| !t.try_enter()) {
                    return Err(task);
                }
            }
        }
        let run = self.runner_for(task, index);
        match &mut self.runner {
            Runner::Threads { threads, .. } => threads.push(std::thread::spawn(run)),
            Runner::Scheduler { handle, .. } => handle.spawn(run),
        }
        Ok(index)
    }

    /// Registers task `index` and returns the closure that runs it, then `after` (giving
    /// its limit slot back), then reports: a caller that read the report may spawn again.
    fn runner_for<F>(&mut self, task: F, index: usize) -> impl FnOnce() + Send + 'static
    where
        F: FnOnce(&TaskContext) -> Result<T, E> + Send + 'static,
    {
        let after = self.after_task();
        self.slots.push(None);
        self.outstanding += 1;
        let cx = TaskContext::new(self.token.clone(), index);
        let (sender, fail_fast) = (self.sender.clone(), self.fail_fast);
        move || {
            let outcome = match catch_unwind(AssertUnwindSafe(|| task(&cx))) {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => Err(Failure::Error(e)),
                Err(payload) => Err(Failure::Panic(Panic::new(payload))),
            };
            if outcome.is_err() && fail_fast {
                cx.token().cancel();
            }
            after();
            // The group may be gone (dropped after cancelling); then the report is dropped.
            let _ = sender.send((index, outcome));
        }
    }

    /// What a task does when it ends, before reporting: give its limit slot back (on a
    /// scheduler: to the oldest queued task, which it starts).
    fn after_task(&self) -> impl FnOnce() + Send + 'static {
        let (permits, queue) = match &self.runner {
            Runner::Threads { limit, .. } => (limit.clone(), None),
            Runner::Scheduler { handle, throttle } => {
                (None, throttle.clone().map(|t| (handle.clone(), t)))
            }
        };
        move || {
            if let Some(limit) = permits {
                limit.add_permits(1);
            }
            if let Some((handle, throttle)) = queue {
                if let Some(next) = throttle.leave() {
                    handle.spawn(next);
                }
            }
        }
    }

    /// Takes one report from the channel into its slot; `false` if `deadline` passed.
    fn receive(&mut self, deadline: Option<Instant>) -> bool {
        let report = match deadline {
            None => self
                .reports
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(d) => self.reports.recv_deadline(d),
        };
        match report {
            Ok((index, outcome)) => {
                if outcome.is_err() && self.first_failure.is_none() {
                    self.first_failure = Some(index);
                }
                self.slots[index] = Some(outcome);
                self.outstanding -= 1;
                true
            }
            // We hold a sender, so the channel never disconnects.
            Err(_) => false,
        }
    }

    /// The next task to finish, as it finishes: its index and outcome; `None` once every
    /// spawned task has been reported (by this method or by nothing else yet).
    ///
    /// # Examples
    /// ```
    /// let mut g = routines::structured::TaskGroup::<u8, ()>::new();
    /// g.spawn(|_| Ok(1));
    /// assert!(matches!(g.join_next(), Some((0, Ok(1)))));
    /// assert!(g.join_next().is_none());
    /// ```
    pub fn join_next(&mut self) -> Option<(usize, Result<T, Failure<E>>)> {
        self.join_next_until(None).flatten()
    }

    /// [`join_next`](Self::join_next), waiting at most `timeout`: `None` if the time ran out,
    /// `Some(None)` if nothing is left to report.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let mut g = routines::structured::TaskGroup::<(), ()>::new();
    /// assert!(matches!(g.join_next_timeout(Duration::ZERO), Some(None)));
    /// ```
    #[allow(
        clippy::type_complexity,
        reason = "timeout, then nothing-left, then the report: each layer means something"
    )]
    pub fn join_next_timeout(
        &mut self,
        timeout: Duration,
    ) -> Option<Option<(usize, Result<T, Failure<E>>)>> {
        self.join_next_until(deadline_after(timeout))
    }

    #[allow(clippy::type_complexity, reason = "as join_next_timeout")]
    fn join_next_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> Option<Option<(usize, Result<T, Failure<E>>)>> {
        loop {
            // Reports already received but not handed out (by `join_timeout`) go first.
            if let Some(index) = self.slots.iter().position(Option::is_some) {
                // Handed out: the slot stays `None`, which `join`/`join_all` skip.
                let outcome = self.slots[index].take().expect("checked");
                return Some(Some((index, outcome)));
            }
            if self.outstanding == 0 {
                return Some(None);
            }
            if !self.receive(deadline) {
                return None;
            }
        }
    }

    /// Waits for every task; their values in spawn order, or the first failure in time (an
    /// error is returned, a panic re-raised with its original payload). Tasks already
    /// handed out by `join_next` are not included.
    ///
    /// # Errors
    /// The first task error to arrive.
    ///
    /// # Panics
    /// If the first failure was a panic.
    ///
    /// # Examples
    /// ```
    /// let mut g = routines::structured::TaskGroup::<u8, &str>::new();
    /// g.spawn(|cx| { cx.token().wait(); Ok(1) }); // ends once cancelled
    /// g.spawn(|_| Err("boom"));
    /// assert_eq!(g.join(), Err("boom"));
    /// ```
    pub fn join(mut self) -> Result<Vec<T>, E> {
        self.join_until(None).expect("no deadline")
    }

    /// [`join`](Self::join), waiting at most `timeout`; `None` if tasks are still running
    /// then (the group keeps what arrived; call again).
    ///
    /// # Errors
    /// As [`join`](Self::join).
    ///
    /// # Panics
    /// As [`join`](Self::join).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let mut g = routines::structured::TaskGroup::<u8, ()>::new();
    /// let gate = routines::structured::CancelToken::new();
    /// let g2 = gate.clone();
    /// g.spawn(move |_| { g2.wait(); Ok(5) });
    /// assert!(g.join_timeout(Duration::from_millis(1)).is_none());
    /// gate.cancel();
    /// assert_eq!(g.join_timeout(Duration::MAX), Some(Ok(vec![5])));
    /// ```
    pub fn join_timeout(&mut self, timeout: Duration) -> Option<Result<Vec<T>, E>> {
        self.join_until(deadline_after(timeout))
    }

    fn join_until(&mut self, deadline: Option<Instant>) -> Option<Result<Vec<T>, E>> {
        while self.outstanding > 0 {
            if !self.receive(deadline) {
                return None;
            }
        }
        self.join_threads();
        if let Some(first) = self.first_failure {
            if let Some(Err(failure)) = self.slots[first].take() {
                return Some(match failure {
                    Failure::Error(e) => Err(e),
                    Failure::Panic(p) => p.resume(),
                });
            }
        }
        let values = self
            .slots
            .drain(..)
            .filter_map(|slot| match slot {
                Some(Ok(value)) => Some(value),
                _ => None, // handed out by join_next, or a failure already handed out
            })
            .collect();
        Some(Ok(values))
    }

    /// Waits for every task; every outcome in spawn order (never fails, never panics; tasks
    /// already handed out by `join_next` are left out).
    ///
    /// # Examples
    /// ```
    /// let mut g = routines::structured::TaskGroup::<u8, ()>::supervised();
    /// g.spawn(|_| -> Result<u8, ()> { panic!("p") });
    /// let all = g.join_all();
    /// assert!(matches!(&all[0], Err(routines::structured::Failure::Panic(_))));
    /// ```
    pub fn join_all(mut self) -> Vec<Result<T, Failure<E>>> {
        while self.outstanding > 0 {
            self.receive(None);
        }
        self.join_threads();
        self.slots.drain(..).flatten().collect()
    }
}

impl<T: Send + 'static, E: Send + 'static> Default for TaskGroup<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> TaskGroup<T, E> {
    fn join_threads(&mut self) {
        if let Runner::Threads { threads, .. } = &mut self.runner {
            for t in threads.drain(..) {
                // Tasks run under catch_unwind: the thread itself never panics.
                let _ = t.join();
            }
        }
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    /// Cancels the group's token and waits for every task still running.
    fn drop(&mut self) {
        if self.outstanding > 0 {
            self.token.cancel();
            if let Runner::Scheduler { .. } = self.runner {
                // Every task sends a report as its last act.
                while self.outstanding > 0 && self.reports.recv().is_ok() {
                    self.outstanding -= 1;
                }
            }
        }
        self.join_threads();
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("tasks", &self.slots.len())
            .field("running", &self.outstanding)
            .field("fail_fast", &self.fail_fast)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}
