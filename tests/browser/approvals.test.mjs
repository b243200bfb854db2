// Four-eyes releases in a real browser: a manager sets the approval
// threshold in the policy form; an associate's release above it waits for
// a manager; the associate cannot approve it; another manager approves or
// rejects it; nobody is offered their own request (and the API's refusal
// is shown when a stale page offers one); the releases report lists it.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import {
  API_TOKENS,
  ASSOCIATE,
  BOB,
  MANAGER,
  MIKE,
  apiClient,
  expectOk,
  isoDate,
  launchBrowser,
  signedInTabs,
  startApp,
  status,
} from "./harness.mjs";

/** ana is an associate who also leads the desk: a token for each role. */
const ANA = "tok-ana";
const ANA_LEAD = "tok-ana-lead";

let app;
let api;
let browser;
const tabs = signedInTabs();

async function account(id, name, assignee) {
  await expectOk(await api(MANAGER, "PUT", `/customers/${id}`, { name, currency: "USD", credit_limit: "1000.00", payment_terms_days: 30 }), id);
  await expectOk(await api(MANAGER, "PUT", `/customers/${id}/assignee`, { assignee }), `assign ${id}`);
}

async function held(id, customerId, amount) {
  const order = { id, customer_id: customerId, amount, currency: "USD", ordered_on: isoDate(), as_of: isoDate() };
  assert.equal((await expectOk(await api(MANAGER, "POST", "/orders", order), id)).status, "held");
}

const orderOf = async (id) => expectOk(await api(MANAGER, "GET", `/orders/${id}`), id);

before(async () => {
  app = await startApp({ env: { SPIN_VARIABLE_API_TOKENS: `${API_TOKENS},${ANA}=ana:associate,${ANA_LEAD}=ana:manager` } });
  api = apiClient(app.baseUrl);
  browser = await launchBrowser();
  await account("C-1", "Acme Tools", "alice");
  await held("SO-BIG", "C-1", "30000.00");
  await held("SO-MID", "C-1", "27000.00");
  await held("SO-SMALL", "C-1", "2000.00");
  await held("SO-U", "C-NEW", "100.00");
});

after(async () => {
  await tabs.closeAll();
  await browser?.close();
  await app?.stop();
});

function tab(token) {
  return tabs.open(browser, app.baseUrl, token);
}

