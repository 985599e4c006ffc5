//! Lock-free LIFO stack after R. K. Treiber, "Systems Programming: Coping with Parallelism"
//! (IBM RJ 5118, 1986).
//!
//! Memory reclamation and ABA, the two classic pitfalls, are handled with **tagged indices
//! over a node arena** instead of pointers:
//! * Nodes live in an arena of segments that only grows while the stack lives (segment `k`
//!   holds `BASE << k` nodes), so a node read after another thread popped it is still valid
//!   memory: no use-after-free is possible. A popped node goes to a free list (itself a
//!   Treiber stack over the same arena) and is reused by a later push.
//! * The heads of the stack and of the free list are 64-bit words `tag << 32 | (index + 1)`;
//!   every successful CAS increments the tag, so a CAS based on a stale read of the head
//!   fails even if the same node is back on top (ABA). The tag is 32 bits: a thread would have
//!   to stall across 2^32 operations on this stack for a false match.
//! * A node's `next` is an atomic, so reading it from a node that another thread is reusing is
//!   a benign, well-defined race (the CAS that follows fails); its value is touched only by
//!   the thread that owns the node (after winning the pop CAS, or before publishing a push).
//!
//! Progress: **lock-free** (a failed CAS means another thread's succeeded). `push` allocates
//! only when the arena must grow (never in a steady state: popped nodes are reused); `pop`
//! never allocates. Memory is returned when the stack is dropped.

use ::core::fmt;
use ::core::mem::MaybeUninit;
use ::core::ptr;

use crate::core::Backoff;
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

/// Nodes in segment 0; segment `k` has `BASE << k`.
const BASE: usize = if cfg!(routines_loom) { 1 } else { 64 };
/// Enough segments for `u32::MAX - 1` nodes.
const SEGMENTS: usize = 32;
/// "No node" in a `next` field and in the index half of a head word.
const NIL: u32 = 0;

struct Node<T> {
    /// `index + 1` of the next node, or `NIL`. Atomic: it may be read by a thread whose view
    /// of the head is stale while the owner rewrites it.
    next: AtomicU32,
    /// Initialised while the node is on the stack (or being pushed/popped by its owner).
    value: UnsafeCell<MaybeUninit<T>>,
}

/// Packs a tag and a node reference (`index + 1`, or `NIL`) into a head word.
#[inline]
fn pack(tag: u32, node: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(node)
}

#[inline]
fn unpack(word: u64) -> (u32, u32) {
    ((word >> 32) as u32, word as u32)
}

/// A lock-free LIFO stack (Treiber) with arena-based reclamation; see the module docs above.
///
/// # Examples
/// ```
/// use routines::lockfree::TreiberStack;
///
/// let stack = TreiberStack::new();
/// stack.push(1);
/// stack.push(2);
/// assert_eq!(stack.pop(), Some(2));
/// assert_eq!(stack.pop(), Some(1));
/// assert!(stack.is_empty());
/// ```
pub struct TreiberStack<T> {
    /// Tagged reference to the top node.
    head: AtomicU64,
    /// Tagged reference to the first free node.
    free: AtomicU64,
    /// Nodes handed out so far (fresh ones are taken from the end).
    allocated: AtomicU32,
    /// Arena segments, installed on first use; never freed before `drop`.
    segments: [AtomicPtr<Node<T>>; SEGMENTS],
}

// SAFETY: values move between threads through the stack (`T: Send`); each is accessed only by
// the thread that owns its node (see `Node::value`).
unsafe impl<T: Send> Send for TreiberStack<T> {}
// SAFETY: as above; `&TreiberStack` only moves whole values in and out.
unsafe impl<T: Send> Sync for TreiberStack<T> {}

