//! `scope`: tasks on OS threads (or on a work-stealing scheduler: `scope_in`) that may
//! borrow from the caller's stack, never outliving the call, with a failure policy, a
//! concurrency limit and a deadline.
//!
//! Built on `std::thread::scope` (or a scheduler scope), which provides the borrowing and
//! the "join everything before returning" guarantee. Every task runs under `catch_unwind`, so no thread of the
//! std scope ever panics; its failure is recorded in the scope's failure list instead:
//!
//! * fail-fast (default): the first failure in time (a task's error or panic, or the
//!   body's) cancels the scope's token; after every task has finished, a first panic is
//!   re-raised with its original payload and a first error is returned.
//! * supervise: failures cancel nothing; they are collected (with the task's index) and
//!   handed back after every task has finished.

use ::core::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cancel::CancelToken;
use super::throttle::Throttle;
use crate::core::deadline_after;
use crate::future::Panic;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::scheduler::{Scheduler, Scope as SchedScope};
use crate::sync::{Mutex, Semaphore};

/// The failure index under which the body's own failure is recorded.
const BODY: usize = usize::MAX;

/// What a task closure may return: `()` (never fails) or `Result<(), E>`.
pub trait TaskOutput<E> {
    /// The task's outcome.
    fn into_result(self) -> Result<(), E>;
}

impl<E> TaskOutput<E> for () {
    fn into_result(self) -> Result<(), E> {
        Ok(())
    }
}

impl<E> TaskOutput<E> for Result<(), E> {
    fn into_result(self) -> Result<(), E> {
        self
    }
}

/// How a task (or the scope's body) failed.
pub enum Failure<E> {
    /// It returned this error.
    Error(E),
    /// It panicked; the original payload.
    Panic(Panic),
}

impl<E: fmt::Debug> fmt::Debug for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error(e) => f.debug_tuple("Error").field(e).finish(),
            Self::Panic(p) => f.debug_tuple("Panic").field(p).finish(),
        }
    }
}

/// A failed task of a supervised scope: its spawn index and how it failed.
#[derive(Debug)]
pub struct TaskFailure<E> {
    /// The task's index: 0 for the first `spawn` of the scope, and so on.
    pub index: usize,
    /// What went wrong.
    pub failure: Failure<E>,
}

/// What a task sees of its scope: the scope's cancellation token and its own index.
#[derive(Debug)]
pub struct TaskContext {
    token: CancelToken,
    index: usize,
}

impl TaskContext {
    pub(super) fn new(token: CancelToken, index: usize) -> Self {
        Self { token, index }
    }

    /// The scope's token: cancelled when a sibling fails (fail-fast), the body fails, the
    /// scope's deadline passes, or the parent token is cancelled.
    ///
    /// # Examples
    /// ```
    /// let r: Result<(), ()> = routines::structured::scope(|s| {
    ///     s.spawn(|cx| assert!(!cx.token().is_cancelled()));
    ///     Ok(())
    /// });
    /// ```
    pub fn token(&self) -> &CancelToken {
        &self.token
    }

    /// `self.token().is_cancelled()`.
    ///
    /// # Examples
    /// ```
    /// let r: Result<(), ()> = routines::structured::scope(|s| {
    ///     s.token().cancel();
    ///     s.spawn(|cx| assert!(cx.is_cancelled()));
    ///     Ok(())
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// This task's spawn index within its scope.
    ///
    /// # Examples
    /// ```
    /// let r: Result<(), ()> = routines::structured::scope(|s| {
    ///     s.spawn(|cx| assert_eq!(cx.index(), 0));
    ///     s.spawn(|cx| assert_eq!(cx.index(), 1));
    ///     Ok(())
    /// });
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    FailFast,
    Supervise,
}

/// How a scope runs: policy, concurrency limit, deadline, parent token. Made by
/// [`Scope::builder`]; [`run`](ScopeBuilder::run) is fail-fast,
/// [`run_supervised`](ScopeBuilder::run_supervised) collects failures.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use routines::structured::Scope;
/// let mut hits = vec![0; 4];
/// Scope::builder().limit(2).timeout(Duration::from_secs(60)).run(|s| {
///     for (i, h) in hits.iter_mut().enumerate() {
///         s.spawn(move |_| *h = i * 10);
///     }
///     Ok::<_, ()>(())
/// }).unwrap();
/// assert_eq!(hits, [0, 10, 20, 30]);
/// ```
#[derive(Debug, Default)]
pub struct ScopeBuilder {
    limit: Option<usize>,
    deadline: Option<Instant>,
    parent: Option<CancelToken>,
}

