//! Dunning over the book: where every customer with something overdue
//! stands (credit-core's [`credit_core::dunning::decide`] on what one
//! statement reads for all of them), and the letters issued so far, kept
//! exactly as issued.
//!
//! The proposal reads set-wise — the open invoices of every customer with
//! an undisputed amount past due, each with the last level it was given,
//! and the promises to pay of the book — never a query per customer, so it
//! stays quick on a large book.

use std::collections::HashSet;

use chrono::NaiveDate;
use credit_core::Currency;
use credit_core::collections::PromiseStatus;
use credit_core::dunning::{
    Decision, DueItem, Dunned, DunningPolicy, LetterDue, NoLetter, OpenItem, Standing, decide,
};
use credit_core::letters::{CurrencyTotal, add_to_totals};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::contacts;
use crate::customers::AssigneeFilter;
use crate::db::{Columns, Database, DbError, Record, Records, Value};
use crate::{LedgerError, Result, params};

/// Whose dunning to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every customer.
    All,
    /// These customers only.
    Only(Vec<String>),
    /// The accounts of one person, or the unassigned ones.
    Assigned(AssigneeFilter),
}

impl Scope {
    /// What the scope's condition binds as `?2`, if anything.
    fn bound(&self) -> Option<Value> {
        match self {
            Scope::All => None,
            Scope::Only(ids) => Some(serde_json::to_string(ids).expect("ids serialise").into()),
            Scope::Assigned(filter) => filter.condition("assignee", "?2").1,
        }
    }

    /// The customers named, as the JSON list a run keeps.
    fn named(&self) -> Option<String> {
        match self {
            Scope::Only(ids) => Some(serde_json::to_string(ids).expect("ids serialise")),
            Scope::All | Scope::Assigned(_) => None,
        }
    }

    /// Whose accounts, as a run keeps it: a person, or `unassigned`.
    fn assignee(&self) -> Option<String> {
        match self {
            Scope::Assigned(AssigneeFilter::Person(name)) => Some(name.clone()),
            Scope::Assigned(AssigneeFilter::Unassigned) => Some("unassigned".into()),
            Scope::All | Scope::Only(_) => None,
        }
    }

    /// The condition on `customer_id` of the scope's customers.
    fn condition(&self) -> String {
        match self {
            Scope::All => String::new(),
            Scope::Only(_) => "AND customer_id IN (SELECT value FROM json_each(?2))".into(),
            Scope::Assigned(filter) => format!(
                "AND customer_id IN (SELECT id FROM customers WHERE {})",
                filter.condition("assignee", "?2").0
            ),
        }
    }
}

/// A customer as dunning addresses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Addressee {
    pub customer_id: String,
    pub customer_name: String,
    pub currency: Currency,
    pub dunning_exempt: bool,
}

/// An open invoice with the last level it was given, as one row reads it.
struct InvoiceRow {
    addressee: Addressee,
    item: OpenItem,
    last: Option<(u32, NaiveDate)>,
}

impl Record for InvoiceRow {
    const SELECT: &'static str = "c.id, c.name, c.currency, c.dunning_exempt,
        i.id, i.issued_on, i.due_on, i.open_minor, i.disputed_minor,
        (SELECT MAX(l.level) FROM dunning_letter_items l WHERE l.invoice_id = i.id),
        (SELECT l.issued_on FROM dunning_letter_items l WHERE l.invoice_id = i.id ORDER BY l.level DESC LIMIT 1)";

    fn read(columns: &mut Columns<'_>) -> Result<InvoiceRow, DbError> {
        let addressee = Addressee {
            customer_id: columns.string()?,
            customer_name: columns.string()?,
            currency: columns.currency()?,
            dunning_exempt: columns.bool()?,
        };
        let currency = addressee.currency;
        let item = OpenItem {
            invoice_id: columns.string()?,
            currency,
            issued_on: columns.date()?,
            due_on: columns.date()?,
            open: currency.from_minor(columns.int()?),
            disputed: currency.from_minor(columns.int()?),
        };
        let level = columns.opt_int()?;
        let on = columns.opt_date()?;
        let last = level
            .zip(on)
            .map(|(level, on)| (u32::try_from(level).unwrap_or(0), on));
        Ok(InvoiceRow {
            addressee,
            item,
            last,
        })
    }
}

