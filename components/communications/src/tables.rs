//! The dunning proposal and statements as CSV tables (RFC 4180, header
//! row), each cell the JSON's value: amounts as decimal text, dates
//! `YYYY-MM-DD`, an empty cell for null, lists of invoices joined with `;`.
//!
//! The proposal has one row per customer and currency (a customer owing in
//! two currencies has two). A statement has one row per movement, between
//! a first row with the opening balance and a last one with the closing
//! balance: on a statement those are lines of their own.

use api::Table;
use credit_core::Currency;
use credit_core::letters::CurrencyTotal;
use ledger::dunning::{Proposal, ProposalLine};
use ledger::statements::StatementOfAccount;
use rust_decimal::Decimal;

pub fn proposal(report: &Proposal) -> Table {
    let mut table = Table::new(
        &format!("dunning-{}", report.as_of),
        &[
            "customer_id",
            "customer_name",
            "currency",
            "overdue",
            "level",
            "level_name",
            "amount_due",
            "invoices",
            "reason",
            "next_on",
        ],
    )
    .with_figures(&["overdue", "level", "amount_due", "next_on"]);
    for line in &report.customers {
        for currency in currencies(line) {
            table.push(proposal_row(line, currency));
        }
    }
    table
}

/// The currencies a line has amounts in, in code order.
fn currencies(line: &ProposalLine) -> Vec<Currency> {
    let mut all: Vec<Currency> = line
        .overdue
        .iter()
        .chain(&line.totals)
        .map(|total| total.currency)
        .collect();
    all.sort_by_key(|currency| currency.code());
    all.dedup();
    all
}

fn amount_in(totals: &[CurrencyTotal], currency: Currency) -> Decimal {
    totals
        .iter()
        .find(|total| total.currency == currency)
        .map_or(currency.zero(), |total| total.amount)
}

fn proposal_row(line: &ProposalLine, currency: Currency) -> Vec<String> {
    let invoices: Vec<&str> = line
        .invoices
        .iter()
        .filter(|due| due.item.currency == currency)
        .map(|due| due.item.invoice_id.as_str())
        .collect();
    vec![
        line.customer_id.clone(),
        line.customer_name.clone(),
        currency.to_string(),
        amount_in(&line.overdue, currency).to_string(),
        line.level.map(|l| l.to_string()).unwrap_or_default(),
        line.level_name.clone().unwrap_or_default(),
        amount_in(&line.totals, currency).to_string(),
        invoices.join(";"),
        line.reason.map(|r| r.to_string()).unwrap_or_default(),
        line.next_on.map(|d| d.to_string()).unwrap_or_default(),
    ]
}

pub fn statement(name: &str, statement: &StatementOfAccount) -> Table {
    let s = &statement.statement;
    let mut table = Table::new(
        name,
        &[
            "date",
            "kind",
            "reference",
            "invoice_id",
            "description",
            "amount",
            "debit",
            "credit",
            "balance",
        ],
    )
    .with_figures(&["date", "amount", "debit", "credit", "balance"]);
    let balance_row = |date: String, kind: &str, balance: Decimal| {
        let mut row = vec![date, kind.to_string()];
        row.extend(std::iter::repeat_n(String::new(), 6));
        row.push(balance.to_string());
        row
    };
    table.push(balance_row(
        s.from.to_string(),
        "opening_balance",
        s.opening_balance,
    ));
    for movement in &s.movements {
        table.push(vec![
            movement.date.to_string(),
            movement.kind.to_string(),
            movement.reference.clone(),
            movement.invoice_id.clone().unwrap_or_default(),
            movement.description(),
            movement.amount.to_string(),
            movement.debit.to_string(),
            movement.credit.to_string(),
            movement.balance.to_string(),
        ]);
    }
    table.push(balance_row(
        s.to.to_string(),
        "closing_balance",
        s.closing_balance,
    ));
    table
}
