//! Releases by hand in a period, for supervisors reviewing associates'
//! output: who overrode which holds, for how much, and which of those a
//! manager approved (four eyes).

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use credit_core::hold::Reason;
use credit_core::metrics::Period;
use credit_core::{Currency, Named};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::db::{Columns, Database, DbError, Record, Records};
use crate::orders::DecisionKind;
use crate::params;

/// One release by hand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReleaseLine {
    pub released_at: String,
    pub order_id: String,
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub amount: Decimal,
    pub currency: Currency,
    /// The person whose decision it was: who released it, or who asked for
    /// a release a manager approved.
    pub person: String,
    /// The manager who approved it, for a four-eyes release.
    pub approved_by: Option<String>,
    pub note: Option<String>,
    /// The holds the release overrode, as they stood when it was made.
    pub overridden: Vec<Reason>,
}

struct StoredRelease {
    released_at: String,
    order_id: String,
    kind: DecisionKind,
    actor: String,
    note: Option<String>,
    requested_by: Option<String>,
    overridden: Vec<Reason>,
    customer_id: String,
    customer_name: Option<String>,
    currency: Currency,
    amount_minor: i64,
}

impl Record for StoredRelease {
    const SELECT: &'static str = "od.decided_at, od.order_id, od.kind, od.actor, od.note,
        json_extract(od.inputs, '$.requested_by'), COALESCE(json_extract(od.inputs, '$.failing_reasons'), '[]'),
        o.customer_id, c.name, COALESCE(o.currency, c.currency), o.amount_minor";

    fn read(columns: &mut Columns<'_>) -> Result<StoredRelease, DbError> {
        Ok(StoredRelease {
            released_at: columns.string()?,
            order_id: columns.string()?,
            kind: columns.named()?,
            actor: columns.string()?,
            note: columns.opt_string()?,
            requested_by: columns.opt_string()?,
            overridden: columns.json()?,
            customer_id: columns.string()?,
            customer_name: columns.opt_string()?,
            currency: columns.currency()?,
            amount_minor: columns.int()?,
        })
    }
}

impl StoredRelease {
    fn line(self) -> ReleaseLine {
        let approved = self.kind == DecisionKind::ApprovedRelease;
        let (person, approved_by) = match (approved, self.requested_by) {
            (true, Some(requester)) => (requester, Some(self.actor)),
            (_, _) => (self.actor, None),
        };
        ReleaseLine {
            released_at: self.released_at,
            order_id: self.order_id,
            customer_id: self.customer_id,
            customer_name: self.customer_name,
            amount: self.currency.from_minor(self.amount_minor),
            currency: self.currency,
            person,
            approved_by,
            note: self.note,
            overridden: self.overridden,
        }
    }
}

/// One person's releases in the period, per currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonTotal {
    pub person: String,
    pub currency: Currency,
    pub releases: u64,
    pub amount: Decimal,
    /// Of those, released with a manager's approval.
    pub approved: u64,
}

/// `GET /reports/releases`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReleasesReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only this person's releases, when asked.
    pub by: Option<String>,
    pub people: Vec<PersonTotal>,
    pub releases: Vec<ReleaseLine>,
}

/// Releases by hand made from `period.from` to `period.to` (inclusive,
/// UTC days), oldest first; only those of `by` when given.
pub async fn releases(
    db: &impl Database,
    period: Period,
    by: Option<&str>,
) -> Result<ReleasesReport, DbError> {
    let after_last_day = period.to + Days::new(1);
    let sql = format!(
        "SELECT {} FROM order_decisions od
         JOIN orders o ON o.id = od.order_id
         LEFT JOIN customers c ON c.id = o.customer_id
         WHERE od.decided_at >= ?1 AND od.decided_at < ?2 AND od.kind IN ({})
         ORDER BY od.decided_at, od.id",
        StoredRelease::SELECT,
        DecisionKind::sql_list(&[DecisionKind::ManualRelease, DecisionKind::ApprovedRelease]),
    );
    let rows: Vec<StoredRelease> = db
        .records(&sql, params![period.from, after_last_day])
        .await?;
    let releases: Vec<ReleaseLine> = rows
        .into_iter()
        .map(StoredRelease::line)
        .filter(|line| by.is_none_or(|person| line.person == person))
        .collect();
    Ok(ReleasesReport {
        from: period.from,
        to: period.to,
        by: by.map(str::to_string),
        people: per_person(&releases),
        releases,
    })
}

fn per_person(releases: &[ReleaseLine]) -> Vec<PersonTotal> {
    let mut totals: BTreeMap<(&str, &str), PersonTotal> = BTreeMap::new();
    for line in releases {
        let total = totals
            .entry((&line.person, line.currency.code()))
            .or_insert_with(|| PersonTotal {
                person: line.person.clone(),
                currency: line.currency,
                releases: 0,
                amount: Decimal::ZERO,
                approved: 0,
            });
        total.releases += 1;
        total.amount += line.amount;
        total.approved += u64::from(line.approved_by.is_some());
    }
    totals.into_values().collect()
}