impl ScopeBuilder {
    /// At most `n` tasks run at once: `spawn` blocks while `n` are running, `try_spawn`
    /// fails. `n == 0` is treated as 1 (a scope that could never run a task would hang).
    ///
    /// # Examples
    /// ```
    /// let r: Result<(), ()> = routines::structured::Scope::builder().limit(1).run(|s| {
    ///     s.spawn(|_| {});
    ///     Ok(())
    /// });
    /// ```
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n.max(1));
        self
    }

    /// Cancel the scope's token at `deadline`.
    ///
    /// # Examples
    /// ```
    /// let r: Result<bool, ()> = routines::structured::Scope::builder()
    ///     .deadline(std::time::Instant::now())
    ///     .run(|s| Ok(s.token().is_cancelled()));
    /// assert_eq!(r, Ok(true));
    /// ```
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Cancel the scope's token after `timeout` (`Duration::MAX`: never).
    ///
    /// # Examples
    /// ```
    /// let r: Result<bool, ()> = routines::structured::Scope::builder()
    ///     .timeout(std::time::Duration::MAX)
    ///     .run(|s| Ok(s.token().deadline().is_none()));
    /// assert_eq!(r, Ok(true));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = deadline_after(timeout);
        self
    }

    /// Make the scope's token a child of `parent` (cancelled with it).
    ///
    /// # Examples
    /// ```
    /// let parent = routines::structured::CancelToken::new();
    /// parent.cancel();
    /// let r: Result<bool, ()> = routines::structured::Scope::builder()
    ///     .token(&parent)
    ///     .run(|s| Ok(s.token().is_cancelled()));
    /// assert_eq!(r, Ok(true));
    /// ```
    pub fn token(mut self, parent: &CancelToken) -> Self {
        self.parent = Some(parent.clone());
        self
    }

    /// Runs `body` fail-fast (see [`scope`]).
    ///
    /// # Errors
    /// The first error in time, from a task or from `body`.
    ///
    /// # Panics
    /// If the first failure was a panic (of a task or of `body`), with its original payload,
    /// after every task has finished.
    ///
    /// # Examples
    /// ```
    /// let r = routines::structured::Scope::builder().run(|s| {
    ///     s.spawn(|_| Err("no"));
    ///     Ok(())
    /// });
    /// assert_eq!(r, Err("no"));
    /// ```
    pub fn run<'env, T, E, F>(self, body: F) -> Result<T, E>
    where
        E: Send + 'env,
        F: for<'scope> FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E>,
    {
        let (value, failures) = self.execute(Policy::FailFast, body);
        fail_fast_result(value, failures)
    }

    /// Runs `body` supervised: task failures cancel nothing and are collected, in the order
    /// they happened, and returned with the body's own result after every task finished.
    /// The body's failure still cancels the tasks (it is reported as the body's result).
    ///
    /// # Panics
    /// If `body` panics, with its original payload, after every task has finished.
    ///
    /// # Examples
    /// ```
    /// let (r, failures) = routines::structured::Scope::builder().run_supervised(|s| {
    ///     s.spawn(|_| Err("no"));
    ///     s.spawn(|_| Ok(()));
    ///     Ok::<_, &str>(1)
    /// });
    /// assert_eq!((r, failures.len()), (Ok(1), 1));
    /// ```
    pub fn run_supervised<'env, T, E, F>(self, body: F) -> (Result<T, E>, Vec<TaskFailure<E>>)
    where
        E: Send + 'env,
        F: for<'scope> FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E>,
    {
        let (value, failures) = self.execute(Policy::Supervise, body);
        supervised_result(value, failures)
    }

    /// [`run`](Self::run) with the tasks on `scheduler` (jobs of a scheduler scope)
    /// instead of one OS thread each; the body runs on one of its workers (so it must be
    /// `Send`). Over the [`limit`](Self::limit), `spawn` queues the task instead of blocking
    /// (a worker must not block on tasks that may be queued behind it).
    ///
    /// # Errors
    /// As [`run`](Self::run).
    ///
    /// # Panics
    /// As [`run`](Self::run).
    ///
    /// # Examples
    /// ```
    /// use routines::scheduler::Scheduler;
    /// let sched = Scheduler::new(2);
    /// let mut out = [0; 8];
    /// let r = routines::structured::Scope::builder().limit(2).run_in(&sched, |s| {
    ///     for (i, o) in out.iter_mut().enumerate() {
    ///         s.spawn(move |_| *o = i);
    ///     }
    ///     Ok::<_, ()>(())
    /// });
    /// assert_eq!((r, out), (Ok(()), [0, 1, 2, 3, 4, 5, 6, 7]));
    /// ```
    pub fn run_in<'env, T, E, F>(self, scheduler: &Scheduler, body: F) -> Result<T, E>
    where
        T: Send,
        E: Send + 'env,
        F: for<'scope> FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E> + Send,
    {
        let (value, failures) = self.execute_in(scheduler, Policy::FailFast, body);
        fail_fast_result(value, failures)
    }

    /// [`run_supervised`](Self::run_supervised) with the tasks on `scheduler`, as
    /// [`run_in`](Self::run_in).
    ///
    /// # Panics
    /// As [`run_supervised`](Self::run_supervised).
    ///
    /// # Examples
    /// ```
    /// let sched = routines::scheduler::Scheduler::new(2);
    /// let (r, failures) = routines::structured::Scope::builder().run_supervised_in(&sched, |s| {
    ///     s.spawn(|_| Err("no"));
    ///     Ok::<_, &str>(1)
    /// });
    /// assert_eq!((r, failures.len()), (Ok(1), 1));
    /// ```
    pub fn run_supervised_in<'env, T, E, F>(
        self,
        scheduler: &Scheduler,
        body: F,
    ) -> (Result<T, E>, Vec<TaskFailure<E>>)
    where
        T: Send,
        E: Send + 'env,
        F: for<'scope> FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E> + Send,
    {
        let (value, failures) = self.execute_in(scheduler, Policy::Supervise, body);
        supervised_result(value, failures)
    }

    /// Runs the body and every task; the body's value (`None` if it failed) and the
    /// recorded failures. Fail-fast records only the first failure (then the vector holds
    /// one entry); supervise records every task failure and the body's (index `BODY`).
    fn execute<'env, T, E, F>(self, policy: Policy, body: F) -> (Option<T>, Vec<TaskFailure<E>>)
    where
        E: Send + 'env,
        F: for<'scope> FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E>,
    {
        let limit = self.limit.map(Semaphore::new);
        let shared = self.shared(policy, limit);
        let value = std::thread::scope(|std_scope| {
            let scope = Scope {
                spawner: Spawner::Threads(std_scope),
                shared: Arc::clone(&shared),
            };
            run_body(&scope, body)
            // `std::thread::scope` joins every task here.
        });
        let failures = ::core::mem::take(&mut *shared.failures.lock());
        (value, failures)
    }

    /// `execute` with the tasks as jobs of a scope of `scheduler`.
    fn execute_in<'env, T, E, F>(
        self,
        scheduler: &Scheduler,
        policy: Policy,
        body: F,
    ) -> (Option<T>, Vec<TaskFailure<E>>)
    where
        T: Send,
        E: Send + 'env,
        F: for<'scope> FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E> + Send,
    {
        let throttle = self.limit.map(Throttle::new);
        let shared = self.shared(policy, None);
        let value = scheduler.scope(|sched_scope| {
            let scope = Scope {
                spawner: Spawner::Scheduler(OnScheduler {
                    scope: sched_scope,
                    throttle: throttle.as_ref().map(|t| t as *const _),
                }),
                shared: Arc::clone(&shared),
            };
            run_body(&scope, body)
            // The scheduler scope waits for every task here.
        });
        let failures = ::core::mem::take(&mut *shared.failures.lock());
        (value, failures)
    }

    /// The state every task of the scope reports to.
    fn shared<E>(&self, policy: Policy, limit: Option<Semaphore>) -> Arc<Shared<E>> {
        let base = self.parent.clone().unwrap_or_default();
        let token = match self.deadline {
            Some(d) => base.with_deadline(d),
            None => base.child(),
        };
        Arc::new(Shared {
            token,
            policy,
            failures: Mutex::new(Vec::new()),
            limit,
            spawned: AtomicUsize::new(0),
        })
    }
}

