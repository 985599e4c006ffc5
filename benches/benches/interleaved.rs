//! Order-robust cross-check of the contended `sync` cells, SPSC, the deque, the channel
//! `seq` cells and the contended channel cells whose criterion ratios swing most, and the
//! work-stealing scheduler vs rayon: contenders take turns, one sample
//! each per round, in an order rotated every round, so that drift in machine state (CPU
//! frequency, other load) hits all of them alike. Prints medians and `peer / routines`.
//!
//! `cargo bench -p routines-benches --bench interleaved [-- FILTER]` (about two minutes;
//! with a filter, only the groups whose label contains it). Criterion's own
//! groups (`--bench sync`) time contenders one after another; this run checks that their
//! ratios do not come from drift between groups. The quartiles show how bimodal contended
//! workloads are on a shared 2-core machine.

use std::time::Duration;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use std::sync::atomic::AtomicU64;

use routines_benches::{
    mutex_contended, random_u32s, rwlock_read_heavy, ws_fib, ws_quicksort, ws_spawn, ws_sum,
    BenchStealer,
};

/// The pool for one sample. By default a fresh pool of 2 workers, warmed up before the
/// clock starts: a pool that outlives its own turn would compete for the 2 cores with the
/// other contender's turn (rayon's idle workers yield for a while before they sleep), which
/// measures interference rather than either scheduler. A fresh pool's two threads may start
/// on the same CPU, though (seen in about 1 sample in 10 here: quicksort then takes its
/// one-worker time), so the fresh-pool cells mix the OS's thread placement into the figure.
/// `INTERLEAVED_POOLS=kept` instead keeps one pool per contender for the whole run and
/// sleeps 3 ms before each sample, so that the other contender's pool is asleep when the
/// clock starts (long-lived pools, as in `--bench scheduler`, but interleaved).
fn fresh<S: BenchStealer + Send + Sync + 'static>(sample: impl FnOnce(&S) -> Duration) -> Duration {
    static KEPT: OnceLock<bool> = OnceLock::new();
    if !*KEPT.get_or_init(|| std::env::var("INTERLEAVED_POOLS").is_ok_and(|v| v == "kept")) {
        let pool = S::new(2);
        pool.install(|| ws_fib::<S>(10));
        return sample(&pool);
    }
    type Pools = Mutex<HashMap<TypeId, &'static (dyn Any + Send + Sync)>>;
    static POOLS: OnceLock<Pools> = OnceLock::new();
    let pool: &'static (dyn Any + Send + Sync) = *POOLS
        .get_or_init(Pools::default)
        .lock()
        .unwrap()
        .entry(TypeId::of::<S>())
        .or_insert_with(|| {
            let pool: &'static S = Box::leak(Box::new(S::new(2)));
            pool.install(|| ws_fib::<S>(10));
            pool
        });
    std::thread::sleep(Duration::from_millis(3));
    sample(pool.downcast_ref::<S>().expect("one pool per type"))
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn fib_on<S: BenchStealer>(pool: &S) -> Duration {
    timed(|| assert_eq!(pool.install(|| ws_fib::<S>(27)), 196_418))
}

fn fib30_on<S: BenchStealer>(pool: &S) -> Duration {
    timed(|| assert_eq!(pool.install(|| ws_fib::<S>(30)), 832_040))
}

fn sum_on<S: BenchStealer>(pool: &S) -> Duration {
    static DATA: OnceLock<Vec<u64>> = OnceLock::new();
    let v = DATA.get_or_init(|| (0..4_000_000).collect());
    timed(|| assert_eq!(pool.install(|| ws_sum::<S>(v)), 3_999_999 * 2_000_000))
}

fn spawn_on<S: BenchStealer>(pool: &S) -> Duration {
    ws_spawn(pool, 20_000)
}

fn scope_on<S: BenchStealer>(pool: &S) -> Duration {
    let sum = AtomicU64::new(0);
    let took = timed(|| pool.install(|| S::scope_spawns(1_000, &sum)));
    assert_eq!(sum.into_inner(), 1_000 * 999 / 2);
    took
}

fn sort_on<S: BenchStealer>(pool: &S) -> Duration {
    static DATA: OnceLock<Vec<u32>> = OnceLock::new();
    let mut v = DATA.get_or_init(|| random_u32s(300_000)).clone();
    let took = timed(|| pool.install(|| ws_quicksort::<S>(&mut v)));
    assert!(v.windows(2).all(|w| w[0] <= w[1]));
    took
}

type Sample = fn() -> Duration;

