//! Batch access to an SPSC ring: write or read many slots with one index update.
//!
//! A chunk covers up to two contiguous runs of slots (the ring may wrap). Writing:
//! [`Producer::write_chunk`] (slots pre-filled with `T::default()`) or
//! [`Producer::write_chunk_uninit`], then `commit(n)` / `commit_all()` to publish. Reading:
//! [`Consumer::read_chunk`], then `commit(n)` / `commit_all()` to drop the items and free the
//! slots, or `into_iter()` to take them one by one. Also the slice and `std::io` shortcuts
//! of `rtrb`: `push_partial_slice`, `push_entire_slice`, `pop_partial_slice`,
//! `pop_entire_slice`, `Write for Producer<u8>`, `Read for Consumer<u8>`.

use ::core::fmt;
use ::core::mem::MaybeUninit;

use super::{Consumer, Producer};

/// Error of the chunk constructors: fewer slots than asked for are available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkError {
    /// Only this many slots (free slots for writing, items for reading) were available.
    TooFewSlots(usize),
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewSlots(n) => write!(f, "only {n} slots available in ring buffer"),
        }
    }
}

impl std::error::Error for ChunkError {}

impl<T> Producer<T> {
    /// `n` free slots, filled with `T::default()`, to overwrite and then commit.
    ///
    /// # Errors
    /// [`ChunkError::TooFewSlots`] if fewer than `n` slots are free.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(4);
    /// let mut chunk = tx.write_chunk(2).unwrap();
    /// let (first, _second) = chunk.as_mut_slices();
    /// first.copy_from_slice(&[1, 2]);
    /// chunk.commit_all();
    /// assert_eq!(rx.pop(), Ok(1));
    /// ```
    pub fn write_chunk(&mut self, n: usize) -> Result<WriteChunk<'_, T>, ChunkError>
    where
        T: Default,
    {
        let mut chunk = self.write_chunk_uninit(n)?;
        let (first, second) = chunk.as_mut_slices();
        for slot in first.iter_mut().chain(second) {
            slot.write(T::default());
        }
        Ok(WriteChunk(Some(chunk)))
    }

    /// `n` free, uninitialised slots to write and then commit.
    ///
    /// # Errors
    /// [`ChunkError::TooFewSlots`] if fewer than `n` slots are free.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(4);
    /// let written = tx.write_chunk_uninit(3).unwrap().fill_from_iter([7, 8]);
    /// assert_eq!(written, 2);
    /// assert_eq!(rx.slots(), 2);
    /// ```
    pub fn write_chunk_uninit(&mut self, n: usize) -> Result<WriteChunkUninit<'_, T>, ChunkError> {
        let free = self.free_slots(n);
        if free < n {
            return Err(ChunkError::TooFewSlots(free));
        }
        let (first, first_len, second, second_len) = self.queue.runs(self.tail.get(), n);
        Ok(WriteChunkUninit {
            first,
            first_len,
            second,
            second_len,
            producer: self,
        })
    }

    /// Pushes as much of `slice` as fits; returns `(pushed, not_pushed)`.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::new(2);
    /// assert_eq!(tx.push_partial_slice(&[1, 2, 3]), (&[1, 2][..], &[3][..]));
    /// ```
    pub fn push_partial_slice<'a>(&mut self, slice: &'a [T]) -> (&'a [T], &'a [T])
    where
        T: Copy,
    {
        let n = slice.len().min(self.free_slots(slice.len()));
        let mut chunk = self
            .write_chunk_uninit(n)
            .unwrap_or_else(|_| unreachable!("n <= free slots"));
        let (first, second) = chunk.as_mut_slices();
        let (a, b) = slice[..n].split_at(first.len());
        first.copy_to_uninit(a);
        second.copy_to_uninit(b);
        // SAFETY: all `n` slots were initialised just above.
        unsafe { chunk.commit_all() };
        slice.split_at(n)
    }

    /// Pushes all of `slice`, or nothing if it does not fit.
    ///
    /// # Errors
    /// [`ChunkError::TooFewSlots`] if fewer than `slice.len()` slots are free.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::new(2);
    /// assert!(tx.push_entire_slice(&[1, 2, 3]).is_err());
    /// assert!(tx.push_entire_slice(&[1, 2]).is_ok());
    /// ```
    pub fn push_entire_slice(&mut self, slice: &[T]) -> Result<(), ChunkError>
    where
        T: Copy,
    {
        let free = self.free_slots(slice.len());
        if free < slice.len() {
            return Err(ChunkError::TooFewSlots(free));
        }
        self.push_partial_slice(slice);
        Ok(())
    }
}

