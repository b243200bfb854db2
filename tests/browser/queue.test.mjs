// The held queue at volume in a real browser: a generated book of 1,500
// held orders; the totals are the book's, sorting and filtering change the
// rows, and "release all that match" works through more than 1,000 orders
// with a progress bar.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MANAGER, apiClient, expectOk, isoDate, launchBrowser, newTab, signIn, startApp } from "./harness.mjs";

const USD_ORDERS = 1_100;
const EUR_ORDERS = 400;

let app;
let api;
let browser;
/** What was seeded: currency -> total amount in cents. */
const seededCents = { USD: 0, EUR: 0 };

before(async () => {
  app = await startApp();
  api = apiClient(app.baseUrl);
  browser = await launchBrowser();
  for (const [currency, customers] of [["USD", 8], ["EUR", 4]]) {
    for (let c = 0; c < customers; c++) {
      const body = { name: `${currency} Buyer ${c}`, currency, credit_limit: "1.00", payment_terms_days: 30 };
      await expectOk(await api(MANAGER, "PUT", `/customers/${currency}-${c}`, body), "PUT customer");
    }
  }
  const orders = [];
  for (let n = 0; n < USD_ORDERS + EUR_ORDERS; n++) {
    const currency = n < USD_ORDERS ? "USD" : "EUR";
    const customers = currency === "USD" ? 8 : 4;
    const cents = 1_000 + ((n * 7919) % 900_000);
    seededCents[currency] += cents;
    orders.push({
      id: `SO-${String(n).padStart(5, "0")}`,
      customer_id: `${currency}-${n % customers}`,
      amount: (cents / 100).toFixed(2),
      currency,
      ordered_on: isoDate(-(n % 30)),
      requested_ship_on: isoDate(n % 10),
      as_of: isoDate(),
    });
  }
  // A few at a time, as an ERP sends them.
  for (let i = 0; i < orders.length; i += 25) {
    await Promise.all(orders.slice(i, i + 25).map(async (order) => expectOk(await api(MANAGER, "POST", "/orders", order), order.id)));
  }
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

const euros = (cents) =>
  `${(cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

async function openQueue() {
  const { page, context } = await newTab(browser, { timeout: 60_000 });
  await signIn(page, app.baseUrl, MANAGER);
  await page.locator("tr[data-order-id]").first().waitFor();
  return { page, context };
}

const firstRows = async (page, n) =>
  (await page.locator("tr[data-order-id]").evaluateAll((rows) => rows.map((r) => r.dataset.orderId))).slice(0, n);

test("the queue's totals are the whole book's; sorting and filtering change the rows", async () => {
  const { page, context } = await openQueue();
  const count = page.locator(".count");
  await count.filter({ hasText: "1,500 held" }).waitFor();
  const text = await count.innerText();
  assert.match(text, new RegExp(`${euros(seededCents.USD).replace(/\./g, "\\.")} USD`), text);
  assert.match(text, new RegExp(`${euros(seededCents.EUR).replace(/\./g, "\\.")} EUR`), text);
  assert.equal(await page.locator("tr[data-order-id]").count(), 200, "one page");

  const oldest = await firstRows(page, 3);
  await page.getByLabel("Sort").selectOption("amount");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.locator("caption").filter({ hasText: "largest amount first" }).waitFor();
  const largest = await firstRows(page, 3);
  assert.notDeepEqual(largest, oldest);
  const amounts = await page.locator("tr[data-order-id] td.num").evaluateAll((cells) => cells.map((c) => c.textContent));
  assert.ok(amounts.length > 0);

  await page.getByLabel("Currency").fill("eur");
  await page.getByLabel("Amount from").fill("5000.00");
  await page.getByRole("button", { name: "Filter" }).click();
  await count.filter({ hasText: /^[0-9,]+ held: [0-9,.]+ EUR$/ }).waitFor();
  const filtered = await page.locator("tr[data-order-id] td:nth-child(5)").allInnerTexts();
  assert.ok(filtered.length > 0 && filtered.every((a) => a.endsWith(" EUR")), filtered.join(" "));
  await context.close();
});

test("release all that match goes through more than 1,000 orders with progress", async () => {
  const { page, context } = await openQueue();
  await page.getByLabel("Currency").fill("USD");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.locator(".count").filter({ hasText: "1,100 held" }).waitFor();
  await page.getByRole("button", { name: "Release all that match (1,100)…" }).click();
  const dialog = page.getByRole("dialog", { name: "Release all 1,100 orders that match" });
  await dialog.getByLabel("Note").fill("Month-end review: all USD orders cleared by the controller");
  assert.equal(await dialog.locator("progress").getAttribute("max"), "1100");
  // Every step of the progress, however quickly the batches go.
  await dialog.getByRole("status").evaluate((status) => {
    window.progress = [];
    const bar = status.parentElement.querySelector("progress");
    new MutationObserver(() => window.progress.push(`${status.textContent} [${bar.value}]`)).observe(status, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  await dialog.getByRole("button", { name: "Release 1,100 orders" }).click();
  await page.locator("#live").filter({ hasText: "Released 1100 of 1100 orders." }).waitFor({ timeout: 120_000 });
  const progress = await page.evaluate(() => window.progress);
  assert.deepEqual(progress, [
    "Released 500 of 1,100… [500]",
    "Released 1,000 of 1,100… [1000]",
    "Released 1,100 of 1,100… [1100]",
  ]);
  await page.getByText("No held orders match.").waitFor();
  const left = await expectOk(await api(MANAGER, "GET", "/orders/queue?limit=1"), "the queue");
  assert.equal(left.total_orders, EUR_ORDERS);
  assert.deepEqual(left.totals.map((t) => t.currency), ["EUR"]);
  await context.close();
});
