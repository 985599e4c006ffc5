//! `all`, `race`, `any`, `all_settled`: block until enough inputs have settled.
//!
//! Each input gets a continuation that reports `(index, outcome)` to a shared collector and
//! wakes the waiting thread through the collector's [`WaitQueue`]. The waiting thread takes
//! reports in the order they settled and stops as soon as it can decide (the first failure
//! for `all`, the first settlement for `race`, the first success for `any`, the last
//! settlement for `all_settled`); inputs still pending then keep their continuation, which
//! reports into the collector (kept alive by its `Arc`) and is dropped with it. Nothing
//! polls or sleeps.
//!
//! Allocation: the collector (one `Arc`, its queue sized for every input) and one box per
//! input (its continuation).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::error::{AggregateError, FutureError, RaceError, Settled};
use super::promise::{Future, Outcome};
use crate::core::{deadline_after, spin_until, WaitQueue};
use crate::loom::sync::Arc;
use crate::sync::Mutex;

/// Where the inputs' continuations report.
struct Collector<T, E> {
    /// `(input index, outcome)` in settlement order.
    reports: Mutex<VecDeque<(usize, Outcome<T, E>)>>,
    /// The combinator's thread parks here until a report arrives.
    arrived: WaitQueue,
}

/// The inputs being watched: reports arrive through [`Watch::next`].
struct Watch<T, E> {
    collector: Arc<Collector<T, E>>,
    /// Number of inputs.
    len: usize,
}

impl<T: Send + 'static, E: Send + 'static> Watch<T, E> {
    fn new(futures: impl IntoIterator<Item = Future<T, E>>) -> Self {
        let futures = futures.into_iter();
        let collector = Arc::new(Collector {
            reports: Mutex::new(VecDeque::with_capacity(futures.size_hint().0)),
            arrived: WaitQueue::new(),
        });
        let mut len = 0;
        for (index, future) in futures.enumerate() {
            len += 1;
            let collector = Arc::clone(&collector);
            future.on_settle(move |outcome| {
                collector.reports.lock().push_back((index, outcome));
                collector.arrived.notify_one();
            });
        }
        Self { collector, len }
    }

    /// The next report in settlement order; `None` if `deadline` passed first.
    fn next(&self, deadline: Option<Instant>) -> Option<(usize, Outcome<T, E>)> {
        let c = &self.collector;
        let pop = || c.reports.lock().pop_front(); // the guard ends with the call
        let mut report = pop();
        if report.is_none() && deadline.is_none_or(|d| Instant::now() < d) {
            // A bounded spin before parking, as in `Future::wait`.
            spin_until(|| {
                report = pop();
                report.is_some()
            });
        }
        report.or_else(|| c.arrived.wait_until(deadline, pop))
    }

    /// Feeds reports to `step` in settlement order until it returns `Some` (decided early)
    /// or every input has reported (`Some(None)`); `None` if `deadline` passed first.
    fn drive<R>(
        &self,
        deadline: Option<Instant>,
        mut step: impl FnMut(usize, Outcome<T, E>) -> Option<R>,
    ) -> Option<Option<R>> {
        for _ in 0..self.len {
            let (index, outcome) = self.next(deadline)?;
            if let Some(decided) = step(index, outcome) {
                return Some(Some(decided));
            }
        }
        Some(None)
    }
}

/// One slot per input, filled in by index.
fn slots<X>(len: usize) -> Vec<Option<X>> {
    (0..len).map(|_| None).collect()
}

/// The filled slots in input order.
fn in_order<X>(slots: Vec<Option<X>>) -> Vec<X> {
    slots
        .into_iter()
        .map(|x| x.expect("every input reported"))
        .collect()
}

/// Waits for every input to fulfil; their values in input order. **Fail-fast**: the first
/// failure (in time) is returned at once, without waiting for inputs still pending. An empty
/// input gives `Ok(vec![])` at once.
///
/// # Errors
/// The first failure to occur.
///
/// # Examples
/// ```
/// use routines::future::{all, promise, Future};
/// let (p, pending) = promise::<u8, &str>();
/// let out = all(vec![Future::ready(1), pending, Future::failed("x")]);
/// assert_eq!(out.unwrap_err().rejected(), Some("x")); // does not wait for `pending`
/// # drop(p);
/// ```
pub fn all<T, E, I>(futures: I) -> Result<Vec<T>, FutureError<E>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    all_until(futures, None).expect("no deadline")
}

/// [`all`], giving up after `timeout` (`None`: the time ran out; `Duration::MAX`: forever).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let (_p, f) = routines::future::promise::<u8, ()>();
/// assert!(routines::future::all_timeout(vec![f], Duration::from_millis(1)).is_none());
/// ```
pub fn all_timeout<T, E, I>(futures: I, timeout: Duration) -> Option<Result<Vec<T>, FutureError<E>>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    all_until(futures, deadline_after(timeout))
}

