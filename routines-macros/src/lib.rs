//! Procedural macros for `routines`, re-exported by it: `select!` / `select_biased!` (over
//! `routines::channel`). `channel!` and `genserver!` arrive with their issues.
//!
//! Layout per macro: `parse.rs` (syntax into a model that keeps spans), `validate.rs`
//! (collects every error), `expand.rs` (the generated code).

use proc_macro::TokenStream;

mod channel;
mod select;

/// Declares named channel types from short declarations (grammar and rules:
/// `spec/macros.md`).
///
/// ```
/// # #[derive(Debug)] pub struct Job;
/// routines::channel! {
///     /// Work for the pool.
///     pub Jobs: Job, capacity = 256;
/// }
/// let (tx, rx) = Jobs::new(); // JobsSender, JobsReceiver
/// assert_eq!(Jobs::CAPACITY, Some(256));
/// tx.send(Job).unwrap();
/// rx.recv().unwrap();
///
/// routines::channel! {
///     #[derive(Debug, PartialEq)]
///     pub enum Event, capacity = 64 { Click { x: i32, y: i32 }, Key(char), Quit }
/// }
/// let (tx, rx) = Event::channel();
/// tx.click(3, 4).unwrap(); // one typed method per variant
/// assert_eq!(rx.recv(), Ok(Event::Click { x: 3, y: 4 }));
///
/// routines::channel! {
///     pub static LOG: String, capacity = 1024; // static storage, no heap allocation
/// }
/// LOG.sender().send("started".into()).unwrap();
/// assert_eq!(LOG.receiver().recv().as_deref(), Ok("started"));
/// ```
///
/// `capacity` is a `usize` const expression, `unbounded` or `rendezvous`. The generated
/// `XSender` / `XReceiver` dereference to `routines::channel::Sender<T>` / `Receiver<T>`: the
/// same methods, usable in `select!` and `Select`, no overhead.
#[proc_macro]
pub fn channel(input: TokenStream) -> TokenStream {
    channel::entry(input.into()).into()
}

/// Waits on several channel operations and runs the arm of the one that completes, with
/// crossbeam-channel's syntax: `recv(r) -> res => body`, `send(s, msg) -> res => body`,
/// `default => body` (give up at once), `default(timeout) => body`.
///
/// When several operations can complete, one is chosen at random. A `recv` arm's `res` is
/// `Result<T, RecvError>`, a `send` arm's `Result<(), SendError<T>>`. Handle expressions are
/// evaluated once, before selecting; a message expression only if its send is selected.
/// Allocates nothing. Rules: `spec/channel.md` SEL-1..7.
///
/// ```
/// use routines::channel::{after, unbounded};
/// use std::time::Duration;
///
/// let (tx, rx) = unbounded::<i32>();
/// tx.send(1).unwrap();
/// routines::select! {
///     recv(rx) -> v => assert_eq!(v, Ok(1)),
///     recv(after(Duration::from_secs(1))) -> _ => panic!("timed out"),
/// }
/// let got = routines::select! {
///     recv(rx) -> v => v.ok(),
///     default(Duration::from_millis(1)) => None,
/// };
/// assert_eq!(got, None);
/// ```
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::entry_with_bias(input.into(), quote::quote!(false)).into()
}

/// [`select!`](macro@select) that prefers the arms in the order they are written when
/// several can complete.
///
/// ```
/// use routines::channel::unbounded;
/// let (t1, r1) = unbounded();
/// let (t2, r2) = unbounded();
/// t1.send(1).unwrap();
/// t2.send(2).unwrap();
/// routines::select_biased! {
///     recv(r1) -> v => assert_eq!(v, Ok(1)),
///     recv(r2) -> _ => unreachable!("r1 comes first"),
/// }
/// ```
#[proc_macro]
pub fn select_biased(input: TokenStream) -> TokenStream {
    select::entry_with_bias(input.into(), quote::quote!(true)).into()
}

/// `select!` whose bias is the constant `_IS_BIASED` in scope at the call site: the hidden
/// macro crossbeam-channel's own `select!` expands to, which some code (crossbeam's test
/// suite among it) calls by name. Not public API.
#[doc(hidden)]
#[proc_macro]
pub fn crossbeam_channel_internal(input: TokenStream) -> TokenStream {
    select::entry_with_bias(input.into(), quote::quote!(_IS_BIASED)).into()
}
