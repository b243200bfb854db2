-- The associate's desk: customers assigned to a person and found by name,
-- and escalations to the supervisors.

-- Who works the customer's account: a person named in api_tokens, or nobody.
ALTER TABLE customers ADD COLUMN assignee TEXT;
CREATE INDEX customers_by_assignee ON customers(assignee, id);

-- Customer ids without regard to case: the search's id-prefix match.
CREATE INDEX customers_by_id_nocase ON customers(id COLLATE NOCASE);

-- The words of customers' names, case- and accent-insensitive, kept in step
-- with the customers table by its triggers. A name changes rarely: finding
-- its row by the unindexed id is a scan of this table, and only then.
CREATE VIRTUAL TABLE customer_names USING fts5(
    customer_id UNINDEXED,
    name,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO customer_names (customer_id, name) SELECT id, name FROM customers;
CREATE TRIGGER customer_names_on_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_names (customer_id, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER customer_names_on_rename AFTER UPDATE OF name ON customers
WHEN old.name IS NOT new.name BEGIN
    DELETE FROM customer_names WHERE customer_id = old.id;
    INSERT INTO customer_names (customer_id, name) VALUES (new.id, new.name);
END;

-- An order, a customer or a dispute referred to the supervisors, and their
-- answer. `customer_id`: whose account the subject is on (for the
-- assignee's filters); `respond_by`: one business day after it was raised.
CREATE TABLE escalations (
    id            INTEGER PRIMARY KEY,
    subject_type  TEXT NOT NULL CHECK (subject_type IN ('order', 'customer', 'dispute')),
    subject_id    TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    note          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    raised_by     TEXT NOT NULL,
    raised_at     TEXT NOT NULL,
    respond_by    TEXT NOT NULL,
    outcome       TEXT,
    answer        TEXT,
    resolved_by   TEXT,
    resolved_at   TEXT
);
CREATE INDEX escalations_open_oldest_first ON escalations(raised_at, id) WHERE status = 'open';
CREATE INDEX escalations_by_subject ON escalations(subject_type, subject_id, id);
CREATE INDEX escalations_by_customer ON escalations(customer_id, id);
CREATE INDEX escalations_by_time ON escalations(raised_at, id);
