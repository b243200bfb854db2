//! The reports over HTTP, as JSON and as CSV read back with a real CSV
//! parser: aging, held orders, the worklist, KPIs and disputes. The tests
//! share one host and read the lines of their own customers (totals and
//! ranks across the whole book are the ledger's to test, in
//! crates/ledger/tests/ledger/reports.rs), but for the trend, which redates
//! the decision history of a host of its own.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::common::*;
use e2e::{App, MANAGER, Reply};
use serde_json::{Value, json};

static HOST: LazyLock<&App> = LazyLock::new(shared_host);

/// A customer in any currency.
fn customer_in(app: &App, id: &str, currency: &str, limit: &str) {
    let body = json!({"name": format!("{id} Ltd"), "currency": currency, "credit_limit": limit, "payment_terms_days": 30});
    let reply = app.erp("PUT", &format!("/customers/{id}"), &body);
    assert_eq!(reply.status, 200, "PUT customer: {}", reply.text());
}

/// An invoice with its own issue date and currency.
fn invoice_issued(
    app: &App,
    id: &str,
    customer_id: &str,
    dates: (&str, &str),
    amount: &str,
    currency: &str,
) {
    let (issued_on, due_on) = dates;
    let body = json!({"customer_id": customer_id, "issued_on": issued_on, "due_on": due_on, "amount": amount, "currency": currency});
    let reply = app.erp("PUT", &format!("/invoices/{id}"), &body);
    assert_eq!(reply.status, 201, "PUT invoice: {}", reply.text());
}

/// A report as CSV: the answer, checked to be a 200 CSV.
fn csv_reply(app: &App, path: &str) -> e2e::Reply {
    let auth = format!("Bearer {MANAGER}");
    let reply = app.send(
        "GET",
        path,
        &[("authorization", &auth), ("accept", "text/csv")],
        b"",
    );
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    reply
}

/// A CSV read back by a real CSV parser: its header and its rows.
fn csv_records(reply: &e2e::Reply) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(reply.body.as_slice());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|record| record.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// A report as CSV, read back: its header and one map per row.
fn csv_report(app: &App, path: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let (header, records) = csv_records(&csv_reply(app, path));
    let rows = records
        .into_iter()
        .map(|record| header.iter().cloned().zip(record).collect())
        .collect();
    (header, rows)
}

/// A JSON value as a CSV cell shows it.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Every column of every CSV row holds what the JSON line has.
fn assert_same_lines(rows: &[BTreeMap<String, String>], lines: &Value) {
    let lines = lines.as_array().expect("a list");
    assert_eq!(rows.len(), lines.len(), "one CSV row per line");
    for (row, line) in rows.iter().zip(lines) {
        for (column, text) in row {
            if !line[column].is_array() {
                assert_eq!(text, &cell(&line[column]), "{column} of {line}");
            }
        }
    }
}

const BUCKETS: [&str; 7] = [
    "current",
    "days_1_30",
    "days_31_60",
    "days_61_90",
    "days_91_120",
    "days_over_120",
    "total",
];

fn buckets(line: &Value) -> Vec<&str> {
    BUCKETS.iter().map(|b| line[*b].as_str().unwrap()).collect()
}

/// The lines of `report[field]` that are about this test's customers: the
/// shared host's reports list everyone's.
fn own(report: &Value, field: &str, prefix: &str) -> Value {
    let lines = report[field].as_array().expect("a list");
    let mine = lines
        .iter()
        .filter(|line| line["customer_id"].as_str().unwrap().starts_with(prefix))
        .cloned();
    Value::Array(mine.collect())
}

/// The CSV rows about this test's customers.
fn own_rows(rows: Vec<BTreeMap<String, String>>, prefix: &str) -> Vec<BTreeMap<String, String>> {
    rows.into_iter()
        .filter(|row| row["customer_id"].starts_with(prefix))
        .collect()
}

