// spec: MAC-5
routines::channel! {
    pub Jobs: u32, capacity = 0;
}

fn main() {}
