//! `ThreadPool`: a fixed set of worker threads over one shared queue.
//!
//! # Protocol
//!
//! Jobs go into a [`SegQueue`] (unbounded MPMC), a small closure inline in its slot (see
//! `pool_job.rs`: no allocation per job), a larger one boxed. One word, `gate`, holds two
//! flags and a count of submissions in progress:
//!
//! | bits   | meaning                                                              |
//! |--------|----------------------------------------------------------------------|
//! | bit 0  | `SHUT`: no new work; workers finish the queue, then exit              |
//! | bit 1  | `STOP`: no new work; queued jobs are dropped unrun, workers exit      |
//! | 2..    | submissions between their check of the flags and their push           |
//!
//! A submission adds one unit (AcqRel), gives up if a flag was set, else pushes and removes
//! its unit, then wakes a worker. A worker exits only when a flag is set, no submission is
//! in progress and the queue is empty: a submission that passed the flag check is therefore
//! always either run (or dropped, under `STOP`) before the workers leave. Workers park on a
//! [`WaitQueue`] whose attempt re-checks all of this, so no wake-up is lost.
//!
//! `submitted` counts jobs accepted, `finished` jobs run or dropped, each on its own cache
//! line (the submitting thread and the workers then never write the same line per job).
//! `join` waits on a second queue until it reads `finished` and then `submitted` equal:
//! every finish happens after its job's submission, so the jobs counted in `finished` are
//! among those counted in the later read of `submitted`, and equal counts mean equal sets.
//! A worker whose finish makes the counts equal while someone waits in `join` wakes it: its
//! SeqCst `finished` increment, then a SeqCst load of the queue's waiters (the fenceless
//! notify of `WaitQueue`), so either it sees the waiter or the waiter's re-check sees the
//! increment.
//!
//! `closed` mirrors the flags for the workers' per-job `STOP` check and their spin, so that
//! they never read `gate`, which every submission changes twice: sharing that line with the
//! workers cost the submitting thread a cache-line transfer per change. The flags are set in
//! `closed` first, then in `gate`; only `gate` decides whether a worker may leave.

use ::core::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::core::{spin_until, CachePadded, WaitQueue};
use crate::future::{promise, Future, Panic};
use crate::lockfree::SegQueue;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::Mutex;

use super::pool_job::PoolJob;
use super::workers::{join_workers, Joiner, PanicHandler, WorkerConfig};

const SHUT: usize = 1;
const STOP: usize = 2;
const SUBMITTING: usize = 4;

struct Inner {
    jobs: SegQueue<PoolJob>,
    /// `SHUT | STOP | submissions * SUBMITTING`; see the module docs.
    gate: CachePadded<AtomicUsize>,
    /// `SHUT | STOP` as in `gate`, set before it; read by workers (see the module docs).
    closed: CachePadded<AtomicUsize>,
    /// Jobs accepted (incremented by submitters only).
    submitted: CachePadded<AtomicUsize>,
    /// Jobs run or dropped (incremented by workers only).
    finished: CachePadded<AtomicUsize>,
    /// Idle workers park here.
    work: WaitQueue,
    /// `join` parks here until `finished` reaches `submitted`.
    idle: WaitQueue,
    panic_handler: Option<PanicHandler>,
}

impl Inner {
    /// A job or `None` when the worker should exit; spins briefly, then parks, while there
    /// is nothing to do (a job arriving within microseconds then costs no system call on
    /// either side).
    fn next_job(&self) -> Option<PoolJob> {
        if let Some(job) = self.jobs.pop() {
            return Some(job);
        }
        let mut found = None;
        spin_until(|| {
            found = self.jobs.pop();
            // Relaxed: only ends the spin early; the wait below decides by `gate`.
            found.is_some() || self.closed.load(Ordering::Relaxed) != 0
        });
        if found.is_some() {
            return found;
        }
        self.work
            .wait_until(None, || {
                if let Some(job) = self.jobs.pop() {
                    return Some(Some(job));
                }
                // Acquire: pairs with the AcqRel changes of `gate` (submissions, shutdown).
                let gate = self.gate.load(Ordering::Acquire);
                let leaving = gate & (SHUT | STOP) != 0 && gate < SUBMITTING;
                // Re-check the queue: a submission may have pushed and left since our pop.
                (leaving && self.jobs.is_empty()).then_some(None)
            })
            .flatten()
    }

