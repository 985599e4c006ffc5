//! Work-stealing deque after D. Chase and Y. Lev, "Dynamic Circular Work-Stealing Deque"
//! (SPAA 2005), with the memory orderings of N. M. Lê, A. Pop, A. Cohen and F. Zappa Nardelli,
//! "Correct and Efficient Work-Stealing for Weak Memory Models" (PPoPP 2013), plus a global
//! FIFO [`Injector`]. Semantics (and names) of `crossbeam_deque`.
//!
//! The owner ([`Worker`]) pushes at `bottom` and pops at `bottom` (LIFO flavour) or at `top`
//! (FIFO flavour); thieves ([`Stealer`]) take from `top` by CAS. Two deviations from the
//! published algorithm make it sound in Rust's memory model without any allowance for racy
//! reads, and a third fixes the paper's orderings for that model:
//!
//! 1. **Claim before read.** In the paper a thief reads the slot at `top` *before* its CAS and
//!    throws the value away if the CAS fails; that read can race with the owner overwriting
//!    the slot one lap later, which for a non-atomic `T` is a data race (crossbeam reads with
//!    `read_volatile` and needs miri/TSan allowances for it). Here a thief CASes `top` first and
//!    reads the slot only once the element is its own. The cost is that the owner must not
//!    reuse a slot while a thief that claimed the slot's previous element is still reading it,
//!    so every slot carries a *stamp*: the position it may be written with next. A push of
//!    position `p` checks (Acquire) that the stamp is `p`; whoever consumes position `q` from
//!    the `top` side (a thief, after its read, with Release; the owner's FIFO pop or
//!    last-element CAS) stamps `q + capacity`; an owner's LIFO pop at `bottom` leaves the stamp
//!    at `q`, since that position is the next one pushed. Push and LIFO pop thus store no
//!    state at all. The owner finds a stale stamp only when a thief was preempted between its
//!    claim and its read; it then grows the buffer instead of waiting, so the owner never
//!    blocks on a thief.
//! 2. **Buffer generations in `top`.** When the buffer grows, the owner copies the live
//!    elements into a new buffer. A thief that claimed an element against the old buffer reads
//!    it from the old buffer and stamps *that* buffer's slot, which would leave the copied
//!    slot in the new buffer stale forever. So `top` is one 64-bit word: an 8-bit buffer
//!    generation above a 56-bit position. Every claim CASes the whole word, so a claim
//!    succeeds only against the buffer of the generation it names, and after installing a new
//!    buffer the owner bumps the generation by CAS: it learns exactly which positions were
//!    claimed against the old buffer in the meantime and stamps their copies itself.
//! 3. **Release stores of `bottom` in `pop`.** The paper's owner pop lowers and restores
//!    `bottom` with relaxed stores. Under C++20's release sequences (Rust's model) a thief that
//!    reads such a value is not synchronised with the pushes before it and would read the
//!    slot racily; every store of `bottom` here is Release (a plain store on x86). Miri's race
//!    detector found this; loom, whose release sequences still follow C++11, does not.
//!
//! **Asymmetric fence.** The owner's LIFO `pop` must order its `bottom` store before its `top`
//! load, and a thief its `top` load before its `bottom` load (Lê et al.'s fence pair). In a
//! `join`-heavy program the owner pops millions of times per second and thieves come rarely,
//! so the owner's fence (a locked instruction, about a quarter of a `join` on x86) is moved
//! to the thieves where the process can use `membarrier(2)` (see `core::membarrier`). Each
//! LIFO deque has a `guard` word: the thieves inside a steal (counted in units of `THIEF`) and
//! an `ARMED` bit. A thief first checks, with the usual fence pair, that the deque is not
//! empty (searching empty deques stays cheap); then it counts itself in, and if `ARMED` was
//! clear it issues the process-wide barrier and sets `ARMED`; then it claims as before, and
//! counts itself out when done. The owner's `pop` stores `bottom`, loads `guard`, fences only
//! if `guard` is non-zero, and loads `top`, in that program order. If it read 0, the thief's
//! increment had not reached it, so the barrier the thief injects falls after that load: either
//! between the `bottom` store and the `top` load (it is the fence), or after the `top` load
//! (the whole pop is visible to the thief's claim, which comes after the barrier). A pop that
//! reads non-zero fences, and every thief fences, so that case is Lê et al.'s. A thief may
//! skip the barrier only when it finds `ARMED`: `guard` has then been non-zero ever since the
//! increment that preceded the barrier of the thief that armed it. The owner disarms (CAS
//! `ARMED` -> 0, so never with a thief inside) after `DISARM_AFTER` pops in a row that found it
//! armed and empty, so a burst of steals pays one barrier and the pops between bursts pay
//! none; a new deque starts armed, so a short-lived one pays none at all. FIFO deques, and every deque under loom, under miri or without `membarrier`, are
//! `PINNED`: armed with a thief that never leaves, so the owner always fences and no thief
//! ever issues the barrier. Loom checks the pinned protocol; the unpinned one rests on the
//! argument above and on the kernel's guarantee.
//!
//! Retired buffers are never freed while a thief could hold a pointer to one: each buffer
//! keeps a link to the one it replaced, and the whole chain is freed when the last handle
//! ([`Worker`] or [`Stealer`]) is dropped. The buffer doubles and never shrinks, so the chain
//! holds less than twice the largest buffer's memory.
//!
//! Batch steals claim a range with one CAS when the source is FIFO (its owner never moves
//! `bottom` down), and one element at a time when the source is LIFO (the owner's CAS-free pop
//! at `bottom` is only safe against single-element claims).
//!
//! Progress: `Worker::push` and `Worker::pop` are lock-free (LIFO `pop` is wait-free except for
//! its last-element CAS); a steal returns [`Steal::Retry`] instead of looping when it loses a
//! race. Allocation: one buffer at construction (64 slots) and one each time the buffer grows;
//! push, pop and steal allocate nothing otherwise.
//!
//! The [`Injector`] is a [`SegQueue`] with the stealing API on top.

use ::core::cell::Cell;
use ::core::fmt;
use ::core::iter::FromIterator;
use ::core::marker::PhantomData;
use ::core::mem::MaybeUninit;
use ::core::ptr;