/// Three customers, two currencies, every bucket as of 2025-06-30; AG-4
/// owes nothing. Built once, read by the aging tests.
static AGING: LazyLock<&App> = LazyLock::new(|| {
    let app = *HOST;
    customer(app, "AG-1", Some("50000.00"));
    customer(app, "AG-2", Some("50000.00"));
    customer_in(app, "AG-3", "EUR", "50000.00");
    customer(app, "AG-4", Some("50000.00"));
    invoice(app, "AG-INV-A", "AG-1", "2025-07-10", "1000.00");
    invoice(app, "AG-INV-B", "AG-1", "2025-06-30", "200.00");
    invoice(app, "AG-INV-C", "AG-1", "2025-06-15", "300.00"); // 15 dpd
    invoice(app, "AG-INV-D", "AG-1", "2025-04-30", "400.00"); // 61 dpd
    invoice(app, "AG-INV-E", "AG-2", "2025-05-31", "500.00"); // 30 dpd
    invoice(app, "AG-INV-F", "AG-2", "2025-02-28", "50.00"); // 122 dpd
    invoice(app, "AG-INV-G", "AG-2", "2025-03-02", "70.00"); // 120 dpd
    invoice_issued(
        app,
        "AG-INV-H",
        "AG-3",
        ("2025-04-01", "2025-05-01"),
        "900.00",
        "EUR",
    ); // 60 dpd
    app
});

/// The totals (one line per currency) are the ledger's to add up.
#[test]
fn aging_buckets_add_up_to_each_customers_open_balance() {
    let app = *AGING;
    let report = get_json(app, &format!("/reports/aging?as_of={AS_OF}"));
    assert_eq!(report["as_of"], AS_OF);
    let customers = own(&report, "customers", "AG-");
    let customers = customers.as_array().unwrap();
    let ids: Vec<&str> = customers
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["AG-3", "AG-1", "AG-2"],
        "EUR first; AG-4 owes nothing"
    );
    let expected = [
        [
            "1200.00", "300.00", "0.00", "400.00", "0.00", "0.00", "1900.00",
        ],
        ["0.00", "500.00", "0.00", "0.00", "70.00", "50.00", "620.00"],
    ];
    assert_eq!(buckets(&customers[1]), expected[0]);
    assert_eq!(buckets(&customers[2]), expected[1]);
    assert_eq!(customers[0]["currency"], "EUR");
    assert_eq!(customers[0]["days_31_60"], "900.00");
    for line in customers {
        let position = position(app, line["customer_id"].as_str().unwrap());
        assert_eq!(line["total"], position["open_balance"]);
        for bucket in BUCKETS {
            assert_eq!(
                line[bucket], position["aging"][bucket],
                "{bucket} of {line}"
            );
        }
    }
    for total in report["totals"].as_array().unwrap() {
        assert!(total["currency"].is_string(), "{total}");
        assert!(total["customers"].is_u64(), "{total}");
        assert_eq!(buckets(total).len(), BUCKETS.len());
    }
}

#[test]
fn aging_as_csv_has_the_figures_of_the_json() {
    let app = *AGING;
    let path = format!("/reports/aging?as_of={AS_OF}");
    let (header, rows) = csv_report(app, &path);
    let columns = ["customer_id", "customer_name", "currency"];
    let expected: Vec<&str> = columns.into_iter().chain(BUCKETS).collect();
    assert_eq!(header, expected);
    let report = get_json(app, &path);
    let rows = own_rows(rows, "AG-");
    assert_same_lines(&rows, &own(&report, "customers", "AG-"));
    // The rows of a currency add up to its customers' totals in the JSON.
    let usd: i64 = rows
        .iter()
        .filter(|r| r["currency"] == "USD")
        .map(|r| r["total"].replace('.', "").parse::<i64>().unwrap())
        .sum();
    assert_eq!(usd, 252000);
}

