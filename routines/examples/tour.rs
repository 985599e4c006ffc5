//! A short tour of what routines has so far. Run: `cargo run --release --example tour`.
#![allow(
    clippy::disallowed_types,
    reason = "user code: the loom facade rule applies to the library, not its examples"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use routines::core::{Backoff, CachePadded, WaitQueue};
use routines::sync::{Barrier, Latch, Mutex, Once, RwLock, RwLockWriteGuard, Semaphore, WaitGroup};

fn main() {
    println!("routines tour: core, sync, lockfree, channels, futures, structured, scheduler\n");

    // core
    let padded = CachePadded::new(AtomicUsize::new(0));
    println!(
        "CachePadded<AtomicUsize>: size {} bytes, alignment {}",
        std::mem::size_of_val(&padded),
        std::mem::align_of_val(&padded)
    );
    let backoff = Backoff::new();
    let mut steps = 0;
    while !backoff.is_completed() {
        backoff.snooze();
        steps += 1;
    }
    println!("Backoff: {steps} spin/yield steps, then it tells the caller to park");

    let flag = Arc::new((AtomicUsize::new(0), WaitQueue::new()));
    let start = Instant::now();
    let setter = {
        let flag = Arc::clone(&flag);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            flag.0.store(42, Ordering::Release);
            flag.1.notify_all();
        })
    };
    let value = flag.1.wait_until(None, || {
        let v = flag.0.load(Ordering::Acquire);
        (v != 0).then_some(v)
    });
    setter.join().unwrap();
    println!(
        "WaitQueue: parked, woken with {value:?} after {:?}\n",
        start.elapsed()
    );

    // Mutex: 4 threads x 100 000 increments
    let counter = Arc::new(Mutex::new(0u64));
    let start = Instant::now();
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || {
                for _ in 0..100_000 {
                    *counter.lock() += 1;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!(
        "Mutex: 4 threads x 100 000 increments = {} in {:?}",
        counter.lock(),
        start.elapsed()
    );
    let guard = counter.lock();
    println!(
        "Mutex: lock_timeout(5 ms) while held -> {}",
        if counter.lock_timeout(Duration::from_millis(5)).is_none() {
            "None (timed out)"
        } else {
            "Some"
        }
    );
    drop(guard);

    // RwLock
    let config = RwLock::new(String::from("v1"));
    {
        let (a, b) = (config.read(), config.read());
        println!("RwLock: two readers at once see {a} and {b}");
    }
    let mut w = config.write();
    w.push_str("->v2");
    let r = RwLockWriteGuard::downgrade(w);
    println!("RwLock: wrote and downgraded without a gap: {}", *r);
    drop(r);

    // Semaphore
    let sem = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..6)
        .map(|_| {
            let (sem, inside, peak) = (Arc::clone(&sem), Arc::clone(&inside), Arc::clone(&peak));
            std::thread::spawn(move || {
                for _ in 0..1_000 {
                    let _permit = sem.acquire();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::Relaxed);
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!(
        "Semaphore(2): 6 threads x 1 000 acquisitions, at most {} inside at once",
        peak.load(Ordering::Relaxed)
    );

    // WaitGroup, Latch, Barrier, Once
    let wg = WaitGroup::new();
    let done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..5 {
            wg.add(1);
            s.spawn(|| {
                done.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        wg.wait();
        println!(
            "WaitGroup: waited for {} tasks",
            done.load(Ordering::Relaxed)
        );
    });
    let latch = Latch::new(3);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| latch.count_down());
        }
        latch.wait();
    });
    latch.count_down(); // extra: saturates
    println!(
        "Latch: opened after 3 count-downs (count now {})",
        latch.count()
    );

    let barrier = Barrier::new(3);
    let leaders = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..100 {
                    if barrier.wait().is_leader() {
                        leaders.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    println!(
        "Barrier(3): 100 generations, {} leaders (one each)",
        leaders.load(Ordering::Relaxed)
    );

    let once = Once::new();
    let runs = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                once.call_once(|| {
                    runs.fetch_add(1, Ordering::Relaxed);
                })
            });
        }
    });
    println!(
        "Once: 4 callers, the closure ran {} time(s)",
        runs.load(Ordering::Relaxed)
    );
    lockfree_tour();
    channel_tour();
}

