//! Spin's HTTP routing: per path segment an exact segment beats a `:param`,
//! which beats a trailing wildcard (`/...`); manifest order does not matter.
//! `/foo/...` also matches `/foo` itself. Matching is done by `routefinder`,
//! the crate Spin itself routes with.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};

/// What a route leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Index of a component in the loaded application.
    Component(usize),
    /// Index of a static response trigger.
    Static(usize),
}

#[derive(Clone, Debug)]
struct Entry {
    target: Target,
    /// The route as written in the manifest, e.g. `/orders/...`.
    raw: String,
    /// The route normalised as Spin does: made absolute, then one trailing
    /// slash dropped (so the root route `/` is the empty string).
    based: String,
    wildcard: bool,
}

pub struct Router {
    routes: routefinder::Router<Entry>,
}

/// The result of routing one request path.
#[derive(Debug, PartialEq, Eq)]
pub struct RouteMatch {
    pub target: Target,
    /// `spin-matched-route`: the based route (`/orders/...`; `""` for `/`).
    pub matched_route: String,
    /// `spin-raw-component-route`: the route as written in the manifest.
    pub raw_route: String,
    /// `spin-component-route`: the raw route without a trailing `/...`
    /// (Spin leaves a trailing `/*` in place).
    pub component_route: String,
    /// `spin-path-info`: the part of the path the wildcard matched.
    pub path_info: String,
    /// `spin-path-match-<name>` values for `:name` segments.
    pub params: BTreeMap<String, String>,
}

