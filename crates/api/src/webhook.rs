//! Verification of signed webhooks per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com/>).
//!
//! The sender signs `"{id}.{timestamp}.{body}"` with HMAC-SHA256 and sends
//! the result in the `webhook-signature` header as `v1,<base64>`, next to the
//! `webhook-id` and `webhook-timestamp` headers.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Optional prefix of a textual webhook secret.
const SECRET_PREFIX: &str = "whsec_";

/// The only signature scheme this module understands.
const SIGNATURE_VERSION: &str = "v1";

/// How far, in seconds, `webhook-timestamp` may be from the server's clock
/// in either direction.
pub const TOLERANCE_SECONDS: i64 = 300;

/// The key that webhooks are signed with.
///
/// Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl WebhookSecret {
    /// Parses a secret written as an optional `whsec_` prefix followed by the
    /// key in standard base64. Surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        let text = text.trim();
        let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = BASE64
            .decode(encoded)
            .map_err(|_| WebhookError::InvalidSecret)?;
        if key.is_empty() {
            return Err(WebhookError::InvalidSecret);
        }
        Ok(Self { key })
    }

    /// A fresh MAC keyed with this secret.
    fn mac(&self) -> HmacSha256 {
        // HMAC is defined for keys of any length, so this cannot fail.
        HmacSha256::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }
}

impl FromStr for WebhookSecret {
    type Err = WebhookError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// The values of the three Standard Webhooks headers of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookHeaders<'a> {
    /// `webhook-id`: the message's unique id.
    pub id: &'a str,
    /// `webhook-timestamp`: seconds since the Unix epoch, as sent.
    pub timestamp: &'a str,
    /// `webhook-signature`: space-separated `version,signature` entries.
    pub signature: &'a str,
}

/// Why a webhook was refused. The messages never contain the secret or the
/// expected signature.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    /// The configured secret is not `whsec_` + base64 of a non-empty key.
    #[error(
        "the webhook secret is not valid: expected an optional \"whsec_\" prefix followed by a non-empty standard base64 key"
    )]
    InvalidSecret,
    /// `webhook-id` is empty.
    #[error("webhook-id is missing or empty")]
    MissingId,
    /// `webhook-timestamp` is not an integer.
    #[error("webhook-timestamp is not an integer number of seconds since the Unix epoch")]
    InvalidTimestamp,
    /// `webhook-timestamp` is more than [`TOLERANCE_SECONDS`] in the past.
    #[error("webhook-timestamp is more than 5 minutes behind the server's clock")]
    TimestampTooOld,
    /// `webhook-timestamp` is more than [`TOLERANCE_SECONDS`] in the future.
    #[error("webhook-timestamp is more than 5 minutes ahead of the server's clock")]
    TimestampTooNew,
    /// `webhook-signature` is empty.
    #[error("webhook-signature is missing or empty")]
    MissingSignature,
    /// No `v1` entry of `webhook-signature` matches the message.
    #[error("no v1 signature in webhook-signature matches the message")]
    NoMatchingSignature,
}

/// Signs a message, giving a `webhook-signature` entry: `v1,<base64 HMAC>`.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = signed_content_mac(secret, id, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("{SIGNATURE_VERSION},{}", BASE64.encode(tag))
}

/// Checks that a webhook was signed with `secret` and sent within
/// [`TOLERANCE_SECONDS`] of `now_unix`.
pub fn verify(
    secret: &WebhookSecret,
    headers: &WebhookHeaders<'_>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), WebhookError> {
    check_headers(headers, now_unix)?;
    let expected = signed_content_mac(secret, headers.id, headers.timestamp, body);
    let any_match = headers
        .signature
        .split_whitespace()
        .filter_map(v1_signature)
        .any(|candidate| expected.clone().verify_slice(&candidate).is_ok());
    if any_match {
        Ok(())
    } else {
        Err(WebhookError::NoMatchingSignature)
    }
}

/// What can be checked before the body arrives: an id, a timestamp within
/// [`TOLERANCE_SECONDS`] of `now_unix`, and a signature to compare.
pub fn check_headers(headers: &WebhookHeaders<'_>, now_unix: i64) -> Result<(), WebhookError> {
    if headers.id.is_empty() {
        return Err(WebhookError::MissingId);
    }
    check_timestamp(headers.timestamp, now_unix)?;
    if headers.signature.split_whitespace().next().is_none() {
        return Err(WebhookError::MissingSignature);
    }
    Ok(())
}

