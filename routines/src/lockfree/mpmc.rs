//! Bounded MPMC queue after Dmitry Vyukov, "Bounded MPMC queue" (1024cores.net, 2010).
//!
//! Every slot carries a sequence *stamp*; producers claim the tail and consumers the head
//! with a CAS, then publish the slot by advancing its stamp. Deviations from the original:
//! * **Exact capacity.** Positions are `lap | index` with `index < capacity` and `lap` a
//!   multiple of `one_lap = (capacity + 1).next_power_of_two()`, instead of a power-of-two
//!   ring; capacity 3 holds 3 and capacity 1 works (the stamp of a full slot, `pos + 1`, and of
//!   an empty slot of the next lap, `pos + one_lap`, never collide).
//! * **Claim before read.** A slot's value is touched only by the thread whose CAS claimed it,
//!   and only after the previous owner's Release stamp store was seen (Acquire): no read
//!   races with a write in Rust's memory model.
//! * `force_push` (overwrite the oldest element when full), as `crossbeam_queue::ArrayQueue`.
//! * `push_weak` / `pop_weak`: attempts whose "full"/"empty" verdict may be spurious, from the
//!   slot's stamp alone, for retry loops. `push` and `pop` confirm such a verdict against the
//!   other side's position, which costs that side its cache line on every failed attempt.
//!
//! Progress: **not lock-free**. A thread preempted between its CAS and its stamp store makes
//! the threads that reach that slot next wait (spin, then yield) until it resumes. `push` and
//! `pop` never block on an empty or full queue: they return at once.
//!
//! Storage is pluggable ([`Storage`]): on the heap ([`HeapSlots`], `new(cap)`), inline with
//! a compile-time capacity ([`InlineSlots`], `new_inline()`, `const` so a queue can be a
//! `static`), or caller-provided ([`BorrowedSlots`], `with_slots(&mut [Slot<T>])`).

use ::core::fmt;
use ::core::marker::PhantomData;
use ::core::mem::MaybeUninit;

use crate::core::{Backoff, CachePadded};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{fence, AtomicUsize, Ordering};

/// One cell of an [`MpmcQueue`]. Public so that callers can provide storage
/// ([`BorrowedSlots`]); its contents are private.
pub struct Slot<T> {
    /// `pos` (lap | index) when the slot is empty and awaits the producer of position `pos`;
    /// `pos + 1` when it holds the value pushed at position `pos`.
    stamp: AtomicUsize,
    /// Initialised exactly when the stamp says "full". Accessed only by the thread whose
    /// head/tail CAS claimed this slot's position.
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Slot<T> {
    crate::loom::const_fn_unless_loom! {
        /// An empty slot (its stamp is set when a queue takes the storage).
        ///
        /// # Examples
        /// ```
        /// use routines::lockfree::{MpmcQueue, Slot};
        /// let mut storage: Vec<Slot<u8>> = (0..4).map(|_| Slot::new()).collect();
        /// let q = MpmcQueue::with_slots(&mut storage);
        /// assert_eq!(q.capacity(), 4);
        /// ```
        pub fn new() -> Self {
            Self::at(0)
        }
    }

    crate::loom::const_fn_unless_loom! {
        fn at(stamp: usize) -> Self {
            Self {
                stamp: AtomicUsize::new(stamp),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }
        }
    }
}

// SAFETY: a `Slot` exposes nothing: its value is reached only through the queue that owns the
// storage, by the one thread whose claim made it the owner. Sharing `&Slot` is inert.
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").finish_non_exhaustive()
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Where an [`MpmcQueue`] keeps its slots. Sealed: implemented by [`HeapSlots`],
/// [`InlineSlots`] and [`BorrowedSlots`] (and, inside the crate, the storage of a static
/// channel) only, so the queue can rely on the slice it gets being the same one every time.
pub trait Storage<T>: sealed::Sealed {
    /// The slots; the same slice on every call.
    #[doc(hidden)]
    fn slots(&self) -> &[Slot<T>];
}

/// Slots in one heap allocation, made by [`MpmcQueue::new`].
pub struct HeapSlots<T>(Box<[Slot<T>]>);

/// Slots stored inline with a compile-time capacity, made by [`MpmcQueue::new_inline`].
pub struct InlineSlots<T, const N: usize>([Slot<T>; N]);

/// Caller-provided slots (on the stack, in a leaked box, in a `static`), made by
/// [`MpmcQueue::with_slots`].
pub struct BorrowedSlots<'a, T>(&'a mut [Slot<T>]);

