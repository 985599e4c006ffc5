// spec: ST-9
// A task may borrow only what outlives the scope, not a local of the scope's body.
use routines::structured::scope;

fn main() {
    let _ = scope(|s| {
        let local = vec![1, 2, 3];
        s.spawn(|_| {
            let _ = local.len();
        });
        Ok::<(), ()>(())
    });
}
