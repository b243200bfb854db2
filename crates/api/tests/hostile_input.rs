//! Property-based fuzzing of the real entry points untrusted input goes
//! through — the JSON body parser (with the policy, a body the API reads
//! straight into a domain type, and nesting far past serde's depth limit),
//! `Incoming::json`, every check of `input::Fields`, the webhook and
//! bearer-token checks of `Credentials` on arbitrary headers, and the
//! parsing of the credentials themselves — and of the domain functions the
//! accepted values reach: the hold check, the held-order re-check,
//! payment allocation, the KPIs and the credit-limit check.
//!
//! Nothing may panic; whatever is accepted must be exactly what was sent,
//! and the domain's invariants hold for anything the parsers let through.

use api::auth::{Role, bearer_token};
use api::input::{Fields, check_id, parse_date, parse_json};
use api::webhook::{TOLERANCE_SECONDS, WebhookHeaders, WebhookSecret, sign, verify};
use api::{Caller, Credentials, Incoming, Problem};
use chrono::{Days, NaiveDate};
use credit_core::allocation::{AllocationError, RemittanceLine, allocate};
use credit_core::hold::{HeldOrder, OrderStatus, ReasonCode, check_order, recheck_held_orders};
use credit_core::limit::check_new_limit;
use credit_core::metrics::{PeriodFigures, kpis};
use credit_core::money::MAX_AMOUNT;
use credit_core::{Account, Currency, OpenInvoice, Policy};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;
use rust_decimal::Decimal;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TOKENS: &str = "tok-alice=alice:associate,tok-maria=maria:manager";

fn json_like() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("\"grace_days\"".to_string()),
        Just("\"past_due_tolerance\"".to_string()),
        Just("\"hold_when_no_limit\"".to_string()),
        Just("\"dispute_sla_by_reason\"".to_string()),
        Just("\"dispute_sla_business_days\"".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("1e400".to_string()),
        Just("-0.5".to_string()),
        Just("4294967296".to_string()),
        Just("\"0.000000000000000000000000000001\"".to_string()),
        "\"[^\"\\\\]{0,8}\"",
        "[0-9]{1,12}",
        "[ -~]{0,3}",
    ];
    prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

/// The request as the components see it, with any headers that are valid
/// header values at all.
fn incoming(headers: &[(&str, &str)], body: &[u8]) -> Incoming {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
        }
    }
    Incoming::new(
        Method::POST,
        &"/orders".parse().unwrap(),
        map,
        body.to_vec(),
    )
}

fn currencies() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("USD".to_string()),
        Just("JPY".to_string()),
        Just("KWD".to_string()),
        Just("EUR".to_string()),
        "[A-Z]{3}",
        "[ -~]{0,5}",
    ]
}

