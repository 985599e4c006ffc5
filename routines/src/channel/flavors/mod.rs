//! The buffers under the channel flavors. Each implements the core's `Buffer` over one of
//! the lock-free queues; the blocking protocol is shared (`channel/chan.rs`).

pub(crate) mod array;
pub(crate) mod list;
