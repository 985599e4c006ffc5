//! Bounded flavor (`bounded(n)`, `n >= 1`): the Vyukov bounded queue
//! ([`crate::lockfree::MpmcQueue`]), allocated once at construction; sends and
//! receives allocate nothing.

use crate::channel::chan::Buffer;
use crate::lockfree::{MpmcQueue, Storage};

/// Heap slots for `bounded(n)`, inline slots for a `static` channel (`StaticChannel`).
impl<T, S: Storage<T> + ?Sized> Buffer<T> for MpmcQueue<T, S> {
    const BOUNDED: bool = true;

    #[inline]
    fn try_push(&self, value: T) -> Result<(), T> {
        self.push(value)
    }

    #[inline]
    fn try_pop(&self) -> Option<T> {
        self.pop()
    }

    #[inline]
    fn try_push_weak(&self, value: T) -> Result<(), T> {
        self.push_weak(value)
    }

    #[inline]
    fn try_pop_weak(&self) -> Option<T> {
        self.pop_weak()
    }

    fn len(&self) -> usize {
        MpmcQueue::len(self)
    }

    fn capacity(&self) -> Option<usize> {
        Some(MpmcQueue::capacity(self))
    }
}
