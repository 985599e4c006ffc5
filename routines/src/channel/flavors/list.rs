//! Unbounded flavor (`unbounded()`): the segmented queue
//! ([`crate::lockfree::SegQueue`]); a send allocates one block per 63 messages,
//! a receive never allocates. Sends never wait.

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

    fn len(&self) -> usize {
        SegQueue::len(self)
    }

    fn capacity(&self) -> Option<usize> {
        None
    }
}
