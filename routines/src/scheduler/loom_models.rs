//! Loom models of the work-stealing scheduler's protocols: the sleep/wake protocol
//! (`sleep.rs`), a latch and a scope's count latch waking their sleeping owner, a
//! broadcast inbox post waking its worker, and `join`'s deque handoff. Child of
//! `scheduler` so that it reaches the crate-private job, latch and sleep types; run with
//! the other models (`loom_tests.rs`).

use super::job::StackJob;
use super::latch::{CountLatch, SpinLatch};
use super::sleep::Sleep;
use crate::lockfree::{SegQueue, Steal, Worker};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Arc;
use crate::loom::thread;
use crate::loom_tests::{model, model_bounded};

/// A stand-in for the scheduler's queues: a count of queued jobs. A push is a Release
/// read-modify-write with Release only (the real pushes are at least that strong).
struct Jobs(AtomicUsize);

impl Jobs {
    fn push(&self) {
        // Release: as a deque push (nothing else to publish here).
        self.0.fetch_add(1, Ordering::Release);
    }

    fn has_work(&self) -> bool {
        self.0.load(Ordering::Acquire) > 0
    }

    fn take(&self) -> bool {
        let n = self.0.load(Ordering::Acquire);
        n > 0
            && self
                .0
                .compare_exchange(n, n - 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }
}

/// The idle loop of `WorkerThread::wait_until`, reduced to the sleep protocol: take one job
/// (only while searching, as a steal), else sleep; then leave as `leave_search` does.
fn worker(sleep: &Sleep, jobs: &Jobs, index: usize) {
    let mut searching = false;
    let mut claimed = false;
    loop {
        if !searching {
            searching = sleep.start_searching(::core::mem::take(&mut claimed));
        }
        if searching && jobs.take() {
            sleep.stop_searching(|| jobs.has_work());
            return;
        }
        if searching {
            sleep.stop_searching_to_sleep();
            searching = false;
        }
        claimed = sleep.sleep(index, true, || sleep.nobody_searching() && jobs.has_work());
    }
}

/// One worker, one push from outside: the worker takes the job (a lost wake-up would leave
/// it asleep forever: loom reports the deadlock).
#[test]
fn scheduler_sleep_push_wakes_a_sleeping_worker() {
    model(|| {
        let shared = Arc::new((Sleep::new(1), Jobs(AtomicUsize::new(0))));
        let w = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || worker(&shared.0, &shared.1, 0))
        };
        shared.1.push();
        shared.0.notify_work();
        w.join().unwrap();
        assert_eq!(shared.0.searching(), 0);
    });
}

/// Two workers, two jobs pushed one after the other: both workers get one, whatever the
/// searching / sleeping / claiming interleaving (the cascade and the re-checks).
#[test]
fn scheduler_sleep_two_workers_two_pushes() {
    // Bound 2: bound 3 costs about a minute of CI, and the known mutations fail at bound 1.
    model_bounded(2, || {
        let shared = Arc::new((Sleep::new(2), Jobs(AtomicUsize::new(0))));
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || worker(&shared.0, &shared.1, i))
            })
            .collect();
        for _ in 0..2 {
            shared.1.push();
            shared.0.notify_work();
        }
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(shared.0.searching(), 0);
    });
}

/// `join`'s push has no fence (`notify_join_push`): a worker falling asleep may miss it.
/// Its owner then waits in a way that does not run the job (as a wait inside
/// `without_stealing` does for another worker's job); seeing its own deque non-empty
/// before it sleeps, it calls the fenced `notify_work` (`WorkerThread::sleep`), which
/// claims the sleeper or is seen by its re-check: the job runs and the owner wakes.
#[test]
fn scheduler_join_push_missed_by_a_sleeper_is_recovered_when_its_owner_sleeps() {
    model(|| {
        let shared = Arc::new((
            Sleep::new(2),
            Jobs(AtomicUsize::new(0)),
            AtomicUsize::new(0),
        ));
        let thief = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                worker(&shared.0, &shared.1, 1);
                // Release: pairs with the owner's Acquire load (the job ran).
                shared.2.store(1, Ordering::Release);
                shared.0.wake_worker(0);
            })
        };
        let (sleep, jobs, done) = (&shared.0, &shared.1, &shared.2);
        jobs.push();
        sleep.notify_join_push();
        // `WorkerThread::sleep`: our deque still holds the job.
        if jobs.has_work() {
            sleep.notify_work();
        }
        // Acquire (both): pairs with the thief's Release store.
        while done.load(Ordering::Acquire) == 0 {
            sleep.sleep(0, false, || done.load(Ordering::Acquire) == 1);
        }
        thief.join().unwrap();
        assert_eq!(sleep.searching(), 0);
    });
}

