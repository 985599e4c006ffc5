//! The channel flavors. `array` and `list` implement the core's `Buffer` over one of the
//! lock-free queues (the blocking protocol is shared, `channel/chan.rs`); `timer` holds the
//! receiver-only `at`/`tick` schedules; `zero` is the rendezvous flavor.

pub(crate) mod array;
pub(crate) mod list;
pub(crate) mod timer;
pub(crate) mod zero;