/// The inline slots of a static channel: `StaticSlots<[Slot<T>; N]>` in the `static` item,
/// `StaticSlots<[Slot<T>]>` behind the reference its handles hold. The queue's storage is
/// its last field, so a reference to the queue (and to the channel around it) coerces from
/// the first to the second: one copy of the channel code serves every capacity, and it is
/// the same generic code the heap channels inline (no trait object in between).
pub(crate) struct StaticSlots<A: ?Sized>(A);

impl<T> sealed::Sealed for HeapSlots<T> {}
impl<T, const N: usize> sealed::Sealed for InlineSlots<T, N> {}
impl<T> sealed::Sealed for BorrowedSlots<'_, T> {}
impl<A: ?Sized> sealed::Sealed for StaticSlots<A> {}

impl<T> Storage<T> for HeapSlots<T> {
    #[inline]
    fn slots(&self) -> &[Slot<T>] {
        &self.0
    }
}

impl<T, const N: usize> Storage<T> for InlineSlots<T, N> {
    #[inline]
    fn slots(&self) -> &[Slot<T>] {
        &self.0
    }
}

impl<T> Storage<T> for BorrowedSlots<'_, T> {
    #[inline]
    fn slots(&self) -> &[Slot<T>] {
        self.0
    }
}

impl<T, const N: usize> Storage<T> for StaticSlots<[Slot<T>; N]> {
    #[inline]
    fn slots(&self) -> &[Slot<T>] {
        &self.0
    }
}

impl<T> Storage<T> for StaticSlots<[Slot<T>]> {
    #[inline]
    fn slots(&self) -> &[Slot<T>] {
        &self.0
    }
}

macro_rules! storage_debug {
    ($($ty:ty => [$($gen:tt)*]),*) => {$(
        impl<$($gen)*> fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty)).field("len", &self.slots().len()).finish()
            }
        }
    )*};
}
storage_debug!(HeapSlots<T> => [T], InlineSlots<T, N> => [T, const N: usize], BorrowedSlots<'_, T> => [T]);

/// A bounded multi-producer multi-consumer FIFO queue (Vyukov). See the module docs above for
/// the algorithm and its progress guarantee.
///
/// Semantics of `crossbeam_queue::ArrayQueue`: `push` fails with the value when full,
/// `force_push` replaces the oldest element, `pop` returns `None` when empty. `push` and `pop`
/// allocate nothing.
///
/// # Examples
/// ```
/// use routines::lockfree::MpmcQueue;
///
/// let q = MpmcQueue::new(2);
/// assert_eq!(q.push('a'), Ok(()));
/// assert_eq!(q.push('b'), Ok(()));
/// assert_eq!(q.push('c'), Err('c'));
/// assert_eq!(q.force_push('c'), Some('a'));
/// assert_eq!(q.pop(), Some('b'));
/// assert_eq!(q.pop(), Some('c'));
/// assert_eq!(q.pop(), None);
/// ```
pub struct MpmcQueue<T, S: Storage<T> + ?Sized = HeapSlots<T>> {
    /// Next position to pop (lap | index).
    head: CachePadded<AtomicUsize>,
    /// Next position to push (lap | index).
    tail: CachePadded<AtomicUsize>,
    /// `(capacity + 1).next_power_of_two()`: the distance between laps.
    one_lap: usize,
    /// The queue owns the `T`s in its slots.
    _owns: PhantomData<T>,
    /// Last, so that a queue over [`StaticSlots`] of `N` slots coerces to one over the
    /// unsized `StaticSlots<[Slot<T>]>`.
    storage: S,
}

// SAFETY: values move between threads through the queue (`T: Send`); a value is only ever
// accessed by the one thread that claimed its slot, so `T: Sync` is not needed.
unsafe impl<T: Send, S: Storage<T> + Send + ?Sized> Send for MpmcQueue<T, S> {}
// SAFETY: as above; `&MpmcQueue` only allows pushing and popping whole values, and every
// storage type is `Sync` when `T: Send` (see `Slot`).
unsafe impl<T: Send, S: Storage<T> + Sync + ?Sized> Sync for MpmcQueue<T, S> {}

/// Error of [`MpmcQueue::try_new`]: the capacity was zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroCapacity;

impl fmt::Display for ZeroCapacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue capacity must be at least 1")
    }
}

