//! Unbounded MPMC queue of linked blocks ("segments"), in the style of the segmented queue of
//! crossbeam-queue's `SegQueue`, built on Vyukov's claim-then-publish slots.
//!
//! Positions are claimed by CAS on a head and a tail index. Every block holds
//! `BLOCK_CAP` (63) slots; positions run in laps of `LAP` = `BLOCK_CAP + 1`, and the extra
//! offset `BLOCK_CAP` of a lap is a *sentinel*: the thread that claims a block's last slot
//! moves its index there while it links the next block, and everybody else waits for it.
//! Each slot goes `EMPTY` -> `WRITTEN` (its producer) -> `READ` (its consumer), by plain
//! Release stores: one atomic read-modify-write per operation (the index CAS), as a
//! mutex-protected queue pays for its lock (a sole consumer's pop far behind the tail: none,
//! see below). Reclamation: the reader of a block's last slot *retires* the block; a retired
//! block is freed as soon as every other slot shows `READ` (checked at once, and again at
//! each later retirement; a block still being read waits on a small list, and the queue's
//! drop frees whatever is left there). Threads dereference a block only after a successful
//! claim of a position inside it (the index CAS, or a sole consumer's store), a block is
//! freed only after every slot's last access to it (its `READ` store, acquired by the
//! check), so no freed block is ever touched. The producer side and the block layout live
//! in `segment.rs`, shared with [`MpscQueue`](super::MpscQueue).
//!
//! **Sole consumer** (spec LF-68), for the queues of unbounded channels (built with
//! `new_with_sole_consumer`; [`SegQueue::new`] starts `SHARED` and always claims by CAS, as
//! crossbeam's does). The head's `consumer` word starts `UNCLAIMED`; the first thread to pop
//! claims it with its `thread::token`. While that thread is the only one to
//! have popped, a pop of its that finds the head more than `SOLE_LAG` positions behind the
//! tail (as it last read it) claims with a plain store instead of the CAS: no other thread
//! can be claiming. Every such pop is bracketed by a `busy` flag and checks the word again
//! after raising it, with only a compiler fence in between. Another thread that wants to pop
//! *revokes*: it CASes the word to `REVOKING`, issues the process-wide barrier of
//! `core::membarrier` (the cold side of an asymmetric fence, as the work-stealing deque's
//! thieves do), waits until `busy` is clear, and stores `SHARED`, after which every pop
//! claims by CAS, for good. The barrier makes the owner's store of `busy` and its second
//! read of the word as ordered as if fenced: either the revoker sees `busy` and waits for
//! that pop, or the owner sees `REVOKING` and claims by CAS. The owner's CAS pops (near the
//! tail, and when polling) need no bracket: CAS claims never conflict with each other. Where
//! `membarrier` is unavailable a queue goes `SHARED` at the first pop; under loom and miri
//! the protocol runs with read-modify-writes on both sides instead of the barrier.
//!
//! Progress: **not lock-free** (as [`MpmcQueue`](super::MpmcQueue)): a preempted thread in the
//! middle of a claim or of a block switch makes others wait for it. `push` allocates one block
//! per `BLOCK_CAP` (63) elements (allocated before the claim, so the window others wait through
//! holds no allocation); `pop` never allocates.

use ::core::fmt;
use ::core::marker::PhantomData;

use super::segment::{Block, Segments, BLOCK_CAP, HAS_NEXT, LAP, READ, SHIFT};
use crate::core::{membarrier, Backoff};
use crate::loom::sync::atomic::{compiler_fence, fence, AtomicPtr, Ordering};
use crate::loom::thread;

/// The head's `consumer` word before the first pop.
const UNCLAIMED: usize = 0;
/// Every pop claims its position by CAS: more than one thread has popped (or may).
const SHARED: usize = usize::MAX;
/// A thread is taking the mode away from the sole consumer (`revoke`); pops wait for `SHARED`.
const REVOKING: usize = usize::MAX - 1;
// Any other value: the `thread::token` of the sole consumer, the only thread that has popped.

/// How many positions behind the tail (as last read) the sole consumer must be to claim by
/// plain stores: four blocks (LF-68). One position under loom and miri, so that their
/// short runs take that path too.
const SOLE_LAG: usize = if cfg!(routines_loom) || cfg!(miri) {
    1
} else {
    4 * LAP
};

