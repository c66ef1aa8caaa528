-- What the partner-wide License Reconciliation lists, kept per customer so the page reads a few
-- indexed rows instead of reconciling every customer on each view.
--
-- customers.reconciliation_generation goes up in the same transaction as every write to what a
-- reconciliation reads (billed rows, acknowledgements, tenant links, a tenant's snapshot). A
-- summary is current while its generation equals the customer's; a stale or missing one is
-- computed again (by the write that made it stale, or by the next read). The same in both
-- dialects.
ALTER TABLE customers ADD COLUMN reconciliation_generation BIGINT NOT NULL DEFAULT 0;

CREATE TABLE reconciliation_summaries (
    customer_id  BIGINT PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    generation   BIGINT NOT NULL,
    -- 1 when the customer has Partner Center subscriptions or billed rows to reconcile.
    has_rows     BIGINT NOT NULL,
    -- Money at stake per currency, as JSON [["EUR", ten-thousandths], ...], most first; and
    -- the sum of the amounts (the list's sort key).
    money_json   TEXT NOT NULL,
    money_total  BIGINT NOT NULL,
    snapshot_at  BIGINT,
    computed_at  BIGINT NOT NULL
);
CREATE INDEX reconciliation_summaries_by_money ON reconciliation_summaries (money_total, customer_id);

-- How many differences of each kind, acknowledged (1) or not (0).
CREATE TABLE reconciliation_summary_counts (
    customer_id  BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    acknowledged BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (customer_id, kind, acknowledged)
);
CREATE INDEX reconciliation_summary_counts_by_kind ON reconciliation_summary_counts (kind, customer_id);
