//! Servers the host's components talk to in tests, on loopback with a free
//! port each: an HTTP echo, a server that never answers, TCP and UDP echoes,
//! and Debian's Redis, Mosquitto and PostgreSQL started in a temporary
//! directory. Each lives until it is dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
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
/// `{"method", "path", "headers": {name: value}, "body", "client"}` (the
/// client's address: requests sent on one connection share it), with status 200
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
            let client = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let mut reader = BufReader::new(&stream);
            while let Some(mut request) = read_request(&mut reader) {
                request["client"] = json!(client);
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

    /// The connections the server has begun to serve. A connection counts
    /// once the server has accepted it, which can be well after the client
    /// saw it connect (the kernel completes the handshake on its own): only
    /// an answer from the server shows that it has counted a connection.
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

/// A program the test started; stopped when dropped.
pub struct Service {
    name: &'static str,
    child: Child,
    pub port: u16,
    /// Its files (configuration, data), removed when dropped.
    pub dir: tempfile::TempDir,
    /// The signal that stops it cleanly (`kill -s`), if SIGKILL would not.
    stop_signal: Option<&'static str>,
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
        let log_path = dir.path().join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path).expect("create the service's log");
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} (is it installed?): {e}"));
        let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
        let mut service = Service {
            name,
            child,
            port,
            dir,
            stop_signal: None,
        };
        let deadline = Instant::now() + SERVICE_START;
        loop {
            if let Ok(Some(status)) = service.child.try_wait() {
                panic!("{name} exited at start: {status}\n{}", log());
            }
            let ready = TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut stream| {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                ready(&mut stream)
            });
            if ready {
                return service;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not start in time\n{}",
                log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(signal) = self.stop_signal {
            let pid = self.child.id().to_string();
            let _ = Command::new("kill").args(["-s", signal, &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        if self.child.wait().is_err() {
            eprintln!("{} did not exit", self.name);
        }
    }
}

/// A Debian program by name: on the PATH, or in the system directories
/// Debian installs daemons to (/usr/sbin is not on every user's PATH).
pub fn program(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>());
    on_path
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
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

    /// How many keys a Redis service holds (DBSIZE).
    pub fn redis_key_count(&self) -> u64 {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to Redis");
        stream.write_all(b"DBSIZE\r\n").expect("send DBSIZE");
        let mut answer = String::new();
        BufReader::new(stream)
            .read_line(&mut answer)
            .expect("read the reply");
        answer
            .trim_end()
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not an integer reply: {answer}"))
    }

    /// A Redis key's value, read with GET as any Redis client would.
    pub fn redis_get(&self, key: &str) -> Option<Vec<u8>> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to Redis");
        let command = format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len());
        stream.write_all(command.as_bytes()).expect("send GET");
        let mut reader = BufReader::new(stream);
        let mut header = String::new();
        reader.read_line(&mut header).expect("read the reply");
        let length: i64 = header
            .trim_end()
            .strip_prefix('$')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not a bulk reply: {header}"));
        let length = usize::try_from(length).ok()?; // -1: no such key
        let mut value = vec![0; length + 2];
        reader.read_exact(&mut value).expect("read the value");
        value.truncate(length);
        Some(value)
    }
}

/// Debian's `mosquitto` on a loopback port, anonymous clients allowed,
/// nothing persisted.
pub fn mosquitto() -> Service {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mosquitto.conf");
    std::fs::write(
        &config,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
    )
    .expect("write mosquitto.conf");
    let mut command = Command::new(program("mosquitto"));
    command.arg("-c").arg(&config);
    Service::start("mosquitto", command, port, dir, |stream| {
        mqtt_connect(stream, "readiness-check").is_some()
    })
}

/// An MQTT 3.1.1 client that subscribes to a topic filter (at QoS 0) and
/// reads what is published there: a test's view of what reached the broker.
pub struct MqttSubscriber {
    stream: TcpStream,
}

