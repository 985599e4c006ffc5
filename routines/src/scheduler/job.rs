//! Jobs as the deques see them: a [`JobRef`] is a type-erased pointer plus the function that
//! runs it, so the deques hold two words per job whatever the closure is.
//!
//! Two kinds of job stand behind a `JobRef`:
//! * [`StackJob`]: lives in the stack frame of a caller that waits for it (`join`'s second
//!   closure, `install` and `broadcast` jobs). No allocation. The caller does not leave the
//!   frame before the job's latch is set, and the latch is set last.
//! * [`HeapJob`]: boxed (`spawn`, `Scope::spawn`); frees itself when run.

use ::core::any::Any;
use ::core::mem;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use super::latch::Latch;
use crate::loom::cell::UnsafeCell;

/// A runnable job: a pointer to its data and the function that runs it, once (two words
/// in a deque slot).
///
/// Invariants: whoever holds a `JobRef` (a deque, or the thread that popped it) runs it
/// exactly once, and its data is valid until then. The data of every job type is
/// `#[repr(C)]` and starts with a `usize` tag (see [`JobRef::tag`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct JobRef {
    data: *const (),
    run: unsafe fn(*const ()),
}

// SAFETY: a JobRef moves between workers; the jobs it points at are built only from `Send`
// closures (`StackJob::new`'s and `HeapJob::new`'s bounds), and their result types are `Send`.
unsafe impl Send for JobRef {}

/// Two references to the same job (its data address identifies it).
impl PartialEq for JobRef {
    fn eq(&self, other: &Self) -> bool {
        ::core::ptr::eq(self.data, other.data)
    }
}

impl Eq for JobRef {}

impl JobRef {
    /// Runs the job.
    ///
    /// # Safety
    /// The job has not run yet (the invariant on [`JobRef`]), and this is its only run.
    pub(super) unsafe fn run(self) {
        // SAFETY: the caller's contract; `data` was made for `run` (see the constructors).
        unsafe { (self.run)(self.data) }
    }

    /// Who queued the job, for a wait that runs only its own jobs: a scope job's scope
    /// address; 0 for every other job (a `join` half is recognised by identity instead).
    ///
    /// # Safety
    /// The job has not run yet (its data is live).
    #[inline]
    pub(super) unsafe fn tag(&self) -> usize {
        // SAFETY: live data (the caller's contract) of a `#[repr(C)]` job type whose first
        // field is the `usize` tag (the invariant on `JobRef`).
        unsafe { *self.data.cast::<usize>() }
    }
}