fn amount_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{0,16}(\\.[0-9]{0,5})?",
        "[0-9]{1,3}(,[0-9]{3})*\\.[0-9]{2}",
        "[0-9. eE+_-]{0,20}",
        "[ -~]{0,20}",
        "\\PC{0,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn policy_bodies_are_parsed_exactly_or_refused_with_a_client_error(body in json_like()) {
        match parse_json::<Policy>(body.as_bytes()) {
            Ok(policy) => {
                // What was read is what was sent: written back and read
                // again, it is the same policy.
                let again: Policy = parse_json(&serde_json::to_vec(&policy).unwrap()).unwrap();
                prop_assert_eq!(again, policy);
            }
            Err(Problem { status, .. }) => prop_assert!(status == 400 || status == 422, "{status}"),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_json_parser(body in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Err(problem) = parse_json::<Policy>(&body) {
            prop_assert!(problem.status == 400 || problem.status == 422);
        }
    }

    #[test]
    fn nesting_past_any_depth_is_a_client_error_not_a_crash(
        depth in 1usize..20_000,
        open in prop::sample::select(vec!["[", "{\"a\":", "{\"dispute_sla_by_reason\":"]),
        closed in any::<bool>(),
    ) {
        let close = if open == "[" { "]" } else { "}" };
        let mut body = open.repeat(depth);
        if closed {
            body.push_str("null");
            body.push_str(&close.repeat(depth));
        }
        let problem = parse_json::<Policy>(body.as_bytes()).unwrap_err();
        prop_assert!(problem.status == 400 || problem.status == 422, "{}", problem.status);
    }

    #[test]
    fn json_bodies_need_a_json_content_type(content_type in "[ -~]{0,40}", body in json_like()) {
        let request = incoming(&[("content-type", &content_type)], body.as_bytes());
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let json_type = essence == "application/json" || essence.ends_with("+json");
        match request.json::<Policy>() {
            Ok(_) => prop_assert!(json_type),
            Err(problem) if !json_type => prop_assert_eq!(problem.status, 415),
            Err(problem) => prop_assert!(problem.status == 400 || problem.status == 422),
        }
    }

    #[test]
    fn accepted_amounts_are_exact_in_range_and_in_the_currencys_units(
        currency in currencies(),
        text in amount_text(),
    ) {
        let mut fields = Fields::new();
        let parsed = fields.currency("currency", &currency);
        let amount = fields.amount("amount", &text, parsed);
        let positive = fields.positive_amount("positive", &text, parsed);
        let failures = [parsed.is_none(), parsed.is_some() && amount.is_none(), parsed.is_some() && positive.is_none()];
        let problems = fields.finish().err().map_or(0, |p| p.errors.len());
        prop_assert_eq!(problems, failures.iter().filter(|f| **f).count(), "every problem named once");
        if let (Some(currency), Some(amount)) = (parsed, amount) {
            prop_assert_eq!(currency.code(), currency.code().to_ascii_uppercase());
            prop_assert_eq!(amount.scale(), currency.minor_units());
            prop_assert!(!amount.is_sign_negative());
            prop_assert!(amount <= MAX_AMOUNT);
            let sent: Decimal = text.parse().unwrap();
            prop_assert_eq!(amount, sent.abs(), "never rounded");
            prop_assert_eq!(currency.from_minor(currency.to_minor(amount)), amount);
            prop_assert_eq!(positive.is_some(), !amount.is_zero());
        }
    }

    #[test]
    fn accepted_dates_read_back_as_sent_and_stay_in_range(
        text in "[0-9]{4}-[0-9]{2}-[0-9]{2}|[ -~]{0,12}|\\PC{0,12}",
    ) {
        let mut fields = Fields::new();
        let date = fields.date("due_on", &text);
        prop_assert_eq!(date.is_none(), fields.finish().is_err());
        if let Some(date) = date {
            prop_assert_eq!(date.format("%Y-%m-%d").to_string(), text.clone());
            prop_assert_eq!(parse_date(&text), Ok(date));
            // A dispute's service-level date and a period's opening date
            // computed from it stay dates.
            prop_assert!(date.checked_add_days(Days::new(400)).is_some());
            prop_assert!(date.checked_sub_days(Days::new(1)).is_some());
        }
    }

    #[test]
    fn accepted_ids_cannot_traverse_paths_or_break_out_of_text(id in "[ -~]{0,70}|\\PC{0,20}") {
        let mut fields = Fields::new();
        let accepted = fields.id("customer_id", &id);
        prop_assert_eq!(accepted.is_some(), check_id(&id).is_ok());
        if let Some(accepted) = accepted {
            prop_assert_eq!(&accepted, &id);
            prop_assert!(!id.contains('/') && !id.contains('\\') && !id.contains('\''));
            prop_assert!(!id.contains('"') && !id.contains('%') && !id.contains(';'));
            prop_assert!(!id.starts_with('.') && !id.contains(' ') && id.is_ascii());
            prop_assert!((1..=64).contains(&id.len()));
        }
    }

    #[test]
    fn accepted_texts_codes_and_days_are_bounded(
        text in "\\PC{0,30}|[\\x00-\\x7f]{0,30}",
        days in any::<i64>(),
    ) {
        let mut fields = Fields::new();
        if let Some(kept) = fields.text("note", &text, 20) {
            prop_assert_eq!(kept.as_str(), text.trim());
            prop_assert!(!kept.is_empty() && kept.chars().count() <= 20);
            prop_assert!(kept.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
        }
        if let Some(code) = fields.code("reason_code", &text) {
            prop_assert!((1..=40).contains(&code.len()));
            prop_assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        }
        if let Some(kept) = fields.days("grace_days", days) {
            prop_assert_eq!(i64::from(kept), days);
            prop_assert!(kept <= 3650);
        }
    }

    #[test]
    fn credentials_parse_or_fail_without_showing_a_token(
        entries in prop::collection::vec(
            (
                "[A-Za-z0-9]{10,16}",
                "[a-z]{0,6}",
                prop::sample::select(vec!["associate", "manager", "boss", ""]),
                0u8..4,
            ),
            0..5,
        ),
        secret in prop_oneof![Just(SECRET.to_string()), "[ -~]{0,40}"],
    ) {
        let tokens: Vec<String> = entries.iter().map(|(token, ..)| format!("T{token}")).collect();
        let spec = entries
            .iter()
            .zip(&tokens)
            .map(|((_, name, role, shape), token)| match shape {
                0 => format!("{token} {name}:{role}"),
                1 => format!("{token}={name} {role}"),
                _ => format!("{token}={name}:{role}"),
            })
            .collect::<Vec<_>>()
            .join(",");
        match Credentials::new(&spec, Some(&secret)) {
            Ok(credentials) => {
                // Every configured token is a person with the role given.
                for ((_, name, role, _), token) in entries.iter().zip(&tokens) {
                    let request = incoming(&[("authorization", &format!("Bearer {token}"))], b"");
                    let person = credentials.person(&request, Role::Associate).unwrap();
                    prop_assert_eq!(&person.name, name);
                    prop_assert_eq!(person.role.as_str(), *role);
                }
            }
            Err(message) => {
                prop_assert!(
                    message.starts_with("variable api_tokens") || message.starts_with("variable erp_webhook_secret"),
                    "{message}"
                );
                for token in &tokens {
                    prop_assert!(!message.contains(token.as_str()), "{message}");
                }
                prop_assert!(secret.len() < 8 || !message.contains(secret.as_str()), "{message}");
            }
        }
    }

    #[test]
    fn arbitrary_authorization_headers_never_panic(header in "[ -~]{0,60}|\\PC{0,20}") {
        let credentials = Credentials::new(TOKENS, Some(SECRET)).unwrap();
        let _ = bearer_token(Some(&header));
        let request = incoming(&[("authorization", &header)], b"");
        match credentials.person(&request, Role::Associate) {
            Ok(person) => prop_assert!(header.contains("tok-alice") || header.contains("tok-maria"), "{person:?}"),
            Err(problem) => prop_assert_eq!(problem.status, 401),
        }
    }

    #[test]
    fn arbitrary_webhook_headers_are_refused_unless_genuinely_signed(
        id in "[ -~]{0,30}|[a-z_0-9]{1,250}",
        timestamp in "[ -~]{0,14}|-?[0-9]{1,20}",
        signature in "[ -~]{0,100}",
        authorization in prop::option::of("[ -~]{0,30}"),
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
    ) {
        let credentials = Credentials::new(TOKENS, Some(SECRET)).unwrap();
        let mut headers = vec![
            ("webhook-id", id.as_str()),
            ("webhook-timestamp", timestamp.as_str()),
            ("webhook-signature", signature.as_str()),
        ];
        if let Some(authorization) = &authorization {
            headers.push(("authorization", authorization));
        }
        let request = incoming(&headers, &body);
        let sent_signature = request.header("webhook-signature").is_some();
        match credentials.erp_or(&request, Role::Manager, now) {
            Ok(Caller::Erp { webhook_id }) => {
                prop_assert_eq!(&webhook_id, &id);
                let sent: i64 = timestamp.parse().unwrap();
                prop_assert!((i128::from(now) - i128::from(sent)).abs() <= i128::from(TOLERANCE_SECONDS));
                let genuine = sign(&WebhookSecret::parse(SECRET).unwrap(), &id, sent, &body);
                prop_assert!(signature.split_whitespace().any(|s| s == genuine));
            }
            Ok(Caller::Person(person)) => {
                prop_assert!(!sent_signature, "a signature is judged, never skipped");
                prop_assert_eq!(person.role, Role::Manager);
            }
            Err(problem) => prop_assert!([400, 401, 403].contains(&problem.status), "{}", problem.status),
        }
    }

    #[test]
    fn genuine_webhooks_pass_exactly_within_the_tolerance(
        id in "[a-zA-Z0-9_]{1,40}",
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in -1_000_000_000_000i64..1_000_000_000_000,
        skew in -2 * TOLERANCE_SECONDS..=2 * TOLERANCE_SECONDS,
        decoys in prop::collection::vec("v1,[A-Za-z0-9+/]{43}=|v2,[ -+--~]{1,10}", 0..3),
    ) {
        let secret = WebhookSecret::parse(SECRET).unwrap();
        let sent = now - skew;
        let genuine = sign(&secret, &id, sent, &body);
        let signature = decoys.iter().cloned().chain([genuine]).collect::<Vec<_>>().join(" ");
        let timestamp = sent.to_string();
        let headers = WebhookHeaders { id: &id, timestamp: &timestamp, signature: &signature };
        prop_assert_eq!(verify(&secret, &headers, &body, now).is_ok(), skew.abs() <= TOLERANCE_SECONDS);
    }
}

// --- the domain, on whatever the parsers accept ------------------------

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

/// Any amount the parsers accept, in cents.
fn amount() -> impl Strategy<Value = Decimal> {
    let max_cents = 100_000_000_000_000i64;
    prop_oneof![
        (0..=max_cents).prop_map(|cents| Decimal::new(cents, 2)),
        Just(MAX_AMOUNT.round_dp(2)),
        Just(Decimal::new(0, 2)),
        (0i64..1000).prop_map(|cents| Decimal::new(cents, 2)),
    ]
}

/// Any date the parsers accept.
fn date() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    (0u64..401_767).prop_map(move |days| first + Days::new(days))
}

