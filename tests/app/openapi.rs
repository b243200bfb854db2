//! `openapi.yaml` is kept true to the code where that can be checked
//! mechanically: every route of `spin.toml` and every method and path the
//! components route is described (and nothing else), a method the document
//! does not list is refused with an `Allow` header listing exactly the ones
//! it does, and real requests and answers — at least one success of every
//! operation, and the usual problems — validate against the document's
//! schemas (JSON Schema 2020-12, formats included).
//!
//! The schemathesis run of `cargo xtask test` (tests/schemathesis) then
//! generates requests from the document against the running app.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::LazyLock;

use crate::common::*;
use e2e::{ASSOCIATE, App, MANAGER, Reply, repo_root};
use serde_json::{Value, json};

/// One host for the module: besides the book of
/// `real_answers_match_the_document`, it only sees requests that are
/// refused before anything is read (unlisted methods).
static HOST: LazyLock<&App> = LazyLock::new(shared_host);

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// openapi.yaml as JSON.
fn document() -> Value {
    serde_norway::from_str(&read(&repo_root().join("openapi.yaml"))).expect("openapi.yaml is YAML")
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation of the document: (METHOD, path template).
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

/// The value a local `$ref` (`#/...`) points at.
fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local references are used: {reference}"));
    let pointer = pointer.replace("~1", "/").replace("~0", "~");
    doc.pointer(&pointer)
        .unwrap_or_else(|| panic!("{reference} points at nothing"))
}

/// `value`, or what it refers to when it is a `$ref` object.
fn deref<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => deref(doc, resolve(doc, reference)),
        None => value,
    }
}

fn all_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(reference)) => found.push(reference.clone()),
                    _ => all_references(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| all_references(item, found)),
        _ => {}
    }
}

/// A JSON Schema 2020-12 validator, formats included, for a schema of the
/// document (its `#/components/...` references resolve in the document).
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let root = json!({
        "$defs": { "target": schema },
        "$ref": "#/$defs/target",
        "components": doc["components"],
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}\n{schema:#}"))
}

fn violations(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| format!("at '{}': {error}", error.instance_path()))
        .collect()
}

#[test]
fn the_document_is_openapi_3_1_and_complete_in_itself() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut references = vec![];
    all_references(&doc, &mut references);
    assert!(!references.is_empty());
    for reference in &references {
        resolve(&doc, reference);
    }
    let mut ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        let id = operation["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_string()), "operationId {id} repeats");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path} has no success"
        );
        for (status, response) in responses {
            let content = deref(&doc, response).get("content");
            for (media, body) in content.and_then(Value::as_object).into_iter().flatten() {
                validator(&doc, &body["schema"]);
                if !status.starts_with('2') && !status.starts_with('3') {
                    assert_eq!(
                        media, "application/problem+json",
                        "{method} {path} {status}"
                    );
                }
            }
        }
        if let Some(body) = operation.get("requestBody") {
            let media = &body["content"]["application/json"];
            let schema = &media["schema"];
            let closed = deref(&doc, schema);
            assert_eq!(
                closed["additionalProperties"],
                json!(false),
                "{method} {path}: the components refuse unknown fields"
            );
            let compiled = validator(&doc, schema);
            if let Some(example) = media.get("example") {
                let problems = violations(&compiled, example);
                assert!(problems.is_empty(), "{method} {path} example: {problems:?}");
            }
        }
        let path_parameters = doc["paths"][&path]["parameters"].as_array().cloned();
        let parameters = operation["parameters"].as_array().cloned();
        for parameter in path_parameters.into_iter().chain(parameters).flatten() {
            let parameter = deref(&doc, &parameter);
            if let Some(example) = parameter.get("example") {
                let problems = violations(&validator(&doc, &parameter["schema"]), example);
                assert!(
                    problems.is_empty(),
                    "{method} {path} {parameter}: {problems:?}"
                );
            }
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        let compiled = validator(&doc, schema);
        // Every example the document gives is one its schema accepts.
        if let Some(example) = schema.get("example") {
            assert_eq!(
                violations(&compiled, example),
                Vec::<String>::new(),
                "{name}"
            );
        }
    }
}

/// A request path's segments: literals, or a parameter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Literal(String),
    Parameter,
}

fn template(path: &str) -> Vec<Segment> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            // `{id}` in openapi.yaml and the components, `:id` in spin.toml.
            if s.starts_with('{') && s.ends_with('}') || s.starts_with(':') {
                Segment::Parameter
            } else {
                Segment::Literal(s.to_string())
            }
        })
        .collect()
}