/// A job's outcome, kept in the job until its owner collects it.
pub(super) enum JobResult<R> {
    Pending,
    Done(R),
    Panicked(Box<dyn Any + Send + 'static>),
}

impl<R> JobResult<R> {
    /// The value, or the job's panic resumed here.
    pub(super) fn into_value(self) -> R {
        match self {
            JobResult::Done(value) => value,
            JobResult::Panicked(payload) => resume_unwind(payload),
            JobResult::Pending => unreachable!("a job's result was read before it ran"),
        }
    }
}

/// A job in its waiter's stack frame. `func` is taken exactly once (by the thread that runs
/// the job, or by the owner running it inline); `result` is written by that thread before
/// `latch` is set, and read by the owner only after it saw the latch set.
#[repr(C)]
pub(super) struct StackJob<L, F, R> {
    /// Always 0 (see [`JobRef::tag`]); first, as the `JobRef` invariant requires.
    tag: usize,
    pub(super) latch: L,
    func: UnsafeCell<Option<F>>,
    result: UnsafeCell<JobResult<R>>,
}

impl<L, F, R> StackJob<L, F, R>
where
    L: Latch,
    F: FnOnce() -> R + Send,
    R: Send,
{
    pub(super) fn new(func: F, latch: L) -> Self {
        StackJob {
            tag: 0,
            latch,
            func: UnsafeCell::new(Some(func)),
            result: UnsafeCell::new(JobResult::Pending),
        }
    }

    /// A reference for a deque.
    ///
    /// # Safety
    /// The caller keeps `self` in place until the latch is set (or until it takes the job
    /// back and runs it with [`run_inline`](Self::run_inline)).
    pub(super) unsafe fn as_job_ref(&self) -> JobRef {
        JobRef {
            data: (self as *const Self).cast(),
            run: Self::run_erased,
        }
    }

    /// # Safety
    /// `this` points at a live `StackJob<L, F, R>` whose `JobRef` is being run once.
    unsafe fn run_erased(this: *const ()) {
        // SAFETY: made by `as_job_ref` from a `&Self` that the owner keeps in place until
        // the latch below is set.
        let this = unsafe { &*this.cast::<Self>() };
        // SAFETY: `func` is taken once: this run is the only one (JobRef invariant), and the
        // owner takes it inline only when it popped the JobRef back instead.
        let func = this.func.with_mut(|f| unsafe { (*f).take() });
        let func = func.expect("a stack job ran twice");
        let outcome = match catch_unwind(AssertUnwindSafe(func)) {
            Ok(value) => JobResult::Done(value),
            Err(payload) => JobResult::Panicked(payload),
        };
        // SAFETY: the owner reads `result` only after it sees the latch set, below.
        this.result.with_mut(|r| unsafe { *r = outcome });
        // SAFETY: `this.latch` is live; `set` touches nothing of the job after its final
        // store, after which the owner may free the frame.
        unsafe { L::set(&this.latch) };
    }

    /// Runs the job on the owner's thread (it was popped back before anyone stole it).
    pub(super) fn run_inline(self) -> R {
        let func = self.func.into_inner().expect("a stack job ran twice");
        func()
    }

    /// The result of a job that ran elsewhere (its latch is set); resumes its panic.
    pub(super) fn into_result(self) -> R {
        self.result.into_inner().into_value()
    }
}

/// A boxed job that frees itself when run.
#[repr(C)]
pub(super) struct HeapJob<F> {
    /// See [`JobRef::tag`]; first, as the `JobRef` invariant requires.
    tag: usize,
    func: F,
}

impl<F> HeapJob<F>
where
    F: FnOnce() + Send,
{
    /// Boxes `func` (the one allocation of a spawn) and leaks it into a [`JobRef`] with
    /// the given tag (see [`JobRef`]).
    ///
    /// # Safety
    /// Everything `func` borrows outlives the run of the returned JobRef (for `'static`
    /// closures, trivially; for scope jobs, the scope waits for them).
    pub(super) unsafe fn into_job_ref(func: F, tag: usize) -> JobRef {
        let data = Box::into_raw(Box::new(HeapJob { tag, func }));
        JobRef {
            data: data.cast_const().cast(),
            run: Self::run_erased,
        }
    }

    /// # Safety
    /// `this` came from `into_job_ref` and is run once.
    unsafe fn run_erased(this: *const ()) {
        // SAFETY: made by `Box::into_raw` in `into_job_ref`; this is its only run, so the
        // box is reclaimed exactly once.
        let job = unsafe { Box::from_raw(this.cast::<Self>().cast_mut()) };
        (job.func)();
    }
}

/// Runs `f`, keeping its panic for later instead of unwinding.
pub(super) fn catch<R>(f: impl FnOnce() -> R) -> JobResult<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => JobResult::Done(value),
        Err(payload) => JobResult::Panicked(payload),
    }
}

/// Drops `value` without running its destructor's panic into the caller.
pub(super) fn forget_panic(payload: Box<dyn Any + Send + 'static>) {
    // A panic payload's destructor may itself panic; dropping it under catch_unwind keeps
    // that from unwinding a worker.
    let _ = catch_unwind(AssertUnwindSafe(move || mem::drop(payload)));
}
