// The people on the desk (GET /people) and the "whose accounts" filter that
// the queue, the worklist, disputes, escalations and approvals share.

import { get } from "./api";
import type { Ctx } from "./context";
import { h, uid } from "./dom";
import type { Me } from "./types";

/** The filter value for every account. */
export const EVERYONE = "";

let people: Promise<Me[]> | null = null;

/** The associates and managers, asked once (they change only with the deployment's tokens). */
export function loadPeople(): Promise<Me[]> {
  people ??= get<Me[]>("/people").catch((failure: unknown) => {
    people = null;
    throw failure;
  });
  return people;
}

/** Who may be given accounts: associates and managers. */
export const assignable = (list: Me[]) => list.filter((p) => p.role === "associate" || p.role === "manager");

/** What a person's lists open on: an associate's own accounts, everyone's for managers. */
export function defaultAssignee(ctx: Ctx): string {
  return ctx.me?.role === "associate" ? "me" : EVERYONE;
}

/** "alice", "alice (you)", or "nobody". */
export function personName(ctx: Ctx, name: string | null | undefined): string {
  if (!name) return "nobody";
  return ctx.me?.name === name ? `${name} (you)` : name;
}

/**
 * A labelled select of whose accounts to show: mine, unassigned, everyone,
 * or one person (added once GET /people answers).
 */
export function assigneeFilter(
  ctx: Ctx,
  value: string,
  label = "Accounts",
): { label: HTMLLabelElement; select: HTMLSelectElement } {
  const select = h(
    "select",
    { id: uid("assignee"), name: "assignee" },
    h("option", { value: "me" }, "Mine"),
    h("option", { value: "unassigned" }, "Unassigned"),
    h("option", { value: EVERYONE }, "Everyone"),
  );
  select.value = value;
  let touched = false;
  select.addEventListener("change", () => (touched = true));
  void loadPeople()
    .then((list) => {
      const others = assignable(list).filter((p) => p.name !== ctx.me?.name);
      if (others.length === 0) return;
      select.append(
        h(
          "optgroup",
          { label: "A person" },
          others.map((p) => h("option", { value: p.name }, p.name)),
        ),
      );
      // A person's name as the starting value can only be chosen now.
      if (!touched) select.value = value;
    })
    // Without the list the filter still offers mine, unassigned and everyone.
    .catch(() => {});
  return { label: h("label", { for: select.id }, label), select };
}

export interface AssigneePicker {
  label: HTMLLabelElement;
  select: HTMLSelectElement;
  /** The person chosen, null for nobody, undefined while nothing is chosen. */
  choice(): string | null | undefined;
}

/**
 * A select of people to give accounts to, or nobody. With `current`
 * undefined it starts on "Choose…", so that nobody is unassigned by a
 * click on a default.
 */
export function assigneePicker(ctx: Ctx, label: string, current?: string | null): AssigneePicker {
  const nobody = h("option", { value: "", "data-nobody": true }, "Nobody (unassigned)");
  const select = h(
    "select",
    { id: uid("assign-to"), name: "assignee" },
    current === undefined ? h("option", { value: "", selected: true }, "Choose…") : null,
    nobody,
  );
  const choose = (name: string | null | undefined) => {
    if (name === null) nobody.selected = true;
    else if (name !== undefined) select.value = name;
  };
  let touched = false;
  select.addEventListener("change", () => (touched = true));
  void loadPeople()
    .then((list) =>
      select.append(...assignable(list).map((p) => h("option", { value: p.name }, `${personName(ctx, p.name)} · ${p.role}`))),
    )
    .catch(() => {
      if (current) select.append(h("option", { value: current }, current));
    })
    .finally(() => {
      if (!touched) choose(current);
    });
  choose(current);
  return {
    label: h("label", { for: select.id }, label),
    select,
    choice: () => {
      const option = select.selectedOptions[0];
      if (!option || (option.value === "" && !option.hasAttribute("data-nobody"))) return undefined;
      return option.hasAttribute("data-nobody") ? null : option.value;
    },
  };
}
