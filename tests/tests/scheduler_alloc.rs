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
