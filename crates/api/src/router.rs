//! A component's routes as one table: method, path pattern, who may call,
//! and the handler. The table answers 404 and 405 (with `Allow` listing the
//! path's methods) by itself, and says who may call before the body is
//! read. Matching is plain Rust, tested natively.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use chrono::{DateTime, NaiveDate, Utc};
use http::Method;

use crate::auth::Role;
use crate::caller::Caller;
use crate::problem::Problem;
use crate::reply::Reply;
use crate::request::Incoming;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A person whose role allows this one.
    Person(Role),
    /// The ERP with a signed webhook, or a person whose role allows this one.
    ErpOr(Role),
}

impl Access {
    /// Any person: an associate or a manager.
    pub const ASSOCIATE: Access = Access::Person(Role::Associate);
    /// A manager.
    pub const MANAGER: Access = Access::Person(Role::Manager);
    /// The ERP's endpoints: a signed webhook, or a manager standing in.
    pub const ERP: Access = Access::ErpOr(Role::Manager);

    /// Whether the route takes the ERP's signed webhooks.
    pub fn takes_webhooks(self) -> bool {
        matches!(self, Access::ErpOr(_))
    }
}

/// What a handler's future gives.
pub type Handled<'a> = Pin<Box<dyn Future<Output = Result<Reply, Problem>> + 'a>>;

/// A handler: the component's stores (`D`) and the call.
pub type Handler<D> = for<'a> fn(&'a D, &'a Call) -> Handled<'a>;

/// A route's handler from an `async fn(&D, &Call) -> Result<Reply, Problem>`:
/// `Route::get("/orders", ASSOCIATE, handler!(list_orders))`.
#[macro_export]
macro_rules! handler {
    ($handler:path) => {
        |stores, call| ::std::boxed::Box::pin($handler(stores, call))
    };
}

/// One row of a component's route table.
pub struct Route<D: 'static> {
    pub method: Method,
    /// `/orders/{id}/release`: literal segments, and `{name}` for any one
    /// segment (read with [`Call::param`]).
    pub path: &'static str,
    pub access: Access,
    pub handler: Handler<D>,
}

impl<D> Route<D> {
    pub const fn new(
        method: Method,
        path: &'static str,
        access: Access,
        handler: Handler<D>,
    ) -> Route<D> {
        Route {
            method,
            path,
            access,
            handler,
        }
    }

    pub const fn get(path: &'static str, access: Access, handler: Handler<D>) -> Route<D> {
        Route::new(Method::GET, path, access, handler)
    }

    pub const fn post(path: &'static str, access: Access, handler: Handler<D>) -> Route<D> {
        Route::new(Method::POST, path, access, handler)
    }

    pub const fn put(path: &'static str, access: Access, handler: Handler<D>) -> Route<D> {
        Route::new(Method::PUT, path, access, handler)
    }

    pub const fn patch(path: &'static str, access: Access, handler: Handler<D>) -> Route<D> {
        Route::new(Method::PATCH, path, access, handler)
    }

    fn pattern(&self) -> impl Iterator<Item = Segment<'static>> {
        self.path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(Segment::parse)
    }
}

impl<D> std::fmt::Debug for Route<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.access)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Segment<'p> {
    Literal(&'p str),
    Param(&'p str),
}

impl<'p> Segment<'p> {
    fn parse(text: &'p str) -> Segment<'p> {
        match text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) => Segment::Param(name),
            None => Segment::Literal(text),
        }
    }
}

/// A route's path parameters, by name.
pub type Params = Vec<(&'static str, String)>;

/// The route for a request: of the patterns its path matches, the most
/// specific (a literal segment beats a `{param}`, earlier segments first),
/// then the method. 404 when no pattern matches the path; 405 with `Allow`
/// when the pattern has no route for the method.
pub fn find<'r, D>(
    routes: &'r [Route<D>],
    request: &Incoming,
) -> Result<(&'r Route<D>, Params), Problem> {
    let segments = request.segments();
    let best = routes
        .iter()
        .filter(|route| params(route, &segments).is_some())
        .max_by_key(|route| specificity(route))
        .ok_or_else(|| not_found(routes, request))?;
    let same_path = || routes.iter().filter(|route| route.path == best.path);
    let Some(route) = same_path().find(|route| route.method == request.method) else {
        let mut allowed: Vec<&str> = same_path().map(|route| route.method.as_str()).collect();
        allowed.sort_unstable();
        return Err(Problem::method_not_allowed(&allowed));
    };
    let params = params(route, &segments).expect("the pattern matched");
    Ok((route, params))
}

/// 404, naming the resources there are.
fn not_found<D>(routes: &[Route<D>], request: &Incoming) -> Problem {
    let mut paths: Vec<&str> = routes.iter().map(|route| route.path).collect();
    paths.dedup();
    Problem::not_found(format!(
        "no resource at {}; there are {}",
        request.path,
        paths.join(", ")
    ))
}

/// The path's parameters when `route`'s pattern matches its segments.
fn params<D>(route: &Route<D>, segments: &[&str]) -> Option<Params> {
    let mut params = vec![];
    let mut pattern = route.pattern();
    for &segment in segments {
        match pattern.next()? {
            Segment::Literal(literal) if literal == segment => {}
            Segment::Literal(_) => return None,
            Segment::Param(name) => params.push((name, segment.to_string())),
        }
    }
    pattern.next().is_none().then_some(params)
}

