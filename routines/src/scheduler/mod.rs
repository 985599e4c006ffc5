//! Running jobs on worker threads.
//!
//! * [`ThreadPool`]: fixed workers over one shared FIFO queue; jobs are `'static`.
//! * [`Scheduler`]: a work-stealing scheduler in rayon's shape (per-worker deques, a global
//!   injector, steal-half, bounded searching, sleeping workers): [`join`], [`scope()`] (jobs
//!   may borrow), [`spawn`], [`spawn_future`], [`broadcast`], [`Scheduler::install`]. The
//!   free functions run on the caller's scheduler, or on a [`global()`] one.
//!
//! ```
//! let pool = routines::scheduler::ThreadPool::new(2);
//! let f = pool.spawn(|| (1..=10_u64).sum::<u64>()).unwrap();
//! assert_eq!(f.wait().unwrap(), 55);
//!
//! let (a, b) = routines::scheduler::join(|| 1 + 1, || 2 + 2);
//! assert_eq!((a, b), (2, 4));
//! ```
//!
//! Rules: `spec/scheduler.md`.

mod global;
mod job;
mod latch;
#[cfg(all(test, routines_loom))]
mod loom_models;
mod pool;
mod pool_job;
mod registry;
mod scope;
mod sleep;
mod stealing;
mod workers;

pub use self::global::{
    broadcast, current_num_threads, current_thread_index, global, join, scope, spawn, spawn_future,
    without_stealing,
};
pub use self::pool::{PoolShutdown, ThreadPool, ThreadPoolBuilder};
pub use self::scope::Scope;
pub use self::stealing::{BroadcastContext, Scheduler, SchedulerBuilder};

pub(crate) use self::stealing::SpawnHandle;
