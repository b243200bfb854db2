// Four-eyes releases: an associate's release above the policy's threshold
// (or of an account on credit hold) waits for a manager. Managers see what
// waits — who asked, when, their note and why it needs approval — and
// approve or reject it; nobody is offered their own request.

import { describe, get, post, seg } from "./api";
import type { Ctx } from "./context";
import { append, h, replace, foldable, uid, when, filterForm } from "./dom";
import { buildForm, requireFields } from "./forms";
import { grouped, money } from "./money";
import { reasonList } from "./orders";
import { EVERYONE, assigneeFilter, personName } from "./people";
import type { ApprovalBody, OrderView, QueueEntry, QueuePage, ReleaseBody, ReleaseRequest } from "./types";

const PAGE = 50;
/** Order details fetched at once for a page of the list. */
const PARALLEL = 4;

/** Who asked, when, with what note, and why a manager must decide. */
export function requestPanel(ctx: Ctx, order: OrderView, request: ReleaseRequest): HTMLElement {
  const own = request.requested_by === ctx.me?.name;
  return h(
    "section",
    { class: "panel waiting", "aria-label": "Release waiting for approval" },
    h("h3", {}, "Release waiting for a manager's approval"),
    h(
      "dl",
      { class: "summary" },
      h("dt", {}, "Asked by"),
      h("dd", {}, `${personName(ctx, request.requested_by)}, ${when(request.requested_at)}`),
      h("dt", {}, "Their note"),
      h("dd", { class: "note" }, request.note ?? "—"),
      h("dt", {}, "Why approval"),
      h("dd", {}, request.needs_approval ?? "—"),
      h("dt", {}, "Amount"),
      h("dd", {}, money(order.amount, order.currency)),
    ),
    h(
      "p",
      { class: "muted" },
      own
        ? "You asked for this release: another manager approves or rejects it."
        : ctx.me?.role === "manager"
          ? "Approve to release the order, or reject it (with a note) to hold it again."
          : "The order stays held until a manager approves or rejects the release.",
    ),
  );
}

/** A manager approves an associate's release: the order is released. */
export function openApproveDialog(
  order: Pick<OrderView, "id">,
  request: ReleaseRequest | null,
  onDone: (summary: string) => void,
): void {
  decisionDialog(order.id, request, "approve", onDone);
}

/** A manager rejects an associate's release, with a note: the order is held again. */
export function openRejectDialog(
  order: Pick<OrderView, "id">,
  request: ReleaseRequest | null,
  onDone: (summary: string) => void,
): void {
  decisionDialog(order.id, request, "reject", onDone);
}

function decisionDialog(
  orderId: string,
  request: ReleaseRequest | null,
  decision: "approve" | "reject",
  onDone: (summary: string) => void,
): void {
  const approve = decision === "approve";
  const titleId = uid("approval-title");
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId });
  const form = buildForm({
    label: approve ? "Approve release" : "Reject release",
    fields: [
      {
        name: "note",
        label: "Note",
        kind: "textarea",
        required: !approve,
        maxlength: 2000,
        hint: approve ? "Kept with the release, with your name." : "Why not: the associate sees it in the order's history.",
      },
    ],
    submit: approve ? "Approve and release" : "Reject release",
    extraButtons: [h("button", { type: "button", onclick: () => dialog.close() }, "Cancel")],
    onSubmit: async (f) => {
      if (!approve && !requireFields(f, { note: "Write why the release is rejected." })) return;
      const note = f.value("note");
      if (approve) {
        const body: ApprovalBody = note ? { note } : {};
        const view = await post<OrderView>(`/orders/${seg(orderId)}/approve-release`, body);
        dialog.close();
        onDone(`Order ${orderId} approved: ${view.status.replace(/_/g, " ")}.`);
      } else {
        const view = await post<OrderView>(`/orders/${seg(orderId)}/reject-release`, { note } satisfies ReleaseBody);
        dialog.close();
        onDone(`Release of order ${orderId} rejected: the order is ${view.status.replace(/_/g, " ")} again.`);
      }
    },
  });
  append(dialog, [
    h("h2", { id: titleId }, `${approve ? "Approve" : "Reject"} the release of order ${orderId}`),
    request
      ? h(
          "p",
          { class: "muted" },
          `${request.requested_by} asked ${when(request.requested_at)}: “${request.note ?? ""}”. ${request.needs_approval ?? ""}`,
        )
      : null,
    form.element,
  ]);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  form.field("note").focus();
}

interface Waiting {
  entry: QueueEntry;
  /** Null when the order's details could not be loaded. */
  request: ReleaseRequest | null;
}