impl Router {
    /// Builds the router; a later duplicate of the same route replaces an
    /// earlier one, as in Spin.
    pub fn build<'a>(routes: impl IntoIterator<Item = (&'a str, Target)>) -> Result<Self> {
        let mut unique: Vec<Entry> = vec![];
        for (raw, target) in routes {
            let based = normalize(raw);
            let wildcard = based.ends_with("/...") || based.ends_with("/*");
            let entry = Entry {
                target,
                raw: raw.to_string(),
                based,
                wildcard,
            };
            match unique.iter_mut().find(|e| e.raw == raw) {
                Some(existing) => *existing = entry,
                None => unique.push(entry),
            }
        }
        let mut routes = routefinder::Router::new();
        for entry in unique {
            let spec = match entry.based.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => entry.based.clone(),
            };
            routes
                .add(spec.as_str(), entry.clone())
                .map_err(|e| anyhow!("invalid route '{}': {e}", entry.raw))?;
        }
        Ok(Router { routes })
    }

    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let found = self.routes.best_match(path)?;
        let entry = found.handler();
        let captures = found.captures();
        let path_info = if entry.wildcard {
            trailing_path(captures.wildcard().unwrap_or(""), path.ends_with('/'))
        } else {
            String::new()
        };
        let params = captures
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Some(RouteMatch {
            target: entry.target.clone(),
            matched_route: entry.based.clone(),
            raw_route: entry.raw.clone(),
            component_route: strip_wildcard(&entry.raw).to_string(),
            path_info,
            params,
        })
    }

    /// Routes for the start-up banner, in a stable order.
    pub fn describe(&self) -> Vec<(String, Target)> {
        let mut all: Vec<_> = self
            .routes
            .iter()
            .map(|(_, e)| (e.based.clone(), e.target.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// Spin's "raw route or prefix": only the `/...` spelling of the trailing
/// wildcard is taken off; a route ending in `/*` is reported as written.
fn strip_wildcard(route: &str) -> &str {
    route.strip_suffix("/...").unwrap_or(route)
}

/// Spin keeps the slash in front of (and a trailing slash after) the wildcard
/// part, which routefinder drops.
fn trailing_path(wildcard: &str, path_has_trailing_slash: bool) -> String {
    match (wildcard.is_empty(), path_has_trailing_slash) {
        (true, false) => String::new(),
        (true, true) => "/".to_string(),
        (false, false) => format!("/{wildcard}"),
        (false, true) => format!("/{wildcard}/"),
    }
}

/// Spin's based route (with the default base `/`, which contributes
/// nothing): absolute first, then a single trailing slash dropped. The root
/// route `/` becomes `""`, which routefinder matches against `/`.
fn normalize(route: &str) -> String {
    let absolute = if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    };
    match absolute.strip_suffix('/') {
        Some(stripped) => stripped.to_string(),
        None => absolute,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, usize)]) -> Router {
        Router::build(routes.iter().map(|(r, i)| (*r, Target::Component(*i)))).unwrap()
    }

    fn target(router: &Router, path: &str) -> Option<usize> {
        router.route(path).map(|m| match m.target {
            Target::Component(i) | Target::Static(i) => i,
        })
    }

    #[test]
    fn exact_beats_param_beats_wildcard_in_any_order() {
        let r = router(&[
            ("/...", 0),
            ("/orders/:id", 1),
            ("/orders/release", 2),
            ("/orders/...", 3),
        ]);
        assert_eq!(target(&r, "/orders/release"), Some(2));
        assert_eq!(target(&r, "/orders/SO-1"), Some(1));
        assert_eq!(target(&r, "/orders/SO-1/cancel"), Some(3));
        assert_eq!(target(&r, "/orders"), Some(3));
        assert_eq!(target(&r, "/elsewhere"), Some(0));
    }

    #[test]
    fn longest_wildcard_prefix_wins() {
        let r = router(&[("/a/b/...", 1), ("/a/...", 0)]);
        assert_eq!(target(&r, "/a/b/c"), Some(1));
        assert_eq!(target(&r, "/a/c"), Some(0));
        assert_eq!(target(&r, "/b"), None);
    }

    #[test]
    fn reports_spin_route_headers() {
        let r = router(&[("/orders/...", 0), ("/customers/:id/contacts", 1)]);
        let m = r.route("/orders/SO-1/cancel").unwrap();
        assert_eq!(m.matched_route, "/orders/...");
        assert_eq!(m.raw_route, "/orders/...");
        assert_eq!(m.component_route, "/orders");
        assert_eq!(m.path_info, "/SO-1/cancel");

        let m = r.route("/orders").unwrap();
        assert_eq!(m.path_info, "");

        let m = r.route("/customers/C-9/contacts").unwrap();
        assert_eq!(m.params.get("id").map(String::as_str), Some("C-9"));
        assert_eq!(m.path_info, "");
    }

    #[test]
    fn only_the_dots_wildcard_is_stripped_from_the_component_route() {
        let r = router(&[("/files/*", 0), ("/docs/...", 1)]);
        let m = r.route("/files/a/b").unwrap();
        assert_eq!(m.matched_route, "/files/*");
        assert_eq!(m.raw_route, "/files/*");
        assert_eq!(m.component_route, "/files/*");
        assert_eq!(m.path_info, "/a/b");
        let m = r.route("/docs/a").unwrap();
        assert_eq!(m.component_route, "/docs");
    }

    #[test]
    fn the_root_route_is_matched_as_the_empty_route() {
        let r = router(&[("/", 0), ("/api/...", 1)]);
        let m = r.route("/").unwrap();
        assert_eq!(m.target, Target::Component(0));
        assert_eq!(m.matched_route, "");
        assert_eq!(m.raw_route, "/");
        assert_eq!(m.component_route, "/");
        assert_eq!(target(&r, "/api/x"), Some(1));
        assert_eq!(target(&r, "/other"), None);

        // A trailing slash goes, once; a missing leading one is added.
        let r = router(&[("orders/", 0)]);
        assert_eq!(r.route("/orders").unwrap().matched_route, "/orders");
        let r = router(&[("/...", 0)]);
        let m = r.route("/").unwrap();
        assert_eq!(m.matched_route, "/...");
        assert_eq!(m.component_route, "");
        assert_eq!(m.path_info, "/");
    }
}
