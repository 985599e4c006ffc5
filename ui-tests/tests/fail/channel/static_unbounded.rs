// spec: MAC-5
routines::channel! {
    pub static LOG: String, capacity = unbounded;
}

fn main() {}