use super::SegQueue;
use crate::core::{membarrier, CachePadded};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{compiler_fence, fence, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use crate::loom::sync::Arc;

/// Slots in a new deque's buffer (2 under loom, so that models wrap and grow).
const MIN_CAP: usize = if cfg!(routines_loom) { 2 } else { 64 };
/// At most this many elements move into the destination in one batch steal.
const MAX_BATCH: usize = 32;
/// `top` is `generation << GEN_SHIFT | position`.
const GEN_SHIFT: u32 = 56;
/// Positions are counted modulo 2^56 (differences are taken as signed 56-bit numbers).
const POS_MASK: u64 = (1 << GEN_SHIFT) - 1;
/// `guard` bit: a process-wide barrier has been issued since `guard` last left 0, so a LIFO
/// owner that reads `guard` now fences (see "Asymmetric fence" in the module docs).
const ARMED: u64 = 1;
/// `guard` counts the thieves inside a LIFO steal in units of this.
const THIEF: u64 = 2;
/// `guard` of a deque whose owner always fences: armed, with a thief that never leaves.
const PINNED: u64 = ARMED | THIEF;
/// A LIFO owner that finds `guard` armed with no thief inside for this many pops in a row
/// disarms it, and pops without a fence until the next thief comes. Ski rental: fence until
/// the fences have cost about what a barrier costs (a fence is ~1.6 ns here, a barrier 2-10
/// us with the other CPU busy), then stop. 1 under loom, so that models disarm.
const DISARM_AFTER: u32 = if cfg!(routines_loom) { 1 } else { 4096 };
/// A new asymmetric deque's `guard`: armed, so that short-lived pools and bursts of steals
/// right after construction pay no barrier. Under loom 0, so that models start with the
/// first thief's barrier.
const INITIAL_GUARD: u64 = if cfg!(routines_loom) { 0 } else { ARMED };

/// The position part of a `top` word (or a bottom position, which has no generation).
#[inline]
fn pos(word: u64) -> u64 {
    word & POS_MASK
}

/// The generation part of a `top` word.
#[inline]
fn generation(word: u64) -> u64 {
    word >> GEN_SHIFT
}

/// `to - from` for positions modulo 2^56, as a signed number.
#[inline]
fn distance(from: u64, to: u64) -> i64 {
    ((to.wrapping_sub(from) << (64 - GEN_SHIFT)) as i64) >> (64 - GEN_SHIFT)
}

/// A slot stamp for position `p`: its low 32 bits (capacities stay far below 2^32, so the
/// stamps of one slot's successive positions never collide).
#[inline]
fn stamp(p: u64) -> u32 {
    // Truncation is the point.
    p as u32
}

/// Position `p` moved on by `n`.
#[inline]
fn advance(p: u64, n: u64) -> u64 {
    p.wrapping_add(n) & POS_MASK
}

/// The `top` word after claiming `n` more elements (same generation).
#[inline]
fn claim(top: u64, n: u64) -> u64 {
    (top & !POS_MASK) | advance(top, n)
}

struct Slot<T> {
    /// Initialised from the owner's write of a position until its consumer reads it.
    value: UnsafeCell<MaybeUninit<T>>,
    /// The stamp of the position this slot may be written with next (see the module docs).
    /// Written by the owner, and by the thief that consumed the slot's element.
    state: AtomicU32,
}

struct Buffer<T> {
    /// A power-of-two number of slots; position `p` lives in slot `p % len`.
    slots: Box<[Slot<T>]>,
    /// Matches the generation in `top` while this is the current buffer.
    generation: u64,
    /// The buffer this one replaced (owned; freed with the deque), or null.
    prev: *mut Buffer<T>,
}

impl<T> Buffer<T> {
    /// Allocates a buffer of `cap` slots stamped for positions `base .. base + cap` (one
    /// allocation for the header, one for the slots: only at construction and growth).
    fn alloc(cap: usize, base: u64, generation: u64, prev: *mut Self) -> *mut Self {
        debug_assert!(cap.is_power_of_two());
        let mask = cap as u64 - 1;
        let slots = (0..cap as u64)
            .map(|index| Slot {
                value: UnsafeCell::new(MaybeUninit::uninit()),
                // The position in `base .. base + cap` that lands in slot `index`.
                state: AtomicU32::new(stamp(advance(base, index.wrapping_sub(base) & mask))),
            })
            .collect();
        Box::into_raw(Box::new(Self {
            slots,
            generation,
            prev,
        }))
    }

    fn cap(&self) -> usize {
        self.slots.len()
    }

    fn slot(&self, p: u64) -> &Slot<T> {
        // Truncation is intended: the slot index is the position modulo the capacity.
        let index = (p as usize) & (self.slots.len() - 1);
        // SAFETY: masking with `len - 1` (len a power of two) keeps the index in bounds.
        unsafe { self.slots.get_unchecked(index) }
    }
}

/// The owner's copy of the current buffer's slot array, so that its pushes and pops index
/// the slots without loading the buffer header.
struct Ring<T> {
    buffer: *mut Buffer<T>,
    slots: *const Slot<T>,
    mask: u64,
}

impl<T> Clone for Ring<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ring<T> {}

impl<T> Ring<T> {
    /// # Safety
    /// `buffer` is live.
    unsafe fn of(buffer: *mut Buffer<T>) -> Self {
        // SAFETY: the caller's contract.
        let b = unsafe { &*buffer };
        Self {
            buffer,
            slots: b.slots.as_ptr(),
            mask: b.cap() as u64 - 1,
        }
    }

    fn cap(self) -> u64 {
        self.mask + 1
    }

    /// # Safety
    /// The buffer is live for `'a` (it lives as long as the deque).
    #[inline]
    unsafe fn slot<'a>(self, p: u64) -> &'a Slot<T> {
        // Truncation is intended: the slot index is the position modulo the capacity.
        // SAFETY: masked, the index is in bounds; the caller's contract keeps the buffer live.
        unsafe { &*self.slots.add((p & self.mask) as usize) }
    }
}

/// Which end the owner pops from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flavor {
    Fifo,
    Lifo,
}

/// State touched mostly by the owner: `bottom` and the current buffer (thieves read both).
struct OwnerSide<T> {
    /// One past the newest element; written only by the owner.
    bottom: AtomicU64,
    /// The current buffer; replaced only by the owner.
    buffer: AtomicPtr<Buffer<T>>,
}

struct Inner<T> {
    /// `generation << GEN_SHIFT | position` of the oldest element; claimed by CAS.
    top: CachePadded<AtomicU64>,
    /// Thieves inside a LIFO steal (in units of `THIEF`) and the `ARMED` bit; `PINNED` for
    /// FIFO deques and where the asymmetric fence is unavailable.
    guard: CachePadded<AtomicU64>,
    /// Under loom, a deque built by `Worker::new_lifo_asymmetric` stands in for the
    /// process-wide barrier with this model; every other deque is pinned.
    #[cfg(routines_loom)]
    barrier: Option<BarrierModel>,
    owner: CachePadded<OwnerSide<T>>,
    /// The deque owns its `T`s (and its buffers).
    _owns: PhantomData<T>,
}

