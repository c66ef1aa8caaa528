-- Foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql: the two differ
-- only in identity columns and in the collation of the *_key columns.
-- Times are milliseconds since the Unix epoch (UTC). *_key columns hold text case-folded in Rust.

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL
);
INSERT INTO roles (name, description) VALUES
    ('admin',    'System Admin: everything'),
    ('reader',   'System Reader: sees everything, changes nothing'),
    ('finance',  'Finance Admin: sees everything; reports and billing'),
    ('helpdesk', 'Help Desk: only customers whose tags match a tag pair assigned to the user');

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL REFERENCES roles (name),
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE staff_tag_scopes (
    staff_id     BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    tag_name_key TEXT NOT NULL,
    tag_value    TEXT NOT NULL,
    PRIMARY KEY (staff_id, tag_name_key, tag_value)
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    staff_id   BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_staff ON sessions (staff_id);

CREATE TABLE customers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    primary_domain TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    deleted_at     BIGINT
);
CREATE INDEX customers_by_name ON customers (name_key, id);
CREATE UNIQUE INDEX customers_active_domain ON customers (primary_domain) WHERE deleted_at IS NULL;

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    domain      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX tenants_by_customer ON tenants (customer_id);

CREATE TABLE customer_tags (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (customer_id, name_key)
);
CREATE INDEX customer_tags_by_pair ON customer_tags (name_key, value);

CREATE TABLE account_managers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL UNIQUE,
    phone      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE customer_account_managers (
    customer_id        BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    account_manager_id BIGINT NOT NULL REFERENCES account_managers (id) ON DELETE CASCADE,
    assigned_at        BIGINT NOT NULL,
    PRIMARY KEY (customer_id, account_manager_id)
);
CREATE INDEX customer_account_managers_by_manager ON customer_account_managers (account_manager_id);

-- Who did what, when, to what; before and after as JSON text. No foreign keys: the trail outlives
-- the staff member and the customer it names.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT NOT NULL,
    actor_id    BIGINT,
    actor_email TEXT NOT NULL,
    action      TEXT NOT NULL,
    customer_id BIGINT,
    subject     TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_log_by_customer ON audit_log (customer_id, at);
CREATE INDEX audit_log_by_time ON audit_log (at);