#[test]
fn held_orders_oldest_first_as_json_and_csv() {
    let app = *HOST;
    customer(app, "HO-1", Some("1000.00"));
    customer(app, "HO-2", None);
    order_on(app, "HO-SO-B", "HO-1", "2000.00", "2025-06-20");
    order_on(app, "HO-SO-A", "HO-2", "10.00", "2025-06-10");
    order_on(app, "HO-SO-OK", "HO-1", "5.00", "2025-06-01");
    let report = get_json(app, "/reports/held-orders?as_of=2025-07-03");
    let orders = own(&report, "orders", "HO-");
    assert_eq!(orders[0]["order_id"], "HO-SO-A");
    assert_eq!(orders[0]["reasons"][0]["code"], "NO_CREDIT_LIMIT");
    assert_eq!(orders[1]["order_id"], "HO-SO-B");
    assert_eq!(orders[1]["amount"], "2000.00");
    assert_eq!(orders[1]["currency"], "USD");
    assert_eq!(orders.as_array().unwrap().len(), 2);

    let (header, rows) = csv_report(app, "/reports/held-orders?as_of=2025-07-03");
    assert_eq!(header[0], "order_id");
    let rows = own_rows(rows, "HO-");
    assert_same_lines(&rows, &orders);
    assert_eq!(rows[1]["reasons"], "CREDIT_LIMIT_EXCEEDED");
    assert_eq!(rows[1]["customer_name"], "HO-1 Ltd");
    assert_eq!(rows[1]["days_held"], cell(&orders[1]["days_held"]));
}

