//! Dunning: which reminder letter a customer is due, and for which
//! invoices.
//!
//! The policy lists levels — by default a reminder at 1 day past due, a
//! second notice at 15 and a final notice at 30 — each with the days past
//! due that trigger it, a minimum overdue amount, the days to wait after
//! the previous level and its letter. Every overdue invoice climbs the
//! levels one at a time, in order: it is due for its next level once it is
//! that many days past due, and (past the first) once the wait after the
//! level it last had is over. A customer's letter covers every invoice due
//! for a level now, each taking its next level; the letter is of the
//! highest of them.
//!
//! What counts is the open balance nobody disputes. Each currency stands
//! on its own: a level is issued for a currency's invoices only when the
//! customer's overdue amount in that currency reaches the level's minimum
//! for it, and amounts of different currencies are never added up. A
//! customer exempt from dunning gets no letter; nor does one with a
//! promise to pay that is not yet broken (kept or broken promises do not
//! hold letters back).

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::letters::{self, CurrencyTotal, LetterItem};
use crate::money::Currency;
use crate::print::Paper;
use crate::{FieldError, days_past_due};

/// How many levels a policy may have.
pub const MAX_LEVELS: usize = 9;
/// The longest letter template accepted, in characters.
pub const MAX_TEMPLATE: usize = 20_000;
/// The longest level name, subject or sender.
pub const MAX_NAME: usize = 200;
/// The longest payment instructions.
pub const MAX_INSTRUCTIONS: usize = 2_000;
/// The most days any threshold or wait may be.
const MAX_DAYS: u32 = 3_650;

/// One level of dunning, as the policy has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DunningLevel {
    /// What the letter is called: `Reminder`, `Final notice`.
    pub name: String,
    /// An invoice becomes due for this level this many days past due.
    pub days_past_due: u32,
    /// Per currency code, the least the customer's overdue amount in that
    /// currency must be for this level to be issued (a currency not
    /// listed has no minimum).
    #[serde(default)]
    pub minimum_overdue: BTreeMap<String, String>,
    /// Days to wait after the invoice's previous level (not used by the
    /// first level).
    #[serde(default)]
    pub days_after_previous: u32,
    /// The letter asks for payment this many days after its date.
    #[serde(default = "default_pay_within_days")]
    pub pay_within_days: u32,
    /// The e-mail subject: one line, short placeholders only.
    pub subject: String,
    /// The letter (see [`crate::letters`]).
    pub template: String,
}

fn default_pay_within_days() -> u32 {
    14
}

impl DunningLevel {
    /// The level's minimum overdue amount in `currency` (zero when none is
    /// set).
    pub fn minimum_for(&self, currency: Currency) -> Decimal {
        self.minimum_overdue
            .get(currency.code())
            .and_then(|text| currency.parse_amount(text).ok())
            .unwrap_or(Decimal::ZERO)
    }
}

/// The dunning part of the policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DunningPolicy {
    /// In order: each level follows the one before.
    pub levels: Vec<DunningLevel>,
    /// Who signs the letters (`{{sender}}`).
    pub sender: String,
    /// How to pay (`{{payment_instructions}}`): bank details, a reference
    /// to quote.
    pub payment_instructions: String,
    /// The paper letters and statements are laid out for.
    pub paper: Paper,
}

const REMINDER: &str = "{{sender}}
{{date}}

{{customer_name}}
Customer {{customer_id}}

Reference: {{reference}}

Dear {{customer_name}},

According to our records the invoices below are past their due date. Perhaps this has escaped your attention: please pay {{total_due}} by {{pay_by}}. If you have paid in the meantime, please disregard this reminder.

{{items}}

{{totals}}

{{payment_instructions}}

Kind regards,
{{sender}}
";

const SECOND_NOTICE: &str = "{{sender}}
{{date}}

{{customer_name}}
Customer {{customer_id}}

Reference: {{reference}}

Dear {{customer_name}},

We wrote to you about the invoices below and have not yet received your payment. Please pay {{total_due}} by {{pay_by}}, or call us at once if there is a reason you cannot.

