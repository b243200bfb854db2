//! Reminder letters: a manager writes each dunning level's letter as plain
//! text with placeholders, `{{customer_name}}`, checked when the policy is
//! saved; a letter is that text with the customer's figures put in,
//! rendered twice — plain text for e-mail, and HTML for printing (see
//! [`crate::print`]) with every value escaped.
//!
//! The placeholders are a fixed set ([`Placeholder`]). Most stand for a
//! short value and may appear anywhere in a line; `{{items}}`, `{{totals}}`
//! and `{{payment_instructions}}` stand for blocks (a table, lines of text)
//! and must stand alone on their line. In HTML, lines of text separated by
//! an empty line are paragraphs.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::Currency;
use crate::named::Named;
use crate::print::{self, Paper, cell, escape, header_cell, long_date, money};

crate::named! {
    /// What a letter template may name between `{{` and `}}`.
    pub enum Placeholder {
        /// The customer's name.
        CustomerName = "customer_name",
        /// The customer's id.
        CustomerId = "customer_id",
        /// The letter's reference, `DL-<n>`.
        Reference = "reference",
        /// The letter's date (the dunning run's `as_of`), spelt out.
        Date = "date",
        /// The date to pay by, spelt out.
        PayBy = "pay_by",
        /// The level's name (`Reminder`, `Final notice`).
        Level = "level",
        /// What the letter asks for, per currency: `3,800.00 USD`.
        TotalDue = "total_due",
        /// Who sends the letter (the policy's `sender`).
        Sender = "sender",
        /// Block: the overdue invoices, one per line.
        Items = "items",
        /// Block: the total due per currency.
        Totals = "totals",
        /// Block: how to pay (the policy's `payment_instructions`).
        PaymentInstructions = "payment_instructions",
    }
}

impl Placeholder {
    /// Whether it stands for a block, alone on its line.
    pub fn is_block(self) -> bool {
        matches!(
            self,
            Placeholder::Items | Placeholder::Totals | Placeholder::PaymentInstructions
        )
    }
}

/// Why a template cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{{{0}}}}}; the placeholders are {1}")]
    UnknownPlaceholder(String, String),
    #[error("'{{{{' on line {0} is not closed by '}}}}'")]
    Unclosed(usize),
    #[error("{{{{{0}}}}} stands for a block and must stand alone on its line (line {1})")]
    BlockNotAlone(Placeholder, usize),
    #[error("{{{{{0}}}}} stands for a block and cannot be used here")]
    BlockNotAllowed(Placeholder),
    #[error("must be a single line")]
    NotOneLine,
}

/// A piece of a line: text as written, or a placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Value(Placeholder),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Line {
    Pieces(Vec<Piece>),
    Block(Placeholder),
}

/// A checked template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    lines: Vec<Line>,
}

impl Template {
    /// A letter body: any placeholder, blocks alone on their lines.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let lines = text
            .lines()
            .enumerate()
            .map(|(i, line)| parse_line(line, i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Template { lines })
    }

    /// A subject line: one line, no blocks.
    pub fn parse_subject(text: &str) -> Result<Template, TemplateError> {
        if text.lines().count() > 1 {
            return Err(TemplateError::NotOneLine);
        }
        let template = Template::parse(text)?;
        for line in &template.lines {
            if let Line::Block(block) = line {
                return Err(TemplateError::BlockNotAllowed(*block));
            }
            if let Line::Pieces(pieces) = line
                && let Some(block) = pieces.iter().find_map(|piece| match piece {
                    Piece::Value(p) if p.is_block() => Some(*p),
                    _ => None,
                })
            {
                return Err(TemplateError::BlockNotAllowed(block));
            }
        }
        Ok(template)
    }

    /// The letter as plain text (e-mail), one line per template line and
    /// blocks expanded to their lines.
    pub fn render_text(&self, letter: &Letter) -> String {
        let mut out = vec![];
        for line in &self.lines {
            match line {
                Line::Pieces(pieces) => out.push(inline_text(pieces, letter)),
                Line::Block(block) => out.extend(block_text(*block, letter)),
            }
        }
        let mut text = out.join("\n");
        text.push('\n');
        text
    }

    /// A one-line text (a subject).
    pub fn render_line(&self, letter: &Letter) -> String {
        self.render_text(letter).trim_end().to_string()
    }

    /// The letter as a printable HTML document titled `title`.
    pub fn render_html(&self, letter: &Letter, title: &str, paper: Paper) -> String {
        let mut body = String::new();
        let mut paragraph: Vec<String> = vec![];
        let close = |paragraph: &mut Vec<String>, body: &mut String| {
            if !paragraph.is_empty() {
                body.push_str(&format!("<p>{}</p>\n", paragraph.join("<br>\n")));
                paragraph.clear();
            }
        };
        for line in &self.lines {
            match line {
                Line::Pieces(pieces) if is_blank(pieces) => close(&mut paragraph, &mut body),
                Line::Pieces(pieces) => paragraph.push(inline_html(pieces, letter)),
                Line::Block(block) => {
                    close(&mut paragraph, &mut body);
                    body.push_str(&block_html(*block, letter));
                }
            }
        }
        close(&mut paragraph, &mut body);
        print::document(title, paper, &body)
    }
}

