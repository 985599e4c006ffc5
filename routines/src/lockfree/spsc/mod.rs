//! Wait-free single-producer single-consumer ring buffer (Lamport 1983, "Specifying Concurrent
//! Program Modules", with the cached-index refinement of FastForward / MCRingBuffer): the
//! producer owns the tail, the consumer owns the head, and each keeps a cached copy of the
//! other's index so that it touches the shared cache line only when its cache says "full" or
//! "empty".
//!
//! Positions run modulo `2 * capacity`, so "full" (`tail - head == capacity`) and "empty"
//! (`tail == head`) differ without a spare slot: capacity `n` holds `n` items. Capacity 0 is
//! allowed (every push fails, every pop finds nothing).
//!
//! Progress: **wait-free**: every operation finishes in a bounded number of its own steps.
//! API and semantics follow `rtrb` 0.3 (`push`/`pop`/`peek`, `slots`, chunks in
//! [`chunks`]), so rtrb's own test suite runs against it.

use ::core::cell::Cell;
use ::core::fmt;
use ::core::mem::MaybeUninit;
use ::core::ptr::NonNull;

use crate::core::CachePadded;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Arc;

pub mod chunks;

/// The ring under the name the rest of `routines::lockfree` uses; the same type as
/// [`RingBuffer`].
pub type SpscQueue<T> = RingBuffer<T>;

/// The shared ring: positions and the slot buffer. Made by [`RingBuffer::new`] (also spelled
/// [`SpscQueue::new`]), which hands out its only [`Producer`] and [`Consumer`]; reachable from
/// either through `buffer()`. Named as in `rtrb`, so that code written for it ports by
/// changing the import.
pub struct RingBuffer<T> {
    /// Next position to read, in `0..2 * capacity`; written by the consumer only.
    head: CachePadded<AtomicUsize>,
    /// Next position to write, in `0..2 * capacity`; written by the producer only.
    tail: CachePadded<AtomicUsize>,
    /// `capacity` slots. Slots in `[head, tail)` are initialised and belong to the
    /// consumer; the others are uninitialised and belong to the producer. Plain memory:
    /// ownership moves only through the Release/Acquire index stores and loads.
    buffer: NonNull<MaybeUninit<T>>,
    capacity: usize,
}

// SAFETY: the ring moves `T`s from the producer's thread to the consumer's (`T: Send`); no
// `T` is ever reachable from two threads at once (see `buffer`).
unsafe impl<T: Send> Send for RingBuffer<T> {}
// SAFETY: through `&SpscQueue` (`buffer()`) only `capacity()` and comparisons are available.
unsafe impl<T: Send> Sync for RingBuffer<T> {}

impl<T> RingBuffer<T> {
    /// A ring holding up to `capacity` items, split into its two ends. One allocation for the
    /// slots plus one for the shared indices; nothing after.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::spsc::SpscQueue;
    /// let (mut tx, mut rx) = SpscQueue::new(2);
    /// tx.push(1).unwrap();
    /// assert_eq!(rx.pop(), Ok(1));
    /// ```
    #[allow(
        clippy::new_ret_no_self,
        reason = "rtrb's API: the ring is only used through its ends"
    )]
    pub fn new(capacity: usize) -> (Producer<T>, Consumer<T>) {
        // The slot buffer: the ring's one allocation besides the `Arc`.
        let slots: Box<[MaybeUninit<T>]> = (0..capacity).map(|_| MaybeUninit::uninit()).collect();
        let buffer = NonNull::from(Box::leak(slots)).cast::<MaybeUninit<T>>();
        let queue = Arc::new(Self {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            buffer,
            capacity,
        });
        (
            Producer {
                queue: Arc::clone(&queue),
                head: Cell::new(0),
                tail: Cell::new(0),
            },
            Consumer {
                queue,
                head: Cell::new(0),
                tail: Cell::new(0),
            },
        )
    }

    /// The number of items the ring can hold.
    ///
    /// # Examples
    /// ```
    /// let (tx, _rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(3);
    /// assert_eq!(tx.buffer().capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Items between positions `head` and `tail`.
    #[inline]
    fn distance(&self, head: usize, tail: usize) -> usize {
        if tail >= head {
            tail - head
        } else {
            tail + 2 * self.capacity - head
        }
    }

    /// `pos` advanced by `n` (`n <= capacity`).
    #[inline]
    fn advance(&self, pos: usize, n: usize) -> usize {
        debug_assert!(n <= self.capacity);
        let next = pos + n;
        if next >= 2 * self.capacity && self.capacity > 0 {
            next - 2 * self.capacity
        } else {
            next
        }
    }

    /// The slot of position `pos`.
    #[inline]
    fn slot(&self, pos: usize) -> *mut MaybeUninit<T> {
        let index = if pos >= self.capacity {
            pos - self.capacity
        } else {
            pos
        };
        // SAFETY: `index < capacity`, inside the buffer allocation.
        unsafe { self.buffer.as_ptr().add(index) }
    }

    /// The (up to) two contiguous runs of slots covering `n` positions from `pos`:
    /// `(first, first_len, second, second_len)`.
    #[inline]
    fn runs(
        &self,
        pos: usize,
        n: usize,
    ) -> (*mut MaybeUninit<T>, usize, *mut MaybeUninit<T>, usize) {
        let index = if pos >= self.capacity {
            pos - self.capacity
        } else {
            pos
        };
        let first_len = n.min(self.capacity - index);
        (
            self.slot(pos),
            first_len,
            self.buffer.as_ptr(),
            n - first_len,
        )
    }
}

