// The associate's desk in a real browser: each associate's queue opens on
// their own accounts; customers are found from the header while typing
// (keyboard, accents) and listed page by page; managers assign customers
// one at a time and in bulk; orders the desk cannot check yet are shown
// plainly and offer no release.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ASSOCIATE, MANAGER, apiClient, expectOk, isoDate, launchBrowser, signedInTabs, startApp, status } from "./harness.mjs";

const ZETAS = 30;

let app;
let api;
let browser;
const tabs = signedInTabs();

async function customer(id, name, { currency = "USD", assignee = null } = {}) {
  await expectOk(await api(MANAGER, "PUT", `/customers/${id}`, { name, currency, credit_limit: "1000.00", payment_terms_days: 30 }), id);
  if (assignee) await expectOk(await api(MANAGER, "PUT", `/customers/${id}/assignee`, { assignee }), `assign ${id}`);
}

async function order(id, customerId, currency = "USD") {
  const decision = await expectOk(
    await api(MANAGER, "POST", "/orders", { id, customer_id: customerId, amount: "5000.00", currency, ordered_on: isoDate(), as_of: isoDate() }),
    id,
  );
  assert.equal(decision.status, "held", `${id}: ${JSON.stringify(decision)}`);
}

before(async () => {
  app = await startApp();
  api = apiClient(app.baseUrl);
  browser = await launchBrowser();
  await customer("C-100", "Acme Tools", { assignee: "alice" });
  await customer("C-200", "Société Générale", { currency: "EUR" });
  await customer("C-300", "Bolt Supply", { assignee: "bob" });
  await customer("C-310", "Bolt & Nut Wholesale");
  for (let n = 1; n <= ZETAS; n++) await customer(`Z-${String(n).padStart(2, "0")}`, `Zeta Parts ${n}`);
  await expectOk(
    await api(MANAGER, "PUT", "/invoices/INV-200", {
      customer_id: "C-200",
      issued_on: isoDate(-60),
      due_on: isoDate(-30),
      amount: "300.00",
      currency: "EUR",
    }),
    "INV-200",
  );
  await order("SO-A1", "C-100");
  await order("SO-S1", "C-200", "EUR");
  await order("SO-B1", "C-300");
  await order("SO-N1", "C-310");
  // Before its customer, and in another currency than its customer's.
  await order("SO-U1", "C-NEW");
  await order("SO-M1", "C-100", "EUR");
});

after(async () => {
  await tabs.closeAll();
  await browser?.close();
  await app?.stop();
});

function tab(token) {
  return tabs.open(browser, app.baseUrl, token);
}

const queueRows = (page) => page.locator("tr[data-order-id]").evaluateAll((rows) => rows.map((r) => r.dataset.orderId).sort());

async function filterQueue(page, accounts) {
  await page.getByLabel("Accounts").selectOption(accounts);
  await page.getByRole("button", { name: "Filter" }).click();
}

test("an associate's queue opens on their own accounts; the filter shows others', with who works each", async () => {
  const { page, errors } = await tab(ASSOCIATE);
  await page.locator('tr[data-order-id="SO-A1"]').waitFor();
  assert.equal(await page.getByLabel("Accounts").inputValue(), "me");
  assert.deepEqual(await queueRows(page), ["SO-A1", "SO-M1"], "alice's own accounts only");
  const headers = await page.locator(".held-orders thead th").allInnerTexts();
  const assigneeColumn = headers.findIndex((text) => /assigned to/i.test(text));
  assert.ok(assigneeColumn > 0, headers.join("|"));
  const cell = (id) => page.locator(`tr[data-order-id="${id}"] > *`).nth(assigneeColumn).innerText();
  assert.equal(await cell("SO-A1"), "alice");

  await filterQueue(page, "");
  await page.locator('tr[data-order-id="SO-B1"]').waitFor();
  assert.deepEqual(await queueRows(page), ["SO-A1", "SO-B1", "SO-M1", "SO-N1", "SO-S1", "SO-U1"]);
  assert.equal(await cell("SO-B1"), "bob");
  assert.equal(await cell("SO-S1"), "nobody");

  await filterQueue(page, "bob");
  await page.locator('tr[data-order-id="SO-A1"]').waitFor({ state: "detached" });
  assert.deepEqual(await queueRows(page), ["SO-B1"]);
  await filterQueue(page, "unassigned");
  await page.locator('tr[data-order-id="SO-N1"]').waitFor();
  assert.deepEqual(await queueRows(page), ["SO-N1", "SO-S1", "SO-U1"]);
  assert.deepEqual(errors, []);
});

test("a manager's queue opens on everyone's accounts", async () => {
  const { page, errors } = await tab(MANAGER);
  await page.locator('tr[data-order-id="SO-U1"]').waitFor();
  assert.equal(await page.getByLabel("Accounts").inputValue(), "");
  assert.equal((await queueRows(page)).length, 6);
  assert.deepEqual(errors, []);
});

