-- Sync items that a stopped worker left are tried again only after a growing delay, and given up
-- after a few attempts (a customer that stops every worker must not loop forever). The same text
-- in both dialects.
ALTER TABLE sync_job_items ADD COLUMN not_before BIGINT NOT NULL DEFAULT 0;