fn all_until<T, E, I>(
    futures: I,
    deadline: Option<Instant>,
) -> Option<Result<Vec<T>, FutureError<E>>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    let watch = Watch::new(futures);
    let mut values = slots(watch.len);
    let first_failure = watch.drive(deadline, |index, outcome| match outcome {
        Ok(value) => {
            values[index] = Some(value);
            None
        }
        Err(e) => Some(e),
    })?;
    Some(match first_failure {
        Some(e) => Err(e),
        None => Ok(in_order(values)),
    })
}

/// The first input to settle, fulfilled or failed. An empty input is an immediate
/// [`RaceError::EmptyRace`] (JavaScript's `Promise.race([])` never settles instead).
///
/// # Errors
/// [`RaceError::Failed`] if the first to settle failed; [`RaceError::EmptyRace`].
///
/// # Examples
/// ```
/// use routines::future::{promise, race, Future};
/// let (_slow, pending) = promise::<u8, ()>();
/// assert_eq!(race(vec![pending, Future::ready(2)]).unwrap(), 2);
/// ```
pub fn race<T, E, I>(futures: I) -> Result<T, RaceError<E>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    race_until(futures, None).expect("no deadline")
}

/// [`race`], giving up after `timeout` (`None`: the time ran out).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let (_p, f) = routines::future::promise::<u8, ()>();
/// assert!(routines::future::race_timeout(vec![f], Duration::from_millis(1)).is_none());
/// ```
pub fn race_timeout<T, E, I>(futures: I, timeout: Duration) -> Option<Result<T, RaceError<E>>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    race_until(futures, deadline_after(timeout))
}

fn race_until<T, E, I>(futures: I, deadline: Option<Instant>) -> Option<Result<T, RaceError<E>>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    let watch = Watch::new(futures);
    if watch.len == 0 {
        return Some(Err(RaceError::EmptyRace));
    }
    let (_, outcome) = watch.next(deadline)?;
    Some(outcome.map_err(RaceError::Failed))
}

/// The first input to fulfil. If every input fails, an [`AggregateError`] with every error
/// in input order; an empty input gives `Err(AggregateError(vec![]))` at once.
///
/// # Errors
/// [`AggregateError`] when no input fulfilled.
///
/// # Examples
/// ```
/// use routines::future::{any, Future};
/// assert_eq!(any(vec![Future::failed("a"), Future::ready(7)]).unwrap(), 7);
/// let err = any(vec![Future::<u8, _>::failed("a"), Future::failed("b")]).unwrap_err();
/// assert_eq!(err.0.len(), 2);
/// ```
pub fn any<T, E, I>(futures: I) -> Result<T, AggregateError<E>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    any_until(futures, None).expect("no deadline")
}

/// [`any`], giving up after `timeout` (`None`: the time ran out).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let (_p, f) = routines::future::promise::<u8, ()>();
/// assert!(routines::future::any_timeout(vec![f], Duration::from_millis(1)).is_none());
/// ```
pub fn any_timeout<T, E, I>(futures: I, timeout: Duration) -> Option<Result<T, AggregateError<E>>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    any_until(futures, deadline_after(timeout))
}

fn any_until<T, E, I>(futures: I, deadline: Option<Instant>) -> Option<Result<T, AggregateError<E>>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    let watch = Watch::new(futures);
    let mut errors = slots(watch.len);
    let first_success = watch.drive(deadline, |index, outcome| match outcome {
        Ok(value) => Some(value),
        Err(e) => {
            errors[index] = Some(e);
            None
        }
    })?;
    Some(match first_success {
        Some(value) => Ok(value),
        None => Err(AggregateError(in_order(errors))),
    })
}

/// Waits for every input to settle; never fails. Outcomes in input order; an empty input
/// gives `vec![]` at once.
///
/// # Examples
/// ```
/// use routines::future::{all_settled, Future};
/// let out = all_settled(vec![Future::<u8, &str>::ready(1), Future::failed("e")]);
/// assert_eq!(out.len(), 2);
/// ```
pub fn all_settled<T, E, I>(futures: I) -> Vec<Settled<T, E>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    all_settled_until(futures, None).expect("no deadline")
}

/// [`all_settled`], giving up after `timeout` (`None`: the time ran out).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let (_p, f) = routines::future::promise::<u8, ()>();
/// assert!(routines::future::all_settled_timeout(vec![f], Duration::from_millis(1)).is_none());
/// ```
pub fn all_settled_timeout<T, E, I>(futures: I, timeout: Duration) -> Option<Vec<Settled<T, E>>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    all_settled_until(futures, deadline_after(timeout))
}

fn all_settled_until<T, E, I>(futures: I, deadline: Option<Instant>) -> Option<Vec<Settled<T, E>>>
where
    T: Send + 'static,
    E: Send + 'static,
    I: IntoIterator<Item = Future<T, E>>,
{
    let watch = Watch::new(futures);
    let mut outcomes = slots(watch.len);
    watch.drive(deadline, |index, outcome| {
        outcomes[index] = Some(match outcome {
            Ok(value) => Settled::Fulfilled(value),
            Err(e) => Settled::Rejected(e),
        });
        None::<()>
    })?;
    Some(in_order(outcomes))
}
