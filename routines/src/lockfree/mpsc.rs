//! Unbounded multi-producer single-consumer queue of linked blocks: the producer side of the
//! segmented queue ([`SegQueue`](super::SegQueue), `segment.rs`) with a consumer side that needs
//! no atomic read-modify-write at all, for actor mailboxes.
//!
//! Why segmented and not Vyukov's intrusive MPSC node queue (Vyukov, "Intrusive MPSC
//! node-based queue", 1024cores.net, 2010): that queue costs one `swap` per push and nothing
//! per pop, but it needs one node per message, which for a generic `T` means one allocation
//! per push (or intrusive links inside the message type), and its consumer can observe a
//! "broken link" window in which a completed later push is invisible behind an unfinished
//! earlier one. Here a push claims a slot by CAS in a block of 63 (one allocation per 63
//! pushes, none per message), and a pop that finds its slot claimed but unwritten waits for
//! that one producer, so a push that completed before a pop began is always seen by it.
//!
//! The consumer owns the head: it reads slot `head`; if the slot is written it takes the
//! value, advances the head with a plain store and, after the block's last slot, frees the
//! block itself (every producer's last access to a block is the `WRITTEN` it published, which
//! the consumer has acquired for every slot by then). No `READ` stores or retired list are
//! needed.
//!
//! Progress: push is as in [`SegQueue`](super::SegQueue) (non-blocking, not lock-free); pop is
//! wait-free except when it finds a slot claimed but not yet written, where it waits for that
//! producer.
//!
//! Single consumer is enforced by the types: [`MpscQueue::pop`] takes `&mut self`,
//! [`MpscQueue::consumer`] hands out at most one [`MpscConsumer`] at a time, and
//! [`MpscQueue::pop_unchecked`] is `unsafe` for owners (such as a mailbox) that guarantee it
//! themselves.

use ::core::fmt;
use ::core::marker::PhantomData;

use super::segment::{Segments, BLOCK_CAP, EMPTY, LAP, SHIFT};
use crate::loom::sync::atomic::{AtomicBool, Ordering};

/// An unbounded multi-producer single-consumer FIFO queue (segmented). See the module docs for
/// the algorithm and why it was chosen over an intrusive node queue.
///
/// Any number of threads may [`push`](Self::push) through `&MpscQueue`; exactly one at a time
/// may pop, through `&mut self`, through the [`MpscConsumer`] handle from
/// [`consumer`](Self::consumer), or through the `unsafe` [`pop_unchecked`](Self::pop_unchecked).
///
/// # Examples
/// ```
/// use routines::lockfree::MpscQueue;
///
/// let q = MpscQueue::new();
/// std::thread::scope(|s| {
///     for p in 0..3 {
///         let q = &q;
///         s.spawn(move || (0..100).for_each(|i| q.push((p, i))));
///     }
///     let mut consumer = q.consumer().expect("no other consumer");
///     let mut got = 0;
///     while got < 300 {
///         if consumer.pop().is_some() {
///             got += 1;
///         }
///     }
/// });
/// assert!(q.is_empty());
/// ```
pub struct MpscQueue<T> {
    segs: Segments<T>,
    /// An [`MpscConsumer`] exists.
    consumer_taken: AtomicBool,
    /// The queue owns its `T`s (and its blocks).
    _owns: PhantomData<T>,
}

// SAFETY: values move between threads through the queue (`T: Send`), each accessed by the one
// thread that claimed its slot (a producer) and then by the single consumer.
unsafe impl<T: Send> Send for MpscQueue<T> {}
// SAFETY: as above; through `&MpscQueue` producers only move whole values in, and popping needs
// `&mut`, the one `MpscConsumer`, or an `unsafe` promise of a single consumer.
unsafe impl<T: Send> Sync for MpscQueue<T> {}

