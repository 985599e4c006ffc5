//! The work-stealing scheduler's shared state ([`Registry`]) and its workers
//! ([`WorkerThread`]): deques, the injector, the broadcast inboxes, the run and wait loops.
//!
//! Where jobs go:
//! * `join`'s second closure and `Scope::spawn`ed jobs: the calling worker's own deque
//!   (LIFO for the owner; thieves take the oldest). These are *nested*: the code that queued
//!   them waits for them before it returns, so a deque holds jobs in the order of its
//!   owner's stack of waits.
//! * `spawn` / `spawn_future` (fire and forget) and calls from outside the scheduler: the
//!   global FIFO injector. A worker never puts a fire-and-forget job on its own deque, so the
//!   nesting above holds (a non-stealing wait relies on it).
//! * `broadcast`: one job into each worker's inbox, run by that worker only.
//!
//! A worker looking for work takes, in order: its own deque, its inbox, the injector, then
//! other workers' deques from a random start. At top level (not inside a wait) it steals
//! about half of a victim's jobs at once; inside a wait it steals one job and runs it, so
//! that its deque never holds jobs older than the wait under the wait's own ones.
//!
//! A worker waiting inside `join` / `scope` / `broadcast` runs other jobs meanwhile, including
//! unrelated stolen ones (re-entrancy: a job holding a lock across `join` may see another job
//! of its own kind run on the same thread, under the same lock - rayon issue #592). Inside
//! [`without_stealing`](super::without_stealing) a wait runs only the jobs it queued itself
//! and otherwise sleeps.

use ::core::cell::Cell;
use ::core::fmt;
use ::core::ptr;

use super::job::{HeapJob, JobRef, StackJob};
use super::latch::LockLatch;
use super::sleep::Sleep;
use super::workers::{join_workers, Joiner, PanicHandler, WorkerConfig};
use crate::core::Backoff;
use crate::future::Panic;
use crate::lockfree::{Injector, SegQueue, Steal, Stealer, Worker};
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::sync::Mutex;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// After its backoff, an idle worker searches this many more rounds, yielding the CPU after
/// each, before it sleeps (SCH-17): a pool that was busy a moment ago takes the next job
/// without a futex wake-up. About 16-40 us here; rayon yields 32 rounds. 0 under loom (every
/// round would be more interleavings to explore, and the sleep protocol is the same).
const IDLE_ROUNDS: u32 = if cfg!(routines_loom) { 0 } else { 16 };

std::thread_local! {
    /// The worker running on this thread, if any (set for the whole life of a worker thread).
    static CURRENT: Cell<*const WorkerThread> = const { Cell::new(ptr::null()) };
}

/// Everything the workers of one scheduler share.
pub(super) struct Registry {
    injector: Injector<JobRef>,
    stealers: Box<[Stealer<JobRef>]>,
    /// Broadcast jobs, one queue per worker, popped by that worker only.
    inboxes: Box<[SegQueue<JobRef>]>,
    pub(super) sleep: Sleep,
    /// Fire-and-forget jobs queued and not yet finished. SeqCst with `terminate`: a worker
    /// leaves only when both say so (see `finished`).
    pending: AtomicUsize,
    /// Set when the last owner goes; workers leave once `pending` is zero.
    terminate: AtomicBool,
    /// The `Scheduler` plus every `SpawnHandle`: work can come from outside while any is
    /// alive, so the workers stay.
    owners: AtomicUsize,
    panic_handler: Option<PanicHandler>,
    handles: Mutex<Vec<Joiner>>,
}

