//! `Scheduler`: the work-stealing scheduler's public handle, and the `join` and `broadcast`
//! algorithms.

use ::core::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::job::{catch, JobResult, StackJob};
use super::latch::{CountLatch, SpinLatch};
use super::registry::{Nested, Own, Registry, WorkerThread};
use super::scope::{run_scope, Scope};
use super::workers::WorkerConfig;
use crate::future::{promise, Future, Panic};

/// A work-stealing scheduler: a fixed set of workers, each with its own deque (LIFO for
/// itself, oldest-first for thieves), a global injector for work from outside, and idle
/// workers that search a bounded number at a time and then sleep.
///
/// The API follows rayon's: [`join`](Self::join), [`scope`](Self::scope),
/// [`spawn`](Self::spawn), [`spawn_future`](Self::spawn_future),
/// [`install`](Self::install), [`broadcast`](Self::broadcast). The free functions of
/// [`scheduler`](super) do the same on the scheduler the caller runs on, or on a global one
/// built on first use.
///
/// **Waits run other work.** A worker waiting in `join`, `scope` or `broadcast` for a job
/// another worker took runs other jobs meanwhile, possibly unrelated ones; code holding a
/// lock across such a wait may see another job take the same lock on the same thread (a
/// re-entrant `Mutex` deadlocks; rayon issue #592). Wrap such code in
/// [`without_stealing`](super::without_stealing).
///
/// Dropping the scheduler lets the workers finish every spawned job, then exit, without
/// waiting for them; [`shutdown`](Self::shutdown) waits.
///
/// # Examples
/// ```
/// use routines::scheduler::Scheduler;
///
/// fn fib(s: &Scheduler, n: u32) -> u64 {
///     if n < 2 {
///         return n.into();
///     }
///     let (a, b) = s.join(|| fib(s, n - 1), || fib(s, n - 2));
///     a + b
/// }
/// let s = Scheduler::new(2);
/// assert_eq!(fib(&s, 20), 6765);
/// s.shutdown();
/// ```
pub struct Scheduler {
    pub(super) registry: Arc<Registry>,
    /// Ownership already given up (by `shutdown`).
    released: bool,
}

/// Configures a [`Scheduler`]: [`Scheduler::builder`].
#[derive(Default)]
pub struct SchedulerBuilder {
    config: WorkerConfig,
}

impl SchedulerBuilder {
    /// Number of workers; 0 (the default) means `std::thread::available_parallelism()`.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::builder().threads(3).build();
    /// assert_eq!(s.threads(), 3);
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.config.threads = n;
        self
    }

    /// Worker threads are named `{prefix}{index}`.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::builder().threads(1).name_prefix("ws-").build();
    /// let name = s.install(|| std::thread::current().name().map(String::from));
    /// assert_eq!(name.as_deref(), Some("ws-0"));
    /// ```
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.name_prefix = Some(prefix.into());
        self
    }

    /// Stack size of each worker, in bytes.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::builder().stack_size(4 << 20).build();
    /// # drop(s);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.config.stack_size = Some(bytes);
        self
    }

    /// Runs on each worker when it starts, with the worker's index. A panic in it goes to
    /// the panic handler (if any); the worker carries on.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::builder().on_start(|_| {}).build();
    /// # drop(s);
    /// ```
    pub fn on_start(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.config.on_start = Some(Arc::new(hook));
        self
    }

    /// Runs on each worker when it exits, with the worker's index. A panic in it goes to
    /// the panic handler (if any).
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::builder().on_exit(|_| {}).build();
    /// s.shutdown();
    /// ```
    pub fn on_exit(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.config.on_exit = Some(Arc::new(hook));
        self
    }

    /// Receives the panic of every [`spawn`](Scheduler::spawn)ed job that panics. Without
    /// a handler such panics are reported by the panic hook only; the worker survives
    /// either way. (Panics in `join`, `scope`, `install`, `broadcast` and `spawn_future`
    /// reach their caller instead.)
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let s2 = Arc::clone(&seen);
    /// let s = routines::scheduler::Scheduler::builder()
    ///     .panic_handler(move |_| { s2.fetch_add(1, Ordering::SeqCst); })
    ///     .build();
    /// s.spawn(|| panic!("job panics"));
    /// s.shutdown();
    /// assert_eq!(seen.load(Ordering::SeqCst), 1);
    /// ```
    pub fn panic_handler(mut self, handler: impl Fn(Panic) + Send + Sync + 'static) -> Self {
        self.config.panic_handler = Some(Arc::new(handler));
        self
    }

    /// Starts the workers.
    ///
    /// # Panics
    /// If the OS cannot create a worker thread.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::builder().build();
    /// assert!(s.threads() >= 1);
    /// ```
    pub fn build(self) -> Scheduler {
        Scheduler {
            released: false,
            registry: Registry::start(self.config),
        }
    }
}

