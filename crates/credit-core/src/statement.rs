//! A statement of account: what the customer owed when a period opened,
//! every invoice, payment, credit and allocation within it in date order
//! with the balance after each, what it owed when the period closed, and
//! the open items by age on the last day.
//!
//! The balance is what the customer owes: invoices raise it; payments
//! (applied or not) and credits lower it. An allocation — a payment applied
//! to an invoice — moves money within the account and leaves the balance
//! as it is; it is listed so the customer sees which invoices a payment
//! settled. So the closing balance is the open invoices less unapplied
//! cash, as of the last day.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::aging::{Aging, Bucket};
use crate::money::Currency;
use crate::print::{self, Paper, cell, escape, header_cell, long_date, money};

crate::named! {
    /// What a line of a statement records.
    pub enum MovementKind {
        Invoice = "invoice",
        Payment = "payment",
        Allocation = "allocation",
        Credit = "credit",
    }
}

impl MovementKind {
    /// What it does to the balance: +1 raises, −1 lowers, 0 leaves it.
    fn effect(self) -> i32 {
        match self {
            MovementKind::Invoice => 1,
            MovementKind::Payment | MovementKind::Credit => -1,
            MovementKind::Allocation => 0,
        }
    }

    fn rank(self) -> u8 {
        match self {
            MovementKind::Invoice => 0,
            MovementKind::Payment => 1,
            MovementKind::Allocation => 2,
            MovementKind::Credit => 3,
        }
    }
}

/// One line of the statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Movement {
    pub date: NaiveDate,
    pub kind: MovementKind,
    /// The invoice, the payment, the credit (`CR-<n>`); for an allocation,
    /// the payment.
    pub reference: String,
    /// The invoice a payment was applied to or a credit was issued on.
    pub invoice_id: Option<String>,
    /// The document's own amount (for an allocation, the amount applied).
    pub amount: Decimal,
    /// What it added to the balance.
    pub debit: Decimal,
    /// What it took off the balance.
    pub credit: Decimal,
    /// The balance after it.
    pub balance: Decimal,
}

impl Movement {
    /// A line before its place is known (`balance` is set by [`Statement::new`]).
    pub fn new(
        date: NaiveDate,
        kind: MovementKind,
        reference: String,
        invoice_id: Option<String>,
        amount: Decimal,
        currency: Currency,
    ) -> Movement {
        let zero = currency.zero();
        let (debit, credit) = match kind.effect() {
            1 => (amount, zero),
            -1 => (zero, amount),
            _ => (zero, zero),
        };
        Movement {
            date,
            kind,
            reference,
            invoice_id,
            amount,
            debit,
            credit,
            balance: zero,
        }
    }

    /// What the line says, in words.
    pub fn description(&self) -> String {
        let invoice = self.invoice_id.as_deref().unwrap_or("");
        match self.kind {
            MovementKind::Invoice => format!("Invoice {}", self.reference),
            MovementKind::Payment => format!("Payment {}", self.reference),
            MovementKind::Allocation => format!(
                "Payment {} applied to invoice {invoice}: {}",
                self.reference,
                print::grouped(self.amount)
            ),
            MovementKind::Credit => format!("Credit {} on invoice {invoice}", self.reference),
        }
    }
}

/// An active dispute, as the statement lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenDispute {
    /// `D-<n>`.
    pub dispute_id: String,
    pub invoice_id: String,
    pub amount: Decimal,
    pub reason_code: String,
    pub opened_on: NaiveDate,
}

/// A statement of account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub customer_id: String,
    pub customer_name: String,
    pub currency: Currency,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// What the customer owed at the end of the day before `from`.
    pub opening_balance: Decimal,
    /// In date order: on one day invoices, then payments with their
    /// allocations, then credits.
    pub movements: Vec<Movement>,
    pub total_debits: Decimal,
    pub total_credits: Decimal,
    /// What the customer owed at the end of `to`.
    pub closing_balance: Decimal,
    /// Open invoices by days past due as of `to`.
    pub aging: Aging,
    /// Disputes open at the end of `to`.
    pub open_disputes: Vec<OpenDispute>,
}

