//! Customer search, as an associate on the phone types: the id's first
//! characters, or any word of the name (or the start of one), without
//! regard to case or accents. Exact ids first, then ids that start so,
//! then names, the best match first. Names are found through the
//! `customer_names` full-text index and ids through a case-insensitive
//! index, never by reading every customer.

use chrono::NaiveDate;
use credit_core::hold::OrderStatus;
use credit_core::{Currency, Named, Policy};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::customers::Customer;
use crate::db::{Database, DbError, Record, Records, Value};
use crate::{accounts, params};

/// Most words of a search that are looked for.
const MAX_WORDS: usize = 8;

/// A customer found, with the figures an associate needs at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomerHit {
    pub id: String,
    pub name: String,
    pub currency: Currency,
    pub assignee: Option<String>,
    pub on_hold: bool,
    pub credit_limit: Option<Decimal>,
    pub exposure: Decimal,
    pub available: Option<Decimal>,
    pub past_due: Decimal,
    pub held_orders: u64,
}

/// A page of customers found and how many there are in all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SearchPage {
    pub q: String,
    pub as_of: NaiveDate,
    pub total: u64,
    pub offset: u32,
    pub limit: u32,
    pub customers: Vec<CustomerHit>,
}

/// A search: the text typed, the page, and the date figures are as of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search<'a> {
    pub text: &'a str,
    pub offset: u32,
    pub limit: u32,
    pub as_of: NaiveDate,
}

/// The customers `search.text` finds, best first, one page of them.
pub async fn customers(
    db: &impl Database,
    search: &Search<'_>,
    policy: &Policy,
) -> Result<SearchPage, DbError> {
    let (hits, params) = hits(search.text);
    let count = db
        .query_row(&format!("{hits} SELECT COUNT(*) FROM best"), params.clone())
        .await?;
    let total = count.map_or(Ok(0), |row| row.int(0))?;
    let mut page_params = params;
    page_params.extend([Value::from(search.limit), Value::from(search.offset)]);
    let sql = format!(
        "{hits} SELECT {} FROM best JOIN customers c ON c.id = best.customer_id
         ORDER BY best.tier, best.score, c.name, c.id LIMIT ? OFFSET ?",
        Customer::SELECT
    );
    let found: Vec<Customer> = db.records(&sql, page_params).await?;
    let mut customers = vec![];
    for customer in found {
        customers.push(hit(db, customer, search.as_of, policy).await?);
    }
    Ok(SearchPage {
        q: search.text.to_string(),
        as_of: search.as_of,
        total: u64::try_from(total).unwrap_or(0),
        offset: search.offset,
        limit: search.limit,
        customers,
    })
}

/// The CTE `best` of customers found, one row each with its tier (0: the
/// id itself, 1: an id that starts so, 2: a name) and name score, and the
/// parameters it binds.
fn hits(text: &str) -> (String, Vec<Value>) {
    let trimmed = text.trim();
    let mut found = vec![
        "SELECT c.id AS customer_id, CASE WHEN c.id = ? COLLATE NOCASE THEN 0 ELSE 1 END AS tier, 0.0 AS score
         FROM customers c WHERE c.id LIKE ? ESCAPE '\\'"
            .to_string(),
    ];
    let mut params: Vec<Value> = vec![trimmed.into(), id_prefix_pattern(trimmed).into()];
    if let Some(names) = name_match(text) {
        found.push(
            "SELECT customer_id, 2, bm25(customer_names) FROM customer_names WHERE customer_names MATCH ?"
                .to_string(),
        );
        params.push(names.into());
    }
    let sql = format!(
        "WITH hits AS ({}),
         best AS (SELECT customer_id, MIN(tier) AS tier, MIN(score) AS score FROM hits GROUP BY customer_id)",
        found.join(" UNION ALL ")
    );
    (sql, params)
}

/// `LIKE` pattern of ids starting with `prefix`, its wildcards escaped.
fn id_prefix_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The full-text query for names with any of the words of `text`, each
/// (but a single letter, which would match half the book) also as the
/// start of a longer word; `None` without a word. Words are runs of
/// letters and digits, so nothing typed is read as query syntax.
fn name_match(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(MAX_WORDS)
        .map(|word| match word.chars().count() {
            1 => format!("\"{word}\""),
            _ => format!("\"{word}\"*"),
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

async fn hit(
    db: &impl Database,
    customer: Customer,
    as_of: NaiveDate,
    policy: &Policy,
) -> Result<CustomerHit, DbError> {
    let account = accounts::account(db, &customer, None).await?;
    let exposure = account.exposure();
    let held_orders = held_orders(db, &customer.id).await?;
    Ok(CustomerHit {
        exposure,
        available: customer.credit_limit.map(|limit| limit - exposure),
        past_due: account.past_due(as_of, account.grace_days(policy)),
        held_orders,
        id: customer.id,
        name: customer.name,
        currency: customer.currency,
        assignee: customer.assignee,
        on_hold: customer.on_hold,
        credit_limit: customer.credit_limit,
    })
}

async fn held_orders(db: &impl Database, customer_id: &str) -> Result<u64, DbError> {
    let sql = format!(
        "SELECT COUNT(*) FROM orders WHERE customer_id = ? AND status = {}",
        OrderStatus::sql_list(&[OrderStatus::Held])
    );
    let row = db.query_row(&sql, params![customer_id]).await?;
    Ok(u64::try_from(row.map_or(Ok(0), |row| row.int(0))?).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_prefix_terms_and_punctuation_is_not_syntax() {
        assert_eq!(
            name_match("Acme tools").as_deref(),
            Some("\"Acme\"* OR \"tools\"*")
        );
        assert_eq!(
            name_match("o'brien \"AND\" NEAR(xy)").as_deref(),
            Some("\"o\" OR \"brien\"* OR \"AND\"* OR \"NEAR\"* OR \"xy\"*")
        );
        assert_eq!(name_match("Müller").as_deref(), Some("\"Müller\"*"));
        assert_eq!(name_match(" -*- "), None);
    }

    #[test]
    fn id_prefixes_escape_like_wildcards() {
        assert_eq!(id_prefix_pattern("C-1"), "C-1%");
        assert_eq!(id_prefix_pattern("50%_x\\"), "50\\%\\_x\\\\%");
    }
}
