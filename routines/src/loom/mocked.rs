//! The facade under `cfg(routines_loom)`: loom's model-checked types.
#![allow(
    unused_imports,
    dead_code,
    reason = "the facade exposes the whole tree; not every module uses every item yet"
)]

pub(crate) mod sync {
    pub(crate) use loom::sync::{Arc, Condvar, Mutex};

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{
            fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
        };
        /// Not modelled by loom; a deque's owner always fences under loom (see `deque.rs`).
        pub(crate) use std::sync::atomic::compiler_fence;
    }
}

pub(crate) mod cell {
    /// loom's `UnsafeCell`, which checks every access for data races.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(loom::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::cell::UnsafeCell::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }

        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            self.0.with(f)
        }

        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            self.0.with_mut(f)
        }

        pub(crate) fn get_mut(&mut self) -> &mut T {
            // SAFETY: `&mut self` proves no other access to the cell exists.
            self.0.with_mut(|p| unsafe { &mut *p })
        }
    }
}

pub(crate) mod thread {
    pub(crate) use loom::thread::{current, park, spawn, yield_now, Thread, ThreadId};

    use std::cell::Cell;

    /// As in `std.rs`: a number naming the calling (model) thread, never 0 and never reused.
    /// The counter is not modelled: handing out names is not part of any protocol under test.
    pub(crate) fn token() -> usize {
        #[allow(
            clippy::disallowed_types,
            reason = "an unmodelled counter: loom atomics cannot be statics"
        )]
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        loom::thread_local! {
            static TOKEN: Cell<usize> = Cell::new(0);
        }
        TOKEN.with(|token| match token.get() {
            0 => {
                let fresh = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                token.set(fresh);
                fresh
            }
            known => known,
        })
    }
}

pub(crate) mod hint {
    pub(crate) use loom::hint::spin_loop;
}
