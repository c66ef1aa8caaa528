-- A deleted customer's tenants can be released (unlinked) so another customer may link them
-- before the purge. When and which, so a restore links them again where nobody else did. The
-- same in both dialects.
ALTER TABLE customers ADD COLUMN tenants_released_at BIGINT;
ALTER TABLE customers ADD COLUMN released_tenants TEXT;