{{items}}

{{totals}}

{{payment_instructions}}

Kind regards,
{{sender}}
";

const FINAL_NOTICE: &str = "{{sender}}
{{date}}

{{customer_name}}
Customer {{customer_id}}

Reference: {{reference}}

Dear {{customer_name}},

Despite our earlier letters, the invoices below remain unpaid. Unless we receive {{total_due}} by {{pay_by}}, your account will be placed on credit hold and further orders will be held.

{{items}}

{{totals}}

{{payment_instructions}}

Yours sincerely,
{{sender}}
";

impl Default for DunningPolicy {
    fn default() -> Self {
        let level =
            |name: &str, days_past_due, days_after_previous, pay_within_days, template: &str| {
                DunningLevel {
                    name: name.into(),
                    days_past_due,
                    minimum_overdue: BTreeMap::new(),
                    days_after_previous,
                    pay_within_days,
                    subject: format!("{name} {{{{reference}}}}: {{{{total_due}}}} overdue"),
                    template: template.into(),
                }
            };
        DunningPolicy {
            levels: vec![
                level("Reminder", 1, 0, 14, REMINDER),
                level("Second notice", 15, 14, 10, SECOND_NOTICE),
                level("Final notice", 30, 14, 7, FINAL_NOTICE),
            ],
            sender: "Credit Services".into(),
            payment_instructions: "Please pay by bank transfer, quoting the letter's reference."
                .into(),
            paper: Paper::A4,
        }
    }
}

impl DunningPolicy {
    /// Every problem, each naming its field under `dunning.`.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = vec![];
        if self.levels.len() > MAX_LEVELS {
            errors.push(FieldError::new(
                "dunning.levels",
                format!("at most {MAX_LEVELS} levels"),
            ));
        }
        for (i, level) in self.levels.iter().enumerate() {
            let previous = i.checked_sub(1).map(|p| &self.levels[p]);
            validate_level(
                &mut errors,
                &format!("dunning.levels[{i}]"),
                level,
                previous,
            );
        }
        if let Some(message) = text_problem(&self.sender, MAX_NAME, Text::Line) {
            errors.push(FieldError::new("dunning.sender", message));
        }
        if let Some(message) = text_problem(
            &self.payment_instructions,
            MAX_INSTRUCTIONS,
            Text::OptionalLines,
        ) {
            errors.push(FieldError::new("dunning.payment_instructions", message));
        }
        errors
    }

    /// Level `number` (from 1).
    pub fn level(&self, number: u32) -> Option<&DunningLevel> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        self.levels.get(index)
    }
}

fn validate_level(
    errors: &mut Vec<FieldError>,
    at: &str,
    level: &DunningLevel,
    previous: Option<&DunningLevel>,
) {
    let mut error = |field: &str, message: String| {
        errors.push(FieldError::new(format!("{at}.{field}"), message));
    };
    if let Some(message) = text_problem(&level.name, MAX_NAME, Text::Line) {
        error("name", message);
    }
    if !(1..=MAX_DAYS).contains(&level.days_past_due) {
        error("days_past_due", format!("must be between 1 and {MAX_DAYS}"));
    } else if let Some(previous) = previous
        && level.days_past_due <= previous.days_past_due
    {
        error(
            "days_past_due",
            format!(
                "must be more than the previous level's ({})",
                previous.days_past_due
            ),
        );
    }
    for (field, days) in [
        ("days_after_previous", level.days_after_previous),
        ("pay_within_days", level.pay_within_days),
    ] {
        if days > MAX_DAYS {
            error(field, format!("must be at most {MAX_DAYS}"));
        }
    }
    for (code, amount) in &level.minimum_overdue {
        let field = format!("minimum_overdue.{code}");
        match Currency::parse(code) {
            Err(e) => error(&field, e.to_string()),
            Ok(currency) => {
                if let Err(e) = currency.parse_amount(amount) {
                    error(&field, e.to_string());
                }
            }
        }
    }
    if let Some(message) = text_problem(&level.subject, MAX_NAME, Text::Line) {
        error("subject", message);
    } else if let Some(problem) = letters::check("", &level.subject, true) {
        error("subject", problem.message);
    }
    if let Some(message) = text_problem(&level.template, MAX_TEMPLATE, Text::Lines) {
        error("template", message);
    } else if let Some(problem) = letters::check("", &level.template, false) {
        error("template", problem.message);
    }
}

