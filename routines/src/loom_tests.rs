//! Loom models of the parking protocol and of every wait/wake protocol in `sync`.
//!
//! Run with `RUSTFLAGS="--cfg routines_loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p routines
//! --release --lib`. The futex is emulated by a loom mutex + condvar per word, so a lost
//! wake-up shows up as a deadlock ("all threads blocked") in some interleaving; a timed wait
//! yields once and returns, modelling a timeout that fires at an arbitrary point.

use std::time::Instant;

use crate::core::WaitQueue;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::Arc;
use crate::loom::thread;
use crate::sync::{Barrier, Mutex, Once, RwLock, RwLockWriteGuard, Semaphore, WaitGroup};

/// Runs a loom model; `LOOM_MAX_PREEMPTIONS` sets the preemption bound (2 by default).
pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
    model_bounded(usize::MAX, f);
}

/// `model` with the preemption bound capped at `cap`, for a model whose run at the CI
/// bound would cost minutes.
pub(crate) fn model_bounded(cap: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    let bound = builder.preemption_bound.unwrap_or(2);
    builder.preemption_bound = Some(bound.min(cap));
    builder.check(f);
}

#[test]
fn wait_queue_no_lost_wakeup() {
    model(|| {
        let shared = Arc::new((AtomicBool::new(false), WaitQueue::new()));
        let setter = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                shared.0.store(true, Ordering::Relaxed);
                shared.1.notify_one();
            })
        };
        shared
            .1
            .wait_until(None, || shared.0.load(Ordering::Relaxed).then_some(()));
        setter.join().unwrap();
    });
}

/// Two waiters, each taking one permit; the notifier gives two, but barges in between
/// (takes the first permit back before giving it again). A claim that a waiter takes while
/// its wake-up went elsewhere, or a woken waiter leaving with another's registration, would
/// leave a waiter asleep with nobody left to wake it.
#[test]
fn wait_queue_claims_survive_barging() {
    model_bounded(2, || {
        let shared = Arc::new((AtomicUsize::new(0), WaitQueue::new()));
        let take = |permits: &AtomicUsize| {
            permits
                .fetch_update(Ordering::Acquire, Ordering::Relaxed, |p| p.checked_sub(1))
                .is_ok()
        };
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    shared.1.wait_until(None, || take(&shared.0).then_some(()));
                })
            })
            .collect();
        let give = |shared: &(AtomicUsize, WaitQueue)| {
            shared.0.fetch_add(1, Ordering::Release);
            shared.1.notify_one();
        };
        give(&shared);
        if take(&shared.0) {
            give(&shared);
        }
        give(&shared);
        for w in waiters {
            w.join().unwrap();
        }
    });
}

#[test]
fn wait_queue_timeout_returns_after_final_attempt() {
    model(|| {
        let shared = Arc::new((AtomicBool::new(false), WaitQueue::new()));
        let setter = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                shared.0.store(true, Ordering::Relaxed);
                shared.1.notify_all();
            })
        };
        // A deadline in the past: one attempt, then a timeout, never a hang.
        let got = shared.1.wait_until(Some(Instant::now()), || {
            shared.0.load(Ordering::Relaxed).then_some(())
        });
        setter.join().unwrap();
        if got.is_none() {
            // The setter may not have run yet; it must not be lost for a later waiter.
            shared
                .1
                .wait_until(None, || shared.0.load(Ordering::Relaxed).then_some(()));
        }
    });
}

#[test]
fn mutex_exclusion_and_handoff() {
    model(|| {
        let m = Arc::new(Mutex::new(0usize));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let m = Arc::clone(&m);
                thread::spawn(move || *m.lock() += 1)
            })
            .collect();
        *m.lock() += 1;
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*m.lock(), 3);
    });
}

#[test]
fn mutex_timeout_does_not_strand_waiters() {
    model(|| {
        let m = Arc::new(Mutex::new(0usize));
        let guard_holder = {
            let m = Arc::clone(&m);
            thread::spawn(move || *m.lock() += 1)
        };
        let timed = {
            let m = Arc::clone(&m);
            thread::spawn(move || {
                if let Some(mut g) = m.lock_deadline(Instant::now()) {
                    *g += 1;
                }
            })
        };
        *m.lock() += 1;
        guard_holder.join().unwrap();
        timed.join().unwrap();
        assert!((2..=3).contains(&*m.lock()));
    });
}

#[test]
fn rwlock_reader_writer_exclusion() {
    model(|| {
        let lock = Arc::new(RwLock::new(0usize));
        let writer = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || *lock.write() += 1)
        };
        let reader = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || {
                let v = *lock.read();
                assert!(v <= 2);
            })
        };
        *lock.write() += 1;
        writer.join().unwrap();
        reader.join().unwrap();
        assert_eq!(*lock.read(), 2);
    });
}

#[test]
fn rwlock_writer_handoff_with_parked_reader() {
    model(|| {
        let lock = Arc::new(RwLock::new(0usize));
        let w = lock.write();
        let writer = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || *lock.write() += 1)
        };
        let reader = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || *lock.read())
        };
        drop(w);
        writer.join().unwrap();
        reader.join().unwrap();
        assert_eq!(*lock.read(), 1);
    });
}

