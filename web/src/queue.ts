// The held-order queue: oldest first, with reasons; release one or many.

import { describe, get } from "./api";
import type { Ctx } from "./context";
import { h, replace, uid } from "./dom";
import { money, sum } from "./money";
import { heldOrdersTable } from "./orders";
import type { QueueEntry } from "./types";

const PAGE = 200;
const MOST = 1000;

export function queueView(root: HTMLElement, ctx: Ctx): void {
  const titleId = uid("queue-title");
  let limit = PAGE;
  let customer = "";

  const count = h("p", { class: "count", "aria-live": "polite" });
  // Where focus goes after a release: the button that had it is gone.
  const heading = h("h2", { id: titleId, tabindex: -1 }, "Held orders");
  const error = h("div", { class: "error", role: "alert" });
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading held orders…"));
  const customerInput = h("input", { id: uid("queue-customer"), name: "customer_id", autocomplete: "off", spellcheck: "false" });
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter held orders" },
    h("label", { for: customerInput.id }, "Customer ID"),
    customerInput,
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", onclick: () => void load() }, "Refresh"),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    customer = customerInput.value.trim();
    limit = PAGE;
    void load();
  });

  replace(
    root,
    h(
      "section",
      { "aria-labelledby": titleId },
      h("div", { class: "section-head" }, heading, count),
      filters,
      error,
      body,
    ),
  );

  async function load(): Promise<void> {
    body.setAttribute("aria-busy", "true");
    replace(error);
    const query = new URLSearchParams({ status: "held", limit: String(limit) });
    if (customer) query.set("customer_id", customer);
    try {
      const entries = await get<QueueEntry[]>(`/orders?${query}`);
      if (!ctx.current()) return;
      render(Array.isArray(entries) ? entries : []);
    } catch (failure) {
      if (!ctx.current()) return;
      replace(error, h("p", {}, `The held orders could not be loaded. ${describe(failure)}`));
      replace(body);
      replace(count);
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  function render(entries: QueueEntry[]): void {
    replace(count, countText(entries, customer));
    if (entries.length === 0) {
      replace(
        body,
        h("p", { class: "empty" }, customer ? `No held orders for customer ${customer}.` : "No held orders. The queue is clear."),
      );
      return;
    }
    const more =
      entries.length >= limit && limit < MOST
        ? h(
            "button",
            {
              type: "button",
              onclick: () => {
                limit = Math.min(limit + PAGE, MOST);
                void load();
              },
            },
            "Show more",
          )
        : null;
    replace(
      body,
      heldOrdersTable({
        caption: "Held orders, oldest first",
        entries,
        showCustomer: true,
        onReleased: (summary) => {
          ctx.announce(summary);
          void load().then(() => {
            if (ctx.current()) heading.focus();
          });
        },
      }),
      more,
    );
  }

  void load();
}

/** "3 held: 12000.00 USD, 500 JPY" (exact sums per currency). */
function countText(entries: QueueEntry[], customer: string): string {
  if (entries.length === 0) return "";
  const byCurrency = new Map<string, string[]>();
  for (const entry of entries) {
    const amounts = byCurrency.get(entry.currency) ?? [];
    amounts.push(entry.amount);
    byCurrency.set(entry.currency, amounts);
  }
  const totals = [...byCurrency].map(([currency, amounts]) => money(sum(amounts), currency)).join(", ");
  return `${entries.length} held${customer ? ` for ${customer}` : ""}: ${totals}`;
}