    fn finish_one(&self) {
        // SeqCst: X of `WaitQueue::notify_all_after_seqcst_rmw` (`join`'s re-check reads
        // `finished`); its Release half publishes the job's effects to `join` (Acquire).
        let finished = self.finished.fetch_add(1, Ordering::SeqCst) + 1;
        // Only the finish that makes the counts equal wakes `join`; with nobody waiting this
        // is one load. Acquire: a finish follows its job's `submitted` increment.
        self.idle
            .notify_all_after_seqcst_rmw_if(|| finished == self.submitted.load(Ordering::Acquire));
    }

    /// Jobs submitted and not finished: `finished` first, then `submitted` (see the module
    /// docs: equal means every job counted has finished).
    fn unfinished(&self) -> usize {
        // Acquire: pairs with the SeqCst (Release) increments in `finish_one`.
        let finished = self.finished.load(Ordering::Acquire);
        // Acquire: a job's increment happens before its finish, which we acquired above.
        self.submitted
            .load(Ordering::Acquire)
            .saturating_sub(finished)
    }

    fn run(&self, job: PoolJob) {
        // Acquire: pairs with the Release `fetch_or` in `close`; under STOP, queued jobs are
        // dropped unrun.
        if self.closed.load(Ordering::Acquire) & STOP != 0 {
            drop(job);
        } else if let Err(payload) = catch_unwind(AssertUnwindSafe(|| job.run())) {
            // The worker survives; the panic hook has already reported the panic.
            if let Some(handler) = &self.panic_handler {
                let handler = Arc::clone(handler);
                let _ = catch_unwind(AssertUnwindSafe(|| handler(Panic::new(payload))));
            }
        }
        self.finish_one();
    }
}

/// The pool refused a job because it is shut down; the job is handed back.
pub struct PoolShutdown<F>(pub F);

impl<F> PoolShutdown<F> {
    /// The refused job.
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::new(1);
    /// pool.shutdown();
    /// let job = pool.execute(|| println!("ran")).unwrap_err().into_inner();
    /// job(); // run it here instead
    /// ```
    pub fn into_inner(self) -> F {
        self.0
    }
}

impl<F> fmt::Debug for PoolShutdown<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PoolShutdown(..)")
    }
}

impl<F> fmt::Display for PoolShutdown<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the thread pool is shut down and accepts no new work")
    }
}

impl<F> std::error::Error for PoolShutdown<F> {}

/// Configures a [`ThreadPool`]: [`ThreadPool::builder`].
#[derive(Default)]
pub struct ThreadPoolBuilder {
    config: WorkerConfig,
}

impl ThreadPoolBuilder {
    /// Number of workers; 0 (the default) means `std::thread::available_parallelism()`.
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::builder().threads(3).build();
    /// assert_eq!(pool.threads(), 3);
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.config.threads = n;
        self
    }

    /// Worker threads are named `{prefix}{index}`.
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::builder().threads(1).name_prefix("io-").build();
    /// let name = pool.spawn(|| std::thread::current().name().map(String::from)).unwrap();
    /// assert_eq!(name.wait().unwrap().as_deref(), Some("io-0"));
    /// ```
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.name_prefix = Some(prefix.into());
        self
    }

    /// Stack size of each worker, in bytes.
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::builder().stack_size(1 << 20).build();
    /// # drop(pool);
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
    /// let pool = routines::scheduler::ThreadPool::builder()
    ///     .threads(2)
    ///     .on_start(|i| assert!(i < 2))
    ///     .build();
    /// # drop(pool);
    /// ```
    pub fn on_start(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.config.on_start = Some(Arc::new(hook));
        self
    }

    /// Runs on each worker when it exits (after `shutdown`), with the worker's index. A
    /// panic in it goes to the panic handler (if any).
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::builder().on_exit(|_| {}).build();
    /// pool.shutdown();
    /// ```
    pub fn on_exit(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.config.on_exit = Some(Arc::new(hook));
        self
    }

    /// Receives the panic of every `execute`d job that panics (spawned jobs' panics go to
    /// their futures instead). Without a handler such panics are reported by the panic hook
    /// only; the worker survives either way.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let s = Arc::clone(&seen);
    /// let pool = routines::scheduler::ThreadPool::builder()
    ///     .panic_handler(move |_| { s.fetch_add(1, Ordering::SeqCst); })
    ///     .build();
    /// pool.execute(|| panic!("job panics")).unwrap();
    /// pool.join();
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
    /// let pool = routines::scheduler::ThreadPool::builder().build();
    /// assert!(pool.threads() >= 1);
    /// ```
    pub fn build(self) -> ThreadPool {
        let threads = self.config.resolved_threads();
        let inner = Arc::new(Inner {
            jobs: SegQueue::new(),
            gate: CachePadded::new(AtomicUsize::new(0)),
            closed: CachePadded::new(AtomicUsize::new(0)),
            submitted: CachePadded::new(AtomicUsize::new(0)),
            finished: CachePadded::new(AtomicUsize::new(0)),
            work: WaitQueue::new(),
            idle: WaitQueue::new(),
            panic_handler: self.config.panic_handler.clone(),
        });
        let handles = (0..threads)
            .map(|index| {
                let inner = Arc::clone(&inner);
                self.config.start(index, move |hooks| {
                    hooks.started();
                    while let Some(job) = inner.next_job() {
                        inner.run(job);
                    }
                    hooks.exiting();
                })
            })
            .collect();
        ThreadPool {
            inner,
            threads,
            handles: Mutex::new(handles),
        }
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ThreadPoolBuilder")
            .field(&self.config)
            .finish()
    }
}

