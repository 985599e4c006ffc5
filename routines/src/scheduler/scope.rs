//! `Scope`: spawning jobs that borrow from the caller's stack, on the work-stealing
//! scheduler. The scope's caller waits (running jobs meanwhile) until every job spawned in
//! it, directly or from other scope jobs, has finished.

use ::core::any::Any;
use ::core::fmt;
use ::core::marker::PhantomData;
use ::core::ptr;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use super::job::{catch, forget_panic, HeapJob};
use super::latch::CountLatch;
use super::registry::{Nested, Own, Registry, WorkerThread};
use super::sleep::Sleep;
use crate::sync::Mutex;

/// A scope on the work-stealing scheduler: [`Scope::spawn`] starts jobs that may borrow
/// anything that outlives `'scope`. Made by [`Scheduler::scope`](super::Scheduler::scope)
/// or the free function [`scope`](fn@super::scope).
///
/// The scope's function and every job spawned in it (they may spawn more) finish before
/// `scope` returns. If any of them panicked, `scope` resumes a panic once all finished: the
/// function's own, else the first job's to panic (the others are dropped).
///
/// # Examples
/// ```
/// let mut parts = [0_u64; 4];
/// routines::scheduler::scope(|s| {
///     for (i, part) in parts.iter_mut().enumerate() {
///         s.spawn(move |_| *part = (i as u64 + 1) * 10);
///     }
/// });
/// assert_eq!(parts, [10, 20, 30, 40]);
/// ```
pub struct Scope<'scope> {
    /// One unit for the scope's function plus one per job not yet finished.
    latch: CountLatch<'static>,
    /// The scheduler; outlives the scope (see `run_scope`).
    registry: *const Registry,
    /// The first job panic, resumed by the owner after all jobs finished.
    panic: Mutex<Option<Box<dyn Any + Send + 'static>>>,
    /// Invariant in `'scope`, as `std::thread::Scope`.
    _marker: PhantomData<fn(&'scope ()) -> &'scope ()>,
}

// SAFETY: a Scope is shared by reference with jobs on other workers. Its fields are a latch
// (atomics, and a reference to the Sync `Sleep`), a Mutex, and a pointer to the Sync
// `Registry`, which outlives the scope.
unsafe impl Sync for Scope<'_> {}
// SAFETY: as above; a scope is only ever moved before it is shared.
unsafe impl Send for Scope<'_> {}

/// A `Scope` pointer that a job carries to its worker.
struct ScopePtr<'scope>(*const Scope<'scope>);

// SAFETY: the pointee is Sync (above) and outlives the job: the owner waits for the job's
// count unit, and the job drops that unit last.
unsafe impl Send for ScopePtr<'_> {}

impl<'scope> ScopePtr<'scope> {
    /// (A method, so that closures capture the whole `Send` wrapper, not the raw field.)
    fn get(&self) -> *const Scope<'scope> {
        self.0
    }
}

/// Runs `op` with a fresh scope on `worker`, then waits for every job of the scope.
pub(super) fn run_scope<'scope, R>(
    worker: &WorkerThread,
    op: impl FnOnce(&Scope<'scope>) -> R,
) -> R {
    let registry: &Registry = &worker.registry;
    let sleep: *const Sleep = &registry.sleep;
    // SAFETY: the latch's `Sleep` lives in the registry, which this worker keeps alive for
    // longer than this call; the latch does not outlive the call.
    let sleep: &'static Sleep = unsafe { &*sleep };
    let scope = Scope {
        latch: CountLatch::new(1, sleep, worker.index),
        registry,
        panic: Mutex::new(None),
        _marker: PhantomData,
    };
    let result = catch(|| op(&scope));
    // SAFETY: the function's unit; the scope stays in this frame until the count is zero.
    unsafe { CountLatch::decrement(&scope.latch) };
    worker.wait_until(|| scope.latch.probe(), Nested::Wait(Own::Tag(scope.tag())));
    let job_panic = scope.panic.lock().take();
    let value = result.into_value();
    if let Some(payload) = job_panic {
        resume_unwind(payload);
    }
    value
}

impl<'scope> Scope<'scope> {
    fn tag(&self) -> usize {
        ptr::from_ref(self) as usize
    }

    /// Starts `body` as a job of this scope. It gets the scope, to spawn more. One
    /// allocation (the boxed job). From a worker of the scope's scheduler the job goes on
    /// that worker's deque (idle workers steal it); from elsewhere, on the scheduler's
    /// injector.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// let count = AtomicUsize::new(0);
    /// routines::scheduler::scope(|s| {
    ///     s.spawn(|s| {
    ///         count.fetch_add(1, Ordering::Relaxed);
    ///         s.spawn(|_| { count.fetch_add(1, Ordering::Relaxed); });
    ///     });
    /// });
    /// assert_eq!(count.into_inner(), 2);
    /// ```
    pub fn spawn<F>(&self, body: F)
    where
        F: FnOnce(&Scope<'scope>) + Send + 'scope,
    {
        self.latch.increment();
        let this = ScopePtr(self);
        let job = move || {
            // SAFETY: the scope lives until its count reaches zero, and this job's unit is
            // dropped only below.
            let scope = unsafe { &*this.get() };
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| body(scope))) {
                scope.record_panic(payload);
            }
            // SAFETY: this job's unit; nothing touches the scope after it.
            unsafe { CountLatch::decrement(&scope.latch) };
        };
        // SAFETY: `body` borrows for 'scope, which outlives the scope's wait for this job.
        let job = unsafe { HeapJob::into_job_ref(job, self.tag()) };
        // SAFETY: the registry outlives the scope (see the field).
        let registry = unsafe { &*self.registry };
        match WorkerThread::current() {
            Some(worker) if ptr::eq(&*worker.registry, registry) => worker.push(job),
            _ => registry.inject(job),
        }
    }

    fn record_panic(&self, payload: Box<dyn Any + Send + 'static>) {
        let mut slot = self.panic.lock();
        if slot.is_none() {
            *slot = Some(payload);
        } else {
            drop(slot);
            forget_panic(payload);
        }
    }
}

impl fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}
