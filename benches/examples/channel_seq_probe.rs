//! Profiling and A/B aid for the single-threaded `seq` cells: one thread sends `n` values
//! into a fresh channel, then receives them all. Prints the median of many runs in µs.
//! `cargo run --release -p routines-benches --example channel_seq_probe -- CONTENDER [bounded|unbounded]`
//! with CONTENDER one of routines, crossbeam, flume, kanal, or the baselines `queue` (bare
//! `MpmcQueue`), `segqueue` (bare `SegQueue`), `vecdeque` (`Mutex<VecDeque>`); `RUNS=n`,
//! `N=messages` (10 000).

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
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let (t, sum) = seq(bounded, n);
            assert_eq!(sum, n * (n - 1) / 2);
            t
        })
        .collect();
    times.sort();
    println!("{who} {:.1}", times[times.len() / 2].as_secs_f64() * 1e6);
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
