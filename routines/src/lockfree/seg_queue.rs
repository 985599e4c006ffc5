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
//! position inside it, so no freed block is ever touched.
//!
//! Progress: **not lock-free** (as [`MpmcQueue`](super::MpmcQueue)): a preempted thread in the
//! middle of a claim or of a block switch makes others wait for it. `push` allocates one block
//! per `BLOCK_CAP` (31) elements (allocated before the claim, so the window others wait through
//! holds no allocation); `pop` never allocates.

use ::core::fmt;
use ::core::marker::PhantomData;
use ::core::mem::MaybeUninit;
use ::core::ptr;

use crate::core::{Backoff, CachePadded};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{fence, AtomicPtr, AtomicUsize, Ordering};

/// Slots per block.
const BLOCK_CAP: usize = if cfg!(routines_loom) { 2 } else { 31 };
/// Positions per lap: the block's slots plus the sentinel offset.
const LAP: usize = BLOCK_CAP + 1;
/// Indices are positions shifted left by this much; the freed low bit carries `HAS_NEXT`.
const SHIFT: usize = 1;
/// In the head index: the head block has a successor, so `pop` need not look at the tail.
const HAS_NEXT: usize = 1;

/// Slot state bits.
const WRITE: usize = 1;
const READ: usize = 2;
const DESTROY: usize = 4;

struct Slot<T> {
    /// Initialised once `state` has `WRITE`; read out once (by the claiming consumer).
    value: UnsafeCell<MaybeUninit<T>>,
    /// `WRITE | READ | DESTROY` bits, see above.
    state: AtomicUsize,
}

impl<T> Slot<T> {
    /// Waits until the producer that claimed this slot has written it.
    fn wait_write(&self) {
        let backoff = Backoff::new();
        // Acquire: pairs with the Release `fetch_or(WRITE)` in `push`; the value is visible.
        while self.state.load(Ordering::Acquire) & WRITE == 0 {
            backoff.snooze();
        }
    }
}

struct Block<T> {
    /// The next block; set by the producer that claimed this block's last slot.
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    /// A fresh block on the heap, built in place (no large value on the stack).
    fn alloc() -> *mut Self {
        let mut block = Box::<Self>::new_uninit();
        let p = block.as_mut_ptr();
        // SAFETY: `p` points to the allocation for a `Block<T>`; each field is written once through raw pointers before `assume_init`.
        unsafe {
            (&raw mut (*p).next).write(AtomicPtr::new(ptr::null_mut()));
            let slots = (&raw mut (*p).slots).cast::<Slot<T>>();
            for i in 0..BLOCK_CAP {
                slots.add(i).write(Slot {
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                    state: AtomicUsize::new(0),
                });
            }
        }
        // SAFETY: every field was initialised above.
        Box::into_raw(unsafe { block.assume_init() })
    }

    /// Waits until the next block is linked.
    fn wait_next(&self) -> *mut Self {
        let backoff = Backoff::new();
        loop {
            // Acquire: pairs with the Release store of `next` in `push`.
            let next = self.next.load(Ordering::Acquire);
            if !next.is_null() {
                return next;
            }
            backoff.snooze();
        }
    }

    /// Frees `this` once every slot from `start` on has been read; if a reader is still at
    /// work on one of them, marks it `DESTROY` and leaves the rest of the sweep to it.
    ///
    /// # Safety
    /// `this` is a live block whose slots before `start` (and its last slot) have been read,
    /// and the caller has finished with it.
    unsafe fn destroy(this: *mut Self, start: usize) {
        // The last slot is not checked: its reader is the one that starts the sweep.
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the block is live: slot `i` has not signalled its read with `DESTROY` seen, so nobody has freed it.
            let slot = unsafe { &(*this).slots[i] };
            // AcqRel: Acquire pairs with the reader's Release `fetch_or(READ)` (its read of
            // the value happens before we free); Release hands the sweep to that reader.
            if slot.state.load(Ordering::Acquire) & READ == 0
                && slot.state.fetch_or(DESTROY, Ordering::AcqRel) & READ == 0
            {
                return; // the reader of slot `i` continues the sweep
            }
        }
        // SAFETY: every slot has been read and no thread holds a claim in this block.
        drop(unsafe { Box::from_raw(this) });
    }
}

