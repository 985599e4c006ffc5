//! Running jobs on worker threads: [`ThreadPool`] (fixed workers over one shared queue).
//! The work-stealing scheduler (`join`, `scope`, `spawn` in rayon's shape) follows with
//! issue 6.
//!
//! ```
//! let pool = routines::scheduler::ThreadPool::new(2);
//! let f = pool.spawn(|| (1..=10_u64).sum::<u64>()).unwrap();
//! assert_eq!(f.wait().unwrap(), 55);
//! ```
//!
//! Rules: `spec/scheduler.md`.

mod pool;

pub use self::pool::{PoolShutdown, ThreadPool, ThreadPoolBuilder};
