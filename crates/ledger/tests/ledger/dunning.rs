//! Dunning and statements of account as stored: runs that issue each level
//! once and in order, letters kept exactly as issued with their contact and
//! event, disputes and promises held back; statements whose closing
//! balance is what the customer owes, on generated books.

use crate::support::*;
use chrono::{Days, NaiveDate};
use credit_core::collections::Channel;
use credit_core::dispute::DisputeStatus;
use credit_core::dunning::NoLetter;
use ledger::contacts::{self, NewContact, PromiseToPay};
use ledger::disputes::DisputeUpdate;
use ledger::dunning::{self, Scope};
use ledger::workflows::dunning::{RunRequest, RunResult};
use ledger::{LedgerError, events, reports, statements, workflows};
use rust_decimal::Decimal;

fn run_on(books: &Books, as_of: &str, scope: Scope) -> RunResult {
    let request = RunRequest {
        as_of: date(as_of),
        scope,
        limit: 1000,
    };
    block_on(workflows::dunning::run(
        &books.db,
        &books.policy.dunning,
        &request,
        &stamp("maria"),
    ))
    .unwrap()
}

fn run(books: &Books, as_of: &str) -> RunResult {
    run_on(books, as_of, Scope::All)
}

/// A letter as the tests compare it: customer, level, (invoice, level)s.
type Issued = (String, u32, Vec<(String, u32)>);

/// The letters a run issued.
fn issued(result: &RunResult) -> Vec<Issued> {
    result
        .letters
        .iter()
        .map(|l| {
            let invoices = l
                .invoices
                .iter()
                .map(|i| (i.invoice_id.clone(), i.level))
                .collect();
            (l.customer_id.clone(), l.level, invoices)
        })
        .collect()
}

fn one(customer: &str, level: u32, invoices: &[(&str, u32)]) -> Vec<Issued> {
    vec![(
        customer.to_string(),
        level,
        invoices.iter().map(|(i, l)| (i.to_string(), *l)).collect(),
    )]
}

#[test]
fn each_level_is_issued_once_in_order_and_the_next_waits_its_turn() {
    let books = Books::new();
    books.customer("C-1", None);
    books.invoice("INV-1", "C-1", "2025-06-01", "1000.00");
    assert_eq!(
        issued(&run(&books, "2025-06-01")),
        vec![],
        "due today is not overdue"
    );
    assert_eq!(
        issued(&run(&books, "2025-06-02")),
        one("C-1", 1, &[("INV-1", 1)])
    );
    assert_eq!(
        issued(&run(&books, "2025-06-02")),
        vec![],
        "the same run again issues nothing"
    );
    assert_eq!(issued(&run(&books, "2025-06-15")), vec![]);
    assert_eq!(
        issued(&run(&books, "2025-06-16")),
        one("C-1", 2, &[("INV-1", 2)])
    );
    assert_eq!(
        issued(&run(&books, "2025-06-29")),
        vec![],
        "waits 14 days after the second notice"
    );
    assert_eq!(
        issued(&run(&books, "2025-06-30")),
        vec![],
        "the wait is over, but the invoice is 29 days past due"
    );
    assert_eq!(
        issued(&run(&books, "2025-07-01")),
        one("C-1", 3, &[("INV-1", 3)])
    );
    assert_eq!(issued(&run(&books, "2025-09-30")), vec![]);
    let history = block_on(workflows::dunning::customer(
        &books.db,
        &books.policy.dunning,
        "C-1",
        date("2025-09-30"),
    ))
    .unwrap();
    let levels: Vec<(u32, String)> = history
        .letters
        .iter()
        .map(|l| (l.level, l.issued_on.to_string()))
        .collect();
    assert_eq!(
        levels,
        [
            (3, "2025-07-01".into()),
            (2, "2025-06-16".into()),
            (1, "2025-06-02".into())
        ]
    );
    assert_eq!(history.due.reason, Some(NoLetter::AllLevelsIssued));
}

