//! Profiling and A/B aid: runs one work-stealing workload on one contender, one pool for
//! the whole process, and prints the median per-iteration time. Alternate processes to
//! compare contenders on a noisy machine:
//! `cargo run --release -p routines-benches --example ws_fib_probe -- routines|rayon [fib|sum|sort|scope]`
//! (`THREADS=n` workers, 2 by default; `FRESH=1` for a new pool per iteration; `FIB=n`
//! for fib(n), 27 by default; `SORT_N=n` sorts n values, 300 000 by default; `SUM_N=n` sums
//! 0..n, 4 000 000 by default; `ITERS=n` iterations, 100 by default; `QUARTILES=1` prints
//! the quartiles too). Only `sort` copies its input between iterations; the other
//! workloads run back to back, as criterion's do.

use std::time::{Duration, Instant};

use routines_benches::{random_u32s, ws_fib, ws_quicksort, ws_sum, BenchStealer};

fn run<S: BenchStealer>(workload: &str) {
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    // FRESH=1: a new pool per iteration, warmed with fib(10), as `--bench interleaved` does.
    let fresh = std::env::var("FRESH").is_ok_and(|v| v == "1");
    let fib_n: u32 = std::env::var("FIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(27);
    let expect = fib_plain(fib_n);
    let mut pool = S::new(threads);
    let sum_n: u64 = std::env::var("SUM_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000_000);
    let data: Vec<u64> = (0..sum_n).collect();
    let sort_n: usize = std::env::var("SORT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let input = random_u32s(sort_n);
    let iters: usize = std::env::var("ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mut times: Vec<Duration> = (0..iters)
        .map(|_| {
            if fresh {
                pool = S::new(threads);
                pool.install(|| ws_fib::<S>(10));
            }
            let mut v = if workload == "sort" {
                input.clone()
            } else {
                Vec::new()
            };
            let start = Instant::now();
            match workload {
                "sum" => assert_eq!(pool.install(|| ws_sum::<S>(&data)), (sum_n - 1) * sum_n / 2),
                "sort" => pool.install(|| ws_quicksort::<S>(&mut v)),
                "scope" => {
                    let sum = std::sync::atomic::AtomicU64::new(0);
                    pool.install(|| S::scope_spawns(1_000, &sum));
                    assert_eq!(sum.into_inner(), 1_000 * 999 / 2);
                }
                _ => assert_eq!(pool.install(|| ws_fib::<S>(fib_n)), expect),
            }
            start.elapsed()
        })
        .collect();
    times.sort();
    let us = |i: usize| times[i].as_secs_f64() * 1e6;
    if std::env::var("QUARTILES").is_ok_and(|v| v == "1") {
        let n = times.len();
        println!(
            "{:.1} ({:.1} .. {:.1})",
            us(n / 2),
            us(n / 4),
            us(3 * n / 4)
        );
    } else {
        println!("{:.1}", us(times.len() / 2));
    }
}

fn fib_plain(n: u32) -> u64 {
    if n < 2 {
        n.into()
    } else {
        fib_plain(n - 1) + fib_plain(n - 2)
    }
}

fn main() {
    let workload = std::env::args().nth(2).unwrap_or_else(|| "fib".into());
    match std::env::args().nth(1).as_deref() {
        Some("rayon") => run::<rayon::ThreadPool>(&workload),
        _ => run::<routines::scheduler::Scheduler>(&workload),
    }
}
