-- Delete Customer: a deleted customer keeps its rows (`deleted_at` set) so it can be restored
-- within the retention period; then it is purged (its row deleted, every row that belongs to it
-- with it: ON DELETE CASCADE). Who deleted it, for the deleted customers page. The same in both
-- dialects.
ALTER TABLE customers ADD COLUMN deleted_by TEXT;
CREATE INDEX customers_deleted ON customers (deleted_at) WHERE deleted_at IS NOT NULL;