impl Registry {
    /// Starts the workers (at least one).
    pub(super) fn start(config: WorkerConfig) -> Arc<Registry> {
        let threads = config.resolved_threads().max(1);
        let deques: Vec<Worker<JobRef>> = (0..threads).map(|_| Worker::new_lifo()).collect();
        let registry = Arc::new(Registry {
            injector: Injector::new(),
            stealers: deques.iter().map(Worker::stealer).collect(),
            inboxes: (0..threads).map(|_| SegQueue::new()).collect(),
            sleep: Sleep::new(threads),
            pending: AtomicUsize::new(0),
            terminate: AtomicBool::new(false),
            owners: AtomicUsize::new(1),
            panic_handler: config.panic_handler.clone(),
            handles: Mutex::new(Vec::with_capacity(threads)),
        });
        for (index, deque) in deques.into_iter().enumerate() {
            let registry2 = Arc::clone(&registry);
            let joiner = config.start(index, move |hooks| {
                let worker = WorkerThread {
                    deque,
                    index,
                    registry: registry2,
                    rng: Cell::new(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1)),
                    searching: Cell::new(false),
                    claimed: Cell::new(false),
                    stealing: Cell::new(true),
                };
                CURRENT.with(|c| c.set(&worker));
                hooks.started(); // (on the worker: `current_thread_index` works in hooks)
                let registry = &*worker.registry;
                worker.wait_until(|| registry.finished(), Nested::TopLevel);
                hooks.exiting();
                CURRENT.with(|c| c.set(ptr::null()));
            });
            registry.handles.lock().push(joiner);
        }
        registry
    }

    pub(super) fn threads(&self) -> usize {
        self.stealers.len()
    }

    /// Whether the workers may leave: terminating and no fire-and-forget job outstanding.
    fn finished(&self) -> bool {
        // SeqCst (both): see `finish_spawned` and `terminate`.
        self.terminate.load(Ordering::SeqCst) && self.pending.load(Ordering::SeqCst) == 0
    }

    /// Whether any queue other than the inboxes holds a job (a snapshot).
    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Queues a job on the injector and wakes a worker to take it.
    pub(super) fn inject(&self, job: JobRef) {
        self.injector.push(job);
        self.sleep.notify_work();
    }

    /// Queues a fire-and-forget job: counted in `pending` until it finishes.
    pub(super) fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        // Relaxed: the job's own SeqCst decrement comes after; a worker deciding to leave
        // reads it with the SeqCst load in `finished`. The increment happens before the job
        // is visible (the push), and a spawn from inside a job happens while that job is
        // still counted, so `pending` never drops to zero with work still queued.
        self.pending.fetch_add(1, Ordering::Relaxed);
        let job = move || {
            let outcome = catch_unwind(AssertUnwindSafe(f));
            // The job runs on one of our workers (it was queued on our injector).
            WorkerThread::with_current(|worker| {
                if let Err(payload) = outcome {
                    worker.registry.report_panic(Panic::new(payload));
                }
                worker.registry.finish_spawned();
            });
        };
        // SAFETY: the closure is 'static.
        self.inject(unsafe { HeapJob::into_job_ref(job, 0) });
    }

    fn finish_spawned(&self) {
        // SeqCst: pairs with the SeqCst store of `terminate`: either we see it and wake the
        // workers to leave, or the terminator's wake-up comes after our decrement and the
        // workers' re-check sees it.
        if self.pending.fetch_sub(1, Ordering::SeqCst) == 1 && self.terminate.load(Ordering::SeqCst)
        {
            self.sleep.wake_all();
        }
    }

    /// Hands a job's panic to the panic handler (the panic hook has reported it already).
    pub(super) fn report_panic(&self, panic: Panic) {
        if let Some(handler) = &self.panic_handler {
            let _ = catch_unwind(AssertUnwindSafe(|| handler(panic)));
        }
    }

    /// One more owner (a `SpawnHandle`).
    pub(super) fn acquire(&self) {
        // Relaxed: the caller is an owner already, so the count cannot reach zero meanwhile.
        self.owners.fetch_add(1, Ordering::Relaxed);
    }

    /// One owner fewer; the last one terminates.
    pub(super) fn release(&self) {
        // AcqRel: the last owner's terminate comes after every owner's spawns.
        if self.owners.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.terminate();
        }
    }

    /// Tells the workers to leave once every fire-and-forget job has finished.
    fn terminate(&self) {
        // SeqCst: see `finish_spawned`.
        self.terminate.store(true, Ordering::SeqCst);
        self.sleep.wake_all();
    }

    /// Waits for the workers to exit (after `terminate`). From one of the workers, waits
    /// for the others only.
    pub(super) fn join_workers(&self) {
        join_workers(&self.handles);
    }

    /// Runs `op` on a worker of this scheduler: right here if the caller is one, else by
    /// queueing it on the injector and blocking the caller until it ran (the caller, even a
    /// worker of another scheduler, does not run other work meanwhile).
    pub(super) fn in_worker<R: Send>(&self, op: impl FnOnce(&WorkerThread) -> R + Send) -> R {
        let current = WorkerThread::current();
        if let Some(worker) = current {
            if ptr::eq(&*worker.registry, self) {
                return op(worker);
            }
        }
        self.in_worker_cold(op)
    }

    #[cold]
    fn in_worker_cold<R: Send>(&self, op: impl FnOnce(&WorkerThread) -> R + Send) -> R {
        let job = StackJob::new(
            || WorkerThread::with_current(|worker| op(worker)),
            LockLatch::new(),
        );
        // SAFETY: `job` stays in this frame until its latch is set (we wait below).
        self.inject(unsafe { job.as_job_ref() });
        job.latch.wait();
        job.into_result()
    }

    /// Queues `job` into worker `index`'s inbox and wakes it.
    pub(super) fn post(&self, index: usize, job: JobRef) {
        self.inboxes[index].push(job);
        self.sleep.wake_worker(index);
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("threads", &self.threads())
            .field("sleep", &self.sleep)
            .finish_non_exhaustive()
    }
}