impl<T> Consumer<T> {
    /// `n` items to read (in place) and then commit.
    ///
    /// # Errors
    /// [`ChunkError::TooFewSlots`] if fewer than `n` items are available.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(4);
    /// tx.push_entire_slice(&[1, 2, 3]).unwrap();
    /// let chunk = rx.read_chunk(2).unwrap();
    /// assert_eq!(chunk.as_slices(), (&[1, 2][..], &[][..]));
    /// chunk.commit_all();
    /// assert_eq!(rx.pop(), Ok(3));
    /// ```
    pub fn read_chunk(&mut self, n: usize) -> Result<ReadChunk<'_, T>, ChunkError> {
        let available = self.available(n);
        if available < n {
            return Err(ChunkError::TooFewSlots(available));
        }
        let (first, first_len, second, second_len) = self.queue.runs(self.head.get(), n);
        Ok(ReadChunk {
            first,
            first_len,
            second,
            second_len,
            consumer: self,
        })
    }

    /// Pops as many items as available into `slice`; returns `(filled, untouched)`.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(4);
    /// tx.push_entire_slice(&[1, 2]).unwrap();
    /// let mut buf = [0; 3];
    /// let (got, rest) = rx.pop_partial_slice(&mut buf);
    /// assert_eq!((&*got, rest.len()), (&[1, 2][..], 1));
    /// ```
    pub fn pop_partial_slice<'a>(&mut self, slice: &'a mut [T]) -> (&'a mut [T], &'a mut [T])
    where
        T: Copy,
    {
        let n = slice.len().min(self.available(slice.len()));
        let chunk = self
            .read_chunk(n)
            .unwrap_or_else(|_| unreachable!("n <= available items"));
        let (first, second) = chunk.as_slices();
        let (a, b) = slice[..n].split_at_mut(first.len());
        a.copy_from_slice(first);
        b.copy_from_slice(second);
        chunk.commit_all();
        slice.split_at_mut(n)
    }

    /// Pops exactly `slice.len()` items into `slice`, or nothing if fewer are available.
    ///
    /// # Errors
    /// [`ChunkError::TooFewSlots`] if fewer than `slice.len()` items are available.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(4);
    /// tx.push_entire_slice(&[1, 2]).unwrap();
    /// let mut buf = [0; 3];
    /// assert!(rx.pop_entire_slice(&mut buf).is_err());
    /// assert!(rx.pop_entire_slice(&mut buf[..2]).is_ok());
    /// ```
    pub fn pop_entire_slice(&mut self, slice: &mut [T]) -> Result<(), ChunkError>
    where
        T: Copy,
    {
        let available = self.available(slice.len());
        if available < slice.len() {
            return Err(ChunkError::TooFewSlots(available));
        }
        self.pop_partial_slice(slice);
        Ok(())
    }
}

/// Copies a slice of `Copy` values into uninitialised memory of the same length.
pub trait CopyToUninit<T: Copy> {
    /// Copies `src` into `self` (same length) and returns the now initialised slice.
    ///
    /// # Panics
    /// If the lengths differ.
    fn copy_to_uninit<'a>(&'a mut self, src: &[T]) -> &'a mut [T];
}

impl<T: Copy> CopyToUninit<T> for [MaybeUninit<T>] {
    /// # Examples
    /// ```
    /// use routines::lockfree::spsc::chunks::CopyToUninit;
    /// let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 2];
    /// assert_eq!(buf.copy_to_uninit(&[1, 2]), &[1, 2]);
    /// ```
    fn copy_to_uninit<'a>(&'a mut self, src: &[T]) -> &'a mut [T] {
        assert_eq!(self.len(), src.len(), "copy_to_uninit: lengths differ");
        for (dst, &value) in self.iter_mut().zip(src) {
            dst.write(value);
        }
        // SAFETY: every element was initialised by the loop; `MaybeUninit<T>` has `T`'s layout.
        unsafe { &mut *(::core::ptr::from_mut(self) as *mut [T]) }
    }
}

/// Free slots of a [`Producer`], uninitialised; see [`Producer::write_chunk_uninit`].
/// Dropped without a commit, it publishes nothing.
pub struct WriteChunkUninit<'a, T> {
    first: *mut MaybeUninit<T>,
    first_len: usize,
    second: *mut MaybeUninit<T>,
    second_len: usize,
    /// The chunk borrows the producer mutably: no other write can happen meanwhile, and the
    /// slots stay free (only the producer fills them).
    producer: &'a mut Producer<T>,
}

