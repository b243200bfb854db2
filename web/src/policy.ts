// The credit policy, as managers edit it: grace days and tolerance, holds
// without a limit, dispute service levels, retention, and the per-currency
// amounts above which an associate's release waits for a manager. PUT
// /policy replaces the whole policy, so the form always sends every field.

import { ApiError, type FieldError, describe, get, put } from "./api";
import type { Ctx } from "./context";
import { h, replace, uid } from "./dom";
import { buildForm, type Form } from "./forms";
import { isDecimal, money } from "./money";
import type { Policy, PolicyBody } from "./types";

interface PairsEditor {
  element: HTMLElement;
  /** The rows as a map, or the first thing wrong with them (and it is shown). */
  read(): Record<string, string> | null;
  /** Shows the API's errors about this map; true when there were any. */
  showErrors(errors: FieldError[]): boolean;
  clear(): void;
}

interface PairsSpec {
  name: string;
  legend: string;
  hint: string;
  keyLabel: string;
  valueLabel: string;
  addLabel: string;
  /** What a key is normalised to (currency codes in capitals). */
  key: (text: string) => string;
  /** Why a row's key is wrong, or null. */
  checkKey: (key: string) => string | null;
  /** Why a row's value is wrong, or null. */
  checkValue: (key: string, value: string) => string | null;
  /** The mode of the value's keyboard. */
  inputmode: "decimal" | "numeric";
}

/** A list of key/value rows (a JSON object), rows added and removed by hand. */
function pairsEditor(spec: PairsSpec, initial: Record<string, string>): PairsEditor {
  const legendId = uid(`${spec.name}-legend`);
  const hintId = uid(`${spec.name}-hint`);
  const errorId = uid(`${spec.name}-error`);
  const list = h("ul", { class: "pairs" });
  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  const add = h("button", { type: "button" }, spec.addLabel);
  const rows: { key: HTMLInputElement; value: HTMLInputElement; item: HTMLElement }[] = [];

  const addRow = (key = "", value = "") => {
    const keyInput = h("input", {
      id: uid(`${spec.name}-key`),
      value: key,
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": `${hintId} ${errorId}`,
    });
    const valueInput = h("input", {
      id: uid(`${spec.name}-value`),
      value,
      inputmode: spec.inputmode,
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": `${hintId} ${errorId}`,
    });
    const remove = h("button", { type: "button" }, "Remove");
    const item = h(
      "li",
      { class: "pair" },
      h("label", { for: keyInput.id }, spec.keyLabel),
      keyInput,
      h("label", { for: valueInput.id }, spec.valueLabel),
      valueInput,
      remove,
    );
    const row = { key: keyInput, value: valueInput, item };
    remove.setAttribute("aria-label", `Remove ${key || "this row"}`);
    keyInput.addEventListener("input", () => remove.setAttribute("aria-label", `Remove ${keyInput.value || "this row"}`));
    remove.addEventListener("click", () => {
      rows.splice(rows.indexOf(row), 1);
      item.remove();
      add.focus();
    });
    rows.push(row);
    list.append(item);
    return row;
  };
  for (const [key, value] of Object.entries(initial)) addRow(key, value);
  add.addEventListener("click", () => addRow().key.focus());

  const fail = (message: string, input?: HTMLInputElement) => {
    error.textContent = message;
    error.hidden = false;
    input?.setAttribute("aria-invalid", "true");
    input?.focus();
  };
  const editor: PairsEditor = {
    element: h(
      "fieldset",
      { class: "field pairs-field", "aria-labelledby": legendId, "aria-describedby": hintId },
      h("legend", { id: legendId }, spec.legend),
      h("p", { class: "hint", id: hintId }, spec.hint),
      list,
      error,
      h("div", { class: "buttons" }, add),
    ),
    read() {
      editor.clear();
      const map: Record<string, string> = {};
      for (const row of rows) {
        const key = spec.key(row.key.value.trim());
        const value = row.value.value.trim();
        if (!key && !value) continue;
        const wrongKey = spec.checkKey(key);
        if (wrongKey) {
          fail(wrongKey, row.key);
          return null;
        }
        const wrongValue = spec.checkValue(key, value);
        if (wrongValue) {
          fail(wrongValue, row.value);
          return null;
        }
        if (Object.hasOwn(map, key)) {
          fail(`${key} is listed twice.`, row.key);
          return null;
        }
        map[key] = value;
      }
      return map;
    },
    showErrors(errors) {
      const mine = errors.filter(
        (e) => e.field === spec.name || e.field.startsWith(`${spec.name}.`) || e.field.startsWith(`${spec.name}[`),
      );
      if (mine.length === 0) return false;
      fail(mine.map((e) => `${e.field.slice(spec.name.length + 1) || spec.legend}: ${e.message}`).join(" "));
      return true;
    },
    clear() {
      error.hidden = true;
      error.textContent = "";
      for (const row of rows) {
        row.key.removeAttribute("aria-invalid");
        row.value.removeAttribute("aria-invalid");
      }
    },
  };
  return editor;
}

const DAYS = /^\d{1,4}$/;

