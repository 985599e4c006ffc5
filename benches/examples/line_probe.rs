//! The machine's state, for reading a bench run: two threads bounce one cache line (a
//! counter each bumps in turn, both spinning) and the probe prints the time of one round
//! trip, in ns, the floor of any hand-off between two threads. Run it before and after a
//! bench (or in a loop beside probes): `cargo run --release -p routines-benches --example
//! line_probe` (`ROUNDS=n` round trips, 1 000 000 by default; `HINT=0` spins without the
//! spin-loop hint).
//!
//! On the 2-CPU VMs we bench on, it reads about 50-70 ns most of the time, and for
//! stretches of seconds to minutes about 400 ns: while it does, every contender's hand-off
//! cells are several times slower (spsc over `bounded(0)`: 12 -> 47 ms for routines, 26 ->
//! 80 ms for kanal). Criterion runs a group's contenders one after another, so a stretch
//! that starts or ends mid-group lands on some of them only (benches/README.md);
//! `BENCH_GATE_NS` gates each sample on this reading ([`routines_benches::timed_cell`]).

fn main() {
    let rounds: u64 = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let hint = std::env::var("HINT").as_deref() != Ok("0");
    let ns = routines_benches::line_round_trip_ns(rounds, hint);
    println!("{ns:.1}");
}