// SAFETY: the chunk stands for the producer's exclusive access to free slots; it can move to
// another thread with the `&mut Producer` it holds (`T: Send`, as the producer).
unsafe impl<T: Send> Send for WriteChunkUninit<'_, T> {}

impl<T> WriteChunkUninit<'_, T> {
    /// The two runs of slots (the second is empty unless the ring wraps).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(4);
    /// let mut chunk = tx.write_chunk_uninit(3).unwrap();
    /// assert_eq!(chunk.as_mut_slices().0.len(), 3);
    /// ```
    pub fn as_mut_slices(&mut self) -> (&mut [MaybeUninit<T>], &mut [MaybeUninit<T>]) {
        // SAFETY: both runs are free slots of the buffer, disjoint, owned by the producer which we borrow mutably.
        unsafe {
            (
                ::core::slice::from_raw_parts_mut(self.first, self.first_len),
                ::core::slice::from_raw_parts_mut(self.second, self.second_len),
            )
        }
    }

    /// Publishes the first `n` slots.
    ///
    /// # Safety
    /// The first `n` slots of the chunk are initialised.
    ///
    /// # Panics
    /// If `n > self.len()`.
    pub unsafe fn commit(self, n: usize) {
        assert!(n <= self.len(), "commit: more slots than the chunk has");
        self.producer.publish(n);
    }

    /// Publishes every slot of the chunk.
    ///
    /// # Safety
    /// Every slot of the chunk is initialised.
    pub unsafe fn commit_all(self) {
        let n = self.len();
        self.producer.publish(n);
    }

    /// Fills slots from `iter` until the chunk or the iterator ends, publishes them, and
    /// returns how many.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(2);
    /// assert_eq!(tx.write_chunk_uninit(2).unwrap().fill_from_iter(5..), 2);
    /// assert_eq!(rx.pop(), Ok(5));
    /// ```
    pub fn fill_from_iter(mut self, iter: impl IntoIterator<Item = T>) -> usize {
        let mut iter = iter.into_iter();
        let mut written = 0;
        let (first, second) = self.as_mut_slices();
        // One loop per run (not a chained iterator) so each compiles to a tight loop.
        'fill: for run in [first, second] {
            for slot in run {
                match iter.next() {
                    Some(value) => {
                        slot.write(value);
                        written += 1;
                    }
                    None => break 'fill,
                }
            }
        }
        // A panicking iterator leaves `written` slots initialised but unpublished: they leak,
        // which is safe. Here all `written` slots are initialised.
        self.producer.publish(written);
        written
    }

    /// Number of slots in the chunk.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(4);
    /// assert_eq!(tx.write_chunk_uninit(3).unwrap().len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.first_len + self.second_len
    }

    /// `true` for a chunk of no slots.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(4);
    /// assert!(tx.write_chunk_uninit(0).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> fmt::Debug for WriteChunkUninit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteChunkUninit")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// Free slots of a [`Producer`] holding `T::default()` values; see
/// [`Producer::write_chunk`]. Dropped without a commit, it drops its values and publishes
/// nothing; `commit(n)` drops the values after the first `n`.
pub struct WriteChunk<'a, T>(Option<WriteChunkUninit<'a, T>>);

