// spec: MAC-5
routines::channel! {
    pub Jobs: u32, capacity = 8, capacity = 16;
}

fn main() {}
