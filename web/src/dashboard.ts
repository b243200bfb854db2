// The manager's dashboard, shown as the page opens: tiles per currency
// (held, owed, past due, DSO and CEI for the month), the disputes breaching
// their service level, pending limit requests and the oldest held order;
// receivables by age as stacked bars per currency; the held-order trend as
// a line chart. Every chart has a table beside it, and a CSV.

import { describe, downloadCsv, get } from "./api";
import { AGING_BUCKETS, lineChart, stackedAgingBar } from "./charts";
import type { Ctx } from "./context";
import { addDays, h, replace, today, uid } from "./dom";
import { grouped, money, plural } from "./money";
import type { Dashboard, HeldOrdersTrend } from "./types";

/** Days the dashboard's trend covers. */
const TREND_DAYS = 30;

/** A trend the dashboard loaded, and the path it came from. */
export interface LoadedTrend {
  path: string;
  report: HeldOrdersTrend;
}

/** The dashboard section; `load` shows it and gives the trend it loaded
 * (null when it could not be loaded), for the page to use again. */
export function dashboardSection(ctx: Ctx): { element: HTMLElement; load: () => Promise<LoadedTrend | null> } {
  const titleId = uid("dashboard-title");
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the dashboard…"));
  const element = h(
    "section",
    { "aria-labelledby": titleId },
    h("div", { class: "section-head" }, h("h2", { id: titleId }, "Dashboard")),
    body,
  );

  const download = (label: string, path: string, file: string) => {
    const button = h("button", { type: "button" }, label);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        ctx.announce(`Downloaded ${await downloadCsv(path, file)}.`);
      } catch (failure) {
        ctx.alert(`The download failed. ${describe(failure)}`);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  };

  async function load(): Promise<LoadedTrend | null> {
    const asOf = today();
    const from = addDays(asOf, 1 - TREND_DAYS);
    const trendPath = `/reports/held-orders/trend?from=${from}&to=${asOf}`;
    try {
      const [dashboard, trend] = await Promise.all([
        get<Dashboard>(`/reports/dashboard?as_of=${asOf}`),
        get<HeldOrdersTrend>(trendPath),
      ]);
      if (!ctx.current()) return null;
      replace(
        body,
        h(
          "div",
          { class: "card-head" },
          h("p", { class: "muted" }, `As of ${dashboard.as_of}; DSO and CEI from ${dashboard.month_from}.`),
          download("Tiles CSV", `/reports/dashboard?as_of=${asOf}`, `dashboard-${asOf}.csv`),
        ),
        tiles(dashboard),
        h(
          "div",
          { class: "cards reports" },
          h(
            "section",
            { class: "card wide", "aria-label": "Receivables by age" },
            h("div", { class: "card-head" }, h("h3", {}, "Receivables by age"), download("Download CSV", `/reports/aging?as_of=${asOf}`, `aging-${asOf}.csv`)),
            agingView(dashboard),
          ),
          h(
            "section",
            { class: "card wide", "aria-label": "Held orders over 30 days" },
            h("div", { class: "card-head" }, h("h3", {}, "Held orders over 30 days"), download("Download CSV", trendPath, `held-orders-trend-${from}-${asOf}.csv`)),
            trendView(trend),
          ),
        ),
      );
      return { path: trendPath, report: trend };
    } catch (failure) {
      if (ctx.current()) {
        replace(body, h("p", { class: "error", role: "alert" }, `The dashboard could not be loaded. ${describe(failure)}`));
      }
      return null;
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  return { element, load };
}

function tile(label: string, value: string, note?: string, tone = ""): HTMLElement {
  return h("div", { class: `figure ${tone}` }, h("dt", {}, label), h("dd", {}, value), note ? h("dd", { class: "muted note" }, note) : null);
}

function tiles(d: Dashboard): HTMLElement {
  const oldest = d.oldest_held;
  return h(
    "div",
    {},
    h(
      "dl",
      { class: "figures" },
      tile("Held orders", grouped(String(d.held_orders))),
      tile("Disputes breaching SLA", grouped(String(d.disputes_breaching_sla)), undefined, d.disputes_breaching_sla > 0 ? "bad" : ""),
      tile("Pending limit requests", grouped(String(d.pending_limit_requests))),
      tile(
        "Oldest held order",
        oldest ? oldest.order_id : "none",
        oldest ? `${oldest.customer_name || oldest.customer_id}, held ${oldest.days_held ?? 0} days` : undefined,
      ),
    ),
    d.currencies.map((c) =>
      h(
        "dl",
        { class: "figures", "aria-label": `Figures in ${c.currency}` },
        tile(`Held (${c.currency})`, money(c.held_amount, c.currency), plural(c.held_orders, "order")),
        tile(`Open receivables (${c.currency})`, money(c.open_receivables, c.currency)),
        tile(
          `Past due (${c.currency})`,
          money(c.past_due, c.currency),
          c.past_due_share === null ? undefined : `${c.past_due_share}% of receivables`,
        ),
        tile(`DSO (${c.currency})`, c.dso === null ? "—" : `${c.dso} days`),
        tile(`CEI (${c.currency})`, c.cei === null ? "—" : `${c.cei}%`),
      ),
    ),
  );
}

function agingView(d: Dashboard): HTMLElement {
  if (d.aging.length === 0) return h("p", { class: "empty" }, "No open receivables.");
  return h(
    "div",
    {},
    h(
      "figure",
      { class: "chart" },
      h("figcaption", {}, "Receivables by age, per currency"),
      h("ul", { class: "stacks" }, d.aging.map((a) => h("li", {}, h("span", { class: "bar-label" }, a.currency), stackedAgingBar(a, a.currency)))),
      h("ul", { class: "legend" }, AGING_BUCKETS.map(([, label], index) => h("li", {}, h("span", { class: `swatch tone-${index}` }), label))),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", {}, "Receivables by age (the chart's figures)"),
        h(
          "thead",
          {},
          h("tr", {}, h("th", { scope: "col" }, "Currency"), AGING_BUCKETS.map(([, label]) => h("th", { scope: "col", class: "num" }, label)), h("th", { scope: "col", class: "num" }, "Total")),
        ),
        h(
          "tbody",
          {},
          d.aging.map((a) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, a.currency),
              AGING_BUCKETS.map(([key]) => h("td", { class: "num" }, grouped(a[key]))),
              h("td", { class: "num" }, grouped(a.total)),
            ),
          ),
        ),
      ),
    ),
  );
}