/// Who the statement is for and over which days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heading {
    pub customer_id: String,
    pub customer_name: String,
    pub currency: Currency,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Statement {
    /// Orders the movements and runs the balance through them.
    pub fn new(
        heading: Heading,
        opening_balance: Decimal,
        mut movements: Vec<Movement>,
        aging: Aging,
        open_disputes: Vec<OpenDispute>,
    ) -> Statement {
        movements.sort_by(|a, b| {
            (a.date, a.kind.rank(), &a.reference, &a.invoice_id).cmp(&(
                b.date,
                b.kind.rank(),
                &b.reference,
                &b.invoice_id,
            ))
        });
        let zero = heading.currency.zero();
        let (mut balance, mut debits, mut credits) = (opening_balance, zero, zero);
        for movement in &mut movements {
            balance += movement.debit - movement.credit;
            debits += movement.debit;
            credits += movement.credit;
            movement.balance = balance;
        }
        Statement {
            customer_id: heading.customer_id,
            customer_name: heading.customer_name,
            currency: heading.currency,
            from: heading.from,
            to: heading.to,
            opening_balance,
            movements,
            total_debits: debits,
            total_credits: credits,
            closing_balance: balance,
            aging,
            open_disputes,
        }
    }

    fn title(&self) -> String {
        format!(
            "Statement of account {} {} to {}",
            self.customer_id, self.from, self.to
        )
    }

    fn money(&self, amount: Decimal) -> String {
        money(amount, self.currency)
    }

    /// The statement as plain text (e-mail).
    pub fn render_text(&self, sender: &str) -> String {
        let mut lines = vec![
            sender.to_string(),
            String::new(),
            format!(
                "Statement of account for {} ({})",
                self.customer_name, self.customer_id
            ),
            format!("{} to {}", long_date(self.from), long_date(self.to)),
            String::new(),
            format!(
                "Opening balance on {}: {}",
                long_date(self.from),
                self.money(self.opening_balance)
            ),
            String::new(),
        ];
        let rows: Vec<Vec<String>> = self
            .movements
            .iter()
            .map(|m| self.movement_cells(m))
            .collect();
        lines.extend(print::text_table(
            &MOVEMENT_HEADER,
            &rows,
            &MOVEMENT_FIGURES,
        ));
        lines.push(String::new());
        lines.push(format!(
            "Closing balance on {}: {}",
            long_date(self.to),
            self.money(self.closing_balance)
        ));
        lines.push(String::new());
        lines.push(format!("Open invoices by age on {}:", long_date(self.to)));
        let aging: Vec<Vec<String>> = Bucket::ALL
            .iter()
            .map(|b| vec![bucket_label(*b).to_string(), self.money(self.aging.get(*b))])
            .collect();
        lines.extend(print::text_table(
            &["Days past due", "Open"],
            &aging,
            &[false, true],
        ));
        if !self.open_disputes.is_empty() {
            lines.push(String::new());
            lines.push("Open disputes:".into());
            let rows: Vec<Vec<String>> = self
                .open_disputes
                .iter()
                .map(|d| self.dispute_cells(d))
                .collect();
            lines.extend(print::text_table(&DISPUTE_HEADER, &rows, &DISPUTE_FIGURES));
        }
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }

    /// The statement as a printable HTML document.
    pub fn render_html(&self, sender: &str, paper: Paper) -> String {
        let mut body = format!(
            "<p>{}</p>\n<h1>Statement of account</h1>\n<dl>\n<dt>Customer</dt><dd>{} ({})</dd>\n<dt>Period</dt><dd>{} to {}</dd>\n<dt>Currency</dt><dd>{}</dd>\n</dl>\n",
            escape(sender),
            escape(&self.customer_name),
            escape(&self.customer_id),
            long_date(self.from),
            long_date(self.to),
            self.currency,
        );
        body.push_str(&self.movements_html());
        body.push_str(&format!(
            "<h2>Open invoices by age on {}</h2>\n{}",
            long_date(self.to),
            self.aging_html()
        ));
        if !self.open_disputes.is_empty() {
            body.push_str("<h2>Open disputes</h2>\n");
            let rows: Vec<Vec<String>> = self
                .open_disputes
                .iter()
                .map(|d| self.dispute_cells(d))
                .collect();
            body.push_str(&html_table(
                "disputes",
                &DISPUTE_HEADER,
                &rows,
                &DISPUTE_FIGURES,
                "",
            ));
        }
        print::document(&self.title(), paper, &body)
    }

    fn movements_html(&self) -> String {
        let mut rows = vec![self.balance_row("Opening balance", self.from, self.opening_balance)];
        rows.extend(self.movements.iter().map(|m| self.movement_cells(m)));
        let footer = format!(
            "<tfoot><tr>{}{}{}{}{}</tr></tfoot>\n",
            cell(&self.to.to_string(), false),
            cell("Closing balance", false),
            cell(&self.money(self.total_debits), true),
            cell(&self.money(self.total_credits), true),
            cell(&self.money(self.closing_balance), true),
        );
        html_table(
            "movements",
            &MOVEMENT_HEADER,
            &rows,
            &MOVEMENT_FIGURES,
            &footer,
        )
    }

    fn balance_row(&self, what: &str, on: NaiveDate, balance: Decimal) -> Vec<String> {
        vec![
            on.to_string(),
            what.to_string(),
            String::new(),
            String::new(),
            self.money(balance),
        ]
    }

    fn aging_html(&self) -> String {
        let header: Vec<&str> = Bucket::ALL
            .iter()
            .map(|b| bucket_label(*b))
            .chain(["Total"])
            .collect();
        let row: Vec<String> = Bucket::ALL
            .iter()
            .map(|b| self.money(self.aging.get(*b)))
            .chain([self.money(self.aging.total)])
            .collect();
        let figures = vec![true; header.len()];
        html_table("aging", &header, &[row], &figures, "")
    }

    fn movement_cells(&self, movement: &Movement) -> Vec<String> {
        let figure = |amount: Decimal| {
            if amount.is_zero() {
                String::new()
            } else {
                self.money(amount)
            }
        };
        vec![
            movement.date.to_string(),
            movement.description(),
            figure(movement.debit),
            figure(movement.credit),
            self.money(movement.balance),
        ]
    }

    fn dispute_cells(&self, dispute: &OpenDispute) -> Vec<String> {
        vec![
            dispute.dispute_id.clone(),
            dispute.invoice_id.clone(),
            dispute.reason_code.clone(),
            dispute.opened_on.to_string(),
            self.money(dispute.amount),
        ]
    }
}

