// Forms whose inputs are named after the API's fields, so problem details'
// `errors[{field, message}]` land next to the field they are about.

import { ApiError, describe, type FieldError } from "./api";
import { h, replace, uid } from "./dom";

export interface FieldSpec {
  name: string;
  label: string;
  kind?: "text" | "date" | "textarea" | "select" | "password";
  options?: readonly (readonly [string, string])[];
  value?: string;
  hint?: string;
  required?: boolean;
  /** "decimal" for amounts: a numeric keyboard, still a text field (no floats). */
  inputmode?: "decimal" | "numeric" | "text";
  placeholder?: string;
  maxlength?: number;
  readonly?: boolean;
}

export interface Form {
  element: HTMLFormElement;
  value(name: string): string;
  set(name: string, value: string): void;
  /** Rewrites a field's hint (its figures changed). */
  setHint(name: string, text: string): void;
  field(name: string): HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
  /** Shows messages next to their fields; the rest above the buttons. */
  showErrors(errors: FieldError[], summary?: string): void;
  /** Shows a failed call: field errors by field, otherwise the detail. */
  showFailure(error: unknown): void;
  clearErrors(): void;
  busy(on: boolean): void;
  reset(): void;
}

type Control = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

export function buildForm(options: {
  label: string;
  fields: FieldSpec[];
  submit: string;
  onSubmit: (form: Form) => void | Promise<void>;
  extraButtons?: HTMLElement[];
  /** Controls of the form's own making, after the fields (they show their own errors). */
  extraControls?: HTMLElement[];
  /** Classes added to the form's own. */
  className?: string;
}): Form {
  const controls = new Map<string, Control>();
  const messages = new Map<string, HTMLElement>();
  const hints = new Map<string, HTMLElement>();
  const general = h("div", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, options.submit);

  const rows = options.fields.map((spec) => {
    const id = uid(`f-${spec.name.replace(/[^a-z0-9]/gi, "-")}`);
    const errorId = `${id}-error`;
    const hintId = `${id}-hint`;
    const described = [spec.hint ? hintId : null, errorId].filter(Boolean).join(" ");
    const common = {
      id,
      name: spec.name,
      "aria-describedby": described,
      required: spec.required ?? false,
      readonly: spec.readonly ?? false,
    };
    let control: Control;
    if (spec.kind === "textarea") {
      control = h("textarea", { ...common, rows: 3, maxlength: spec.maxlength ?? null, placeholder: spec.placeholder ?? null });
      control.defaultValue = spec.value ?? "";
    } else if (spec.kind === "select") {
      control = h(
        "select",
        common,
        (spec.options ?? []).map(([value, text]) => h("option", { value, selected: value === spec.value }, text)),
      );
    } else {
      control = h("input", {
        ...common,
        type: spec.kind ?? "text",
        inputmode: spec.inputmode ?? null,
        placeholder: spec.placeholder ?? null,
        maxlength: spec.maxlength ?? null,
        autocomplete: "off",
        spellcheck: spec.inputmode === "decimal" ? "false" : null,
      });
      // The default value, so that resetting the form brings it back.
      control.defaultValue = spec.value ?? "";
    }
    controls.set(spec.name, control);
    const message = h("p", { class: "field-error", id: errorId, hidden: true });
    messages.set(spec.name, message);
    const hint = spec.hint ? h("p", { class: "hint", id: hintId }, spec.hint) : null;
    if (hint) hints.set(spec.name, hint);
    return h(
      "div",
      { class: `field field-${spec.kind ?? "text"}` },
      h("label", { for: id }, spec.label, spec.required ? null : h("span", { class: "optional" }, " (optional)")),
      control,
      hint,
      message,
    );
  });

  const element = h(
    "form",
    { "aria-label": options.label, novalidate: true, class: options.className ? `form ${options.className}` : "form" },
    rows,
    options.extraControls ?? [],
    general,
    h("div", { class: "buttons" }, submit, options.extraButtons ?? []),
  );

  const form: Form = {
    element,
    value: (name) => (controls.get(name)?.value ?? "").trim(),
    set: (name, value) => {
      const control = controls.get(name);
      if (control) control.value = value;
    },
    setHint: (name, text) => {
      const hint = hints.get(name);
      if (hint) hint.textContent = text;
    },
    field: (name) => {
      const control = controls.get(name);
      if (!control) throw new Error(`no field ${name}`);
      return control;
    },
    clearErrors() {
      for (const [name, message] of messages) {
        message.hidden = true;
        message.textContent = "";
        controls.get(name)?.removeAttribute("aria-invalid");
      }
      replace(general);
    },
    showErrors(errors, summary) {
      form.clearErrors();
      const unmatched: FieldError[] = [];
      let first: Control | null = null;
      for (const error of errors) {
        const name = fieldFor(error.field, controls);
        const message = name ? messages.get(name) : undefined;
        const control = name ? controls.get(name) : undefined;
        if (!name || !message || !control) {
          unmatched.push(error);
          continue;
        }
        const prefix = name === error.field ? "" : `${error.field}: `;
        message.textContent = message.textContent
          ? `${message.textContent} ${prefix}${error.message}`
          : `${prefix}${error.message}`;
        message.hidden = false;
        control.setAttribute("aria-invalid", "true");
        first ??= control;
      }
      replace(
        general,
        summary ? h("p", {}, summary) : null,
        unmatched.length
          ? h("ul", {}, unmatched.map((e) => h("li", {}, `${e.field}: ${e.message}`)))
          : null,
      );
      first?.focus();
    },
    showFailure(error) {
      if (error instanceof ApiError && error.errors.length) {
        form.showErrors(error.errors, "Please correct the marked fields.");
      } else {
        form.clearErrors();
        replace(general, h("p", {}, describe(error)));
      }
    },
    busy(on) {
      submit.disabled = on;
      element.setAttribute("aria-busy", String(on));
    },
    reset() {
      element.reset();
      form.clearErrors();
    },
  };

  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    form.clearErrors();
    form.busy(true);
    try {
      await options.onSubmit(form);
    } catch (error) {
      form.showFailure(error);
    } finally {
      form.busy(false);
    }
  });
  return form;
}

/**
 * The form field an API error is about: the same name, or the field whose
 * name starts it (`remittance[0].amount` belongs to `remittance`).
 */
function fieldFor(field: string, controls: Map<string, Control>): string | null {
  if (controls.has(field)) return field;
  let best: string | null = null;
  for (const name of controls.keys()) {
    const boundary = field.charAt(name.length);
    if (field.startsWith(name) && (boundary === "[" || boundary === ".") && name.length > (best?.length ?? 0)) {
      best = name;
    }
  }
  return best;
}

/** Fails a submission before it is sent, with messages like the API's. */
export function requireFields(form: Form, names: Record<string, string>): boolean {
  const errors = Object.entries(names)
    .filter(([name]) => form.value(name) === "")
    .map(([field, message]) => ({ field, message }));
  if (errors.length) form.showErrors(errors);
  return errors.length === 0;
}
