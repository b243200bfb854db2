// Dunning: the proposal of reminder letters due, the letters an associate
// issues from it, and each customer's letters, printed or downloaded
// exactly as issued.

import { describe, downloadCsv, get, post, seg } from "./api";
import type { Ctx } from "./context";
import { downloadDocument, printDocument } from "./documents";
import { h, replace, today, uid, when } from "./dom";
import { money, plural } from "./money";
import type {
  CurrencyTotal,
  CustomerDunning,
  DunningProposal,
  DunningRunBody,
  DunningRunResult,
  IssuedLetter,
  NoLetter,
  ProposalLine,
} from "./types";

/** Why no letter is due, in words. */
const WHY: Record<NoLetter, string> = {
  no_levels: "The policy has no dunning levels",
  exempt: "Exempt from dunning",
  promise_to_pay: "A promise to pay stands",
  below_minimum: "Below the level's minimum amount",
  waiting: "Waiting after the last letter",
  not_due_yet: "Not far enough past due",
  all_levels_issued: "Every level issued",
  nothing_overdue: "Nothing overdue",
};

export function whyNoLetter(line: ProposalLine): string {
  const why = line.reason ? WHY[line.reason] : "";
  return line.next_on ? `${why}; next letter from ${line.next_on}` : why;
}

/** Amounts of several currencies, never added up: "1,250.00 USD; 300.00 EUR". */
export function totals(list: readonly CurrencyTotal[]): string {
  return list.length ? list.map((t) => money(t.amount, t.currency)).join("; ") : "—";
}

/** The path of a letter as issued. */
const letterPath = (letter: IssuedLetter) =>
  `/customers/${seg(letter.customer_id)}/dunning/letters/${seg(letter.letter_id)}`;

/** Print and Download buttons for a letter. */
export function letterButtons(ctx: Ctx, letter: IssuedLetter): HTMLElement[] {
  const print = h(
    "button",
    { type: "button", "aria-label": `Print letter ${letter.letter_id}` },
    "Print",
  );
  print.addEventListener("click", async () => {
    try {
      await printDocument(letterPath(letter));
      ctx.announce(`Letter ${letter.letter_id} opened for printing.`);
    } catch (failure) {
      ctx.alert(`Letter ${letter.letter_id} could not be printed. ${describe(failure)}`);
    }
  });
  const download = h(
    "button",
    { type: "button", "aria-label": `Download letter ${letter.letter_id}` },
    "Download",
  );
  download.addEventListener("click", async () => {
    try {
      const saved = await downloadDocument(letterPath(letter), `${letter.letter_id}.html`);
      ctx.announce(`Downloaded ${saved}.`);
    } catch (failure) {
      ctx.alert(`Letter ${letter.letter_id} could not be downloaded. ${describe(failure)}`);
    }
  });
  return [print, download];
}

/** A table of letters with their buttons; `showCustomer` for a run's letters. */
export function lettersTable(ctx: Ctx, caption: string, letters: IssuedLetter[], showCustomer: boolean): HTMLElement {
  const headers = ["Letter", ...(showCustomer ? ["Customer"] : []), "Date", "Level", "Invoices", "Amount due", "Pay by", "By"];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "letters" },
      h("caption", {}, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((text) => h("th", { scope: "col" }, text)),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
        ),
      ),
      h(
        "tbody",
        {},
        letters.map((letter) =>
          h(
            "tr",
            { "data-letter-id": letter.letter_id },
            h("th", { scope: "row" }, letter.letter_id),
            showCustomer ? h("td", {}, h("a", { href: `#/customer/${seg(letter.customer_id)}` }, letter.customer_id)) : null,
            h("td", { class: "date", title: when(letter.issued_at) }, letter.issued_on),
            h("td", {}, letter.level_name),
            h("td", {}, letter.invoices.map((i) => i.invoice_id).join(", ")),
            h("td", { class: "num" }, totals(letter.totals)),
            h("td", { class: "date" }, letter.pay_by),
            h("td", {}, letter.issued_by),
            h("td", { class: "actions" }, letterButtons(ctx, letter)),
          ),
        ),
      ),
    ),
  );
}