#[test]
fn a_letter_is_kept_as_issued_with_its_contact_and_its_event() {
    let books = Books::new();
    books.customer("C-1", None);
    books.sql(
        "UPDATE customers SET name = '<b>Acme</b> & Co' WHERE id = 'C-1'",
        vec![],
    );
    books.invoice("INV-1", "C-1", "2025-06-01", "1000.00");
    books.invoice("INV-2", "C-1", "2025-06-10", "250.50");
    let result = run(&books, "2025-06-30");
    let letter = &result.letters[0];
    assert_eq!(letter.letter_id, "DL-1");
    assert_eq!(
        letter.pay_by,
        date("2025-07-14"),
        "the reminder asks for payment within 14 days"
    );
    assert_eq!(letter.totals[0].amount.to_string(), "1250.50");
    let document = block_on(dunning::letter(&books.db, "C-1", "DL-1")).unwrap();
    assert!(
        document.text.contains("Dear <b>Acme</b> & Co,"),
        "{}",
        document.text
    );
    assert!(document.text.contains("Reference: DL-1"));
    assert!(
        document
            .text
            .contains("please pay 1,250.50 USD by 14 July 2025"),
        "{}",
        document.text
    );
    assert!(
        document
            .html
            .contains("Dear &lt;b&gt;Acme&lt;&#x2F;b&gt; &amp; Co,"),
        "{}",
        document.html
    );
    assert!(document.html.contains("<td>INV-2</td>"));

    // The policy changes; the letter stays as it was issued.
    let mut books = books;
    books.policy.dunning.levels[0].template = "Pay up, {{customer_name}}.".into();
    let again = block_on(dunning::letter(&books.db, "C-1", "DL-1")).unwrap();
    assert_eq!(again.text, document.text);
    assert_eq!(again.html, document.html);

    let log = block_on(contacts::list(&books.db, "C-1", date(AS_OF))).unwrap();
    assert_eq!(log[0].channel, Channel::Letter);
    assert_eq!(log[0].outcome, "Reminder");
    assert!(
        log[0].note.contains("DL-1") && log[0].note.contains("INV-1, INV-2"),
        "{}",
        log[0].note
    );
    assert_eq!(log[0].id, letter.contact_id);

    let page = block_on(events::feed(
        &books.db,
        events::Cursor(0),
        100,
        Some(credit_core::events::EventType::DunningLetterIssued),
    ))
    .unwrap();
    assert_eq!(page.events.len(), 1);
    let data = &page.events[0].data;
    assert_eq!(data["letter_id"], "DL-1");
    assert_eq!(data["text"], document.text.as_str());
    assert_eq!(data["html"], document.html.as_str());
    assert_eq!(page.events[0].subject, "C-1");
    let missing = block_on(dunning::letter(&books.db, "C-2", "DL-1")).unwrap_err();
    assert!(matches!(missing, LedgerError::NotFound { .. }));
}

#[test]
fn disputed_amounts_are_left_out_and_fully_disputed_invoices_never_dunned() {
    let books = Books::new();
    books.customer("C-1", None);
    books.invoice("INV-1", "C-1", "2025-06-01", "1000.00");
    books.invoice("INV-2", "C-1", "2025-06-01", "500.00");
    books.dispute("INV-1", "1000.00").unwrap();
    books.dispute("INV-2", "120.00").unwrap();
    let result = run(&books, "2025-06-30");
    assert_eq!(issued(&result), one("C-1", 1, &[("INV-2", 1)]));
    assert_eq!(result.letters[0].invoices[0].amount.to_string(), "380.00");
}

#[test]
fn an_unbroken_promise_holds_letters_back_until_it_breaks() {
    let books = Books::new();
    books.customer("C-1", None);
    books.invoice("INV-1", "C-1", "2025-06-01", "1000.00");
    let contact = NewContact {
        channel: Channel::Call,
        outcome: "promised".into(),
        note: "will pay on the 10th".into(),
        contacted_on: date("2025-06-28"),
        promise: Some(PromiseToPay {
            amount: amount("1000.00"),
            due_on: date("2025-07-10"),
        }),
    };
    block_on(contacts::add(
        &books.db,
        "C-1",
        &contact,
        date("2025-06-28"),
        &stamp("alice"),
    ))
    .unwrap();
    let held = run_on(&books, "2025-07-10", Scope::Only(vec!["C-1".into()]));
    assert_eq!(issued(&held), vec![]);
    assert_eq!(held.not_issued[0].reason, NoLetter::PromiseToPay);
    // Broken the day after its date: the letter goes.
    assert_eq!(
        issued(&run(&books, "2025-07-11")),
        one("C-1", 1, &[("INV-1", 1)])
    );
}

