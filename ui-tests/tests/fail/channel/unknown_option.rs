// spec: MAC-5
routines::channel! {
    pub Jobs: u32, capacity = 8, buffer = 16;
}

fn main() {}
