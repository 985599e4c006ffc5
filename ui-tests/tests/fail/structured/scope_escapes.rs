// spec: ST-9
// A `Scope` cannot outlive its `scope` call: spawning after the scope finished does not
// compile.
use routines::structured::scope;

fn main() {
    let mut escaped = None;
    let _ = scope(|s| {
        escaped = Some(s.clone());
        Ok::<(), ()>(())
    });
    escaped.unwrap().spawn(|_| {});
}
