//! Unbounded MPMC queue of linked blocks ("segments"), in the style of the segmented queue of
//! crossbeam-queue's `SegQueue`, built on Vyukov's claim-then-publish slots.
//!
//! Positions are claimed by CAS on a head and a tail index. Every block holds
//! `BLOCK_CAP` (63) slots; positions run in laps of `LAP` = `BLOCK_CAP + 1`, and the extra
//! offset `BLOCK_CAP` of a lap is a *sentinel*: the thread that claims a block's last slot
//! moves its index there while it links the next block, and everybody else waits for it.
//! Each slot goes `EMPTY` -> `WRITTEN` (its producer) -> `READ` (its consumer), by plain
//! Release stores: one atomic read-modify-write per operation (the index CAS), as a
//! mutex-protected queue pays for its lock. Reclamation: the reader of a block's last slot
//! *retires* the block; a retired block is freed as soon as every other slot shows `READ`
//! (checked at once, and again at each later retirement; a block still being read waits on a
//! small list, and the queue's drop frees whatever is left there). Threads dereference a block
//! only after a successful index CAS on a position inside it, a block is freed only after every
//! slot's last access to it (its `READ` store, acquired by the check), so no freed block is
//! ever touched. The producer side and the block layout live in `segment.rs`, shared with
//! [`MpscQueue`](super::MpscQueue).
//!
//! Progress: **not lock-free** (as [`MpmcQueue`](super::MpmcQueue)): a preempted thread in the
//! middle of a claim or of a block switch makes others wait for it. `push` allocates one block
//! per `BLOCK_CAP` (63) elements (allocated before the claim, so the window others wait through
//! holds no allocation); `pop` never allocates.

use ::core::fmt;
use ::core::marker::PhantomData;