#[test]
fn every_route_of_spin_toml_is_described() {
    let doc = document();
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let manifest: toml::Table =
        toml::from_str(&read(&repo_root().join("spin.toml"))).expect("TOML");
    let triggers: Vec<(String, String)> = manifest["trigger"]["http"]
        .as_array()
        .expect("[[trigger.http]]")
        .iter()
        .map(|trigger| {
            let route = trigger["route"].as_str().expect("route").to_string();
            let component = trigger["component"].as_str().unwrap_or_default();
            (route, component.to_string())
        })
        .collect();
    let routes: Vec<String> = triggers.iter().map(|(route, _)| route.clone()).collect();
    assert!(routes.len() >= 10, "{routes:?}");
    for route in &routes {
        let described = match route.as_str() {
            "/..." => paths.iter().any(|p| p == "/"),
            _ => paths.iter().any(|p| served_by(p, route)),
        };
        assert!(
            described,
            "spin.toml routes {route}; openapi.yaml describes nothing there"
        );
    }
    // Every path is served by the route Spin picks for it: the most
    // specific one, which is not the web workspace's `/...` but for `/`...
    for path in &paths {
        let route = routes
            .iter()
            .filter(|route| served_by(path, route))
            .max_by_key(|route| precedence(route))
            .unwrap_or_else(|| panic!("no route of spin.toml serves {path}"));
        assert_eq!(route == "/...", path == "/", "{path} is served by {route}");
        // ...and the component behind that route has the path in its table.
        let (_, component) = triggers.iter().find(|(r, _)| r == route).unwrap();
        if route != "/..." {
            assert!(
                routes_of(component)
                    .iter()
                    .any(|(_, t)| *t == template(path)),
                "{path} goes to {component} (route {route}), whose table does not route it"
            );
        }
    }
}

/// Whether a spin.toml route (`/a/:id/b`, `/a/...`) serves a path of the
/// document (`/a/{id}/b`): literal segments alike, a `:param` for any one
/// segment, a trailing `...` for the rest (none included).
fn served_by(path: &str, route: &str) -> bool {
    let path: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let route: Vec<&str> = route.split('/').filter(|s| !s.is_empty()).collect();
    for (i, segment) in route.iter().enumerate() {
        match *segment {
            "..." => return true,
            param if param.starts_with(':') && i < path.len() => {}
            literal if path.get(i) == Some(&literal) => {}
            _ => return false,
        }
    }
    route.len() == path.len()
}

/// Spin's precedence between routes that serve a path (routefinder's):
/// segment by segment, a literal beats a `:param`, which beats the
/// wildcard; and a route that ends where the path does beats a wildcard
/// there (`/customers` before `/customers/...` for `/customers`).
fn precedence(route: &str) -> Vec<u8> {
    let mut rank: Vec<u8> = route
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|segment| match segment {
            "..." => 0,
            s if s.starts_with(':') => 1,
            _ => 2,
        })
        .collect();
    if rank.last() != Some(&0) {
        rank.push(3);
    }
    rank
}

/// What a component routes: (METHOD, segments) from its route table,
/// `Route::get("/orders/{id}", ...)`.
fn component_routes() -> Vec<(String, Vec<Segment>)> {
    let mut routes = vec![];
    let dir = repo_root().join("components");
    for entry in std::fs::read_dir(&dir).expect("components/") {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        routes.extend(routes_of(&name));
    }
    routes
}

/// The routes of one component's table (`components/<name>/src/lib.rs`).
fn routes_of(component: &str) -> Vec<(String, Vec<Segment>)> {
    let mut routes = vec![];
    let source = repo_root().join(format!("components/{component}/src/lib.rs"));
    if source.exists() {
        let text = read(&source);
        for (at, _) in text.match_indices("Route::") {
            let rest = &text[at + "Route::".len()..];
            let Some((method, rest)) = rest.split_once('(') else {
                continue;
            };
            let Some(path) = rest.trim_start().strip_prefix('"') else {
                continue;
            };
            let (path, _) = path.split_once('"').expect("a closed path literal");
            routes.push((method.to_uppercase(), template(path)));
        }
    }
    routes
}

#[test]
fn every_route_of_the_components_is_described_and_nothing_else() {
    let doc = document();
    let routes = component_routes();
    assert!(routes.len() >= 20, "the route arms were not found");
    let described = operations(&doc);
    for (method, route) in &routes {
        let found = described
            .iter()
            .any(|(m, path)| m == method && *route == template(path));
        assert!(
            found,
            "the code routes {method} {route:?}; openapi.yaml does not describe it"
        );
    }
    // The web component serves `/` (GET and HEAD) without route arms.
    let web = [("GET", "/"), ("HEAD", "/")];
    for (method, path) in &described {
        let found = routes
            .iter()
            .any(|(m, route)| m == method && *route == template(path));
        let static_file = web.contains(&(method.as_str(), path.as_str()));
        assert!(
            found || static_file,
            "openapi.yaml describes {method} {path}, which no component routes"
        );
    }
}

#[test]
fn a_method_the_document_does_not_list_is_refused_with_the_ones_it_does() {
    let doc = document();
    let app = *HOST;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut listed: Vec<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect();
        listed.sort();
        let unlisted = ["DELETE", "PATCH", "PUT", "POST"]
            .into_iter()
            .find(|m| !listed.iter().any(|l| l == m))
            .expect("a method the path does not list");
        let concrete = path.replace("{id}", "X-1");
        let reply = app.send(unlisted, &concrete, &[], b"");
        assert_eq!(reply.status, 405, "{unlisted} {concrete}: {}", reply.text());
        let mut allowed: Vec<String> = reply
            .header("allow")
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        allowed.sort();
        assert_eq!(allowed, listed, "Allow of {path}");
    }
}

