// For managers: pending credit-limit requests to approve or reject, the
// credit policy, and the reports with simple charts and CSV downloads
// (releases by hand among them).

import { describe, downloadCsv, get, post, seg } from "./api";
import { AGING_BUCKETS, agingChart, barChart } from "./charts";
import type { Ctx } from "./context";
import { dashboardSection, type LoadedTrend } from "./dashboard";
import { deliveriesSection } from "./deliveries";
import { policySection } from "./policy";
import { releasesCard } from "./releases";
import { templatesSection } from "./templates";
import { addDays, firstOfMonth, h, replace, today, uid, when, filterForm } from "./dom";
import { buildForm, requireFields } from "./forms";
import { grouped, money, plural } from "./money";
import {
  agingOf,
  listOf,
  type AgingReport,
  type Decided,
  type DecisionBody,
  type HeldOrdersReport,
  type HeldOrdersTrend,
  type LimitRequest,
  type QueueEntry,
} from "./types";

/** Days the held-order trend shows unless asked otherwise. */
const TREND_DAYS = 30;

export function managerView(root: HTMLElement, ctx: Ctx): void {
  const requestsId = uid("requests-title");
  const reportsId = uid("reports-title");
  const requests = h("div", {});
  const requestsError = h("div", { class: "error", role: "alert" });
  const downloadsId = uid("downloads-title");
  const isAssociate = ctx.me?.role === "associate";
  const deliveries = isAssociate ? null : deliveriesSection(ctx);
  const dashboard = isAssociate ? null : dashboardSection(ctx);
  const policy = isAssociate ? null : policySection(ctx);
  const releases = isAssociate ? null : releasesCard(ctx);
  const templates = isAssociate ? null : templatesSection(ctx);

  const asOf = h("input", { id: uid("as-of"), type: "date", name: "as_of" });
  const from = h("input", { id: uid("from"), type: "date", name: "from", value: firstOfMonth(today()) });
  const to = h("input", { id: uid("to"), type: "date", name: "to", value: today() });
  const trendFrom = h("input", { id: uid("trend-from"), type: "date", name: "from", value: addDays(today(), 1 - TREND_DAYS) });
  const trendTo = h("input", { id: uid("trend-to"), type: "date", name: "to", value: today() });
  const held = h("div", {});
  const trend = h("div", {});
  const aging = h("div", {});
  const reportsForm = filterForm(
    { "aria-label": "Report date" },
    () => void loadReports(),
    h("label", { for: asOf.id }, "As of"),
    asOf,
    h("button", { type: "submit" }, "Show reports"),
  );

  /** The reports' date: the one typed, else the browser's today, as the dashboard's. */
  const reportDate = () => asOf.value || today();
  const withAsOf = (path: string) => `${path}?as_of=${encodeURIComponent(reportDate())}`;
  /** A CSV download; `path` gives null when the inputs are not right (it says why). */
  const csv = (label: string, name: string, path: () => string | null) => {
    const button = h("button", { type: "button" }, label);
    button.addEventListener("click", async () => {
      const target = path();
      if (target === null) return;
      button.disabled = true;
      try {
        const saved = await downloadCsv(target, `${name}-${reportDate()}.csv`);
        ctx.announce(`Downloaded ${saved}.`);
      } catch (failure) {
        ctx.alert(`The ${name} report could not be downloaded. ${describe(failure)}`);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  };
  /** `?from=&to=` of two date inputs, or null (and an alert) when they are not a period. */
  const period = (what: string, start: HTMLInputElement, end: HTMLInputElement): string | null => {
    start.removeAttribute("aria-invalid");
    end.removeAttribute("aria-invalid");
    const refuse = (field: HTMLInputElement, message: string) => {
      field.setAttribute("aria-invalid", "true");
      ctx.alert(`${what}: ${message}`);
      field.focus();
      return null;
    };
    if (!start.value) return refuse(start, "give the first day.");
    if (!end.value) return refuse(end, "give the last day.");
    if (end.value < start.value) return refuse(end, "the last day must not be before the first.");
    return new URLSearchParams({ from: start.value, to: end.value }).toString();
  };
  const kpiPath = () => {
    const query = period("KPIs", from, to);
    return query === null ? null : `/reports/kpis?${query}`;
  };
  const trendPath = () => {
    const query = period("Held-order trend", trendFrom, trendTo);
    return query === null ? null : `/reports/held-orders/trend?${query}`;
  };
  const trendForm = filterForm(
    { "aria-label": "Trend period" },
    () => void loadTrend(),
    h("label", { for: trendFrom.id }, "From"),
    trendFrom,
    h("label", { for: trendTo.id }, "to"),
    trendTo,
    h("button", { type: "submit" }, "Show trend"),
  );

  replace(
    root,
    dashboard?.element ?? null,
    h(
      "section",
      { "aria-labelledby": requestsId },
      h("div", { class: "section-head" }, h("h2", { id: requestsId }, "Pending credit-limit requests")),
      isAssociate ? h("p", { class: "muted" }, "Managers decide on these requests; you can follow what is pending.") : null,
      requestsError,
      requests,
    ),
    policy?.element ?? null,
    deliveries?.element ?? null,
    templates?.element ?? null,
    h(
      "section",
      { "aria-labelledby": reportsId },
      h("div", { class: "section-head" }, h("h2", { id: reportsId }, "Reports")),
      reportsForm,
      h(
        "div",
        { class: "cards reports" },
        h("section", { class: "card wide", "aria-label": "Held orders report" }, held),
        h("section", { class: "card wide", "aria-label": "Held-order trend" }, trend),
        h("section", { class: "card wide", "aria-label": "Aging report" }, aging),
        releases?.element ?? null,
        h(
          "section",
          { class: "card", "aria-labelledby": downloadsId },
          h("h3", { id: downloadsId }, "More downloads (CSV)"),
          h(
            "div",
            { class: "buttons stacked" },
            csv("Disputes and service levels", "disputes", () => withAsOf("/reports/disputes")),
            csv("Collection worklist", "worklist", () => withAsOf("/reports/worklist")),
            csv("Credit-limit requests", "credit-limit-requests", () => "/reports/credit-limit-requests"),
          ),
          h(
            "div",
            { class: "filters" },
            h("label", { for: from.id }, "KPIs from"),
            from,
            h("label", { for: to.id }, "to"),
            to,
            csv("KPIs", "kpis", kpiPath),
          ),
        ),
      ),
    ),
  );

  async function loadRequests(): Promise<void> {
    replace(requestsError);
    try {
      const list = listOf<LimitRequest>(await get<unknown>("/credit-limit-requests?status=pending"), "requests");
      if (!ctx.current()) return;
      renderRequests(list);
    } catch (failure) {
      if (!ctx.current()) return;
      replace(requests);
      replace(requestsError, h("p", {}, `The pending requests could not be loaded. ${describe(failure)}`));
    }
  }

  function renderRequests(list: LimitRequest[]): void {
    if (list.length === 0) {
      replace(requests, h("p", { class: "empty" }, "No pending requests."));
      return;
    }
    replace(
      requests,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h("caption", {}, "Requests waiting for a decision"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Request", "Customer", "Current limit", "Requested", "Reason", "Asked by"].map((t) => h("th", { scope: "col" }, t)),
              isAssociate ? null : h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
            ),
          ),
          h(
            "tbody",
            {},
            list.map((r) => {
              const cur = r.currency;
              return h(
                "tr",
                { "data-request-id": r.id },
                h("th", { scope: "row" }, r.id),
                h("td", {}, h("a", { href: `#/customer/${seg(r.customer_id)}` }, r.customer_name || r.customer_id)),
                h("td", { class: "num" }, money(r.current_limit, cur)),
                h("td", { class: "num" }, money(r.requested_limit, cur)),
                h("td", { class: "note" }, r.reason),
                h("td", {}, r.requested_by, h("span", { class: "muted" }, ` ${when(r.requested_at)}`)),
                isAssociate
                  ? null
                  : h(
                      "td",
                      { class: "actions" },
                      h("button", { type: "button", onclick: () => decide(r, "approve") }, "Approve…"),
                      h("button", { type: "button", onclick: () => decide(r, "reject") }, "Reject…"),
                    ),
              );
            }),
          ),
        ),
      ),
    );
  }

  function decide(request: LimitRequest, decision: "approve" | "reject"): void {
    const titleId = uid("decide-title");
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId });
    const cur = request.currency;
    const fields = [
      ...(decision === "approve"
        ? [
            {
              name: "approved_limit",
              label: "Approved limit",
              required: true,
              inputmode: "decimal" as const,
              value: request.requested_limit,
              hint: `Requested ${money(request.requested_limit, cur)}; you may approve a different amount.`,
            },
          ]
        : []),
      { name: "note", label: "Note", kind: "textarea" as const, required: true, maxlength: 2000 },
    ];
    const form = buildForm({
      label: decision === "approve" ? "Approve" : "Reject",
      fields,
      submit: decision === "approve" ? "Approve" : "Reject",
      extraButtons: [h("button", { type: "button", onclick: () => dialog.close() }, "Cancel")],
      onSubmit: async (f) => {
        const required: Record<string, string> = { note: "Write a note for the record." };
        if (decision === "approve") required.approved_limit = "Give the limit you approve.";
        if (!requireFields(f, required)) return;
        const body: DecisionBody = { decision, note: f.value("note") };
        if (decision === "approve") body.approved_limit = f.value("approved_limit");
        const decided = await post<Decided>(`/credit-limit-requests/${seg(request.id)}/decision`, body);
        dialog.close();
        ctx.announce(decisionSummary(request, decided, cur));
        void loadRequests();
        void loadReports();
      },
    });
    dialog.append(
      h(
        "h2",
        { id: titleId },
        `${decision === "approve" ? "Approve" : "Reject"} request ${request.id} for ${request.customer_name || request.customer_id}`,
      ),
      h("p", { class: "muted" }, request.reason),
      form.element,
    );
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    form.field(decision === "approve" ? "approved_limit" : "note").focus();
  }

  /** `loaded`: a trend already at hand (the dashboard's), shown if it is
   * the one the trend's form asks for. */
  async function loadReports(loaded: LoadedTrend | null = null): Promise<void> {
    await Promise.all([loadHeld(), loadAging(), loadTrend(loaded)]);
  }

  async function loadTrend(loaded: LoadedTrend | null = null): Promise<void> {
    const head = h(
      "div",
      { class: "card-head" },
      h("h3", {}, "Held-order trend"),
      csv("Download CSV", "held-orders-trend", trendPath),
    );
    const path = trendPath();
    // Not a period: the alert says why; what is shown stays.
    if (path === null) return;
    try {
      const report = loaded?.path === path ? loaded.report : await get<HeldOrdersTrend>(path);
      if (!ctx.current()) return;
      const days = listOf<HeldOrdersTrend["days"][number]>(report, "days");
      replace(
        trend,
        head,
        trendForm,
        days.length === 0
          ? h("p", { class: "empty" }, "No days in this period.")
          : barChart(
              `Orders held at the end of each day, ${report.from} to ${report.to}`,
              days.map((day) => ({
                label: day.date,
                value: String(day.orders),
                shown: [
                  plural(day.orders, "order"),
                  ...day.currencies.filter((c) => c.orders > 0).map((c) => money(c.value, c.currency)),
                ].join(" · "),
                tone: 3,
              })),
            ),
      );
    } catch (failure) {
      if (!ctx.current()) return;
      replace(
        trend,
        head,
        trendForm,
        h("div", { class: "error", role: "alert" }, h("p", {}, `The held-order trend could not be loaded. ${describe(failure)}`)),
      );
    }
  }

  async function loadHeld(): Promise<void> {
    const titleId = uid("held-report");
    const head = h(
      "div",
      { class: "card-head" },
      h("h3", { id: titleId }, "Held orders"),
      csv("Download CSV", "held-orders", () => withAsOf("/reports/held-orders")),
    );
    try {
      const report = await get<HeldOrdersReport>(withAsOf("/reports/held-orders"));
      if (!ctx.current()) return;
      const orders = listOf<QueueEntry>(report, "orders");
      replace(
        held,
        head,
        orders.length === 0
          ? h("p", { class: "empty" }, "No held orders.")
          : [
              h("p", {}, `${plural(orders.length, "order")} held as of ${report.as_of}.`),
              barChart("Held orders by days held", daysHeldBars(orders)),
              barChart("Held orders by reason", reasonBars(orders)),
            ],
      );
    } catch (failure) {
      if (!ctx.current()) return;
      replace(held, head, h("div", { class: "error", role: "alert" }, h("p", {}, `The held-orders report could not be loaded. ${describe(failure)}`)));
    }
  }

  async function loadAging(): Promise<void> {
    const head = h("div", { class: "card-head" }, h("h3", {}, "Aging"), csv("Download CSV", "aging", () => withAsOf("/reports/aging")));
    try {
      const report = await get<AgingReport>(withAsOf("/reports/aging"));
      if (!ctx.current()) return;
      const totals = listOf<AgingReport["totals"][number]>(report.totals, "totals");
      const customers = listOf<AgingReport["customers"][number]>(report.customers, "customers");
      replace(
        aging,
        head,
        totals.length === 0 && customers.length === 0
          ? h("p", { class: "empty" }, "No open receivables.")
          : [
              totals.map((t) =>
                agingChart(`All customers in ${t.currency}, as of ${report.as_of}`, agingOf(t), t.currency),
              ),
              agingTable(customers),
            ],
      );
    } catch (failure) {
      if (!ctx.current()) return;
      replace(aging, head, h("div", { class: "error", role: "alert" }, h("p", {}, `The aging report could not be loaded. ${describe(failure)}`)));
    }
  }

  void loadRequests();
  void policy?.load();
  void deliveries?.load();
  void templates?.load();
  void (async () => {
    // On a large book the reports below cost the host seconds of work; asked
    // for once the dashboard has answered, they do not hold up its tiles.
    const loaded = (await dashboard?.load()) ?? null;
    if (!ctx.current()) return;
    void loadReports(loaded);
    void releases?.load();
  })();
}

