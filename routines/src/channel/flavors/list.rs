//! Unbounded flavor (`unbounded()`): the segmented queue
//! ([`crate::lockfree::SegQueue`]); a send allocates one block per 63 messages,
//! a receive never allocates. Sends never wait. While one thread receives alone, its
//! receives claim without a read-modify-write (LF-68); cloning a receiver before the first
//! receive makes the queue shared from the start.

use crate::channel::chan::{Buffer, Chan};
use crate::lockfree::SegQueue;

impl<T> Buffer<T> for SegQueue<T> {
    const BOUNDED: bool = false;

    #[inline]
    fn try_push(&self, value: T) -> Result<(), T> {
        self.push(value);
        Ok(())
    }

    #[inline]
    fn try_pop(&self) -> Option<T> {
        self.pop()
    }

    #[inline]
    fn try_pop_weak(&self) -> Option<T> {
        self.pop_claiming()
    }

    fn len(&self) -> usize {
        SegQueue::len(self)
    }

    fn capacity(&self) -> Option<usize> {
        None
    }
}

impl<T> Chan<T, SegQueue<T>> {
    /// A receiver handle was cloned, so more than one thread may receive: before any
    /// receive, this spares the queue the revocation (and its process-wide barrier) that a
    /// second receiving thread would otherwise cost (LF-68, CH-8).
    pub(crate) fn receiver_cloned(&self) {
        self.buffer().share_consumers();
    }
}