/// Checks exchanges against the document and counts the operations whose
/// success was seen.
struct Checker {
    doc: Value,
    validators: HashMap<String, jsonschema::Validator>,
    succeeded: BTreeSet<(String, String)>,
}

impl Checker {
    fn new() -> Checker {
        Checker {
            doc: document(),
            validators: HashMap::new(),
            succeeded: BTreeSet::new(),
        }
    }

    fn operation(&self, method: &str, template: &str) -> &Value {
        let operation = &self.doc["paths"][template][method.to_lowercase()];
        assert!(
            operation.is_object(),
            "openapi.yaml has no {method} {template}"
        );
        operation
    }

    fn assert_valid(&mut self, key: String, schema: Value, instance: &Value, what: &str) {
        let doc = &self.doc;
        let validator = self
            .validators
            .entry(key)
            .or_insert_with(|| validator(doc, &schema));
        let problems = violations(validator, instance);
        assert!(
            problems.is_empty(),
            "{what} does not match openapi.yaml:\n  {}\n{instance:#}",
            problems.join("\n  ")
        );
    }

    /// A request body the app is about to accept must be one the document allows.
    fn request(&mut self, method: &str, template: &str, body: &Value) {
        let schema = self.operation(method, template)["requestBody"]["content"]["application/json"]
            ["schema"]
            .clone();
        assert!(schema.is_object(), "{method} {template} takes no JSON body");
        let key = format!("request {method} {template}");
        self.assert_valid(
            key,
            schema,
            body,
            &format!("the body of {method} {template}"),
        );
    }

    /// The answer must be one the document describes, body and headers.
    fn answer(&mut self, method: &str, template: &str, reply: &Reply) {
        let status = reply.status.to_string();
        let doc = &self.doc;
        let operation = self.operation(method, template);
        let response = operation["responses"]
            .get(&status)
            .map(|r| deref(doc, r).clone())
            .unwrap_or_else(|| {
                panic!(
                    "{method} {template} answered {status}, which openapi.yaml does not list: {}",
                    reply.text()
                )
            });
        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            let header = deref(&self.doc, header);
            if header["required"] == json!(true) {
                assert!(
                    reply.header(name).is_some(),
                    "{method} {template} {status}: no {name}"
                );
            }
        }
        let content_type = reply.header("content-type").unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let content = response.get("content").and_then(Value::as_object);
        // HEAD and 304 answers have no body to check.
        if !reply.body.is_empty() {
            let body = content.and_then(|c| c.get(media)).unwrap_or_else(|| {
                panic!("{method} {template} {status}: {media} is not described")
            });
            if media.ends_with("json") {
                let key = format!("{method} {template} {status} {media}");
                let what = format!("the {status} answer of {method} {template}");
                self.assert_valid(key, body["schema"].clone(), &reply.json(), &what);
            }
        }
        if reply.status < 400 {
            self.succeeded
                .insert((method.to_string(), template.to_string()));
        }
    }
}

/// Sends requests and checks each exchange.
struct Session<'a> {
    app: &'a App,
    check: Checker,
}

impl Session<'_> {
    /// A person's request; `body` is sent as JSON and must be one the
    /// document allows when the app accepts it.
    fn call(
        &mut self,
        token: Option<&str>,
        (method, template): (&str, &str),
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let bytes = body.as_ref().map(Value::to_string).unwrap_or_default();
        let reply = self.app.send(method, path, &headers, bytes.as_bytes());
        self.expect(method, template, path, body.as_ref(), reply, expected)
    }

    fn get(&mut self, template: &str, path: &str) -> Value {
        self.call(Some(ASSOCIATE), ("GET", template), path, None, 200)
            .json()
    }

    /// The ERP's signed webhook.
    fn erp(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        body: Value,
        expected: u16,
    ) -> Value {
        let reply = self.app.erp(method, path, &body);
        self.expect(method, template, path, Some(&body), reply, expected)
            .json()
    }

    fn expect(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<&Value>,
        reply: Reply,
        expected: u16,
    ) -> Reply {
        assert_eq!(reply.status, expected, "{method} {path}: {}", reply.text());
        if let (Some(body), true) = (body, reply.status < 400) {
            self.check.request(method, template, body);
        }
        self.check.answer(method, template, &reply);
        reply
    }

    /// A manager's request with any content type and body, sent as is.
    fn raw(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Reply {
        let auth = format!("Bearer {MANAGER}");
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", content_type),
        ];
        self.app.send(method, path, &headers, body)
    }

    fn csv(&mut self, template: &str, path: &str) {
        self.get_as_media(template, path, "text/csv");
    }

    /// A manager's GET asking for another media type than JSON.
    fn get_as_media(&mut self, template: &str, path: &str, accept: &str) -> Reply {
        let auth = format!("Bearer {MANAGER}");
        let headers = [("authorization", auth.as_str()), ("accept", accept)];
        let reply = self.app.send("GET", path, &headers, b"");
        self.expect("GET", template, path, None, reply, 200)
    }
}

const AS_MANAGER: Option<&str> = Some(MANAGER);
const AS_ASSOCIATE: Option<&str> = Some(ASSOCIATE);
const AS_INTEGRATION: Option<&str> = Some(e2e::INTEGRATION);