use super::segment::{Block, Segments, BLOCK_CAP, HAS_NEXT, LAP, READ, SHIFT};
use crate::core::Backoff;
use crate::loom::sync::atomic::{fence, AtomicPtr, Ordering};

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
    /// Retired blocks some slot of which was still being read at retirement, linked through
    /// `Block::retired_next`. Pushed with a CAS, taken whole with a swap (so no ABA).
    retired: AtomicPtr<Block<T>>,
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
                retired: AtomicPtr::new(::core::ptr::null_mut()),
                _owns: PhantomData,
            }
        }
    }

    /// Appends `value`. Allocates a new block once every `BLOCK_CAP` (63) pushes.
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
    #[inline]
    pub fn pop(&self) -> Option<T> {
        // The common case inline: a slot inside the head block (not its last, whose claimer
        // moves the head to the next block), and our claim succeeds.
        // Acquire: as in `pop_slow`.
        let head = self.segs.head.index.load(Ordering::Acquire);
        let block = self.segs.head.block.load(Ordering::Acquire);
        let offset = (head >> SHIFT) % LAP;
        if offset + 1 < BLOCK_CAP && !block.is_null() {
            let new_head = self.next_head(head)?;
            // SeqCst: as in `pop_slow`.
            if self
                .segs
                .head
                .index
                .compare_exchange_weak(head, new_head, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                // SAFETY: our CAS claimed position `head` inside `block` (loaded after the
                // index, which was unchanged since), not its last slot.
                return Some(unsafe { Self::read(block, offset) });
            }
        }
        self.pop_slow()
    }

    /// The head index after `head`, or `None` if the queue is empty at `head`. Without
    /// `HAS_NEXT` the head block may be the tail block, so the tail decides (and may show that
    /// a next block exists by now).
    #[inline]
    fn next_head(&self, head: usize) -> Option<usize> {
        let mut new_head = head + (1 << SHIFT);
        if new_head & HAS_NEXT == 0 {
            // SeqCst fence: orders the head load before the tail load; pairs with the SeqCst
            // tail CAS in `push`.
            fence(Ordering::SeqCst);
            let tail = self.segs.tail.index.load(Ordering::Relaxed);
            if head >> SHIFT == tail >> SHIFT {
                return None;
            }
            if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                new_head |= HAS_NEXT;
            }
        }
        Some(new_head)
    }

    /// Reads the value out of the claimed slot `offset` (not the last) of `block` and marks
    /// the slot `READ`.
    ///
    /// # Safety
    /// The caller's head CAS claimed that slot, `block` holds it, and it is not the block's
    /// last slot.
    #[inline]
    unsafe fn read(block: *mut Block<T>, offset: usize) -> T {
        // SAFETY: `block` is live: it is freed only after this slot shows `READ`.
        let slot = unsafe { &(*block).slots[offset] };
        slot.wait_write();
        // SAFETY: `WRITTEN` was observed (Acquire): the value is initialised, and our claim makes us its only reader.
        let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
        // Release: pairs with the Acquire loads of `Block::all_read`; our read happens before
        // the block is freed. Our last access to the block.
        slot.state.store(READ, Ordering::Release);
        value
    }

    /// `pop` after its inline attempt failed: the block's last slot or a block switch, no
    /// block yet, or a lost race.
    #[cold]
    #[inline(never)]
    fn pop_slow(&self) -> Option<T> {
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
            let new_head = self.next_head(head)?;
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
                    if offset + 1 < BLOCK_CAP {
                        // SAFETY: our CAS claimed position `head` inside `block`, not its last
                        // slot.
                        return Some(unsafe { Self::read(block, offset) });
                    }
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
                    // SAFETY: our CAS claimed the last slot of the live `block`.
                    let slot = unsafe { &(*block).slots[offset] };
                    slot.wait_write();
                    // SAFETY: `WRITTEN` was observed (Acquire): the value is initialised, and our claim makes us its only reader.
                    let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                    // SAFETY: we read the block's last slot, every other slot was claimed by
                    // a consumer (the head has passed them), and we moved the head on above.
                    unsafe { self.retire(block) };
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

    /// Frees `block`, whose last slot the caller has read, once every other slot is read;
    /// a block still being read goes on the `retired` list. Then frees whatever on that list
    /// is fully read by now.
    ///
    /// # Safety
    /// The caller read `block`'s last slot, the head has left `block`, and nobody else
    /// retires it.
    #[cold]
    unsafe fn retire(&self, block: *mut Block<T>) {
        // SAFETY: `block` is live: only its retirement (this call) frees it.
        if unsafe { Block::all_read(block) } {
            // SAFETY: every slot has been read: nothing will touch the block again.
            drop(unsafe { Box::from_raw(block) });
        } else {
            self.push_retired(block);
        }
        // The list is empty almost always: look before taking it.
        if self.retired.load(Ordering::Relaxed).is_null() {
            return;
        }
        // Acquire: pairs with the Release CAS in `push_retired`; the pushers' links are
        // visible. Taking the whole list makes its blocks ours alone.
        let mut list = self
            .retired
            .swap(::core::ptr::null_mut(), Ordering::Acquire);
        while !list.is_null() {
            let b = list;
            // SAFETY: `b` came off the list, which owns its blocks; not freed yet.
            list = unsafe { (*b).retired_next.load(Ordering::Relaxed) };
            // SAFETY: as above.
            if unsafe { Block::all_read(b) } {
                // SAFETY: every slot has been read: nothing will touch `b` again.
                drop(unsafe { Box::from_raw(b) });
            } else {
                self.push_retired(b);
            }
        }
    }

    /// Puts a retired block on the `retired` list.
    fn push_retired(&self, block: *mut Block<T>) {
        let mut head = self.retired.load(Ordering::Relaxed);
        loop {
            // SAFETY: `block` is retired and owned by the caller until the CAS below publishes it.
            unsafe { (*block).retired_next.store(head, Ordering::Relaxed) };
            // Release: publishes the link above to whoever takes the list (Acquire swap in
            // `retire`).
            match self.retired.compare_exchange_weak(
                head,
                block,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => head = now,
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

impl<T> Drop for SegQueue<T> {
    fn drop(&mut self) {
        // `&mut self`: no pop is running, so every slot of a retired block has been read. The
        // blocks from the head on are `Segments`' to free.
        let mut list = self.retired.load(Ordering::Relaxed);
        while !list.is_null() {
            // SAFETY: `list` is a retired block owned by the list; read its link, then free it.
            let next = unsafe { (*list).retired_next.load(Ordering::Relaxed) };
            // SAFETY: as above; nothing else refers to it.
            drop(unsafe { Box::from_raw(list) });
            list = next;
        }
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
