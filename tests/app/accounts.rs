//! Customers, invoices, the contact log and the policy over HTTP. The
//! tests share one host (each with customers of its own) but for the one
//! that changes the policy, which every decision reads.

use std::sync::LazyLock;

use crate::common::*;
use e2e::{App, MANAGER};
use serde_json::json;

static HOST: LazyLock<&App> = LazyLock::new(shared_host);

#[test]
fn a_customer_shows_its_credit_position() {
    let app = *HOST;
    let created = customer(app, "C-POS", Some("50000.00"));
    assert_eq!(created["credit_limit"], "50000.00");
    assert_eq!(created["payment_terms_days"], 30);
    invoice(app, "INV-POS-1", "C-POS", "2025-07-10", "15000.00");
    invoice(app, "INV-POS-2", "C-POS", "2025-06-10", "2500.50");
    invoice(app, "INV-POS-3", "C-POS", "2025-01-10", "100.00");
    decision(app, "SO-POS-1", "C-POS", "5000.00"); // held: past due
    let position = get_json(app, &format!("/customers/C-POS?as_of={AS_OF}"));
    assert_eq!(position["name"], "C-POS Ltd");
    assert_eq!(position["as_of"], AS_OF);
    assert_eq!(position["open_balance"], "17600.50");
    assert_eq!(position["unapplied_cash"], "0.00");
    assert_eq!(position["released_orders_total"], "0.00");
    assert_eq!(position["exposure"], "17600.50");
    assert_eq!(position["available"], "32399.50");
    assert_eq!(position["past_due"], "2600.50");
    let aging = &position["aging"];
    assert_eq!(aging["current"], "15000.00");
    assert_eq!(aging["days_1_30"], "2500.50");
    assert_eq!(aging["days_over_120"], "100.00");
    assert_eq!(aging["total"], "17600.50");
    assert_eq!(position["held_orders"][0]["order_id"], "SO-POS-1");
}

#[test]
fn unknown_customers_and_invoices_are_404_problems() {
    let app = *HOST;
    let missing = problem(&app.get_as(MANAGER, "/customers/NOPE"), 404);
    assert!(missing["detail"].as_str().unwrap().contains("NOPE"));
    problem(&app.get_as(MANAGER, "/invoices/NOPE"), 404);
    let reply = app.erp(
        "PUT",
        "/invoices/INV-NOPE",
        &json!({"customer_id": "NOPE", "issued_on": "2025-06-01", "due_on": "2025-07-01", "amount": "1.00", "currency": "USD"}),
    );
    problem(&reply, 404);
}

#[test]
fn invoices_show_balances_and_can_be_corrected() {
    let app = *HOST;
    customer(app, "C-CORR", Some("1000.00"));
    let created = invoice(app, "INV-CORR", "C-CORR", "2025-07-10", "500.00");
    assert_eq!(created["open_balance"], "500.00");
    let corrected = app.erp(
        "PUT",
        "/invoices/INV-CORR",
        &json!({"customer_id": "C-CORR", "issued_on": "2025-06-10", "due_on": "2025-07-20", "amount": "450.00", "currency": "USD"}),
    );
    assert_eq!(corrected.status, 200, "{}", corrected.text());
    let shown = get_json(app, "/invoices/INV-CORR");
    assert_eq!(shown["amount"], "450.00");
    assert_eq!(shown["open_balance"], "450.00");
    assert_eq!(shown["due_on"], "2025-07-20");
    assert_eq!(shown["payments"], json!([]));
    assert_eq!(shown["disputes"], json!([]));
}

#[test]
fn a_customers_currency_is_fixed_once_it_has_business() {
    let app = *HOST;
    customer(app, "C-CUR", Some("1000.00"));
    invoice(app, "INV-CUR", "C-CUR", "2025-07-10", "500.00");
    let reply = app.erp(
        "PUT",
        "/customers/C-CUR",
        &json!({"name": "C-CUR Ltd", "currency": "EUR", "credit_limit": "1000.00", "payment_terms_days": 30}),
    );
    problem(&reply, 409);
    assert_eq!(get_json(app, "/customers/C-CUR")["currency"], "USD");
}