/** The policy section of the manager's page. */
export function policySection(ctx: Ctx): { element: HTMLElement; load: () => Promise<void> } {
  const titleId = uid("policy-title");
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the credit policy…"));
  const element = h(
    "section",
    { "aria-labelledby": titleId },
    h("div", { class: "section-head" }, h("h2", { id: titleId }, "Credit policy")),
    body,
  );

  async function load(): Promise<void> {
    try {
      const policy = await get<Policy>("/policy");
      if (!ctx.current()) return;
      replace(body, h("div", { class: "card" }, policyForm(policy)));
    } catch (failure) {
      if (!ctx.current()) return;
      replace(body, h("p", { class: "error", role: "alert" }, `The policy could not be loaded. ${describe(failure)}`));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  function policyForm(policy: Policy): HTMLElement {
    const thresholds = pairsEditor(
      {
        name: "release_approval_thresholds",
        legend: "Releases that need a manager's approval",
        hint: "Per currency: an associate's release of an order above this amount waits for a manager. A currency not listed needs none. Orders of accounts on credit hold always do.",
        keyLabel: "Currency",
        valueLabel: "Above",
        addLabel: "Add a currency",
        key: (text) => text.toUpperCase(),
        checkKey: (key) => (/^[A-Z]{3}$/.test(key) ? null : "Give a three-letter currency code, e.g. USD."),
        checkValue: (key, value) => (isDecimal(value) ? null : `Give the amount for ${key}, e.g. 25000.00.`),
        inputmode: "decimal",
      },
      policy.release_approval_thresholds,
    );
    const slas = pairsEditor(
      {
        name: "dispute_sla_by_reason",
        legend: "Dispute service levels by reason",
        hint: "Business days to settle disputes of a reason code; other reasons take the service level above.",
        keyLabel: "Reason code",
        valueLabel: "Business days",
        addLabel: "Add a reason code",
        key: (text) => text,
        checkKey: (key) => (key ? null : "Give the reason code."),
        checkValue: (key, value) => (DAYS.test(value) ? null : `Give ${key}'s business days as a whole number.`),
        inputmode: "numeric",
      },
      Object.fromEntries(Object.entries(policy.dispute_sla_by_reason).map(([code, days]) => [code, String(days)])),
    );
    const editors = [thresholds, slas];
    const days = (name: keyof Policy, label: string, hint: string) => ({
      name,
      label,
      hint,
      required: true,
      inputmode: "numeric" as const,
      value: String(policy[name]),
    });
    return buildForm({
      label: "Credit policy",
      className: "policy-form",
      fields: [
        days("grace_days", "Grace days", "Days past due tolerated before an order is held for it (a customer may have its own)."),
        {
          name: "past_due_tolerance",
          label: "Past-due tolerance",
          hint: "Past-due amounts up to this do not hold an order (any currency).",
          required: true,
          inputmode: "decimal",
          value: policy.past_due_tolerance,
        },
        {
          name: "hold_when_no_limit",
          label: "Customers without a credit limit",
          kind: "select",
          required: true,
          options: [
            ["true", "Hold their orders"],
            ["false", "Release their orders"],
          ],
          value: String(policy.hold_when_no_limit),
        },
        days(
          "dispute_sla_business_days",
          "Dispute service level (business days)",
          "How long a dispute may take, unless its reason has its own.",
        ),
        days("event_retention_days", "Keep ERP events (days)", "At least 30."),
        days(
          "request_retention_days",
          "Remember retried requests (days)",
          "How long a webhook or Idempotency-Key is answered the same.",
        ),
      ],
      extraControls: editors.map((e) => e.element),
      submit: "Save policy",
      onSubmit: (f) => save(f, editors, thresholds, slas),
    }).element;
  }

  async function save(f: Form, editors: PairsEditor[], thresholds: PairsEditor, slas: PairsEditor): Promise<void> {
    const whole = ["grace_days", "dispute_sla_business_days", "event_retention_days", "request_retention_days"] as const;
    const wrong: FieldError[] = whole
      .filter((name) => !DAYS.test(f.value(name)))
      .map((field) => ({ field, message: "Give a whole number of days." }));
    if (!isDecimal(f.value("past_due_tolerance")))
      wrong.push({ field: "past_due_tolerance", message: "Give an amount, e.g. 0.00." });
    if (wrong.length) {
      f.showErrors(wrong);
      return;
    }
    const approvals = thresholds.read();
    const byReason = approvals === null ? null : slas.read();
    if (approvals === null || byReason === null) return;
    // The reminder letters are edited apart (templates.ts): keep them as
    // they are now, since a policy left without them takes the defaults.
    let current: Policy;
    try {
      current = await get<Policy>("/policy");
    } catch (failure) {
      f.showErrors([], `The policy was not saved: it could not be read first. ${describe(failure)}`);
      return;
    }
    const body: PolicyBody = {
      dunning: current.dunning,
      grace_days: Number(f.value("grace_days")),
      past_due_tolerance: f.value("past_due_tolerance"),
      hold_when_no_limit: f.value("hold_when_no_limit") === "true",
      dispute_sla_business_days: Number(f.value("dispute_sla_business_days")),
      dispute_sla_by_reason: Object.fromEntries(Object.entries(byReason).map(([code, n]) => [code, Number(n)])),
      event_retention_days: Number(f.value("event_retention_days")),
      request_retention_days: Number(f.value("request_retention_days")),
      release_approval_thresholds: approvals,
    };
    let saved: Policy;
    try {
      saved = await put<Policy>("/policy", body);
    } catch (failure) {
      if (failure instanceof ApiError && failure.errors.length) {
        const shown = editors.map((e) => e.showErrors(failure.errors));
        const rest = failure.errors.filter((e) => !/^(release_approval_thresholds|dispute_sla_by_reason)\b/.test(e.field));
        if (rest.length || !shown.some(Boolean)) f.showErrors(rest, "Please correct the marked fields.");
        return;
      }
      throw failure;
    }
    const limits = Object.entries(saved.release_approval_thresholds).map(([currency, amount]) => money(amount, currency));
    ctx.announce(
      `Policy saved. ${limits.length ? `Associates' releases above ${limits.join(", ")} need a manager's approval.` : "No release needs a manager's approval for its amount."}`,
    );
  }

  return { element, load };
}