#[test]
fn rwlock_downgrade_admits_readers() {
    model(|| {
        let lock = Arc::new(RwLock::new(0usize));
        let mut w = lock.write();
        let reader = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || *lock.read())
        };
        *w = 5;
        let r = RwLockWriteGuard::downgrade(w);
        assert_eq!(*r, 5);
        assert_eq!(reader.join().unwrap(), 5);
        drop(r);
    });
}

#[test]
fn rwlock_timed_writer_does_not_strand_readers() {
    model(|| {
        let lock = Arc::new(RwLock::new(0usize));
        let r = lock.read();
        let timed_writer = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || {
                if let Some(mut w) = lock.write_deadline(Instant::now()) {
                    *w += 1;
                }
            })
        };
        let reader = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || *lock.read())
        };
        drop(r);
        timed_writer.join().unwrap();
        reader.join().unwrap();
    });
}

#[test]
fn semaphore_never_over_admits() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside) = (Arc::clone(&sem), Arc::clone(&inside));
                thread::spawn(move || {
                    let _permit = sem.acquire();
                    assert_eq!(inside.fetch_add(1, Ordering::Relaxed), 0);
                    inside.fetch_sub(1, Ordering::Relaxed);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_add_permits_wakes_all_needed() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let sem = Arc::clone(&sem);
                thread::spawn(move || sem.acquire().forget())
            })
            .collect();
        sem.add_permits(2);
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 0);
    });
}

#[test]
fn wait_group_wait_sees_all_done() {
    model(|| {
        let wg = Arc::new(WaitGroup::new());
        let work = Arc::new(AtomicUsize::new(0));
        wg.add(2);
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let (wg, work) = (Arc::clone(&wg), Arc::clone(&work));
                thread::spawn(move || {
                    work.fetch_add(1, Ordering::Relaxed);
                    wg.done();
                })
            })
            .collect();
        wg.wait();
        assert_eq!(work.load(Ordering::Relaxed), 2);
        for h in hs {
            h.join().unwrap();
        }
    });
}

#[test]
fn barrier_one_leader_per_generation() {
    model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let other = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let a = barrier.wait().is_leader();
                let b = barrier.wait().is_leader();
                (a, b)
            })
        };
        let a = barrier.wait().is_leader();
        let b = barrier.wait().is_leader();
        let (oa, ob) = other.join().unwrap();
        assert!(a ^ oa, "exactly one leader in generation 1");
        assert!(b ^ ob, "exactly one leader in generation 2");
    });
}

#[test]
fn once_runs_exactly_once() {
    model(|| {
        let once = Arc::new(Once::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let other = {
            let (once, runs) = (Arc::clone(&once), Arc::clone(&runs));
            thread::spawn(move || {
                once.call_once(|| {
                    runs.fetch_add(1, Ordering::Relaxed);
                });
                assert_eq!(runs.load(Ordering::Relaxed), 1);
            })
        };
        once.call_once(|| {
            runs.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        other.join().unwrap();
    });
}

#[test]
fn rwlock_two_writers_one_timed_and_a_reader() {
    model(|| {
        let lock = Arc::new(RwLock::new(0usize));
        let r = lock.read();
        let timed_writer = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || {
                if let Some(mut w) = lock.write_deadline(Instant::now()) {
                    *w += 1;
                }
            })
        };
        let writer = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || *lock.write() += 10)
        };
        drop(r);
        let seen = *lock.read();
        timed_writer.join().unwrap();
        writer.join().unwrap();
        assert!(seen <= 11);
        assert!(*lock.read() >= 10);
    });
}

#[test]
fn semaphore_timed_acquirer_does_not_swallow_a_permit() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let timed = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire_deadline(Instant::now()).is_some())
        };
        let blocking = {
            let sem = Arc::clone(&sem);
            thread::spawn(move || sem.acquire().forget())
        };
        sem.add_permits(1);
        // If the timed thread took the permit, it returned it on drop; either way the
        // blocking thread must get it.
        let _timed_got_it = timed.join().unwrap();
        blocking.join().unwrap();
        assert_eq!(sem.available_permits(), 0);
    });
}

mod lockfree {
    use super::model;
    use crate::lockfree::{MpmcQueue, MpscQueue, SegQueue};
    use crate::loom::sync::atomic::{AtomicBool, Ordering};
    use crate::loom::sync::Arc;
    use crate::loom::thread;

