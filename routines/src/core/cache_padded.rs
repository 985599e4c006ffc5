//! `CachePadded<T>`: keeps a value on a cache line (or line pair) of its own.

use ::core::fmt;
use ::core::ops::{Deref, DerefMut};

/// Pads and aligns a value to the length of a cache line, so that two values written by
/// different threads never share one (false sharing).
///
/// The alignment is 128 bytes on `x86_64` and `aarch64`: Intel's spatial prefetcher pulls
/// cache lines in pairs, and Apple's M-series cores have 128-byte lines. It is 64 bytes
/// elsewhere.
///
/// # Examples
/// ```
/// use routines::core::CachePadded;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let head = CachePadded::new(AtomicUsize::new(0));
/// head.fetch_add(1, Ordering::Relaxed);
/// assert_eq!(head.load(Ordering::Relaxed), 1);
/// assert!(std::mem::align_of::<CachePadded<u8>>() >= 64);
/// ```
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), repr(align(128)))]
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    repr(align(64))
)]
#[derive(Clone, Copy, Default, Hash, PartialEq, Eq)]
pub struct CachePadded<T> {
    value: T,
}

impl<T> CachePadded<T> {
    /// Pads `value`.
    ///
    /// # Examples
    /// ```
    /// let padded = routines::core::CachePadded::new(7);
    /// assert_eq!(*padded, 7);
    /// ```
    pub const fn new(value: T) -> Self {
        Self { value }
    }

    /// Returns the padded value.
    ///
    /// # Examples
    /// ```
    /// let padded = routines::core::CachePadded::new(7);
    /// assert_eq!(padded.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for CachePadded<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for CachePadded<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for CachePadded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachePadded")
            .field("value", &self.value)
            .finish()
    }
}

impl<T> From<T> for CachePadded<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}
