//! A dunning run: every letter due as of a date is issued, one customer at
//! a time, each in its own transaction — the letter exactly as issued (text
//! and HTML), the level it gives each invoice, an entry in the contact log
//! (channel `letter`) and the `dunning.letter_issued` event the ERP or a
//! mail relay sends it from. Each customer's letter is decided again
//! inside its transaction, so two runs at once never issue the same level
//! for the same invoices twice.

use chrono::{Days, NaiveDate};
use credit_core::FieldError;
use credit_core::collections::Channel;
use credit_core::dunning::{Decision, DunningPolicy, LetterDue, NoLetter, decide};
use credit_core::events::EventType;
use credit_core::letters::{Letter, LetterItem, Template};
use serde::Serialize;
use serde_json::json;

use crate::contacts::{self, NewContact};
use crate::customers::{self, Customer};
use crate::db::transaction;
use crate::dunning::{
    self, IssuedLetter, LetterLine, NewLetter, ProposalLine, Scope, letter_id, run_id,
};
use crate::events::{self, NewEvent};
use crate::{Database, LedgerError, Result, Stamp};

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRequest {
    /// The letters' date: what is overdue is measured against it.
    pub as_of: NaiveDate,
    pub scope: Scope,
    /// Letters issued at most; what is left is issued by the next run.
    pub limit: usize,
}

/// A customer asked for by name who was due no letter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotIssued {
    pub customer_id: String,
    pub reason: NoLetter,
    pub next_on: Option<NaiveDate>,
}

/// The answer to `POST /dunning-runs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunResult {
    /// `DR-<n>`.
    pub run_id: String,
    pub as_of: NaiveDate,
    /// The letters issued, by customer id.
    pub letters: Vec<IssuedLetter>,
    /// The customers named in the request that were due no letter, and why.
    pub not_issued: Vec<NotIssued>,
    /// Letters due but left for another run (over the run's limit).
    pub letters_left: usize,
}

/// Issues the letters due as of `request.as_of` to the customers in scope.
pub async fn run(
    db: &impl Database,
    policy: &DunningPolicy,
    request: &RunRequest,
    stamp: &Stamp,
) -> Result<RunResult> {
    if let Scope::Only(ids) = &request.scope {
        refuse_unknown(db, ids).await?;
    }
    let run = transaction(db, async |db| {
        dunning::start_run(db, request.as_of, &request.scope, stamp).await
    })
    .await?;
    let proposal = dunning::proposal(db, policy, &request.scope, request.as_of).await?;
    let due: Vec<&ProposalLine> = proposal
        .customers
        .iter()
        .filter(|c| c.level.is_some())
        .collect();
    let mut letters = vec![];
    for line in due.iter().take(request.limit) {
        if let Some(letter) =
            issue(db, run, &line.customer_id, policy, request.as_of, stamp).await?
        {
            letters.push(letter);
        }
    }
    Ok(RunResult {
        run_id: run_id(run),
        as_of: request.as_of,
        letters,
        not_issued: not_issued(&request.scope, &proposal.customers),
        letters_left: due.len().saturating_sub(request.limit),
    })
}

async fn refuse_unknown(db: &impl Database, ids: &[String]) -> Result<()> {
    let unknown = dunning::unknown_customers(db, ids).await?;
    if unknown.is_empty() {
        return Ok(());
    }
    let errors = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| unknown.contains(id))
        .map(|(i, id)| {
            FieldError::new(
                format!("customer_ids[{i}]"),
                format!("customer '{id}' does not exist"),
            )
        })
        .collect();
    Err(LedgerError::Invalid(errors))
}

/// The named customers without a letter: the proposal's reason, or
/// nothing overdue when the proposal does not list them.
fn not_issued(scope: &Scope, lines: &[ProposalLine]) -> Vec<NotIssued> {
    let Scope::Only(ids) = scope else {
        return vec![];
    };
    let mut named: Vec<&String> = ids.iter().collect();
    named.sort();
    named.dedup();
    named
        .into_iter()
        .filter_map(
            |id| match lines.iter().find(|line| &line.customer_id == id) {
                Some(line) if line.level.is_some() => None,
                Some(line) => Some(NotIssued {
                    customer_id: id.clone(),
                    reason: line.reason.unwrap_or(NoLetter::NothingOverdue),
                    next_on: line.next_on,
                }),
                None => Some(NotIssued {
                    customer_id: id.clone(),
                    reason: NoLetter::NothingOverdue,
                    next_on: None,
                }),
            },
        )
        .collect()
}