/** `#/dunning`: the letters due as of a date; issue the ones selected. */
export function dunningView(root: HTMLElement, ctx: Ctx): void {
  const titleId = uid("dunning-title");
  const asOf = h("input", { id: uid("dunning-as-of"), type: "date", name: "as_of", value: today() });
  // An associate duns their own accounts; a manager anyone's.
  const isManager = ctx.me?.role === "manager";
  const whose = h(
    "select",
    { id: uid("dunning-whose"), name: "assignee" },
    h("option", { value: "" }, "Everyone's"),
    h("option", { value: "me" }, "Mine"),
    h("option", { value: "unassigned" }, "Unassigned"),
  );
  const filters = h(
    "form",
    { class: "filters", "aria-label": "Dunning date" },
    h("label", { for: asOf.id }, "As of"),
    asOf,
    isManager ? [h("label", { for: whose.id }, "Accounts"), whose] : null,
    h("button", { type: "submit" }, "Show proposal"),
  );
  const summary = h("p", { class: "count", role: "status" });
  const table = h("div", { "aria-busy": "true" });
  const issueButton = h("button", { type: "button", class: "primary", disabled: true }, "Issue selected letters");
  const csvButton = h("button", { type: "button" }, "Download CSV");
  const issued = h("div", {});
  const selected = new Set<string>();

  replace(
    root,
    h(
      "section",
      { "aria-labelledby": titleId },
      h("div", { class: "section-head" }, h("h2", { id: titleId }, "Dunning"), summary),
      h(
        "p",
        { class: "muted" },
        `Reminder letters due for overdue invoices${isManager ? "" : " of your accounts"}: each invoice gets the reminder, the second notice and the final notice in turn. Disputed amounts, customers with a promise to pay and customers exempt from dunning are left out.`,
      ),
      filters,
      table,
      h("div", { class: "buttons" }, issueButton, csvButton),
      issued,
    ),
  );

  const date = () => asOf.value || today();
  const proposalPath = () => {
    const query = new URLSearchParams({ as_of: date() });
    if (isManager && whose.value) query.set("assignee", whose.value);
    return `/reports/dunning?${query.toString()}`;
  };
  const refreshButton = () => {
    issueButton.disabled = selected.size === 0;
    issueButton.textContent = selected.size ? `Issue ${plural(selected.size, "letter")}` : "Issue selected letters";
  };

  async function load(): Promise<void> {
    table.setAttribute("aria-busy", "true");
    try {
      const proposal = await get<DunningProposal>(proposalPath());
      if (!ctx.current()) return;
      render(proposal);
    } catch (failure) {
      if (!ctx.current()) return;
      replace(table, h("div", { class: "error", role: "alert" }, h("p", {}, `The proposal could not be loaded. ${describe(failure)}`)));
    } finally {
      table.setAttribute("aria-busy", "false");
    }
  }

  function render(proposal: DunningProposal): void {
    selected.clear();
    const due = proposal.customers.filter((line) => line.level !== null);
    for (const line of due) selected.add(line.customer_id);
    summary.textContent = `${plural(proposal.letters_due, "letter")} due; ${plural(proposal.customers.length, "customer")} with something overdue`;
    refreshButton();
    if (proposal.customers.length === 0) {
      replace(table, h("p", { class: "empty" }, `Nothing is overdue as of ${proposal.as_of}.`));
      return;
    }
    const all = h("input", { type: "checkbox", "aria-label": "Select every letter due", checked: due.length > 0 });
    const boxes: HTMLInputElement[] = [];
    all.addEventListener("change", () => {
      for (const box of boxes) {
        box.checked = all.checked;
        box.dispatchEvent(new Event("change"));
      }
    });
    const row = (line: ProposalLine) => {
      const box =
        line.level === null
          ? null
          : h("input", { type: "checkbox", checked: true, "aria-label": `Issue the letter to ${line.customer_name}` });
      if (box) {
        boxes.push(box);
        box.addEventListener("change", () => {
          if (box.checked) selected.add(line.customer_id);
          else selected.delete(line.customer_id);
          refreshButton();
        });
      }
      return h(
        "tr",
        { "data-customer-id": line.customer_id },
        h("td", { class: "select" }, box),
        h("th", { scope: "row" }, h("a", { href: `#/customer/${seg(line.customer_id)}` }, line.customer_name), h("span", { class: "muted id" }, line.customer_id)),
        h("td", { class: "num" }, totals(line.overdue)),
        h("td", {}, line.level_name ?? h("span", { class: "muted" }, whyNoLetter(line))),
        h("td", {}, line.invoices.map((i) => `${i.invoice_id} (${i.days_past_due} days)`).join(", ")),
        h("td", { class: "num" }, line.level === null ? "—" : totals(line.totals)),
      );
    };
    replace(
      table,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "proposal" },
          h("caption", {}, `Customers with something overdue as of ${proposal.as_of}; letters due first are selected`),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col", class: "select" }, all),
              ["Customer", "Overdue", "Letter due", "Invoices it covers", "Amount due"].map((t, i) =>
                h("th", { scope: "col", class: i === 1 || i === 4 ? "num" : null }, t),
              ),
            ),
          ),
          h("tbody", {}, [...due, ...proposal.customers.filter((l) => l.level === null)].map(row)),
        ),
      ),
    );
  }

  async function issue(): Promise<void> {
    if (selected.size === 0) return;
    issueButton.disabled = true;
    const body: DunningRunBody = { as_of: date(), customer_ids: [...selected].sort() };
    try {
      const run = await post<DunningRunResult>("/dunning-runs", body);
      if (!ctx.current()) return;
      const left = run.letters_left ? ` ${plural(run.letters_left, "letter")} left for another run.` : "";
      ctx.announce(`${plural(run.letters.length, "letter")} issued (run ${run.run_id}).${left}`);
      replace(
        issued,
        h("h3", { tabindex: -1, id: uid("issued") }, `Issued by run ${run.run_id}`),
        run.letters.length
          ? lettersTable(ctx, `Letters issued as of ${run.as_of}`, run.letters, true)
          : h("p", { class: "empty" }, "No letter was due any more."),
      );
      issued.querySelector("h3")?.focus();
      await load();
    } catch (failure) {
      ctx.alert(`The letters could not be issued. ${describe(failure)}`);
      refreshButton();
    }
  }

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    void load();
  });
  issueButton.addEventListener("click", () => void issue());
  csvButton.addEventListener("click", async () => {
    try {
      const saved = await downloadCsv(proposalPath(), `dunning-${date()}.csv`);
      ctx.announce(`Downloaded ${saved}.`);
    } catch (failure) {
      ctx.alert(`The proposal could not be downloaded. ${describe(failure)}`);
    }
  });
  void load();
}

