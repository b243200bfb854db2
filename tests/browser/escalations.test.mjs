// Escalations in a real browser: an associate refers an order, a customer
// or a dispute to the supervisors; a manager works the open ones, oldest
// first with the overdue flagged, and answers; the associate sees the
// answer on the subject.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ASSOCIATE, BOB, MANAGER, apiClient, expectOk, isoDate, launchBrowser, signedInTabs, startApp, status } from "./harness.mjs";

let app;
let api;
let browser;
let disputeId;
const tabs = signedInTabs();

async function account(id, name, assignee, orderId) {
  await expectOk(await api(MANAGER, "PUT", `/customers/${id}`, { name, currency: "USD", credit_limit: "1000.00", payment_terms_days: 30 }), id);
  await expectOk(await api(MANAGER, "PUT", `/customers/${id}/assignee`, { assignee }), `assign ${id}`);
  const invoice = { customer_id: id, issued_on: isoDate(-5), due_on: isoDate(25), amount: "400.00", currency: "USD" };
  await expectOk(await api(MANAGER, "PUT", `/invoices/INV-${id}`, invoice), `INV-${id}`);
  const order = { id: orderId, customer_id: id, amount: "5000.00", currency: "USD", ordered_on: isoDate(), as_of: isoDate() };
  await expectOk(await api(MANAGER, "POST", "/orders", order), orderId);
}

/** An RFC 3339 instant `hours` ago, as the API writes them. */
const hoursAgo = (hours) => new Date(Date.now() - hours * 3_600_000).toISOString();

before(async () => {
  const first = await startApp();
  api = apiClient(first.baseUrl);
  await account("C-1", "Acme Tools", "alice", "SO-1");
  await account("C-2", "Bolt Supply", "bob", "SO-2");
  const dispute = { invoice_id: "INV-C-1", amount: "100.00", reason_code: "PRICING", note: "Price list not applied" };
  disputeId = (await expectOk(await api(ASSOCIATE, "POST", "/disputes", dispute), "dispute")).id;
  const old = { subject_type: "customer", subject_id: "C-2", reason: "Collection problem", note: "Three broken promises" };
  await expectOk(await api(BOB, "POST", "/escalations", old), "bob's escalation");
  // As if bob raised it four days ago: it is past its one-business-day target.
  await first.stop({ keepState: true });
  const backdate = `UPDATE escalations SET raised_at = '${hoursAgo(96)}', respond_by = '${hoursAgo(72)}' WHERE id = 1`;
  app = await startApp({ stateDir: first.stateDir, args: ["--sqlite", backdate] });
  api = apiClient(app.baseUrl);
  browser = await launchBrowser();
});

after(async () => {
  await tabs.closeAll();
  await browser?.close();
  await app?.stop();
});

function tab(token) {
  return tabs.open(browser, app.baseUrl, token);
}

const escalationsOf = async (type, id) => expectOk(await api(MANAGER, "GET", `/escalations?subject_type=${type}&subject_id=${id}`), "list");