/// Issues the customer's letter, if one is still due, in one transaction.
async fn issue(
    db: &impl Database,
    run: i64,
    customer_id: &str,
    policy: &DunningPolicy,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<Option<IssuedLetter>> {
    transaction(db, async |db| {
        let scope = Scope::Only(vec![customer_id.to_string()]);
        let Some((_, standing)) = dunning::standings(db, &scope, as_of).await?.pop() else {
            return Ok(None);
        };
        let Decision::Due(due) = decide(&policy.levels, &standing, as_of) else {
            return Ok(None);
        };
        let customer = customers::get(db, customer_id).await?;
        write_letter(db, run, &customer, &due, policy, as_of, stamp)
            .await
            .map(Some)
    })
    .await
}

/// Stores the letter, gives its invoices their levels, logs the contact
/// and records the event.
async fn write_letter(
    db: &impl Database,
    run: i64,
    customer: &Customer,
    due: &LetterDue,
    policy: &DunningPolicy,
    as_of: NaiveDate,
    stamp: &Stamp,
) -> Result<IssuedLetter> {
    let level = policy
        .level(due.level)
        .expect("the level was decided from these levels");
    let pay_by = as_of + Days::new(u64::from(level.pay_within_days));
    let new = NewLetter {
        run,
        customer_id: &customer.id,
        level: due.level,
        level_name: &level.name,
        issued_on: as_of,
        pay_by,
        totals: &due.totals,
    };
    let number = dunning::insert_letter(db, &new, stamp).await?;
    dunning::record_levels(db, number, as_of, &due.items).await?;
    let letter = Letter {
        reference: letter_id(number),
        customer_id: customer.id.clone(),
        customer_name: customer.name.clone(),
        date: as_of,
        pay_by,
        level: level.name.clone(),
        sender: policy.sender.clone(),
        payment_instructions: policy.payment_instructions.clone(),
        items: due.items.iter().map(|d| d.item.clone()).collect(),
        totals: due.totals.clone(),
    };
    let subject = render_subject(&level.subject, &letter)?;
    let body = Template::parse(&level.template).map_err(|e| policy_error("template", e))?;
    let text = body.render_text(&letter);
    let html = body.render_html(&letter, &subject, policy.paper);
    let contact_id = log_contact(db, customer, &letter, &subject, stamp).await?;
    dunning::store_content(db, number, &subject, &text, &html, contact_id).await?;
    let issued = IssuedLetter {
        letter_id: letter.reference.clone(),
        run_id: run_id(run),
        customer_id: customer.id.clone(),
        level: due.level,
        level_name: level.name.clone(),
        issued_on: as_of,
        pay_by,
        issued_at: stamp.at_text(),
        issued_by: stamp.by.clone(),
        subject,
        totals: due.totals.clone(),
        invoices: lines(due),
        contact_id,
    };
    announce(db, &issued, customer, &text, &html, stamp).await?;
    Ok(issued)
}

fn render_subject(subject: &str, letter: &Letter) -> Result<String> {
    let template = Template::parse_subject(subject).map_err(|e| policy_error("subject", e))?;
    Ok(template.render_line(letter))
}

/// A stored policy whose template no longer parses (it was checked when
/// saved): a conflict to fix in the policy.
fn policy_error(field: &str, error: credit_core::letters::TemplateError) -> LedgerError {
    LedgerError::Conflict(format!(
        "the dunning level's {field} in the policy cannot be used: {error}"
    ))
}

fn lines(due: &LetterDue) -> Vec<LetterLine> {
    due.items
        .iter()
        .map(|d| {
            let LetterItem {
                invoice_id,
                currency,
                amount,
                days_past_due,
                ..
            } = &d.item;
            LetterLine {
                invoice_id: invoice_id.clone(),
                level: d.level,
                currency: *currency,
                amount: *amount,
                days_past_due: *days_past_due,
            }
        })
        .collect()
}

/// The letter's entry in the contact log: channel `letter`, the level as
/// outcome, the reference, invoices and amounts as note.
async fn log_contact(
    db: &impl Database,
    customer: &Customer,
    letter: &Letter,
    subject: &str,
    stamp: &Stamp,
) -> Result<i64> {
    let invoices: Vec<&str> = letter.items.iter().map(|i| i.invoice_id.as_str()).collect();
    let note = format!(
        "{subject} ({}): invoices {}; pay by {}",
        letter.reference,
        invoices.join(", "),
        letter.pay_by
    );
    let contact = NewContact {
        channel: Channel::Letter,
        outcome: letter.level.clone(),
        note,
        contacted_on: letter.date,
        promise: None,
    };
    Ok(contacts::insert(db, customer, &contact, stamp).await?)
}

/// `dunning.letter_issued`, with the letter's text and HTML.
async fn announce(
    db: &impl Database,
    issued: &IssuedLetter,
    customer: &Customer,
    text: &str,
    html: &str,
    stamp: &Stamp,
) -> Result<()> {
    let mut data = serde_json::to_value(issued).expect("letters serialise");
    data["customer_name"] = json!(customer.name);
    data["text"] = json!(text);
    data["html"] = json!(html);
    data["by"] = json!(stamp.by);
    let event = NewEvent {
        kind: EventType::DunningLetterIssued,
        subject: customer.id.clone(),
        data,
    };
    events::record(db, event, stamp).await?;
    Ok(())
}

/// `GET /customers/{id}/dunning`: the letter due now (or why none) and
/// every letter issued, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomerDunning {
    pub customer_id: String,
    pub dunning_exempt: bool,
    pub as_of: NaiveDate,
    pub due: ProposalLine,
    pub letters: Vec<IssuedLetter>,
}

pub async fn customer(
    db: &impl Database,
    policy: &DunningPolicy,
    customer_id: &str,
    as_of: NaiveDate,
) -> Result<CustomerDunning> {
    let customer = customers::get(db, customer_id).await?;
    let scope = Scope::Only(vec![customer.id.clone()]);
    let due = match dunning::standings(db, &scope, as_of).await?.pop() {
        Some((addressee, standing)) => dunning::line(&addressee, &standing, policy, as_of),
        None => nothing_overdue(&customer),
    };
    Ok(CustomerDunning {
        customer_id: customer.id.clone(),
        dunning_exempt: customer.dunning_exempt,
        as_of,
        due,
        letters: dunning::letters_of_customer(db, &customer.id).await?,
    })
}

fn nothing_overdue(customer: &Customer) -> ProposalLine {
    ProposalLine {
        customer_id: customer.id.clone(),
        customer_name: customer.name.clone(),
        overdue: vec![],
        level: None,
        level_name: None,
        invoices: vec![],
        totals: vec![],
        reason: Some(NoLetter::NothingOverdue),
        next_on: None,
    }
}
