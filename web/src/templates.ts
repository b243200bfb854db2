// For managers: the reminder letters of the policy's dunning levels, edited
// with a live preview (the API renders the letter with sample figures as
// it would be issued) and saved into the policy, where unknown
// placeholders are refused and named.

import { ApiError, call, describe, get, post } from "./api";
import type { Ctx } from "./context";
import { h, replace, uid } from "./dom";
import { buildForm, type Form } from "./forms";
import type { DunningLevel, LetterPreview, Paper, Policy, PreviewBody } from "./types";

const PAPERS: [Paper, string][] = [
  ["a4", "A4"],
  ["letter", "US Letter"],
];

const PLACEHOLDERS =
  "{{customer_name}}, {{customer_id}}, {{reference}}, {{date}}, {{pay_by}}, {{level}}, {{total_due}}, {{sender}}; " +
  "on a line of their own: {{items}}, {{totals}}, {{payment_instructions}}.";

/** Waits this long after the last keystroke before asking for a preview. */
const PREVIEW_DELAY_MS = 350;

export function templatesSection(ctx: Ctx): { element: HTMLElement; load(): Promise<void> } {
  const titleId = uid("templates-title");
  const levelSelect = h("select", { id: uid("level"), name: "level" });
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the policy…"));
  const element = h(
    "section",
    { "aria-labelledby": titleId },
    h("div", { class: "section-head" }, h("h2", { id: titleId }, "Reminder letters")),
    h("div", { class: "filters" }, h("label", { for: levelSelect.id }, "Dunning level"), levelSelect),
    body,
  );
  let policy: Policy | null = null;
  let index = 0;

  async function load(): Promise<void> {
    try {
      policy = await get<Policy>("/policy");
    } catch (failure) {
      if (ctx.current()) replace(body, h("div", { class: "error", role: "alert" }, h("p", {}, `The policy could not be loaded. ${describe(failure)}`)));
      return;
    }
    if (!ctx.current()) return;
    body.setAttribute("aria-busy", "false");
    const levels = policy.dunning.levels;
    replace(levelSelect, levels.map((level, i) => h("option", { value: String(i) }, `${i + 1}. ${level.name}`)));
    if (levels.length === 0) {
      replace(body, h("p", { class: "empty" }, "The policy has no dunning levels."));
      return;
    }
    show(Math.min(index, levels.length - 1));
  }

  levelSelect.addEventListener("change", () => show(Number(levelSelect.value)));

  function show(chosen: number): void {
    if (!policy) return;
    index = chosen;
    levelSelect.value = String(chosen);
    const level = policy.dunning.levels[chosen];
    if (!level) return;
    const subject = h("p", { class: "preview-subject" });
    const text = h("pre", { class: "preview-text", tabindex: 0, "aria-label": "The letter as e-mail text" });
    const problems = h("div", { class: "error", role: "status" });
    const openPrint = h("button", { type: "button" }, "Open the print preview");
    let html = "";
    const form = buildForm({
      label: `The ${level.name} letter`,
      submit: "Save letters",
      fields: [
        { name: "level.name", label: "Name", required: true, maxlength: 200, value: level.name },
        { name: "level.days_past_due", label: "Days past due", required: true, inputmode: "numeric", value: String(level.days_past_due) },
        { name: "level.days_after_previous", label: "Days after the previous level", inputmode: "numeric", value: String(level.days_after_previous) },
        { name: "level.pay_within_days", label: "Pay within (days)", inputmode: "numeric", value: String(level.pay_within_days) },
        { name: "level.subject", label: "E-mail subject", required: true, maxlength: 200, value: level.subject },
        { name: "level.template", label: "Letter", kind: "textarea", required: true, value: level.template, hint: `Placeholders: ${PLACEHOLDERS}` },
        { name: "sender", label: "Sender (every level)", required: true, maxlength: 200, value: policy.dunning.sender },
        { name: "payment_instructions", label: "How to pay (every level)", kind: "textarea", maxlength: 2000, value: policy.dunning.payment_instructions },
        { name: "paper", label: "Paper", kind: "select", options: PAPERS, value: policy.dunning.paper },
      ],
      onSubmit: async (f) => save(f),
    });
    form.field("level.template").setAttribute("rows", "16");
    const preview = h(
      "section",
      { class: "card preview", "aria-label": "Live preview" },
      h("h3", {}, "Preview"),
      h("p", { class: "muted" }, "With sample figures, as the letter would be issued."),
      subject,
      problems,
      text,
      h("div", { class: "buttons" }, openPrint),
    );
    replace(body, h("div", { class: "cards templates" }, h("section", { class: "card" }, form.element), preview));

    let timer: ReturnType<typeof setTimeout> | undefined;
    let asked = 0;
    const refresh = async () => {
      const mine = ++asked;
      try {
        const answer = await post<LetterPreview>("/dunning-letters/preview", previewBody(form));
        if (mine !== asked || !ctx.current()) return;
        replace(problems);
        subject.textContent = `Subject: ${answer.subject}`;
        text.textContent = answer.text;
        html = answer.html;
      } catch (failure) {
        if (mine !== asked || !ctx.current()) return;
        const errors = failure instanceof ApiError && failure.errors.length ? failure.errors : null;
        replace(
          problems,
          errors
            ? h("ul", {}, errors.map((e) => h("li", {}, `${label(e.field)}: ${e.message}`)))
            : h("p", {}, `No preview. ${describe(failure)}`),
        );
      }
    };
    form.element.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => void refresh(), PREVIEW_DELAY_MS);
    });
    form.element.addEventListener("change", () => void refresh());
    openPrint.addEventListener("click", () => {
      const target = window.open("print.html", "_blank");
      if (!target) {
        ctx.alert("The print preview was blocked. Allow pop-ups for this workspace.");
        return;
      }
      const send = (event: MessageEvent) => {
        if (event.source !== target || event.origin !== location.origin) return;
        window.removeEventListener("message", send);
        target.postMessage({ kind: "credit-desk-print", html, print: false }, location.origin);
      };
      window.addEventListener("message", send);
    });
    void refresh();
  }

  async function save(form: Form): Promise<void> {
    if (!policy) return;
    const edited = levelOf(form);
    // The rest of the policy is edited apart (policy.ts): save over it as it
    // is now, not as it was when this section loaded.
    let current: Policy;
    try {
      current = await get<Policy>("/policy");
    } catch (failure) {
      form.showErrors([], `The letters were not saved: the policy could not be read first. ${describe(failure)}`);
      return;
    }
    const levels = current.dunning.levels.map((level, i) => (i === index ? { ...level, ...edited } : level));
    const next: Policy = {
      ...current,
      dunning: {
        ...current.dunning,
        levels,
        sender: form.value("sender"),
        payment_instructions: form.field("payment_instructions").value,
        paper: paperOf(form),
      },
    };
    try {
      policy = await call<Policy>("PUT", "/policy", { body: next });
    } catch (failure) {
      if (failure instanceof ApiError && failure.errors.length) {
        const ours = `dunning.levels[${index}].`;
        form.showErrors(
          failure.errors.map((e) => ({
            field: e.field.startsWith(ours) ? `level.${e.field.slice(ours.length)}` : e.field.replace(/^dunning\./, ""),
            message: e.message,
          })),
          "The letters were not saved. Please correct the marked fields.",
        );
        return;
      }
      throw failure;
    }
    ctx.announce("The reminder letters are saved.");
    const kept = index;
    await load();
    show(kept);
  }

  return { element, load };
}

function number(form: Form, name: string): number {
  const text = form.value(name);
  return /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
}

function levelOf(form: Form): Required<Omit<DunningLevel, "minimum_overdue">> {
  return {
    name: form.value("level.name"),
    days_past_due: number(form, "level.days_past_due"),
    days_after_previous: number(form, "level.days_after_previous"),
    pay_within_days: number(form, "level.pay_within_days"),
    subject: form.value("level.subject"),
    template: form.field("level.template").value,
  };
}

function paperOf(form: Form): Paper {
  return form.value("paper") === "letter" ? "letter" : "a4";
}

function previewBody(form: Form): PreviewBody {
  return {
    level: levelOf(form),
    sender: form.value("sender"),
    payment_instructions: form.field("payment_instructions").value,
    paper: paperOf(form),
  };
}

/** A field of the preview's problems, as the form labels it. */
function label(field: string): string {
  const names: Record<string, string> = {
    "level.name": "Name",
    "level.days_past_due": "Days past due",
    "level.days_after_previous": "Days after the previous level",
    "level.pay_within_days": "Pay within",
    "level.subject": "E-mail subject",
    "level.template": "Letter",
    sender: "Sender",
    payment_instructions: "How to pay",
  };
  return names[field] ?? field;
}