/// Under loom and miri, which can neither model nor run `membarrier`, the sole consumer's
/// protocol orders itself with RMWs on both sides instead of the asymmetric fence.
const MODELLED: bool = cfg!(routines_loom) || cfg!(miri);

/// Whether a first consumer may become the sole consumer: where the asymmetric fence (or the
/// model standing in for it) is supported; the process registers for it only when a
/// revocation first needs it (`core::membarrier`). Elsewhere the queue goes `SHARED`.
fn sole_allowed() -> bool {
    MODELLED || membarrier::supported()
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
            Self::with_consumer(SHARED)
        }
    }

    crate::loom::const_fn_unless_loom! {
        /// An empty queue whose first consumer may become its sole consumer (LF-68): for an
        /// owner that knows when a second consumer thread appears (an unbounded channel,
        /// whose cloned receivers say so).
        pub(crate) fn new_with_sole_consumer() -> Self {
            Self::with_consumer(UNCLAIMED)
        }
    }

    crate::loom::const_fn_unless_loom! {
        fn with_consumer(consumer: usize) -> Self {
            Self {
                segs: Segments::new(consumer),
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
    /// Claims by CAS. (The queue of an unbounded channel is built to let its only receiving
    /// thread claim by plain stores instead, spec LF-68.)
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::SegQueue::<u8>::new();
    /// assert_eq!(q.pop(), None);
    /// ```
    #[inline]
    pub fn pop(&self) -> Option<T> {
        let consumer = self.consumer();
        if consumer == SHARED {
            return self.pop_shared::<false>();
        }
        let me = thread::token();
        if consumer == me {
            if !self.far_behind() {
                // Near the tail, the sole consumer claims by CAS (see `pop_sole`), which
                // needs no protocol: as in `pop_claiming`.
                return self.pop_shared::<true>();
            }
            if self.enter_sole(me) {
                // SAFETY: `enter_sole` said yes: no other thread pops until `leave_sole`.
                let popped = unsafe { self.pop_sole() };
                self.leave_sole();
                return popped;
            }
        }
        self.pop_unsettled(me)
    }

    /// Whether the head is more than `SOLE_LAG` positions behind the tail as the sole
    /// consumer last read it. Only the sole consumer writes either, so for it the answer is
    /// exact; for anybody else it is a guess that `pop_sole` does not rely on.
    #[inline]
    fn far_behind(&self) -> bool {
        // Relaxed (both): see above.
        let head = self.segs.head.index.load(Ordering::Relaxed);
        let seen = self.segs.head.seen_tail.load(Ordering::Relaxed);
        // A tail once read stays a bound: positions before it are claimed for good.
        ((seen >> SHIFT).wrapping_sub(head >> SHIFT) as isize) > SOLE_LAG as isize
    }

    /// [`pop`](Self::pop), but claiming by CAS even when the caller is the sole consumer:
    /// for polling (a channel receiver's spin, a selection's rounds), whose pace stays that
    /// of `SHARED` mode (LF-68). Any other thread settles the mode first, as in `pop`: a
    /// CAS claim may race other CAS claims, never a sole consumer's plain store.
    #[inline]
    pub(crate) fn pop_claiming(&self) -> Option<T> {
        let consumer = self.consumer();
        if consumer == SHARED {
            return self.pop_shared::<false>();
        }
        let me = thread::token();
        if consumer == me {
            // Our own plain-store pops cannot be in progress, and a revocation that starts
            // now leaves every pop a CAS: ours is safe either way.
            return self.pop_shared::<true>();
        }
        self.pop_unsettled(me)
    }

    /// Makes the queue `SHARED` if nobody has popped yet: for an owner that knows more than
    /// one thread will pop (a cloned channel receiver), so that the second one need not
    /// revoke a sole consumer. Otherwise does nothing.
    pub(crate) fn share_consumers(&self) {
        // Relaxed: nobody has popped, so there is nothing to order (as in `pop_unsettled`).
        let _ = self.segs.head.consumer.compare_exchange(
            UNCLAIMED,
            SHARED,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// The head's consumer mode.
    #[inline]
    fn consumer(&self) -> usize {
        if MODELLED {
            // Under the model every read of the mode is an RMW, so that it reads the latest
            // value: loom would otherwise let a wait for `SHARED` read `REVOKING` forever.
            // AcqRel: as the Acquire below.
            self.segs.head.consumer.fetch_add(0, Ordering::AcqRel)
        } else {
            // Acquire: pairs with the Release store of `SHARED` in `revoke`; the sole
            // consumer's pops happen before ours.
            self.segs.head.consumer.load(Ordering::Acquire)
        }
    }

    /// `pop` claiming by CAS on the head index: in `SHARED` mode, and by the sole consumer
    /// near the tail (`RECORD`: it keeps the tail it reads, for `far_behind`).
    #[inline]
    fn pop_shared<const RECORD: bool>(&self) -> Option<T> {
        // The common case inline: a slot inside the head block (not its last, whose claimer
        // moves the head to the next block), and our claim succeeds.
        // Acquire: as in `pop_slow`.
        let head = self.segs.head.index.load(Ordering::Acquire);
        let block = self.segs.head.block.load(Ordering::Acquire);
        let offset = (head >> SHIFT) % LAP;
        if offset + 1 < BLOCK_CAP && !block.is_null() {
            let new_head = self.next_head::<RECORD>(head)?;
            // SeqCst: as in `pop_slow`.
            if self
                .segs
                .head
                .index
                .compare_exchange_weak(head, new_head, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                // `block` was loaded after the index, which was unchanged since.
                // SAFETY: our CAS claimed position `head` inside `block`, not its last slot.
                return Some(unsafe { Self::read(block, offset) });
            }
        }
        self.pop_slow::<false>()
    }

    /// `pop` by the only thread that pops. More than `SOLE_LAG` positions behind the tail
    /// (as last read) it claims with a plain store on the head index, and reads neither the
    /// tail nor a line the producers are still writing. Nearer the tail it pops as in
    /// `SHARED` mode, by CAS: a consumer that claims by plain stores right behind its
    /// producers keeps taking the lines they write, and streaming got slower (LF-68).
    ///
    /// # Safety
    /// No other thread pops until this call returns: the caller is the sole consumer inside
    /// `enter_sole` .. `leave_sole`.
    #[inline]
    unsafe fn pop_sole(&self) -> Option<T> {
        // Relaxed: only this thread has moved the head since it became the sole consumer, and
        // nobody moved it before (LF-68).
        let head = self.segs.head.index.load(Ordering::Relaxed);
        // Acquire: pairs with the first push's Release store of the head block, and with the
        // Release stores of our own block switches.
        let block = self.segs.head.block.load(Ordering::Acquire);
        let offset = (head >> SHIFT) % LAP;
        if !self.far_behind() {
            return self.pop_shared::<true>();
        }
        if offset + 1 < BLOCK_CAP && !block.is_null() {
            // `HAS_NEXT` carries over: the head block keeps its successor.
            // Release: pairs with the Acquire (or SeqCst) head loads of `len`, `is_empty`
            // and of the consumers after a revocation.
            self.segs
                .head
                .index
                .store(head + (1 << SHIFT), Ordering::Release);
            // No other thread pops (caller), and a producer claimed position `head` (the
            // tail is past it), so our store claimed it for us.
            // SAFETY: that claim, of a slot inside `block` that is not its last.
            return Some(unsafe { Self::read(block, offset) });
        }
        self.pop_slow::<true>()
    }

    /// Announces a pop by the sole consumer `me`: `true` if `me` still is the sole consumer,
    /// and then no other thread pops until `leave_sole`. The hot side of the asymmetric
    /// fence whose cold side is `revoke` (LF-68).
    #[inline]
    fn enter_sole(&self, me: usize) -> bool {
        let head = &self.segs.head;
        let still = if MODELLED {
            // Under loom and miri, which cannot run `membarrier`, both words are read and
            // written by RMWs on both sides, AcqRel: if our read of `consumer` comes before
            // the revoker's CAS in its modification order, the CAS reads our RMW's value and
            // synchronises with it, so our `busy` comes before the revoker's read of `busy`.
            head.busy.swap(true, Ordering::AcqRel);
            head.consumer.fetch_add(0, Ordering::AcqRel) == me
        } else {
            // Relaxed store, compiler fence, Relaxed load: the revoker's CAS, process-wide
            // barrier and `busy` load make this pair as ordered as a fence on both sides
            // (`core::membarrier`): either it sees `busy` set (and waits for `leave_sole`),
            // or we see its `REVOKING`.
            head.busy.store(true, Ordering::Relaxed);
            compiler_fence(Ordering::SeqCst);
            head.consumer.load(Ordering::Relaxed) == me
        };
        if !still {
            self.leave_sole();
        }
        still
    }

    /// Ends what `enter_sole` began.
    #[inline]
    fn leave_sole(&self) {
        // Release: pairs with the Acquire read of `busy` in `revoke`; our pop happens before
        // the revocation ends, hence before every pop in `SHARED` mode.
        self.segs.head.busy.store(false, Ordering::Release);
    }

    /// `pop` when the consumer mode is not settled: nobody has popped yet, another thread
    /// is the sole consumer, or a revocation is in progress. Settles it, then pops.
    #[cold]
    #[inline(never)]
    fn pop_unsettled(&self, me: usize) -> Option<T> {
        let backoff = Backoff::new();
        loop {
            match self.consumer() {
                SHARED => return self.pop_shared::<false>(),
                UNCLAIMED => {
                    let mode = if sole_allowed() { me } else { SHARED };
                    // Relaxed: nobody has popped, so there is nothing to order; a lost race
                    // shows the winner's mode on the next turn.
                    let _ = self.segs.head.consumer.compare_exchange(
                        UNCLAIMED,
                        mode,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                REVOKING => backoff.snooze(),
                owner if owner == me => {
                    if self.enter_sole(me) {
                        // SAFETY: `enter_sole` returned `true`.
                        let popped = unsafe { self.pop_sole() };
                        self.leave_sole();
                        return popped;
                    }
                }
                owner => self.revoke(owner),
            }
        }
    }

    /// Takes the sole consumer's mode away from `owner` and makes it `SHARED`, once no pop
    /// of `owner`'s is in progress. Returns at once if another thread got there first.
    #[cold]
    fn revoke(&self, owner: usize) {
        let head = &self.segs.head;
        // AcqRel: under the model, pairs with the owner's RMW read of `consumer` (see
        // `enter_sole`); otherwise the barrier below orders it.
        if head
            .consumer
            .compare_exchange(owner, REVOKING, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        if !MODELLED {
            // The cold side of `enter_sole`'s asymmetric fence: after it, the owner's next
            // `enter_sole` sees `REVOKING`, or its `busy` is visible to the load below.
            membarrier::heavy();
        }
        let backoff = Backoff::new();
        // Acquire (an AcqRel RMW under the model, see `enter_sole`): pairs with the Release
        // store in `leave_sole`; the owner's pops happen before ours.
        while if MODELLED {
            // (A CAS that writes only what it read, so that the wait adds no stores.)
            head.busy
                .compare_exchange(false, false, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        } else {
            head.busy.load(Ordering::Acquire)
        } {
            backoff.snooze();
        }
        if MODELLED {
            // An RMW under the model, as every access to the mode there: loom orders a plain
            // store only after what its thread has seen, so a waiter's RMW reads could keep
            // reading its own `REVOKING` past it. AcqRel: as the Release below.
            head.consumer.swap(SHARED, Ordering::AcqRel);
        } else {
            // Release: pairs with the Acquire loads of `consumer` in `pop`.
            head.consumer.store(SHARED, Ordering::Release);
        }
    }

    /// The head index after `head`, or `None` if the queue is empty at `head`. Without
    /// `HAS_NEXT` the head block may be the tail block, so the tail decides (and may show that
    /// a next block exists by now).
    #[inline]
    fn next_head<const RECORD: bool>(&self, head: usize) -> Option<usize> {
        let mut new_head = head + (1 << SHIFT);
        if new_head & HAS_NEXT == 0 {
            // SeqCst fence: orders the head load before the tail load; pairs with the SeqCst
            // tail CAS in `push`.
            fence(Ordering::SeqCst);
            let tail = self.segs.tail.index.load(Ordering::Relaxed);
            if RECORD {
                // Relaxed: written and read only by the sole consumer (the caller).
                self.segs.head.seen_tail.store(tail, Ordering::Relaxed);
            }
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
    /// block yet, or a lost race. `SOLE`: the caller is the only thread popping (as for
    /// `pop_sole`), and claims with a plain store.
    #[cold]
    #[inline(never)]
    fn pop_slow<const SOLE: bool>(&self) -> Option<T> {
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
            let new_head = self.next_head::<SOLE>(head)?;
            if block.is_null() {
                // The first push is installing the first block.
                backoff.snooze();
                head = self.segs.head.index.load(Ordering::Acquire);
                block = self.segs.head.block.load(Ordering::Acquire);
                continue;
            }
            let claim = if SOLE {
                // Release: as in `pop_sole`.
                self.segs.head.index.store(new_head, Ordering::Release);
                Ok(head)
            } else {
                // SeqCst: see `push`.
                self.segs.head.index.compare_exchange_weak(
                    head,
                    new_head,
                    Ordering::SeqCst,
                    Ordering::Acquire,
                )
            };
            match claim {
                Ok(_) => {
                    if offset + 1 < BLOCK_CAP {
                        // Our claim: the CAS, or the sole consumer's store.
                        // SAFETY: our claim took position `head` in `block`, not its last.
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
                    // SAFETY: our claim took the last slot of the live `block`.
                    let slot = unsafe { &(*block).slots[offset] };
                    slot.wait_write();
                    // SAFETY: `WRITTEN` was observed (Acquire): the value is initialised, and our claim makes us its only reader.
                    let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                    // Every other slot was claimed by a consumer (the head has passed them).
                    // SAFETY: we read the block's last slot and moved the head on above.
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

#[cfg(all(test, not(routines_loom)))]
mod tests {
    use super::*;

    fn mode<T>(q: &SegQueue<T>) -> usize {
        q.segs.head.consumer.load(Ordering::SeqCst)
    }

    /// The consumer mode's life (LF-68): nobody has popped; the first popping thread becomes
    /// the sole consumer (where the asymmetric fence exists, else the queue goes `SHARED`),
    /// and stays so over many pops, block switches and pushes from other threads, claiming
    /// by plain stores while it is far behind the tail; a pop from a second thread makes it
    /// `SHARED`, for good.
    #[test]
    fn the_first_consumer_pops_alone_until_a_second_one_pops() {
        assert_eq!(
            mode(&SegQueue::<u8>::new()),
            SHARED,
            "a public queue always claims by CAS"
        );
        let q = SegQueue::new_with_sole_consumer();
        assert_eq!(mode(&q), UNCLAIMED);
        q.push(0_usize);
        let sole = if sole_allowed() {
            thread::token()
        } else {
            SHARED
        };
        std::thread::scope(|s| {
            s.spawn(|| (1..1_000).for_each(|i| q.push(i)));
        });
        // The position after `n` values: one sentinel per full block.
        let position = |n: usize| n + n / BLOCK_CAP;
        for i in 0..600 {
            assert_eq!(q.pop(), Some(i));
            assert_eq!(mode(&q), sole);
            // The first pop read the tail: far behind it (by more than `SOLE_LAG`).
            let far = sole_allowed() && position(1_000) - position(i + 1) > SOLE_LAG;
            assert_eq!(q.far_behind(), far, "after {} pops", i + 1);
        }
        assert!(!q.segs.head.busy.load(Ordering::SeqCst));
        let other = std::thread::scope(|s| s.spawn(|| q.pop()).join().unwrap());
        assert_eq!(other, Some(600));
        assert_eq!(mode(&q), SHARED);
        assert_eq!(q.pop(), Some(601), "the first consumer goes on, by CAS");
        assert_eq!(mode(&q), SHARED);
        assert_eq!(q.len(), 398);

        // Far behind, then near: within `SOLE_LAG` of the tail the sole consumer claims by
        // CAS again, and reads the tail, down to the last value.
        let q = SegQueue::new_with_sole_consumer();
        (0..1_000).for_each(|i| q.push(i));
        for i in 0..1_000 {
            assert_eq!(q.pop(), Some(i));
            let far = sole_allowed() && position(1_000) - position(i + 1) > SOLE_LAG;
            assert_eq!(q.far_behind(), far, "after {} pops", i + 1);
        }
        assert_eq!(q.pop(), None);
        assert_eq!(mode(&q), sole);

        // `share_consumers` (a cloned channel receiver) settles an unclaimed queue as
        // `SHARED`, and leaves a claimed one alone.
        let q = SegQueue::new_with_sole_consumer();
        q.share_consumers();
        assert_eq!(mode(&q), SHARED);
        q.push(1);
        assert_eq!(q.pop(), Some(1));
        assert_eq!(mode(&q), SHARED);
        let q = SegQueue::new_with_sole_consumer();
        q.push(1);
        assert_eq!(q.pop(), Some(1));
        q.share_consumers();
        assert_eq!(mode(&q), sole);
    }
}