/// A fixed set of worker threads running jobs from one shared queue, in submission order
/// (FIFO; with several workers, jobs overlap). Dropping the pool shuts it down without
/// waiting: queued jobs still run, then the workers exit.
///
/// # Examples
/// ```
/// let pool = routines::scheduler::ThreadPool::new(2);
/// let futures: Vec<_> = (0..4_u64).map(|i| pool.spawn(move || i * 10).unwrap()).collect();
/// let got: Vec<u64> = futures.into_iter().map(|f| f.wait().unwrap()).collect();
/// assert_eq!(got, [0, 10, 20, 30]);
/// ```
pub struct ThreadPool {
    inner: Arc<Inner>,
    threads: usize,
    handles: Mutex<Vec<Joiner>>,
}

impl ThreadPool {
    /// A pool of `threads` workers (0: available parallelism).
    ///
    /// # Panics
    /// If the OS cannot create a worker thread.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::scheduler::ThreadPool::new(2).threads(), 2);
    /// ```
    pub fn new(threads: usize) -> Self {
        Self::builder().threads(threads).build()
    }

    /// A builder (threads, names, stack size, hooks, panic handler).
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::builder().threads(1).build();
    /// # drop(pool);
    /// ```
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::default()
    }

    /// Number of workers.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::scheduler::ThreadPool::new(1).threads(), 1);
    /// ```
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Queues `job`. No allocation when the closure fits in three words (word-aligned: an
    /// `Arc` and two integers, say), stored in the queue's slot; otherwise one (the boxed
    /// closure). Plus the queue's own: one block per 63 jobs.
    ///
    /// # Errors
    /// [`PoolShutdown`] with the job if the pool is shut down.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let pool = routines::scheduler::ThreadPool::new(2);
    /// let n = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..10 {
    ///     let n = Arc::clone(&n);
    ///     pool.execute(move || { n.fetch_add(1, Ordering::SeqCst); }).unwrap();
    /// }
    /// pool.join();
    /// assert_eq!(n.load(Ordering::SeqCst), 10);
    /// ```
    pub fn execute<F>(&self, job: F) -> Result<(), PoolShutdown<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.submit(job, PoolJob::new).map_err(PoolShutdown)
    }

    /// Runs `f` on the pool; its result (or its panic, with the original payload) through
    /// a [`Future`]. One allocation (the future's state), or two when `f` is larger than
    /// two words (the job, boxed: see [`execute`](Self::execute)).
    ///
    /// # Errors
    /// [`PoolShutdown`] with `f` if the pool is shut down.
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::new(1);
    /// assert_eq!(pool.spawn(|| 6 * 7).unwrap().wait().unwrap(), 42);
    /// let p = pool.spawn(|| -> u8 { panic!("in a job") }).unwrap();
    /// assert_eq!(p.wait().unwrap_err().rejected().unwrap().message(), Some("in a job"));
    /// ```
    pub fn spawn<T, F>(&self, f: F) -> Result<Future<T, Panic>, PoolShutdown<F>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (promise, future) = promise();
        self.submit(f, move |f| {
            PoolJob::new(move || match catch_unwind(AssertUnwindSafe(f)) {
                Ok(value) => promise.resolve(value),
                Err(payload) => promise.reject(Panic::new(payload)),
            })
        })
        .map_err(PoolShutdown)?;
        Ok(future)
    }

    /// Queues `wrap(job)` unless the pool is shut down; then gives `job` back unwrapped.
    fn submit<J>(&self, job: J, wrap: impl FnOnce(J) -> PoolJob) -> Result<(), J> {
        let inner = &self.inner;
        // AcqRel: Acquire pairs with the Release of `close`'s flag; Release orders our unit
        // before the push, for a worker deciding whether it may leave.
        if inner.gate.fetch_add(SUBMITTING, Ordering::AcqRel) & (SHUT | STOP) != 0 {
            // Release: as below.
            inner.gate.fetch_sub(SUBMITTING, Ordering::Release);
            inner.work.notify_all(); // a leaving worker may be waiting for our unit to go
            return Err(job);
        }
        // Relaxed: ordered before the job's finish by the push and the pop (see the docs).
        inner.submitted.fetch_add(1, Ordering::Relaxed);
        inner.jobs.push(wrap(job));
        // Release: publishes the push to a worker that then sees no submission in progress.
        let gate = inner.gate.fetch_sub(SUBMITTING, Ordering::Release) - SUBMITTING;
        if gate & (SHUT | STOP) != 0 {
            inner.work.notify_all();
        } else {
            // The push's tail CAS is SeqCst and a worker's re-check (`pop`) reads the tail
            // after its fence: the fenceless notify applies (see `WaitQueue`).
            inner.work.notify_one_after_seqcst_rmw();
        }
        Ok(())
    }

    /// Blocks until every job submitted so far has finished (run or dropped). The pool
    /// stays usable.
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::new(1);
    /// pool.execute(|| std::thread::sleep(std::time::Duration::from_millis(5))).unwrap();
    /// pool.join();
    /// assert_eq!(pool.queued(), 0);
    /// ```
    pub fn join(&self) {
        let inner = &self.inner;
        // The jobs' effects are visible after `unfinished` reads zero (its Acquire loads).
        inner
            .idle
            .wait_until(None, || (inner.unfinished() == 0).then_some(()));
    }

    /// Jobs submitted and not yet finished (a snapshot).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::scheduler::ThreadPool::new(1).queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        self.inner.unfinished()
    }

    /// Refuses new work, lets the workers finish every queued job, and waits for them to
    /// exit. Idempotent. Called from inside one of the pool's own jobs, it waits for the
    /// other workers only (a worker cannot wait for itself).
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::new(2);
    /// pool.execute(|| {}).unwrap();
    /// pool.shutdown();
    /// assert!(pool.execute(|| {}).is_err());
    /// ```
    pub fn shutdown(&self) {
        self.close(SHUT);
    }

    /// Refuses new work, drops every queued job unrun (spawned jobs' futures report
    /// `Broken`), waits for running jobs to finish and the workers to exit. Idempotent; from
    /// inside a job, as [`shutdown`](Self::shutdown).
    ///
    /// # Examples
    /// ```
    /// let pool = routines::scheduler::ThreadPool::new(1);
    /// pool.shutdown_now();
    /// assert!(pool.spawn(|| 1).is_err());
    /// ```
    pub fn shutdown_now(&self) {
        self.close(STOP | SHUT);
    }

    fn close(&self, flags: usize) {
        // Release: pairs with the Acquire load in `run`.
        self.inner.closed.fetch_or(flags, Ordering::Release);
        // AcqRel: Release publishes the flag to submissions and workers (their Acquire).
        self.inner.gate.fetch_or(flags, Ordering::AcqRel);
        self.inner.work.notify_all();
        join_workers(&self.handles);
    }
}

impl Drop for ThreadPool {
    /// Shuts down without waiting: queued jobs still run, then the workers exit.
    fn drop(&mut self) {
        // Release, AcqRel: as in `close`.
        self.inner.closed.fetch_or(SHUT, Ordering::Release);
        self.inner.gate.fetch_or(SHUT, Ordering::AcqRel);
        self.inner.work.notify_all();
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("threads", &self.threads)
            .field("queued", &self.queued())
            .finish_non_exhaustive()
    }
}
