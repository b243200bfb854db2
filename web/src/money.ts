// Money arrives and leaves as decimal strings ("1250.00") and is shown as
// given. The few sums and proportions the page needs (chart bars, totals)
// are computed exactly on integers (BigInt), never on floats.

interface Scaled {
  units: bigint;
  scale: number;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

function scaled(text: string): Scaled | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  const [, sign, whole, fraction = ""] = match;
  const units = BigInt(`${whole}${fraction}`);
  return { units: sign === "-" ? -units : units, scale: fraction.length };
}

function rescale(value: Scaled, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

function render(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** True for a plain decimal string such as "1250.00". */
export function isDecimal(text: string): boolean {
  return DECIMAL.test(text.trim());
}

/** The exact sum of decimal strings, at the largest scale among them. */
export function sum(values: readonly string[]): string {
  const parsed = values.map(scaled).filter((v): v is Scaled => v !== null);
  const scale = Math.max(0, ...parsed.map((v) => v.scale));
  const total = parsed.reduce((acc, v) => acc + rescale(v, scale), 0n);
  return render(total, scale);
}

/** Compares two decimal strings: negative, zero or positive. */
export function compare(a: string, b: string): number {
  const x = scaled(a);
  const y = scaled(b);
  if (!x || !y) return 0;
  const scale = Math.max(x.scale, y.scale);
  const diff = rescale(x, scale) - rescale(y, scale);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

/** The largest of some decimal strings ("0" when there are none). */
export function max(values: readonly string[]): string {
  return values.reduce((best, v) => (isDecimal(v) && compare(v, best) > 0 ? v : best), "0");
}

/** `value` as a share of `whole` in thousandths (0..1000), for bar widths. */
export function perMille(value: string, whole: string): number {
  const x = scaled(value);
  const y = scaled(whole);
  if (!x || !y) return 0;
  const scale = Math.max(x.scale, y.scale);
  const top = rescale(x, scale);
  const bottom = rescale(y, scale);
  if (bottom <= 0n || top <= 0n) return 0;
  const share = (top * 1000n) / bottom;
  return Number(share > 1000n ? 1000n : share);
}

export function isNegative(value: string): boolean {
  return value.trim().startsWith("-") && compare(value, "0") < 0;
}

export function isPositive(value: string): boolean {
  return compare(value, "0") > 0;
}

/**
 * A decimal string with its whole part grouped by thousands ("12500.00" →
 * "12,500.00"); the digits stay exactly as given. Anything that is not a
 * plain decimal is returned unchanged.
 */
export function grouped(amount: string): string {
  const match = DECIMAL.exec(amount.trim());
  if (!match) return amount;
  const [, sign = "", whole = "", fraction] = match;
  const groups = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${groups}${fraction === undefined ? "" : `.${fraction}`}`;
}

/** A count with its noun, "1 order", "1,200 orders". */
export function plural(count: number, noun: string): string {
  return `${grouped(String(count))} ${noun}${count === 1 ? "" : "s"}`;
}

/** An amount for display: the API's digits, grouped by thousands, with its currency. */
export function money(amount: string | null | undefined, currency: string): string {
  return amount === null || amount === undefined ? "—" : `${grouped(amount)} ${currency}`;
}
