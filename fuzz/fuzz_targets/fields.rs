//! Any text through every check of `Fields`: accepted values are exactly
//! what was sent, in range.
#![no_main]

use api::Fields;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, i64)| {
    let (currency, text, days) = input;
    let mut fields = Fields::new();
    let parsed = fields.currency("currency", currency);
    if let (Some(currency), Some(amount)) = (parsed, fields.amount("amount", text, parsed)) {
        assert_eq!(amount.scale(), currency.minor_units());
        assert!(amount <= credit_core::money::MAX_AMOUNT && !amount.is_sign_negative());
    }
    if let Some(date) = fields.date("date", text) {
        assert_eq!(date.format("%Y-%m-%d").to_string(), text);
    }
    if let Some(id) = fields.id("id", text) {
        assert!(!id.contains('/') && !id.starts_with('.') && id.len() <= 64);
    }
    if let Some(kept) = fields.text("note", text, 2000) {
        assert_eq!(kept, text.trim());
    }
    let _ = fields.code("code", text);
    if let Some(kept) = fields.days("days", days) {
        assert!(kept <= 3650);
    }
    let _ = fields.finish();
});
