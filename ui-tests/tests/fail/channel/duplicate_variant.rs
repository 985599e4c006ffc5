// spec: MAC-5
routines::channel! {
    pub enum Event, capacity = 8 {
        Click,
        Key(char),
        Click,
    }
}

fn main() {}
