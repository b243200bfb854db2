//! Input checks shared by the components: JSON bodies, ids, dates, texts,
//! currencies and amounts. Every problem is collected and reported at once,
//! each naming its field.

use chrono::{Datelike, NaiveDate};
use credit_core::{Currency, FieldError};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use ledger::customers::AssigneeFilter;

use crate::problem::Problem;

/// Parses a JSON body: malformed JSON is 400; JSON of the wrong shape
/// (missing, unknown or mistyped fields, an array where an object belongs)
/// is 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request("the request needs a JSON body"));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(body)
        .map_err(|e| Problem::bad_request(format!("malformed JSON: {e}")))?;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let strict = crate::objects::Objects(&mut deserializer);
    let value = serde_path_to_error::deserialize(strict).map_err(|error| {
        let path = error.path().to_string();
        shape_problem(&path, error.into_inner())
    })?;
    deserializer
        .end()
        .map_err(|e| Problem::bad_request(format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn shape_problem(path: &str, error: serde_json::Error) -> Problem {
    match error.classify() {
        Category::Data => {
            let message = without_position(&error.to_string());
            let field = missing_field(&message).map_or(path.to_string(), |name| {
                if path == "." {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                }
            });
            Problem::invalid(vec![FieldError::new(field, message)])
        }
        _ => Problem::bad_request(format!("malformed JSON: {error}")),
    }
}

/// serde's "missing field `x`" names the field in the message; the path
/// stops at the object that lacks it.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_string(),
        None => message.to_string(),
    }
}

/// Ids (customers, orders, invoices, payments) are 1–64 characters of
/// letters, digits, `.`, `_`, `:` and `-`, starting with a letter or digit —
/// safe in paths, keys and logs.
pub fn check_id(id: &str) -> Result<(), String> {
    let valid = (1..=64).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(
            "must be 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
                .into(),
        )
    }
}

/// An id taken from the path: a malformed one is a bad request.
pub fn path_id<'a>(what: &str, id: &'a str) -> Result<&'a str, Problem> {
    check_id(id).map(|()| id).map_err(|message| {
        Problem::bad_request(format!("invalid {what} id in the path: {message}"))
    })
}

/// The years of the dates accepted: every date the business can mean, and
/// far enough inside `YYYY` that the dates computed from them (a dispute's
/// service-level date, the day before a report period) are `YYYY-MM-DD`
/// too, and sort as text the way they sort as dates.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// A calendar date, `YYYY-MM-DD`, from 1900-01-01 to 2999-12-31.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let date = well_formed
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("'{}' is not a calendar date (YYYY-MM-DD)", truncate(text)))?;
    if !YEARS.contains(&date.year()) {
        return Err(format!(
            "'{text}' is outside the dates accepted, 1900-01-01 to 2999-12-31"
        ));
    }
    Ok(date)
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Longest note (on a release, a dispute, a contact, a decision) kept.
pub const MAX_NOTE: usize = 2000;
/// Longest name or short text (a customer's name, a contact's outcome).
pub const MAX_NAME: usize = 200;

/// Collects field problems while a request is turned into a command.
/// Checks return `None` on a problem; after [`Fields::finish`] succeeds
/// every returned value is present (unwrap them with [`valid`]).
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

/// A value [`Fields`] has checked: present once `finish` succeeded.
pub fn valid<T>(value: Option<T>) -> T {
    value.expect("checked by Fields::finish")
}

