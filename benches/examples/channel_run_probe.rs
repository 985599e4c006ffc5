//! Profiling and A/B aid for the multi-threaded channel cells: runs one throughput cell on
//! one contender `RUNS` times (default 20) and prints the median in ms. Alternate processes
//! to compare contenders on a noisy machine:
//! `cargo run --release -p routines-benches --example channel_run_probe -- CONTENDER SHAPE CAP`
//! with CONTENDER one of routines, crossbeam, flume, kanal; SHAPE spsc, mpsc (4 x 1), mpmc
//! (4 x 4), select4 (four producers, one consumer selecting; routines, crossbeam, flume)
//! or pingpong (10 000 round trips over two channels);
//! CAP 0, 1, 1024 or unbounded. `PIN=1`: producers on CPU 1, consumers on CPU 0 (spsc, mpsc,
//! mpmc, ping-pong); `PIN=same`: every thread on CPU 0 of the two the process keeps (see
//! `routines_benches::pin_role`). `ALL=1`: also every run's time, in order, on stderr.

use std::time::Duration;

use routines_benches::{channel_crossbeam, channel_flume, channel_kanal, channel_routines};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let (who, shape, cap) = (arg(0, "routines"), arg(1, "mpsc"), arg(2, "1024"));
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    type Run = fn(usize, usize, Option<usize>, u64) -> (Duration, u64);
    let run: Run = match who.as_str() {
        "crossbeam" => channel_crossbeam::run,
        "flume" => channel_flume::run,
        "kanal" => channel_kanal::run,
        _ => channel_routines::run,
    };
    let (producers, consumers) = match shape.as_str() {
        "spsc" => (1, 1),
        "mpmc" => (4, 4),
        _ => (4, 1),
    };
    let capacity = cap.parse().ok();
    type Cell = fn(Option<usize>, u64) -> (Duration, u64);
    let sample: Box<dyn Fn() -> Duration> = match shape.as_str() {
        "select4" => {
            let select: Cell = match who.as_str() {
                "crossbeam" => routines_benches::select4_crossbeam,
                "flume" => routines_benches::select4_flume,
                _ => routines_benches::select4_routines,
            };
            Box::new(move || select(capacity, 25_000).0)
        }
        "pingpong" => {
            let ping_pong: Cell = match who.as_str() {
                "crossbeam" => channel_crossbeam::ping_pong,
                "flume" => channel_flume::ping_pong,
                "kanal" => channel_kanal::ping_pong,
                _ => channel_routines::ping_pong,
            };
            Box::new(move || ping_pong(capacity, 10_000).0)
        }
        _ => {
            let per = 100_000 / producers as u64;
            Box::new(move || {
                let (t, sum) = run(producers, consumers, capacity, per);
                assert_eq!(sum, producers as u64 * per * (per - 1) / 2);
                t
            })
        }
    };
    let mut times: Vec<Duration> = (0..runs).map(|_| sample()).collect();
    if std::env::var("ALL").is_ok() {
        let ms: Vec<String> = times
            .iter()
            .map(|t| format!("{:.1}", t.as_secs_f64() * 1e3))
            .collect();
        eprintln!("runs in order (ms): {}", ms.join(" "));
    }
    times.sort();
    println!(
        "{who} {shape}_{cap} {:.2} ms",
        times[times.len() / 2].as_secs_f64() * 1e3
    );
}
