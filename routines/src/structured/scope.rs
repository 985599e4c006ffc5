//! `scope`: tasks on OS threads that may borrow from the caller's stack, never outliving
//! the call, with a failure policy, a concurrency limit and a deadline.
//!
//! Built on `std::thread::scope`, which provides the borrowing and the "join everything
//! before returning" guarantee. Every task runs under `catch_unwind`, so no thread of the
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
use crate::core::deadline_after;
use crate::future::Panic;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
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
        let (value, mut failures) = self.execute(Policy::FailFast, body);
        match (value, failures.pop()) {
            (_, Some(TaskFailure { failure, .. })) => match failure {
                Failure::Error(e) => Err(e),
                Failure::Panic(p) => p.resume(),
            },
            (Some(value), None) => Ok(value),
            (None, None) => unreachable!("the body either returned a value or failed"),
        }
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
        let (value, mut failures) = self.execute(Policy::Supervise, body);
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

    /// Runs the body and every task; the body's value (`None` if it failed) and the
    /// recorded failures. Fail-fast records only the first failure (then the vector holds
    /// one entry); supervise records every task failure and the body's (index `BODY`).
    fn execute<'env, T, E, F>(self, policy: Policy, body: F) -> (Option<T>, Vec<TaskFailure<E>>)
    where
        E: Send + 'env,
        F: for<'scope> FnOnce(&Scope<'scope, 'env, E>) -> Result<T, E>,
    {
        let base = self.parent.unwrap_or_default();
        let token = match self.deadline {
            Some(d) => base.with_deadline(d),
            None => base.child(),
        };
        let shared = Arc::new(Shared {
            token,
            policy,
            failures: Mutex::new(Vec::new()),
            limit: self.limit.map(Semaphore::new),
            spawned: AtomicUsize::new(0),
        });
        let value = std::thread::scope(|std_scope| {
            let scope = Scope {
                std: std_scope,
                shared: Arc::clone(&shared),
            };
            match catch_unwind(AssertUnwindSafe(|| body(&scope))) {
                Ok(Ok(value)) => Some(value),
                Ok(Err(e)) => {
                    shared.record(BODY, Failure::Error(e));
                    None
                }
                Err(payload) => {
                    shared.record(BODY, Failure::Panic(Panic::new(payload)));
                    None
                }
            }
            // `std::thread::scope` joins every task here.
        });
        let failures = ::core::mem::take(&mut *shared.failures.lock());
        (value, failures)
    }
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

/// A scope's spawning handle (see [`scope`]). Tasks cannot outlive the scope, so `spawn`
/// after it finished is impossible by construction (the borrow checker refuses it). Cheap to
/// clone: a task that should spawn more tasks takes a clone along.
pub struct Scope<'scope, 'env, E> {
    std: &'scope std::thread::Scope<'scope, 'env>,
    shared: Arc<Shared<E>>,
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

    /// Spawns a task on a new OS thread; it may borrow anything that outlives the scope.
    /// Blocks while the scope's concurrency limit is reached.
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
        if let Some(limit) = &self.shared.limit {
            limit.acquire().forget(); // given back by the task
        }
        self.start(task);
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
        if let Some(limit) = &self.shared.limit {
            match limit.try_acquire() {
                Some(permit) => permit.forget(), // given back by the task
                None => return Err(task),
            }
        }
        self.start(task);
        Ok(())
    }

    fn start<F, R>(&self, task: F)
    where
        F: FnOnce(&TaskContext) -> R + Send + 'scope,
        R: TaskOutput<E>,
    {
        let shared = Arc::clone(&self.shared);
        // Relaxed: a unique index is all that is needed.
        let index = shared.spawned.fetch_add(1, Ordering::Relaxed);
        let cx = TaskContext::new(shared.token.clone(), index);
        self.std.spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| task(&cx).into_result()));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(e)) => shared.record(index, Failure::Error(e)),
                Err(payload) => shared.record(index, Failure::Panic(Panic::new(payload))),
            }
            if let Some(limit) = &shared.limit {
                limit.add_permits(1);
            }
        });
    }
}

impl<E> Clone for Scope<'_, '_, E> {
    fn clone(&self) -> Self {
        Self {
            std: self.std,
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
