//! Unbounded MPMC queue of linked blocks ("segments"), in the style of the segmented queue of
//! crossbeam-queue's `SegQueue`, built on Vyukov's claim-then-publish slots.
//!
//! Positions are claimed by CAS on a head and a tail index. Every block holds
//! `BLOCK_CAP` (31) slots; positions run in laps of `LAP` = `BLOCK_CAP + 1`, and the extra
//! offset `BLOCK_CAP` of a lap is a *sentinel*: the thread that claims a block's last slot
//! moves its index there while it links the next block, and everybody else waits for it.
//! Each slot has a state word (`WRITE`, `READ`, `DESTROY`); a block is freed by exactly one
//! thread, the one that observes all its slots read (the reader of the last slot starts the
//! sweep; a reader it overtakes takes over via `DESTROY`). Threads dereference a block only
//! after a successful index CAS on a position inside it, and a block outlives every claimed
//! position inside it, so no freed block is ever touched. The producer side and the block
//! layout live in `segment.rs`, shared with [`MpscQueue`](super::MpscQueue).
//!
//! Progress: **not lock-free** (as [`MpmcQueue`](super::MpmcQueue)): a preempted thread in the
//! middle of a claim or of a block switch makes others wait for it. `push` allocates one block
//! per `BLOCK_CAP` (31) elements (allocated before the claim, so the window others wait through
//! holds no allocation); `pop` never allocates.

use ::core::fmt;
use ::core::marker::PhantomData;

use super::segment::{Block, Segments, BLOCK_CAP, DESTROY, HAS_NEXT, LAP, READ, SHIFT};
use crate::core::Backoff;
use crate::loom::sync::atomic::{fence, Ordering};

/// An unbounded multi-producer multi-consumer FIFO queue (segmented). See the module docs
/// above for the algorithm, its reclamation scheme and its progress guarantee.
///
/// Semantics of `crossbeam_queue::SegQueue`. `SegQueue::new` is `const` and allocates
/// nothing; the first push allocates the first block.
///
/// # Examples
/// ```
/// use routines::lockfree::SegQueue;
///
/// let q = SegQueue::new();
/// for i in 0..100 {
///     q.push(i);
/// }
/// assert_eq!(q.len(), 100);
/// assert_eq!(q.pop(), Some(0));
/// assert_eq!(q.into_iter().count(), 99);
/// ```
pub struct SegQueue<T> {
    segs: Segments<T>,
    /// The queue owns its `T`s (and its blocks).
    _owns: PhantomData<T>,
}

// SAFETY: values move between threads through the queue (`T: Send`), each accessed by the one
// thread that claimed its slot.
unsafe impl<T: Send> Send for SegQueue<T> {}
// SAFETY: as above; `&SegQueue` only moves whole values in and out.
unsafe impl<T: Send> Sync for SegQueue<T> {}

impl<T> SegQueue<T> {
    crate::loom::const_fn_unless_loom! {
        /// An empty queue; allocates nothing until the first push.
        ///
        /// # Examples
        /// ```
        /// static Q: routines::lockfree::SegQueue<u8> = routines::lockfree::SegQueue::new();
        /// Q.push(1);
        /// assert_eq!(Q.pop(), Some(1));
        /// ```
        pub fn new() -> Self {
            Self {
                segs: Segments::new(),
                _owns: PhantomData,
            }
        }
    }

    /// Appends `value`. Allocates a new block once every `BLOCK_CAP` (31) pushes.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::SegQueue::new();
    /// q.push('a');
    /// assert_eq!(q.pop(), Some('a'));
    /// ```
    pub fn push(&self, value: T) {
        self.segs.push(value);
    }

