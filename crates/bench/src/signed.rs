//! The ERP's real path: Standard Webhooks messages signed by the load
//! generator. wrk's Lua has no HMAC, so the benchmark signs every request
//! of a run just before it (timestamps must be within five minutes of the
//! desk's clock) and writes them to a file that `wrk/replay.lua` sends in
//! order, each once: every request a new `webhook-id`, so every one claims
//! its id in `request_claims`, works, and stores its answer, as the ERP's
//! deliveries do.
//!
//! The signature is made here from the specification — HMAC-SHA256 over
//! `"{id}.{timestamp}.{body}"` with the secret's key, `v1,<base64>` —
//! not with the desk's own code, so a benchmark run also checks that the
//! desk accepts what any Standard Webhooks sender signs.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::book::{self, Dice};

/// More requests per second than any run here can send (the trivial
/// probe route answers about 10,000 a second), so that a run never runs
/// out of signed requests; if one does, it fails rather than replays.
const MOST_PER_SECOND: u64 = 12_000;

/// The ERP's side of the shared secret.
pub struct ErpSigner {
    key: Vec<u8>,
}

impl ErpSigner {
    /// From a `whsec_<base64>` secret, as the desk's variable holds it.
    pub fn new(secret: &str) -> Result<ErpSigner> {
        let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
        let key = BASE64
            .decode(encoded)
            .context("the webhook secret is not base64")?;
        Ok(ErpSigner { key })
    }

    /// The `webhook-signature` of a message.
    pub fn signature(&self, id: &str, timestamp: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

/// What the ERP posts in a run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Message {
    /// `POST /orders`: a new order, checked.
    Order,
    /// `POST /payments`: a payment, allocated to the customer's oldest
    /// open invoices; the customer's held orders are checked again.
    Payment,
}

impl Message {
    fn path(self) -> &'static str {
        match self {
            Message::Order => "/orders",
            Message::Payment => "/payments",
        }
    }

    /// The body of the `n`th message of run `tag`: a random customer of the
    /// book, in the customer's currency.
    fn body(self, dice: &mut Dice, tag: &str, n: u64) -> String {
        let customer = dice.roll(book::CUSTOMERS as u64) as usize;
        let (id, currency, day) = (
            book::customer_id(customer),
            book::currency(customer),
            book::AS_OF,
        );
        match self {
            Message::Order => format!(
                r#"{{"id":"SO-{tag}-{n}","customer_id":"{id}","amount":"{}.{:02}","currency":"{currency}","ordered_on":"{day}","as_of":"{day}"}}"#,
                dice.between(500, 5_000),
                dice.roll(100)
            ),
            // From a part of one invoice to several (open invoices average
            // about 10,500.00).
            Message::Payment => format!(
                r#"{{"id":"PAY-{tag}-{n}","customer_id":"{id}","amount":"{}.{:02}","currency":"{currency}","received_on":"{day}","method":"ach","reference":"Remittance {tag}-{n}","as_of":"{day}"}}"#,
                dice.between(2_000, 30_000),
                dice.roll(100)
            ),
        }
    }
}

/// Signs enough `message`s for `duration` and writes them to `path`, for
/// the host at `host`: each request's length in bytes, a newline, the
/// request. Webhook ids are `msg_<tag><n>`, so `tag` must be new per run.
pub fn write_run(
    path: &Path,
    host: SocketAddr,
    message: Message,
    tag: &str,
    duration: Duration,
    signer: &ErpSigner,
) -> Result<u64> {
    let count = MOST_PER_SECOND * duration.as_secs().max(1);
    let timestamp = chrono::Utc::now().timestamp();
    let mut dice = Dice::new(tag.bytes().fold(17, |h, b| h * 31 + u64::from(b)));
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for n in 0..count {
        let id = format!("msg_{tag}{n:08}");
        let body = message.body(&mut dice, tag, n);
        let signature = signer.signature(&id, timestamp, &body);
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             webhook-id: {id}\r\nwebhook-timestamp: {timestamp}\r\nwebhook-signature: {signature}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            message.path(),
            body.len()
        );
        write!(out, "{}\n{request}", request.len())?;
    }
    out.flush()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_example() {
        // The specification's example message and secret.
        let signer = ErpSigner::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            signer.signature(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_run_file_holds_whole_requests_each_with_its_own_id() {
        let dir = std::env::temp_dir().join(format!("bench-signed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.req");
        let signer = ErpSigner::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let host: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let count = write_run(
            &path,
            host,
            Message::Payment,
            "t",
            Duration::from_secs(1),
            &signer,
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (mut rest, mut ids) = (&bytes[..], std::collections::BTreeSet::new());
        while !rest.is_empty() {
            let newline = rest.iter().position(|&b| b == b'\n').unwrap();
            let size: usize = std::str::from_utf8(&rest[..newline])
                .unwrap()
                .parse()
                .unwrap();
            let request = std::str::from_utf8(&rest[newline + 1..newline + 1 + size]).unwrap();
            let (head, body) = request.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with("POST /payments HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n"));
            assert!(head.ends_with(&format!("\r\nContent-Length: {}", body.len())));
            let header = |name: &str| {
                head.lines()
                    .find_map(|line| line.strip_prefix(&format!("{name}: ")))
                    .unwrap()
            };
            let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
            let expected = signer.signature(id, timestamp.parse().unwrap(), body);
            assert_eq!(header("webhook-signature"), expected);
            let payment: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(payment["received_on"], book::AS_OF);
            ids.insert(id.to_string());
            rest = &rest[newline + 1 + size..];
        }
        assert_eq!(ids.len() as u64, count);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
