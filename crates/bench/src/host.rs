//! The host under test: started as `spin-host up` on a free loopback port,
//! with its request log going to a file, and killed when dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How to start the host.
pub struct HostSpec<'a> {
    pub binary: &'a Path,
    pub manifest: &'a Path,
    pub state_dir: &'a Path,
    pub env: &'a [(&'a str, &'a str)],
    pub args: &'a [&'a str],
    pub log: PathBuf,
}

pub struct Host {
    child: Child,
    pub addr: SocketAddr,
    spawned: Instant,
    state_dir: PathBuf,
}

impl Host {
    pub fn start(spec: &HostSpec) -> Result<Host> {
        let addr = free_port()?;
        let log = std::fs::File::create(&spec.log)
            .with_context(|| format!("cannot create {}", spec.log.display()))?;
        let mut command = Command::new(spec.binary);
        command
            .arg("up")
            .arg("--from")
            .arg(spec.manifest)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--state-dir")
            .arg(spec.state_dir)
            .args(spec.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (key, value) in spec.env {
            command.env(key, value);
        }
        let spawned = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", spec.binary.display()))?;
        Ok(Host {
            child,
            addr,
            spawned,
            state_dir: spec.state_dir.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Polls the health route until it answers; returns the time since
    /// the host was spawned.
    pub fn wait_until_serving(&mut self, timeout: Duration) -> Result<Duration> {
        loop {
            if let Ok((200, _)) = send(self.addr, "GET", "/.well-known/spin/health", &[], "") {
                return Ok(self.spawned.elapsed());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("the host exited ({status}) before serving");
            }
            if self.spawned.elapsed() > timeout {
                bail!("the host did not serve within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The time since the host was spawned.
    pub fn since_spawn(&self) -> Duration {
        self.spawned.elapsed()
    }

    /// Peak resident set size so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")
    }
}

impl Drop for Host {
    /// Kills the host and deletes its state. A host under load leaves a
    /// gigabyte or so of WAL, and the kernel writing it back would slow
    /// the next part's commits and checkpoints; deleted, it is never written.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// A port nobody listens on right now.
fn free_port() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// One HTTP/1.1 exchange on a fresh connection: the status and the body.
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status line"))?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let chunked = head.lines().any(|line| {
        line.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

/// A chunked body's data, its chunks put together.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}
