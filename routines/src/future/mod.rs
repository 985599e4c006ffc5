//! Promises and futures for blocking code: one value or error, settled once, waited for by
//! parking on the library's wait queue (never by polling with sleeps), plus the
//! combinators `all`, `race`, `any` and `all_settled`.
//!
//! These are not `std::future::Future`s: there is no async runtime here. A [`Future`] is
//! the receiving end of a [`Promise`]; a thread waits on it with [`Future::wait`] (or
//! `wait_timeout` / `wait_deadline`, which do not consume it), or chains work onto it with
//! [`Future::map`] / [`Future::and_then`], which run on the thread that settles it.
//!
//! ```
//! use routines::future::{all, spawn};
//! let parts: Vec<_> = (1..=4_u64).map(|i| spawn(move || i * i)).collect();
//! assert_eq!(all(parts).unwrap(), vec![1, 4, 9, 16]);
//! ```
//!
//! Rules: `spec/future.md`.

mod combinators;
mod error;
mod promise;
mod spawn;

pub use self::combinators::{
    all, all_settled, all_settled_timeout, all_timeout, any, any_timeout, race, race_timeout,
};
pub use self::error::{AggregateError, FutureError, Panic, RaceError, Settled};
pub use self::promise::{promise, Future, Promise, SharedFuture};
pub use self::spawn::spawn;
