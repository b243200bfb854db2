//! Hostile clients for the load tests: many connections that send their
//! request's head, or its body, a little at a time, and what the host did
//! to each of them. One thread drives all of a swarm's connections.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a swarm's connections send.
#[derive(Clone, Debug)]
pub enum Trickle {
    /// A request line, then one header line every interval, never ending
    /// the head.
    Headers,
    /// A complete head announcing `content_length` bytes, then one byte of
    /// body every interval.
    Body {
        method: String,
        path: String,
        content_length: usize,
        headers: Vec<(String, String)>,
    },
}

impl Trickle {
    pub fn body(method: &str, path: &str, content_length: usize) -> Self {
        Trickle::Body {
            method: method.into(),
            path: path.into(),
            content_length,
            headers: vec![],
        }
    }

    /// With this header in the head as well (a body trickle's only).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Trickle::Body { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    fn opening(&self) -> String {
        match self {
            Trickle::Headers => "GET / HTTP/1.1\r\nhost: attacker\r\n".into(),
            Trickle::Body {
                method,
                path,
                content_length,
                headers,
            } => {
                let mut head = format!(
                    "{method} {path} HTTP/1.1\r\nhost: attacker\r\ncontent-type: application/json\r\ncontent-length: {content_length}\r\n"
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head + "\r\n"
            }
        }
    }

    fn drip(&self) -> &'static [u8] {
        match self {
            Trickle::Headers => b"x-slow: 1\r\n",
            Trickle::Body { .. } => b"{",
        }
    }
}

/// What happened to one connection of a swarm.
#[derive(Clone, Debug, Default)]
pub struct Fate {
    /// What the host sent back (the status line comes first).
    pub received: Vec<u8>,
    /// When the host closed the connection, from the swarm's start.
    pub closed_after: Option<Duration>,
}

impl Fate {
    /// The status of the host's answer, if it sent one.
    pub fn status(&self) -> Option<u16> {
        let text = String::from_utf8_lossy(&self.received);
        let line = text.lines().next()?;
        line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    }
}

/// A swarm of trickling connections, running until [`Swarm::stop`].
pub struct Swarm {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Fate>>,
}

impl Swarm {
    /// Opens `connections` connections to `address` (`host:port`) and
    /// trickles on each every `every`. Times in the [`Fate`]s count from
    /// the first connection's opening.
    pub fn start(address: &str, trickle: Trickle, connections: usize, every: Duration) -> Swarm {
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let sockets: Vec<TcpStream> = (0..connections)
            .map(|_| open(address, &trickle.opening()))
            .collect();
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || drive(sockets, &trickle, every, &stop, started)
        });
        Swarm { stop, thread }
    }

    /// Stops trickling, closes every connection and says what happened.
    pub fn stop(self) -> Vec<Fate> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the swarm's thread")
    }
}

fn open(address: &str, opening: &str) -> TcpStream {
    let mut socket = TcpStream::connect(address).expect("connect");
    socket
        .write_all(opening.as_bytes())
        .expect("send the opening");
    socket.set_nonblocking(true).expect("non-blocking");
    socket
}

fn drive(
    mut sockets: Vec<TcpStream>,
    trickle: &Trickle,
    every: Duration,
    stop: &AtomicBool,
    started: Instant,
) -> Vec<Fate> {
    let mut fates = vec![Fate::default(); sockets.len()];
    let mut next_drip = started + every;
    while !stop.load(Ordering::Relaxed) {
        let dripping = Instant::now() >= next_drip;
        if dripping {
            next_drip += every;
        }
        for (socket, fate) in sockets.iter_mut().zip(fates.iter_mut()) {
            if fate.closed_after.is_some() {
                continue;
            }
            if dripping {
                // A refused write means the host closed the connection;
                // reading below notices it.
                let _ = socket.write_all(trickle.drip());
            }
            read_what_arrived(socket, fate, started);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for (socket, fate) in sockets.iter_mut().zip(fates.iter_mut()) {
        if fate.closed_after.is_none() {
            read_what_arrived(socket, fate, started);
        }
    }
    fates
}

fn read_what_arrived(socket: &mut TcpStream, fate: &mut Fate, started: Instant) {
    let mut buffer = [0u8; 4096];
    loop {
        match socket.read(&mut buffer) {
            Ok(0) => {
                fate.closed_after = Some(started.elapsed());
                return;
            }
            Ok(n) => fate.received.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(_) => {
                fate.closed_after = Some(started.elapsed());
                return;
            }
        }
    }
}

/// CPU time (user and system) a process has used so far, from
/// `/proc/<pid>/stat` (in clock ticks of 10 ms, Linux's `USER_HZ`).
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    // The command name (field 2) may hold spaces; count from after it.
    let after_name = &stat[stat.rfind(')').expect("(comm)") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// The median of some durations.
pub fn median(durations: &[Duration]) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}
