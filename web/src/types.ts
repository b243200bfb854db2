// What the API takes and answers: the schemas of openapi.yaml, whose types
// web/api-types.mjs generates into api-schema.d.ts on every build, named
// here for the pages. Amounts are decimal strings; dates YYYY-MM-DD;
// timestamps RFC 3339.

import type { components, operations } from "./api-schema";

type Schemas = components["schemas"];

export type Me = Schemas["Me"];
export type Role = Me["role"];
export type QueueEntry = Schemas["QueueEntry"];
export type QueuePage = Schemas["QueuePage"];
export type Aging = Schemas["Aging"];
export type Position = Schemas["Position"];
export type Contact = Schemas["Contact"];
export type ListedInvoice = Schemas["ListedInvoice"];
export type Dispute = Schemas["Dispute"];
export type DisputeChanged = Schemas["DisputeChanged"];
export type LimitRequest = Schemas["LimitRequest"];
export type Decided = Schemas["Decided"];
export type PaymentResult = Schemas["PaymentResult"];
export type OrderView = Schemas["OrderView"];
export type BulkRelease = Schemas["BulkRelease"];
export type BulkResult = BulkRelease["results"][number];
export type HeldOrdersReport = Schemas["HeldOrdersReport"];
export type HeldOrdersTrend = Schemas["HeldOrdersTrend"];
export type AgingReport = Schemas["AgingReport"];
export type Dashboard = Schemas["Dashboard"];
export type DeliveryHealth = Schemas["DeliveryHealth"];
export type FailedEvent = Schemas["FailedEvent"];
export type DunningProposal = Schemas["DunningProposal"];
export type ProposalLine = Schemas["ProposalLine"];
export type CurrencyTotal = Schemas["CurrencyTotal"];
export type DunningRunResult = Schemas["DunningRunResult"];
export type DunningRunBody = Schemas["DunningRunBody"];
export type IssuedLetter = Schemas["IssuedLetter"];
export type CustomerDunning = Schemas["CustomerDunning"];
export type NoLetter = Schemas["NoLetter"];
export type StatementOfAccount = Schemas["StatementOfAccount"];
export type IssuedStatement = Schemas["IssuedStatement"];
export type Policy = Schemas["Policy"];
export type DunningPolicy = Schemas["DunningPolicy"];
export type DunningLevel = Schemas["DunningLevel"];
export type LetterPreview = Schemas["LetterPreview"];
export type PreviewBody = Schemas["PreviewBody"];
export type Paper = Schemas["Paper"];
export type SearchPage = Schemas["SearchPage"];
export type FoundCustomer = SearchPage["customers"][number];
export type Customer = Schemas["Customer"];
export type Assignments = Schemas["Assignments"];
export type Assignment = Position["assignments"][number];
export type Escalation = Schemas["Escalation"];
export type SubjectType = Schemas["SubjectType"];
export type ReleaseRequest = NonNullable<OrderView["release_request"]>;
export type DecisionEntry = Schemas["DecisionEntry"];
export type DisputeView = Schemas["DisputeView"];
export type ReleasesReport = Schemas["ReleasesReport"];
export type WorklistReport = Schemas["WorklistReport"];
export type ReasonCode = Schemas["ReasonCode"];

export type Channel = Schemas["Channel"];
export type ContactBody = Schemas["ContactBody"];
export type PaymentBody = Schemas["PaymentBody"];
export type DisputeBody = Schemas["DisputeBody"];
export type LimitRequestBody = Schemas["LimitRequestBody"];
export type DecisionBody = Schemas["DecisionBody"];
export type ReleaseBody = Schemas["ReleaseBody"];
export type BulkReleaseBody = Schemas["BulkReleaseBody"];
export type AssigneeBody = Schemas["AssigneeBody"];
export type AssignmentsBody = Schemas["AssignmentsBody"];
export type EscalationBody = Schemas["EscalationBody"];
export type ResolveBody = Schemas["ResolveBody"];
export type ApprovalBody = Schemas["ApprovalBody"];
export type PolicyBody = Schemas["PolicyBody"];

/** The JSON body an operation (by its operationId) takes, for bodies the document does not name. */
export type RequestBody<Op extends keyof operations> = operations[Op]["requestBody"] extends {
  content: { "application/json": infer Body };
}
  ? Body
  : never;

/** The JSON an operation answers with when it succeeds, for answers the document does not name. */
export type Answer<Op extends keyof operations> = Success<operations[Op]["responses"]> extends {
  content: { "application/json": infer Json };
}
  ? Json
  : never;

type Success<Responses> = Responses extends { 200: infer Ok } ? Ok : Responses extends { 201: infer Created } ? Created : never;

/** Every role, so that a role added to the document fails the build until it is listed here. */
const ROLES: Record<Role, true> = { associate: true, manager: true, integration: true };

export const isRole = (value: string): value is Role => Object.hasOwn(ROLES, value);

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
