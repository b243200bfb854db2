// One customer: who works the account (a manager changes it), credit
// position, aging, held orders, escalations, the contact log, the
// reminder letters and the statement of account, and what an associate
// does about it (log a call, post a payment, open a dispute, ask for a
// higher limit, escalate to a supervisor).

import { ApiError, Intent, describe, get, post, put, seg } from "./api";
import { agingChart } from "./charts";
import type { Ctx } from "./context";
import { h, replace, foldable, today, uid, when } from "./dom";
import { customerLetters } from "./dunning";
import { openEscalateDialog, subjectEscalations } from "./escalations";
import { buildForm, requireFields, type Form } from "./forms";
import { grouped, isNegative, isPositive, money } from "./money";
import { heldOrdersTable } from "./orders";
import { assigneePicker, personName } from "./people";
import { statementSection } from "./statement";
import {
  listOf,
  type Channel,
  type Assignment,
  type AssigneeBody,
  type Contact,
  type ContactBody,
  type Customer,
  type Dispute,
  type DisputeBody,
  type DisputeChanged,
  type LimitRequest,
  type LimitRequestBody,
  type ListedInvoice,
  type PaymentBody,
  type PaymentResult,
  type Position,
} from "./types";

/** The contact log's channels, as the form offers them. */
const CHANNELS: Record<Channel, string> = { call: "Call", email: "Email", letter: "Letter", visit: "Visit" };

const isChannel = (value: string): value is Channel => Object.hasOwn(CHANNELS, value);

