// The held-order table (queue and customer view) and the release dialog.

import { describe, get, post, seg } from "./api";
import { append, h, uid } from "./dom";
import { buildForm, requireFields } from "./forms";
import { grouped, money } from "./money";
import type { BulkRelease, BulkReleaseBody, BulkResult, OrderView, QueueEntry, QueuePage, ReleaseBody } from "./types";

export interface HeldTableOptions {
  caption: string;
  entries: QueueEntry[];
  showCustomer: boolean;
  /** More buttons for the toolbar (release all that match). */
  extraActions?: HTMLElement[];
  /** After a release: what happened, in a sentence. */
  onReleased: (summary: string) => void;
}

/** A table of held orders with per-row release and release of a selection. */
export function heldOrdersTable(options: HeldTableOptions): HTMLElement {
  const selected = new Set<string>();
  const boxes: HTMLInputElement[] = [];
  const bulkButton = h("button", { type: "button", class: "primary", disabled: true }, "Release selected (0)");
  const selectAll = h("input", { type: "checkbox", "aria-label": "Select all orders in this list" });

  const sync = () => {
    bulkButton.textContent = `Release selected (${selected.size})`;
    bulkButton.disabled = selected.size === 0;
    selectAll.checked = selected.size > 0 && selected.size === boxes.length;
    selectAll.indeterminate = selected.size > 0 && selected.size < boxes.length;
  };
  selectAll.addEventListener("change", () => {
    for (const box of boxes) {
      box.checked = selectAll.checked;
      const id = box.value;
      if (selectAll.checked) selected.add(id);
      else selected.delete(id);
    }
    sync();
  });
  bulkButton.addEventListener("click", () => {
    openReleaseDialog([...selected], options.onReleased);
  });

  const rows = options.entries.map((entry) => {
    const box = h("input", { type: "checkbox", value: entry.order_id, "aria-label": `Select order ${entry.order_id}` });
    box.addEventListener("change", () => {
      if (box.checked) selected.add(entry.order_id);
      else selected.delete(entry.order_id);
      sync();
    });
    boxes.push(box);
    return h(
      "tr",
      { "data-order-id": entry.order_id },
      h("td", { class: "select" }, box),
      h("th", { scope: "row" }, entry.order_id),
      options.showCustomer
        ? h(
            "td",
            {},
            h("a", { href: `#/customer/${seg(entry.customer_id)}` }, entry.customer_name || entry.customer_id),
            entry.customer_name ? h("span", { class: "muted id" }, entry.customer_id) : null,
          )
        : null,
      h("td", { class: "num" }, grouped(entry.amount)),
      h("td", {}, entry.currency),
      h("td", { class: "date" }, entry.ordered_on),
      h("td", { class: "num" }, entry.days_held ?? "—"),
      h("td", { class: "date" }, shipDate(entry)),
      h("td", { class: "num" }, entry.days_past_due > 0 ? entry.days_past_due : "—"),
      h("td", {}, reasonList(entry)),
      h(
        "td",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            "aria-label": `Release order ${entry.order_id}`,
            onclick: () => openReleaseDialog([entry.order_id], options.onReleased),
          },
          "Release…",
        ),
      ),
    );
  });

  return h(
    "div",
    { class: "held-orders" },
    h("div", { class: "toolbar" }, bulkButton, ...(options.extraActions ?? [])),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", {}, options.caption),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col", class: "select" }, selectAll),
            h("th", { scope: "col" }, "Order"),
            options.showCustomer ? h("th", { scope: "col" }, "Customer") : null,
            h("th", { scope: "col", class: "num" }, "Amount"),
            h("th", { scope: "col" }, "Currency"),
            h("th", { scope: "col" }, "Ordered"),
            h("th", { scope: "col", class: "num" }, "Days held"),
            h("th", { scope: "col" }, "Ship by"),
            h("th", { scope: "col", class: "num" }, "Days past due"),
            h("th", { scope: "col" }, "Reasons"),
            h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
          ),
        ),
        h("tbody", {}, rows),
      ),
    ),
  );
}

/** The requested ship date, the days to it, and a flag when it will be missed. */
function shipDate(entry: QueueEntry): (HTMLElement | string)[] | string {
  if (!entry.requested_ship_on) return "—";
  const days = entry.days_to_ship ?? 0;
  const when = days === 0 ? "today" : days > 0 ? `in ${days} d` : `${-days} d ago`;
  return [
    entry.requested_ship_on,
    h("span", { class: "muted" }, ` (${when})`),
    entry.misses_ship_date ? h("span", { class: "badge warn" }, "will miss it") : "",
  ];
}

function reasonList(entry: QueueEntry): HTMLElement {
  return h(
    "ul",
    { class: "reasons" },
    entry.reasons.map((reason) =>
      h(
        "li",
        {},
        h("span", { class: "code" }, reason.code),
        " ",
        reason.detail,
        reason.amount ? h("span", { class: "muted" }, ` (${money(reason.amount, entry.currency)})`) : null,
      ),
    ),
  );
}

/** Most orders the API releases in one call; more are sent in batches. */
export const BULK_MAX = 500;