    #[test]
    fn mpmc_capacity_one_push_pop_race() {
        model(|| {
            let q = Arc::new(MpmcQueue::new(1));
            let producer = {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    let mut sent = 0;
                    for i in 0..2 {
                        if q.push(i).is_ok() {
                            sent += 1;
                        }
                    }
                    sent
                })
            };
            let mut got = Vec::new();
            for _ in 0..2 {
                if let Some(v) = q.pop() {
                    got.push(v);
                }
            }
            let sent = producer.join().unwrap();
            while let Some(v) = q.pop() {
                got.push(v);
            }
            assert_eq!(got.len(), sent, "nothing lost or duplicated");
            assert!(got.windows(2).all(|w| w[0] < w[1]), "FIFO: {got:?}");
        });
    }

    /// LF-6: weak calls racing each other and an exact push. A weak verdict may be
    /// spurious, but a success is a real push or pop: nothing lost or duplicated.
    #[test]
    fn mpmc_weak_calls_race() {
        model(|| {
            let q = Arc::new(MpmcQueue::new(1));
            let weak = {
                let q = Arc::clone(&q);
                thread::spawn(move || (0..2).filter(|&i| q.push_weak(i).is_ok()).count())
            };
            let exact = {
                let q = Arc::clone(&q);
                thread::spawn(move || usize::from(q.push(10).is_ok()))
            };
            let mut got: Vec<_> = (0..2).filter_map(|_| q.pop_weak()).collect();
            let sent = weak.join().unwrap() + exact.join().unwrap();
            got.extend(::core::iter::from_fn(|| q.pop()));
            assert_eq!(got.len(), sent, "nothing lost or duplicated: {got:?}");
            let ours: Vec<_> = got.iter().filter(|&&v| v < 10).collect();
            assert!(ours.windows(2).all(|w| w[0] < w[1]), "FIFO: {got:?}");
        });
    }

    #[test]
    fn mpmc_two_producers_one_consumer() {
        model(|| {
            let q = Arc::new(MpmcQueue::new(2));
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || q.push(p).is_ok())
                })
                .collect();
            let first = q.pop();
            let pushed = producers
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&ok| ok)
                .count();
            assert_eq!(pushed, 2, "capacity 2 never refuses 2 pushes");
            let mut all: Vec<_> = first
                .into_iter()
                .chain(::core::iter::from_fn(|| q.pop()))
                .collect();
            all.sort_unstable();
            assert_eq!(all, [0, 1]);
        });
    }

    #[test]
    fn mpmc_force_push_races_a_consumer() {
        model(|| {
            let q = Arc::new(MpmcQueue::new(1));
            q.push(0).unwrap();
            let consumer = {
                let q = Arc::clone(&q);
                thread::spawn(move || q.pop())
            };
            let evicted = q.force_push(1);
            let popped = consumer.join().unwrap();
            let rest = q.pop();
            // 0 leaves exactly once (evicted or popped); 1 is popped or still queued.
            let mut seen: Vec<_> = evicted.into_iter().chain(popped).chain(rest).collect();
            seen.sort_unstable();
            assert_eq!(seen, [0, 1]);
        });
    }

    #[test]
    fn seg_queue_block_switch_and_reclamation() {
        // Loom blocks hold 2 slots: 3 pushes cross a block boundary. A channel's queue: the
        // consumer thread becomes its sole consumer (LF-68), claiming by plain stores when it
        // finds the producer more than one position ahead.
        // spec: LF-68
        model(|| {
            let q = Arc::new(SegQueue::new_with_sole_consumer());
            let producer = {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    for i in 0..3 {
                        q.push(i);
                    }
                })
            };
            let consumer = {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    let mut got = Vec::new();
                    for _ in 0..3 {
                        if let Some(v) = q.pop() {
                            got.push(v);
                        }
                    }
                    got
                })
            };
            producer.join().unwrap();
            let mut got = consumer.join().unwrap();
            while let Some(v) = q.pop() {
                got.push(v);
            }
            assert_eq!(got, [0, 1, 2]);
        });
    }

    #[test]
    fn seg_queue_producers_race_to_install_the_first_block() {
        model(|| {
            let q = Arc::new(SegQueue::new());
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || q.push(p))
                })
                .collect();
            let first = q.pop();
            for p in producers {
                p.join().unwrap();
            }
            let mut all: Vec<_> = first
                .into_iter()
                .chain(::core::iter::from_fn(|| q.pop()))
                .collect();
            all.sort_unstable();
            assert_eq!(all, [0, 1]);
        });
    }

    /// `n` (at most 4) values pushed up front, then two consumers pop twice each: every
    /// value arrives once and the queue ends empty.
    fn two_consumers_take_all(n: usize) {
        model(move || {
            let q = Arc::new(SegQueue::new());
            for i in 0..n {
                q.push(i);
            }
            let other = {
                let q = Arc::clone(&q);
                thread::spawn(move || [q.pop(), q.pop()])
            };
            let mine = [q.pop(), q.pop()];
            let theirs = other.join().unwrap();
            let mut all: Vec<_> = mine.into_iter().chain(theirs).flatten().collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
            assert!(q.is_empty());
        });
    }

    /// One way to pop a `SegQueue`.
    type Pop = fn(&SegQueue<usize>) -> Option<usize>;

    /// A channel's queue of 4 values: the main thread pops the first and becomes the sole
    /// consumer (claiming with plain stores); then another thread's pop, `theirs`, revokes
    /// that while the main thread pops twice more with `mine`. Loom blocks hold 2 slots, so
    /// the pops cross a block switch. Every value arrives once.
    fn sole_consumer_revoked(mine: [Pop; 2], theirs: Pop) {
        model(move || {
            let q = Arc::new(SegQueue::new_with_sole_consumer());
            for i in 0..4 {
                q.push(i);
            }
            assert_eq!(q.pop(), Some(0));
            let other = {
                let q = Arc::clone(&q);
                thread::spawn(move || theirs(&q))
            };
            let mine = mine.map(|pop| pop(&q));
            let theirs = other.join().unwrap();
            let mut all: Vec<_> = mine.into_iter().chain([theirs]).flatten().collect();
            all.extend(q.pop());
            all.sort_unstable();
            assert_eq!(all, [1, 2, 3]);
            assert_eq!(q.pop(), None);
        });
    }

    #[test]
    fn seg_queue_a_second_consumer_takes_the_mode_from_the_sole_one() {
        // spec: LF-68
        sole_consumer_revoked([SegQueue::pop, SegQueue::pop], SegQueue::pop);
    }

    #[test]
    fn seg_queue_the_sole_consumers_cas_pops_race_a_revocation() {
        // spec: LF-68
        // The sole consumer's plain-store pops mixed with its CAS pops outside the protocol
        // (`pop_claiming`, a channel receiver's polling), which a revocation does not wait
        // for; the other thread polls too.
        sole_consumer_revoked(
            [SegQueue::pop_claiming, SegQueue::pop],
            SegQueue::pop_claiming,
        );
    }

    #[test]
    fn seg_queue_two_consumers_share_a_block() {
        two_consumers_take_all(3);
    }

    #[test]
    fn seg_queue_retired_block_is_freed_by_a_later_retirement() {
        // Loom blocks hold 2 slots: 4 values fill two blocks. A consumer may still be reading
        // slot 0 when the other retires the first block (it then waits on the retired list);
        // the retirement of the second block sweeps the list again.
        // spec: LF-11
        two_consumers_take_all(4);
    }

    #[test]
    fn mpsc_block_switch_and_reclamation_under_two_producers() {
        // Loom blocks hold 2 slots: the push that takes slot 1 links the second block, and the
        // consumer frees the first block after reading slot 1, racing the other producer.
        model(|| {
            let q = Arc::new(MpscQueue::new());
            let producers: Vec<_> = [0, 1]
                .into_iter()
                .map(|v| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || q.push(v))
                })
                .collect();
            let mut got = Vec::new();
            for _ in 0..2 {
                // SAFETY: the main thread is the only consumer.
                got.extend(unsafe { q.pop_unchecked() });
            }
            for p in producers {
                p.join().unwrap();
            }
            q.push(2); // into the second block, after the first was freed (or not)
                       // SAFETY: as above.
            got.extend(::core::iter::from_fn(|| unsafe { q.pop_unchecked() }));
            assert_eq!(got.pop(), Some(2));
            got.sort_unstable();
            assert_eq!(got, [0, 1]);
        });
    }

    #[test]
    fn mpsc_completed_push_is_visible_behind_an_unfinished_one() {
        model(|| {
            let q = Arc::new(MpscQueue::new());
            let done = Arc::new(AtomicBool::new(false));
            let slow = {
                let q = Arc::clone(&q);
                thread::spawn(move || q.push(1))
            };
            let fast = {
                let (q, done) = (Arc::clone(&q), Arc::clone(&done));
                thread::spawn(move || {
                    q.push(2);
                    done.store(true, Ordering::Release);
                })
            };
            // Acquire: pairs with the Release store after the fast push.
            let first = if done.load(Ordering::Acquire) {
                // SAFETY: the main thread is the only consumer.
                let v = unsafe { q.pop_unchecked() };
                assert!(v.is_some(), "a completed push was not visible");
                v
            } else {
                None
            };
            slow.join().unwrap();
            fast.join().unwrap();
            let rest = ::core::iter::from_fn(|| {
                // SAFETY: as above.
                unsafe { q.pop_unchecked() }
            });
            let mut all: Vec<_> = first.into_iter().chain(rest).collect();
            all.sort_unstable();
            assert_eq!(all, [1, 2]);
        });
    }
}

