// Every customer a search finds, a page at a time with the total; a
// manager selects customers (across pages) and assigns them to a person,
// or to nobody, in one action.

import { describe, get, post, seg } from "./api";
import type { Ctx } from "./context";
import { h, replace, foldable, uid } from "./dom";
import { grouped, isNegative, isPositive, money, plural } from "./money";
import { assigneePicker, personName } from "./people";
import type { Assignments, AssignmentsBody, SearchPage } from "./types";

const PAGE = 25;
/** Most customers the API assigns in one call. */
const ASSIGN_MAX = 1000;

export function customersView(root: HTMLElement, ctx: Ctx, params: URLSearchParams): void {
  const manager = ctx.me?.role === "manager";
  const titleId = uid("customers-title");
  let q = params.get("q")?.trim() ?? "";
  let offset = Math.max(0, Number.parseInt(params.get("offset") ?? "0", 10) || 0);
  const selected = new Set<string>();

  const heading = h("h2", { id: titleId, tabindex: -1 }, "Customers");
  const count = h("p", { class: "count", "aria-live": "polite" });
  const input = h("input", {
    id: uid("customers-q"),
    type: "search",
    name: "q",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: 100,
  });
  input.value = q;
  const searchForm = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Search customers" },
    h("label", { for: input.id }, "Name or ID"),
    input,
    h("button", { type: "submit", class: "primary" }, "Search"),
  );
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    q = input.value.trim();
    offset = 0;
    selected.clear();
    void load();
  });
  const error = h("div", { class: "error", role: "alert" });
  const body = h("div", {});
  const result = h("div", { class: "result", role: "status" });
  const toolbar = manager ? assignToolbar() : null;

  replace(
    root,
    h(
      "section",
      { "aria-labelledby": titleId },
      h("div", { class: "section-head" }, heading, count),
      searchForm,
      toolbar?.element ?? null,
      result,
      error,
      body,
    ),
  );

  function assignToolbar() {
    const picker = assigneePicker(ctx, "Assign to");
    const button = h("button", { type: "button", class: "primary", disabled: true }, "Assign selected (0)");
    const clear = h("button", { type: "button", disabled: true }, "Clear selection");
    const element = h(
      "div",
      { class: "filters assign-bar", role: "group", "aria-label": "Assign the selected customers" },
      picker.label,
      picker.select,
      button,
      clear,
    );
    button.addEventListener("click", () => {
      const assignee = picker.choice();
      if (assignee === undefined) {
        ctx.alert("Choose whom to assign the selected customers to (or nobody).");
        picker.select.focus();
        return;
      }
      void assignSelected(assignee, button);
    });
    clear.addEventListener("click", () => {
      selected.clear();
      sync();
      render(lastPage);
    });
    const sync = () => {
      button.textContent = `Assign selected (${selected.size})`;
      button.disabled = selected.size === 0;
      clear.disabled = selected.size === 0;
    };
    return { element, sync };
  }

  async function assignSelected(assignee: string | null, button: HTMLButtonElement): Promise<void> {
    const ids = [...selected];
    if (ids.length > ASSIGN_MAX) {
      ctx.alert(`At most ${grouped(String(ASSIGN_MAX))} customers at a time; ${grouped(String(ids.length))} are selected.`);
      return;
    }
    button.disabled = true;
    replace(result);
    try {
      const done = await post<Assignments>("/assignments", { customer_ids: ids, assignee } satisfies AssignmentsBody);
      if (!ctx.current()) return;
      const summary = `${plural(done.customers.length, "customer")} ${assignee ? `assigned to ${personName(ctx, assignee)}` : "now assigned to nobody"}: ${done.customers
        .map((c) => `${c.name} (${c.id})`)
        .join(", ")}.`;
      replace(result, h("p", { class: "done" }, summary));
      ctx.announce(summary);
      selected.clear();
      toolbar?.sync();
      await load();
    } catch (failure) {
      if (!ctx.current()) return;
      ctx.alert(`Nothing was assigned. ${describe(failure)}`);
    } finally {
      button.disabled = selected.size === 0;
    }
  }

  let lastPage: SearchPage | null = null;

  async function load(): Promise<void> {
    history.replaceState(null, "", `#/customers?${new URLSearchParams({ q, ...(offset ? { offset: String(offset) } : {}) })}`);
    replace(error);
    if (!q) {
      lastPage = null;
      replace(count);
      replace(body, h("p", { class: "muted" }, "Search by a customer's name or the start of its ID."));
      input.focus();
      return;
    }
    body.setAttribute("aria-busy", "true");
    try {
      const page = await get<SearchPage>(`/customers?${new URLSearchParams({ q, limit: String(PAGE), offset: String(offset) })}`);
      if (!ctx.current()) return;
      lastPage = page;
      render(page);
    } catch (failure) {
      if (!ctx.current()) return;
      replace(error, h("p", {}, `The search failed. ${describe(failure)}`));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  function render(page: SearchPage | null): void {
    if (!page) return;
    replace(heading, `Customers matching “${page.q}”`);
    replace(count, page.total ? `${plural(page.total, "customer")} found` : "");
    if (page.customers.length === 0) {
      replace(
        body,
        h("p", { class: "empty" }, page.total ? "No more customers: go back a page." : `No customer matches “${page.q}”.`),
      );
      return;
    }
    const first = page.offset + 1;
    const last = page.offset + page.customers.length;
    const pager = h(
      "nav",
      { class: "pager", "aria-label": "Pages of customers" },
      h(
        "button",
        { type: "button", disabled: page.offset === 0, onclick: () => turn(Math.max(0, page.offset - PAGE)) },
        "Previous page",
      ),
      h("span", {}, `Showing ${grouped(String(first))}–${grouped(String(last))} of ${grouped(String(page.total))}`),
      h("button", { type: "button", disabled: last >= page.total, onclick: () => turn(page.offset + PAGE) }, "Next page"),
    );
    replace(body, resultsTable(page), pager);
  }

  function turn(to: number): void {
    offset = to;
    void load().then(() => {
      if (ctx.current()) heading.focus();
    });
  }

  function resultsTable(page: SearchPage): HTMLElement {
    const boxes: HTMLInputElement[] = [];
    const selectAll = h("input", { type: "checkbox", "aria-label": "Select every customer on this page" });
    const syncAll = () => {
      const on = boxes.filter((b) => b.checked).length;
      selectAll.checked = on > 0 && on === boxes.length;
      selectAll.indeterminate = on > 0 && on < boxes.length;
      toolbar?.sync();
    };
    selectAll.addEventListener("change", () => {
      for (const box of boxes) {
        box.checked = selectAll.checked;
        if (box.checked) selected.add(box.value);
        else selected.delete(box.value);
      }
      syncAll();
    });
    const rows = page.customers.map((c) => {
      const cur = c.currency;
      let box: HTMLInputElement | null = null;
      if (manager) {
        box = h("input", {
          type: "checkbox",
          value: c.id,
          "aria-label": `Select ${c.name} (${c.id})`,
          checked: selected.has(c.id),
        });
        const own = box;
        own.addEventListener("change", () => {
          if (own.checked) selected.add(c.id);
          else selected.delete(c.id);
          syncAll();
        });
        boxes.push(own);
      }
      return h(
        "tr",
        { "data-customer-id": c.id },
        manager ? h("td", { class: "select" }, box) : null,
        h(
          "th",
          { scope: "row" },
          h("a", { href: `#/customer/${seg(c.id)}` }, c.name),
          h("span", { class: "muted id" }, c.id),
          c.on_hold ? h("span", { class: "badge bad" }, "On hold") : null,
        ),
        h("td", { class: "assignee" }, c.assignee ? personName(ctx, c.assignee) : h("span", { class: "muted" }, "nobody")),
        h("td", { class: "num" }, money(c.credit_limit, cur)),
        h("td", { class: "num" }, money(c.exposure, cur)),
        h("td", { class: `num${c.available !== null && isNegative(c.available) ? " late" : ""}` }, money(c.available, cur)),
        h("td", { class: `num${isPositive(c.past_due) ? " late" : ""}` }, money(c.past_due, cur)),
        h("td", { class: "num" }, String(c.held_orders)),
      );
    });
    syncAll();
    return h(
      "div",
      { class: "table-wrap" },
      foldable(
        h(
          "table",
          {},
          h("caption", {}, `Customers matching “${page.q}”, best matches first, figures as of ${page.as_of}`),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              manager ? h("th", { scope: "col", class: "select" }, selectAll) : null,
              h("th", { scope: "col" }, "Customer"),
              h("th", { scope: "col" }, "Assigned to"),
              ["Credit limit", "Exposure", "Available", "Past due", "Held orders"].map((t) =>
                h("th", { scope: "col", class: "num" }, t),
              ),
            ),
          ),
          h("tbody", {}, rows),
        ),
      ),
    );
  }

  void load();
}
