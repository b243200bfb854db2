//! An incoming request, read in full (up to the size limit), with the
//! helpers every handler uses: path segments, query, headers, JSON body.

use std::fmt;

use chrono::NaiveDate;
use http::{HeaderMap, Method, Uri};
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An incoming request. Its `Debug` never shows credentials (see
/// [`REDACTED_HEADERS`]) nor the body, which holds business data.
pub struct Incoming {
    pub method: Method,
    pub path: String,
    /// The path's non-empty segments, percent-decoded.
    segments: Vec<String>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Incoming {
    pub fn new(method: Method, uri: &Uri, headers: HeaderMap, body: Vec<u8>) -> Incoming {
        let query = uri
            .query()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Incoming {
            method,
            path: uri.path().to_string(),
            segments: decoded_segments(uri.path()),
            query,
            headers,
            body,
        }
    }

    /// The path's segments: `/orders/SO-1/release` is `["orders", "SO-1", "release"]`.
    /// They are percent-decoded, so `/customers/ACME%3AEU` names customer
    /// `ACME:EU`, as clients that encode path segments (`encodeURIComponent`)
    /// mean it.
    pub fn segments(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header's value when it is visible ASCII text (`None` otherwise).
    /// Every query parameter, in the order sent.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A header's value as sent, whatever bytes it holds.
    pub fn raw_header(&self, name: &str) -> Option<&[u8]> {
        self.headers.get(name).map(|v| v.as_bytes())
    }

    /// The body as JSON of type `T`. A wrong content type is 415, malformed
    /// JSON 400, and JSON of the wrong shape 422 naming the field.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        self.require_json_content_type()?;
        crate::input::parse_json(&self.body)
    }

    fn require_json_content_type(&self) -> Result<(), Problem> {
        let content_type = self.header("content-type").unwrap_or_default();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence == "application/json" || essence.ends_with("+json") {
            return Ok(());
        }
        let sent = if content_type.is_empty() {
            "no content type".to_string()
        } else {
            format!("'{content_type}'")
        };
        Err(Problem::unsupported_media_type(format!(
            "send the body as application/json (got {sent})"
        )))
    }

    /// `?as_of=YYYY-MM-DD`, or `today` when absent.
    pub fn as_of(&self, today: NaiveDate) -> Result<NaiveDate, Problem> {
        self.date_param("as_of").map(|date| date.unwrap_or(today))
    }

    /// An optional date query parameter.
    pub fn date_param(&self, name: &str) -> Result<Option<NaiveDate>, Problem> {
        self.query(name)
            .map(|text| {
                crate::input::parse_date(text)
                    .map_err(|message| Problem::invalid_field(name, message))
            })
            .transpose()
    }

    /// Whether the caller asked for CSV (`Accept: text/csv`).
    pub fn wants_csv(&self) -> bool {
        self.wants("text/csv")
    }

    /// Whether `Accept` names `media_type` itself (not through a wildcard:
    /// JSON stays the answer to `*/*`).
    pub fn wants(&self, media_type: &str) -> bool {
        self.header("accept").is_some_and(|accept| {
            accept.split(',').any(|range| {
                range
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .eq_ignore_ascii_case(media_type)
            })
        })
    }
}

/// Headers whose values `Debug` shows as `<redacted>`: bearer tokens,
/// webhook signatures and anything else that proves who is calling.
pub const REDACTED_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "webhook-signature",
];

impl fmt::Debug for Incoming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Headers<'a>(&'a HeaderMap);
        impl fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let shown = self.0.iter().map(|(name, value)| {
                    let value = if REDACTED_HEADERS.contains(&name.as_str()) {
                        "<redacted>"
                    } else {
                        value.to_str().unwrap_or("<not text>")
                    };
                    (name.as_str(), value)
                });
                f.debug_map().entries(shown).finish()
            }
        }
        f.debug_struct("Incoming")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &Headers(&self.headers))
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// A path's non-empty segments, each percent-decoded. A segment that does
/// not decode to UTF-8 is kept as sent (no id or route has a `%`, so it
/// names nothing).
fn decoded_segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .map(
            |segment| match percent_encoding::percent_decode_str(segment).decode_utf8() {
                Ok(decoded) => decoded.into_owned(),
                Err(_) => segment.to_string(),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)], body: &str) -> Incoming {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        Incoming::new(
            Method::POST,
            &uri.parse().unwrap(),
            map,
            body.as_bytes().to_vec(),
        )
    }

    #[test]
    fn segments_and_query() {
        let r = request(
            "/orders/SO-1/release?status=held&customer_id=C%2D1&status=x",
            &[],
            "",
        );
        assert_eq!(r.segments(), ["orders", "SO-1", "release"]);
        assert_eq!(r.query("status"), Some("held"));
        assert_eq!(r.query("customer_id"), Some("C-1"));
        assert_eq!(r.query("missing"), None);
    }

    #[test]
    fn segments_are_percent_decoded() {
        let r = request("/customers/ACME%3AEU/contacts", &[], "");
        assert_eq!(r.segments(), ["customers", "ACME:EU", "contacts"]);
        // An encoded slash stays inside its segment (and is no id).
        let r = request("/orders/a%2Fb/release", &[], "");
        assert_eq!(r.segments(), ["orders", "a/b", "release"]);
        // Escapes that are not UTF-8 are kept as sent.
        let r = request("/invoices/%FF", &[], "");
        assert_eq!(r.segments(), ["invoices", "%FF"]);
    }

    #[test]
    fn json_needs_the_json_content_type() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[allow(dead_code)]
            note: String,
        }
        let json = r#"{"note": "hi"}"#;
        let ok = request(
            "/x",
            &[("content-type", "application/json; charset=utf-8")],
            json,
        );
        assert!(ok.json::<Body>().is_ok());
        let wrong = request("/x", &[("content-type", "text/plain")], json);
        assert_eq!(wrong.json::<Body>().err().unwrap().status, 415);
        let missing = request("/x", &[], json);
        assert_eq!(missing.json::<Body>().err().unwrap().status, 415);
    }

    #[test]
    fn as_of_defaults_to_today_and_refuses_bad_dates() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        assert_eq!(request("/x", &[], "").as_of(today).unwrap(), today);
        let given = request("/x?as_of=2025-06-30", &[], "");
        assert_eq!(given.as_of(today).unwrap().to_string(), "2025-06-30");
        let bad = request("/x?as_of=2025-02-30", &[], "");
        let problem = bad.as_of(today).unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "as_of");
    }

    #[test]
    fn debug_output_redacts_credentials_and_the_body() {
        let r = request(
            "/orders?status=held",
            &[
                ("authorization", "Bearer tok-s3cr3t"),
                ("Webhook-Signature", "v1,c2lnbmF0dXJl"),
                ("cookie", "session=abc123"),
                ("webhook-id", "msg_1"),
                ("content-type", "application/json"),
            ],
            r#"{"note": "customer's private details"}"#,
        );
        let printed = format!("{r:?}");
        for secret in ["tok-s3cr3t", "c2lnbmF0dXJl", "abc123", "private details"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
        assert!(
            printed.contains(r#""authorization": "<redacted>""#),
            "{printed}"
        );
        assert!(
            printed.contains(r#""webhook-signature": "<redacted>""#),
            "{printed}"
        );
        assert!(printed.contains(r#""webhook-id": "msg_1""#), "{printed}");
        assert!(printed.contains("/orders"), "{printed}");
        assert!(printed.contains("<38 bytes>"), "{printed}");
        let alternate = format!("{r:#?}");
        assert!(!alternate.contains("tok-s3cr3t"), "{alternate}");
    }

    #[test]
    fn raw_headers_are_read_whatever_they_hold() {
        let mut map = HeaderMap::new();
        map.insert(
            "idempotency-key",
            http::HeaderValue::from_bytes("caf\u{e9}".as_bytes()).unwrap(),
        );
        let r = Incoming::new(Method::POST, &"/x".parse().unwrap(), map, vec![]);
        assert_eq!(r.header("idempotency-key"), None, "not visible ASCII");
        assert_eq!(
            r.raw_header("idempotency-key"),
            Some("caf\u{e9}".as_bytes())
        );
        assert_eq!(r.raw_header("missing"), None);
    }

    #[test]
    fn csv_is_chosen_by_the_accept_header() {
        assert!(request("/x", &[("accept", "text/csv")], "").wants_csv());
        assert!(request("/x", &[("accept", "application/json;q=0.5, text/csv")], "").wants_csv());
        assert!(!request("/x", &[("accept", "application/json")], "").wants_csv());
        assert!(!request("/x", &[], "").wants_csv());
        let html = request(
            "/x",
            &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
            "",
        );
        assert!(html.wants("text/html") && !html.wants("text/plain"));
    }
}