#[test]
fn exempt_customers_are_never_dunned_and_unknown_ones_are_named() {
    let books = Books::new();
    books.customer("C-1", None);
    books.customer("C-2", None);
    books.sql(
        "UPDATE customers SET dunning_exempt = 1 WHERE id = 'C-1'",
        vec![],
    );
    books.invoice("INV-1", "C-1", "2025-05-01", "1000.00");
    books.invoice("INV-2", "C-2", "2025-05-01", "1000.00");
    let result = run(&books, "2025-06-30");
    assert_eq!(issued(&result), one("C-2", 1, &[("INV-2", 1)]));
    let proposal = block_on(dunning::proposal(
        &books.db,
        &books.policy.dunning,
        &Scope::All,
        date("2025-07-30"),
    ))
    .unwrap();
    let reasons: Vec<(&str, Option<NoLetter>)> = proposal
        .customers
        .iter()
        .map(|c| (c.customer_id.as_str(), c.reason))
        .collect();
    assert_eq!(reasons, [("C-1", Some(NoLetter::Exempt)), ("C-2", None)]);
    assert_eq!(proposal.letters_due, 1);

    let request = RunRequest {
        as_of: date("2025-07-30"),
        scope: Scope::Only(vec!["C-2".into(), "C-404".into()]),
        limit: 10,
    };
    let error = block_on(workflows::dunning::run(
        &books.db,
        &books.policy.dunning,
        &request,
        &stamp("maria"),
    ))
    .unwrap_err();
    assert!(
        matches!(&error, LedgerError::Invalid(e) if e[0].field == "customer_ids[1]" && e[0].message.contains("C-404")),
        "{error}"
    );
}

#[test]
fn a_run_stops_at_its_limit_and_the_next_run_issues_the_rest() {
    let books = Books::new();
    for n in 1..=5 {
        let id = format!("C-{n}");
        books.customer(&id, None);
        books.invoice(&format!("INV-{n}"), &id, "2025-06-01", "100.00");
    }
    let request = RunRequest {
        as_of: date(AS_OF),
        scope: Scope::All,
        limit: 3,
    };
    let first = block_on(workflows::dunning::run(
        &books.db,
        &books.policy.dunning,
        &request,
        &stamp("maria"),
    ))
    .unwrap();
    assert_eq!(first.letters.len(), 3);
    assert_eq!(first.letters_left, 2);
    let second = block_on(workflows::dunning::run(
        &books.db,
        &books.policy.dunning,
        &request,
        &stamp("maria"),
    ))
    .unwrap();
    let customers: Vec<&str> = second
        .letters
        .iter()
        .map(|l| l.customer_id.as_str())
        .collect();
    assert_eq!(customers, ["C-4", "C-5"]);
    assert_eq!(second.letters_left, 0);
    let stored = block_on(dunning::run(&books.db, &first.run_id)).unwrap();
    assert_eq!(stored.letters.len(), 3);
    assert_eq!(stored.run_by, "maria");
}

#[test]
fn an_invoice_never_gets_the_same_level_twice_even_if_asked_to() {
    let books = Books::new();
    books.customer("C-1", None);
    books.invoice("INV-1", "C-1", "2025-06-01", "100.00");
    run(&books, AS_OF);
    let again = books.try_sql(
        "INSERT INTO dunning_letter_items (invoice_id, level, letter_id, issued_on, amount_minor, days_past_due) VALUES ('INV-1', 1, 1, '2025-06-30', 1, 1)",
    );
    assert!(again.is_err(), "the database refuses a second level 1");
}

