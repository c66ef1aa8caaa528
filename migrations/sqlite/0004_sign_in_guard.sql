-- Sign-in throttling and idle sessions. The same text in both dialects.

-- Failed sign-ins per account, keyed by a hash of the folded e-mail, whether or not such an
-- account exists (so an unknown address is throttled exactly like a known one). Stored here,
-- not in memory, so that every process serving the portal counts the same failures.
CREATE TABLE sign_in_failures (
    email_hash      TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL DEFAULT 0
);

-- When a session was last used, for the idle timeout (besides its absolute expiry).
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
