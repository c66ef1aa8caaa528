-- Link to Billing Profile: the customer's id in the partner's payment gateway, with what the
-- gateway said about it when it was linked or last verified. One billing id belongs to at most
-- one portal customer per gateway. `gone_at`: the last verification found the gateway's customer
-- deleted or missing. The same in both dialects.
CREATE TABLE customer_billing_links (
    customer_id BIGINT PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    gateway     TEXT NOT NULL,
    billing_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    test_mode   BIGINT NOT NULL,
    checked_at  BIGINT NOT NULL,
    gone_at     BIGINT,
    linked_by   TEXT NOT NULL,
    linked_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX customer_billing_links_by_id ON customer_billing_links (gateway, billing_id);
