//! Free functions in rayon's shape: they run on the scheduler whose worker calls them, or,
//! from any other thread, on a global scheduler started on first use (one worker per
//! available CPU, threads named `routines-global-{index}`, never shut down).

use std::sync::OnceLock;

use super::registry::{Registry, WorkerThread};
use super::scope::{run_scope, Scope};
use super::stealing::{
    broadcast_in_worker, join_in_worker, spawn_future_on, BroadcastContext, Scheduler,
};
use crate::future::{Future, Panic};

static GLOBAL: OnceLock<Scheduler> = OnceLock::new();

/// The global scheduler, started on first use.
///
/// # Panics
/// If the OS cannot create its worker threads.
///
/// # Examples
/// ```
/// let s = routines::scheduler::global();
/// assert!(s.threads() >= 1);
/// ```
pub fn global() -> &'static Scheduler {
    GLOBAL.get_or_init(|| Scheduler::builder().name_prefix("routines-global-").build())
}

/// `join` on the current worker's scheduler, or on the global one. See [`Scheduler::join`].
///
/// # Examples
/// ```
/// fn sum(v: &[u64]) -> u64 {
///     if v.len() <= 1024 {
///         return v.iter().sum();
///     }
///     let (l, r) = v.split_at(v.len() / 2);
///     let (a, b) = routines::scheduler::join(|| sum(l), || sum(r));
///     a + b
/// }
/// let v: Vec<u64> = (1..=10_000).collect();
/// assert_eq!(sum(&v), 50_005_000);
/// ```
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    match WorkerThread::current() {
        Some(worker) => join_in_worker(worker, a, b),
        None => global().join(a, b),
    }
}

/// `scope` on the current worker's scheduler, or on the global one. See
/// [`Scheduler::scope`] and [`Scope`].
///
/// # Examples
/// ```
/// let mut v = [1, 2, 3];
/// routines::scheduler::scope(|s| {
///     for x in v.iter_mut() {
///         s.spawn(move |_| *x *= 2);
///     }
/// });
/// assert_eq!(v, [2, 4, 6]);
/// ```
pub fn scope<'scope, OP, R>(op: OP) -> R
where
    OP: FnOnce(&Scope<'scope>) -> R + Send,
    R: Send,
{
    match WorkerThread::current() {
        Some(worker) => run_scope(worker, op),
        None => global().scope(op),
    }
}

/// `spawn` on the current worker's scheduler, or on the global one. See
/// [`Scheduler::spawn`].
///
/// # Examples
/// ```
/// let (tx, rx) = routines::channel::bounded(1);
/// routines::scheduler::spawn(move || tx.send("done").unwrap());
/// assert_eq!(rx.recv(), Ok("done"));
/// ```
pub fn spawn<F>(f: F)
where
    F: FnOnce() + Send + 'static,
{
    current_registry(|registry| registry.spawn(f));
}

/// `spawn_future` on the current worker's scheduler, or on the global one. See
/// [`Scheduler::spawn_future`].
///
/// # Examples
/// ```
/// let f = routines::scheduler::spawn_future(|| "hi".len());
/// assert_eq!(f.wait().unwrap(), 2);
/// ```
pub fn spawn_future<T, F>(f: F) -> Future<T, Panic>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    current_registry(|registry| spawn_future_on(registry, f))
}

/// `broadcast` on the current worker's scheduler, or on the global one. See
/// [`Scheduler::broadcast`].
///
/// # Examples
/// ```
/// let n = routines::scheduler::broadcast(|ctx| ctx.num_threads()).len();
/// assert_eq!(n, routines::scheduler::current_num_threads());
/// ```
pub fn broadcast<R, F>(f: F) -> Vec<R>
where
    F: Fn(BroadcastContext) -> R + Sync,
    R: Send,
{
    match WorkerThread::current() {
        Some(worker) => broadcast_in_worker(worker, &f),
        None => global().broadcast(f),
    }
}

/// The index of the worker running the caller, within its scheduler; `None` outside any
/// scheduler's workers.
///
/// # Examples
/// ```
/// assert_eq!(routines::scheduler::current_thread_index(), None);
/// let i = routines::scheduler::global().install(routines::scheduler::current_thread_index);
/// assert!(i.is_some());
/// ```
pub fn current_thread_index() -> Option<usize> {
    WorkerThread::current().map(|w| w.index)
}

/// The number of workers of the caller's scheduler (the global one's outside any).
///
/// # Examples
/// ```
/// assert!(routines::scheduler::current_num_threads() >= 1);
/// ```
pub fn current_num_threads() -> usize {
    current_registry(Registry::threads)
}

/// Runs `f` so that any wait inside it on this worker (`join`, `scope`, `broadcast`) runs
/// only jobs it queued itself and otherwise sleeps, instead of running other (possibly
/// unrelated) stolen jobs. Use it around code that holds a lock across a `join`: a stolen
/// job taking the same lock on the same thread would deadlock. Costs parallelism: the
/// waiting worker idles. Outside a worker it just runs `f`.
///
/// # Examples
/// ```
/// use routines::sync::Mutex;
/// let m = Mutex::new(0);
/// routines::scheduler::global().install(|| {
///     routines::scheduler::without_stealing(|| {
///         let mut g = m.lock();
///         let (a, b) = routines::scheduler::join(|| 1, || 2);
///         *g += a + b;
///     })
/// });
/// assert_eq!(*m.lock(), 3);
/// ```
pub fn without_stealing<R>(f: impl FnOnce() -> R) -> R {
    let Some(worker) = WorkerThread::current() else {
        return f();
    };
    struct Restore<'a>(&'a WorkerThread, bool);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            self.0.stealing.set(self.1);
        }
    }
    let _restore = Restore(worker, worker.stealing.replace(false));
    f()
}

fn current_registry<R>(f: impl FnOnce(&Registry) -> R) -> R {
    match WorkerThread::current() {
        Some(worker) => f(&worker.registry),
        None => f(&global().registry),
    }
}
