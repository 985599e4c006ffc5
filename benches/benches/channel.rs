//! Channels: routines vs crossbeam-channel, flume and kanal, in one run (std::sync::mpsc, the
//! ping-pong and select scenarios come with the rest of issue 4).
//!
//! `cargo bench -p routines-benches --bench channel`; see `benches/README.md`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use routines_benches::{
    channel_crossbeam, channel_flume, channel_kanal, channel_routines, timed_cell,
};

/// Messages per producer in one sample.
const PER: u64 = 100_000;

fn throughput(c: &mut Criterion) {
    type Run = fn(usize, usize, Option<usize>, u64) -> (Duration, u64);
    let contenders: [(&str, Run); 4] = [
        ("routines", channel_routines::run),
        ("crossbeam", channel_crossbeam::run),
        ("flume", channel_flume::run),
        ("kanal", channel_kanal::run),
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

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = throughput
}
criterion_main!(benches);
