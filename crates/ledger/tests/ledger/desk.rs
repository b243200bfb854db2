//! The associate's desk: customers assigned to a person (and every list
//! cut by assignee), customers found by id or name, escalations to the
//! supervisors and their answers.

use crate::support::*;
use chrono::{DateTime, Utc};
use credit_core::escalation::{EscalationStatus, SubjectType};
use ledger::customers::AssigneeFilter;
use ledger::disputes::{DisputeQuery, StatusFilter};
use ledger::escalations::{self, EscalationQuery};
use ledger::orders::{self, QueueQuery};
use ledger::search::{self, Search};
use ledger::{Database, LedgerError, customers, disputes, reports, workflows};

fn assign(
    books: &Books,
    ids: &[&str],
    to: Option<&str>,
) -> ledger::Result<Vec<customers::Customer>> {
    let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    block_on(workflows::customer::assign(
        &books.db,
        &ids,
        to,
        &stamp("maria"),
    ))
}

/// C-1 and C-2 with held orders and past-due invoices; C-1 is ana's.
fn assigned_books() -> Books {
    let books = Books::new();
    for id in ["C-1", "C-2", "C-3"] {
        books.customer(id, Some("100.00"));
        books.invoice(&format!("INV-{id}"), id, "2025-05-01", "50.00");
        books.order(&format!("SO-{id}"), id, "500.00");
    }
    assign(&books, &["C-1"], Some("ana")).unwrap();
    assign(&books, &["C-2"], Some("bo")).unwrap();
    books
}

#[test]
fn a_manager_assigns_many_customers_at_once_and_the_history_is_kept() {
    let books = assigned_books();
    let assigned = assign(&books, &["C-2", "C-3"], Some("ana")).unwrap();
    assert!(
        assigned
            .iter()
            .all(|c| c.assignee.as_deref() == Some("ana"))
    );
    assign(&books, &["C-2"], None).unwrap();
    let customer = block_on(customers::get(&books.db, "C-2")).unwrap();
    assert_eq!(customer.assignee, None);
    let history: Vec<(Option<String>, Option<String>, String)> = books
        .position("C-2")
        .assignments
        .into_iter()
        .map(|a| (a.from, a.to, a.by))
        .collect();
    assert_eq!(
        history,
        [
            (Some("ana".into()), None, "maria".into()),
            (Some("bo".into()), Some("ana".into()), "maria".into()),
            (None, Some("bo".into()), "maria".into()),
        ]
    );
}

#[test]
fn an_unknown_customer_in_a_bulk_assignment_changes_nothing() {
    let books = assigned_books();
    let error = assign(&books, &["C-3", "C-404"], Some("bo")).unwrap_err();
    match error {
        LedgerError::Invalid(fields) => assert_eq!(fields[0].field, "customer_ids[1]"),
        other => panic!("{other:?}"),
    }
    let unchanged = block_on(customers::get(&books.db, "C-3")).unwrap();
    assert_eq!(unchanged.assignee, None);
}

#[test]
fn the_master_data_from_the_erp_leaves_the_assignee_alone() {
    let books = assigned_books();
    books.customer("C-1", Some("5000.00"));
    let customer = block_on(customers::get(&books.db, "C-1")).unwrap();
    assert_eq!(customer.assignee.as_deref(), Some("ana"));
}

#[test]
fn the_queue_the_worklist_and_the_disputes_are_cut_by_assignee() {
    let books = assigned_books();
    books.dispute("INV-C-1", "10.00").unwrap();
    books.dispute("INV-C-3", "10.00").unwrap();
    let queue = |filter: AssigneeFilter| -> Vec<String> {
        let query = QueueQuery {
            assignee: Some(filter),
            ..QueueQuery::all_held()
        };
        block_on(orders::queue(&books.db, &query, date(AS_OF)))
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {}", e.order_id, e.assignee.unwrap_or_default()))
            .collect()
    };
    assert_eq!(queue(AssigneeFilter::Person("ana".into())), ["SO-C-1 ana"]);
    assert_eq!(queue(AssigneeFilter::Unassigned), ["SO-C-3 "]);

    let worklist = block_on(reports::worklist(
        &books.db,
        date(AS_OF),
        Some(&AssigneeFilter::Person("bo".into())),
    ))
    .unwrap();
    let ids: Vec<&str> = worklist
        .customers
        .iter()
        .map(|l| l.entry.customer_id.as_str())
        .collect();
    assert_eq!(ids, ["C-2"]);

    let disputes = |filter: AssigneeFilter| -> Vec<String> {
        let query = DisputeQuery {
            status: StatusFilter::Active,
            customer_id: None,
            assignee: Some(filter),
        };
        block_on(disputes::list(&books.db, &query, date(AS_OF)))
            .unwrap()
            .into_iter()
            .map(|d| d.customer_id)
            .collect()
    };
    assert_eq!(disputes(AssigneeFilter::Person("ana".into())), ["C-1"]);
    assert_eq!(disputes(AssigneeFilter::Unassigned), ["C-3"]);
    assert!(disputes(AssigneeFilter::Person("bo".into())).is_empty());
}

