//! Just enough of an HTTP/2 client (RFC 9113, prior knowledge, HPACK
//! literals) to open many streams on one connection and trickle their
//! bodies, the way a hostile client would.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;
pub const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
pub const REFUSED_STREAM: u32 = 0x7;

pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

pub struct H2 {
    socket: TcpStream,
    next_stream: u32,
}

impl H2 {
    /// Opens a connection and exchanges SETTINGS; returns the server's.
    /// The client's HPACK table size is 0, so that the server's header
    /// blocks can be read without keeping a dynamic table.
    pub fn connect(address: &str) -> (H2, BTreeMap<u16, u32>) {
        let mut socket = TcpStream::connect(address).expect("connect");
        socket.write_all(PREFACE).unwrap();
        let mut h2 = H2 {
            socket,
            next_stream: 1,
        };
        let mut no_dynamic_table = SETTINGS_HEADER_TABLE_SIZE.to_be_bytes().to_vec();
        no_dynamic_table.extend_from_slice(&0u32.to_be_bytes());
        h2.send(SETTINGS, 0, 0, &no_dynamic_table);
        loop {
            let frame = h2
                .read(Duration::from_secs(10))
                .expect("the server's SETTINGS");
            if frame.kind == SETTINGS && frame.flags & ACK == 0 {
                h2.send(SETTINGS, ACK, 0, &[]);
                let settings = frame
                    .payload
                    .chunks(6)
                    .map(|s| {
                        let id = u16::from_be_bytes([s[0], s[1]]);
                        (id, u32::from_be_bytes([s[2], s[3], s[4], s[5]]))
                    })
                    .collect();
                return (h2, settings);
            }
        }
    }

    fn send(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let length = (payload.len() as u32).to_be_bytes();
        let mut frame = vec![length[1], length[2], length[3], kind, flags];
        frame.extend_from_slice(&stream.to_be_bytes());
        frame.extend_from_slice(payload);
        // A write to a connection the server closed is noticed on reading.
        let _ = self.socket.write_all(&frame);
    }

    /// Starts a request; returns its stream id.
    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) -> u32 {
        let stream = self.next_stream;
        self.next_stream += 2;
        let mut block = vec![];
        let pseudo = [
            (":method", method),
            (":scheme", "http"),
            (":path", path),
            (":authority", "attacker"),
        ];
        for (name, value) in pseudo.iter().chain(headers) {
            literal(&mut block, name, value);
        }
        self.send(HEADERS, END_HEADERS, stream, &block);
        stream
    }

    pub fn data(&mut self, stream: u32, bytes: &[u8], last: bool) {
        self.send(DATA, if last { END_STREAM } else { 0 }, stream, bytes);
    }

    /// Waits until the server closes the connection (reading and dropping
    /// whatever it sends); false if it is still open after `wait`.
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        self.socket.set_read_timeout(Some(wait)).unwrap();
        let mut buffer = [0u8; 1024];
        loop {
            match self.socket.read(&mut buffer) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return false;
                }
                Err(_) => return true,
            }
        }
    }

    /// The next frame, or `None` if none came within `wait` (or the server
    /// closed the connection).
    pub fn read(&mut self, wait: Duration) -> Option<Frame> {
        self.socket.set_read_timeout(Some(wait)).unwrap();
        let mut head = [0u8; 9];
        match self.socket.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None;
            }
            Err(_) => return None,
        }
        let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; length];
        self.socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        self.socket.read_exact(&mut payload).ok()?;
        Some(Frame {
            kind: head[3],
            flags: head[4],
            stream: u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff,
            payload,
        })
    }
}

/// A header as an HPACK literal without indexing, with a new name.
fn literal(block: &mut Vec<u8>, name: &str, value: &str) {
    block.push(0x00);
    for text in [name, value] {
        integer(block, 7, 0, text.len());
        block.extend_from_slice(text.as_bytes());
    }
}

fn integer(block: &mut Vec<u8>, prefix_bits: u32, flags: u8, mut value: usize) {
    let max = (1usize << prefix_bits) - 1;
    if value < max {
        block.push(flags | value as u8);
        return;
    }
    block.push(flags | max as u8);
    value -= max;
    while value >= 128 {
        block.push((value % 128 + 128) as u8);
        value /= 128;
    }
    block.push(value as u8);
}

/// The `:status` of a response's header block: the first field an HTTP/2
/// server sends, either from the static table or a literal with the static
/// table's name (RFC 7541, appendix A), its value raw or Huffman-coded.
pub fn status(block: &[u8]) -> Option<u16> {
    let mut at = 0;
    while block.get(at)? & 0xe0 == 0x20 {
        at += 1; // dynamic table size update
    }
    let first = block[at];
    if first & 0x80 != 0 {
        let statuses = [200, 204, 206, 304, 400, 404, 500];
        return statuses
            .get(usize::from(first & 0x7f).checked_sub(8)?)
            .copied();
    }
    let length = usize::from(block.get(at + 1)? & 0x7f);
    let value = block.get(at + 2..at + 2 + length)?;
    let digits = if block[at + 1] & 0x80 != 0 {
        huffman_digits(value)?
    } else {
        String::from_utf8(value.to_vec()).ok()?
    };
    digits.parse().ok()
}

/// Decodes a Huffman-coded string of digits: `0`–`2` have 5-bit codes,
/// `3`–`9` 6-bit codes 0x19–0x1f; padding is all ones.
fn huffman_digits(bytes: &[u8]) -> Option<String> {
    let bits: Vec<u8> = bytes
        .iter()
        .flat_map(|byte| (0..8).rev().map(move |i| (byte >> i) & 1))
        .collect();
    let value = |from: usize, count: usize| {
        bits[from..from + count]
            .iter()
            .fold(0u8, |acc, bit| acc << 1 | bit)
    };
    let mut digits = String::new();
    let mut at = 0;
    while bits.len() - at >= 5 {
        if bits[at..].iter().all(|&bit| bit == 1) {
            break;
        }
        let five = value(at, 5);
        if five <= 2 {
            digits.push(char::from(b'0' + five));
            at += 5;
        } else if bits.len() - at >= 6 && (0x19..=0x1f).contains(&value(at, 6)) {
            digits.push(char::from(b'0' + 3 + value(at, 6) - 0x19));
            at += 6;
        } else {
            return None;
        }
    }
    Some(digits)
}

#[test]
fn statuses_decode_from_the_static_table_raw_and_huffman() {
    assert_eq!(status(&[0x88]), Some(200));
    assert_eq!(status(&[0x8d]), Some(404));
    assert_eq!(status(&[0x48, 0x03, b'4', b'0', b'8']), Some(408));
    // "503" Huffman-coded: 011011 00000 011001, padded with ones.
    assert_eq!(status(&[0x48, 0x83, 0x6c, 0x0c, 0xff]), Some(503));
}