/// The kinds of text the dunning policy holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Text {
    /// One line, not blank (a name, a subject).
    Line,
    /// Lines, not blank (a letter).
    Lines,
    /// Lines, or nothing (payment instructions).
    OptionalLines,
}

/// What is wrong with a text of the policy, if anything: blank (where it
/// may not be), too long, or holding control characters (but tab and, in
/// lines, newlines).
fn text_problem(text: &str, max_chars: usize, kind: Text) -> Option<String> {
    if text.trim().is_empty() && kind != Text::OptionalLines {
        return Some("must not be empty".into());
    }
    if text.chars().count() > max_chars {
        return Some(format!("must be at most {max_chars} characters"));
    }
    let lines = kind != Text::Line;
    let allowed = |c: char| c == '\t' || (lines && (c == '\n' || c == '\r'));
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Some("must not contain control characters".into());
    }
    None
}

/// An open invoice as dunning sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenItem {
    pub invoice_id: String,
    pub currency: Currency,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub open: Decimal,
    /// The part of `open` under an active dispute.
    pub disputed: Decimal,
}

impl OpenItem {
    /// What dunning may ask for: the open balance nobody disputes.
    pub fn overdue(&self) -> Decimal {
        (self.open - self.disputed).max(Decimal::ZERO)
    }
}

/// A level an invoice was given by a letter already issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dunned {
    pub invoice_id: String,
    /// From 1.
    pub level: u32,
    pub issued_on: NaiveDate,
}

/// What dunning needs to know about one customer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// Exempt from dunning.
    pub exempt: bool,
    /// Has a promise to pay that is neither kept nor broken yet.
    pub unbroken_promise: bool,
    /// The customer's open invoices (others are ignored).
    pub items: Vec<OpenItem>,
    /// The levels the customer's invoices were given so far.
    pub dunned: Vec<Dunned>,
}

crate::named! {
    /// Why a customer with something overdue is due no letter now.
    pub enum NoLetter {
        /// The policy has no dunning levels.
        NoLevels = "no_levels",
        /// The customer is exempt from dunning.
        Exempt = "exempt",
        /// A promise to pay is not yet broken.
        PromiseToPay = "promise_to_pay",
        /// The overdue amount is below the next level's minimum.
        BelowMinimum = "below_minimum",
        /// The wait after the previous level is not over.
        Waiting = "waiting",
        /// No invoice is far enough past due for its next level.
        NotDueYet = "not_due_yet",
        /// Every overdue invoice has had every level.
        AllLevelsIssued = "all_levels_issued",
        /// Nothing undisputed is past due.
        NothingOverdue = "nothing_overdue",
    }
}

/// An invoice a letter covers, and the level it takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DueItem {
    #[serde(flatten)]
    pub item: LetterItem,
    /// The level the letter gives the invoice (from 1).
    pub level: u32,
}

/// A letter due now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterDue {
    /// The highest level of its invoices: the letter's template.
    pub level: u32,
    /// Oldest due first.
    pub items: Vec<DueItem>,
    /// Per currency, by code.
    pub totals: Vec<CurrencyTotal>,
}

/// A customer's dunning as of a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Due(LetterDue),
    NotDue {
        reason: NoLetter,
        /// When an invoice will be due for its next level if nothing
        /// changes (none when that depends on more than time).
        next_on: Option<NaiveDate>,
    },
}

/// Where one overdue invoice stands.
enum Step {
    /// Due for this level now.
    Due(u32),
    /// Due for this level from that date.
    Later { on: NaiveDate, waiting: bool },
    /// Had every level.
    Done,
}

