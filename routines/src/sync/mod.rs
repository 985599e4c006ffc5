//! Blocking synchronisation primitives built on the parking layer
//! ([`WaitQueue`](crate::core::WaitQueue)).
//!
//! All of them spin briefly, then park; none allocates after construction; none poisons.
//!
//! # No poisoning
//! A panic while a guard is held releases the lock as the guard drops during unwinding, and
//! the next locker gets the data as the panicking thread left it. There is no `PoisonError`
//! and no `Result` around `lock()`. Code whose invariants a panic can break should restore
//! them in a drop guard of its own. (This is the `parking_lot` choice, not `std`'s.)
//!
//! # Timeouts
//! Every `*_timeout(Duration)` treats a duration too large to add to `Instant::now()`
//! (such as `Duration::MAX`) as "wait forever"; none panics.

mod barrier;
mod latch;
mod mutex;
mod once;
mod rwlock;
mod semaphore;
mod wait_group;

pub use self::barrier::{Barrier, BarrierWaitResult};
pub use self::latch::Latch;
pub use self::mutex::{Mutex, MutexGuard};
pub use self::once::Once;
pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use self::semaphore::{Semaphore, SemaphorePermit};
pub use self::wait_group::WaitGroup;

pub(crate) use self::mutex::RawMutex;