/// A success of every operation of the document, and the usual problems,
/// checked area by area on one book: each area builds on what the ones
/// before it wrote (the invoices the payments pay, the dispute the
/// payment opens, the events all of it made).
#[test]
fn real_answers_match_the_document() {
    let mut s = Session {
        app: *HOST,
        check: Checker::new(),
    };
    accounts(&mut s);
    orders(&mut s);
    payments(&mut s);
    disputes(&mut s);
    limit_requests(&mut s);
    contacts_policy_and_the_caller(&mut s);
    reports(&mut s);
    dashboard_and_queue(&mut s);
    desk(&mut s);
    communications(&mut s);
    web(&mut s);
    problems(&mut s);
    events(&mut s);

    let missing: Vec<_> = operations(&s.check.doc)
        .difference(&s.check.succeeded)
        .cloned()
        .collect();
    assert!(missing.is_empty(), "no success checked for {missing:?}");
}

/// accounts: master data from the ERP; C-100 (USD) and C-200 (EUR).
fn accounts(s: &mut Session) {
    let customer = |limit: Value| json!({"name": "Acme Tools", "currency": "USD", "credit_limit": limit, "payment_terms_days": 30});
    s.erp(
        "PUT",
        "/customers/{id}",
        "/customers/C-100",
        customer(json!("50000.00")),
        200,
    );
    let eur = json!({"name": "Bolt GmbH", "currency": "EUR", "credit_limit": null, "payment_terms_days": 45, "grace_days": 3, "on_hold": false, "exempt": false});
    s.call(
        AS_MANAGER,
        ("PUT", "/customers/{id}"),
        "/customers/C-200",
        Some(eur),
        200,
    );
    let invoice = |due_on: &str, amount: &str| json!({"customer_id": "C-100", "issued_on": "2025-05-10", "due_on": due_on, "amount": amount, "currency": "USD"});
    s.erp(
        "PUT",
        "/invoices/{id}",
        "/invoices/INV-1",
        invoice("2025-06-10", "45000.00"),
        201,
    );
    s.erp(
        "PUT",
        "/invoices/{id}",
        "/invoices/INV-1",
        invoice("2025-06-10", "45000.00"),
        200,
    );
    let past_due = json!({"customer_id": "C-200", "issued_on": "2025-04-01", "due_on": "2025-05-16", "amount": "750.00", "currency": "EUR"});
    s.call(
        AS_MANAGER,
        ("PUT", "/invoices/{id}"),
        "/invoices/INV-3",
        Some(past_due),
        201,
    );
    let replayed = json!({"customer_id": "C-100", "issued_on": "2025-06-01", "due_on": "2025-07-20", "amount": "1000.00", "currency": "USD", "order_id": "SO-0"});
    for _ in 0..2 {
        let reply = s
            .app
            .erp_with_id("PUT", "/invoices/INV-2", &replayed, "msg_openapi_1");
        s.expect(
            "PUT",
            "/invoices/{id}",
            "/invoices/INV-2",
            Some(&replayed),
            reply,
            201,
        );
    }
}

/// An order webhook's body, checked as of the worked cases' date.
fn order(id: &str, customer: &str, amount: &str, currency: &str) -> Value {
    json!({"id": id, "customer_id": customer, "amount": amount, "currency": currency, "ordered_on": AS_OF, "as_of": AS_OF})
}

/// order-hold: checks, the queue, releases, a cancellation.
fn orders(s: &mut Session) {
    let held = s.erp(
        "POST",
        "/orders",
        "/orders",
        order("SO-1", "C-100", "8000.00", "USD"),
        200,
    );
    assert_eq!(held["status"], "held");
    assert!(held["available"].is_string() && held["reasons"][0]["amount"].is_string());
    s.call(
        AS_MANAGER,
        ("POST", "/orders"),
        "/orders",
        Some(order("SO-2", "C-100", "10.00", "USD")),
        200,
    );
    let no_limit = s.erp(
        "POST",
        "/orders",
        "/orders",
        order("SO-3", "C-200", "120.00", "EUR"),
        200,
    );
    assert_eq!(no_limit["credit_limit"], Value::Null);
    s.erp(
        "POST",
        "/orders",
        "/orders",
        order("SO-4", "C-100", "20.00", "USD"),
        200,
    );
    let queue = s.get(
        "/orders",
        &format!("/orders?status=held&customer_id=C-100&limit=10&offset=0&as_of={AS_OF}"),
    );
    assert_eq!(queue.as_array().unwrap().len(), 3);
    s.get("/orders", "/orders?status=released");
    let position = s.get(
        "/customers/{id}",
        &format!("/customers/C-100?as_of={AS_OF}"),
    );
    assert_eq!(position["held_orders"].as_array().unwrap().len(), 3);
    s.get("/customers/{id}", "/customers/C-200");
    let note = json!({"note": "Customer confirmed payment run on Friday"});
    let release = ("POST", "/orders/{id}/release");
    s.call(
        AS_ASSOCIATE,
        release,
        "/orders/SO-1/release",
        Some(note.clone()),
        200,
    );
    s.call(
        AS_ASSOCIATE,
        release,
        "/orders/SO-1/release",
        Some(note),
        409,
    );
    let bulk = json!({"order_ids": ["SO-2", "SO-404"], "note": "Payment run confirmed"});
    let results = s
        .call(
            AS_ASSOCIATE,
            ("POST", "/orders/release"),
            "/orders/release",
            Some(bulk),
            200,
        )
        .json();
    assert_eq!(results["results"][1]["outcome"], "not_found");
    s.call(
        AS_MANAGER,
        ("POST", "/orders/{id}/cancel"),
        "/orders/SO-3/cancel",
        None,
        200,
    );
    let cancelled = s.app.erp(
        "POST",
        &format!("/orders/SO-3/cancel?as_of={AS_OF}"),
        &json!({}),
    );
    s.expect(
        "POST",
        "/orders/{id}/cancel",
        "/orders/SO-3/cancel",
        None,
        cancelled,
        200,
    );
    let history = s.get("/orders/{id}", "/orders/SO-1");
    assert_eq!(history["decisions"].as_array().unwrap().len(), 2);
}