/// Customers named to test the search.
fn named_books() -> Books {
    let books = Books::new();
    for (id, name) in [
        ("C-100", "Acme Tools"),
        ("C-1000", "Zenith Supply"),
        ("ACM-7", "Nordic Parts"),
        ("C-200", "Société Générale de Pièces"),
        ("C-300", "Müller & Söhne"),
        ("C-400", "Acme Paper Tools Company"),
    ] {
        let update = customers::CustomerUpdate {
            name: name.into(),
            ..books.customer_update(id, Some("1000.00"))
        };
        block_on(workflows::customer::put(
            &books.db,
            id,
            &update,
            &books.policy,
            date(AS_OF),
            &stamp("erp"),
        ))
        .unwrap();
    }
    books
}

fn found(books: &Books, text: &str) -> Vec<String> {
    let search = Search {
        text,
        offset: 0,
        limit: 20,
        as_of: date(AS_OF),
    };
    block_on(search::customers(&books.db, &search, &books.policy))
        .unwrap()
        .customers
        .into_iter()
        .map(|c| c.id)
        .collect()
}

#[test]
fn search_finds_the_id_first_then_ids_that_start_so_then_names() {
    let books = named_books();
    assert_eq!(found(&books, "c-100"), ["C-100", "C-1000"]);
    // "acm" is the start of ACM-7's id and of two names.
    let acm = found(&books, "acm");
    assert_eq!(acm[0], "ACM-7");
    assert_eq!(acm.len(), 3);
}

#[test]
fn search_ignores_case_and_accents_and_ranks_names_matching_more_words_first() {
    let books = named_books();
    assert_eq!(found(&books, "societe"), ["C-200"]);
    assert_eq!(found(&books, "PIECES"), ["C-200"]);
    assert_eq!(found(&books, "muller"), ["C-300"]);
    assert_eq!(found(&books, "Söhne"), ["C-300"]);
    let both = found(&books, "acme tools");
    assert_eq!(both.len(), 2);
    assert!(found(&books, "zzz").is_empty());
    assert!(
        found(&books, "\"NEAR(*").is_empty(),
        "typed syntax is only text"
    );
}

#[test]
fn a_renamed_customer_is_found_by_its_new_name_only() {
    let books = named_books();
    let renamed = customers::CustomerUpdate {
        name: "Orion Hardware".into(),
        ..books.customer_update("C-100", Some("1000.00"))
    };
    block_on(workflows::customer::put(
        &books.db,
        "C-100",
        &renamed,
        &books.policy,
        date(AS_OF),
        &stamp("erp"),
    ))
    .unwrap();
    assert_eq!(found(&books, "orion"), ["C-100"]);
    assert_eq!(found(&books, "acme"), ["C-400"]);
}

#[test]
fn search_pages_with_a_total_and_key_figures() {
    let books = named_books();
    books.invoice("INV-1", "C-400", "2025-05-01", "300.00");
    books.order("SO-1", "C-400", "800.00");
    let search = Search {
        text: "c-",
        offset: 1,
        limit: 2,
        as_of: date(AS_OF),
    };
    let page = block_on(search::customers(&books.db, &search, &books.policy)).unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(page.customers.len(), 2);
    let c400 = &found_page(&books, "C-400").customers[0];
    assert_eq!(c400.exposure, amount("300.00"));
    assert_eq!(c400.available, Some(amount("700.00")));
    assert_eq!(c400.past_due, amount("300.00"));
    assert_eq!(c400.held_orders, 1);
}

fn found_page(books: &Books, text: &str) -> search::SearchPage {
    let search = Search {
        text,
        offset: 0,
        limit: 20,
        as_of: date(AS_OF),
    };
    block_on(search::customers(&books.db, &search, &books.policy)).unwrap()
}

