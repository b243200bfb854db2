//! Outbound PostgreSQL in every generation: `spin:postgres@4.2.0` from
//! spin-sdk 7, `spin:postgres@3.0.0` and `fermyon:spin/postgres@2.0.0` from
//! spin-sdk 3, against Debian's PostgreSQL, started by the test: the
//! fixtures let `outbound` and `legacy` reach
//! `postgres://127.0.0.1:{{ postgres_port }}`.

use e2e::servers::{self, TcpEcho};
use e2e::{App, Reply};
use serde_json::json;

use crate::common::{self, reported_error};

fn start_allowing_postgres(port: u16) -> App {
    App::start_with(common::fixtures().env("SPIN_VARIABLE_POSTGRES_PORT", &port.to_string()))
}

fn pg_action(app: &App, action: &str, address: &str) -> Reply {
    app.send("POST", action, &[], address.as_bytes())
}

#[test]
fn spin_sdk_7_reads_and_writes_postgresql_types() {
    let postgres = servers::postgres();
    let app = start_allowing_postgres(postgres.port);

    let reply = pg_action(&app, "/outbound/pg", &postgres.postgres_address());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let result = reply.json();
    assert_eq!(result["inserted"], 1);
    assert_eq!(
        result["columns"],
        json!([
            ["id", "DbDataType::Int32"],
            ["name", "DbDataType::Str"],
            ["price", "DbDataType::Decimal"],
            ["tags", "DbDataType::ArrayStr"],
            ["seen", "DbDataType::Datetime"],
            ["meta", "DbDataType::Jsonb"],
            ["span", "DbDataType::RangeInt32"],
            ["wait", "DbDataType::Interval"],
            ["missing", "DbDataType::Str"],
        ])
    );
    assert_eq!(
        result["row"],
        json!([
            1,
            "widget",
            "12.50",
            ["a", null],
            "2025-06-30T12:00:00",
            { "k": 1 },
            // PostgreSQL normalises [1,5] to [1,6).
            [[1, true], [6, false]],
            { "micros": 3_600_000_000_i64, "days": 1, "months": 0 },
            null,
        ])
    );
    assert_eq!(result["same_session"], true, "a connection is one session");
    assert_eq!(
        result["error_code"], "42P01",
        "undefined_table, as PostgreSQL reports it"
    );
}

#[test]
fn spin_sdk_3_uses_postgres_3_and_fermyon_postgres_2() {
    let postgres = servers::postgres();
    let app = start_allowing_postgres(postgres.port);

    let v3 = pg_action(&app, "/legacy/pg3", &postgres.postgres_address());
    assert_eq!(v3.status, 200, "{}", v3.text());
    assert_eq!(
        v3.json(),
        json!({
            "inserted": 1,
            "columns": ["id:DbDataType::Int32", "day:DbDataType::Date", "at:DbDataType::Datetime", "tags:DbDataType::Other"],
            "rows": [[
                "DbValue::Int32(3)",
                "DbValue::Date((2025, 6, 30))",
                "DbValue::Datetime((2025, 6, 30, 8, 30, 0, 0))",
                "DbValue::Unsupported",
            ]],
        })
    );

    let v2 = pg_action(&app, "/legacy/pg2", &postgres.postgres_address());
    assert_eq!(v2.status, 200, "{}", v2.text());
    let v2 = v2.json();
    assert_eq!(v2["inserted"], 1);
    assert_eq!(
        v2["columns"],
        json!([
            "id:DbDataType::Int32",
            "name:DbDataType::Str",
            "day:DbDataType::Other"
        ])
    );
    assert_eq!(
        v2["rows"],
        json!([[
            "DbValue::Int32(7)",
            "DbValue::Str(\"seven\")",
            "DbValue::Unsupported"
        ]])
    );
    assert!(
        v2["unsigned"]
            .as_str()
            .unwrap()
            .contains("ValueConversionFailed"),
        "{}",
        v2["unsigned"]
    );
}

#[test]
fn other_servers_and_components_without_the_grant_are_refused() {
    let postgres = servers::postgres();
    let app = start_allowing_postgres(postgres.port);
    let unlisted = TcpEcho::start();
    let unlisted_port = unlisted.address().port();
    let unlisted_address = format!("host=127.0.0.1 port={unlisted_port} user=postgres");
    let as_url = format!("postgres://postgres@127.0.0.1:{unlisted_port}/postgres");
    let granted = postgres.postgres_address();

    for (action, address, refused_address) in [
        (
            "/outbound/pg",
            unlisted_address.as_str(),
            format!("127.0.0.1:{unlisted_port}"),
        ),
        (
            "/outbound/pg",
            as_url.as_str(),
            format!("127.0.0.1:{unlisted_port}"),
        ),
        (
            "/legacy/pg3",
            unlisted_address.as_str(),
            format!("127.0.0.1:{unlisted_port}"),
        ),
        (
            "/legacy/pg2",
            unlisted_address.as_str(),
            format!("127.0.0.1:{unlisted_port}"),
        ),
        (
            "/probe/pg",
            granted.as_str(),
            format!("127.0.0.1:{}", postgres.port),
        ),
        (
            "/restricted/pg",
            granted.as_str(),
            format!("127.0.0.1:{}", postgres.port),
        ),
    ] {
        let refused = reported_error(&pg_action(&app, action, address));
        assert!(
            refused.contains(&format!(
                "ConnectionFailed(\"address postgres://{refused_address} is not permitted\")"
            )),
            "{action} {address}: {refused}"
        );
    }
    assert_eq!(unlisted.connections(), 0, "a refused connection was made");
}