impl std::error::Error for ZeroCapacity {}

impl<T> MpmcQueue<T> {
    /// A queue holding at most `cap` elements, in one heap allocation (the only one it
    /// ever makes).
    ///
    /// # Panics
    /// If `cap` is zero ("capacity must be non-zero"); use [`try_new`](Self::try_new) to get
    /// an error instead.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpmcQueue::<u8>::new(3);
    /// assert_eq!(q.capacity(), 3);
    /// ```
    pub fn new(cap: usize) -> Self {
        match Self::try_new(cap) {
            Ok(q) => q,
            Err(_) => panic!("MpmcQueue::new: capacity must be non-zero"),
        }
    }

    /// Like [`new`](Self::new), but a zero capacity is an error rather than a panic.
    ///
    /// # Errors
    /// [`ZeroCapacity`] if `cap == 0`.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::MpmcQueue;
    /// assert!(MpmcQueue::<u8>::try_new(0).is_err());
    /// assert!(MpmcQueue::<u8>::try_new(1).is_ok());
    /// ```
    pub fn try_new(cap: usize) -> Result<Self, ZeroCapacity> {
        if cap == 0 {
            return Err(ZeroCapacity);
        }
        // The only allocation of the queue.
        let slots: Box<[Slot<T>]> = (0..cap).map(Slot::at).collect();
        Ok(Self::from_storage(HeapSlots(slots), cap))
    }
}

impl<T, const N: usize> MpmcQueue<T, InlineSlots<T, N>> {
    crate::loom::const_fn_unless_loom! {
        /// A queue of compile-time capacity `N` with its slots inline; `const`, so it can be a
        /// `static` (no heap allocation at all).
        ///
        /// # Panics
        /// If `N` is zero (at compile time when used in a `const` or `static`).
        ///
        /// # Examples
        /// ```
        /// use routines::lockfree::{InlineSlots, MpmcQueue};
        /// static JOBS: MpmcQueue<u32, InlineSlots<u32, 4>> = MpmcQueue::new_inline();
        /// JOBS.push(7).unwrap();
        /// assert_eq!(JOBS.pop(), Some(7));
        /// assert_eq!(JOBS.capacity(), 4);
        /// ```
        pub fn new_inline() -> Self {
            assert!(N > 0, "MpmcQueue::new_inline: capacity must be non-zero");
            Self::from_storage(InlineSlots(fresh_slots()), N)
        }
    }
}

impl<T, const N: usize> MpmcQueue<T, StaticSlots<[Slot<T>; N]>> {
    crate::loom::const_fn_unless_loom! {
        /// [`new_inline`](MpmcQueue::new_inline) for the storage of a static channel.
        ///
        /// # Panics
        /// If `N` is zero (at compile time when used in a `const` or `static`).
        pub(crate) fn new_static() -> Self {
            assert!(N > 0, "StaticChannel::new: capacity must be non-zero");
            Self::from_storage(StaticSlots(fresh_slots()), N)
        }
    }
}

