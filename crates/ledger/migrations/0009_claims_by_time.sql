-- Request claims (and their answers) are kept for the policy's
-- request_retention_days, then purged oldest first.
CREATE INDEX request_claims_by_time ON request_claims(claimed_at);