test("orders the desk cannot check yet are shown plainly and offer no release", async () => {
  const { page, errors } = await tab(ASSOCIATE);
  await filterQueue(page, "");
  const unknown = page.locator('tr[data-order-id="SO-U1"]');
  await unknown.waitFor();
  const text = await unknown.innerText();
  assert.match(text, /C-NEW\s+not known yet/);
  assert.match(text, /UNKNOWN_CUSTOMER/);
  assert.match(text, /Checked when the ERP sends its customer/);
  assert.equal(await unknown.getByRole("link", { name: "C-NEW" }).count(), 0, "no customer page to link to");
  assert.equal(await unknown.getByRole("button", { name: /Release/ }).count(), 0);
  assert.ok(await unknown.getByRole("checkbox").isDisabled(), "not selectable for a bulk release");
  assert.equal(await unknown.getByRole("button", { name: "Escalate order SO-U1" }).count(), 1);

  const mismatch = page.locator('tr[data-order-id="SO-M1"]');
  assert.match(await mismatch.innerText(), /CURRENCY_MISMATCH[\s\S]*billed in USD; the order is in EUR/);
  assert.equal(await mismatch.getByRole("button", { name: /Release/ }).count(), 0);

  // Selecting everything leaves them out.
  await page.getByRole("checkbox", { name: "Select all orders in this list" }).check();
  await page.getByRole("button", { name: "Release selected (4)" }).waitFor();

  // The order's page says so too, and names the customer as not known.
  await unknown.getByRole("link", { name: "SO-U1" }).click();
  await page.getByRole("heading", { name: "Order SO-U1" }).waitFor();
  assert.match(await page.locator(".figures").innerText(), /C-NEW not known yet/);
  await page.getByText("Cannot be released by hand.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Release…" }).count(), 0);
  assert.deepEqual(errors, []);
});

test("the header search suggests customers as you type; arrows and Enter open one; accents fold", async () => {
  const { page, errors } = await tab(ASSOCIATE);
  const searches = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/customers") searches.push(request.url());
  });
  const box = page.getByRole("combobox", { name: "Find a customer" });
  const list = page.getByRole("listbox", { name: "Customers found" });

  await box.pressSequentially("societe", { delay: 15 });
  const option = list.getByRole("option").filter({ hasText: "Société Générale" });
  await option.waitFor();
  assert.ok(searches.length < "societe".length, `typing is debounced: ${searches.length} searches`);
  const shown = await option.innerText();
  for (const expected of ["C-200", "Not assigned", "Past due 300.00 EUR", "Available 700.00 EUR", "1 held order"]) {
    assert.ok(shown.includes(expected), `the suggestion shows ${expected}: ${shown}`);
  }
  assert.equal(await box.getAttribute("aria-expanded"), "true");

  await box.press("ArrowDown");
  const active = await box.getAttribute("aria-activedescendant");
  assert.equal(await option.getAttribute("id"), active);
  assert.equal(await option.getAttribute("aria-selected"), "true");
  await box.press("Enter");
  await page.getByRole("heading", { name: /Société Générale/ }).waitFor();
  assert.match(page.url(), /#\/customer\/C-200$/);
  assert.equal(await box.inputValue(), "", "the box is cleared for the next search");

  // Escape closes the suggestions and keeps what was typed.
  await box.fill("bolt");
  await list.getByRole("option").filter({ hasText: "Bolt & Nut Wholesale" }).waitFor();
  const options = await list.getByRole("option").evaluateAll((all) => all.map((o) => o.dataset.customerId ?? o.textContent));
  assert.deepEqual(options.slice(0, 2).sort(), ["C-300", "C-310"]);
  assert.equal(options[2], "See all 2 results for “bolt”");
  await box.press("Escape");
  await list.waitFor({ state: "hidden" });
  assert.equal(await box.getAttribute("aria-expanded"), "false");
  assert.equal(await box.inputValue(), "bolt");

  // Up from the top wraps to "see all".
  await box.press("ArrowUp");
  assert.equal(await page.locator(`[id="${await box.getAttribute("aria-activedescendant")}"]`).innerText(), "See all 2 results for “bolt”");
  await box.press("Enter");
  await page.getByRole("heading", { name: "Customers matching “bolt”" }).waitFor();
  assert.equal(await page.locator("tr[data-customer-id]").count(), 2);

  await box.fill("xylophone");
  await page.locator(".suggestions-note").filter({ hasText: "No customer matches “xylophone”." }).waitFor();
  assert.equal(await box.getAttribute("aria-expanded"), "false");
  assert.deepEqual(errors, []);
});

