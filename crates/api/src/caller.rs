//! Who is calling: a person with a bearer token, or the ERP with a signed
//! webhook (see API.md "Who may call").

use crate::auth::{Person, Role, Tokens, bearer_token};
use crate::problem::Problem;
use crate::request::Incoming;
use crate::router::Access;
use crate::webhook::{WebhookError, WebhookHeaders, WebhookSecret, check_headers, verify};

/// Longest `webhook-id` accepted (it becomes a key in the store).
const MAX_WEBHOOK_ID: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Person(Person),
    /// A webhook the ERP signed; `webhook_id` identifies the message.
    Erp {
        webhook_id: String,
    },
}

impl Caller {
    /// The name recorded with every write: the person, or `erp`.
    pub fn name(&self) -> &str {
        match self {
            Caller::Person(person) => &person.name,
            Caller::Erp { .. } => "erp",
        }
    }

    /// Whether the caller is a manager (the ERP is not a person).
    pub fn is_manager(&self) -> bool {
        matches!(self, Caller::Person(person) if person.role == Role::Manager)
    }

    pub fn webhook_id(&self) -> Option<&str> {
        match self {
            Caller::Erp { webhook_id } => Some(webhook_id),
            Caller::Person(_) => None,
        }
    }
}

/// The configured tokens and, for components with ERP endpoints, the
/// webhook secret.
pub struct Credentials {
    tokens: Tokens,
    webhook_secret: Option<WebhookSecret>,
}

impl Credentials {
    /// From the `api_tokens` and `erp_webhook_secret` variables (none for a
    /// component that takes no webhooks). Errors name the variable, never
    /// its value.
    pub fn new(api_tokens: &str, erp_webhook_secret: Option<&str>) -> Result<Credentials, String> {
        let tokens = Tokens::parse(api_tokens).map_err(|e| format!("variable api_tokens: {e}"))?;
        let webhook_secret = erp_webhook_secret
            .map(WebhookSecret::parse)
            .transpose()
            .map_err(|e| format!("variable erp_webhook_secret: {e}"))?;
        Ok(Credentials {
            tokens,
            webhook_secret,
        })
    }

    /// Everyone who holds a token (see [`Tokens::people`]).
    pub fn people(&self) -> Vec<Person> {
        self.tokens.people()
    }

    /// A person with at least the `required` role: 401 without a valid
    /// token, 403 with too small a role.
    pub fn person(&self, request: &Incoming, required: Role) -> Result<Person, Problem> {
        let token = bearer_token(request.header("authorization")).ok_or_else(|| {
            Problem::unauthorized("send 'Authorization: Bearer <token>' with a valid token")
        })?;
        let person = self
            .tokens
            .person(token)
            .ok_or_else(|| Problem::unauthorized("the bearer token is not valid"))?;
        if !person.role.allows(required) {
            return Err(Problem::forbidden(format!(
                "this needs the {required} role; {} is {}",
                person.name, person.role
            )));
        }
        Ok(person.clone())
    }

    /// Who may be calling, from the headers alone, so that nobody is
    /// kept waiting for a body that will be refused: a person's token is
    /// checked in full; a webhook's headers (an id, a fresh timestamp, a
    /// signature) are checked and its signature is left to [`Self::confirm`].
    pub fn admit(
        &self,
        request: &Incoming,
        access: Access,
        now_unix: i64,
    ) -> Result<Admitted, Problem> {
        let role = match access {
            Access::Person(role) => return self.person(request, role).map(Admitted::Person),
            Access::ErpOr(role) => role,
        };
        let Some(signature) = request.header("webhook-signature") else {
            return self.person(request, role).map(Admitted::Person);
        };
        let headers = webhook_headers(request, signature)?;
        if self.webhook_secret.is_none() {
            return Err(Problem::unauthorized(
                "this endpoint takes no signed webhooks; send 'Authorization: Bearer <token>'",
            ));
        }
        check_headers(&headers, now_unix).map_err(refused)?;
        Ok(Admitted::Webhook {
            id: headers.id.to_string(),
        })
    }