/// payment-intake: a short pay opens a dispute; the same payment again.
fn payments(s: &mut Session) {
    let payment = json!({"id": "PAY-1", "customer_id": "C-100", "amount": "500.00", "currency": "USD", "received_on": AS_OF, "method": "wire", "reference": "Remittance 4711", "remittance": [{"invoice_id": "INV-1", "amount": "400.00"}], "short_pay_reason": "PRICING", "as_of": AS_OF});
    let post = ("POST", "/payments");
    let posted = s
        .call(AS_ASSOCIATE, post, "/payments", Some(payment.clone()), 201)
        .json();
    assert_eq!(posted["disputes_opened"][0]["id"], "D-1");
    let again = s.call(AS_ASSOCIATE, post, "/payments", Some(payment), 201);
    assert_eq!(again.header("idempotent-replay"), Some("true"));
    let by_erp = json!({"id": "PAY-2", "customer_id": "C-100", "amount": "10.00", "currency": "USD", "received_on": AS_OF, "method": "ach"});
    s.erp("POST", "/payments", "/payments", by_erp, 201);
    s.get("/payments/{id}", "/payments/PAY-1");
}

/// dispute-update: open, move on, resolve with a credit.
fn disputes(s: &mut Session) {
    let dispute = json!({"invoice_id": "INV-2", "amount": "100.00", "reason_code": "DAMAGED", "note": "Two boxes arrived crushed", "as_of": AS_OF});
    let opened = s
        .call(
            AS_ASSOCIATE,
            ("POST", "/disputes"),
            "/disputes",
            Some(dispute),
            201,
        )
        .json();
    let id = opened["id"].as_str().unwrap().to_string();
    let one = format!("/disputes/{id}");
    s.get("/disputes", "/disputes");
    s.get(
        "/disputes",
        &format!("/disputes?status=active&customer_id=C-100&as_of={AS_OF}"),
    );
    s.get("/disputes/{id}", &format!("{one}?as_of={AS_OF}"));
    let patch = ("PATCH", "/disputes/{id}");
    let review = json!({"status": "in_review", "note": "Asked the warehouse for photos"});
    s.call(AS_ASSOCIATE, patch, &one, Some(review), 200);
    let credit = json!({"status": "resolved_credit", "credit_amount": "60.00", "note": null, "as_of": "2025-07-02"});
    let resolved = s.call(AS_ASSOCIATE, patch, &one, Some(credit), 200).json();
    assert_eq!(
        (
            resolved["credited"].as_str(),
            resolved["closed_on"].as_str()
        ),
        (Some("60.00"), Some("2025-07-02"))
    );
    let invoice_view = s.get("/invoices/{id}", "/invoices/INV-2");
    assert_eq!(invoice_view["disputes"].as_array().unwrap().len(), 1);
    s.get("/invoices/{id}", "/invoices/INV-1");
}

/// credit-limit-request: an associate asks, a manager decides.
fn limit_requests(s: &mut Session) {
    let ask = |customer: &str, limit: &str| json!({"customer_id": customer, "requested_limit": limit, "reason": "Seasonal volume"});
    let create = ("POST", "/credit-limit-requests");
    let path = "/credit-limit-requests";
    s.call(
        AS_ASSOCIATE,
        create,
        path,
        Some(ask("C-100", "90000.00")),
        201,
    );
    s.call(
        AS_ASSOCIATE,
        create,
        path,
        Some(ask("C-200", "5000.00")),
        201,
    );
    s.get(
        "/credit-limit-requests",
        "/credit-limit-requests?status=pending&customer_id=C-100",
    );
    s.get(
        "/credit-limit-requests/{id}",
        "/credit-limit-requests/CLR-1",
    );
    let decide = ("POST", "/credit-limit-requests/{id}/decision");
    let approve = json!({"decision": "approve", "approved_limit": "85000.00", "note": "Until the Q3 review", "as_of": AS_OF});
    let decided = s
        .call(
            AS_MANAGER,
            decide,
            "/credit-limit-requests/CLR-1/decision",
            Some(approve),
            200,
        )
        .json();
    assert_eq!(decided["credit_limit"], "85000.00");
    let reject = json!({"decision": "reject", "note": "Not this quarter"});
    s.call(
        AS_MANAGER,
        decide,
        "/credit-limit-requests/CLR-2/decision",
        Some(reject),
        200,
    );
    s.get("/credit-limit-requests", "/credit-limit-requests");
}

