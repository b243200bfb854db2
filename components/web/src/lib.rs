//! web: the associates' and managers' workspace. Serves the built front end
//! (`web/dist`, mounted read-only at `/` by the manifest's `files`) for every
//! path no API component claims: Spin routes the more specific API routes
//! first, so this component only sees `/`, the page's assets and strays.
//!
//! GET and HEAD only; `/` is `index.html`; no directory listings; no way
//! out of the mounted directory (`..` and encoded slashes are refused).
//! Files under `assets/` carry a content hash in their names and are cached
//! for good; everything else is revalidated on each use (`no-cache` + ETag).

use bytes::Bytes;
use serde::Serialize;
use spin_sdk::http::{
    FullBody, HeaderName, HeaderValue, IntoResponse, Method, Request, Response, StatusCode,
};

/// Where the manifest mounts `web/dist`.
const ROOT: &str = "/";
/// The page served for `/`.
const INDEX: &str = "index.html";
/// The page letters and statements are printed from.
const PRINT_PAGE: &str = "print.html";
/// Files whose names carry a content hash (the bundler's output).
const HASHED_DIR: &str = "assets/";
/// Longest request path looked at.
const MAX_PATH: usize = 1024;

#[spin_sdk::http_service]
async fn handle(request: Request) -> impl IntoResponse {
    let method = request.method().clone();
    let if_none_match = request
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let reply = answer(&method, request.uri().path(), if_none_match.as_deref());
    reply.into_response(method == Method::HEAD)
}

/// A response before it becomes one.
struct Reply {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn into_response(self, head: bool) -> Response<FullBody<Bytes>> {
        let body = if head { Vec::new() } else { self.body };
        let mut response = Response::new(FullBody::new(Bytes::from(body)));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::try_from(value) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        response
    }
}

fn answer(method: &Method, path: &str, if_none_match: Option<&str>) -> Reply {
    if method != Method::GET && method != Method::HEAD {
        let mut reply = problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "the web workspace's files allow GET, HEAD".into(),
        );
        reply.headers.push(("allow", "GET, HEAD".into()));
        return reply;
    }
    let relative = match relative_path(path) {
        Ok(relative) => relative,
        Err(Refusal::BadPath(detail)) => {
            return problem(StatusCode::BAD_REQUEST, "bad-request", detail.into());
        }
        Err(Refusal::NotFound) => return not_found(path),
    };
    let full = format!("{ROOT}{relative}");
    let is_file = std::fs::metadata(&full).is_ok_and(|m| m.is_file());
    let Some(body) = is_file.then(|| std::fs::read(&full).ok()).flatten() else {
        return not_found(path);
    };
    let etag = etag(&body);
    let cache = if relative.starts_with(HASHED_DIR) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut headers = vec![
        ("etag", etag.clone()),
        ("cache-control", cache.to_string()),
        ("x-content-type-options", "nosniff".to_string()),
    ];
    if if_none_match.is_some_and(|tags| matches_etag(tags, &etag)) {
        return Reply {
            status: StatusCode::NOT_MODIFIED,
            headers,
            body: vec![],
        };
    }
    let content_type = content_type(&relative);
    headers.push(("content-type", content_type.to_string()));
    if content_type.starts_with("text/html") {
        headers.extend(page_headers(&relative));
    }
    Reply {
        status: StatusCode::OK,
        headers,
        body,
    }
}

/// Why a path is not served.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// The path tries to leave the directory or is not a path at all (400).
    BadPath(&'static str),
    /// Nothing is served there (404).
    NotFound,
}

/// The file a request path names, relative to [`ROOT`], percent-decoded.
fn relative_path(path: &str) -> Result<String, Refusal> {
    if path.len() > MAX_PATH {
        return Err(Refusal::NotFound);
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(Refusal::BadPath("the path must start with '/'"));
    };
    if rest.is_empty() {
        return Ok(INDEX.to_string());
    }
    let mut segments = vec![];
    for raw in rest.split('/') {
        let segment = percent_decode(raw)?;
        match segment.as_str() {
            "." | ".." => return Err(Refusal::BadPath("'.' and '..' are not allowed in paths")),
            // `//`, a trailing `/` (a directory) or a hidden file.
            "" => return Err(Refusal::NotFound),
            s if s.starts_with('.') => return Err(Refusal::NotFound),
            _ => segments.push(segment),
        }
    }
    Ok(segments.join("/"))
}

/// One path segment, percent-decoded; encoded separators, NUL and
/// malformed escapes are refused.
fn percent_decode(segment: &str) -> Result<String, Refusal> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(Refusal::BadPath("the path has a malformed percent escape"))?;
            i += 3;
            hex
        } else {
            i += 1;
            bytes[i - 1]
        };
        if matches!(byte, b'/' | b'\\' | 0) {
            return Err(Refusal::BadPath(
                "encoded slashes, backslashes and NUL are not allowed in paths",
            ));
        }
        decoded.push(byte);
    }
    String::from_utf8(decoded).map_err(|_| Refusal::BadPath("the path is not UTF-8"))
}

fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// What a page is sent with: it loads only its own files and talks only
/// to this origin. The print page (`print.html`) shows a letter or a
/// statement the API rendered, whose print CSS is inline: it may apply
/// inline styles, and run no script but its own.
fn page_headers(page: &str) -> [(&'static str, String); 2] {
    let policy = if page == PRINT_PAGE {
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    };
    [
        ("content-security-policy", policy.to_string()),
        ("referrer-policy", "no-referrer".to_string()),
    ]
}

/// A strong validator from the content (FNV-1a, 64 bits).
fn etag(body: &[u8]) -> String {
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

/// `If-None-Match`: `*` or a list of (possibly weak) tags.
fn matches_etag(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

fn not_found(path: &str) -> Reply {
    let shown: String = path.chars().take(200).collect();
    problem(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no resource at {shown}"),
    )
}

/// An RFC 9457 problem document, shaped like the API's.
#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
}

fn problem(status: StatusCode, slug: &str, detail: String) -> Reply {
    let document = Problem {
        kind: format!("/problems/{slug}"),
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail: &detail,
    };
    let body = serde_json::to_vec(&document).expect("a problem serializes");
    Reply {
        status,
        headers: vec![
            ("content-type", "application/problem+json".into()),
            ("cache-control", "no-store".into()),
        ],
        body,
    }
}
