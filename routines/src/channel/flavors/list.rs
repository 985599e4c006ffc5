//! Unbounded flavor (`unbounded()`): the segmented queue
//! ([`crate::lockfree::SegQueue`]); a send allocates one block per 63 messages,
//! a receive never allocates. Sends never wait. While one thread receives alone, its
//! receives claim without a read-modify-write (LF-68); cloning a receiver before the first
//! receive makes the queue shared from the start.

use crate::channel::chan::Buffer;
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

    fn receivers_may_be_many(&self) {
        // Before any receive, this spares the queue the revocation (and its process-wide
        // barrier) that a second receiving thread would otherwise cost (LF-68, CH-8).
        self.share_consumers();
    }
}