/// Literal segments as `true`, in order: compared as a whole, the pattern
/// with a literal where another has a parameter wins.
fn specificity<D>(route: &Route<D>) -> Vec<bool> {
    route
        .pattern()
        .map(|segment| matches!(segment, Segment::Literal(_)))
        .collect()
}

/// A request that passed its route's access check: the request with its
/// body, who sent it, when it arrived, and the path's parameters.
pub struct Call {
    pub request: Incoming,
    pub caller: Caller,
    pub now: DateTime<Utc>,
    params: Params,
}

impl Call {
    pub fn new(request: Incoming, caller: Caller, now: DateTime<Utc>, params: Params) -> Call {
        Call {
            request,
            caller,
            now,
            params,
        }
    }

    /// A `{name}` segment of the route's path.
    ///
    /// # Panics
    /// When the route's pattern has no such parameter: a bug in the table.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(param, _)| *param == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_else(|| panic!("the route has no {{{name}}} parameter"))
    }

    /// Who is writing and when, for the ledger.
    pub fn stamp(&self) -> ledger::Stamp {
        ledger::Stamp::new(self.caller.name(), self.now)
    }

    /// The day the request arrived (UTC): the default `as_of`.
    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }
}

/// A call reads like its request: `call.json()`, `call.query("status")`.
impl Deref for Call {
    type Target = Incoming;

    fn deref(&self) -> &Incoming {
        &self.request
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    struct Stores;

    fn handled(_: &Stores, _: &Call) -> Handled<'static> {
        Box::pin(async { Ok(Reply::ok(&"ok")) })
    }

    const PERSON: Access = Access::Person(Role::Associate);

    const ROUTES: &[Route<Stores>] = &[
        Route::new(
            Method::POST,
            "/orders",
            Access::ErpOr(Role::Manager),
            handled,
        ),
        Route::new(Method::GET, "/orders", PERSON, handled),
        Route::new(Method::POST, "/orders/release", PERSON, handled),
        Route::new(Method::GET, "/orders/{id}", PERSON, handled),
        Route::new(Method::POST, "/orders/{id}/release", PERSON, handled),
        Route::new(Method::POST, "/orders/{id}/cancel", PERSON, handled),
    ];

    fn request(method: Method, path: &str) -> Incoming {
        Incoming::new(method, &path.parse().unwrap(), HeaderMap::new(), vec![])
    }

    fn found(method: Method, path: &str) -> (&'static str, Params) {
        let (route, params) = find(ROUTES, &request(method, path)).unwrap();
        (route.path, params)
    }

    #[test]
    fn the_most_specific_pattern_wins_whatever_the_order() {
        assert_eq!(found(Method::GET, "/orders"), ("/orders", vec![]));
        assert_eq!(
            found(Method::POST, "/orders/release"),
            ("/orders/release", vec![])
        );
        assert_eq!(
            found(Method::GET, "/orders/SO-1"),
            ("/orders/{id}", vec![("id", "SO-1".to_string())])
        );
        assert_eq!(
            found(Method::POST, "/orders/SO%2F1/release"),
            ("/orders/{id}/release", vec![("id", "SO/1".to_string())]),
            "parameters are percent-decoded"
        );
        let reversed: Vec<_> = ROUTES.iter().rev().collect();
        let best = reversed
            .iter()
            .filter(|r| params(r, &["orders", "release"]).is_some())
            .max_by_key(|r| specificity(r))
            .unwrap();
        assert_eq!(best.path, "/orders/release");
    }

    #[test]
    fn a_known_path_with_another_method_is_405_with_allow() {
        let problem = find(ROUTES, &request(Method::DELETE, "/orders")).unwrap_err();
        assert_eq!(problem.status, 405);
        assert_eq!(problem.header, Some(("allow", "GET, POST".to_string())));
        // `/orders/release` is its own resource: GET is not `/orders/{id}`.
        let problem = find(ROUTES, &request(Method::GET, "/orders/release")).unwrap_err();
        assert_eq!(problem.header, Some(("allow", "POST".to_string())));
        let problem = find(ROUTES, &request(Method::GET, "/orders/SO-1/cancel")).unwrap_err();
        assert_eq!(problem.header, Some(("allow", "POST".to_string())));
    }

    #[test]
    fn an_unknown_path_is_404() {
        for path in [
            "/",
            "/order",
            "/orders/SO-1/refund",
            "/orders/SO-1/release/x",
        ] {
            let problem = find(ROUTES, &request(Method::GET, path)).unwrap_err();
            assert_eq!(problem.status, 404, "{path}");
            assert!(
                problem.detail.contains(path.trim_end_matches('/')),
                "{path}"
            );
            assert!(problem.detail.contains("/orders/{id}/release"), "{path}");
        }
    }

    #[test]
    fn a_call_reads_its_parameters_and_stamps_its_writes() {
        let now = "2025-06-30T09:00:00Z".parse().unwrap();
        let caller = Caller::Erp {
            webhook_id: "msg_1".into(),
        };
        let params = vec![("id", "SO-1".to_string())];
        let call = Call::new(
            request(Method::GET, "/orders/SO-1?x=1"),
            caller,
            now,
            params,
        );
        assert_eq!(call.param("id"), "SO-1");
        assert_eq!(call.query("x"), Some("1"));
        assert_eq!(call.stamp().by, "erp");
        assert_eq!(call.today().to_string(), "2025-06-30");
    }
}
