// A manager opens the workspace and sees the dashboard: figures per
// currency, receivables by age and the held-order trend, each chart with
// its table, and CSV downloads of the same figures.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MANAGER, ASSOCIATE, apiClient, expectOk, isoDate, launchBrowser, newTab, signIn, startApp } from "./harness.mjs";

let app;
let browser;

before(async () => {
  const first = await startApp();
  const api = apiClient(first.baseUrl);
  const customers = [
    ["C-1", { name: "Delta Supply", currency: "USD", credit_limit: "1000.00", payment_terms_days: 30 }],
    ["C-2", { name: "Euro Parts", currency: "EUR", credit_limit: "1000.00", payment_terms_days: 30 }],
  ];
  for (const [id, body] of customers) await expectOk(await api(MANAGER, "PUT", `/customers/${id}`, body), `PUT ${id}`);
  const invoices = [
    ["INV-1", { customer_id: "C-1", issued_on: isoDate(-75), due_on: isoDate(-45), amount: "800.00", currency: "USD" }],
    ["INV-2", { customer_id: "C-2", issued_on: isoDate(-5), due_on: isoDate(25), amount: "500.00", currency: "EUR" }],
  ];
  for (const [id, body] of invoices) await expectOk(await api(MANAGER, "PUT", `/invoices/${id}`, body), `PUT ${id}`);
  // Held for the past-due invoice, and for the limit.
  const orders = [
    { id: "SO-1", customer_id: "C-1", amount: "300.00", currency: "USD" },
    { id: "SO-2", customer_id: "C-2", amount: "600.00", currency: "EUR" },
  ];
  for (const order of orders) {
    const decided = await expectOk(await api(MANAGER, "POST", "/orders", { ...order, ordered_on: isoDate(), as_of: isoDate() }), order.id);
    assert.equal(decided.status, "held", JSON.stringify(decided));
  }
  await expectOk(await api(ASSOCIATE, "POST", "/disputes", { invoice_id: "INV-2", amount: "50.00", reason_code: "DAMAGED", note: "Crushed" }), "a dispute");
  await expectOk(await api(ASSOCIATE, "POST", "/credit-limit-requests", { customer_id: "C-2", requested_limit: "2000.00", reason: "Growing" }), "a limit request");
  // As weeks later: the dispute is past its service-level date.
  await first.stop({ keepState: true });
  app = await startApp({ stateDir: first.stateDir, args: ["--sqlite", `UPDATE disputes SET sla_due_on = '${isoDate(-3)}'`] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test("the dashboard shows the book's figures, each chart with its table, with no console errors", async () => {
  const { context, page, errors } = await newTab(browser, { timeout: 20_000 });
  await signIn(page, app.baseUrl, MANAGER);
  const trendRequests = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/reports/held-orders/trend") trendRequests.push(request.url());
  });
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const dashboard = page.getByRole("region", { name: "Dashboard" });
  await dashboard.getByText("Held orders", { exact: true }).waitFor();

  const figure = async (label) => (await dashboard.locator(".figure").filter({ has: page.getByText(label, { exact: true }) }).innerText()).replace(/\s+/g, " ");
  assert.match(await figure("Held orders"), /Held orders 2/);
  assert.match(await figure("Disputes breaching SLA"), /Disputes breaching SLA 1/);
  assert.match(await figure("Pending limit requests"), /Pending limit requests 1/);
  assert.match(await figure("Oldest held order"), /SO-1 Delta Supply, held 0 days/);
  assert.match(await figure("Held (USD)"), /300\.00 USD 1 order$/);
  assert.match(await figure("Past due (USD)"), /800\.00 USD 100(\.0+)?% of receivables/);
  assert.match(await figure("Open receivables (EUR)"), /500\.00 EUR/);

  const aging = dashboard.getByRole("region", { name: "Receivables by age" });
  assert.equal(await aging.locator(".stacks li").count(), 2, "one stacked bar per currency");
  const usdRow = (await aging.getByRole("row", { name: /^USD/ }).innerText()).split("\t").map((cell) => cell.trim());
  assert.deepEqual(usdRow, ["USD", "0.00", "0.00", "800.00", "0.00", "0.00", "0.00", "800.00"]);

  const trend = dashboard.getByRole("region", { name: "Held orders over 30 days" });
  assert.equal(await trend.getByRole("img").count(), 1, "the trend is drawn");
  const rows = trend.locator("tbody tr");
  assert.equal(await rows.count(), 30);
  assert.match(await rows.last().innerText(), new RegExp(`${isoDate()}\\s+2\\s+600\\.00\\s+300\\.00`));

  // The reports below show the same 30 days without asking for them again.
  const reportsTrend = page.getByRole("region", { name: "Held-order trend" });
  await reportsTrend.getByText("2 orders · 600.00 EUR · 300.00 USD").waitFor();
  assert.equal(trendRequests.length, 1, `the trend was asked for once: ${trendRequests.join(", ")}`);

  const [download] = await Promise.all([page.waitForEvent("download"), dashboard.getByRole("button", { name: "Tiles CSV" }).click()]);
  const csv = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
  assert.match(csv.split("\n")[0], /currency/);
  assert.match(csv, /USD/);
  assert.match(csv, /EUR/);

  assert.deepEqual(errors, []);
  await context.close();
});

test("the aging report draws its first 100 customers, and the rest on request", async () => {
  // A book of its own with more customers owing than the table draws at first.
  const big = await startApp();
  try {
    const api = apiClient(big.baseUrl);
    const ids = Array.from({ length: 120 }, (_, n) => `A-${String(n).padStart(3, "0")}`);
    for (let i = 0; i < ids.length; i += 20) {
      await Promise.all(
        ids.slice(i, i + 20).map(async (id) => {
          const customer = { name: `Owing ${id}`, currency: "USD", credit_limit: "5000.00", payment_terms_days: 30 };
          await expectOk(await api(MANAGER, "PUT", `/customers/${id}`, customer), `PUT ${id}`);
          const invoice = { customer_id: id, issued_on: isoDate(-40), due_on: isoDate(-10), amount: "100.00", currency: "USD" };
          await expectOk(await api(MANAGER, "PUT", `/invoices/INV-${id}`, invoice), `PUT INV-${id}`);
        }),
      );
    }
    const { context, page, errors } = await newTab(browser, { timeout: 20_000 });
    await signIn(page, big.baseUrl, MANAGER);
    await page.getByRole("link", { name: "Limits & reports" }).click();

    const aging = page.getByRole("region", { name: "Aging report" });
    const rows = aging.getByRole("table", { name: "Aging by customer" }).locator("tbody tr");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 100);
    assert.match(await aging.innerText(), /Showing the first 100 of 120 customers; the CSV has them all\./);
    await aging.getByRole("button", { name: "Show all 120" }).click();
    assert.equal(await rows.count(), 120);
    assert.match(await rows.last().innerText(), /Owing A-119/);
    assert.equal(await aging.getByRole("button", { name: "Show all 120" }).count(), 0);
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    assert.equal(focused, "Owing A-100", "the keyboard goes on from the first customer added");
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await big.stop();
  }
});
