-- Customer communications: dunning runs, the reminder letters they issued
-- (kept exactly as issued, to be downloaded again byte for byte) and the
-- level each letter gave each invoice.

-- A customer the desk never sends reminder letters to.
ALTER TABLE customers ADD COLUMN dunning_exempt INTEGER NOT NULL DEFAULT 0;

-- One run of dunning: who ran it, as of which date, for whom.
CREATE TABLE dunning_runs (
    id            INTEGER PRIMARY KEY,      -- shown as DR-<id>
    as_of         TEXT NOT NULL,
    run_at        TEXT NOT NULL,
    run_by        TEXT NOT NULL,
    customer_ids  TEXT,                     -- JSON list asked for; NULL: every customer (or an assignee's)
    assignee      TEXT                      -- whose accounts: a person, 'unassigned', or NULL for any
);

CREATE TABLE dunning_letters (
    id            INTEGER PRIMARY KEY,      -- shown as DL-<id>
    run_id        INTEGER NOT NULL REFERENCES dunning_runs(id),
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    level         INTEGER NOT NULL,         -- from 1, the policy's order when issued
    level_name    TEXT NOT NULL,
    issued_on     TEXT NOT NULL,            -- the letter's date: the run's as_of
    pay_by        TEXT NOT NULL,
    issued_at     TEXT NOT NULL,
    issued_by     TEXT NOT NULL,
    totals        TEXT NOT NULL,            -- JSON [{currency, amount}]
    subject       TEXT NOT NULL,
    text          TEXT NOT NULL,            -- as issued, for e-mail
    html          TEXT NOT NULL,            -- as issued, for print
    contact_id    INTEGER REFERENCES contacts(id)   -- its contact-log entry, written with it
);
CREATE INDEX dunning_letters_by_customer ON dunning_letters(customer_id, id);
CREATE INDEX dunning_letters_by_run ON dunning_letters(run_id, id);

-- The level a letter gave an invoice: an invoice has each level once.
CREATE TABLE dunning_letter_items (
    invoice_id     TEXT NOT NULL REFERENCES invoices(id),
    level          INTEGER NOT NULL,
    letter_id      INTEGER NOT NULL REFERENCES dunning_letters(id),
    issued_on      TEXT NOT NULL,
    amount_minor   INTEGER NOT NULL,        -- what the letter asked for: undisputed, overdue
    days_past_due  INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, level)
);
CREATE INDEX dunning_letter_items_by_letter ON dunning_letter_items(letter_id);