export function customerView(root: HTMLElement, ctx: Ctx, customerId: string | null): void {
  const titleId = uid("customer-title");
  const idInput = h("input", {
    id: uid("customer-id"),
    name: "customer_id",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
  });
  idInput.value = customerId ?? "";
  const open = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Open a customer" },
    h("label", { for: idInput.id }, "Customer ID"),
    idInput,
    h("button", { type: "submit", class: "primary" }, "Open"),
  );
  open.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = idInput.value.trim();
    if (!id) return;
    const target = `#/customer/${seg(id)}`;
    // The same customer again: load it afresh.
    if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = target;
  });

  const content = h("div", {});
  replace(
    root,
    h(
      "section",
      { "aria-labelledby": titleId },
      h("div", { class: "section-head" }, h("h2", { id: titleId }, "Customer")),
      open,
      content,
    ),
  );
  if (!customerId) {
    replace(content, h("p", { class: "muted" }, "Enter a customer ID, or pick a customer from the held-order queue."));
    idInput.focus();
    return;
  }
  const id = customerId;
  const position = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the customer…"));
  const invoices = h("div", {});
  const disputes = h("div", {});
  const contacts = h("div", {});
  const letters = customerLetters(ctx, id);
  const statement = statementSection(ctx, id);
  const actions = h("div", { class: "cards" });
  replace(content, position, invoices, disputes, contacts, letters.element, statement, actions);
  const heldHeadingId = uid("held-title");

  let forms: { dispute: Form; limit: Form } | null = null;

  async function load(): Promise<void> {
    position.setAttribute("aria-busy", "true");
    const [customer, log, open, disputed] = await Promise.allSettled([
      get<Position>(`/customers/${seg(id)}`),
      get<unknown>(`/customers/${seg(id)}/contacts`),
      get<unknown>(`/customers/${seg(id)}/invoices?status=open`),
      get<unknown>(`/disputes?customer_id=${seg(id)}`),
    ]);
    if (!ctx.current()) return;
    position.setAttribute("aria-busy", "false");
    if (customer.status === "rejected") {
      const failure = customer.reason;
      replace(
        position,
        h(
          "div",
          { class: "error", role: "alert" },
          h(
            "p",
            {},
            failure instanceof ApiError && failure.status === 404
              ? `No customer with ID ${id}.`
              : `The customer could not be loaded. ${describe(failure)}`,
          ),
        ),
      );
      replace(actions);
      replace(contacts);
      replace(invoices);
      replace(disputes);
      forms = null;
      return;
    }
    const cur = customer.value.currency;
    renderPosition(customer.value);
    forms ??= buildActions(customer.value);
    // The limit may have changed since the form was built (an approval).
    forms.limit.setHint("requested_limit", limitHint(customer.value));
    if (open.status === "fulfilled") renderInvoices(listOf<ListedInvoice>(open.value, "invoices"), cur);
    else replace(invoices, h("h3", {}, "Open invoices"), failed("The open invoices", open.reason));
    if (disputed.status === "fulfilled") renderDisputes(listOf<Dispute>(disputed.value, "disputes"), cur);
    else replace(disputes, h("h3", {}, "Disputes"), failed("The disputes", disputed.reason));
    void letters.load();
    if (log.status === "fulfilled") {
      renderContacts(listOf<Contact>(log.value, "contacts"), customer.value.currency);
    } else {
      replace(
        contacts,
        h("h3", {}, "Contact log"),
        h("div", { class: "error", role: "alert" }, h("p", {}, `The contact log could not be loaded. ${describe(log.reason)}`)),
      );
    }
  }

  function renderPosition(c: Position): void {
    const cur = c.currency;
    const figure = (label: string, value: string, tone?: string) =>
      h("div", { class: `figure${tone ? ` ${tone}` : ""}` }, h("dt", {}, label), h("dd", {}, value));
    replace(
      position,
      h(
        "div",
        { class: "customer-head" },
        h("h3", {}, c.name, " ", h("span", { class: "muted id" }, c.id)),
        h(
          "p",
          { class: "badges" },
          h("span", { class: `badge${c.assignee ? "" : " warn"}` }, c.assignee ? `Assigned to ${personName(ctx, c.assignee)}` : "Not assigned"),
          c.on_hold ? h("span", { class: "badge bad" }, "On credit hold") : null,
          c.exempt ? h("span", { class: "badge" }, "Exempt (prepaid/cash)") : null,
          c.dunning_exempt ? h("span", { class: "badge" }, "Exempt from dunning") : null,
          c.credit_limit === null ? h("span", { class: "badge warn" }, "No credit limit") : null,
        ),
        h(
          "button",
          {
            type: "button",
            class: "head-action",
            onclick: () => openEscalateDialog({ type: "customer", id: c.id, label: c.name }, reloadWith),
          },
          "Escalate customer…",
        ),
      ),
      assignmentBlock(c),
      h(
        "dl",
        { class: "figures" },
        figure("Credit limit", money(c.credit_limit, cur)),
        figure("Exposure", money(c.exposure, cur)),
        figure("Available", money(c.available, cur), c.available !== null && isNegative(c.available) ? "bad" : "good"),
        figure("Past due", money(c.past_due, cur), isPositive(c.past_due) ? "bad" : undefined),
        figure("Open balance", money(c.open_balance, cur)),
        figure("Unapplied cash", money(c.unapplied_cash, cur)),
        figure("Released, not invoiced", money(c.released_orders_total, cur)),
        figure("Terms", `${c.payment_terms_days} days`),
        figure("As of", c.as_of),
      ),
      agingChart("Aging", c.aging, cur),
      h("h3", { id: heldHeadingId, tabindex: -1 }, `Held orders (${c.held_orders.length})`),
      c.held_orders.length
        ? heldOrdersTable({
            caption: `Held orders of ${c.name}, oldest first`,
            entries: c.held_orders,
            showCustomer: false,
            onReleased: (summary) => {
              ctx.announce(summary);
              // The release button that had focus is gone: the heading takes it.
              void load().then(() => {
                if (ctx.current()) document.getElementById(heldHeadingId)?.focus();
              });
            },
            onEscalated: reloadWith,
          })
        : h("p", { class: "empty" }, "No held orders for this customer."),
      subjectEscalations(ctx, c.escalations, {
        heading: "Escalations",
        caption: `Escalations on ${c.name}'s account (the customer, its orders and disputes), the latest first`,
        showSubject: true,
        onAnswered: reloadWith,
      }),
    );
  }

  /** Says what happened and shows the customer afresh. */
  function reloadWith(summary: string): void {
    ctx.announce(summary);
    void load();
  }

  /** Who works the account, who did before, and (for managers) a change of assignee. */
  function assignmentBlock(c: Position): HTMLElement {
    const manager = ctx.me?.role === "manager";
    return h(
      "div",
      { class: "assignment" },
      manager ? assignForm(c) : null,
      c.assignments.length ? assignmentHistory(c.assignments) : null,
    );
  }

  function assignForm(c: Position): HTMLElement {
    const picker = assigneePicker(ctx, "Assigned to", c.assignee);
    const button = h("button", { type: "submit" }, "Change");
    const form = h("form", { class: "filters", "aria-label": "Change who works this account" }, picker.label, picker.select, button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const assignee = picker.choice() ?? null;
      if (assignee === c.assignee) {
        ctx.announce(`${c.name} is already assigned to ${personName(ctx, assignee)}.`);
        return;
      }
      button.disabled = true;
      try {
        const saved = await put<Customer>(`/customers/${seg(c.id)}/assignee`, { assignee } satisfies AssigneeBody);
        reloadWith(saved.assignee ? `${c.name} is now assigned to ${personName(ctx, saved.assignee)}.` : `${c.name} is now assigned to nobody.`);
      } catch (failure) {
        ctx.alert(`The assignee was not changed. ${describe(failure)}`);
        button.disabled = false;
      }
    });
    return form;
  }

  function assignmentHistory(list: Assignment[]): HTMLElement {
    return h(
      "details",
      { class: "history" },
      h("summary", {}, `Assignment history (${list.length})`),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h("caption", {}, "Who worked the account, the latest change first"),
          h("thead", {}, h("tr", {}, ["When", "From", "To", "Changed by"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            list.map((a) =>
              h(
                "tr",
                {},
                h("td", { class: "date" }, when(a.at)),
                h("td", {}, personName(ctx, a.from)),
                h("td", {}, personName(ctx, a.to)),
                h("td", {}, a.by),
              ),
            ),
          ),
        ),
      ),
    );
  }

  function renderInvoices(list: ListedInvoice[], currency: string): void {
    replace(
      invoices,
      h("h3", {}, `Open invoices (${list.length})`),
      list.length === 0
        ? h("p", { class: "empty" }, "No open invoices.")
        : h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              {},
              h("caption", {}, `Open invoices in ${currency}, oldest due first`),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", { scope: "col" }, "Invoice"),
                  h("th", { scope: "col" }, "Issued"),
                  h("th", { scope: "col" }, "Due"),
                  h("th", { scope: "col", class: "num" }, "Days past due"),
                  h("th", { scope: "col", class: "num" }, "Amount"),
                  h("th", { scope: "col", class: "num" }, "Open"),
                  h("th", { scope: "col", class: "num" }, "Disputed"),
                  h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
                ),
              ),
              h(
                "tbody",
                {},
                list.map((invoice) =>
                  h(
                    "tr",
                    { "data-invoice-id": invoice.id },
                    h("th", { scope: "row" }, invoice.id),
                    h("td", { class: "date" }, invoice.issued_on),
                    h("td", { class: "date" }, invoice.due_on),
                    h(
                      "td",
                      { class: `num${invoice.days_past_due > 0 ? " late" : ""}` },
                      invoice.days_past_due > 0 ? String(invoice.days_past_due) : "current",
                    ),
                    h("td", { class: "num" }, grouped(invoice.amount)),
                    h("td", { class: "num" }, grouped(invoice.open_balance)),
                    h("td", { class: "num" }, isPositive(invoice.disputed) ? grouped(invoice.disputed) : "—"),
                    h(
                      "td",
                      { class: "actions" },
                      h(
                        "button",
                        {
                          type: "button",
                          "aria-label": `Dispute invoice ${invoice.id}`,
                          onclick: () => disputeInvoice(invoice),
                        },
                        "Dispute…",
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
    );
  }

  /** Fills the dispute form in for an invoice and takes the person there. */
  function disputeInvoice(invoice: ListedInvoice): void {
    if (!forms) return;
    const form = forms.dispute;
    form.clearErrors();
    form.set("invoice_id", invoice.id);
    form.setHint(
      "amount",
      `In ${invoice.currency}; at most the open balance, ${money(invoice.open_balance, invoice.currency)}` +
        (isPositive(invoice.disputed) ? ` (${money(invoice.disputed, invoice.currency)} already disputed).` : "."),
    );
    form.field("amount").focus();
  }

  function renderDisputes(list: Dispute[], currency: string): void {
    replace(
      disputes,
      h("h3", {}, `Disputes (${list.length})`),
      list.length === 0
        ? h("p", { class: "empty" }, "No disputes.")
        : h(
            "div",
            { class: "table-wrap" },
            foldable(h(
              "table",
              {},
              h("caption", {}, `Disputes in ${currency}, the nearest service-level date first`),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", { scope: "col" }, "Dispute"),
                  h("th", { scope: "col" }, "Invoice"),
                  h("th", { scope: "col", class: "num" }, "Amount"),
                  h("th", { scope: "col" }, "Reason"),
                  h("th", { scope: "col" }, "Status"),
                  h("th", { scope: "col" }, "Opened"),
                  h("th", { scope: "col" }, "Due by"),
                  h("th", { scope: "col" }, "Service level"),
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
                    h("td", {}, d.invoice_id),
                    h("td", { class: "num" }, grouped(d.amount)),
                    h("td", {}, h("span", { class: "code plain" }, d.reason_code)),
                    h("td", {}, d.status.replace(/_/g, " ")),
                    h("td", { class: "date" }, d.opened_on),
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
                          onclick: () => openEscalateDialog({ type: "dispute", id: d.id }, reloadWith),
                        },
                        "Escalate…",
                      ),
                    ),
                  ),
                ),
              ),
            )),
          ),
    );
  }

  function renderContacts(entries: Contact[], currency: string): void {
    replace(
      contacts,
      h("h3", {}, "Contact log"),
      entries.length === 0
        ? h("p", { class: "empty" }, "No contacts logged yet.")
        : h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              {},
              h("caption", {}, "Contacts and promises to pay, newest first"),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Date", "Channel", "Outcome", "Note", "Promise to pay", "By"].map((t) => h("th", { scope: "col" }, t)),
                ),
              ),
              h(
                "tbody",
                {},
                entries.map((entry) =>
                  h(
                    "tr",
                    {},
                    h("td", { class: "date", title: when(entry.recorded_at) }, entry.contacted_on),
                    h("td", {}, entry.channel),
                    h("td", {}, entry.outcome),
                    h("td", { class: "note" }, entry.note),
                    h(
                      "td",
                      {},
                      entry.promise
                        ? [
                            `${money(entry.promise.amount, currency)} by ${entry.promise.due_on} `,
                            h("span", { class: `badge promise-${entry.promise.status}` }, entry.promise.status),
                            isPositive(entry.promise.paid)
                              ? h("span", { class: "muted" }, ` (paid ${money(entry.promise.paid, currency)})`)
                              : null,
                          ]
                        : "—",
                    ),
                    h("td", {}, entry.by),
                  ),
                ),
              ),
            ),
          ),
    );
  }

  function buildActions(c: Position): { dispute: Form; limit: Form } {
    const cur = c.currency;
    const done = (form: Form, message: string) => {
      form.reset();
      ctx.announce(message);
      void load();
    };

    // Each form's Idempotency-Key: a retry of the same submission is done once.
    const intents = { contact: new Intent(), dispute: new Intent(), limit: new Intent() };
    const contact = buildForm({
      label: "Log a contact",
      submit: "Log contact",
      fields: [
        {
          name: "channel",
          label: "Channel",
          kind: "select",
          options: Object.entries(CHANNELS),
          value: "call",
          required: true,
        },
        { name: "outcome", label: "Outcome", required: true, maxlength: 200, placeholder: "e.g. reached AP, promised payment" },
        { name: "note", label: "Note", kind: "textarea", required: true, maxlength: 2000 },
        { name: "promise.amount", label: "Promised amount", inputmode: "decimal", hint: `In ${cur}, e.g. 2500.00` },
        { name: "promise.due_on", label: "Promised by", kind: "date" },
      ],
      onSubmit: async (f) => {
        const required: Record<string, string> = { outcome: "Say how the contact went.", note: "Write a note." };
        const promised = f.value("promise.amount") !== "" || f.value("promise.due_on") !== "";
        if (promised) {
          required["promise.amount"] = "A promise needs an amount.";
          required["promise.due_on"] = "A promise needs a date.";
        }
        if (!requireFields(f, required)) return;
        const channel = f.value("channel");
        if (!isChannel(channel)) {
          f.showErrors([{ field: "channel", message: "Pick a channel." }]);
          return;
        }
        const body: ContactBody = { channel, outcome: f.value("outcome"), note: f.value("note") };
        if (promised) body.promise = { amount: f.value("promise.amount"), due_on: f.value("promise.due_on") };
        await intents.contact.post(`/customers/${seg(id)}/contacts`, body);
        done(f, `Contact logged for ${c.name}.`);
      },
    });

    const payment = buildForm({
      label: "Post a payment",
      submit: "Post payment",
      fields: [
        { name: "id", label: "Payment ID", required: true, maxlength: 100, hint: "The bank or lockbox reference; a payment ID is applied only once." },
        { name: "amount", label: "Amount", required: true, inputmode: "decimal", hint: `In ${cur}, e.g. 11000.00` },
        { name: "currency", label: "Currency", required: true, value: cur, readonly: true },
        { name: "received_on", label: "Received on", kind: "date", required: true, value: today() },
        {
          name: "method",
          label: "Method",
          kind: "select",
          required: true,
          options: [
            ["ach", "ACH"],
            ["wire", "Wire"],
            ["check", "Check"],
            ["card", "Card"],
            ["cash", "Cash"],
          ],
          value: "ach",
        },
        { name: "reference", label: "Reference", maxlength: 200 },
        {
          name: "remittance",
          label: "Remittance",
          kind: "textarea",
          placeholder: "INV-1001 4000.00",
          hint: "One invoice per line: invoice ID and amount. Leave empty to apply oldest first.",
        },
        { name: "short_pay_reason", label: "Short-pay reason code", hint: "Opens a dispute for what a named invoice is short, e.g. pricing." },
      ],
      onSubmit: async (f) => {
        if (!requireFields(f, { id: "Give the payment's ID.", amount: "Give the amount.", received_on: "Give the date." })) return;
        const remittance = parseRemittance(f.value("remittance"));
        if (typeof remittance === "string") {
          f.showErrors([{ field: "remittance", message: remittance }]);
          return;
        }
        const body: PaymentBody = {
          id: f.value("id"),
          customer_id: id,
          amount: f.value("amount"),
          currency: f.value("currency"),
          received_on: f.value("received_on"),
          method: f.value("method"),
        };
        if (f.value("reference")) body.reference = f.value("reference");
        if (remittance.length) body.remittance = remittance;
        if (f.value("short_pay_reason")) body.short_pay_reason = f.value("short_pay_reason");
        const result = await post<PaymentResult>("/payments", body);
        done(f, paymentSummary(result, cur));
      },
    });

    const disputeHint = `In ${cur}; at most the invoice's open balance.`;
    const dispute = buildForm({
      label: "Open a dispute",
      submit: "Open dispute",
      fields: [
        { name: "invoice_id", label: "Invoice ID", required: true, maxlength: 100 },
        { name: "amount", label: "Disputed amount", required: true, inputmode: "decimal", hint: disputeHint },
        { name: "reason_code", label: "Reason code", required: true, maxlength: 40, hint: "e.g. pricing, damaged, short_shipment" },
        { name: "note", label: "Note", kind: "textarea", required: true, maxlength: 2000 },
      ],
      onSubmit: async (f) => {
        const ok = requireFields(f, {
          invoice_id: "Name the invoice.",
          amount: "Give the disputed amount.",
          reason_code: "Give a reason code.",
          note: "Write a note.",
        });
        if (!ok) return;
        const opened = await intents.dispute.post<DisputeChanged>("/disputes", {
          invoice_id: f.value("invoice_id"),
          amount: f.value("amount"),
          reason_code: f.value("reason_code"),
          note: f.value("note"),
        } satisfies DisputeBody);
        f.setHint("amount", disputeHint);
        done(f, `Dispute ${opened.id} opened (${opened.status}), due by ${opened.sla_due_on}.`);
      },
    });

    const limit = buildForm({
      label: "Request a credit-limit increase",
      submit: "Send request",
      fields: [
        {
          name: "requested_limit",
          label: "Requested limit",
          required: true,
          inputmode: "decimal",
          hint: limitHint(c),
        },
        { name: "reason", label: "Reason", kind: "textarea", required: true, maxlength: 2000 },
      ],
      onSubmit: async (f) => {
        if (!requireFields(f, { requested_limit: "Give the limit you ask for.", reason: "Say why." })) return;
        const created = await intents.limit.post<LimitRequest>("/credit-limit-requests", {
          customer_id: id,
          requested_limit: f.value("requested_limit"),
          reason: f.value("reason"),
        } satisfies LimitRequestBody);
        done(f, `Credit-limit request ${created.id} sent to a manager (${created.status}).`);
      },
    });

    const card = (title: string, form: Form) => {
      const headingId = uid("card");
      form.element.setAttribute("aria-labelledby", headingId);
      form.element.removeAttribute("aria-label");
      return h("section", { class: "card", "aria-labelledby": headingId }, h("h3", { id: headingId }, title), form.element);
    };
    replace(
      actions,
      card("Log a contact", contact),
      card("Post a payment", payment),
      card("Open a dispute", dispute),
      card("Request a higher limit", limit),
    );
    return { dispute, limit };
  }

  void load();
}

