// Times the manager's "Limits & reports" page in Debian's Chromium, for
// `cargo xtask bench` (crates/bench/src/pages.rs): from the click on the
// link to the dashboard's tiles on screen, and to the last answer to the
// page's requests. Not a test (node --test does not pick it up): the bench
// runs it against its own host and book, with the page's clock at the
// book's date, and reads one JSON line per load from stdout.
//
// usage: node time-dashboard.mjs BASE_URL TOKEN AS_OF LOADS

import { launchBrowser, newTab, signIn } from "./harness.mjs";

/** Loads before the measured ones: the first compiles the page's code. */
const WARM_UP_LOADS = 2;
/** The page's requests have all been answered once none is left this long. */
const QUIET_MS = 500;

const [baseUrl, token, asOf, loadsText] = process.argv.slice(2);
const loads = Number(loadsText);
if (!baseUrl || !token || !/^\d{4}-\d{2}-\d{2}$/.test(asOf ?? "") || !(loads > 0)) {
  console.error("usage: node time-dashboard.mjs BASE_URL TOKEN AS_OF(YYYY-MM-DD) LOADS");
  process.exit(2);
}

const browser = await launchBrowser();
try {
  const { context, page, errors } = await newTab(browser, { timeout: 60_000 });
  // The page asks for the dashboard as of its own today.
  await context.clock.setFixedTime(new Date(`${asOf}T12:00:00`));
  const requests = requestWatch(page);
  await signIn(page, baseUrl, token);
  const nav = page.getByRole("navigation");
  for (let n = 0; n < WARM_UP_LOADS + loads; n++) {
    await nav.getByRole("link", { name: "Escalations" }).click();
    await requests.quiet();
    const started = performance.now();
    await nav.getByRole("link", { name: "Limits & reports" }).click();
    // Checked at every frame: a locator's wait polls at up to 500 ms.
    await page.waitForFunction(dashboardTilesShown, null, { polling: "raf" });
    const tiles = performance.now() - started;
    const answered = (await requests.quiet()) - started;
    if (n >= WARM_UP_LOADS) console.log(JSON.stringify({ tiles_ms: tiles, answered_ms: answered, requests: requests.since(started) }));
  }
  if (errors.length > 0) throw new Error(`the page logged errors: ${errors.join("; ")}`);
} finally {
  await browser.close();
}

/** In the page: whether the dashboard's tiles are there. */
function dashboardTilesShown() {
  const sections = [...document.querySelectorAll("section")];
  return sections.some((s) => s.querySelector("h2")?.textContent === "Dashboard" && s.querySelector("dl.figures"));
}

/** Follows the page's requests: when the last was answered, and how many began after an instant. */
function requestWatch(page) {
  const open = new Set();
  const began = [];
  let lastAnswer = performance.now();
  page.on("request", (request) => {
    open.add(request);
    began.push(performance.now());
  });
  const done = (request) => {
    open.delete(request);
    lastAnswer = performance.now();
  };
  page.on("requestfinished", done);
  page.on("requestfailed", done);
  return {
    /** Resolves with the instant of the last answer once none is pending for QUIET_MS. */
    async quiet() {
      for (;;) {
        const seen = lastAnswer;
        await new Promise((wake) => setTimeout(wake, QUIET_MS));
        if (open.size === 0 && seen === lastAnswer) return lastAnswer;
      }
    },
    since(instant) {
      return began.filter((at) => at >= instant).length;
    },
  };
}