/** Releases many orders with one note, BULK_MAX at a time. */
async function releaseInBatches(orderIds: string[], note: string): Promise<string> {
  const results: BulkResult[] = [];
  for (let start = 0; start < orderIds.length; start += BULK_MAX) {
    const batch = orderIds.slice(start, start + BULK_MAX);
    try {
      const answer = await post<BulkRelease>("/orders/release", { order_ids: batch, note } satisfies BulkReleaseBody);
      results.push(...answer.results);
    } catch (failure) {
      // Nothing done yet: the form shows why. Otherwise say what was done.
      if (results.length === 0) throw failure;
      const left = orderIds.length - start;
      return `${bulkSummary(results)} The other ${left} could not be sent: ${describe(failure)}`;
    }
  }
  return bulkSummary(results);
}

/** Asks for the note and releases one order or many. */
export function openReleaseDialog(orderIds: string[], onDone: (summary: string) => void): void {
  if (orderIds.length === 0) return;
  const titleId = uid("release-title");
  const single = orderIds.length === 1 ? orderIds[0] : undefined;
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId });
  const cancel = h("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
  const form = buildForm({
    label: "Release",
    fields: [
      {
        name: "note",
        label: "Note",
        kind: "textarea",
        required: true,
        maxlength: 2000,
        hint: "Why may this ship? The note is kept with the release, with your name.",
      },
    ],
    submit: single ? "Release order" : `Release ${orderIds.length} orders`,
    extraButtons: [cancel],
    onSubmit: async (f) => {
      if (!requireFields(f, { note: "Write a note: why may the order ship?" })) return;
      const note = f.value("note");
      let summary: string;
      if (single !== undefined) {
        const view = await post<OrderView>(`/orders/${seg(single)}/release`, { note } satisfies ReleaseBody);
        summary = `Order ${single} released${view.status !== "released" ? ` (now ${view.status})` : ""}.`;
      } else {
        summary = await releaseInBatches(orderIds, note);
      }
      dialog.close();
      onDone(summary);
    },
  });
  append(dialog, [
    h("h2", { id: titleId }, single ? `Release order ${single}` : `Release ${orderIds.length} orders`),
    single ? null : h("p", { class: "muted" }, orderIds.join(", ")),
    form.element,
  ]);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  form.field("note").focus();
}

function bulkSummary(results: BulkResult[]): string {
  const released = results.filter((r) => r.outcome === "released");
  const others = results.filter((r) => r.outcome !== "released");
  const head = `Released ${released.length} of ${results.length} orders.`;
  return others.length
    ? `${head} Not released: ${others.map((r) => `${r.order_id} (${r.detail || r.outcome})`).join("; ")}.`
    : head;
}

/**
 * Releases every held order that matches `matching` (the queue's filters),
 * BULK_MAX at a time, with a progress bar and a final summary. Released
 * orders leave the queue, so each batch is the first page of what still
 * matches: interrupted and started again, it goes on where it stopped.
 */
export function openReleaseAllDialog(matching: URLSearchParams, total: number, onDone: (summary: string) => void): void {
  const titleId = uid("release-all-title");
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId });
  const bar = h("progress", { max: String(Math.max(total, 1)), value: "0", "aria-label": "Orders released" });
  const status = h("p", { role: "status" });
  const cancel = h("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
  let stopped = false;
  dialog.addEventListener("close", () => {
    stopped = true;
    dialog.remove();
  });
  const form = buildForm({
    label: "Release all that match",
    fields: [
      {
        name: "note",
        label: "Note",
        kind: "textarea",
        required: true,
        maxlength: 2000,
        hint: "Kept with every release, with your name.",
      },
    ],
    submit: `Release ${grouped(String(total))} orders`,
    extraButtons: [cancel],
    onSubmit: async (f) => {
      if (!requireFields(f, { note: "Write a note: why may these orders ship?" })) return;
      const note = f.value("note");
      const results: BulkResult[] = [];
      const seen = new Set<string>();
      bar.max = Math.max(total, 1);
      while (!stopped) {
        const params = new URLSearchParams(matching);
        params.set("limit", String(BULK_MAX));
        const page = await get<QueuePage>(`/orders/queue?${params}`);
        // Orders a batch could not release stay in the queue: never again.
        const batch = page.orders.map((o) => o.order_id).filter((id) => !seen.has(id));
        if (batch.length === 0) break;
        batch.forEach((id) => seen.add(id));
        const answer = await post<BulkRelease>("/orders/release", { order_ids: batch, note } satisfies BulkReleaseBody);
        results.push(...answer.results);
        const released = results.filter((r) => r.outcome === "released").length;
        bar.value = Math.min(released, bar.max);
        status.textContent = `Released ${grouped(String(released))} of ${grouped(String(total))}…`;
      }
      const summary = bulkSummary(results) + (stopped ? " Stopped before the end: start again to go on." : "");
      dialog.close();
      onDone(summary);
    },
  });
  append(dialog, [
    h("h2", { id: titleId }, `Release all ${grouped(String(total))} orders that match`),
    h("p", { class: "muted" }, "The orders go in batches of 500; each batch is released whole or not at all."),
    form.element,
    bar,
    status,
  ]);
  document.body.append(dialog);
  dialog.showModal();
  form.field("note").focus();
}