crate::loom::const_fn_unless_loom! {
    /// `N` slots stamped for positions `0 .. N`.
    fn fresh_slots<T, const N: usize>() -> [Slot<T>; N] {
        let mut slots = [const { MaybeUninit::<Slot<T>>::uninit() }; N];
        let mut i = 0;
        while i < N {
            slots[i] = MaybeUninit::new(Slot::at(i));
            i += 1;
        }
        // SAFETY: every element was initialised by the loop above, and `[MaybeUninit<Slot<T>>; N]` has the layout of `[Slot<T>; N]`.
        unsafe { transmute_init(slots) }
    }
}

/// # Safety
/// Every element of `array` is initialised.
const unsafe fn transmute_init<T, const N: usize>(
    array: [MaybeUninit<Slot<T>>; N],
) -> [Slot<T>; N] {
    let array = ::core::mem::ManuallyDrop::new(array);
    // SAFETY: same layout (MaybeUninit<X> is repr(transparent) over X), all initialised (caller), and `ManuallyDrop` keeps the source from being used again.
    unsafe { ::core::ptr::read((&raw const array).cast::<[Slot<T>; N]>()) }
}

impl<'a, T> MpmcQueue<T, BorrowedSlots<'a, T>> {
    /// A queue over caller-provided slots; its capacity is `slots.len()`. Any values left
    /// in the slots by an earlier queue were dropped with it; the stamps are reset here.
    ///
    /// # Panics
    /// If `slots` is empty.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::{MpmcQueue, Slot};
    /// let mut storage = [Slot::new(), Slot::new()];
    /// let q = MpmcQueue::with_slots(&mut storage);
    /// q.push("x").unwrap();
    /// assert_eq!(q.pop(), Some("x"));
    /// ```
    pub fn with_slots(slots: &'a mut [Slot<T>]) -> Self {
        assert!(
            !slots.is_empty(),
            "MpmcQueue::with_slots: capacity must be non-zero"
        );
        let cap = slots.len();
        for (i, slot) in slots.iter_mut().enumerate() {
            *slot = Slot::at(i);
        }
        Self::from_storage(BorrowedSlots(slots), cap)
    }
}

impl<T, S: Storage<T>> MpmcQueue<T, S> {
    crate::loom::const_fn_unless_loom! {
        fn from_storage(storage: S, cap: usize) -> Self {
            Self {
                head: CachePadded::new(AtomicUsize::new(0)),
                tail: CachePadded::new(AtomicUsize::new(0)),
                one_lap: (cap + 1).next_power_of_two(),
                _owns: PhantomData,
                storage,
            }
        }
    }
}