test("a manager sets the release approval threshold per currency in the policy form", async () => {
  const { page, errors } = await tab(MANAGER);
  await page.getByRole("link", { name: "Limits & reports" }).click();
  const form = page.getByRole("form", { name: "Credit policy" });
  const thresholds = form.getByRole("group", { name: "Releases that need a manager's approval" });
  await thresholds.getByRole("button", { name: "Add a currency" }).click();
  const currency = thresholds.getByLabel("Currency");
  assert.ok(await currency.evaluate((input) => input === document.activeElement), "the new row takes focus");
  const save = form.getByRole("button", { name: "Save policy" });

  await currency.fill("US");
  await thresholds.getByLabel("Above").fill("25000.00");
  await save.click();
  await thresholds.getByText("Give a three-letter currency code, e.g. USD.").waitFor();
  assert.equal(await currency.getAttribute("aria-invalid"), "true");

  // The API's own check lands in the same place.
  await currency.fill("usd");
  await thresholds.getByLabel("Above").fill("25000.001");
  await save.click();
  await thresholds.getByText("USD: USD amounts have at most 2 decimal places").waitFor();

  await thresholds.getByLabel("Above").fill("25000.00");
  await save.click();
  await status(page, "Policy saved. Associates' releases above 25,000.00 USD need a manager's approval.");
  const policy = await expectOk(await api(MANAGER, "GET", "/policy"), "policy");
  assert.deepEqual(policy.release_approval_thresholds, { USD: "25000.00" });
  assert.equal(policy.grace_days, 5, "the other settings are sent as they were");
  // The one error is the API's refusal of 25000.001, shown above.
  assert.deepEqual(errors, ["Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]);
});

test("an associate's release above the threshold waits; another manager approves it; the report lists it", async () => {
  const alice = await tab(ASSOCIATE);
  const row = alice.page.locator('tr[data-order-id="SO-BIG"]');
  await row.getByRole("button", { name: "Release order SO-BIG" }).click();
  const dialog = alice.page.getByRole("dialog", { name: "Release order SO-BIG" });
  await dialog.getByLabel("Note").fill("Customer wired a deposit; the rest on Friday");
  await dialog.getByRole("button", { name: "Release order", exact: true }).click();
  await status(
    alice.page,
    "Order SO-BIG waits for a manager's approval: releases above 25000.00 USD need a manager's approval. It stays held until a manager approves it.",
  );
  await row.waitFor({ state: "detached" });
  const waiting = await orderOf("SO-BIG");
  assert.equal(waiting.status, "pending_approval");
  assert.equal(waiting.release_request.requested_by, "alice");

  // The associate follows it but cannot approve it.
  await alice.page.getByRole("link", { name: "Approvals" }).click();
  const mine = alice.page.locator('tr[data-order-id="SO-BIG"]');
  await mine.waitFor();
  assert.match(
    await mine.innerText(),
    /alice \(you\)[\s\S]*Customer wired a deposit[\s\S]*releases above 25000\.00 USD need a manager's approval[\s\S]*CREDIT_LIMIT_EXCEEDED[\s\S]*Your request: another manager decides/,
  );
  assert.equal(await alice.page.getByRole("button", { name: /Approve|Reject/ }).count(), 0);
  await mine.getByRole("link", { name: "SO-BIG" }).click();
  await alice.page.getByRole("region", { name: "Release waiting for approval" }).waitFor();
  assert.equal(await alice.page.getByRole("button", { name: /Approve|Reject/ }).count(), 0);
  assert.deepEqual(alice.errors, []);

  const maria = await tab(MANAGER);
  await maria.page.getByRole("link", { name: "Approvals" }).click();
  await maria.page.locator(".count").filter({ hasText: "1 waiting" }).waitFor();
  await maria.page.getByRole("button", { name: "Approve release of order SO-BIG" }).click();
  const approve = maria.page.getByRole("dialog", { name: "Approve the release of order SO-BIG" });
  assert.match(await approve.innerText(), /alice asked .*Customer wired a deposit/);
  await approve.getByLabel("Note").fill("Deposit seen on the bank statement");
  await approve.getByRole("button", { name: "Approve and release" }).click();
  await status(maria.page, "Order SO-BIG approved: released.");
  await maria.page.getByText("No releases are waiting for approval.").waitFor();
  assert.equal((await orderOf("SO-BIG")).status, "released");

  await maria.page.getByRole("link", { name: "Limits & reports" }).click();
  const report = maria.page.getByRole("region", { name: "Releases by hand" });
  const line = report.locator('tr[data-order-id="SO-BIG"]');
  await line.waitFor();
  assert.match(
    await line.innerText(),
    /SO-BIG[\s\S]*Acme Tools[\s\S]*30,000\.00 USD[\s\S]*alice[\s\S]*maria[\s\S]*CREDIT_LIMIT_EXCEEDED/,
  );
  const people = report.locator("table.releases-people tbody tr");
  assert.deepEqual(await people.allInnerTexts(), ["alice\tUSD\t1\t30,000.00\t1"]);
  await report.getByLabel("By", { exact: true }).selectOption("bob");
  await report.getByRole("button", { name: "Show releases" }).click();
  await report.getByText(`No releases by hand by bob from ${isoDate().slice(0, 8)}01 to ${isoDate()}.`).waitFor();

  const [download] = await Promise.all([maria.page.waitForEvent("download"), report.getByRole("button", { name: "Download CSV" }).click()]);
  assert.match(download.suggestedFilename(), /^releases.*\.csv$/);
  const csv = (await readFile(await download.path(), "utf8")).trim().split(/\r?\n/);
  assert.match(csv[0], /^released_at,order_id,/);
  assert.equal(csv.length, 1, "bob's releases: the header alone");
  await report.getByLabel("By", { exact: true }).selectOption("");
  const [all] = await Promise.all([maria.page.waitForEvent("download"), report.getByRole("button", { name: "Download CSV" }).click()]);
  const lines = (await readFile(await all.path(), "utf8")).trim().split(/\r?\n/);
  assert.equal(lines.length, 2);
  assert.match(lines[1], /SO-BIG,C-1,.*alice,maria/);
  assert.deepEqual(maria.errors, []);
});

test("a bulk release says what waits and what cannot be released; a manager rejects with a note", async () => {
  const alice = await tab(ASSOCIATE);
  await alice.page.getByLabel("Accounts").selectOption("");
  await alice.page.getByRole("button", { name: "Filter" }).click();
  await alice.page.getByRole("button", { name: "Release all that match (3)…" }).click();
  const dialog = alice.page.getByRole("dialog", { name: "Release all 3 orders that match" });
  await dialog.getByLabel("Note").fill("Month-end clean-up");
  await dialog.getByRole("button", { name: "Release 3 orders" }).click();
  await status(
    alice.page,
    "Released 1 of 3 orders. 1 waits for a manager's approval: SO-MID. 1 cannot be released until the desk can check it: SO-U.",
  );
  assert.equal((await orderOf("SO-SMALL")).status, "released");
  assert.equal((await orderOf("SO-MID")).status, "pending_approval");
  assert.equal((await orderOf("SO-U")).status, "held");
  assert.deepEqual(alice.errors, []);

  const mike = await tab(MIKE);
  await mike.page.getByRole("link", { name: "Approvals" }).click();
  await mike.page.getByRole("button", { name: "Reject release of order SO-MID" }).click();
  const reject = mike.page.getByRole("dialog", { name: "Reject the release of order SO-MID" });
  await reject.getByRole("button", { name: "Reject release" }).click();
  await reject.getByText("Write why the release is rejected.").waitFor();
  await reject.getByLabel("Note").fill("Not without a deposit");
  await reject.getByRole("button", { name: "Reject release" }).click();
  await status(mike.page, "Release of order SO-MID rejected: the order is held again.");
  const rejected = await orderOf("SO-MID");
  assert.equal(rejected.status, "held");
  assert.deepEqual(mike.errors, []);

  // alice sees why on the order.
  await alice.page.goto(`${app.baseUrl}/#/order/SO-MID`);
  const history = alice.page.locator("table", { has: alice.page.locator("caption", { hasText: "Every decision on order SO-MID" }) });
  await history.locator("tbody tr").filter({ hasText: "Release rejected" }).waitFor();
  assert.match(await history.locator("tbody tr").last().innerText(), /Release rejected[\s\S]*mike[\s\S]*held[\s\S]*Not without a deposit/);
  await alice.page.getByRole("button", { name: "Release…" }).waitFor();
});

test("nobody is offered their own request, and a stale offer's refusal is shown plainly", async () => {
  await account("C-2", "Bolt Supply", "bob");
  await held("SO-ANA", "C-2", "26000.00");
  await held("SO-BOB", "C-2", "28000.00");
  const release = async (token, id) => {
    const reply = await api(token, "POST", `/orders/${id}/release`, { note: "Asked by the customer" });
    assert.equal(reply.status, 202, `${id}: ${reply.text}`);
  };
  await release(ANA, "SO-ANA");
  await release(BOB, "SO-BOB");

  // ana, signed in as the desk's lead, sees her own request without Approve.
  const { page, errors } = await tab(ANA_LEAD);
  await page.getByRole("link", { name: "Approvals" }).click();
  const own = page.locator('tr[data-order-id="SO-ANA"]');
  await own.waitFor();
  assert.match(await own.innerText(), /ana \(you\)[\s\S]*Your request: another manager decides/);
  assert.equal(await own.getByRole("button").count(), 0);
  const bobs = page.locator('tr[data-order-id="SO-BOB"]');
  await bobs.getByRole("button", { name: "Approve release of order SO-BOB" }).waitFor();

  // Meanwhile bob's request is rejected and ana herself asks to release it:
  // the page still offers an approval the desk must refuse.
  await expectOk(await api(MIKE, "POST", "/orders/SO-BOB/reject-release", { note: "Ask again with the deposit" }), "reject");
  await release(ANA, "SO-BOB");
  await bobs.getByRole("button", { name: "Approve release of order SO-BOB" }).click();
  const approve = page.getByRole("dialog", { name: "Approve the release of order SO-BOB" });
  await approve.getByRole("button", { name: "Approve and release" }).click();
  await approve.getByText("Not allowed: ana asked for the release of order 'SO-BOB'; another manager must approve it").waitFor();
  assert.equal((await orderOf("SO-BOB")).status, "pending_approval");
  await approve.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("button", { name: "Show" }).click();
  await bobs.filter({ hasText: "Your request: another manager decides" }).waitFor();

  await page.goto(`${app.baseUrl}/#/order/SO-ANA`);
  await page.getByText("You asked for this release: another manager approves or rejects it.").waitFor();
  assert.equal(await page.getByRole("button", { name: /Approve|Reject/ }).count(), 0);
  // The one error is the refusal the stale page met.
  assert.deepEqual(
    errors.filter((e) => !/status of 403/.test(e)),
    [],
  );
  assert.equal(errors.length, 1, errors.join("\n"));
});