/// A head or tail: a position index and the block it falls in.
struct Position<T> {
    /// `position << SHIFT`, plus `HAS_NEXT` in the head.
    index: AtomicUsize,
    /// The block holding `index`'s position; null before the first push.
    block: AtomicPtr<Block<T>>,
}

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
    head: CachePadded<Position<T>>,
    tail: CachePadded<Position<T>>,
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
                head: CachePadded::new(Position {
                    index: AtomicUsize::new(0),
                    block: AtomicPtr::new(ptr::null_mut()),
                }),
                tail: CachePadded::new(Position {
                    index: AtomicUsize::new(0),
                    block: AtomicPtr::new(ptr::null_mut()),
                }),
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
        let backoff = Backoff::new();
        // Acquire: pairs with the Release index store of a block switch; the block pointer
        // stored before it is visible.
        let mut tail = self.tail.index.load(Ordering::Acquire);
        let mut block = self.tail.block.load(Ordering::Acquire);
        let mut spare: *mut Block<T> = ptr::null_mut();
        loop {
            let offset = (tail >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another producer is linking the next block.
                backoff.snooze();
                tail = self.tail.index.load(Ordering::Acquire);
                block = self.tail.block.load(Ordering::Acquire);
                continue;
            }
            // Allocate before claiming the last slot, so that the switch others wait
            // through is short.
            if offset + 1 == BLOCK_CAP && spare.is_null() {
                spare = Block::alloc();
            }
            if block.is_null() {
                // The very first push installs the first block.
                let first = if spare.is_null() {
                    Block::alloc()
                } else {
                    spare
                };
                spare = ptr::null_mut();
                // Release: publishes the block's initialisation to whoever loads it.
                match self.tail.block.compare_exchange(
                    ptr::null_mut(),
                    first,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // Release: as above, for consumers.
                        self.head.block.store(first, Ordering::Release);
                        block = first;
                    }
                    Err(_) => {
                        spare = first; // reuse it later, or free it below
                        tail = self.tail.index.load(Ordering::Acquire);
                        block = self.tail.block.load(Ordering::Acquire);
                        continue;
                    }
                }
            }
            let new_tail = tail + (1 << SHIFT);
            // SeqCst: the tail CAS and the tail load in `pop` agree on one order with the
            // head CAS, so "empty" is never concluded from a stale pair.
            match self.tail.index.compare_exchange_weak(
                tail,
                new_tail,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // We took the block's last slot: link the next block and move the
                        // tail past the sentinel offset.
                        let next = ::core::mem::replace(&mut spare, ptr::null_mut());
                        debug_assert!(!next.is_null());
                        // Release: publishes the new block before the index that leads to it.
                        self.tail.block.store(next, Ordering::Release);
                        self.tail
                            .index
                            .store(new_tail + (1 << SHIFT), Ordering::Release);
                        // Release: pairs with the Acquire in `wait_next`.
                        // SAFETY: `block` is live: our claimed slot in it is unread.
                        unsafe { (*block).next.store(next, Ordering::Release) };
                    }
                    // SAFETY: our CAS claimed position `tail` inside `block` (which is live until that slot is read, which needs our WRITE first).
                    let slot = unsafe { &(*block).slots[offset] };
                    // SAFETY: the claimed slot is ours to write; nobody reads it before WRITE.
                    slot.value.with_mut(|p| unsafe { (*p).write(value) });
                    // Release: pairs with the Acquire in `wait_write`; publishes the value.
                    slot.state.fetch_or(WRITE, Ordering::Release);
                    if !spare.is_null() {
                        // SAFETY: an unused block we allocated and never published.
                        drop(unsafe { Box::from_raw(spare) });
                    }
                    return;
                }
                Err(now) => {
                    tail = now;
                    block = self.tail.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
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
        let mut head = self.head.index.load(Ordering::Acquire);
        let mut block = self.head.block.load(Ordering::Acquire);
        loop {
            let offset = (head >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another consumer is moving the head to the next block.
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            let mut new_head = head + (1 << SHIFT);
            if new_head & HAS_NEXT == 0 {
                // SeqCst fence: orders the head load before the tail load; pairs with the
                // SeqCst tail CAS in `push`.
                fence(Ordering::SeqCst);
                let tail = self.tail.index.load(Ordering::Relaxed);
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
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            // SeqCst: see `push`.
            match self.head.index.compare_exchange_weak(
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
                        self.head.block.store(next, Ordering::Release);
                        self.head.index.store(next_index, Ordering::Release);
                    }
                    // SAFETY: our CAS claimed position `head` inside the live `block`.
                    let slot = unsafe { &(*block).slots[offset] };
                    slot.wait_write();
                    // SAFETY: WRITE was observed (Acquire): the value is initialised, and our claim makes us its only reader.
                    let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                    if offset + 1 == BLOCK_CAP {
                        // SAFETY: our slot, the last one, is read; start the sweep.
                        unsafe { Block::destroy(block, 0) };
                    } else if slot.state.fetch_or(READ, Ordering::AcqRel) & DESTROY != 0 {
                        // AcqRel: Release publishes our read to the sweeper; Acquire pairs
                        // with its DESTROY. The sweeper stopped at us: continue it.
                        // SAFETY: slots up to ours are read; the block is still live.
                        unsafe { Block::destroy(block, offset + 1) };
                    }
                    return Some(value);
                }
                Err(now) => {
                    head = now;
                    block = self.head.block.load(Ordering::Acquire);
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
        loop {
            // SeqCst: a consistent (head, tail) pair.
            let mut tail = self.tail.index.load(Ordering::SeqCst);
            let mut head = self.head.index.load(Ordering::SeqCst);
            if self.tail.index.load(Ordering::SeqCst) != tail {
                continue;
            }
            tail >>= SHIFT;
            head >>= SHIFT;
            // A sentinel offset counts as the start of the next lap.
            if tail % LAP == BLOCK_CAP {
                tail += 1;
            }
            if head % LAP == BLOCK_CAP {
                head += 1;
            }
            // Rebase both on the head's lap, then drop one sentinel per lap crossed.
            let base = head / LAP * LAP;
            let (head, tail) = (head - base, tail - base);
            return tail - head - tail / LAP;
        }
    }

    /// `true` if the queue holds no element (a snapshot).
    ///
    /// # Examples
    /// ```
    /// assert!(routines::lockfree::SegQueue::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        // SeqCst: as in `len`.
        let head = self.head.index.load(Ordering::SeqCst);
        let tail = self.tail.index.load(Ordering::SeqCst);
        head >> SHIFT == tail >> SHIFT
    }
}

impl<T> Drop for SegQueue<T> {
    fn drop(&mut self) {
        // `&mut self`: no other thread can touch the queue; Relaxed loads suffice.
        let mut head = self.head.index.load(Ordering::Relaxed) >> SHIFT;
        let tail = self.tail.index.load(Ordering::Relaxed) >> SHIFT;
        let mut block = self.head.block.load(Ordering::Relaxed);
        while head != tail {
            let offset = head % LAP;
            if offset < BLOCK_CAP {
                // SAFETY: positions between head and tail were written and never read, in the live block `block`.
                unsafe {
                    (*block).slots[offset]
                        .value
                        .with_mut(|p| (*p).assume_init_drop())
                };
            } else {
                // SAFETY: every slot of `block` has been read or dropped; the next block is linked (the sentinel was passed by a push).
                let next = unsafe { (*block).next.load(Ordering::Relaxed) };
                // SAFETY: nothing refers to `block` any more.
                drop(unsafe { Box::from_raw(block) });
                block = next;
            }
            head += 1;
        }
        if !block.is_null() {
            // SAFETY: the last block, now empty and unreferenced.
            drop(unsafe { Box::from_raw(block) });
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