// SAFETY: elements move between threads through the deque (`T: Send`); each is read by exactly
// one thread, the one whose claim (or owner pop) took it.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; shared access only moves whole elements in (owner) and out (claimers).
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// A deque of `flavor`; a LIFO one is asymmetric (its owner may pop without a fence)
    /// where `membarrier` is available. Under loom only `asymmetric_model` makes it so.
    fn new(flavor: Flavor, asymmetric_model: bool) -> Self {
        let asymmetric = if cfg!(routines_loom) {
            asymmetric_model
        } else {
            flavor == Flavor::Lifo && membarrier::available()
        };
        Self {
            top: CachePadded::new(AtomicU64::new(0)),
            guard: CachePadded::new(AtomicU64::new(if asymmetric {
                INITIAL_GUARD
            } else {
                PINNED
            })),
            #[cfg(routines_loom)]
            barrier: asymmetric.then(BarrierModel::default),
            owner: CachePadded::new(OwnerSide {
                bottom: AtomicU64::new(0),
                buffer: AtomicPtr::new(Buffer::alloc(MIN_CAP, 0, 0, ptr::null_mut())),
            }),
            _owns: PhantomData,
        }
    }

    /// Number of elements: a snapshot.
    fn len(&self) -> usize {
        // SeqCst: the same total order as the claims and the owner's fence, so the pair is
        // never from two moments that make the deque look longer than it ever was.
        let t = self.top.load(Ordering::SeqCst);
        let b = self.owner.bottom.load(Ordering::SeqCst);
        usize::try_from(distance(pos(t), b)).unwrap_or(0)
    }

    /// Whether a thief would find nothing to claim: `claim`'s own emptiness test, made before
    /// a LIFO thief enters (so that searching an empty deque never costs a barrier).
    fn looks_empty(&self) -> bool {
        // Acquire: as in `claim`.
        let t = self.top.load(Ordering::Acquire);
        // SeqCst fence: as in `claim` (pairs with the owner's fence in `pop`).
        fence(Ordering::SeqCst);
        // Acquire: as in `claim`.
        distance(pos(t), self.owner.bottom.load(Ordering::Acquire)) <= 0
    }

    /// A LIFO thief's entry: counts the thief in `guard` and, unless `guard` was already
    /// armed, injects the process-wide barrier that orders the owner's unfenced pops, then
    /// arms it. The owner reads `guard` in every pop: from the barrier on, until the thief
    /// leaves and the owner disarms, its pops fence.
    fn enter(&self) -> ThiefGuard<'_> {
        // AcqRel: the Acquire half pairs with the AcqRel `fetch_or(ARMED)` below made by an
        // earlier thief (its barrier happened before our claims); the count keeps the owner's
        // disarming CAS from succeeding while we are inside.
        let before = self.guard.fetch_add(THIEF, Ordering::AcqRel);
        if before & ARMED == 0 {
            #[cfg(routines_loom)]
            self.barrier
                .as_ref()
                .expect("only modelled deques start disarmed under loom")
                .heavy();
            #[cfg(not(routines_loom))]
            membarrier::heavy();
            // AcqRel: pairs with the Acquire `fetch_add` above of later thieves and with the
            // owner's Acquire `guard` load in `pop`.
            self.guard.fetch_or(ARMED, Ordering::AcqRel);
        }
        ThiefGuard { guard: &self.guard }
    }

    /// A thief's claim of up to `max` (about half of the) elements from `top`, by one CAS. On
    /// success returns the buffer to read them from, the first position, the count claimed and
    /// the length seen.
    fn claim(&self, max: usize) -> Result<(*mut Buffer<T>, u64, usize, usize), Steal<()>> {
        // Acquire: pairs with the claims' and the generation bump's SeqCst CAS.
        let t = self.top.load(Ordering::Acquire);
        // SeqCst fence (Lê et al.): orders the `top` load before the `bottom` load; pairs with
        // the fence in the owner's LIFO `pop`, so an element is never both popped and stolen.
        fence(Ordering::SeqCst);
        // Acquire: pairs with the Release `bottom` store in `push`; the elements are written.
        let b = self.owner.bottom.load(Ordering::Acquire);
        let len = distance(pos(t), b);
        if len <= 0 {
            return Err(Steal::Empty);
        }
        // Acquire: pairs with the Release store in `grow`; the copies are visible.
        let buffer = self.owner.buffer.load(Ordering::Acquire);
        // SAFETY: buffers live as long as the deque, and `self` keeps it alive.
        if unsafe { (*buffer).generation } != generation(t) {
            return Err(Steal::Retry); // the owner is installing a new buffer
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let n = len.div_ceil(2).min(max);
        // SeqCst: the claim is ordered with the owner's fence and last-element CAS (Lê et al.)
        // and with the generation bump in `grow`.
        match self
            .top
            .compare_exchange(t, claim(t, n as u64), Ordering::SeqCst, Ordering::Relaxed)
        {
            Ok(_) => Ok((buffer, pos(t), n, len)),
            Err(_) => Err(Steal::Retry),
        }
    }

    /// Takes the claimed element at position `p` out of `buffer` and stamps its slot for the
    /// next lap.
    ///
    /// # Safety
    /// The caller claimed position `p` against `buffer` (which is live) and has not read it.
    unsafe fn take_claimed(buffer: *mut Buffer<T>, p: u64) -> T {
        // SAFETY: the caller's contract: `buffer` is live.
        let slot = unsafe { (*buffer).slot(p) };
        // SAFETY: the claim made the element ours; the owner wrote it before publishing `bottom` past `p` (acquired in `claim`), and it will not overwrite the slot until it sees our stamp.
        let value = slot.value.with(|v| unsafe { (*v).assume_init_read() });
        // Release: pairs with the owner's Acquire state load in `push`/`reserve`; our read
        // happens before its next write to this slot.
        // SAFETY: as above.
        let cap = unsafe { (*buffer).cap() } as u64;
        slot.state.store(stamp(advance(p, cap)), Ordering::Release);
        value
    }
}

/// Under loom: the process-wide barrier of `core::membarrier`, modelled for one deque's owner.
///
/// The real barrier makes the owner execute a full fence at some point of its program while
/// the thief's call is in progress. Here the owner's LIFO `pop` has *points* (its start, after
/// the `bottom` store, after the `guard` load, its end) where it reads `word` by RMW and, if a
/// request is pending, fences and clears it; between pops the owner is outside (`IN_POP`
/// clear). A thief's `heavy` sets `REQUEST`; if the owner is inside a pop, it waits until a
/// point has served the request or the pop has ended (whose last point serves it). If the
/// owner is outside, the barrier lands before its next pop: that pop's first point serves it
/// (its RMW comes after the thief's in `word`'s order), and the owner's earlier pops are
/// visible to the thief (its RMW reads the owner's last one). All of `word`'s accesses are
/// RMWs, so every read is of the latest value and no ordering is assumed that loom's
/// treatment of `SeqCst` would not give.
#[cfg(routines_loom)]
#[derive(Default)]
struct BarrierModel {
    /// `IN_POP | REQUEST`.
    word: AtomicU64,
}

#[cfg(routines_loom)]
impl BarrierModel {
    const IN_POP: u64 = 1;
    const REQUEST: u64 = 2;

    fn enter_pop(&self) {
        // AcqRel: `word` is the model's synchronisation; see the type's docs.
        self.word.fetch_or(Self::IN_POP, Ordering::AcqRel);
        self.point();
    }

    fn leave_pop(&self) {
        self.point();
        // AcqRel: as above; a thief that reads this sees the whole pop.
        self.word.fetch_and(!Self::IN_POP, Ordering::AcqRel);
    }

    /// A point of the owner's pop where the barrier may land.
    fn point(&self) {
        // AcqRel (an RMW, so the latest value): as above.
        let mut word = self.word.fetch_add(0, Ordering::AcqRel);
        while word & Self::REQUEST != 0 {
            fence(Ordering::SeqCst);
            // AcqRel: a thief that reads the cleared request comes after our fence.
            match self.word.compare_exchange(
                word,
                word & !Self::REQUEST,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(now) => word = now, // a newer request: fence again
            }
        }
    }

    /// The thief's side: returns once the barrier has landed (or will land before the
    /// owner's next pop).
    fn heavy(&self) {
        fence(Ordering::SeqCst);
        // AcqRel: as above.
        let mut word = self.word.fetch_or(Self::REQUEST, Ordering::AcqRel);
        while word & Self::IN_POP != 0 {
            crate::loom::thread::yield_now();
            // AcqRel (an RMW, so the latest value): as above.
            word = self.word.fetch_add(0, Ordering::AcqRel);
            if word & Self::REQUEST == 0 {
                break;
            }
        }
        fence(Ordering::SeqCst);
    }
}

/// A LIFO thief's presence in `guard`, from `Inner::enter` until dropped.
struct ThiefGuard<'a> {
    guard: &'a AtomicU64,
}