impl MqttSubscriber {
    pub fn subscribe(port: u16, filter: &str) -> MqttSubscriber {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the broker");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
        mqtt_connect(&mut stream, "test-subscriber").expect("CONNACK");
        let mut body = vec![0, 1]; // packet id
        push_string(&mut body, filter);
        body.push(0); // QoS 0
        stream
            .write_all(&packet(0x82, &body))
            .expect("send SUBSCRIBE");
        let (kind, _) = read_packet(&mut stream).expect("SUBACK");
        assert_eq!(kind >> 4, 9, "the broker answers SUBSCRIBE with SUBACK");
        MqttSubscriber { stream }
    }

    /// The next message published under the filter: its topic and payload.
    /// None when nothing comes within the read timeout.
    pub fn next_message(&mut self) -> Option<(String, Vec<u8>)> {
        loop {
            let (kind, body) = read_packet(&mut self.stream)?;
            if kind >> 4 != 3 {
                continue; // not a PUBLISH
            }
            let topic_length = usize::from(u16::from_be_bytes([body[0], body[1]]));
            let topic = String::from_utf8_lossy(&body[2..2 + topic_length]).into_owned();
            let qos = (kind >> 1) & 3;
            let payload_start = 2 + topic_length + if qos > 0 { 2 } else { 0 };
            return Some((topic, body[payload_start..].to_vec()));
        }
    }
}

/// Sends CONNECT (clean session) and reads CONNACK; Some when accepted.
fn mqtt_connect(stream: &mut TcpStream, client_id: &str) -> Option<()> {
    let mut body = vec![];
    push_string(&mut body, "MQTT");
    body.extend_from_slice(&[4, 0x02, 0, 60]); // level 4, clean session, keep-alive 60 s
    push_string(&mut body, client_id);
    stream.write_all(&packet(0x10, &body)).ok()?;
    let (kind, answer) = read_packet(stream)?;
    (kind >> 4 == 2 && answer.get(1) == Some(&0)).then_some(())
}

fn push_string(buffer: &mut Vec<u8>, text: &str) {
    let length = u16::try_from(text.len()).expect("short string");
    buffer.extend_from_slice(&length.to_be_bytes());
    buffer.extend_from_slice(text.as_bytes());
}

fn packet(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut packet = vec![kind];
    let mut length = body.len();
    loop {
        let mut byte = (length % 128) as u8;
        length /= 128;
        if length > 0 {
            byte |= 0x80;
        }
        packet.push(byte);
        if length == 0 {
            break;
        }
    }
    packet.extend_from_slice(body);
    packet
}

fn read_packet(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut byte = [0; 1];
    stream.read_exact(&mut byte).ok()?;
    let kind = byte[0];
    let (mut length, mut shift) = (0usize, 0);
    loop {
        stream.read_exact(&mut byte).ok()?;
        length |= usize::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).ok()?;
    Some((kind, body))
}