impl fmt::Debug for SchedulerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SchedulerBuilder")
            .field(&self.config)
            .finish()
    }
}

/// What a [`broadcast`](Scheduler::broadcast) job learns about where it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BroadcastContext {
    index: usize,
    num_threads: usize,
}

impl BroadcastContext {
    /// The index of the worker running this call (each index exactly once per broadcast).
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::new(2);
    /// assert_eq!(s.broadcast(|ctx| ctx.index()), [0, 1]);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The number of workers (and of calls in this broadcast).
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::new(3);
    /// assert_eq!(s.broadcast(|ctx| ctx.num_threads()), [3, 3, 3]);
    /// ```
    pub fn num_threads(&self) -> usize {
        self.num_threads
    }
}

impl Scheduler {
    /// A scheduler with `threads` workers (0: available parallelism).
    ///
    /// # Panics
    /// If the OS cannot create a worker thread.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::scheduler::Scheduler::new(2).threads(), 2);
    /// ```
    pub fn new(threads: usize) -> Self {
        Self::builder().threads(threads).build()
    }

    /// A builder (threads, names, stack size, hooks, panic handler).
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::builder().threads(1).build();
    /// # drop(s);
    /// ```
    pub fn builder() -> SchedulerBuilder {
        SchedulerBuilder::default()
    }

    /// Number of workers.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::scheduler::Scheduler::new(1).threads(), 1);
    /// ```
    pub fn threads(&self) -> usize {
        self.registry.threads()
    }

    /// Runs `op` on one of the workers and returns its result (its panic is resumed
    /// here). Called from one of this scheduler's workers, runs `op` in place. Otherwise
    /// the calling thread blocks until `op` finished; it runs nothing else meanwhile.
    /// Allocation: none from a worker; one latch from elsewhere.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::new(2);
    /// assert_eq!(s.install(|| routines::scheduler::current_thread_index().is_some()), true);
    /// ```
    pub fn install<R, OP>(&self, op: OP) -> R
    where
        OP: FnOnce() -> R + Send,
        R: Send,
    {
        self.registry.in_worker(|_| op())
    }