fn step(item: &OpenItem, last: Option<&Dunned>, levels: &[DunningLevel], as_of: NaiveDate) -> Step {
    let next = last.map_or(1, |d| d.level + 1);
    let Some(rule) = usize::try_from(next).ok().and_then(|n| levels.get(n - 1)) else {
        return Step::Done;
    };
    let far_enough = item.due_on + Days::new(u64::from(rule.days_past_due));
    let waited = last.map(|d| d.issued_on + Days::new(u64::from(rule.days_after_previous)));
    let on = waited.map_or(far_enough, |waited| waited.max(far_enough));
    if as_of >= on {
        Step::Due(next)
    } else {
        Step::Later {
            on,
            waiting: as_of >= far_enough,
        }
    }
}

/// The letter the customer is due as of `as_of`, or why none.
pub fn decide(levels: &[DunningLevel], standing: &Standing, as_of: NaiveDate) -> Decision {
    let not_due = |reason| Decision::NotDue {
        reason,
        next_on: None,
    };
    if levels.is_empty() {
        return not_due(NoLetter::NoLevels);
    }
    if standing.exempt {
        return not_due(NoLetter::Exempt);
    }
    if standing.unbroken_promise {
        return not_due(NoLetter::PromiseToPay);
    }
    let last = last_levels(&standing.dunned);
    // Invoices not yet past due are looked at too: they tell when the
    // next letter may come.
    let undisputed: Vec<&OpenItem> = standing
        .items
        .iter()
        .filter(|item| item.overdue() > Decimal::ZERO)
        .collect();
    let mut owed: HashMap<&str, Decimal> = HashMap::new();
    for item in undisputed
        .iter()
        .filter(|item| days_past_due(as_of, item.due_on) >= 1)
    {
        *owed.entry(item.currency.code()).or_default() += item.overdue();
    }
    let (mut due, mut later, mut waiting, mut below_minimum, mut done) =
        (vec![], None::<NaiveDate>, false, false, false);
    for item in undisputed {
        match step(
            item,
            last.get(item.invoice_id.as_str()).copied(),
            levels,
            as_of,
        ) {
            Step::Due(level) => {
                let minimum = levels[level as usize - 1].minimum_for(item.currency);
                let overdue = owed.get(item.currency.code()).copied().unwrap_or_default();
                if overdue >= minimum {
                    due.push((item, level));
                } else {
                    below_minimum = true;
                }
            }
            Step::Later { on, waiting: w } => {
                later = Some(later.map_or(on, |l| l.min(on)));
                waiting |= w;
            }
            Step::Done => done = true,
        }
    }
    if !due.is_empty() {
        return Decision::Due(letter_due(due, as_of));
    }
    let reason = if below_minimum {
        NoLetter::BelowMinimum
    } else if waiting {
        NoLetter::Waiting
    } else if later.is_some() && owed.values().any(|amount| *amount > Decimal::ZERO) {
        NoLetter::NotDueYet
    } else if done {
        NoLetter::AllLevelsIssued
    } else {
        NoLetter::NothingOverdue
    };
    Decision::NotDue {
        reason,
        next_on: later,
    }
}

/// Each invoice's latest level.
fn last_levels(dunned: &[Dunned]) -> HashMap<&str, &Dunned> {
    let mut last: HashMap<&str, &Dunned> = HashMap::new();
    for d in dunned {
        let slot = last.entry(d.invoice_id.as_str()).or_insert(d);
        if d.level > slot.level {
            *slot = d;
        }
    }
    last
}

