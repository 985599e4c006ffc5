//! The segment machinery shared by [`SegQueue`](super::SegQueue) (MPMC) and
//! [`MpscQueue`](super::MpscQueue) (MPSC): linked blocks of slots, the producer side (`push`),
//! `len`, and teardown. Each queue adds its own consumer side.
//!
//! Positions are claimed by CAS on a tail index (and, for MPMC, a head index). Every block
//! holds `BLOCK_CAP` (63) slots; positions run in laps of `LAP` = `BLOCK_CAP + 1`, and the
//! extra offset `BLOCK_CAP` of a lap is a *sentinel*: the producer that claims a block's last
//! slot moves the tail there while it links the next block, and every other producer waits for
//! it. Each slot has a state word: `EMPTY`, then `WRITTEN` (stored by its producer), then,
//! in `SegQueue`, `READ` (stored by its consumer). Each step is a plain Release store by the
//! one thread that owns the slot at that point, never a read-modify-write.
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
use crate::loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};

/// Slots per block: 63, so a block of 8-byte values is 1 KiB (64 slots of 16 bytes, the
/// last one's worth taken by the two links). Halving the allocations per message against
/// crossbeam's 31 measured ~20 % on a single-threaded fill-then-drain of 10 000 messages.
pub(super) const BLOCK_CAP: usize = if cfg!(routines_loom) { 2 } else { 63 };
/// Positions per lap: the block's slots plus the sentinel offset.
pub(super) const LAP: usize = BLOCK_CAP + 1;
/// Indices are positions shifted left by this much; the freed low bit carries `HAS_NEXT`.
pub(super) const SHIFT: usize = 1;
/// In the head index: the head block has a successor, so `pop` need not look at the tail.
pub(super) const HAS_NEXT: usize = 1;

/// Slot states, in order; each is stored once, by the slot's producer and then its consumer.
pub(super) const EMPTY: u32 = 0;
/// The value is in place (stored by the producer: its last access to the block).
pub(super) const WRITTEN: u32 = 1;
/// The value has been read out (stored by the consumer, `SegQueue` only: its last access to
/// the block).
pub(super) const READ: u32 = 2;

pub(super) struct Slot<T> {
    /// Initialised once `state` is `WRITTEN`; read out once (by the claiming consumer).
    pub(super) value: UnsafeCell<MaybeUninit<T>>,
    /// `EMPTY`, `WRITTEN` or `READ`, see above.
    pub(super) state: AtomicU32,
}

impl<T> Slot<T> {
    /// Waits until the producer that claimed this slot has written it.
    pub(super) fn wait_write(&self) {
        let backoff = Backoff::new();
        // Acquire: pairs with the Release store of `WRITTEN` in `push`; the value is visible.
        while self.state.load(Ordering::Acquire) == EMPTY {
            backoff.snooze();
        }
    }
}