/// The open invoices of the customers in scope with an undisputed amount
/// past due on `?1`, customers by id. For some customers (`?2`, a JSON
/// list, or their assignee) the statement starts from their ids, through
/// the index of each customer's open invoices; for all, from the open
/// invoices.
fn debtors_sql(scope: &Scope) -> String {
    let among = scope.condition();
    format!(
        "WITH debtors AS (
             SELECT DISTINCT customer_id FROM invoices
              WHERE open_minor > 0 AND due_on < ?1 AND open_minor > disputed_minor {among})
         SELECT {} FROM debtors d
           JOIN customers c ON c.id = d.customer_id
           JOIN invoices i ON i.customer_id = d.customer_id AND i.open_minor > 0
          ORDER BY c.id, i.due_on, i.id",
        InvoiceRow::SELECT
    )
}

/// Every customer in scope with something overdue, and their standing.
pub async fn standings(
    db: &impl Database,
    scope: &Scope,
    as_of: NaiveDate,
) -> Result<Vec<(Addressee, Standing)>, DbError> {
    let mut params = params![as_of];
    params.extend(scope.bound());
    let rows: Vec<InvoiceRow> = db.records(&debtors_sql(scope), params).await?;
    let promised = unbroken_promises(db, scope, as_of).await?;
    let mut standings: Vec<(Addressee, Standing)> = vec![];
    for row in rows {
        if standings
            .last()
            .is_none_or(|(a, _)| a.customer_id != row.addressee.customer_id)
        {
            let standing = Standing {
                exempt: row.addressee.dunning_exempt,
                unbroken_promise: promised.contains(&row.addressee.customer_id),
                ..Standing::default()
            };
            standings.push((row.addressee.clone(), standing));
        }
        let (_, standing) = standings.last_mut().expect("pushed above");
        if let Some((level, issued_on)) = row.last {
            standing.dunned.push(Dunned {
                invoice_id: row.item.invoice_id.clone(),
                level,
                issued_on,
            });
        }
        standing.items.push(row.item);
    }
    Ok(standings)
}

/// Customers with a promise to pay made by `as_of` that is neither kept
/// nor broken on `as_of`.
async fn unbroken_promises(
    db: &impl Database,
    scope: &Scope,
    as_of: NaiveDate,
) -> Result<HashSet<String>, DbError> {
    let promises = match scope {
        Scope::Only(ids) if ids.len() == 1 => {
            contacts::paid_promises(db, Some(&ids[0]), as_of).await?
        }
        _ => contacts::paid_promises(db, None, as_of).await?,
    };
    Ok(promises
        .into_iter()
        .filter(|p| p.promise.status(Decimal::from(p.paid_minor), as_of) == PromiseStatus::Open)
        .map(|p| p.customer_id)
        .collect())
}

/// One customer's line of the proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProposalLine {
    pub customer_id: String,
    pub customer_name: String,
    /// The undisputed amount past due, per currency.
    pub overdue: Vec<CurrencyTotal>,
    /// The letter's level now due (from 1), if any.
    pub level: Option<u32>,
    pub level_name: Option<String>,
    /// The invoices the letter covers, each with the level it takes.
    pub invoices: Vec<DueItem>,
    /// What the letter asks for, per currency.
    pub totals: Vec<CurrencyTotal>,
    /// Why no letter is due.
    pub reason: Option<NoLetter>,
    /// When the next letter may be due if nothing changes.
    pub next_on: Option<NaiveDate>,
}

/// `GET /reports/dunning`: per customer with something overdue, the letter
/// due now and the invoices it covers, or why none is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub as_of: NaiveDate,
    /// Customers a letter is due for.
    pub letters_due: usize,
    /// By customer id.
    pub customers: Vec<ProposalLine>,
}