    /// Removes the oldest element; `None` if the queue is empty.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::SegQueue::<u8>::new();
    /// assert_eq!(q.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<T> {
        let backoff = Backoff::new();
        // Acquire: pairs with the Release index store of a block switch in `pop`.
        let mut head = self.segs.head.index.load(Ordering::Acquire);
        let mut block = self.segs.head.block.load(Ordering::Acquire);
        loop {
            let offset = (head >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another consumer is moving the head to the next block.
                backoff.snooze();
                head = self.segs.head.index.load(Ordering::Acquire);
                block = self.segs.head.block.load(Ordering::Acquire);
                continue;
            }
            let mut new_head = head + (1 << SHIFT);
            if new_head & HAS_NEXT == 0 {
                // SeqCst fence: orders the head load before the tail load; pairs with the
                // SeqCst tail CAS in `push`.
                fence(Ordering::SeqCst);
                let tail = self.segs.tail.index.load(Ordering::Relaxed);
                if head >> SHIFT == tail >> SHIFT {
                    return None;
                }
                if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                    new_head |= HAS_NEXT;
                }
            }
            if block.is_null() {
                // The first push is installing the first block.
                backoff.snooze();
                head = self.segs.head.index.load(Ordering::Acquire);
                block = self.segs.head.block.load(Ordering::Acquire);
                continue;
            }
            // SeqCst: see `push`.
            match self.segs.head.index.compare_exchange_weak(
                head,
                new_head,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // We took the block's last slot: move the head to the next block.
                        // SAFETY: `block` is live (our slot in it is unread).
                        let next = unsafe { (*block).wait_next() };
                        let mut next_index = (new_head & !HAS_NEXT) + (1 << SHIFT);
                        // SAFETY: `next` is linked and live (the head has not reached it).
                        if !unsafe { (*next).next.load(Ordering::Relaxed) }.is_null() {
                            next_index |= HAS_NEXT;
                        }
                        // Release: publishes the block pointer before the index.
                        self.segs.head.block.store(next, Ordering::Release);
                        self.segs.head.index.store(next_index, Ordering::Release);
                    }
                    // SAFETY: our CAS claimed position `head` inside the live `block`.
                    let slot = unsafe { &(*block).slots[offset] };
                    slot.wait_write();
                    // SAFETY: WRITE was observed (Acquire): the value is initialised, and our claim makes us its only reader.
                    let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                    if offset + 1 == BLOCK_CAP {
                        // SAFETY: our slot, the last one, is read; start the sweep.
                        unsafe { Block::destroy(block, 0) };
                    } else if slot.state.fetch_add(READ, Ordering::AcqRel) & DESTROY != 0 {
                        // An add, not an or: only this slot's one reader sets READ, so the
                        // bit is clear and the two agree; x86 has a single instruction for
                        // a fetch_add (`lock xadd`) but needs a CAS loop for a fetch_or
                        // whose old value is read.
                        // AcqRel: Release publishes our read to the sweeper; Acquire pairs
                        // with its DESTROY. The sweeper stopped at us: continue it.
                        // SAFETY: slots up to ours are read; the block is still live.
                        unsafe { Block::destroy(block, offset + 1) };
                    }
                    return Some(value);
                }
                Err(now) => {
                    head = now;
                    block = self.segs.head.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// [`push`](Self::push) through `&mut self` (no other thread can be racing).
    ///
    /// # Examples
    /// ```
    /// let mut q = routines::lockfree::SegQueue::new();
    /// q.push_mut(1);
    /// assert_eq!(q.pop_mut(), Some(1));
    /// ```
    pub fn push_mut(&mut self, value: T) {
        self.push(value);
    }

    /// [`pop`](Self::pop) through `&mut self`.
    ///
    /// # Examples
    /// ```
    /// let mut q = routines::lockfree::SegQueue::<u8>::new();
    /// assert_eq!(q.pop_mut(), None);
    /// ```
    pub fn pop_mut(&mut self) -> Option<T> {
        self.pop()
    }

    /// Number of elements: a snapshot.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::SegQueue::new();
    /// q.push(1);
    /// q.push(2);
    /// assert_eq!(q.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.segs.len()
    }

    /// `true` if the queue holds no element (a snapshot).
    ///
    /// # Examples
    /// ```
    /// assert!(routines::lockfree::SegQueue::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }
}

impl<T> Default for SegQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for SegQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegQueue")
            .field("len", &self.len())
            .finish()
    }
}

/// Owning iterator over a [`SegQueue`], oldest first.
pub struct IntoIter<T> {
    queue: SegQueue<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.queue.pop()
    }
}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("len", &self.queue.len())
            .finish()
    }
}

impl<T> IntoIterator for SegQueue<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    /// # Examples
    /// ```
    /// let q = routines::lockfree::SegQueue::new();
    /// q.push(1);
    /// assert_eq!(q.into_iter().collect::<Vec<_>>(), [1]);
    /// ```
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { queue: self }
    }
}