test("see all results pages through every customer found, with the total", async () => {
  const { page, errors } = await tab(ASSOCIATE);
  const box = page.getByRole("combobox", { name: "Find a customer" });
  await box.fill("zeta");
  await page.getByRole("option").filter({ hasText: `See all ${ZETAS} results` }).waitFor();
  // Enter with nothing chosen lists everything found.
  await box.press("Enter");
  await page.getByText(`${ZETAS} customers found`).waitFor();
  await page.getByText(`Showing 1–25 of ${ZETAS}`).waitFor();
  assert.equal(await page.locator("tr[data-customer-id]").count(), 25);
  assert.ok(await page.getByRole("button", { name: "Previous page" }).isDisabled());
  assert.equal(await page.getByRole("checkbox").count(), 0, "an associate assigns nobody");

  await page.getByRole("button", { name: "Next page" }).click();
  await page.getByText(`Showing 26–${ZETAS} of ${ZETAS}`).waitFor();
  assert.equal(await page.locator("tr[data-customer-id]").count(), ZETAS - 25);
  assert.match(page.url(), /offset=25/);
  assert.ok(await page.getByRole("button", { name: "Next page" }).isDisabled());
  await page.getByRole("button", { name: "Previous page" }).click();
  await page.getByText(`Showing 1–25 of ${ZETAS}`).waitFor();
  assert.deepEqual(errors, []);
});

test("a manager assigns customers in bulk from the results, and one from its page", async () => {
  const { page, errors } = await tab(MANAGER);
  await page.goto(`${app.baseUrl}/#/customers?q=zeta`);
  await page.getByText(`Showing 1–25 of ${ZETAS}`).waitFor();
  const ids = (await page.locator("tr[data-customer-id]").evaluateAll((rows) => rows.map((r) => r.dataset.customerId))).slice(0, 2);
  for (const id of ids) await page.locator(`tr[data-customer-id="${id}"]`).getByRole("checkbox").check();
  // The selection holds across pages.
  await page.getByRole("button", { name: "Next page" }).click();
  await page.getByText(`Showing 26–${ZETAS} of ${ZETAS}`).waitFor();
  const third = await page.locator("tr[data-customer-id]").first().getAttribute("data-customer-id");
  await page.locator(`tr[data-customer-id="${third}"]`).getByRole("checkbox").check();
  const assign = page.getByRole("button", { name: "Assign selected (3)" });

  // Nothing is assigned until a person (or nobody) is chosen.
  await assign.click();
  await page.locator("#alert").filter({ hasText: "Choose whom to assign the selected customers to" }).waitFor();
  await page.getByLabel("Assign to").selectOption("bob");
  await assign.click();
  await status(page, /^3 customers assigned to bob: Zeta Parts/);
  const summary = await page.getByRole("status").filter({ hasText: "3 customers assigned to bob" }).first().innerText();
  for (const id of [...ids, third]) assert.ok(summary.includes(`(${id})`), summary);
  await page.getByRole("button", { name: "Assign selected (0)" }).waitFor();
  assert.equal(await page.locator(`tr[data-customer-id="${third}"] td.assignee`).innerText(), "bob");
  for (const id of [...ids, third]) {
    assert.equal((await expectOk(await api(MANAGER, "GET", `/customers/${id}`), id)).assignee, "bob");
  }

  // One customer, from its page: found by a word of its name.
  const box = page.getByRole("combobox", { name: "Find a customer" });
  await box.fill("nut");
  await page.getByRole("option").filter({ hasText: "Bolt & Nut Wholesale" }).click();
  await page.getByRole("heading", { name: /Bolt & Nut Wholesale/ }).waitFor();
  await page.getByText("Not assigned", { exact: true }).waitFor();
  await page.getByLabel("Assigned to").selectOption("alice");
  await page.getByRole("button", { name: "Change" }).click();
  await status(page, "Bolt & Nut Wholesale is now assigned to alice.");
  await page.getByText("Assigned to alice", { exact: true }).waitFor();
  await page.getByText("Assignment history (1)").click();
  const history = page.locator("table", { has: page.locator("caption", { hasText: "Who worked the account" }) });
  assert.match(await history.locator("tbody tr").first().innerText(), /nobody\s+alice\s+maria/);
  assert.deepEqual(errors, []);

  // alice's queue now has the account's order; she cannot change assignments.
  const alice = await tab(ASSOCIATE);
  await alice.page.locator('tr[data-order-id="SO-N1"]').waitFor();
  assert.deepEqual(await queueRows(alice.page), ["SO-A1", "SO-M1", "SO-N1"]);
  await alice.page.goto(`${app.baseUrl}/#/customer/C-310`);
  await alice.page.getByText("Assigned to alice (you)").waitFor();
  assert.equal(await alice.page.getByRole("button", { name: "Change" }).count(), 0);
  assert.deepEqual(alice.errors, []);
});