/// Runs the body, recording its failure.
fn run_body<'scope, 'env, T, E, F>(scope: &Scope<'scope, 'env, E>, body: F) -> Option<T>
where
    F: FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E>,
{
    match catch_unwind(AssertUnwindSafe(|| body(scope))) {
        Ok(Ok(value)) => Some(value),
        Ok(Err(e)) => {
            scope.shared.record(BODY, Failure::Error(e));
            None
        }
        Err(payload) => {
            scope
                .shared
                .record(BODY, Failure::Panic(Panic::new(payload)));
            None
        }
    }
}

/// The fail-fast outcome: the first failure, else the body's value.
fn fail_fast_result<T, E>(value: Option<T>, mut failures: Vec<TaskFailure<E>>) -> Result<T, E> {
    match (value, failures.pop()) {
        (_, Some(TaskFailure { failure, .. })) => match failure {
            Failure::Error(e) => Err(e),
            Failure::Panic(p) => p.resume(),
        },
        (Some(value), None) => Ok(value),
        (None, None) => unreachable!("the body either returned a value or failed"),
    }
}

/// The supervised outcome: the body's result and the tasks' failures.
fn supervised_result<T, E>(
    value: Option<T>,
    mut failures: Vec<TaskFailure<E>>,
) -> (Result<T, E>, Vec<TaskFailure<E>>) {
    let result = match value {
        Some(value) => Ok(value),
        None => {
            // The body's failure, recorded under the index `BODY` (tasks may have
            // failed after it, so it need not be the last entry).
            let at = failures.iter().position(|f| f.index == BODY);
            match at.map(|i| failures.remove(i).failure) {
                Some(Failure::Error(e)) => Err(e),
                Some(Failure::Panic(p)) => p.resume(),
                None => unreachable!("the body either returned a value or failed"),
            }
        }
    };
    (result, failures)
}

