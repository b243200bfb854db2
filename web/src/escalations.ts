// Escalations: an associate refers an order, a customer or a dispute to the
// supervisors (reason and note); the subject lists its escalations with
// their age, response target and answer; managers work the open ones,
// oldest first, and answer them (outcome and note).

import { Intent, describe, get, post, seg } from "./api";
import type { Ctx } from "./context";
import { append, h, replace, foldable, uid, when, filterForm } from "./dom";
import { buildForm, requireFields } from "./forms";
import { EVERYONE, assigneeFilter, personName } from "./people";
import type { Escalation, EscalationBody, ResolveBody, SubjectType } from "./types";

export interface Subject {
  type: SubjectType;
  id: string;
  /** How the dialog names it, e.g. the customer's name. */
  label?: string;
}

const REASONS = [
  "Unusual terms asked",
  "Large or unusual order",
  "Exception to the credit policy",
  "Collection problem",
  "Dispute needs a decision",
] as const;

const OUTCOMES = ["approved", "declined", "advice given", "referred on"] as const;

const PAGE = 100;

/** "order SO-1", "customer Acme Tools (C-1)", "dispute D-3". */
export function subjectName(subject: Subject): string {
  return subject.label ? `${subject.type} ${subject.label} (${subject.id})` : `${subject.type} ${subject.id}`;
}

/** Hours as "5 h" or "2 d 3 h". */
export function age(hours: number): string {
  if (hours < 24) return `${hours} h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

/** Asks for the reason and note and sends the escalation. */
export function openEscalateDialog(subject: Subject, onDone: (summary: string) => void): void {
  const titleId = uid("escalate-title");
  const listId = uid("escalate-reasons");
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId });
  const intent = new Intent();
  const form = buildForm({
    label: "Escalate",
    fields: [
      {
        name: "reason",
        label: "Reason",
        required: true,
        maxlength: 200,
        hint: "What the supervisor should decide; pick a suggestion or write your own.",
      },
      {
        name: "note",
        label: "Note",
        kind: "textarea",
        required: true,
        maxlength: 2000,
        hint: "What you know, and what you propose.",
      },
    ],
    submit: "Send to a supervisor",
    extraButtons: [h("button", { type: "button", onclick: () => dialog.close() }, "Cancel")],
    onSubmit: async (f) => {
      if (!requireFields(f, { reason: "Say why you escalate.", note: "Write a note for the supervisor." })) return;
      const body: EscalationBody = {
        subject_type: subject.type,
        subject_id: subject.id,
        reason: f.value("reason"),
        note: f.value("note"),
      };
      const raised = await intent.post<Escalation>("/escalations", body);
      dialog.close();
      onDone(`Escalation ${raised.id} sent to the supervisors; an answer is due by ${when(raised.respond_by)}.`);
    },
  });
  form.field("reason").setAttribute("list", listId);
  append(dialog, [
    h("h2", { id: titleId }, `Escalate ${subjectName(subject)}`),
    h(
      "datalist",
      { id: listId },
      REASONS.map((reason) => h("option", { value: reason })),
    ),
    form.element,
  ]);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  form.field("reason").focus();
}

/** A manager's answer to an open escalation. */
export function openAnswerDialog(escalation: Escalation, onDone: (summary: string) => void): void {
  const titleId = uid("answer-title");
  const listId = uid("answer-outcomes");
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId });
  const form = buildForm({
    label: "Answer the escalation",
    fields: [
      { name: "outcome", label: "Outcome", required: true, maxlength: 200, hint: "e.g. approved, declined, advice given" },
      {
        name: "note",
        label: "Answer",
        kind: "textarea",
        required: true,
        maxlength: 2000,
        hint: "The associate sees it on the order, customer or dispute.",
      },
    ],
    submit: "Send answer",
    extraButtons: [h("button", { type: "button", onclick: () => dialog.close() }, "Cancel")],
    onSubmit: async (f) => {
      if (!requireFields(f, { outcome: "Give the outcome.", note: "Write the answer." })) return;
      const body: ResolveBody = { outcome: f.value("outcome"), note: f.value("note") };
      const answered = await post<Escalation>(`/escalations/${escalation.id}/resolve`, body);
      dialog.close();
      onDone(`Escalation ${answered.id} answered (${answered.outcome ?? "resolved"}); ${answered.raised_by} sees the answer.`);
    },
  });
  form.field("outcome").setAttribute("list", listId);
  append(dialog, [
    h("h2", { id: titleId }, `Answer escalation ${escalation.id}`),
    h(
      "dl",
      { class: "summary" },
      h("dt", {}, "About"),
      h("dd", {}, subjectName({ type: escalation.subject_type, id: escalation.subject_id })),
      h("dt", {}, "Raised by"),
      h("dd", {}, `${escalation.raised_by}, ${when(escalation.raised_at)}`),
      h("dt", {}, "Reason"),
      h("dd", {}, escalation.reason),
      h("dt", {}, "Note"),
      h("dd", { class: "note" }, escalation.note),
    ),
    h(
      "datalist",
      { id: listId },
      OUTCOMES.map((outcome) => h("option", { value: outcome })),
    ),
    form.element,
  ]);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  form.field("outcome").focus();
}

/** Where an escalation's subject is shown: the order, or the customer's page (a dispute's too). */
function subjectLink(e: Escalation): HTMLElement {
  const text = `${e.subject_type[0]?.toUpperCase()}${e.subject_type.slice(1)} ${e.subject_id}`;
  const href = e.subject_type === "order" ? `#/order/${seg(e.subject_id)}` : `#/customer/${seg(e.customer_id)}`;
  return h("a", { href }, text);
}