impl<T> Drop for RingBuffer<T> {
    fn drop(&mut self) {
        // `&mut self`: both ends are gone; Relaxed loads suffice (the `Arc` drop synchronised).
        let mut head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        while head != tail {
            // SAFETY: slots in `[head, tail)` hold initialised items nobody else can reach.
            unsafe { (*self.slot(head)).assume_init_drop() };
            head = self.advance(head, 1);
        }
        // SAFETY: `buffer` came from `Box::leak` of a boxed slice of `capacity` slots.
        drop(unsafe {
            Box::from_raw(::core::ptr::slice_from_raw_parts_mut(
                self.buffer.as_ptr(),
                self.capacity,
            ))
        });
    }
}

impl<T> PartialEq for RingBuffer<T> {
    /// Two handles are equal if they belong to the same ring.
    fn eq(&self, other: &Self) -> bool {
        ::core::ptr::eq(self, other)
    }
}

impl<T> Eq for RingBuffer<T> {}

impl<T> fmt::Debug for RingBuffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingBuffer")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// The writing end of an [`SpscQueue`]. `Send`, not `Sync`, not `Clone`: one producer.
pub struct Producer<T> {
    queue: Arc<RingBuffer<T>>,
    /// Cached copy of the consumer's head (refreshed only when the cache says "full").
    head: Cell<usize>,
    /// Our own tail (the shared one is only ever written by us).
    tail: Cell<usize>,
}

// SAFETY: the producer end moves `T`s into the ring; it may move to another thread with them.
unsafe impl<T: Send> Send for Producer<T> {}

impl<T> Producer<T> {
    /// Appends `value`, or hands it back if the ring is full. Wait-free.
    ///
    /// # Errors
    /// [`PushError::Full`] with the value.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::spsc::{PushError, SpscQueue};
    /// let (mut tx, _rx) = SpscQueue::new(1);
    /// assert_eq!(tx.push(1), Ok(()));
    /// assert_eq!(tx.push(2), Err(PushError::Full(2)));
    /// ```
    pub fn push(&mut self, value: T) -> Result<(), PushError<T>> {
        if self.free_slots(1) < 1 {
            return Err(PushError::Full(value));
        }
        let tail = self.tail.get();
        // SAFETY: the slot at `tail` is free (checked above) and only we write free slots.
        unsafe { (*self.queue.slot(tail)).write(value) };
        self.publish(1);
        Ok(())
    }

    /// Free slots, refreshing the cached head from the consumer only if fewer than `wanted`
    /// are known to be free.
    #[inline]
    fn free_slots(&self, wanted: usize) -> usize {
        let q = &*self.queue;
        let mut free = q.capacity - q.distance(self.head.get(), self.tail.get());
        if free < wanted {
            // Acquire: pairs with the Release head store in `Consumer::release`; the
            // consumer is done with the slots it gave back.
            self.head.set(q.head.load(Ordering::Acquire));
            free = q.capacity - q.distance(self.head.get(), self.tail.get());
        }
        free
    }

    /// Makes `n` freshly written slots visible to the consumer.
    #[inline]
    fn publish(&self, n: usize) {
        let tail = self.queue.advance(self.tail.get(), n);
        self.tail.set(tail);
        // Release: pairs with the Acquire tail load in `Consumer::available`; publishes the
        // items written.
        self.queue.tail.store(tail, Ordering::Release);
    }

    /// Free slots right now (the consumer may free more at any time).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::new(2);
    /// tx.push(1).unwrap();
    /// assert_eq!(tx.slots(), 1);
    /// ```
    pub fn slots(&self) -> usize {
        self.free_slots(usize::MAX)
    }

    /// `true` if no slot is free right now.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::new(1);
    /// tx.push(1).unwrap();
    /// assert!(tx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.free_slots(1) == 0
    }

    /// `true` if the [`Consumer`] has been dropped (no item pushed from now on is read).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(1);
    /// drop(rx);
    /// assert!(tx.is_abandoned());
    /// ```
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.queue) < 2
    }

    /// The ring this end belongs to.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(1);
    /// assert_eq!(tx.buffer(), rx.buffer());
    /// ```
    pub fn buffer(&self) -> &RingBuffer<T> {
        &self.queue
    }
}

impl<T> PartialEq for Producer<T> {
    /// Equal if both belong to the same ring (only one producer exists per ring).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.queue, &other.queue)
    }
}

impl<T> Eq for Producer<T> {}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

