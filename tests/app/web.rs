//! The web workspace's files, served by the `web` component for every path
//! the API components do not claim (built into web/dist by `cargo xtask`).

use std::sync::LazyLock;

use crate::common::shared_host;
use e2e::{App, Reply};
use serde_json::Value;

/// One host for the module: the files it serves never change.
static HOST: LazyLock<&App> = LazyLock::new(shared_host);

/// The hashed asset `index.html` links to with `attr="assets/..."`.
fn asset(page: &str, attr: &str, extension: &str) -> String {
    let start = page
        .find(&format!("{attr}=\"assets/"))
        .unwrap_or_else(|| panic!("index.html links no asset with {attr}: {page}"))
        + attr.len()
        + 2;
    let end = start + page[start..].find('"').expect("a closing quote");
    let path = &page[start..end];
    assert!(path.ends_with(extension), "{path} is a {extension} file");
    format!("/{path}")
}

fn assert_problem(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let problem = reply.json();
    assert_eq!(problem["status"], status);
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    problem
}

#[test]
fn web_serves_the_page_and_its_assets_with_types_and_cache_headers() {
    let app = *HOST;

    let page = app.get("/");
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert!(
        page.header("content-security-policy")
            .is_some_and(|csp| csp.contains("default-src 'none'")),
        "the page has a CSP: {:?}",
        page.headers
    );
    let html = page.text();
    assert!(html.contains("<title>credit-desk</title>"), "{html}");
    assert_eq!(app.get("/index.html").body, page.body);

    // The page is revalidated: the same content answers 304 to its ETag.
    let etag = page.header("etag").expect("an ETag").to_string();
    let again = app.send("GET", "/", &[("if-none-match", &etag)], b"");
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    let script = app.get(&asset(&html, "src", ".js"));
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        script.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let styles = app.get(&asset(&html, "href", ".css"));
    assert_eq!(styles.status, 200);
    assert_eq!(
        styles.header("content-type"),
        Some("text/css; charset=utf-8")
    );

    // HEAD: the headers of GET, no body.
    let head = app.send("HEAD", "/", &[], b"");
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(head.body.is_empty());

    // The API's own routes still win over the workspace's `/...`.
    let orders = app.get("/orders?status=held");
    assert_eq!(orders.status, 401, "{}", orders.text());
    assert_eq!(app.get("/policy").status, 401);
}

#[test]
fn web_refuses_other_methods_missing_files_and_escapes() {
    let app = *HOST;

    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let reply = app.send(method, "/", &[("content-type", "text/plain")], b"x");
        assert_problem(&reply, 405);
        assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{method}");
    }

    for path in [
        "/nope.html",
        "/assets/",
        "/assets/missing.js",
        "/.hidden",
        "//index.html",
    ] {
        let problem = assert_problem(&app.get(path), 404);
        assert_eq!(problem["type"], "/problems/not-found", "{path}");
    }

    for path in [
        "/%2e%2e/spin.toml",
        "/assets/%2E%2E/index.html",
        "/assets/../index.html",
        "/..%2fspin.toml",
        "/assets%2Findex.html",
        "/assets%5cindex.html",
        "/index.html%00",
        "/%zz",
    ] {
        let problem = assert_problem(&app.get(path), 400);
        assert_eq!(problem["type"], "/problems/bad-request", "{path}");
    }
}
