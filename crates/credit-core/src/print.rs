//! Printed documents — reminder letters and statements of account — share
//! their look: one HTML page made for printing on A4 or US Letter (print
//! CSS `@page`), customer data escaped, amounts written with their
//! currency, dates spelt out.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::Currency;

crate::named! {
    /// The paper a printed document is laid out for.
    pub enum Paper {
        A4 = "a4",
        Letter = "letter",
    }
}

impl Paper {
    /// The CSS `@page` size.
    fn css_size(self) -> &'static str {
        match self {
            Paper::A4 => "A4",
            Paper::Letter => "letter",
        }
    }
}

/// Text made safe inside an HTML element or a double-quoted attribute.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_safe(text)
}

/// An amount with its currency, its thousands grouped: `12,500.00 USD`.
pub fn money(amount: Decimal, currency: Currency) -> String {
    format!("{} {currency}", grouped(currency.round(amount)))
}

/// A decimal with its whole part grouped by thousands: `-1,234,567.80`.
pub fn grouped(amount: Decimal) -> String {
    let text = amount.to_string();
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let mut out = String::from(sign);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A date as a letter writes it: `30 June 2025`.
pub fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// The style of every printed page. The text column (178 mm) fits A4
/// (210 mm) and US Letter (216 mm) alike; only `@page` differs.
const STYLE: &str = "
html { font: 10.5pt/1.45 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; color: #111; }
body { margin: 0; }
main { max-width: 178mm; margin: 0 auto; }
@media screen { main { margin: 12mm auto; padding: 0 6mm; } }
h1 { font-size: 15pt; margin: 0 0 4mm; }
h2 { font-size: 11.5pt; margin: 6mm 0 2mm; }
p { margin: 0 0 3.5mm; }
table { width: 100%; border-collapse: collapse; margin: 0 0 4mm; font-variant-numeric: tabular-nums; }
th, td { padding: 1.2mm 2mm; border-bottom: 0.25mm solid #999; text-align: left; vertical-align: top; }
th { border-bottom: 0.5mm solid #111; font-weight: 600; }
.figure { text-align: right; white-space: nowrap; }
td:first-child { white-space: nowrap; }
tfoot td { border-bottom: none; font-weight: 600; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.5mm 5mm; margin: 0 0 4mm; }
dt { font-weight: 600; }
dd { margin: 0; }
";

/// A whole HTML document around `body` (HTML already escaped), laid out
/// for `paper`. `title` is plain text.
pub fn document(title: &str, paper: Paper, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n@page {{ size: {}; margin: 18mm 16mm 20mm; }}{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(title),
        paper.css_size(),
    )
}

/// A table cell of a figure (right-aligned) or of text.
pub fn cell(text: &str, figure: bool) -> String {
    let class = if figure { " class=\"figure\"" } else { "" };
    format!("<td{class}>{}</td>", escape(text))
}

/// A header cell, right-aligned over figures.
pub fn header_cell(text: &str, figure: bool) -> String {
    let class = if figure { " class=\"figure\"" } else { "" };
    format!("<th{class}>{}</th>", escape(text))
}

/// Plain-text columns: each column as wide as its widest cell, figures
/// right-aligned, two spaces between columns.
pub fn text_table(header: &[&str], rows: &[Vec<String>], figures: &[bool]) -> Vec<String> {
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .chain([header[column].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(column, cell)| {
                let pad = widths[column] - cell.chars().count();
                if figures[column] {
                    format!("{}{cell}", " ".repeat(pad))
                } else {
                    format!("{cell}{}", " ".repeat(pad))
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut lines = vec![line(header.to_vec())];
    lines.push(line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    lines.extend(
        rows.iter()
            .map(|row| line(row.iter().map(String::as_str).collect())),
    );
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{date, usd};
    use rust_decimal::dec;

    #[test]
    fn amounts_are_grouped_by_thousands_with_their_currency() {
        assert_eq!(money(dec!(1234567.8), usd()), "1,234,567.80 USD");
        assert_eq!(money(dec!(999), usd()), "999.00 USD");
        assert_eq!(grouped(dec!(-1000.5)), "-1,000.5");
        assert_eq!(grouped(dec!(100000)), "100,000");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(money(dec!(1500000), jpy), "1,500,000 JPY");
    }

    #[test]
    fn dates_are_spelt_out() {
        assert_eq!(long_date(date("2025-07-05")), "5 July 2025");
    }

    #[test]
    fn customer_text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"Co\""),
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2F;script&gt; &amp; &quot;Co&quot;"
        );
    }

    #[test]
    fn documents_are_laid_out_for_their_paper() {
        let a4 = document("Reminder <1>", Paper::A4, "<p>x</p>\n");
        assert!(a4.contains("@page { size: A4;"), "{a4}");
        assert!(a4.contains("<title>Reminder &lt;1&gt;</title>"));
        let letter = document("t", Paper::Letter, "");
        assert!(letter.contains("@page { size: letter;"));
    }

    #[test]
    fn text_tables_align_their_columns() {
        let rows = vec![
            vec!["INV-1".to_string(), "1,000.00".to_string()],
            vec!["INV-10002".to_string(), "5.00".to_string()],
        ];
        let lines = text_table(&["Invoice", "Amount"], &rows, &[false, true]);
        assert_eq!(
            lines,
            [
                "Invoice      Amount",
                "---------  --------",
                "INV-1      1,000.00",
                "INV-10002      5.00",
            ]
        );
    }
}
