//! Channels with crossbeam-channel's API: multi-producer multi-consumer, blocking on OS
//! threads.
//!
//! [`bounded`] (capacity >= 1 over the Vyukov bounded queue; capacity 0 a rendezvous
//! channel) and [`unbounded`] (over the segmented queue), with `Sender`/`Receiver` (both
//! `Clone`), the send/recv method families (`x`, `try_x`, `x_timeout`, `x_deadline`),
//! crossbeam's error types, disconnection when all senders or all receivers are gone, and an
//! explicit [`Sender::close`] / [`Receiver::close`]; the receiver-only [`after`], [`at`],
//! [`tick`] and [`never()`]; [`oneshot()`]; [`Select`] and the `select!` / `select_biased!`
//! macros. Named channel types are stamped out by `routines::channel!` over the same handles.
//!
//! Blocking follows the library's one parking protocol: a bounded spin, then a park on a
//! [`WaitQueue`](crate::core::WaitQueue) whose re-check retries the operation, so no wake-up
//! is lost (see `chan.rs`).

mod chan;
mod context;
mod error;
mod flavors;
mod handles;
mod oneshot;
mod pairing;
mod select;

pub use self::error::{
    ReadyTimeoutError, RecvError, RecvTimeoutError, SelectTimeoutError, SendError,
    SendTimeoutError, TryReadyError, TryRecvError, TrySelectError, TrySendError,
};
pub use self::handles::{
    after, at, bounded, never, tick, unbounded, IntoIter, Iter, Receiver, Sender, StaticChannel,
    TryIter,
};
pub use self::oneshot::{oneshot, OneshotReceiver, OneshotSender};
pub use self::select::{Select, SelectedOperation};

/// crossbeam-channel's hidden macro behind its `select!`, called by name in some code
/// written against crossbeam: `select!` with the bias of the `_IS_BIASED` constant in
/// scope. Not public API.
#[doc(hidden)]
pub use routines_macros::crossbeam_channel_internal;

/// Support for `select!`. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use super::context::Context;
    pub use super::select::{run, Kind, Mode, OpSlot, Operation, RecvOp, SendOp, Timeout};

    /// `default(timeout)`: gives up `timeout` from now (`Duration::MAX`: never).
    pub fn timeout_after(timeout: std::time::Duration) -> Timeout {
        Timeout::At(crate::core::deadline_after(timeout))
    }

    /// Ends an operation (and its borrow of the handle) before the arm's body runs.
    pub fn release<O>(op: O) {
        drop(op);
    }

    /// An operation as the trait object `run` takes.
    pub fn op<'a, O: Operation<'a> + 'a>(op: &mut O) -> &mut (dyn Operation<'a> + 'a) {
        op
    }
}
