-- The audit log page with a time range lists entries in (time, id) order on this index, so a page
-- reads only its own rows however long the range (0017's indexes serve the other filters). It
-- supersedes the index on the time alone. The same in both dialects.
CREATE INDEX audit_log_by_at_id ON audit_log (at, id);
DROP INDEX audit_log_by_time;
