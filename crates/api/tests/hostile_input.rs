//! Property-based fuzzing of everything that reads untrusted input: JSON
//! bodies, amounts, dates, ids, tokens and webhook headers. Nothing may
//! panic, and whatever is accepted must be exactly what was sent.

use api::Problem;
use api::auth::{Tokens, bearer_token};
use api::input::{check_id, parse_date, parse_json};
use api::webhook::{WebhookHeaders, WebhookSecret, sign, verify};
use credit_core::Currency;
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Payment {
    id: String,
    amount: String,
    remittance: Option<Vec<Line>>,
    flag: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Line {
    invoice_id: String,
    amount: String,
}

fn json_like() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("\"id\"".to_string()),
        Just("\"amount\"".to_string()),
        Just("\"remittance\"".to_string()),
        Just("\"invoice_id\"".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("1e400".to_string()),
        Just("-0.5".to_string()),
        "\"[^\"\\\\]{0,8}\"",
        "[ -~]{0,3}",
    ];
    prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn json_bodies_are_parsed_or_refused_with_a_client_error(body in json_like()) {
        match parse_json::<Payment>(body.as_bytes()) {
            Ok(_) => {}
            Err(Problem { status, .. }) => prop_assert!(status == 400 || status == 422, "{status}"),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_json_parser(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_json::<Payment>(&body);
    }

    #[test]
    fn accepted_amounts_are_exact_and_in_range(text in "-?[0-9]{0,16}(\\.[0-9]{0,4})?|[ -~]{0,20}") {
        if let Ok(amount) = usd().parse_amount(&text) {
            prop_assert_eq!(amount.scale(), 2);
            prop_assert!(!amount.is_sign_negative() || amount.is_zero());
            prop_assert!(amount <= credit_core::money::MAX_AMOUNT);
            let original: rust_decimal::Decimal = text.parse().unwrap();
            prop_assert_eq!(amount, original.abs(), "never rounded");
            prop_assert_eq!(usd().from_minor(usd().to_minor(amount)), amount);
        }
    }

    #[test]
    fn accepted_dates_read_back_as_sent(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}|[ -~]{0,12}") {
        if let Ok(date) = parse_date(&text) {
            prop_assert_eq!(date.format("%Y-%m-%d").to_string(), text);
        }
    }

    #[test]
    fn accepted_ids_cannot_traverse_paths_or_break_out_of_text(id in "[ -~]{0,70}") {
        if check_id(&id).is_ok() {
            prop_assert!(!id.contains('/') && !id.contains('\\') && !id.contains('\''));
            prop_assert!(!id.starts_with('.') && !id.contains(' '));
            prop_assert!((1..=64).contains(&id.len()));
        }
    }

    #[test]
    fn token_lists_and_authorization_headers_never_panic(spec in "[ -~]{0,60}", header in "[ -~]{0,30}") {
        let _ = Tokens::parse(&spec);
        let _ = bearer_token(Some(&header));
    }

    #[test]
    fn forged_webhooks_are_refused(
        id in "[ -~]{0,20}",
        timestamp in "[ -~]{0,12}",
        signature in "[ -~]{0,80}",
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let headers = WebhookHeaders { id: &id, timestamp: &timestamp, signature: &signature };
        let now = timestamp.parse::<i64>().unwrap_or(0);
        let genuine = sign(&secret, &id, now, &body);
        if signature != genuine {
            prop_assert!(verify(&secret, &headers, &body, now).is_err());
        }
    }
}
