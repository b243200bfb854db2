//! Customer communications over HTTP: a generated book run through a
//! quarter of weekly dunning runs, letters downloaded exactly as issued,
//! who may run dunning, templates checked on save, statements whose
//! closing balance is what the customer owes, and the routes Spin gives
//! `/customers/:id/...` next to the accounts component's wildcard.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use e2e::{ASSOCIATE, App, INTEGRATION, MANAGER};
use serde_json::{Value, json};

use crate::common::*;

fn day(text: &str) -> NaiveDate {
    text.parse().expect("YYYY-MM-DD")
}

fn money(value: &Value) -> f64 {
    value
        .as_str()
        .expect("an amount")
        .parse()
        .expect("a decimal")
}

/// What a customer of the generated book does besides owing.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Behaviour {
    /// Nothing: dunned through every level.
    Silent,
    /// Disputes its first invoice in full ten days after it falls due.
    DisputesInFull,
    /// Disputes 30% of its second invoice three days after it falls due.
    DisputesInPart,
    /// Promises on 5 May to pay everything by 20 May, and does.
    KeepsPromise,
    /// Promises the same and does not pay.
    BreaksPromise,
}

const BEHAVIOURS: [Behaviour; 5] = [
    Behaviour::Silent,
    Behaviour::DisputesInFull,
    Behaviour::DisputesInPart,
    Behaviour::KeepsPromise,
    Behaviour::BreaksPromise,
];

const PROMISED_ON: &str = "2025-05-05";
const PROMISED_BY: &str = "2025-05-20";

/// Something that happens to the book on a day.
#[derive(Clone, Debug)]
enum Happening {
    Dispute { invoice: String, amount: String },
    Promise { customer: String, amount: String },
    Payment { customer: String, amount: String },
}

/// The book: 15 customers with three invoices each, due from mid-March to
/// early June; what they do, by date.
struct Book {
    invoices: BTreeMap<String, (String, NaiveDate, u64)>,
    behaviour: BTreeMap<String, Behaviour>,
    happenings: Vec<(NaiveDate, Happening)>,
}

fn cents(amount: u64) -> String {
    format!("{}.{:02}", amount / 100, amount % 100)
}

fn generate(app: &App) -> Book {
    let mut book = Book {
        invoices: BTreeMap::new(),
        behaviour: BTreeMap::new(),
        happenings: vec![],
    };
    for n in 0..15u64 {
        let id = format!("D-{n:02}");
        customer(app, &id, None);
        let behaviour = BEHAVIOURS[n as usize % BEHAVIOURS.len()];
        book.behaviour.insert(id.clone(), behaviour);
        let mut total = 0;
        for k in 0..3u64 {
            let due = day("2025-03-15") + Days::new((n * 5 + k * 23) % 80);
            let amount = 50_000 + (n * 13_711 + k * 7_103) % 400_000;
            let invoice_id = format!("{id}-{k}");
            invoice(app, &invoice_id, &id, &due.to_string(), &cents(amount));
            book.invoices.insert(invoice_id, (id.clone(), due, amount));
            total += amount;
        }
        let first = |k: u64| book.invoices[&format!("{id}-{k}")].clone();
        match behaviour {
            Behaviour::Silent => {}
            Behaviour::DisputesInFull => {
                let (_, due, amount) = first(0);
                let dispute = Happening::Dispute {
                    invoice: format!("{id}-0"),
                    amount: cents(amount),
                };
                book.happenings.push((due + Days::new(10), dispute));
            }
            Behaviour::DisputesInPart => {
                let (_, due, amount) = first(1);
                let dispute = Happening::Dispute {
                    invoice: format!("{id}-1"),
                    amount: cents(amount * 3 / 10),
                };
                book.happenings.push((due + Days::new(3), dispute));
            }
            Behaviour::KeepsPromise | Behaviour::BreaksPromise => {
                let promise = Happening::Promise {
                    customer: id.clone(),
                    amount: cents(total),
                };
                book.happenings.push((day(PROMISED_ON), promise));
                if behaviour == Behaviour::KeepsPromise {
                    let payment = Happening::Payment {
                        customer: id.clone(),
                        amount: cents(total),
                    };
                    book.happenings.push((day(PROMISED_BY), payment));
                }
            }
        }
    }
    book.happenings.sort_by_key(|(on, _)| *on);
    book
}

