//! What `ThreadPool` and `Scheduler` share about their worker threads: the builder
//! settings, starting a worker between its hooks, and joining the workers.

use ::core::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::future::Panic;
use crate::sync::Mutex;

pub(super) type Hook = Arc<dyn Fn(usize) + Send + Sync + 'static>;
pub(super) type PanicHandler = Arc<dyn Fn(Panic) + Send + Sync + 'static>;

/// Waits for one worker thread to exit; with the worker's thread id (not under loom, whose
/// threads do not have distinct std ids).
pub(super) type Joiner = (
    Option<std::thread::ThreadId>,
    Box<dyn FnOnce() + Send + 'static>,
);

/// The settings of both builders.
#[derive(Default)]
pub(super) struct WorkerConfig {
    /// 0: available parallelism.
    pub(super) threads: usize,
    pub(super) name_prefix: Option<String>,
    pub(super) stack_size: Option<usize>,
    pub(super) on_start: Option<Hook>,
    pub(super) on_exit: Option<Hook>,
    pub(super) panic_handler: Option<PanicHandler>,
}

impl WorkerConfig {
    /// The number of workers to start (0 resolved to the available parallelism).
    pub(super) fn resolved_threads(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            self.threads
        }
    }

    /// Starts worker `index` running `body`, which calls the [`Hooks`] it is given when
    /// the worker is ready and when it leaves. A loom thread under loom, which has no names
    /// or stack sizes.
    ///
    /// # Panics
    /// If the OS cannot create the thread.
    pub(super) fn start(&self, index: usize, body: impl FnOnce(Hooks) + Send + 'static) -> Joiner {
        let hooks = Hooks {
            index,
            on_start: self.on_start.clone(),
            on_exit: self.on_exit.clone(),
            handler: self.panic_handler.clone(),
        };
        let body = move || body(hooks);
        if cfg!(routines_loom) {
            let handle = crate::loom::thread::spawn(body);
            // Jobs run under catch_unwind: a worker thread never panics.
            return (None, Box::new(move || drop(handle.join())));
        }
        let mut builder = std::thread::Builder::new();
        if let Some(prefix) = &self.name_prefix {
            builder = builder.name(format!("{prefix}{index}"));
        }
        if let Some(bytes) = self.stack_size {
            builder = builder.stack_size(bytes);
        }
        let handle = builder
            .spawn(body)
            .expect("could not start a worker thread");
        let id = handle.thread().id();
        (Some(id), Box::new(move || drop(handle.join())))
    }
}

impl fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("threads", &self.threads)
            .field("name_prefix", &self.name_prefix)
            .field("stack_size", &self.stack_size)
            .finish_non_exhaustive()
    }
}

/// A worker's start and exit hooks. A hook's panic goes to the panic handler instead of
/// killing the worker, which would strand the work meant for it.
pub(super) struct Hooks {
    index: usize,
    on_start: Option<Hook>,
    on_exit: Option<Hook>,
    handler: Option<PanicHandler>,
}

impl Hooks {
    /// The worker is ready (called on the worker thread).
    pub(super) fn started(&self) {
        self.run(self.on_start.as_ref());
    }

    /// The worker leaves (called on the worker thread).
    pub(super) fn exiting(&self) {
        self.run(self.on_exit.as_ref());
    }

    fn run(&self, hook: Option<&Hook>) {
        let Some(hook) = hook else { return };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| hook(self.index))) {
            if let Some(handler) = &self.handler {
                let _ = catch_unwind(AssertUnwindSafe(|| handler(Panic::new(payload))));
            }
        }
    }
}

/// Waits for the workers in `handles` to exit. Called from one of them, skips that one (a
/// thread cannot wait for itself) and keeps its handle for a later call from outside.
pub(super) fn join_workers(handles: &Mutex<Vec<Joiner>>) {
    let me = std::thread::current().id();
    let drained: Vec<_> = handles.lock().drain(..).collect();
    for (id, join) in drained {
        if id == Some(me) {
            handles.lock().push((id, join));
        } else {
            join();
        }
    }
}
