// Building DOM nodes without innerHTML: every piece of data becomes text,
// never markup.

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

/** An element with attributes (`on...` keys become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(key, "");
    } else {
      element.setAttribute(key, String(value));
    }
  }
  append(element, children);
  return element;
}

/** A row of filters (class `filters`) that calls `apply` when submitted. */
export function filterForm(attrs: Attrs, apply: () => void, ...children: Child[]): HTMLFormElement {
  const form = h("form", { class: "filters", ...attrs }, ...children);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  return form;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let nextId = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** Today's date in the browser's time zone, as YYYY-MM-DD. */
export function today(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** A short, readable form of an RFC 3339 timestamp (date and minutes). */
export function when(timestamp: string | null | undefined): string {
  if (!timestamp) return "";
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(timestamp);
  return match ? `${match[1]} ${match[2]}` : timestamp;
}

/** `date` (YYYY-MM-DD) moved by `days` calendar days. */
export function addDays(date: string, days: number): string {
  const moved = new Date(`${date}T00:00:00Z`);
  moved.setUTCDate(moved.getUTCDate() + days);
  return moved.toISOString().slice(0, 10);
}

/** The first day of the month `date` is in. */
export function firstOfMonth(date: string): string {
  return `${date.slice(0, 8)}01`;
}

/**
 * Lets a table fold into one block per row on narrow screens (CSS
 * `table.foldable`): each cell is labelled with its column's heading, and the
 * table's roles are stated, since screen readers drop them from tables no
 * longer displayed as tables.
 */
export function foldable(table: HTMLTableElement): HTMLTableElement {
  table.classList.add("foldable");
  table.setAttribute("role", "table");
  const headings = [...(table.tHead?.rows[0]?.cells ?? [])].map((cell) => cell.textContent?.trim() ?? "");
  for (const head of table.tHead?.rows ?? []) {
    head.setAttribute("role", "row");
    for (const cell of head.cells) cell.setAttribute("role", "columnheader");
  }
  table.tHead?.setAttribute("role", "rowgroup");
  for (const body of table.tBodies) {
    body.setAttribute("role", "rowgroup");
    for (const row of body.rows) {
      row.setAttribute("role", "row");
      [...row.cells].forEach((cell, index) => {
        cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
        const label = headings[index];
        // An actions cell speaks for itself.
        if (label && !cell.classList.contains("actions")) cell.dataset.label = label;
      });
    }
  }
  return table;
}
