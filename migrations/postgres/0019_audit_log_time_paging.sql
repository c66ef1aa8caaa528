-- The audit log page with a time range lists entries in (time, id) order on these indexes, alone
-- or with a customer, staff member or action, so a page reads only its own rows however long the
-- range (0017's indexes serve those filters without one). They supersede the indexes on the time
-- alone and on (customer, time). The same in both dialects.
CREATE INDEX audit_log_by_at_id ON audit_log (at, id);
CREATE INDEX audit_log_by_customer_at_id ON audit_log (customer_id, at, id);
CREATE INDEX audit_log_by_actor_at_id ON audit_log (actor_email, at, id);
CREATE INDEX audit_log_by_action_at_id ON audit_log (action, at, id);
DROP INDEX audit_log_by_time;
DROP INDEX audit_log_by_customer;