#[test]
fn raising_the_limit_releases_what_now_fits() {
    let app = *HOST;
    customer(app, "C-RAISE", Some("1000.00"));
    decision(app, "SO-RAISE", "C-RAISE", "5000.00");
    assert_eq!(held_queue(app, "C-RAISE"), ["SO-RAISE"]);
    let reply = app.erp(
        "PUT",
        "/customers/C-RAISE",
        &json!({"name": "C-RAISE Ltd", "currency": "USD", "credit_limit": "6000.00", "payment_terms_days": 30}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["released_orders"], json!(["SO-RAISE"]));
    assert!(held_queue(app, "C-RAISE").is_empty());
}

#[test]
fn on_hold_and_exempt_customers() {
    let app = *HOST;
    for (id, flags) in [
        ("C-HOLD", json!({"on_hold": true})),
        ("C-CASH", json!({"exempt": true})),
    ] {
        let mut body = json!({"name": id, "currency": "USD", "credit_limit": "100.00", "payment_terms_days": 0});
        body.as_object_mut()
            .unwrap()
            .extend(flags.as_object().unwrap().clone());
        assert_eq!(
            app.erp("PUT", &format!("/customers/{id}"), &body).status,
            200
        );
    }
    let held = decision(app, "SO-HOLD", "C-HOLD", "1.00");
    assert_eq!(codes(&held), ["ACCOUNT_ON_HOLD"]);
    let exempt = decision(app, "SO-CASH", "C-CASH", "99999.00");
    assert_eq!(exempt["status"], "released");
    assert_eq!(codes(&exempt), ["EXEMPT"]);
}

#[test]
fn the_contact_log_keeps_promises_to_pay() {
    let app = *HOST;
    customer(app, "C-LOG", Some("1000.00"));
    let logged = as_associate(
        app,
        "POST",
        "/customers/C-LOG/contacts?as_of=2025-06-30",
        &json!({
            "channel": "call",
            "outcome": "reached AP clerk",
            "note": "will pay INV-1 by the 10th",
            "contacted_on": "2025-06-30",
            "promise": {"amount": "250.00", "due_on": "2025-07-10"}
        }),
    );
    assert_eq!(logged.status, 201, "{}", logged.text());
    let contact = logged.json();
    assert_eq!(contact["by"], "alice");
    assert_eq!(contact["promise"]["status"], "open");
    as_associate(
        app,
        "POST",
        "/customers/C-LOG/contacts",
        &json!({"channel": "email", "outcome": "sent statement", "note": "June statement", "contacted_on": "2025-07-01"}),
    );
    let log = get_json(app, "/customers/C-LOG/contacts?as_of=2025-07-11");
    assert_eq!(log[0]["channel"], "email", "newest first");
    assert_eq!(
        log[1]["promise"]["status"], "broken",
        "nothing paid by the 10th"
    );

    let bad = as_associate(
        app,
        "POST",
        "/customers/C-LOG/contacts",
        &json!({"channel": "fax", "outcome": "", "note": "x", "promise": {"amount": "-1", "due_on": "soon"}}),
    );
    assert_eq!(
        problem_fields(&bad),
        ["channel", "outcome", "promise.amount", "promise.due_on"]
    );
}

#[test]
fn managers_set_the_policy_and_it_changes_decisions() {
    let app = App::start();
    let policy = get_json(&app, "/policy");
    assert_eq!(policy["grace_days"], 5);
    assert_eq!(policy["past_due_tolerance"], "0.00");

    customer(&app, "C-1", Some("100000.00"));
    invoice(&app, "INV-1", "C-1", "2025-06-20", "1000.00"); // 10 days past due
    assert_eq!(decision(&app, "SO-1", "C-1", "1.00")["status"], "held");

    let lenient = json!({"grace_days": 15, "past_due_tolerance": "0.00"});
    problem(&as_associate(&app, "PUT", "/policy", &lenient), 403);
    let saved = as_manager(&app, "PUT", "/policy", &lenient);
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(get_json(&app, "/policy")["grace_days"], 15);
    assert_eq!(decision(&app, "SO-2", "C-1", "1.00")["status"], "released");

    let invalid = as_manager(
        &app,
        "PUT",
        "/policy",
        &json!({"grace_days": 9999, "dispute_sla_business_days": 0}),
    );
    assert_eq!(
        problem_fields(&invalid),
        ["grace_days", "dispute_sla_business_days"]
    );
    assert_eq!(
        get_json(&app, "/policy")["grace_days"],
        15,
        "a refused policy changes nothing"
    );
}

#[test]
fn me_tells_who_the_token_belongs_to() {
    let app = *HOST;
    let me = get_json(app, "/me");
    assert_eq!(me, json!({"name": "alice", "role": "associate"}));
    let manager = app.get_as(MANAGER, "/me");
    assert_eq!(manager.json(), json!({"name": "maria", "role": "manager"}));
    problem(&app.get_as("wrong", "/me"), 401);
}

#[test]
fn a_master_data_change_rechecks_held_orders_as_of_the_date_given() {
    let app = *HOST;
    customer(app, "C-ASOF", Some("10000.00"));
    // Due 2025-06-20: past due as of 2025-06-30, but not before 2025-06-25.
    invoice(app, "INV-ASOF", "C-ASOF", "2025-06-20", "1000.00");
    let body = json!({"id": "SO-ASOF", "customer_id": "C-ASOF", "amount": "20000.00", "currency": "USD", "ordered_on": "2025-06-24", "as_of": "2025-06-24"});
    let held = app.erp("POST", "/orders", &body).json();
    assert_eq!(codes(&held), ["CREDIT_LIMIT_EXCEEDED"]);
    let raised = json!({"name": "C-ASOF Ltd", "currency": "USD", "credit_limit": "30000.00", "payment_terms_days": 30});

    // As of 06-30 the invoice is more than 5 days past due: still held.
    let reply = app.erp("PUT", &format!("/customers/C-ASOF?as_of={AS_OF}"), &raised);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["released_orders"], json!([]));
    let recheck = get_json(app, "/orders/SO-ASOF")["decisions"][1].clone();
    assert_eq!(recheck["inputs"]["as_of"], AS_OF);
    assert_eq!(codes(&recheck), ["PAST_DUE"]);

    // As of 06-24 it is within grace: released.
    let reply = app.erp("PUT", "/customers/C-ASOF?as_of=2025-06-24", &raised);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["released_orders"], json!(["SO-ASOF"]));
    let recheck = get_json(app, "/orders/SO-ASOF")["decisions"][2].clone();
    assert_eq!(recheck["inputs"]["as_of"], "2025-06-24");
    assert_eq!(recheck["status"], "released");

    let bad = app.erp("PUT", "/customers/C-ASOF?as_of=2025-02-30", &raised);
    assert_eq!(problem_fields(&bad), ["as_of"]);
}

