//! Errors of futures and their combinators, and [`Panic`], a caught panic's payload.

use ::core::any::Any;
use ::core::fmt;

/// A caught panic: the payload `std::panic::catch_unwind` returned, kept whole so that it
/// can be re-raised with [`resume`](Panic::resume) exactly as it was thrown.
///
/// A shared reference gives access to the panic's message only (a `&str` or `String`
/// payload); the payload itself is reached by value ([`into_payload`](Panic::into_payload),
/// [`resume`](Panic::resume)). That is what makes `Panic` `Sync` although a payload need not
/// be.
///
/// # Examples
/// ```
/// use routines::future::Panic;
/// let caught = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
/// let panic = Panic::new(caught);
/// assert_eq!(panic.message(), Some("boom"));
/// ```
pub struct Panic {
    /// Only ever moved out (by value): never borrowed through `&Panic` (see the type docs).
    payload: Box<dyn Any + Send + 'static>,
    /// The payload's text, if it was a `&'static str` or a `String`.
    message: Option<String>,
}

// SAFETY: a `&Panic` reaches only `message` (a `String`, `Sync`); the payload is touched only
// through an owned `Panic`, so it is never accessed from two threads at once.
unsafe impl Sync for Panic {}

impl Panic {
    /// Wraps a payload caught by `std::panic::catch_unwind` (or given to `resume_unwind`).
    ///
    /// # Examples
    /// ```
    /// let p = routines::future::Panic::new(Box::new(7_u8));
    /// assert_eq!(p.message(), None);
    /// ```
    pub fn new(payload: Box<dyn Any + Send + 'static>) -> Self {
        let message = payload
            .downcast_ref::<&'static str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        Self { payload, message }
    }

    /// The panic's message, if its payload was a string (as `panic!("...")` makes it).
    ///
    /// # Examples
    /// ```
    /// let p = routines::future::Panic::new(Box::new(String::from("oops")));
    /// assert_eq!(p.message(), Some("oops"));
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The original payload.
    ///
    /// # Examples
    /// ```
    /// let p = routines::future::Panic::new(Box::new(7_u8));
    /// assert_eq!(p.into_payload().downcast_ref::<u8>(), Some(&7));
    /// ```
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }

    /// Re-raises the panic with its original payload (`std::panic::resume_unwind`).
    ///
    /// # Examples
    /// ```
    /// let p = routines::future::Panic::new(Box::new("again"));
    /// let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.resume()));
    /// assert_eq!(caught.unwrap_err().downcast_ref::<&str>(), Some(&"again"));
    /// ```
    pub fn resume(self) -> ! {
        std::panic::resume_unwind(self.payload)
    }
}

/// A copy carries the message (as a `String` payload), not the original payload, which
/// cannot be cloned. Needed by [`SharedFuture`](super::SharedFuture), whose waiters each
/// get their own copy of the outcome.
impl Clone for Panic {
    fn clone(&self) -> Self {
        let text = self
            .message
            .clone()
            .unwrap_or_else(|| String::from("<non-string panic payload>"));
        Self {
            payload: Box::new(text.clone()),
            message: Some(text),
        }
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "panicked: {m}"),
            None => f.write_str("panicked with a non-string payload"),
        }
    }
}

impl std::error::Error for Panic {}

/// Why a future did not fulfil.
///
/// # Examples
/// ```
/// use routines::future::{promise, FutureError};
/// let (p, f) = promise::<u8, &str>();
/// p.reject("no");
/// assert_eq!(f.wait().unwrap_err().rejected(), Some("no"));
/// ```
pub enum FutureError<E> {
    /// The promise was rejected with this error.
    Rejected(E),
    /// The promise was dropped without being settled.
    Broken,
    /// A continuation (`map`, `and_then`) on the way to this future panicked.
    Panicked(Panic),
}

impl<E> FutureError<E> {
    /// `true` for [`Rejected`](Self::Rejected).
    ///
    /// # Examples
    /// ```
    /// assert!(routines::future::FutureError::Rejected(1).is_rejected());
    /// ```
    pub fn is_rejected(&self) -> bool {
        matches!(self, Self::Rejected(_))
    }