/** Customers the aging table shows at first: a large book has thousands,
 * and drawing them all kept the page (and its dashboard) from showing for
 * seconds. The rest come on request; the CSV has them all. */
const AGING_ROWS_SHOWN = 100;

function agingTable(customers: AgingReport["customers"]): HTMLElement | null {
  if (customers.length === 0) return null;
  const body = h("tbody", {}, customers.slice(0, AGING_ROWS_SHOWN).map(agingRow));
  const table = h(
    "table",
    {},
    h("caption", {}, "Aging by customer"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Customer"),
        h("th", { scope: "col" }, "Currency"),
        AGING_BUCKETS.map(([, label]) => h("th", { scope: "col", class: "num" }, label)),
        h("th", { scope: "col", class: "num" }, "Total"),
      ),
    ),
    body,
  );
  if (customers.length <= AGING_ROWS_SHOWN) return h("div", { class: "table-wrap" }, table);
  const all = grouped(String(customers.length));
  const more = h(
    "p",
    { class: "muted" },
    `Showing the first ${AGING_ROWS_SHOWN} of ${all} customers; the CSV has them all. `,
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          const rest = customers.slice(AGING_ROWS_SHOWN).map(agingRow);
          body.append(...rest);
          more.remove();
          // The button is gone: a keyboard user goes on from the first row added.
          rest[0]?.querySelector("a")?.focus();
        },
      },
      `Show all ${all}`,
    ),
  );
  return h("div", {}, h("div", { class: "table-wrap" }, table), more);
}

