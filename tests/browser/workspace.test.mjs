// The web workspace in a real browser: sign in with a token, work the held
// queue, look after a customer, decide a limit request, download a report.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { ASSOCIATE, MANAGER, apiClient, isoDate, launchBrowser, startApp } from "./harness.mjs";

let app;
let api;
let browser;
const contexts = [];

before(async () => {
  app = await startApp();
  api = apiClient(app.baseUrl);
  browser = await launchBrowser();
});

after(async () => {
  await Promise.all(contexts.map((context) => context.close().catch(() => {})));
  await browser?.close();
  await app?.stop();
});

/** A fresh browser profile (its own sessionStorage) with one tab. */
async function newPage() {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return page;
}

async function expectOk(reply, what) {
  assert.ok(reply.status >= 200 && reply.status < 300, `${what}: ${reply.status} ${reply.text}`);
  return reply.json;
}

/**
 * A customer with a limit and an open, not yet due invoice that leaves
 * `limit - invoice` of room; orders bigger than that are held.
 */
async function seedCustomer(id, name, { limit, invoice }) {
  await expectOk(
    await api(MANAGER, "PUT", `/customers/${id}`, {
      name,
      currency: "USD",
      credit_limit: limit,
      payment_terms_days: 30,
    }),
    `PUT /customers/${id}`,
  );
  await expectOk(
    await api(MANAGER, "PUT", `/invoices/INV-${id}`, {
      customer_id: id,
      issued_on: isoDate(-5),
      due_on: isoDate(25),
      amount: invoice,
      currency: "USD",
    }),
    `PUT /invoices/INV-${id}`,
  );
}

async function seedHeldOrder(customerId, orderId, amount) {
  const decision = await expectOk(
    await api(MANAGER, "POST", "/orders", {
      id: orderId,
      customer_id: customerId,
      amount,
      currency: "USD",
      ordered_on: isoDate(),
      as_of: isoDate(),
    }),
    `POST /orders ${orderId}`,
  );
  assert.equal(decision.status, "held", `order ${orderId} should be held: ${JSON.stringify(decision)}`);
}

async function signIn(page, token) {
  await page.goto(`${app.baseUrl}/`);
  await page.getByLabel("Bearer token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#sign-out").waitFor();
}

const storedToken = (page) => page.evaluate(() => sessionStorage.getItem("credit-desk.token"));

async function waitForStatus(page, text) {
  await page.locator("#live").filter({ hasText: text }).waitFor();
}

test("an associate signs in, sees the held order and releases it with a note", async () => {
  await seedCustomer("C-100", "Acme Tools", { limit: "50000.00", invoice: "45000.00" });
  await seedHeldOrder("C-100", "SO-1", "8000.00");
  const note = "Customer confirmed payment run on Friday";

  const page = await newPage();
  await signIn(page, ASSOCIATE);
  assert.match(await page.locator("#session").innerText(), /Signed in/);
  assert.equal(await storedToken(page), ASSOCIATE);

  const row = page.locator('tr[data-order-id="SO-1"]');
  await row.waitFor();
  const text = await row.innerText();
  for (const expected of ["SO-1", "Acme Tools", "8000.00", "USD", "CREDIT_LIMIT_EXCEEDED"]) {
    assert.ok(text.includes(expected), `the queue row shows ${expected}: ${text}`);
  }

  await row.getByRole("button", { name: "Release order SO-1" }).click();
  const dialog = page.getByRole("dialog", { name: "Release order SO-1" });
  await dialog.getByLabel("Note").fill(note);
  await dialog.getByRole("button", { name: "Release order", exact: true }).click();

  await row.waitFor({ state: "detached" });
  await waitForStatus(page, "Order SO-1 released.");
  assert.equal(await dialog.count(), 0, "the dialog closed");

  const order = await expectOk(await api(MANAGER, "GET", "/orders/SO-1"), "GET /orders/SO-1");
  assert.equal(order.status, "released");
  const release = order.decisions.find((d) => d.kind === "manual_release");
  assert.ok(release, `a manual release is recorded: ${JSON.stringify(order.decisions)}`);
  assert.equal(release.note, note);
  assert.equal(release.by, "alice");
});