mod spsc {
    use super::model;
    use crate::lockfree::spsc::SpscQueue;
    use crate::loom::thread;

    #[test]
    fn spsc_transfers_in_order_through_a_wrapping_ring() {
        model(|| {
            let (mut tx, mut rx) = SpscQueue::new(2);
            let producer = thread::spawn(move || {
                let mut sent = 0;
                for i in 0..3 {
                    if tx.push(i).is_ok() {
                        sent += 1;
                    }
                }
                (tx, sent)
            });
            let mut got = Vec::new();
            for _ in 0..3 {
                if let Ok(v) = rx.pop() {
                    got.push(v);
                }
            }
            let (tx, sent) = producer.join().unwrap();
            while let Ok(v) = rx.pop() {
                got.push(v);
            }
            assert_eq!(got.len(), sent);
            assert!(got.windows(2).all(|w| w[0] < w[1]), "in order: {got:?}");
            assert!(!tx.is_abandoned());
        });
    }

    #[test]
    fn spsc_chunks_publish_and_release() {
        model(|| {
            let (mut tx, mut rx) = SpscQueue::new(2);
            let producer = thread::spawn(move || {
                let n = tx.slots();
                tx.write_chunk_uninit(n).unwrap().fill_from_iter(0..)
            });
            let seen = match rx.read_chunk(rx.slots()) {
                Ok(chunk) => chunk.into_iter().collect::<Vec<_>>(),
                Err(_) => Vec::new(),
            };
            let written = producer.join().unwrap();
            assert!(seen.len() <= written);
            assert!(seen.iter().enumerate().all(|(i, &v)| v == i));
        });
    }
}

mod treiber {
    use super::model;
    use crate::lockfree::TreiberStack;
    use crate::loom::sync::Arc;
    use crate::loom::thread;

