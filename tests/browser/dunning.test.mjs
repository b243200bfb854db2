// Customer communications in a real browser: an associate issues a
// reminder letter from the dunning proposal and prints it, prints a
// customer's statement, and a manager edits a letter with its live
// preview. What is printed is a PDF from Chromium (page.pdf()), read back
// with pdftotext and pdfinfo (Debian's poppler-utils).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ASSOCIATE, MANAGER, apiClient, expectOk, isoDate, launchBrowser, signIn, startApp } from "./harness.mjs";

const CUSTOMER = "C-7";
/** Escaped in HTML, printed as written. */
const NAME = "Hartmann & <Söhne>";

let app;
let api;
let browser;
let pdfDir;
const contexts = [];

before(async () => {
  app = await startApp();
  api = apiClient(app.baseUrl);
  browser = await launchBrowser();
  pdfDir = mkdtempSync(join(tmpdir(), "credit-desk-pdf-"));
  await expectOk(await api(MANAGER, "PUT", `/customers/${CUSTOMER}`, { name: NAME, currency: "USD", credit_limit: "90000.00", payment_terms_days: 30 }), "customer");
  // An associate duns the accounts assigned to them.
  await expectOk(await api(MANAGER, "PUT", `/customers/${CUSTOMER}/assignee`, { assignee: "alice" }), "assignment");
  const invoices = [
    ["INV-701", isoDate(-50), isoDate(-20), "1250.00"],
    ["INV-702", isoDate(-40), isoDate(-10), "480.50"],
    ["INV-703", isoDate(-5), isoDate(25), "900.00"],
  ];
  for (const [id, issued, due, amount] of invoices) {
    await expectOk(await api(MANAGER, "PUT", `/invoices/${id}`, { customer_id: CUSTOMER, issued_on: issued, due_on: due, amount, currency: "USD" }), id);
  }
  await expectOk(await api(ASSOCIATE, "POST", "/disputes", { invoice_id: "INV-702", amount: "80.50", reason_code: "PRICING", note: "price" }), "a dispute");
});

after(async () => {
  await Promise.all(contexts.map((context) => context.close().catch(() => {})));
  await browser?.close();
  await app?.stop();
  if (pdfDir) rmSync(pdfDir, { recursive: true, force: true });
});