impl<T, S: Storage<T> + ?Sized> MpmcQueue<T, S> {
    /// The position after `pos`: the next index, or index 0 of the next lap.
    #[inline]
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.one_lap - 1);
        if index + 1 < self.capacity() {
            pos + 1
        } else {
            self.next_lap(pos)
        }
    }

    /// Index 0 of the lap after `pos`'s (a branch of its own: taken once per lap).
    #[cold]
    #[inline]
    fn next_lap(&self, pos: usize) -> usize {
        (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
    }

    #[inline]
    fn slot(&self, pos: usize) -> &Slot<T> {
        let slots = self.storage.slots();
        let index = pos & (self.one_lap - 1);
        debug_assert!(index < slots.len());
        // Every position is 0 or came out of `next`, which moves to index 0 of the next lap
        // past the last index.
        // SAFETY: `index < capacity == slots.len()` (see above).
        unsafe { slots.get_unchecked(index) }
    }

    /// Appends `value`; gives it back if the queue is full. Never blocks on a full queue.
    ///
    /// # Errors
    /// `Err(value)` if the queue was full.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpmcQueue::new(1);
    /// assert_eq!(q.push(1), Ok(()));
    /// assert_eq!(q.push(2), Err(2));
    /// ```
    #[inline]
    pub fn push(&self, value: T) -> Result<(), T> {
        self.push_with::<true>(value)
    }

    /// Like [`push`](Self::push), but it may also fail when the queue is not full, like
    /// `compare_exchange_weak`: it judges "full" from the slot's stamp alone, so a slot a
    /// consumer has claimed but not yet freed counts as taken. It never reads the consumers'
    /// position, so a producer that retries in a loop does not pull that cache line away
    /// from the consumers on every attempt (a capacity-1 channel moves messages about 2x
    /// faster with it). For retry loops that end in a [`push`](Self::push) before they give
    /// up or sleep.
    ///
    /// # Errors
    /// `Err(value)` if the queue was full, or its next slot not yet freed.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpmcQueue::new(1);
    /// assert_eq!(q.push_weak(1), Ok(()));
    /// assert_eq!(q.push_weak(2), Err(2));
    /// ```
    #[inline]
    pub fn push_weak(&self, value: T) -> Result<(), T> {
        self.push_with::<false>(value)
    }

    /// `push` (`EXACT`) or `push_weak`: the uncontended case inline.
    #[inline]
    fn push_with<const EXACT: bool>(&self, value: T) -> Result<(), T> {
        // The uncontended case inline: the slot at the tail is free and our claim succeeds.
        let tail = self.tail.load(Ordering::Relaxed);
        let slot = self.slot(tail);
        // Acquire: pairs with the Release stamp store in `take` (the consumer's read of the
        // old value happens before our write). SeqCst CAS: as in `push_contended`.
        if slot.stamp.load(Ordering::Acquire) == tail
            && self
                .tail
                .compare_exchange_weak(tail, self.next(tail), Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        {
            // SAFETY: as in `push_contended`: our CAS claimed the empty slot at `tail`.
            unsafe { Self::publish(slot, tail, value) };
            return Ok(());
        }
        self.push_contended::<EXACT>(value)
    }

    /// Writes `value` into the slot claimed at position `pos` and publishes it.
    ///
    /// # Safety
    /// The caller's tail CAS claimed `pos`, and the slot was empty (stamp == `pos`).
    #[inline]
    unsafe fn publish(slot: &Slot<T>, pos: usize, value: T) {
        // SAFETY: the caller claimed position `pos`, whose slot is empty: nobody else touches the value until we publish.
        slot.value.with_mut(|p| unsafe { (*p).write(value) });
        // Release: pairs with the Acquire stamp load in `pop`; publishes the value.
        slot.stamp.store(pos + 1, Ordering::Release);
    }

    /// `push` (`EXACT`) or `push_weak` after its first attempt failed: full, or another
    /// producer got there first.
    #[cold]
    #[inline(never)]
    fn push_contended<const EXACT: bool>(&self, value: T) -> Result<(), T> {
        let backoff = Backoff::new();
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(tail);
            // Acquire: pairs with the Release stamp store in `pop`; the consumer's read of
            // the old value happens before our write.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                // SeqCst: the tail CAS and the head loads of `pop`/`len` must agree on one
                // order so that "full"/"empty" verdicts are never both stale.
                match self.tail.compare_exchange_weak(
                    tail,
                    self.next(tail),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: our CAS claimed position `tail`, whose slot is empty (stamp == tail).
                        unsafe { Self::publish(slot, tail, value) };
                        return Ok(());
                    }
                    Err(now) => {
                        tail = now;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds the element pushed one lap ago: full, unless a
                // consumer is about to take it. `push_weak` does not look.
                if !EXACT {
                    return Err(value);
                }
                // SeqCst fence: orders our stamp load before the head load, pairing with the
                // SeqCst head CAS in `pop`.
                fence(Ordering::SeqCst);
                let head = self.head.load(Ordering::Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    return Err(value);
                }
                backoff.spin();
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another producer claimed this position and has not published yet.
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Appends `value`, replacing and returning the oldest element if the queue is full.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpmcQueue::new(2);
    /// assert_eq!(q.force_push(1), None);
    /// assert_eq!(q.force_push(2), None);
    /// assert_eq!(q.force_push(3), Some(1));
    /// assert_eq!(q.pop(), Some(2));
    /// ```
    pub fn force_push(&self, value: T) -> Option<T> {
        let backoff = Backoff::new();
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(tail);
            // Acquire: as in `push`.
            let stamp = slot.stamp.load(Ordering::Acquire);
            let full = stamp.wrapping_add(self.one_lap) == tail + 1;
            if stamp == tail || full {
                // SeqCst: as in `push`.
                match self.tail.compare_exchange_weak(
                    tail,
                    self.next(tail),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return self.finish_force_push(slot, tail, full, value),
                    Err(now) => {
                        tail = now;
                        backoff.spin();
                    }
                }
            } else {
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// We own position `tail`. If its slot still holds last lap's element, evict it by
    /// claiming it from the head as a consumer would; if a consumer beat us to it, wait for
    /// that consumer to release the slot.
    #[cold]
    fn finish_force_push(&self, slot: &Slot<T>, tail: usize, full: bool, value: T) -> Option<T> {
        let mut evicted = None;
        if full {
            // The oldest element sits at position `tail - one_lap`, which is the head.
            let head = tail.wrapping_sub(self.one_lap);
            // SeqCst: as the head CAS in `pop`.
            if self
                .head
                .compare_exchange(head, self.next(head), Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                // Acquire-loaded in `force_push`), so its value is initialised and ours.
                // SAFETY: we claimed position `head` (its slot is full: stamp == head + 1,
                evicted = Some(slot.value.with(|p| unsafe { (*p).assume_init_read() }));
            } else {
                // A consumer claimed it: wait until it has read the value out.
                let backoff = Backoff::new();
                // Acquire: pairs with that consumer's Release stamp store.
                while slot.stamp.load(Ordering::Acquire) != tail {
                    backoff.snooze();
                }
            }
        }
        // SAFETY: we own position `tail` and its slot's old value is gone (read by us or by the consumer that claimed it).
        slot.value.with_mut(|p| unsafe { (*p).write(value) });
        // Release: publishes the value (pairs with the Acquire stamp load in `pop`).
        slot.stamp.store(tail + 1, Ordering::Release);
        evicted
    }

    /// [`push`](Self::push) through `&mut self` (no other thread can be racing); same result.
    ///
    /// # Errors
    /// `Err(value)` if the queue was full.
    ///
    /// # Examples
    /// ```
    /// let mut q = routines::lockfree::MpmcQueue::new(1);
    /// assert_eq!(q.push_mut(1), Ok(()));
    /// assert_eq!(q.pop_mut(), Some(1));
    /// ```
    pub fn push_mut(&mut self, value: T) -> Result<(), T> {
        self.push(value)
    }

    /// [`pop`](Self::pop) through `&mut self`; same result.
    ///
    /// # Examples
    /// ```
    /// let mut q = routines::lockfree::MpmcQueue::<u8>::new(1);
    /// assert_eq!(q.pop_mut(), None);
    /// ```
    pub fn pop_mut(&mut self) -> Option<T> {
        self.pop()
    }

    /// Removes the oldest element; `None` if the queue is empty. Never blocks on an empty
    /// queue.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpmcQueue::new(1);
    /// assert_eq!(q.pop(), None::<u8>);
    /// q.push(5).unwrap();
    /// assert_eq!(q.pop(), Some(5));
    /// ```
    #[inline]
    pub fn pop(&self) -> Option<T> {
        self.pop_with::<true>()
    }

    /// Like [`pop`](Self::pop), but it may also return `None` when the queue is not empty,
    /// like `compare_exchange_weak`: it judges "empty" from the slot's stamp alone, so a
    /// slot a producer has claimed but not yet filled counts as empty. It never reads the
    /// producers' position (see [`push_weak`](Self::push_weak)). For retry loops that end
    /// in a [`pop`](Self::pop) before they give up or sleep.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpmcQueue::new(1);
    /// assert_eq!(q.pop_weak(), None::<u8>);
    /// q.push(5).unwrap();
    /// assert_eq!(q.pop_weak(), Some(5));
    /// ```
    #[inline]
    pub fn pop_weak(&self) -> Option<T> {
        self.pop_with::<false>()
    }

    /// `pop` (`EXACT`) or `pop_weak`: the uncontended case inline.
    #[inline]
    fn pop_with<const EXACT: bool>(&self) -> Option<T> {
        // The uncontended case inline: the slot at the head is full and our claim succeeds.
        let head = self.head.load(Ordering::Relaxed);
        let slot = self.slot(head);
        // Acquire: pairs with the Release stamp store in `publish` (the value is visible).
        // SeqCst CAS: as in `pop_contended`.
        if slot.stamp.load(Ordering::Acquire) == head + 1
            && self
                .head
                .compare_exchange_weak(head, self.next(head), Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        {
            // SAFETY: as in `pop_contended`: our CAS claimed the full slot at `head`.
            return Some(unsafe { self.take(slot, head) });
        }
        self.pop_contended::<EXACT>()
    }

    /// Reads the value out of the slot claimed at position `pos` and frees the slot for the
    /// next lap.
    ///
    /// # Safety
    /// The caller's head CAS claimed `pos`, and the slot was full (stamp == `pos + 1`).
    #[inline]
    unsafe fn take(&self, slot: &Slot<T>, pos: usize) -> T {
        // SAFETY: the caller claimed position `pos`, whose slot is full: the value is initialised and now ours.
        let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
        // Release: pairs with the Acquire stamp load of the producer of the next lap; our
        // read happens before its write.
        slot.stamp
            .store(pos.wrapping_add(self.one_lap), Ordering::Release);
        value
    }

    /// `pop` (`EXACT`) or `pop_weak` after its first attempt failed: empty, or another
    /// consumer got there first.
    #[cold]
    #[inline(never)]
    fn pop_contended<const EXACT: bool>(&self) -> Option<T> {
        let backoff = Backoff::new();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(head);
            // Acquire: pairs with the Release stamp store in `push`; the value is visible.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head + 1 {
                // SeqCst: pairs with the fence in `push` (see there).
                match self.head.compare_exchange_weak(
                    head,
                    self.next(head),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: our CAS claimed position `head`, whose slot is full (stamp == head + 1).
                        return Some(unsafe { self.take(slot, head) });
                    }
                    Err(now) => {
                        head = now;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                // Empty slot: the queue is empty unless a producer is about to fill it.
                // `pop_weak` does not look.
                if !EXACT {
                    return None;
                }
                // SeqCst fence: orders the stamp load before the tail load; pairs with the
                // SeqCst tail CAS in `push`.
                fence(Ordering::SeqCst);
                let tail = self.tail.load(Ordering::Relaxed);
                if tail == head {
                    return None;
                }
                backoff.spin();
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Another consumer claimed this position and has not released it yet.
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Maximum number of elements.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::lockfree::MpmcQueue::<()>::new(3).capacity(), 3);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.storage.slots().len()
    }

    /// Number of elements: a snapshot (producers and consumers may change it at once).
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpmcQueue::new(4);
    /// q.push(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        loop {
            // SeqCst: a consistent (head, tail) pair, ordered with the CASes of push/pop.
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            if self.tail.load(Ordering::SeqCst) == tail {
                let mask = self.one_lap - 1;
                let (hix, tix) = (head & mask, tail & mask);
                return if hix < tix {
                    tix - hix
                } else if hix > tix {
                    self.capacity() - hix + tix
                } else if tail == head {
                    0
                } else {
                    self.capacity()
                };
            }
        }
    }

    /// `true` if the queue holds no element (a snapshot).
    ///
    /// # Examples
    /// ```
    /// assert!(routines::lockfree::MpmcQueue::<u8>::new(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        // SeqCst: as in `len`.
        let head = self.head.load(Ordering::SeqCst);
        let tail = self.tail.load(Ordering::SeqCst);
        tail == head
    }

    /// `true` if the queue holds `capacity()` elements (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpmcQueue::new(1);
    /// q.push(()).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        // SeqCst: as in `len`.
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        head.wrapping_add(self.one_lap) == tail
    }
}

impl<T, S: Storage<T> + ?Sized> Drop for MpmcQueue<T, S> {
    fn drop(&mut self) {
        if !::core::mem::needs_drop::<T>() {
            return;
        }
        while self.pop().is_some() {}
    }
}

impl<T, S: Storage<T> + ?Sized> fmt::Debug for MpmcQueue<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpmcQueue")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// Owning iterator over an [`MpmcQueue`], oldest first.
pub struct IntoIter<T, S: Storage<T> = HeapSlots<T>> {
    queue: MpmcQueue<T, S>,
}

impl<T, S: Storage<T>> Iterator for IntoIter<T, S> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.queue.pop()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.queue.len();
        (n, Some(n))
    }
}