fn parse_line(line: &str, number: usize) -> Result<Line, TemplateError> {
    let mut pieces = vec![];
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            pieces.push(Piece::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed(number))?;
        pieces.push(Piece::Value(placeholder(after[..end].trim())?));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    let blocks: Vec<Placeholder> = pieces
        .iter()
        .filter_map(|piece| match piece {
            Piece::Value(p) if p.is_block() => Some(*p),
            _ => None,
        })
        .collect();
    match blocks.as_slice() {
        [] => Ok(Line::Pieces(pieces)),
        [block]
            if pieces
                .iter()
                .all(|p| is_blank_piece(p) || *p == Piece::Value(*block)) =>
        {
            Ok(Line::Block(*block))
        }
        [block, ..] => Err(TemplateError::BlockNotAlone(*block, number)),
    }
}

fn placeholder(name: &str) -> Result<Placeholder, TemplateError> {
    Placeholder::parse(name).ok_or_else(|| {
        let shown: String = name.chars().take(40).collect();
        TemplateError::UnknownPlaceholder(shown, Placeholder::expected())
    })
}

fn is_blank_piece(piece: &Piece) -> bool {
    matches!(piece, Piece::Text(text) if text.trim().is_empty())
}

fn is_blank(pieces: &[Piece]) -> bool {
    pieces.iter().all(is_blank_piece)
}

/// One overdue invoice as a letter lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LetterItem {
    pub invoice_id: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub days_past_due: i64,
    pub currency: Currency,
    /// What the letter asks for: the open balance nobody disputes.
    pub amount: Decimal,
}

/// An amount of one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CurrencyTotal {
    pub currency: Currency,
    pub amount: Decimal,
}

/// Everything a letter's placeholders stand for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    pub reference: String,
    pub customer_id: String,
    pub customer_name: String,
    pub date: NaiveDate,
    pub pay_by: NaiveDate,
    pub level: String,
    pub sender: String,
    pub payment_instructions: String,
    pub items: Vec<LetterItem>,
    /// Per currency, by currency code.
    pub totals: Vec<CurrencyTotal>,
}

impl Letter {
    /// A letter with made-up figures, to preview a template with: two
    /// overdue USD invoices of a customer called Example Customer Ltd.
    pub fn sample(
        level: &str,
        sender: &str,
        payment_instructions: &str,
        date: NaiveDate,
        pay_within_days: u32,
    ) -> Letter {
        let usd = Currency::parse("USD").expect("USD is a currency");
        let item = |id: &str, days: u64, amount: Decimal| {
            let due_on = date - chrono::Days::new(days);
            LetterItem {
                invoice_id: id.into(),
                issued_on: due_on - chrono::Days::new(30),
                due_on,
                days_past_due: days as i64,
                currency: usd,
                amount,
            }
        };
        let items = vec![
            item("INV-1001", 32, Decimal::new(1_250_000, 2)),
            item("INV-1017", 9, Decimal::new(348_050, 2)),
        ];
        let mut totals = vec![];
        for item in &items {
            add_to_totals(&mut totals, item.currency, item.amount);
        }
        Letter {
            reference: "DL-0".into(),
            customer_id: "C-EXAMPLE".into(),
            customer_name: "Example Customer Ltd".into(),
            date,
            pay_by: date + chrono::Days::new(u64::from(pay_within_days)),
            level: level.into(),
            sender: sender.into(),
            payment_instructions: payment_instructions.into(),
            items,
            totals,
        }
    }
}

/// A short value, as text.
fn value(placeholder: Placeholder, letter: &Letter) -> String {
    match placeholder {
        Placeholder::CustomerName => letter.customer_name.clone(),
        Placeholder::CustomerId => letter.customer_id.clone(),
        Placeholder::Reference => letter.reference.clone(),
        Placeholder::Date => long_date(letter.date),
        Placeholder::PayBy => long_date(letter.pay_by),
        Placeholder::Level => letter.level.clone(),
        Placeholder::TotalDue => total_due(&letter.totals),
        Placeholder::Sender => letter.sender.clone(),
        // Blocks never stand inside a line (see `parse_line`).
        Placeholder::Items | Placeholder::Totals | Placeholder::PaymentInstructions => {
            String::new()
        }
    }
}

