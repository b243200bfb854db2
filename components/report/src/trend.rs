//! `GET /reports/held-orders/trend`: the orders held at the end of each day
//! of a period, per currency — as JSON, or as CSV with one row per day and
//! currency (`date`, `currency`, `orders`, `value`), the JSON's figures.

use api::{Call, Problem, Reply, Table};
use chrono::Days;
use credit_core::metrics::Period;
use credit_core::trend::MAX_TREND_DAYS;
use ledger::reports::{self, HeldOrdersTrend};

/// Days a trend covers when `from` is not given: the 30 days to `to`.
const DEFAULT_DAYS: u64 = 30;

/// `?from=&to=`: `to` defaults to today, `from` to 29 days before `to`;
/// at most [`MAX_TREND_DAYS`] days.
pub async fn held_orders_trend(desk: &super::Reports, call: &Call) -> Result<Reply, Problem> {
    let to = call.date_param("to")?.unwrap_or_else(|| call.today());
    let from = match call.date_param("from")? {
        Some(from) => from,
        None => to
            .checked_sub_days(Days::new(DEFAULT_DAYS - 1))
            .unwrap_or(to),
    };
    let period = Period::new(from, to)
        .ok_or_else(|| Problem::invalid_field("to", "must not be before from"))?;
    if period.days() > MAX_TREND_DAYS {
        return Err(Problem::invalid_field(
            "to",
            format!("the period may cover at most {MAX_TREND_DAYS} days"),
        ));
    }
    let report = reports::held_orders_trend(&desk.db, period).await?;
    Ok(super::answer(call, &report, table))
}

fn table(report: &HeldOrdersTrend) -> Table {
    let name = format!("held-orders-trend-{}-{}", report.from, report.to);
    let mut table = Table::new(&name, &["date", "currency", "orders", "value"]);
    for day in &report.days {
        for line in &day.currencies {
            table.push(vec![
                day.date.to_string(),
                line.currency.to_string(),
                line.orders.to_string(),
                line.value.to_string(),
            ]);
        }
    }
    table
}
