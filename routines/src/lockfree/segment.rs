//! The segment machinery shared by [`SegQueue`](super::SegQueue) (MPMC) and
//! [`MpscQueue`](super::MpscQueue) (MPSC): linked blocks of slots, the producer side (`push`),
//! `len`, and teardown. Each queue adds its own consumer side.
//!
//! Positions are claimed by CAS on a tail index (and, for MPMC, a head index). Every block
//! holds `BLOCK_CAP` (31) slots; positions run in laps of `LAP` = `BLOCK_CAP + 1`, and the
//! extra offset `BLOCK_CAP` of a lap is a *sentinel*: the producer that claims a block's last
//! slot moves the tail there while it links the next block, and every other producer waits for
//! it. Each slot has a state word (`WRITE`, and for MPMC reclamation `READ`, `DESTROY`).
//! Threads dereference a block only after a successful index CAS on a position inside it (or,
//! for the single consumer, while it owns the head), and a block outlives every claimed
//! position inside it, so no freed block is ever touched.
//!
//! The next block is allocated before the claim of a block's last slot, so the window others
//! wait through holds no allocation.

use ::core::mem::MaybeUninit;
use ::core::ptr;

use crate::core::{Backoff, CachePadded};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// Slots per block.
pub(super) const BLOCK_CAP: usize = if cfg!(routines_loom) { 2 } else { 31 };
/// Positions per lap: the block's slots plus the sentinel offset.
pub(super) const LAP: usize = BLOCK_CAP + 1;
/// Indices are positions shifted left by this much; the freed low bit carries `HAS_NEXT`.
pub(super) const SHIFT: usize = 1;
/// In the head index: the head block has a successor, so `pop` need not look at the tail.
pub(super) const HAS_NEXT: usize = 1;

/// Slot state bits.
pub(super) const WRITE: usize = 1;
pub(super) const READ: usize = 2;
pub(super) const DESTROY: usize = 4;

pub(super) struct Slot<T> {
    /// Initialised once `state` has `WRITE`; read out once (by the claiming consumer).
    pub(super) value: UnsafeCell<MaybeUninit<T>>,
    /// `WRITE | READ | DESTROY` bits, see above.
    pub(super) state: AtomicUsize,
}

impl<T> Slot<T> {
    /// Waits until the producer that claimed this slot has written it.
    pub(super) fn wait_write(&self) {
        let backoff = Backoff::new();
        // Acquire: pairs with the Release `fetch_or(WRITE)` in `push`; the value is visible.
        while self.state.load(Ordering::Acquire) & WRITE == 0 {
            backoff.snooze();
        }
    }
}

pub(super) struct Block<T> {
    /// The next block; set by the producer that claimed this block's last slot.
    pub(super) next: AtomicPtr<Block<T>>,
    pub(super) slots: [Slot<T>; BLOCK_CAP],
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
    pub(super) fn wait_next(&self) -> *mut Self {
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
    pub(super) unsafe fn destroy(this: *mut Self, start: usize) {
        // The last slot is not checked: its reader is the one that starts the sweep.
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the block is live: slot `i` has not signalled its read with `DESTROY` seen, so nobody has freed it.
            let slot = unsafe { &(*this).slots[i] };
            // AcqRel: Acquire pairs with the reader's Release `fetch_add(READ)` (its read of
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
pub(super) struct Position<T> {
    /// `position << SHIFT`, plus `HAS_NEXT` in the head.
    pub(super) index: AtomicUsize,
    /// The block holding `index`'s position; null before the first push.
    pub(super) block: AtomicPtr<Block<T>>,
}

/// A head, a tail and the blocks between them. The owning queue supplies the consumer side.
pub(super) struct Segments<T> {
    pub(super) head: CachePadded<Position<T>>,
    pub(super) tail: CachePadded<Position<T>>,
}

impl<T> Segments<T> {
    crate::loom::const_fn_unless_loom! {
        /// No block yet; the first push allocates one.
        pub(super) fn new() -> Self {
            Self {
                head: CachePadded::new(Position {
                    index: AtomicUsize::new(0),
                    block: AtomicPtr::new(ptr::null_mut()),
                }),
                tail: CachePadded::new(Position {
                    index: AtomicUsize::new(0),
                    block: AtomicPtr::new(ptr::null_mut()),
                }),
            }
        }
    }

    /// Appends `value`. Allocates a new block once every `BLOCK_CAP` (31) pushes.
    pub(super) fn push(&self, value: T) {
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

    /// Number of elements: a snapshot.
    pub(super) fn len(&self) -> usize {
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
    pub(super) fn is_empty(&self) -> bool {
        // SeqCst: as in `len`.
        let head = self.head.index.load(Ordering::SeqCst);
        let tail = self.tail.index.load(Ordering::SeqCst);
        head >> SHIFT == tail >> SHIFT
    }
}

impl<T> Drop for Segments<T> {
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