function limitHint(c: Position): string {
  return `In ${c.currency}; the limit now is ${money(c.credit_limit, c.currency)}.`;
}

function failed(what: string, reason: unknown): HTMLElement {
  return h("div", { class: "error", role: "alert" }, h("p", {}, `${what} could not be loaded. ${describe(reason)}`));
}

/** "INV-1 100.00" lines → remittance lines, or what is wrong with them. */
function parseRemittance(text: string): { invoice_id: string; amount: string }[] | string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const parsed = [];
  for (const [index, line] of lines.entries()) {
    const parts = line.split(/[\s,;]+/).filter(Boolean);
    const [invoice_id, amount] = parts;
    if (parts.length !== 2 || invoice_id === undefined || amount === undefined) {
      return `Line ${index + 1}: write the invoice ID and the amount, e.g. "INV-1001 4000.00".`;
    }
    parsed.push({ invoice_id, amount });
  }
  return parsed;
}

function paymentSummary(result: PaymentResult, currency: string): string {
  const parts = [`Payment ${result.payment_id} posted.`];
  if (result.allocations.length) {
    parts.push(`Applied: ${result.allocations.map((a) => `${a.invoice_id} ${money(a.amount, currency)}`).join(", ")}.`);
  }
  if (result.short_pays.length) {
    parts.push(`Short paid: ${result.short_pays.map((s) => `${s.invoice_id} (${money(s.residual, currency)} left open)`).join(", ")}.`);
  }
  if (result.disputes_opened.length) {
    const opened = result.disputes_opened.map(
      (d) => `${d.id} on ${d.invoice_id} for ${money(d.amount, currency)}, due by ${d.sla_due_on}`,
    );
    parts.push(`Disputes opened: ${opened.join("; ")}.`);
  }
  if (isPositive(result.unapplied)) parts.push(`Unapplied: ${money(result.unapplied, currency)}.`);
  if (result.released_orders.length) parts.push(`Released orders: ${result.released_orders.join(", ")}.`);
  if (result.still_held.length) parts.push(`Still held: ${result.still_held.join(", ")}.`);
  return parts.join(" ");
}