impl Drop for ThiefGuard<'_> {
    fn drop(&mut self) {
        // Release: pairs with the owner's AcqRel disarming CAS; our claims (CAS on `top`)
        // happen before its next unfenced pop.
        self.guard.fetch_sub(THIEF, Ordering::Release);
    }
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        // `&mut self`: no other handle exists; Relaxed loads suffice.
        let t = pos(self.top.load(Ordering::Relaxed));
        let b = self.owner.bottom.load(Ordering::Relaxed);
        let buffer = self.owner.buffer.load(Ordering::Relaxed);
        let mut p = t;
        while distance(p, b) > 0 {
            // SAFETY: positions in [top, bottom) of the current buffer hold live, unclaimed elements.
            unsafe {
                (*buffer)
                    .slot(p)
                    .value
                    .with_mut(|v| (*v).assume_init_drop())
            };
            p = advance(p, 1);
        }
        let mut buffer = buffer;
        while !buffer.is_null() {
            // SAFETY: every buffer in the chain was allocated by `Buffer::alloc` and is referenced by nothing else now.
            let boxed = unsafe { Box::from_raw(buffer) };
            buffer = boxed.prev;
        }
    }
}

/// The owner's end of a work-stealing deque. See the module docs for the algorithm.
///
/// `Worker` is `Send` but not `Sync`: one thread at a time pushes and pops. Make
/// [`Stealer`]s with [`stealer`](Self::stealer) for other threads.
///
/// # Examples
/// ```
/// use routines::lockfree::{Steal, Worker};
///
/// let w = Worker::new_lifo();
/// let s = w.stealer();
/// w.push(1);
/// w.push(2);
/// w.push(3);
/// assert_eq!(s.steal(), Steal::Success(1)); // thieves take the oldest
/// assert_eq!(w.pop(), Some(3)); // the owner takes the newest
/// ```
pub struct Worker<T> {
    inner: Arc<Inner<T>>,
    /// The current buffer's slots (the owner is the only one that replaces the buffer), to
    /// save a load and a pointer chase on every push and pop. Being a `Cell`, it also makes
    /// `Worker` `!Sync`: only one thread at a time acts as the owner.
    ring: Cell<Ring<T>>,
    flavor: Flavor,
    /// LIFO pops in a row that found `guard` armed with no thief inside (see `DISARM_AFTER`).
    quiet_pops: Cell<u32>,
}

// SAFETY: the cached pointer is to a buffer owned by `inner`, which moves along with the
// worker; `Worker` stays `!Sync` (one owner thread at a time).
unsafe impl<T: Send> Send for Worker<T> {}

impl<T> Worker<T> {
    /// A deque whose owner pops the oldest element first. Allocates the first buffer.
    ///
    /// # Examples
    /// ```
    /// let w = routines::lockfree::Worker::new_fifo();
    /// w.push(1);
    /// w.push(2);
    /// assert_eq!(w.pop(), Some(1));
    /// ```
    pub fn new_fifo() -> Self {
        Self::with_flavor(Flavor::Fifo)
    }

    /// A deque whose owner pops the newest element first. Allocates the first buffer.
    ///
    /// # Examples
    /// ```
    /// let w = routines::lockfree::Worker::new_lifo();
    /// w.push(1);
    /// w.push(2);
    /// assert_eq!(w.pop(), Some(2));
    /// ```
    pub fn new_lifo() -> Self {
        Self::with_flavor(Flavor::Lifo)
    }

    /// Under loom: a LIFO deque whose owner pops without a fence while disarmed, with the
    /// process-wide barrier modelled by `BarrierModel`.
    #[cfg(all(routines_loom, test))]
    pub(crate) fn new_lifo_asymmetric() -> Self {
        Self::build(Flavor::Lifo, true)
    }

    fn with_flavor(flavor: Flavor) -> Self {
        Self::build(flavor, false)
    }

    fn build(flavor: Flavor, asymmetric_model: bool) -> Self {
        let inner = Arc::new(Inner::new(flavor, asymmetric_model));
        // SAFETY: the deque's first buffer, live as long as `inner`.
        let ring = Cell::new(unsafe { Ring::of(inner.owner.buffer.load(Ordering::Relaxed)) });
        Self {
            inner,
            ring,
            flavor,
            quiet_pops: Cell::new(0),
        }
    }

    /// A handle other threads can steal with.
    ///
    /// # Examples
    /// ```
    /// let w = routines::lockfree::Worker::new_lifo();
    /// w.push(1);
    /// let s = w.stealer();
    /// assert_eq!(std::thread::spawn(move || s.steal().success()).join().unwrap(), Some(1));
    /// ```
    pub fn stealer(&self) -> Stealer<T> {
        Stealer {
            inner: Arc::clone(&self.inner),
            flavor: self.flavor,
        }
    }

    /// `true` if the deque holds no element (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let w = routines::lockfree::Worker::<u8>::new_lifo();
    /// assert!(w.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of elements (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let w = routines::lockfree::Worker::new_fifo();
    /// w.push('a');
    /// assert_eq!(w.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Pushes `value` at the owner's end. Allocates only when the buffer must grow.
    ///
    /// # Examples
    /// ```
    /// let w = routines::lockfree::Worker::new_lifo();
    /// w.push(1);
    /// assert_eq!(w.pop(), Some(1));
    /// ```
    pub fn push(&self, value: T) {
        let inner = &*self.inner;
        let b = inner.owner.bottom.load(Ordering::Relaxed);
        // Acquire: pairs with the claims' SeqCst CAS (the claimed range is behind `top`).
        let t = pos(inner.top.load(Ordering::Acquire));
        let mut ring = self.ring.get();
        // SAFETY: the current buffer is live while the deque is.
        let slot = unsafe { ring.slot(b) };
        // Outside `pop`, `bottom` is never behind `top`: the masked difference is the length.
        // Acquire (the stamp): pairs with the thief's Release stamp store in `take_claimed`:
        // its read of the slot's previous element happens before our write.
        if b.wrapping_sub(t) & POS_MASK >= ring.cap()
            || slot.state.load(Ordering::Acquire) != stamp(b)
        {
            ring = self.reserve(1);
        }
        // SAFETY: the slot at `b` is free in the current buffer, and we are the owner.
        unsafe { Self::write(ring, b, value) };
        // Release: pairs with the Acquire `bottom` load in `Inner::claim`; publishes the value.
        inner.owner.bottom.store(advance(b, 1), Ordering::Release);
    }