    /// `true` for [`Broken`](Self::Broken).
    ///
    /// # Examples
    /// ```
    /// assert!(routines::future::FutureError::<()>::Broken.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        matches!(self, Self::Broken)
    }

    /// `true` for [`Panicked`](Self::Panicked).
    ///
    /// # Examples
    /// ```
    /// assert!(!routines::future::FutureError::<()>::Broken.is_panicked());
    /// ```
    pub fn is_panicked(&self) -> bool {
        matches!(self, Self::Panicked(_))
    }

    /// The rejection's error, if it was one.
    ///
    /// # Examples
    /// ```
    /// use routines::future::FutureError;
    /// assert_eq!(FutureError::Rejected(3).rejected(), Some(3));
    /// assert_eq!(FutureError::<u8>::Broken.rejected(), None);
    /// ```
    pub fn rejected(self) -> Option<E> {
        match self {
            Self::Rejected(e) => Some(e),
            _ => None,
        }
    }
}

impl<E: Clone> Clone for FutureError<E> {
    fn clone(&self) -> Self {
        match self {
            Self::Rejected(e) => Self::Rejected(e.clone()),
            Self::Broken => Self::Broken,
            Self::Panicked(p) => Self::Panicked(p.clone()),
        }
    }
}

impl<E: PartialEq> PartialEq for FutureError<E> {
    /// Rejections compare their errors; panics compare their messages.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Rejected(a), Self::Rejected(b)) => a == b,
            (Self::Broken, Self::Broken) => true,
            (Self::Panicked(a), Self::Panicked(b)) => a.message == b.message,
            _ => false,
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for FutureError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(e) => f.debug_tuple("Rejected").field(e).finish(),
            Self::Broken => f.write_str("Broken"),
            Self::Panicked(p) => f.debug_tuple("Panicked").field(p).finish(),
        }
    }
}

impl<E> fmt::Display for FutureError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(_) => f.write_str("the promise was rejected"),
            Self::Broken => f.write_str("the promise was dropped without being settled"),
            Self::Panicked(p) => write!(f, "a continuation {p}"),
        }
    }
}

impl<E: fmt::Debug> std::error::Error for FutureError<E> {}

/// Every input of [`any`](super::any) failed: their errors, in input order (empty for an
/// empty input).
///
/// # Examples
/// ```
/// let err = routines::future::any::<u8, u8, _>(Vec::new()).unwrap_err();
/// assert!(err.0.is_empty());
/// ```
pub struct AggregateError<E>(pub Vec<FutureError<E>>);

impl<E: fmt::Debug> fmt::Debug for AggregateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AggregateError").field(&self.0).finish()
    }
}

impl<E> fmt::Display for AggregateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "all {} futures failed", self.0.len())
    }
}

impl<E: fmt::Debug> std::error::Error for AggregateError<E> {}

/// Why [`race`](super::race) did not produce a value.
///
/// # Examples
/// ```
/// use routines::future::{race, RaceError};
/// assert!(matches!(race::<u8, u8, _>(Vec::new()), Err(RaceError::EmptyRace)));
/// ```
pub enum RaceError<E> {
    /// The input was empty: nothing could ever settle (JavaScript's `Promise.race([])` stays
    /// pending forever; here it is an error at once).
    EmptyRace,
    /// The first input to settle failed.
    Failed(FutureError<E>),
}

impl<E: fmt::Debug> fmt::Debug for RaceError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyRace => f.write_str("EmptyRace"),
            Self::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
        }
    }
}

impl<E> fmt::Display for RaceError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyRace => f.write_str("race over no futures"),
            Self::Failed(e) => write!(f, "the first future to settle failed: {e}"),
        }
    }
}

impl<E: fmt::Debug> std::error::Error for RaceError<E> {}

/// The outcome of one input of [`all_settled`](super::all_settled).
///
/// # Examples
/// ```
/// use routines::future::{all_settled, Future, Settled};
/// let out = all_settled(vec![Future::<u8, u8>::ready(1), Future::failed(2)]);
/// assert!(matches!(out[0], Settled::Fulfilled(1)));
/// assert!(matches!(out[1], Settled::Rejected(_)));
/// ```
pub enum Settled<T, E> {
    /// The input fulfilled with this value.
    Fulfilled(T),
    /// The input failed.
    Rejected(FutureError<E>),
}

impl<T, E> Settled<T, E> {
    /// The outcome as a `Result`.
    ///
    /// # Examples
    /// ```
    /// use routines::future::Settled;
    /// assert_eq!(Settled::<u8, u8>::Fulfilled(1).into_result().ok(), Some(1));
    /// ```
    pub fn into_result(self) -> Result<T, FutureError<E>> {
        match self {
            Self::Fulfilled(v) => Ok(v),
            Self::Rejected(e) => Err(e),
        }
    }
}

impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for Settled<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fulfilled(v) => f.debug_tuple("Fulfilled").field(v).finish(),
            Self::Rejected(e) => f.debug_tuple("Rejected").field(e).finish(),
        }
    }
}
