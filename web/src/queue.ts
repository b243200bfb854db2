// The held-order queue as associates work it at volume: filtered and sorted
// on the server, with the totals of everything that matches, a page at a
// time; release one, a selection, or all that match.

import { describe, get } from "./api";
import type { Ctx } from "./context";
import { h, replace, uid } from "./dom";
import { grouped, money } from "./money";
import { heldOrdersTable, openReleaseAllDialog } from "./orders";
import type { QueueEntry, QueuePage } from "./types";

const PAGE = 200;

const REASONS = [
  ["", "Any reason"],
  ["CREDIT_LIMIT_EXCEEDED", "Credit limit exceeded"],
  ["PAST_DUE", "Past due"],
  ["ACCOUNT_ON_HOLD", "Account on hold"],
  ["NO_CREDIT_LIMIT", "No credit limit"],
] as const;

const SORTS = [
  ["oldest", "Oldest first"],
  ["amount", "Largest amount first"],
  ["customer", "Customer"],
  ["ship_date", "Requested ship date"],
  ["days_past_due", "Longest past due"],
] as const;

export function queueView(root: HTMLElement, ctx: Ctx): void {
  const titleId = uid("queue-title");
  let shown: QueueEntry[] = [];
  let next: string | null = null;
  let matching = new URLSearchParams();

  const count = h("p", { class: "count", "aria-live": "polite" });
  // Where focus goes after a release: the button that had it is gone.
  const heading = h("h2", { id: titleId, tabindex: -1 }, "Held orders");
  const error = h("div", { class: "error", role: "alert" });
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading held orders…"));
  const input = (name: string, label: string, attrs: Record<string, string> = {}) => {
    const field = h("input", { id: uid(`queue-${name}`), name, autocomplete: "off", spellcheck: "false", ...attrs });
    return [h("label", { for: field.id }, label), field] as const;
  };
  const select = (name: string, label: string, options: readonly (readonly [string, string])[]) => {
    const field = h("select", { id: uid(`queue-${name}`), name }, options.map(([value, text]) => h("option", { value }, text)));
    return [h("label", { for: field.id }, label), field] as const;
  };
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter held orders" },
    ...input("customer_id", "Customer ID"),
    ...select("reason", "Reason", REASONS),
    ...input("currency", "Currency", { size: "4", maxlength: "3" }),
    ...input("min_amount", "Amount from", { inputmode: "decimal", size: "10" }),
    ...input("max_amount", "to", { inputmode: "decimal", size: "10" }),
    ...input("min_days_held", "Held at least (days)", { inputmode: "numeric", size: "4" }),
    ...select("sort", "Sort", SORTS),
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", onclick: () => void load() }, "Refresh"),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
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

  /** The filters as query parameters (empty fields left out). */
  function query(): URLSearchParams {
    const params = new URLSearchParams({ status: "held" });
    for (const [name, value] of new FormData(filters)) {
      const text = String(value).trim();
      if (text) params.set(name, name === "currency" ? text.toUpperCase() : text);
    }
    return params;
  }

  async function load(): Promise<void> {
    matching = query();
    shown = [];
    next = null;
    await fetchPage();
  }

  async function fetchPage(): Promise<void> {
    body.setAttribute("aria-busy", "true");
    replace(error);
    const params = new URLSearchParams(matching);
    params.set("limit", String(PAGE));
    if (next) params.set("after", next);
    try {
      const page = await get<QueuePage>(`/orders/queue?${params}`);
      if (!ctx.current()) return;
      shown = [...shown, ...page.orders];
      next = page.next;
      render(page);
    } catch (failure) {
      if (!ctx.current()) return;
      replace(error, h("p", {}, `The held orders could not be loaded. ${describe(failure)}`));
      if (shown.length === 0) {
        replace(body);
        replace(count);
      }
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  function render(page: QueuePage): void {
    replace(count, totalsText(page));
    if (shown.length === 0) {
      const filtered = [...matching.keys()].some((key) => key !== "status" && key !== "sort");
      replace(body, h("p", { class: "empty" }, filtered ? "No held orders match." : "No held orders. The queue is clear."));
      return;
    }
    const releaseAll = h(
      "button",
      {
        type: "button",
        onclick: () => openReleaseAllDialog(matching, page.total_orders, released),
      },
      `Release all that match (${grouped(String(page.total_orders))})…`,
    );
    const more = next
      ? h("button", { type: "button", onclick: () => void fetchPage() }, `Show ${PAGE} more`)
      : null;
    replace(
      body,
      heldOrdersTable({
        caption: `Held orders, ${SORTS.find(([value]) => value === (matching.get("sort") ?? "oldest"))?.[1].toLowerCase() ?? "oldest first"}`,
        entries: shown,
        showCustomer: true,
        extraActions: [releaseAll],
        onReleased: released,
      }),
      h("p", { class: "muted" }, `Showing ${grouped(String(shown.length))} of ${grouped(String(page.total_orders))}.`),
      more,
    );
  }

  function released(summary: string): void {
    ctx.announce(summary);
    void load().then(() => {
      if (ctx.current()) heading.focus();
    });
  }

  void load();
}

/** "3,012 held: 960,291.91 USD, 122,265.83 EUR": every match, not the page. */
function totalsText(page: QueuePage): string {
  if (page.total_orders === 0) return "";
  const amounts = page.totals.map((total) => money(total.amount, total.currency)).join(", ");
  return `${grouped(String(page.total_orders))} held: ${amounts}`;
}
