//! Send/Sync of public types (compile-time assertions, run as a test).

use std::cell::Cell;
use std::rc::Rc;

use routines::channel::{OneshotReceiver, OneshotSender, Receiver, Select, Sender, StaticChannel};
use routines::core::{Backoff, CachePadded, WaitQueue};
use routines::future::{
    AggregateError, Future, FutureError, Panic, Promise, RaceError, SharedFuture,
};
use routines::lockfree::{
    BorrowedSlots, Injector, InlineSlots, MpmcQueue, MpscConsumer, MpscQueue, SegQueue, Slot,
    Steal, Stealer, Worker,
};
use routines::scheduler::{
    BroadcastContext, Scheduler, SchedulerBuilder, Scope as SchedulerScope, ThreadPool,
    ThreadPoolBuilder,
};
use routines::structured::{CancelToken, DropGuard, Registration, Scope, TaskContext, TaskGroup};
use routines::sync::*;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

// spec: SY-5, LF-20, LF-60, CH-7, CH-10, FUT-7, ST-1, SCH-6
#[test]
fn public_types_are_send_and_sync_where_they_should_be() {
    send_sync::<WaitQueue>();
    send_sync::<CachePadded<u64>>();
    send::<Backoff>();
    send_sync::<Mutex<Cell<u8>>>(); // T: Send suffices for a mutex
    send_sync::<MutexGuard<'static, u8>>();
    send_sync::<RwLock<u8>>();
    send_sync::<RwLockReadGuard<'static, u8>>();
    send_sync::<RwLockWriteGuard<'static, u8>>();
    send_sync::<Semaphore>();
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<WaitGroup>();
    send_sync::<Barrier>();
    send_sync::<Latch>();
    send_sync::<Once>();
    send_sync::<MpmcQueue<Cell<u8>>>(); // values are moved, never shared: T: Send suffices
    send_sync::<MpmcQueue<u8, InlineSlots<u8, 4>>>();
    send_sync::<MpmcQueue<u8, BorrowedSlots<'static, u8>>>();
    send_sync::<Slot<u8>>();
    send_sync::<SegQueue<Cell<u8>>>();
    send_sync::<MpscQueue<Cell<u8>>>();
    send_sync::<MpscConsumer<'static, u8>>();
    send::<Worker<Cell<u8>>>(); // one owner at a time: Send, not Sync (see ui-tests)
    send_sync::<Stealer<Cell<u8>>>();
    send_sync::<Injector<Cell<u8>>>();
    send_sync::<Steal<u8>>();
    send_sync::<Sender<Cell<u8>>>(); // messages are moved, never shared: T: Send suffices
    send_sync::<Receiver<Cell<u8>>>();
    send_sync::<StaticChannel<Cell<u8>, 4>>();
    send_sync::<Select<'static>>(); // operations require T: Send (spec SEL-1)
    send_sync::<OneshotSender<Cell<u8>>>();
    send_sync::<OneshotReceiver<Cell<u8>>>();
    send_sync::<Promise<Cell<u8>, Cell<u8>>>(); // values are moved, never shared
    send::<Future<Cell<u8>, u8>>(); // `try_get` lends `&T`: Sync only for `T: Sync`
    send_sync::<Future<u8, u8>>();
    send_sync::<SharedFuture<u8, u8>>();
    send_sync::<Panic>(); // `&Panic` reaches only the message
    send_sync::<FutureError<u8>>();
    send_sync::<AggregateError<u8>>();
    send_sync::<RaceError<u8>>();
    send_sync::<CancelToken>();
    send_sync::<Registration>();
    send_sync::<DropGuard>();
    send_sync::<TaskContext>();
    send_sync::<Scope<'static, 'static, Cell<u8>>>(); // errors are moved, never shared
    send::<TaskGroup<Cell<u8>, Cell<u8>>>(); // holds finished results: Sync only with T: Sync
    send_sync::<TaskGroup<u8, u8>>();
    send_sync::<ThreadPool>();
    send_sync::<ThreadPoolBuilder>();
    send_sync::<Scheduler>();
    send_sync::<SchedulerBuilder>();
    send_sync::<SchedulerScope<'static>>();
    send_sync::<BroadcastContext>();
}

/// These must *not* hold; the trybuild cases in `ui-tests/` check the negative side
/// (`MutexGuard<Cell<_>>` is not `Sync`, `Mutex<Rc<_>>` is not `Send`).
#[allow(dead_code, reason = "type-level documentation of the negative cases")]
type NotSync = (MutexGuard<'static, Cell<u8>>, Mutex<Rc<u8>>);