/// Where a wait stands: the worker's main loop, or nested inside a job.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Nested {
    TopLevel,
    /// Inside a wait; in a non-stealing wait only these jobs are ours to run.
    Wait(Own),
}

/// Which jobs of its own deque a non-stealing wait may run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Own {
    /// This one (`join`'s second half).
    Job(JobRef),
    /// Those with this tag (a scope's jobs).
    Tag(usize),
    /// None (a broadcast's jobs are not on the deque).
    Nothing,
}

/// One worker thread's own state; lives on its stack for the thread's whole life.
pub(super) struct WorkerThread {
    deque: Worker<JobRef>,
    pub(super) index: usize,
    pub(super) registry: Arc<Registry>,
    /// xorshift state for choosing victims.
    rng: Cell<u64>,
    /// Counted in `Sleep::searching`.
    searching: Cell<bool>,
    /// Claimed by a waker: must search (or pass the duty on) next.
    claimed: Cell<bool>,
    /// False inside `without_stealing`.
    pub(super) stealing: Cell<bool>,
}

impl WorkerThread {
    /// The worker running on this thread, if any. Inline: every `join` asks (a thread-local
    /// read, but a call through the GOT when left out of line).
    #[inline]
    pub(super) fn current<'a>() -> Option<&'a WorkerThread> {
        let ptr = CURRENT.with(Cell::get);
        // SAFETY: CURRENT points at the worker on this thread's stack while the worker
        // loop runs, and is cleared before that frame ends; anything calling this runs
        // inside that loop, so the reference does not outlive the frame.
        unsafe { ptr.as_ref() }
    }

    /// Runs `f` with the current worker; for code that only ever runs on a worker.
    #[inline]
    pub(super) fn with_current<R>(f: impl FnOnce(&WorkerThread) -> R) -> R {
        f(Self::current().expect("scheduler job ran outside a worker thread"))
    }

    /// Pushes a nested job on this worker's deque and wakes a thief if one is needed.
    #[inline]
    pub(super) fn push(&self, job: JobRef) {
        self.deque.push(job);
        self.registry.sleep.notify_work();
    }

    /// Pushes `join`'s second half on this worker's deque; a thief falling asleep at this
    /// moment may miss it (no fence: see `sleep.rs`, "The one push without a fence").
    #[inline]
    pub(super) fn push_join_half(&self, job: JobRef) {
        self.deque.push(job);
        self.registry.sleep.notify_join_push();
    }

    /// Takes the newest job of this worker's deque.
    #[inline]
    pub(super) fn pop(&self) -> Option<JobRef> {
        self.deque.pop()
    }

    /// Runs a job taken from a queue.
    ///
    /// # Safety
    /// `job` came out of a queue (deque, injector, inbox), so this is its only run.
    #[inline]
    pub(super) unsafe fn execute(&self, job: JobRef) {
        // SAFETY: the caller's contract.
        unsafe { job.run() }
    }

    fn next_victim(&self) -> usize {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        (x % self.registry.threads() as u64) as usize
    }

    /// Any job this worker may run: its deque, its inbox, then stealing.
    fn find_work(&self, nested: Nested) -> Option<JobRef> {
        if let Some(job) = self.deque.pop() {
            return Some(job);
        }
        if let Some(job) = self.registry.inboxes[self.index].pop() {
            return Some(job);
        }
        self.steal(nested)
    }

