// The browser tests' harness: start the repository's app on the local
// Spin host with a fresh state directory, seed it through the JSON API, and
// drive Debian's Chromium with playwright-core.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Built by `cargo xtask build|test`, which also tells us where. */
export const HOST_BIN = process.env.SPIN_HOST_BIN || join(REPO, "target/host/spin-host");
/** Debian's package `chromium`; never a downloaded browser. */
export const CHROMIUM = "/usr/bin/chromium";
/** Without the background-networking flags a closed network stalls Chromium. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const API_TOKENS =
  "tok-alice=alice:associate,tok-bob=bob:associate,tok-maria=maria:manager,tok-mike=mike:manager,tok-erp=erp-feed:integration";
/** alice, an associate. */
export const ASSOCIATE = "tok-alice";
/** bob, another associate. */
export const BOB = "tok-bob";
/** maria, a manager. */
export const MANAGER = "tok-maria";
/** mike, another manager. */
export const MIKE = "tok-mike";
/** Reads the event feed and starts event delivery. */
export const INTEGRATION = "tok-erp";

/** The first start compiles every component: allow for a slow machine. */
const START_TIMEOUT_MS = 240_000;

/**
 * Starts `spin-host up` on the repository's spin.toml, listening on a free
 * port, and resolves once it announces `Serving http://...`. `env` adds
 * variables, `args` host options; `stateDir` starts on a state directory
 * kept from an earlier start (a fresh one by default).
 */
export async function startApp({ env: extraEnv = {}, args = [], stateDir: keptState } = {}) {
  if (!existsSync(HOST_BIN)) {
    throw new Error(`${HOST_BIN} does not exist: run the tests with \`cargo xtask test\` (it builds the host and the components)`);
  }
  const stateDir = keptState ?? mkdtempSync(join(tmpdir(), "credit-desk-browser-"));
  const env = {
    ...process.env,
    SPIN_VARIABLE_API_TOKENS: API_TOKENS,
    SPIN_VARIABLE_ERP_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...extraEnv,
  };
  delete env.RUST_LOG;
  const child = spawn(
    HOST_BIN,
    ["up", "--from", join(REPO, "spin.toml"), "--listen", "127.0.0.1:0", "--state-dir", stateDir, ...args],
    { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const log = [];
  const keep = (line) => {
    log.push(line);
    if (process.env.CREDIT_DESK_HOST_LOG === "1") process.stderr.write(`[host] ${line}\n`);
  };
  createInterface({ input: child.stderr }).on("line", keep);
  const exited = new Promise((done) => child.once("exit", done));

  let baseUrl;
  try {
    baseUrl = await new Promise((announce, fail) => {
      const timer = setTimeout(() => fail(new Error(`the host did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      createInterface({ input: child.stdout }).on("line", (line) => {
        keep(line);
        const match = /^Serving (http:\/\/\S+)/.exec(line.trim());
        if (match) {
          clearTimeout(timer);
          announce(match[1].replace(/\/$/, ""));
        }
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        fail(new Error(`cannot run ${HOST_BIN}: ${error.message}`));
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`the host exited (${code ?? signal}) before serving`));
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(stateDir, { recursive: true, force: true });
    throw new Error(`${error.message}\n--- host output ---\n${log.join("\n")}`);
  }

  return {
    baseUrl,
    log,
    stateDir,
    /** Stops the host (SIGTERM, as a service manager would) and removes its state unless kept. */
    async stop({ keepState = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timeout = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timeout);
      }
      if (!keepState) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** A JSON API client for seeding and checking: `api(token, method, path, body?)`. */
export function apiClient(baseUrl) {
  return async (token, method, path, body) => {
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };
}

/** The JSON of a 2xx answer; anything else fails the test, saying `what`. */
export async function expectOk(reply, what) {
  assert.ok(reply.status >= 200 && reply.status < 300, `${what}: ${reply.status} ${reply.text}`);
  return reply.json;
}

/** Headless Chromium from Debian's package; a clear error when it is missing. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y --no-install-recommends chromium)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** A date `days` from today (UTC), as YYYY-MM-DD. */
export function isoDate(days = 0) {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/**
 * A fresh browser profile (its own sessionStorage) with one tab; what the
 * page reports as an error (console errors, uncaught exceptions) is kept
 * in `errors`.
 */
export async function newTab(browser, { viewport, timeout = 30_000 } = {}) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(String(error)));
  return { context, page, errors };
}

/** Signs in on the workspace with `token` and waits for the workspace. */
export async function signIn(page, baseUrl, token) {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel("Bearer token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#sign-out").waitFor();
}

/** Tabs signed in with a token each, all closed by `closeAll`. */
export function signedInTabs() {
  const opened = [];
  return {
    async open(browser, baseUrl, token) {
      const tab = await newTab(browser);
      opened.push(tab);
      await signIn(tab.page, baseUrl, token);
      return tab;
    },
    async closeAll() {
      await Promise.all(opened.map((tab) => tab.context.close().catch(() => {})));
    },
  };
}

/** Waits for the polite status region to say `text` (a string or a RegExp). */
export async function status(page, text) {
  await page.locator("#live").filter({ hasText: text }).waitFor();
}
