-- The audit log page lists entries newest first (by id) in pages that start after the last
-- one shown, filtered by customer, staff member or action: each filter has an index that gives
-- its entries in id order, so a page reads only its own rows however long the log grows.
-- The same in both dialects.
CREATE INDEX audit_log_by_customer_id ON audit_log (customer_id, id);
CREATE INDEX audit_log_by_actor_id ON audit_log (actor_email, id);
CREATE INDEX audit_log_by_action_id ON audit_log (action, id);