fn happen(app: &App, on: NaiveDate, happening: &Happening) {
    let on = on.to_string();
    match happening {
        Happening::Dispute { invoice, amount } => {
            let reply = as_associate(
                app,
                "POST",
                "/disputes",
                &json!({"invoice_id": invoice, "amount": amount, "reason_code": "PRICING", "note": "price", "as_of": on}),
            );
            assert_eq!(reply.status, 201, "{}", reply.text());
        }
        Happening::Promise { customer, amount } => {
            let reply = as_associate(
                app,
                "POST",
                &format!("/customers/{customer}/contacts?as_of={on}"),
                &json!({"channel": "call", "outcome": "promised", "note": "will pay everything",
                        "contacted_on": on, "promise": {"amount": amount, "due_on": PROMISED_BY}}),
            );
            assert_eq!(reply.status, 201, "{}", reply.text());
        }
        Happening::Payment { customer, amount } => {
            let mut body = payment_body(&format!("PAY-{customer}"), customer, amount);
            body["received_on"] = json!(on);
            body["as_of"] = json!(on);
            pay(app, &body);
        }
    }
}

/// Assigns the customer's account to a person (a manager's call).
fn assign(app: &App, id: &str, person: &str) {
    let path = format!("/customers/{id}/assignee");
    let reply = as_manager(app, "PUT", &path, &json!({ "assignee": person }));
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// A letter as the run answered it, with its date.
struct Issued {
    on: NaiveDate,
    letter: Value,
}

#[test]
fn a_quarter_of_weekly_runs_issues_each_level_once_in_order_never_for_disputed_or_promised_amounts()
{
    let app = App::start();
    let book = generate(&app);
    let mut letters: Vec<Issued> = vec![];
    let mut pending = book.happenings.iter().peekable();
    let mut run_on = day("2025-04-07");
    while run_on <= day("2025-06-30") {
        while let Some((on, happening)) = pending.next_if(|(on, _)| *on <= run_on) {
            happen(&app, *on, happening);
        }
        let reply = as_manager(
            &app,
            "POST",
            "/dunning-runs",
            &json!({"as_of": run_on.to_string()}),
        );
        assert_eq!(reply.status, 201, "{}", reply.text());
        let run = reply.json();
        assert_eq!(run["letters_left"], 0);
        for letter in run["letters"].as_array().unwrap() {
            letters.push(Issued {
                on: run_on,
                letter: letter.clone(),
            });
        }
        run_on = run_on + Days::new(7);
    }
    assert!(letters.len() >= 20, "{} letters", letters.len());

    // Every invoice climbs the levels one at a time, in order, once each.
    let mut levels: BTreeMap<String, Vec<(u64, NaiveDate)>> = BTreeMap::new();
    for issued in &letters {
        for line in issued.letter["invoices"].as_array().unwrap() {
            let invoice = line["invoice_id"].as_str().unwrap().to_string();
            levels
                .entry(invoice)
                .or_default()
                .push((line["level"].as_u64().unwrap(), issued.on));
        }
    }
    for (invoice, given) in &levels {
        let numbers: Vec<u64> = given.iter().map(|(level, _)| *level).collect();
        let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
        assert_eq!(numbers, expected, "{invoice}: {given:?}");
    }
    let silent_done = levels
        .iter()
        .filter(|(invoice, given)| {
            let customer = &book.invoices[*invoice].0;
            book.behaviour[customer] == Behaviour::Silent && given.len() == 3
        })
        .count();
    assert!(
        silent_done >= 6,
        "silent customers' invoices reach the final notice: {silent_done}"
    );

    for issued in &letters {
        let customer = issued.letter["customer_id"].as_str().unwrap();
        let behaviour = book.behaviour[customer];
        for line in issued.letter["invoices"].as_array().unwrap() {
            let invoice = line["invoice_id"].as_str().unwrap();
            let (_, due, amount) = book.invoices[invoice];
            assert!(issued.on > due, "{invoice} dunned before it was overdue");
            let asked = (money(&line["amount"]) * 100.0).round() as u64;
            match behaviour {
                Behaviour::DisputesInFull if invoice.ends_with("-0") => {
                    assert!(
                        issued.on < due + Days::new(10),
                        "{invoice} dunned while disputed in full"
                    );
                }
                Behaviour::DisputesInPart
                    if invoice.ends_with("-1") && issued.on >= due + Days::new(3) =>
                {
                    assert_eq!(
                        asked,
                        amount - amount * 3 / 10,
                        "{invoice}: the disputed part is left out"
                    );
                }
                _ => assert_eq!(asked, amount, "{invoice}"),
            }
        }
        if matches!(
            behaviour,
            Behaviour::KeepsPromise | Behaviour::BreaksPromise
        ) {
            let promised = day(PROMISED_ON)..=day(PROMISED_BY);
            assert!(
                !promised.contains(&issued.on),
                "{customer} dunned on {} while its promise stood",
                issued.on
            );
        }
        if behaviour == Behaviour::KeepsPromise {
            assert!(issued.on < day(PROMISED_ON), "{customer} paid everything");
        }
    }
    let broken_after = letters.iter().any(|issued| {
        book.behaviour[issued.letter["customer_id"].as_str().unwrap()] == Behaviour::BreaksPromise
            && issued.on > day(PROMISED_BY)
    });
    assert!(broken_after, "letters resume once a promise is broken");

    // The same run again issues nothing: each level went once.
    let again = as_manager(
        &app,
        "POST",
        "/dunning-runs",
        &json!({"as_of": "2025-06-30"}),
    );
    assert_eq!(again.json()["letters"], json!([]));
}

#[test]
fn a_letter_downloads_exactly_as_issued_and_reaches_the_feed() {
    let app = App::start();
    customer(&app, "C-1", None);
    assign(&app, "C-1", "alice");
    invoice(&app, "INV-1", "C-1", "2025-06-01", "1250.00");
    let reply = as_associate(
        &app,
        "POST",
        "/dunning-runs",
        &json!({"as_of": AS_OF, "customer_ids": ["C-1"]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("location"), Some("/dunning-runs/DR-1"));
    let letter = &reply.json()["letters"][0];
    assert_eq!(letter["letter_id"], "DL-1");
    assert_eq!(letter["level_name"], "Reminder");

    let auth = format!("Bearer {ASSOCIATE}");
    let html = app.send(
        "GET",
        "/customers/C-1/dunning/letters/DL-1",
        &[("authorization", &auth), ("accept", "text/html")],
        b"",
    );
    assert_eq!(html.status, 200);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(html.text().contains("@page { size: A4;"), "{}", html.text());
    let text = app.send(
        "GET",
        "/customers/C-1/dunning/letters/DL-1",
        &[("authorization", &auth), ("accept", "text/plain")],
        b"",
    );
    assert!(
        text.text()
            .contains("please pay 1,250.00 USD by 14 July 2025"),
        "{}",
        text.text()
    );

    // The policy's letter changes; the issued one does not.
    let mut policy = get_json(&app, "/policy");
    policy["dunning"]["levels"][0]["template"] = json!("Pay now, {{customer_name}}.");
    policy["dunning"]["paper"] = json!("letter");
    assert_eq!(as_manager(&app, "PUT", "/policy", &policy).status, 200);
    let again = app.send(
        "GET",
        "/customers/C-1/dunning/letters/DL-1",
        &[("authorization", &auth), ("accept", "text/html")],
        b"",
    );
    assert_eq!(again.body, html.body, "byte for byte as issued");

    let feed = app.get_as(INTEGRATION, "/events?type=dunning.letter_issued");
    let event = &feed.json()["events"][0];
    assert_eq!(event["subject"], "C-1");
    assert_eq!(
        event["data"]["html"].as_str().unwrap().as_bytes(),
        html.body.as_slice()
    );
    assert_eq!(event["data"]["text"].as_str().unwrap(), text.text());

    let contacts = get_json(&app, "/customers/C-1/contacts");
    assert_eq!(contacts[0]["channel"], "letter");
    let history = get_json(&app, &format!("/customers/C-1/dunning?as_of={AS_OF}"));
    assert_eq!(history["letters"][0]["letter_id"], "DL-1");
    assert_eq!(history["due"]["reason"], "waiting");
    assert_eq!(
        history["due"]["next_on"], "2025-07-14",
        "the second notice 14 days after the reminder"
    );
    let run = get_json(&app, "/dunning-runs/DR-1");
    assert_eq!(run["letters"][0]["letter_id"], "DL-1");
    let missing = app.get_as(ASSOCIATE, "/customers/C-1/dunning/letters/DL-9");
    problem(&missing, 404);
}

#[test]
fn an_associate_duns_their_own_accounts_a_manager_anyones() {
    let app = App::start();
    for (id, person) in [("C-1", Some("alice")), ("C-2", Some("bob")), ("C-3", None)] {
        customer(&app, id, None);
        if let Some(person) = person {
            assign(&app, id, person);
        }
        invoice(&app, &format!("INV-{id}"), id, "2025-06-01", "100.00");
    }
    let customers = |report: &Value| -> Vec<String> {
        report["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line["customer_id"].as_str().unwrap().to_string())
            .collect()
    };
    let mine = get_json(&app, &format!("/reports/dunning?as_of={AS_OF}"));
    assert_eq!(
        customers(&mine),
        ["C-1"],
        "an associate's proposal is their accounts"
    );
    let theirs = app.get_as(
        ASSOCIATE,
        &format!("/reports/dunning?as_of={AS_OF}&assignee=bob"),
    );
    problem(&theirs, 403);
    let nobodys = app.get_as(
        MANAGER,
        &format!("/reports/dunning?as_of={AS_OF}&assignee=unassigned"),
    );
    assert_eq!(customers(&nobodys.json()), ["C-3"]);
    let everyone = app.get_as(MANAGER, &format!("/reports/dunning?as_of={AS_OF}"));
    assert_eq!(customers(&everyone.json()), ["C-1", "C-2", "C-3"]);

    let other = as_associate(
        &app,
        "POST",
        "/dunning-runs",
        &json!({"as_of": AS_OF, "customer_ids": ["C-1", "C-2"]}),
    );
    assert!(
        problem(&other, 403)["detail"]
            .as_str()
            .unwrap()
            .contains("C-2"),
        "{}",
        other.text()
    );
    let unknown = as_associate(
        &app,
        "POST",
        "/dunning-runs",
        &json!({"as_of": AS_OF, "customer_ids": ["C-1", "C-404"]}),
    );
    assert_eq!(problem_fields(&unknown), ["customer_ids[1]"]);
    let bad = as_manager(
        &app,
        "POST",
        "/dunning-runs",
        &json!({"customer_ids": [], "limit": 0}),
    );
    assert_eq!(problem_fields(&bad), ["customer_ids", "limit"]);

    let own = as_associate(&app, "POST", "/dunning-runs", &json!({"as_of": AS_OF}));
    assert_eq!(own.status, 201, "{}", own.text());
    assert_eq!(own.json()["letters"].as_array().unwrap().len(), 1);
    assert_eq!(own.json()["letters"][0]["customer_id"], "C-1");
    let run = get_json(
        &app,
        &format!("/dunning-runs/{}", own.json()["run_id"].as_str().unwrap()),
    );
    assert_eq!(run["assignee"], "alice");
    let bobs = as_manager(
        &app,
        "POST",
        "/dunning-runs",
        &json!({"as_of": AS_OF, "assignee": "bob"}),
    );
    assert_eq!(bobs.json()["letters"][0]["customer_id"], "C-2");
    let all = as_manager(&app, "POST", "/dunning-runs", &json!({"as_of": AS_OF}));
    assert_eq!(all.status, 201, "{}", all.text());
    assert_eq!(all.json()["letters"][0]["customer_id"], "C-3", "the rest");
    assert_eq!(all.json()["letters"].as_array().unwrap().len(), 1);
}

#[test]
fn templates_are_checked_on_save_and_previewed_live() {
    let app = App::start();
    let mut policy = get_json(&app, "/policy");
    assert_eq!(policy["dunning"]["levels"][1]["days_past_due"], 15);
    policy["dunning"]["levels"][2]["template"] =
        json!("Dear {{customer_name}}, pay {{amount_owed}}.");
    let refused = as_manager(&app, "PUT", "/policy", &policy);
    let document = problem(&refused, 422);
    assert_eq!(document["errors"][0]["field"], "dunning.levels[2].template");
    assert!(
        document["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("{{amount_owed}}"),
        "{document}"
    );

    let level = json!({"name": "Reminder", "days_past_due": 1, "subject": "{{level}} {{reference}}",
                       "template": "Dear {{customer_name}},\n\n{{items}}\n\n{{totals}}"});
    let preview = as_manager(
        &app,
        "POST",
        "/dunning-letters/preview",
        &json!({"level": level, "paper": "letter"}),
    );
    assert_eq!(preview.status, 200, "{}", preview.text());
    let preview = preview.json();
    assert_eq!(preview["subject"], "Reminder DL-0");
    assert!(
        preview["html"]
            .as_str()
            .unwrap()
            .contains("@page { size: letter;")
    );
    assert!(
        preview["text"]
            .as_str()
            .unwrap()
            .contains("Example Customer Ltd")
    );
    let mut wrong = level.clone();
    wrong["template"] = json!("See {{items}} below");
    let refused = as_manager(
        &app,
        "POST",
        "/dunning-letters/preview",
        &json!({"level": wrong}),
    );
    assert_eq!(problem_fields(&refused), ["level.template"]);
    let associate = as_associate(
        &app,
        "POST",
        "/dunning-letters/preview",
        &json!({"level": level}),
    );
    problem(&associate, 403);
}

#[test]
fn a_statement_closes_at_what_the_customer_owes_in_json_csv_and_print() {
    let app = App::start();
    customer(&app, "C-1", None);
    invoice(&app, "INV-1", "C-1", "2025-05-10", "1000.00");
    invoice(&app, "INV-2", "C-1", "2025-06-20", "500.00");
    let mut body = payment_body("PAY-1", "C-1", "1200.00");
    body["received_on"] = json!("2025-06-15");
    pay(&app, &body);
    let statement = get_json(
        &app,
        "/customers/C-1/statement?from=2025-06-01&to=2025-06-30",
    );
    assert_eq!(
        statement["opening_balance"], "1500.00",
        "both invoices were issued before June"
    );
    let kinds: Vec<&str> = statement["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["payment", "allocation", "allocation"],
        "applied to both, oldest first"
    );
    let now = position(&app, "C-1");
    let owed = money(&now["open_balance"]) - money(&now["unapplied_cash"]);
    assert_eq!(money(&statement["closing_balance"]), owed);
    assert_eq!(statement["closing_balance"], "300.00");
    assert_eq!(statement["unapplied_cash"], "0.00");

    let auth = format!("Bearer {ASSOCIATE}");
    let path = "/customers/C-1/statement?from=2025-05-01&to=2025-06-30";
    let csv = app.send(
        "GET",
        path,
        &[("authorization", &auth), ("accept", "text/csv")],
        b"",
    );
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].starts_with("2025-05-01,opening_balance,"),
        "{text}"
    );
    assert!(lines.last().unwrap().ends_with(",300.00"), "{text}");
    let html = app.send(
        "GET",
        &format!("{path}&paper=letter"),
        &[("authorization", &auth), ("accept", "text/html")],
        b"",
    );
    assert!(html.text().contains("@page { size: letter;"));
    assert!(html.text().contains("C-1 Ltd (C-1)"));
    let bad = app.get_as(
        ASSOCIATE,
        "/customers/C-1/statement?from=2025-06-30&to=2025-06-01",
    );
    assert_eq!(problem_fields(&bad), ["to"]);

    let issued = as_associate(
        &app,
        "POST",
        "/customers/C-1/statement",
        &json!({"from": "2025-06-01", "to": "2025-06-30"}),
    );
    assert_eq!(issued.status, 201, "{}", issued.text());
    let feed = app.get_as(MANAGER, "/events?type=statement.issued").json();
    assert!(
        feed["events"][0]["data"]["html"]
            .as_str()
            .unwrap()
            .contains("Statement of account")
    );
}

#[test]
fn spin_routes_a_customers_statement_and_dunning_here_and_the_rest_to_accounts() {
    let app = App::start();
    customer(&app, "C-1", None);
    let account = get_json(&app, "/customers/C-1");
    assert!(
        account.get("exposure").is_some(),
        "accounts answers /customers/{{id}}"
    );
    assert!(get_json(&app, "/customers/C-1/contacts").is_array());
    let dunning = get_json(&app, "/customers/C-1/dunning");
    assert_eq!(dunning["due"]["reason"], "nothing_overdue");
    let report = get_json(&app, "/reports/dunning");
    assert_eq!(report["letters_due"], 0);
    assert!(
        get_json(&app, "/reports/aging").get("totals").is_some(),
        "the report component keeps the rest of /reports"
    );
    let encoded = app.get_as(
        ASSOCIATE,
        "/customers/C%2D1/statement?from=2025-06-01&to=2025-06-30",
    );
    assert_eq!(encoded.status, 200, "{}", encoded.text());
}

/// A directive of a content-security-policy, as written.
fn directive<'a>(policy: &'a str, name: &str) -> Option<&'a str> {
    policy
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).map(str::trim))
}

#[test]
fn the_print_page_lets_a_documents_print_css_apply_and_runs_only_its_own_script() {
    let app = App::start();
    let print = app.get("/print.html");
    assert_eq!(print.status, 200, "{}", print.text());
    let policy = print.header("content-security-policy").expect("a CSP");
    assert_eq!(
        directive(policy, "style-src"),
        Some("'unsafe-inline'"),
        "{policy}"
    );
    assert_eq!(directive(policy, "script-src"), Some("'self'"), "{policy}");
    let text = print.text();
    let script = text
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's script");
    assert_eq!(app.get(&format!("/{script}")).status, 200);
    // The workspace itself keeps its styles to its own files.
    let page = app.get("/");
    let policy = page.header("content-security-policy").expect("a CSP");
    assert_eq!(directive(policy, "style-src"), Some("'self'"), "{policy}");
}
