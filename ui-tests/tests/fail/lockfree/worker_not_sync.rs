// spec: LF-60
// A deque has one owner at a time: `Worker` can move to another thread but not be shared.
use routines::lockfree::Worker;

fn main() {
    let w = Worker::new_lifo();
    std::thread::scope(|s| {
        s.spawn(|| w.push(1));
        s.spawn(|| w.pop());
    });
}