/** The releases awaiting approval, oldest first. */
export function approvalsView(root: HTMLElement, ctx: Ctx): void {
  const manager = ctx.me?.role === "manager";
  const titleId = uid("approvals-title");
  const heading = h("h2", { id: titleId, tabindex: -1 }, "Releases awaiting approval");
  const count = h("p", { class: "count" });
  const error = h("div", { class: "error", role: "alert" });
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the releases awaiting approval…"));
  const accounts = assigneeFilter(ctx, EVERYONE);
  const filters = filterForm(
    { "aria-label": "Filter releases awaiting approval" },
    () => void load(),
    accounts.label,
    accounts.select,
    h("button", { type: "submit" }, "Show"),
  );
  replace(
    root,
    h(
      "section",
      { "aria-labelledby": titleId },
      h("div", { class: "section-head" }, heading, count),
      h(
        "p",
        { class: "muted" },
        manager
          ? "Associates' releases above the policy's thresholds, or of accounts on credit hold. Nobody approves their own request."
          : "Releases that wait for a manager. They stay held until a manager approves or rejects them.",
      ),
      filters,
      error,
      body,
    ),
  );

  let shown: Waiting[] = [];
  let next: string | null = null;

  async function load(more = false): Promise<void> {
    if (!more) {
      shown = [];
      next = null;
    }
    body.setAttribute("aria-busy", "true");
    replace(error);
    const params = new URLSearchParams({ status: "pending_approval", limit: String(PAGE) });
    if (accounts.select.value) params.set("assignee", accounts.select.value);
    if (next) params.set("after", next);
    try {
      const page = await get<QueuePage>(`/orders/queue?${params}`);
      const details = await requests(page.orders);
      if (!ctx.current()) return;
      shown = [...shown, ...page.orders.map((entry, i) => ({ entry, request: details[i] ?? null }))];
      next = page.next;
      replace(count, page.total_orders ? `${grouped(String(page.total_orders))} waiting` : "");
      render();
    } catch (failure) {
      if (!ctx.current()) return;
      replace(error, h("p", {}, `The releases awaiting approval could not be loaded. ${describe(failure)}`));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  const decided = (summary: string) => {
    ctx.announce(summary);
    void load().then(() => {
      if (ctx.current()) heading.focus();
    });
  };

  function render(): void {
    if (shown.length === 0) {
      replace(body, h("p", { class: "empty" }, "No releases are waiting for approval."));
      return;
    }
    replace(
      body,
      h(
        "div",
        { class: "table-wrap" },
        foldable(
          h(
            "table",
            {},
            h("caption", {}, "Releases awaiting approval, oldest first"),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Order", "Customer", "Amount", "Asked by", "Their note", "Why approval", "Held for"].map((t) =>
                  h("th", { scope: "col", class: t === "Amount" ? "num" : null }, t),
                ),
                h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
              ),
            ),
            h(
              "tbody",
              {},
              shown.map((waiting) => row(waiting)),
            ),
          ),
        ),
      ),
      next ? h("button", { type: "button", onclick: () => void load(true) }, `Show ${PAGE} more`) : null,
    );
  }

  function row({ entry, request }: Waiting): HTMLElement {
    const own = request !== null && request.requested_by === ctx.me?.name;
    const order = { id: entry.order_id };
    return h(
      "tr",
      { "data-order-id": entry.order_id },
      h("th", { scope: "row" }, h("a", { href: `#/order/${seg(entry.order_id)}` }, entry.order_id)),
      h(
        "td",
        {},
        h("a", { href: `#/customer/${seg(entry.customer_id)}` }, entry.customer_name || entry.customer_id),
        h("span", { class: "muted id" }, entry.customer_id),
      ),
      h("td", { class: "num" }, money(entry.amount, entry.currency)),
      h(
        "td",
        {},
        request
          ? [personName(ctx, request.requested_by), h("br"), h("span", { class: "muted date" }, when(request.requested_at))]
          : "—",
      ),
      h("td", { class: "note" }, request?.note ?? (request ? "—" : h("span", { class: "muted" }, "details could not be loaded"))),
      h("td", {}, request?.needs_approval ?? "—"),
      h("td", {}, reasonList(entry.reasons, entry.currency)),
      h(
        "td",
        { class: "actions" },
        manager && !own
          ? [
              h(
                "button",
                {
                  type: "button",
                  "aria-label": `Approve release of order ${entry.order_id}`,
                  onclick: () => openApproveDialog(order, request, decided),
                },
                "Approve…",
              ),
              h(
                "button",
                {
                  type: "button",
                  "aria-label": `Reject release of order ${entry.order_id}`,
                  onclick: () => openRejectDialog(order, request, decided),
                },
                "Reject…",
              ),
            ]
          : h("span", { class: "muted" }, own ? "Your request: another manager decides" : "Waiting for a manager"),
      ),
    );
  }

  void load();
}

/** Each order's release request (the queue's rows do not carry it), a few at a time. */
async function requests(entries: QueueEntry[]): Promise<(ReleaseRequest | null)[]> {
  const found: (ReleaseRequest | null)[] = new Array<ReleaseRequest | null>(entries.length).fill(null);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < entries.length) {
      const index = nextIndex++;
      const entry = entries[index];
      if (!entry) continue;
      try {
        found[index] = (await get<OrderView>(`/orders/${seg(entry.order_id)}`)).release_request;
      } catch {
        found[index] = null;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, entries.length) }, worker));
  return found;
}
