//! R2, payment allocation: invoices named in the remittance first, then
//! the oldest due, skipping disputed amounts; what is left is unapplied cash.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::OpenInvoice;

/// "Pay this much of that invoice", as the customer's remittance advice says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemittanceLine {
    pub invoice_id: String,
    pub amount: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub invoice_id: String,
    pub amount: Decimal,
}

/// A named invoice the remittance paid less than its open balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortPay {
    pub invoice_id: String,
    /// What stays open on the invoice.
    pub residual: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocationPlan {
    pub allocations: Vec<Allocation>,
    pub unapplied: Decimal,
    pub short_pays: Vec<ShortPay>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("remittance names invoice {0}, which is not an invoice of this customer")]
    UnknownInvoice(String),
    #[error("remittance names invoice {0} more than once")]
    DuplicateInvoice(String),
    #[error("remittance lines add up to {remitted}, more than the payment of {payment}")]
    RemittanceExceedsPayment { remitted: Decimal, payment: Decimal },
}

/// Splits `payment` over the customer's `invoices` (all with an open
/// balance, plus any the remittance names). Allocations never exceed the
/// payment nor any invoice's open balance; allocations + unapplied = payment.
pub fn allocate(
    payment: Decimal,
    remittance: &[RemittanceLine],
    invoices: &[OpenInvoice],
) -> Result<AllocationPlan, AllocationError> {
    validate_remittance(payment, remittance, invoices)?;
    let mut left = payment;
    let mut plan = AllocationPlan {
        allocations: vec![],
        unapplied: Decimal::ZERO,
        short_pays: vec![],
    };
    for line in remittance {
        let invoice = find(invoices, &line.invoice_id).expect("validated");
        let applied = line.amount.min(invoice.open).min(left);
        push(&mut plan.allocations, &invoice.id, applied);
        left -= applied;
        if applied < invoice.open {
            plan.short_pays.push(ShortPay {
                invoice_id: invoice.id.clone(),
                residual: invoice.open - applied,
            });
        }
    }
    let named: BTreeSet<&str> = remittance.iter().map(|l| l.invoice_id.as_str()).collect();
    for invoice in oldest_due_first(invoices) {
        if named.contains(invoice.id.as_str()) {
            continue; // a named invoice gets what the remittance says, no more
        }
        let applied = invoice.undisputed().min(left);
        push(&mut plan.allocations, &invoice.id, applied);
        left -= applied;
    }
    plan.unapplied = left;
    Ok(plan)
}

fn validate_remittance(
    payment: Decimal,
    remittance: &[RemittanceLine],
    invoices: &[OpenInvoice],
) -> Result<(), AllocationError> {
    let mut seen = BTreeSet::new();
    for line in remittance {
        if find(invoices, &line.invoice_id).is_none() {
            return Err(AllocationError::UnknownInvoice(line.invoice_id.clone()));
        }
        if !seen.insert(line.invoice_id.as_str()) {
            return Err(AllocationError::DuplicateInvoice(line.invoice_id.clone()));
        }
    }
    let remitted: Decimal = remittance.iter().map(|l| l.amount).sum();
    if remitted > payment {
        return Err(AllocationError::RemittanceExceedsPayment { remitted, payment });
    }
    Ok(())
}

fn find<'a>(invoices: &'a [OpenInvoice], id: &str) -> Option<&'a OpenInvoice> {
    invoices.iter().find(|invoice| invoice.id == id)
}

/// The order payments are applied in (R2.2), and how an account lists its
/// invoices: oldest due date first, then issue date, then invoice id.
pub fn payment_order(a: &OpenInvoice, b: &OpenInvoice) -> Ordering {
    (a.due_on, a.issued_on, &a.id).cmp(&(b.due_on, b.issued_on, &b.id))
}

fn oldest_due_first(invoices: &[OpenInvoice]) -> Vec<&OpenInvoice> {
    let mut ordered: Vec<&OpenInvoice> = invoices.iter().collect();
    ordered.sort_by(|a, b| payment_order(a, b));
    ordered
}