/// A MAC that has absorbed `"{id}.{timestamp}.{body}"`.
///
/// The timestamp is signed exactly as it was sent, as the spec requires.
fn signed_content_mac(
    secret: &WebhookSecret,
    id: &str,
    timestamp: &str,
    body: &[u8],
) -> HmacSha256 {
    let mut mac = secret.mac();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Refuses a timestamp that is not an integer or is too far from `now_unix`.
fn check_timestamp(timestamp: &str, now_unix: i64) -> Result<(), WebhookError> {
    let sent: i64 = timestamp
        .parse()
        .map_err(|_| WebhookError::InvalidTimestamp)?;
    // i128 so that extreme values cannot overflow the subtraction.
    let age = i128::from(now_unix) - i128::from(sent);
    let tolerance = i128::from(TOLERANCE_SECONDS);
    if age > tolerance {
        Err(WebhookError::TimestampTooOld)
    } else if age < -tolerance {
        Err(WebhookError::TimestampTooNew)
    } else {
        Ok(())
    }
}

/// The decoded signature of a `v1,<base64>` entry; `None` for other
/// versions and for entries that are not well formed.
fn v1_signature(entry: &str) -> Option<Vec<u8>> {
    let (version, signature) = entry.split_once(',')?;
    if version != SIGNATURE_VERSION {
        return None;
    }
    BASE64.decode(signature).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const TIMESTAMP_TEXT: &str = "1614265330";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn secret() -> WebhookSecret {
        WebhookSecret::parse(SECRET).unwrap()
    }

    fn headers(signature: &str) -> WebhookHeaders<'_> {
        WebhookHeaders {
            id: ID,
            timestamp: TIMESTAMP_TEXT,
            signature,
        }
    }

    #[test]
    fn signs_the_spec_test_vector() {
        assert_eq!(sign(&secret(), ID, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn verifies_the_spec_test_vector() {
        assert_eq!(
            verify(&secret(), &headers(SIGNATURE), BODY, TIMESTAMP),
            Ok(())
        );
    }

    #[test]
    fn secret_prefix_is_optional() {
        let bare: WebhookSecret = SECRET.trim_start_matches("whsec_").parse().unwrap();
        assert_eq!(sign(&bare, ID, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn one_valid_signature_among_several_passes() {
        let signature = format!(
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,whatever {SIGNATURE} v1,bm90IGJhc2U2NA"
        );
        assert_eq!(
            verify(&secret(), &headers(&signature), BODY, TIMESTAMP),
            Ok(())
        );
    }

    #[test]
    fn extra_whitespace_between_entries_is_tolerated() {
        let signature = format!("  v1,AAAA   {SIGNATURE}  ");
        assert_eq!(
            verify(&secret(), &headers(&signature), BODY, TIMESTAMP),
            Ok(())
        );
    }

    #[test]
    fn tampered_body_fails() {
        let body = br#"{"test": 2432232315}"#;
        assert_eq!(
            verify(&secret(), &headers(SIGNATURE), body, TIMESTAMP),
            Err(WebhookError::NoMatchingSignature)
        );
    }

    #[test]
    fn tampered_id_fails() {
        let tampered = WebhookHeaders {
            id: "msg_p5jXN8AQM9LWM0D4loKWxJel",
            ..headers(SIGNATURE)
        };
        assert_eq!(
            verify(&secret(), &tampered, BODY, TIMESTAMP),
            Err(WebhookError::NoMatchingSignature)
        );
    }

    #[test]
    fn tampered_timestamp_fails() {
        let tampered = WebhookHeaders {
            timestamp: "1614265331",
            ..headers(SIGNATURE)
        };
        assert_eq!(
            verify(&secret(), &tampered, BODY, TIMESTAMP),
            Err(WebhookError::NoMatchingSignature)
        );
    }

    #[test]
    fn wrong_secret_fails() {
        let other = WebhookSecret::parse("whsec_c2VjcmV0IG9mIHNvbWVvbmUgZWxzZQ==").unwrap();
        assert_eq!(
            verify(&other, &headers(SIGNATURE), BODY, TIMESTAMP),
            Err(WebhookError::NoMatchingSignature)
        );
    }

    #[test]
    fn timestamp_exactly_at_tolerance_passes_both_ways() {
        let signature = headers(SIGNATURE);
        assert_eq!(verify(&secret(), &signature, BODY, TIMESTAMP + 300), Ok(()));
        assert_eq!(verify(&secret(), &signature, BODY, TIMESTAMP - 300), Ok(()));
    }

    #[test]
    fn timestamp_one_second_past_tolerance_fails_both_ways() {
        let signature = headers(SIGNATURE);
        assert_eq!(
            verify(&secret(), &signature, BODY, TIMESTAMP + 301),
            Err(WebhookError::TimestampTooOld)
        );
        assert_eq!(
            verify(&secret(), &signature, BODY, TIMESTAMP - 301),
            Err(WebhookError::TimestampTooNew)
        );
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let old = WebhookHeaders {
            timestamp: "-9223372036854775808",
            ..headers(SIGNATURE)
        };
        assert_eq!(
            verify(&secret(), &old, BODY, i64::MAX),
            Err(WebhookError::TimestampTooOld)
        );
    }

    #[test]
    fn non_numeric_timestamp_fails() {
        for timestamp in ["", "abc", "1614265330.5", " 1614265330", "1e9"] {
            let bad = WebhookHeaders {
                timestamp,
                ..headers(SIGNATURE)
            };
            assert_eq!(
                verify(&secret(), &bad, BODY, TIMESTAMP),
                Err(WebhookError::InvalidTimestamp),
                "timestamp {timestamp:?}"
            );
        }
    }

    #[test]
    fn only_unknown_versions_fail() {
        let signature = SIGNATURE.replacen("v1,", "v2,", 1);
        assert_eq!(
            verify(&secret(), &headers(&signature), BODY, TIMESTAMP),
            Err(WebhookError::NoMatchingSignature)
        );
    }

    #[test]
    fn malformed_entries_are_ignored() {
        for signature in [
            "v1",
            "v1,",
            "v1,***",
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ] {
            assert_eq!(
                verify(&secret(), &headers(signature), BODY, TIMESTAMP),
                Err(WebhookError::NoMatchingSignature),
                "signature {signature:?}"
            );
        }
    }

    #[test]
    fn empty_signature_header_fails() {
        for signature in ["", "   "] {
            assert_eq!(
                verify(&secret(), &headers(signature), BODY, TIMESTAMP),
                Err(WebhookError::MissingSignature)
            );
        }
    }

    #[test]
    fn empty_id_fails() {
        let bad = WebhookHeaders {
            id: "",
            ..headers(SIGNATURE)
        };
        assert_eq!(
            verify(&secret(), &bad, BODY, TIMESTAMP),
            Err(WebhookError::MissingId)
        );
    }

    #[test]
    fn malformed_secrets_are_refused() {
        for text in [
            "",
            "whsec_",
            "whsec_not base64!",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
            "MfKQ-r8_",
        ] {
            assert_eq!(
                WebhookSecret::parse(text).map(|_| ()),
                Err(WebhookError::InvalidSecret),
                "secret {text:?}"
            );
        }
    }

    #[test]
    fn secret_is_not_printed() {
        let printed = format!("{:?}", secret());
        assert!(
            !printed.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            "{printed}"
        );
        assert_eq!(printed, "WebhookSecret(<redacted>)");
    }

    #[test]
    fn error_messages_leak_neither_secret_nor_expected_signature() {
        let errors = [
            WebhookError::InvalidSecret,
            WebhookError::MissingId,
            WebhookError::InvalidTimestamp,
            WebhookError::TimestampTooOld,
            WebhookError::TimestampTooNew,
            WebhookError::MissingSignature,
            WebhookError::NoMatchingSignature,
        ];
        for error in errors {
            let message = error.to_string();
            assert!(!message.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
            assert!(!message.contains("g0hM9SsE"));
        }
        assert_eq!(
            WebhookError::TimestampTooOld.to_string(),
            "webhook-timestamp is more than 5 minutes behind the server's clock"
        );
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn any_secret() -> impl Strategy<Value = WebhookSecret> {
            prop::collection::vec(any::<u8>(), 1..64).prop_map(|key| WebhookSecret { key })
        }

        proptest! {
            #[test]
            fn sign_then_verify_round_trips(
                secret in any_secret(),
                id in "\\PC{1,40}",
                timestamp in any::<i64>(),
                body in prop::collection::vec(any::<u8>(), 0..256),
            ) {
                let signature = sign(&secret, &id, timestamp, &body);
                let timestamp_text = timestamp.to_string();
                let headers = WebhookHeaders { id: &id, timestamp: &timestamp_text, signature: &signature };
                prop_assert_eq!(verify(&secret, &headers, &body, timestamp), Ok(()));
            }

            #[test]
            fn any_single_byte_change_of_the_body_fails(
                secret in any_secret(),
                id in "\\PC{1,40}",
                timestamp in any::<i64>(),
                body in prop::collection::vec(any::<u8>(), 1..256),
                index in any::<prop::sample::Index>(),
                flip in 1..=u8::MAX,
            ) {
                let signature = sign(&secret, &id, timestamp, &body);
                let mut tampered = body.clone();
                tampered[index.index(body.len())] ^= flip;
                let timestamp_text = timestamp.to_string();
                let headers = WebhookHeaders { id: &id, timestamp: &timestamp_text, signature: &signature };
                prop_assert_eq!(
                    verify(&secret, &headers, &tampered, timestamp),
                    Err(WebhookError::NoMatchingSignature)
                );
            }
        }
    }
}