    /// Removes an element from the owner's end: the newest (LIFO) or the oldest (FIFO).
    ///
    /// # Examples
    /// ```
    /// let w = routines::lockfree::Worker::<u8>::new_fifo();
    /// assert_eq!(w.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<T> {
        match self.flavor {
            Flavor::Lifo => self.pop_lifo(),
            Flavor::Fifo => self.pop_fifo(),
        }
    }

    fn pop_lifo(&self) -> Option<T> {
        #[cfg(routines_loom)]
        if let Some(barrier) = &self.inner.barrier {
            barrier.enter_pop();
            let popped = self.pop_lifo_inner();
            barrier.leave_pop();
            return popped;
        }
        self.pop_lifo_inner()
    }

    #[inline]
    fn pop_lifo_inner(&self) -> Option<T> {
        let inner = &*self.inner;
        // Only the owner writes `bottom` and `buffer`: Relaxed reads of our own stores.
        let b = inner.owner.bottom.load(Ordering::Relaxed);
        // A stale `top` is never larger than the real one, so "empty" here is the truth.
        if distance(pos(inner.top.load(Ordering::Relaxed)), b) <= 0 {
            return None;
        }
        let new_b = advance(b, POS_MASK); // `b - 1` in position arithmetic

        // Release, here and in the two restores below (the paper has relaxed stores): a thief
        // that reads any `bottom` value must also see the pushes before it. Since C++20 (Rust's
        // model) a later relaxed store by the same thread no longer continues the push's
        // release sequence, so a thief reading it would read the slot unsynchronised (miri's
        // race detector found this). On x86 a release store is a plain store.
        inner.owner.bottom.store(new_b, Ordering::Release);
        // The `bottom` store is ordered before the `top` load either by a SeqCst fence (Lê et
        // al.; pairs with the thieves' fence in `Inner::claim`) or, while `guard` is 0, by the
        // barrier a thief's `Inner::enter` injects (see "Asymmetric fence" in the module
        // docs). The compiler fences keep the program order the argument needs: `bottom`
        // store, `guard` load, `top` load.
        compiler_fence(Ordering::SeqCst);
        #[cfg(routines_loom)]
        inner.barrier.as_ref().map(BarrierModel::point);
        // Acquire: pairs with the AcqRel `fetch_or(ARMED)` in `Inner::enter`, and keeps the
        // `top` load below after this load on weakly ordered hardware.
        let guard = inner.guard.load(Ordering::Acquire);
        if guard != 0 {
            fence(Ordering::SeqCst);
            self.count_quiet_pop(guard);
        }
        compiler_fence(Ordering::SeqCst);
        #[cfg(routines_loom)]
        inner.barrier.as_ref().map(BarrierModel::point);
        let t = inner.top.load(Ordering::Relaxed);
        let ring = self.ring.get();
        match distance(pos(t), b) {
            len if len <= 0 => {
                // Thieves emptied it meanwhile.
                inner.owner.bottom.store(b, Ordering::Release);
                None
            }
            1 => {
                // The last element: race the thieves for it with their own CAS.
                // SeqCst: ordered with the thieves' claims (Lê et al.).
                let won = inner
                    .top
                    .compare_exchange(t, claim(t, 1), Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok();
                inner.owner.bottom.store(b, Ordering::Release);
                // SAFETY: we won the claim of position `new_b` in the current buffer.
                won.then(|| unsafe { Self::take_own(ring, new_b, true) })
            }
            // SAFETY: more than one element: thieves can claim at most up to `new_b` - 1 now (Lê et al.), so position `new_b` is ours.
            _ => Some(unsafe { Self::take_own(ring, new_b, false) }),
        }
    }

    /// After `DISARM_AFTER` fenced pops in a row with no thief inside, disarms `guard`, so
    /// that pops go without a fence until the next thief arms it again.
    #[inline]
    fn count_quiet_pop(&self, guard: u64) {
        if guard != ARMED {
            self.quiet_pops.set(0); // a thief is inside (or the deque is pinned)
            return;
        }
        let quiet = self.quiet_pops.get() + 1;
        if quiet < DISARM_AFTER {
            self.quiet_pops.set(quiet);
            return;
        }
        self.quiet_pops.set(0);
        // AcqRel: pairs with the thieves' `fetch_add`/`fetch_sub` in `Inner::enter` and
        // `ThiefGuard::drop`. It succeeds only with no thief inside; a thief arriving after it
        // finds `ARMED` clear and issues a barrier before it claims. Failure changes nothing.
        let _ = self
            .inner
            .guard
            .compare_exchange(ARMED, 0, Ordering::AcqRel, Ordering::Relaxed);
    }

    fn pop_fifo(&self) -> Option<T> {
        let inner = &*self.inner;
        // In a FIFO deque only pushes move `bottom`: the owner's read is exact.
        let b = inner.owner.bottom.load(Ordering::Relaxed);
        let mut t = inner.top.load(Ordering::Relaxed);
        loop {
            if distance(pos(t), b) <= 0 {
                return None;
            }
            // SeqCst: a claim like a thief's (they race for the same element).
            match inner.top.compare_exchange_weak(
                t,
                claim(t, 1),
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // SAFETY: we claimed position `t` under the current generation, so in the current buffer.
                    return Some(unsafe { Self::take_own(self.ring.get(), pos(t), true) });
                }
                Err(now) => t = now,
            }
        }
    }

    /// Makes room for `n` more elements at `bottom` (every slot in `[bottom, bottom + n)` free),
    /// growing the buffer if needed. Returns the current buffer.
    fn reserve(&self, n: usize) -> Ring<T> {
        let inner = &*self.inner;
        let b = inner.owner.bottom.load(Ordering::Relaxed);
        // Acquire: pairs with the claims' SeqCst CAS (the claimed range is behind `top`).
        let t = pos(inner.top.load(Ordering::Acquire));
        let ring = self.ring.get();
        let cap = ring.cap() as usize;
        let len = usize::try_from(distance(t, b)).unwrap_or(0);
        let fits = len + n <= cap
            && (0..n as u64).all(|i| {
                // Acquire: pairs with the thief's Release stamp store in `take_claimed`: its
                // read of the slot's previous element happens before our write.
                let p = advance(b, i);
                // SAFETY: the current buffer is live while the deque is.
                unsafe { ring.slot(p) }.state.load(Ordering::Acquire) == stamp(p)
            });
        if fits {
            ring
        } else {
            self.grow(len + n, cap)
        }
    }

    /// Installs a buffer of at least twice `cap` slots (and room for `need` elements) holding
    /// the live elements, then bumps the generation (see the module docs).
    #[cold]
    fn grow(&self, need: usize, cap: usize) -> Ring<T> {
        let inner = &*self.inner;
        let b = inner.owner.bottom.load(Ordering::Relaxed);
        let old = self.ring.get().buffer;
        // Acquire: as in `reserve`.
        let t0 = pos(inner.top.load(Ordering::Acquire));
        let mut new_cap = cap * 2;
        while new_cap < need {
            new_cap *= 2;
        }
        // SAFETY: the current buffer is live.
        let generation = unsafe { (*old).generation } + 1;
        assert!(generation < 1 << (64 - GEN_SHIFT), "deque grown too often");
        let new = Buffer::alloc(new_cap, t0, generation, old);
        let mut p = t0;
        while distance(p, b) > 0 {
            // SAFETY: positions in [t0, b) hold written elements in `old` (a thief may be reading one at the same time: two reads). `new` is not yet shared.
            unsafe {
                let from = (*old).slot(p);
                let to = (*new).slot(p);
                from.value.with(|src| {
                    to.value
                        .with_mut(|dst| ptr::copy_nonoverlapping(src, dst, 1));
                });
            }
            p = advance(p, 1);
        }
        // Release: pairs with the Acquire buffer load in `Inner::claim`; the copies are visible
        // to whoever sees the new buffer.
        inner.owner.buffer.store(new, Ordering::Release);
        // SAFETY: `new` is live (owned by the deque from now on).
        self.ring.set(unsafe { Ring::of(new) });
        // Bump the generation: from now on, claims succeed only against `new`.
        let mut current = inner.top.load(Ordering::Relaxed);
        loop {
            let bumped = (generation << GEN_SHIFT) | pos(current);
            // SeqCst: a thief that sees the new generation (Acquire) sees the buffer store.
            match inner.top.compare_exchange_weak(
                current,
                bumped,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
        // Positions claimed between our `top` load and the bump were claimed against `old` and
        // are read from there: their copies in `new` are dead, stamp them for the next lap.
        let mut p = t0;
        while p != pos(current) {
            // SAFETY: `new` is live; nobody else touches the stamps of slots not claimed in `new`.
            unsafe { (*new).slot(p) }
                .state
                .store(stamp(advance(p, new_cap as u64)), Ordering::Relaxed);
            p = advance(p, 1);
        }
        self.ring.get()
    }

    /// Writes `value` at position `p` without publishing it.
    ///
    /// # Safety
    /// The caller is the owner, `buffer` is current, and the slot of `p` carries `p`'s stamp
    /// (`push`, `reserve`).
    unsafe fn write(ring: Ring<T>, p: u64, value: T) {
        // SAFETY: the caller's contract.
        let slot = unsafe { ring.slot(p) };
        // SAFETY: the stamp says the previous element's consumer is done: no thief reads the slot, and none will before `bottom` passes `p`.
        slot.value.with_mut(|v| unsafe { (*v).write(value) });
    }

    /// Takes the element at position `p`, which the owner has just made its own: from the
    /// `top` side (`from_top`: `top` has passed `p`, so the slot is stamped for the next lap)
    /// or from `bottom` (the stamp stays `p`, the next position pushed).
    ///
    /// # Safety
    /// `p` holds a live element in the live `buffer` that no thief can claim any more.
    unsafe fn take_own(ring: Ring<T>, p: u64, from_top: bool) -> T {
        // SAFETY: the caller's contract.
        let slot = unsafe { ring.slot(p) };
        // SAFETY: the element is live and ours; only the owner writes slots.
        let value = slot.value.with(|v| unsafe { (*v).assume_init_read() });
        if from_top {
            let cap = ring.cap();
            // Relaxed: only the owner reads stamps it wrote itself.
            slot.state.store(stamp(advance(p, cap)), Ordering::Relaxed);
        }
        value
    }

    /// Pushes a batch produced by `next` (at most `max` elements) without publishing each one,
    /// arranges it for this deque's flavor, then publishes it. `source_fifo` says in which
    /// order the batch must come out: in the order produced (`true`) or reversed.
    fn push_batch(&self, max: usize, source_fifo: bool, mut next: impl FnMut() -> Option<T>) {
        let ring = self.reserve(max);
        let b = self.inner.owner.bottom.load(Ordering::Relaxed);
        let mut n = 0;
        while n < max {
            let Some(value) = next() else { break };
            // SAFETY: `reserve(max)` freed the slots [b, b + max) of the current buffer.
            unsafe { Self::write(ring, advance(b, n as u64), value) };
            n += 1;
        }
        // The destination must pop the batch in the source's pop order: a FIFO destination pops
        // from the front (keep the order), a LIFO one from the back (reverse it).
        if source_fifo != (self.flavor == Flavor::Fifo) {
            for i in 0..n / 2 {
                let (lo, hi) = (advance(b, i as u64), advance(b, (n - 1 - i) as u64));
                // SAFETY: both slots hold elements we wrote and have not published; no thief can see them.
                unsafe {
                    ring.slot(lo).value.with_mut(|x| {
                        ring.slot(hi)
                            .value
                            .with_mut(|y| ptr::swap_nonoverlapping(x, y, 1));
                    });
                }
            }
        }
        // Release: as in `push`.
        self.inner
            .owner
            .bottom
            .store(advance(b, n as u64), Ordering::Release);
    }

    fn same_deque(&self, inner: &Arc<Inner<T>>) -> bool {
        ptr::eq(&*self.inner, &**inner)
    }
}

impl<T> fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Worker { .. }")
    }
}