/// Debian's PostgreSQL: a fresh cluster (`initdb`) on a loopback port that
/// trusts its clients, superuser `postgres`, database `postgres`. When the
/// tests run as root it runs as the `postgres` account (PostgreSQL refuses
/// to run as root).
pub fn postgres() -> Service {
    let bin = postgres_bin_dir();
    let port = free_port();
    let dir = tempfile::Builder::new()
        .prefix("pg-test-")
        .tempdir()
        .expect("temp dir");
    let account = running_as_root().then(|| account_ids("postgres"));
    if let Some((uid, gid)) = account {
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown the data dir");
    }
    let as_account = |command: &mut Command| {
        if let Some((uid, gid)) = account {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(gid);
        }
        command.current_dir(dir.path());
    };
    let data = dir.path().join("data");
    let mut initdb = Command::new(bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    as_account(&mut initdb);
    let init = initdb.output().expect("run initdb");
    assert!(
        init.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let mut server = Command::new(bin.join("postgres"));
    server
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", dir.path().display()))
        .args(["-c", "fsync=off"]);
    as_account(&mut server);
    let mut service = Service::start("postgres", server, port, dir, postgres_accepts);
    service.stop_signal = Some("INT");
    service
}

impl Service {
    /// A connection string for a PostgreSQL service.
    pub fn postgres_address(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }
}

/// Whether PostgreSQL takes a session (it accepts TCP connections before
/// it is ready): a startup message answered with an authentication
/// request ('R') rather than an error ('E').
fn postgres_accepts(stream: &mut TcpStream) -> bool {
    let mut body = 196_608u32.to_be_bytes().to_vec(); // protocol 3.0
    for text in ["user", "postgres", "database", "postgres", ""] {
        body.extend_from_slice(text.as_bytes());
        body.push(0);
    }
    let length = u32::try_from(body.len() + 4).expect("short message");
    let mut message = length.to_be_bytes().to_vec();
    message.extend_from_slice(&body);
    let mut answer = [0; 1];
    stream.write_all(&message).is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && answer[0] == b'R'
}

/// Where Debian keeps initdb and postgres (/usr/lib/postgresql/VERSION/bin,
/// not on the PATH).
fn postgres_bin_dir() -> PathBuf {
    let on_path = program("initdb");
    if let Ok(real) = on_path.canonicalize()
        && let Some(dir) = real.parent()
        && dir.join("postgres").is_file()
    {
        return dir.to_path_buf();
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort_by_key(|dir| {
        let version = dir
            .parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str());
        version.and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
    });
    versions
        .pop()
        .filter(|dir| dir.join("initdb").is_file())
        .expect("PostgreSQL is not installed (Debian package postgresql)")
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|process| process.uid() == 0)
}

/// The user and group ids of a system account, from /etc/passwd.
fn account_ids(name: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&name) && fields.len() > 3)
        .and_then(|fields| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
        .unwrap_or_else(|| panic!("no '{name}' account (is PostgreSQL installed?)"))
}

/// Where nginx sends requests whose path starts with `prefix`: to the
/// `backends` in turn (round robin).
pub struct ProxyRoute<'a> {
    pub prefix: &'a str,
    pub backends: &'a [SocketAddr],
}

/// Debian's nginx on a loopback port as a reverse proxy: each request goes
/// to the route with the longest matching prefix (as nginx matches
/// `location` prefixes). A backend's failure is the client's (no retry on
/// another backend), so a test sees every failed request.
pub fn nginx(routes: &[ProxyRoute<'_>]) -> Service {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut upstreams = String::new();
    let mut locations = String::new();
    for (i, route) in routes.iter().enumerate() {
        let servers: String = route
            .backends
            .iter()
            .map(|backend| format!("        server {backend};\n"))
            .collect();
        upstreams.push_str(&format!("    upstream route{i} {{\n{servers}    }}\n"));
        locations.push_str(&format!(
            "        location {} {{ proxy_pass http://route{i}; }}\n",
            route.prefix
        ));
    }
    let temp = dir.path().display();
    let config = format!(
        "daemon off;\nworker_processes 2;\npid {temp}/nginx.pid;\nerror_log {temp}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n    access_log off;\n\
             client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n\
             fastcgi_temp_path {temp}/fastcgi;\n    uwsgi_temp_path {temp}/uwsgi;\n\
             scgi_temp_path {temp}/scgi;\n\
             proxy_http_version 1.1;\n    proxy_set_header Connection \"\";\n\
             proxy_set_header Host $http_host;\n    proxy_buffering off;\n\
             proxy_next_upstream off;\n    proxy_read_timeout 120s;\n\
         {upstreams}    server {{\n        listen 127.0.0.1:{port};\n{locations}    }}\n}}\n"
    );
    let config_path = dir.path().join("nginx.conf");
    std::fs::write(&config_path, config).expect("write nginx.conf");
    let mut command = Command::new(program("nginx"));
    command
        .arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .arg("-c")
        .arg(&config_path);
    Service::start("nginx", command, port, dir, |stream| {
        let mut answer = [0; 12];
        stream
            .write_all(b"GET /.well-known/spin/health HTTP/1.0\r\n\r\n")
            .is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && answer.ends_with(b" 200")
    })
}

impl Service {
    /// `http://127.0.0.1:PORT`, for an HTTP service.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
