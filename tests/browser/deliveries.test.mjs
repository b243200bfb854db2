// A manager looks after decisions going back to the ERP: delivery health
// while the ERP's endpoint fails, then failed events pushed again.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { INTEGRATION, MANAGER, apiClient, expectOk, isoDate, launchBrowser, newTab, signIn, startApp } from "./harness.mjs";

/** The ERP's event endpoint: answers `status` and counts what it got. */
function erpEndpoint() {
  const received = [];
  let status = 503;
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ id: request.headers["webhook-id"], body });
      response.writeHead(status).end();
    });
  });
  return {
    received,
    answer: (next) => (status = next),
    listen: () => new Promise((ready) => server.listen(0, "127.0.0.1", () => ready(server.address().port))),
    close: () => new Promise((done) => server.close(done)),
  };
}

const EVENTS_SECRET = "whsec_YnJvd3Nlci10ZXN0cy1ldmVudHM=";

let erp;
let env;
let browser;
const running = [];

before(async () => {
  erp = erpEndpoint();
  const port = await erp.listen();
  env = {
    SPIN_VARIABLE_ERP_EVENTS_URL: `http://127.0.0.1:${port}/credit-events`,
    SPIN_VARIABLE_ERP_EVENTS_HOST: `http://127.0.0.1:${port}`,
    SPIN_VARIABLE_ERP_EVENTS_SECRET: EVENTS_SECRET,
  };
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await Promise.all(running.map((app) => app.stop()));
  await erp?.close();
});

test("a manager sees delivery failing, then redelivers the failed events", async () => {
  let app = await startApp({ env });
  let api = apiClient(app.baseUrl);
  await expectOk(
    await api(MANAGER, "PUT", "/customers/C-900", { name: "Echo Tools", currency: "USD", credit_limit: "100.00", payment_terms_days: 30 }),
    "PUT customer",
  );
  for (const id of ["SO-901", "SO-902"]) {
    const order = { id, customer_id: "C-900", amount: "500.00", currency: "USD", ordered_on: isoDate(), as_of: isoDate() };
    await expectOk(await api(MANAGER, "POST", "/orders", order), `POST /orders ${id}`);
  }
  const run = await expectOk(await api(INTEGRATION, "POST", "/events/deliveries/run"), "a delivery run");
  assert.equal(run.retrying, 2, JSON.stringify(run));

  // As after a day of retries: restart on the same state with both failed.
  await app.stop({ keepState: true });
  app = await startApp({
    env,
    stateDir: app.stateDir,
    args: ["--sqlite", "UPDATE events SET push_status = 'failed', attempts = 33, last_error = 'the ERP answered HTTP 503'"],
  });
  running.push(app);
  api = apiClient(app.baseUrl);

  const { context, page } = await newTab(browser, { timeout: 20_000 });
  await signIn(page, app.baseUrl, MANAGER);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const section = page.getByRole("region", { name: "Delivery to the ERP" });
  await section.getByText("Events are pushed to http://127.0.0.1").waitFor();
  const failedFigure = section.locator(".figure").filter({ hasText: "Failed" });
  assert.match(await failedFigure.innerText(), /2/);
  assert.match(await section.innerText(), /Last error: the ERP answered HTTP 503/);
  const row = section.locator('tr[data-event-id="evt_2"]');
  assert.match(await row.innerText(), /order\.held[\s\S]*SO-902[\s\S]*33[\s\S]*HTTP 503/);

  erp.answer(204);
  await row.getByRole("button", { name: "Redeliver" }).click();
  await page.locator("#live").filter({ hasText: "1 event(s) will be pushed again: evt_2." }).waitFor();
  await row.waitFor({ state: "detached" });
  assert.match(await section.locator(".figure").filter({ hasText: "Pending" }).innerText(), /1/);
  await section.getByRole("button", { name: "Redeliver all 1" }).click();
  await section.getByText("No failed events.").waitFor();
  const delivered = await expectOk(await api(INTEGRATION, "POST", "/events/deliveries/run"), "a delivery run");
  assert.equal(delivered.delivered, 2, JSON.stringify(delivered));
  assert.deepEqual(erp.received.slice(-2).map((r) => r.id).sort(), ["evt_1", "evt_2"]);
  await context.close();
});