fn open_invoice() -> impl Strategy<Value = OpenInvoice> {
    ("INV-[0-9]{1,3}", date(), 0u64..400, amount(), 0u32..=100).prop_map(
        |(id, issued_on, terms, open, disputed_percent)| OpenInvoice {
            id,
            issued_on,
            due_on: issued_on
                .checked_add_days(Days::new(terms))
                .unwrap_or(issued_on),
            open,
            disputed: (open * Decimal::from(disputed_percent) / Decimal::from(100)).round_dp(2),
        },
    )
}

fn account() -> impl Strategy<Value = Account> {
    (
        prop::collection::vec(open_invoice(), 0..40),
        prop::option::of(amount()),
        amount(),
        amount(),
        any::<(bool, bool)>(),
        prop::option::of(0u32..=3650),
    )
        .prop_map(
            |(mut invoices, limit, unapplied, released, (on_hold, exempt), grace)| {
                invoices.sort_by(|a, b| a.id.cmp(&b.id));
                invoices.dedup_by(|a, b| a.id == b.id);
                let mut account = Account::new(usd(), limit);
                account.invoices = invoices;
                account.unapplied_cash = unapplied;
                account.released_orders_total = released;
                account.on_hold = on_hold;
                account.exempt = exempt;
                account.grace_days = grace;
                account
            },
        )
}

