//! The loom facade: every atomic, cell and thread primitive the library uses comes from here.
//!
//! In normal builds these are the `std` types (see `std.rs`). Built with
//! `RUSTFLAGS="--cfg routines_loom"`, they are loom's model-checked types (see `mocked.rs`),
//! so that `loom::model` explores every interleaving of the code above. The two files expose
//! the same tree; nothing else in the crate names `std::sync::atomic` or
//! `std::cell::UnsafeCell` (clippy's `disallowed-types`, configured in `clippy.toml`).
//!
//! The namespaced cfg (`routines_loom`, not `loom`) keeps dependencies that also know about
//! loom from being switched at the same time.

#[cfg(not(routines_loom))]
mod std;
#[cfg(not(routines_loom))]
pub(crate) use self::std::*;

#[cfg(routines_loom)]
mod mocked;
#[cfg(routines_loom)]
pub(crate) use self::mocked::*;

/// Declares a function that is `const` in normal builds and non-`const` under loom, whose
/// atomics and cells have no `const` constructors.
macro_rules! const_fn_unless_loom {
    ($(#[$attr:meta])* $vis:vis fn $name:ident $($rest:tt)*) => {
        #[cfg(not(routines_loom))]
        $(#[$attr])* $vis const fn $name $($rest)*
        #[cfg(routines_loom)]
        $(#[$attr])* $vis fn $name $($rest)*
    };
}
pub(crate) use const_fn_unless_loom;