/// `3,800.00 USD`, or `3,800.00 USD and 120.00 EUR`.
fn total_due(totals: &[CurrencyTotal]) -> String {
    let amounts: Vec<String> = totals
        .iter()
        .map(|total| money(total.amount, total.currency))
        .collect();
    let amounts: Vec<&str> = amounts.iter().map(String::as_str).collect();
    crate::named::one_of(&amounts).replace(" or ", " and ")
}

fn inline_text(pieces: &[Piece], letter: &Letter) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.clone(),
            Piece::Value(placeholder) => value(*placeholder, letter),
        })
        .collect()
}

fn inline_html(pieces: &[Piece], letter: &Letter) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => escape(text).into_owned(),
            Piece::Value(placeholder) => escape(&value(*placeholder, letter)).into_owned(),
        })
        .collect()
}

const ITEM_HEADER: [&str; 5] = [
    "Invoice",
    "Invoice date",
    "Due date",
    "Days overdue",
    "Amount due",
];
const ITEM_FIGURES: [bool; 5] = [false, true, true, true, true];

fn item_cells(item: &LetterItem) -> Vec<String> {
    vec![
        item.invoice_id.clone(),
        item.issued_on.to_string(),
        item.due_on.to_string(),
        item.days_past_due.to_string(),
        money(item.amount, item.currency),
    ]
}

fn block_text(block: Placeholder, letter: &Letter) -> Vec<String> {
    match block {
        Placeholder::Items => {
            let rows: Vec<Vec<String>> = letter.items.iter().map(item_cells).collect();
            print::text_table(&ITEM_HEADER, &rows, &ITEM_FIGURES)
        }
        Placeholder::Totals => letter
            .totals
            .iter()
            .map(|total| format!("Total due: {}", money(total.amount, total.currency)))
            .collect(),
        Placeholder::PaymentInstructions => letter
            .payment_instructions
            .lines()
            .map(str::to_string)
            .collect(),
        _ => vec![value(block, letter)],
    }
}

fn block_html(block: Placeholder, letter: &Letter) -> String {
    match block {
        Placeholder::Items => items_table(&letter.items),
        Placeholder::Totals => totals_table(&letter.totals),
        Placeholder::PaymentInstructions => {
            let lines: Vec<String> = letter
                .payment_instructions
                .lines()
                .map(|line| escape(line).into_owned())
                .collect();
            if lines.iter().all(|line| line.trim().is_empty()) {
                String::new()
            } else {
                format!("<p class=\"instructions\">{}</p>\n", lines.join("<br>\n"))
            }
        }
        _ => format!("<p>{}</p>\n", escape(&value(block, letter))),
    }
}

fn items_table(items: &[LetterItem]) -> String {
    let header: String = ITEM_HEADER
        .iter()
        .zip(ITEM_FIGURES)
        .map(|(text, figure)| header_cell(text, figure))
        .collect();
    let rows: String = items
        .iter()
        .map(|item| {
            let cells: String = item_cells(item)
                .iter()
                .zip(ITEM_FIGURES)
                .map(|(text, figure)| cell(text, figure))
                .collect();
            format!("<tr>{cells}</tr>\n")
        })
        .collect();
    format!(
        "<table class=\"items\">\n<thead><tr>{header}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
    )
}

fn totals_table(totals: &[CurrencyTotal]) -> String {
    let rows: String = totals
        .iter()
        .map(|total| {
            format!(
                "<tr>{}{}</tr>\n",
                cell("Total due", false),
                cell(&money(total.amount, total.currency), true)
            )
        })
        .collect();
    format!("<table class=\"totals\">\n<tbody>\n{rows}</tbody>\n</table>\n")
}

/// Adds `amount` of `currency` to per-currency totals kept in code order.
pub fn add_to_totals(totals: &mut Vec<CurrencyTotal>, currency: Currency, amount: Decimal) {
    match totals.binary_search_by(|total| total.currency.code().cmp(currency.code())) {
        Ok(at) => totals[at].amount += amount,
        Err(at) => totals.insert(at, CurrencyTotal { currency, amount }),
    }
}

