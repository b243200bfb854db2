-- Requests that must run once: an ERP webhook message (key `webhook:<id>`)
-- or a person's request with an Idempotency-Key (key `idempotency:...`).
-- The first delivery claims its key here before it does any work; a
-- delivery that finds the key claimed does no work. The answer itself is
-- kept in the key-value store under the same key (API.md: webhook replays
-- are stored there); this table only decides who runs.
CREATE TABLE request_claims (
    key TEXT PRIMARY KEY,
    -- SHA-256 (hex) of the method, path and body the key was claimed with.
    fingerprint TEXT NOT NULL,
    -- When the current holder claimed it (RFC 3339 UTC, milliseconds, so
    -- instants compare as text). A claim left for long with no answer in
    -- the key-value store is taken over: its holder crashed.
    claimed_at TEXT NOT NULL
);
