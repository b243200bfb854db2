//! The associate's desk over HTTP: assignment and the lists cut by
//! assignee, customer search, escalations, four-eyes releases, and orders
//! the desk cannot check yet. Routes, roles, statuses and answers; the
//! rules are the ledger's (its desk, four_eyes and unchecked tests).

use crate::common::*;
use e2e::{ASSOCIATE, App, MANAGER};
use serde_json::{Value, json};

const BOB: &str = "tok-bob";
const MIKE: &str = "tok-mike";

fn named_customer(app: &App, id: &str, name: &str, limit: &str) {
    let body =
        json!({"name": name, "currency": "USD", "credit_limit": limit, "payment_terms_days": 30});
    let reply = app.erp("PUT", &format!("/customers/{id}"), &body);
    assert_eq!(reply.status, 200, "{}", reply.text());
}

fn assign(app: &App, id: &str, assignee: Value) -> e2e::Reply {
    app.json_as(
        MANAGER,
        "PUT",
        &format!("/customers/{id}/assignee"),
        &json!({ "assignee": assignee }),
    )
}

#[test]
fn managers_assign_customers_and_each_associate_sees_their_own_accounts() {
    let app = App::start();
    for (id, name) in [
        ("C-1", "Acme Tools"),
        ("C-2", "Bolt Supply"),
        ("C-3", "Crane Parts"),
    ] {
        named_customer(&app, id, name, "100.00");
        assert_eq!(
            decision(&app, &format!("SO-{id}"), id, "500.00")["status"],
            "held"
        );
    }
    let assigned = assign(&app, "C-1", json!("alice"));
    assert_eq!(assigned.status, 200, "{}", assigned.text());
    assert_eq!(assigned.json()["assignee"], "alice");
    let bulk = as_manager(
        &app,
        "POST",
        "/assignments",
        &json!({"customer_ids": ["C-2", "C-3"], "assignee": "bob"}),
    );
    assert_eq!(bulk.status, 200, "{}", bulk.text());
    assert_eq!(bulk.json()["customers"].as_array().unwrap().len(), 2);

    // Refusals: an associate, someone not on the desk, an unknown customer.
    problem(
        &app.json_as(
            ASSOCIATE,
            "PUT",
            "/customers/C-1/assignee",
            &json!({"assignee": "alice"}),
        ),
        403,
    );
    assert_eq!(
        problem_fields(&assign(&app, "C-1", json!("erp-feed"))),
        ["assignee"]
    );
    assert_eq!(
        problem_fields(&assign(&app, "C-1", json!("nobody"))),
        ["assignee"]
    );
    problem(&assign(&app, "C-404", json!("alice")), 404);
    let unknown = as_manager(
        &app,
        "POST",
        "/assignments",
        &json!({"customer_ids": ["C-1", "C-404"], "assignee": null}),
    );
    assert_eq!(problem_fields(&unknown), ["customer_ids[1]"]);
    assert_eq!(
        get_json(&app, "/customers/C-1")["assignee"],
        "alice",
        "all or none"
    );

    let mine = |token: &str| -> Vec<String> {
        let page = app.get_as(token, "/orders/queue?assignee=me").json();
        page["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                format!(
                    "{} {}",
                    o["order_id"].as_str().unwrap(),
                    o["assignee"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(mine(ASSOCIATE), ["SO-C-1 alice"]);
    assert_eq!(mine(BOB), ["SO-C-2 bob", "SO-C-3 bob"]);
    assert_eq!(assign(&app, "C-3", Value::Null).status, 200);
    let unassigned = get_json(&app, "/orders?assignee=unassigned");
    assert_eq!(unassigned[0]["order_id"], "SO-C-3");

    let history = get_json(&app, "/customers/C-3")["assignments"].clone();
    assert_eq!(history[0]["from"], "bob");
    assert_eq!(history[0]["to"], Value::Null);
    assert_eq!(history[0]["by"], "maria");
    let people: Vec<String> = get_json(&app, "/people")
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}:{}",
                p["name"].as_str().unwrap(),
                p["role"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        people,
        [
            "alice:associate",
            "bob:associate",
            "maria:manager",
            "mike:manager"
        ]
    );
}

#[test]
fn customers_are_found_by_id_or_name_with_their_figures() {
    let app = App::start();
    named_customer(&app, "C-100", "Acme Tools", "1000.00");
    named_customer(&app, "C-200", "Société Générale", "1000.00");
    invoice(&app, "INV-1", "C-100", "2025-05-01", "300.00");
    let found = get_json(&app, &format!("/customers?q=acme&as_of={AS_OF}"));
    assert_eq!(found["total"], 1);
    let hit = &found["customers"][0];
    assert_eq!(hit["id"], "C-100");
    assert_eq!(hit["past_due"], "300.00");
    assert_eq!(hit["available"], "700.00");
    assert_eq!(
        get_json(&app, "/customers?q=societe")["customers"][0]["id"],
        "C-200"
    );
    assert_eq!(get_json(&app, "/customers?q=c-&limit=1")["total"], 2);
    assert_eq!(problem_fields(&app.get_as(ASSOCIATE, "/customers")), ["q"]);
    assert_eq!(
        problem_fields(&app.get_as(ASSOCIATE, "/customers?q=a&limit=0")),
        ["limit"]
    );
}

#[test]
fn an_associate_escalates_and_a_manager_answers_on_the_subject() {
    let app = App::start();
    customer(&app, "C-1", Some("100.00"));
    decision(&app, "SO-1", "C-1", "500.00");
    let body = json!({"subject_type": "order", "subject_id": "SO-1", "reason": "Unusual terms", "note": "120-day terms asked"});
    let raised = app.send(
        "POST",
        "/escalations",
        &[
            ("authorization", "Bearer tok-alice"),
            ("content-type", "application/json"),
            ("idempotency-key", "esc-1"),
        ],
        body.to_string().as_bytes(),
    );
    assert_eq!(raised.status, 201, "{}", raised.text());
    let escalation = raised.json();
    assert_eq!(escalation["status"], "open");
    assert_eq!(escalation["raised_by"], "alice");
    let id = escalation["id"].as_i64().unwrap();
    problem(&as_associate(&app, "POST", "/escalations", &body), 409);
    let missing =
        json!({"subject_type": "dispute", "subject_id": "D-99", "reason": "x", "note": "y"});
    problem(&as_associate(&app, "POST", "/escalations", &missing), 404);
    let bad = json!({"subject_type": "invoice", "subject_id": "INV-1", "reason": "", "note": "y"});
    assert_eq!(
        problem_fields(&as_associate(&app, "POST", "/escalations", &bad)),
        ["subject_type", "reason"]
    );

    let open = get_json(&app, "/escalations?status=open");
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(
        open[0]["overdue"], false,
        "due a business day after it was raised"
    );
    let answer = json!({"outcome": "declined", "note": "30 days at most"});
    let path = format!("/escalations/{id}/resolve");
    problem(&as_associate(&app, "POST", &path, &answer), 403);
    let resolved = as_manager(&app, "POST", &path, &answer);
    assert_eq!(resolved.status, 200, "{}", resolved.text());
    assert_eq!(resolved.json()["resolved_by"], "maria");
    problem(&as_manager(&app, "POST", &path, &answer), 409);
    let order = get_json(&app, "/orders/SO-1");
    assert_eq!(order["escalations"][0]["answer"], "30 days at most");
    assert_eq!(
        get_json(&app, &format!("/escalations/{id}"))["outcome"],
        "declined"
    );
    problem(&app.get_as(ASSOCIATE, "/escalations/999"), 404);
    problem(&app.get_as(ASSOCIATE, "/escalations/x"), 404);
}

fn release(app: &App, token: &str, id: &str) -> e2e::Reply {
    app.json_as(
        token,
        "POST",
        &format!("/orders/{id}/release"),
        &json!({"note": "customer called"}),
    )
}

#[test]
fn above_the_threshold_an_associates_release_waits_for_another_manager() {
    let app = App::start();
    let policy = json!({"release_approval_thresholds": {"USD": "25000.00"}});
    assert_eq!(as_manager(&app, "PUT", "/policy", &policy).status, 200);
    customer(&app, "C-1", Some("1000.00"));
    for (id, amount) in [
        ("SO-BIG", "30000.00"),
        ("SO-2", "26000.00"),
        ("SO-3", "27000.00"),
        ("SO-SMALL", "2000.00"),
    ] {
        decision(&app, id, "C-1", amount);
    }
    let waiting = release(&app, ASSOCIATE, "SO-BIG");
    assert_eq!(waiting.status, 202, "{}", waiting.text());
    let order = waiting.json();
    assert_eq!(order["status"], "pending_approval");
    assert_eq!(order["release_request"]["requested_by"], "alice");
    let pending = get_json(&app, "/orders/queue?status=pending_approval");
    assert_eq!(pending["total_orders"], 1);

    let approve = |token: &str, id: &str| {
        app.json_as(
            token,
            "POST",
            &format!("/orders/{id}/approve-release"),
            &json!({"note": "deposit in"}),
        )
    };
    problem(&approve(ASSOCIATE, "SO-BIG"), 403);
    let approved = approve(MIKE, "SO-BIG");
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()["status"], "released");
    problem(&approve(MIKE, "SO-BIG"), 409);
    let no_body = app.send(
        "POST",
        "/orders/SO-SMALL/approve-release",
        &[("authorization", "Bearer tok-mike")],
        b"",
    );
    problem(&no_body, 409);

    assert_eq!(release(&app, ASSOCIATE, "SO-2").status, 202);
    let rejected = app.json_as(
        MANAGER,
        "POST",
        "/orders/SO-2/reject-release",
        &json!({"note": "no"}),
    );
    assert_eq!(rejected.status, 200, "{}", rejected.text());
    assert_eq!(rejected.json()["status"], "held");
    assert_eq!(
        release(&app, MANAGER, "SO-3").status,
        200,
        "a manager releases at once"
    );

    let bulk = as_associate(
        &app,
        "POST",
        "/orders/release",
        &json!({"order_ids": ["SO-2", "SO-SMALL", "SO-BIG"], "note": "month end"}),
    );
    let outcomes: Vec<String> = bulk.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["pending_approval", "released", "not_held"]);

    let today = chrono::Utc::now().date_naive();
    let path = format!("/reports/releases?from={today}&to={today}");
    problem(&app.get_as(ASSOCIATE, &path), 403);
    let report = app.get_as(MANAGER, &path).json();
    let lines: Vec<String> = report["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{} {} {}",
                l["order_id"].as_str().unwrap(),
                l["person"].as_str().unwrap(),
                l["approved_by"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        lines,
        ["SO-BIG alice mike", "SO-3 maria -", "SO-SMALL alice -"]
    );
    let csv = app.send(
        "GET",
        &path,
        &[
            ("authorization", "Bearer tok-maria"),
            ("accept", "text/csv"),
        ],
        b"",
    );
    assert_eq!(csv.status, 200);
    assert!(
        csv.text().starts_with("released_at,order_id,"),
        "{}",
        csv.text()
    );
    assert_eq!(csv.text().lines().count(), 4);
}

#[test]
fn an_order_before_its_customer_is_held_and_checked_when_the_customer_arrives() {
    let app = App::start();
    let early = decision(&app, "SO-1", "C-NEW", "50.00");
    assert_eq!(early["status"], "held");
    assert_eq!(codes(&early), ["UNKNOWN_CUSTOMER"]);
    let euro = app.erp(
        "POST",
        "/orders",
        &json!({"id": "SO-2", "customer_id": "C-NEW", "amount": "10.00", "currency": "EUR", "ordered_on": AS_OF, "as_of": AS_OF}),
    );
    assert_eq!(codes(&euro.json()), ["UNKNOWN_CUSTOMER"]);
    let arrived = customer(&app, "C-NEW", Some("1000.00"));
    assert_eq!(arrived["released_orders"], json!(["SO-1"]));
    let still = get_json(&app, "/orders/queue?customer_id=C-NEW");
    assert_eq!(codes(&still["orders"][0]), ["CURRENCY_MISMATCH"]);
    assert_eq!(still["orders"][0]["currency"], "EUR");
    problem(&release(&app, ASSOCIATE, "SO-2"), 409);
}