impl<T, S: Storage<T>> ExactSizeIterator for IntoIter<T, S> {}

impl<T, S: Storage<T>> fmt::Debug for IntoIter<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("len", &self.queue.len())
            .finish()
    }
}

impl<T, S: Storage<T>> IntoIterator for MpmcQueue<T, S> {
    type Item = T;
    type IntoIter = IntoIter<T, S>;

    /// # Examples
    /// ```
    /// let q = routines::lockfree::MpmcQueue::new(3);
    /// q.push(1).unwrap();
    /// q.push(2).unwrap();
    /// assert_eq!(q.into_iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    fn into_iter(self) -> IntoIter<T, S> {
        IntoIter { queue: self }
    }
}

#[cfg(all(test, not(routines_loom)))]
mod tests {
    use super::*;

    /// A consumer that has claimed the head but not yet freed the slot, made by hand: the
    /// weak push reports "full" at once, the exact push waits for the slot instead.
    #[test]
    fn push_weak_fails_while_a_claimed_slot_is_not_yet_freed() {
        let q = MpmcQueue::new(1);
        q.push(1).unwrap();
        let head = q.head.load(Ordering::Relaxed);
        q.head.store(q.next(head), Ordering::Relaxed);
        assert_eq!(q.push_weak(2), Err(2));
        std::thread::scope(|s| {
            let exact = s.spawn(|| q.push(3));
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(
                !exact.is_finished(),
                "the exact push judged a claimed slot full"
            );
            // SAFETY: our hand-made claim above took position `head`, whose slot is full.
            assert_eq!(unsafe { q.take(q.slot(head), head) }, 1);
            assert_eq!(exact.join().unwrap(), Ok(()));
        });
        assert_eq!(q.pop_weak(), Some(3));
    }

    /// The mirror image: a producer that has claimed the tail but not yet published.
    #[test]
    fn pop_weak_fails_while_a_claimed_slot_is_not_yet_published() {
        let q = MpmcQueue::new(2);
        let tail = q.tail.load(Ordering::Relaxed);
        q.tail.store(q.next(tail), Ordering::Relaxed);
        assert_eq!(q.pop_weak(), None);
        std::thread::scope(|s| {
            let exact = s.spawn(|| q.pop());
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(
                !exact.is_finished(),
                "the exact pop judged a claimed slot empty"
            );
            // SAFETY: our hand-made claim above took position `tail`, whose slot is empty.
            unsafe { MpmcQueue::<i32>::publish(q.slot(tail), tail, 7) };
            assert_eq!(exact.join().unwrap(), Some(7));
        });
        assert_eq!(q.pop_weak(), None);
    }
}
