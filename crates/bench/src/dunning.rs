//! Customer communications through the host, on the bench book: the
//! dunning proposal over the whole book (`GET /reports/dunning`), a run
//! issuing every letter due, the proposal again with those letters on the
//! books, and the statement of a customer with 1,000 movements (500
//! invoices, 250 payments each applied to an invoice) as JSON and as print
//! HTML.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ledger::db::native::NativeDb;
use ledger::{Database, params};

use crate::book::AS_OF;
use crate::host;
use crate::stats::Latencies;

/// The customer whose statement is timed, and its period.
pub const STATEMENT_CUSTOMER: &str = "C-STATEMENT";
const STATEMENT_FROM: &str = "2024-07-01";
const INVOICES: i64 = 500;
const PAYMENTS: i64 = 250;
/// Timed requests per figure (after one not counted).
const SAMPLES: usize = 20;

#[cfg_attr(test, derive(Default))]
pub struct DunningRun {
    /// Customers with something overdue, and letters due, in the proposal.
    pub customers: u64,
    pub letters_due: u64,
    pub proposal: Latencies,
    /// The run: letters issued and how long it took.
    pub issued: u64,
    pub run: Duration,
    /// The proposal with the run's letters on the books.
    pub proposal_after: Latencies,
    pub statement_movements: u64,
    pub statement_json: Latencies,
    pub statement_html: Latencies,
}

/// Adds the statement's customer to the book: 1,000 movements over a year.
pub fn add_statement_customer(path: &std::path::Path) -> Result<()> {
    let db = NativeDb::open(path).map_err(anyhow::Error::from)?;
    let run = |sql: &str, values| {
        futures::executor::block_on(db.execute(sql, values))
            .with_context(|| format!("seeding: {sql}"))
    };
    let start: chrono::NaiveDate = STATEMENT_FROM.parse().expect("a date");
    let day = |n: i64| (start + chrono::Duration::days(n)).to_string();
    run("BEGIN", vec![])?;
    run(
        "INSERT INTO customers (id, name, currency, credit_limit_minor, payment_terms_days, created_at, updated_at, updated_by)
         VALUES (?, 'Statement Example Ltd', 'USD', 100000000, 30, '2024-07-01T00:00:00.000Z', '2024-07-01T00:00:00.000Z', 'erp')",
        params![STATEMENT_CUSTOMER],
    )?;
    for n in 0..INVOICES {
        let issued = n * 364 / INVOICES;
        let paid: i64 = if n < PAYMENTS { 100_000 } else { 0 };
        run(
            "INSERT INTO invoices (id, customer_id, issued_on, due_on, amount_minor, paid_minor, open_minor, created_at, updated_at)
             VALUES (?, ?, ?, ?, 100000, ?, ?, '2024-07-01T00:00:00.000Z', '2024-07-01T00:00:00.000Z')",
            params![format!("INV-S{n:04}"), STATEMENT_CUSTOMER, day(issued), day(issued + 30), paid, 100_000 - paid],
        )?;
    }
    for n in 0..PAYMENTS {
        let received = n * 364 / INVOICES + 25;
        let id = format!("PAY-S{n:04}");
        run(
            "INSERT INTO payments (id, customer_id, amount_minor, received_on, method, unapplied_minor, request, result, posted_at, posted_by)
             VALUES (?, ?, 100000, ?, 'ach', 0, '{}', '{}', '2024-07-01T00:00:00.000Z', 'bench')",
            params![&id, STATEMENT_CUSTOMER, day(received)],
        )?;
        run(
            "INSERT INTO allocations (payment_id, invoice_id, amount_minor, applied_on) VALUES (?, ?, 100000, ?)",
            params![&id, format!("INV-S{n:04}"), day(received)],
        )?;
    }
    run("COMMIT", vec![])?;
    Ok(())
}

/// Times one request `SAMPLES` times (after one not counted); the last answer.
fn time(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(Latencies, String)> {
    let mut samples = vec![];
    let mut last = String::new();
    for round in 0..=SAMPLES {
        let started = Instant::now();
        let (status, answer) = host::send(addr, method, path, headers, body)?;
        let elapsed = started.elapsed();
        if status != 200 {
            bail!("{method} {path} answered {status}: {answer}");
        }
        if round > 0 {
            samples.push(elapsed);
        }
        last = answer;
    }
    Ok((Latencies::from_durations(samples), last))
}

fn count(answer: &str, field: &str) -> Result<u64> {
    let json: serde_json::Value = serde_json::from_str(answer).context("a JSON answer")?;
    Ok(match &json[field] {
        serde_json::Value::Array(items) => items.len() as u64,
        value => value.as_u64().unwrap_or(0),
    })
}

/// The figures, through the host at `addr`, calling as the bench's manager.
pub fn measure(addr: SocketAddr, token: &str) -> Result<DunningRun> {
    let auth = format!("Bearer {token}");
    let json = [
        ("authorization", auth.as_str()),
        ("accept", "application/json"),
    ];
    let proposal_path = format!("/reports/dunning?as_of={AS_OF}");
    let (proposal, answer) = time(addr, "GET", &proposal_path, &json, "")?;
    let (customers, letters_due) = (count(&answer, "customers")?, count(&answer, "letters_due")?);

    let run_headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let started = Instant::now();
    let mut issued = 0;
    loop {
        let body = format!(r#"{{"as_of":"{AS_OF}","limit":5000}}"#);
        let (status, answer) = host::send(addr, "POST", "/dunning-runs", &run_headers, &body)?;
        if status != 201 {
            bail!("POST /dunning-runs answered {status}: {answer}");
        }
        issued += count(&answer, "letters")?;
        if count(&answer, "letters_left")? == 0 {
            break;
        }
    }
    let run = started.elapsed();
    let (proposal_after, _) = time(addr, "GET", &proposal_path, &json, "")?;

    let statement =
        format!("/customers/{STATEMENT_CUSTOMER}/statement?from={STATEMENT_FROM}&to={AS_OF}");
    let (statement_json, answer) = time(addr, "GET", &statement, &json, "")?;
    let statement_movements = count(&answer, "movements")?;
    let html = [("authorization", auth.as_str()), ("accept", "text/html")];
    let (statement_html, _) = time(addr, "GET", &statement, &html, "")?;
    Ok(DunningRun {
        customers,
        letters_due,
        proposal,
        issued,
        run,
        proposal_after,
        statement_movements,
        statement_json,
        statement_html,
    })
}