    /// Runs `a` and `b`, potentially in parallel, and returns both results. `b` is offered
    /// to idle workers while the calling worker runs `a`; if nobody took it, the caller runs
    /// it next. If either panics, the panic is resumed once both finished (`a`'s if both
    /// did). No allocation on a worker.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::new(2);
    /// let v = vec![1, 2, 3, 4];
    /// let (l, r) = s.join(|| v[..2].iter().sum::<i32>(), || v[2..].iter().sum::<i32>());
    /// assert_eq!(l + r, 10);
    /// ```
    pub fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        self.registry
            .in_worker(|worker| join_in_worker(worker, a, b))
    }

    /// Runs `op` with a [`Scope`] whose jobs may borrow from the caller; returns once `op`
    /// and every job spawned in the scope finished. See [`Scope`] for panics.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::new(2);
    /// let words = ["a", "bb", "ccc"];
    /// let mut lens = [0; 3];
    /// s.scope(|sc| {
    ///     for (w, l) in words.iter().zip(lens.iter_mut()) {
    ///         sc.spawn(move |_| *l = w.len());
    ///     }
    /// });
    /// assert_eq!(lens, [1, 2, 3]);
    /// ```
    pub fn scope<'scope, OP, R>(&self, op: OP) -> R
    where
        OP: FnOnce(&Scope<'scope>) -> R + Send,
        R: Send,
    {
        self.registry.in_worker(|worker| run_scope(worker, op))
    }

    /// Runs `f` on a worker, fire and forget. A panic goes to the panic handler (see the
    /// builder). One allocation (the boxed job), plus the injector's own (one block per
    /// 63 jobs).
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::new(1);
    /// let (tx, rx) = routines::channel::bounded(1);
    /// s.spawn(move || tx.send(5).unwrap());
    /// assert_eq!(rx.recv(), Ok(5));
    /// ```
    pub fn spawn<F>(&self, f: F)
    where
        F: FnOnce() + Send + 'static,
    {
        self.registry.spawn(f);
    }

    /// Runs `f` on a worker; its result (or its panic, with the original payload) through a
    /// [`Future`]. Two allocations (the future's state and the job).
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::new(1);
    /// assert_eq!(s.spawn_future(|| 6 * 7).wait().unwrap(), 42);
    /// ```
    pub fn spawn_future<T, F>(&self, f: F) -> Future<T, Panic>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        spawn_future_on(&self.registry, f)
    }

    /// Runs `f` once on every worker and returns the results in worker order. Waits for
    /// every worker to take its turn (a worker busy with a long job delays the broadcast).
    /// A panic is resumed here after all calls finished (the lowest index's). One
    /// allocation (the vector of jobs), plus one latch from outside the scheduler.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::new(2);
    /// let names = s.broadcast(|ctx| ctx.index() * 10);
    /// assert_eq!(names, [0, 10]);
    /// ```
    pub fn broadcast<R, F>(&self, f: F) -> Vec<R>
    where
        F: Fn(BroadcastContext) -> R + Sync,
        R: Send,
    {
        self.registry
            .in_worker(|worker| broadcast_in_worker(worker, &f))
    }

    /// The calling thread's worker index, if it is one of this scheduler's workers.
    ///
    /// # Examples
    /// ```
    /// let s = routines::scheduler::Scheduler::new(2);
    /// assert_eq!(s.current_thread_index(), None);
    /// assert!(s.install(|| s.current_thread_index()).unwrap() < 2);
    /// ```
    pub fn current_thread_index(&self) -> Option<usize> {
        WorkerThread::current()
            .filter(|w| ::core::ptr::eq(&*w.registry, &*self.registry))
            .map(|w| w.index)
    }

    /// A handle that spawns onto this scheduler and keeps its workers' shared state alive
    /// (for `structured::TaskGroup`, whose tasks outlive any borrow of the scheduler).
    pub(crate) fn spawn_handle(&self) -> SpawnHandle {
        self.registry.acquire();
        SpawnHandle(Arc::clone(&self.registry))
    }

    /// Lets the workers finish every spawned job, then waits for them to exit. Called from
    /// one of the scheduler's own workers it cannot wait (the job calling it is itself
    /// unfinished work) and returns at once, as a drop does. A
    /// [`TaskGroup`](crate::structured::TaskGroup) running on this scheduler keeps it alive
    /// until the group is dropped: `shutdown` waits for that too.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let s = routines::scheduler::Scheduler::new(2);
    /// let n = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..100 {
    ///     let n = Arc::clone(&n);
    ///     s.spawn(move || { n.fetch_add(1, Ordering::Relaxed); });
    /// }
    /// s.shutdown();
    /// assert_eq!(n.load(Ordering::Relaxed), 100);
    /// ```
    pub fn shutdown(mut self) {
        self.released = true;
        self.registry.release();
        if self.current_thread_index().is_none() {
            self.registry.join_workers();
        }
    }
}

