//! Profiling aid: runs `join`-based fib(27) on one contender in a loop
//! (`cargo run --release -p routines-benches --example ws_fib_probe -- routines|rayon`).

use routines_benches::{ws_fib, BenchStealer};

fn run<S: BenchStealer>() {
    let pool = S::new(2);
    let start = std::time::Instant::now();
    for _ in 0..200 {
        assert_eq!(pool.install(|| ws_fib::<S>(27)), 196_418);
    }
    println!("{:?} per fib(27)", start.elapsed() / 200);
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("rayon") => run::<rayon::ThreadPool>(),
        _ => run::<routines::scheduler::Scheduler>(),
    }
}
