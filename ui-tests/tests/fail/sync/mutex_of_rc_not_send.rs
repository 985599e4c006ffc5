// spec: SY-5
// `Mutex<T>` hands `T` to other threads, so it is `Sync` only if `T: Send`.
use std::rc::Rc;
use routines::sync::Mutex;

fn main() {
    let m = Mutex::new(Rc::new(1));
    std::thread::scope(|s| {
        s.spawn(|| drop(m.lock().clone()));
    });
}