impl Drop for Scheduler {
    /// Lets the workers finish every spawned job and exit, without waiting for them.
    fn drop(&mut self) {
        if !self.released {
            self.registry.release();
        }
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("threads", &self.threads())
            .finish_non_exhaustive()
    }
}

/// See [`Scheduler::spawn_handle`]: an owner of the scheduler (its workers stay while any
/// owner lives), so spawning through it always reaches a worker.
pub(crate) struct SpawnHandle(Arc<Registry>);

impl SpawnHandle {
    pub(crate) fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        self.0.spawn(f);
    }
}

impl Clone for SpawnHandle {
    fn clone(&self) -> Self {
        self.0.acquire();
        SpawnHandle(Arc::clone(&self.0))
    }
}

impl Drop for SpawnHandle {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl fmt::Debug for SpawnHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SpawnHandle").finish_non_exhaustive()
    }
}

pub(super) fn spawn_future_on<T, F>(registry: &Registry, f: F) -> Future<T, Panic>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (promise, future) = promise();
    registry.spawn(move || match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => promise.resolve(value),
        Err(payload) => promise.reject(Panic::new(payload)),
    });
    future
}

/// `join` on a worker: `b` goes on our deque, we run `a`, then take `b` back if nobody
/// stole it, else wait for its latch (running other jobs meanwhile, unless not stealing).
pub(super) fn join_in_worker<A, B, RA, RB>(worker: &WorkerThread, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let job_b = StackJob::new(b, SpinLatch::new(&worker.registry.sleep, worker.index));
    // SAFETY: `job_b` stays in this frame until its latch is set, or until we pop it back
    // and run it inline; we do not return (or unwind: `a`'s panic is caught) before that.
    let b_ref = unsafe { job_b.as_job_ref() };
    worker.push_join_half(b_ref);
    let ra = catch(a);
    // Everything pushed after `b` was consumed before `a` returned (nested waits), so our
    // deque's newest job is `b` unless a thief took it; then the thief also took every
    // older job, and our deque is empty.
    if !job_b.latch.probe() {
        match worker.pop() {
            Some(job) if job == b_ref => {
                // Nobody took `b`: run it here. Nothing is outstanding any more, so `b`'s
                // panic may unwind directly, unless `a`'s must win.
                return match ra {
                    JobResult::Done(va) => (va, job_b.run_inline()),
                    failed => {
                        let _ = catch(move || job_b.run_inline());
                        failed.into_value(); // resumes `a`'s panic
                        unreachable!("a failed job's value was taken")
                    }
                };
            }
            Some(job) => {
                // Not expected (see above); run it as any wait would, or put it back.
                if worker.stealing.get() {
                    // SAFETY: popped from our deque just now.
                    unsafe { worker.execute(job) };
                } else {
                    worker.push(job);
                }
            }
            None => {}
        }
        worker.wait_until(|| job_b.latch.probe(), Nested::Wait(Own::Job(b_ref)));
    }
    (ra.into_value(), job_b.into_result())
}

/// `broadcast` on a worker: one job per worker's inbox, ours run in place.
pub(super) fn broadcast_in_worker<R, F>(worker: &WorkerThread, f: &F) -> Vec<R>
where
    F: Fn(BroadcastContext) -> R + Sync,
    R: Send,
{
    let registry = &*worker.registry;
    let num_threads = registry.threads();
    let latch = CountLatch::new(num_threads, &registry.sleep, worker.index);
    let jobs: Vec<_> = (0..num_threads)
        .map(|index| StackJob::new(move || f(BroadcastContext { index, num_threads }), &latch))
        .collect();
    for (index, job) in jobs.iter().enumerate() {
        // SAFETY: `jobs` stays put until the latch reports every job finished (below).
        let job = unsafe { job.as_job_ref() };
        if index == worker.index {
            // SAFETY: never queued: this is its only run.
            unsafe { job.run() };
        } else {
            registry.post(index, job);
        }
    }
    worker.wait_until(|| latch.probe(), Nested::Wait(Own::Nothing));
    jobs.into_iter().map(StackJob::into_result).collect()
}