/** A fresh profile whose pages record print() instead of opening a dialog. */
async function newPage() {
  const context = await browser.newContext();
  contexts.push(context);
  await context.addInitScript(() => {
    window.print = () => {
      window.__printed = (window.__printed ?? 0) + 1;
    };
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(String(error)));
  return { page, errors };
}

/** Clicks `button`, which opens the print page; gives that page once it shows `text` and has printed. */
async function printed(page, button, text) {
  const [popup] = await Promise.all([page.context().waitForEvent("page"), button.click()]);
  const violations = [];
  popup.on("console", (message) => message.type() === "error" && violations.push(message.text()));
  await popup.getByText(text).first().waitFor();
  await popup.waitForFunction(() => window.__printed === 1);
  assert.deepEqual(violations, [], "the print page shows the document with its own styles and nothing refused");
  return popup;
}

/** The PDF Chromium prints of `page`: its text and its page size. */
async function pdf(page, name) {
  const path = join(pdfDir, `${name}.pdf`);
  await page.pdf({ path, preferCSSPageSize: true, printBackground: true });
  const text = execFileSync("pdftotext", ["-layout", path, "-"], { encoding: "utf8" });
  const info = execFileSync("pdfinfo", [path], { encoding: "utf8" });
  const size = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(info);
  assert.ok(size, info);
  return { text, width: Math.round(Number(size[1])), height: Math.round(Number(size[2])) };
}

test("an associate issues the reminder due from the proposal and prints it on A4", async () => {
  const { page, errors } = await newPage();
  await signIn(page, app.baseUrl, ASSOCIATE);
  await page.getByRole("link", { name: "Dunning" }).click();
  const row = page.locator("table.proposal tbody tr", { hasText: NAME });
  await row.waitFor();
  assert.match(await row.innerText(), /Reminder/);
  assert.match(await row.innerText(), /INV-701 \(20 days\)/);
  await page.getByRole("button", { name: "Issue 1 letter" }).click();
  await page.locator("#live").filter({ hasText: "1 letter issued" }).waitFor();
  const letter = page.locator("table.letters tbody tr", { hasText: "DL-1" });
  await letter.waitFor();

  const popup = await printed(page, letter.getByRole("button", { name: "Print letter DL-1" }), "Reference: DL-1");
  const { text, width, height } = await pdf(popup, "letter");
  assert.deepEqual([width, height], [595, 842], "A4, the policy's paper");
  for (const expected of [NAME, "Reference: DL-1", "INV-701", "INV-702", "1,250.00 USD", "400.00 USD", "Total due", "1,650.00 USD", "Credit Services"]) {
    assert.ok(text.includes(expected), `the printed letter lacks ${expected}:\n${text}`);
  }
  assert.ok(!text.includes("INV-703"), "the invoice not yet due is not in the letter");
  assert.ok(!text.includes("&lt;"), "the name is printed, not its escape");

  // The letter is in the customer's history, and the contact log.
  await page.goto(`${app.baseUrl}/#/customer/${CUSTOMER}`);
  await page.locator(".letters-section tbody tr", { hasText: "DL-1" }).waitFor();
  assert.match(await page.locator(".letter-due").innerText(), /waiting after the last letter/i);
  assert.deepEqual(errors, []);
});

test("an associate prints a customer's statement on US Letter, with its closing balance", async () => {
  const policy = await expectOk(await api(MANAGER, "GET", "/policy"), "policy");
  policy.dunning.paper = "letter";
  await expectOk(await api(MANAGER, "PUT", "/policy", policy), "paper");
  const { page, errors } = await newPage();
  await signIn(page, app.baseUrl, ASSOCIATE);
  await page.goto(`${app.baseUrl}/#/customer/${CUSTOMER}`);
  const section = page.locator(".statement-section");
  await section.getByLabel("From").fill(isoDate(-60));
  await section.getByLabel("to", { exact: true }).fill(isoDate());
  await section.getByRole("button", { name: "Show statement" }).click();
  await section.locator("table", { hasText: "Closing balance" }).waitFor();
  assert.match(await section.locator(".figures").innerText(), /2,630\.50 USD/);

  const popup = await printed(page, section.getByRole("button", { name: "Print statement" }), "Statement of account");
  const { text, width, height } = await pdf(popup, "statement");
  assert.deepEqual([width, height], [612, 792], "US Letter, the policy's paper now");
  for (const expected of ["Statement of account", `${NAME} (${CUSTOMER})`, "Opening balance", "Invoice INV-701", "Invoice INV-703", "Closing balance", "2,630.50 USD", "D-1", "PRICING"]) {
    assert.ok(text.includes(expected), `the printed statement lacks ${expected}:\n${text}`);
  }
  assert.deepEqual(errors, []);
});

test("a manager edits a letter with its live preview; an unknown placeholder is named, not saved", async () => {
  const { page, errors } = await newPage();
  await signIn(page, app.baseUrl, MANAGER);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const editor = page.locator("form", { has: page.getByLabel("Letter", { exact: true }) });
  const letter = editor.getByLabel("Letter", { exact: true });
  await letter.waitFor();
  const preview = page.locator(".preview-text");
  await preview.filter({ hasText: "Example Customer Ltd" }).waitFor();

  await letter.fill("Dear {{customer_name}},\nplease pay {{amount_owed}} by {{pay_by}}.");
  await page.locator(".preview").filter({ hasText: "unknown placeholder {{amount_owed}}" }).waitFor();
  await editor.getByRole("button", { name: "Save letters" }).click();
  await editor.locator(".field-error", { hasText: "unknown placeholder {{amount_owed}}" }).waitFor();
  const stored = await expectOk(await api(MANAGER, "GET", "/policy"), "policy");
  assert.ok(!stored.dunning.levels[0].template.includes("amount_owed"), "not saved");

  await letter.fill("Dear {{customer_name}},\nplease pay {{total_due}} by {{pay_by}}.\n\n{{items}}");
  await preview.filter({ hasText: "please pay 15,980.50 USD by" }).waitFor();
  await editor.getByRole("button", { name: "Save letters" }).click();
  await page.locator("#live").filter({ hasText: "The reminder letters are saved." }).waitFor();
  const saved = await expectOk(await api(MANAGER, "GET", "/policy"), "policy");
  assert.equal(saved.dunning.levels[0].template, "Dear {{customer_name}},\nplease pay {{total_due}} by {{pay_by}}.\n\n{{items}}");

  // The policy form, loaded before the letter was saved, keeps it.
  const policyForm = page.getByRole("form", { name: "Credit policy" });
  await policyForm.getByLabel("Grace days").fill("6");
  await policyForm.getByRole("button", { name: "Save policy" }).click();
  await page.locator("#live").filter({ hasText: "Policy saved." }).waitFor();
  const both = await expectOk(await api(MANAGER, "GET", "/policy"), "policy");
  assert.equal(both.grace_days, 6);
  assert.deepEqual(both.dunning, saved.dunning, "saving the policy form keeps the letters");
  // The refusals of the unknown placeholder are the only failed loads.
  assert.deepEqual(errors.filter((error) => !/status of 422/.test(error)), []);
});
