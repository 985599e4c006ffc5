//! Channels: routines vs crossbeam-channel, flume, kanal and std::sync::mpsc, in one run:
//! throughput (spsc, mpsc 4x1, mpmc 4x4; std has no mpmc), seq (one thread), ping-pong
//! latency, and select over four channels (std and kanal have no select).
//!
//! `cargo bench -p routines-benches --bench channel`; see `benches/README.md`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use routines_benches::{
    channel_crossbeam, channel_flume, channel_kanal, channel_routines, channel_std,
    select4_crossbeam, select4_flume, select4_routines, timed_cell,
};

/// Messages per producer in one sample.
const PER: u64 = 100_000;

fn throughput(c: &mut Criterion) {
    type Run = fn(usize, usize, Option<usize>, u64) -> (Duration, u64);
    let contenders: [(&str, Run); 5] = [
        ("routines", channel_routines::run),
        ("crossbeam", channel_crossbeam::run),
        ("flume", channel_flume::run),
        ("kanal", channel_kanal::run),
        ("std", channel_std::run),
    ];
    for (shape, producers, consumers) in [("spsc", 1, 1), ("mpsc", 4, 1), ("mpmc", 4, 4)] {
        for (cap_name, capacity) in [
            ("0", Some(0)),
            ("1", Some(1)),
            ("1024", Some(1024)),
            ("unbounded", None),
        ] {
            let per = PER / producers as u64;
            let mut g = c.benchmark_group(format!("channel_{shape}_{cap_name}"));
            g.throughput(Throughput::Elements(per * producers as u64));
            for (name, run) in contenders {
                if name == "std" && consumers > 1 {
                    continue; // std::sync::mpsc has one receiver
                }
                let n = 1_000;
                assert_eq!(
                    run(producers, consumers, capacity, n).1,
                    producers as u64 * n * (n - 1) / 2,
                    "{name} loses or duplicates messages"
                );
                timed_cell(&mut g, name, shape, || {
                    run(producers, consumers, capacity, per).0
                });
            }
            g.finish();
        }
    }
}

const CAPACITIES: [(&str, Option<usize>); 4] = [
    ("0", Some(0)),
    ("1", Some(1)),
    ("1024", Some(1024)),
    ("unbounded", None),
];

fn seq(c: &mut Criterion) {
    type Seq = fn(bool, u64) -> (Duration, u64);
    let contenders: [(&str, Seq); 5] = [
        ("routines", channel_routines::seq),
        ("crossbeam", channel_crossbeam::seq),
        ("flume", channel_flume::seq),
        ("kanal", channel_kanal::seq),
        ("std", channel_std::seq),
    ];
    let n = 10_000;
    for (cap_name, bounded) in [("bounded", true), ("unbounded", false)] {
        let mut g = c.benchmark_group(format!("channel_seq_{cap_name}"));
        g.throughput(Throughput::Elements(n));
        for (name, seq) in contenders {
            assert_eq!(seq(bounded, n).1, n * (n - 1) / 2, "{name}");
            timed_cell(&mut g, name, "seq", || seq(bounded, n).0);
        }
        g.finish();
    }
}

fn ping_pong(c: &mut Criterion) {
    type PingPong = fn(Option<usize>, u64) -> (Duration, u64);
    let contenders: [(&str, PingPong); 5] = [
        ("routines", channel_routines::ping_pong),
        ("crossbeam", channel_crossbeam::ping_pong),
        ("flume", channel_flume::ping_pong),
        ("kanal", channel_kanal::ping_pong),
        ("std", channel_std::ping_pong),
    ];
    let rounds = 10_000;
    for (cap_name, capacity) in CAPACITIES {
        let mut g = c.benchmark_group(format!("channel_pingpong_{cap_name}"));
        g.throughput(Throughput::Elements(rounds));
        for (name, ping_pong) in contenders {
            assert_eq!(ping_pong(capacity, 100).1, 99 * 100 / 2, "{name}");
            timed_cell(&mut g, name, "pingpong", || ping_pong(capacity, rounds).0);
        }
        g.finish();
    }
}

fn select4(c: &mut Criterion) {
    type Select = fn(Option<usize>, u64) -> (Duration, u64);
    let contenders: [(&str, Select); 3] = [
        ("routines", select4_routines),
        ("crossbeam", select4_crossbeam),
        ("flume", select4_flume),
    ];
    let per = 25_000;
    for (cap_name, capacity) in CAPACITIES {
        let mut g = c.benchmark_group(format!("channel_select4_{cap_name}"));
        g.throughput(Throughput::Elements(4 * per));
        for (name, select) in contenders {
            assert_eq!(select(capacity, 100).1, 4 * 99 * 100 / 2, "{name}");
            timed_cell(&mut g, name, "select4", || select(capacity, per).0);
        }
        g.finish();
    }
}

/// `channel!`-generated (newtype, and static storage) vs the generic `bounded(1024)`: one
/// producer, one consumer. Each cell reuses one channel across its samples, as the static
/// one must; `--bench interleaved` has the same cell with a fresh channel per sample for
/// the other two.
fn generated(c: &mut Criterion) {
    use routines_benches::generated::{spsc, Generated, Plain, STATIC_CHANNEL};
    let n = PER;
    let mut g = c.benchmark_group("channel_generated_1024");
    g.throughput(Throughput::Elements(n));
    let (tx, rx) = routines::channel::bounded::<u64>(1024);
    let (tx, rx) = (Plain(tx), Plain(rx));
    timed_cell(&mut g, "routines", "generic", || spsc(&tx, &rx, n));
    let (tx, rx) = Generated::new();
    timed_cell(&mut g, "routines", "channel!", || spsc(&tx, &rx, n));
    let (tx, rx) = (
        Plain(STATIC_CHANNEL.sender()),
        Plain(STATIC_CHANNEL.receiver()),
    );
    timed_cell(&mut g, "routines", "static", || spsc(&tx, &rx, n));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = throughput, seq, ping_pong, select4, generated
}
criterion_main!(benches);
