//! Lock-free and non-blocking data structures: the cores under channels, mailboxes and the
//! scheduler.
//!
//! Each file opens with the algorithm it implements, its citation and its deviations, and
//! says honestly what progress guarantee it gives:
//! * [`MpmcQueue`]: bounded MPMC queue after Vyukov. Non-blocking but **not lock-free**: a
//!   producer or consumer preempted between claiming a slot and publishing it holds up the
//!   threads that reach that slot next (they spin, then yield).
//! * [`SegQueue`]: unbounded MPMC queue of linked blocks. Same progress caveat as
//!   [`MpmcQueue`], plus an allocation when a block fills.
//! * [`MpscQueue`]: unbounded multi-producer single-consumer queue for mailboxes: the
//!   segmented queue's producer side with a consumer that needs no read-modify-write.
//! * [`Worker`] / [`Stealer`] / [`Injector`]: Chase–Lev work-stealing deque (Lê et al.
//!   orderings) with claim-before-read steals and generation-tagged buffers, and a global FIFO
//!   injector; `crossbeam_deque`'s API. Owner push/pop lock-free; steals report
//!   [`Steal::Retry`] on a lost race.
//! * [`TreiberStack`]: lock-free LIFO over a node arena with tagged indices (no
//!   use-after-free, no ABA).
//! * [`spsc`]: wait-free single-producer single-consumer ring with cached indices, with
//!   `rtrb`'s API (`spsc::RingBuffer`, also named `spsc::SpscQueue`).
//!
//! Every structure is model-checked with loom, runs under miri with strict provenance, and is
//! stress-tested with drop-counting payloads (see `spec/lockfree.md`).

mod deque;
mod mpmc;
mod mpsc;
mod seg_queue;
mod segment;
pub mod spsc;
mod treiber;

pub use self::deque::{Injector, Steal, Stealer, Worker};
pub(crate) use self::mpmc::StaticSlots;
pub use self::mpmc::{
    BorrowedSlots, HeapSlots, InlineSlots, IntoIter, MpmcQueue, Slot, Storage, ZeroCapacity,
};
pub use self::mpsc::{MpscConsumer, MpscIntoIter, MpscQueue};
pub use self::seg_queue::{IntoIter as SegIntoIter, SegQueue};
pub use self::treiber::TreiberStack;
