// The customer search in the workspace header: suggestions while typing
// (an ARIA combobox with a listbox: arrow keys move, Enter opens, Escape
// closes), and "see all results" for the full, paged list.

import { describe, get, seg } from "./api";
import { h, replace, uid } from "./dom";
import { money } from "./money";
import type { FoundCustomer, SearchPage } from "./types";

/** How many suggestions the list shows. */
const SUGGESTIONS = 6;
/** Typing pauses this long before the API is asked. */
const DEBOUNCE_MS = 200;

/** Where "see all results" for `q` lives. */
export const resultsHash = (q: string) => `#/customers?${new URLSearchParams({ q })}`;

interface Choice {
  element: HTMLElement;
  go: () => void;
}

/** Builds the search box into `root` (the header's slot). */
export function customerSearch(root: HTMLElement): void {
  const listId = uid("search-list");
  const input = h("input", {
    id: uid("search"),
    type: "search",
    name: "q",
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listId,
    autocomplete: "off",
    spellcheck: "false",
    maxlength: 100,
    placeholder: "Find a customer: name or ID",
  });
  const list = h("ul", { id: listId, role: "listbox", class: "suggestions", "aria-label": "Customers found", hidden: true });
  const note = h("p", { class: "suggestions-note", hidden: true });
  // Said to screen readers: how many were found, or what went wrong.
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "search", role: "search", "aria-label": "Customer search" },
    h("label", { for: input.id, class: "visually-hidden" }, "Find a customer"),
    input,
    list,
    note,
    status,
  );
  replace(root, form);

  let choices: Choice[] = [];
  let active = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on every question, so a late answer to an old one is dropped. */
  let asked = 0;

  const close = () => {
    list.hidden = true;
    note.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const highlight = (index: number) => {
    choices.forEach((choice, i) => {
      choice.element.setAttribute("aria-selected", String(i === index));
      choice.element.classList.toggle("active", i === index);
    });
    active = index;
    const chosen = choices[index];
    if (chosen) {
      input.setAttribute("aria-activedescendant", chosen.element.id);
      chosen.element.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };

  const openList = () => {
    if (choices.length === 0) return;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };

  const leave = (hash: string) => {
    close();
    input.value = "";
    choices = [];
    replace(list);
    if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = hash;
  };

  const showAll = () => {
    const q = input.value.trim();
    if (q) leave(resultsHash(q));
  };

  async function suggest(q: string): Promise<void> {
    const mine = ++asked;
    try {
      const page = await get<SearchPage>(`/customers?${new URLSearchParams({ q, limit: String(SUGGESTIONS) })}`);
      if (mine !== asked || input.value.trim() !== q) return;
      render(q, page);
    } catch (failure) {
      if (mine !== asked) return;
      choices = [];
      replace(list);
      close();
      note.textContent = `The search failed. ${describe(failure)}`;
      note.hidden = false;
      status.textContent = note.textContent;
    }
  }

  function render(q: string, page: SearchPage): void {
    choices = page.customers.map((customer) => {
      const element = suggestion(customer);
      return { element, go: () => leave(`#/customer/${seg(customer.id)}`) };
    });
    if (page.total > 0) {
      const all = h(
        "li",
        { id: uid("search-all"), role: "option", "aria-selected": "false", class: "suggestion all" },
        `See all ${page.total} results for “${q}”`,
      );
      choices.push({ element: all, go: showAll });
    }
    replace(
      list,
      choices.map((c) => c.element),
    );
    choices.forEach((choice, index) => {
      // Keep focus in the box: the click chooses, the box stays the control.
      choice.element.addEventListener("mousedown", (event) => event.preventDefault());
      choice.element.addEventListener("click", () => choice.go());
      choice.element.addEventListener("mousemove", () => {
        if (active !== index) highlight(index);
      });
    });
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (page.total === 0) {
      close();
      note.textContent = `No customer matches “${q}”.`;
      note.hidden = false;
      status.textContent = note.textContent;
      return;
    }
    note.hidden = true;
    openList();
    const shown = page.customers.length;
    status.textContent =
      shown === page.total
        ? `${page.total} ${page.total === 1 ? "customer" : "customers"} found. Use the arrow keys to choose.`
        : `${shown} of ${page.total} customers shown. Use the arrow keys to choose.`;
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) {
      asked += 1;
      choices = [];
      replace(list);
      close();
      status.textContent = "";
      return;
    }
    timer = setTimeout(() => void suggest(q), DEBOUNCE_MS);
  });

  input.addEventListener("keydown", (event) => {
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp": {
        if (choices.length === 0) return;
        event.preventDefault();
        const wasOpen = !list.hidden;
        openList();
        const step = event.key === "ArrowDown" ? 1 : -1;
        const start = wasOpen ? active : step === 1 ? -1 : choices.length;
        highlight((start + step + choices.length) % choices.length);
        break;
      }
      case "Enter": {
        event.preventDefault();
        const chosen = list.hidden ? undefined : choices[active];
        if (chosen) chosen.go();
        else showAll();
        break;
      }
      case "Escape":
        if (!list.hidden || !note.hidden) {
          event.preventDefault();
          close();
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          status.textContent = "";
        }
        break;
      default:
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    showAll();
  });
  form.addEventListener("focusout", (event) => {
    const next = (event as FocusEvent).relatedTarget;
    if (!(next instanceof Node) || !form.contains(next)) close();
  });
  input.addEventListener("focus", () => {
    if (input.value.trim() && choices.length) openList();
  });
}

/** One suggestion: who, whose, and the figures an associate on the phone asks about. */
function suggestion(c: FoundCustomer): HTMLElement {
  const cur = c.currency;
  return h(
    "li",
    { id: uid("search-option"), role: "option", "aria-selected": "false", class: "suggestion", "data-customer-id": c.id },
    h(
      "span",
      { class: "suggestion-head" },
      h("strong", {}, c.name),
      h("span", { class: "muted id" }, c.id),
      c.on_hold ? h("span", { class: "badge bad" }, "On hold") : null,
    ),
    h(
      "span",
      { class: "suggestion-figures" },
      h("span", {}, c.assignee ? `Assigned to ${c.assignee}` : "Not assigned"),
      h("span", {}, `Past due ${money(c.past_due, cur)}`),
      h("span", {}, `Available ${money(c.available, cur)}`),
      h("span", {}, `${c.held_orders} held ${c.held_orders === 1 ? "order" : "orders"}`),
    ),
  );
}