    /// The caller, once the body is in: a webhook's signature must match it.
    pub fn confirm(
        &self,
        admitted: Admitted,
        request: &Incoming,
        now_unix: i64,
    ) -> Result<Caller, Problem> {
        let webhook_id = match admitted {
            Admitted::Person(person) => return Ok(Caller::Person(person)),
            Admitted::Webhook { id } => id,
        };
        let signature = request.header("webhook-signature").unwrap_or_default();
        let headers = webhook_headers(request, signature)?;
        let secret = self.webhook_secret.as_ref().ok_or_else(Problem::internal)?;
        verify(secret, &headers, &request.body, now_unix).map_err(refused)?;
        Ok(Caller::Erp { webhook_id })
    }

    /// The ERP with a signed webhook, or a person with at least `role`
    /// (for ERP endpoints: a manager).
    pub fn erp_or(&self, request: &Incoming, role: Role, now_unix: i64) -> Result<Caller, Problem> {
        let admitted = self.admit(request, Access::ErpOr(role), now_unix)?;
        self.confirm(admitted, request, now_unix)
    }
}

/// Who a request's headers say is calling (see [`Credentials::admit`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admitted {
    Person(Person),
    /// A webhook whose signature is still to be checked against the body.
    Webhook {
        id: String,
    },
}

fn webhook_headers<'a>(
    request: &'a Incoming,
    signature: &'a str,
) -> Result<WebhookHeaders<'a>, Problem> {
    let id = request.header("webhook-id").unwrap_or_default();
    if id.len() > MAX_WEBHOOK_ID {
        return Err(Problem::bad_request(format!(
            "webhook-id is longer than {MAX_WEBHOOK_ID} characters"
        )));
    }
    Ok(WebhookHeaders {
        id,
        timestamp: request.header("webhook-timestamp").unwrap_or_default(),
        signature,
    })
}