fn policy() -> impl Strategy<Value = Policy> {
    (0u32..=365, amount(), any::<bool>()).prop_map(|(grace_days, tolerance, hold)| Policy {
        grace_days,
        past_due_tolerance: tolerance,
        hold_when_no_limit: hold,
        ..Policy::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_hold_check_never_panics_and_holds_only_for_its_reasons(
        account in account(),
        order in amount(),
        as_of in date(),
        policy in policy(),
    ) {
        let decision = check_order(&account, order, as_of, &policy);
        prop_assert_eq!(decision.exposure, account.exposure() + order);
        prop_assert_eq!(decision.credit_limit, account.credit_limit);
        prop_assert_eq!(decision.available, account.credit_limit.map(|l| l - decision.exposure));
        let codes: Vec<ReasonCode> = decision.reasons.iter().map(|r| r.code).collect();
        if account.exempt {
            prop_assert_eq!(decision.status, OrderStatus::Released);
            prop_assert_eq!(codes, vec![ReasonCode::Exempt]);
        } else {
            prop_assert_eq!(decision.status == OrderStatus::Held, !codes.is_empty());
            let over = account.credit_limit.is_some_and(|l| decision.exposure > l);
            prop_assert_eq!(codes.contains(&ReasonCode::CreditLimitExceeded), over);
            prop_assert_eq!(codes.contains(&ReasonCode::AccountOnHold), account.on_hold);
            prop_assert_eq!(
                codes.contains(&ReasonCode::PastDue),
                decision.past_due > policy.past_due_tolerance
            );
        }
        prop_assert!(!decision.past_due.is_sign_negative());
    }

    #[test]
    fn the_recheck_counts_each_release_for_the_next(
        account in account(),
        orders in prop::collection::vec(amount(), 0..10),
        as_of in date(),
        policy in policy(),
    ) {
        let held: Vec<HeldOrder> = orders
            .iter()
            .enumerate()
            .map(|(i, amount)| HeldOrder { id: format!("SO-{i}"), amount: *amount })
            .collect();
        let outcomes = recheck_held_orders(&account, &held, as_of, &policy);
        prop_assert_eq!(outcomes.len(), held.len());
        let mut released = account.released_orders_total;
        for (order, decision) in &outcomes {
            let mut before = account.clone();
            before.released_orders_total = released;
            prop_assert_eq!(decision, &check_order(&before, order.amount, as_of, &policy));
            if decision.is_released() {
                released += order.amount;
            }
        }
    }

    #[test]
    fn allocation_never_applies_more_than_paid_or_open(
        invoices in prop::collection::vec(open_invoice(), 0..20),
        payment in amount(),
        remittance in prop::collection::vec(("INV-[0-9]{1,3}", amount()), 0..6),
    ) {
        let mut invoices = invoices;
        invoices.sort_by(|a, b| a.id.cmp(&b.id));
        invoices.dedup_by(|a, b| a.id == b.id);
        let lines: Vec<RemittanceLine> = remittance
            .into_iter()
            .map(|(invoice_id, amount)| RemittanceLine { invoice_id, amount })
            .collect();
        match allocate(payment, &lines, &invoices) {
            Ok(plan) => {
                let applied: Decimal = plan.allocations.iter().map(|a| a.amount).sum();
                prop_assert_eq!(applied + plan.unapplied, payment);
                prop_assert!(!plan.unapplied.is_sign_negative());
                for allocation in &plan.allocations {
                    let invoice = invoices.iter().find(|i| i.id == allocation.invoice_id).unwrap();
                    prop_assert!(allocation.amount > Decimal::ZERO);
                    prop_assert!(allocation.amount <= invoice.open);
                }
            }
            Err(AllocationError::UnknownInvoice(id)) => {
                prop_assert!(!invoices.iter().any(|i| i.id == id));
            }
            Err(AllocationError::DuplicateInvoice(id)) => {
                prop_assert!(lines.iter().filter(|l| l.invoice_id == id).count() > 1);
            }
            Err(AllocationError::RemittanceExceedsPayment { remitted, payment: paid }) => {
                prop_assert!(remitted > paid);
            }
        }
    }

    #[test]
    fn kpis_never_panic_and_show_two_decimals(
        // Receivables of a whole currency: up to 100,000 invoices at the
        // largest amount; periods up to the whole range of dates.
        figures in (0u64..=100_000, 0u64..=100, amount(), amount(), amount(), amount(), 1u32..=401_767)
            .prop_map(|(n, current_percent, begin, end, sales, _, days)| {
                let scale = Decimal::from(n.max(1));
                let end_ar = end * scale;
                PeriodFigures {
                    begin_ar: begin * scale,
                    end_ar,
                    end_current_ar: (end_ar * Decimal::from(current_percent) / Decimal::from(100)).round_dp(2),
                    credit_sales: sales * scale,
                    days,
                }
            }),
    ) {
        let kpis = kpis(&figures);
        for value in [kpis.dso, kpis.best_possible_dso, kpis.average_days_delinquent, kpis.cei].into_iter().flatten() {
            prop_assert_eq!(value.scale(), 2);
        }
        prop_assert_eq!(kpis.dso.is_some(), !figures.credit_sales.is_zero());
        if let (Some(dso), Some(best)) = (kpis.dso, kpis.best_possible_dso) {
            prop_assert!(best <= dso, "current AR is part of AR");
        }
    }

    #[test]
    fn a_new_limit_is_refused_exactly_below_what_is_outstanding(
        account in account(),
        limit in amount(),
    ) {
        let outstanding = account.outstanding();
        match check_new_limit(&account, limit) {
            Ok(()) => prop_assert!(limit >= outstanding),
            Err(error) => {
                prop_assert!(limit < outstanding);
                prop_assert!(error.to_string().contains(&outstanding.to_string()));
            }
        }
    }
}