    #[test]
    fn treiber_concurrent_push_pop_conserves_values() {
        model(|| {
            let stack = Arc::new(TreiberStack::new());
            stack.push(0);
            let other = {
                let stack = Arc::clone(&stack);
                thread::spawn(move || {
                    stack.push(1);
                    stack.pop()
                })
            };
            let mine = stack.pop();
            let theirs = other.join().unwrap();
            let mut all: Vec<_> = [mine, theirs, stack.pop(), stack.pop()]
                .into_iter()
                .flatten()
                .collect();
            all.sort_unstable();
            assert_eq!(all, [0, 1]);
            assert!(stack.is_empty());
        });
    }

    #[test]
    fn treiber_node_reuse_is_aba_safe() {
        model(|| {
            let stack = Arc::new(TreiberStack::new());
            stack.push(0);
            stack.push(1);
            let other = {
                let stack = Arc::clone(&stack);
                thread::spawn(move || {
                    // Pop and push back: the top node is recycled under the other thread.
                    let a = stack.pop();
                    let b = stack.pop();
                    for v in [a, b].into_iter().flatten() {
                        stack.push(v);
                    }
                })
            };
            let mine = stack.pop();
            other.join().unwrap();
            let mut all: Vec<_> = mine
                .into_iter()
                .chain(::core::iter::from_fn(|| stack.pop()))
                .collect();
            all.sort_unstable();
            assert_eq!(all, [0, 1]);
        });
    }
}

mod deque {
    use super::model;
    use crate::lockfree::{Steal, Worker};
    use crate::loom::thread;

    /// Drains what the owner still holds into `got` and checks that every element was taken
    /// exactly once.
    fn assert_taken_once(mut got: Vec<i32>, w: &Worker<i32>, want: &[i32]) {
        got.extend(::core::iter::from_fn(|| w.pop()));
        got.sort_unstable();
        assert_eq!(got, want, "each element taken exactly once");
    }

    /// `w` after pushing `0..n`.
    fn holding(w: Worker<i32>, n: i32) -> Worker<i32> {
        (0..n).for_each(|v| w.push(v));
        w
    }

    /// One `steal_batch_and_pop` into `mine`: what it took, in the order `mine` pops it.
    fn batch_steal_into(s: &crate::lockfree::Stealer<i32>, mine: &Worker<i32>) -> Vec<i32> {
        let first = s.steal_batch_and_pop(mine).success();
        first
            .into_iter()
            .chain(::core::iter::from_fn(|| mine.pop()))
            .collect()
    }

    fn steal_until_settled<T>(s: &crate::lockfree::Stealer<T>) -> Option<T> {
        loop {
            match s.steal() {
                Steal::Success(v) => return Some(v),
                Steal::Empty => return None,
                Steal::Retry => thread::yield_now(),
            }
        }
    }

    #[test]
    fn deque_last_element_owner_pop_races_a_thief() {
        model(|| {
            let w = holding(Worker::new_lifo(), 1);
            let s = w.stealer();
            let thief = thread::spawn(move || s.steal().success());
            let mine = w.pop();
            let theirs = thief.join().unwrap();
            assert_taken_once(mine.into_iter().chain(theirs).collect(), &w, &[0]);
        });
    }

    #[test]
    fn deque_owner_pop_and_two_steals_never_take_the_same_element() {
        // The Lê et al. fences: with two elements the owner pops without a CAS, so only the
        // fence pair keeps a second steal off the element the owner takes.
        model(|| {
            let w = holding(Worker::new_lifo(), 2);
            let s = w.stealer();
            let thief = thread::spawn(move || [s.steal().success(), s.steal().success()]);
            let mine = w.pop();
            let theirs = thief.join().unwrap();
            let got = mine.into_iter().chain(theirs.into_iter().flatten());
            assert_taken_once(got.collect(), &w, &[0, 1]);
        });
    }

    #[test]
    fn deque_growth_races_a_thief() {
        // Loom buffers start with 2 slots: the third push grows (and bumps the generation)
        // while the thief may be between its claim and its read.
        model(|| {
            let w = holding(Worker::new_lifo(), 2);
            let s = w.stealer();
            let thief = thread::spawn(move || s.steal().success());
            w.push(2);
            let theirs = thief.join().unwrap();
            assert_taken_once(theirs.into_iter().collect(), &w, &[0, 1, 2]);
        });
    }

    #[test]
    fn deque_slot_reuse_waits_for_an_in_flight_thief() {
        // The thief claims element 0; the owner then wraps around the 2-slot ring onto
        // element 0's slot: it must not write there before the thief has read it (loom's
        // cell tracking reports the race if it does).
        model(|| {
            let w = holding(Worker::new_fifo(), 1);
            let s = w.stealer();
            let thief = thread::spawn(move || steal_until_settled(&s));
            w.push(1);
            let first = w.pop();
            w.push(2);
            let theirs = thief.join().unwrap();
            assert_taken_once(first.into_iter().chain(theirs).collect(), &w, &[0, 1, 2]);
        });
    }

    #[test]
    fn deque_fifo_batch_steal_races_the_owner() {
        model(|| {
            let w = holding(Worker::new_fifo(), 2);
            let s = w.stealer();
            let thief = thread::spawn(move || batch_steal_into(&s, &Worker::new_lifo()));
            let mine = w.pop();
            let mut got = thief.join().unwrap();
            got.extend(mine);
            assert_taken_once(got, &w, &[0, 1]);
        });
    }

