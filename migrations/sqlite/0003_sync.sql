-- Reconciliation with Partner Center: what a sync fetched per tenant, each customer's last sync,
-- and the stored jobs that survive a restart. The same in both dialects but for the identity
-- column of sync_jobs.

-- What Partner Center said about a tenant, replaced whole (in one transaction) at every sync.
CREATE TABLE tenant_snapshots (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    fetched_at   BIGINT NOT NULL,
    company_name TEXT NOT NULL,
    domain       TEXT NOT NULL,
    profile_json TEXT NOT NULL
);

CREATE TABLE tenant_subscriptions (
    tenant_id           TEXT NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    subscription_id     TEXT NOT NULL,
    offer_id            TEXT NOT NULL,
    offer_name          TEXT NOT NULL,
    friendly_name       TEXT NOT NULL,
    quantity            BIGINT NOT NULL,
    unit_type           TEXT NOT NULL,
    status              TEXT NOT NULL,
    billing_cycle       TEXT NOT NULL,
    term_duration       TEXT NOT NULL,
    auto_renew          BIGINT NOT NULL,
    is_trial            BIGINT NOT NULL,
    commitment_end_date TEXT NOT NULL,
    fetched_at          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, subscription_id)
);

CREATE TABLE tenant_subscribed_skus (
    tenant_id         TEXT NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    sku_id            TEXT NOT NULL,
    sku_part_number   TEXT NOT NULL,
    product_name      TEXT NOT NULL,
    total_units       BIGINT NOT NULL,
    active_units      BIGINT NOT NULL,
    consumed_units    BIGINT NOT NULL,
    available_units   BIGINT NOT NULL,
    suspended_units   BIGINT NOT NULL,
    warning_units     BIGINT NOT NULL,
    capability_status TEXT NOT NULL,
    fetched_at        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, sku_id)
);

-- The last sync of each customer: when, how long, how it ended, time spent waiting on throttling.
CREATE TABLE customer_sync_status (
    customer_id      BIGINT PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    started_at       BIGINT NOT NULL,
    finished_at      BIGINT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    outcome          TEXT NOT NULL,
    error            TEXT,
    throttle_wait_ms BIGINT NOT NULL
);

-- A "reload all customers" job and one item per customer. Items are claimed by a worker
-- (claimed_by = a process's worker id), so each is worked by one process at a time; a worker
-- that stops being heard from (sync_workers.heartbeat_at) loses its claims.
CREATE TABLE sync_jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    scope        TEXT NOT NULL,
    state        TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
-- At most one "all customers" job runs: a second request joins it.
CREATE UNIQUE INDEX sync_jobs_one_running_all ON sync_jobs (scope) WHERE state = 'running';

CREATE TABLE sync_job_items (
    job_id      BIGINT NOT NULL REFERENCES sync_jobs (id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    claimed_by  TEXT,
    claimed_at  BIGINT,
    finished_at BIGINT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    error       TEXT,
    PRIMARY KEY (job_id, customer_id)
);
CREATE INDEX sync_job_items_by_state ON sync_job_items (state, job_id, customer_id);

CREATE TABLE sync_workers (
    id           TEXT PRIMARY KEY,
    heartbeat_at BIGINT NOT NULL
);
