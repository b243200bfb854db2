//! What a component answers: status, headers and a body, independent of
//! the Spin SDK so it can be built and checked natively.

use std::borrow::Cow;

use http::StatusCode;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: StatusCode, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body,
        }
    }

    /// `value` as JSON.
    pub fn json(status: StatusCode, value: &impl Serialize) -> Reply {
        let body = serde_json::to_vec(value).expect("response bodies serialise");
        Reply::new(status, "application/json", body)
    }

    pub fn ok(value: &impl Serialize) -> Reply {
        Reply::json(StatusCode::OK, value)
    }

    pub fn created(value: &impl Serialize) -> Reply {
        Reply::json(StatusCode::CREATED, value)
    }

    /// An RFC 4180 CSV table with a header row. Text cells are made safe
    /// for spreadsheets ([`spreadsheet_text`]); figure columns are written
    /// as they are.
    pub fn csv(table: &Table) -> Reply {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(vec![]);
        let figure: Vec<bool> = table
            .columns
            .iter()
            .map(|column| table.figures.contains(column))
            .collect();
        writer
            .write_record(&table.columns)
            .and_then(|()| {
                table.rows.iter().try_for_each(|row| {
                    writer.write_record(row.iter().zip(&figure).map(|(cell, &figure)| {
                        let cell = if figure {
                            Cow::Borrowed(cell.as_str())
                        } else {
                            spreadsheet_text(cell)
                        };
                        cell.into_owned().into_bytes()
                    }))
                })
            })
            .expect("writing CSV to memory cannot fail");
        let body = writer.into_inner().expect("an in-memory CSV writer");
        Reply::new(StatusCode::OK, "text/csv; charset=utf-8", body).with_header(
            "content-disposition",
            format!("attachment; filename=\"{}.csv\"", table.name),
        )
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    /// The reply as it leaves the API: never cached (answers carry business
    /// data and change with every write) and never content-sniffed.
    pub fn for_the_wire(self) -> Reply {
        API_HEADERS
            .iter()
            .fold(self, |reply, (name, value)| match reply.header(name) {
                Some(_) => reply,
                None => reply.with_header(name, *value),
            })
    }
}

/// Headers every API answer carries (see [`Reply::for_the_wire`]).
pub const API_HEADERS: [(&str, &str); 2] = [
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
];

/// A text cell a spreadsheet would take for a formula — one starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP, CSV injection) —
/// gets a leading apostrophe, so that it shows as the text it is.
pub fn spreadsheet_text(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A report as a table, for CSV.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// The file name offered for download, without `.csv`.
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The columns of figures the application writes itself — amounts,
    /// counts, dates — which are written as they are (a negative amount
    /// stays a number). Every other column is text: names, notes, ids,
    /// reasons, protected against formula injection.
    pub figures: Vec<String>,
}

impl Table {
    pub fn new(name: &str, columns: &[&str]) -> Table {
        Table {
            name: name.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: vec![],
            figures: vec![],
        }
    }

    /// Marks `columns` as figures (see [`Table::figures`]).
    pub fn with_figures(mut self, columns: &[&str]) -> Table {
        for column in columns {
            debug_assert!(self.columns.iter().any(|c| c == column), "{column}");
            self.figures.push(column.to_string());
        }
        self
    }

    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_leave_uncached_and_unsniffed() {
        for reply in [
            Reply::ok(&"x"),
            Reply::csv(&Table::new("t", &["a"])),
            crate::Problem::not_found("x").into_reply(),
        ] {
            let wire = reply.for_the_wire();
            assert_eq!(wire.header("cache-control"), Some("no-store"));
            assert_eq!(wire.header("x-content-type-options"), Some("nosniff"));
        }
        let kept = Reply::ok(&"x")
            .with_header("cache-control", "private, max-age=60")
            .for_the_wire();
        assert_eq!(kept.header("cache-control"), Some("private, max-age=60"));
        assert_eq!(
            kept.headers
                .iter()
                .filter(|(n, _)| n == "cache-control")
                .count(),
            1
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut table = Table::new("held-orders", &["order_id", "note"]);
        table.push(vec!["SO-1".into(), "said \"Friday\", maybe".into()]);
        let reply = Reply::csv(&table);
        assert_eq!(
            String::from_utf8(reply.body.clone()).unwrap(),
            "order_id,note\r\nSO-1,\"said \"\"Friday\"\", maybe\"\r\n"
        );
        assert_eq!(reply.content_type(), "text/csv; charset=utf-8");
        assert_eq!(
            reply.header("content-disposition"),
            Some("attachment; filename=\"held-orders.csv\"")
        );
    }

    #[test]
    fn text_cells_that_look_like_formulas_get_an_apostrophe() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://evil\")",
                "'=HYPERLINK(\"http://evil\")",
            ),
            ("+1+1", "'+1+1"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Acme = best", "Acme = best"),
            ("", ""),
            ("'quoted", "'quoted"),
        ] {
            assert_eq!(spreadsheet_text(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn csv_protects_text_columns_but_not_figures() {
        let mut table = Table::new("kpis", &["customer_name", "note", "amount", "cei"])
            .with_figures(&["amount", "cei"]);
        table.push(vec![
            "=cmd|' /C calc'!A0".into(),
            "-overdue, call back".into(),
            "-12.50".into(),
            "-3.00".into(),
        ]);
        let reply = Reply::csv(&table);
        let mut reader = csv::Reader::from_reader(reply.body.as_slice());
        let row: Vec<String> = reader
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(
            row,
            [
                "'=cmd|' /C calc'!A0",
                "'-overdue, call back",
                "-12.50",
                "-3.00"
            ]
        );
    }
}