/// Runs `body` with a [`Scope`] whose tasks may borrow from the caller, and returns only
/// after every task has finished. **Fail-fast**: the first failure (a task's error or
/// panic, or the body's) cancels the scope's token, which every task can watch through its
/// [`TaskContext`]; the scope then waits for all tasks and reports that first failure.
///
/// # Errors
/// The first error in time, from a task or from `body`.
///
/// # Panics
/// If the first failure was a panic, with its original payload, after every task finished.
///
/// # Examples
/// ```
/// use routines::structured::scope;
/// let data = [1, 2, 3];
/// let mut total = 0;
/// let r: Result<(), &str> = scope(|s| {
///     s.spawn(|ctx| {
///         if ctx.is_cancelled() { return Ok(()); }
///         total = data.iter().sum(); // borrows from the caller
///         Ok(())
///     });
///     s.spawn(|_| Err("second task failed"));
///     Ok(())
/// });
/// assert_eq!(r, Err("second task failed"));
/// ```
pub fn scope<'env, T, E, F>(body: F) -> Result<T, E>
where
    E: Send + 'env,
    F: for<'scope> FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E>,
{
    Scope::builder().run(body)
}

/// [`scope`] with the tasks on `scheduler` (jobs of a scheduler scope) instead of one OS
/// thread each; see [`ScopeBuilder::run_in`].
///
/// # Errors
/// As [`scope`].
///
/// # Panics
/// As [`scope`].
///
/// # Examples
/// ```
/// let sched = routines::scheduler::Scheduler::new(2);
/// let data = [1, 2, 3, 4];
/// let total = std::sync::atomic::AtomicI32::new(0);
/// let r: Result<(), ()> = routines::structured::scope_in(&sched, |s| {
///     for x in &data {
///         let total = &total;
///         s.spawn(move |_| { total.fetch_add(*x, std::sync::atomic::Ordering::Relaxed); });
///     }
///     Ok(())
/// });
/// assert_eq!((r, total.into_inner()), (Ok(()), 10));
/// ```
pub fn scope_in<'env, T, E, F>(scheduler: &Scheduler, body: F) -> Result<T, E>
where
    T: Send,
    E: Send + 'env,
    F: for<'scope> FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E> + Send,
{
    Scope::builder().run_in(scheduler, body)
}

