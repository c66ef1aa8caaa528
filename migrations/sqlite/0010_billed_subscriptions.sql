-- The billed record: what the partner bills each customer, one row per billed subscription,
-- to reconcile with what Partner Center says was bought and what is assigned. Rows are versioned
-- (a stale edit is refused) and never deleted: ending one sets status 'ended'. Subscription ids
-- are stored in lower case (GUIDs compare case-insensitively). unit_price is an exact decimal
-- kept as text. auto_renew: 1, 0 or NULL (not recorded). The same in both dialects but for the
-- identity column.
CREATE TABLE billed_subscriptions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id        BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    version            BIGINT NOT NULL,
    product            TEXT NOT NULL,
    offer_id           TEXT,
    pc_subscription_id TEXT,
    tenant_id          TEXT,
    quantity           BIGINT NOT NULL,
    billing_cycle      TEXT,
    term               TEXT,
    status             TEXT NOT NULL,
    auto_renew         BIGINT,
    unit_price         TEXT,
    currency           TEXT,
    notes              TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    updated_by         TEXT NOT NULL
);
CREATE INDEX billed_subscriptions_by_customer ON billed_subscriptions (customer_id, id);

-- A difference of the reconciliation that someone looked at: it stays acknowledged while both
-- of its values are still these (a change opens it again).
CREATE TABLE reconciliation_acknowledgements (
    customer_id  BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    row_key      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    pc_value     TEXT,
    billed_value TEXT,
    note         TEXT NOT NULL,
    by_email     TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (customer_id, row_key, kind)
);