/// A customer's half year: invoices, payments (some leaving cash
/// unapplied), disputes resolved with credits or withdrawn, in date order.
/// Gives what the test knows independently: unapplied cash per payment.
fn generate(books: &Books, customer: &str, seed: u64) -> Vec<(NaiveDate, Decimal)> {
    let mut dice = Dice(seed);
    let start = date("2025-01-01");
    let mut invoices: Vec<String> = vec![];
    let mut disputes: Vec<String> = vec![];
    let mut unapplied = vec![];
    for day in 0..181 {
        let on = start + Days::new(day);
        if dice.roll(3) == 0 {
            let id = format!("{customer}-INV-{day}");
            books.invoice_issued(
                &id,
                customer,
                &on.to_string(),
                &(on + Days::new(30)).to_string(),
                &dice.amount(50, 3000),
            );
            invoices.push(id);
        }
        if dice.roll(5) == 0 {
            let mut payment = books.payment(
                &format!("{customer}-PAY-{day}"),
                customer,
                &dice.amount(10, 4000),
            );
            payment.received_on = on;
            payment.as_of = on;
            let posted = books.post(&payment).unwrap();
            unapplied.push((on, posted.result.unapplied));
        }
        if dice.roll(12) == 0 && !invoices.is_empty() {
            let invoice = &invoices[dice.roll(invoices.len() as u64) as usize];
            let (open, disputed) = books.balances(invoice);
            let room: Decimal =
                open.parse::<Decimal>().unwrap() - disputed.parse::<Decimal>().unwrap();
            if room >= Decimal::ONE {
                let new = ledger::disputes::NewDispute {
                    invoice_id: invoice.clone(),
                    amount: (room / Decimal::TWO).round_dp(2),
                    reason_code: "PRICING".into(),
                    note: "generated".into(),
                    opened_on: on,
                };
                let opened = block_on(workflows::dispute::open(
                    &books.db,
                    &new,
                    on,
                    &books.policy,
                    &stamp("alice"),
                ))
                .unwrap();
                disputes.push(opened.view.dispute.id.clone());
            }
        }
        if dice.roll(9) == 0 && !disputes.is_empty() {
            let id = disputes.remove(0);
            let change = |status| DisputeUpdate {
                status: Some(status),
                ..DisputeUpdate::default()
            };
            let update = |update: DisputeUpdate| {
                block_on(workflows::dispute::update(
                    &books.db,
                    &id,
                    &update,
                    on,
                    &books.policy,
                    &stamp("bob"),
                ))
            };
            let settled = if dice.roll(2) == 0 {
                update(change(DisputeStatus::InReview))
                    .and_then(|_| update(change(DisputeStatus::ResolvedCredit)))
            } else {
                update(change(DisputeStatus::Withdrawn))
            };
            settled.unwrap();
        }
    }
    unapplied
}

/// What the customer owed at the end of `on`, from the aging report (open
/// invoices) and the payments' own unapplied cash.
fn owed(
    books: &Books,
    customer: &str,
    on: NaiveDate,
    unapplied: &[(NaiveDate, Decimal)],
) -> Decimal {
    let aging = block_on(reports::aging(&books.db, on)).unwrap();
    let open = aging
        .customers
        .iter()
        .find(|c| c.customer_id == customer)
        .map_or(Decimal::ZERO, |c| c.aging.total);
    let cash: Decimal = unapplied
        .iter()
        .filter(|(d, _)| *d <= on)
        .map(|(_, a)| *a)
        .sum();
    open - cash
}

#[test]
fn the_closing_balance_equals_what_the_customer_owes_on_generated_books() {
    let books = Books::new();
    for (n, seed) in [(1, 7), (2, 99), (3, 2025)] {
        let customer = format!("G-{n}");
        books.customer(&customer, None);
        let unapplied = generate(&books, &customer, seed);
        let periods = [
            ("2025-01-01", "2025-01-31"),
            ("2025-02-01", "2025-03-15"),
            ("2025-03-16", "2025-06-30"),
            ("2025-05-05", "2025-05-05"),
            ("2025-01-01", "2025-12-31"),
        ];
        let mut previous_closing: Option<(NaiveDate, Decimal)> = None;
        for (from, to) in periods {
            let s = block_on(statements::statement(
                &books.db,
                &customer,
                date(from),
                date(to),
            ))
            .unwrap();
            let expected = owed(&books, &customer, date(to), &unapplied);
            assert_eq!(
                s.statement.closing_balance, expected,
                "{customer} {from}..{to}"
            );
            assert_eq!(
                s.statement.closing_balance,
                s.statement.aging.total - s.unapplied_cash,
                "{customer} {to}"
            );
            let opening = owed(&books, &customer, date(from) - Days::new(1), &unapplied);
            assert_eq!(
                s.statement.opening_balance, opening,
                "{customer} opening {from}"
            );
            if let Some((closed_on, closing)) = previous_closing
                && closed_on + Days::new(1) == date(from)
            {
                assert_eq!(s.statement.opening_balance, closing, "periods chain");
            }
            previous_closing = Some((date(to), s.statement.closing_balance));
            let mut dates: Vec<NaiveDate> = s.statement.movements.iter().map(|m| m.date).collect();
            let sorted = dates.clone();
            dates.sort();
            assert_eq!(dates, sorted, "in date order");
        }
        let now = books.position(&customer);
        let all = block_on(statements::statement(
            &books.db,
            &customer,
            date("2025-01-01"),
            date("2025-12-31"),
        ))
        .unwrap();
        assert_eq!(
            all.statement.closing_balance,
            now.open_balance - now.unapplied_cash,
            "{customer}"
        );
        assert!(
            all.statement.movements.len() > 60,
            "{}",
            all.statement.movements.len()
        );
    }
}

