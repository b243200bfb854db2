//! `spin-host up`: runs a Spin HTTP application from its `spin.toml`, the way
//! `spin up` does, on wasmtime — for machines where the Spin CLI is not
//! available. The components are the same binaries real Spin runs.

mod app;
mod limits;
mod manifest;
mod outbound;
mod router;
mod runtime;
mod runtime_config;
mod server;
mod spin;

use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "spin-host",
    version,
    about = "Run a Spin HTTP application locally on wasmtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the application.
    Up(UpArgs),
}

#[derive(clap::Args)]
struct UpArgs {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,

    /// Address to listen on: IP:PORT or HOST:PORT (e.g. localhost:3000).
    #[arg(
        long,
        env = "SPIN_HTTP_LISTEN_ADDR",
        default_value = "127.0.0.1:3000",
        value_parser = listen_addr
    )]
    listen: SocketAddr,

    /// Where default stores and databases live (default: `.spin` beside the manifest).
    #[arg(long)]
    state_dir: Option<PathBuf>,

    /// Where compiled components are cached (default: `cache` in the state
    /// directory). Sharing one across runs skips recompiling unchanged wasm.
    #[arg(long, env = "SPIN_HOST_CACHE_DIR")]
    cache_dir: Option<PathBuf>,

    /// Runtime configuration for stores and databases.
    #[arg(long)]
    runtime_config_file: Option<PathBuf>,

    /// SQL to run against the default database before serving; `@file.sql`
    /// reads a file, `@file.sql:label` targets another database. Repeatable.
    #[arg(long = "sqlite", value_name = "SQL")]
    sqlite: Vec<String>,

    /// Set a key in the default key-value store before serving. Repeatable.
    #[arg(long = "key-value", value_name = "KEY=VALUE", value_parser = key_value)]
    key_values: Vec<(String, String)>,

    /// Serve only this component and its routes (as `spin up -c`).
    /// Repeatable; by default every component is served.
    #[arg(short = 'c', long = "component-id", value_name = "ID")]
    component_ids: Vec<String>,

    /// Application variable value, winning over the environment. Repeatable.
    #[arg(long = "variable", value_name = "NAME=VALUE", value_parser = key_value)]
    variables: Vec<(String, String)>,

    /// Environment variable for every component. Repeatable.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
    environment: Vec<(String, String)>,

    /// Requests a WASIp3 instance serves before it is replaced, as in Spin
    /// (1: a fresh instance per request). WASIp2 components always get a
    /// fresh instance per request.
    #[arg(
        long,
        value_name = "N",
        default_value_t = runtime::ReusePolicy::WASIP3.max_requests,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    max_instance_reuse_count: usize,

    #[command(flatten)]
    limits: limits::Limits,
}

/// `--listen` as `spin up` reads it: a host name is resolved, and of its
/// addresses 127.0.0.1 is preferred (so `localhost` is IPv4 loopback, as
/// in Spin), else the first one the resolver gives.
fn listen_addr(arg: &str) -> Result<SocketAddr, String> {
    let addresses: Vec<SocketAddr> = arg
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{arg}' (expected HOST:PORT): {e}"))?
        .collect();
    addresses
        .iter()
        .find(|address| address.ip() == Ipv4Addr::LOCALHOST)
        .or_else(|| addresses.first())
        .copied()
        .ok_or_else(|| format!("'{arg}' resolves to no address"))
}

fn key_value(arg: &str) -> Result<(String, String), String> {
    arg.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected NAME=VALUE, got '{arg}'"))
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Command::Up(args) = Cli::parse().command;
    if let Err(e) = run(args) {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: UpArgs) -> Result<()> {
    let started = Instant::now();
    check_open_file_limit(&args.limits);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let settings = app::Settings {
            manifest: args.manifest,
            state_dir: args.state_dir,
            cache_dir: args.cache_dir,
            runtime_config: args.runtime_config_file,
            sqlite_statements: args.sqlite,
            key_values: args.key_values,
            variables: args.variables,
            environment: args.environment,
            max_instance_reuse_count: args.max_instance_reuse_count,
            component_ids: args.component_ids,
            limits: args.limits.clone(),
        };
        let app = Arc::new(tokio::task::block_in_place(|| app::App::load(&settings))?);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        app.app_address.set(address);
        announce(&app, address, started);
        server::serve(app, listener, &args.limits, shutdown_signal()).await
    })
}

/// Raises the open-file limit and warns when it is still below what the
/// connection and request caps may need.
fn check_open_file_limit(limits: &limits::Limits) {
    let needed = limits.descriptors_needed();
    match limits::raise_open_file_limit() {
        Some(available) if available < needed => tracing::warn!(
            "the open-file limit ({available}) is below what --max-concurrent-connections and \
             --max-concurrent-requests may need ({needed}); past it connections wait in the backlog"
        ),
        _ => {}
    }
}

/// Spin's start-up banner; tools wait for the `Serving` line.
fn announce(app: &app::App, address: SocketAddr, started: Instant) {
    println!("Serving http://{address}");
    println!("Available Routes:");
    for (route, target) in app.router.describe() {
        let name = match target {
            router::Target::Component(index) => app.component_id(index).to_string(),
            router::Target::Static(_) => "(static response)".to_string(),
        };
        let shown = route.strip_suffix("/...").unwrap_or(&route);
        let wildcard = if route.ends_with("/...") {
            " (wildcard)"
        } else {
            ""
        };
        println!("  {name}: http://{address}{shown}{wildcard}");
    }
    eprintln!(
        "{}: ready in {} ms",
        app.name,
        started.elapsed().as_millis()
    );
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_accepts_addresses_and_host_names() {
        assert_eq!(
            listen_addr("127.0.0.1:3000"),
            Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, 3000)))
        );
        assert_eq!(
            listen_addr("[::1]:8080").map(|a| a.to_string()),
            Ok("[::1]:8080".to_string())
        );
        assert_eq!(
            listen_addr("localhost:3000"),
            Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, 3000)))
        );
        assert!(listen_addr("localhost").is_err(), "a port is required");
        assert!(listen_addr("127.0.0.1:http").is_err());
    }

    #[test]
    fn listen_is_parsed_by_the_command_line() {
        let cli = Cli::try_parse_from(["spin-host", "up", "--listen", "localhost:0"]).unwrap();
        let Command::Up(args) = cli.command;
        assert_eq!(args.listen, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        assert!(Cli::try_parse_from(["spin-host", "up", "--listen", "no port"]).is_err());
    }
}
