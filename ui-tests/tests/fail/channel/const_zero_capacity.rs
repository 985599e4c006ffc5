// spec: MAC-1, MAC-5
const NONE: usize = 0;

routines::channel! {
    pub Jobs: u32, capacity = NONE;
}

fn main() {
    let _ = Jobs::new();
}