pub(super) struct Block<T> {
    /// The next block; set by the producer that claimed this block's last slot.
    pub(super) next: AtomicPtr<Block<T>>,
    /// The next block on `SegQueue`'s list of retired blocks (see `SegQueue::retire`).
    pub(super) retired_next: AtomicPtr<Block<T>>,
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
            (&raw mut (*p).retired_next).write(AtomicPtr::new(ptr::null_mut()));
            let slots = (&raw mut (*p).slots).cast::<Slot<T>>();
            for i in 0..BLOCK_CAP {
                slots.add(i).write(Slot {
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                    state: AtomicU32::new(EMPTY),
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

    /// `true` once every slot but the last has been read (the last one's reader is the
    /// caller of `SegQueue::retire`). After `true`, no thread will touch the block again.
    ///
    /// # Safety
    /// `this` is live (not freed).
    pub(super) unsafe fn all_read(this: *mut Self) -> bool {
        // SAFETY: live (caller).
        let slots = unsafe { &(*this).slots };
        // Acquire: pairs with each reader's Release store of `READ`; its read of the value
        // happens before whatever the caller does with the block next (free it).
        slots[..BLOCK_CAP - 1]
            .iter()
            .all(|slot| slot.state.load(Ordering::Acquire) == READ)
    }
}

/// A head or tail: a position index and the block it falls in.
pub(super) struct Position<T> {
    /// `position << SHIFT`, plus `HAS_NEXT` in the head.
    pub(super) index: AtomicUsize,
    /// The block holding `index`'s position; null before the first push.
    pub(super) block: AtomicPtr<Block<T>>,
    /// In `SegQueue`'s head only (unused in tails and in `MpscQueue`): which threads may pop,
    /// see `SegQueue`'s consumer modes (spec LF-68). Here, on the head's line, because every
    /// pop reads it next to the head.
    pub(super) consumer: AtomicUsize,
    /// In `SegQueue`'s head only: the sole consumer is inside a pop (LF-68).
    pub(super) busy: AtomicBool,
    /// In `SegQueue`'s head only: the tail index as the sole consumer last read it (LF-68).
    pub(super) seen_tail: AtomicUsize,
}

/// A head, a tail and the blocks between them. The owning queue supplies the consumer side.
pub(super) struct Segments<T> {
    pub(super) head: CachePadded<Position<T>>,
    pub(super) tail: CachePadded<Position<T>>,
}

impl<T> Segments<T> {
    crate::loom::const_fn_unless_loom! {
        /// No block yet; the first push allocates one. `consumer`: the head's first
        /// consumer mode (`SegQueue`'s; 0 elsewhere).
        pub(super) fn new(consumer: usize) -> Self {
            Self {
                head: CachePadded::new(Position {
                    index: AtomicUsize::new(0),
                    block: AtomicPtr::new(ptr::null_mut()),
                    consumer: AtomicUsize::new(consumer),
                    busy: AtomicBool::new(false),
                    seen_tail: AtomicUsize::new(0),
                }),
                tail: CachePadded::new(Position {
                    index: AtomicUsize::new(0),
                    block: AtomicPtr::new(ptr::null_mut()),
                    consumer: AtomicUsize::new(0),
                    busy: AtomicBool::new(false),
                    seen_tail: AtomicUsize::new(0),
                }),
            }
        }
    }

    /// Appends `value`. Allocates a new block once every `BLOCK_CAP` (63) pushes.
    #[inline]
    pub(super) fn push(&self, value: T) {
        // The common case inline: a slot inside the current block (not its last, whose
        // claimer links the next block), and our claim succeeds.
        // Acquire: as in `push_slow`.
        let tail = self.tail.index.load(Ordering::Acquire);
        let block = self.tail.block.load(Ordering::Acquire);
        let offset = (tail >> SHIFT) % LAP;
        // SeqCst: as in `push_slow`.
        if offset + 1 < BLOCK_CAP
            && !block.is_null()
            && self
                .tail
                .index
                .compare_exchange_weak(
                    tail,
                    tail + (1 << SHIFT),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            // `block` was loaded after the index, and the index is unchanged since.
            // SAFETY: as in `push_slow`: our CAS claimed position `tail` inside `block`.
            unsafe { Self::write(block, offset, value) };
            return;
        }
        self.push_slow(value);
    }

    /// Writes `value` into the claimed slot `offset` of `block` and publishes it.
    ///
    /// # Safety
    /// The caller's tail CAS claimed that slot, and `block` is the block holding it.
    #[inline]
    unsafe fn write(block: *mut Block<T>, offset: usize, value: T) {
        // SAFETY: `block` is live until that slot is read, which needs our `WRITTEN` first.
        let slot = unsafe { &(*block).slots[offset] };
        // SAFETY: the claimed slot is ours to write; nobody reads it before `WRITTEN`.
        slot.value.with_mut(|p| unsafe { (*p).write(value) });
        // Release: pairs with the Acquire in `wait_write`; publishes the value. Our last
        // access to the block.
        slot.state.store(WRITTEN, Ordering::Release);
    }

    /// `push` after its inline attempt failed: the block's last slot or a block switch, the
    /// first block, or a lost race.
    #[cold]
    #[inline(never)]
    fn push_slow(&self, value: T) {
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
                    // SAFETY: our CAS claimed position `tail` inside `block`.
                    unsafe { Self::write(block, offset, value) };
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
