//! Building blocks every other module stands on: cache padding, spin backoff, and the parking
//! layer (a futex word and the [`WaitQueue`] that every blocking primitive waits on), and the
//! asymmetric fence (`membarrier`) the work-stealing deque's owner relies on.
//!
//! Layering is one-way: `core` imports nothing else from the crate except the loom facade.

mod backoff;
mod cache_padded;
mod futex;
pub(crate) mod membarrier;
mod park;

pub use self::backoff::Backoff;
pub use self::cache_padded::CachePadded;
pub use self::park::WaitQueue;

pub(crate) use self::backoff::{
    current_cpu, several_cpus, spin_briefly_times_until, spin_briefly_until, spin_until,
};
pub(crate) use self::park::deadline_after;
