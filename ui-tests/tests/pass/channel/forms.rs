// spec: MAC-1, MAC-2, MAC-3, MAC-4
//! The `channel!` forms of spec/macros.md compile and work.

use routines::channel;

#[derive(Debug, PartialEq)]
pub struct Job(u32);

const SMALL: usize = 2 * 2;

channel! {
    /// Jobs for the workers.
    pub Jobs: Job, capacity = 256;
    /// Capacity from a const expression.
    Small: u8, capacity = SMALL;
    Handoff: String, capacity = rendezvous;
    Firehose: u64, capacity = unbounded
}

channel! {
    /// Input events.
    #[derive(Debug, PartialEq)]
    pub enum Event, capacity = 64 {
        /// A mouse click.
        Click { x: i32, y: i32 },
        Key(char),
        Quit,
    }
}

channel! {
    /// The log lines.
    pub static LOG: String, capacity = 1024;
}

fn main() {
    assert_eq!(Jobs::CAPACITY, Some(256));
    assert_eq!(Small::CAPACITY, Some(4));
    assert_eq!(Handoff::CAPACITY, Some(0));
    assert_eq!(Firehose::CAPACITY, None);
    let (tx, rx) = Jobs::new();
    tx.send(Job(1)).unwrap();
    assert_eq!(rx.recv(), Ok(Job(1)));
    let (tx, rx) = Event::channel();
    tx.click(1, 2).unwrap();
    tx.key('k').unwrap();
    tx.quit().unwrap();
    drop(tx);
    let got: Vec<Event> = rx.into_iter().collect();
    assert_eq!(got, [Event::Click { x: 1, y: 2 }, Event::Key('k'), Event::Quit]);
    LOG.sender().send("line".to_string()).unwrap();
    assert_eq!(LOG.receiver().recv().as_deref(), Ok("line"));
    assert_eq!(LOG.sender().capacity(), Some(1024));
    let (tx, rx) = Firehose::new();
    tx.send(5).unwrap();
    routines::select! {
        recv(rx) -> v => assert_eq!(v, Ok(5)),
    }
}
