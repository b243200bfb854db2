//! Servers the host's components talk to in tests, on loopback with a free
//! port each: an HTTP echo, a server that never answers, TCP and UDP echoes,
//! and Debian's Redis, Mosquitto and PostgreSQL started in a temporary
//! directory. Each lives until it is dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// How long a test server waits on a silent client before giving up on it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts connections on a loopback port and hands each to `serve` on a
/// thread of its own, until dropped.
struct Listener {
    address: SocketAddr,
    stopped: Arc<AtomicBool>,
}

impl Listener {
    fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> Listener {
        Listener::start_on(Ipv4Addr::LOCALHOST, serve)
    }

    fn start_on(ip: Ipv4Addr, serve: impl Fn(TcpStream) + Send + Sync + 'static) -> Listener {
        let listener = TcpListener::bind((ip, 0)).expect("bind a loopback port");
        let address = listener.local_addr().expect("local address");
        let stopped = Arc::new(AtomicBool::new(false));
        let serve = Arc::new(serve);
        let stop = stopped.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
                let serve = serve.clone();
                std::thread::spawn(move || serve(stream));
            }
        });
        Listener { address, stopped }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// An HTTP/1.1 server that answers every request with a JSON echo of it:
/// `{"method", "path", "headers": {name: value}, "body"}`, with status 200
/// unless told another ([`HttpEcho::answer`]); it keeps what it received
/// for the test to look at.
pub struct HttpEcho {
    listener: Listener,
    received: Arc<Mutex<Vec<Value>>>,
    status: Arc<AtomicU16>,
}

impl HttpEcho {
    pub fn start() -> HttpEcho {
        let received = Arc::new(Mutex::new(vec![]));
        let status = Arc::new(AtomicU16::new(200));
        let (log, answer) = (received.clone(), status.clone());
        let listener = Listener::start(move |stream| {
            let mut reader = BufReader::new(&stream);
            while let Some(request) = read_request(&mut reader) {
                log.lock().unwrap().push(request.clone());
                let body = request.to_string();
                let response = format!(
                    "HTTP/1.1 {} Echo\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    answer.load(Ordering::SeqCst),
                    body.len()
                );
                if (&stream).write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        });
        HttpEcho {
            listener,
            received,
            status,
        }
    }

    /// Answers every request from now on with `status`.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.address
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address())
    }

    /// The requests received so far, as echoed.
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }
}

/// Reads one request: its head, then a body of `content-length` bytes or
/// in chunks. `None` at the end of the connection or on a malformed request.
fn read_request(reader: &mut impl BufRead) -> Option<Value> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Map::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), json!(value.trim()));
    }
    let header = |name: &str| headers.get(name).and_then(Value::as_str);
    let body = if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        read_chunks(reader)?
    } else {
        let length: usize = header("content-length").map_or(Some(0), |n| n.parse().ok())?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        body
    };
    Some(json!({
        "method": method,
        "path": path,
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    }))
}

fn read_chunks(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = vec![];
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2]; // the chunk and its CRLF
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// A server that accepts connections and reads requests but never answers:
/// a stand-in for a stuck endpoint.
pub struct Silent {
    listener: Listener,
}

impl Silent {
    pub fn start() -> Silent {
        let listener = Listener::start(|mut stream| {
            let mut sink = [0; 1024];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        });
        Silent { listener }
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.address
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address())
    }
}

/// A TCP server that sends back whatever it receives; it counts the
/// connections it accepted.
pub struct TcpEcho {
    listener: Listener,
    connections: Arc<AtomicUsize>,
}

impl TcpEcho {
    pub fn start() -> TcpEcho {
        TcpEcho::start_on(Ipv4Addr::LOCALHOST)
    }

    /// On another loopback address (`127.x.y.z`: Linux routes all of
    /// 127.0.0.0/8 to loopback).
    pub fn start_on(ip: Ipv4Addr) -> TcpEcho {
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        let listener = Listener::start_on(ip, move |mut stream| {
            count.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buffer) {
                if stream.write_all(&buffer[..n]).is_err() {
                    return;
                }
            }
        });
        TcpEcho {
            listener,
            connections,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.address
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A UDP server that sends every datagram back to its sender; it counts
/// the datagrams it received.
pub struct UdpEcho {
    address: SocketAddr,
    datagrams: Arc<AtomicUsize>,
    stopped: Arc<AtomicBool>,
}

impl UdpEcho {
    pub fn start() -> UdpEcho {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = socket.local_addr().expect("local address");
        let datagrams = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicBool::new(false));
        let (count, stop) = (datagrams.clone(), stopped.clone());
        std::thread::spawn(move || {
            let mut buffer = [0; 65536];
            while let Ok((n, sender)) = socket.recv_from(&mut buffer) {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                count.fetch_add(1, Ordering::SeqCst);
                let _ = socket.send_to(&buffer[..n], sender);
            }
        });
        UdpEcho {
            address,
            datagrams,
            stopped,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn datagrams(&self) -> usize {
        self.datagrams.load(Ordering::SeqCst)
    }
}

impl Drop for UdpEcho {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the receive loop so that it sees the flag.
        if let Ok(socket) = UdpSocket::bind("127.0.0.1:0") {
            let _ = socket.send_to(b"", self.address);
        }
    }
}

/// A loopback port nothing listens on now (for servers that need a port
/// number up front).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// A program the test started; killed when dropped.
pub struct Service {
    name: &'static str,
    child: Child,
    pub port: u16,
    /// Its files (configuration, data), removed when dropped.
    pub dir: tempfile::TempDir,
}

impl Service {
    /// Starts `command` (which should listen on `port`) and waits until a
    /// TCP connection to the port succeeds and `ready` says so.
    fn start(
        name: &'static str,
        mut command: Command,
        port: u16,
        dir: tempfile::TempDir,
        ready: impl Fn(&mut TcpStream) -> bool,
    ) -> Service {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} (is it installed?): {e}"));
        let mut service = Service {
            name,
            child,
            port,
            dir,
        };
        let deadline = Instant::now() + SERVICE_START;
        loop {
            if let Ok(Some(status)) = service.child.try_wait() {
                panic!("{name} exited at start: {status}");
            }
            let ready = TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut stream| {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                ready(&mut stream)
            });
            if ready {
                return service;
            }
            assert!(Instant::now() < deadline, "{name} did not start in time");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        if self.child.wait().is_err() {
            eprintln!("{} did not exit", self.name);
        }
    }
}

/// How long a service may take to start on a loaded machine.
const SERVICE_START: Duration = Duration::from_secs(60);

/// Debian's `redis-server` on a loopback port, without persistence.
pub fn redis_server() -> Service {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new("redis-server");
    command
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
        .arg("--dir")
        .arg(dir.path());
    Service::start("redis-server", command, port, dir, |stream| {
        let mut answer = [0; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    })
}

impl Service {
    /// `redis://127.0.0.1:PORT`, for a Redis service.
    pub fn redis_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}
