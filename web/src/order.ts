// One order: where it stands, why it is held, a release waiting for a
// manager (who asked, why it needs approval), its escalations and every
// decision on it; release, escalate, approve or reject from here.

import { ApiError, describe, get, seg } from "./api";
import { openApproveDialog, openRejectDialog, requestPanel } from "./approvals";
import type { Ctx } from "./context";
import { h, replace, foldable, uid, when } from "./dom";
import { openEscalateDialog, subjectEscalations } from "./escalations";
import { money } from "./money";
import { cannotRelease, openReleaseDialog, reasonList } from "./orders";
import type { DecisionEntry, OrderView, SearchPage } from "./types";

const KINDS: Record<DecisionEntry["kind"], string> = {
  check: "Checked",
  recheck: "Checked again",
  manual_release: "Released by hand",
  release_requested: "Release asked for",
  approved_release: "Release approved",
  release_rejected: "Release rejected",
  cancel: "Cancelled",
  invoiced: "Invoiced",
};

export function orderView(root: HTMLElement, ctx: Ctx, orderId: string): void {
  const titleId = uid("order-title");
  const heading = h("h2", { id: titleId, tabindex: -1 }, `Order ${orderId}`);
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the order…"));
  replace(root, h("section", { "aria-labelledby": titleId }, h("div", { class: "section-head" }, heading), body));

  const after = (summary: string) => {
    ctx.announce(summary);
    void load().then(() => {
      if (ctx.current()) heading.focus();
    });
  };

  async function load(): Promise<void> {
    body.setAttribute("aria-busy", "true");
    let view: OrderView;
    try {
      view = await get<OrderView>(`/orders/${seg(orderId)}`);
    } catch (failure) {
      if (!ctx.current()) return;
      body.setAttribute("aria-busy", "false");
      const missing = failure instanceof ApiError && failure.status === 404;
      const message = missing ? `No order with ID ${orderId}.` : `The order could not be loaded. ${describe(failure)}`;
      replace(body, h("div", { class: "error", role: "alert" }, h("p", {}, message)));
      return;
    }
    const name = await customerName(view.customer_id);
    if (!ctx.current()) return;
    body.setAttribute("aria-busy", "false");
    render(view, name);
  }

  function render(o: OrderView, name: string | null): void {
    const latest = o.decisions.at(-1);
    const reasons = o.status === "held" || o.status === "pending_approval" ? (latest?.reasons ?? []) : [];
    const blocked = cannotRelease(reasons);
    const figure = (label: string, value: HTMLElement | string) =>
      h("div", { class: "figure" }, h("dt", {}, label), h("dd", {}, value));
    const manager = ctx.me?.role === "manager";
    const request = o.release_request;
    const own = request !== null && request.requested_by === ctx.me?.name;
    replace(
      body,
      h("p", { class: "badges" }, h("span", { class: `badge status-${o.status}` }, o.status.replace(/_/g, " "))),
      h(
        "dl",
        { class: "figures" },
        figure(
          "Customer",
          name
            ? h("a", { href: `#/customer/${seg(o.customer_id)}` }, name)
            : h("span", {}, o.customer_id, h("span", { class: "muted" }, " not known yet")),
        ),
        figure("Amount", money(o.amount, o.currency)),
        figure("Ordered", o.ordered_on),
        figure("Ship by", o.requested_ship_on ?? "—"),
        figure("Held since", o.held_since ? when(o.held_since) : "—"),
      ),
      reasons.length ? [h("h3", {}, "Why it is held"), reasonList(reasons, o.currency)] : null,
      request ? requestPanel(ctx, o, request) : null,
      h(
        "div",
        { class: "buttons actions-row" },
        o.status === "held" && blocked === null
          ? h("button", { type: "button", class: "primary", onclick: () => openReleaseDialog([o.id], after) }, "Release…")
          : null,
        o.status === "held" && blocked !== null ? h("p", { class: "muted" }, `Cannot be released by hand. ${blocked}.`) : null,
        request && manager && !own
          ? [
              h(
                "button",
                { type: "button", class: "primary", onclick: () => openApproveDialog(o, request, after) },
                "Approve release…",
              ),
              h("button", { type: "button", onclick: () => openRejectDialog(o, request, after) }, "Reject release…"),
            ]
          : null,
        h("button", { type: "button", onclick: () => openEscalateDialog({ type: "order", id: o.id }, after) }, "Escalate…"),
      ),
      subjectEscalations(ctx, o.escalations, {
        heading: "Escalations",
        caption: `Escalations of order ${o.id}, the latest first`,
        showSubject: false,
        onAnswered: after,
      }),
      h("h3", {}, "History"),
      history(o),
    );
  }

  void load();
}

/**
 * The customer's name, or null when the desk does not know the customer (an
 * order may come first). Asked of the search, which finds an id as itself,
 * so an unknown customer is an empty answer rather than a 404.
 */
async function customerName(id: string): Promise<string | null> {
  try {
    const found = await get<SearchPage>(`/customers?${new URLSearchParams({ q: id, limit: "1" })}`);
    const first = found.customers[0];
    return first && first.id === id ? first.name : null;
  } catch {
    return null;
  }
}

function history(o: OrderView): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    foldable(
      h(
        "table",
        {},
        h("caption", {}, `Every decision on order ${o.id}, oldest first`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["When", "What", "By", "Status", "Reasons", "Note"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          o.decisions.map((d) =>
            h(
              "tr",
              {},
              h("td", { class: "date" }, when(d.decided_at)),
              h("td", {}, KINDS[d.kind] ?? d.kind, h("br"), h("span", { class: "muted" }, d.trigger)),
              h("td", {}, d.by),
              h("td", {}, d.status.replace(/_/g, " ")),
              h("td", {}, d.reasons.length ? reasonList(d.reasons, o.currency) : "—"),
              h("td", { class: "note" }, d.note ?? ""),
            ),
          ),
        ),
      ),
    ),
  );
}
