// spec: MAC-5
routines::channel! {
    pub Jobs<T>: T, capacity = 8;
}

fn main() {}
