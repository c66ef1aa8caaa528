-- Staff administration: a password the member must change at their next sign-in (set by an
-- admin when adding them or resetting it), when they last signed in, and what a session was
-- started from, so that a member and the admins can tell their sessions apart.
ALTER TABLE staff ADD COLUMN password_change_required BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN last_sign_in_at BIGINT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT;

-- API tokens for other systems (a PSA, a billing job): stored by the hash of the token only;
-- scope 'read' or 'billed_write'; revoked ones stay listed, never reused.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