/// accounts: the contact log, the policy, the caller.
fn contacts_policy_and_the_caller(s: &mut Session) {
    let contact = json!({"channel": "call", "outcome": "promised to pay", "note": "Friday", "contacted_on": AS_OF, "promise": {"amount": "1000.00", "due_on": "2025-07-04"}});
    let log_contact = ("POST", "/customers/{id}/contacts");
    s.call(
        AS_ASSOCIATE,
        log_contact,
        "/customers/C-100/contacts?as_of=2025-07-01",
        Some(contact),
        201,
    );
    let plain =
        json!({"channel": "email", "outcome": "sent statement", "note": "Statement for June"});
    s.call(
        AS_ASSOCIATE,
        log_contact,
        "/customers/C-100/contacts",
        Some(plain),
        201,
    );
    let log = s.get(
        "/customers/{id}/contacts",
        "/customers/C-100/contacts?as_of=2025-07-10",
    );
    assert_eq!(log[1]["promise"]["status"], "broken");
    s.get("/policy", "/policy");
    let policy = json!({"grace_days": 5, "past_due_tolerance": "10.00", "hold_when_no_limit": true, "dispute_sla_business_days": 10, "dispute_sla_by_reason": {"PRICING": 5}});
    s.call(AS_MANAGER, ("PUT", "/policy"), "/policy", Some(policy), 200);
    s.call(
        AS_MANAGER,
        ("PUT", "/policy"),
        "/policy",
        Some(json!({})),
        200,
    );
    assert_eq!(
        s.get("/me", "/me"),
        json!({"name": "alice", "role": "associate"})
    );
}

/// report: JSON and CSV, with an order held for an account on hold.
fn reports(s: &mut Session) {
    let on_hold = json!({"name": "Kaisha KK", "currency": "JPY", "credit_limit": "5000000", "payment_terms_days": 60, "on_hold": true});
    s.erp("PUT", "/customers/{id}", "/customers/C-300", on_hold, 200);
    let held = s.erp(
        "POST",
        "/orders",
        "/orders",
        order("SO-5", "C-300", "90000", "JPY"),
        200,
    );
    assert_eq!(held["reasons"][0]["code"], "ACCOUNT_ON_HOLD");
    let reports = [
        (
            "/reports/held-orders",
            format!("/reports/held-orders?as_of={AS_OF}"),
        ),
        ("/reports/aging", format!("/reports/aging?as_of={AS_OF}")),
        (
            "/reports/disputes",
            format!("/reports/disputes?status=all&as_of={AS_OF}"),
        ),
        (
            "/reports/worklist",
            format!("/reports/worklist?as_of={AS_OF}"),
        ),
        (
            "/reports/kpis",
            "/reports/kpis?from=2025-01-01&to=2025-06-30".to_string(),
        ),
        (
            "/reports/credit-limit-requests",
            "/reports/credit-limit-requests?status=all".to_string(),
        ),
        (
            "/reports/held-orders/trend",
            format!("/reports/held-orders/trend?from=2025-06-01&to={AS_OF}"),
        ),
    ];
    for (template, path) in &reports {
        let report = s.get(template, path);
        assert!(
            report
                .as_object()
                .unwrap()
                .values()
                .any(|v| v.as_array().is_some_and(|a| !a.is_empty())),
            "{path}: {report}"
        );
        s.csv(template, path);
    }
    s.get(
        "/reports/credit-limit-requests",
        "/reports/credit-limit-requests",
    );
    s.get("/reports/disputes", "/reports/disputes");
    let trend = s.get("/reports/held-orders/trend", "/reports/held-orders/trend");
    assert_eq!(trend["days"].as_array().unwrap().len(), 30);
    let invoices = s.get(
        "/customers/{id}/invoices",
        &format!("/customers/C-100/invoices?as_of={AS_OF}"),
    );
    assert_eq!(invoices[0]["days_past_due"], 20);
    s.get(
        "/customers/{id}/invoices",
        "/customers/C-100/invoices?status=all",
    );
}

/// web: the workspace's page.
fn web(s: &mut Session) {
    let page = s.call(None, ("GET", "/"), "/", None, 200);
    let etag = page.header("etag").expect("etag").to_string();
    let unchanged = s.app.send("GET", "/", &[("if-none-match", &etag)], b"");
    s.expect("GET", "/", "/", None, unchanged, 304);
    s.call(None, ("HEAD", "/"), "/", None, 200);
}

