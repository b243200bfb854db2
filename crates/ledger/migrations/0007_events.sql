-- The ERP's event feed (a transactional outbox): every change the ERP must
-- know about is written here in the same transaction as the change. `seq`
-- orders the feed; AUTOINCREMENT never hands out a number twice, and as
-- writers take turns, events commit in `seq` order, so a reader that has
-- seen `seq` n has seen every event before it.
CREATE TABLE events (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    type              TEXT NOT NULL,
    subject           TEXT NOT NULL,
    time              TEXT NOT NULL,   -- RFC 3339 UTC, milliseconds
    data              TEXT NOT NULL,   -- JSON
    -- Pushing the event to erp_events_url (when set).
    push_status       TEXT NOT NULL DEFAULT 'pending' CHECK (push_status IN ('pending', 'delivered', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    first_attempt_at  TEXT,
    next_attempt_at   TEXT,
    last_attempt_at   TEXT,
    last_error        TEXT,
    delivered_at      TEXT
);
-- The feed of one type.
CREATE INDEX events_by_type ON events(type, seq);
-- What is left to push, and what failed, in feed order; what is left to
-- push of one subject (an event waits behind its subject's earlier one).
CREATE INDEX events_to_push ON events(seq) WHERE push_status = 'pending';
CREATE INDEX events_to_push_by_subject ON events(subject, seq) WHERE push_status = 'pending';
CREATE INDEX events_failed ON events(seq) WHERE push_status = 'failed';
-- The retention purge, oldest first.
CREATE INDEX events_by_time ON events(time);

-- One pusher at a time: whoever holds the lease pushes; a lease not
-- renewed by its expiry (a crashed run) is taken over.
CREATE TABLE event_push_lease (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- How pushing went lately, for the delivery health a manager sees.
CREATE TABLE event_push_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    last_run_at      TEXT,
    last_success_at  TEXT,
    last_failure_at  TEXT,
    last_error       TEXT
);
INSERT INTO event_push_state (id) VALUES (1);