#[test]
fn search_reads_the_name_index_and_the_id_index_not_every_customer() {
    let books = named_books();
    let plan = block_on(books.db.query(
        "EXPLAIN QUERY PLAN SELECT c.id FROM customers c WHERE c.id LIKE 'c-1%' ESCAPE '\\'",
        vec![],
    ))
    .unwrap();
    let steps: Vec<String> = plan.iter().map(|row| row.string(3).unwrap()).collect();
    assert!(
        steps.iter().any(|s| s.contains("customers_by_id_nocase")),
        "{steps:?}"
    );
    let plan = block_on(books.db.query(
        "EXPLAIN QUERY PLAN SELECT customer_id FROM customer_names WHERE customer_names MATCH '\"acme\"*'",
        vec![],
    ))
    .unwrap();
    let steps: Vec<String> = plan.iter().map(|row| row.string(3).unwrap()).collect();
    assert!(
        steps.iter().any(|s| s.contains("VIRTUAL TABLE INDEX")),
        "{steps:?}"
    );
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn raise(
    books: &Books,
    kind: SubjectType,
    id: &str,
) -> ledger::Result<escalations::EscalationView> {
    block_on(workflows::escalation::raise(
        &books.db,
        kind,
        id,
        "unusual terms",
        "customer asks for 120-day terms",
        &stamp("ana"),
    ))
}

#[test]
fn an_escalation_on_an_order_is_answered_and_shown_on_the_order() {
    let books = assigned_books();
    let raised = raise(&books, SubjectType::Order, "SO-C-1").unwrap();
    assert_eq!(raised.escalation.customer_id, "C-1");
    assert_eq!(raised.escalation.status, EscalationStatus::Open);
    assert_eq!(raised.escalation.respond_by, "2025-07-01T09:00:00.000Z");
    assert!(!raised.overdue);

    let second = raise(&books, SubjectType::Order, "SO-C-1");
    assert!(
        matches!(second, Err(LedgerError::Conflict(_))),
        "{second:?}"
    );

    let late = at("2025-07-01T10:00:00Z");
    let open = block_on(escalations::list(
        &books.db,
        &EscalationQuery {
            status: Some(EscalationStatus::Open),
            limit: 50,
            ..EscalationQuery::default()
        },
        late,
    ))
    .unwrap();
    assert_eq!(open.len(), 1);
    assert!(open[0].overdue);
    assert_eq!(open[0].age_hours, 25);

    let answered = block_on(workflows::escalation::resolve(
        &books.db,
        raised.escalation.id,
        "declined",
        "30 days at most; offer a payment plan",
        &stamp("maria"),
    ))
    .unwrap();
    assert_eq!(answered.escalation.status, EscalationStatus::Resolved);
    assert_eq!(answered.escalation.resolved_by.as_deref(), Some("maria"));
    let again = block_on(workflows::escalation::resolve(
        &books.db,
        raised.escalation.id,
        "x",
        "y",
        &stamp("maria"),
    ));
    assert!(matches!(again, Err(LedgerError::Conflict(_))));

    let order = block_on(orders::view(&books.db, "SO-C-1", now())).unwrap();
    assert_eq!(
        order.escalations[0].escalation.answer.as_deref(),
        Some("30 days at most; offer a payment plan")
    );
    assert_eq!(books.position("C-1").escalations.len(), 1);
    // A new escalation may be raised once the first is answered.
    raise(&books, SubjectType::Order, "SO-C-1").unwrap();
}

#[test]
fn escalations_on_customers_and_disputes_and_their_assignee_filter() {
    let books = assigned_books();
    let dispute = books.dispute("INV-C-2", "10.00").unwrap();
    raise(&books, SubjectType::Customer, "C-1").unwrap();
    raise(&books, SubjectType::Dispute, &dispute.view.dispute.id).unwrap();
    let view = block_on(disputes::view(
        &books.db,
        &dispute.view.dispute.id,
        date(AS_OF),
        now(),
    ))
    .unwrap();
    assert_eq!(view.escalations.len(), 1);
    assert_eq!(view.escalations[0].escalation.customer_id, "C-2");

    let of = |name: &str| -> Vec<String> {
        let query = EscalationQuery {
            assignee: Some(AssigneeFilter::Person(name.into())),
            limit: 50,
            ..EscalationQuery::default()
        };
        block_on(escalations::list(&books.db, &query, now()))
            .unwrap()
            .into_iter()
            .map(|e| e.escalation.subject_id)
            .collect()
    };
    assert_eq!(of("ana"), ["C-1"]);
    assert_eq!(of("bo"), std::slice::from_ref(&dispute.view.dispute.id));

    for (kind, id) in [
        (SubjectType::Order, "SO-404"),
        (SubjectType::Customer, "C-404"),
        (SubjectType::Dispute, "D-404"),
    ] {
        let missing = raise(&books, kind, id);
        assert!(
            matches!(missing, Err(LedgerError::NotFound { .. })),
            "{kind:?}: {missing:?}"
        );
    }
    assert_eq!(books.count("escalations"), 2);
}
