//! The facade in normal builds: thin wrappers over `std`.
#![allow(
    clippy::disallowed_types,
    reason = "the facade is the one place that names the std atomics and cells"
)]
#![allow(
    unused_imports,
    dead_code,
    reason = "the facade exposes the whole tree; not every module uses every item yet"
)]

pub(crate) mod sync {
    pub(crate) use std::sync::{Arc, Condvar, Mutex};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{compiler_fence, fence, Ordering};

        /// Newtypes over the std atomics: the rest of the crate names these, never the std
        /// types (which clippy's `disallowed-types` rejects outside this file). Methods come
        /// through `Deref`, so the API is exactly std's (and loom's, for what we use).
        macro_rules! atomic_newtype {
            ($($name:ident($inner:ty, $value:ty);)*) => {$(
                #[derive(Debug, Default)]
                #[repr(transparent)]
                pub(crate) struct $name($inner);

                impl $name {
                    #[inline]
                    pub(crate) const fn new(value: $value) -> Self {
                        Self(<$inner>::new(value))
                    }
                }

                impl ::core::ops::Deref for $name {
                    type Target = $inner;

                    #[inline]
                    fn deref(&self) -> &$inner {
                        &self.0
                    }
                }

                impl ::core::ops::DerefMut for $name {
                    #[inline]
                    fn deref_mut(&mut self) -> &mut $inner {
                        &mut self.0
                    }
                }
            )*};
        }

        /// Newtype over `std::sync::atomic::AtomicPtr`, as the integer newtypes above.
        #[derive(Debug, Default)]
        #[repr(transparent)]
        pub(crate) struct AtomicPtr<T>(std::sync::atomic::AtomicPtr<T>);

        impl<T> AtomicPtr<T> {
            #[inline]
            pub(crate) const fn new(value: *mut T) -> Self {
                Self(std::sync::atomic::AtomicPtr::new(value))
            }
        }

        impl<T> ::core::ops::Deref for AtomicPtr<T> {
            type Target = std::sync::atomic::AtomicPtr<T>;

            #[inline]
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        atomic_newtype! {
            AtomicBool(std::sync::atomic::AtomicBool, bool);
            AtomicU32(std::sync::atomic::AtomicU32, u32);
            AtomicU64(std::sync::atomic::AtomicU64, u64);
            AtomicUsize(std::sync::atomic::AtomicUsize, usize);
        }
    }
}

pub(crate) mod cell {
    /// `std::cell::UnsafeCell` with loom's closure-based access API.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        #[inline]
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        #[inline]
        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Runs `f` with a shared raw pointer to the contents.
        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a unique raw pointer to the contents.
        #[inline]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }

        /// Exclusive access through `&mut self`; needs no synchronisation.
        #[inline]
        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut()
        }
    }
}

pub(crate) mod thread {
    pub(crate) use std::thread::{current, park, spawn, yield_now, Thread, ThreadId};

    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A number naming the calling thread: never 0, never given to another thread of the
    /// process, even after this one exits (unlike a thread-local's address). The first call
    /// on a thread takes the next number from a process-wide counter; later calls are one
    /// thread-local load. Cheaper than `current().id()`, which clones the thread's handle.
    #[inline]
    pub(crate) fn token() -> usize {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        thread_local! {
            static TOKEN: Cell<usize> = const { Cell::new(0) };
        }
        TOKEN.with(|token| match token.get() {
            0 => {
                // Relaxed: only uniqueness matters, which the RMW gives.
                let fresh = NEXT.fetch_add(1, Ordering::Relaxed);
                token.set(fresh);
                fresh
            }
            known => known,
        })
    }
}

pub(crate) mod hint {
    pub(crate) use std::hint::spin_loop;
}
