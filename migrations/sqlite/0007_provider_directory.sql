-- The provider directory: every customer tenant of the partner as Partner Center last listed
-- it. A tenant that Partner Center no longer lists is marked gone (gone_since), never deleted:
-- links and history may still name it. The dialects differ in how the refresh id is made and
-- in the byte-order collation of the key columns on PostgreSQL.
CREATE TABLE provider_directory (
    tenant_id TEXT PRIMARY KEY,
    company_name TEXT NOT NULL,
    domain TEXT NOT NULL,
    relationship TEXT NOT NULL,
    -- The folded company name (the page's order) and what search matches: folded name,
    -- domain and tenant id (folded in Rust on every write).
    name_key TEXT NOT NULL,
    search_key TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    gone_since BIGINT
);
CREATE INDEX provider_directory_by_name ON provider_directory (name_key, tenant_id);

-- Each refresh that completed: when, and what it found (the page says when the directory was
-- taken; a failed refresh leaves the last good one in place).
CREATE TABLE provider_directory_refreshes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    taken_at BIGINT NOT NULL,
    listed BIGINT NOT NULL,
    added BIGINT NOT NULL,
    gone BIGINT NOT NULL,
    renamed BIGINT NOT NULL,
    returned BIGINT NOT NULL
);

-- A link ends without losing its history: the tenant row stays (its snapshots with it) and
-- says when it was unlinked; linking it again, to any customer, reuses the row. Every read of
-- the links asks for unlinked_at IS NULL.
ALTER TABLE tenants ADD COLUMN unlinked_at BIGINT;

-- The customer's name as the matcher compares it (app/src/ssr/matching.rs), so a tenant's
-- suggestions are index look-ups. Computed in Rust: NULL rows are filled at start-up.
ALTER TABLE customers ADD COLUMN match_key TEXT;
CREATE INDEX customers_by_match_key ON customers (match_key) WHERE deleted_at IS NULL;
