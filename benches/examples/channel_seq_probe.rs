//! Profiling and A/B aid for the single-threaded `seq` cells: one thread sends `n` values
//! into a fresh channel, then receives them all. Prints the median of many runs in µs.
//! `cargo run --release -p routines-benches --example channel_seq_probe -- CONTENDER [bounded|unbounded]`
//! with CONTENDER one of routines, crossbeam, flume, kanal, or the baselines `queue` (bare
//! `MpmcQueue`), `segqueue` (bare `SegQueue`), `vecdeque` (`Mutex<VecDeque>`); `RUNS=n`,
//! `N=messages` (10 000). Prints the median, then the mean (what criterion reports) and the
//! 90th percentile. `RAISE_TRIM=1` first allocates and frees 1 MiB: glibc then raises its heap
//! trim threshold above it, as it has in a criterion process by the time the `seq` cells run
//! (other cells freed large buffers before), so freed channel blocks are no longer handed
//! back to the kernel after every run.

use std::time::Duration;

use routines_benches::{channel_crossbeam, channel_flume, channel_kanal, channel_routines};

fn main() {
    let who = std::env::args().nth(1).unwrap_or_else(|| "routines".into());
    let bounded = std::env::args().nth(2).as_deref() != Some("unbounded");
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let seq: fn(bool, u64) -> (Duration, u64) = match who.as_str() {
        "crossbeam" => channel_crossbeam::seq,
        "flume" => channel_flume::seq,
        "kanal" => channel_kanal::seq,
        "queue" => queue_seq,
        "segqueue" => segqueue_seq,
        "vecdeque" => vecdeque_seq,
        _ => channel_routines::seq,
    };
    let n = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    if std::env::var("RAISE_TRIM").is_ok() {
        // Above glibc's initial mmap threshold (128 KiB): mapped, then unmapped on free,
        // which raises the thresholds (dynamic mmap threshold).
        let big = vec![1_u8; 1 << 20];
        std::hint::black_box(&big);
        drop(big);
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let (t, sum) = seq(bounded, n);
            assert_eq!(sum, n * (n - 1) / 2);
            t
        })
        .collect();
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{who} {:.1} mean {:.1} p90 {:.1}",
        us(times[times.len() / 2]),
        us(mean),
        us(times[times.len() * 9 / 10])
    );
}

/// The bare bounded queue under the channel.
fn queue_seq(_: bool, n: u64) -> (Duration, u64) {
    let q = routines::lockfree::MpmcQueue::new(n as usize);
    let start = std::time::Instant::now();
    (0..n).for_each(|v| q.push(v).unwrap());
    let sum: u64 = (0..n).map(|_| q.pop().unwrap()).sum();
    (start.elapsed(), sum)
}

/// A lock-based baseline: a std mutex around a `VecDeque`.
fn vecdeque_seq(_: bool, n: u64) -> (Duration, u64) {
    let q = std::sync::Mutex::new(std::collections::VecDeque::with_capacity(n as usize));
    let start = std::time::Instant::now();
    (0..n).for_each(|v| q.lock().unwrap().push_back(v));
    let sum: u64 = (0..n).map(|_| q.lock().unwrap().pop_front().unwrap()).sum();
    (start.elapsed(), sum)
}

/// The bare unbounded queue under the channel.
fn segqueue_seq(_: bool, n: u64) -> (Duration, u64) {
    let q = routines::lockfree::SegQueue::new();
    let start = std::time::Instant::now();
    (0..n).for_each(|v| q.push(v));
    let sum: u64 = (0..n).map(|_| q.pop().unwrap()).sum();
    (start.elapsed(), sum)
}