/// A scope's spawning handle (see [`scope`]). Tasks cannot outlive the scope, so `spawn`
/// after it finished is impossible by construction (the borrow checker refuses it). Cheap to
/// clone: a task that should spawn more tasks takes a clone along.
pub struct Scope<'scope, 'env, E> {
    spawner: Spawner<'scope, 'env>,
    shared: Arc<Shared<E>>,
}

/// Where a scope's tasks run.
#[derive(Clone, Copy)]
enum Spawner<'scope, 'env> {
    /// One OS thread per task (`scope`, `run`).
    Threads(&'scope std::thread::Scope<'scope, 'env>),
    /// Jobs of a scheduler scope (`scope_in`, `run_in`).
    Scheduler(OnScheduler<'scope>),
}

/// A queued task of a scope on a scheduler, run with the scheduler scope.
type SchedJob<'scope> = Box<dyn FnOnce(&SchedScope<'scope>) + Send + 'scope>;

/// A scope's handle on its scheduler scope and limit.
#[derive(Clone, Copy)]
struct OnScheduler<'scope> {
    /// Lives in `execute_in`'s call to `Scheduler::scope` until every job finished.
    scope: *const SchedScope<'scope>,
    /// Lives in `execute_in`'s frame, which outlasts that call.
    throttle: Option<*const Throttle<SchedJob<'scope>>>,
}

// SAFETY: both pointees are Sync (a scheduler scope; a Mutex-guarded queue of Send jobs)
// and outlive every copy of this handle: copies live in the `Scope` given to the body and
// in the scope's tasks, all of which end before the scheduler scope returns.
unsafe impl Send for OnScheduler<'_> {}
// SAFETY: as above.
unsafe impl Sync for OnScheduler<'_> {}

impl<'scope> OnScheduler<'scope> {
    fn sched_scope(&self) -> &SchedScope<'scope> {
        // SAFETY: the scheduler scope outlives this handle (see the Send impl).
        unsafe { &*self.scope }
    }

    fn throttle(&self) -> Option<&Throttle<SchedJob<'scope>>> {
        // SAFETY: the throttle outlives this handle (see the Send impl).
        self.throttle.map(|t| unsafe { &*t })
    }

    /// Starts `job` as a job of the scheduler scope; when it ends, its throttle slot goes to
    /// the next queued task, started the same way.
    fn launch(self, job: SchedJob<'scope>) {
        self.sched_scope().spawn(move |s| {
            job(s);
            // (Methods, not fields: the closure must capture the whole Send handle.)
            if let Some(next) = self.throttle().and_then(Throttle::leave) {
                self.launch(next);
            }
        });
    }
}

/// The state tasks report to (owned by every task, so that no task borrows the `Scope`).
struct Shared<E> {
    token: CancelToken,
    policy: Policy,
    failures: Mutex<Vec<TaskFailure<E>>>,
    /// The concurrency limit's permits; a task gives its permit back when it ends.
    limit: Option<Semaphore>,
    /// Tasks spawned so far (the next task's index).
    spawned: AtomicUsize,
}

impl<E> Shared<E> {
    /// Records a failure under the policy: fail-fast keeps the first and cancels;
    /// supervise keeps every failure, and cancels only for the body's.
    fn record(&self, index: usize, failure: Failure<E>) {
        let mut failures = self.failures.lock();
        let keep = self.policy == Policy::Supervise || failures.is_empty();
        if keep {
            failures.push(TaskFailure { index, failure });
        }
        drop(failures);
        if self.policy == Policy::FailFast || index == BODY {
            self.token.cancel();
        }
    }
}

impl Scope<'_, '_, ()> {
    /// A scope configured step by step: `Scope::builder().limit(4).run(|s| ...)`.
    ///
    /// # Examples
    /// ```
    /// let r: Result<u8, ()> = routines::structured::Scope::builder().run(|_| Ok(3));
    /// assert_eq!(r, Ok(3));
    /// ```
    pub fn builder() -> ScopeBuilder {
        ScopeBuilder::default()
    }
}