/// A thief's handle on a [`Worker`]'s deque: takes the oldest elements. `Clone`, `Send` and
/// `Sync`.
///
/// # Examples
/// ```
/// use routines::lockfree::{Steal, Worker};
///
/// let w = Worker::new_fifo();
/// w.push(1);
/// let s = w.stealer();
/// assert_eq!(s.clone().steal(), Steal::Success(1));
/// assert_eq!(s.steal(), Steal::Empty);
/// ```
pub struct Stealer<T> {
    inner: Arc<Inner<T>>,
    flavor: Flavor,
}

impl<T> Stealer<T> {
    /// `true` if the deque holds no element (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let w = routines::lockfree::Worker::<u8>::new_lifo();
    /// assert!(w.stealer().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of elements (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let w = routines::lockfree::Worker::new_lifo();
    /// let s = w.stealer();
    /// w.push(1);
    /// assert_eq!(s.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Takes the oldest element. [`Steal::Retry`] when a concurrent operation won the race
    /// (try again); [`Steal::Empty`] when there was nothing to take.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::{Steal, Worker};
    /// let w = Worker::new_lifo();
    /// w.push(1);
    /// w.push(2);
    /// assert_eq!(w.stealer().steal(), Steal::Success(1));
    /// ```
    pub fn steal(&self) -> Steal<T> {
        let _inside = match self.enter() {
            Some(inside) => inside,
            None => return Steal::Empty,
        };
        match self.inner.claim(1) {
            // SAFETY: we claimed position `p` against `buffer`.
            Ok((buffer, p, _, _)) => Steal::Success(unsafe { Inner::take_claimed(buffer, p) }),
            Err(failure) => failure.into_other(),
        }
    }

    /// Steals about half of the elements (at most 32) into `dest`.
    ///
    /// The batch comes out of `dest` in the order it would have come out of this deque.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::{Steal, Worker};
    /// let w = Worker::new_fifo();
    /// (1..=4).for_each(|i| w.push(i));
    /// let dest = Worker::new_fifo();
    /// assert_eq!(w.stealer().steal_batch(&dest), Steal::Success(()));
    /// assert_eq!((dest.pop(), dest.pop(), dest.pop()), (Some(1), Some(2), None));
    /// ```
    pub fn steal_batch(&self, dest: &Worker<T>) -> Steal<()> {
        self.steal_batch_with_limit(dest, MAX_BATCH)
    }

    /// [`steal_batch`](Self::steal_batch) moving at most `limit` elements.
    ///
    /// # Panics
    /// If `limit` is 0.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::{Steal, Worker};
    /// let w = Worker::new_fifo();
    /// (1..=10).for_each(|i| w.push(i));
    /// let dest = Worker::new_fifo();
    /// assert_eq!(w.stealer().steal_batch_with_limit(&dest, 2), Steal::Success(()));
    /// assert_eq!(dest.len(), 2);
    /// ```
    pub fn steal_batch_with_limit(&self, dest: &Worker<T>, limit: usize) -> Steal<()> {
        assert!(limit > 0, "steal_batch_with_limit: limit must be non-zero");
        if dest.same_deque(&self.inner) {
            return if dest.is_empty() {
                Steal::Empty
            } else {
                Steal::Success(())
            };
        }
        self.steal_into(dest, limit, false).map(|_| ())
    }