    /// The asymmetric fence (LF-67), with the barrier modelled: the owner starts disarmed and
    /// pops twice without a fence unless armed; the thief's first steal issues the barrier
    /// and arms, its second finds it armed (or, after the owner's quiet pop disarmed it under
    /// loom's `DISARM_AFTER` of 1, issues it again).
    #[test]
    fn deque_asymmetric_owner_pops_race_a_thief_that_arms() {
        model(|| {
            let w = holding(Worker::new_lifo_asymmetric(), 3);
            let s = w.stealer();
            let thief = thread::spawn(move || [s.steal().success(), s.steal().success()]);
            let mine = [w.pop(), w.pop()];
            let theirs = thief.join().unwrap();
            let got = mine.into_iter().chain(theirs).flatten();
            assert_taken_once(got.collect(), &w, &[0, 1, 2]);
        });
    }

    /// As above with a LIFO batch thief, which claims one element after another inside one
    /// entry.
    #[test]
    fn deque_asymmetric_owner_pops_race_a_batch_thief() {
        model(|| {
            let w = holding(Worker::new_lifo_asymmetric(), 3);
            let s = w.stealer();
            let thief = thread::spawn(move || batch_steal_into(&s, &Worker::new_fifo()));
            let mine = [w.pop(), w.pop()];
            let mut got = thief.join().unwrap();
            got.extend(mine.into_iter().flatten());
            assert_taken_once(got, &w, &[0, 1, 2]);
        });
    }

    #[test]
    fn deque_lifo_batch_steal_races_the_owner() {
        model(|| {
            let w = holding(Worker::new_lifo(), 3);
            let s = w.stealer();
            let thief = thread::spawn(move || batch_steal_into(&s, &Worker::new_fifo()));
            let mine = w.pop();
            let mut got = thief.join().unwrap();
            got.extend(mine);
            assert_taken_once(got, &w, &[0, 1, 2]);
        });
    }
}

mod channel {
    use super::model;
    use crate::channel::{bounded, unbounded, RecvError};
    use crate::loom::thread;

    #[test]
    fn channel_full_sender_parks_until_a_receive() {
        model(|| {
            let (tx, rx) = bounded(1);
            let sender = thread::spawn(move || {
                tx.send(0).unwrap();
                tx.send(1).unwrap(); // waits for the first receive
            });
            assert_eq!(rx.recv(), Ok(0));
            assert_eq!(rx.recv(), Ok(1));
            sender.join().unwrap();
        });
    }

    #[test]
    fn channel_last_sender_gone_drains_then_disconnects() {
        model(|| {
            let (tx, rx) = unbounded();
            let sender = thread::spawn(move || tx.send(7).unwrap());
            assert_eq!(rx.recv(), Ok(7));
            assert_eq!(rx.recv(), Err(RecvError)); // parks until the sender is dropped
            sender.join().unwrap();
        });
    }

    #[test]
    fn channel_close_wakes_a_parked_receiver_and_sender() {
        model(|| {
            let (tx, rx) = bounded::<u8>(1);
            tx.send(1).unwrap();
            let tx2 = tx.clone();
            let sender = thread::spawn(move || tx2.send(2).is_err()); // parks: full
            let closer = thread::spawn(move || rx.close());
            assert!(closer.join().unwrap());
            // The buffer stays full (nobody receives): the parked send must fail.
            assert!(sender.join().unwrap());
            assert!(tx.send(3).is_err());
        });
    }

    #[test]
    fn oneshot_send_wakes_a_parked_receiver() {
        model(|| {
            let (tx, rx) = crate::channel::oneshot();
            let sender = thread::spawn(move || tx.send(5).unwrap());
            assert_eq!(rx.recv(), Ok(5));
            sender.join().unwrap();
        });
    }

    #[test]
    fn oneshot_unsent_drop_wakes_a_parked_receiver() {
        model(|| {
            let (tx, rx) = crate::channel::oneshot::<u8>();
            let sender = thread::spawn(move || drop(tx));
            assert_eq!(rx.recv(), Err(RecvError));
            sender.join().unwrap();
        });
    }

    #[test]
    fn oneshot_receiver_drop_races_a_send_value_freed_once() {
        model(|| {
            let value = crate::loom::sync::Arc::new(());
            let (tx, rx) = crate::channel::oneshot();
            let sent = crate::loom::sync::Arc::clone(&value);
            let sender = thread::spawn(move || tx.send(sent).err().map(|e| e.into_inner()));
            drop(rx);
            let back = sender.join().unwrap();
            drop(back);
            // The value was either handed back or dropped with the receiver: exactly once.
            assert_eq!(crate::loom::sync::Arc::strong_count(&value), 1);
        });
    }

    #[test]
    fn zero_send_parks_until_a_receiver_takes_it() {
        model(|| {
            let (tx, rx) = bounded(0);
            let sender = thread::spawn(move || tx.send(1).is_ok());
            assert_eq!(rx.recv(), Ok(1));
            assert!(sender.join().unwrap());
        });
    }

