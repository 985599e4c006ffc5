//! Shared workload bodies for the benchmarks in `benches/`: each is written once, generic
//! over the lock under test, and run for every contender.
