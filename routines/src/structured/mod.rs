//! Structured concurrency: cancellation tokens, scopes and task groups.
//!
//! A [`CancelToken`] is cancelled once and for good — by `cancel()`, by its parent, or by
//! its deadline — and tells everyone who asks or waits: `is_cancelled`, `wait`, `sleep`,
//! `on_cancel` callbacks, a [`receiver`](CancelToken::receiver) for `select!`, and
//! [`wait_future`](CancelToken::wait_future) for futures.
//!
//! ```
//! use std::time::Duration;
//! use routines::structured::{CancelReason, CancelToken};
//! let root = CancelToken::new();
//! let request = root.with_timeout(Duration::from_millis(5));
//! assert_eq!(request.wait(), CancelReason::DeadlineExceeded);
//! assert!(!root.is_cancelled());
//! ```
//!
//! Rules: `spec/structured.md`.

mod cancel;
mod deadline;
mod group;
mod scope;
mod throttle;
mod wait;

pub use self::cancel::{CancelReason, CancelToken, DropGuard, Registration};
pub use self::group::TaskGroup;
pub use self::scope::{
    scope, scope_in, Failure, Scope, ScopeBuilder, TaskContext, TaskFailure, TaskOutput,
};