impl<'scope, 'env, E: Send + 'env> Scope<'scope, 'env, E> {
    /// The scope's cancellation token (tasks get it through their [`TaskContext`]).
    ///
    /// # Examples
    /// ```
    /// let r: Result<(), ()> = routines::structured::scope(|s| {
    ///     assert!(!s.token().is_cancelled());
    ///     Ok(())
    /// });
    /// ```
    pub fn token(&self) -> &CancelToken {
        &self.shared.token
    }

    /// Spawns a task on a new OS thread (or as a job of the scope's scheduler); it may
    /// borrow anything that outlives the scope. While the scope's concurrency limit is
    /// reached it blocks (on a scheduler: queues the task, which starts when a running one
    /// ends).
    ///
    /// # Examples
    /// ```
    /// let mut x = 0;
    /// let r: Result<(), ()> = routines::structured::scope(|s| {
    ///     s.spawn(|_| x += 1);
    ///     Ok(())
    /// });
    /// assert_eq!(x, 1);
    /// ```
    pub fn spawn<F, R>(&self, task: F)
    where
        F: FnOnce(&TaskContext) -> R + Send + 'scope,
        R: TaskOutput<E>,
    {
        match self.spawner {
            Spawner::Threads(std_scope) => {
                if let Some(limit) = &self.shared.limit {
                    limit.acquire().forget(); // given back by the task
                }
                std_scope.spawn(self.runner(task));
            }
            Spawner::Scheduler(on) => {
                let run = self.runner(task);
                match on.throttle() {
                    None => on.sched_scope().spawn(move |_| run()),
                    Some(throttle) => {
                        if let Some(job) = throttle.enter(Box::new(move |_| run())) {
                            on.launch(job);
                        }
                    }
                }
            }
        }
    }

    /// Spawns a task unless the concurrency limit is reached; then gives the task back.
    ///
    /// # Errors
    /// `Err(task)` when `limit` tasks are running.
    ///
    /// # Examples
    /// ```
    /// let r: Result<(), ()> = routines::structured::scope(|s| {
    ///     assert!(s.try_spawn(|_| {}).is_ok()); // no limit
    ///     Ok(())
    /// });
    /// ```
    pub fn try_spawn<F, R>(&self, task: F) -> Result<(), F>
    where
        F: FnOnce(&TaskContext) -> R + Send + 'scope,
        R: TaskOutput<E>,
    {
        match self.spawner {
            Spawner::Threads(std_scope) => {
                if let Some(limit) = &self.shared.limit {
                    match limit.try_acquire() {
                        Some(permit) => permit.forget(), // given back by the task
                        None => return Err(task),
                    }
                }
                std_scope.spawn(self.runner(task));
            }
            Spawner::Scheduler(on) => match on.throttle() {
                Some(throttle) if !throttle.try_enter() => return Err(task),
                Some(_) => {
                    let run = self.runner(task);
                    on.launch(Box::new(move |_| run()));
                }
                None => {
                    let run = self.runner(task);
                    on.sched_scope().spawn(move |_| run());
                }
            },
        }
        Ok(())
    }

    /// The task as a closure that runs it, records its failure and gives its blocking-limit
    /// permit back.
    fn runner<F, R>(&self, task: F) -> impl FnOnce() + Send + 'scope
    where
        F: FnOnce(&TaskContext) -> R + Send + 'scope,
        R: TaskOutput<E>,
    {
        let shared = Arc::clone(&self.shared);
        // Relaxed: a unique index is all that is needed.
        let index = shared.spawned.fetch_add(1, Ordering::Relaxed);
        let cx = TaskContext::new(shared.token.clone(), index);
        move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| task(&cx).into_result()));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(e)) => shared.record(index, Failure::Error(e)),
                Err(payload) => shared.record(index, Failure::Panic(Panic::new(payload))),
            }
            if let Some(limit) = &shared.limit {
                limit.add_permits(1);
            }
        }
    }
}

impl<E> Clone for Scope<'_, '_, E> {
    fn clone(&self) -> Self {
        Self {
            spawner: self.spawner,
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<E> fmt::Debug for Scope<'_, '_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("token", &self.shared.token)
            .field("policy", &self.shared.policy)
            .finish_non_exhaustive()
    }
}