    #[test]
    fn zero_timed_send_and_timed_receive_agree() {
        // Deadlines already past (real time must not steer a loom model): each side still
        // parks once and makes its final check under the lock, racing the other. The
        // exchange must happen for both sides or for neither.
        model(|| {
            let (tx, rx) = bounded(0);
            let sender =
                thread::spawn(move || tx.send_deadline(1, std::time::Instant::now()).is_ok());
            let got = rx.recv_deadline(std::time::Instant::now()).ok();
            let sent = sender.join().unwrap();
            assert_eq!(sent, got == Some(1));
        });
    }

    #[test]
    fn zero_disconnect_hands_a_parked_sender_its_value() {
        model(|| {
            let (tx, rx) = bounded::<u8>(0);
            let sender = thread::spawn(move || tx.send(3));
            drop(rx);
            assert_eq!(sender.join().unwrap(), Err(crate::channel::SendError(3)));
        });
    }

    // ---- selection (spec/channel.md SEL-*) ----

    #[test]
    fn select_wakes_on_the_second_of_two_buffered_channels() {
        model(|| {
            let (_tx1, rx1) = bounded::<u8>(1);
            let (tx2, rx2) = unbounded::<u8>();
            let sender = thread::spawn(move || tx2.send(9).unwrap());
            // Parks (registered with both) until the send claims it.
            crate::select! {
                recv(rx1) -> _ => panic!("nothing is sent on rx1"),
                recv(rx2) -> v => assert_eq!(v, Ok(9)),
            }
            sender.join().unwrap();
        });
    }

    #[test]
    fn select_send_waits_for_room() {
        model(|| {
            let (tx, rx) = bounded::<u8>(1);
            tx.send(1).unwrap();
            let receiver = thread::spawn(move || (rx.recv(), rx.recv()));
            crate::select! {
                send(tx, 2) -> res => assert!(res.is_ok()),
            }
            assert_eq!(receiver.join().unwrap(), (Ok(1), Ok(2)));
        });
    }

    #[test]
    fn select_is_woken_by_disconnection() {
        model(|| {
            let (tx, rx) = bounded::<u8>(0);
            let (_tx2, rx2) = unbounded::<u8>();
            let dropper = thread::spawn(move || drop(tx));
            crate::select! {
                recv(rx) -> v => assert_eq!(v, Err(RecvError)),
                recv(rx2) -> _ => panic!("nothing is sent on rx2"),
            }
            dropper.join().unwrap();
        });
    }

    #[test]
    fn select_recv_on_rendezvous_pairs_with_a_plain_send() {
        model(|| {
            let (tx, rx) = bounded::<u8>(0);
            let sender = thread::spawn(move || tx.send(4).is_ok());
            crate::select! {
                recv(rx) -> v => assert_eq!(v, Ok(4)),
            }
            assert!(sender.join().unwrap());
        });
    }

    #[test]
    fn select_send_on_rendezvous_pairs_with_a_plain_recv() {
        model(|| {
            let (tx, rx) = bounded::<u8>(0);
            let receiver = thread::spawn(move || rx.recv());
            crate::select! {
                send(tx, 6) -> res => assert!(res.is_ok()),
            }
            assert_eq!(receiver.join().unwrap(), Ok(6));
        });
    }

    #[test]
    fn two_selects_pair_on_a_rendezvous_channel() {
        model(|| {
            let (tx, rx) = bounded::<u8>(0);
            let receiver = thread::spawn(move || {
                crate::select! {
                    recv(rx) -> v => v,
                }
            });
            crate::select! {
                send(tx, 8) -> res => assert!(res.is_ok()),
            }
            assert_eq!(receiver.join().unwrap(), Ok(8));
        });
    }

    #[test]
    fn timed_out_select_does_not_lose_a_rendezvous() {
        model(|| {
            let (tx, rx) = bounded::<u8>(0);
            // The sender keeps `tx` alive (returns it), so the channel never disconnects.
            let sender = thread::spawn(move || {
                let sent = tx.send_timeout(3, std::time::Duration::ZERO).is_ok();
                (sent, tx)
            });
            // A deadline in the past: one round, then give up; the exchange happened for
            // both sides or for neither.
            let got = crate::select! {
                recv(rx) -> v => Some(v.unwrap()),
                default => None,
            };
            assert_eq!(sender.join().unwrap().0, got.is_some());
        });
    }
}

mod future {
    //! The settle/wait and settle/continuation protocols of `future::promise`.
    use super::model;
    use crate::future::promise;
    use crate::loom::thread;

    #[test]
    fn future_resolve_wakes_a_parked_waiter() {
        model(|| {
            let (p, f) = promise::<u32, ()>();
            let t = thread::spawn(move || p.resolve(7));
            assert_eq!(f.wait(), Ok(7));
            t.join().unwrap();
        });
    }

    #[test]
    fn future_unsettled_drop_breaks_a_parked_waiter() {
        model(|| {
            let (p, f) = promise::<u32, ()>();
            let t = thread::spawn(move || drop(p));
            assert!(f.wait().unwrap_err().is_broken());
            t.join().unwrap();
        });
    }

    /// Whichever side sets the second state bit runs the continuation, exactly once, with
    /// the outcome.
    #[test]
    fn future_continuation_races_the_settle() {
        model(|| {
            let (p, f) = promise::<u32, ()>();
            let t = thread::spawn(move || p.resolve(7));
            let mapped = f.map(|v| v + 1);
            assert_eq!(mapped.wait(), Ok(8));
            t.join().unwrap();
        });
    }

