// spec: SY-5
// A guard gives `&T` to whoever holds a reference to it: sharing the guard of a `!Sync`
// value across threads must not compile.
use std::cell::Cell;
use routines::sync::Mutex;

fn main() {
    let m = Mutex::new(Cell::new(1));
    let guard = m.lock();
    std::thread::scope(|s| {
        s.spawn(|| guard.set(2));
    });
}
