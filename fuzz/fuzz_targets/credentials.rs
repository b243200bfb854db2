//! Any `api_tokens` and `erp_webhook_secret` values: parsed, or an error
//! naming the variable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str)| {
    let (tokens, secret) = input;
    if let Err(message) = api::Credentials::new(tokens, secret) {
        assert!(
            message.starts_with("variable api_tokens")
                || message.starts_with("variable erp_webhook_secret")
        );
    }
});
