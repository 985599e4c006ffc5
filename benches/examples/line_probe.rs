//! The machine's state, for reading a bench run: two threads bounce one cache line (a
//! counter each bumps in turn, both spinning) and the probe prints the time of one round
//! trip, in ns, the floor of any hand-off between two threads. Run it before and after a
//! bench (or in a loop beside probes): `cargo run --release -p routines-benches --example
//! line_probe` (`ROUNDS=n` round trips, 1 000 000 by default).
//!
//! On the 2-CPU VMs we bench on, it reads about 50-70 ns most of the time, and for
//! stretches of seconds to minutes about 400 ns: while it does, every contender's hand-off
//! cells are several times slower (spsc over `bounded(0)`: 12 -> 47 ms for routines, 26 ->
//! 80 ms for kanal). Criterion runs a group's contenders one after another, so a stretch
//! that starts or ends mid-group lands on some of them only (benches/README.md).

use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

fn main() {
    let rounds: u64 = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // `HINT=0`: spin on plain loads, without the spin-loop hint (x86 `pause`).
    let hint = std::env::var("HINT").as_deref() != Ok("0");
    let wait = |line: &AtomicU64, value: u64| {
        // Acquire: pairs with the other thread's Release store of `value`; each turn hands
        // the line over, no data rides on it.
        while line.load(Ordering::Acquire) != value {
            if hint {
                spin_loop();
            }
        }
    };
    // Odd values are the bouncer's turn, even ones the main thread's.
    let line = AtomicU64::new(0);
    let start = std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..rounds {
                wait(&line, 2 * i + 1);
                // Release: pairs with the Acquire in the main thread's `wait`.
                line.store(2 * i + 2, Ordering::Release);
            }
        });
        let start = Instant::now();
        for i in 0..rounds {
            // Release: pairs with the Acquire in the bouncer's `wait`.
            line.store(2 * i + 1, Ordering::Release);
            wait(&line, 2 * i + 2);
        }
        start
    });
    let ns = start.elapsed().as_secs_f64() * 1e9 / rounds as f64;
    println!("{ns:.1}");
}
