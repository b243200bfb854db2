//! Invariants of the credit rules over generated accounts and payments.

use chrono::{Days, NaiveDate};
use credit_core::allocation::{RemittanceLine, allocate};
use credit_core::hold::{HeldOrder, OrderStatus, ReasonCode, check_order, recheck_held_orders};
use credit_core::{Account, Currency, OpenInvoice, Policy};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
}

/// Cents up to ten million dollars.
fn amount() -> impl Strategy<Value = Decimal> {
    (0i64..1_000_000_000).prop_map(|cents| Decimal::new(cents, 2))
}

fn invoice() -> impl Strategy<Value = OpenInvoice> {
    (0u32..10_000, -120i64..120, amount(), 0u32..=100).prop_map(
        |(n, due_offset, open, disputed_percent)| {
            let due_on = as_of()
                .checked_add_signed(chrono::TimeDelta::days(due_offset))
                .unwrap();
            let disputed =
                (open * Decimal::from(disputed_percent) / Decimal::from(100)).round_dp(2);
            OpenInvoice {
                id: format!("INV-{n:05}"),
                issued_on: due_on - Days::new(30),
                due_on,
                open,
                disputed,
            }
        },
    )
}

fn invoices() -> impl Strategy<Value = Vec<OpenInvoice>> {
    prop::collection::vec(invoice(), 0..12).prop_map(|mut invoices| {
        invoices.sort_by(|a, b| a.id.cmp(&b.id));
        invoices.dedup_by(|a, b| a.id == b.id);
        invoices
    })
}

fn account() -> impl Strategy<Value = Account> {
    (
        invoices(),
        prop::option::of(amount()),
        amount(),
        amount(),
        any::<bool>(),
        prop::option::of(0u32..30),
    )
        .prop_map(|(invoices, limit, unapplied, released, on_hold, grace)| {
            let mut account = Account::new(Currency::parse("USD").unwrap(), limit);
            account.invoices = invoices;
            account.unapplied_cash = unapplied;
            account.released_orders_total = released;
            account.on_hold = on_hold;
            account.grace_days = grace;
            account
        })
}