impl Fields {
    pub fn new() -> Fields {
        Fields::default()
    }

    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn record<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.error(field, message)).ok()
    }

    pub fn id(&mut self, field: &str, id: &str) -> Option<String> {
        self.record(field, check_id(id).map(|()| id.to_string()))
    }

    /// A required free text: trimmed, not empty, at most `max_chars`.
    pub fn text(&mut self, field: &str, text: &str, max_chars: usize) -> Option<String> {
        let trimmed = text.trim();
        let result = if trimmed.is_empty() {
            Err("must not be empty".to_string())
        } else if trimmed.chars().count() > max_chars {
            Err(format!("must be at most {max_chars} characters"))
        } else if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            Err("must not contain control characters".to_string())
        } else {
            Ok(trimmed.to_string())
        };
        self.record(field, result)
    }

    /// A code (reason code, method): letters, digits, `_`, `-`.
    pub fn code(&mut self, field: &str, code: &str) -> Option<String> {
        let result = if credit_core::is_valid_code(code) {
            Ok(code.to_string())
        } else {
            Err("must be 1-40 letters, digits, '_' or '-'".to_string())
        };
        self.record(field, result)
    }

    pub fn date(&mut self, field: &str, text: &str) -> Option<NaiveDate> {
        self.record(field, parse_date(text))
    }

    /// An optional date: `default` when absent (`None` when the default
    /// itself was invalid: that problem is reported already).
    pub fn date_or(
        &mut self,
        field: &str,
        text: Option<&str>,
        default: Option<NaiveDate>,
    ) -> Option<NaiveDate> {
        match text {
            Some(text) => self.date(field, text),
            None => default,
        }
    }

    pub fn currency(&mut self, field: &str, code: &str) -> Option<Currency> {
        self.record(field, Currency::parse(code).map_err(|e| e.to_string()))
    }

    /// A non-negative amount in `currency` (skipped when the currency
    /// itself was invalid: that problem is reported already).
    pub fn amount(
        &mut self,
        field: &str,
        text: &str,
        currency: Option<Currency>,
    ) -> Option<Decimal> {
        let currency = currency?;
        self.record(
            field,
            currency.parse_amount(text).map_err(|e| e.to_string()),
        )
    }

    /// An amount above zero.
    pub fn positive_amount(
        &mut self,
        field: &str,
        text: &str,
        currency: Option<Currency>,
    ) -> Option<Decimal> {
        let currency = currency?;
        self.record(
            field,
            currency
                .parse_positive_amount(text)
                .map_err(|e| e.to_string()),
        )
    }

    /// Days (terms, grace): 0 to 3650.
    pub fn days(&mut self, field: &str, days: i64) -> Option<u32> {
        let result = u32::try_from(days)
            .ok()
            .filter(|d| *d <= 3650)
            .ok_or_else(|| "must be a whole number of days from 0 to 3650".to_string());
        self.record(field, result)
    }

    /// One of a closed set of names (a status, a channel): "must be a, b
    /// or c" otherwise.
    pub fn named<T: credit_core::Named>(&mut self, field: &str, text: &str) -> Option<T> {
        let value = T::from_name(text);
        if value.is_none() {
            self.error(field, format!("must be {}", T::expected()));
        }
        value
    }

    /// A whole-number query parameter in `range`; `default` when absent.
    pub fn number(
        &mut self,
        field: &str,
        text: Option<&str>,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> Option<u32> {
        let Some(text) = text else {
            return Some(default);
        };
        let parsed = text.parse::<u32>().ok().filter(|n| range.contains(n));
        if parsed.is_none() {
            self.error(
                field,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            );
        }
        parsed
    }

    /// Whose accounts a list shows: `me` (the caller, `me`), `unassigned`,
    /// or a person's name.
    pub fn assignee(&mut self, field: &str, text: &str, me: &str) -> Option<AssigneeFilter> {
        match text {
            "me" => Some(AssigneeFilter::Person(me.to_string())),
            "unassigned" => Some(AssigneeFilter::Unassigned),
            name => self.text(field, name, MAX_NAME).map(AssigneeFilter::Person),
        }
    }

    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.error(field, message);
        }
    }

    /// 422 listing every problem found, if any.
    pub fn finish(self) -> Result<(), Problem> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::invalid(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        id: String,
        lines: Vec<Line>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        amount: String,
    }

    fn problem(json: &str) -> Problem {
        parse_json::<Body>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for json in ["{", "{\"id\": }", "[1, 2", "{} trailing", "\u{0}"] {
            assert_eq!(problem(json).status, 400, "{json:?}");
        }
        assert_eq!(problem("  ").detail, "the request needs a JSON body");
    }

    #[test]
    fn the_wrong_shape_names_the_field() {
        let missing = problem(r#"{"lines": []}"#);
        assert_eq!(
            (missing.status, missing.errors[0].field.as_str()),
            (422, "id")
        );
        let unknown = problem(r#"{"id": "x", "lines": [], "sneaky": 1}"#);
        assert_eq!(unknown.errors[0].field, "sneaky");
        let nested = problem(r#"{"id": "x", "lines": [{"amount": "1"}, {"amount": 12.5}]}"#);
        assert_eq!(nested.errors[0].field, "lines[1].amount");
        assert!(nested.errors[0].message.contains("expected a string"));
        let nested_missing = problem(r#"{"id": "x", "lines": [{}]}"#);
        assert_eq!(nested_missing.errors[0].field, "lines[0].amount");
    }

    #[test]
    fn arrays_are_no_objects() {
        // Derived structs would take their fields in order from an array.
        let top = problem(r#"["x", []]"#);
        assert_eq!(top.status, 422);
        assert!(top.errors[0].message.contains("invalid type: sequence"));
        let nested = problem(r#"{"id": "x", "lines": [{"amount": "1"}, ["2"]]}"#);
        assert_eq!(nested.errors[0].field, "lines[1]");
        assert!(nested.errors[0].message.contains("invalid type: sequence"));
        let body: Body = parse_json(br#"{"id": "x", "lines": [{"amount": "1"}]}"#).unwrap();
        assert_eq!(body.lines.len(), 1);
    }

    #[test]
    fn optional_defaulted_and_map_fields_read_as_before() {
        #[derive(Debug, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct Settings {
            days: u32,
            limit: Option<String>,
            by_code: std::collections::BTreeMap<String, u32>,
            line: Option<Line>,
        }
        impl Default for Settings {
            fn default() -> Self {
                Settings {
                    days: 5,
                    limit: None,
                    by_code: Default::default(),
                    line: None,
                }
            }
        }
        let read: Settings =
            parse_json(br#"{"limit": null, "by_code": {"A": 1}, "line": {"amount": "2"}}"#)
                .unwrap();
        assert_eq!(read.days, 5);
        assert_eq!(read.limit, None);
        assert_eq!(read.by_code["A"], 1);
        assert_eq!(read.line.unwrap().amount, "2");
        assert_eq!(parse_json::<Settings>(b"[]").unwrap_err().status, 422);
        let nested = parse_json::<Settings>(br#"{"line": ["2"]}"#).unwrap_err();
        assert_eq!(nested.errors[0].field, "line");
        let float = parse_json::<Settings>(br#"{"days": 5.0}"#).unwrap_err();
        assert_eq!(float.errors[0].field, "days");
    }

    #[test]
    fn deeply_nested_json_is_refused_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            problem(&deep).status,
            422,
            "an array where an object belongs"
        );
        let deep_field = format!(
            r#"{{"id": {}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(problem(&deep_field).errors[0].field, "id");
        let unclosed = "[".repeat(100_000);
        assert_eq!(problem(&unclosed).status, 400);
    }

    #[test]
    fn ids_are_safe_for_paths_and_keys() {
        for good in ["C-100", "INV.2025:7", "a", "SO_1"] {
            assert!(check_id(good).is_ok(), "{good}");
        }
        let long = "x".repeat(65);
        for bad in [
            "",
            "../etc/passwd",
            "a/b",
            ".hidden",
            "-x",
            "a b",
            "x'; DROP TABLE",
            &long,
            "é",
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_are_strict_calendar_dates() {
        assert!(parse_date("2025-06-30").is_ok());
        assert!(parse_date("1900-01-01").is_ok());
        assert!(parse_date("2999-12-31").is_ok());
        // Dates computed from these would leave YYYY-MM-DD (+10000-01-14,
        // -0001-12-31).
        for far in ["1899-12-31", "3000-01-01", "9999-12-31", "0000-01-01"] {
            let message = parse_date(far).unwrap_err();
            assert!(
                message.contains("1900-01-01 to 2999-12-31"),
                "{far}: {message}"
            );
        }
        for bad in [
            "2025-6-30",
            "2025-02-30",
            "30/06/2025",
            "2025-06-30T00:00:00Z",
            "+2025-06-30",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fields_collect_every_problem() {
        let mut fields = Fields::new();
        let usd = fields.currency("currency", "USD");
        assert!(fields.amount("amount", "-5", usd).is_none());
        assert!(fields.currency("other", "XYZ").is_none());
        assert!(fields.amount("skipped", "1", None).is_none());
        assert!(fields.text("note", "   ", 10).is_none());
        assert!(fields.days("grace_days", -1).is_none());
        assert_eq!(fields.text("name", "  Acme  ", 10), Some("Acme".into()));
        let today = NaiveDate::from_ymd_opt(2025, 6, 30);
        assert_eq!(fields.date_or("as_of", None, today), today);
        assert!(fields.date_or("opened_on", Some("soon"), today).is_none());
        let problem = fields.finish().unwrap_err();
        let named: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            named,
            ["amount", "other", "note", "grace_days", "opened_on"]
        );
    }
}