#[test]
fn a_statement_lists_disputes_open_on_its_last_day() {
    let books = Books::new();
    books.customer("C-1", None);
    books.invoice("INV-1", "C-1", "2025-06-01", "1000.00");
    books.dispute("INV-1", "200.00").unwrap();
    let s = block_on(statements::statement(
        &books.db,
        "C-1",
        date("2025-06-01"),
        date(AS_OF),
    ))
    .unwrap();
    assert_eq!(s.statement.open_disputes.len(), 1);
    assert_eq!(s.statement.open_disputes[0].amount.to_string(), "200.00");
    let before = block_on(statements::statement(
        &books.db,
        "C-1",
        date("2025-06-01"),
        date("2025-06-29"),
    ))
    .unwrap();
    assert!(
        before.statement.open_disputes.is_empty(),
        "opened on the 30th"
    );
    assert_eq!(
        s.statement.aging.days_1_30.to_string(),
        "1000.00",
        "disputed amounts stay in the aging"
    );
}

#[test]
fn issuing_a_statement_logs_it_and_tells_the_erp() {
    let books = Books::new();
    books.customer("C-1", None);
    books.invoice("INV-1", "C-1", "2025-06-01", "1000.00");
    let issued = block_on(workflows::statement::issue(
        &books.db,
        "C-1",
        date("2025-06-01"),
        date(AS_OF),
        &books.policy.dunning,
        &stamp("alice"),
    ))
    .unwrap();
    assert_eq!(
        issued.statement.statement.closing_balance.to_string(),
        "1000.00"
    );
    let page = block_on(events::feed(
        &books.db,
        events::Cursor(0),
        100,
        Some(credit_core::events::EventType::StatementIssued),
    ))
    .unwrap();
    assert_eq!(page.events.len(), 1);
    let text = page.events[0].data["text"].as_str().unwrap();
    assert!(
        text.contains("Closing balance on 30 June 2025: 1,000.00 USD"),
        "{text}"
    );
    let log = block_on(contacts::list(&books.db, "C-1", date(AS_OF))).unwrap();
    assert_eq!(log[0].channel, Channel::Letter);
    assert_eq!(log[0].id, issued.contact_id);
}

#[test]
fn an_assignees_scope_reads_only_their_accounts() {
    use ledger::customers::AssigneeFilter;
    let books = Books::new();
    for id in ["C-1", "C-2", "C-3"] {
        books.customer(id, None);
        books.invoice(&format!("INV-{id}"), id, "2025-06-01", "100.00");
    }
    books.sql(
        "UPDATE customers SET assignee = 'alice' WHERE id = 'C-1'",
        vec![],
    );
    books.sql(
        "UPDATE customers SET assignee = 'bob' WHERE id = 'C-2'",
        vec![],
    );
    let customers = |scope: Scope| -> Vec<String> {
        let proposal = block_on(dunning::proposal(
            &books.db,
            &books.policy.dunning,
            &scope,
            date(AS_OF),
        ))
        .unwrap();
        proposal
            .customers
            .into_iter()
            .map(|line| line.customer_id)
            .collect()
    };
    assert_eq!(
        customers(Scope::Assigned(AssigneeFilter::Person("alice".into()))),
        ["C-1"]
    );
    assert_eq!(
        customers(Scope::Assigned(AssigneeFilter::Unassigned)),
        ["C-3"]
    );
    assert_eq!(customers(Scope::All), ["C-1", "C-2", "C-3"]);
    let alices = run_on(
        &books,
        AS_OF,
        Scope::Assigned(AssigneeFilter::Person("alice".into())),
    );
    assert_eq!(issued(&alices), one("C-1", 1, &[("INV-C-1", 1)]));
    let stored = block_on(dunning::run(&books.db, &alices.run_id)).unwrap();
    assert_eq!(stored.assignee.as_deref(), Some("alice"));
    let others = block_on(dunning::not_assigned_to(
        &books.db,
        &["C-1".into(), "C-2".into(), "C-9".into()],
        "alice",
    ))
    .unwrap();
    assert_eq!(others, ["C-2"], "unknown customers are another refusal's");
}