impl<T> MpscQueue<T> {
    crate::loom::const_fn_unless_loom! {
        /// An empty queue; allocates nothing until the first push.
        ///
        /// # Examples
        /// ```
        /// static Q: routines::lockfree::MpscQueue<u8> = routines::lockfree::MpscQueue::new();
        /// Q.push(1);
        /// assert_eq!(Q.consumer().unwrap().pop(), Some(1));
        /// ```
        pub fn new() -> Self {
            Self {
                segs: Segments::new(0),
                consumer_taken: AtomicBool::new(false),
                _owns: PhantomData,
            }
        }
    }

    /// Appends `value`; any number of threads may push at once. Allocates one block per 63
    /// pushes, nothing otherwise.
    ///
    /// # Examples
    /// ```
    /// let mut q = routines::lockfree::MpscQueue::new();
    /// q.push("hello");
    /// assert_eq!(q.pop(), Some("hello"));
    /// ```
    pub fn push(&self, value: T) {
        self.segs.push(value);
    }

    /// Removes the oldest element; `None` if the queue is empty. `&mut self` makes this the
    /// only consumer.
    ///
    /// # Examples
    /// ```
    /// let mut q = routines::lockfree::MpscQueue::<u8>::new();
    /// assert_eq!(q.pop(), None);
    /// ```
    pub fn pop(&mut self) -> Option<T> {
        // SAFETY: `&mut self` excludes every other consumer.
        unsafe { self.pop_unchecked() }
    }

    /// The consumer handle, or `None` while another [`MpscConsumer`] exists.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpscQueue::<u8>::new();
    /// let first = q.consumer();
    /// assert!(first.is_some());
    /// assert!(q.consumer().is_none());
    /// drop(first);
    /// assert!(q.consumer().is_some());
    /// ```
    pub fn consumer(&self) -> Option<MpscConsumer<'_, T>> {
        // Acquire: pairs with the Release store in `MpscConsumer::drop`; the previous
        // consumer's pops (and its head updates) happen before ours.
        // `then`, not `then_some`: a handle built eagerly and dropped would clear the flag.
        (!self.consumer_taken.swap(true, Ordering::Acquire)).then(|| MpscConsumer { queue: self })
    }

    /// Removes the oldest element; `None` if the queue is empty.
    ///
    /// # Safety
    /// No other pop (through any of `pop`, an [`MpscConsumer`] or `pop_unchecked`) may run
    /// concurrently with this one, and successive pops from different threads must be ordered
    /// by some synchronisation (a mutex, a join, a channel).
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpscQueue::new();
    /// q.push(7);
    /// // SAFETY: this thread is the only one that pops.
    /// assert_eq!(unsafe { q.pop_unchecked() }, Some(7));
    /// ```
    pub unsafe fn pop_unchecked(&self) -> Option<T> {
        // Only the consumer stores the head index and, after the first block, the head block;
        // the caller's promise orders every earlier consumer's stores before these loads.
        let head = self.segs.head.index.load(Ordering::Relaxed);
        // Acquire: pairs with the Release store of the first block in `Segments::push`.
        let block = self.segs.head.block.load(Ordering::Acquire);
        let pos = head >> SHIFT;
        let offset = pos % LAP;
        debug_assert!(offset < BLOCK_CAP, "the consumer never rests on a sentinel");
        if block.is_null() {
            // Nothing was ever pushed, or the first push is installing the first block.
            if self.claimed_beyond(pos) {
                return self.wait_for_first_block_then_pop();
            }
            return None;
        }
        // SAFETY: `block` is the head block; only this consumer frees blocks, and it has not freed this one (it frees a block after leaving it).
        let slot = unsafe { &(*block).slots[offset] };
        // Acquire: pairs with the Release store of `WRITTEN` by the producer of this slot.
        if slot.state.load(Ordering::Acquire) == EMPTY {
            if !self.claimed_beyond(pos) {
                return None;
            }
            // A producer claimed this slot and has not written it yet; a push that completed
            // before this pop began may sit behind it, so wait for it.
            slot.wait_write();
        }
        // SAFETY: `WRITTEN` was observed (Acquire): the value is initialised, and the consumer is its only reader.
        let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
        if offset + 1 == BLOCK_CAP {
            // SAFETY: our block is live until we free it below.
            let next = unsafe { (*block).wait_next() };
            // Release: a snapshot for `len`; only the consumer reads its own stores back.
            self.segs.head.block.store(next, Ordering::Release);
            self.segs
                .head
                .index
                .store(head + (2 << SHIFT), Ordering::Release);
            // SAFETY: every slot of `block` was read by this consumer, each after acquiring the `WRITTEN` that was its producer's last access to the block, and the producer of the last slot linked `next` (acquired in `wait_next`) before its `WRITTEN`. No thread can reach `block` any more.
            drop(unsafe { Box::from_raw(block) });
        } else {
            // Release: as above.
            self.segs
                .head
                .index
                .store(head + (1 << SHIFT), Ordering::Release);
        }
        Some(value)
    }

    /// `true` if some push has claimed position `pos` (the tail is past it).
    fn claimed_beyond(&self, pos: usize) -> bool {
        // Relaxed: a push that completed before this pop began is visible through the chain of
        // happens-before that made it complete first; a racing push may or may not be seen,
        // and either answer is correct for it.
        self.segs.tail.index.load(Ordering::Relaxed) >> SHIFT != pos
    }

    /// The slow path of the very first pop: a producer has claimed position 0 but not yet
    /// published the first block.
    #[cold]
    fn wait_for_first_block_then_pop(&self) -> Option<T> {
        let backoff = crate::core::Backoff::new();
        // Acquire: pairs with the Release store of the first block in `Segments::push`.
        while self.segs.head.block.load(Ordering::Acquire).is_null() {
            backoff.snooze();
        }
        // SAFETY: the caller of `pop_unchecked` is the single consumer; the block now exists, so this recursion ends.
        unsafe { self.pop_unchecked() }
    }

    /// Number of elements: a snapshot.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpscQueue::new();
    /// q.push(1);
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.segs.len()
    }

    /// `true` if the queue holds no element (a snapshot).
    ///
    /// # Examples
    /// ```
    /// assert!(routines::lockfree::MpscQueue::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }
}

