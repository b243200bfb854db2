//! What a component answers: status, headers and a body, independent of
//! the Spin SDK so it can be built and checked natively.

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

    /// An RFC 4180 CSV table with a header row.
    pub fn csv(table: &Table) -> Reply {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(vec![]);
        writer
            .write_record(&table.columns)
            .and_then(|()| {
                table
                    .rows
                    .iter()
                    .try_for_each(|row| writer.write_record(row))
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
}

/// A report as a table, for CSV.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// The file name offered for download, without `.csv`.
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(name: &str, columns: &[&str]) -> Table {
        Table {
            name: name.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: vec![],
        }
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
}
