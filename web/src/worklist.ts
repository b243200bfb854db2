// An associate's collection work: the customers with a balance past due,
// most at stake first, and the disputes still open, on their own accounts
// by default (a manager's on everyone's), with the same accounts filter as
// the held queue.

import { describe, get, seg } from "./api";
import type { Ctx } from "./context";
import { h, replace, foldable, today, uid, filterForm } from "./dom";
import { openEscalateDialog } from "./escalations";
import { grouped, money } from "./money";
import { assigneeFilter, defaultAssignee } from "./people";
import { listOf, type Dispute, type WorklistReport } from "./types";

export function worklistView(root: HTMLElement, ctx: Ctx): void {
  const titleId = uid("worklist-title");
  const accounts = assigneeFilter(ctx, defaultAssignee(ctx));
  const filters = filterForm(
    { "aria-label": "Whose worklist" },
    () => void load(),
    accounts.label,
    accounts.select,
    h("button", { type: "submit" }, "Show"),
  );
  const collections = h("div", {});
  const disputes = h("div", {});
  replace(
    root,
    h(
      "section",
      { "aria-labelledby": titleId },
      h("div", { class: "section-head" }, h("h2", { id: titleId }, "Worklist")),
      filters,
      collections,
      disputes,
    ),
  );

  const query = () => {
    const params = new URLSearchParams({ as_of: today() });
    if (accounts.select.value) params.set("assignee", accounts.select.value);
    return params;
  };

  async function load(): Promise<void> {
    const params = query();
    const active = new URLSearchParams(params);
    active.set("status", "active");
    collections.setAttribute("aria-busy", "true");
    disputes.setAttribute("aria-busy", "true");
    const [worklist, open] = await Promise.allSettled([
      get<WorklistReport>(`/reports/worklist?${params}`),
      get<unknown>(`/disputes?${active}`),
    ]);
    if (!ctx.current()) return;
    collections.setAttribute("aria-busy", "false");
    disputes.setAttribute("aria-busy", "false");
    if (worklist.status === "fulfilled") replace(collections, collectionTable(worklist.value));
    else replace(collections, h("h3", {}, "To collect"), failed("The worklist", worklist.reason));
    if (open.status === "fulfilled") replace(disputes, disputeTable(listOf<Dispute>(open.value, "disputes")));
    else replace(disputes, h("h3", {}, "Open disputes"), failed("The disputes", open.reason));
  }

  function collectionTable(report: WorklistReport): HTMLElement[] {
    const list = report.customers;
    return [
      h("h3", {}, `To collect (${list.length})`),
      list.length === 0
        ? h("p", { class: "empty" }, "No balance past due on these accounts.")
        : h(
            "div",
            { class: "table-wrap" },
            foldable(
              h(
                "table",
                {},
                h("caption", {}, `Customers with a balance past due as of ${report.as_of}, most at stake first, per currency`),
                h(
                  "thead",
                  {},
                  h(
                    "tr",
                    {},
                    h("th", { scope: "col", class: "num" }, "Rank"),
                    h("th", { scope: "col" }, "Customer"),
                    ["Past due", "Held orders", "Priority"].map((t) => h("th", { scope: "col", class: "num" }, t)),
                    h("th", { scope: "col", class: "num" }, "Oldest days past due"),
                    h("th", { scope: "col", class: "num" }, "Broken promises"),
                  ),
                ),
                h(
                  "tbody",
                  {},
                  list.map((c) =>
                    h(
                      "tr",
                      { "data-customer-id": c.customer_id },
                      h("td", { class: "num" }, String(c.rank)),
                      h(
                        "th",
                        { scope: "row" },
                        h("a", { href: `#/customer/${seg(c.customer_id)}` }, c.customer_name || c.customer_id),
                        h("span", { class: "muted id" }, c.customer_id),
                      ),
                      h("td", { class: "num late" }, money(c.past_due, c.currency)),
                      h("td", { class: "num" }, money(c.held_orders_value, c.currency)),
                      h("td", { class: "num" }, money(c.priority, c.currency)),
                      h("td", { class: "num" }, String(c.oldest_days_past_due)),
                      h("td", { class: "num" }, c.broken_promises ? String(c.broken_promises) : "—"),
                    ),
                  ),
                ),
              ),
            ),
          ),
    ];
  }

  function disputeTable(list: Dispute[]): HTMLElement[] {
    return [
      h("h3", {}, `Open disputes (${list.length})`),
      list.length === 0
        ? h("p", { class: "empty" }, "No open disputes on these accounts.")
        : h(
            "div",
            { class: "table-wrap" },
            foldable(
              h(
                "table",
                {},
                h("caption", {}, "Open and in-review disputes, the nearest service-level date first"),
                h(
                  "thead",
                  {},
                  h(
                    "tr",
                    {},
                    ["Dispute", "Customer", "Invoice"].map((t) => h("th", { scope: "col" }, t)),
                    h("th", { scope: "col", class: "num" }, "Amount"),
                    ["Reason", "Status", "Due by", "Service level"].map((t) => h("th", { scope: "col" }, t)),
                    h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
                  ),
                ),
                h(
                  "tbody",
                  {},
                  list.map((d) =>
                    h(
                      "tr",
                      { "data-dispute-id": d.id },
                      h("th", { scope: "row" }, d.id),
                      h("td", {}, h("a", { href: `#/customer/${seg(d.customer_id)}` }, d.customer_id)),
                      h("td", {}, d.invoice_id),
                      h("td", { class: "num" }, `${grouped(d.amount)} ${d.currency}`),
                      h("td", {}, h("span", { class: "code plain" }, d.reason_code)),
                      h("td", {}, d.status.replace(/_/g, " ")),
                      h("td", { class: "date" }, d.sla_due_on),
                      h("td", {}, h("span", { class: `badge sla-${d.sla_status}` }, d.sla_status.replace(/_/g, " "))),
                      h(
                        "td",
                        { class: "actions" },
                        h(
                          "button",
                          {
                            type: "button",
                            "aria-label": `Escalate dispute ${d.id}`,
                            onclick: () =>
                              openEscalateDialog({ type: "dispute", id: d.id }, (summary) => {
                                ctx.announce(summary);
                                void load();
                              }),
                          },
                          "Escalate…",
                        ),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
    ];
  }

  void load();
}

function failed(what: string, reason: unknown): HTMLElement {
  return h("div", { class: "error", role: "alert" }, h("p", {}, `${what} could not be loaded. ${describe(reason)}`));
}