const OPS: u64 = 20_000;
/// Samples per contender; `INTERLEAVED_ROUNDS` overrides (for a longer, steadier run).
fn rounds() -> usize {
    std::env::var("INTERLEAVED_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(41)
}

/// (25th percentile, median, 75th percentile).
fn quartiles(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    (v[v.len() / 4], v[v.len() / 2], v[3 * v.len() / 4])
}

fn run(label: &str, contenders: &[(&str, Sample)]) {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if !filter.is_empty() && !filter.iter().any(|f| label.contains(f.as_str())) {
        return;
    }
    // Sanity: every contender runs once untimed first (warm-up).
    for (_, sample) in contenders {
        sample();
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds()); contenders.len()];
    for round in 0..rounds() {
        for k in 0..contenders.len() {
            let i = (round + k) % contenders.len();
            samples[i].push((contenders[i].1)());
        }
    }
    let quartiles: Vec<_> = samples.into_iter().map(quartiles).collect();
    let ours = quartiles[0].1;
    for ((name, _), (q1, m, q3)) in contenders.iter().zip(&quartiles) {
        println!(
            "{label:22} {name:12} median {:>8.1} us (quartiles {:>8.1} .. {:>8.1})   peer/routines {:.2}",
            m.as_secs_f64() * 1e6,
            q1.as_secs_f64() * 1e6,
            q3.as_secs_f64() * 1e6,
            m.as_secs_f64() / ours.as_secs_f64()
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` / criterion-style discovery: nothing to run
    }
    for threads in [2usize, 4] {
        let label = format!("mutex_contended_{threads}");
        let c: [(&str, Sample); 3] = match threads {
            2 => [
                ("routines", || {
                    mutex_contended::<routines::sync::Mutex<u64>>(2, OPS).0
                }),
                ("std", || mutex_contended::<std::sync::Mutex<u64>>(2, OPS).0),
                ("parking_lot", || {
                    mutex_contended::<parking_lot::Mutex<u64>>(2, OPS).0
                }),
            ],
            _ => [
                ("routines", || {
                    mutex_contended::<routines::sync::Mutex<u64>>(4, OPS).0
                }),
                ("std", || mutex_contended::<std::sync::Mutex<u64>>(4, OPS).0),
                ("parking_lot", || {
                    mutex_contended::<parking_lot::Mutex<u64>>(4, OPS).0
                }),
            ],
        };
        run(&label, &c);
    }
    run(
        "spsc_single",
        &[
            ("routines", || {
                routines_benches::spsc_routines::single(200_000, 256).0
            }),
            ("rtrb", || {
                routines_benches::spsc_rtrb::single(200_000, 256).0
            }),
        ],
    );
    run(
        "spsc_chunked",
        &[
            ("routines", || {
                routines_benches::spsc_routines::chunked(200_000, 256, 64).0
            }),
            ("rtrb", || {
                routines_benches::spsc_rtrb::chunked(200_000, 256, 64).0
            }),
        ],
    );
    // The channel `seq` cells: one thread, 10 000 sends then 10 000 receives on a fresh
    // channel. In one process, taking turns, every contender meets the same allocator state
    // (glibc's trim and mmap thresholds move with what earlier cells freed).
    {
        use routines_benches::{
            channel_crossbeam as cb, channel_flume as fl, channel_kanal as ka,
            channel_routines as ro,
        };
        /// One `run` over the named channel contenders (modules of `channel_workloads!`),
        /// each sampling the same workload call.
        macro_rules! channel_cell {
            ($label:expr, [$($name:literal $m:ident),*], $f:ident $args:tt) => {
                run($label, &[$(($name, || $m::$f $args.0)),*])
            };
        }
        channel_cell!(
            "channel_seq_bounded",
            ["routines" ro, "crossbeam" cb, "flume" fl, "kanal" ka],
            seq(true, 10_000)
        );
        channel_cell!(
            "channel_seq_unbounded",
            ["routines" ro, "crossbeam" cb, "flume" fl, "kanal" ka],
            seq(false, 10_000)
        );
        // Every contended cell of `--bench channel` against its two closest peers (flume and
        // std are 2x or more behind in every cell of every criterion run so far): criterion
        // measures one contender after another, and this machine's speed drifts between
        // them; here the contenders take turns.
        macro_rules! contended {
            ($($label:literal $f:ident $args:tt),* $(,)?) => {
                $(channel_cell!($label, ["routines" ro, "crossbeam" cb, "kanal" ka], $f $args);)*
            };
        }
        contended!(
            "channel_spsc_0" run(1, 1, Some(0), 100_000),
            "channel_spsc_1" run(1, 1, Some(1), 100_000),
            "channel_spsc_1024" run(1, 1, Some(1024), 100_000),
            "channel_spsc_unbounded" run(1, 1, None, 100_000),
            "channel_mpsc_0" run(4, 1, Some(0), 25_000),
            "channel_mpsc_1" run(4, 1, Some(1), 25_000),
            "channel_mpsc_1024" run(4, 1, Some(1024), 25_000),
            "channel_mpsc_unbounded" run(4, 1, None, 25_000),
            "channel_mpmc_0" run(4, 4, Some(0), 25_000),
            "channel_mpmc_1" run(4, 4, Some(1), 25_000),
            "channel_mpmc_1024" run(4, 4, Some(1024), 25_000),
            "channel_mpmc_unbounded" run(4, 4, None, 25_000),
            "channel_pingpong_0" ping_pong(Some(0), 10_000),
            "channel_pingpong_1" ping_pong(Some(1), 10_000),
            "channel_pingpong_1024" ping_pong(Some(1024), 10_000),
            "channel_pingpong_unbounded" ping_pong(None, 10_000),
        );
        use routines_benches::{select4_crossbeam, select4_routines};
        macro_rules! select4_cell {
            ($label:expr, $capacity:expr) => {
                run(
                    $label,
                    &[
                        ("routines", || select4_routines($capacity, 25_000).0),
                        ("crossbeam", || select4_crossbeam($capacity, 25_000).0),
                    ],
                )
            };
        }
        select4_cell!("channel_select4_0", Some(0));
        select4_cell!("channel_select4_1", Some(1));
        select4_cell!("channel_select4_1024", Some(1024));
        select4_cell!("channel_select4_unbounded", None);
        // `channel!` against the generic channel it wraps (one producer, one consumer,
        // capacity 1024): a fresh channel per sample for the generic and the generated
        // handles, the one static channel for the static form. The printed ratio is the
        // form's time over the generic one's: at most 1 when it is at least as fast.
        use routines_benches::generated::{spsc, Generated, Plain, STATIC_CHANNEL};
        run(
            "channel_generated_1024",
            &[
                ("generic", || {
                    let (tx, rx) = routines::channel::bounded::<u64>(1024);
                    spsc(&Plain(tx), &Plain(rx), 100_000)
                }),
                ("channel!", || {
                    let (tx, rx) = Generated::new();
                    spsc(&tx, &rx, 100_000)
                }),
                ("static", || {
                    let (tx, rx) = (STATIC_CHANNEL.sender(), STATIC_CHANNEL.receiver());
                    spsc(&Plain(tx), &Plain(rx), 100_000)
                }),
            ],
        );
    }
    use routines_benches::{deque_crossbeam as cb, deque_routines as ours};
    run(
        "deque_push_pop",
        &[
            ("routines", || ours::push_pop(64 * 2_000).0),
            ("crossbeam", || cb::push_pop(64 * 2_000).0),
        ],
    );
    run(
        "deque_steal_uncontended",
        &[
            ("routines", || ours::steal_uncontended(64 * 2_000).0),
            ("crossbeam", || cb::steal_uncontended(64 * 2_000).0),
        ],
    );
    run(
        "deque_steal_contended",
        &[
            ("routines", || ours::steal_contended(100_000).0),
            ("crossbeam", || cb::steal_contended(100_000).0),
        ],
    );
    run(
        "ws_fib27",
        &[
            ("routines", || {
                fresh(fib_on::<routines::scheduler::Scheduler>)
            }),
            ("rayon", || fresh(fib_on::<rayon::ThreadPool>)),
        ],
    );
    run(
        "ws_fib30",
        &[
            ("routines", || {
                fresh(fib30_on::<routines::scheduler::Scheduler>)
            }),
            ("rayon", || fresh(fib30_on::<rayon::ThreadPool>)),
        ],
    );
    run(
        "ws_sum_4e6",
        &[
            ("routines", || {
                fresh(sum_on::<routines::scheduler::Scheduler>)
            }),
            ("rayon", || fresh(sum_on::<rayon::ThreadPool>)),
        ],
    );
    run(
        "ws_quicksort_3e5",
        &[
            ("routines", || {
                fresh(sort_on::<routines::scheduler::Scheduler>)
            }),
            ("rayon", || fresh(sort_on::<rayon::ThreadPool>)),
        ],
    );
    run(
        "ws_spawn_2e4",
        &[
            ("routines", || {
                fresh(spawn_on::<routines::scheduler::Scheduler>)
            }),
            ("rayon", || fresh(spawn_on::<rayon::ThreadPool>)),
        ],
    );
    run(
        "ws_scope_1000",
        &[
            ("routines", || {
                fresh(scope_on::<routines::scheduler::Scheduler>)
            }),
            ("rayon", || fresh(scope_on::<rayon::ThreadPool>)),
        ],
    );
    run(
        "rwlock_read_heavy_4",
        &[
            ("routines", || {
                rwlock_read_heavy::<routines::sync::RwLock<u64>>(4, OPS, 100).0
            }),
            ("std", || {
                rwlock_read_heavy::<std::sync::RwLock<u64>>(4, OPS, 100).0
            }),
            ("parking_lot", || {
                rwlock_read_heavy::<parking_lot::RwLock<u64>>(4, OPS, 100).0
            }),
        ],
    );
}