/// The reading end of an [`SpscQueue`]. `Send`, not `Sync`, not `Clone`: one consumer.
pub struct Consumer<T> {
    queue: Arc<RingBuffer<T>>,
    /// Our own head (the shared one is only ever written by us).
    head: Cell<usize>,
    /// Cached copy of the producer's tail (refreshed only when the cache says "empty").
    tail: Cell<usize>,
}

// SAFETY: the consumer end moves `T`s out of the ring; it may move to another thread.
unsafe impl<T: Send> Send for Consumer<T> {}

impl<T> Consumer<T> {
    /// Removes the oldest item. Wait-free.
    ///
    /// # Errors
    /// [`PopError::Empty`] if there is none.
    ///
    /// # Examples
    /// ```
    /// use routines::lockfree::spsc::{PopError, SpscQueue};
    /// let (mut tx, mut rx) = SpscQueue::new(1);
    /// assert_eq!(rx.pop(), Err::<u8, _>(PopError::Empty));
    /// tx.push(3).unwrap();
    /// assert_eq!(rx.pop(), Ok(3));
    /// ```
    pub fn pop(&mut self) -> Result<T, PopError> {
        if self.available(1) < 1 {
            return Err(PopError::Empty);
        }
        // SAFETY: the slot at `head` holds a published item (checked above) that only we read.
        let value = unsafe { (*self.queue.slot(self.head.get())).assume_init_read() };
        self.release(1);
        Ok(value)
    }

    /// A reference to the oldest item without removing it.
    ///
    /// # Errors
    /// [`PeekError::Empty`] if there is none.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, rx) = routines::lockfree::spsc::SpscQueue::new(1);
    /// tx.push(3).unwrap();
    /// assert_eq!(rx.peek(), Ok(&3));
    /// ```
    pub fn peek(&self) -> Result<&T, PeekError> {
        if self.available(1) < 1 {
            return Err(PeekError::Empty);
        }
        // SAFETY: published item owned by the consumer until it releases the slot, which needs `&mut self` (so the returned borrow has ended).
        Ok(unsafe { (*self.queue.slot(self.head.get())).assume_init_ref() })
    }

    /// Items available, refreshing the cached tail from the producer only if fewer than
    /// `wanted` are known.
    #[inline]
    fn available(&self, wanted: usize) -> usize {
        let q = &*self.queue;
        let mut n = q.distance(self.head.get(), self.tail.get());
        if n < wanted {
            // Acquire: pairs with the Release tail store in `Producer::publish`; the items
            // written before it are visible.
            self.tail.set(q.tail.load(Ordering::Acquire));
            n = q.distance(self.head.get(), self.tail.get());
        }
        n
    }

    /// Gives `n` read slots back to the producer.
    #[inline]
    fn release(&self, n: usize) {
        let head = self.queue.advance(self.head.get(), n);
        self.head.set(head);
        // Release: pairs with the Acquire head load in `Producer::free_slots`; our reads of
        // the items happen before the producer overwrites the slots.
        self.queue.head.store(head, Ordering::Release);
    }

    /// Items available right now (the producer may add more at any time).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, rx) = routines::lockfree::spsc::SpscQueue::new(2);
    /// tx.push(1).unwrap();
    /// assert_eq!(rx.slots(), 1);
    /// ```
    pub fn slots(&self) -> usize {
        self.available(usize::MAX)
    }

    /// `true` if no item is available right now.
    ///
    /// # Examples
    /// ```
    /// let (_tx, rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(1);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.available(1) == 0
    }

    /// `true` if the [`Producer`] has been dropped (nothing more will arrive; what is in the
    /// ring can still be read).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(1);
    /// drop(tx);
    /// assert!(rx.is_abandoned());
    /// ```
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.queue) < 2
    }

    /// The ring this end belongs to.
    ///
    /// # Examples
    /// ```
    /// let (_tx, rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(4);
    /// assert_eq!(rx.buffer().capacity(), 4);
    /// ```
    pub fn buffer(&self) -> &RingBuffer<T> {
        &self.queue
    }
}

impl<T> PartialEq for Consumer<T> {
    /// Equal if both belong to the same ring (only one consumer exists per ring).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.queue, &other.queue)
    }
}

impl<T> Eq for Consumer<T> {}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer").finish_non_exhaustive()
    }
}

/// Error of [`Producer::push`]: the ring was full; the value is handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// No free slot; the value that was not pushed.
    Full(T),
}

impl<T> PushError<T> {
    /// The value that was not pushed.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::lockfree::spsc::PushError::Full(4).into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(value) => value,
        }
    }
}

impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(_)")
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("full ring buffer")
    }
}

impl<T> std::error::Error for PushError<T> {}

/// Error of [`Consumer::pop`]: the ring was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopError {
    /// No item available.
    Empty,
}

impl fmt::Display for PopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("empty ring buffer")
    }
}

impl std::error::Error for PopError {}

/// Error of [`Consumer::peek`]: the ring was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeekError {
    /// No item available.
    Empty,
}

impl fmt::Display for PeekError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("empty ring buffer")
    }
}

impl std::error::Error for PeekError {}
