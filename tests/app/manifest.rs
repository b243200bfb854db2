//! spin.toml, the component crates and `cargo xtask` agree: every crate
//! under `components/` (which is what xtask builds) is a component of
//! spin.toml, each component's build command builds one of them for
//! wasm32-wasip2 in release, and its `source` is the file that build
//! writes — so `spin build` + `spin up` and `cargo xtask up` run the same
//! binaries.

use std::collections::BTreeMap;
use std::path::Path;

use e2e::repo_root;

fn read_toml(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Package name -> folder, for every crate under `components/`.
fn component_crates() -> BTreeMap<String, String> {
    let mut crates = BTreeMap::new();
    for entry in std::fs::read_dir(repo_root().join("components")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest = dir.join("Cargo.toml");
        if !manifest.exists() {
            continue;
        }
        let package = read_toml(&manifest)["package"]["name"]
            .as_str()
            .expect("package.name")
            .to_string();
        let folder = dir.file_name().unwrap().to_string_lossy().into_owned();
        crates.insert(package, folder);
    }
    crates
}

/// The package a build command's `cargo build` step builds, after checking
/// that the step targets wasm32-wasip2 in release.
fn built_package(id: &str, command: &str) -> String {
    let step = command
        .split("&&")
        .map(str::trim)
        .find(|step| step.starts_with("cargo build"))
        .unwrap_or_else(|| panic!("component '{id}': no `cargo build` in {command:?}"));
    let words: Vec<&str> = step.split_whitespace().collect();
    let after = |flag: &str| {
        words
            .iter()
            .position(|word| *word == flag)
            .and_then(|at| words.get(at + 1))
            .copied()
    };
    assert_eq!(
        after("--target"),
        Some("wasm32-wasip2"),
        "component '{id}': {step:?}"
    );
    assert!(words.contains(&"--release"), "component '{id}': {step:?}");
    let packages = words.iter().filter(|word| **word == "-p").count();
    assert_eq!(packages, 1, "component '{id}' builds one package: {step:?}");
    after("-p")
        .unwrap_or_else(|| panic!("component '{id}': `-p` names no package in {step:?}"))
        .to_string()
}

#[test]
fn spin_toml_builds_and_runs_every_component_crate() {
    let manifest = read_toml(&repo_root().join("spin.toml"));
    let components = manifest["component"].as_table().expect("[component.*]");
    let crates = component_crates();
    assert!(!crates.is_empty());

    let mut built = BTreeMap::new();
    for (id, component) in components {
        let command = component
            .get("build")
            .and_then(|build| build.get("command"))
            .and_then(|command| command.as_str())
            .unwrap_or_else(|| panic!("component '{id}' has no build command"));
        let package = built_package(id, command);
        let folder = crates.get(&package).unwrap_or_else(|| {
            panic!("component '{id}' builds '{package}', which is no crate under components/")
        });
        let source = component["source"].as_str().expect("source is a file path");
        assert_eq!(
            source,
            format!(
                "target/wasm32-wasip2/release/{}.wasm",
                package.replace('-', "_")
            ),
            "component '{id}' runs a file its build does not write"
        );
        if let Some(watch) = component["build"].get("watch").and_then(|w| w.as_array()) {
            let own = format!("components/{folder}/");
            assert!(
                watch
                    .iter()
                    .any(|glob| glob.as_str().is_some_and(|g| g.starts_with(&own))),
                "component '{id}' does not watch {own}: {watch:?}"
            );
        }
        if let Some(other) = built.insert(package.clone(), id.clone()) {
            panic!("components '{other}' and '{id}' both build '{package}'");
        }
    }
    for package in crates.keys() {
        assert!(
            built.contains_key(package),
            "components/ crate '{package}' (built by cargo xtask) is no component of spin.toml"
        );
    }
}

#[test]
fn the_build_command_reader_checks_what_it_should() {
    assert_eq!(
        built_package(
            "web",
            "npm ci --prefix web && cargo build --target wasm32-wasip2 --release -p web"
        ),
        "web"
    );
    for wrong in [
        "cargo build --release -p web",
        "cargo build --target wasm32-wasip1 --release -p web",
        "cargo build --target wasm32-wasip2 -p web",
        "cargo build --target wasm32-wasip2 --release -p web -p report",
        "npm run build",
    ] {
        let caught = std::panic::catch_unwind(|| built_package("x", wrong));
        assert!(caught.is_err(), "{wrong:?} was accepted");
    }
}

/// What a component's source needs, and so what spin.toml must grant it:
/// the key-value store when it opens `Desk::open` (not
/// `Desk::open_read_only`), the webhook secret when a route of its table
/// takes the ERP's signed webhooks (`Access::ERP`, `Access::ErpOr(..)`).
fn needs(source: &str) -> Option<(bool, bool)> {
    let serves = |opener: &str| source.contains(&format!("serve(request, ROUTES, {opener})"));
    let kv = if serves("Desk::open") {
        true
    } else if serves("Desk::open_read_only") {
        false
    } else {
        return None;
    };
    let webhooks = source.contains("Access::ERP,") || source.contains("Access::ErpOr(");
    Some((kv, webhooks))
}

#[test]
fn each_component_is_granted_only_the_stores_and_secrets_it_opens() {
    let manifest = read_toml(&repo_root().join("spin.toml"));
    let components = manifest["component"].as_table().expect("[component.*]");
    let mut checked = 0;
    for (id, component) in components {
        let source =
            std::fs::read_to_string(repo_root().join(format!("components/{id}/src/lib.rs")))
                .unwrap_or_else(|e| panic!("components/{id}/src/lib.rs: {e}"));
        let Some((kv, secret)) = needs(&source) else {
            continue; // the web component serves files and opens no desk
        };
        let stores = component.get("key_value_stores").and_then(|s| s.as_array());
        assert_eq!(
            stores.is_some_and(|s| !s.is_empty()),
            kv,
            "component '{id}': key_value_stores {stores:?}"
        );
        let variables = component.get("variables").and_then(|v| v.as_table());
        let has = |name: &str| variables.is_some_and(|v| v.contains_key(name));
        assert!(has("api_tokens"), "component '{id}' reads api_tokens");
        assert_eq!(
            has("erp_webhook_secret"),
            secret,
            "component '{id}': erp_webhook_secret"
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        components.len() - 1,
        "every component but web opens a desk"
    );
}

/// Only event-delivery calls out, to the ERP's event address alone, and
/// only it holds the secret pushed events are signed with.
#[test]
fn only_the_event_delivery_component_may_call_out_and_sign_events() {
    let manifest = read_toml(&repo_root().join("spin.toml"));
    let components = manifest["component"].as_table().expect("[component.*]");
    for (id, component) in components {
        let outbound = component
            .get("allowed_outbound_hosts")
            .and_then(|h| h.as_array());
        let variables = component.get("variables").and_then(|v| v.as_table());
        let has = |name: &str| variables.is_some_and(|v| v.contains_key(name));
        if id == "event-delivery" {
            let hosts: Vec<&str> = outbound
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap())
                .collect();
            assert_eq!(hosts, ["{{ erp_events_host }}"]);
            assert!(has("erp_events_url") && has("erp_events_secret"));
        } else {
            assert!(outbound.is_none(), "component '{id}' may not call out");
            assert!(
                !has("erp_events_secret"),
                "component '{id}' may not sign events"
            );
        }
    }
}
