//! Issuing a statement of account: the statement is rendered (text for
//! e-mail, HTML for print), logged as a letter in the contact log and
//! recorded as a `statement.issued` event — in one transaction — so the ERP
//! or a mail relay sends it.

use chrono::NaiveDate;
use credit_core::collections::Channel;
use credit_core::dunning::DunningPolicy;
use credit_core::events::EventType;
use serde::Serialize;
use serde_json::json;

use crate::contacts::{self, NewContact};
use crate::customers;
use crate::db::transaction;
use crate::events::{self, NewEvent};
use crate::statements::{self, StatementOfAccount};
use crate::{Database, Result, Stamp};

/// The answer to `POST /customers/{id}/statement`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssuedStatement {
    #[serde(flatten)]
    pub statement: StatementOfAccount,
    pub issued_at: String,
    pub issued_by: String,
    /// The statement's entry in the contact log.
    pub contact_id: i64,
}

pub async fn issue(
    db: &impl Database,
    customer_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    policy: &DunningPolicy,
    stamp: &Stamp,
) -> Result<IssuedStatement> {
    transaction(db, async |db| {
        let customer = customers::get(db, customer_id).await?;
        let statement = statements::statement(db, customer_id, from, to).await?;
        let closing =
            credit_core::print::money(statement.statement.closing_balance, customer.currency);
        let contact = NewContact {
            channel: Channel::Letter,
            outcome: "Statement of account".into(),
            note: format!("Statement {from} to {to}: closing balance {closing}"),
            contacted_on: stamp.today(),
            promise: None,
        };
        let contact_id = contacts::insert(db, &customer, &contact, stamp).await?;
        let issued = IssuedStatement {
            statement,
            issued_at: stamp.at_text(),
            issued_by: stamp.by.clone(),
            contact_id,
        };
        let mut data = serde_json::to_value(&issued).expect("statements serialise");
        data["text"] = json!(issued.statement.statement.render_text(&policy.sender));
        data["html"] = json!(
            issued
                .statement
                .statement
                .render_html(&policy.sender, policy.paper)
        );
        let event = NewEvent {
            kind: EventType::StatementIssued,
            subject: customer.id.clone(),
            data,
        };
        events::record(db, event, stamp).await?;
        Ok(issued)
    })
    .await
}
