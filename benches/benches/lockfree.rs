//! Lock-free queues, stack and deque: routines vs crossbeam-queue, crossbeam-deque,
//! concurrent-queue, rtrb and `Mutex<Vec>`, in one run.
//!
//! `cargo bench -p routines-benches --bench lockfree`; see `benches/README.md`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use routines_benches::{
    queue_pairs, timed_cell, BenchQueue, ConcurrentBounded, ConcurrentUnbounded,
};

/// Items per producer in one sample.
const ITEMS: u64 = 50_000;
/// Capacity of the bounded queues.
const CAPACITY: usize = 1024;

fn cell<Q: BenchQueue>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    pairs: usize,
) {
    // Sanity check before timing: everything sent arrives once.
    let n = 1_000;
    assert_eq!(
        queue_pairs::<Q>(pairs, n, CAPACITY).1,
        pairs as u64 * n * (n - 1) / 2,
        "{} loses or duplicates items",
        Q::NAME
    );
    timed_cell(g, Q::NAME, &format!("{pairs}p{pairs}c"), || {
        queue_pairs::<Q>(pairs, ITEMS, CAPACITY).0
    });
}

fn bounded(c: &mut Criterion) {
    for pairs in [1, 2] {
        let mut g = c.benchmark_group(format!("mpmc_bounded_{pairs}p{pairs}c"));
        g.throughput(Throughput::Elements(pairs as u64 * ITEMS));
        cell::<routines::lockfree::MpmcQueue<u64>>(&mut g, pairs);
        cell::<crossbeam_queue::ArrayQueue<u64>>(&mut g, pairs);
        cell::<ConcurrentBounded>(&mut g, pairs);
        g.finish();
    }
}

fn unbounded(c: &mut Criterion) {
    for pairs in [1, 2] {
        let mut g = c.benchmark_group(format!("mpmc_unbounded_{pairs}p{pairs}c"));
        g.throughput(Throughput::Elements(pairs as u64 * ITEMS));
        cell::<routines::lockfree::SegQueue<u64>>(&mut g, pairs);
        cell::<crossbeam_queue::SegQueue<u64>>(&mut g, pairs);
        cell::<ConcurrentUnbounded>(&mut g, pairs);
        g.finish();
    }
}

fn spsc(c: &mut Criterion) {
    type Workload = fn(u64, usize) -> (Duration, u64);
    let contenders: [(&str, Workload, Workload); 2] = [
        (
            "routines",
            routines_benches::spsc_routines::single,
            |n, cap| routines_benches::spsc_routines::chunked(n, cap, 64),
        ),
        ("rtrb", routines_benches::spsc_rtrb::single, |n, cap| {
            routines_benches::spsc_rtrb::chunked(n, cap, 64)
        }),
    ];
    const SPSC_ITEMS: u64 = 1_000_000;
    for (label, pick) in [("single", 0), ("chunked", 1)] {
        let mut g = c.benchmark_group(format!("spsc_{label}"));
        g.throughput(Throughput::Elements(SPSC_ITEMS));
        for (name, single, chunked) in contenders {
            let run = if pick == 0 { single } else { chunked };
            let n = 10_000;
            assert_eq!(
                run(n, 256).1,
                n * (n - 1) / 2,
                "{name} loses or reorders items"
            );
            timed_cell(&mut g, name, "1p1c", || run(SPSC_ITEMS, 256).0);
        }
        g.finish();
    }
}

fn stack(c: &mut Criterion) {
    use routines_benches::{stack_pairs, BenchStack};
    const PAIRS: u64 = 50_000;
    fn cell<S: BenchStack>(
        g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        threads: usize,
    ) {
        assert_eq!(
            stack_pairs::<S>(threads, 1_000).1,
            0,
            "{} loses values",
            S::NAME
        );
        timed_cell(g, S::NAME, &format!("{threads} threads"), || {
            stack_pairs::<S>(threads, PAIRS).0
        });
    }
    for threads in [1, 4] {
        let mut g = c.benchmark_group(format!("stack_push_pop_{threads}"));
        g.throughput(Throughput::Elements(threads as u64 * PAIRS));
        cell::<routines::lockfree::TreiberStack<u64>>(&mut g, threads);
        cell::<std::sync::Mutex<Vec<u64>>>(&mut g, threads);
        g.finish();
    }
}

fn mpsc(c: &mut Criterion) {
    use routines_benches::{drain_with, fan_in};
    const PER: u64 = 50_000;
    const PRODUCERS: usize = 3;
    type Run = fn(u64) -> (Duration, u64);
    let contenders: [(&str, Run); 3] = [
        ("routines", |per| {
            let q = routines::lockfree::MpscQueue::new();
            fan_in(
                PRODUCERS,
                per,
                &q,
                |q, v| q.push(v),
                |q, total| {
                    let mut consumer = q.consumer().expect("one consumer");
                    drain_with(total, || consumer.pop())
                },
            )
        }),
        ("crossbeam", |per| {
            let q = crossbeam_queue::SegQueue::new();
            fan_in(
                PRODUCERS,
                per,
                &q,
                |q, v| q.push(v),
                |q, total| drain_with(total, || q.pop()),
            )
        }),
        ("std-mpsc", |per| {
            let (tx, rx) = std::sync::mpsc::channel();
            let rx = std::sync::Mutex::new(rx); // only the consumer thread locks it
            fan_in(
                PRODUCERS,
                per,
                &(tx, rx),
                |(tx, _), v| tx.send(v).unwrap(),
                |(_, rx), total| {
                    let rx = rx.lock().unwrap();
                    drain_with(total, || rx.try_recv().ok())
                },
            )
        }),
    ];
    let mut g = c.benchmark_group("mpsc_fan_in_3p1c");
    g.throughput(Throughput::Elements(PRODUCERS as u64 * PER));
    for (name, run) in contenders {
        let n = 1_000;
        assert_eq!(
            run(n).1,
            PRODUCERS as u64 * n * (n - 1) / 2,
            "{name} loses items"
        );
        timed_cell(&mut g, name, "3p1c", || run(PER).0);
    }
    g.finish();
}

fn deque(c: &mut Criterion) {
    type Workload = fn(u64) -> (Duration, u64);
    use routines_benches::{deque_crossbeam as cb, deque_routines as ours};
    let workloads: [(&str, u64, Workload, Workload); 3] = [
        ("push_pop", 64 * 2_000, ours::push_pop, cb::push_pop),
        (
            "steal_uncontended",
            64 * 2_000,
            ours::steal_uncontended,
            cb::steal_uncontended,
        ),
        (
            "steal_contended",
            200_000,
            ours::steal_contended,
            cb::steal_contended,
        ),
    ];
    for (label, items, routines_run, crossbeam_run) in workloads {
        let mut g = c.benchmark_group(format!("deque_{label}"));
        g.throughput(Throughput::Elements(items));
        for (name, run) in [("routines", routines_run), ("crossbeam", crossbeam_run)] {
            let n = 64 * 100;
            assert_eq!(
                run(n).1,
                n * (n - 1) / 2,
                "{name} loses or duplicates items"
            );
            timed_cell(&mut g, name, label, || run(items).0);
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = bounded, unbounded, mpsc, spsc, stack, deque
}
criterion_main!(benches);
