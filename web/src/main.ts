// The credit-desk workspace: sign in with a bearer token, then the held
// queue, the worklist, a customer (found with the header's search), an
// order, escalations, releases awaiting approval, dunning, or (for
// managers) limit requests, the policy with the reminder letters'
// templates, and reports.

import { ApiError, describe, get, onSessionExpired, session } from "./api";
import { approvalsView } from "./approvals";
import type { Ctx } from "./context";
import { customerView } from "./customer";
import { customersView } from "./customers";
import { dunningView } from "./dunning";
import { h, replace, uid } from "./dom";
import { escalationsView } from "./escalations";
import { managerView } from "./manager";
import { orderView } from "./order";
import { queueView } from "./queue";
import { customerSearch } from "./search";
import { isRole, type Me } from "./types";
import { worklistView } from "./worklist";

const app = element("app");
const nav = element("nav");
const sessionBox = element("session");
const searchSlot = element("search-slot");
const live = element("live");
const alertBox = element("alert");

let me: Me | null = null;
/** Bumped on every screen change, so late answers for old screens are dropped. */
let screen = 0;

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html lacks #${id}`);
  return found;
}

/** Writes to one live region (clearing the other). */
function say(region: HTMLElement, message: string): void {
  const other = region === live ? alertBox : live;
  other.textContent = "";
  region.textContent = "";
  // A fresh text node in a later frame is announced even when it repeats.
  requestAnimationFrame(() => {
    region.textContent = message;
  });
}

const announce = (message: string) => say(live, message);
const raiseAlert = (message: string) => say(alertBox, message);

function context(): Ctx {
  const mine = ++screen;
  return { me, announce, alert: raiseAlert, current: () => mine === screen };
}

/**
 * Closes every open dialog and takes it out of the page at once: a dialog's
 * own "close" handler (which also removes it) runs only after this task.
 */
function closeDialogs(): void {
  for (const dialog of document.querySelectorAll("dialog")) {
    if (dialog.open) dialog.close();
    dialog.remove();
  }
}

/** Who the token belongs to, when the API can say (GET /me). */
async function whoAmI(token: string): Promise<Me | null> {
  try {
    const answer = await get<unknown>("/me", { token });
    if (answer && typeof answer === "object") {
      const { name, role } = answer as Record<string, unknown>;
      if (typeof name === "string" && typeof role === "string" && isRole(role)) return { name, role };
    }
  } catch {
    // Not offered by this deployment: the workspace works without it.
  }
  return null;
}

/** Checks a token against the API: resolves when it is accepted. */
async function validate(token: string): Promise<void> {
  await get("/policy", { token });
}

function signedOutMessage(error: unknown): string {
  return error instanceof ApiError && error.status === 401
    ? "That token was not accepted. Check that you pasted all of it, or ask your administrator for a new one."
    : `Could not sign in. ${describe(error)}`;
}

function showSignIn(message = ""): void {
  screen += 1;
  me = null;
  nav.hidden = true;
  searchSlot.hidden = true;
  replace(searchSlot);
  replace(sessionBox);
  // A dialog left open (the session ended under it) must not cover sign-in.
  closeDialogs();
  live.textContent = "";
  alertBox.textContent = "";
  document.title = "Sign in — credit-desk";
  const titleId = uid("signin-title");
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "token-hint signin-error",
  });
  const error = h("p", { id: "signin-error", class: "form-error", role: "alert" }, message);
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { class: "form", novalidate: true, "aria-labelledby": titleId },
    h("div", { class: "field" }, h("label", { for: "token" }, "Bearer token"), input),
    h(
      "p",
      { id: "token-hint", class: "hint" },
      "Paste the token you were given. It stays in this browser tab only and is forgotten when you sign out or close the tab.",
    ),
    error,
    h("div", { class: "buttons" }, button),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      error.textContent = "Paste your token first.";
      input.focus();
      return;
    }
    button.disabled = true;
    error.textContent = "";
    try {
      await validate(token);
    } catch (failure) {
      error.textContent = signedOutMessage(failure);
      input.setAttribute("aria-invalid", "true");
      input.select();
      button.disabled = false;
      return;
    }
    session.save(token);
    me = await whoAmI(token);
    showApp();
  });
  replace(app, h("section", { class: "signin", "aria-labelledby": titleId }, h("h1", { id: titleId }, "Sign in"), form));
  input.focus();
}

function showApp(): void {
  nav.hidden = false;
  searchSlot.hidden = false;
  customerSearch(searchSlot);
  replace(
    sessionBox,
    h(
      "span",
      { id: "who", class: "who" },
      me ? ["Signed in as ", h("strong", {}, me.name), ` (${me.role})`] : "Signed in",
    ),
    h("button", { type: "button", id: "sign-out", onclick: signOut }, "Sign out"),
  );
  route(false);
}

function signOut(): void {
  session.clear();
  history.replaceState(null, "", location.pathname + location.search);
  showSignIn();
  announce("You are signed out.");
}

const TITLES: Record<string, string> = {
  queue: "Held orders",
  worklist: "Worklist",
  customer: "Customer",
  customers: "Customers",
  order: "Order",
  escalations: "Escalations",
  approvals: "Releases awaiting approval",
  dunning: "Dunning",
  manager: "Limits & reports",
};

/** The nav entry a screen belongs to (the search results and orders have none of their own). */
const NAV_OF: Record<string, string> = { customers: "customer" };

function route(focus = true): void {
  if (!session.token()) return;
  const [path = "", search = ""] = location.hash.replace(/^#\/?/, "").split("?", 2);
  const [section = "", ...rest] = path.split("/");
  const name = section === "" ? "queue" : section;
  const current = NAV_OF[name] ?? name;
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${current}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${TITLES[name] ?? "Not found"} — credit-desk`;
  const ctx = context();
  switch (name) {
    case "queue":
      queueView(app, ctx);
      break;
    case "customer": {
      const id = rest.length ? safeDecode(rest.join("/")) : null;
      customerView(app, ctx, id);
      break;
    }
    case "customers":
      customersView(app, ctx, new URLSearchParams(search));
      break;
    case "order": {
      const id = rest.length ? safeDecode(rest.join("/")) : "";
      if (id) orderView(app, ctx, id);
      else replace(app, h("h2", {}, "No order named"), h("p", {}, h("a", { href: "#/queue" }, "Go to the held orders")));
      break;
    }
    case "worklist":
      worklistView(app, ctx);
      break;
    case "escalations":
      escalationsView(app, ctx);
      break;
    case "approvals":
      approvalsView(app, ctx);
      break;
    case "dunning":
      dunningView(app, ctx);
      break;
    case "manager":
      managerView(app, ctx);
      break;
    default:
      replace(app, h("h2", {}, "Not found"), h("p", {}, h("a", { href: "#/queue" }, "Go to the held orders")));
  }
  if (focus) app.focus();
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function start(): Promise<void> {
  onSessionExpired(() => {
    session.clear();
    showSignIn("Your session ended: the token is no longer accepted. Sign in again.");
  });
  window.addEventListener("hashchange", () => route());
  const token = session.token();
  if (!token) {
    showSignIn();
    return;
  }
  try {
    await validate(token);
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) session.clear();
    showSignIn(signedOutMessage(failure));
    return;
  }
  me = await whoAmI(token);
  showApp();
}

void start();
