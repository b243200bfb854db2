-- credit-desk's system of record.
-- Money is INTEGER minor units of the customer's currency (USD 12.34 is
-- 1234), so sums are exact. Dates are 'YYYY-MM-DD' text; instants are
-- RFC 3339 UTC text. Each statement ends with ';' at the end of a line.

CREATE TABLE customers (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    currency            TEXT NOT NULL,
    credit_limit_minor  INTEGER,               -- NULL: no limit set
    payment_terms_days  INTEGER NOT NULL,
    grace_days          INTEGER,               -- NULL: the policy's
    on_hold             INTEGER NOT NULL DEFAULT 0,
    exempt              INTEGER NOT NULL DEFAULT 0,
    unapplied_minor     INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    updated_by          TEXT NOT NULL
);

CREATE TABLE invoices (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    order_id        TEXT,
    issued_on       TEXT NOT NULL,
    due_on          TEXT NOT NULL,
    amount_minor    INTEGER NOT NULL,
    paid_minor      INTEGER NOT NULL DEFAULT 0,
    credited_minor  INTEGER NOT NULL DEFAULT 0,
    -- amount - paid - credited, kept in step by every write
    open_minor      INTEGER NOT NULL,
    -- the sum of the invoice's active (open, in review) disputes
    disputed_minor  INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- A customer's open invoices (hold checks, allocation, aging).
CREATE INDEX invoices_open_by_customer ON invoices(customer_id, due_on) WHERE open_minor > 0;
CREATE INDEX invoices_by_issue_date ON invoices(issued_on);
-- Open invoices by due date, covering what aging and the worklist read,
-- so reports on a large book never visit the invoices themselves.
CREATE INDEX invoices_open_by_due ON invoices(due_on, customer_id, id, issued_on, open_minor, disputed_minor) WHERE open_minor > 0;

CREATE TABLE orders (
    id            TEXT PRIMARY KEY,
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    amount_minor  INTEGER NOT NULL,
    ordered_on    TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('released', 'held', 'cancelled', 'invoiced')),
    held_since    TEXT,                        -- instant the current hold began
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- A customer's released orders (exposure) and held orders (re-checks).
CREATE INDEX orders_by_customer_status ON orders(customer_id, status, ordered_on);
-- The held queue, oldest first.
CREATE INDEX orders_held_by_age ON orders(ordered_on, id) WHERE status = 'held';

-- Every decision on an order with what it was based on: the audit trail.
CREATE TABLE order_decisions (
    id           INTEGER PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders(id),
    decided_at   TEXT NOT NULL,
    kind         TEXT NOT NULL,     -- check, recheck, manual_release, cancel, invoiced
    trigger      TEXT NOT NULL,     -- what caused it: "order webhook", "payment P-1", ...
    actor        TEXT NOT NULL,     -- who: a person, or "erp"
    status       TEXT NOT NULL,
    note         TEXT,
    decision     TEXT NOT NULL,     -- JSON: status, reasons, exposure, limit, available, past due
    inputs       TEXT NOT NULL      -- JSON: the figures and policy the decision used
);
CREATE INDEX order_decisions_by_order ON order_decisions(order_id, id);

CREATE TABLE payments (
    id                TEXT PRIMARY KEY,
    customer_id       TEXT NOT NULL REFERENCES customers(id),
    amount_minor      INTEGER NOT NULL CHECK (amount_minor > 0),
    received_on       TEXT NOT NULL,
    method            TEXT NOT NULL,
    reference         TEXT,
    short_pay_reason  TEXT,
    unapplied_minor   INTEGER NOT NULL,
    request           TEXT NOT NULL,   -- JSON of what was posted, to tell a retry from a clash
    result            TEXT NOT NULL,   -- JSON answer, returned again on a retry
    posted_at         TEXT NOT NULL,
    posted_by         TEXT NOT NULL
);
CREATE INDEX payments_by_customer ON payments(customer_id, received_on);

CREATE TABLE allocations (
    payment_id    TEXT NOT NULL REFERENCES payments(id),
    invoice_id    TEXT NOT NULL REFERENCES invoices(id),
    amount_minor  INTEGER NOT NULL,
    applied_on    TEXT NOT NULL,
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX allocations_by_invoice ON allocations(invoice_id, applied_on);
-- Payments applied after a date (AR as of a past date).
CREATE INDEX allocations_by_date ON allocations(applied_on);

CREATE TABLE disputes (
    id               INTEGER PRIMARY KEY,
    invoice_id       TEXT NOT NULL REFERENCES invoices(id),
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    amount_minor     INTEGER NOT NULL CHECK (amount_minor > 0),
    reason_code      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'in_review', 'resolved_credit', 'resolved_rejected', 'withdrawn')),
    opened_on        TEXT NOT NULL,
    sla_due_on       TEXT NOT NULL,
    credited_minor   INTEGER,                -- resolved_credit: the credit issued
    closed_on        TEXT,                   -- resolved or withdrawn on
    opened_by        TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX disputes_by_invoice ON disputes(invoice_id);
CREATE INDEX disputes_by_customer ON disputes(customer_id, status);
CREATE INDEX disputes_by_status ON disputes(status, sla_due_on);

-- Credits issued by resolved disputes, dated for AR as of a past date.
CREATE TABLE credits (
    id            INTEGER PRIMARY KEY,
    invoice_id    TEXT NOT NULL REFERENCES invoices(id),
    dispute_id    INTEGER REFERENCES disputes(id),
    amount_minor  INTEGER NOT NULL,
    credited_on   TEXT NOT NULL
);
CREATE INDEX credits_by_invoice ON credits(invoice_id, credited_on);
CREATE INDEX credits_by_date ON credits(credited_on);

CREATE TABLE dispute_events (
    id           INTEGER PRIMARY KEY,
    dispute_id   INTEGER NOT NULL REFERENCES disputes(id),
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    from_status  TEXT,                  -- NULL when the dispute was opened
    to_status    TEXT NOT NULL,         -- equal to from_status for a note
    note         TEXT,
    credit_minor INTEGER
);
CREATE INDEX dispute_events_by_dispute ON dispute_events(dispute_id, id);

CREATE TABLE contacts (
    id                    INTEGER PRIMARY KEY,
    customer_id           TEXT NOT NULL REFERENCES customers(id),
    contacted_on          TEXT NOT NULL,
    recorded_at           TEXT NOT NULL,
    actor                 TEXT NOT NULL,
    channel               TEXT NOT NULL,
    outcome               TEXT NOT NULL,
    note                  TEXT NOT NULL,
    promise_amount_minor  INTEGER,
    promise_due_on        TEXT
);
CREATE INDEX contacts_by_customer ON contacts(customer_id, id);
-- Promises to pay by their date (broken promises on the worklist).
CREATE INDEX contacts_promises_by_due ON contacts(promise_due_on) WHERE promise_amount_minor IS NOT NULL;

CREATE TABLE credit_limit_requests (
    id                INTEGER PRIMARY KEY,    -- shown as CLR-<id>
    customer_id       TEXT NOT NULL REFERENCES customers(id),
    requested_minor   INTEGER NOT NULL,
    previous_minor    INTEGER,                -- the limit when requested; NULL: none
    reason            TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by      TEXT NOT NULL,
    requested_at      TEXT NOT NULL,
    decided_by        TEXT,
    decided_at        TEXT,
    approved_minor    INTEGER,                -- the limit set by an approval
    note              TEXT,                   -- the decider's note
    released_orders   TEXT NOT NULL DEFAULT '[]',   -- JSON ids the approval's re-check released
    still_held        TEXT NOT NULL DEFAULT '[]'    -- JSON ids it left held
);
CREATE INDEX credit_limit_requests_by_status ON credit_limit_requests(status, id);
-- A customer's requests (at most one pending at a time).
CREATE INDEX credit_limit_requests_by_customer ON credit_limit_requests(customer_id, status);

-- Changes to master data and limits: who changed what, when.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    details     TEXT NOT NULL     -- JSON
);
CREATE INDEX audit_log_by_entity ON audit_log(entity, entity_id, id);