impl<'a, T> WriteChunk<'a, T> {
    fn inner(&mut self) -> &mut WriteChunkUninit<'a, T> {
        // Some until `commit*` consumes the chunk.
        self.0
            .as_mut()
            .unwrap_or_else(|| unreachable!("a WriteChunk holds its inner chunk until commit"))
    }

    /// The two runs of (initialised) slots.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(2);
    /// let mut chunk = tx.write_chunk(2).unwrap();
    /// assert_eq!(chunk.as_mut_slices().0, &[0, 0]);
    /// ```
    pub fn as_mut_slices(&mut self) -> (&mut [T], &mut [T]) {
        let (first, second) = self.inner().as_mut_slices();
        // SAFETY: every slot of a `WriteChunk` holds a value (from `T::default()` or the caller's assignments); `MaybeUninit<T>` has `T`'s layout.
        unsafe {
            (
                &mut *(::core::ptr::from_mut(first) as *mut [T]),
                &mut *(::core::ptr::from_mut(second) as *mut [T]),
            )
        }
    }

    /// Publishes the first `n` values and drops the rest.
    ///
    /// # Panics
    /// If `n > self.len()`.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(3);
    /// tx.write_chunk(3).unwrap().commit(1);
    /// assert_eq!(rx.slots(), 1);
    /// ```
    pub fn commit(mut self, n: usize) {
        assert!(n <= self.len(), "commit: more slots than the chunk has");
        self.drop_values(n);
        let chunk = self
            .0
            .take()
            .unwrap_or_else(|| unreachable!("a WriteChunk holds its inner chunk until commit"));
        // SAFETY: the first `n` slots hold values.
        unsafe { chunk.commit(n) };
    }

    /// Publishes every value.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(3);
    /// tx.write_chunk(2).unwrap().commit_all();
    /// assert_eq!(rx.slots(), 2);
    /// ```
    pub fn commit_all(mut self) {
        let chunk = self
            .0
            .take()
            .unwrap_or_else(|| unreachable!("a WriteChunk holds its inner chunk until commit"));
        // SAFETY: every slot holds a value.
        unsafe { chunk.commit_all() };
    }

    /// Drops the values from index `from` on (they will not be published).
    fn drop_values(&mut self, from: usize) {
        let (first, second) = self.as_mut_slices();
        let (first_len, len) = (first.len(), first.len() + second.len());
        for i in from..len {
            let slot = if i < first_len {
                &mut first[i]
            } else {
                &mut second[i - first_len]
            };
            // SAFETY: the slot holds a value that is dropped once and never published.
            unsafe { ::core::ptr::drop_in_place(slot) };
        }
    }

    /// Number of slots in the chunk.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(4);
    /// assert_eq!(tx.write_chunk(3).unwrap().len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, WriteChunkUninit::len)
    }

    /// `true` for a chunk of no slots.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, _rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(4);
    /// assert!(tx.write_chunk(0).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for WriteChunk<'_, T> {
    fn drop(&mut self) {
        if self.0.is_some() {
            self.drop_values(0);
        }
    }
}

impl<T> fmt::Debug for WriteChunk<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteChunk")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// Items of a [`Consumer`] to read in place; see [`Consumer::read_chunk`]. Dropped without a
/// commit, it leaves the items in the ring.
pub struct ReadChunk<'a, T> {
    first: *mut MaybeUninit<T>,
    first_len: usize,
    second: *mut MaybeUninit<T>,
    second_len: usize,
    /// Exclusive borrow of the consumer: the items stay ours until we release them.
    consumer: &'a mut Consumer<T>,
}

// SAFETY: the chunk stands for the consumer's exclusive access to published items; it may move
// to another thread with the `&mut Consumer` (`T: Send`).
unsafe impl<T: Send> Send for ReadChunk<'_, T> {}

impl<'a, T> ReadChunk<'a, T> {
    /// The two runs of items (the second is empty unless the ring wraps).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(2);
    /// tx.push(1).unwrap();
    /// assert_eq!(rx.read_chunk(1).unwrap().as_slices().0, &[1]);
    /// ```
    pub fn as_slices(&self) -> (&[T], &[T]) {
        // SAFETY: both runs hold published items owned by the consumer we borrow.
        unsafe {
            (
                ::core::slice::from_raw_parts(self.first.cast::<T>(), self.first_len),
                ::core::slice::from_raw_parts(self.second.cast::<T>(), self.second_len),
            )
        }
    }

    /// The two runs of items, mutably.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(2);
    /// tx.push(1).unwrap();
    /// let mut chunk = rx.read_chunk(1).unwrap();
    /// chunk.as_mut_slices().0[0] = 5;
    /// assert_eq!(chunk.as_slices().0, &[5]);
    /// ```
    pub fn as_mut_slices(&mut self) -> (&mut [T], &mut [T]) {
        // SAFETY: as in `as_slices`, and `&mut self` makes the access exclusive.
        unsafe {
            (
                ::core::slice::from_raw_parts_mut(self.first.cast::<T>(), self.first_len),
                ::core::slice::from_raw_parts_mut(self.second.cast::<T>(), self.second_len),
            )
        }
    }

    fn item(&self, i: usize) -> *mut T {
        if i < self.first_len {
            // SAFETY: `i` is inside the first run.
            unsafe { self.first.add(i).cast::<T>() }
        } else {
            // SAFETY: `i - first_len` is inside the second run.
            unsafe { self.second.add(i - self.first_len).cast::<T>() }
        }
    }

