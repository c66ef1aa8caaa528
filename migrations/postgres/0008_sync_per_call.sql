-- What each of a tenant's calls returned is stored on its own: a refused licence call keeps the
-- profile and subscriptions that were read. The licence counts' state says why there are none:
-- 'counted', 'needs_consent' (only app credentials: Partner Center gives licence counts to
-- App+User tokens alone) or 'failed' (licences_error says why; the last counts are kept).
-- The same in both dialects.
ALTER TABLE tenant_snapshots ADD COLUMN licences TEXT NOT NULL DEFAULT 'counted';
ALTER TABLE tenant_snapshots ADD COLUMN licences_error TEXT;
