// The web workspace in a real browser: sign in with a token, work the held
// queue, look after a customer, decide a limit request, download a report.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { ASSOCIATE, MANAGER, apiClient, expectOk, isoDate, launchBrowser, startApp } from "./harness.mjs";

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

/** A fresh browser profile (its own sessionStorage) with one tab; `options` are the context's. */
async function newPage(options = {}) {
  const context = await browser.newContext(options);
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return page;
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
  // alice's account: an associate's queue opens on their own accounts.
  await expectOk(await api(MANAGER, "PUT", `/customers/${id}/assignee`, { assignee: "alice" }), `assign ${id}`);
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

async function seedHeldOrder(customerId, orderId, amount, orderedOn = isoDate()) {
  const decision = await expectOk(
    await api(MANAGER, "POST", "/orders", {
      id: orderId,
      customer_id: customerId,
      amount,
      currency: "USD",
      ordered_on: orderedOn,
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
  for (const expected of ["SO-1", "Acme Tools", "8,000.00", "USD", "CREDIT_LIMIT_EXCEEDED"]) {
    assert.ok(text.includes(expected), `the queue row shows ${expected}: ${text}`);
  }

  await row.getByRole("button", { name: "Release order SO-1" }).click();
  const dialog = page.getByRole("dialog", { name: "Release order SO-1" });
  await dialog.getByLabel("Note").fill(note);
  await dialog.getByRole("button", { name: "Release order", exact: true }).click();

  await row.waitFor({ state: "detached" });
  await waitForStatus(page, "Order SO-1 released.");
  assert.equal(await dialog.count(), 0, "the dialog closed");
  // The button that had focus is gone: focus is on the queue's heading.
  await page.waitForFunction(() => document.activeElement?.textContent === "Held orders");
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H2");

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
  // The live regions are there (and empty) before anything is said in them.
  assert.equal(await page.locator('#live[role="status"]').count(), 1);
  assert.equal(await page.locator("#live").getAttribute("hidden"), null);
  assert.notEqual(await page.locator("#live").evaluate((e) => getComputedStyle(e).display), "none");
  assert.equal(await page.locator('#alert[role="alert"]').count(), 1);
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
  assert.match(figures, /Credit limit\s+20,000\.00 USD/);
  assert.match(figures, /Exposure\s+12,000\.00 USD/);
  assert.match(figures, /Available\s+8,000\.00 USD/);
  const chart = page.locator("figure.chart").first();
  assert.match(await chart.innerText(), /Aging — total 12,000\.00 USD/);
  assert.match(await chart.innerText(), /Current\s+12,000\.00 USD/);
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
  assert.match(logText, /5,000\.00 USD by \d{4}-\d{2}-\d{2}/);
  const badge = log.locator(".badge.promise-open");
  assert.equal(await badge.count(), 1, "the promise carries an open badge");
  assert.equal(await badge.innerText(), "open");
});

test("a manager approves a limit request, sees the charts and downloads a CSV", async () => {
  await seedCustomer("C-300", "Delta Fasteners", { limit: "20000.00", invoice: "16000.00" });
  await seedHeldOrder("C-300", "SO-31", "5000.00");
  // Stays held, so the held-orders report has something to chart.
  await seedCustomer("C-310", "Delta Spares", { limit: "1000.00", invoice: "900.00" });
  await seedHeldOrder("C-310", "SO-32", "500.00");
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
  assert.match(await row.innerText(), /Delta Fasteners[\s\S]*20,000\.00 USD[\s\S]*25,000\.00 USD[\s\S]*Seasonal volume/);

  await row.getByRole("button", { name: "Approve…" }).click();
  const dialog = page.getByRole("dialog", { name: /Approve request/ });
  assert.equal(await dialog.getByLabel("Approved limit").inputValue(), "25000.00");
  await dialog.getByLabel("Note").fill("Two years of on-time payments");
  await dialog.getByRole("button", { name: "Approve", exact: true }).click();
  await waitForStatus(page, `Request ${request.id} approved.`);
  await waitForStatus(page, "Credit limit now 25,000.00 USD.");
  await waitForStatus(page, "Released: SO-31.");
  await row.waitFor({ state: "detached" });

  const agingCard = page.getByRole("region", { name: "Aging report" });
  await agingCard.locator("figure.chart").first().waitFor();
  assert.match(await agingCard.innerText(), /Delta Fasteners/);
  // The chart is drawn only when the report loaded (a failure draws the heading too).
  const heldCard = page.getByRole("region", { name: "Held orders report" });
  await heldCard.locator("figure.chart").first().waitFor();
  assert.match(await heldCard.innerText(), /Held orders by reason[\s\S]*CREDIT_LIMIT_EXCEEDED/);
  assert.equal(await heldCard.getByRole("alert").count(), 0);

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

/** A pending credit-limit request by the associate. */
async function seedLimitRequest(customerId, requestedLimit, reason) {
  return expectOk(
    await api(ASSOCIATE, "POST", "/credit-limit-requests", {
      customer_id: customerId,
      requested_limit: requestedLimit,
      reason,
    }),
    "POST /credit-limit-requests",
  );
}

/** The texts of a table's body cells, row by row. */
async function tableRows(table) {
  return table.locator("tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.children].map((cell) => cell.textContent.trim())),
  );
}

test("the queue lists the oldest order first, with the days held", async () => {
  await seedCustomer("C-600", "Foxtrot Tools", { limit: "1000.00", invoice: "900.00" });
  await seedHeldOrder("C-600", "SO-62", "300.00", isoDate(-3));
  await seedHeldOrder("C-600", "SO-61", "200.00", isoDate(-12));
  await seedHeldOrder("C-600", "SO-63", "400.00", isoDate(-1));

  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.getByLabel("Customer ID").fill("C-600");
  await page.getByRole("button", { name: "Filter" }).click();
  const table = page.locator("table", { has: page.locator("caption", { hasText: "Held orders, oldest first" }) });
  await table.locator('tr[data-order-id="SO-63"]').waitFor();
  await page.locator(".count").filter({ hasText: "3 held: 900.00 USD" }).waitFor();
  const rows = await tableRows(table);
  assert.deepEqual(
    rows.map((cells) => cells[1]),
    ["SO-61", "SO-62", "SO-63"],
    "oldest ordered first",
  );
  const headers = await table.locator("thead th").allInnerTexts();
  const daysColumn = headers.findIndex((text) => /days held/i.test(text));
  const orderedColumn = headers.findIndex((text) => /ordered/i.test(text));
  assert.deepEqual(
    rows.map((cells) => cells[orderedColumn]),
    [isoDate(-12), isoDate(-3), isoDate(-1)],
  );
  // Held just now (by the order webhook): 0 days held, a number, not "—".
  assert.deepEqual(
    rows.map((cells) => cells[daysColumn]),
    ["0", "0", "0"],
  );
});

test("the customer view lists open invoices oldest due first and the disputes", async () => {
  await expectOk(
    await api(MANAGER, "PUT", "/customers/C-700", {
      name: "Golf Hardware",
      currency: "USD",
      credit_limit: "50000.00",
      payment_terms_days: 30,
    }),
    "PUT /customers/C-700",
  );
  const invoice = async (id, dueIn, amount) =>
    expectOk(
      await api(MANAGER, "PUT", `/invoices/${id}`, {
        customer_id: "C-700",
        issued_on: isoDate(dueIn - 30),
        due_on: isoDate(dueIn),
        amount,
        currency: "USD",
      }),
      `PUT /invoices/${id}`,
    );
  await invoice("INV-702", 10, "2500.00");
  await invoice("INV-701", -12, "12345.60");
  const dispute = await expectOk(
    await api(ASSOCIATE, "POST", "/disputes", {
      invoice_id: "INV-701",
      amount: "345.60",
      reason_code: "PRICING",
      note: "Price list not applied",
    }),
    "POST /disputes",
  );

  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.goto(`${app.baseUrl}/#/customer/C-700`);
  const invoices = page.locator("table", { has: page.locator("caption", { hasText: "Open invoices" }) });
  await invoices.locator('tr[data-invoice-id="INV-702"]').waitFor();
  const rows = await tableRows(invoices);
  assert.deepEqual(rows[0].slice(0, 7), ["INV-701", isoDate(-42), isoDate(-12), "12", "12,345.60", "12,345.60", "345.60"]);
  assert.deepEqual(rows[1].slice(0, 7), ["INV-702", isoDate(-20), isoDate(10), "current", "2,500.00", "2,500.00", "—"]);
  await page.getByRole("heading", { name: "Open invoices (2)" }).waitFor();

  const disputes = page.locator("table", { has: page.locator("caption", { hasText: "Disputes in USD" }) });
  const row = disputes.locator(`tr[data-dispute-id="${dispute.id}"]`);
  await row.waitFor();
  const text = await row.innerText();
  for (const expected of [dispute.id, "INV-701", "345.60", "PRICING", "open", dispute.sla_due_on, "on track"]) {
    assert.ok(text.includes(expected), `the dispute row shows ${expected}: ${text}`);
  }
  assert.equal(await row.locator(".badge.sla-on_track").count(), 1);
});

test("an associate opens a dispute from an invoice row", async () => {
  await seedCustomer("C-800", "Hotel Supply", { limit: "50000.00", invoice: "4000.00" });

  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.goto(`${app.baseUrl}/#/customer/C-800`);
  const invoiceRow = page.locator('tr[data-invoice-id="INV-C-800"]');
  await invoiceRow.waitFor();
  await page.getByText("No disputes.").waitFor();
  await invoiceRow.getByRole("button", { name: "Dispute invoice INV-C-800" }).click();

  const form = page.getByRole("form", { name: "Open a dispute" });
  assert.equal(await form.getByLabel("Invoice ID").inputValue(), "INV-C-800");
  const amount = form.getByLabel("Disputed amount");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "amount", "focus is on the amount");
  assert.match(await form.innerText(), /at most the open balance, 4,000\.00 USD/);
  await amount.fill("150.00");
  await form.getByLabel("Reason code").fill("damaged");
  await form.getByLabel("Note").fill("Two boxes arrived crushed");
  await form.getByRole("button", { name: "Open dispute" }).click();
  await waitForStatus(page, /Dispute \S+ opened \(open\)/);

  const disputes = page.locator("table", { has: page.locator("caption", { hasText: "Disputes in USD" }) });
  const rows = await disputes.locator("tbody tr").allInnerTexts();
  assert.equal(rows.length, 1);
  assert.match(rows[0], /INV-C-800[\s\S]*150\.00[\s\S]*damaged[\s\S]*open/i);
  await page.locator('tr[data-invoice-id="INV-C-800"] td').filter({ hasText: "150.00" }).waitFor();
  assert.equal(await form.getByLabel("Invoice ID").inputValue(), "", "the form is cleared");
});

test("a manager rejects a credit-limit request with a note", async () => {
  await seedCustomer("C-900", "India Metals", { limit: "10000.00", invoice: "1000.00" });
  const request = await seedLimitRequest("C-900", "60000.00", "New branch opening");

  const page = await newPage();
  await signIn(page, MANAGER);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const row = page.locator(`tr[data-request-id="${request.id}"]`);
  await row.getByRole("button", { name: "Reject…" }).click();
  const dialog = page.getByRole("dialog", { name: /Reject request/ });
  assert.equal(await dialog.getByLabel("Approved limit").count(), 0, "a rejection asks for no limit");
  await dialog.getByRole("button", { name: "Reject", exact: true }).click();
  await dialog.getByText("Write a note for the record.").waitFor();
  await dialog.getByLabel("Note").fill("Too soon after the last increase");
  await dialog.getByRole("button", { name: "Reject", exact: true }).click();
  await waitForStatus(page, `Request ${request.id} rejected.`);
  await row.waitFor({ state: "detached" });
  assert.equal(await dialog.count(), 0, "the dialog closed");

  const stored = await expectOk(await api(MANAGER, "GET", `/credit-limit-requests/${request.id}`), "GET request");
  assert.equal(stored.status, "rejected");
  assert.equal(stored.note, "Too soon after the last increase");
  const customer = await expectOk(await api(MANAGER, "GET", "/customers/C-900"), "GET /customers/C-900");
  assert.equal(customer.credit_limit, "10000.00", "a rejection leaves the limit");
});

test("the held-order trend is charted and downloads as CSV", async () => {
  await seedCustomer("C-1000", "Juliet Parts", { limit: "1000.00", invoice: "900.00" });
  await seedHeldOrder("C-1000", "SO-1001", "700.00");

  const page = await newPage();
  await signIn(page, MANAGER);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const card = page.getByRole("region", { name: "Held-order trend" });
  const chart = card.locator("figure.chart");
  await chart.waitFor();
  assert.match(await chart.locator("figcaption").innerText(), new RegExp(`Orders held at the end of each day, ${isoDate(-29)} to ${isoDate()}`));
  const bars = await chart.locator(".bar-row").allInnerTexts();
  assert.equal(bars.length, 30, "a bar per day");
  const last = bars.at(-1);
  assert.match(last, new RegExp(isoDate()));
  assert.match(last, /\d+ orders? · [\d,]+\.\d{2} USD/);
  assert.doesNotMatch(bars[0], /USD/, "nothing was held a month ago");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    card.getByRole("button", { name: "Download CSV" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `held-orders-trend-${isoDate(-29)}-${isoDate()}.csv`);
  const csv = await readFile(await download.path(), "utf8");
  const lines = csv.trim().split(/\r?\n/);
  assert.equal(lines[0], "date,currency,orders,value");
  assert.equal(lines.length, 31, "a row per day for the one currency");
  assert.match(lines.at(-1), new RegExp(`^${isoDate()},USD,\\d+,\\d+\\.\\d{2}$`));

  // A period that ends before it starts is refused before anything is sent.
  await card.getByLabel("From").fill(isoDate(1));
  await card.getByRole("button", { name: "Show trend" }).click();
  await page.locator("#alert").filter({ hasText: "the last day must not be before the first" }).waitFor();
  assert.equal(await card.getByLabel("to", { exact: true }).getAttribute("aria-invalid"), "true");
});

test("an associate sees pending requests without Approve or Reject", async () => {
  await seedCustomer("C-1100", "Kilo Fixings", { limit: "5000.00", invoice: "1000.00" });
  const request = await seedLimitRequest("C-1100", "9000.00", "Larger orders this season");

  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const row = page.locator(`tr[data-request-id="${request.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /Kilo Fixings[\s\S]*9,000\.00 USD/);
  await page.getByText("Managers decide on these requests").waitFor();
  assert.equal(await page.getByRole("button", { name: /Approve|Reject/ }).count(), 0);
});

test("a KPI download needs a period and defaults to this month", async () => {
  const page = await newPage();
  await signIn(page, MANAGER);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const from = page.getByLabel("KPIs from");
  assert.equal(await from.inputValue(), `${isoDate().slice(0, 8)}01`);
  await from.fill("");
  await page.getByRole("button", { name: "KPIs" }).click();
  await page.locator("#alert").filter({ hasText: "KPIs: give the first day." }).waitFor();
  assert.equal(await from.getAttribute("aria-invalid"), "true");

  await from.fill(`${isoDate().slice(0, 8)}01`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "KPIs" }).click()]);
  assert.match(download.suggestedFilename(), /^kpis-\d{4}-\d{2}-01-\d{4}-\d{2}-\d{2}\.csv$/);
});

test("a dialog open when the session ends does not cover the sign-in screen", async () => {
  await seedCustomer("C-1200", "Lima Bolts", { limit: "1000.00", invoice: "900.00" });
  await seedHeldOrder("C-1200", "SO-1201", "500.00");
  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.getByLabel("Customer ID").fill("C-1200");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("button", { name: "Release order SO-1201" }).click();
  const dialog = page.getByRole("dialog", { name: "Release order SO-1201" });
  await dialog.getByLabel("Note").fill("Cleared");
  // The token stops working (revoked) while the dialog is open.
  await page.evaluate(() => sessionStorage.setItem("credit-desk.token", "tok-revoked"));
  await dialog.getByRole("button", { name: "Release order", exact: true }).click();
  await page.locator("#signin-error").filter({ hasText: "Your session ended" }).waitFor();
  assert.equal(await page.locator("dialog").count(), 0, "no dialog is left over sign-in");
  await page.getByLabel("Bearer token").fill(ASSOCIATE);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#sign-out").waitFor();
});

test("more than 500 selected orders are released in batches", async () => {
  await seedCustomer("C-1400", "Mike Wholesale", { limit: "1.00", invoice: "1.00" });
  const ids = Array.from({ length: 501 }, (_, i) => `SO-B-${String(i).padStart(3, "0")}`);
  for (let start = 0; start < ids.length; start += 25) {
    await Promise.all(ids.slice(start, start + 25).map((id) => seedHeldOrder("C-1400", id, "1.00")));
  }

  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.getByLabel("Customer ID").fill("C-1400");
  await page.getByRole("button", { name: "Filter" }).click();
  // The totals are every match's; the rows come 200 at a time.
  await page.locator(".count").filter({ hasText: "501 held: 501.00 USD" }).waitFor();
  const shown = (n) => page.getByText(`Showing ${n} of 501.`).waitFor();
  await shown(200);
  await page.getByRole("button", { name: "Show 200 more" }).click();
  await shown(400);
  await page.getByRole("button", { name: "Show 200 more" }).click();
  await shown(501);

  await page.getByRole("checkbox", { name: "Select all orders in this list" }).check();
  await page.getByRole("button", { name: "Release selected (501)" }).click();
  const dialog = page.getByRole("dialog", { name: "Release 501 orders" });
  await dialog.getByLabel("Note").fill("Account settled by wire");
  await dialog.getByRole("button", { name: "Release 501 orders" }).click();
  await waitForStatus(page, "Released 501 of 501 orders.");
  await page.getByText("No held orders match.").waitFor();
  const held = await expectOk(await api(MANAGER, "GET", "/orders?status=held&customer_id=C-1400"), "GET queue");
  assert.deepEqual(held, []);
});

test("a payment's summary lists the short pay and the dispute it opened", async () => {
  await seedCustomer("C-1500", "November Tools", { limit: "20000.00", invoice: "9000.00" });
  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.goto(`${app.baseUrl}/#/customer/C-1500`);
  const payment = page.getByRole("form", { name: "Post a payment" });
  await payment.getByLabel("Payment ID").fill("PAY-1501");
  await payment.getByLabel("Amount").fill("5000.00");
  await payment.getByLabel("Remittance").fill("INV-C-1500 5000.00");
  await payment.getByLabel("Short-pay reason code").fill("PRICING");
  await payment.getByRole("button", { name: "Post payment" }).click();
  await waitForStatus(page, "Payment PAY-1501 posted.");
  const status = await page.locator("#live").innerText();
  assert.match(status, /Applied: INV-C-1500 5,000\.00 USD\./);
  assert.match(status, /Short paid: INV-C-1500 \(4,000\.00 USD left open\)\./);
  assert.match(status, /Disputes opened: D-\d+ on INV-C-1500 for 4,000\.00 USD, due by \d{4}-\d{2}-\d{2}\./);
  const disputes = page.locator("table", { has: page.locator("caption", { hasText: "Disputes in USD" }) });
  await disputes.locator("tbody tr").filter({ hasText: "INV-C-1500" }).waitFor();
});

test("the limit-request hint follows the customer's limit", async () => {
  await seedCustomer("C-1600", "Oscar Supply", { limit: "5000.00", invoice: "100.00" });
  const page = await newPage();
  await signIn(page, ASSOCIATE);
  await page.goto(`${app.baseUrl}/#/customer/C-1600`);
  const form = page.getByRole("form", { name: "Request a higher limit" });
  await form.getByText("the limit now is 5,000.00 USD.").waitFor();

  await expectOk(
    await api(MANAGER, "PUT", "/customers/C-1600", {
      name: "Oscar Supply",
      currency: "USD",
      credit_limit: "7500.00",
      payment_terms_days: 30,
    }),
    "PUT /customers/C-1600",
  );
  const contact = page.getByRole("form", { name: "Log a contact" });
  await contact.getByLabel("Outcome").fill("Told them about the new limit");
  await contact.getByLabel("Note", { exact: true }).fill("Limit raised by the ERP");
  await contact.getByRole("button", { name: "Log contact" }).click();
  await waitForStatus(page, "Contact logged for Oscar Supply.");
  await page.locator(".figures").filter({ hasText: "7,500.00 USD" }).waitFor();
  await form.getByText("the limit now is 7,500.00 USD.").waitFor();
});

test("the reports page keeps to the browser's date where the host's is another", async () => {
  await seedCustomer("C-1750", "Quill Hardware", { limit: "1000.00", invoice: "900.00" });
  await seedHeldOrder("C-1750", "SO-1751", "500.00");
  // The host's date is UTC's; a zone 12 hours behind or 14 ahead has
  // another date at this hour.
  const timezoneId = new Date().getUTCHours() < 10 ? "Etc/GMT+12" : "Pacific/Kiritimati";
  const browserDate = new Intl.DateTimeFormat("en-CA", { timeZone: timezoneId }).format(new Date());
  assert.notEqual(browserDate, isoDate());
  const page = await newPage({ timezoneId });
  await signIn(page, MANAGER);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  await page.getByText(`As of ${browserDate}; DSO and CEI from`).waitFor();
  const card = page.getByRole("region", { name: "Held orders report" });
  await card.getByText(`held as of ${browserDate}.`).waitFor();
});

test("the held-orders report counts days held to the chosen date", async () => {
  await seedCustomer("C-1700", "Papa Parts", { limit: "1000.00", invoice: "900.00" });
  await seedHeldOrder("C-1700", "SO-1701", "500.00");
  const page = await newPage();
  await signIn(page, MANAGER);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const card = page.getByRole("region", { name: "Held orders report" });
  await card.getByText(`held as of ${isoDate()}.`).waitFor();
  await page.getByLabel("As of").fill(isoDate(10));
  await page.getByRole("button", { name: "Show reports" }).click();
  await card.getByText(`held as of ${isoDate(10)}.`).waitFor();
  // Held today: 10 days held as of then.
  assert.match(await card.locator("figure.chart").first().innerText(), /8–14 days\s+\d+ orders?/);
  assert.doesNotMatch(await card.locator("figure.chart").first().innerText(), /0–2 days\s+[1-9]/);
});