fn letter_due(mut due: Vec<(&OpenItem, u32)>, as_of: NaiveDate) -> LetterDue {
    due.sort_by(|(a, _), (b, _)| (a.due_on, &a.invoice_id).cmp(&(b.due_on, &b.invoice_id)));
    let mut totals = vec![];
    let items: Vec<DueItem> = due
        .into_iter()
        .map(|(item, level)| {
            letters::add_to_totals(&mut totals, item.currency, item.overdue());
            DueItem {
                item: LetterItem {
                    invoice_id: item.invoice_id.clone(),
                    issued_on: item.issued_on,
                    due_on: item.due_on,
                    days_past_due: days_past_due(as_of, item.due_on),
                    currency: item.currency,
                    amount: item.currency.round(item.overdue()),
                },
                level,
            }
        })
        .collect();
    LetterDue {
        level: items.iter().map(|item| item.level).max().unwrap_or(1),
        items,
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{date, usd};
    use rust_decimal::dec;

    fn levels() -> Vec<DunningLevel> {
        DunningPolicy::default().levels
    }

    fn item(id: &str, due_on: &str, open: Decimal) -> OpenItem {
        OpenItem {
            invoice_id: id.into(),
            currency: usd(),
            issued_on: date(due_on) - Days::new(30),
            due_on: date(due_on),
            open,
            disputed: Decimal::ZERO,
        }
    }

    fn dunned(id: &str, level: u32, on: &str) -> Dunned {
        Dunned {
            invoice_id: id.into(),
            level,
            issued_on: date(on),
        }
    }

    fn standing(items: Vec<OpenItem>, dunned: Vec<Dunned>) -> Standing {
        Standing {
            items,
            dunned,
            ..Standing::default()
        }
    }

    /// (invoice, level) of a letter due, or the reason none is.
    fn outcome(decision: &Decision) -> Result<Vec<(String, u32)>, NoLetter> {
        match decision {
            Decision::Due(letter) => Ok(letter
                .items
                .iter()
                .map(|i| (i.item.invoice_id.clone(), i.level))
                .collect()),
            Decision::NotDue { reason, .. } => Err(*reason),
        }
    }

    fn pairs(list: &[(&str, u32)]) -> Result<Vec<(String, u32)>, NoLetter> {
        Ok(list.iter().map(|(id, l)| (id.to_string(), *l)).collect())
    }

    #[test]
    fn the_default_levels_are_a_reminder_a_second_and_a_final_notice() {
        let policy = DunningPolicy::default();
        let thresholds: Vec<(&str, u32)> = policy
            .levels
            .iter()
            .map(|l| (l.name.as_str(), l.days_past_due))
            .collect();
        assert_eq!(
            thresholds,
            [("Reminder", 1), ("Second notice", 15), ("Final notice", 30)]
        );
        assert!(policy.validate().is_empty(), "{:?}", policy.validate());
    }

    #[test]
    fn an_invoice_is_reminded_from_one_day_past_due() {
        let s = standing(vec![item("INV-1", "2025-06-30", dec!(100))], vec![]);
        assert_eq!(
            outcome(&decide(&levels(), &s, date("2025-06-30"))),
            Err(NoLetter::NothingOverdue)
        );
        let Decision::NotDue { next_on, .. } = decide(&levels(), &s, date("2025-06-30")) else {
            panic!()
        };
        assert_eq!(next_on, Some(date("2025-07-01")));
        assert_eq!(
            outcome(&decide(&levels(), &s, date("2025-07-01"))),
            pairs(&[("INV-1", 1)])
        );
    }

    #[test]
    fn levels_come_one_at_a_time_in_order_never_skipped() {
        // 40 days past due and never dunned: a reminder first.
        let s = standing(vec![item("INV-1", "2025-05-21", dec!(100))], vec![]);
        assert_eq!(
            outcome(&decide(&levels(), &s, date("2025-06-30"))),
            pairs(&[("INV-1", 1)])
        );
        let reminded = standing(
            vec![item("INV-1", "2025-05-21", dec!(100))],
            vec![dunned("INV-1", 1, "2025-06-30")],
        );
        // The second notice waits 14 days after the reminder...
        assert_eq!(
            outcome(&decide(&levels(), &reminded, date("2025-07-13"))),
            Err(NoLetter::Waiting)
        );
        assert_eq!(
            outcome(&decide(&levels(), &reminded, date("2025-07-14"))),
            pairs(&[("INV-1", 2)])
        );
        let all = standing(
            vec![item("INV-1", "2025-05-21", dec!(100))],
            vec![
                dunned("INV-1", 1, "2025-06-30"),
                dunned("INV-1", 2, "2025-07-14"),
                dunned("INV-1", 3, "2025-07-28"),
            ],
        );
        assert_eq!(
            outcome(&decide(&levels(), &all, date("2025-12-31"))),
            Err(NoLetter::AllLevelsIssued)
        );
    }

    #[test]
    fn the_next_level_also_waits_for_its_days_past_due() {
        // Reminded at 1 day past due: the second notice comes at 15 days
        // past due (the wait of 14 is over a day earlier).
        let s = standing(
            vec![item("INV-1", "2025-06-01", dec!(100))],
            vec![dunned("INV-1", 1, "2025-06-02")],
        );
        assert_eq!(
            outcome(&decide(&levels(), &s, date("2025-06-15"))),
            Err(NoLetter::NotDueYet)
        );
        assert_eq!(
            outcome(&decide(&levels(), &s, date("2025-06-16"))),
            pairs(&[("INV-1", 2)])
        );
    }

    #[test]
    fn one_letter_covers_every_invoice_due_at_the_highest_level() {
        let s = standing(
            vec![
                item("NEW", "2025-06-25", dec!(50)),
                item("OLD", "2025-05-01", dec!(70)),
                item("CURRENT", "2025-07-15", dec!(900)),
            ],
            vec![dunned("OLD", 1, "2025-05-10")],
        );
        let Decision::Due(letter) = decide(&levels(), &s, date("2025-06-30")) else {
            panic!("a letter is due")
        };
        assert_eq!(letter.level, 2);
        assert_eq!(
            outcome(&Decision::Due(letter.clone())),
            pairs(&[("OLD", 2), ("NEW", 1)])
        );
        assert_eq!(letter.totals.len(), 1);
        assert_eq!(letter.totals[0].amount, dec!(120));
        assert_eq!(letter.items[0].item.days_past_due, 60);
    }

    #[test]
    fn disputed_amounts_never_count() {
        let mut disputed = item("INV-1", "2025-05-01", dec!(500));
        disputed.disputed = dec!(500);
        let mut part = item("INV-2", "2025-05-01", dec!(500));
        part.disputed = dec!(120);
        let s = standing(vec![disputed, part], vec![]);
        let Decision::Due(letter) = decide(&levels(), &s, date("2025-06-30")) else {
            panic!()
        };
        assert_eq!(
            outcome(&Decision::Due(letter.clone())),
            pairs(&[("INV-2", 1)])
        );
        assert_eq!(letter.items[0].item.amount, dec!(380));
        assert_eq!(letter.totals[0].amount, dec!(380));
        let mut all = item("INV-3", "2025-05-01", dec!(10));
        all.disputed = dec!(10);
        assert_eq!(
            outcome(&decide(
                &levels(),
                &standing(vec![all], vec![]),
                date("2025-06-30")
            )),
            Err(NoLetter::NothingOverdue),
            "nothing undisputed is overdue"
        );
    }

    #[test]
    fn an_unbroken_promise_or_the_exempt_flag_holds_letters_back() {
        let items = vec![item("INV-1", "2025-05-01", dec!(500))];
        let promised = Standing {
            unbroken_promise: true,
            ..standing(items.clone(), vec![])
        };
        assert_eq!(
            outcome(&decide(&levels(), &promised, date("2025-06-30"))),
            Err(NoLetter::PromiseToPay)
        );
        let exempt = Standing {
            exempt: true,
            ..standing(items.clone(), vec![])
        };
        assert_eq!(
            outcome(&decide(&levels(), &exempt, date("2025-06-30"))),
            Err(NoLetter::Exempt)
        );
        assert_eq!(
            outcome(&decide(&[], &standing(items, vec![]), date("2025-06-30"))),
            Err(NoLetter::NoLevels)
        );
    }

    #[test]
    fn a_level_waits_until_the_overdue_amount_reaches_its_minimum() {
        let mut levels = levels();
        levels[0]
            .minimum_overdue
            .insert("USD".into(), "100.00".into());
        let small = standing(
            vec![
                item("A", "2025-06-01", dec!(40)),
                item("B", "2025-06-20", dec!(59.99)),
            ],
            vec![],
        );
        assert_eq!(
            outcome(&decide(&levels, &small, date("2025-06-30"))),
            Err(NoLetter::BelowMinimum)
        );
        let enough = standing(
            vec![
                item("A", "2025-06-01", dec!(40)),
                item("B", "2025-06-20", dec!(60)),
            ],
            vec![],
        );
        assert_eq!(
            outcome(&decide(&levels, &enough, date("2025-06-30"))),
            pairs(&[("A", 1), ("B", 1)])
        );
    }

    #[test]
    fn each_currency_stands_on_its_own() {
        let eur = Currency::parse("EUR").unwrap();
        let mut levels = levels();
        levels[0]
            .minimum_overdue
            .insert("USD".into(), "50.00".into());
        levels[0]
            .minimum_overdue
            .insert("EUR".into(), "50.00".into());
        let euro = |id: &str, open| OpenItem {
            currency: eur,
            ..item(id, "2025-06-01", open)
        };
        // 30 USD and 30 EUR: neither currency reaches its minimum, and
        // the two are never added up.
        let apart = standing(
            vec![item("U", "2025-06-01", dec!(30)), euro("E", dec!(30))],
            vec![],
        );
        assert_eq!(
            outcome(&decide(&levels, &apart, date("2025-06-30"))),
            Err(NoLetter::BelowMinimum)
        );
        // Enough in EUR alone: the letter covers the euro invoice only.
        let euros = standing(
            vec![item("U", "2025-06-01", dec!(30)), euro("E", dec!(80))],
            vec![],
        );
        let Decision::Due(letter) = decide(&levels, &euros, date("2025-06-30")) else {
            panic!()
        };
        assert_eq!(outcome(&Decision::Due(letter.clone())), pairs(&[("E", 1)]));
        assert_eq!(letter.totals.len(), 1);
        assert_eq!(letter.totals[0].currency, eur);
        // Both over: totals per currency, in code order.
        let both = standing(
            vec![item("U", "2025-06-01", dec!(60)), euro("E", dec!(80))],
            vec![],
        );
        let Decision::Due(letter) = decide(&levels, &both, date("2025-06-30")) else {
            panic!()
        };
        let totals: Vec<(&str, Decimal)> = letter
            .totals
            .iter()
            .map(|t| (t.currency.code(), t.amount))
            .collect();
        assert_eq!(totals, [("EUR", dec!(80)), ("USD", dec!(60))]);
    }

    #[test]
    fn levels_are_checked_when_the_policy_is_saved() {
        let mut policy = DunningPolicy::default();
        policy.levels[1].days_past_due = 1;
        policy.levels[2].template = "Pay {{amount_due}} now".into();
        policy.levels[0]
            .minimum_overdue
            .insert("USD".into(), "1.001".into());
        policy.levels[0]
            .minimum_overdue
            .insert("usd".into(), "1".into());
        policy.levels[0].subject = "{{items}}".into();
        policy.sender = " ".into();
        let errors = policy.validate();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "dunning.levels[0].minimum_overdue.USD",
                "dunning.levels[0].minimum_overdue.usd",
                "dunning.levels[0].subject",
                "dunning.levels[1].days_past_due",
                "dunning.levels[2].template",
                "dunning.sender",
            ]
        );
        assert!(
            errors[4].message.contains("{{amount_due}}"),
            "{}",
            errors[4].message
        );
    }

    #[test]
    fn the_default_letters_render() {
        let policy = DunningPolicy::default();
        for level in &policy.levels {
            assert!(
                letters::Template::parse(&level.template).is_ok(),
                "{}",
                level.name
            );
            assert!(letters::Template::parse_subject(&level.subject).is_ok());
        }
    }
}
