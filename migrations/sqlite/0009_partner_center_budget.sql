-- One Partner Center rate budget per partner app, shared by every process on this database:
-- each request takes the next free slot (next_at, by the database's clock), so N processes
-- together stay within the rate instead of each sending it. After a 429 the budget holds
-- everyone until the wait is over and halves the rate until slow_until. granted_at and seen_at
-- are the last grant and the clock when it was made (so the taking statement's RETURNING, which
-- gives only the row's own columns, can answer both). Epoch microseconds, so a rate that does
-- not divide a minute into whole milliseconds is kept exactly. The same in both dialects.
CREATE TABLE partner_center_budget (
    budget     TEXT PRIMARY KEY,
    next_at    BIGINT NOT NULL,
    slow_until BIGINT NOT NULL,
    granted_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL
);