    /// Two shared waiters, one settler: both wake.
    #[test]
    fn future_shared_waiters_all_wake() {
        model(|| {
            let (p, f) = promise::<u32, ()>();
            let a = f.shared();
            let b = a.clone();
            let t = thread::spawn(move || b.wait());
            let s = thread::spawn(move || p.resolve(3));
            assert_eq!(a.wait(), Ok(3));
            assert_eq!(t.join().unwrap(), Ok(3));
            s.join().unwrap();
        });
    }
}

mod structured {
    //! The cancel/register protocol of `structured::CancelToken`.
    use super::model;
    use crate::loom::sync::atomic::{AtomicUsize, Ordering};
    use crate::loom::sync::Arc;
    use crate::loom::thread;
    use crate::structured::CancelToken;

    /// A registration racing the cancellation: the callback runs exactly once (queued and
    /// drained, or run at once by the registrar).
    #[test]
    fn cancel_races_a_registration_callback_runs_once() {
        model(|| {
            let t = CancelToken::new();
            let runs = Arc::new(AtomicUsize::new(0));
            let t2 = t.clone();
            let canceller = thread::spawn(move || t2.cancel());
            let r = Arc::clone(&runs);
            let reg = t.on_cancel(move || {
                r.fetch_add(1, Ordering::Relaxed);
            });
            canceller.join().unwrap();
            assert_eq!(runs.load(Ordering::Relaxed), 1);
            drop(reg);
        });
    }

    /// A registration dropped while the cancelling thread may be running its callback:
    /// after the drop, the callback has either not run at all or finished.
    #[test]
    fn cancel_registration_drop_waits_for_a_running_callback() {
        model(|| {
            let t = CancelToken::new();
            let state = Arc::new(AtomicUsize::new(0)); // 0 not run, 1 running, 2 done
            let s = Arc::clone(&state);
            let reg = t.on_cancel(move || {
                s.store(1, Ordering::Relaxed);
                s.store(2, Ordering::Relaxed);
            });
            let t2 = t.clone();
            let canceller = thread::spawn(move || t2.cancel());
            drop(reg);
            assert_ne!(state.load(Ordering::Relaxed), 1);
            canceller.join().unwrap();
        });
    }

    /// A parent cancelled while a child is being made: the child ends up cancelled.
    #[test]
    fn cancel_races_child_creation() {
        model(|| {
            let parent = CancelToken::new();
            let p2 = parent.clone();
            let canceller = thread::spawn(move || p2.cancel());
            let child = parent.child();
            canceller.join().unwrap();
            assert!(child.is_cancelled());
        });
    }

    /// A waiter parked on the token wakes at cancellation.
    #[test]
    fn cancel_wakes_a_parked_waiter() {
        model(|| {
            let t = CancelToken::new();
            let t2 = t.clone();
            let canceller = thread::spawn(move || t2.cancel());
            t.wait();
            canceller.join().unwrap();
        });
    }
}

mod scheduler {
    //! The submit/shutdown and join protocols of `scheduler::ThreadPool`. The work-stealing
    //! scheduler's models (sleep/wake, latches, `join`'s handoff) live in
    //! `scheduler/loom_models.rs`, beside the crate-private types they drive.
    use super::model;
    use crate::loom::sync::atomic::{AtomicUsize, Ordering};
    use crate::loom::sync::Arc;
    use crate::loom::thread;
    use crate::scheduler::ThreadPool;

    /// A submission racing `shutdown`: refused, or run before `shutdown` returns.
    #[test]
    fn pool_submission_races_shutdown() {
        model(|| {
            let pool = Arc::new(ThreadPool::new(1));
            let ran = Arc::new(AtomicUsize::new(0));
            let submitter = {
                let (pool, ran) = (Arc::clone(&pool), Arc::clone(&ran));
                thread::spawn(move || {
                    pool.execute(move || {
                        ran.fetch_add(1, Ordering::Relaxed);
                    })
                    .is_ok()
                })
            };
            pool.shutdown();
            let accepted = submitter.join().unwrap();
            // After both: an accepted job has run (the workers drained it before leaving).
            assert_eq!(ran.load(Ordering::Relaxed), usize::from(accepted));
        });
    }

    /// `jobs` jobs on one worker, then `join`: it returns only after every job's effects are
    /// visible, woken by the finish that makes `finished` reach `submitted`.
    fn join_after(jobs: usize) {
        model(move || {
            let pool = ThreadPool::new(1);
            let ran = Arc::new(AtomicUsize::new(0));
            for _ in 0..jobs {
                let r = Arc::clone(&ran);
                pool.execute(move || {
                    r.fetch_add(1, Ordering::Relaxed);
                })
                .unwrap();
            }
            pool.join();
            assert_eq!(ran.load(Ordering::Relaxed), jobs);
            pool.shutdown();
        });
    }

    #[test]
    fn pool_join_sees_finished_jobs() {
        join_after(1);
    }

    /// Only the second finish may wake `join`.
    #[test]
    fn pool_join_waits_for_the_last_of_two_jobs() {
        join_after(2);
    }
}
