//! Channels with crossbeam-channel's API: multi-producer multi-consumer, blocking on OS
//! threads.
//!
//! Built so far: [`bounded`] (capacity >= 1 over the Vyukov bounded queue; capacity 0 a
//! rendezvous channel) and [`unbounded`] (over the segmented queue), with `Sender`/`Receiver` (both `Clone`), the send/recv method
//! families (`x`, `try_x`, `x_timeout`, `x_deadline`), crossbeam's error types, disconnection
//! when all senders or all receivers are gone, and an explicit [`Sender::close`] /
//! [`Receiver::close`]; the receiver-only [`after`], [`at`], [`tick`] and [`never()`]; and
//! [`oneshot`]. Not yet: `Select` / `select!`, and the `channel!` macro.
//!
//! Blocking follows the library's one parking protocol: a bounded spin, then a park on a
//! [`WaitQueue`](crate::core::WaitQueue) whose re-check retries the operation, so no wake-up
//! is lost (see `chan.rs`).

mod chan;
mod error;
mod flavors;
mod handles;
mod oneshot;

pub use self::error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
pub use self::handles::{
    after, at, bounded, never, tick, unbounded, IntoIter, Iter, Receiver, Sender, TryIter,
};
pub use self::oneshot::{oneshot, OneshotReceiver, OneshotSender};
