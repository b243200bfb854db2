//! Arbitrary webhook and authorization headers through `Credentials`:
//! never a panic, and the ERP only with a genuine signature.
#![no_main]

use api::auth::Role;
use api::{Caller, Credentials, Incoming};
use http::{HeaderMap, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fuzz_target!(|input: (&str, &str, &str, &str, &[u8], i64)| {
    let (id, timestamp, signature, authorization, body, now) = input;
    let credentials = Credentials::new("tok-maria=maria:manager", SECRET).unwrap();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("webhook-id", id),
        ("webhook-timestamp", timestamp),
        ("webhook-signature", signature),
        ("authorization", authorization),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    let request = Incoming::new(
        Method::POST,
        &"/orders".parse().unwrap(),
        headers,
        body.to_vec(),
    );
    if let Ok(Caller::Erp { webhook_id }) = credentials.erp_or(&request, Role::Manager, now) {
        let sent: i64 = timestamp.parse().unwrap();
        let secret = api::webhook::WebhookSecret::parse(SECRET).unwrap();
        let genuine = api::webhook::sign(&secret, &webhook_id, sent, body);
        assert!(signature.split_whitespace().any(|s| s == genuine));
    }
});