    /// Steals about half of the elements (at most 33), returns the first of them (in this
    /// deque's order) and moves the rest into `dest`.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::{Steal, Worker};
    /// let w = Worker::new_fifo();
    /// (1..=6).for_each(|i| w.push(i));
    /// let dest = Worker::new_fifo();
    /// assert_eq!(w.stealer().steal_batch_and_pop(&dest), Steal::Success(1));
    /// assert_eq!(dest.pop(), Some(2));
    /// ```
    pub fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
        self.steal_batch_with_limit_and_pop(dest, MAX_BATCH + 1)
    }

    /// [`steal_batch_and_pop`](Self::steal_batch_and_pop) taking at most `limit` elements in
    /// all (the one returned included).
    ///
    /// # Panics
    /// If `limit` is 0.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::{Steal, Worker};
    /// let w = Worker::new_fifo();
    /// (1..=10).for_each(|i| w.push(i));
    /// let dest = Worker::new_fifo();
    /// assert_eq!(w.stealer().steal_batch_with_limit_and_pop(&dest, 3), Steal::Success(1));
    /// assert_eq!(dest.len(), 2);
    /// ```
    pub fn steal_batch_with_limit_and_pop(&self, dest: &Worker<T>, limit: usize) -> Steal<T> {
        assert!(
            limit > 0,
            "steal_batch_with_limit_and_pop: limit must be non-zero"
        );
        if dest.same_deque(&self.inner) {
            return dest.pop().map_or(Steal::Empty, Steal::Success);
        }
        self.steal_into(dest, limit, true)
            .map(|first| first.expect("a successful pop steal returns its first element"))
    }

    /// Enters a LIFO deque as a thief (`None`: it looked empty, nothing to claim). FIFO
    /// owners never pop without a CAS, so thieves of FIFO deques need no guard.
    #[inline]
    fn enter(&self) -> Option<Option<ThiefGuard<'_>>> {
        match self.flavor {
            Flavor::Fifo => Some(None),
            Flavor::Lifo if self.inner.looks_empty() => None,
            Flavor::Lifo => Some(Some(self.inner.enter())),
        }
    }

    /// The batch steals: claims up to `limit` elements, returns the first (in this deque's pop
    /// order) when `pop_first`, and moves the others into `dest`.
    fn steal_into(&self, dest: &Worker<T>, limit: usize, pop_first: bool) -> Steal<Option<T>> {
        // Make room first (for a default-sized batch), so that no allocation falls between a
        // claim and its read; `push_batch` makes more room if a larger batch is claimed.
        dest.reserve(limit.min(MAX_BATCH + 1));
        let _inside = match self.enter() {
            Some(inside) => inside,
            None => return Steal::Empty,
        };
        let (buffer, start, n, len) = match self.inner.claim(match self.flavor {
            Flavor::Fifo => limit,
            Flavor::Lifo => 1,
        }) {
            Ok(claimed) => claimed,
            Err(failure) => return failure.into_other(),
        };
        match self.flavor {
            Flavor::Fifo => {
                // One CAS claimed the whole range: a FIFO owner never moves `bottom` down.
                let mut p = start;
                let end = advance(start, n as u64);
                let mut next = || {
                    let value = (p != end).then(|| {
                        // SAFETY: [start, end) was claimed by us against `buffer`.
                        unsafe { Inner::take_claimed(buffer, p) }
                    });
                    p = advance(p, 1);
                    value
                };
                let first = if pop_first { next() } else { None };
                dest.push_batch(n - usize::from(pop_first), true, next);
                Steal::Success(first)
            }
            Flavor::Lifo => {
                // One element per claim (the owner pops at `bottom` without a CAS).
                // SAFETY: we claimed position `start` against `buffer`.
                let mut held = unsafe { Inner::take_claimed(buffer, start) };
                let target = len.div_ceil(2).min(limit);
                let mut claimed = 1;
                let mut claim_next = || {
                    if claimed == target {
                        return None;
                    }
                    let (buffer, p, _, _) = self.inner.claim(1).ok()?;
                    claimed += 1;
                    // SAFETY: we claimed position `p` against `buffer`.
                    Some(unsafe { Inner::take_claimed(buffer, p) })
                };
                if pop_first {
                    // This deque pops newest first, so the newest claimed is returned and the
                    // older ones go to `dest`, oldest first.
                    dest.push_batch(target - 1, false, || {
                        claim_next().map(|newer| ::core::mem::replace(&mut held, newer))
                    });
                    Steal::Success(Some(held))
                } else {
                    let mut first = Some(held);
                    dest.push_batch(target, false, || first.take().or_else(&mut claim_next));
                    Steal::Success(None)
                }
            }
        }
    }
}

impl<T> Clone for Stealer<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            flavor: self.flavor,
        }
    }
}

impl<T> fmt::Debug for Stealer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Stealer { .. }")
    }
}

/// A global FIFO queue that any thread may push to and steal from, typically the entry point
/// of a scheduler's work. Built on [`SegQueue`] (unbounded, non-blocking).
///
/// # Examples
/// ```
/// use routines::lockfree::{Injector, Steal};
/// let q = Injector::new();
/// q.push(1);
/// q.push(2);
/// assert_eq!(q.steal(), Steal::Success(1));
/// ```
pub struct Injector<T> {
    queue: SegQueue<T>,
}

impl<T> Injector<T> {
    crate::loom::const_fn_unless_loom! {
        /// An empty injector; allocates nothing until the first push.
        ///
        /// # Examples
        /// ```
        /// static Q: routines::lockfree::Injector<u8> = routines::lockfree::Injector::new();
        /// assert!(Q.is_empty());
        /// ```
        pub fn new() -> Self {
            Self {
                queue: SegQueue::new(),
            }
        }
    }

    /// Appends `value`.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::Injector::new();
    /// q.push(1);
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn push(&self, value: T) {
        self.queue.push(value);
    }

    /// Takes the oldest element (never [`Steal::Retry`]: a claimed but unwritten element is
    /// waited for).
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::Injector::<u8>::new();
    /// assert!(q.steal().is_empty());
    /// ```
    pub fn steal(&self) -> Steal<T> {
        self.queue.pop().map_or(Steal::Empty, Steal::Success)
    }

    /// Moves about half of the elements (at most 32) into `dest`, oldest first out of `dest`.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::{Injector, Steal, Worker};
    /// let q = Injector::new();
    /// (1..=4).for_each(|i| q.push(i));
    /// let w = Worker::new_lifo();
    /// assert_eq!(q.steal_batch(&w), Steal::Success(()));
    /// assert_eq!((w.pop(), w.pop(), w.pop()), (Some(1), Some(2), None));
    /// ```
    pub fn steal_batch(&self, dest: &Worker<T>) -> Steal<()> {
        self.steal_batch_with_limit(dest, MAX_BATCH)
    }

    /// [`steal_batch`](Self::steal_batch) moving at most `limit` elements.
    ///
    /// # Panics
    /// If `limit` is 0.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::Injector::new();
    /// (1..=10).for_each(|i| q.push(i));
    /// let w = routines::lockfree::Worker::new_fifo();
    /// assert!(q.steal_batch_with_limit(&w, 3).is_success());
    /// assert_eq!(w.len(), 3);
    /// ```
    pub fn steal_batch_with_limit(&self, dest: &Worker<T>, limit: usize) -> Steal<()> {
        assert!(limit > 0, "steal_batch_with_limit: limit must be non-zero");
        let n = self.queue.len().div_ceil(2).min(limit);
        if n == 0 {
            return Steal::Empty;
        }
        let mut moved = 0;
        dest.push_batch(n, true, || {
            let value = self.queue.pop();
            moved += usize::from(value.is_some());
            value
        });
        if moved == 0 {
            Steal::Empty
        } else {
            Steal::Success(())
        }
    }