#[test]
fn a_customers_invoices_oldest_due_first_with_days_past_due() {
    let app = *HOST;
    customer(app, "C-LATE", Some("10000.00"));
    customer(app, "C-LATE2", Some("10000.00"));
    invoice(app, "INV-LATE-A", "C-LATE", "2025-06-10", "500.00");
    invoice(app, "INV-LATE-B", "C-LATE", "2025-07-15", "300.00");
    invoice(app, "INV-LATE-C", "C-LATE", "2025-05-20", "200.00");
    invoice(app, "INV-LATE-D", "C-LATE", "2025-06-01", "50.00");
    invoice(app, "INV-LATE-OTHER", "C-LATE2", "2025-06-01", "70.00");
    // Oldest due first: settles INV-LATE-C and nothing else.
    let paid = pay(app, &payment_body("PAY-LATE", "C-LATE", "200.00"));
    assert_eq!(paid["allocations"][0]["invoice_id"], "INV-LATE-C");
    open_dispute(app, "INV-LATE-A", "100.00");
    // INV-LATE-D is credited in full through a dispute.
    let credited = open_dispute(app, "INV-LATE-D", "50.00");
    let one = format!("/disputes/{}", credited["id"].as_str().unwrap());
    for body in [
        json!({"status": "in_review"}),
        json!({"status": "resolved_credit", "credit_amount": "50.00", "as_of": AS_OF}),
    ] {
        let reply = as_associate(app, "PATCH", &one, &body);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    let listed = |path: &str| -> Vec<(String, String, String, i64)> {
        get_json(app, path)
            .as_array()
            .expect("a list")
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_string(),
                    i["open_balance"].as_str().unwrap().to_string(),
                    i["disputed"].as_str().unwrap().to_string(),
                    i["days_past_due"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let row = |id: &str, open: &str, disputed: &str, dpd: i64| {
        (id.to_string(), open.to_string(), disputed.to_string(), dpd)
    };
    let open = listed(&format!("/customers/C-LATE/invoices?as_of={AS_OF}"));
    assert_eq!(
        open,
        [
            row("INV-LATE-A", "500.00", "100.00", 20),
            row("INV-LATE-B", "300.00", "0.00", -15),
        ]
    );
    assert_eq!(
        listed(&format!(
            "/customers/C-LATE/invoices?status=open&as_of={AS_OF}"
        )),
        open
    );
    let all = listed(&format!(
        "/customers/C-LATE/invoices?status=all&as_of={AS_OF}"
    ));
    // Settled ones too (the order and figures are the ledger's to test).
    let ids: Vec<&str> = all.iter().map(|(id, ..)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["INV-LATE-C", "INV-LATE-D", "INV-LATE-A", "INV-LATE-B"]
    );
    let invoices = get_json(
        app,
        "/customers/C-LATE/invoices?status=all&as_of=2025-07-01",
    );
    assert_eq!(invoices[0]["paid"], "200.00");
    assert_eq!(invoices[1]["credited"], "50.00");
    assert_eq!(invoices[3]["days_past_due"], -14);
}

#[test]
fn a_customers_invoice_list_refuses_what_it_cannot_answer() {
    let app = *HOST;
    customer(app, "C-LIST", Some("100.00"));
    let missing = problem(&app.get_as(MANAGER, "/customers/NOPE/invoices"), 404);
    assert!(missing["detail"].as_str().unwrap().contains("NOPE"));
    let bad = app.get_as(
        MANAGER,
        "/customers/C-LIST/invoices?status=paid&as_of=2025-02-30",
    );
    assert_eq!(problem_fields(&bad), ["status"]);
    let bad_date = app.get_as(MANAGER, "/customers/C-LIST/invoices?as_of=2025-02-30");
    assert_eq!(problem_fields(&bad_date), ["as_of"]);
    problem(&app.get("/customers/C-LIST/invoices"), 401);
    let post = app.json_as(MANAGER, "POST", "/customers/C-LIST/invoices", &json!({}));
    problem(&post, 405);
    assert_eq!(post.header("allow"), Some("GET"));
    assert_eq!(get_json(app, "/customers/C-LIST/invoices"), json!([]));
}
