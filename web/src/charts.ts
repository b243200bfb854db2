// Small horizontal bar charts in plain HTML: each bar's figure is written
// out as text beside it, so the chart reads the same without seeing it.

import { h } from "./dom";
import { max, money, perMille } from "./money";
import type { Aging } from "./types";

export interface Bar {
  label: string;
  /** A decimal string or a count, as text. */
  value: string;
  /** What is written beside the bar. */
  shown: string;
  tone?: number;
}

export function barChart(caption: string, bars: Bar[]): HTMLElement {
  const top = max(bars.map((b) => b.value));
  return h(
    "figure",
    { class: "chart" },
    h("figcaption", {}, caption),
    h(
      "ul",
      { class: "bars" },
      bars.map((bar) => {
        const fill = h("span", { class: `bar-fill tone-${bar.tone ?? 0}` });
        // Set through the CSSOM: the page's CSP allows no inline style attributes.
        fill.style.width = `${perMille(bar.value, top) / 10}%`;
        return h(
          "li",
          { class: "bar-row" },
          h("span", { class: "bar-label" }, bar.label),
          h("span", { class: "bar-track", "aria-hidden": "true" }, fill),
          h("span", { class: "bar-value" }, bar.shown),
        );
      }),
    ),
  );
}

export const AGING_BUCKETS = [
  ["current", "Current"],
  ["days_1_30", "1–30 days"],
  ["days_31_60", "31–60 days"],
  ["days_61_90", "61–90 days"],
  ["days_91_120", "91–120 days"],
  ["days_over_120", "Over 120 days"],
] as const satisfies readonly (readonly [keyof Aging, string])[];

/** An aging bar chart: one bar per bucket, the total in the caption. */
export function agingChart(caption: string, aging: Aging, currency: string): HTMLElement {
  return barChart(
    `${caption} — total ${money(aging.total, currency)}`,
    AGING_BUCKETS.map(([key, label], index) => ({
      label,
      value: aging[key],
      shown: money(aging[key], currency),
      tone: index,
    })),
  );
}
