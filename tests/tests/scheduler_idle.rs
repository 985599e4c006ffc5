//! `ThreadPool` and `Scheduler` when idle: a test binary of their own, because they measure
//! the CPU time of the whole process (other tests running beside them would count; the two
//! here take turns through `ALONE`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use routines::scheduler::{Scheduler, ThreadPool};
use routines_tests::{process_cpu_time, watchdog};

/// Held for each measurement, so that the tests of this binary never measure each other.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

// spec: SCH-12
#[test]
#[cfg_attr(miri, ignore = "measures CPU time over a second of wall time")]
fn an_idle_scheduler_stays_idle_with_a_spawn_every_millisecond() {
    let _alone = ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    watchdog(60, || {
        let s = Scheduler::new(4);
        let ran = Arc::new(AtomicUsize::new(0));
        let before = routines_tests::process_cpu_time();
        let start = std::time::Instant::now();
        let mut spawned = 0;
        while start.elapsed() < Duration::from_secs(1) {
            let ran = Arc::clone(&ran);
            s.spawn(move || {
                ran.fetch_add(1, Ordering::Relaxed);
            });
            spawned += 1;
            thread::sleep(Duration::from_millis(1));
        }
        let used = routines_tests::process_cpu_time() - before;
        s.shutdown();
        assert_eq!(ran.load(Ordering::Relaxed), spawned);
        eprintln!("{spawned} spawns over 1 s used {used:?} of process CPU");
        // rayon #642 measured 200 % (2 s per second). Generous: 40 % of one core, this
        // thread's sleeping loop included.
        assert!(used < Duration::from_millis(400), "used {used:?}");
    });
}

// spec: SCH-5
#[test]
#[cfg_attr(miri, ignore = "miri has no process CPU clock")]
fn an_empty_job_every_millisecond_leaves_the_pool_nearly_idle() {
    let _alone = ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    watchdog(30, || {
        let pool = ThreadPool::new(4);
        let start_cpu = process_cpu_time();
        let start = std::time::Instant::now();
        let mut jobs = 0;
        while start.elapsed() < Duration::from_secs(1) {
            pool.execute(|| {}).unwrap();
            jobs += 1;
            thread::sleep(Duration::from_millis(1));
        }
        let cpu = process_cpu_time() - start_cpu;
        pool.shutdown();
        // Workers that spun between jobs would burn up to 4 cores (rayon issue #642 saw
        // 200 %); parked ones a few percent of one. Generous bound: shared, noisy machines.
        assert!(
            cpu < Duration::from_millis(400),
            "{jobs} jobs over 1 s cost {cpu:?} of CPU"
        );
    });
}