function agingRow(c: AgingReport["customers"][number]): HTMLElement {
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, h("a", { href: `#/customer/${seg(c.customer_id)}` }, c.customer_name || c.customer_id)),
    h("td", {}, c.currency),
    AGING_BUCKETS.map(([key]) => h("td", { class: "num" }, grouped(agingOf(c)[key]))),
    h("td", { class: "num" }, grouped(agingOf(c).total)),
  );
}

const DAYS_HELD = [
  ["0–2 days", 0, 2],
  ["3–7 days", 3, 7],
  ["8–14 days", 8, 14],
  ["15–30 days", 15, 30],
  ["Over 30 days", 31, Number.MAX_SAFE_INTEGER],
] as const;

function daysHeldBars(orders: QueueEntry[]) {
  return DAYS_HELD.map(([label, low, high], index) => {
    const count = orders.filter((o) => (o.days_held ?? 0) >= low && (o.days_held ?? 0) <= high).length;
    return { label, value: String(count), shown: plural(count, "order"), tone: Math.min(index + 1, 5) };
  });
}

function reasonBars(orders: QueueEntry[]) {
  const counts = new Map<string, number>();
  for (const order of orders) {
    for (const code of new Set(order.reasons.map((r) => r.code))) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => ({ label: code, value: String(count), shown: plural(count, "order"), tone: 3 }));
}

function decisionSummary(request: LimitRequest, decided: Decided, currency: string): string {
  const parts = [`Request ${request.id} ${decided.status}.`, `Credit limit now ${money(decided.credit_limit, currency)}.`];
  if (decided.released_orders.length) parts.push(`Released: ${decided.released_orders.join(", ")}.`);
  if (decided.still_held.length) parts.push(`Still held: ${decided.still_held.join(", ")}.`);
  return parts.join(" ");
}