const MOVEMENT_HEADER: [&str; 5] = ["Date", "Description", "Debit", "Credit", "Balance"];
const MOVEMENT_FIGURES: [bool; 5] = [false, false, true, true, true];
const DISPUTE_HEADER: [&str; 5] = ["Dispute", "Invoice", "Reason", "Opened", "Amount"];
const DISPUTE_FIGURES: [bool; 5] = [false, false, false, true, true];

fn bucket_label(bucket: Bucket) -> &'static str {
    match bucket {
        Bucket::Current => "Not yet due",
        Bucket::Days1To30 => "1-30",
        Bucket::Days31To60 => "31-60",
        Bucket::Days61To90 => "61-90",
        Bucket::Days91To120 => "91-120",
        Bucket::Over120 => "Over 120",
    }
}

fn html_table(
    class: &str,
    header: &[&str],
    rows: &[Vec<String>],
    figures: &[bool],
    footer: &str,
) -> String {
    let head: String = header
        .iter()
        .zip(figures)
        .map(|(h, f)| header_cell(h, *f))
        .collect();
    let body: String = rows
        .iter()
        .map(|row| {
            let cells: String = row.iter().zip(figures).map(|(c, f)| cell(c, *f)).collect();
            format!("<tr>{cells}</tr>\n")
        })
        .collect();
    format!(
        "<table class=\"{class}\">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n{footer}</table>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{date, usd};
    use rust_decimal::dec;

    fn statement() -> Statement {
        let usd = usd();
        let line = |on: &str, kind, reference: &str, invoice: Option<&str>, amount| {
            Movement::new(
                date(on),
                kind,
                reference.into(),
                invoice.map(str::to_string),
                amount,
                usd,
            )
        };
        let mut aging = Aging::zero(2);
        aging.add(-5, dec!(700.00));
        Statement::new(
            Heading {
                customer_id: "C-1".into(),
                customer_name: "Acme & Co".into(),
                currency: usd,
                from: date("2025-06-01"),
                to: date("2025-06-30"),
            },
            dec!(1000.00),
            vec![
                line(
                    "2025-06-20",
                    MovementKind::Credit,
                    "CR-1",
                    Some("INV-2"),
                    dec!(100.00),
                ),
                line(
                    "2025-06-10",
                    MovementKind::Allocation,
                    "PAY-1",
                    Some("INV-1"),
                    dec!(1000.00),
                ),
                line(
                    "2025-06-10",
                    MovementKind::Payment,
                    "PAY-1",
                    None,
                    dec!(1200.00),
                ),
                line(
                    "2025-06-10",
                    MovementKind::Invoice,
                    "INV-2",
                    None,
                    dec!(1000.00),
                ),
            ],
            aging,
            vec![],
        )
    }

    #[test]
    fn movements_run_in_date_order_with_the_balance_after_each() {
        let s = statement();
        let lines: Vec<(MovementKind, String)> = s
            .movements
            .iter()
            .map(|m| (m.kind, m.balance.to_string()))
            .collect();
        assert_eq!(
            lines,
            [
                (MovementKind::Invoice, "2000.00".into()),
                (MovementKind::Payment, "800.00".into()),
                (MovementKind::Allocation, "800.00".into()),
                (MovementKind::Credit, "700.00".into()),
            ]
        );
        assert_eq!(s.total_debits, dec!(1000.00));
        assert_eq!(s.total_credits, dec!(1300.00));
        assert_eq!(s.closing_balance, dec!(700.00));
        assert_eq!(
            s.closing_balance,
            s.opening_balance + s.total_debits - s.total_credits
        );
    }

    #[test]
    fn the_statement_prints_and_reads_as_text() {
        let s = statement();
        let text = s.render_text("Credit Services");
        assert!(
            text.contains("Opening balance on 1 June 2025: 1,000.00 USD"),
            "{text}"
        );
        assert!(
            text.contains("Payment PAY-1 applied to invoice INV-1: 1,000.00"),
            "{text}"
        );
        assert!(
            text.contains("Closing balance on 30 June 2025: 700.00 USD"),
            "{text}"
        );
        let html = s.render_html("Credit Services", Paper::A4);
        assert!(html.contains("Acme &amp; Co (C-1)"), "{html}");
        assert!(
            html.contains("<td class=\"figure\">700.00 USD</td>"),
            "{html}"
        );
        assert!(html.contains("@page { size: A4;"));
    }
}
