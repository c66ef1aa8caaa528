-- The provider directory: every customer tenant of the partner as Partner Center last listed
-- it. A tenant that Partner Center no longer lists is marked gone (gone_since), never deleted:
-- links and history may still name it. The dialects differ only in how the refresh id is made.
CREATE TABLE provider_directory (
    tenant_id TEXT PRIMARY KEY,
    company_name TEXT NOT NULL,
    domain TEXT NOT NULL,
    relationship TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    gone_since BIGINT
);

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