fn refused(error: WebhookError) -> Problem {
    Problem::unauthorized(format!("webhook refused: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::sign;
    use http::{HeaderMap, Method};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: i64 = 1_750_000_000;

    fn credentials() -> Credentials {
        Credentials::new("t-al=alice:associate,t-ma=maria:manager", Some(SECRET)).unwrap()
    }

    fn request(headers: &[(&str, String)], body: &str) -> Incoming {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        Incoming::new(Method::POST, &"/orders".parse().unwrap(), map, body.into())
    }

    fn signed(id: &str, at: i64, body: &str) -> Incoming {
        let secret = WebhookSecret::parse(SECRET).unwrap();
        let signature = sign(&secret, id, at, body.as_bytes());
        request(
            &[
                ("webhook-id", id.into()),
                ("webhook-timestamp", at.to_string()),
                ("webhook-signature", signature),
            ],
            body,
        )
    }

    #[test]
    fn people_need_a_valid_token_and_the_role() {
        let creds = credentials();
        let none = request(&[], "");
        assert_eq!(
            creds.person(&none, Role::Associate).unwrap_err().status,
            401
        );
        let wrong = request(&[("authorization", "Bearer nope".into())], "");
        assert_eq!(
            creds.person(&wrong, Role::Associate).unwrap_err().status,
            401
        );
        let alice = request(&[("authorization", "Bearer t-al".into())], "");
        assert_eq!(creds.person(&alice, Role::Associate).unwrap().name, "alice");
        assert_eq!(creds.person(&alice, Role::Manager).unwrap_err().status, 403);
        let maria = request(&[("authorization", "bearer t-ma".into())], "");
        assert_eq!(creds.person(&maria, Role::Associate).unwrap().name, "maria");
    }

    #[test]
    fn the_erp_signs_its_webhooks() {
        let creds = credentials();
        let good = signed("msg_1", NOW - 10, r#"{"id":"SO-1"}"#);
        assert_eq!(
            creds.erp_or(&good, Role::Manager, NOW).unwrap(),
            Caller::Erp {
                webhook_id: "msg_1".into()
            }
        );
        let stale = signed("msg_1", NOW - 301, "{}");
        assert_eq!(
            creds.erp_or(&stale, Role::Manager, NOW).unwrap_err().status,
            401
        );
        let mut tampered = signed("msg_1", NOW, r#"{"amount":"1"}"#);
        tampered.body = br#"{"amount":"9"}"#.to_vec();
        let problem = creds.erp_or(&tampered, Role::Manager, NOW).unwrap_err();
        assert_eq!(problem.status, 401);
        assert!(!problem.detail.contains(SECRET));
    }

    #[test]
    fn the_headers_alone_admit_or_refuse_before_the_body_is_read() {
        let creds = credentials();
        let erp = Access::ErpOr(Role::Manager);
        let no_body = |id: &str, at: i64| {
            let mut head = signed(id, at, r#"{"id":"SO-1"}"#);
            head.body.clear();
            head
        };
        assert_eq!(
            creds.admit(&no_body("msg_1", NOW), erp, NOW).unwrap(),
            Admitted::Webhook { id: "msg_1".into() }
        );
        let stale = creds
            .admit(&no_body("msg_1", NOW - 301), erp, NOW)
            .unwrap_err();
        assert_eq!(stale.status, 401);
        assert_eq!(
            creds.admit(&no_body("", NOW), erp, NOW).unwrap_err().status,
            401
        );
        let anonymous = request(&[], "");
        let person = Access::Person(Role::Associate);
        assert_eq!(
            creds.admit(&anonymous, person, NOW).unwrap_err().status,
            401
        );
        assert_eq!(creds.admit(&anonymous, erp, NOW).unwrap_err().status, 401);
        let alice = request(&[("authorization", "Bearer t-al".into())], "");
        assert_eq!(creds.admit(&alice, erp, NOW).unwrap_err().status, 403);
        let Admitted::Person(person) = creds.admit(&alice, person, NOW).unwrap() else {
            panic!("a person");
        };
        assert_eq!(person.name, "alice");
    }

    #[test]
    fn a_webhook_admitted_on_its_headers_is_confirmed_by_its_body() {
        let creds = credentials();
        let erp = Access::ErpOr(Role::Manager);
        let mut request = signed("msg_1", NOW, r#"{"id":"SO-1"}"#);
        let admitted = creds.admit(&request, erp, NOW).unwrap();
        assert_eq!(
            creds.confirm(admitted.clone(), &request, NOW).unwrap(),
            Caller::Erp {
                webhook_id: "msg_1".into()
            }
        );
        request.body = br#"{"id":"SO-2"}"#.to_vec();
        assert_eq!(
            creds.confirm(admitted, &request, NOW).unwrap_err().status,
            401
        );
    }

    #[test]
    fn without_the_secret_no_webhook_is_taken_people_still_are() {
        let creds = Credentials::new("t-ma=maria:manager", None).unwrap();
        let good = signed("msg_1", NOW - 10, r#"{"id":"SO-1"}"#);
        let problem = creds.erp_or(&good, Role::Manager, NOW).unwrap_err();
        assert_eq!(problem.status, 401);
        assert!(
            problem.detail.contains("no signed webhooks"),
            "{}",
            problem.detail
        );
        let maria = request(&[("authorization", "Bearer t-ma".into())], "");
        assert_eq!(
            creds.erp_or(&maria, Role::Manager, NOW).unwrap().name(),
            "maria"
        );
    }

    #[test]
    fn erp_endpoints_also_take_a_manager_but_not_an_associate() {
        let creds = credentials();
        let maria = request(&[("authorization", "Bearer t-ma".into())], "");
        assert_eq!(
            creds.erp_or(&maria, Role::Manager, NOW).unwrap().name(),
            "maria"
        );
        let alice = request(&[("authorization", "Bearer t-al".into())], "");
        assert_eq!(
            creds.erp_or(&alice, Role::Manager, NOW).unwrap_err().status,
            403
        );
    }

    #[test]
    fn bad_configuration_names_the_variable_not_the_value() {
        let error = Credentials::new("s3cr3t-token=bob:boss", Some(SECRET))
            .err()
            .unwrap();
        assert!(error.starts_with("variable api_tokens"));
        assert!(!error.contains("s3cr3t-token"));
        let error = Credentials::new("", Some("whsec_!!!")).err().unwrap();
        assert!(error.starts_with("variable erp_webhook_secret"));
    }
}
