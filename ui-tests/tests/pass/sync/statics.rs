// spec: SY-4
// Every primitive can initialise a `static` (const constructors).
use routines::sync::{Barrier, Latch, Mutex, Once, RwLock, Semaphore, WaitGroup};

static MUTEX: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static RWLOCK: RwLock<u32> = RwLock::new(0);
static SEMAPHORE: Semaphore = Semaphore::new(4);
static WAIT_GROUP: WaitGroup = WaitGroup::new();
static BARRIER: Barrier = Barrier::new(1);
static LATCH: Latch = Latch::new(0);
static ONCE: Once = Once::new();

fn main() {
    MUTEX.lock().push(1);
    *RWLOCK.write() += 1;
    drop(SEMAPHORE.acquire());
    WAIT_GROUP.wait();
    BARRIER.wait();
    LATCH.wait();
    ONCE.call_once(|| {});
}
