//! RFC 9457 problem details: every error a caller sees.

use credit_core::FieldError;
use http::StatusCode;
use ledger::LedgerError;
use serde::Serialize;

use crate::reply::Reply;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// A problem: `type` is the URI reference `/problems/<slug>`, `title` the
/// status's reason phrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub slug: &'static str,
    pub status: u16,
    pub detail: String,
    /// One entry per offending field (validation problems).
    pub errors: Vec<FieldError>,
    /// A header the response needs (`www-authenticate`, `allow`).
    pub header: Option<(&'static str, String)>,
}

/// The problem as JSON (RFC 9457 members, plus `errors`).
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl Problem {
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            slug,
            status: status.as_u16(),
            detail: detail.into(),
            errors: vec![],
            header: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 422: the request is well-formed but some fields are not acceptable.
    pub fn invalid(errors: Vec<FieldError>) -> Problem {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            errors,
            ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail)
        }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Problem {
        Problem::invalid(vec![FieldError::new(field, message)])
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, "conflict", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        let mut problem = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail);
        problem.header = Some(("www-authenticate", "Bearer realm=\"credit-desk\"".into()));
        problem
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn method_not_allowed(allowed: &[&str]) -> Problem {
        let allow = allowed.join(", ");
        let mut problem = Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            format!("this resource allows {allow}"),
        );
        problem.header = Some(("allow", allow));
        problem
    }

    pub fn too_large(limit: usize) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("request bodies are limited to {limit} bytes"),
        )
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            detail,
        )
    }

    pub fn not_acceptable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_ACCEPTABLE, "not-acceptable", detail)
    }

    /// 500. The detail never carries the cause: that goes to the log.
    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request could not be completed; nothing was changed",
        )
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn title(&self) -> &'static str {
        self.status().canonical_reason().unwrap_or("Error")
    }

    pub fn into_reply(self) -> Reply {
        let document = Document {
            kind: format!("/problems/{}", self.slug),
            title: self.title(),
            status: self.status,
            detail: &self.detail,
            errors: &self.errors,
        };
        let body = serde_json::to_vec(&document).expect("problems serialise");
        let reply = Reply::new(self.status(), CONTENT_TYPE, body);
        match self.header {
            Some((name, value)) => reply.with_header(name, value),
            None => reply,
        }
    }
}

impl From<LedgerError> for Problem {
    fn from(error: LedgerError) -> Problem {
        match error {
            LedgerError::NotFound { .. } => Problem::not_found(error.to_string()),
            LedgerError::Invalid(errors) => Problem::invalid(errors),
            LedgerError::Conflict(detail) => Problem::conflict(detail),
            LedgerError::Forbidden(detail) => Problem::forbidden(detail),
            // A race the replay layer answers (with the holder's answer or
            // a 409); not a failure to log.
            LedgerError::Db(cause @ ledger::DbError::Claimed(_)) => {
                Problem::conflict(cause.to_string())
            }
            LedgerError::Db(cause) => {
                eprintln!("error: {cause}");
                Problem::internal()
            }
        }
    }
}

impl From<ledger::DbError> for Problem {
    fn from(error: ledger::DbError) -> Problem {
        Problem::from(LedgerError::Db(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_problem_lists_every_field() {
        let problem = Problem::invalid(vec![
            FieldError::new("amount", "must not be negative"),
            FieldError::new("due_on", "is not a date"),
        ]);
        let json: serde_json::Value =
            serde_json::from_slice(&problem.clone().into_reply().body).unwrap();
        assert_eq!(json["status"], 422);
        assert_eq!(json["type"], "/problems/validation");
        assert_eq!(json["errors"][1]["field"], "due_on");
        assert_eq!(
            json["detail"],
            "amount: must not be negative; due_on: is not a date"
        );
        assert_eq!(problem.into_reply().content_type(), CONTENT_TYPE);
    }

    #[test]
    fn ledger_errors_map_to_their_statuses() {
        let cases = [
            (LedgerError::not_found("order", "SO-1"), 404),
            (LedgerError::invalid("currency", "wrong"), 422),
            (LedgerError::Conflict("no".into()), 409),
            (LedgerError::Forbidden("not yours".into()), 403),
            (
                LedgerError::Db(ledger::DbError::Sql(
                    "disk I/O error at /secret/path".into(),
                )),
                500,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(Problem::from(error).status, status);
        }
    }

    #[test]
    fn internal_problems_do_not_leak_the_cause() {
        let problem = Problem::from(LedgerError::Db(ledger::DbError::Sql(
            "at /secret/path".into(),
        )));
        assert!(!problem.detail.contains("secret"));
    }

    #[test]
    fn unauthorized_asks_for_a_bearer_token() {
        let reply = Problem::unauthorized("no token").into_reply();
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer realm=\"credit-desk\"")
        );
    }
}