    /// One search round over the injector and the other workers' deques.
    fn steal(&self, nested: Nested) -> Option<JobRef> {
        let sleep = &self.registry.sleep;
        if !self.searching.get() {
            let force = self.claimed.replace(false);
            if !sleep.start_searching(force) {
                return None;
            }
            self.searching.set(true);
        }
        let registry = &*self.registry;
        let n = registry.threads();
        let top = nested == Nested::TopLevel;
        let found = loop {
            let mut retry = false;
            let from_injector = if top {
                registry.injector.steal_batch_and_pop(&self.deque)
            } else {
                registry.injector.steal()
            };
            match from_injector {
                Steal::Success(job) => break Some(job),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            let start = self.next_victim();
            let mut got = None;
            for k in 0..n {
                let victim = (start + k) % n;
                if victim == self.index {
                    continue;
                }
                let stealer = &registry.stealers[victim];
                let attempt = if top {
                    stealer.steal_batch_and_pop(&self.deque)
                } else {
                    stealer.steal()
                };
                match attempt {
                    Steal::Success(job) => {
                        got = Some(job);
                        break;
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if got.is_some() || !retry {
                break got;
            }
        };
        if found.is_some() {
            self.searching.set(false);
            sleep.stop_searching(|| registry.has_work());
        }
        found
    }

    /// In a non-stealing wait: the newest job of our deque if it is `own`, else none (the
    /// job goes back; it belongs to an outer wait).
    fn pop_own(&self, own: Own) -> Option<JobRef> {
        let job = self.deque.pop()?;
        let ours = match own {
            Own::Job(mine) => job == mine,
            // SAFETY: just popped, not run: its data is live.
            Own::Tag(tag) => tag == unsafe { job.tag() },
            Own::Nothing => false,
        };
        if ours {
            Some(job)
        } else {
            self.deque.push(job);
            None
        }
    }

    /// Runs jobs until `done()`; sleeps when there are none. See the module docs for which
    /// jobs a wait runs.
    #[cfg_attr(
        routines_loom,
        allow(
            clippy::absurd_extreme_comparisons,
            reason = "IDLE_ROUNDS is 0 under loom"
        )
    )]
    pub(super) fn wait_until(&self, done: impl Fn() -> bool, nested: Nested) {
        let stealing = self.stealing.get() || nested == Nested::TopLevel;
        let backoff = Backoff::new();
        let mut idle_rounds = 0;
        loop {
            if done() {
                break;
            }
            let job = match nested {
                Nested::Wait(own) if !stealing => self.pop_own(own),
                _ => self.find_work(nested),
            };
            if let Some(job) = job {
                // SAFETY: taken from a queue just now.
                unsafe { self.execute(job) };
                backoff.reset();
                idle_rounds = 0;
                continue;
            }
            if !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            if idle_rounds < IDLE_ROUNDS {
                idle_rounds += 1;
                crate::loom::thread::yield_now();
                continue;
            }
            self.sleep(&done, stealing);
            backoff.reset();
            idle_rounds = 0;
        }
        self.leave_search();
    }

    /// Sleeps until `done()`, a claim, a broadcast job, or (for a stealing wait) work that
    /// nobody is searching for.
    #[cold]
    fn sleep(&self, done: &impl Fn() -> bool, stealing: bool) {
        let registry = &*self.registry;
        let sleep = &registry.sleep;
        if self.searching.replace(false) {
            sleep.stop_searching_to_sleep();
        }
        if !self.deque.is_empty() {
            // Jobs of ours that a sleeper may have missed (`push_join_half`, or put back by
            // `pop_own`): the fenced notify covers them before we stop running them.
            sleep.notify_work();
        }
        let claimed = sleep.sleep(self.index, stealing, || {
            done()
                || (stealing
                    && (!registry.inboxes[self.index].is_empty()
                        || (sleep.nobody_searching() && registry.has_work())))
        });
        if claimed {
            self.claimed.set(true);
        }
    }

    /// Before going back to the code that waited: stop searching; if we were the last
    /// searcher, or were claimed, and work is waiting, wake someone in our place.
    fn leave_search(&self) {
        let registry = &*self.registry;
        if self.searching.replace(false) {
            registry.sleep.stop_searching(|| registry.has_work());
        }
        if self.claimed.replace(false) {
            registry.sleep.pass_on(|| registry.has_work());
        }
    }
}

impl fmt::Debug for WorkerThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerThread")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}