function trendView(trend: HeldOrdersTrend): HTMLElement {
  const dates = trend.days.map((day) => day.date);
  const currencies = [...new Set(trend.days.flatMap((day) => day.currencies.map((c) => c.currency)))].sort();
  const chart = lineChart(
    `Orders held at the end of each day, ${trend.from} to ${trend.to}`,
    dates,
    [{ label: "Orders held", values: trend.days.map((day) => day.orders), tone: 3 }],
    "orders",
  );
  return h(
    "div",
    {},
    h("figure", { class: "chart" }, h("figcaption", {}, `Orders held at the end of each day, ${trend.from} to ${trend.to}`), chart),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", {}, "Held orders per day (the chart's figures)"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Date"),
            h("th", { scope: "col", class: "num" }, "Orders held"),
            currencies.map((c) => h("th", { scope: "col", class: "num" }, `Value (${c})`)),
          ),
        ),
        h(
          "tbody",
          {},
          trend.days.map((day) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, day.date),
              h("td", { class: "num" }, grouped(String(day.orders))),
              currencies.map((c) => {
                const line = day.currencies.find((x) => x.currency === c);
                return h("td", { class: "num" }, line ? grouped(line.value) : "0");
              }),
            ),
          ),
        ),
      ),
    ),
  );
}