test("an associate escalates an order; a manager answers; the associate sees the answer on the order", async () => {
  const alice = await tab(ASSOCIATE);
  const row = alice.page.locator('tr[data-order-id="SO-1"]');
  await row.getByRole("button", { name: "Escalate order SO-1" }).click();
  const dialog = alice.page.getByRole("dialog", { name: "Escalate order SO-1" });
  await dialog.getByRole("button", { name: "Send to a supervisor" }).click();
  await dialog.getByText("Say why you escalate.").waitFor();
  await dialog.getByLabel("Reason").fill("Unusual terms asked");
  await dialog.getByLabel("Note").fill("The customer asks for 120-day terms on this order");

  // The first send reaches the desk but its answer is lost; sent again, it
  // carries the same Idempotency-Key and is not raised twice.
  const keys = [];
  let lose = true;
  await alice.page.route("**/escalations", async (route) => {
    keys.push(route.request().headers()["idempotency-key"]);
    if (lose) {
      lose = false;
      await route.fetch();
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await dialog.getByRole("button", { name: "Send to a supervisor" }).click();
  await dialog.getByText("credit-desk could not be reached").waitFor();
  await dialog.getByRole("button", { name: "Send to a supervisor" }).click();
  await status(alice.page, /Escalation \d+ sent to the supervisors; an answer is due by \d{4}-\d{2}-\d{2} \d{2}:\d{2}\./);
  await alice.page.unroute("**/escalations");
  assert.equal(keys.length, 2);
  assert.ok(keys[0] && keys[0] === keys[1], `one key for both sends: ${keys.join(", ")}`);
  const raised = await escalationsOf("order", "SO-1");
  assert.equal(raised.length, 1, "raised once");
  assert.equal(raised[0].raised_by, "alice");
  const id = raised[0].id;

  await row.getByRole("link", { name: "SO-1" }).click();
  await alice.page.getByRole("heading", { name: "Escalations (1, 1 open)" }).waitFor();
  const onOrder = alice.page.locator(`tr[data-escalation-id="${id}"]`);
  assert.match(await onOrder.innerText(), /Unusual terms asked[\s\S]*120-day terms[\s\S]*alice \(you\)[\s\S]*open[\s\S]*waiting for a supervisor/);

  const maria = await tab(MANAGER);
  await maria.page.getByRole("link", { name: "Escalations" }).click();
  const open = maria.page.locator(`tr[data-escalation-id="${id}"]`);
  await open.getByRole("button", { name: `Answer escalation ${id}` }).click();
  const answer = maria.page.getByRole("dialog", { name: `Answer escalation ${id}` });
  assert.match(await answer.innerText(), /order SO-1[\s\S]*alice[\s\S]*Unusual terms asked/);
  await answer.getByLabel("Outcome").fill("declined");
  await answer.getByLabel("Answer", { exact: true }).fill("30 days at most; offer a payment plan");
  await answer.getByRole("button", { name: "Send answer" }).click();
  await status(maria.page, `Escalation ${id} answered (declined); alice sees the answer.`);
  await open.waitFor({ state: "detached" });
  await maria.page.getByLabel("Status").selectOption("resolved");
  await maria.page.getByRole("button", { name: "Show" }).click();
  await open.filter({ hasText: "answered" }).waitFor();
  assert.deepEqual(maria.errors, []);

  await alice.page.reload();
  await alice.page.getByRole("heading", { name: "Escalations (1)" }).waitFor();
  const answered = await onOrder.innerText();
  assert.match(answered, /answered/);
  assert.match(answered, /declined: 30 days at most; offer a payment plan[\s\S]*maria/);
  const stored = (await escalationsOf("order", "SO-1"))[0];
  assert.equal(stored.status, "resolved");
  assert.equal(stored.resolved_by, "maria");
  // The one error is the lost answer the test made.
  assert.deepEqual(alice.errors.filter((e) => !/ERR_CONNECTION_RESET|ERR_FAILED/.test(e)), []);
});

test("the customer's page escalates the customer and a dispute and lists the account's escalations", async () => {
  const { page, errors } = await tab(ASSOCIATE);
  await page.goto(`${app.baseUrl}/#/customer/C-1`);
  await page.getByRole("heading", { name: /Escalations \(1\)/ }).waitFor();

  await page.getByRole("button", { name: "Escalate customer…" }).click();
  let dialog = page.getByRole("dialog", { name: "Escalate customer Acme Tools (C-1)" });
  await dialog.getByLabel("Reason").fill("Exception to the credit policy");
  await dialog.getByLabel("Note").fill("Wants a temporary limit of 5,000 for a trade fair");
  await dialog.getByRole("button", { name: "Send to a supervisor" }).click();
  await status(page, /Escalation \d+ sent to the supervisors/);
  await page.getByRole("heading", { name: "Escalations (2, 1 open)" }).waitFor();

  await page.getByRole("button", { name: `Escalate dispute ${disputeId}` }).click();
  dialog = page.getByRole("dialog", { name: `Escalate dispute ${disputeId}` });
  await dialog.getByLabel("Reason").fill("Dispute needs a decision");
  await dialog.getByLabel("Note").fill("Sales promised the old price list; credit or not?");
  await dialog.getByRole("button", { name: "Send to a supervisor" }).click();
  await page.getByRole("heading", { name: "Escalations (3, 2 open)" }).waitFor();

  const table = page.locator("table", { has: page.locator("caption", { hasText: "Escalations on Acme Tools's account" }) });
  const about = await table.locator("tbody tr td:nth-child(2) a").allInnerTexts();
  assert.deepEqual(about, [`Dispute ${disputeId}`, "Customer C-1", "Order SO-1"], "the latest first");
  assert.equal((await escalationsOf("dispute", disputeId)).length, 1);
  assert.deepEqual(errors, []);
});

test("a manager sees open escalations oldest first, the overdue flagged, and cuts them by account", async () => {
  const { page, errors } = await tab(MANAGER);
  await page.goto(`${app.baseUrl}/#/escalations`);
  const rows = page.locator("tr[data-escalation-id]");
  await rows.nth(2).waitFor();
  const texts = await rows.allInnerTexts();
  assert.equal(texts.length, 3, "bob's and alice's two open ones");
  assert.match(texts[0], /Customer C-2[\s\S]*Collection problem[\s\S]*bob[\s\S]*4 d[\s\S]*overdue/);
  assert.match(texts[1], /Customer C-1[\s\S]*open/);
  assert.match(texts[2], new RegExp(`Dispute ${disputeId}[\\s\\S]*open`));
  assert.equal(await rows.nth(0).locator(".badge.bad").innerText(), "overdue");
  assert.equal(await rows.nth(1).locator(".badge.bad").count(), 0);
  await page.locator(".count").filter({ hasText: "3 shown, 1 overdue" }).waitFor();

  await page.getByLabel("Accounts").selectOption("bob");
  await page.getByRole("button", { name: "Show" }).click();
  await page.locator(".count").filter({ hasText: "1 shown, 1 overdue" }).waitFor();
  assert.equal(await rows.count(), 1);
  await page.getByLabel("Accounts").selectOption("me");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByText("No open escalations.").waitFor();
  assert.deepEqual(errors, []);
});

test("an associate follows the escalations they raised", async () => {
  const { page, errors } = await tab(ASSOCIATE);
  await page.getByRole("link", { name: "Escalations" }).click();
  await page.getByText("What you referred to a supervisor, and their answers.").waitFor();
  const rows = page.locator("tr[data-escalation-id]");
  await rows.nth(2).waitFor();
  const texts = await rows.allInnerTexts();
  assert.equal(texts.length, 3, "alice's, not bob's");
  assert.match(texts[0], /Order SO-1[\s\S]*answered[\s\S]*declined/);
  assert.ok(texts.every((text) => !/Collection problem/.test(text)));
  assert.equal(await page.getByRole("button", { name: /Answer escalation/ }).count(), 0, "associates do not answer");
  assert.deepEqual(errors, []);
});