/** Open (overdue flagged) or answered. */
export function escalationStatus(e: Escalation): HTMLElement {
  if (e.status === "resolved") return h("span", { class: "badge good" }, "answered");
  return e.overdue ? h("span", { class: "badge bad" }, "overdue") : h("span", { class: "badge warn" }, "open");
}

export interface EscalationTableOptions {
  caption: string;
  /** A column naming each one's subject (lists of many subjects). */
  showSubject: boolean;
  /** After a manager's answer. */
  onAnswered: (summary: string) => void;
}

/** Escalations with status, age, response target and the supervisor's answer; managers answer open ones. */
export function escalationTable(ctx: Ctx, list: Escalation[], options: EscalationTableOptions): HTMLElement {
  const manager = ctx.me?.role === "manager";
  return h(
    "div",
    { class: "table-wrap" },
    foldable(
      h(
        "table",
        { class: "escalations" },
        h("caption", {}, options.caption),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "No."),
            options.showSubject ? h("th", { scope: "col" }, "About") : null,
            h("th", { scope: "col" }, "Reason and note"),
            h("th", { scope: "col" }, "Raised"),
            h("th", { scope: "col" }, "Age"),
            h("th", { scope: "col" }, "Status"),
            h("th", { scope: "col" }, "Answer"),
            manager ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null,
          ),
        ),
        h(
          "tbody",
          {},
          list.map((e) =>
            h(
              "tr",
              { "data-escalation-id": String(e.id), class: e.overdue ? "overdue" : null },
              h("th", { scope: "row" }, String(e.id)),
              options.showSubject ? h("td", {}, subjectLink(e), h("span", { class: "muted id" }, e.customer_id)) : null,
              h("td", { class: "note" }, h("strong", {}, e.reason), h("br"), e.note),
              h("td", {}, personName(ctx, e.raised_by), h("br"), h("span", { class: "muted date" }, when(e.raised_at))),
              h(
                "td",
                {},
                age(e.age_hours),
                e.status === "open" ? [h("br"), h("span", { class: "muted date" }, `answer by ${when(e.respond_by)}`)] : null,
              ),
              h("td", {}, escalationStatus(e)),
              h(
                "td",
                { class: "note" },
                e.status === "resolved"
                  ? [
                      h("strong", {}, e.outcome ?? ""),
                      e.answer ? [": ", e.answer] : null,
                      h("br"),
                      h("span", { class: "muted" }, `${personName(ctx, e.resolved_by)}, ${when(e.resolved_at)}`),
                    ]
                  : h("span", { class: "muted" }, "waiting for a supervisor"),
              ),
              manager
                ? h(
                    "td",
                    { class: "actions" },
                    e.status === "open"
                      ? h(
                          "button",
                          {
                            type: "button",
                            "aria-label": `Answer escalation ${e.id}`,
                            onclick: () => openAnswerDialog(e, options.onAnswered),
                          },
                          "Answer…",
                        )
                      : null,
                  )
                : null,
            ),
          ),
        ),
      ),
    ),
  );
}

