//! SQLite: the state directory's database, `--sqlite` at start-up,
//! permissions, and isolation of concurrent transactions.

use crate::common;
use std::time::{Duration, Instant};

use crate::common::{open_state_file, reported_error, rows, sql};
use e2e::App;
use serde_json::json;

const DATABASE_FILE: &str = "sqlite_db.db";
const COUNTER_TABLE: &str =
    "CREATE TABLE counter (value INTEGER NOT NULL); INSERT INTO counter VALUES (0)";

#[test]
fn statements_run_on_the_state_dirs_database_and_persist() {
    let app = common::start();
    let create = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, weight REAL, extra BLOB)";
    assert_eq!(rows(&sql(&app, "/probe", "default", create)), json!([]));
    let insert = "INSERT INTO notes (body, weight, extra) VALUES ('first', 1.5, NULL)";
    let inserted = sql(&app, "/probe", "default", insert);
    assert_eq!(rows(&inserted), json!([]));
    assert_eq!(inserted.json()["changes"], 1);
    assert_eq!(inserted.json()["last_insert_rowid"], 1);
    let blob = "INSERT INTO notes (body, extra) VALUES ('second', x'00ff')";
    assert_eq!(
        sql(&app, "/probe", "default", blob).json()["last_insert_rowid"],
        2
    );

    let select = sql(
        &app,
        "/probe",
        "default",
        "SELECT id, body, weight, extra FROM notes",
    );
    assert_eq!(
        select.json()["columns"],
        json!(["id", "body", "weight", "extra"])
    );
    assert_eq!(
        rows(&select),
        json!([[1, "first", 1.5, null], [2, "second", null, [0, 255]]])
    );
    let update = sql(&app, "/probe", "default", "UPDATE notes SET weight = 2");
    assert_eq!(update.json()["changes"], 2);
    // Each request opens a connection of its own: it reports none of the
    // last request's writes, through the interface or in SQL.
    let counts = "SELECT changes(), last_insert_rowid(), total_changes()";
    let fresh = sql(&app, "/probe", "default", counts);
    assert_eq!(rows(&fresh), json!([[0, 0, 0]]));
    assert_eq!(fresh.json()["changes"], 0);
    assert_eq!(fresh.json()["last_insert_rowid"], 0);

    let (status, state_dir) = app.interrupt();
    assert!(status.success());
    let file = open_state_file(state_dir.path(), DATABASE_FILE);
    let body: String = file
        .query_row("SELECT body FROM notes WHERE id = 1", [], |row| row.get(0))
        .unwrap();
    assert_eq!(body, "first");
    drop(file);

    let app = App::start_in(common::fixtures(), state_dir);
    let again = sql(
        &app,
        "/probe",
        "default",
        "SELECT body FROM notes ORDER BY id",
    );
    assert_eq!(rows(&again), json!([["first"], ["second"]]));
}

#[test]
fn a_failing_statement_is_reported_to_the_component() {
    let app = common::start();
    let reply = sql(&app, "/probe", "default", "SELECT * FROM no_such_table");
    let error = reported_error(&reply);
    assert!(error.starts_with("io: "), "{error}");
    assert!(error.contains("no such table"), "{error}");
}

#[test]
fn sqlite_option_runs_statements_and_files_before_serving() {
    let seed_dir = tempfile::tempdir().unwrap();
    let seed_file = seed_dir.path().join("seed.sql");
    // Depends on the table the inline statement creates: order matters.
    std::fs::write(&seed_file, "INSERT INTO seeded VALUES ('from a file');\n").unwrap();

    let app = App::start_with(
        common::fixtures()
            .arg("--sqlite")
            .arg("CREATE TABLE seeded (name TEXT); INSERT INTO seeded VALUES ('inline')")
            .arg("--sqlite")
            .arg(&format!("@{}", seed_file.display())),
    );
    let seeded = sql(
        &app,
        "/probe",
        "default",
        "SELECT name FROM seeded ORDER BY rowid",
    );
    assert_eq!(rows(&seeded), json!([["inline"], ["from a file"]]));
}

#[test]
fn a_failing_sqlite_option_stops_start_up() {
    let Err((error, _)) = App::try_start(common::fixtures().arg("--sqlite").arg("NOT SQL AT ALL"))
    else {
        panic!("the host started with invalid --sqlite statements");
    };
    assert!(error.contains("--sqlite"), "{error}");

    let Err((error, _)) =
        App::try_start(common::fixtures().arg("--sqlite").arg("@/no/such/seed.sql"))
    else {
        panic!("the host started with a missing --sqlite file");
    };
    assert!(error.contains("/no/such/seed.sql"), "{error}");
}