impl<T> Default for MpscQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for MpscQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpscQueue")
            .field("len", &self.len())
            .finish()
    }
}

/// The single consumer of an [`MpscQueue`], from [`MpscQueue::consumer`]. While it exists no
/// other consumer can be made; dropping it lets the next one be made.
pub struct MpscConsumer<'a, T> {
    queue: &'a MpscQueue<T>,
}

impl<T> MpscConsumer<'_, T> {
    /// Removes the oldest element; `None` if the queue is empty.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpscQueue::new();
    /// q.push(1);
    /// let mut c = q.consumer().unwrap();
    /// assert_eq!(c.pop(), Some(1));
    /// assert_eq!(c.pop(), None);
    /// ```
    pub fn pop(&mut self) -> Option<T> {
        // SAFETY: this handle is the only consumer (`consumer_taken`), and `&mut self` keeps its own pops sequential.
        unsafe { self.queue.pop_unchecked() }
    }

    /// The queue this handle consumes.
    pub fn queue(&self) -> &MpscQueue<T> {
        self.queue
    }
}

impl<T> Drop for MpscConsumer<'_, T> {
    fn drop(&mut self) {
        // Release: pairs with the Acquire swap in `MpscQueue::consumer`.
        self.queue.consumer_taken.store(false, Ordering::Release);
    }
}

impl<T> fmt::Debug for MpscConsumer<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpscConsumer")
            .field("len", &self.queue.len())
            .finish()
    }
}

/// Owning iterator over an [`MpscQueue`], oldest first.
pub struct MpscIntoIter<T> {
    queue: MpscQueue<T>,
}

impl<T> Iterator for MpscIntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.queue.pop()
    }
}

impl<T> fmt::Debug for MpscIntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpscIntoIter")
            .field("len", &self.queue.len())
            .finish()
    }
}

impl<T> IntoIterator for MpscQueue<T> {
    type Item = T;
    type IntoIter = MpscIntoIter<T>;

    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpscQueue::new();
    /// q.push(1);
    /// q.push(2);
    /// assert_eq!(q.into_iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    fn into_iter(self) -> MpscIntoIter<T> {
        MpscIntoIter { queue: self }
    }
}