test("a wrong token shows the sign-in error and keeps nothing", async () => {
  const page = await newPage();
  await page.goto(`${app.baseUrl}/`);
  const error = page.locator("#signin-error");

  await page.getByRole("button", { name: "Sign in" }).click();
  await error.filter({ hasText: "Paste your token first." }).waitFor();

  await page.getByLabel("Bearer token").fill("tok-not-a-real-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await error.filter({ hasText: "That token was not accepted" }).waitFor();
  assert.equal(await page.getByRole("alert").filter({ hasText: "not accepted" }).count(), 1, "the error is an alert");
  assert.equal(await page.getByLabel("Bearer token").getAttribute("aria-invalid"), "true");
  assert.equal(await storedToken(page), null);
  assert.ok(await page.locator("#nav").isHidden(), "no workspace navigation before signing in");
  assert.equal(await page.locator("#sign-out").count(), 0);
});

test("an associate releases several orders at once, then signs out", async () => {
  await seedCustomer("C-200", "Bolt Supply", { limit: "10000.00", invoice: "9000.00" });
  await seedHeldOrder("C-200", "SO-21", "2000.00");
  await seedHeldOrder("C-200", "SO-22", "3000.00");

  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.locator('tr[data-order-id="SO-22"]').waitFor();
  await page.getByRole("checkbox", { name: "Select order SO-21" }).check();
  await page.getByRole("checkbox", { name: "Select order SO-22" }).check();
  await page.getByRole("button", { name: "Release selected (2)" }).click();

  const dialog = page.getByRole("dialog", { name: "Release 2 orders" });
  await dialog.getByRole("button", { name: "Release 2 orders" }).click();
  await dialog.getByText("Write a note: why may the order ship?").waitFor();
  await dialog.getByLabel("Note").fill("Bulk release after the customer's wire arrived");
  await dialog.getByRole("button", { name: "Release 2 orders" }).click();

  await waitForStatus(page, "Released 2 of 2 orders.");
  await page.locator('tr[data-order-id="SO-21"]').waitFor({ state: "detached" });
  await page.locator('tr[data-order-id="SO-22"]').waitFor({ state: "detached" });
  for (const id of ["SO-21", "SO-22"]) {
    const order = await expectOk(await api(MANAGER, "GET", `/orders/${id}`), `GET /orders/${id}`);
    assert.equal(order.status, "released");
  }

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Bearer token").waitFor();
  assert.equal(await storedToken(page), null, "signing out forgets the token");
  await page.reload();
  await page.getByLabel("Bearer token").waitFor();
});

test("the customer view shows the position and logs a call with a promise", async () => {
  await seedCustomer("C-400", "Cobalt Parts", { limit: "20000.00", invoice: "12000.00" });
  await seedHeldOrder("C-400", "SO-41", "9000.00");

  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.locator('tr[data-order-id="SO-41"]').getByRole("link", { name: "Cobalt Parts" }).click();
  await page.getByRole("heading", { name: /Cobalt Parts/ }).waitFor();
  const figures = await page.locator(".figures").innerText();
  assert.match(figures, /Credit limit\s+20000\.00 USD/);
  assert.match(figures, /Exposure\s+12000\.00 USD/);
  assert.match(figures, /Available\s+8000\.00 USD/);
  const chart = page.locator("figure.chart").first();
  assert.match(await chart.innerText(), /Aging — total 12000\.00 USD/);
  assert.match(await chart.innerText(), /Current\s+12000\.00 USD/);
  await page.locator('tr[data-order-id="SO-41"]').waitFor();

  const form = page.getByRole("form", { name: "Log a contact" });
  await form.getByLabel("Outcome").fill("Reached accounts payable");
  await form.getByLabel("Note", { exact: true }).fill("Promised to pay the June invoice");
  await form.getByLabel("Promised amount").fill("about 5k");
  await form.getByLabel("Promised by").fill(isoDate(7));
  await form.getByRole("button", { name: "Log contact" }).click();
  // The API's field error lands next to the field it is about.
  const amount = form.getByLabel("Promised amount");
  await page.waitForFunction(
    () => document.querySelector('[name="promise.amount"]')?.getAttribute("aria-invalid") === "true",
  );
  const describedBy = (await amount.getAttribute("aria-describedby")).split(" ");
  const message = await page.locator(`[id="${describedBy.at(-1)}"]`).innerText();
  assert.match(message, /not a decimal amount/);

  await amount.fill("5000.00");
  await form.getByRole("button", { name: "Log contact" }).click();
  await waitForStatus(page, "Contact logged for Cobalt Parts.");
  const log = page.locator("table", { has: page.locator("caption", { hasText: "Contacts and promises" }) });
  await log.waitFor();
  const logText = await log.innerText();
  assert.match(logText, /Reached accounts payable/);
  assert.match(logText, /5000\.00 USD by \d{4}-\d{2}-\d{2}/);
  assert.match(logText, /open/);
});

test("a manager approves a limit request, sees the charts and downloads a CSV", async () => {
  await seedCustomer("C-300", "Delta Fasteners", { limit: "20000.00", invoice: "16000.00" });
  await seedHeldOrder("C-300", "SO-31", "5000.00");
  const request = await expectOk(
    await api(ASSOCIATE, "POST", "/credit-limit-requests", {
      customer_id: "C-300",
      requested_limit: "25000.00",
      reason: "Seasonal volume",
    }),
    "POST /credit-limit-requests",
  );

  const page = await newPage();
  await signIn(page, MANAGER);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const row = page.locator(`tr[data-request-id="${request.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /Delta Fasteners[\s\S]*20000\.00 USD[\s\S]*25000\.00 USD[\s\S]*Seasonal volume/);

  await row.getByRole("button", { name: "Approve…" }).click();
  const dialog = page.getByRole("dialog", { name: /Approve request/ });
  assert.equal(await dialog.getByLabel("Approved limit").inputValue(), "25000.00");
  await dialog.getByLabel("Note").fill("Two years of on-time payments");
  await dialog.getByRole("button", { name: "Approve", exact: true }).click();
  await waitForStatus(page, `Request ${request.id} approved.`);
  await waitForStatus(page, "Credit limit now 25000.00 USD.");
  await waitForStatus(page, "Released: SO-31.");
  await row.waitFor({ state: "detached" });

  const agingCard = page.getByRole("region", { name: "Aging report" });
  await agingCard.locator("figure.chart").first().waitFor();
  assert.match(await agingCard.innerText(), /Delta Fasteners/);
  await page.getByRole("region", { name: "Held orders report" }).getByRole("heading", { name: "Held orders" }).waitFor();

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    agingCard.getByRole("button", { name: "Download CSV" }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^aging.*\.csv$/);
  const csv = await readFile(await download.path(), "utf8");
  assert.match(csv.split(/\r?\n/)[0], /customer_id/);
  assert.match(csv, /C-300,Delta Fasteners,USD/);
});

test("an associate posts a payment that releases a held order, then opens a dispute", async () => {
  await seedCustomer("C-500", "Echo Hardware", { limit: "10000.00", invoice: "9000.00" });
  await seedHeldOrder("C-500", "SO-51", "3000.00");

  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.getByRole("link", { name: "Customer" }).click();
  await page.getByLabel("Customer ID").fill("C-500");
  await page.getByRole("button", { name: "Open" }).click();
  await page.locator('tr[data-order-id="SO-51"]').waitFor();

  const payment = page.getByRole("form", { name: "Post a payment" });
  assert.equal(await payment.getByLabel("Currency").inputValue(), "USD");
  await payment.getByLabel("Payment ID").fill("PAY-51");
  await payment.getByLabel("Amount").fill("4000.00");
  await payment.getByRole("button", { name: "Post payment" }).click();
  await waitForStatus(page, "Payment PAY-51 posted.");
  await waitForStatus(page, "Released orders: SO-51.");
  await page.getByText("No held orders for this customer.").waitFor();
  assert.equal(await payment.getByLabel("Payment ID").inputValue(), "", "the form is cleared after posting");

  const dispute = page.getByRole("form", { name: "Open a dispute" });
  await dispute.getByLabel("Invoice ID").fill("INV-C-500");
  await dispute.getByLabel("Disputed amount").fill("99999.00");
  await dispute.getByLabel("Reason code").fill("pricing");
  await dispute.getByLabel("Note").fill("Price list not applied");
  await dispute.getByRole("button", { name: "Open dispute" }).click();
  const amount = dispute.getByLabel("Disputed amount");
  await page.waitForFunction(
    () => document.querySelector('form[aria-labelledby] [name="amount"][aria-invalid="true"]') !== null,
  );
  const errorId = (await amount.getAttribute("aria-describedby")).split(" ").at(-1);
  assert.match(await page.locator(`[id="${errorId}"]`).innerText(), /at most/);

  await amount.fill("100.00");
  await dispute.getByRole("button", { name: "Open dispute" }).click();
  await waitForStatus(page, /Dispute \S+ opened \(open\), due by \d{4}-\d{2}-\d{2}\./);
});