    /// Drops the first `n` items and frees their slots. If an item's destructor panics, that
    /// item and those before it count as consumed; the rest stay in the ring.
    ///
    /// # Panics
    /// If `n > self.len()`, or if an item's destructor panics.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(3);
    /// tx.push_entire_slice(&[1, 2, 3]).unwrap();
    /// rx.read_chunk(2).unwrap().commit(2);
    /// assert_eq!(rx.pop(), Ok(3));
    /// ```
    pub fn commit(self, n: usize) {
        assert!(n <= self.len(), "commit: more items than the chunk has");
        if !::core::mem::needs_drop::<T>() {
            self.consumer.release(n);
            return;
        }
        /// Releases the items dropped so far, also when a destructor unwinds.
        struct Release<'c, 'a, T> {
            chunk: &'c ReadChunk<'a, T>,
            done: usize,
        }
        impl<T> Drop for Release<'_, '_, T> {
            fn drop(&mut self) {
                self.chunk.consumer.release(self.done);
            }
        }
        let mut guard = Release {
            chunk: &self,
            done: 0,
        };
        for i in 0..n {
            guard.done = i + 1;
            // SAFETY: item `i` is initialised, ours, and dropped once: its slot is released by the guard right after.
            unsafe { ::core::ptr::drop_in_place(self.item(i)) };
        }
    }

    /// Drops every item of the chunk and frees the slots.
    ///
    /// # Panics
    /// If an item's destructor panics (see [`commit`](Self::commit)).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(3);
    /// tx.push_entire_slice(&[1, 2]).unwrap();
    /// rx.read_chunk(2).unwrap().commit_all();
    /// assert!(rx.is_empty());
    /// ```
    pub fn commit_all(self) {
        let n = self.len();
        self.commit(n);
    }

    /// Number of items in the chunk.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(3);
    /// tx.push(1).unwrap();
    /// assert_eq!(rx.read_chunk(1).unwrap().len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.first_len + self.second_len
    }

    /// `true` for a chunk of no items.
    ///
    /// # Examples
    /// ```
    /// let (_tx, mut rx) = routines::lockfree::spsc::SpscQueue::<u8>::new(3);
    /// assert!(rx.read_chunk(0).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> fmt::Debug for ReadChunk<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadChunk")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<'a, T> IntoIterator for ReadChunk<'a, T> {
    type Item = T;
    type IntoIter = ReadChunkIntoIter<'a, T>;

    /// Takes the items out one by one; each is consumed (its slot freed) as it is yielded,
    /// so even a forgotten iterator has consumed what it yielded.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(3);
    /// tx.push_entire_slice(&[1, 2]).unwrap();
    /// assert_eq!(rx.read_chunk(2).unwrap().into_iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    fn into_iter(self) -> ReadChunkIntoIter<'a, T> {
        ReadChunkIntoIter {
            chunk: self,
            iterated: 0,
        }
    }
}

/// Owning iterator over a [`ReadChunk`].
pub struct ReadChunkIntoIter<'a, T> {
    chunk: ReadChunk<'a, T>,
    iterated: usize,
}

impl<T> ReadChunkIntoIter<'_, T> {
    /// How many items have been yielded (and consumed) so far.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(3);
    /// tx.push(1).unwrap();
    /// let mut it = rx.read_chunk(1).unwrap().into_iter();
    /// it.next();
    /// assert_eq!(it.iterated(), 1);
    /// ```
    pub fn iterated(&self) -> usize {
        self.iterated
    }
}

impl<T> Iterator for ReadChunkIntoIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.iterated == self.chunk.len() {
            return None;
        }
        // SAFETY: item `iterated` is initialised and ours; it is read once and its slot released right away, so it is never read or dropped again.
        let value = unsafe { self.chunk.item(self.iterated).read() };
        self.iterated += 1;
        self.chunk.consumer.release(1);
        Some(value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.chunk.len() - self.iterated;
        (left, Some(left))
    }
}

impl<T> ExactSizeIterator for ReadChunkIntoIter<'_, T> {}

impl<T> ::core::iter::FusedIterator for ReadChunkIntoIter<'_, T> {}

impl<T> fmt::Debug for ReadChunkIntoIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadChunkIntoIter")
            .field("iterated", &self.iterated)
            .field("len", &self.chunk.len())
            .finish()
    }
}

impl std::io::Write for Producer<u8> {
    /// Pushes as many bytes as fit; `WouldBlock` if none does.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let (pushed, _) = self.push_partial_slice(buf);
        if pushed.is_empty() {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        Ok(pushed.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Read for Consumer<u8> {
    /// Pops as many bytes as available; `WouldBlock` if none is.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let (popped, _) = self.pop_partial_slice(buf);
        if popped.is_empty() {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        Ok(popped.len())
    }
}