/// The line of one customer's standing.
pub fn line(
    addressee: &Addressee,
    standing: &Standing,
    policy: &DunningPolicy,
    as_of: NaiveDate,
) -> ProposalLine {
    let mut overdue = vec![];
    for item in &standing.items {
        if item.due_on < as_of && item.overdue() > Decimal::ZERO {
            add_to_totals(&mut overdue, item.currency, item.overdue());
        }
    }
    let mut line = ProposalLine {
        customer_id: addressee.customer_id.clone(),
        customer_name: addressee.customer_name.clone(),
        overdue,
        level: None,
        level_name: None,
        invoices: vec![],
        totals: vec![],
        reason: None,
        next_on: None,
    };
    match decide(&policy.levels, standing, as_of) {
        Decision::Due(LetterDue {
            level,
            items,
            totals,
        }) => {
            line.level = Some(level);
            line.level_name = policy.level(level).map(|l| l.name.clone());
            line.invoices = items;
            line.totals = totals;
        }
        Decision::NotDue { reason, next_on } => {
            line.reason = Some(reason);
            line.next_on = next_on;
        }
    }
    line
}

/// The proposal over the customers in `scope`, as of `as_of`.
pub async fn proposal(
    db: &impl Database,
    policy: &DunningPolicy,
    scope: &Scope,
    as_of: NaiveDate,
) -> Result<Proposal, DbError> {
    let customers: Vec<ProposalLine> = standings(db, scope, as_of)
        .await?
        .iter()
        .map(|(addressee, standing)| line(addressee, standing, policy, as_of))
        .collect();
    Ok(Proposal {
        as_of,
        letters_due: customers.iter().filter(|c| c.level.is_some()).count(),
        customers,
    })
}

/// Letters are numbered by the database and shown as `DL-<n>`.
pub fn letter_id(number: i64) -> String {
    format!("DL-{number}")
}

/// Runs are shown as `DR-<n>`.
pub fn run_id(number: i64) -> String {
    format!("DR-{number}")
}

/// The number behind a `<prefix><n>` id.
pub fn number(id: &str, prefix: &str) -> Option<i64> {
    let digits = id.strip_prefix(prefix)?;
    let all_digits =
        !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit());
    all_digits.then(|| digits.parse().ok()).flatten()
}

/// An invoice a letter covered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LetterLine {
    pub invoice_id: String,
    /// The level the letter gave it.
    pub level: u32,
    pub currency: Currency,
    pub amount: Decimal,
    pub days_past_due: i64,
}

/// A letter as issued (without its text and HTML).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssuedLetter {
    /// `DL-<n>`.
    pub letter_id: String,
    /// `DR-<n>`: the run that issued it.
    pub run_id: String,
    pub customer_id: String,
    pub level: u32,
    pub level_name: String,
    /// The letter's date.
    pub issued_on: NaiveDate,
    pub pay_by: NaiveDate,
    pub issued_at: String,
    pub issued_by: String,
    pub subject: String,
    pub totals: Vec<CurrencyTotal>,
    pub invoices: Vec<LetterLine>,
    /// The entry the letter made in the contact log.
    pub contact_id: i64,
}

impl Record for IssuedLetter {
    const SELECT: &'static str = "l.id, l.run_id, l.customer_id, l.level, l.level_name, l.issued_on, l.pay_by, l.issued_at, l.issued_by, l.subject, l.totals, l.contact_id";

    fn read(columns: &mut Columns<'_>) -> Result<IssuedLetter, DbError> {
        Ok(IssuedLetter {
            letter_id: letter_id(columns.int()?),
            run_id: run_id(columns.int()?),
            customer_id: columns.string()?,
            level: u32::try_from(columns.int()?).unwrap_or(0),
            level_name: columns.string()?,
            issued_on: columns.date()?,
            pay_by: columns.date()?,
            issued_at: columns.string()?,
            issued_by: columns.string()?,
            subject: columns.string()?,
            totals: columns.json()?,
            invoices: vec![],
            contact_id: columns.int()?,
        })
    }
}

/// A letter with its text and HTML, exactly as issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LetterDocument {
    #[serde(flatten)]
    pub letter: IssuedLetter,
    pub text: String,
    pub html: String,
}

/// The letters of one customer (`?1`), or of one run (`?2`), newest first.
fn letters_sql(by: &str) -> String {
    format!(
        "SELECT {} FROM dunning_letters l WHERE l.{by} = ?1 ORDER BY l.id DESC",
        IssuedLetter::SELECT
    )
}