/** The escalations a subject shows: a heading, the table or a line saying there are none. */
export function subjectEscalations(
  ctx: Ctx,
  list: Escalation[],
  options: EscalationTableOptions & { heading: string },
): HTMLElement[] {
  const open = list.filter((e) => e.status === "open").length;
  return [
    h("h3", {}, `${options.heading} (${list.length}${open ? `, ${open} open` : ""})`),
    list.length === 0 ? h("p", { class: "empty" }, "No escalations.") : escalationTable(ctx, list, options),
  ];
}

const STATUSES = [
  ["open", "Open"],
  ["resolved", "Answered"],
  ["", "Open and answered"],
] as const;

/**
 * The escalations page: managers work the open ones, oldest first, cut by
 * whose accounts they are on; associates follow the ones they raised.
 */
export function escalationsView(root: HTMLElement, ctx: Ctx): void {
  const manager = ctx.me?.role === "manager";
  const titleId = uid("escalations-title");
  const heading = h("h2", { id: titleId, tabindex: -1 }, "Escalations");
  const count = h("p", { class: "count" });
  const error = h("div", { class: "error", role: "alert" });
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading escalations…"));
  const status = h(
    "select",
    { id: uid("esc-status"), name: "status" },
    STATUSES.map(([value, text]) => h("option", { value }, text)),
  );
  status.value = manager ? "open" : "";
  const accounts = assigneeFilter(ctx, EVERYONE);
  const raisedBy = h(
    "select",
    { id: uid("esc-raised"), name: "raised_by" },
    h("option", { value: "" }, "Anyone"),
    h("option", { value: "me" }, "Me"),
  );
  raisedBy.value = manager ? "" : "me";
  const filters = filterForm(
    { "aria-label": "Filter escalations" },
    () => void load(),
    h("label", { for: status.id }, "Status"),
    status,
    accounts.label,
    accounts.select,
    h("label", { for: raisedBy.id }, "Raised by"),
    raisedBy,
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
          ? "Oldest first. Each is due an answer one business day after it was raised."
          : "What you referred to a supervisor, and their answers.",
      ),
      filters,
      error,
      body,
    ),
  );

  let shown: Escalation[] = [];

  async function load(more = false): Promise<void> {
    if (!more) shown = [];
    body.setAttribute("aria-busy", "true");
    replace(error);
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(shown.length) });
    for (const [name, value] of new FormData(filters)) if (String(value)) params.set(name, String(value));
    try {
      const page = await get<Escalation[]>(`/escalations?${params}`);
      if (!ctx.current()) return;
      shown = [...shown, ...page];
      render(page.length === PAGE);
    } catch (failure) {
      if (!ctx.current()) return;
      replace(error, h("p", {}, `The escalations could not be loaded. ${describe(failure)}`));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  function render(more: boolean): void {
    const overdue = shown.filter((e) => e.overdue).length;
    replace(count, shown.length ? `${shown.length}${more ? "+" : ""} shown${overdue ? `, ${overdue} overdue` : ""}` : "");
    if (shown.length === 0) {
      replace(body, h("p", { class: "empty" }, status.value === "open" ? "No open escalations." : "No escalations."));
      return;
    }
    replace(
      body,
      escalationTable(ctx, shown, {
        caption: "Escalations, oldest first",
        showSubject: true,
        onAnswered: (summary) => {
          ctx.announce(summary);
          void load().then(() => {
            if (ctx.current()) heading.focus();
          });
        },
      }),
      more ? h("button", { type: "button", onclick: () => void load(true) }, `Show ${PAGE} more`) : null,
    );
  }

  void load();
}
