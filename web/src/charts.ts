// Small horizontal bar charts in plain HTML: each bar's figure is written
// out as text beside it, so the chart reads the same without seeing it.

import { append, h, type Child } from "./dom";
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

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children (text is text, never markup). */
export function svg(tag: string, attrs: Record<string, string | number>, ...children: Child[]): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  append(element, children);
  return element;
}

export interface Series {
  label: string;
  /** One value per x label. */
  values: number[];
  tone: number;
}

/**
 * A line chart: x labels along the bottom (every few shown), a y axis from
 * zero with ticks, one line per series, a legend. `title` names it for
 * screen readers, which get the table beside it.
 */
export function lineChart(title: string, xLabels: string[], series: Series[], yTitle: string): SVGElement {
  const [width, height, left, right, top, bottom] = [640, 240, 48, 12, 12, 40];
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const highest = Math.max(1, ...series.flatMap((s) => s.values));
  const step = niceStep(highest / 4);
  const yMax = Math.ceil(highest / step) * step;
  const x = (i: number) => left + (xLabels.length <= 1 ? plotWidth / 2 : (i * plotWidth) / (xLabels.length - 1));
  const y = (value: number) => top + plotHeight - (value / yMax) * plotHeight;
  const ticks: Child[] = [];
  for (let value = 0; value <= yMax; value += step) {
    ticks.push(
      svg("line", { class: "grid", x1: left, x2: width - right, y1: y(value), y2: y(value) }),
      svg("text", { class: "tick", x: left - 6, y: y(value) + 4, "text-anchor": "end" }, String(value)),
    );
  }
  const every = Math.max(1, Math.ceil(xLabels.length / 6));
  const labels = xLabels.map((label, i) =>
    i % every === 0 || i === xLabels.length - 1
      ? svg("text", { class: "tick", x: x(i), y: height - bottom + 16, "text-anchor": "middle" }, label.slice(5))
      : null,
  );
  const lines = series.map((s) =>
    svg("polyline", {
      class: `line tone-${s.tone}`,
      fill: "none",
      points: s.values.map((value, i) => `${x(i)},${y(value)}`).join(" "),
    }),
  );
  const legend = series.map((s, i) =>
    svg(
      "g",
      {},
      svg("rect", { class: `swatch tone-${s.tone}`, x: left + i * 120, y: height - 14, width: 10, height: 10 }),
      svg("text", { class: "tick", x: left + i * 120 + 14, y: height - 5 }, s.label),
    ),
  );
  return svg(
    "svg",
    { class: "line-chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title },
    svg("title", {}, title),
    ...ticks,
    svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: top + plotHeight }),
    svg("line", { class: "axis", x1: left, x2: width - right, y1: top + plotHeight, y2: top + plotHeight }),
    svg("text", { class: "tick", x: 4, y: top + 8 }, yTitle),
    ...labels,
    ...lines,
    ...legend,
  );
}

/** 1, 2 or 5 times a power of ten, at least `rough`. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough) ?? 10 * power;
}

/** One horizontal bar split into the aging buckets, each segment's width its share. */
export function stackedAgingBar(aging: Aging, currency: string): HTMLElement {
  const segments = AGING_BUCKETS.map(([key, label], index) => {
    const segment = h("span", { class: `stack-segment tone-${index}`, title: `${label}: ${money(aging[key], currency)}` });
    // Set through the CSSOM: the page's CSP allows no inline style attributes.
    segment.style.width = `${perMille(aging[key], aging.total) / 10}%`;
    return segment;
  });
  return h("div", { class: "stack", "aria-hidden": "true" }, segments);
}