proptest! {
    #[test]
    fn exposure_is_additive(account in account(), extra in invoice(), order in amount()) {
        let mut with_extra = account.clone();
        with_extra.invoices.push(extra.clone());
        prop_assert_eq!(with_extra.exposure(), account.exposure() + extra.open);
        let policy = Policy::default();
        let decision = check_order(&account, order, as_of(), &policy);
        prop_assert_eq!(decision.exposure, account.exposure() + order);
    }

    #[test]
    fn an_order_never_passes_when_exposure_exceeds_the_limit(account in account(), order in amount()) {
        let decision = check_order(&account, order, as_of(), &Policy::default());
        if let Some(limit) = account.credit_limit {
            if decision.exposure > limit {
                prop_assert_eq!(decision.status, OrderStatus::Held);
                prop_assert!(decision.reasons.iter().any(|r| r.code == ReasonCode::CreditLimitExceeded));
            }
            prop_assert_eq!(decision.available, Some(limit - decision.exposure));
        }
    }

    #[test]
    fn decisions_do_not_depend_on_invoice_order(account in account(), order in amount()) {
        let mut reversed = account.clone();
        reversed.invoices.reverse();
        let policy = Policy::default();
        prop_assert_eq!(
            check_order(&account, order, as_of(), &policy),
            check_order(&reversed, order, as_of(), &policy)
        );
    }

    #[test]
    fn allocation_and_hold_checks_do_not_depend_on_the_order_invoices_come_in(
        (account, shuffled) in account().prop_flat_map(|account| {
            let invoices = account.invoices.clone();
            (Just(account), Just(invoices).prop_shuffle())
        }),
        payment in amount(),
        order in amount(),
        named in prop::collection::vec((any::<prop::sample::Index>(), amount()), 0..3),
    ) {
        let mut remittance: Vec<RemittanceLine> = vec![];
        let mut remitted = Decimal::ZERO;
        if !account.invoices.is_empty() {
            for (index, line_amount) in named {
                let invoice = index.get(&account.invoices);
                if remittance.iter().any(|l| l.invoice_id == invoice.id) || remitted + line_amount > payment {
                    continue;
                }
                remitted += line_amount;
                remittance.push(RemittanceLine { invoice_id: invoice.id.clone(), amount: line_amount });
            }
        }
        let mut reordered = account.clone();
        reordered.invoices = shuffled;
        prop_assert_eq!(
            allocate(payment, &remittance, &account.invoices).unwrap(),
            allocate(payment, &remittance, &reordered.invoices).unwrap()
        );
        let policy = Policy::default();
        prop_assert_eq!(
            check_order(&account, order, as_of(), &policy),
            check_order(&reordered, order, as_of(), &policy)
        );
        let held = [HeldOrder { id: "SO-1".into(), amount: order }, HeldOrder { id: "SO-2".into(), amount: payment }];
        prop_assert_eq!(
            recheck_held_orders(&account, &held, as_of(), &policy),
            recheck_held_orders(&reordered, &held, as_of(), &policy)
        );
    }

    #[test]
    fn aging_buckets_always_add_up_to_the_open_balance(account in account()) {
        let aging = account.aging(as_of());
        let buckets = aging.current + aging.days_1_30 + aging.days_31_60
            + aging.days_61_90 + aging.days_91_120 + aging.days_over_120;
        prop_assert_eq!(buckets, aging.total);
        prop_assert_eq!(aging.total, account.open_balance());
    }

    #[test]
    fn a_recheck_releases_nothing_a_single_check_would_hold(
        account in account(),
        amounts in prop::collection::vec(amount(), 0..6),
    ) {
        let held: Vec<HeldOrder> = amounts
            .iter()
            .enumerate()
            .map(|(i, amount)| HeldOrder { id: format!("SO-{i}"), amount: *amount })
            .collect();
        let policy = Policy::default();
        let mut running = account.clone();
        for (order, decision) in recheck_held_orders(&account, &held, as_of(), &policy) {
            prop_assert_eq!(&decision, &check_order(&running, order.amount, as_of(), &policy));
            if decision.status == OrderStatus::Released {
                running.released_orders_total += order.amount;
            }
        }
    }

    #[test]
    fn allocation_accounts_for_every_cent(
        invoices in invoices(),
        payment in amount(),
        named in prop::collection::vec((any::<prop::sample::Index>(), amount()), 0..4),
    ) {
        let mut remittance: Vec<RemittanceLine> = vec![];
        let mut remitted = Decimal::ZERO;
        if !invoices.is_empty() {
            for (index, line_amount) in named {
                let invoice = index.get(&invoices);
                if remittance.iter().any(|l| l.invoice_id == invoice.id) || remitted + line_amount > payment {
                    continue;
                }
                remitted += line_amount;
                remittance.push(RemittanceLine { invoice_id: invoice.id.clone(), amount: line_amount });
            }
        }
        let plan = allocate(payment, &remittance, &invoices).unwrap();
        let allocated: Decimal = plan.allocations.iter().map(|a| a.amount).sum();
        prop_assert_eq!(allocated + plan.unapplied, payment);
        prop_assert!(plan.unapplied >= Decimal::ZERO);
        for allocation in &plan.allocations {
            let invoice = invoices.iter().find(|i| i.id == allocation.invoice_id).unwrap();
            prop_assert!(allocation.amount > Decimal::ZERO);
            prop_assert!(allocation.amount <= invoice.open);
            prop_assert!(allocation.amount <= payment);
            let is_named = remittance.iter().any(|l| l.invoice_id == invoice.id);
            if !is_named {
                prop_assert!(allocation.amount <= invoice.undisputed(), "disputed amounts are skipped unless named");
            }
        }
        let mut ids: Vec<&str> = plan.allocations.iter().map(|a| a.invoice_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), plan.allocations.len(), "one allocation per invoice");
    }
}

proptest! {
    #[test]
    fn sla_dates_land_on_business_days_and_count_back(start_offset in 0i64..3000, days in 1u32..60) {
        use chrono::Datelike;
        use credit_core::dispute::{add_business_days, business_days_between};
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::TimeDelta::days(start_offset);
        let due = add_business_days(start, days);
        prop_assert!(!matches!(due.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun));
        prop_assert_eq!(business_days_between(start, due), i64::from(days));
        prop_assert!((due - start).num_days() <= i64::from(days) / 5 * 7 + 7);
    }

    #[test]
    fn sla_status_follows_the_calendar(due_offset in -30i64..30) {
        use credit_core::dispute::{SlaStatus, sla_status};
        let due = as_of() + chrono::TimeDelta::days(due_offset);
        let status = sla_status(due, as_of(), None);
        prop_assert_eq!(status == SlaStatus::Breached, due < as_of());
        prop_assert_eq!(sla_status(due, as_of(), Some(due)), SlaStatus::Met);
    }
}