    /// Takes about half of the elements (at most 33), returns the oldest and moves the rest
    /// into `dest`.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::{Injector, Steal, Worker};
    /// let q = Injector::new();
    /// (1..=6).for_each(|i| q.push(i));
    /// let w = Worker::new_fifo();
    /// assert_eq!(q.steal_batch_and_pop(&w), Steal::Success(1));
    /// assert_eq!(w.pop(), Some(2));
    /// ```
    pub fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
        self.steal_batch_with_limit_and_pop(dest, MAX_BATCH + 1)
    }

    /// [`steal_batch_and_pop`](Self::steal_batch_and_pop) taking at most `limit` elements in
    /// all (the one returned included).
    ///
    /// # Panics
    /// If `limit` is 0.
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::Injector::new();
    /// (1..=10).for_each(|i| q.push(i));
    /// let w = routines::lockfree::Worker::new_fifo();
    /// assert_eq!(q.steal_batch_with_limit_and_pop(&w, 3).success(), Some(1));
    /// assert_eq!(w.len(), 2);
    /// ```
    pub fn steal_batch_with_limit_and_pop(&self, dest: &Worker<T>, limit: usize) -> Steal<T> {
        assert!(
            limit > 0,
            "steal_batch_with_limit_and_pop: limit must be non-zero"
        );
        let Some(first) = self.queue.pop() else {
            return Steal::Empty;
        };
        // `len` after our pop: take about half of what there was, `first` included.
        let n = (self.queue.len() + 1).div_ceil(2).min(limit) - 1;
        if n > 0 {
            dest.push_batch(n, true, || self.queue.pop());
        }
        Steal::Success(first)
    }

    /// `true` if the injector holds no element (a snapshot).
    ///
    /// # Examples
    /// ```
    /// assert!(routines::lockfree::Injector::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Number of elements (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let q = routines::lockfree::Injector::new();
    /// q.push(());
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.queue.len()
    }
}

impl<T> Default for Injector<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Injector<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Injector { .. }")
    }
}

/// The outcome of a steal.
///
/// # Examples
/// ```
/// use routines::lockfree::Steal;
/// let s: Steal<u8> = [Steal::Empty, Steal::Retry, Steal::Success(3)].into_iter().collect();
/// assert_eq!(s, Steal::Success(3));
/// assert_eq!(Steal::<u8>::Empty.or_else(|| Steal::Retry), Steal::Retry);
/// ```
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Steal<T> {
    /// There was nothing to steal.
    Empty,
    /// An element was stolen.
    Success(T),
    /// A concurrent operation interfered; trying again may succeed.
    Retry,
}

impl<T> Steal<T> {
    /// `true` for [`Steal::Empty`].
    pub fn is_empty(&self) -> bool {
        matches!(self, Steal::Empty)
    }

    /// `true` for [`Steal::Success`].
    pub fn is_success(&self) -> bool {
        matches!(self, Steal::Success(_))
    }

    /// `true` for [`Steal::Retry`].
    pub fn is_retry(&self) -> bool {
        matches!(self, Steal::Retry)
    }

    /// The stolen element, if any.
    pub fn success(self) -> Option<T> {
        match self {
            Steal::Success(value) => Some(value),
            _ => None,
        }
    }

    /// `self` if it is a success; otherwise runs `f`, and returns its success, or `Retry` if
    /// either attempt asked for a retry, or else `Empty`.
    pub fn or_else(self, f: impl FnOnce() -> Steal<T>) -> Steal<T> {
        match self {
            Steal::Empty => f(),
            Steal::Success(_) => self,
            Steal::Retry => match f() {
                Steal::Empty => Steal::Retry,
                other => other,
            },
        }
    }

    fn map<U>(self, f: impl FnOnce(T) -> U) -> Steal<U> {
        match self {
            Steal::Empty => Steal::Empty,
            Steal::Success(value) => Steal::Success(f(value)),
            Steal::Retry => Steal::Retry,
        }
    }
}

impl Steal<()> {
    /// A failed (`Empty`/`Retry`) outcome as one of any element type.
    fn into_other<U>(self) -> Steal<U> {
        match self {
            Steal::Empty | Steal::Success(()) => Steal::Empty,
            Steal::Retry => Steal::Retry,
        }
    }
}

impl<T> fmt::Debug for Steal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Steal::Empty => f.pad("Empty"),
            Steal::Success(_) => f.pad("Success(..)"),
            Steal::Retry => f.pad("Retry"),
        }
    }
}

impl<T> FromIterator<Steal<T>> for Steal<T> {
    /// The first success; otherwise `Retry` if any attempt asked for a retry, else `Empty`.
    fn from_iter<I: IntoIterator<Item = Steal<T>>>(iter: I) -> Self {
        let mut retry = false;
        for steal in iter {
            match steal {
                Steal::Empty => {}
                Steal::Success(value) => return Steal::Success(value),
                Steal::Retry => retry = true,
            }
        }
        if retry {
            Steal::Retry
        } else {
            Steal::Empty
        }
    }
}

#[cfg(all(test, not(routines_loom)))]
mod tests {
    use super::*;

    fn guard<T>(w: &Worker<T>) -> u64 {
        w.inner.guard.load(Ordering::SeqCst)
    }

    /// The guard's life: a LIFO deque starts armed (where the barrier exists), `DISARM_AFTER`
    /// quiet pops disarm it, a thief arms it again and leaves it armed with no thief counted,
    /// and a thief inside holds it armed however many pops go by. FIFO deques stay pinned.
    #[test]
    fn thieves_arm_the_guard_and_quiet_pops_disarm_it() {
        let w = Worker::new_lifo();
        let s = w.stealer();
        if !membarrier::available() {
            assert_eq!(guard(&w), PINNED);
            return;
        }
        assert_eq!(guard(&w), ARMED);
        for i in 0..DISARM_AFTER {
            assert_eq!(guard(&w), ARMED, "still armed after {i} quiet pops");
            w.push(i);
            assert_eq!(w.pop(), Some(i));
        }
        assert_eq!(guard(&w), 0, "disarmed after DISARM_AFTER quiet pops");
        assert_eq!(s.steal(), Steal::Empty);
        assert_eq!(guard(&w), 0, "a thief that finds nothing does not arm");
        w.push(0);
        w.push(1);
        assert_eq!(s.steal(), Steal::Success(0));
        assert_eq!(guard(&w), ARMED);
        for i in 1..DISARM_AFTER {
            w.push(i);
            assert_eq!(w.pop(), Some(i));
            assert_eq!(guard(&w), ARMED, "still armed after {i} quiet pops");
        }
        w.push(DISARM_AFTER);
        assert_eq!(w.pop(), Some(DISARM_AFTER));
        assert_eq!(guard(&w), 0, "disarmed after DISARM_AFTER quiet pops");
        assert_eq!(w.pop(), Some(1));
        assert_eq!(guard(&w), 0, "unfenced pops leave it disarmed");

        w.push(7);
        let inside = w.inner.enter();
        assert_eq!(guard(&w), ARMED | THIEF);
        for _ in 0..2 * DISARM_AFTER {
            w.push(8);
            assert_eq!(w.pop(), Some(8));
        }
        assert_eq!(guard(&w), ARMED | THIEF, "never disarmed under a thief");
        drop(inside);
        assert_eq!(guard(&w), ARMED);
        assert_eq!(w.pop(), Some(7));

        let fifo = Worker::<u8>::new_fifo();
        assert_eq!(guard(&fifo), PINNED);
    }
}
