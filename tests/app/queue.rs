//! The held queue over HTTP: a page with the totals of everything that
//! matches, the filters and sorts as query parameters, the cursor, and the
//! ERP's requested ship date. (The rules are the ledger's: see its queue
//! tests.)

use crate::common::*;
use e2e::{ASSOCIATE, App};
use serde_json::{Value, json};

fn queue(app: &App, query: &str) -> Value {
    let reply = app.get_as(ASSOCIATE, &format!("/orders/queue{query}"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn ids(page: &Value) -> Vec<&str> {
    page["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect()
}

#[test]
fn a_page_carries_the_totals_of_every_match_and_pages_by_cursor() {
    let app = App::start();
    customer(&app, "C-1", Some("100.00"));
    for (id, amount, ship) in [
        ("SO-1", "500.00", "2025-06-30"),
        ("SO-2", "700.00", "2025-07-20"),
        ("SO-3", "300.00", "2025-06-20"),
    ] {
        let body = json!({"id": id, "customer_id": "C-1", "amount": amount, "currency": "USD",
            "ordered_on": AS_OF, "requested_ship_on": ship, "as_of": AS_OF});
        assert_eq!(app.erp("POST", "/orders", &body).json()["status"], "held");
    }
    let first = queue(&app, "?limit=2&sort=amount&as_of=2025-06-30");
    assert_eq!(ids(&first), ["SO-2", "SO-1"]);
    assert_eq!(first["total_orders"], 3);
    assert_eq!(
        first["totals"],
        json!([{"currency": "USD", "orders": 3, "amount": "1500.00"}])
    );
    assert_eq!(
        first["orders"][1]["misses_ship_date"], true,
        "held on its ship date"
    );
    assert_eq!(first["orders"][0]["days_to_ship"], 20);
    let after = first["next"].as_str().unwrap();
    let second = queue(&app, &format!("?limit=2&sort=amount&after={after}"));
    assert_eq!(ids(&second), ["SO-3"]);
    assert_eq!(second["next"], Value::Null);
    let filtered = queue(
        &app,
        "?currency=USD&min_amount=400.00&max_amount=600.00&reason=CREDIT_LIMIT_EXCEEDED",
    );
    assert_eq!(ids(&filtered), ["SO-1"]);
    assert_eq!(
        problem_fields(&app.get_as(ASSOCIATE, "/orders/queue?max_amount=5")),
        ["max_amount"]
    );
    assert_eq!(
        problem_fields(&app.get_as(ASSOCIATE, "/orders/queue?sort=size&reason=LATE")),
        ["reason", "sort"]
    );
    problem(&app.get("/orders/queue"), 401);
}
