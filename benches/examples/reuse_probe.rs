//! Spsc over `bounded(1024)`, 100 000 messages a run, each run by a new pair of threads:
//! over one channel kept for every run (`reuse`, the default: as criterion's
//! `channel_generated_1024` cells use theirs), a new channel per run (`fresh`), or kept
//! channels of the `channel!` kinds those cells compare (`generated`: the newtype;
//! `static`: static storage). Prints the median and how many runs took 0-1, 1-2, ... 7+ ms.
//! `RUNS` (default 300); `PIN` as in `channel_run_probe` (`PIN=same`: both threads on one
//! CPU). `cargo run --release -p routines-benches --example reuse_probe -- KIND`

use routines::channel::{bounded, Receiver, Sender};
use routines_benches::generated::{spsc, Generated, Plain, STATIC_CHANNEL};

/// One run over `tx`/`rx`, in ms.
fn run<S, R>(tx: &S, rx: &R) -> f64
where
    S: std::ops::Deref<Target = Sender<u64>> + Sync,
    R: std::ops::Deref<Target = Receiver<u64>> + Sync,
{
    spsc(tx, rx, 100_000).as_secs_f64() * 1e3
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "reuse".into());
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let (tx, rx) = bounded::<u64>(1024);
    let kept = (Plain(tx), Plain(rx));
    let generated = Generated::new();
    let (tx, rx) = (
        Plain(STATIC_CHANNEL.sender()),
        Plain(STATIC_CHANNEL.receiver()),
    );
    let mut times: Vec<f64> = (0..runs)
        .map(|_| match mode.as_str() {
            "fresh" => {
                let (tx, rx) = bounded::<u64>(1024);
                run(&Plain(tx), &Plain(rx))
            }
            "generated" => run(&generated.0, &generated.1),
            "static" => run(&tx, &rx),
            _ => run(&kept.0, &kept.1),
        })
        .collect();
    let mut by_ms = [0usize; 8];
    for t in &times {
        by_ms[(*t as usize).min(7)] += 1;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{mode}: median {:.2} ms; runs by ms (0-1, 1-2, ..., 7+): {by_ms:?}",
        times[runs / 2]
    );
}