/// The customer's letters, newest first, with the invoices each covered.
pub async fn letters_of_customer(
    db: &impl Database,
    customer_id: &str,
) -> Result<Vec<IssuedLetter>, DbError> {
    let letters = db
        .records(&letters_sql("customer_id"), params![customer_id])
        .await?;
    with_lines(db, letters).await
}

/// The letters a run issued, newest first.
pub async fn letters_of_run(db: &impl Database, run: i64) -> Result<Vec<IssuedLetter>, DbError> {
    let letters = db.records(&letters_sql("run_id"), params![run]).await?;
    with_lines(db, letters).await
}

/// Fills in each letter's invoices.
async fn with_lines(
    db: &impl Database,
    mut letters: Vec<IssuedLetter>,
) -> Result<Vec<IssuedLetter>, DbError> {
    for letter in &mut letters {
        let number = number(&letter.letter_id, "DL-").unwrap_or(0);
        let rows = db
            .query(
                "SELECT li.invoice_id, li.level, c.currency, li.amount_minor, li.days_past_due
                 FROM dunning_letter_items li
                 JOIN invoices i ON i.id = li.invoice_id
                 JOIN customers c ON c.id = i.customer_id
                 WHERE li.letter_id = ? ORDER BY li.days_past_due DESC, li.invoice_id",
                params![number],
            )
            .await?;
        letter.invoices = rows
            .iter()
            .map(|row| {
                let currency = row.currency(2)?;
                Ok(LetterLine {
                    invoice_id: row.string(0)?,
                    level: u32::try_from(row.int(1)?).unwrap_or(0),
                    currency,
                    amount: currency.from_minor(row.int(3)?),
                    days_past_due: row.int(4)?,
                })
            })
            .collect::<Result<_, DbError>>()?;
    }
    Ok(letters)
}

/// One of the customer's letters with its text and HTML as issued.
pub async fn letter(db: &impl Database, customer_id: &str, id: &str) -> Result<LetterDocument> {
    let not_found = || LedgerError::not_found("letter", id);
    let number = number(id, "DL-").ok_or_else(not_found)?;
    let sql = format!(
        "SELECT {}, l.text, l.html FROM dunning_letters l WHERE l.id = ?1 AND l.customer_id = ?2",
        IssuedLetter::SELECT
    );
    let row = db
        .query_row(&sql, params![number, customer_id])
        .await?
        .ok_or_else(not_found)?;
    let mut columns = row.columns();
    let letter: IssuedLetter = columns.record()?;
    let (text, html) = (columns.string()?, columns.string()?);
    let letter = with_lines(db, vec![letter]).await?.remove(0);
    Ok(LetterDocument { letter, text, html })
}

/// A dunning run and the letters it issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    /// `DR-<n>`.
    pub run_id: String,
    pub as_of: NaiveDate,
    pub run_at: String,
    pub run_by: String,
    /// The customers asked for; none: every customer (of `assignee`).
    pub customer_ids: Option<Vec<String>>,
    /// Whose accounts were run: a person, `unassigned`, or none for anyone's.
    pub assignee: Option<String>,
    pub letters: Vec<IssuedLetter>,
}

/// Records a run; gives its number.
pub(crate) async fn start_run(
    db: &impl Database,
    as_of: NaiveDate,
    scope: &Scope,
    stamp: &crate::Stamp,
) -> Result<i64, DbError> {
    let row = db
        .query_row(
            "INSERT INTO dunning_runs (as_of, run_at, run_by, customer_ids, assignee) VALUES (?, ?, ?, ?, ?) RETURNING id",
            params![as_of, stamp.at_text(), &stamp.by, scope.named(), scope.assignee()],
        )
        .await?
        .ok_or(DbError::Sql("INSERT ... RETURNING gave no row".into()))?;
    row.int(0)
}

