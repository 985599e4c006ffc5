//! The work-stealing scheduler's `join` allocates nothing on a worker (its second half is a
//! job in the caller's stack frame), nor does a `scope` beyond one box per spawn.

use routines::scheduler::{self, Scheduler};
use routines_tests::{allocations_in, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn fib(n: u32) -> u64 {
    if n < 2 {
        return n.into();
    }
    let (a, b) = scheduler::join(|| fib(n - 1), || fib(n - 2));
    a + b
}

// spec: SCH-7
#[test]
fn join_on_a_worker_allocates_nothing() {
    // One worker: nobody steals, so every join runs both halves on this thread (thieves'
    // deques could grow, which is their allocation, not ours).
    let s = Scheduler::new(1);
    let (warm, count) = s.install(|| {
        let warm = fib(10); // the deque's buffer is allocated at construction
        let n = allocations_in(|| {
            std::hint::black_box(fib(15));
        });
        (warm, n)
    });
    assert_eq!(warm, 55);
    assert_eq!(count, 0, "join allocated");
    s.shutdown();
}

// spec: SCH-8
#[test]
fn scope_allocates_one_box_per_spawn() {
    let s = Scheduler::new(1);
    let count = s.install(|| {
        allocations_in(|| {
            scheduler::scope(|sc| {
                for _ in 0..10 {
                    sc.spawn(|_| {});
                }
            });
        })
    });
    assert_eq!(count, 10);
    s.shutdown();
}

// spec: SCH-18
#[test]
fn pool_execute_stores_a_small_closure_without_allocating() {
    use routines::scheduler::ThreadPool;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    let pool = ThreadPool::new(1);
    let sum = Arc::new(AtomicU64::new(0));
    let jobs = 4 * 63;
    // Counted on this (the submitting) thread: the jobs and the queue's blocks.
    let small = allocations_in(|| {
        for i in 0..jobs {
            let sum = Arc::clone(&sum);
            pool.execute(move || {
                sum.fetch_add(i, Ordering::Relaxed);
            })
            .unwrap();
        }
        pool.join();
    });
    assert_eq!(sum.load(Ordering::Relaxed), jobs * (jobs - 1) / 2);
    // One queue block per 63 jobs at most (blocks may also be reused); no job boxes.
    assert!(small <= 5, "{small} allocations for {jobs} small jobs");

    let large = allocations_in(|| {
        for i in 0..jobs {
            let (sum, pad) = (Arc::clone(&sum), [i; 4]);
            pool.execute(move || {
                sum.fetch_add(pad[3], Ordering::Relaxed);
            })
            .unwrap();
        }
        pool.join();
    });
    assert!(
        (jobs as usize..=jobs as usize + 5).contains(&large),
        "{large} allocations for {jobs} large jobs (one box each)"
    );
    pool.shutdown();
}