/// The field errors of a template, for a policy's validation.
pub fn check(field: &str, text: &str, subject: bool) -> Option<crate::FieldError> {
    let parsed = if subject {
        Template::parse_subject(text)
    } else {
        Template::parse(text)
    };
    parsed
        .err()
        .map(|error| crate::FieldError::new(field, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{date, usd};
    use rust_decimal::dec;

    fn letter() -> Letter {
        let eur = Currency::parse("EUR").unwrap();
        Letter {
            reference: "DL-7".into(),
            customer_id: "C-1".into(),
            customer_name: "Acme <Tools> & \"Sons\"".into(),
            date: date("2025-07-01"),
            pay_by: date("2025-07-15"),
            level: "Reminder".into(),
            sender: "Credit Services".into(),
            payment_instructions: "Bank: First Bank\nIBAN: XX00 1234".into(),
            items: vec![
                LetterItem {
                    invoice_id: "INV-1".into(),
                    issued_on: date("2025-05-01"),
                    due_on: date("2025-05-31"),
                    days_past_due: 31,
                    currency: usd(),
                    amount: dec!(3800.00),
                },
                LetterItem {
                    invoice_id: "INV-<2>".into(),
                    issued_on: date("2025-05-20"),
                    due_on: date("2025-06-19"),
                    days_past_due: 12,
                    currency: eur,
                    amount: dec!(120.00),
                },
            ],
            totals: vec![
                CurrencyTotal {
                    currency: eur,
                    amount: dec!(120.00),
                },
                CurrencyTotal {
                    currency: usd(),
                    amount: dec!(3800.00),
                },
            ],
        }
    }

    #[test]
    fn placeholders_are_filled_in_plain_text() {
        let template = Template::parse(
            "Dear {{ customer_name }} ({{customer_id}}),\nplease pay {{total_due}} by {{pay_by}}.\n\n{{items}}\n{{totals}}\n{{payment_instructions}}\n{{sender}}, {{date}}, {{reference}}, {{level}}",
        )
        .unwrap();
        let text = template.render_text(&letter());
        assert_eq!(
            text,
            "Dear Acme <Tools> & \"Sons\" (C-1),\n\
             please pay 120.00 EUR and 3,800.00 USD by 15 July 2025.\n\
             \n\
             Invoice  Invoice date    Due date  Days overdue    Amount due\n\
             -------  ------------  ----------  ------------  ------------\n\
             INV-1      2025-05-01  2025-05-31            31  3,800.00 USD\n\
             INV-<2>    2025-05-20  2025-06-19            12    120.00 EUR\n\
             Total due: 120.00 EUR\n\
             Total due: 3,800.00 USD\n\
             Bank: First Bank\n\
             IBAN: XX00 1234\n\
             Credit Services, 1 July 2025, DL-7, Reminder\n"
        );
    }

    #[test]
    fn html_escapes_customer_data_and_the_template_alike() {
        let template =
            Template::parse("Dear {{customer_name}},\n<b>bold?</b>\n\n{{items}}\nThanks").unwrap();
        let html = template.render_html(&letter(), "Reminder DL-7", Paper::Letter);
        assert!(
            html.contains("<p>Dear Acme &lt;Tools&gt; &amp; &quot;Sons&quot;,<br>\n&lt;b&gt;bold?&lt;&#x2F;b&gt;</p>"),
            "{html}"
        );
        assert!(html.contains("<td>INV-&lt;2&gt;</td>"), "{html}");
        assert!(
            html.contains("<td class=\"figure\">3,800.00 USD</td>"),
            "{html}"
        );
        assert!(html.contains("<p>Thanks</p>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("@page { size: letter;"));
    }

    #[test]
    fn an_unknown_placeholder_is_named() {
        let error = Template::parse("Hello {{customer_nme}}").unwrap_err();
        assert_eq!(
            error,
            TemplateError::UnknownPlaceholder("customer_nme".into(), Placeholder::expected())
        );
        assert!(error.to_string().starts_with("unknown placeholder {{customer_nme}}; the placeholders are customer_name, customer_id"), "{error}");
        assert_eq!(
            Template::parse("a\nb {{ date").unwrap_err(),
            TemplateError::Unclosed(2)
        );
    }

    #[test]
    fn blocks_stand_alone_and_never_in_a_subject() {
        assert_eq!(
            Template::parse("See {{items}} below").unwrap_err(),
            TemplateError::BlockNotAlone(Placeholder::Items, 1)
        );
        assert!(Template::parse("  {{ totals }}  ").is_ok());
        assert_eq!(
            Template::parse_subject("{{items}}").unwrap_err(),
            TemplateError::BlockNotAllowed(Placeholder::Items)
        );
        assert_eq!(
            Template::parse_subject("a\nb").unwrap_err(),
            TemplateError::NotOneLine
        );
        let subject = Template::parse_subject("{{level}} {{reference}}: {{total_due}}").unwrap();
        assert_eq!(
            subject.render_line(&letter()),
            "Reminder DL-7: 120.00 EUR and 3,800.00 USD"
        );
    }

    #[test]
    fn totals_are_kept_per_currency_in_code_order() {
        let eur = Currency::parse("EUR").unwrap();
        let mut totals = vec![];
        add_to_totals(&mut totals, usd(), dec!(10.00));
        add_to_totals(&mut totals, eur, dec!(1.50));
        add_to_totals(&mut totals, usd(), dec!(2.25));
        let shown: Vec<String> = totals
            .iter()
            .map(|t| format!("{} {}", t.amount, t.currency))
            .collect();
        assert_eq!(shown, ["1.50 EUR", "12.25 USD"]);
    }
}