/// A run with its letters.
pub async fn run(db: &impl Database, id: &str) -> Result<Run> {
    let not_found = || LedgerError::not_found("dunning run", id);
    let number = number(id, "DR-").ok_or_else(not_found)?;
    let row = db
        .query_row(
            "SELECT as_of, run_at, run_by, customer_ids, assignee FROM dunning_runs WHERE id = ?",
            params![number],
        )
        .await?
        .ok_or_else(not_found)?;
    let customer_ids = row
        .opt_text(3)?
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| DbError::Decode {
            column: 3,
            expected: "a JSON list of ids",
        })?;
    Ok(Run {
        run_id: run_id(number),
        as_of: row.date(0)?,
        run_at: row.string(1)?,
        run_by: row.string(2)?,
        customer_ids,
        assignee: row.opt_string(4)?,
        letters: letters_of_run(db, number).await?,
    })
}

/// A letter about to be issued, before its content.
pub(crate) struct NewLetter<'a> {
    pub run: i64,
    pub customer_id: &'a str,
    pub level: u32,
    pub level_name: &'a str,
    pub issued_on: NaiveDate,
    pub pay_by: NaiveDate,
    pub totals: &'a [CurrencyTotal],
}

/// Stores a letter with its content to come; gives its number, the
/// reference its text quotes.
pub(crate) async fn insert_letter(
    db: &impl Database,
    letter: &NewLetter<'_>,
    stamp: &crate::Stamp,
) -> Result<i64, DbError> {
    let row = db
        .query_row(
            "INSERT INTO dunning_letters (run_id, customer_id, level, level_name, issued_on, pay_by, issued_at, issued_by, totals, subject, text, html, contact_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', NULL) RETURNING id",
            params![
                letter.run,
                letter.customer_id,
                letter.level,
                letter.level_name,
                letter.issued_on,
                letter.pay_by,
                stamp.at_text(),
                &stamp.by,
                serde_json::to_string(letter.totals).expect("totals serialise"),
            ],
        )
        .await?
        .ok_or(DbError::Sql("INSERT ... RETURNING gave no row".into()))?;
    row.int(0)
}

/// The letter's content, as rendered once its reference was known, and
/// its entry in the contact log.
pub(crate) async fn store_content(
    db: &impl Database,
    letter: i64,
    subject: &str,
    text: &str,
    html: &str,
    contact_id: i64,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE dunning_letters SET subject = ?, text = ?, html = ?, contact_id = ? WHERE id = ?",
        params![subject, text, html, contact_id, letter],
    )
    .await
}

/// Gives each invoice of the letter its level. An invoice that already
/// had the level is a conflict: the same level is never issued twice.
pub(crate) async fn record_levels(
    db: &impl Database,
    letter: i64,
    issued_on: NaiveDate,
    items: &[DueItem],
) -> Result<()> {
    for due in items {
        let currency = due.item.currency;
        let inserted = db
            .query_row(
                "INSERT INTO dunning_letter_items (invoice_id, level, letter_id, issued_on, amount_minor, days_past_due)
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING invoice_id",
                params![
                    &due.item.invoice_id,
                    due.level,
                    letter,
                    issued_on,
                    currency.to_minor(due.item.amount),
                    due.item.days_past_due,
                ],
            )
            .await?;
        if inserted.is_none() {
            return Err(LedgerError::Conflict(format!(
                "invoice '{}' already had level {}",
                due.item.invoice_id, due.level
            )));
        }
    }
    Ok(())
}

/// The customers of `ids` that exist and are not assigned to `person`, in
/// the order given.
pub async fn not_assigned_to(
    db: &impl Database,
    ids: &[String],
    person: &str,
) -> Result<Vec<String>, DbError> {
    let rows = db
        .query(
            "SELECT j.value FROM json_each(?1) j
             WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = j.value AND c.assignee IS NOT ?2)
             ORDER BY j.key",
            params![serde_json::to_string(ids).expect("ids serialise"), person],
        )
        .await?;
    rows.iter().map(|row| row.string(0)).collect()
}

/// The customers of `ids` that do not exist, in the order given.
pub async fn unknown_customers(db: &impl Database, ids: &[String]) -> Result<Vec<String>, DbError> {
    let rows = db
        .query(
            "SELECT j.value FROM json_each(?1) j WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = j.value) ORDER BY j.key",
            params![serde_json::to_string(ids).expect("ids serialise")],
        )
        .await?;
    rows.iter().map(|row| row.string(0)).collect()
}
