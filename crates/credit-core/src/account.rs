//! A customer's credit position: open invoices, unapplied cash and released
//! orders, and what follows from them — open balance, exposure, past due,
//! aging.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::aging::Aging;
use crate::money::Currency;
use crate::policy::Policy;

/// Days past due: `as_of − due_on` (negative before the due date).
pub fn days_past_due(as_of: NaiveDate, due_on: NaiveDate) -> i64 {
    (as_of - due_on).num_days()
}

/// An invoice with something still open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenInvoice {
    pub id: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    /// What is still owed on the invoice.
    pub open: Decimal,
    /// The part of `open` under an active dispute.
    pub disputed: Decimal,
}

impl OpenInvoice {
    /// The open balance nobody disputes.
    pub fn undisputed(&self) -> Decimal {
        (self.open - self.disputed).max(Decimal::ZERO)
    }
}

/// Everything the credit rules need to know about one customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub currency: Currency,
    /// `None`: no limit has been set.
    pub credit_limit: Option<Decimal>,
    /// On manual credit hold.
    pub on_hold: bool,
    /// Prepaid or cash customer: never held.
    pub exempt: bool,
    /// The customer's own grace days, overriding the policy's.
    pub grace_days: Option<u32>,
    pub invoices: Vec<OpenInvoice>,
    /// Payments received but not applied to any invoice.
    pub unapplied_cash: Decimal,
    /// Orders released and not yet invoiced or cancelled (not counting the
    /// order being checked).
    pub released_orders_total: Decimal,
}

impl Account {
    /// A customer with nothing open.
    pub fn new(currency: Currency, credit_limit: Option<Decimal>) -> Account {
        Account {
            currency,
            credit_limit,
            on_hold: false,
            exempt: false,
            grace_days: None,
            invoices: vec![],
            unapplied_cash: currency.zero(),
            released_orders_total: currency.zero(),
        }
    }

    /// Σ open invoice balances, disputed parts included.
    pub fn open_balance(&self) -> Decimal {
        self.invoices
            .iter()
            .fold(self.currency.zero(), |sum, invoice| sum + invoice.open)
    }

    /// What the customer owes or has committed to: open balance − unapplied
    /// cash + released, unbilled orders.
    pub fn exposure(&self) -> Decimal {
        self.open_balance() - self.unapplied_cash + self.released_orders_total
    }

    /// Open AR plus released, unbilled orders: the least a new credit limit
    /// may be.
    pub fn outstanding(&self) -> Decimal {
        self.open_balance() + self.released_orders_total
    }

    pub fn grace_days(&self, policy: &Policy) -> u32 {
        self.grace_days.unwrap_or(policy.grace_days)
    }

    /// Σ undisputed open balance of invoices more than `grace_days` past due.
    pub fn past_due(&self, as_of: NaiveDate, grace_days: u32) -> Decimal {
        self.overdue_invoices(as_of, grace_days)
            .fold(self.currency.zero(), |sum, invoice| {
                sum + invoice.undisputed()
            })
    }

    /// The most days any undisputed open amount is past due (0 if none is).
    pub fn oldest_days_past_due(&self, as_of: NaiveDate) -> i64 {
        self.overdue_invoices(as_of, 0)
            .map(|invoice| days_past_due(as_of, invoice.due_on))
            .max()
            .unwrap_or(0)
    }

    fn overdue_invoices(
        &self,
        as_of: NaiveDate,
        grace_days: u32,
    ) -> impl Iterator<Item = &OpenInvoice> {
        self.invoices.iter().filter(move |invoice| {
            days_past_due(as_of, invoice.due_on) > i64::from(grace_days)
                && invoice.undisputed() > Decimal::ZERO
        })
    }

    /// Open balances by age, disputed parts included.
    pub fn aging(&self, as_of: NaiveDate) -> Aging {
        let mut aging = Aging::zero(self.currency.minor_units());
        for invoice in &self.invoices {
            aging.add(days_past_due(as_of, invoice.due_on), invoice.open);
        }
        aging
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{date, invoice, usd_account};
    use rust_decimal::dec;

    #[test]
    fn exposure_counts_disputed_invoices_and_subtracts_unapplied_cash() {
        let mut account = usd_account(Some(dec!(50000)));
        account.invoices = vec![
            invoice("INV-1", "2025-07-10", dec!(15000)),
            invoice("INV-2", "2025-05-15", dec!(5000)).disputing(dec!(1200)),
        ];
        account.unapplied_cash = dec!(700);
        account.released_orders_total = dec!(5000);
        assert_eq!(account.open_balance(), dec!(20000));
        assert_eq!(account.exposure(), dec!(24300));
        assert_eq!(account.outstanding(), dec!(25000));
    }

    #[test]
    fn past_due_starts_after_the_grace_days_and_skips_disputed_amounts() {
        let mut account = usd_account(Some(dec!(50000)));
        account.invoices = vec![
            invoice("ON-GRACE-EDGE", "2025-06-25", dec!(100)),
            invoice("PAST-GRACE", "2025-06-24", dec!(200)),
            invoice("PART-DISPUTED", "2025-05-15", dec!(5000)).disputing(dec!(1200)),
            invoice("ALL-DISPUTED", "2025-05-01", dec!(300)).disputing(dec!(300)),
        ];
        let as_of = date("2025-06-30");
        assert_eq!(account.past_due(as_of, 5), dec!(4000));
        assert_eq!(account.past_due(as_of, 0), dec!(4100));
        assert_eq!(account.oldest_days_past_due(as_of), 46);
    }

    #[test]
    fn customer_grace_days_override_the_policy() {
        let mut account = usd_account(None);
        let policy = Policy::default();
        assert_eq!(account.grace_days(&policy), 5);
        account.grace_days = Some(0);
        assert_eq!(account.grace_days(&policy), 0);
    }

    #[test]
    fn aging_buckets_add_up_to_the_open_balance() {
        let mut account = usd_account(None);
        account.invoices = vec![
            invoice("A", "2025-07-10", dec!(10)),
            invoice("B", "2025-06-30", dec!(20)),
            invoice("C", "2025-06-29", dec!(30)),
            invoice("D", "2025-04-01", dec!(40)).disputing(dec!(40)),
            invoice("E", "2024-01-01", dec!(50)),
        ];
        let aging = account.aging(date("2025-06-30"));
        assert_eq!(aging.current, dec!(30));
        assert_eq!(aging.days_1_30, dec!(30));
        assert_eq!(aging.days_61_90, dec!(40));
        assert_eq!(aging.days_over_120, dec!(50));
        assert_eq!(aging.total, account.open_balance());
    }

    #[test]
    fn amounts_carry_the_currency_scale_when_nothing_is_open() {
        let account = usd_account(None);
        assert_eq!(account.open_balance().to_string(), "0.00");
        assert_eq!(account.past_due(date("2025-06-30"), 5).to_string(), "0.00");
    }
}