#[test]
fn a_database_the_component_does_not_declare_is_access_denied() {
    let app = common::start();
    let denied = sql(&app, "/restricted", "default", "SELECT 1");
    assert_eq!(reported_error(&denied), "access-denied");
    let denied = sql(&app, "/probe", "elsewhere", "SELECT 1");
    assert_eq!(reported_error(&denied), "access-denied");
    assert_eq!(
        rows(&sql(&app, "/probe", "default", "SELECT 1")),
        json!([[1]])
    );
}

/// Both state files are in WAL mode (a property of the file, which any
/// other connection to it sees), so readers never wait for a writer.
#[test]
fn the_state_files_are_in_wal_mode() {
    let app = common::start();
    let create = "CREATE TABLE t (x INTEGER)";
    assert_eq!(rows(&sql(&app, "/probe", "default", create)), json!([]));
    let put = app.send("PUT", "/probe/kv/default/k", &[], b"v");
    assert_eq!(put.status, 200, "{}", put.text());
    for file in [DATABASE_FILE, "sqlite_key_value.db"] {
        let conn = open_state_file(app.state_dir.path(), file);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal", "{file}");
    }
}

/// Each `/transaction` reads the counter, waits, then writes it plus one.
/// If two requests' statements interleaved on one connection, or their
/// transactions were not isolated, increments would be lost.
#[test]
fn concurrent_transactions_do_not_interleave() {
    const REQUESTS: usize = 16;
    let app = App::start_with(common::fixtures().arg("--sqlite").arg(COUNTER_TABLE));
    let client = app.client();
    let replies: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..REQUESTS)
            .map(|_| {
                let client = client.clone();
                scope.spawn(move || client.send("POST", "/probe/transaction", &[], b""))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut seen: Vec<i64> = replies
        .iter()
        .map(|reply| {
            assert_eq!(reply.status, 200, "{}", reply.text());
            reply.json()["counter"].as_i64().expect("counter")
        })
        .collect();
    seen.sort_unstable();
    let expected: Vec<i64> = (1..=REQUESTS as i64).collect();
    assert_eq!(seen, expected, "each transaction saw its own value");
    let counter = sql(&app, "/probe", "default", "SELECT value FROM counter");
    assert_eq!(rows(&counter), json!([[REQUESTS]]));
}

/// `/transaction?deferred` is the same increment after a plain `BEGIN`: it
/// reads before it asks to write. Of two such transactions whose reads
/// overlap, the second to write holds a snapshot the first one's COMMIT
/// made stale; SQLite refuses its write at once with a busy error
/// (SQLITE_BUSY_SNAPSHOT, "database is locked") rather than lose the first
/// one's update, and its request fails. No increment is ever lost: the
/// counter ends at the number of transactions that succeeded.
#[test]
fn concurrent_deferred_transactions_never_lose_an_update() {
    const ROUNDS: usize = 6;
    let app = App::start_with(common::fixtures().arg("--sqlite").arg(COUNTER_TABLE));
    let client = app.client();
    let mut succeeded = 0;
    let mut busy = 0;
    for _ in 0..ROUNDS {
        let replies: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let client = client.clone();
                    scope
                        .spawn(move || client.send("POST", "/probe/transaction?deferred", &[], b""))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for reply in &replies {
            if reply.status == 200 {
                succeeded += 1;
            } else {
                let error = reported_error(reply);
                assert!(error.contains("database is locked"), "{error}");
                busy += 1;
            }
        }
        assert!(
            replies.iter().any(|reply| reply.status == 200),
            "one of two always commits"
        );
    }
    let counter = sql(&app, "/probe", "default", "SELECT value FROM counter");
    assert_eq!(rows(&counter), json!([[succeeded]]), "{busy} were refused");
    assert_eq!(succeeded + busy, 2 * ROUNDS);
}

#[test]
fn a_trap_inside_a_transaction_rolls_it_back_and_frees_the_database() {
    let app = App::start_with(common::fixtures().arg("--sqlite").arg(COUNTER_TABLE));
    let failed = app.send("POST", "/probe/transaction?fail", &[], b"");
    assert_eq!(failed.status, 500);
    assert!(
        failed.body.is_empty(),
        "a trap answers an empty body: {}",
        failed.text()
    );

    // A leaked write lock would keep this waiting for the busy timeout.
    let started = Instant::now();
    let next = app.send("POST", "/probe/transaction", &[], b"");
    assert_eq!(next.status, 200, "{}", next.text());
    assert_eq!(
        next.json()["counter"],
        1,
        "the failed increment was rolled back"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