/** A customer's reminder letters: the one due now, and every one issued. */
export function customerLetters(ctx: Ctx, customerId: string): { element: HTMLElement; load(): Promise<void> } {
  const element = h("div", { class: "letters-section" });
  async function load(): Promise<void> {
    let dunning: CustomerDunning;
    try {
      dunning = await get<CustomerDunning>(`/customers/${seg(customerId)}/dunning`);
    } catch (failure) {
      if (ctx.current()) replace(element, h("h3", {}, "Reminder letters"), h("div", { class: "error", role: "alert" }, h("p", {}, `The letters could not be loaded. ${describe(failure)}`)));
      return;
    }
    if (!ctx.current()) return;
    const due = dunning.due;
    replace(
      element,
      h("h3", {}, `Reminder letters (${dunning.letters.length})`),
      h(
        "p",
        { class: "letter-due" },
        dunning.dunning_exempt ? h("span", { class: "badge" }, "Exempt from dunning") : null,
        " ",
        due.level === null
          ? `No letter due: ${whyNoLetter(due).toLowerCase()}.`
          : `${due.level_name} due for ${due.invoices.map((i) => i.invoice_id).join(", ")}: ${totals(due.totals)}. Issue it from Dunning.`,
      ),
      dunning.letters.length
        ? lettersTable(ctx, "Letters issued, newest first", dunning.letters, false)
        : h("p", { class: "empty" }, "No letters issued yet."),
    );
  }
  return { element, load };
}
