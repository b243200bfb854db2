//! Small servers the host's components talk to in tests, on loopback with a
//! free port each: an HTTP echo, a server that never answers, and a TCP
//! echo. Each lives until it is dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
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

/// An HTTP/1.1 server that answers every request with 200 and a JSON echo
/// of it: `{"method", "path", "headers": {name: value}, "body"}`; it keeps
/// what it received for the test to look at.
pub struct HttpEcho {
    listener: Listener,
    received: Arc<Mutex<Vec<Value>>>,
}

impl HttpEcho {
    pub fn start() -> HttpEcho {
        let received = Arc::new(Mutex::new(vec![]));
        let log = received.clone();
        let listener = Listener::start(move |stream| {
            let mut reader = BufReader::new(&stream);
            while let Some(request) = read_request(&mut reader) {
                log.lock().unwrap().push(request.clone());
                let body = request.to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if (&stream).write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        });
        HttpEcho { listener, received }
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