fn lockfree_tour() {
    use routines::lockfree::{MpmcQueue, MpscQueue, SegQueue, Steal, TreiberStack, Worker};

    println!();
    let q = MpmcQueue::new(3);
    (0..3).for_each(|i| q.push(i).unwrap());
    println!(
        "MpmcQueue(3): holds exactly 3, a 4th push gives the value back: {:?}",
        q.push(3)
    );
    let seg = SegQueue::new();
    (0..100).for_each(|i| seg.push(i));
    println!(
        "SegQueue: 100 pushed, {} queued, first out {:?}",
        seg.len(),
        seg.pop()
    );

    let mailbox = MpscQueue::new();
    std::thread::scope(|s| {
        for p in 0..3 {
            let mailbox = &mailbox;
            s.spawn(move || (0..1_000).for_each(|i| mailbox.push((p, i))));
        }
    });
    let mut consumer = mailbox.consumer().expect("one consumer at a time");
    let mut n = 0;
    while consumer.pop().is_some() {
        n += 1;
    }
    println!("MpscQueue: 3 producers x 1 000 -> the one consumer got {n}");

    let (tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(4);
    tx_rx_spsc(tx, &mut rx);

    let stack = TreiberStack::new();
    (1..=3).for_each(|i| stack.push(i));
    println!(
        "TreiberStack: pushed 1, 2, 3, popped {:?} first",
        stack.pop()
    );

    let worker = Worker::new_lifo();
    (1..=6).for_each(|i| worker.push(i));
    let thief = worker.stealer();
    let mine = Worker::new_lifo();
    let stolen = thief.steal_batch_and_pop(&mine);
    println!(
        "Deque: owner pops newest {:?}; a batch thief took the oldest half (1, 2, 3): it returns {:?} and moved {} into its own deque",
        worker.pop(),
        match stolen {
            Steal::Success(v) => Some(v),
            _ => None,
        },
        mine.len()
    );
}

fn tx_rx_spsc(
    mut tx: routines::lockfree::spsc::Producer<u32>,
    rx: &mut routines::lockfree::spsc::Consumer<u32>,
) {
    let t = std::thread::spawn(move || {
        for i in 0..10_000 {
            while tx.push(i).is_err() {
                std::hint::spin_loop();
            }
        }
    });
    let mut expected = 0;
    while expected < 10_000 {
        if let Ok(v) = rx.pop() {
            assert_eq!(v, expected);
            expected += 1;
        }
    }
    t.join().unwrap();
    println!("spsc ring (4 slots): 10 000 values arrived in order");
}

fn channel_tour() {
    use routines::channel::{after, bounded, oneshot, tick, unbounded};

    println!();
    let (tx, rx) = bounded(16);
    let start = Instant::now();
    std::thread::scope(|s| {
        for p in 0..4u64 {
            let tx = tx.clone();
            s.spawn(move || (0..25_000).for_each(|i| tx.send(p * 25_000 + i).unwrap()));
        }
        drop(tx);
        let sum: u64 = rx.iter().sum();
        println!(
            "bounded(16): 4 senders x 25 000 -> sum {sum} in {:?}; iter ended when the last sender left",
            start.elapsed()
        );
    });

    let (tx, rx) = bounded(0);
    let t = std::thread::spawn(move || {
        let sent = Instant::now();
        tx.send("hand-over").unwrap();
        sent.elapsed()
    });
    std::thread::sleep(Duration::from_millis(20));
    let got = rx.recv().unwrap();
    println!(
        "bounded(0): {got:?} taken; the sender waited {:?} for a receiver",
        t.join().unwrap()
    );

    let (tx, rx) = unbounded::<&str>();
    tx.send("buffered").unwrap();
    tx.close();
    println!(
        "close(): send now fails ({:?}), still buffered: {:?}, then {:?}",
        tx.send("late").unwrap_err(),
        rx.recv(),
        rx.recv()
    );

    let (tx, rx) = oneshot();
    std::thread::spawn(move || tx.send(6 * 7).unwrap());
    println!("oneshot: {:?}", rx.recv());

    let start = Instant::now();
    let timeout = after(Duration::from_millis(10));
    let ticks = tick(Duration::from_millis(3));
    let n = (0..3).filter(|_| ticks.recv().is_ok()).count();
    timeout.recv().unwrap();
    println!(
        "tick(3 ms): {n} ticks; after(10 ms) fired at +{:?}",
        start.elapsed()
    );

    println!("\n-- future, structured --");
    let squares: Vec<_> = (1..=4_u64)
        .map(|i| routines::future::spawn(move || i * i))
        .collect();
    println!(
        "future::all over 4 spawned threads: {:?}",
        routines::future::all(squares)
    );
    let (promise, future) = routines::future::promise::<u32, &str>();
    let doubled = future.map(|v| v * 2);
    promise.resolve(21);
    println!("promise resolved with 21, mapped: {:?}", doubled.wait());

    let data = [1, 2, 3, 4];
    let mut halves = [0, 0];
    let outcome: Result<(), &str> = routines::structured::scope(|s| {
        let (a, b) = halves.split_at_mut(1);
        s.spawn(|_| a[0] = data[..2].iter().sum());
        s.spawn(|_| b[0] = data[2..].iter().sum());
        Ok(())
    });
    println!("scope borrowing the stack: {outcome:?}, sums {halves:?}");
    let failed: Result<(), &str> = routines::structured::scope(|s| {
        s.spawn(|cx| {
            let _ = cx.token().sleep(Duration::from_secs(3600));
        });
        s.spawn(|_| Err("one task failed"));
        Ok(())
    });
    println!("fail-fast scope (the sleeping sibling is cancelled): {failed:?}");

    println!("\n-- scheduler --");
    let pool = routines::scheduler::ThreadPool::new(2);
    let job = pool.spawn(|| (1..=100_u64).sum::<u64>()).unwrap();
    println!("ThreadPool::spawn: {:?}", job.wait());
    pool.shutdown();

    fn fib(n: u32) -> u64 {
        if n < 2 {
            return n.into();
        }
        let (a, b) = routines::scheduler::join(|| fib(n - 1), || fib(n - 2));
        a + b
    }
    let sched = routines::scheduler::Scheduler::new(2);
    let start = Instant::now();
    let f = sched.install(|| fib(25));
    println!(
        "work-stealing join: fib(25) = {f} in {:?} on {} workers",
        start.elapsed(),
        sched.threads()
    );
    let mut parts = [0_u64; 4];
    sched.scope(|s| {
        for (i, part) in parts.iter_mut().enumerate() {
            s.spawn(move |_| *part = (i as u64 + 1) * 100);
        }
    });
    println!("scheduler scope borrowing the stack: {parts:?}");
    println!(
        "broadcast: {:?}",
        sched.broadcast(|ctx| format!("worker {} of {}", ctx.index(), ctx.num_threads()))
    );
    let on_sched: Result<(), &str> = routines::structured::scope_in(&sched, |s| {
        s.spawn(|_| Err("a task on the scheduler failed"));
        Ok(())
    });
    println!("structured::scope_in (fail-fast, tasks as scheduler jobs): {on_sched:?}");
    sched.shutdown();
    println!("\nMore arrives with the actor, io and timer issues.");
}
