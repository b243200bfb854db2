-- A credit-limit request may end superseded: the customer's limit was set
-- directly while it was pending. SQLite cannot change a CHECK constraint,
-- so the table is rebuilt with the new status allowed, rows and indexes
-- kept as they were.

CREATE TABLE credit_limit_requests_new (
    id                INTEGER PRIMARY KEY,    -- shown as CLR-<id>
    customer_id       TEXT NOT NULL REFERENCES customers(id),
    requested_minor   INTEGER NOT NULL,
    previous_minor    INTEGER,                -- the limit when requested; NULL: none
    reason            TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
    requested_by      TEXT NOT NULL,
    requested_at      TEXT NOT NULL,
    decided_by        TEXT,                   -- or who superseded it
    decided_at        TEXT,
    approved_minor    INTEGER,                -- the limit set by an approval
    note              TEXT,                   -- the decider's note, or what superseded it
    released_orders   TEXT NOT NULL DEFAULT '[]',
    still_held        TEXT NOT NULL DEFAULT '[]'
);
INSERT INTO credit_limit_requests_new SELECT id, customer_id, requested_minor, previous_minor, reason, status,
    requested_by, requested_at, decided_by, decided_at, approved_minor, note, released_orders, still_held
    FROM credit_limit_requests;
DROP TABLE credit_limit_requests;
ALTER TABLE credit_limit_requests_new RENAME TO credit_limit_requests;
CREATE INDEX credit_limit_requests_by_status ON credit_limit_requests(status, id);
CREATE INDEX credit_limit_requests_by_customer ON credit_limit_requests(customer_id, status);