/// A latch set from another thread wakes its owner sleeping (unclaimable, as a wait that
/// does not steal) on its own queue.
#[test]
fn scheduler_latch_set_wakes_its_sleeping_owner() {
    model(|| {
        let sleep = Arc::new(Sleep::new(1));
        let done = Arc::new(AtomicUsize::new(0));
        let job = StackJob::new(
            {
                let done = Arc::clone(&done);
                move || done.store(1, Ordering::Relaxed)
            },
            SpinLatch::new(&sleep, 0),
        );
        // SAFETY: `job` outlives its run: we wait for its latch below.
        let job_ref = unsafe { job.as_job_ref() };
        let setter = thread::spawn(move || {
            // SAFETY: the only run of this job.
            unsafe { job_ref.run() }
        });
        while !job.latch.probe() {
            sleep.sleep(0, false, || job.latch.probe());
        }
        job.into_result();
        assert_eq!(done.load(Ordering::Relaxed), 1);
        setter.join().unwrap();
    });
}

/// `join`'s handoff: `b` is pushed on the owner's deque; a thief may steal and run it while
/// the owner pops it back or, finding it gone, sleeps on the latch. `b` runs exactly once
/// and the owner gets its result either way.
#[test]
fn scheduler_join_handoff_runs_b_exactly_once() {
    model(|| {
        let sleep = Arc::new(Sleep::new(2));
        let runs = Arc::new(AtomicUsize::new(0));
        let deque = Worker::new_lifo();
        let stealer = deque.stealer();
        let job_b = StackJob::new(
            {
                let runs = Arc::clone(&runs);
                move || runs.fetch_add(1, Ordering::Relaxed) + 7
            },
            SpinLatch::new(&sleep, 0),
        );
        // SAFETY: `job_b` stays here until its latch is set or it is taken back.
        let b_ref = unsafe { job_b.as_job_ref() };
        deque.push(b_ref);
        let thief = thread::spawn(move || loop {
            match stealer.steal() {
                Steal::Success(job) => {
                    // SAFETY: stolen, so this is its only run.
                    unsafe { job.run() };
                    return true;
                }
                Steal::Empty => return false,
                Steal::Retry => thread::yield_now(),
            }
        });
        let rb = match deque.pop() {
            Some(job) => {
                assert!(job == b_ref);
                job_b.run_inline()
            }
            None => {
                while !job_b.latch.probe() {
                    sleep.sleep(0, false, || job_b.latch.probe());
                }
                job_b.into_result()
            }
        };
        let stolen = thief.join().unwrap();
        assert_eq!(rb, 7);
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        let _ = stolen;
    });
}

/// A scope's count latch: two jobs finish on other threads while the owner sleeps on its
/// queue; the last decrement wakes it, and it sees both jobs' effects.
#[test]
fn scheduler_count_latch_last_job_wakes_the_owner() {
    model(|| {
        let sleep: &'static Sleep = Box::leak(Box::new(Sleep::new(1)));
        let latch: &'static CountLatch<'static> = Box::leak(Box::new(CountLatch::new(2, sleep, 0)));
        let effects = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..2)
            .map(|_| {
                let effects = Arc::clone(&effects);
                thread::spawn(move || {
                    effects.fetch_add(1, Ordering::Relaxed);
                    // SAFETY: the latch is leaked: live for the whole model.
                    unsafe { CountLatch::decrement(latch) };
                })
            })
            .collect();
        while !latch.probe() {
            sleep.sleep(0, false, || latch.probe());
        }
        assert_eq!(effects.load(Ordering::Relaxed), 2);
        for j in jobs {
            j.join().unwrap();
        }
    });
}

/// A broadcast job posted to a sleeping worker's inbox wakes that worker (its re-check
/// looks at its inbox).
#[test]
fn scheduler_inbox_post_wakes_its_worker() {
    model(|| {
        let shared = Arc::new((Sleep::new(1), SegQueue::<usize>::new()));
        let poster = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                shared.1.push(7);
                shared.0.wake_worker(0);
            })
        };
        let (sleep, inbox) = (&shared.0, &shared.1);
        let got = loop {
            if let Some(v) = inbox.pop() {
                break v;
            }
            sleep.sleep(0, true, || !inbox.is_empty());
        };
        assert_eq!(got, 7);
        poster.join().unwrap();
    });
}
