// spec: MAC-5
routines::channel! {
    pub enum Command, capacity = 8 {
        Send(String),
        Stop,
    }
}

fn main() {}
