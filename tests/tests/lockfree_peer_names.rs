//! The crossbeam-queue API surface, spelled through the names the conformance adapter uses
//! (`../shared/conformance/adapters/crossbeam-queue.rs`). The full peer suite runs in CI via
//! `../shared/conformance/peer-suite crossbeam-queue`; this test keeps the names from drifting
//! between runs of it.

use routines::lockfree::{MpmcQueue as ArrayQueue, SegQueue};

// spec: LF-24
#[test]
fn crossbeam_queue_api_surface() {
    let mut q: ArrayQueue<i32> = ArrayQueue::new(2);
    assert_eq!(q.push(1), Ok(()));
    assert_eq!(q.push_mut(2), Ok(()));
    assert_eq!(q.force_push(3), Some(1));
    assert_eq!(q.pop_mut(), Some(2));
    assert_eq!(
        (q.len(), q.capacity(), q.is_empty(), q.is_full()),
        (1, 2, false, false)
    );
    assert_eq!(q.into_iter().collect::<Vec<_>>(), [3]);

    let mut s = SegQueue::new();
    s.push(1);
    s.push_mut(2);
    assert_eq!(s.pop(), Some(1));
    assert_eq!(s.pop_mut(), Some(2));
    assert!(s.is_empty());
    assert_eq!(s.len(), 0);
    s.push(5);
    assert_eq!(s.into_iter().collect::<Vec<_>>(), [5]);
}