/// The usual problems, each as the document describes it.
fn problems(s: &mut Session) {
    s.call(None, ("GET", "/orders"), "/orders", None, 401);
    s.call(
        Some("not-a-token"),
        ("GET", "/customers/{id}"),
        "/customers/C-100",
        None,
        401,
    );
    s.call(
        AS_ASSOCIATE,
        ("PUT", "/policy"),
        "/policy",
        Some(json!({"grace_days": 1})),
        403,
    );
    s.call(
        AS_ASSOCIATE,
        ("GET", "/customers/{id}"),
        "/customers/C-404",
        None,
        404,
    );
    s.call(
        AS_ASSOCIATE,
        ("GET", "/orders/{id}"),
        "/orders/..%2F1",
        None,
        400,
    );
    s.call(
        AS_ASSOCIATE,
        ("GET", "/orders"),
        "/orders?limit=0",
        None,
        422,
    );
    let bad = json!({"id": "SO-9", "customer_id": "C-100", "amount": "-1", "currency": "usd", "ordered_on": "soon", "extra": 1});
    s.call(AS_MANAGER, ("POST", "/orders"), "/orders", Some(bad), 422);
    let malformed = s.raw("POST", "/payments", "application/json", b"{\"id\":");
    s.expect("POST", "/payments", "/payments", None, malformed, 400);
    let text = s.raw("POST", "/disputes", "text/plain", b"{}");
    s.expect("POST", "/disputes", "/disputes", None, text, 415);
    let huge = vec![b' '; 1024 * 1024 + 1];
    let too_large = s.raw("PUT", "/invoices/INV-9", "application/json", &huge);
    s.expect(
        "PUT",
        "/invoices/{id}",
        "/invoices/INV-9",
        None,
        too_large,
        413,
    );
}

/// The associate's desk: assignment, search, escalations, four-eyes
/// releases and the releases report.
fn desk(s: &mut Session) {
    let assignee = ("PUT", "/customers/{id}/assignee");
    let ana = json!({"assignee": "alice"});
    s.call(
        AS_MANAGER,
        assignee,
        "/customers/C-100/assignee",
        Some(ana),
        200,
    );
    let nobody = json!({"assignee": null});
    s.call(
        AS_MANAGER,
        assignee,
        "/customers/C-300/assignee",
        Some(nobody),
        200,
    );
    let many = json!({"customer_ids": ["C-100", "C-200"], "assignee": "bob"});
    s.call(
        AS_MANAGER,
        ("POST", "/assignments"),
        "/assignments",
        Some(many),
        200,
    );
    s.call(AS_ASSOCIATE, ("GET", "/people"), "/people", None, 200);
    let found = s.get(
        "/customers",
        "/customers?q=acme&limit=5&offset=0&as_of=2025-06-30",
    );
    assert!(found["total"].as_u64().unwrap() >= 1, "{found}");
    s.get("/orders/queue", "/orders/queue?assignee=unassigned");
    s.get("/orders", "/orders?assignee=me");
    s.get("/disputes", "/disputes?assignee=bob");
    s.get("/reports/worklist", "/reports/worklist?assignee=me");

    let escalate = json!({"subject_type": "customer", "subject_id": "C-100", "reason": "Unusual terms", "note": "120-day terms asked"});
    let raised = s.call(
        AS_ASSOCIATE,
        ("POST", "/escalations"),
        "/escalations",
        Some(escalate),
        201,
    );
    let id = raised.json()["id"].as_i64().unwrap();
    s.get("/escalations", "/escalations?status=open&subject_type=customer&subject_id=C-100&raised_by=me&assignee=bob&limit=10&offset=0");
    s.get("/escalations/{id}", &format!("/escalations/{id}"));
    let answer = json!({"outcome": "declined", "note": "30 days at most"});
    let resolve = ("POST", "/escalations/{id}/resolve");
    s.call(
        AS_MANAGER,
        resolve,
        &format!("/escalations/{id}/resolve"),
        Some(answer),
        200,
    );

    let policy = json!({"release_approval_thresholds": {"USD": "1.00"}});
    s.call(AS_MANAGER, ("PUT", "/policy"), "/policy", Some(policy), 200);
    for id in ["SO-20", "SO-21"] {
        let held = s.erp(
            "POST",
            "/orders",
            "/orders",
            order(id, "C-100", "900000.00", "USD"),
            200,
        );
        assert_eq!(held["status"], "held");
    }
    let release = ("POST", "/orders/{id}/release");
    let note = json!({"note": "Customer confirmed"});
    for id in ["SO-20", "SO-21"] {
        let path = format!("/orders/{id}/release");
        s.call(AS_ASSOCIATE, release, &path, Some(note.clone()), 202);
    }
    let approve = ("POST", "/orders/{id}/approve-release");
    let approval = json!({"note": "Deposit received"});
    s.call(
        AS_MANAGER,
        approve,
        "/orders/SO-20/approve-release",
        Some(approval),
        200,
    );
    let reject = ("POST", "/orders/{id}/reject-release");
    let rejection = json!({"note": "Not without a deposit"});
    s.call(
        AS_MANAGER,
        reject,
        "/orders/SO-21/reject-release",
        Some(rejection),
        200,
    );
    s.call(
        AS_MANAGER,
        ("PUT", "/policy"),
        "/policy",
        Some(json!({})),
        200,
    );
    let today = chrono::Utc::now().date_naive();
    let releases = format!("/reports/releases?from={today}&to={today}&by=alice");
    let report = s.call(
        AS_MANAGER,
        ("GET", "/reports/releases"),
        &releases,
        None,
        200,
    );
    let lines = report.json()["releases"].as_array().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l["order_id"] == "SO-20" && l["approved_by"] == "maria"),
        "{lines:?}"
    );
    s.csv("/reports/releases", &releases);
}