fn push(allocations: &mut Vec<Allocation>, invoice_id: &str, amount: Decimal) {
    if amount > Decimal::ZERO {
        allocations.push(Allocation {
            invoice_id: invoice_id.to_string(),
            amount,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoice;
    use rust_decimal::dec;

    fn line(invoice_id: &str, amount: Decimal) -> RemittanceLine {
        RemittanceLine {
            invoice_id: invoice_id.into(),
            amount,
        }
    }

    fn applied(plan: &AllocationPlan) -> Vec<(&str, Decimal)> {
        plan.allocations
            .iter()
            .map(|a| (a.invoice_id.as_str(), a.amount))
            .collect()
    }

    fn case_8_invoices() -> Vec<OpenInvoice> {
        vec![
            invoice("INV-C", "2025-07-15", dec!(8000)),
            invoice("INV-A", "2025-05-20", dec!(4000)),
            invoice("INV-B", "2025-06-10", dec!(6000)),
        ]
    }

    #[test]
    fn case_8_without_remittance_pays_oldest_due_first() {
        let plan = allocate(dec!(11000), &[], &case_8_invoices()).unwrap();
        assert_eq!(
            applied(&plan),
            [
                ("INV-A", dec!(4000)),
                ("INV-B", dec!(6000)),
                ("INV-C", dec!(1000))
            ]
        );
        assert_eq!(plan.unapplied, dec!(0));
        assert!(plan.short_pays.is_empty());
    }

    #[test]
    fn case_9_overpayment_leaves_unapplied_cash() {
        let invoices = [invoice("INV-D", "2025-06-01", dec!(2500))];
        let plan = allocate(dec!(3000), &[], &invoices).unwrap();
        assert_eq!(applied(&plan), [("INV-D", dec!(2500))]);
        assert_eq!(plan.unapplied, dec!(500));
    }

    #[test]
    fn remittance_comes_first_then_the_rest_oldest_first() {
        let remittance = [line("INV-C", dec!(8000))];
        let plan = allocate(dec!(9000), &remittance, &case_8_invoices()).unwrap();
        assert_eq!(
            applied(&plan),
            [("INV-C", dec!(8000)), ("INV-A", dec!(1000))]
        );
    }

    #[test]
    fn a_named_invoice_never_gets_more_than_its_open_balance() {
        let remittance = [line("INV-A", dec!(5000))];
        let plan = allocate(dec!(5000), &remittance, &case_8_invoices()).unwrap();
        assert_eq!(
            applied(&plan),
            [("INV-A", dec!(4000)), ("INV-B", dec!(1000))]
        );
        assert!(plan.short_pays.is_empty());
    }

    #[test]
    fn short_pay_leaves_the_residual_open_on_the_named_invoice() {
        let remittance = [line("INV-B", dec!(5500))];
        let plan = allocate(dec!(5500), &remittance, &case_8_invoices()).unwrap();
        assert_eq!(applied(&plan), [("INV-B", dec!(5500))]);
        assert_eq!(
            plan.short_pays,
            [ShortPay {
                invoice_id: "INV-B".into(),
                residual: dec!(500)
            }]
        );
        assert_eq!(plan.unapplied, dec!(0));
    }

    #[test]
    fn a_short_paid_invoice_gets_nothing_more_from_the_rest() {
        let remittance = [line("INV-B", dec!(5500))];
        let plan = allocate(dec!(6000), &remittance, &case_8_invoices()).unwrap();
        assert_eq!(
            applied(&plan),
            [("INV-B", dec!(5500)), ("INV-A", dec!(500))]
        );
    }

    #[test]
    fn disputed_amounts_are_skipped_unless_named() {
        let invoices = [
            invoice("OLD", "2025-05-01", dec!(1000)).disputing(dec!(600)),
            invoice("NEW", "2025-06-01", dec!(1000)),
        ];
        let plan = allocate(dec!(1000), &[], &invoices).unwrap();
        assert_eq!(applied(&plan), [("OLD", dec!(400)), ("NEW", dec!(600))]);

        let named = [line("OLD", dec!(1000))];
        let plan = allocate(dec!(1000), &named, &invoices).unwrap();
        assert_eq!(applied(&plan), [("OLD", dec!(1000))]);
    }

    #[test]
    fn equal_due_dates_fall_back_to_issue_date_then_id() {
        let mut early_issue = invoice("Z", "2025-06-01", dec!(10));
        early_issue.issued_on = crate::testing::date("2025-04-01");
        let invoices = [
            invoice("B", "2025-06-01", dec!(10)),
            invoice("A", "2025-06-01", dec!(10)),
            early_issue,
        ];
        let plan = allocate(dec!(25), &[], &invoices).unwrap();
        assert_eq!(
            applied(&plan),
            [("Z", dec!(10)), ("A", dec!(10)), ("B", dec!(5))]
        );
    }

    #[test]
    fn bad_remittances_are_refused() {
        let invoices = case_8_invoices();
        assert_eq!(
            allocate(dec!(10), &[line("NOPE", dec!(10))], &invoices),
            Err(AllocationError::UnknownInvoice("NOPE".into()))
        );
        assert_eq!(
            allocate(
                dec!(10),
                &[line("INV-A", dec!(5)), line("INV-A", dec!(5))],
                &invoices
            ),
            Err(AllocationError::DuplicateInvoice("INV-A".into()))
        );
        assert!(matches!(
            allocate(dec!(10), &[line("INV-A", dec!(11))], &invoices),
            Err(AllocationError::RemittanceExceedsPayment { .. })
        ));
    }
}
