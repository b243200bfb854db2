// What the API answers (see shared/design/API.md). Amounts are decimal
// strings; dates YYYY-MM-DD; timestamps RFC 3339.

export type Amount = string;

export interface Me {
  name: string;
  role: string;
}

export interface Reason {
  code: string;
  detail: string;
  amount?: Amount;
}

export interface QueueEntry {
  order_id: string;
  customer_id: string;
  customer_name?: string;
  amount: Amount;
  currency: string;
  ordered_on: string;
  status: string;
  held_since?: string | null;
  days_held?: number | null;
  reasons: Reason[];
}

export interface Aging {
  current: Amount;
  days_1_30: Amount;
  days_31_60: Amount;
  days_61_90: Amount;
  days_91_120: Amount;
  days_over_120: Amount;
  total: Amount;
}

export interface CustomerPosition {
  id: string;
  name: string;
  currency: string;
  credit_limit: Amount | null;
  payment_terms_days?: number;
  grace_days?: number | null;
  on_hold?: boolean;
  exempt?: boolean;
  as_of?: string;
  open_balance?: Amount;
  unapplied_cash?: Amount;
  released_orders_total?: Amount;
  exposure: Amount;
  available: Amount | null;
  past_due: Amount;
  grace_days_applied?: number;
  aging: Aging;
  held_orders: QueueEntry[];
}

export interface PromiseToPay {
  amount: Amount;
  due_on: string;
  paid?: Amount;
  status: string;
}

export interface Contact {
  id: number | string;
  contacted_on: string;
  recorded_at?: string;
  by?: string;
  channel: string;
  outcome: string;
  note: string;
  promise?: PromiseToPay | null;
}

export interface BulkResult {
  order_id: string;
  outcome: string;
  detail: string;
}

export interface OrderView {
  id: string;
  status: string;
}

export interface LimitRequest {
  id: string;
  customer_id: string;
  customer_name?: string;
  currency?: string;
  status: string;
  current_limit?: Amount | null;
  requested_limit: Amount;
  reason: string;
  requested_by?: string;
  requested_at?: string;
}

export interface Decided extends LimitRequest {
  credit_limit?: Amount | null;
  released_orders?: string[];
  still_held?: string[];
}

export interface PaymentResult {
  payment_id: string;
  allocations?: { invoice_id: string; amount: Amount }[];
  unapplied?: Amount;
  /** Named invoices paid short: what stays open on each. */
  short_pays?: { invoice_id: string; residual: Amount }[];
  /** Disputes the short pays opened. */
  disputes_opened?: { id: string; invoice_id: string; amount: Amount; reason_code: string; sla_due_on?: string }[];
  released_orders?: string[];
  still_held?: string[];
}

/** `GET /customers/{id}/invoices`. */
export interface ListedInvoice {
  id: string;
  customer_id: string;
  order_id?: string | null;
  issued_on: string;
  due_on: string;
  amount: Amount;
  currency: string;
  paid: Amount;
  credited: Amount;
  open_balance: Amount;
  disputed: Amount;
  days_past_due: number;
}

/** `GET /disputes?customer_id=`. */
export interface Dispute {
  id: string;
  invoice_id: string;
  customer_id: string;
  amount: Amount;
  currency: string;
  reason_code: string;
  status: string;
  opened_on: string;
  sla_due_on: string;
  sla_status: string;
  credited?: Amount | null;
  closed_on?: string | null;
  opened_by?: string;
}

/** `GET /reports/held-orders/trend`. */
export interface HeldTrend {
  from: string;
  to: string;
  days: { date: string; orders: number; currencies: { currency: string; orders: number; value: Amount }[] }[];
}

export interface DisputeOpened {
  id: string;
  status: string;
  sla_due_on?: string;
}

export interface HeldOrdersReport {
  as_of?: string;
  orders: QueueEntry[];
}

/** Aging rows carry the buckets inline (`current`, `days_1_30`, ...) or under `aging`. */
export type AgingRow<T> = T & (Aging | { aging: Aging });

export interface AgingReport {
  as_of?: string;
  customers: AgingRow<{ customer_id: string; customer_name?: string; currency: string }>[];
  totals: AgingRow<{ currency: string; customers?: number }>[];
}

export function agingOf(row: Aging | { aging: Aging }): Aging {
  return "aging" in row && row.aging && typeof row.aging === "object" ? row.aging : (row as Aging);
}

/** Lists may come bare or wrapped in an object (`{requests: [...]}`). */
export function listOf<T>(value: unknown, key: string): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof value === "object") {
    const inner = (value as Record<string, unknown>)[key];
    if (Array.isArray(inner)) return inner as T[];
  }
  return [];
}

export interface DeliveryHealth {
  pushing: boolean;
  url: string | null;
  pending: number;
  failed: number;
  oldest_pending_at: string | null;
  last_run_at: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  last_error: string | null;
}

export interface FailedEvent {
  id: string;
  type: string;
  subject: string;
  time: string;
  attempts: number;
  last_error: string | null;
}