/// The manager's dashboard, and the held queue as associates work it.
fn dashboard_and_queue(s: &mut Session) {
    s.get("/reports/dashboard", "/reports/dashboard?as_of=2025-06-30");
    s.csv("/reports/dashboard", "/reports/dashboard?as_of=2025-06-30");
    let queue = ("GET", "/orders/queue");
    let first = s.call(
        AS_ASSOCIATE,
        queue,
        "/orders/queue?limit=1&sort=amount",
        None,
        200,
    );
    let after = first.json()["next"].as_str().map(str::to_string);
    if let Some(after) = after {
        s.call(
            AS_ASSOCIATE,
            queue,
            &format!("/orders/queue?limit=1&sort=amount&after={after}"),
            None,
            200,
        );
    }
    s.call(
        AS_ASSOCIATE,
        queue,
        "/orders/queue?currency=USD&min_amount=1.00&reason=PAST_DUE",
        None,
        200,
    );
    s.call(
        AS_ASSOCIATE,
        queue,
        "/orders/queue?min_amount=1.00",
        None,
        422,
    );
    s.call(
        AS_ASSOCIATE,
        queue,
        "/orders/queue?after=nonsense",
        None,
        422,
    );
}

/// The event feed and its delivery (nothing is pushed: no erp_events_url).
fn events(s: &mut Session) {
    let feed = s.call(
        AS_INTEGRATION,
        ("GET", "/events"),
        "/events?limit=5",
        None,
        200,
    );
    let next = feed.json()["next"].as_str().unwrap().to_string();
    s.call(
        AS_MANAGER,
        ("GET", "/events"),
        &format!("/events?after={next}&type=order.held"),
        None,
        200,
    );
    s.call(AS_MANAGER, ("GET", "/events"), "/events?after=x", None, 400);
    s.call(AS_ASSOCIATE, ("GET", "/events"), "/events", None, 403);
    s.call(
        AS_MANAGER,
        ("GET", "/events/deliveries"),
        "/events/deliveries",
        None,
        200,
    );
    s.call(
        AS_MANAGER,
        ("GET", "/events/deliveries/failed"),
        "/events/deliveries/failed",
        None,
        200,
    );
    let redeliver = json!({"event_ids": ["evt_1"]});
    s.call(
        AS_MANAGER,
        ("POST", "/events/deliveries/redeliver"),
        "/events/deliveries/redeliver",
        Some(redeliver),
        200,
    );
    let run = ("POST", "/events/deliveries/run");
    s.call(AS_INTEGRATION, run, "/events/deliveries/run", None, 200);
}

/// communications: the dunning proposal, a run and its letter as issued, a
/// template's preview, statements; their events in the feed.
fn communications(s: &mut Session) {
    let proposal = format!("/reports/dunning?as_of={AS_OF}");
    // An associate's proposal is their own accounts; a manager's everyone's.
    s.get("/reports/dunning", &proposal);
    let everyone = ("GET", "/reports/dunning");
    let report = s.call(AS_MANAGER, everyone, &proposal, None, 200).json();
    s.csv("/reports/dunning", &proposal);
    let due = report["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| !line["level"].is_null())
        .expect("a letter is due");
    let dunned = due["customer_id"].as_str().unwrap().to_string();
    let named = json!({"as_of": AS_OF, "customer_ids": [dunned]});
    let run = ("POST", "/dunning-runs");
    let run = s
        .call(AS_MANAGER, run, "/dunning-runs", Some(named), 201)
        .json();
    let run_id = run["run_id"].as_str().expect("a run id");
    s.get("/dunning-runs/{id}", &format!("/dunning-runs/{run_id}"));
    let history = format!("/customers/{dunned}/dunning?as_of={AS_OF}");
    s.get("/customers/{id}/dunning", &history);
    let letter = run["letters"][0]["letter_id"].as_str().expect("a letter");
    let letter_path = format!("/customers/{dunned}/dunning/letters/{letter}");
    let letter_template = "/customers/{id}/dunning/letters/{letter}";
    s.get(letter_template, &letter_path);
    for media in ["text/html", "text/plain"] {
        s.get_as_media(letter_template, &letter_path, media);
    }
    let level = s.get("/policy", "/policy")["dunning"]["levels"][0].clone();
    let preview = ("POST", "/dunning-letters/preview");
    let body = json!({"level": level});
    s.call(
        AS_MANAGER,
        preview,
        "/dunning-letters/preview",
        Some(body),
        200,
    );
    let statement = "/customers/C-100/statement?from=2025-01-01&to=2025-06-30";
    let statement_template = "/customers/{id}/statement";
    s.get(statement_template, statement);
    for media in ["text/csv", "text/html", "text/plain"] {
        s.get_as_media(statement_template, statement, media);
    }
    let period = json!({"from": "2025-06-01", "to": AS_OF});
    let issue = ("POST", statement_template);
    s.call(
        AS_ASSOCIATE,
        issue,
        "/customers/C-100/statement",
        Some(period),
        201,
    );
    for kind in ["dunning.letter_issued", "statement.issued"] {
        let path = format!("/events?type={kind}");
        let feed = s.call(AS_MANAGER, ("GET", "/events"), &path, None, 200);
        assert!(
            !feed.json()["events"].as_array().unwrap().is_empty(),
            "{kind}"
        );
    }
}
