// spec: MAC-5
routines::channel! {
    pub Jobs: u32;
}

fn main() {}