impl<T> TreiberStack<T> {
    /// An empty stack; allocates nothing until the first push.
    ///
    /// # Examples
    /// ```
    /// assert!(routines::lockfree::TreiberStack::<u8>::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            head: AtomicU64::new(pack(0, NIL)),
            free: AtomicU64::new(pack(0, NIL)),
            allocated: AtomicU32::new(0),
            segments: ::core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
        }
    }

    /// Segment number and offset of node `index`.
    #[inline]
    fn locate(index: usize) -> (usize, usize) {
        // Segment k starts at BASE * (2^k - 1).
        let k = (index / BASE + 1).ilog2() as usize;
        (k, index - BASE * ((1 << k) - 1))
    }

    /// The node referenced by `node` (`index + 1`), whose segment is installed.
    #[inline]
    fn node(&self, node: u32) -> &Node<T> {
        let (k, offset) = Self::locate(node as usize - 1);
        // Acquire: pairs with the Release CAS in `segment`; the segment's nodes are
        // initialised.
        let segment = self.segments[k].load(Ordering::Acquire);
        debug_assert!(!segment.is_null());
        // SAFETY: a node reference only exists after its segment was installed (`fresh` installs it before handing the index out), segments are never freed while the stack lives, and `offset` is inside segment `k`.
        unsafe { &*segment.add(offset) }
    }

    /// Installs segment `k` if needed.
    #[cold]
    fn install(&self, k: usize) {
        let len = BASE << k;
        // The arena's only allocations: one per segment, sizes doubling.
        let nodes: Box<[Node<T>]> = (0..len)
            .map(|_| Node {
                next: AtomicU32::new(NIL),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        let new = Box::into_raw(nodes).cast::<Node<T>>();
        // Release: publishes the nodes' initialisation (pairs with the Acquire in `node`).
        if self.segments[k]
            .compare_exchange(ptr::null_mut(), new, Ordering::Release, Ordering::Acquire)
            .is_err()
        {
            // SAFETY: ours, never published.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(new, len)) });
        }
    }

    /// A node that is ours alone: from the free list, or fresh from the arena.
    fn take_node(&self) -> u32 {
        if let Some(node) = Self::pop_list(&self.free, |n| self.node(n)) {
            return node;
        }
        let index = self.allocated.fetch_add(1, Ordering::Relaxed);
        assert!(
            index < u32::MAX - 1,
            "TreiberStack: more than 2^32 - 2 nodes"
        );
        let (k, _) = Self::locate(index as usize);
        // Acquire: pairs with the Release CAS in `install`.
        if self.segments[k].load(Ordering::Acquire).is_null() {
            self.install(k);
        }
        index + 1
    }

    /// Pushes `node` (owned by the caller) onto the list at `head`.
    fn push_list<'a>(head: &AtomicU64, node: u32, get: impl Fn(u32) -> &'a Node<T>)
    where
        T: 'a,
    {
        let backoff = Backoff::new();
        let mut current = head.load(Ordering::Relaxed);
        loop {
            let (tag, top) = unpack(current);
            get(node).next.store(top, Ordering::Relaxed);
            // Release: publishes the node's `next` and value to the popper that reads this
            // head (pairs with the Acquire in `pop_list`).
            match head.compare_exchange_weak(
                current,
                pack(tag.wrapping_add(1), node),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => {
                    current = now;
                    backoff.spin();
                }
            }
        }
    }

    /// Pops a node from the list at `head`; the caller then owns it.
    fn pop_list<'a>(head: &AtomicU64, get: impl Fn(u32) -> &'a Node<T>) -> Option<u32>
    where
        T: 'a,
    {
        let backoff = Backoff::new();
        // Acquire: pairs with the Release CAS in `push_list`.
        let mut current = head.load(Ordering::Acquire);
        loop {
            let (tag, top) = unpack(current);
            if top == NIL {
                return None;
            }
            // May be stale if `top` was popped meanwhile; then the CAS below fails.
            let next = get(top).next.load(Ordering::Relaxed);
            // Acquire (success): we own `top` and see what its pusher wrote.
            match head.compare_exchange_weak(
                current,
                pack(tag.wrapping_add(1), next),
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(top),
                Err(now) => {
                    current = now;
                    backoff.spin();
                }
            }
        }
    }

    /// Pushes `value` on top.
    ///
    /// # Examples
    /// ```
    /// let s = routines::lockfree::TreiberStack::new();
    /// s.push("a");
    /// assert_eq!(s.pop(), Some("a"));
    /// ```
    pub fn push(&self, value: T) {
        let node = self.take_node();
        let cell = &self.node(node).value;
        // SAFETY: the node is ours (fresh or popped from the free list) until published.
        cell.with_mut(|p| unsafe { (*p).write(value) });
        Self::push_list(&self.head, node, |n| self.node(n));
    }

    /// Pops the top value; `None` if the stack is empty.
    ///
    /// # Examples
    /// ```
    /// let s = routines::lockfree::TreiberStack::<u8>::new();
    /// assert_eq!(s.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<T> {
        let node = Self::pop_list(&self.head, |n| self.node(n))?;
        let cell = &self.node(node).value;
        // SAFETY: winning the pop CAS made the node ours; its value was initialised by the push that published it (Acquire/Release on the head).
        let value = cell.with(|p| unsafe { (*p).assume_init_read() });
        Self::push_list(&self.free, node, |n| self.node(n));
        Some(value)
    }

    /// `true` if the stack is empty (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let s = routines::lockfree::TreiberStack::new();
    /// s.push(1);
    /// assert!(!s.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        unpack(self.head.load(Ordering::Acquire)).1 == NIL
    }
}

impl<T> Default for TreiberStack<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for TreiberStack<T> {
    fn drop(&mut self) {
        while self.pop().is_some() {}
        for (k, segment) in self.segments.iter().enumerate() {
            let p = segment.load(Ordering::Relaxed);
            if !p.is_null() {
                // SAFETY: installed by `install` with exactly `BASE << k` nodes; all values were popped above, and no other thread can reach the stack (`&mut self`).
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(p, BASE << k)) });
            }
        }
    }
}

impl<T> fmt::Debug for TreiberStack<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreiberStack")
            .field("is_empty", &self.is_empty())
            .finish_non_exhaustive()
    }
}