/// Logs a call with a promise to pay by `due_on`, made on 06-01.
fn promise(app: &App, customer_id: &str, amount: &str, due_on: &str) {
    let body = json!({
        "channel": "call", "outcome": "promised", "note": "will pay", "contacted_on": "2025-06-01",
        "promise": {"amount": amount, "due_on": due_on},
    });
    let reply = as_associate(
        app,
        "POST",
        &format!("/customers/{customer_id}/contacts?as_of={AS_OF}"),
        &body,
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
}

/// The worklist's lines of the WL- customers, in the worklist's order.
fn worklist(app: &App) -> Vec<(String, String, String, i64, i64)> {
    let report = get_json(app, &format!("/reports/worklist?as_of={AS_OF}"));
    own(&report, "customers", "WL-")
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["customer_id"].as_str().unwrap().to_string(),
                l["past_due"].as_str().unwrap().to_string(),
                l["priority"].as_str().unwrap().to_string(),
                l["oldest_days_past_due"].as_i64().unwrap(),
                l["broken_promises"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn line(
    id: &str,
    past_due: &str,
    priority: &str,
    dpd: i64,
    broken: i64,
) -> (String, String, String, i64, i64) {
    (id.into(), past_due.into(), priority.into(), dpd, broken)
}

/// Ranks among everyone's lines are the ledger's to test.
#[test]
fn the_worklist_ranks_past_due_plus_held_orders() {
    let app = *HOST;
    for id in ["WL-1", "WL-3", "WL-4", "WL-5"] {
        customer(app, id, Some("50000.00"));
    }
    customer(app, "WL-2", Some("1000.00"));
    invoice(app, "INV-WL1", "WL-1", "2025-06-20", "1000.00"); // 10 dpd
    invoice(app, "INV-WL2", "WL-2", "2025-06-29", "100.00"); // 1 dpd
    assert_eq!(decision(app, "SO-WL2", "WL-2", "5000.00")["status"], "held");
    invoice(app, "INV-WL3", "WL-3", "2025-07-15", "100.00"); // not yet due
    assert_eq!(
        decision(app, "SO-WL3", "WL-3", "60000.00")["status"],
        "held"
    );
    invoice(app, "INV-WL4", "WL-4", "2025-06-25", "300.00"); // 5 dpd
    invoice(app, "INV-WL5", "WL-5", "2025-04-01", "600.00"); // 90 dpd
    promise(app, "WL-5", "300.00", "2025-06-15"); // nothing paid: broken
    promise(app, "WL-5", "100.00", "2025-07-05"); // not due yet

    assert_eq!(
        worklist(app),
        [
            line("WL-2", "100.00", "5100.00", 1, 0),
            line("WL-1", "1000.00", "1000.00", 10, 0),
            line("WL-5", "600.00", "600.00", 90, 1),
            line("WL-4", "300.00", "300.00", 5, 0),
        ]
    );
    let report = get_json(app, &format!("/reports/worklist?as_of={AS_OF}"));
    let lines = own(&report, "customers", "WL-");
    assert!(lines[0]["rank"].is_u64(), "{}", lines[0]);
    assert_eq!(lines[0]["held_orders_value"], "5000.00");
    let (header, rows) = csv_report(app, &format!("/reports/worklist?as_of={AS_OF}"));
    assert_eq!(header[..2], ["rank", "customer_id"]);
    assert_same_lines(&own_rows(rows, "WL-"), &lines);

    // A disputed amount is not worked: WL-1 drops to 600, after WL-5 (older).
    open_dispute(app, "INV-WL1", "400.00");
    let ranked: Vec<String> = worklist(app).into_iter().map(|l| l.0).collect();
    assert_eq!(ranked, ["WL-2", "WL-5", "WL-1", "WL-4"]);
    assert_eq!(worklist(app)[2], line("WL-1", "600.00", "600.00", 10, 0));
}

/// June in CHF, a currency no other test here uses (the KPIs are per
/// currency across every customer), in thousands: begin AR 10 (K1); sales
/// 10 (K3 8, K5 2); end AR 20 of which 8 (K3) not yet due; K6 is July's.
fn kpi_book(app: &App) {
    customer_in(app, "KPI", "CHF", "1000000.00");
    for (id, dates, amount) in [
        ("KPI-K1", ("2025-05-01", "2025-05-31"), "10000.00"),
        ("KPI-K3", ("2025-06-05", "2025-07-05"), "8000.00"),
        ("KPI-K5", ("2025-06-01", "2025-06-15"), "2000.00"),
        ("KPI-K6", ("2025-07-01", "2025-07-31"), "4444.00"),
    ] {
        invoice_issued(app, id, "KPI", dates, amount, "CHF");
    }
}

/// June's KPIs in CHF.
fn kpis(app: &App) -> Value {
    let report = get_json(app, "/reports/kpis?from=2025-06-01&to=2025-06-30");
    assert_eq!(report["opening_date"], "2025-05-31");
    let currencies = report["currencies"].as_array().unwrap();
    let chf = currencies.iter().find(|c| c["currency"] == "CHF");
    chf.unwrap_or_else(|| panic!("no CHF: {report}")).clone()
}

#[test]
fn kpis_of_a_hand_computed_month() {
    let app = *HOST;
    kpi_book(app);
    let chf = kpis(app);
    assert_eq!(chf["begin_ar"], "10000.00");
    assert_eq!(chf["credit_sales"], "10000.00");
    assert_eq!(chf["end_ar"], "20000.00");
    assert_eq!(chf["end_current_ar"], "8000.00");
    assert_eq!(chf["days"], 30);
    // DSO 20,000 / 10,000 × 30; BPDSO 8,000 / 10,000 × 30; nothing
    // collected: CEI (10,000 + 10,000 − 20,000) / (20,000 − 8,000) = 0.
    assert_eq!(chf["dso"], "60.00");
    assert_eq!(chf["best_possible_dso"], "24.00");
    assert_eq!(chf["average_days_delinquent"], "36.00");
    assert_eq!(chf["cei"], "0.00");

    let (_, rows) = csv_report(app, "/reports/kpis?from=2025-06-01&to=2025-06-30");
    let chf_rows: Vec<_> = rows
        .into_iter()
        .filter(|r| r["currency"] == "CHF")
        .collect();
    assert_same_lines(&chf_rows, &json!([chf]));
    let backwards = app.get_as(MANAGER, "/reports/kpis?from=2025-06-30&to=2025-06-01");
    assert_eq!(problem_fields(&backwards), ["to"]);
    let missing = app.get_as(MANAGER, "/reports/kpis?from=2025-06-01");
    assert_eq!(problem_fields(&missing), ["to"]);

    // K1 paid on 06-10: end AR 10,000; CEI 10,000 / 12,000 = 83.33%.
    let mut body = payment_body("KPI-P-1", "KPI", "10000.00");
    body["currency"] = json!("CHF");
    body["received_on"] = json!("2025-06-10");
    body["as_of"] = json!("2025-06-10");
    body["remittance"] = json!([{"invoice_id": "KPI-K1", "amount": "10000.00"}]);
    pay(app, &body);
    let chf = kpis(app);
    assert_eq!(chf["begin_ar"], "10000.00", "paid after the opening date");
    assert_eq!(chf["end_ar"], "10000.00");
    assert_eq!(chf["dso"], "30.00");
    assert_eq!(chf["cei"], "83.33");
}

#[test]
fn disputes_with_their_sla_status() {
    let app = *HOST;
    customer(app, "DR-1", Some("50000.00"));
    invoice(app, "DR-INV-1", "DR-1", "2025-07-10", "5000.00");
    let path = format!("/reports/disputes?as_of={AS_OF}");
    let report = get_json(app, &path);
    assert_eq!(own(&report, "disputes", "DR-"), json!([]));
    assert_eq!(report["statuses"], json!(["open", "in_review"]));
    let bad = app.get_as(MANAGER, "/reports/disputes?status=closed");
    assert_eq!(problem_fields(&bad), ["status"]);
    // Opened Monday 2025-06-30; 10 business days: due Monday 07-14.
    open_dispute(app, "DR-INV-1", "1200.00");
    let report = get_json(app, &path);
    let disputes = own(&report, "disputes", "DR-");
    let dispute = &disputes[0];
    assert_eq!(dispute["invoice_id"], "DR-INV-1");
    assert_eq!(dispute["amount"], "1200.00");
    assert_eq!(dispute["status"], "open");
    assert_eq!(dispute["sla_due_on"], "2025-07-14");
    assert_eq!(dispute["sla_status"], "on_track");
    assert_eq!(dispute["business_days_left"], 10);
    let at_risk = get_json(app, "/reports/disputes?as_of=2025-07-10");
    let at_risk = own(&at_risk, "disputes", "DR-");
    assert_eq!(at_risk[0]["sla_status"], "at_risk");
    assert_eq!(at_risk[0]["business_days_left"], 2);
    let (_, rows) = csv_report(app, &path);
    assert_same_lines(&own_rows(rows, "DR-"), &disputes);
}

/// What an empty book shows is the ledger's to test.
#[test]
fn reports_are_for_people_with_a_token_and_only_read() {
    let app = *HOST;
    let reply: Reply = app.get("/reports/aging");
    problem(&reply, 401);
    assert!(get_json(app, "/reports/held-orders")["orders"].is_array());
    problem(
        &app.json_as(MANAGER, "POST", "/reports/aging", &json!({})),
        405,
    );
    let unknown = problem(&app.get_as(MANAGER, "/reports/nope"), 404);
    assert!(unknown["detail"].as_str().unwrap().contains("aging"));
    let bad_date = app.get_as(MANAGER, "/reports/aging?as_of=2025-02-30");
    assert_eq!(problem_fields(&bad_date), ["as_of"]);
    let pending = get_json(app, "/reports/credit-limit-requests");
    assert_eq!(pending["status"], "pending");
    assert!(pending["requests"].is_array());
}

/// A customer's name as the ERP sends it.
fn customer_named(app: &App, id: &str, name: &str) {
    let body = json!({"name": name, "currency": "USD", "credit_limit": "50000.00", "payment_terms_days": 30});
    let reply = app.erp("PUT", &format!("/customers/{id}"), &body);
    assert_eq!(reply.status, 200, "PUT customer: {}", reply.text());
}

#[test]
fn csv_cells_with_commas_quotes_and_newlines_read_back_unchanged() {
    let app = *HOST;
    let name = "Acme, \"Intl\"\nWarehouse 2; dock \"B\"";
    customer_named(app, "CSV-1", name);
    invoice(app, "CSV-INV-1", "CSV-1", "2025-06-10", "1000.00");
    assert_eq!(get_json(app, "/customers/CSV-1")["name"], name);
    let path = format!("/reports/aging?as_of={AS_OF}");
    let (_, rows) = csv_report(app, &path);
    let rows = own_rows(rows, "CSV-");
    assert_eq!(rows.len(), 1, "the newline does not split the row");
    assert_eq!(rows[0]["customer_name"], name);
    assert_eq!(rows[0]["customer_id"], "CSV-1");
    assert_eq!(rows[0]["days_1_30"], "1000.00");
    assert_same_lines(&rows, &own(&get_json(app, &path), "customers", "CSV-"));
}

#[test]
fn csv_text_cells_cannot_become_spreadsheet_formulas() {
    let app = *HOST;
    let attacks = [
        ("F-1", "=HYPERLINK(\"http://evil.example\",\"Click\")"),
        ("F-2", "+1+cmd|' /C calc'!A0"),
        ("F-3", "-2+3"),
        ("F-4", "@SUM(A1:A9)"),
    ];
    for (id, name) in attacks {
        customer_named(app, id, name);
        invoice(app, &format!("INV-{id}"), id, "2025-06-10", "100.00");
    }
    let path = format!("/reports/aging?as_of={AS_OF}");
    let report = get_json(app, &path);
    let (_, rows) = csv_report(app, &path);
    let rows = own_rows(rows, "F-");
    assert_eq!(rows.len(), attacks.len());
    for (id, name) in attacks {
        let row = rows.iter().find(|r| r["customer_id"] == id).unwrap();
        let lines = report["customers"].as_array().unwrap();
        let line = lines.iter().find(|l| l["customer_id"] == id).unwrap();
        assert_eq!(
            line["customer_name"], name,
            "the JSON keeps the name as sent"
        );
        assert_eq!(
            row["customer_name"],
            format!("'{name}"),
            "text, not a formula"
        );
        assert_eq!(
            row["days_1_30"], "100.00",
            "figures are written as they are"
        );
    }
    // Free text of people: a limit request's reason.
    let reply = as_associate(
        app,
        "POST",
        "/credit-limit-requests",
        &json!({"customer_id": "F-1", "requested_limit": "60000.00", "reason": "=1+1 (seasonal)"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let (_, rows) = csv_report(app, "/reports/credit-limit-requests?customer_id=F-1");
    assert_eq!(rows[0]["reason"], "'=1+1 (seasonal)");
    assert_eq!(rows[0]["customer_name"], format!("'{}", attacks[0].1));
    assert_eq!(rows[0]["requested_limit"], "60000.00");
}

/// A day of the trend: (date, orders, [(currency, orders, value)]).
type TrendDay = (String, i64, Vec<(String, i64, String)>);

/// The trend's days.
fn trend_days(report: &Value) -> Vec<TrendDay> {
    let text = |v: &Value| v.as_str().expect("text").to_string();
    report["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|day| {
            let lines = day["currencies"]
                .as_array()
                .expect("currencies")
                .iter()
                .map(|l| {
                    (
                        text(&l["currency"]),
                        l["orders"].as_i64().unwrap(),
                        text(&l["value"]),
                    )
                })
                .collect();
            (text(&day["date"]), day["orders"].as_i64().unwrap(), lines)
        })
        .collect()
}

#[test]
fn the_held_order_trend_replays_the_decision_history_day_by_day() {
    let app = App::start();
    customer(&app, "C-1", Some("1000.00"));
    customer_in(&app, "C-J", "JPY", "100000");
    assert_eq!(decision(&app, "SO-1", "C-1", "2000.00")["status"], "held");
    assert_eq!(decision(&app, "SO-2", "C-1", "1500.00")["status"], "held");
    assert_eq!(
        decision(&app, "SO-3", "C-1", "500.00")["status"],
        "released"
    );
    // Exposure 500.00 released + 900.00 > 1000.00.
    assert_eq!(decision(&app, "SO-4", "C-1", "900.00")["status"], "held");
    let yen = json!({"id": "SO-J", "customer_id": "C-J", "amount": "200000", "currency": "JPY", "ordered_on": AS_OF, "as_of": AS_OF});
    assert_eq!(app.erp("POST", "/orders", &yen).json()["status"], "held");
    let note = json!({"note": "cleared by phone"});
    for id in ["SO-2", "SO-4"] {
        let reply = as_associate(&app, "POST", &format!("/orders/{id}/release"), &note);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let cancelled = app.erp("POST", "/orders/SO-1/cancel", &json!({}));
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());

    // The decisions were made just now: date them as if made over June.
    let state_dir = app.kill();
    let db = rusqlite::Connection::open(state_dir.path().join("sqlite_db.db")).unwrap();
    for (order, kind, at) in [
        ("SO-J", "check", "2025-05-28T08:00:00.000Z"),
        ("SO-4", "check", "2025-05-30T12:00:00.000Z"),
        ("SO-3", "check", "2025-06-01T09:00:00.000Z"),
        ("SO-1", "check", "2025-06-02T10:00:00.000Z"),
        ("SO-2", "check", "2025-06-03T09:30:00.000Z"),
        ("SO-2", "manual_release", "2025-06-04T16:00:00.000Z"),
        // The last instant of 06-05: not held at its end.
        ("SO-1", "cancel", "2025-06-05T23:59:59.999Z"),
        // After the period: SO-4 was held throughout it.
        ("SO-4", "manual_release", "2025-06-10T11:00:00.000Z"),
    ] {
        let changed = db
            .execute(
                "UPDATE order_decisions SET decided_at = ?1 WHERE order_id = ?2 AND kind = ?3",
                rusqlite::params![at, order, kind],
            )
            .unwrap();
        assert_eq!(changed, 1, "{order} {kind}");
    }
    drop(db);
    let app = App::start_in(e2e::Options::app(), state_dir);

    let path = "/reports/held-orders/trend?from=2025-06-01&to=2025-06-06";
    let report = get_json(&app, path);
    assert_eq!(
        (report["from"].as_str(), report["to"].as_str()),
        (Some("2025-06-01"), Some("2025-06-06"))
    );
    let day = |date: &str, orders: i64, usd: (i64, &str)| {
        let lines = vec![
            ("JPY".to_string(), 1, "200000".to_string()),
            ("USD".to_string(), usd.0, usd.1.to_string()),
        ];
        (date.to_string(), orders, lines)
    };
    assert_eq!(
        trend_days(&report),
        [
            day("2025-06-01", 2, (1, "900.00")),
            day("2025-06-02", 3, (2, "2900.00")),
            day("2025-06-03", 4, (3, "4400.00")),
            day("2025-06-04", 3, (2, "2900.00")),
            day("2025-06-05", 2, (1, "900.00")),
            day("2025-06-06", 2, (1, "900.00")),
        ]
    );
    // Before anything was held, and a day that ends just before SO-J's hold.
    let quiet = get_json(
        &app,
        "/reports/held-orders/trend?from=2025-05-26&to=2025-05-27",
    );
    assert_eq!(
        trend_days(&quiet),
        [
            ("2025-05-26".to_string(), 0, vec![]),
            ("2025-05-27".to_string(), 0, vec![])
        ]
    );

    // The CSV: a row per day and currency with the JSON's figures.
    let reply = csv_reply(&app, path);
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"held-orders-trend-2025-06-01-2025-06-06.csv\"")
    );
    let (header, rows) = csv_records(&reply);
    assert_eq!(header, ["date", "currency", "orders", "value"]);
    let from_json: Vec<Vec<String>> = trend_days(&report)
        .into_iter()
        .flat_map(|(date, _, lines)| {
            lines.into_iter().map(move |(currency, orders, value)| {
                vec![date.clone(), currency, orders.to_string(), value]
            })
        })
        .collect();
    assert_eq!(rows.len(), 12);
    assert_eq!(rows, from_json);
    assert_eq!(rows[5], ["2025-06-03", "USD", "3", "4400.00"]);

    let backwards = app.get_as(
        MANAGER,
        "/reports/held-orders/trend?from=2025-06-02&to=2025-06-01",
    );
    assert_eq!(problem_fields(&backwards), ["to"]);
    let too_long = app.get_as(
        MANAGER,
        "/reports/held-orders/trend?from=2024-01-01&to=2025-06-30",
    );
    assert_eq!(problem_fields(&too_long), ["to"]);
    let bad = app.get_as(MANAGER, "/reports/held-orders/trend?from=June");
    assert_eq!(problem_fields(&bad), ["from"]);
    problem(
        &app.json_as(MANAGER, "POST", "/reports/held-orders/trend", &json!({})),
        405,
    );
    // Without dates: the 30 days to today.
    assert_eq!(
        get_json(&app, "/reports/held-orders/trend")["days"]
            .as_array()
            .unwrap()
            .len(),
        30
    );
}
