// A customer's statement of account over a period: shown, printed,
// downloaded as CSV, or issued to the customer (through the ERP's event
// feed, which a mail relay sends on).

import { describe, downloadCsv, get, post, seg } from "./api";
import type { Ctx } from "./context";
import { printDocument } from "./documents";
import { addDays, h, replace, today, uid } from "./dom";
import { grouped, money } from "./money";
import type { IssuedStatement, StatementOfAccount } from "./types";

/** Days a statement covers unless asked otherwise. */
const DEFAULT_DAYS = 90;

const KINDS: Record<string, string> = {
  invoice: "Invoice",
  payment: "Payment",
  allocation: "Applied",
  credit: "Credit",
};

export function statementSection(ctx: Ctx, customerId: string): HTMLElement {
  const titleId = uid("statement-title");
  const from = h("input", { id: uid("statement-from"), type: "date", name: "from", value: addDays(today(), 1 - DEFAULT_DAYS) });
  const to = h("input", { id: uid("statement-to"), type: "date", name: "to", value: today() });
  const shown = h("div", {});
  const form = h(
    "form",
    { class: "filters", "aria-label": "Statement period" },
    h("label", { for: from.id }, "From"),
    from,
    h("label", { for: to.id }, "to"),
    to,
    h("button", { type: "submit" }, "Show statement"),
  );
  const print = h("button", { type: "button" }, "Print statement");
  const csv = h("button", { type: "button" }, "Download CSV");
  const issue = h("button", { type: "button" }, "Send to customer");

  /** `?from=&to=`, or null (and an alert) when the dates are not a period. */
  const period = (): string | null => {
    for (const input of [from, to]) input.removeAttribute("aria-invalid");
    const refuse = (input: HTMLInputElement, message: string) => {
      input.setAttribute("aria-invalid", "true");
      ctx.alert(`Statement: ${message}`);
      input.focus();
      return null;
    };
    if (!from.value) return refuse(from, "give the first day.");
    if (!to.value) return refuse(to, "give the last day.");
    if (to.value < from.value) return refuse(to, "the last day must not be before the first.");
    return new URLSearchParams({ from: from.value, to: to.value }).toString();
  };
  const path = (query: string) => `/customers/${seg(customerId)}/statement?${query}`;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = period();
    if (query === null) return;
    try {
      const statement = await get<StatementOfAccount>(path(query));
      if (ctx.current()) replace(shown, statementTable(statement));
    } catch (failure) {
      ctx.alert(`The statement could not be loaded. ${describe(failure)}`);
    }
  });
  print.addEventListener("click", async () => {
    const query = period();
    if (query === null) return;
    try {
      await printDocument(path(query));
      ctx.announce("The statement opened for printing.");
    } catch (failure) {
      ctx.alert(`The statement could not be printed. ${describe(failure)}`);
    }
  });
  csv.addEventListener("click", async () => {
    const query = period();
    if (query === null) return;
    try {
      const saved = await downloadCsv(path(query), `statement-${customerId}.csv`);
      ctx.announce(`Downloaded ${saved}.`);
    } catch (failure) {
      ctx.alert(`The statement could not be downloaded. ${describe(failure)}`);
    }
  });
  issue.addEventListener("click", async () => {
    if (period() === null) return;
    issue.disabled = true;
    try {
      const sent = await post<IssuedStatement>(`/customers/${seg(customerId)}/statement`, { from: from.value, to: to.value });
      ctx.announce(
        `Statement ${sent.from} to ${sent.to} sent to the customer: closing balance ${money(sent.closing_balance, sent.currency)}. It is in the contact log.`,
      );
    } catch (failure) {
      ctx.alert(`The statement could not be sent. ${describe(failure)}`);
    } finally {
      issue.disabled = false;
    }
  });

  return h(
    "section",
    { class: "statement-section", "aria-labelledby": titleId },
    h("h3", { id: titleId }, "Statement of account"),
    form,
    h("div", { class: "buttons" }, print, csv, issue),
    shown,
  );
}

function statementTable(s: StatementOfAccount): HTMLElement {
  const cur = s.currency;
  const amount = (value: string) => (value === "0" || /^0(\.0+)?$/.test(value) ? "" : grouped(value));
  return h(
    "div",
    { class: "statement" },
    h(
      "dl",
      { class: "figures" },
      h("div", { class: "figure" }, h("dt", {}, `Opening balance (${s.from})`), h("dd", {}, money(s.opening_balance, cur))),
      h("div", { class: "figure" }, h("dt", {}, `Closing balance (${s.to})`), h("dd", {}, money(s.closing_balance, cur))),
      h("div", { class: "figure" }, h("dt", {}, "Open invoices"), h("dd", {}, money(s.aging.total, cur))),
      h("div", { class: "figure" }, h("dt", {}, "Unapplied cash"), h("dd", {}, money(s.unapplied_cash, cur))),
      h("div", { class: "figure" }, h("dt", {}, "Open disputes"), h("dd", {}, String(s.open_disputes.length))),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", {}, `Statement of ${s.customer_name} in ${cur}, ${s.from} to ${s.to}, in date order`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Date", "Movement", "Reference", "Debit", "Credit", "Balance"].map((t, i) =>
              h("th", { scope: "col", class: i >= 3 ? "num" : null }, t),
            ),
          ),
        ),
        h(
          "tbody",
          {},
          h("tr", {}, h("td", { class: "date" }, s.from), h("td", {}, "Opening balance"), h("td", {}), h("td", {}), h("td", {}), h("td", { class: "num" }, grouped(s.opening_balance))),
          s.movements.map((m) =>
            h(
              "tr",
              {},
              h("td", { class: "date" }, m.date),
              h("td", {}, KINDS[m.kind] ?? m.kind, m.kind === "allocation" ? ` ${grouped(m.amount)} to ${m.invoice_id ?? ""}` : ""),
              h("td", {}, m.reference, m.kind === "credit" && m.invoice_id ? ` on ${m.invoice_id}` : ""),
              h("td", { class: "num" }, amount(m.debit)),
              h("td", { class: "num" }, amount(m.credit)),
              h("td", { class: "num" }, grouped(m.balance)),
            ),
          ),
          h("tr", {}, h("td", { class: "date" }, s.to), h("td", {}, h("strong", {}, "Closing balance")), h("td", {}), h("td", { class: "num" }, grouped(s.total_debits)), h("td", { class: "num" }, grouped(s.total_credits)), h("td", { class: "num" }, h("strong", {}, grouped(s.closing_balance)))),
        ),
      ),
    ),
  );
}
